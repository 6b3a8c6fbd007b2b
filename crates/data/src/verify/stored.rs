//! The source's side of `data verify`, taken by `data dump` and stored in the snapshot
//! (`profile.json`), so that staging can verify a restored target against a source it never
//! reaches (`verify/snapshot.rs`).
//!
//! What it holds, per table: the source's row count and, per non-key column, what verify's
//! fidelity check compares ([`ColumnSummary`]: value counts, order statistics of numbers, text
//! shapes, rows and NULLs), read from a sample of at most [`PROFILE_ROWS`] rows per table (the
//! same `TABLESAMPLE` read as `verify --max-rows`). A masked column, and a JSON one, keeps only
//! its counts of rows and NULLs: its values, even as statistics, are the source's (verify
//! compares no more of a masked text column; of a masked number it compares the distribution,
//! which the snapshot cannot carry without the source's numbers). Per foreign key: children per
//! parent row as a histogram, with the sync's reason when the key's fan-out differs by design.
//!
//! Everything else the profile would hold is already in the snapshot: the unmasked columns'
//! values are its rows'.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::maskplan::MaskPlan;
use crate::profile::column::ColumnSummary;
use crate::rules::Rules;
use crate::schema::{Kind, Schema};
use crate::source::Source;
use crate::target::copy_columns;

use super::fanout::{self, Side as FanOutSide};
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
    /// The dump masked it: the summary holds counts of rows and NULLs only.
    pub masked: bool,
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

/// Reads the source's side of verify: a sampled scan per table, one `GROUP BY` per foreign key.
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
        let columns = cols
            .iter()
            .zip(stats)
            .filter(|(c, _)| !(t.is_key_column(c) || t.is_unique_member(c)))
            .map(|(c, st)| {
                let masked = is_masked(facts.mplan, &t.name, c);
                StoredColumn {
                    column: c.clone(),
                    masked,
                    summary: st.summary(!masked && st.kind != Kind::Json),
                }
            })
            .collect();
        tables.push(StoredTable {
            table: t.name.clone(),
            rows,
            columns,
        });
    }
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
            let side = FanOutSide::measure(source, t, fk, facts.source_rows).await?;
            fan_out.push(StoredFanOut {
                child: t.name.clone(),
                columns: fk.columns.clone(),
                parent: fk.ref_table.clone(),
                parents_by_children: side.histogram(),
                not_compared: diluted.get(&(t.name.clone(), i)).cloned(),
            });
        }
    }
    Ok(StoredProfile {
        max_rows: PROFILE_ROWS,
        tables,
        fan_out,
    })
}
