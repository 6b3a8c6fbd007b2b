#![allow(clippy::unwrap_used, clippy::expect_used)]
//! docs/schemas/ holds the JSON Schema of every result this build writes, generated from the
//! types in this crate. This test fails when a committed file differs from what the types
//! generate (or is missing, or is left over); `UPDATE_SCHEMAS=1 cargo test -p prodlike-results
//! --test schemas_current` rewrites them, the way insta and trybuild update their snapshots.
use std::path::PathBuf;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas")
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    let dir = schemas_dir();
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some_and(|v| v == "1");
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut stale = Vec::new();
    let mut expected_files = Vec::new();
    for p in prodlike_results::published() {
        let path = dir.join(p.file_name());
        expected_files.push(p.file_name());
        let generated = pretty(&p.json_schema());
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            if update {
                std::fs::write(&path, &generated).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    // A schema no longer written must not linger as if it were.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".schema.json") && !expected_files.contains(&name) {
            if update {
                std::fs::remove_file(dir.join(&name)).unwrap();
            } else {
                stale.push(format!("{name} (no longer generated)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/schemas/ is out of date: {stale:?}; run \
         `UPDATE_SCHEMAS=1 cargo test -p prodlike-results --test schemas_current` and commit"
    );
}

#[test]
fn every_schema_is_a_valid_draft_2020_12_schema_naming_itself() {
    for p in prodlike_results::published() {
        let s = p.json_schema();
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{}",
            p.schema
        );
        assert_eq!(s["title"], p.schema);
        assert_eq!(s["properties"]["schema"]["const"], p.schema);
        for field in ["schema", "outcome", "exit_code", "data"] {
            assert!(
                s["required"].as_array().unwrap().iter().any(|r| r == field),
                "{}: envelope field {field} is not required",
                p.schema
            );
        }
        assert_eq!(
            prodlike_results::json_schema(p.schema).as_ref(),
            Some(&s),
            "lookup by name"
        );
    }
    assert_eq!(
        prodlike_results::schema_file_name("prodlike.data.sync/1"),
        "prodlike.data.sync-1.schema.json"
    );
}
