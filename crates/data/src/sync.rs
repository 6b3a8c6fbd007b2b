//! `prodlike data sync`: plan the subset, mask on the way, stream with COPY, load atomically.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prodlike_mask::Masker;
use tokio::sync::Semaphore;

use crate::error::{DataError, Result};
use crate::identity;
use crate::maskplan::{self, BoundMasks};
use crate::memo::MaskMemo;
use crate::pg::objects::NotCopied;
use crate::plan::{self, PlanOptions, RowFilter, SubsetPlan};
use crate::progress::Progress;
use crate::published;
use crate::row::{Batch, Field};
use crate::rules::Rules;
use crate::schema::{Schema, Table};
use crate::snapshot::leaks::{LeakHashes, LeakRecorder};
use crate::verify::stored::{RecordedTable, TableRecorder};

/// The dump's leak hashes, filled by the copy tasks.
type LeakShared = Arc<std::sync::Mutex<LeakHashes>>;
use crate::source::{Scan, Source};
use crate::target::{Target, copy_columns};
use crate::url::DbUrl;

/// Settings of one sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub source: DbUrl,
    pub target: DbUrl,
    pub rules: Rules,
    /// Where the rules came from, for error messages.
    pub rules_file: String,
    /// Share of root rows kept (`--sample`); overrides `defaults.sample`.
    pub sample: Option<f64>,
    pub seed: Option<u64>,
    pub strict: bool,
    /// Tables copied at once.
    pub jobs: usize,
    /// PostgreSQL schema read and replaced (`public`).
    pub namespace: String,
    /// Keep the previous contents as `prodlike_old_<id>` (PostgreSQL).
    pub keep_previous: bool,
    /// Read at most this many rows per second per table (protects the source).
    pub max_rows_per_sec: Option<u64>,
    pub progress: bool,
    /// Plan, detect and report, but write nothing.
    pub dry_run: bool,
    /// Testing: fail after this many rows were written (proves atomicity).
    pub fail_after_rows: Option<u64>,
}

impl SyncOptions {
    /// Checks every setting that needs no database, naming the flag; `sync` calls it first, the
    /// CLI before it connects to anything.
    pub fn validate(&self) -> Result<()> {
        if let Some(f) = self.sample {
            check_fraction(f)?;
        }
        if self.jobs == 0 {
            return Err(DataError::Invalid(
                "--jobs 0: copy at least 1 table at a time (default 4)".into(),
            ));
        }
        if self.namespace.trim().is_empty() {
            return Err(DataError::Invalid(
                "--schema is empty: name the PostgreSQL schema to copy, e.g. public".into(),
            ));
        }
        Ok(())
    }
}

fn check_fraction(f: f64) -> Result<()> {
    if f > 0.0 && f <= 1.0 {
        Ok(())
    } else {
        Err(DataError::Invalid(format!(
            "--sample {f}: use a share in (0, 1], e.g. 0.1"
        )))
    }
}

// The report is the published result (prodlike.data.sync/1), shared with its readers.
pub use prodlike_results::data::sync::{SyncReport, TableCopy};

/// Runs a sync. `key` is called only when some column is masked.
pub async fn sync(opts: &SyncOptions, key: impl FnOnce() -> Result<Masker>) -> Result<SyncReport> {
    run(opts, key, None).await.map(|(r, _)| r)
}

/// Where a dump's rows go instead of a target database (`snapshot/dump.rs`).
pub(crate) struct SnapshotDest {
    /// The partial directory the table files are written into.
    pub dir: std::path::PathBuf,
    /// Keys the leak check's hashes.
    pub key: crate::snapshot::key::SnapshotKey,
    /// How the table files are compressed.
    pub compression: crate::snapshot::codec::Compression,
}

/// A full dump's profile as its copy tasks record it: which copied columns of each table the
/// plan masks (what the profile may keep of them), and the recorded tables.
struct ProfileShared {
    masked: HashMap<String, Vec<bool>>,
    recorded: std::sync::Mutex<Vec<RecordedTable>>,
}

/// What a dump needs besides the report to write its manifest.
pub(crate) struct Dumped {
    pub schema: Schema,
    pub catalog: Option<prodlike_catalog::Catalog>,
    pub written: Vec<(
        crate::snapshot::manifest::TableEntry,
        crate::snapshot::manifest::FileEntry,
    )>,
    pub leaks: crate::snapshot::leaks::LeakHashes,
    /// The source's side of verify (`verify/stored.rs`).
    pub profile: crate::verify::stored::StoredProfile,
}

/// A sync into a database (`snapshot` is `None`) or into a snapshot's directory: the same
/// plan, masks and copy loop, so a snapshot holds the very rows a sync would write.
// Long: a sync's steps in order (identity, validation, plan, copy, finish or abort); a split is noted in issue 11.
#[allow(clippy::too_many_lines)]
pub(crate) async fn run(
    opts: &SyncOptions,
    key: impl FnOnce() -> Result<Masker>,
    snapshot: Option<&SnapshotDest>,
) -> Result<(SyncReport, Option<Dumped>)> {
    let started = Instant::now();
    opts.validate()?;
    let fraction = opts.sample.or(opts.rules.defaults.sample).unwrap_or(1.0);
    check_fraction(fraction)?;
    // Before anything else touches either database: a target that is the source (however its
    // URL is spelt) would be overwritten with masked rows. (A snapshot's restore checks its
    // target against the identity the manifest records.)
    if snapshot.is_none() {
        identity::ensure_target_is_not_source(&opts.source, &opts.target).await?;
    }
    check_engines(&opts.source, &opts.target, snapshot.is_some())?;
    let source = Source::open(&opts.source, &opts.namespace).await?;
    // Views, functions, triggers, comments, extensions: planned from the whole catalog, read
    // once with the tables.
    let (schema, catalog) = source.schema_and_pg_catalog().await?;
    if schema.tables.is_empty() {
        return Err(DataError::Invalid(format!(
            "{} has no tables to copy",
            source.shown()
        )));
    }
    opts.rules
        .validate(&schema, &opts.rules_file, &source.shown())?;
    // MySQL's views, triggers and routines, made in the target after its swap.
    let mysql_catalog = source.mysql_catalog().await?;
    if let Some(cat) = &catalog
        && snapshot.is_none()
    {
        crate::pg::objects::refuse_unswappable(cat, &opts.target, &opts.namespace).await?;
    }
    for (t, r) in &opts.rules.tables {
        if let Some(w) = &r.where_ {
            source
                .check_expression(t, w)
                .await
                .map_err(|e| DataError::RuleRefused {
                    file: opts.rules_file.clone(),
                    field: format!("tables.{t}.where"),
                    source: Box::new(e),
                })?;
        }
    }
    let (mapped_grants, grants_not_copied) = match snapshot {
        None => check_grants(opts, &source).await?,
        Some(_) => refuse_grants_map(opts)?,
    };
    let tables: Vec<&Table> = schema.tables.iter().collect();
    let needs_plan = fraction < 1.0
        || opts
            .rules
            .tables
            .values()
            .any(|r| r.sample.is_some() || r.where_.is_some() || r.rows.is_some());
    // A full copy reads every row of one snapshot: its row counts are the rows it writes.
    let mut counts = HashMap::new();
    if needs_plan {
        for t in &tables {
            counts.insert(t.name.clone(), source.count(&t.name).await?);
        }
    }
    let detections = maskplan::detect(&source, &tables).await?;
    let strict = opts.strict || opts.rules.defaults.strict;
    let mplan = maskplan::plan(
        &schema,
        &tables,
        &opts.rules,
        &detections,
        strict,
        &opts.rules_file,
    )?;
    let (bound, fingerprint) = if mplan.is_empty() {
        (None, None)
    } else {
        let masker = key()?;
        let fp = masker.key_fingerprint().to_owned();
        (Some(mplan.bind(&masker)?), Some(fp))
    };
    let seed = opts.seed.or(opts.rules.defaults.seed).unwrap_or(0);
    let popts = PlanOptions {
        fraction,
        seed,
        rare_max_distinct: opts.rules.defaults.rare_max_distinct,
        lookup_max_rows: opts.rules.defaults.lookup_max_rows,
    };
    let subset = if needs_plan {
        Some(plan::build(&source, &schema, &opts.rules, &popts, &counts).await?)
    } else {
        None
    };
    let selection = match &subset {
        Some(p) => p.selections().iter().map(published::selection).collect(),
        None => tables
            .iter()
            .map(|t| {
                let n = counts.get(&t.name).copied().unwrap_or(0);
                prodlike_results::data::sync::TableSelection {
                    table: t.name.clone(),
                    mode_json: serde_json::json!({"mode": "all"}),
                    source_rows: n,
                    selected_rows: n,
                    intended_fraction: 1.0,
                    actual_fraction: if n == 0 { 0.0 } else { 1.0 },
                    oversampling: Some(1.0),
                    ..Default::default()
                }
            })
            .collect(),
    };
    // A SQLite source's views are not copied (its catalog has no more than views to lose).
    let sqlite_views: Vec<crate::pg::objects::NotCopied> = source
        .sqlite_views()
        .await?
        .into_iter()
        .map(|name| crate::pg::objects::NotCopied {
            kind: "view".into(),
            name,
            reason: "views of a SQLite source are not copied".into(),
        })
        .collect();
    let mut report = SyncReport {
        source: source.shown(),
        target: opts.target.shown(),
        sample: fraction,
        seed,
        dry_run: opts.dry_run,
        tables: vec![],
        selection,
        masked: mplan.report.iter().map(published::masked).collect(),
        detected: detections
            .columns
            .iter()
            .map(published::detected_column)
            .collect(),
        detected_json: detections
            .json
            .iter()
            .map(published::detected_json)
            .collect(),
        vetoed: detections
            .vetoed
            .iter()
            .map(published::vetoed_column)
            .collect(),
        kept_raw: mplan.kept_raw.clone(),
        key_fingerprint: fingerprint,
        total_rows: 0,
        seconds: 0.0,
        rows_per_sec: 0.0,
        not_copied: sqlite_views,
        recreated_after_swap: Vec::new(),
    };
    report.not_copied.extend(grants_not_copied);
    if opts.dry_run {
        // The whole DDL runs on the target in a transaction that is rolled back.
        let lost = match (&opts.target, &catalog) {
            (DbUrl::Postgres { conn, shown }, _) => {
                crate::pg::rehearse::rehearse(
                    conn,
                    shown,
                    &schema,
                    &tables,
                    catalog.as_ref(),
                    &opts.rules.grants.map,
                )
                .await?
            }
            (DbUrl::Sqlite { .. }, Some(cat)) => {
                let mut lost = crate::pg::objects::static_not_copied(cat, &schema, &tables);
                lost.extend(crate::pg::objects::not_copied_to_sqlite(cat));
                lost
            }
            (DbUrl::Sqlite { .. }, None) => Vec::new(),
            // The staging database and its tables are made, then dropped: the DDL is rehearsed.
            (DbUrl::Mysql(_), _) => {
                let target = Target::prepare(
                    &opts.target,
                    &schema,
                    &tables,
                    &opts.namespace,
                    opts.jobs,
                    opts.keep_previous,
                )
                .await?;
                target.abort().await;
                Vec::new()
            }
        };
        report.not_copied.extend(lost);
        report.seconds = started.elapsed().as_secs_f64();
        return Ok((report, None));
    }

    tracing::debug!(
        "schema, detection and plan in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    let copy_started = Instant::now();
    let mut leaks = crate::snapshot::leaks::LeakHashes::default();
    let mut target = match snapshot {
        None => {
            Target::prepare(
                &opts.target,
                &schema,
                &tables,
                &opts.namespace,
                opts.jobs,
                opts.keep_previous,
            )
            .await?
        }
        Some(dest) => {
            let sink = crate::snapshot::sink::SnapshotSink::new(
                &dest.dir,
                &schema,
                &tables,
                dest.compression,
            )?;
            leaks =
                crate::snapshot::leaks::LeakHashes::plan(&schema, bound.as_ref(), source.engine());
            Target::snapshot(sink, opts.jobs)
        }
    };
    let written = target.snapshot_written();
    let leaks = Arc::new(std::sync::Mutex::new(leaks));
    target.grant_in_swap(mapped_grants);
    target.recreate_after_swap(mysql_catalog);
    match target
        .add_objects(catalog.as_ref(), &schema, &tables, &opts.rules.grants.map)
        .await
    {
        Ok(lost) => report.not_copied.extend(lost),
        Err(e) => {
            target.abort().await;
            return Err(e);
        }
    }
    // A full dump takes the source's profile from the rows it copies (`verify/stored.rs`).
    let profiles: Option<Arc<ProfileShared>> = (snapshot.is_some() && !needs_plan).then(|| {
        Arc::new(ProfileShared {
            masked: schema
                .tables
                .iter()
                .map(|t| {
                    let cols = copy_columns(t);
                    (
                        t.name.clone(),
                        crate::verify::stored::masked_columns(&mplan, t, &cols),
                    )
                })
                .collect(),
            recorded: std::sync::Mutex::new(Vec::new()),
        })
    });
    let target = Arc::new(target);
    let copied = copy_all(
        opts,
        &source,
        &schema,
        &target,
        subset.as_ref(),
        bound.as_ref(),
        &counts,
        snapshot.map(|d| (&leaks, &d.key)),
        profiles.as_ref(),
    )
    .await;
    let target = Arc::try_unwrap(target).map_err(|_| DataError::Outlived {
        what: "a copy task",
    })?;
    let copied = match copied {
        Ok(c) => c,
        Err(e) => {
            let mut target = target;
            let e = target.writer_error().unwrap_or(e);
            target.abort().await;
            return Err(e);
        }
    };
    tracing::debug!(
        "rows copied in {:.2}s",
        copy_started.elapsed().as_secs_f64()
    );
    // A dump stores the source's side of verify, so that staging can verify without it.
    let profile = match snapshot {
        Some(_) => {
            let written_rows: HashMap<String, u64> =
                copied.iter().map(|c| (c.table.clone(), c.rows)).collect();
            let source_rows = if needs_plan {
                counts.clone()
            } else {
                written_rows.clone()
            };
            let facts = crate::verify::stored::DumpFacts {
                schema: &schema,
                mplan: &mplan,
                rules: &opts.rules,
                source_rows: &source_rows,
                written_rows: &written_rows,
            };
            let profile = match profiles {
                Some(p) => crate::verify::stored::from_recorded(
                    &facts,
                    std::mem::take(
                        &mut *p
                            .recorded
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner),
                    ),
                ),
                None => crate::verify::stored::collect(&source, &facts).await,
            };
            match profile {
                Ok(p) => Some(p),
                Err(e) => {
                    target.abort().await;
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let (lost, recreated) = target.finish_with_recreated().await?;
    report.not_copied.extend(lost);
    report.recreated_after_swap = recreated;
    let dumped = match (snapshot, written, profile) {
        (Some(_), Some(w), Some(profile)) => Some(Dumped {
            profile,
            schema: schema.clone(),
            catalog: catalog.clone(),
            written: std::mem::take(
                &mut *w.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            ),
            leaks: std::mem::take(
                &mut *leaks
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            ),
        }),
        _ => None,
    };
    if !needs_plan {
        for s in &mut report.selection {
            let rows = copied
                .iter()
                .find(|c| c.table == s.table)
                .map_or(0, |c| c.rows);
            s.source_rows = rows;
            s.selected_rows = rows;
            s.actual_fraction = if rows == 0 { 0.0 } else { 1.0 };
        }
    }
    let mut copied = copied;
    if !needs_plan {
        for c in &mut copied {
            c.source_rows = c.rows;
        }
    }
    report.total_rows = copied.iter().map(|c| c.rows).sum();
    report.tables = copied;
    report.seconds = started.elapsed().as_secs_f64();
    report.rows_per_sec = report.total_rows as f64 / report.seconds.max(1e-9);
    Ok((report, dumped))
}

/// MySQL copies to MySQL only, for now: refused before anything is read or written.
fn check_engines(source: &DbUrl, target: &DbUrl, dump: bool) -> Result<()> {
    let what = match (source.is_mysql(), target.is_mysql(), dump) {
        (true, _, true) => "`prodlike data dump` of a MySQL source",
        (true, false, false) => "copying from MySQL into another engine",
        (false, true, _) => "copying into MySQL from another engine",
        _ => return Ok(()),
    };
    Err(DataError::MysqlUnsupported {
        what: format!("{what} (MySQL to MySQL only)"),
    })
}

/// A dump has no target to map grants onto: a `[grants] map` rule is refused rather than
/// silently dropped. The target's own grants are kept by the restore's swap.
fn refuse_grants_map(
    opts: &SyncOptions,
) -> Result<(Vec<crate::pg::grants::MappedGrant>, Vec<NotCopied>)> {
    match opts.rules.grants.map.keys().next() {
        Some(first) => Err(DataError::Rules {
            file: opts.rules_file.clone(),
            field: format!("grants.map.{first}"),
            reason: "`prodlike data dump` does not apply a grants map yet (the restore keeps the target's own grants); remove it from the rules given to dump".into(),
        }),
        None => Ok((Vec::new(), Vec::new())),
    }
}

/// The `[grants] map` rule, checked before anything is written (both databases PostgreSQL,
/// every target role present), and the source's privileges: returns the grants the rule gives
/// staging roles, and one `grants` entry per role (or PUBLIC) whose source privileges the target
/// will hold neither through the rule nor by its own grants.
async fn check_grants(
    opts: &SyncOptions,
    source: &Source,
) -> Result<(Vec<crate::pg::grants::MappedGrant>, Vec<NotCopied>)> {
    use crate::pg::grants;
    let map = &opts.rules.grants.map;
    let refuse = |field: String, reason: String| DataError::Rules {
        file: opts.rules_file.clone(),
        field,
        reason,
    };
    if let Some(first) = map.keys().next() {
        if !matches!(opts.target, DbUrl::Postgres { .. }) {
            return Err(refuse(
                format!("grants.map.{first}"),
                "grants are PostgreSQL's; the target is not a PostgreSQL database".into(),
            ));
        }
        if source.engine() != "postgres" {
            return Err(refuse(
                format!("grants.map.{first}"),
                "grants are PostgreSQL's; the source is not a PostgreSQL database".into(),
            ));
        }
    }
    let Some(held) = source.privileges().await? else {
        return Ok((Vec::new(), Vec::new()));
    };
    let ns = opts.namespace.as_str();
    let (target_held, roles) = match &opts.target {
        DbUrl::Postgres { conn, shown } => {
            let admin = crate::pg::connect(conn, shown).await?;
            let roles: Vec<&str> = map.values().map(String::as_str).collect();
            let missing = grants::missing_roles(&admin, &roles).await?;
            if let Some((from, to)) = map.iter().find(|(_, to)| missing.contains(to)) {
                return Err(refuse(
                    format!("grants.map.{from}"),
                    format!("role `{to}` does not exist in {shown}; create it or fix the name"),
                ));
            }
            (grants::privileges(&admin, ns).await?, true)
        }
        DbUrl::Sqlite { .. } | DbUrl::Mysql(_) => (Vec::new(), false),
    };
    let gaps = grants::gaps(&held, &target_held, map);
    let lost = gaps
        .unmapped_missing
        .iter()
        .map(|(grantee, missing)| grants::unmapped_not_copied(ns, grantee, missing, roles))
        .collect();
    Ok((grants::mapped(&held, ns, map), lost))
}

/// Tables below this size (bytes) are copied before the others.
const SMALL_TABLE: u64 = 1 << 20;

/// The order tables are copied or loaded in: those under [`SMALL_TABLE`] first, then the
/// longest first, so the last to finish is a short one. Small tables take milliseconds, and
/// they are mostly lookup tables other tables' foreign keys point at: last, they held back
/// those keys' checks until every large table had loaded, the load's tail (a restore of the
/// bench database checked `order_items.product_id` after `products` loaded at its very end).
pub(crate) fn copy_order<T>(mut items: Vec<T>, cost: impl Fn(&T) -> u64) -> Vec<T> {
    items.sort_by_key(|t| {
        let c = cost(t);
        (c >= SMALL_TABLE, std::cmp::Reverse(c))
    });
    items
}

/// Copies every table, each in its own task (so masking runs on every core), at most
/// `jobs` at once, small tables first, then the largest first.
// Long: the copy pool (permits, cost order, first error); a split is noted in issue 11. Its
// arguments are the sync's parts each task needs (a dump adds the leak hashes).
#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
async fn copy_all(
    opts: &SyncOptions,
    source: &Source,
    schema: &Schema,
    target: &Arc<Target>,
    subset: Option<&SubsetPlan>,
    masks: Option<&BoundMasks>,
    counts: &HashMap<String, u64>,
    leaks: Option<(&LeakShared, &crate::snapshot::key::SnapshotKey)>,
    profiles: Option<&Arc<ProfileShared>>,
) -> Result<Vec<TableCopy>> {
    let progress = Progress::new(opts.progress);
    let jobs = if target.loads_in_parallel() {
        opts.jobs.max(1)
    } else {
        opts.jobs.clamp(1, 2)
    };
    let sem = Arc::new(Semaphore::new(jobs));
    let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Longest copies first, so the last to finish is a short one: size (the catalog's bytes of
    // the table and its indexes, else counted rows), a quarter more per masked column (up to
    // four) for the masking CPU. The database's side (COPY, indexes, key checks) dominates,
    // hence the light weight.
    let sizes = source.estimated_bytes().await.unwrap_or_default();
    let cost = |t: &Table| {
        let base = sizes
            .get(&t.name)
            .or_else(|| counts.get(&t.name))
            .copied()
            .unwrap_or(0);
        let masked = masks
            .and_then(|m| m.tables.get(&t.name))
            .map_or(0, |v| v.len().min(4) as u64);
        base.saturating_mul(4 + masked) / 4
    };
    let order = copy_order(schema.tables.iter().collect(), |t| cost(t));
    let mut set = tokio::task::JoinSet::new();
    // Tasks start in any order; each queues for a permit only after the previous one queued, so
    // permits (FIFO) go out in `order`.
    let mut queued_before: Option<tokio::sync::oneshot::Receiver<()>> = None;
    for t in order {
        let (queued, next_may_queue) = tokio::sync::oneshot::channel::<()>();
        let wait_turn = queued_before.replace(next_may_queue);
        let cols = copy_columns(t);
        let filter = subset
            .map(|p| p.filter(schema, &t.name, &cols))
            .unwrap_or_else(RowFilter::keep_all);
        let expected = subset
            .and_then(|p| p.tables.get(&t.name).map(|x| x.stats.selected_rows))
            .unwrap_or_else(|| counts.get(&t.name).copied().unwrap_or(0));
        let bar = progress.bar(&t.name, expected);
        let recorder = leaks.and_then(|(l, k)| {
            l.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .recorder(&t.name, &cols, k)
        });
        let leaks = leaks.map(|(l, _)| l.clone());
        let profiles = profiles.cloned();
        let profile_masked = profiles
            .as_ref()
            .map(|p| p.masked.get(&t.name).cloned().unwrap_or_default());
        let (sem, written, opts, source, t, target, masks) = (
            sem.clone(),
            written.clone(),
            opts.clone(),
            source.clone(),
            t.clone(),
            target.clone(),
            masks.cloned(),
        );
        let source_rows = counts.get(&t.name).copied().unwrap_or(0);
        set.spawn(async move {
            if let Some(turn) = wait_turn {
                // An error only means the previous task ended; the order no longer matters.
                let _ = turn.await;
            }
            let mut acquire = std::pin::pin!(sem.acquire_owned());
            // One poll puts this task in the semaphore's queue; only then may the next join it.
            let first =
                std::future::poll_fn(|cx| std::task::Poll::Ready(acquire.as_mut().poll(cx))).await;
            let _ = queued.send(());
            let permit = match first {
                std::task::Poll::Ready(p) => p,
                std::task::Poll::Pending => acquire.await,
            };
            let permit = permit.map_err(|source| DataError::PoolClosed {
                what: "copying a table",
                source,
            })?;
            let r = copy_table(
                &opts,
                &source,
                &t,
                &target,
                filter,
                masks.as_ref(),
                &bar,
                &written,
                recorder,
                profile_masked,
            )
            .await;
            // The next table's copy starts while this one's keys and indexes build: a permit
            // held through them left the last tables to start after the others' index builds,
            // the load's tail. The key builds have permits of their own (`Target::table_loaded`).
            drop(permit);
            let r = match r {
                Ok(copied) => target.table_loaded(&t.name).await.map(|()| copied),
                Err(e) => Err(e),
            };
            match &r {
                Ok((c, _, _)) => bar.finish_with_message(format!("{:.1}s", c.seconds)),
                Err(_) => bar.abandon_with_message("failed"),
            }
            r.map(|(mut c, rec, profiled)| {
                if let (Some(l), Some(rec)) = (leaks, rec) {
                    l.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .add(rec);
                }
                if let (Some(p), Some(t)) = (profiles, profiled) {
                    p.recorded
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(t);
                }
                c.source_rows = source_rows;
                c
            })
        });
    }
    let mut out = Vec::new();
    let mut first_err = None;
    while let Some(r) = set.join_next().await {
        match r
            .map_err(|source| DataError::Task {
                what: "a copy task",
                source,
            })
            .and_then(|x| x)
        {
            Ok(c) => out.push(c),
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(e);
                    set.abort_all();
                }
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    out.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(out)
}

// Long: one table's copy (scan, mask, write, count); a split is noted in issue 11.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
async fn copy_table(
    opts: &SyncOptions,
    source: &Source,
    t: &Table,
    target: &Target,
    filter: RowFilter,
    masks: Option<&BoundMasks>,
    bar: &indicatif::ProgressBar,
    written: &std::sync::atomic::AtomicU64,
    mut leak: Option<LeakRecorder>,
    // The profile's recording, with the columns the plan masks (a full dump's).
    profile: Option<Vec<bool>>,
) -> Result<(TableCopy, Option<LeakRecorder>, Option<RecordedTable>)> {
    let started = Instant::now();
    tracing::debug!("{}: copy starts", t.name);
    let cols = copy_columns(t);
    let table_masks: Vec<(usize, &crate::maskplan::ColumnMask)> = masks
        .and_then(|m| m.tables.get(&t.name))
        .map(|v| {
            v.iter()
                .filter_map(|m| cols.iter().position(|c| *c == m.column).map(|i| (i, m)))
                .collect()
        })
        .unwrap_or_default();
    // Byte-level pass-through: a table neither masked nor filtered goes from the source's
    // COPY stream to the target's (or the snapshot's file) as it is, never parsed into rows.
    // Rate limits and injected failures count rows, so they take the row path.
    if table_masks.is_empty()
        && filter.all
        && leak.is_none()
        && target.takes_pg_binary()
        && opts.max_rows_per_sec.is_none()
        && opts.fail_after_rows.is_none()
        && let Some(rx) = source.scan_raw(t, &cols).await?
    {
        let mut rec = profile
            .as_deref()
            .map(|m| TableRecorder::new(t, &cols, TableRecorder::pg_types(t, &cols), m));
        let rows = pass_through(t, target, rx, rec.as_mut()).await?;
        bar.inc(rows);
        written.fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
        let seconds = started.elapsed().as_secs_f64();
        tracing::debug!("{}: {rows} rows passed through in {seconds:.2}s", t.name);
        return Ok((
            TableCopy {
                table: t.name.clone(),
                source_rows: 0,
                rows,
                seconds,
                rows_per_sec: rows as f64 / seconds.max(1e-9),
                masked_columns: Vec::new(),
            },
            None,
            rec.map(TableRecorder::finish),
        ));
    }
    let shuffles: Vec<(usize, u64)> = table_masks
        .iter()
        .filter_map(|(i, m)| m.shuffle.map(|b| (*i, b)))
        .collect();
    let scan = Scan {
        columns: cols.clone(),
        ordered: !shuffles.is_empty(),
        other_as_text: !target.takes_pg_binary(),
        ..Default::default()
    };
    let (types, mut rx) = source.scan(t, &scan).await?;
    let mut rec = profile
        .as_deref()
        .map(|m| TableRecorder::new(t, &cols, types.clone(), m));
    let mut writer = target.writer(&t.name, &types).await?;
    let mut rows = 0u64;
    let mut buf = String::new();
    let block = shuffles
        .iter()
        .map(|(_, b)| *b)
        .min()
        .unwrap_or(0)
        .clamp(1, 1_000_000) as usize;
    // Repeated values are masked once per table copy (see memo.rs); shuffled columns are not
    // masked row by row.
    let mut memos: Vec<MaskMemo> = table_masks
        .iter()
        .map(|(_, m)| MaskMemo::new(m.shuffle.is_none()))
        .collect();
    let mut pending: Batch = Vec::new();
    let mut block_no = 0u64;
    let tick = Instant::now();
    while let Some(batch) = rx.recv().await {
        // Rows are filtered and masked in the received batch, not moved into a new one.
        let mut out: Batch = batch?;
        if !filter.all {
            out.retain(|row| filter.keep(row, &types));
        }
        for row in &mut out {
            if let Some(l) = &mut leak {
                l.record(row);
            }
            if let Some(r) = &mut rec {
                r.record(row);
            }
            for ((i, m), memo) in table_masks.iter().zip(&mut memos) {
                if m.shuffle.is_some() {
                    continue;
                }
                let f = std::mem::replace(&mut row[*i], Field::Null);
                row[*i] = match memo.get(&f) {
                    Some(masked) => masked,
                    None => {
                        let masked = m.apply(&f, types[*i], &mut buf)?;
                        memo.put(&f, &masked);
                        masked
                    }
                };
            }
        }
        let n = out.len() as u64;
        if shuffles.is_empty() {
            writer.write(out).await?;
        } else {
            pending.extend(out);
            while pending.len() >= block {
                let rest = pending.split_off(block);
                let mut full = std::mem::replace(&mut pending, rest);
                shuffle_block(masks, &t.name, &cols, &shuffles, block_no, &mut full);
                block_no += 1;
                writer.write(full).await?;
            }
        }
        rows += n;
        bar.inc(n);
        let total = written.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        if let Some(limit) = opts.fail_after_rows
            && total >= limit
        {
            return Err(DataError::Aborted(format!(
                "injected failure after {total} rows (--fail-after-rows)"
            )));
        }
        if let Some(rate) = opts.max_rows_per_sec.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(rows as f64 / rate as f64);
            let spent = tick.elapsed();
            if due > spent {
                tokio::time::sleep(due - spent).await;
            }
        }
    }
    if !pending.is_empty() {
        shuffle_block(masks, &t.name, &cols, &shuffles, block_no, &mut pending);
        writer.write(pending).await?;
    }
    writer.finish().await?;
    for ((_, m), memo) in table_masks.iter().zip(&memos) {
        tracing::debug!(
            "{}.{}: {:.0}% of values masked from the memo{}",
            t.name,
            m.column,
            memo.hit_rate() * 100.0,
            if memo.is_off() { " (off)" } else { "" }
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::debug!("{}: {rows} rows copied in {seconds:.2}s", t.name);
    Ok((
        TableCopy {
            table: t.name.clone(),
            source_rows: 0,
            rows,
            seconds,
            rows_per_sec: rows as f64 / seconds.max(1e-9),
            masked_columns: table_masks.iter().map(|(_, m)| m.column.clone()).collect(),
        },
        leak,
        rec.map(TableRecorder::finish),
    ))
}

/// Sends a table's COPY stream into the target as it is; returns the rows written.
async fn pass_through(
    t: &Table,
    target: &Target,
    mut rx: tokio::sync::mpsc::Receiver<Result<bytes::Bytes>>,
    mut profile: Option<&mut TableRecorder>,
) -> Result<u64> {
    let mut w = target.raw_writer(&t.name).await?;
    // A full dump's profile reads the tuples as they pass (slices of the chunk).
    let mut parser = crate::pg::copy::CopyParser::new();
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        if let Some(rec) = profile.as_deref_mut() {
            parser.push_bytes(chunk.clone());
            parser
                .for_each_tuple(|tuple| rec.record_tuple(tuple))
                .map_err(|e| DataError::Invalid(format!("reading table {}: {e}", t.name)))?;
        }
        w.send(chunk).await?;
    }
    w.finish().await
}

fn shuffle_block(
    masks: Option<&BoundMasks>,
    table: &str,
    cols: &[String],
    shuffles: &[(usize, u64)],
    block: u64,
    rows: &mut Batch,
) {
    let Some(m) = masks else { return };
    for (i, _) in shuffles {
        let mut vals: Vec<Field> = rows
            .iter_mut()
            .map(|r| std::mem::replace(&mut r[*i], Field::Null))
            .collect();
        prodlike_mask::shuffle::shuffle_block(
            &m.masker,
            &format!("{table}.{}", cols[*i]),
            block,
            &mut vals,
        );
        for (r, v) in rows.iter_mut().zip(vals) {
            r[*i] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{SMALL_TABLE, copy_order};

    #[test]
    fn small_tables_are_copied_first_then_the_largest_first() {
        let sizes = vec![
            ("events", 25 * SMALL_TABLE),
            ("categories", 1_300),
            ("order_items", 22 * SMALL_TABLE),
            ("products", 155_000),
            ("just_large", SMALL_TABLE),
            ("users", 14 * SMALL_TABLE),
        ];
        let order: Vec<&str> = copy_order(sizes, |t| t.1)
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(
            order,
            [
                "products",
                "categories",
                "events",
                "order_items",
                "users",
                "just_large"
            ]
        );
    }
}
