//! The source's side of `data verify`, taken by `data dump` and stored in the snapshot
//! (`profile.json`), so that staging can verify a restored target against a source it never
//! reaches (`verify/snapshot.rs`).
//!
//! What it holds, per table: the source's row count and, per non-key column, what verify's
//! fidelity check compares ([`ColumnSummary`]: value counts, order statistics of numbers, text
//! shapes, rows and NULLs), read from a sample of at most [`PROFILE_ROWS`] rows per table (the
//! same `TABLESAMPLE` read as `verify --max-rows`). A masked column, and a JSON one, keeps only
//! its counts of rows and NULLs: its values, even as statistics, are the source's (verify
//! compares no more of a masked text column); a masked number keeps its percentiles made coarse
//! as `data profile` keeps a PII column's (dates to the month, timestamps to the day, other
//! numbers to two significant digits), so its distribution is compared too. Per foreign key: children per
//! parent row as a histogram, with the sync's reason when the key's fan-out differs by design.
//!
//! Everything else the profile would hold is already in the snapshot: the unmasked columns'
//! values are its rows'.
//!
//! Where it comes from: a full dump reads every row of the source, so [`TableRecorder`] takes
//! the profile from the rows the copy reads anyway (a uniform reservoir of [`PROFILE_ROWS`]
//! rows per table, and a count of children per foreign-key value), pass-through tables
//! included; measured on the bench database, reading it again from the source after the copy
//! (one sampled scan per table, one `GROUP BY` per key) cost the dump about a second. A
//! sampled dump reads a subset, so [`collect`] reads the source again for its profile.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::maskplan::MaskPlan;
use crate::profile::column::{ColumnStats, ColumnSummary};
use crate::row::Field;
use crate::rules::Rules;
use crate::schema::{Kind, Schema, Table};
use crate::source::{FieldType, Source};
use crate::target::copy_columns;
use crate::value::Value;

use super::fanout::{self, Side as FanOutSide};
use super::kept_rows::{KeptRow, KeptRows};
use super::{Expected, Side, is_masked, scan_stats};

/// Rows read per table for the stored distributions (a `TABLESAMPLE` of larger tables). The
/// KS critical value of two samples of this size at α = 0.05 is about 0.014, well inside the
/// default `--max-ks` of 0.05.
pub const PROFILE_ROWS: u64 = 20_000;

/// The source's side of verify.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredProfile {
    /// Rows read at most per table for the distributions.
    pub max_rows: u64,
    pub tables: Vec<StoredTable>,
    pub fan_out: Vec<StoredFanOut>,
}

/// One table of the source.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredTable {
    pub table: String,
    /// The source's rows (all of them, not the snapshot's).
    pub rows: u64,
    /// Non-key columns, in copy order.
    pub columns: Vec<StoredColumn>,
}

/// One column of the source.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredColumn {
    pub column: String,
    /// The dump masked it: the summary holds counts of rows and NULLs only, and for a number
    /// its coarsened percentiles (`coarse`).
    pub masked: bool,
    /// The summary's numbers are the percentiles 0..=100, made coarse
    /// (`ColumnSummary::coarsened`): compare them with the target's made coarse alike.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub coarse: bool,
    pub summary: ColumnSummary,
}

/// One foreign key of the source.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredFanOut {
    pub child: String,
    pub columns: Vec<String>,
    pub parent: String,
    /// Parent rows per number of children (0 included).
    pub parents_by_children: BTreeMap<u64, u64>,
    /// Why the snapshot's fan-out differs from the source's by design (the sync samples
    /// along other keys); `None`: it is held to the tolerance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
}

impl StoredFanOut {
    pub(crate) fn side(&self) -> FanOutSide {
        FanOutSide::from_histogram(&self.parents_by_children)
    }
}

/// What a dump knows when it takes the profile.
pub(crate) struct DumpFacts<'a> {
    pub schema: &'a Schema,
    pub mplan: &'a MaskPlan,
    pub rules: &'a Rules,
    /// The source's rows per table.
    pub source_rows: &'a HashMap<String, u64>,
    /// The rows the snapshot holds per table.
    pub written_rows: &'a HashMap<String, u64>,
}

/// Reads the source's side of verify: a sampled scan per table, one `GROUP BY` per foreign key
/// (a sampled dump, whose rows are not the source's).
pub(crate) async fn collect(source: &Source, facts: &DumpFacts<'_>) -> Result<StoredProfile> {
    let mut tables = Vec::with_capacity(facts.schema.tables.len());
    for t in &facts.schema.tables {
        let cols = copy_columns(t);
        let rows = facts.source_rows.get(&t.name).copied().unwrap_or(0);
        let stats = scan_stats(
            source,
            t,
            &cols,
            Some(PROFILE_ROWS),
            rows,
            None,
            Side::Source,
        )
        .await?;
        tables.push(stored_table(t, &cols, stats, rows, facts.mplan));
    }
    let mut measured = BTreeMap::new();
    for t in &facts.schema.tables {
        for (i, fk) in t.foreign_keys.iter().enumerate() {
            let side = FanOutSide::measure(source, t, fk, facts.source_rows).await?;
            measured.insert((t.name.clone(), i), side.histogram());
        }
    }
    profile(facts, tables, measured)
}

/// The profile of a full dump from what its copy recorded of every table.
pub(crate) fn from_recorded(
    facts: &DumpFacts<'_>,
    recorded: Vec<RecordedTable>,
) -> Result<StoredProfile> {
    let mut tables = Vec::with_capacity(recorded.len());
    let mut measured = BTreeMap::new();
    for r in recorded {
        let Some(t) = facts.schema.table(&r.table) else {
            continue;
        };
        for (i, groups) in r.groups {
            let Some(fk) = t.foreign_keys.get(i) else {
                continue;
            };
            let parents = facts.source_rows.get(&fk.ref_table).copied().unwrap_or(0);
            let mut h = groups;
            let with_children: u64 = h.values().sum();
            // Parents no row names; groups without a parent row (orphans) are integrity's.
            let childless = parents.saturating_sub(with_children);
            if childless > 0 {
                h.insert(0, childless);
            }
            measured.insert((t.name.clone(), i), h);
        }
        let cols = copy_columns(t);
        tables.push(stored_table(t, &cols, r.stats, r.rows, facts.mplan));
    }
    tables.sort_by_key(|t| {
        facts
            .schema
            .tables
            .iter()
            .position(|s| s.name == t.table)
            .unwrap_or(usize::MAX)
    });
    profile(facts, tables, measured)
}

/// The profile from its tables and the fan-out histograms measured per (child, key index).
fn profile(
    facts: &DumpFacts<'_>,
    tables: Vec<StoredTable>,
    mut measured: BTreeMap<(String, usize), BTreeMap<u64, u64>>,
) -> Result<StoredProfile> {
    let counts = fanout::Counts {
        source: facts.source_rows,
        target: facts.written_rows,
    };
    let diluted = fanout::diluted(
        facts.schema,
        facts.rules,
        &Expected::Rows(facts.written_rows.clone()),
        &counts,
    )?;
    let mut fan_out = Vec::new();
    for t in &facts.schema.tables {
        for (i, fk) in t.foreign_keys.iter().enumerate() {
            let key = (t.name.clone(), i);
            fan_out.push(StoredFanOut {
                child: t.name.clone(),
                columns: fk.columns.clone(),
                parent: fk.ref_table.clone(),
                parents_by_children: measured.remove(&key).unwrap_or_default(),
                not_compared: diluted.get(&key).cloned(),
            });
        }
    }
    Ok(StoredProfile {
        max_rows: PROFILE_ROWS,
        tables,
        fan_out,
    })
}

/// What the profile keeps of one column, and so what a recorder gathers of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// A key or unique column: its values are the snapshot's own, nothing is stored.
    Nothing,
    /// Counts of rows and NULLs only: a masked non-number, JSON, a type the copy does not
    /// decode (`Kind::Other`).
    Nulls,
    /// The counts and a masked number's percentiles, made coarse
    /// ([`ColumnSummary::coarsened`]).
    Coarse,
    /// Everything a [`ColumnSummary`] holds.
    Values,
}

impl Need {
    /// What is stored of column `c` of `t`, of `kind`, masked or not.
    pub(crate) fn of(t: &Table, c: &str, kind: Kind, masked: bool) -> Self {
        if t.is_key_column(c) || t.is_unique_member(c) {
            Self::Nothing
        } else if kind == Kind::Other || kind == Kind::Json {
            Self::Nulls
        } else if masked {
            if kind.is_numeric() {
                Self::Coarse
            } else {
                Self::Nulls
            }
        } else {
            Self::Values
        }
    }
}

/// Whether each of `t`'s copied `cols` is masked by the dump's plan.
pub(crate) fn masked_columns(mplan: &MaskPlan, t: &Table, cols: &[String]) -> Vec<bool> {
    cols.iter().map(|c| is_masked(mplan, &t.name, c)).collect()
}

/// One table's stored columns, each as [`Need`] says: keys left out, masked and JSON columns
/// and columns of undecoded types without values, masked numbers made coarse.
fn stored_table(
    t: &Table,
    cols: &[String],
    stats: Vec<ColumnStats>,
    rows: u64,
    mplan: &MaskPlan,
) -> StoredTable {
    let columns = cols
        .iter()
        .zip(stats)
        .filter_map(|(c, st)| {
            let masked = is_masked(mplan, &t.name, c);
            let (coarse, summary) = match Need::of(t, c, st.kind, masked) {
                Need::Nothing => return None,
                Need::Nulls => (false, st.summary(false)),
                Need::Coarse => (true, ColumnSummary::coarsened(&st)),
                Need::Values => (false, st.summary(true)),
            };
            Some(StoredColumn {
                column: c.clone(),
                masked,
                coarse,
                summary,
            })
        })
        .collect();
    StoredTable {
        table: t.name.clone(),
        rows,
        columns,
    }
}

/// What a full dump's copy recorded of one table.
pub(crate) struct RecordedTable {
    table: String,
    rows: u64,
    /// One per copied column, from the reservoir's rows, gathered as [`Need`] says.
    stats: Vec<ColumnStats>,
    /// Per foreign key (index among the table's): rows per distinct key value, as a histogram
    /// (rows per group → groups).
    groups: Vec<(usize, BTreeMap<u64, u64>)>,
}

/// Records one table's profile from the rows a full dump copies: a uniform reservoir of at
/// most [`PROFILE_ROWS`] rows (Li's Algorithm L: the rows to keep are drawn by skips, so a row
/// costs a comparison, and only a kept row is copied, about k·(1 + ln(n/k)) of n), and the
/// rows per value of each foreign key's columns.
pub(crate) struct TableRecorder {
    table: String,
    types: Vec<FieldType>,
    /// What the profile keeps of each copied column.
    needs: Vec<Need>,
    kept: KeptRows,
    seen: u64,
    rng: fastrand::Rng,
    /// Algorithm L's state once the reservoir is full: the next row (by `seen`) to keep, and W.
    next: u64,
    w: f64,
    /// Per foreign key: its index among the table's, the copied columns it spans, whether it
    /// is one integer column, and rows per value.
    keys: Vec<(usize, Vec<usize>, bool, GroupCounts)>,
}

/// Rows per key value of one foreign key.
#[derive(Default)]
struct GroupCounts {
    /// Single-column integer keys from 0 below [`DENSE_KEYS`], counted by value: keys are
    /// mostly dense serials, and an array beats a hash map by far (the bench database's
    /// `order_items` counts 422,362 rows over 168,957 orders). A byte per value: children per
    /// parent are mostly few, and a quarter of the memory is a quarter of the cache misses
    /// (counting was a cache miss per row, 3% of a dump's samples with `u32` counters).
    dense: Vec<u8>,
    /// Rows beyond the 255 a value's byte holds, by key value (exact counts, rarely used).
    dense_over: HashMap<u64, u64>,
    /// Every other key, by a 64-bit hash of its bytes (mixed already: the map does not hash
    /// again).
    hashed: HashMap<u64, u64, std::hash::BuildHasherDefault<PassHasher>>,
}

/// The largest integer key value + 1 counted in [`GroupCounts::dense`] (16 MiB of counters).
const DENSE_KEYS: u64 = 1 << 24;

impl GroupCounts {
    /// Counts one row of key bytes `b` (one column) or of hash `h` (any key).
    fn add_single(&mut self, b: &[u8]) {
        let v = match b.len() {
            2 => Some(i64::from(i16::from_be_bytes([b[0], b[1]]))),
            4 => Some(i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
            8 => Some(i64::from_be_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ])),
            _ => None,
        };
        match v
            .and_then(|v| u64::try_from(v).ok())
            .filter(|v| *v < DENSE_KEYS)
        {
            Some(v) => {
                let i = v as usize;
                if i >= self.dense.len() {
                    self.dense.resize((i + 1).next_power_of_two(), 0);
                }
                let n = &mut self.dense[i];
                if *n < u8::MAX {
                    *n += 1;
                } else {
                    *self.dense_over.entry(v).or_insert(0) += 1;
                }
            }
            None => self.add_hash(hash_bytes(SEED, b)),
        }
    }

    fn add_hash(&mut self, h: u64) {
        *self.hashed.entry(fmix(h)).or_insert(0) += 1;
    }

    /// Groups per size (rows per key value → key values).
    fn histogram(self) -> BTreeMap<u64, u64> {
        let mut h = BTreeMap::new();
        let over = self.dense_over;
        for n in self
            .dense
            .into_iter()
            .enumerate()
            .filter(|(_, n)| *n > 0)
            .map(|(v, n)| u64::from(n) + over.get(&(v as u64)).copied().unwrap_or(0))
            .chain(self.hashed.into_values())
        {
            *h.entry(n).or_insert(0) += 1;
        }
        h
    }
}

/// A `Hasher` for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
pub(crate) struct PassHasher(u64);

impl std::hash::Hasher for PassHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

impl TableRecorder {
    /// A recorder for `t`'s copied `cols` (as the source sends them, `types`; `masked` by the
    /// dump's plan, [`masked_columns`]).
    pub(crate) fn new(t: &Table, cols: &[String], types: Vec<FieldType>, masked: &[bool]) -> Self {
        let needs = cols
            .iter()
            .zip(&types)
            .enumerate()
            .map(|(i, (c, ty))| Need::of(t, c, ty.kind, masked.get(i).copied().unwrap_or(false)))
            .collect();
        let keys = t
            .foreign_keys
            .iter()
            .enumerate()
            .filter_map(|(i, fk)| {
                let idx: Option<Vec<usize>> = fk
                    .columns
                    .iter()
                    .map(|c| cols.iter().position(|x| x == c))
                    .collect();
                idx.map(|idx| {
                    // Integer bytes mean a value only for integer columns.
                    let single_int =
                        idx.len() == 1 && types.get(idx[0]).is_some_and(|ty| ty.kind == Kind::Int);
                    (i, idx, single_int, GroupCounts::default())
                })
            })
            .collect();
        Self {
            table: t.name.clone(),
            types,
            needs,
            kept: KeptRows::default(),
            seen: 0,
            // Seeded by the table's name: the same rows are kept on every run.
            rng: fastrand::Rng::with_seed(fnv(&[t.name.as_bytes()])),
            next: 0,
            w: 1.0,
            keys,
        }
    }

    /// The field types of `t`'s copied `cols`, as the PostgreSQL scan would give them.
    pub(crate) fn pg_types(t: &Table, cols: &[String]) -> Vec<FieldType> {
        cols.iter()
            .map(|c| {
                t.column(c).map_or(
                    FieldType {
                        oid: 0,
                        kind: Kind::Other,
                    },
                    |col| FieldType {
                        oid: col.pg_oid,
                        kind: col.kind,
                    },
                )
            })
            .collect()
    }

    /// One source row, before masking.
    pub(crate) fn record(&mut self, row: &[Field]) {
        let mut buf = Vec::new();
        for (_, idx, single_int, groups) in &mut self.keys {
            if *single_int && let Some(Field::Raw(b)) = row.get(idx[0]) {
                groups.add_single(b);
                continue;
            }
            let mut h = Some(SEED);
            for &i in idx.iter() {
                h = match (h, row.get(i)) {
                    (Some(h), Some(Field::Raw(b))) => Some(hash_bytes(h, b)),
                    (Some(h), Some(Field::Val(v))) if !v.is_null() => {
                        buf.clear();
                        v.write_key(&mut buf);
                        Some(hash_bytes(h, &buf))
                    }
                    // A NULL key names no parent.
                    _ => None,
                };
            }
            if let Some(h) = h {
                groups.add_hash(h);
            }
        }
        if let Some(slot) = self.admit() {
            // Owned bytes: slices of the received chunk would keep all of it alive.
            if row.iter().any(|f| matches!(f, Field::Val(_))) {
                self.kept.put_values(slot, row.to_vec());
            } else {
                let needs = &self.needs;
                self.kept.put_tuple(slot, |t| write_tuple(row, needs, t));
            }
        }
    }

    /// One tuple of a binary COPY stream passing through (`CopyParser::next_tuple`): only its
    /// key fields are read, and the whole tuple only when it is kept.
    pub(crate) fn record_tuple(&mut self, tuple: &[u8]) {
        for (_, idx, single_int, groups) in &mut self.keys {
            if *single_int {
                if let Some(Some(r)) = crate::pg::copy::tuple_fields(tuple).nth(idx[0]) {
                    groups.add_single(&tuple[r]);
                }
                continue;
            }
            let mut h = Some(SEED);
            for (i, f) in crate::pg::copy::tuple_fields(tuple).enumerate() {
                if !idx.contains(&i) {
                    continue;
                }
                h = match (h, f) {
                    (Some(h), Some(r)) => Some(hash_bytes(h, &tuple[r])),
                    _ => None,
                };
            }
            if let Some(h) = h {
                groups.add_hash(h);
            }
        }
        if let Some(slot) = self.admit() {
            self.kept.put_tuple(slot, |t| t.extend_from_slice(tuple));
        }
    }

    /// Counts a row and says where it goes in the reservoir, if it is kept.
    fn admit(&mut self) -> Option<usize> {
        self.seen += 1;
        let k = PROFILE_ROWS;
        if self.seen <= k {
            if self.seen == k {
                self.w = (self.open_unit().ln() / k as f64).exp();
                self.skip();
            }
            return Some((self.seen - 1) as usize);
        }
        if self.seen < self.next {
            return None;
        }
        let slot = self.rng.usize(..k as usize);
        self.w *= (self.open_unit().ln() / k as f64).exp();
        self.skip();
        Some(slot)
    }

    /// Draws the next row to keep: `seen` + ⌊ln(u)/ln(1 − W)⌋ + 1.
    fn skip(&mut self) {
        let jump = (self.open_unit().ln() / (1.0 - self.w).ln()).floor();
        let jump = if jump.is_finite() && jump >= 0.0 {
            jump.min(u64::MAX as f64 / 2.0) as u64
        } else {
            u64::MAX / 2
        };
        self.next = self.seen.saturating_add(jump).saturating_add(1);
    }

    /// A uniform number in (0, 1].
    fn open_unit(&mut self) -> f64 {
        1.0 - self.rng.f64()
    }

    /// The table's statistics from the kept rows, each column gathered as its [`Need`] says
    /// (a value is decoded only when the profile keeps something of it), and its key counts.
    pub(crate) fn finish(self) -> RecordedTable {
        let mut stats: Vec<ColumnStats> = self
            .types
            .iter()
            .enumerate()
            .map(|(i, ty)| ColumnStats::for_summary(ty.kind, 17 + i as u64))
            .collect();
        let columns = || self.types.iter().zip(&self.needs);
        for kept in self.kept.iter() {
            match kept {
                KeptRow::Values(row) => {
                    for ((f, (ty, need)), s) in row.iter().zip(columns()).zip(stats.iter_mut()) {
                        gather(*need, s, f.is_null(), || ty.value(f));
                    }
                }
                // Decoded from the kept bytes themselves: no handle per field.
                KeptRow::Tuple(tuple) => {
                    let fields = crate::pg::copy::tuple_fields(tuple);
                    for ((r, (ty, need)), s) in fields.zip(columns()).zip(stats.iter_mut()) {
                        gather(*need, s, r.is_none(), || {
                            r.map_or(Value::Null, |r| ty.decode(&tuple[r]))
                        });
                    }
                }
            }
        }
        RecordedTable {
            table: self.table,
            rows: self.seen,
            stats,
            groups: self
                .keys
                .into_iter()
                .map(|(i, _, _, groups)| (i, groups.histogram()))
                .collect(),
        }
    }
}

/// Adds one field to its column's statistics as the column's [`Need`] says; `value` decodes it
/// only when something of its value is kept.
fn gather(need: Need, s: &mut ColumnStats, null: bool, value: impl FnOnce() -> Value) {
    match need {
        Need::Nothing => {}
        Need::Nulls => s.add_presence(null),
        Need::Coarse => s.add_number(&value()),
        Need::Values => s.add(&value()),
    }
}

/// `row` (raw and NULL fields) as a binary COPY tuple, appended to `t`.
fn write_tuple(row: &[Field], needs: &[Need], t: &mut Vec<u8>) {
    // Only what `finish` reads of each field is kept: a value the profile stores nothing of
    // (`Need::Nothing`) as NULL, one whose presence alone it counts (`Need::Nulls`: masked text,
    // JSON documents) as an empty value. A kept row of the bench database's `events` shrank from
    // its JSON payload's ~90 bytes to its numbers and times.
    let kept = |i: usize, b: &[u8]| match needs.get(i).copied().unwrap_or(Need::Values) {
        Need::Nothing => None,
        Need::Nulls => Some(0),
        Need::Coarse | Need::Values => Some(b.len()),
    };
    // One allocation (or none, in a slot's buffer already as large), not one per growth.
    let len: usize = row
        .iter()
        .enumerate()
        .map(|(i, f)| {
            4 + match f {
                Field::Raw(b) => kept(i, b).unwrap_or(0),
                _ => 0,
            }
        })
        .sum();
    t.reserve(2 + len);
    t.extend_from_slice(&(row.len() as i16).to_be_bytes());
    for (i, f) in row.iter().enumerate() {
        match f {
            Field::Raw(b) => match kept(i, b) {
                Some(n) => {
                    t.extend_from_slice(&(n as i32).to_be_bytes());
                    t.extend_from_slice(&b[..n]);
                }
                None => t.extend_from_slice(&(-1i32).to_be_bytes()),
            },
            _ => t.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
}

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Mixes `b` (length first, then eight bytes at a time) into `h`.
fn hash_bytes(mut h: u64, b: &[u8]) -> u64 {
    let mix = |h: u64, x: u64| (h.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    h = mix(h, b.len() as u64);
    let mut words = b.chunks_exact(8);
    for w in words.by_ref() {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        h = mix(h, u64::from_le_bytes(a));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut a = [0u8; 8];
        a[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(a));
    }
    h
}

/// MurmurHash3's finaliser: every bit of `h` moves every bit of the result.
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// 64-bit FNV-1a over length-prefixed parts.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in (p.len() as u32).to_le_bytes().iter().chain(p.iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> Table {
        serde_json::from_value(serde_json::json!({
            "name": name,
            "columns": [
                {"name": "id", "sql_type": "bigint", "kind": "int", "nullable": false, "pg_oid": 20},
                {"name": "parent_id", "sql_type": "bigint", "kind": "int", "nullable": true, "pg_oid": 20},
                {"name": "n", "sql_type": "bigint", "kind": "int", "nullable": true, "pg_oid": 20}
            ],
            "primary_key": {"name": "pk", "columns": ["id"]},
            "foreign_keys": [{"name": "fk", "columns": ["parent_id"], "ref_table": "parents", "ref_columns": ["id"]}]
        }))
        .unwrap()
    }

    fn int(i: i64) -> Field {
        Field::Raw(bytes::Bytes::copy_from_slice(&i.to_be_bytes()))
    }

    /// The reservoir is a uniform sample of the rows, whatever their order: over 24 tables
    /// (24 seeds) of 200,000 rows whose `n` is the row's position, the kept values' KS distance
    /// to the uniform never reaches the one-sample critical value at α = 0.001 (1.95/√k).
    #[test]
    fn the_reservoir_is_uniform_over_the_rows() {
        let (n, k) = (200_000i64, PROFILE_ROWS as f64);
        let critical = 1.949 / k.sqrt();
        let mut worst = 0.0f64;
        for seed in 0..24 {
            let t = table(&format!("t{seed}"));
            let cols = copy_columns(&t);
            let mut r = TableRecorder::new(&t, &cols, TableRecorder::pg_types(&t, &cols), &[]);
            for i in 0..n {
                r.record(&[int(i), Field::Null, int(i)]);
            }
            let rec = r.finish();
            assert_eq!(rec.rows, n as u64);
            let mut kept: Vec<f64> = rec.stats[2].numbers.items().to_vec();
            assert_eq!(kept.len(), PROFILE_ROWS as usize);
            kept.sort_by(f64::total_cmp);
            let m = kept.len() as f64;
            let ks = kept
                .iter()
                .enumerate()
                .map(|(j, x)| {
                    let cdf = (x + 1.0) / n as f64;
                    (cdf - j as f64 / m)
                        .abs()
                        .max((cdf - (j + 1) as f64 / m).abs())
                })
                .fold(0.0, f64::max);
            worst = worst.max(ks);
        }
        eprintln!("reservoir: worst KS over 24 seeds {worst:.4}, critical {critical:.4}");
        assert!(worst < critical, "worst KS {worst} ≥ {critical}");
    }

    /// A tuple passing through is recorded as the same row parsed: the same rows kept, the
    /// same key counts.
    #[test]
    fn tuples_and_rows_are_recorded_alike() {
        let t = table("alike");
        let cols = copy_columns(&t);
        let mut by_row = TableRecorder::new(&t, &cols, TableRecorder::pg_types(&t, &cols), &[]);
        let mut by_tuple = TableRecorder::new(&t, &cols, TableRecorder::pg_types(&t, &cols), &[]);
        for i in 0..50_000i64 {
            let row = [
                int(i),
                if i % 9 == 0 {
                    Field::Null
                } else {
                    int(i % 777 - 300)
                },
                int(i * 3),
            ];
            let mut tuple = 3i16.to_be_bytes().to_vec();
            for f in &row {
                match f {
                    Field::Raw(b) => {
                        tuple.extend((b.len() as i32).to_be_bytes());
                        tuple.extend_from_slice(b);
                    }
                    _ => tuple.extend((-1i32).to_be_bytes()),
                }
            }
            by_row.record(&row);
            by_tuple.record_tuple(&tuple);
        }
        let (a, b) = (by_row.finish(), by_tuple.finish());
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.groups, b.groups);
        assert_eq!(a.groups[0].1.values().sum::<u64>(), 777);
        for (x, y) in a.stats.iter().zip(&b.stats) {
            assert_eq!(x.summary(true), y.summary(true));
        }
    }

    /// Children per key value are counted exactly, NULL keys left out.
    #[test]
    fn children_per_key_value_are_counted_exactly() {
        let t = table("children");
        let cols = copy_columns(&t);
        let mut r = TableRecorder::new(&t, &cols, TableRecorder::pg_types(&t, &cols), &[]);
        // Parent p has p children, for p in 1..=50; 7 rows without a parent.
        let mut id = 0;
        for p in 1..=50i64 {
            for _ in 0..p {
                id += 1;
                r.record(&[int(id), int(p), Field::Null]);
            }
        }
        for _ in 0..7 {
            id += 1;
            r.record(&[int(id), Field::Null, Field::Null]);
        }
        let rec = r.finish();
        let (i, h) = &rec.groups[0];
        assert_eq!(*i, 0);
        let want: BTreeMap<u64, u64> = (1..=50u64).map(|p| (p, 1)).collect();
        assert_eq!(h, &want);
        // All NULL: the column's stats say so.
        assert_eq!(rec.stats[2].nulls, rec.stats[2].rows);
    }

    /// A value's byte counter holds 255 rows; the rows beyond are counted exactly beside it,
    /// for the dense integer keys and for hashed ones alike.
    #[test]
    fn counts_beyond_a_byte_stay_exact() {
        let t = table("children");
        let cols = copy_columns(&t);
        let mut r = TableRecorder::new(&t, &cols, TableRecorder::pg_types(&t, &cols), &[]);
        let sizes = [
            (3i64, 254u64),
            (4, 255),
            (5, 256),
            (6, 1_000),
            (7, 70_000),
            (9, 1),
        ];
        let mut id = 0;
        for (p, n) in sizes {
            for _ in 0..n {
                id += 1;
                r.record(&[int(id), int(p), Field::Null]);
            }
        }
        // A negative key is not a dense index: it is hashed.
        for _ in 0..300 {
            id += 1;
            r.record(&[int(id), int(-2), Field::Null]);
        }
        let rec = r.finish();
        let mut want: BTreeMap<u64, u64> = sizes.iter().map(|(_, n)| (*n, 1)).collect();
        want.insert(300, 1);
        assert_eq!(rec.groups[0].1, want);
        assert_eq!(rec.rows, id as u64);
    }

    /// The recorder gathers of each column only what the profile keeps of it: nothing of a
    /// key, counts of a masked text, a masked number's numbers but not its values, what a
    /// summary holds of an unmasked column (the same summary as full statistics give).
    #[test]
    fn each_column_is_gathered_as_the_profile_needs_it() {
        let t: Table = serde_json::from_value(serde_json::json!({
            "name": "people",
            "columns": [
                {"name": "id", "sql_type": "bigint", "kind": "int", "nullable": false, "pg_oid": 20},
                {"name": "email", "sql_type": "text", "kind": "text", "nullable": true, "pg_oid": 25},
                {"name": "salary", "sql_type": "bigint", "kind": "int", "nullable": true, "pg_oid": 20},
                {"name": "plan", "sql_type": "text", "kind": "text", "nullable": true, "pg_oid": 25}
            ],
            "primary_key": {"name": "pk", "columns": ["id"]}
        }))
        .unwrap();
        let cols = copy_columns(&t);
        let types = TableRecorder::pg_types(&t, &cols);
        let mut r = TableRecorder::new(&t, &cols, types.clone(), &[false, true, true, false]);
        let text = |s: &str| Field::Raw(bytes::Bytes::copy_from_slice(s.as_bytes()));
        for i in 0..3_000i64 {
            r.record(&[
                int(i),
                if i % 10 == 0 {
                    Field::Null
                } else {
                    text(&format!("p{i}@example.com"))
                },
                int(1_000 + i % 500),
                text(["free", "pro", "team"][(i % 3) as usize]),
            ]);
        }
        let rec = r.finish();
        let [id, email, salary, plan] = &rec.stats[..] else {
            panic!("four columns")
        };
        assert_eq!(id.rows, 0);
        assert_eq!((email.rows, email.nulls), (3_000, 300));
        assert!(email.counts.is_empty() && email.shapes.is_empty());
        assert_eq!(salary.numbers.items().len(), 3_000);
        assert!(salary.counts.is_empty());
        assert_eq!(plan.counts.len(), 3);
        assert!(!plan.shapes.is_empty());
        // An unmasked column's summary is what full statistics give.
        let mut full = ColumnStats::new(Kind::Text, 0);
        for i in 0..3_000i64 {
            full.add(&types[3].value(&text(["free", "pro", "team"][(i % 3) as usize])));
        }
        assert_eq!(plan.summary(true), full.summary(true));
        assert!(!full.lengths.items().is_empty() && plan.lengths.items().is_empty());
    }
}
