//! `docs/settings.md` lists every setting the example site's registry declares: the row of each
//! setting declared with `declare_settings!` is rendered from its declaration and must be in the
//! page exactly. `UPDATE_SETTINGS_REFERENCE=1 cargo test -p tests --test settings_reference`
//! rewrites the page's rows from the declarations (a new setting's row goes after the row of
//! the setting declared before it).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use middleware_core::Setting;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/settings.md");

/// The setting a line of `docs/settings.md` documents: a table row starting with `` | `NAME` ``.
fn row_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("| `")?;
    rest.split_once('`').map(|(name, _)| name)
}

fn documented(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(row_name)
        .map(str::to_owned)
        .collect()
}

fn read() -> String {
    std::fs::read_to_string(PATH).expect("docs/settings.md")
}

/// The page with every declared setting's row replaced by its rendering, and the rows of the
/// settings it lacks inserted after the row of the setting declared before each; `None` for a
/// missing row with no such neighbour.
fn rewritten(text: &str, declared: &[&Setting]) -> Result<String, Vec<String>> {
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| {
            match row_name(line).and_then(|name| declared.iter().find(|s| s.name == name)) {
                Some(setting) => setting.reference_row(),
                None => line.to_owned(),
            }
        })
        .collect();
    let mut unplaced = Vec::new();
    for (i, setting) in declared.iter().enumerate() {
        if lines.iter().any(|l| row_name(l) == Some(setting.name)) {
            continue;
        }
        let after = i
            .checked_sub(1)
            .map(|p| declared[p].name)
            .and_then(|prev| lines.iter().position(|l| row_name(l) == Some(prev)));
        match after {
            Some(at) => lines.insert(at + 1, setting.reference_row()),
            None => unplaced.push(setting.reference_row()),
        }
    }
    if !unplaced.is_empty() {
        return Err(unplaced);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

#[test]
fn every_declared_setting_has_its_row_in_the_settings_reference() {
    let registry = example_site::registry();
    let declared: Vec<&Setting> = registry.declared_settings().collect();
    let text = read();
    if std::env::var_os("UPDATE_SETTINGS_REFERENCE").is_some() {
        match rewritten(&text, &declared) {
            Ok(new) if new != text => {
                // Renamed into place: the other tests read the page meanwhile.
                let tmp = format!("{PATH}.tmp");
                std::fs::write(&tmp, new).expect("write docs/settings.md.tmp");
                std::fs::rename(&tmp, PATH).expect("replace docs/settings.md");
            }
            Ok(_) => {}
            Err(rows) => panic!(
                "no table to put these rows in; add them to docs/settings.md by hand:\n{}",
                rows.join("\n")
            ),
        }
        return;
    }
    let lines: Vec<&str> = text.lines().collect();
    let wrong: Vec<String> = declared
        .iter()
        .map(|setting| setting.reference_row())
        .filter(|row| !lines.contains(&row.as_str()))
        .collect();
    assert!(
        wrong.is_empty(),
        "docs/settings.md lacks these rows, rendered from the settings' declarations (rerun \
         with UPDATE_SETTINGS_REFERENCE=1 to rewrite them):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_declared_setting_is_in_the_settings_reference() {
    let registry = example_site::registry();
    let documented = documented(&read());
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
    let stale: Vec<String> = documented(&read())
        .into_iter()
        .filter(|d| !known.contains(&d.as_str()))
        .collect();
    assert!(stale.is_empty(), "documented but not declared: {stale:?}");
}

#[test]
fn every_setting_is_declared_with_its_type_and_default() {
    // Everything else has a declaration, so its row is rendered, not written by hand.
    let registry = example_site::registry();
    let by_name_only: Vec<&str> = registry
        .known_settings()
        .filter(|key| !registry.declared_settings().any(|s| s.name == *key))
        .collect();
    assert!(
        by_name_only.is_empty(),
        "declared by name only (declare them with declare_settings!): {by_name_only:?}"
    );
}

#[test]
fn a_setting_several_middleware_read_is_declared_once() {
    let registry = example_site::registry();
    let conflicts: Vec<String> = registry
        .conflicting_declarations()
        .map(|(a, b)| format!("{}: {a:?} and {b:?}", a.name))
        .collect();
    assert!(
        conflicts.is_empty(),
        "declared twice, differently (declare it once and share it):\n{}",
        conflicts.join("\n")
    );
}

#[test]
fn rewriting_replaces_rows_and_places_new_ones_after_their_neighbour() {
    let a = Setting {
        name: "A_SETTING",
        rust_type: "bool",
        default: "`false`",
        doc: "new doc",
    };
    let b = Setting {
        name: "B_SETTING",
        ..a
    };
    let text = "# T\n\n| Setting | Default | Read by / notes |\n| --- | --- | --- |\n\
                | `A_SETTING` | `true` | old doc |\n\nafter\n";
    let out = rewritten(text, &[&a, &b]).unwrap();
    assert_eq!(
        out,
        "# T\n\n| Setting | Default | Read by / notes |\n| --- | --- | --- |\n\
         | `A_SETTING` | `false` | new doc |\n| `B_SETTING` | `false` | new doc |\n\nafter\n"
    );
    assert_eq!(rewritten("no table\n", &[&b]).unwrap_err().len(), 1);
}
