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
        &prodlike(&["data", "profile", "--source", "oracle://x/y"]),
        &["unsupported scheme `oracle`", "postgres://", "mysql://"],
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
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(saw_partial, "the sync never started writing");
    // Freeze it mid-write (no waiting on the clock): while it is stopped, its partial file
    // still existing proves the rename has not happened, then kill -9.
    let stopped = Command::new("kill")
        .args(["-STOP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(
        child.try_wait().unwrap().is_none(),
        "the sync had already ended"
    );
    assert!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("prodlike-partial")),
        "the stopped sync is mid-write"
    );
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

/// Runs `prodlike` in `dir`, so relative `sqlite://` paths resolve there.
fn prodlike_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("PRODLIKE_MASK_KEY", KEY)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn sqlite_sync_and_synth_refuse_the_source_file_by_any_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.sqlite");
    write_shop_sqlite(
        &file,
        ShopSize {
            users: 200,
            seed: 2,
        },
    )
    .unwrap();
    std::os::unix::fs::symlink("x.sqlite", dir.path().join("link.sqlite")).unwrap();
    let abs = sqlite(&file);
    let profile = dir.path().join("profile.json");
    let o = prodlike_in(
        dir.path(),
        &[
            "data",
            "profile",
            "--source",
            "sqlite://x.sqlite",
            "--out",
            profile.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = std::fs::read(&file).unwrap();
    let files = names_in(dir.path());
    for (source, target) in [
        ("sqlite://./x.sqlite", "sqlite://x.sqlite"),
        ("sqlite://x.sqlite", abs.as_str()),
        (abs.as_str(), "sqlite://./x.sqlite"),
        ("sqlite://x.sqlite", "sqlite://link.sqlite"),
    ] {
        let o = prodlike_in(
            dir.path(),
            &[
                "data", "sync", "--source", source, "--target", target, "--quiet",
            ],
        );
        assert_exit2(
            &o,
            &[
                "refusing to write",
                source,
                target,
                "both are the file",
                "never writes to its source",
            ],
        );
    }
    let o = prodlike_in(
        dir.path(),
        &[
            "data",
            "synth",
            "--profile",
            profile.to_str().unwrap(),
            "--target",
            "sqlite://./link.sqlite",
            "--quiet",
        ],
    );
    assert_exit2(&o, &["refusing to write", "profiled", "both are the file"]);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "a refused run changed the source"
    );
    assert_eq!(
        names_in(dir.path()),
        files,
        "a refused run left a file behind"
    );
    // Another file in the same folder is a valid target.
    let o = prodlike_in(
        dir.path(),
        &[
            "data",
            "sync",
            "--source",
            "sqlite://./x.sqlite",
            "--target",
            "sqlite://y.sqlite",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// Every schema and table with an md5 of its rows: equal before and after means the database
/// was not written.
async fn pg_fingerprint(db: &prodlike_testkit::pg::TempDatabase) -> Vec<String> {
    let c = db.connect().await.unwrap();
    let mut out: Vec<String> = c
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| format!("schema {}", r.get::<_, String>(0)))
        .collect();
    let tables = c
        .query(
            "SELECT table_schema::text, table_name::text FROM information_schema.tables \
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema') \
               AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap();
    for r in tables {
        let (ns, t): (String, String) = (r.get(0), r.get(1));
        let md5: Option<String> = c
            .query_one(
                &format!(
                    "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM \"{ns}\".\"{t}\" t"
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        out.push(format!("{ns}.{t} {}", md5.unwrap_or_default()));
    }
    out
}

#[test]
fn pg_sync_and_synth_refuse_the_source_under_any_spelling() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(src) = rt.block_on(prodlike_testkit::pg::TempDatabase::create("cli_same_src")) else {
        return;
    };
    let Some(dst) = rt.block_on(prodlike_testkit::pg::TempDatabase::create("cli_same_dst")) else {
        return;
    };
    rt.block_on(prodlike_testkit::shopdb::create_shop(&src, 300))
        .unwrap();
    let before = rt.block_on(pg_fingerprint(&src));
    assert!(
        before.iter().any(|l| l.starts_with("public.users ")),
        "{before:?}"
    );
    let n = &src.name;
    let source = format!("postgres://postgres@127.0.0.1:5432/{n}");
    for target in [
        format!("postgres://postgres@localhost:5432/{n}"),
        format!("postgres://postgres@127.0.0.1/{n}"),
        format!("postgresql://postgres@127.0.0.1:5432/{n}?sslmode=disable"),
        format!("postgres://postgres:hunter2@localhost/{n}"),
    ] {
        let o = prodlike(&[
            "data", "sync", "--source", &source, "--target", &target, "--quiet",
        ]);
        assert_exit2(
            &o,
            &[
                "refusing to write",
                &source,
                "system identifier",
                "database OID",
            ],
        );
        let shown = target.replace("hunter2", "***");
        assert!(stderr(&o).contains(&shown), "{}", stderr(&o));
        assert!(!stderr(&o).contains("hunter2"));
    }
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.json");
    let o = prodlike(&[
        "data",
        "profile",
        "--source",
        &source,
        "--out",
        profile.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = prodlike(&[
        "data",
        "synth",
        "--profile",
        profile.to_str().unwrap(),
        "--target",
        &format!("postgres://postgres@localhost/{n}"),
        "--quiet",
    ]);
    assert_exit2(&o, &["refusing to write", "profiled", "system identifier"]);
    assert_eq!(
        rt.block_on(pg_fingerprint(&src)),
        before,
        "a refused run changed the source"
    );

    // A different database on the same server, spelt with the same host, is no source.
    let o = prodlike(&[
        "data",
        "sync",
        "--source",
        &source,
        "--target",
        &format!("postgres://postgres@localhost:5432/{}", dst.name),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        rt.block_on(pg_fingerprint(&dst))
            .iter()
            .any(|l| l.starts_with("public.users "))
    );
    assert_eq!(rt.block_on(pg_fingerprint(&src)), before);
}

/// `verify --sync-result` leaves out what the sync listed as not copied, and only that: the
/// target does not let PUBLIC use its schema, the source does; the sync lists PUBLIC's grants,
/// verify passes with the result, and fails naming the grant once the entry is taken out.
#[test]
fn verify_reads_what_the_sync_result_lists_as_not_copied() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(src) = rt.block_on(prodlike_testkit::pg::TempDatabase::create("cli_nc_src")) else {
        return;
    };
    let Some(dst) = rt.block_on(prodlike_testkit::pg::TempDatabase::create("cli_nc_dst")) else {
        return;
    };
    rt.block_on(prodlike_testkit::shopdb::create_shop(&src, 300))
        .unwrap();
    rt.block_on(async {
        dst.connect()
            .await
            .unwrap()
            .batch_execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            .await
            .unwrap();
    });
    let (source, target) = (src.url.clone(), dst.url.clone());
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("sync.json");
    let o = prodlike(&[
        "data",
        "sync",
        "--source",
        &source,
        "--target",
        &target,
        "--quiet",
        "--out",
        result.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    let listed = doc["data"]["not_copied"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        listed
            .iter()
            .any(|n| n["kind"] == "grants" && n["name"] == "PUBLIC"),
        "{listed:?}"
    );
    let verify = |result: &Path| {
        prodlike(&[
            "data",
            "verify",
            "--source",
            &source,
            "--target",
            &target,
            "--sync-result",
            result.to_str().unwrap(),
        ])
    };
    let o = verify(&result);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    // The same result without the entry: the grant is a difference, named.
    doc["data"]["not_copied"] = serde_json::Value::Array(
        listed
            .into_iter()
            .filter(|n| n["kind"] != "grants")
            .collect(),
    );
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, doc.to_string()).unwrap();
    let o = verify(&edited);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("USAGE on schema public to PUBLIC"), "{out}");
}

#[test]
// Long: a table of bad flags per subcommand, each with the words its error must contain.
#[allow(clippy::too_many_lines)]
fn bad_flags_exit_2_before_anything_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite(&shop(dir.path(), 100));
    let dst_path = dir.path().join("staging.db");
    let dst = sqlite(&dst_path);
    let out = dir.path().join("r.json");
    let unreachable = "postgres://u:hunter2@127.0.0.1:1/db";
    let files = names_in(dir.path());
    let sync = |extra: &[&str], source: &str| {
        let mut a = vec![
            "data", "sync", "--source", source, "--target", &dst, "--quiet",
        ];
        a.extend_from_slice(extra);
        prodlike(&a)
    };
    let out_s = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--format", "markdown", "--out", out_s],
            vec!["--format markdown", "text or json"],
        ),
        (vec!["--format", "sarif"], vec!["--format sarif"]),
        (
            vec!["--out", "/nonexistent/dir/r.json"],
            vec!["--out", "/nonexistent/dir", "does not exist"],
        ),
        (
            vec!["--out", dir.path().to_str().unwrap()],
            vec!["--out", "is a folder"],
        ),
        (vec!["--sample", "1.5"], vec!["--sample 1.5"]),
        (vec!["--sample", "NaN"], vec!["--sample"]),
        (vec!["--jobs", "0"], vec!["--jobs 0"]),
        (
            vec!["--key-file", "/nonexistent/key"],
            vec!["--key-file", "/nonexistent/key"],
        ),
        (
            vec!["--rules", "/nonexistent/data.toml"],
            vec!["/nonexistent/data.toml"],
        ),
    ];
    for (extra, needles) in &cases {
        // A SQLite source that works: the target must not appear.
        assert_exit2(&sync(extra, &src), needles);
        // A source that cannot be reached: the flag is named, not the connection.
        let o = sync(extra, unreachable);
        assert_exit2(&o, needles);
        assert!(!stderr(&o).contains("connecting"), "{}", stderr(&o));
    }
    let profile = |extra: &[&str]| {
        let mut a = vec!["data", "profile", "--source", unreachable];
        a.extend_from_slice(extra);
        prodlike(&a)
    };
    assert_exit2(&profile(&["--format", "markdown"]), &["--format markdown"]);
    assert_exit2(&profile(&["--max-rows", "0"]), &["--max-rows 0"]);
    let verify = |extra: &[&str]| {
        let mut a = vec![
            "data",
            "verify",
            "--source",
            unreachable,
            "--target",
            unreachable,
        ];
        a.extend_from_slice(extra);
        prodlike(&a)
    };
    assert_exit2(&verify(&["--min-score", "2"]), &["--min-score 2"]);
    assert_exit2(&verify(&["--sample", "0"]), &["--sample 0"]);
    assert_exit2(&verify(&["--format", "sarif"]), &["--format sarif"]);
    // synth: a real profile, a bad flag, and the target never created.
    let p = dir.path().join("p.json");
    let o = prodlike(&[
        "data",
        "profile",
        "--source",
        &src,
        "--out",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files_with_profile = names_in(dir.path());
    let synth = |extra: &[&str]| {
        let mut a = vec![
            "data",
            "synth",
            "--profile",
            p.to_str().unwrap(),
            "--target",
            &dst,
            "--quiet",
        ];
        a.extend_from_slice(extra);
        prodlike(&a)
    };
    assert_exit2(&synth(&["--format", "markdown"]), &["--format markdown"]);
    assert_exit2(&synth(&["--scale", "0"]), &["--scale 0"]);
    assert_exit2(&synth(&["--rows", "nosuch=5"]), &["nosuch"]);
    assert_exit2(
        &synth(&["--out", "/nonexistent/dir/s.json"]),
        &["/nonexistent/dir"],
    );
    assert!(!dst_path.exists(), "a rejected run created the target");
    assert!(!out.exists(), "a rejected run wrote --out");
    assert_eq!(names_in(dir.path()), files_with_profile);
    assert!(files.iter().all(|f| files_with_profile.contains(f)));
}
