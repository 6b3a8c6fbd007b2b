//! Data snapshots without a server: a dump of the SQLite shop is whole, authentic and masked;
//! every kind of damage (a flipped byte anywhere, a truncated file, a changed manifest, the
//! wrong key) is refused by the check a restore runs first; random and mutated snapshots and
//! tar streams never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use prodlike_data::DbUrl;
use prodlike_data::fixture::{ShopSize, write_shop_sqlite};
use prodlike_data::rules::Rules;
use prodlike_data::snapshot::dump::{DumpOptions, dump};
use prodlike_data::snapshot::key::SnapshotKey;
use prodlike_data::snapshot::{manifest, tarball};
use prodlike_data::sync::SyncOptions;
use prodlike_mask::{MaskKey, Masker};
use proptest::prelude::*;

fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(
        MaskKey::from_secret(b"a test secret of 16+ bytes").unwrap(),
    ))
}

fn key() -> SnapshotKey {
    SnapshotKey::from_secret(b"snapshot secret of 16+ bytes").unwrap()
}

/// Dumps a small SQLite shop into `dir/snap`; returns the snapshot and the source file.
fn dumped(dir: &Path) -> (PathBuf, PathBuf) {
    let src = dir.join("prod.db");
    write_shop_sqlite(&src, ShopSize { users: 60, seed: 5 }).unwrap();
    let url = DbUrl::parse(&format!("sqlite://{}", src.display())).unwrap();
    let out = dir.join("snap");
    let opts = DumpOptions {
        sync: SyncOptions {
            source: url.clone(),
            target: url,
            rules: Rules::default(),
            rules_file: "(none)".into(),
            sample: None,
            seed: Some(1),
            strict: false,
            jobs: 2,
            namespace: "public".into(),
            keep_previous: false,
            max_rows_per_sec: None,
            progress: false,
            dry_run: false,
            fail_after_rows: None,
        },
        out: out.clone(),
        shown: out.display().to_string(),
        compression: prodlike_data::snapshot::codec::Compression::default(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(dump(&opts, masker, &key())).unwrap();
    assert!(r.total_rows > 100, "{r:?}");
    assert!(!r.sync.masked.is_empty(), "the shop has PII to mask");
    (out, src)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("tables")).unwrap();
    for e in walk(from) {
        let rel = e.strip_prefix(from).unwrap();
        std::fs::copy(&e, to.join(rel)).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn refusal(dir: &Path, k: &SnapshotKey) -> String {
    match manifest::open(dir, k) {
        Ok(_) => panic!("{} was accepted", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_dump_is_whole_and_every_damage_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (snap, _) = dumped(tmp.path());
    let opened = manifest::open(&snap, &key()).unwrap();
    assert_eq!(opened.manifest.format, manifest::FORMAT);
    assert!(opened.manifest.tables.iter().all(|t| t.rows > 0));
    assert!(
        !std::fs::read_dir(tmp.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial")),
        "the partial directory was renamed into place"
    );

    // The wrong key.
    let other = SnapshotKey::from_secret(b"another secret of 16+ bytes").unwrap();
    let e = refusal(&snap, &other);
    assert!(e.contains("snapshot key"), "{e}");

    let table = opened.manifest.tables[0].file.clone();
    let case = |name: &str, damage: &dyn Fn(&Path)| -> String {
        let d = tmp.path().join(name);
        copy_dir(&snap, &d);
        damage(&d);
        refusal(&d, &key())
    };
    // A truncated table file.
    let e = case("truncated", &|d| {
        let p = d.join(&table);
        let b = std::fs::read(&p).unwrap();
        std::fs::write(&p, &b[..b.len() / 2]).unwrap();
    });
    assert!(e.contains("truncated or changed"), "{e}");
    // A flipped byte in a table file.
    let e = case("flipped", &|d| {
        let p = d.join(&table);
        let mut b = std::fs::read(&p).unwrap();
        let i = b.len() / 2;
        b[i] ^= 0x40;
        std::fs::write(&p, &b).unwrap();
    });
    assert!(e.contains("BLAKE3"), "{e}");
    // A changed manifest (a row count), its MAC left as it was.
    let e = case("manifest", &|d| {
        let p = d.join(manifest::MANIFEST);
        let s = std::fs::read_to_string(&p).unwrap();
        let rows = opened.manifest.tables[0].rows;
        let changed = s.replacen(
            &format!("\"rows\": {rows}"),
            &format!("\"rows\": {}", rows + 1),
            1,
        );
        assert_ne!(s, changed);
        std::fs::write(&p, changed).unwrap();
    });
    assert!(e.contains("MAC does not match"), "{e}");
    // A missing file, a removed MAC.
    let e = case("missing", &|d| {
        std::fs::remove_file(d.join(&table)).unwrap()
    });
    assert!(e.contains("missing"), "{e}");
    let e = case("nomac", &|d| {
        std::fs::remove_file(d.join(manifest::MAC)).unwrap()
    });
    assert!(e.contains("manifest.mac"), "{e}");
}

#[test]
fn every_single_byte_flip_of_every_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (snap, _) = dumped(tmp.path());
    let d = tmp.path().join("work");
    copy_dir(&snap, &d);
    let mut rng = fastrand::Rng::with_seed(7);
    for f in walk(&d) {
        let clean = std::fs::read(&f).unwrap();
        for _ in 0..8 {
            let mut b = clean.clone();
            let i = rng.usize(..b.len());
            b[i] ^= 1 << rng.u8(..8);
            std::fs::write(&f, &b).unwrap();
            // The MAC file accepts a hex digit's case change; anything else is refused.
            if manifest::open(&d, &key()).is_ok() {
                assert!(
                    f.ends_with(manifest::MAC) && b.eq_ignore_ascii_case(&clean),
                    "{} with byte {i} flipped was accepted",
                    f.display()
                );
            }
        }
        std::fs::write(&f, &clean).unwrap();
    }
    manifest::open(&d, &key()).unwrap();
}

#[test]
fn nothing_unmasked_is_in_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let (snap, src) = dumped(tmp.path());
    let opened = manifest::open(&snap, &key()).unwrap();
    let c = rusqlite::Connection::open(&src).unwrap();
    // Every source value of every column the sync masked with a free-form mask.
    let mut pii = Vec::new();
    for m in &opened.sync.masked {
        let Ok(mut st) = c.prepare(&format!(
            "SELECT DISTINCT CAST(\"{}\" AS TEXT) FROM \"{}\" WHERE \"{0}\" IS NOT NULL",
            m.column, m.table
        )) else {
            continue;
        };
        let vals: Vec<String> = st
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if ["email", "name", "phone"]
            .iter()
            .any(|k| m.column.contains(k))
        {
            pii.extend(vals.into_iter().filter(|v| v.len() >= 6));
        }
    }
    assert!(pii.len() > 50, "{} PII values", pii.len());
    // The profile verify reads on staging's side is scanned with the rows.
    assert!(
        walk(&snap).iter().any(|f| f.ends_with("profile.json")),
        "the snapshot holds a profile"
    );
    let mut bytes = Vec::new();
    for f in walk(&snap) {
        let raw = std::fs::read(&f).unwrap();
        if f.extension().is_some_and(|e| e == "gz") {
            let mut d = flate2::read::GzDecoder::new(&raw[..]);
            std::io::Read::read_to_end(&mut d, &mut bytes).unwrap();
        } else {
            bytes.extend_from_slice(&raw);
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    for v in &pii {
        assert!(
            !text.contains(v.as_str()),
            "source value {v:?} is in the snapshot"
        );
    }
}

#[test]
fn a_tar_stream_round_trips_and_a_cut_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (snap, _) = dumped(tmp.path());
    let mut tar = Vec::new();
    tarball::pack(&snap, &mut tar).unwrap();
    let back = tmp.path().join("back");
    std::fs::create_dir(&back).unwrap();
    tarball::unpack(&tar[..], &back).unwrap();
    manifest::open(&back, &key()).unwrap();
    // A stream cut inside its files never gives an accepted snapshot (the last 1,024 bytes are
    // the end-of-archive blocks: without them every file is still whole).
    for cut in [10, tar.len() / 3, tar.len() / 2, tar.len() - 1100] {
        let d = tmp.path().join(format!("cut{cut}"));
        std::fs::create_dir(&d).unwrap();
        if tarball::unpack(&tar[..cut], &d).is_ok() {
            assert!(manifest::open(&d, &key()).is_err(), "cut at {cut} accepted");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_tar_streams_never_panic(b in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let tmp = tempfile::tempdir().unwrap();
        if tarball::unpack(&b[..], tmp.path()).is_ok() {
            let _ = manifest::open(tmp.path(), &key());
        }
    }

    #[test]
    fn random_snapshot_files_never_panic(
        manifest_bytes in proptest::collection::vec(any::<u8>(), 0..512),
        mac in "[0-9a-f]{0,70}",
    ) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(manifest::MANIFEST), &manifest_bytes).unwrap();
        std::fs::write(tmp.path().join(manifest::MAC), mac).unwrap();
        prop_assert!(manifest::open(tmp.path(), &key()).is_err());
    }
}
