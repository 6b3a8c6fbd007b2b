//! Shared by the drift tests: the check that a finding's line holds its value.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)] // test helpers: a failure here is a test failure
use std::path::Path;

use prodlike_drift::{Change, DriftReport, Finding};
use serde_json::Value;

/// The text a line must show for a value: a scalar's own text (a multi-line string's first
/// line, which starts on the next line after `|`), or for a map or list the last key or
/// identity of the path.
fn expected_text(f: &Finding, v: &Value) -> (String, bool) {
    match v {
        Value::String(s) if s.contains('\n') => (s.lines().next().unwrap_or("").to_string(), true),
        Value::String(s) => (s.clone(), false),
        Value::Number(_) | Value::Bool(_) => (v.to_string(), false),
        Value::Null => (String::new(), false),
        _ => {
            let last = f.path.rsplit(['.', '[']).next().unwrap_or("");
            let last = last.trim_end_matches(']');
            let last = last.split('=').next_back().unwrap_or(last);
            (last.to_string(), false)
        }
    }
}

/// Asserts that each side's location holds that side's value; returns how many were checked.
pub fn check_lines(r: &DriftReport, root: &Path) -> usize {
    let mut checked = 0;
    for f in &r.findings {
        if f.change == Change::OrderChanged || f.path.is_empty() {
            continue;
        }
        for (side, at, v) in [
            ("baseline", &f.baseline_at, &f.baseline),
            ("candidate", &f.candidate_at, &f.candidate),
        ] {
            let Some(v) = v else {
                assert!(
                    at.is_none(),
                    "{side} location without a {side} value: {f:#?}"
                );
                continue;
            };
            let at = at
                .as_ref()
                .unwrap_or_else(|| panic!("no {side} location: {f:#?}"));
            let text = std::fs::read_to_string(root_of(root, side).join(&at.file)).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let (want, next_line_too) = expected_text(f, v);
            let line = lines.get(at.line - 1).copied().unwrap_or("");
            let next = lines.get(at.line).copied().unwrap_or("");
            // A whole list item (a map) starts at the line of its first key.
            let item_start = f.path.ends_with(']')
                && v.as_object()
                    .is_some_and(|m| m.keys().any(|k| line.contains(&format!("{k}:"))));
            // A multi-line string: the line of its first differing line, or where it starts.
            let in_block = v.as_str().is_some_and(|s| {
                s.contains('\n')
                    && s.lines()
                        .any(|l| !l.trim().is_empty() && line.trim() == l.trim())
            });
            assert!(
                in_block
                    || item_start
                    || line.contains(&want)
                    || (next_line_too && next.contains(&want)),
                "{side} line {} of {} is {line:?}, not the value {want:?} of {} {}",
                at.line,
                at.file,
                f.object.as_deref().unwrap_or(""),
                f.path
            );
            if let Some(col) = at.column {
                assert!(col >= 1 && col <= line.chars().count() + 1, "{f:#?}");
            }
            checked += 1;
        }
    }
    checked
}

/// `root/baseline` when the test wrote both sides under one root, else `root` is a pair of
/// roots joined by `|`.
fn root_of(root: &Path, side: &str) -> std::path::PathBuf {
    let s = root.to_string_lossy();
    match s.split_once('|') {
        Some((b, c)) => std::path::PathBuf::from(if side == "baseline" { b } else { c }),
        None => root.join(side),
    }
}
