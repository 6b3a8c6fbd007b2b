//! `prodlike data verify --snapshot DIR --target URL`: verify where the source cannot be
//! reached. The source's side comes from the snapshot the target was restored from: its schema
//! and catalog, its manifest's row counts, the profile the dump stored (`stored.rs`) and the
//! keyed hashes of masked values (`snapshot/leaks.rs`). The snapshot is checked whole and
//! authentic first (its MAC under the snapshot key, every file's hash), as the restore checks
//! it. The target's side is read as `data verify` reads it, and the verdict is verify's own
//! (`conclude`), with what the snapshot cannot compare named in `snapshot`:
//! - integrity against the snapshot's schema's constraints;
//! - row counts: the target's against the manifest's (what the dump wrote) and the source's;
//! - fidelity per non-key column against the stored summaries, the target read through the
//!   same sample size; masked numbers through their coarsened percentiles
//!   (`distribution_coarsened`), the target's numbers made coarse alike; columns of types the
//!   dump does not decode by their NULLs only (`distribution_not_compared`);
//! - fan-out per foreign key against the stored histograms;
//! - leaks: the target's rows against the keyed hashes of their own source row's values;
//! - schema against the snapshot's catalog, grants aside (`NOT_COMPARED_SNAPSHOT`).

use std::collections::HashMap;
use std::path::PathBuf;

use prodlike_results::data::verify::VerifiedSnapshot;

use crate::error::{DataError, Result};
use crate::schema::{Kind, Table};
use crate::snapshot::key::SnapshotKey;
use crate::snapshot::manifest::{self, Opened};
use crate::snapshot::restore::{self as restore, RestoreLeak};
use crate::source::Source;
use crate::target::copy_columns;
use crate::url::DbUrl;

use super::fanout::{self, Side as FanOutSide};
use super::schema::{self, Declared};
use super::stored::StoredProfile;
use super::{
    ColumnFidelity, Expected, LeakCheck, LeakColumn, Measured, Side, Tolerances, VerifyReport,
    conclude, fidelity, integrity, row_count, scan_stats,
};

/// Settings of a verify against a snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotVerifyOptions {
    pub snapshot: PathBuf,
    /// Shown in the report.
    pub shown: String,
    /// A PostgreSQL target the snapshot was restored into.
    pub target: DbUrl,
    /// Exit 1 below this score.
    pub min_score: f64,
    pub max_ks: f64,
    pub max_tvd: f64,
}

/// Verifies `opts.target` against the snapshot it was restored from.
pub async fn verify_snapshot(
    opts: &SnapshotVerifyOptions,
    key: &SnapshotKey,
) -> Result<VerifyReport> {
    let DbUrl::Postgres { conn, shown } = &opts.target else {
        return Err(DataError::Invalid(
            "--target: a snapshot restores into PostgreSQL only, so verify --snapshot reads PostgreSQL only".into(),
        ));
    };
    let snap = restore::check(opts.snapshot.clone(), key).await?;
    let profile = manifest::read_profile(&snap)?.ok_or_else(|| DataError::Snapshot {
        path: opts.shown.clone(),
        reason: format!(
            "format {} holds no source profile (from prodlike.snapshot/4 on, `data dump` stores one); verify it against its source, or dump it again",
            snap.manifest.format
        ),
    })?;
    let m = &snap.manifest;
    let schema = &snap.schema.schema;
    let target = Source::open(&opts.target, &m.namespace).await?;
    let tschema = target.schema().await?;
    let tables: Vec<&Table> = schema.tables.iter().collect();
    for t in &tables {
        tschema.require_table(&t.name, &target.shown())?;
    }
    let integrity = integrity::check(&target, schema, &tschema).await?;
    let declared: Declared = snap
        .sync
        .not_copied
        .iter()
        .map(|n| (n.kind.clone(), n.name.clone()))
        .collect();
    let schema_differences = match &snap.schema.catalog {
        Some(cat) => schema::against_catalog(cat, &target, &declared).await?,
        None => Vec::new(),
    };

    let written: HashMap<String, u64> =
        m.tables.iter().map(|t| (t.table.clone(), t.rows)).collect();
    let source_rows: HashMap<String, u64> = profile
        .tables
        .iter()
        .map(|t| (t.table.clone(), t.rows))
        .collect();
    let expected = Expected::Rows(written);
    let mut row_counts = Vec::with_capacity(tables.len());
    let mut target_rows = HashMap::new();
    for t in &tables {
        let g = target.count(&t.name).await?;
        target_rows.insert(t.name.clone(), g);
        let s = source_rows.get(&t.name).copied().unwrap_or(0);
        row_counts.push(row_count(&t.name, s, g, &expected));
    }

    let tol = Tolerances {
        max_ks: opts.max_ks,
        max_tvd: opts.max_tvd,
    };
    let (columns, skipped_keys, coarsened, not_compared) =
        columns(&target, &tables, &profile, &target_rows, tol).await?;
    let fan_out = fan_out(&target, &tables, &profile, &target_rows).await?;
    let leaks = restore::leak_check(conn, shown, &m.namespace, &snap.leaks.columns, key).await?;
    let leaks = leak_report(&snap, &leaks);
    let basis = VerifiedSnapshot {
        snapshot: opts.shown.clone(),
        created: m.created.clone(),
        profile_rows: profile.max_rows,
        distribution_coarsened: coarsened,
        distribution_not_compared: not_compared,
        leak_not_checked: snap.leaks.published_not_checked(),
        schema_not_compared: if snap.schema.catalog.is_some() {
            schema::NOT_COMPARED_SNAPSHOT.to_owned()
        } else {
            "everything: the snapshot holds no catalog of its source".to_owned()
        },
    };
    Ok(conclude(
        Measured {
            source: format!(
                "{} (snapshot {}, dumped {})",
                m.source, opts.shown, m.created
            ),
            target: target.shown(),
            integrity,
            row_counts,
            columns,
            fan_out,
            skipped_keys,
            leaks,
            schema_differences,
            schema_checked: if snap.schema.catalog.is_some() {
                schema::CHECKED_SNAPSHOT.to_owned()
            } else {
                String::new()
            },
            snapshot: Some(basis),
        },
        opts.min_score,
        tol,
    ))
}

type Columns = (Vec<ColumnFidelity>, Vec<String>, Vec<String>, Vec<String>);

/// Every non-key column of the target against its stored summary; the key columns left out;
/// the masked numeric columns compared through coarsened percentiles; the unmasked columns
/// compared by their NULLs only (types the dump does not decode).
async fn columns(
    target: &Source,
    tables: &[&Table],
    profile: &StoredProfile,
    target_rows: &HashMap<String, u64>,
    tol: Tolerances,
) -> Result<Columns> {
    let (mut out, mut skipped, mut coarsened, mut not_compared) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in tables {
        let cols = copy_columns(t);
        let Some(stored) = profile.tables.iter().find(|s| s.table == t.name) else {
            return Err(DataError::Invalid(format!(
                "the snapshot's profile lacks table {} of its schema",
                t.name
            )));
        };
        let rows = target_rows.get(&t.name).copied().unwrap_or(0);
        let stats = scan_stats(
            target,
            t,
            &cols,
            Some(profile.max_rows),
            rows,
            None,
            Side::Target,
        )
        .await?;
        for (c, st) in cols.iter().zip(&stats) {
            if t.is_key_column(c) || t.is_unique_member(c) {
                skipped.push(format!("{}.{c}", t.name));
                continue;
            }
            let Some(s) = stored.columns.iter().find(|s| &s.column == c) else {
                return Err(DataError::Invalid(format!(
                    "the snapshot's profile lacks column {}.{c}",
                    t.name
                )));
            };
            let undecoded = t.column(c).filter(|col| col.kind == Kind::Other);
            let g = if s.coarse {
                coarsened.push(format!("{}.{c}", t.name));
                st.summary(true).with_coarse_numbers()
            } else if let Some(col) = undecoded.filter(|_| !s.masked) {
                not_compared.push(format!(
                    "{}.{c}: type {} is not decoded by the dump, so its profile holds the share of NULLs only",
                    t.name, col.sql_type
                ));
                st.summary(false)
            } else {
                st.summary(!s.masked && st.kind != Kind::Json)
            };
            out.push(fidelity(tol, &t.name, c, s.masked, &s.summary, &g));
        }
    }
    Ok((out, skipped, coarsened, not_compared))
}

/// Every foreign key's fan-out in the target against the stored source's.
async fn fan_out(
    target: &Source,
    tables: &[&Table],
    profile: &StoredProfile,
    target_rows: &HashMap<String, u64>,
) -> Result<Vec<super::FanOutCheck>> {
    let mut out = Vec::new();
    for t in tables {
        for fk in &t.foreign_keys {
            let Some(stored) = profile
                .fan_out
                .iter()
                .find(|f| f.child == t.name && f.columns == fk.columns && f.parent == fk.ref_table)
            else {
                return Err(DataError::Invalid(format!(
                    "the snapshot's profile lacks the fan-out of {}({}) → {}",
                    t.name,
                    fk.columns.join(", "),
                    fk.ref_table
                )));
            };
            let g = FanOutSide::measure(target, t, fk, target_rows).await?;
            out.push(fanout::compare(
                t,
                fk,
                &stored.side(),
                &g,
                stored.not_compared.clone(),
            ));
        }
    }
    Ok(out)
}

/// The restore's leak check as verify's: one entry per checked column, every row still
/// holding its own source row's value counted as leaked.
fn leak_report(snap: &Opened, leaks: &[RestoreLeak]) -> LeakCheck {
    let columns: Vec<LeakColumn> = leaks
        .iter()
        .map(|l| {
            let masked = snap
                .sync
                .masked
                .iter()
                .find(|m| m.table == l.table && m.column == l.column);
            let hashes = snap
                .leaks
                .columns
                .iter()
                .find(|c| c.table == l.table && c.column == l.column)
                .map_or(0, |c| c.hashes.len() as u64);
            LeakColumn {
                table: l.table.clone(),
                column: l.column.clone(),
                class: "identifying".into(),
                transform: masked.map_or_else(String::new, |m| m.transform.clone()),
                source_values: hashes,
                target_hits: l.leaked_rows,
                compared_rows: Some(l.rows_checked),
                unchanged_rows: Some(l.leaked_rows),
                expected_unchanged: None,
                chance_matches: 0,
                leaked: l.leaked_rows,
            }
        })
        .collect();
    let leaked_values = columns.iter().map(|c| c.leaked).sum();
    LeakCheck {
        columns,
        cross_column: Vec::new(),
        kept_raw: snap.sync.kept_raw.clone(),
        leaked_values,
        truncated: false,
        row_leaks: Some(leaked_values),
        class_matches: None,
    }
}
