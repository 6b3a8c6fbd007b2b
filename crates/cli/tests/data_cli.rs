//! `prodlike data` from the outside: bad input exits 2 with a clear message, findings exit 1,
//! and a sync killed midway leaves the target as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (DEVELOPERS.md)

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use prodlike_data::fixture::{ShopSize, write_shop_sqlite};

const BIN: &str = env!("CARGO_BIN_EXE_prodlike");
const KEY: &str = "cli test secret of 16+ bytes";

fn prodlike(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("PRODLIKE_MASK_KEY", KEY)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap()
}

fn shop(dir: &Path, users: u64) -> PathBuf {
    let p = dir.join("prod.db");
    write_shop_sqlite(&p, ShopSize { users, seed: 11 }).unwrap();
    p
}

fn sqlite(p: &Path) -> String {
    format!("sqlite://{}", p.display())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_exit2(o: &Output, needles: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {e}");
    assert!(e.starts_with("error: ") || e.contains("error:"), "{e}");
    for n in needles {
        assert!(e.contains(n), "`{n}` missing from: {e}");
    }
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn bad_urls_exit_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let t = sqlite(&dir.path().join("t.db"));
    assert_exit2(
        &prodlike(&["data", "profile", "--source", "mysql://x/y"]),
        &["unsupported scheme `mysql`", "postgres://"],
    );
    assert_exit2(
        &prodlike(&["data", "sync", "--source", "prod.db", "--target", &t]),
        &["no scheme", "sqlite://"],
    );
    assert_exit2(
        &prodlike(&[
            "data",
            "profile",
            "--source",
            "sqlite:///nonexistent/prod.db",
        ]),
        &["no such SQLite database file"],
    );
    assert_exit2(
        &prodlike(&[
            "data",
            "profile",
            "--source",
            "postgres://u:hunter2@127.0.0.1:1/db",
        ]),
        &["connecting"],
    );
    let o = prodlike(&[
        "data",
        "profile",
        "--source",
        "postgres://u:hunter2@127.0.0.1:1/db",
    ]);
    assert!(!stderr(&o).contains("hunter2"));
}

#[test]
fn bad_rules_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite(&shop(dir.path(), 200));
    let dst = sqlite(&dir.path().join("staging.db"));
    let rules = dir.path().join("data.toml");
    let run = |toml: &str| {
        std::fs::write(&rules, toml).unwrap();
        prodlike(&[
            "data",
            "sync",
            "--source",
            &src,
            "--target",
            &dst,
            "--rules",
            rules.to_str().unwrap(),
            "--quiet",
        ])
    };
    assert_exit2(
        &run("[tables.user]\nsample = 0.5\n"),
        &["tables.user", "did you mean `users`"],
    );
    assert_exit2(
        &run("[tables.users.columns]\nemial = \"email\"\n"),
        &["tables.users.columns.emial", "did you mean `email`"],
    );
    assert_exit2(
        &run("[tables.orders.columns]\ntotal = \"email\"\n"),
        &["tables.orders.columns.total", "cannot mask"],
    );
    assert_exit2(
        &run("[tables.users]\nsampel = 0.1\n"),
        &["data.toml", "sampel"],
    );
    assert_exit2(
        &run("[tables.users]\nsample = 1.5\n"),
        &["tables.users.sample"],
    );
    assert_exit2(
        &run("[tables.users]\nwhere = \"no_such_column > 3\"\n"),
        &["tables.users.where"],
    );
    assert_exit2(
        &run("[tables.users.columns]\nemail = { type = \"hash\", length = 0 }\n"),
        &["tables.users.columns.email.length"],
    );
    assert!(
        !dir.path().join("staging.db").exists(),
        "a failed run created the target"
    );
}

#[test]
fn missing_key_strict_mode_and_bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite(&shop(dir.path(), 200));
    let dst = sqlite(&dir.path().join("staging.db"));
    let o = Command::new(BIN)
        .args([
            "data", "sync", "--source", &src, "--target", &dst, "--quiet",
        ])
        .env_remove("PRODLIKE_MASK_KEY")
        .output()
        .unwrap();
    assert_exit2(&o, &["PRODLIKE_MASK_KEY"]);
    assert_exit2(
        &prodlike(&[
            "data", "sync", "--source", &src, "--target", &dst, "--strict", "--quiet",
        ]),
        &["--strict", "users.email"],
    );
    assert_exit2(
        &prodlike(&[
            "data", "sync", "--source", &src, "--target", &dst, "--sample", "0", "--quiet",
        ]),
        &["--sample"],
    );
    assert_exit2(
        &prodlike(&[
            "data",
            "synth",
            "--profile",
            "/nonexistent.json",
            "--target",
            &dst,
        ]),
        &["/nonexistent.json"],
    );
    let o = prodlike(&[
        "data",
        "synth",
        "--profile",
        "p.json",
        "--target",
        &dst,
        "--rows",
        "users",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("table=rows"));
}

#[test]
fn sync_verify_and_a_detected_leak() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite(&shop(dir.path(), 1500));
    let dst = sqlite(&dir.path().join("staging.db"));
    let out = dir.path().join("sync.json");
    let o = prodlike(&[
        "data",
        "sync",
        "--source",
        &src,
        "--target",
        &dst,
        "--sample",
        "0.1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Masked columns") && text.contains("users.email"),
        "{text}"
    );
    let v = prodlike(&[
        "data",
        "verify",
        "--source",
        &src,
        "--target",
        &dst,
        "--sync-result",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&v),
        String::from_utf8_lossy(&v.stdout)
    );
    let json: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(json["schema"], "prodlike.data.verify/1");
    assert_eq!(json["data"]["leaks"]["leaked_values"], 0);
    assert!(json["data"]["score"].as_f64().unwrap() > 0.9);

    // Keeping emails raw is a leak: verify exits 1 and names the column.
    let rules = dir.path().join("keep.toml");
    std::fs::write(&rules, "[tables.users.columns]\nemail = \"keep\"\n").unwrap();
    let o = prodlike(&[
        "data",
        "sync",
        "--source",
        &src,
        "--target",
        &dst,
        "--sample",
        "0.1",
        "--quiet",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = prodlike(&["data", "verify", "--source", &src, "--target", &dst]);
    assert_eq!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    assert!(String::from_utf8_lossy(&v.stdout).contains("LEAK"));
}

#[test]
fn a_sync_killed_midway_leaves_the_target_intact() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite(&shop(dir.path(), 2000));
    let dst_path = dir.path().join("staging.db");
    previous_staging(&dst_path);
    let before = std::fs::read(&dst_path).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "data",
            "sync",
            "--source",
            &src,
            "--target",
            &sqlite(&dst_path),
            "--quiet",
            "--max-rows-per-sec",
            "2000",
            "--jobs",
            "1",
        ])
        .env("PRODLIKE_MASK_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the new database is being written (its partial file exists), then kill -9.
    let mut saw_partial = false;
    for _ in 0..2000 {
        if std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("prodlike-partial"))
        {
            saw_partial = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(saw_partial, "the sync never started writing");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(
        std::fs::read(&dst_path).unwrap(),
        before,
        "the killed sync changed the target"
    );
    // The next run succeeds and removes the dead run's partial file.
    let o = prodlike(&[
        "data",
        "sync",
        "--source",
        &src,
        "--target",
        &sqlite(&dst_path),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("prodlike-partial"))
    );
}

/// The "previous staging": a tiny shop, made with the fixture writer (so the test needs no
/// SQLite crate of its own).
fn previous_staging(p: &Path) {
    write_shop_sqlite(p, ShopSize { users: 10, seed: 1 }).unwrap();
}
