//! `prodlike data dump` and `restore` between PostgreSQL databases that never meet: a round trip
//! (directory and tar stream) equals a direct sync with the same key, row for row and schema for
//! schema; a truncated, flipped, re-written or wrongly keyed snapshot exits 2 and leaves the
//! target as it was; the restore's leak check finds a value planted on its own row; `data verify
//! --snapshot` verifies the restored target from the snapshot alone as `--source` would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use prodlike_testkit::pg::TempDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_prodlike");
const KEY: &str = "cli test secret of 16+ bytes";
const SNAP_KEY: &str = "cli snapshot secret, 16+ bytes";

fn prodlike(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("PRODLIKE_MASK_KEY", KEY)
        .env("PRODLIKE_SNAPSHOT_KEY", SNAP_KEY)
        .env("PRODLIKE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match stdin {
        None => c.output().unwrap(),
        Some(b) => {
            c.stdin(Stdio::piped());
            let mut child = c.spawn().unwrap();
            let mut i = child.stdin.take().unwrap();
            // The child may refuse before reading it all.
            let _ = i.write_all(b);
            drop(i);
            child.wait_with_output().unwrap()
        }
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
}

fn url(db: &TempDatabase) -> String {
    format!("postgres://postgres@127.0.0.1:5432/{}", db.name)
}

/// Every table of `public` with an md5 of its rows in a fixed order.
async fn rows_fingerprint(db: &TempDatabase) -> Vec<String> {
    let c = db.connect().await.unwrap();
    let tables = c
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    for r in tables {
        let t: String = r.get(0);
        let row: (i64, Option<String>) = {
            let r = c
                .query_one(
                    &format!(
                        "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM public.\"{t}\" t"
                    ),
                    &[],
                )
                .await
                .unwrap();
            (r.get(0), r.get(1))
        };
        out.push(format!("{t} {} {}", row.0, row.1.unwrap_or_default()));
    }
    out
}

/// The schema as pg_dump prints it, without its comments and session lines.
fn schema_of(db: &TempDatabase) -> String {
    let o = Command::new("pg_dump")
        .args([
            "--schema-only",
            "--no-owner",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            &db.name,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| {
            !l.starts_with("--") && !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn dump_dir(src: &TempDatabase, dir: &Path) -> PathBuf {
    let out = dir.join("snap");
    let result = dir.join("dump.json");
    ok(&prodlike(
        &[
            "data",
            "dump",
            "--source",
            &url(src),
            "--out",
            out.to_str().unwrap(),
            "--result",
            result.to_str().unwrap(),
            "--quiet",
        ],
        None,
    ));
    out
}

fn restore(snapshot: &str, dst: &TempDatabase, stdin: Option<&[u8]>) -> Output {
    prodlike(
        &[
            "data",
            "restore",
            "--snapshot",
            snapshot,
            "--target",
            &url(dst),
            "--format",
            "json",
        ],
        stdin,
    )
}

/// A shop of `users` users in a new source, dumped into a new temporary directory and restored
/// into a new target: (source, target, directory, snapshot).
fn shop_round_trip(
    rt: &tokio::runtime::Runtime,
    label: &str,
    users: u32,
) -> (TempDatabase, TempDatabase, tempfile::TempDir, PathBuf) {
    let src = rt
        .block_on(TempDatabase::create(&format!("{label}_src")))
        .unwrap();
    let dst = rt
        .block_on(TempDatabase::create(&format!("{label}_dst")))
        .unwrap();
    rt.block_on(prodlike_testkit::shopdb::create_shop(&src, users))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snap = dump_dir(&src, dir.path());
    ok(&restore(snap.to_str().unwrap(), &dst, None));
    (src, dst, dir, snap)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
// Long: one source, three copies (sync, directory, tar stream) compared, then the leak check.
#[allow(clippy::too_many_lines)]
fn a_round_trip_equals_a_direct_sync_row_for_row_and_schema_for_schema() {
    let rt = runtime();
    let make = |l: &str| rt.block_on(TempDatabase::create(l)).unwrap();
    let (src, synced, restored, streamed) = (
        make("snap_src"),
        make("snap_sync"),
        make("snap_restored"),
        make("snap_streamed"),
    );
    rt.block_on(prodlike_testkit::shopdb::create_shop(&src, 400))
        .unwrap();
    // Arrays and composites of user-defined types: binary COPY embeds their type OIDs, which
    // differ between the source and the restored database.
    rt.block_on(async {
        src.connect()
            .await
            .unwrap()
            .batch_execute(
                "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); \
                 CREATE TYPE mood_pair AS (n int, m mood); \
                 CREATE TABLE moods (id int PRIMARY KEY, m mood, ms mood[], p mood_pair, ps mood_pair[]); \
                 INSERT INTO moods SELECT g, 'ok', ARRAY['sad', 'happy']::mood[], ROW(g, 'happy')::mood_pair, \
                   ARRAY[ROW(1, 'sad')::mood_pair, NULL] FROM generate_series(1, 20) g",
            )
            .await
            .unwrap();
    });
    ok(&prodlike(
        &[
            "data",
            "sync",
            "--source",
            &url(&src),
            "--target",
            &url(&synced),
            "--quiet",
        ],
        None,
    ));
    let dir = tempfile::tempdir().unwrap();
    let snap = dump_dir(&src, dir.path());
    let o = restore(snap.to_str().unwrap(), &restored, None);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "prodlike.data.restore/1");
    assert_eq!(v["data"]["row_counts_match"], true, "{v}");
    assert_eq!(v["data"]["leaked_rows"], 0, "{v}");
    assert!(
        !v["data"]["leaks"].as_array().unwrap().is_empty(),
        "some masked column is leak-checked: {v}"
    );

    // The tar stream: dump to standard output, restore from standard input.
    let tar = prodlike(
        &[
            "data",
            "dump",
            "--source",
            &url(&src),
            "--out",
            "-",
            "--quiet",
        ],
        None,
    );
    ok(&tar);
    assert!(tar.stdout.len() > 10_000);
    ok(&restore("-", &streamed, Some(&tar.stdout)));
    // Staging's verify reads the same stream again (`aws s3 cp … - | prodlike data verify
    // --snapshot -`): it passes on the streamed restore, and a cut stream is refused with exit 2.
    let mut verify_args = vec!["data", "verify", "--snapshot", "-", "--target"];
    let streamed_url = url(&streamed);
    verify_args.push(&streamed_url);
    verify_args.extend(["--format", "json", "--min-score", "0.99"]);
    let o = prodlike(&verify_args, Some(&tar.stdout));
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["data"]["passed"], true, "{v}");
    assert_eq!(v["data"]["snapshot"]["snapshot"], "-", "{v}");
    let o = prodlike(&verify_args, Some(&tar.stdout[..tar.stdout.len() / 2]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    let want = rt.block_on(rows_fingerprint(&synced));
    assert!(want.iter().any(|l| l.starts_with("users 400 ")), "{want:?}");
    assert_eq!(rt.block_on(rows_fingerprint(&restored)), want);
    assert_eq!(rt.block_on(rows_fingerprint(&streamed)), want);
    let schema = schema_of(&synced);
    assert!(schema.contains("CREATE TABLE public.users"), "{schema}");
    assert_eq!(schema_of(&restored), schema);
    assert_eq!(schema_of(&streamed), schema);
    // The source's PII is not in the restored rows (the sync masks it the same way).
    let src_rows = rt.block_on(rows_fingerprint(&src));
    assert_ne!(src_rows, want);
    // The user-typed rows are the source's, though the types' OIDs differ.
    let moods = |l: &Vec<String>| l.iter().find(|l| l.starts_with("moods ")).cloned();
    assert_eq!(
        moods(&rt.block_on(rows_fingerprint(&restored))),
        moods(&src_rows)
    );
    let oid = |db: &TempDatabase| -> u32 {
        rt.block_on(async {
            db.connect()
                .await
                .unwrap()
                .query_one("SELECT 'mood'::regtype::oid", &[])
                .await
                .unwrap()
                .get(0)
        })
    };
    assert_ne!(oid(&src), oid(&restored));

    // The leak check is not vacuous: a source e-mail put back on its own row is found.
    rt.block_on(async {
        let emails = src
            .connect()
            .await
            .unwrap()
            .query("SELECT id, email FROM users ORDER BY id LIMIT 3", &[])
            .await
            .unwrap();
        let c = restored.connect().await.unwrap();
        for r in emails {
            let (id, email): (i64, String) = (r.get(0), r.get(1));
            c.execute("UPDATE users SET email = $2 WHERE id = $1", &[&id, &email])
                .await
                .unwrap();
        }
    });
    let key = prodlike_data::snapshot::key::SnapshotKey::from_secret(SNAP_KEY.as_bytes()).unwrap();
    let opened = prodlike_data::snapshot::manifest::open(&snap, &key).unwrap();
    let prodlike_data::DbUrl::Postgres { conn, shown } =
        prodlike_data::DbUrl::parse(&url(&restored)).unwrap()
    else {
        panic!("a PostgreSQL URL")
    };
    let leaks = rt
        .block_on(prodlike_data::snapshot::restore::leak_check(
            &conn,
            &shown,
            "public",
            &opened.leaks.columns,
            &key,
        ))
        .unwrap();
    let email = leaks
        .iter()
        .find(|l| l.table == "users" && l.column == "email")
        .unwrap_or_else(|| panic!("users.email is checked: {leaks:?}"));
    assert_eq!(email.leaked_rows, 3, "{leaks:?}");
    assert_eq!(leaks.iter().map(|l| l.leaked_rows).sum::<u64>(), 3);
}

/// Writes manifest `m` into snapshot `dir`, signed with the snapshot key (a forger with the key).
fn resign(dir: &Path, m: &serde_json::Value) {
    let bytes = serde_json::to_vec_pretty(m).unwrap();
    std::fs::write(dir.join("manifest.json"), &bytes).unwrap();
    let key = prodlike_data::snapshot::key::SnapshotKey::from_secret(SNAP_KEY.as_bytes()).unwrap();
    std::fs::write(
        dir.join("manifest.mac"),
        format!("{}\n", key.mac(&bytes).to_hex()),
    )
    .unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("tables")).unwrap();
    for sub in ["", "tables"] {
        for e in std::fs::read_dir(from.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, to.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
}

#[test]
// Long: one restored target, then each kind of damage in turn against it.
#[allow(clippy::too_many_lines)]
fn bad_snapshots_exit_2_and_leave_the_target_intact() {
    let rt = runtime();
    let (src, dst, dir, snap) = shop_round_trip(&rt, "snapbad", 150);
    // Something the snapshot does not have, to tell the target's contents from a new restore.
    rt.block_on(async {
        let c = dst.connect().await.unwrap();
        c.batch_execute(
            "DELETE FROM order_items WHERE ctid IN (SELECT ctid FROM order_items LIMIT 3)",
        )
        .await
        .unwrap();
    });
    let before = rt.block_on(rows_fingerprint(&dst));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(snap.join("manifest.json")).unwrap()).unwrap();
    let table = manifest["tables"][0]["file"].as_str().unwrap().to_owned();

    type Damage<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(&str, Damage, &str)> = vec![
        (
            "truncated",
            Box::new(|d: &Path| {
                let p = d.join(&table);
                let b = std::fs::read(&p).unwrap();
                std::fs::write(&p, &b[..b.len() - 7]).unwrap();
            }),
            "truncated or changed",
        ),
        (
            "flipped",
            Box::new(|d: &Path| {
                let p = d.join(&table);
                let mut b = std::fs::read(&p).unwrap();
                let i = b.len() / 3;
                b[i] ^= 0x01;
                std::fs::write(&p, &b).unwrap();
            }),
            "BLAKE3",
        ),
        (
            "manifest",
            Box::new(|d: &Path| {
                let p = d.join("manifest.json");
                let mut m: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                let rows = m["tables"][0]["rows"].as_u64().unwrap();
                m["tables"][0]["rows"] = (rows + 1).into();
                std::fs::write(&p, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
            }),
            "MAC does not match",
        ),
    ];
    for (name, damage, needle) in &cases {
        let d = dir.path().join(name);
        copy_dir(&snap, &d);
        damage(&d);
        let o = restore(d.to_str().unwrap(), &dst, None);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{name}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert_eq!(rt.block_on(rows_fingerprint(&dst)), before, "{name}");
    }
    // The wrong snapshot key.
    let o = Command::new(BIN)
        .args([
            "data",
            "restore",
            "--snapshot",
            snap.to_str().unwrap(),
            "--target",
            &url(&dst),
        ])
        .env("PRODLIKE_SNAPSHOT_KEY", "not the dumping side's secret")
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("snapshot key"), "{}", stderr(&o));
    // A tar stream cut short.
    let tar = prodlike(
        &[
            "data",
            "dump",
            "--source",
            &url(&src),
            "--out",
            "-",
            "--quiet",
        ],
        None,
    );
    ok(&tar);
    let o = restore("-", &dst, Some(&tar.stdout[..tar.stdout.len() * 2 / 3]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        rt.block_on(rows_fingerprint(&dst)),
        before,
        "cut tar stream"
    );
    // No snapshot key at all: dump refuses before reading anything.
    let o = Command::new(BIN)
        .args([
            "data",
            "dump",
            "--source",
            &url(&src),
            "--out",
            dir.path().join("x").to_str().unwrap(),
        ])
        .env_remove("PRODLIKE_SNAPSHOT_KEY")
        .env("PRODLIKE_MASK_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("PRODLIKE_SNAPSHOT_KEY"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("x").exists());
}

/// `--compression gzip` and `none` restore to the same rows as the default LZ4; a snapshot whose
/// rows carry source values (the dumping side's masking failed, then the manifest was re-signed
/// with the right key) is loaded, found leaking before the swap, and kept out: exit 1, the
/// target as it was.
#[test]
// Long: three codecs compared, then one forged snapshot against the restored target.
#[allow(clippy::too_many_lines)]
fn every_compression_round_trips_and_a_leaking_snapshot_is_not_swapped_in() {
    let rt = runtime();
    let src = rt.block_on(TempDatabase::create("snapleak_src")).unwrap();
    let dst = rt.block_on(TempDatabase::create("snapleak_dst")).unwrap();
    rt.block_on(prodlike_testkit::shopdb::create_shop(&src, 120))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lz4 = dump_dir(&src, dir.path());
    ok(&restore(lz4.to_str().unwrap(), &dst, None));
    let want = rt.block_on(rows_fingerprint(&dst));
    let manifest_of = |snap: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(snap.join("manifest.json")).unwrap()).unwrap()
    };
    let m = manifest_of(&lz4);
    assert_eq!(m["format"], "prodlike.snapshot/4");
    assert_eq!(m["compression"], "lz4");
    let mut sizes = Vec::new();
    for (codec, suffix) in [("gzip", ".copy.gz"), ("none", ".copy")] {
        let out = dir.path().join(codec);
        ok(&prodlike(
            &[
                "data",
                "dump",
                "--source",
                &url(&src),
                "--out",
                out.to_str().unwrap(),
                "--compression",
                codec,
                "--quiet",
            ],
            None,
        ));
        let m = manifest_of(&out);
        assert_eq!(m["compression"], codec);
        assert!(
            m["tables"][0]["file"].as_str().unwrap().ends_with(suffix),
            "{m}"
        );
        sizes.push(
            m["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["bytes"].as_u64().unwrap())
                .sum::<u64>(),
        );
        let again = rt.block_on(TempDatabase::create("snapleak_codec")).unwrap();
        ok(&restore(out.to_str().unwrap(), &again, None));
        assert_eq!(rt.block_on(rows_fingerprint(&again)), want, "{codec}");
    }
    assert!(sizes[0] < sizes[1], "gzip is smaller than none: {sizes:?}");
    // An unknown codec is a usage error before anything is read.
    let o = prodlike(
        &[
            "data",
            "dump",
            "--source",
            &url(&src),
            "--out",
            dir.path().join("z").to_str().unwrap(),
            "--compression",
            "zstd",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("lz4"), "{}", stderr(&o));

    // The forged snapshot: `none`'s users file replaced by the source's own rows, unmasked.
    let forged = dir.path().join("none");
    let mut m = manifest_of(&forged);
    let users = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t["table"] == "users")
        .unwrap();
    let file = m["tables"][users]["file"].as_str().unwrap().to_owned();
    let path = forged.join(&file);
    let o = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &src.name, "-c"])
        .arg(format!(
            "\\copy public.users TO '{}' WITH (FORMAT binary)",
            path.display()
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (len, hash) = prodlike_data::snapshot::manifest::hash_file(&path).unwrap();
    m["tables"][users]["copy_bytes"] = len.into();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == file.as_str() {
            f["bytes"] = len.into();
            f["blake3"] = hash.clone().into();
        }
    }
    resign(&forged, &m);
    let o = restore(forged.to_str().unwrap(), &dst, None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["data"]["swapped"], false, "{v}");
    assert_eq!(v["data"]["passed"], false, "{v}");
    let email = v["data"]["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["table"] == "users" && l["column"] == "email")
        .unwrap_or_else(|| panic!("users.email is checked: {v}"));
    assert_eq!(email["leaked_rows"], 120, "{v}");
    assert_eq!(
        rt.block_on(rows_fingerprint(&dst)),
        want,
        "the target kept its rows"
    );
    // No load schema is left behind.
    let left: i64 = rt.block_on(async {
        dst.connect()
            .await
            .unwrap()
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'prodlike_%'",
                &[],
            )
            .await
            .unwrap()
            .get(0)
    });
    assert_eq!(left, 0);
}

/// Northwind and Chinook (testdata/realworld): a snapshot's round trip equals a direct sync, with
/// the PII the sync detects in them masked alike, and verifies against the snapshot alone.
#[test]
fn realworld_databases_round_trip_as_a_sync() {
    let rt = runtime();
    for (name, src) in [
        (
            "northwind",
            rt.block_on(prodlike_testkit::realworld::northwind_pg()),
        ),
        (
            "chinook",
            rt.block_on(prodlike_testkit::realworld::chinook_pg()),
        ),
    ] {
        let src = src.unwrap();
        let synced = rt
            .block_on(TempDatabase::create(&format!("{name}_sync")))
            .unwrap();
        let restored = rt
            .block_on(TempDatabase::create(&format!("{name}_restored")))
            .unwrap();
        ok(&prodlike(
            &[
                "data",
                "sync",
                "--source",
                &url(&src),
                "--target",
                &url(&synced),
                "--quiet",
            ],
            None,
        ));
        let dir = tempfile::tempdir().unwrap();
        let snap = dump_dir(&src, dir.path());
        let o = restore(snap.to_str().unwrap(), &restored, None);
        ok(&o);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["data"]["passed"], true, "{name}: {v}");
        let want = rt.block_on(rows_fingerprint(&synced));
        assert!(want.len() >= 8, "{name}: {want:?}");
        assert_eq!(rt.block_on(rows_fingerprint(&restored)), want, "{name}");
        assert_eq!(schema_of(&restored), schema_of(&synced), "{name}");
        // Staging's verify, from the snapshot alone, passes on the restored copy.
        let o = verify_snapshot(&snap, &restored, &[]);
        ok(&o);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            v["data"]["columns"].as_array().unwrap().len() >= 20,
            "{name}: {v}"
        );
        assert!(
            v["data"]["fan_out"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["compared"] == true)
                .count()
                >= 5,
            "{name}: {v}"
        );
        assert!(v["data"]["score"].as_f64().unwrap() > 0.99, "{name}: {v}");
    }
}

fn verify_snapshot(snapshot: &Path, dst: &TempDatabase, extra: &[&str]) -> Output {
    let mut args = vec![
        "data",
        "verify",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--target",
    ];
    let target = url(dst);
    args.push(&target);
    args.extend(["--format", "json"]);
    args.extend(extra);
    prodlike(&args, None)
}

/// `data verify --source src --target dst` as JSON (it must pass).
fn verify_source(src: &TempDatabase, dst: &TempDatabase) -> serde_json::Value {
    let o = prodlike(
        &[
            "data",
            "verify",
            "--source",
            &url(src),
            "--target",
            &url(dst),
            "--format",
            "json",
        ],
        None,
    );
    ok(&o);
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Staging verifies a restored target with nothing but the snapshot: the dump stores the
/// source's side of verify, and `data verify --snapshot` gives the verdict `data verify
/// --source` gives (the same columns, the same statistics of unmasked columns, the same fan-out),
/// fails a distribution changed after the restore and most order lines deleted, and refuses a
/// snapshot written before profiles (`/3`), which still restores.
#[test]
// Long: one round trip, then the same target verified three ways and changed twice.
#[allow(clippy::too_many_lines)]
fn a_restored_target_verifies_against_its_snapshot_as_against_its_source() {
    let rt = runtime();
    let (src, dst, dir, snap) = shop_round_trip(&rt, "snapver", 400);

    let o = verify_snapshot(&snap, &dst, &["--min-score", "0.99"]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = &v["data"];
    assert_eq!(v["schema"], "prodlike.data.verify/1");
    assert_eq!(d["passed"], true, "{v}");
    assert!(d["snapshot"]["created"].is_string(), "{v}");
    assert!(
        d["row_counts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true && r["source_rows"] == r["target_rows"]),
        "{v}"
    );
    assert!(d["schema_checked"].as_str().unwrap().contains("snapshot"));
    assert_eq!(d["integrity"]["total_violations"], 0, "{v}");
    let leak_cols = d["leaks"]["columns"].as_array().unwrap();
    assert!(
        leak_cols
            .iter()
            .any(|c| c["table"] == "users" && c["column"] == "email"),
        "{v}"
    );
    let compared = d["fan_out"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["compared"] == true)
        .count();
    assert!(compared >= 5, "{v}");

    // The same target against the source itself: the same columns; unmasked columns' statistics
    // and every key's fan-out alike (the shop is smaller than the profile's sample, so both
    // read every row).
    let direct = verify_source(&src, &dst);
    let by_name = |r: &serde_json::Value| -> std::collections::BTreeMap<String, serde_json::Value> {
        r["data"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    format!(
                        "{}.{}",
                        c["table"].as_str().unwrap(),
                        c["column"].as_str().unwrap()
                    ),
                    c.clone(),
                )
            })
            .collect()
    };
    let (from_snapshot, from_source) = (by_name(&v), by_name(&direct));
    assert_eq!(
        from_snapshot.keys().collect::<Vec<_>>(),
        from_source.keys().collect::<Vec<_>>()
    );
    assert!(from_snapshot.len() >= 20, "{from_snapshot:?}");
    let (mut same_metric, mut coarse) = (0, 0);
    for (name, s) in &from_snapshot {
        let g = &from_source[name];
        assert_eq!(s["masked"], g["masked"], "{name}");
        assert_eq!(s["null_rate_source"], g["null_rate_source"], "{name}");
        if s["masked"] == false {
            assert_eq!(s["metric"], g["metric"], "{name}");
            let (a, b) = (
                s["statistic"].as_f64().unwrap(),
                g["statistic"].as_f64().unwrap(),
            );
            assert!(
                (a - b).abs() < 0.001,
                "{name}: {a} from the snapshot, {b} from the source"
            );
            same_metric += 1;
        } else if s["metric"] == "ks" {
            // A masked number: through its coarsened percentiles, about the same distance.
            let (a, b) = (
                s["statistic"].as_f64().unwrap(),
                g["statistic"].as_f64().unwrap(),
            );
            assert_eq!(g["metric"], "ks", "{name}");
            assert!(
                (a - b).abs() < 0.03,
                "{name}: {a} from the snapshot, {b} from the source"
            );
            coarse += 1;
        }
    }
    assert!(same_metric >= 15, "{same_metric}");
    assert!(
        coarse >= 1,
        "some masked number is compared: {from_snapshot:?}"
    );
    assert_eq!(
        v["data"]["snapshot"]["distribution_coarsened"],
        serde_json::json!(["users.date_of_birth"]),
        "{v}"
    );
    let fan = |r: &serde_json::Value| -> Vec<(String, f64, f64, bool)> {
        r["data"]["fan_out"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    format!("{}{}", f["child"], f["columns"]),
                    f["source_mean"].as_f64().unwrap(),
                    f["ks"].as_f64().unwrap(),
                    f["compared"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(fan(&v), fan(&direct));

    // A distribution changed in staging after the restore: the score falls and names it.
    rt.block_on(async {
        dst.connect()
            .await
            .unwrap()
            .batch_execute(
                "UPDATE users SET plan = 'enterprise'; UPDATE payments SET amount = amount * 7",
            )
            .await
            .unwrap();
    });
    let o = verify_snapshot(&snap, &dst, &["--min-score", "0.99"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let worst = v["data"]["worst"].to_string();
    assert!(worst.contains("users.plan: tvd"), "{v}");
    assert!(worst.contains("payments.amount: ks"), "{v}");
    assert!(
        v["data"]["failures"].to_string().contains("fidelity score"),
        "{v}"
    );

    // Most order lines deleted: the fan-out of order_items → orders fails.
    rt.block_on(async {
        dst.connect()
            .await
            .unwrap()
            .batch_execute("DELETE FROM order_items WHERE line_no > 1")
            .await
            .unwrap();
    });
    let o = verify_snapshot(&snap, &dst, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let failures = v["data"]["failures"].to_string();
    assert!(failures.contains("fan-out differs"), "{v}");
    assert!(failures.contains("order_items(order_id) → orders"), "{v}");

    // A snapshot of format /3 holds no profile: it restores, and verify refuses it by name.
    let old = dir.path().join("old");
    copy_dir(&snap, &old);
    std::fs::remove_file(old.join("profile.json")).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(old.join("manifest.json")).unwrap()).unwrap();
    m["format"] = "prodlike.snapshot/3".into();
    m["files"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["path"] != "profile.json");
    resign(&old, &m);
    ok(&restore(old.to_str().unwrap(), &dst, None));
    let o = verify_snapshot(&old, &dst, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("holds no source profile"),
        "{}",
        stderr(&o)
    );
    // The profile is what verify needs: the target restored from the old snapshot passes
    // against the new one.
    ok(&verify_snapshot(&snap, &dst, &[]));

    // A sampled dump's rows are not the source's: its profile is read from the source, and a
    // correct half of the shop passes against it, row counts as the manifest's.
    let half = dir.path().join("half");
    ok(&prodlike(
        &[
            "data",
            "dump",
            "--source",
            &url(&src),
            "--out",
            half.to_str().unwrap(),
            "--sample",
            "0.5",
            "--quiet",
        ],
        None,
    ));
    ok(&restore(half.to_str().unwrap(), &dst, None));
    let o = verify_snapshot(&half, &dst, &[]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let users = v["data"]["row_counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["table"] == "users")
        .cloned()
        .unwrap();
    assert_eq!(users["source_rows"], 400, "{v}");
    assert!(users["target_rows"].as_u64().unwrap() < 300, "{v}");
    assert_eq!(users["ok"], true, "{v}");
    assert!(v["data"]["fan_out"].as_array().unwrap().len() >= 10, "{v}");
}

/// A column of a type the dump does not decode (`point` here) keeps only its share of NULLs in
/// the snapshot's profile: `verify --snapshot` compares it by that share, says so by name in
/// `distribution_not_compared`, and still catches its NULLs changing; `verify --source`
/// compares its values.
#[test]
fn a_column_of_an_undecoded_type_is_compared_by_its_nulls_and_named() {
    let rt = runtime();
    let src = rt.block_on(TempDatabase::create("undec_src")).unwrap();
    let dst = rt.block_on(TempDatabase::create("undec_dst")).unwrap();
    rt.block_on(async {
        src.connect()
            .await
            .unwrap()
            .batch_execute(
                "CREATE TABLE hosts (id int PRIMARY KEY, pos point, label text NOT NULL); \
                 INSERT INTO hosts SELECT i, \
                   CASE WHEN i % 5 = 0 THEN NULL ELSE point(i % 7, i % 11) END, \
                   'host-' || (i % 13) FROM generate_series(1, 600) i",
            )
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let snap = dump_dir(&src, dir.path());
    ok(&restore(snap.to_str().unwrap(), &dst, None));

    let o = verify_snapshot(&snap, &dst, &["--min-score", "0.99"]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let named = v["data"]["snapshot"]["distribution_not_compared"]
        .as_array()
        .unwrap();
    assert_eq!(named.len(), 1, "{v}");
    let named = named[0].as_str().unwrap();
    assert!(named.starts_with("hosts.pos: type point"), "{named}");
    let column = |v: &serde_json::Value, name: &str| -> serde_json::Value {
        v["data"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["column"] == name)
            .unwrap()
            .clone()
    };
    let pos = column(&v, "pos");
    assert_eq!(pos["metric"], "null_rate", "{pos}");
    assert!((pos["null_rate_source"].as_f64().unwrap() - 0.2).abs() < 1e-9);
    assert_eq!(column(&v, "label")["metric"], "tvd", "{v}");
    // The human summary says it too.
    let o = prodlike(
        &[
            "data",
            "verify",
            "--snapshot",
            snap.to_str().unwrap(),
            "--target",
            &url(&dst),
        ],
        None,
    );
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("distribution not compared, NULLs only: hosts.pos"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Against the source, its values are compared.
    let direct = verify_source(&src, &dst);
    assert_ne!(column(&direct, "pos")["metric"], "null_rate", "{direct}");

    // Half its values gone in staging: caught through the share of NULLs.
    rt.block_on(async {
        dst.connect()
            .await
            .unwrap()
            .batch_execute("UPDATE hosts SET pos = NULL WHERE id % 2 = 0")
            .await
            .unwrap();
    });
    let o = verify_snapshot(&snap, &dst, &["--min-score", "0.99"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let pos = column(&v, "pos");
    assert!(pos["null_delta"].as_f64().unwrap() > 0.3, "{pos}");
    assert!(v["data"]["worst"].to_string().contains("hosts.pos"), "{v}");
}
