//! `docs/settings.md` lists every setting the example site's registry declares.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

/// The settings documented in `docs/settings.md`: each one is a table row starting with
/// `` | `NAME` ``.
fn documented() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/settings.md");
    let text = std::fs::read_to_string(path).expect("docs/settings.md");
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn every_declared_setting_is_in_the_settings_reference() {
    let registry = example_site::registry();
    let documented = documented();
    let missing: Vec<&str> = registry
        .known_settings()
        .filter(|key| !documented.iter().any(|d| d == key))
        .collect();
    assert!(
        missing.is_empty(),
        "settings declared in code but missing from docs/settings.md: {missing:?}"
    );
}

#[test]
fn the_reference_documents_no_setting_the_code_does_not_declare() {
    let registry = example_site::registry();
    let known: Vec<&str> = registry.known_settings().collect();
    let stale: Vec<String> = documented()
        .into_iter()
        .filter(|d| !known.contains(&d.as_str()))
        .collect();
    assert!(stale.is_empty(), "documented but not declared: {stale:?}");
}
