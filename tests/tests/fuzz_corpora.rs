//! Replays every saved fuzz corpus (`fuzz/corpus/<target>/`, seeds and what `cargo fuzz`
//! found) through the same bodies the fuzzers run (`integration_tests::fuzz`), on stable, so a
//! parser regression on any input the fuzzers ever kept fails CI. Inputs that crashed once are
//! kept in the corpus after the fix (`regression-*` files).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn every_fuzz_target_has_a_corpus_and_replays_it_without_failure() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut total = 0;
    for (name, body) in integration_tests::fuzz::TARGETS {
        let target = root.join("../fuzz_targets").join(format!("{name}.rs"));
        assert!(target.is_file(), "no cargo fuzz target for {name}");
        let dir = root.join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{name}: empty corpus");
        for file in &files {
            let data = std::fs::read(file).unwrap();
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(outcome.is_ok(), "{name}: {} fails", file.display());
        }
        total += files.len();
    }
    eprintln!(
        "replayed {total} corpus inputs over {} targets",
        integration_tests::fuzz::TARGETS.len()
    );
}
