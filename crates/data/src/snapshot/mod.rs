//! Masked snapshots for networks that never meet: `prodlike data dump` writes on production's
//! side what `prodlike data sync` would load (the same plan, masks and binary COPY bytes), into
//! a directory or a tar stream; `prodlike data restore` loads it on staging's side with the
//! sync's atomic swap, after checking that the snapshot is whole and authentic.
//!
//! A snapshot directory (format `prodlike.snapshot/4`; `/1` to `/3` are read too):
//! - `manifest.json`: format, source identity, namespace, key fingerprints, rules digest, every
//!   file's length and BLAKE3, every table's rows (`manifest.rs`);
//! - `manifest.mac`: keyed BLAKE3 of `manifest.json` under the snapshot key (`key.rs`);
//! - `schema.json`: the data model and the source's catalog (views, functions, triggers…);
//! - `sync.json`: the sync report of the rows (selection, masks, detections, not copied);
//! - `leaks.json`: keyed row hashes of masked columns' source values (`leaks.rs`);
//! - `profile.json`: the source's side of verify, no masked column's values
//!   (`verify/stored.rs`), which `data verify --snapshot` compares a restored target with;
//! - `tables/NNNN.copy.lz4` (or `.copy.gz`, `.copy`): each table's binary COPY stream, compressed
//!   as the manifest's `compression` says (`codec.rs`, written by `sink.rs`).
//!
//! `dump.rs` writes it, `restore.rs` reads it (`stream_leaks.rs`: its leak check on the rows as
//! they load), `tarball.rs` streams it.

pub mod codec;
pub mod dump;
pub mod key;
pub mod leaks;
pub mod manifest;
pub mod restore;
pub mod sink;
pub mod stream_leaks;
pub mod tarball;

/// Tables a restore loads, or a dump reads, at once when `--jobs` is not given: 4, or, when
/// PostgreSQL runs on this machine (a Unix socket or a loopback address), its cores, from 2
/// to 4. A restore's work is PostgreSQL's own (COPY, index builds, key checks), so loads
/// beyond the cores only contend: on the 2-core bench machine, 2 at once restored the bench
/// database in 1.27 s where 4 took 1.38 s (mean of 4 each, alternated; 3 took 1.29 s, 1 took
/// 1.88 s). A dump's reads share the cores with the server's COPY and the masking: 2 at once
/// dumped it in 1.81 s where 4 took 1.85 s (22 alternated pairs, 2 faster in 15), and on a
/// database host fewer reads at once spare production too. A remote server's cores are not
/// this machine's, so there the default stays 4.
pub fn default_jobs(conn: &str) -> usize {
    const REMOTE: usize = 4;
    let Ok(config) = conn.parse::<tokio_postgres::Config>() else {
        return REMOTE;
    };
    let local = !config.get_hosts().is_empty()
        && config.get_hosts().iter().all(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => true,
        });
    if !local {
        return REMOTE;
    }
    std::thread::available_parallelism()
        .map_or(REMOTE, std::num::NonZeroUsize::get)
        .clamp(2, REMOTE)
}
