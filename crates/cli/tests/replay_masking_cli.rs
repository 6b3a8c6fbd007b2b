#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `prodlike load --replay` of a capture warns when its records were not masked, and only then.
use std::process::{Command, Output};

use prodlike_testkit::pausing_server;
use serde_json::json;

fn load(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .arg("load")
        .args(args)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap()
}

/// A server on a thread of its own, alive while the returned runtime lives.
fn server() -> (tokio::runtime::Runtime, String) {
    pausing_server::in_background().unwrap()
}

/// A capture of `n` GET requests: a version 2 header, records masked or not; or a version 1
/// file, whose records say nothing of masking.
fn capture(path: &std::path::Path, version: u32, masked: bool, n: u64) {
    let mut header = json!({
        "type": "header", "format": "prodlike-capture", "version": version,
        "created_at": "2026-12-04T10:00:00Z", "source": "test", "masked": masked,
    });
    if version >= 2 {
        header["mask"] = json!({"detect": masked, "rules_digest": "0123456789abcdef"});
    }
    let mut text = format!("{header}\n");
    for i in 0..n {
        let mut ex = json!({
            "type": "exchange", "id": i, "ts_us": 1_000_000 + i * 100_000, "route": "/items/{id}",
            "request": {"method": "GET", "target": format!("/items/{i}"), "version": "HTTP/1.1",
                        "headers": [], "body": null, "body_len": 0, "body_truncated": false},
        });
        if version >= 2 {
            ex["masked"] = json!(masked);
        }
        text.push_str(&format!("{ex}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn replay(url: &str, file: &std::path::Path, out: &std::path::Path) -> Output {
    load(&[
        "--target",
        url,
        "--replay",
        file.to_str().unwrap(),
        "--speed",
        "10",
        "--max-send-lag",
        "5s",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ])
}

#[test]
fn replaying_unmasked_records_warns_and_masked_ones_do_not() {
    let (_rt, url) = server();
    let dir = tempfile::tempdir().unwrap();
    for (name, version, masked, warns) in [
        ("masked.jsonl", 2, true, false),
        ("unmasked.jsonl", 2, false, true),
        ("v1.jsonl", 1, true, true),
    ] {
        let file = dir.path().join(name);
        capture(&file, version, masked, 3);
        let out = dir.path().join(format!("{name}.json"));
        let o = replay(&url, &file, &out);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{name}: {stderr}");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(v["data"]["replay"]["requests"], 3, "{name}");
        assert_eq!(
            v["data"]["replay"]["unmasked"],
            if warns { 3 } else { 0 },
            "{name}"
        );
        assert_eq!(
            stderr.contains(
                "warning: 3 of 3 replayed requests came from capture records that were not masked"
            ),
            warns,
            "{name}: {stderr}"
        );
    }
}
