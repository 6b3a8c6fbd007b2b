//! `prodlike data profile`: schema, row counts, per-column distributions, foreign-key fan-out
//! and PII detection. The profile never holds a value of a PII column nor of a free-text one
//! (most values of eight words or more, or people found inside them): those keep only null
//! rates, distinct counts, lengths and shapes (and coarsened quantiles for dates and numbers).

pub mod column;
pub mod shape;

use std::collections::HashMap;

use prodlike_mask::detect::PiiKind;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::identity::{self, DbIdentity};
use crate::maskplan::{self, Detections};
use crate::schema::{Kind, Schema, Table};
use crate::source::{Scan, Source};
use crate::target::copy_columns;
use column::{Bucket, ColumnStats, histogram, percentiles};

/// Layout version of profile files.
pub const PROFILE_VERSION: u32 = 1;

/// A value and how often it occurs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Frequency {
    pub value: String,
    pub count: u64,
}

/// One column's profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnProfile {
    pub name: String,
    pub kind: Kind,
    pub null_fraction: f64,
    pub distinct: u64,
    /// Detected PII kind; such columns hold no values here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii: Option<PiiKind>,
    /// All values with their counts when the column is categorical (at most 200 values), else
    /// the most frequent values seen at least 5 times; never for PII columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frequencies: Vec<Frequency>,
    /// True when `frequencies` lists every value.
    #[serde(default)]
    pub frequencies_complete: bool,
    /// 0th..100th percentiles (numbers, dates as days, timestamps as seconds since 1970).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percentiles: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<Bucket>,
    /// Whether every number is whole.
    #[serde(default)]
    pub integral: bool,
    /// 0th..100th percentiles of text length (every 10%).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub length_percentiles: Vec<f64>,
    /// Most common shapes (`Aa+ Aa+`) with counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shapes: Vec<Frequency>,
    /// Most common JSON skeletons (strings replaced by shapes) with counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_skeletons: Vec<Frequency>,
    /// How closely the rows' physical order follows this column's order, from -1 to 1, as
    /// PostgreSQL's `pg_stats.correlation` has it (a statistic, no value): `data synth` lays
    /// keys out in the same order, since the planner prices index scans by it. Absent for
    /// other engines, columns never analyzed, and profiles made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<f64>,
}

/// One table's profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableProfile {
    pub name: String,
    pub rows: u64,
    /// Share of rows read to build the column profiles (1 = all).
    pub profiled_fraction: f64,
    pub columns: Vec<ColumnProfile>,
}

/// How many children parent rows have along one foreign key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FanOut {
    pub child: String,
    pub columns: Vec<String>,
    pub parent: String,
    pub ref_columns: Vec<String>,
    pub parent_rows: u64,
    /// Parents with at least one child.
    pub parents_referenced: u64,
    /// Children with a NULL key.
    pub null_children: u64,
    pub mean: f64,
    pub max: u64,
    /// 0th..100th percentiles of children per parent (zeros included).
    pub percentiles: Vec<f64>,
}

/// A whole profile (`prodlike.data.profile/1`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub version: u32,
    pub source: String,
    pub schema: Schema,
    pub tables: Vec<TableProfile>,
    pub fan_out: Vec<FanOut>,
    pub pii: Detections,
    /// Which database was profiled (system identifier and OID, or file), so that `data synth`
    /// refuses to write into it. Absent in profiles made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<DbIdentity>,
}

impl Profile {
    pub fn table(&self, name: &str) -> Option<&TableProfile> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Reads a profile file written by `prodlike data profile --out` (the envelope or the bare
    /// profile).
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let err = |reason: String| DataError::Profile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            what: "could not read the profile",
            path: path.display().to_string(),
            source,
        })?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
        let body = if v
            .get("schema")
            .and_then(|s| s.as_str())
            .is_some_and(|s| s.starts_with("prodlike.data.profile"))
        {
            v.get("data").cloned().unwrap_or_default()
        } else {
            v
        };
        let p: Profile = serde_json::from_value(body)
            .map_err(|e| err(format!("not a prodlike profile: {e}")))?;
        if p.version != PROFILE_VERSION {
            return Err(err(format!(
                "version {} is not supported (expected {PROFILE_VERSION})",
                p.version
            )));
        }
        Ok(p)
    }
}

/// Profiling settings.
#[derive(Debug, Clone)]
pub struct ProfileOptions {
    pub namespace: String,
    /// Read at most about this many rows per table for column statistics (all rows when None).
    pub max_rows: Option<u64>,
    pub seed: u64,
}

/// A number of a PII column made coarse enough to name no one: dates to the month, timestamps
/// to the day, other numbers to two significant digits.
pub(crate) fn coarse(x: f64, kind: Kind) -> f64 {
    match kind {
        // Dates to the first of their month, timestamps to the day: no exact birthday survives.
        Kind::Date => (x / 30.4375).floor() * 30.4375,
        Kind::Timestamp | Kind::TimestampTz => (x / 86_400.0).floor() * 86_400.0,
        _ => {
            if x == 0.0 {
                return 0.0;
            }
            let mag = 10f64.powf(x.abs().log10().floor() - 1.0);
            (x / mag).round() * mag
        }
    }
}

/// Words in a value for it to be prose.
const PROSE_WORDS: usize = 8;

/// Whether most values are prose (a note, a description): free text can name anyone, so its
/// values are never listed, whatever detection found in it.
fn is_free_text(stats: &ColumnStats) -> bool {
    let (mut prose, mut all) = (0u64, 0u64);
    for (v, c) in &stats.counts {
        all += c;
        if v.split_whitespace().count() >= PROSE_WORDS {
            prose += c;
        }
    }
    all > 0 && prose * 2 >= all
}

/// Builds a column profile from its statistics.
pub fn column_profile(name: &str, stats: &ColumnStats, pii: Option<PiiKind>) -> ColumnProfile {
    let mut frequencies = Vec::new();
    let mut complete = false;
    if pii.is_none() && !stats.overflow && stats.kind != Kind::Json && !is_free_text(stats) {
        let mut f: Vec<Frequency> = stats
            .counts
            .iter()
            .map(|(v, c)| Frequency {
                value: v.clone(),
                count: *c,
            })
            .collect();
        f.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
        if f.len() <= 200 {
            complete = true;
        } else {
            f.retain(|x| x.count >= 5);
            f.truncate(20);
        }
        frequencies = f;
    }
    let nums = stats.numbers.items();
    let mut pct = percentiles(nums);
    if pii.is_some() {
        pct = pct.into_iter().map(|x| coarse(x, stats.kind)).collect();
    }
    let mut shapes: Vec<Frequency> = stats
        .shapes
        .iter()
        .map(|(v, c)| Frequency {
            value: v.clone(),
            count: *c,
        })
        .collect();
    shapes.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    shapes.truncate(20);
    let mut skel: Vec<Frequency> = stats
        .json_skeletons
        .iter()
        .map(|(v, c)| Frequency {
            value: v.clone(),
            count: *c,
        })
        .collect();
    skel.sort_by_key(|f| std::cmp::Reverse(f.count));
    skel.truncate(5);
    let lens = percentiles(stats.lengths.items());
    ColumnProfile {
        name: name.to_owned(),
        kind: stats.kind,
        null_fraction: stats.null_fraction(),
        distinct: stats.distinct(),
        pii,
        frequencies,
        frequencies_complete: complete,
        histogram: if pii.is_none() {
            histogram(nums, 20)
        } else {
            vec![]
        },
        percentiles: pct,
        integral: stats.integral,
        length_percentiles: lens.iter().step_by(10).copied().collect(),
        shapes,
        json_skeletons: skel,
        correlation: None,
    }
}

/// Statistics of every column of `t`.
pub async fn table_stats(
    source: &Source,
    t: &Table,
    max_rows: Option<u64>,
    rows: u64,
    seed: u64,
) -> Result<(Vec<String>, Vec<ColumnStats>, f64)> {
    let cols = copy_columns(t);
    let fraction = match max_rows {
        Some(m) if rows > m && rows > 0 => Some(m as f64 / rows as f64),
        _ => None,
    };
    let scan = Scan {
        columns: cols.clone(),
        other_as_text: true,
        tablesample: fraction,
        ..Default::default()
    };
    let (types, mut rx) = source.scan(t, &scan).await?;
    let mut stats: Vec<ColumnStats> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ColumnStats::new(
                t.column(c).map_or(Kind::Text, |c| c.kind),
                seed.wrapping_add(i as u64),
            )
        })
        .collect();
    while let Some(batch) = rx.recv().await {
        for row in batch? {
            for (i, f) in row.iter().enumerate() {
                stats[i].add(&types[i].value(f));
            }
        }
    }
    Ok((cols, stats, fraction.unwrap_or(1.0)))
}

/// Fan-out of every foreign key: children per parent.
pub async fn fan_out(
    source: &Source,
    schema: &Schema,
    counts: &HashMap<String, u64>,
) -> Result<Vec<FanOut>> {
    let mut out = Vec::new();
    for t in &schema.tables {
        for fk in &t.foreign_keys {
            let groups = source.group_counts(t, &fk.columns).await?;
            let parent_rows = counts.get(&fk.ref_table).copied().unwrap_or(0);
            let children = counts.get(&t.name).copied().unwrap_or(0);
            let referenced = groups.len() as u64;
            let with_key: u64 = groups.iter().sum();
            let mut all: Vec<f64> = groups.iter().map(|&g| g as f64).collect();
            all.extend(std::iter::repeat_n(
                0.0,
                parent_rows.saturating_sub(referenced) as usize,
            ));
            out.push(FanOut {
                child: t.name.clone(),
                columns: fk.columns.clone(),
                parent: fk.ref_table.clone(),
                ref_columns: fk.ref_columns.clone(),
                parent_rows,
                parents_referenced: referenced,
                null_children: children.saturating_sub(with_key),
                mean: if parent_rows == 0 {
                    0.0
                } else {
                    with_key as f64 / parent_rows as f64
                },
                max: groups.iter().copied().max().unwrap_or(0),
                percentiles: percentiles(&all),
            });
        }
    }
    Ok(out)
}

/// Profiles a database.
pub async fn profile(url: &crate::DbUrl, opts: &ProfileOptions) -> Result<Profile> {
    let source = Source::open(url, &opts.namespace).await?;
    let source_identity = identity::resolve(url).await?;
    let schema = source.schema().await?;
    let tables: Vec<&Table> = schema.tables.iter().collect();
    let pii = maskplan::detect(&source, &tables).await?;
    let mut counts = HashMap::new();
    for t in &tables {
        counts.insert(t.name.clone(), source.count(&t.name).await?);
    }
    let correlations = source.physical_correlations().await?;
    let mut out = Vec::new();
    for t in &tables {
        let rows = counts.get(&t.name).copied().unwrap_or(0);
        let (cols, stats, fraction) =
            table_stats(&source, t, opts.max_rows, rows, opts.seed).await?;
        let columns = cols
            .iter()
            .zip(&stats)
            .map(|(c, s)| ColumnProfile {
                correlation: correlations.get(&(t.name.clone(), c.clone())).copied(),
                ..column_profile(c, s, pii.column(&t.name, c).map(|d| d.kind))
            })
            .collect();
        out.push(TableProfile {
            name: t.name.clone(),
            rows,
            profiled_fraction: fraction,
            columns,
        });
    }
    let fan_out = fan_out(&source, &schema, &counts).await?;
    Ok(Profile {
        version: PROFILE_VERSION,
        source: source.shown(),
        schema,
        tables: out,
        fan_out,
        pii,
        source_identity: Some(source_identity),
    })
}
