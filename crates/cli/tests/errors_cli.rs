#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Errors as a user sees them: a bad output path is refused before any work, with its cause
//! printed once (not "… (os error 2): … (os error 2)").
use std::process::Command;

fn prodlike(args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(args)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap();
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn an_output_file_in_a_missing_folder_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.env");
    std::fs::write(&a, "X=1\n").unwrap();
    let out = "/nonexistent/dir/x.json";
    let runs: [&[&str]; 4] = [
        // A load against a port nothing listens on: refused before a request is sent.
        &[
            "load",
            "--target",
            "http://127.0.0.1:9",
            "--rate",
            "1",
            "--duration",
            "1s",
            "--out",
            out,
        ],
        &[
            "load",
            "--target",
            "http://127.0.0.1:9",
            "--rate",
            "1",
            "--duration",
            "1s",
            "--html",
            out,
        ],
        &[
            "drift",
            a.to_str().unwrap(),
            a.to_str().unwrap(),
            "--out",
            out,
        ],
        &[
            "shadow",
            "--listen",
            "127.0.0.1:0",
            "--production",
            "http://127.0.0.1:9",
            "--out",
            out,
        ],
    ];
    for args in runs {
        let (code, text) = prodlike(args);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        assert!(
            text.contains("folder /nonexistent/dir does not exist"),
            "{args:?}: {text}"
        );
        // Nothing ran: no load summary, no drift report, no proxy.
        assert!(
            !text.contains("requests") && !text.contains("listening"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn a_cause_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let (code, text) = prodlike(&["shadow", "--config", missing.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(text.matches("(os error 2)").count(), 1, "{text}");
    assert!(text.contains("cannot read config file"), "{text}");
}
