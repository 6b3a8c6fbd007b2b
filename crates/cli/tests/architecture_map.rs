#![allow(clippy::unwrap_used, clippy::expect_used)]
//! ARCHITECTURE.md maps every source file: each `crates/<name>/src/**/*.rs` is named in the
//! section of its crate (the `## …` heading that mentions `crates/<name>`), by its path under
//! `src/` (`mirror/process.rs`). A brace group names several files at once
//! (`verify/{mod,integrity,leak}.rs`). A file added without a line in the map fails here, so the
//! map cannot drift from the code again.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn sources(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(base).unwrap();
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Section text per crate: from a `## ` heading that names `crates/<name>` to the next `## `.
fn sections(map: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Vec<String> = Vec::new();
    for line in map.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            current = heading
                .split("crates/")
                .skip(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .collect()
                })
                .collect();
            continue;
        }
        for name in &current {
            let text = out.entry(name.clone()).or_default();
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// Every path the text names, with `{a,b}` groups expanded: `verify/{mod,leak}.rs` names
/// `verify/mod.rs` and `verify/leak.rs`.
fn named_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "_/.{},-".contains(c);
    for word in text.split(|c: char| !is_path_char(c)) {
        let word = word.trim_matches(|c| c == '.' || c == ',');
        if !word.contains(".rs") {
            continue;
        }
        // `routes.rs/route.rs` names two files.
        let pieces: Vec<&str> = word.split(".rs/").collect();
        let last = pieces.len() - 1;
        for (i, piece) in pieces.into_iter().enumerate() {
            let piece = if i < last {
                format!("{piece}.rs")
            } else {
                piece.to_string()
            };
            out.extend(expand(&piece));
        }
    }
    out
}

fn expand(word: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (word.find('{'), word.find('}')) else {
        return vec![word.to_string()];
    };
    if close < open {
        return vec![word.to_string()];
    }
    let (head, tail) = (&word[..open], &word[close + 1..]);
    word[open + 1..close]
        .split(',')
        .flat_map(|alt| expand(&format!("{head}{alt}{tail}")))
        .collect()
}

#[test]
fn every_source_file_is_in_the_map() {
    let root = workspace();
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let sections = sections(&map);
    let mut missing = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    crates.sort();
    for krate in crates {
        let name = krate.file_name().unwrap().to_string_lossy().to_string();
        let Some(section) = sections.get(&name) else {
            missing.push(format!(
                "crates/{name}: no `## …` section naming crates/{name}"
            ));
            continue;
        };
        let named = named_paths(section);
        let mut files = Vec::new();
        sources(&krate.join("src"), &krate.join("src"), &mut files);
        files.sort();
        for file in files {
            // `x.rs`, `src/x.rs` and `crates/<name>/src/x.rs` name the file; a longer path
            // under src/ does not (`mirror/mod.rs` is not `mod.rs`).
            let found = named
                .iter()
                .any(|n| n == &file || n.ends_with(&format!("src/{file}")));
            if !found {
                missing.push(format!("crates/{name}/src/{file}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not map {} source file(s); add each to its crate's section:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn brace_groups_and_prefixes_are_read() {
    let names = named_paths(
        "verify/{mod,integrity,leak}.rs, `src/main.rs` and h1/conn.rs. routes.rs/route.rs docs/x.md",
    );
    assert_eq!(
        names,
        [
            "verify/mod.rs",
            "verify/integrity.rs",
            "verify/leak.rs",
            "src/main.rs",
            "h1/conn.rs",
            "routes.rs",
            "route.rs"
        ]
    );
    let s = sections("## prodlike load (`crates/load`)\nrun/mod.rs\n## other\nx.rs\n");
    assert_eq!(s.len(), 1);
    assert!(s["load"].contains("run/mod.rs") && !s["load"].contains("x.rs"));
}
