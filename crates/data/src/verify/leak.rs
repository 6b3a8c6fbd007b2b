//! The PII leak check.
//!
//! - **Identifying** masked columns (emails, phones, cards, ids, addresses, full names…): no
//!   source value may appear in the same target column, nor in any other text or JSON column of
//!   the target (a denormalised copy, a JSON payload, a log line).
//! - **Quasi-identifiers** (first or last names, cities, postal codes, birth dates): fakes are
//!   drawn from the same word lists as real values, so a fake `Maria` elsewhere is expected;
//!   what must not happen is a row keeping its own value more often than chance. The expected
//!   rate is Σ p_source(v)·p_target(v), plus the transform's own rate of leaving a value as it
//!   was (`date_noise` shifts by 0 days once in 2·days+1).
//!
//! Source values are held only as 128-bit hashes, in memory, for the duration of the check.

use std::collections::{HashMap, HashSet};

use prodlike_mask::Transform;
use prodlike_mask::detect::PiiKind;

use crate::maskplan::{Detections, MaskPlan};
use crate::schema::{Kind, Schema};
use crate::value::{Value, key_hash};

/// Source values shorter than this are not looked for (too many innocent collisions: `GB`, `1`).
const MIN_LEN: usize = 6;
/// Cap on identifying source values held.
const MAX_VALUES: usize = 20_000_000;

pub use prodlike_results::data::verify::{CrossColumnHit, LeakCheck, LeakColumn};

#[derive(Clone)]
enum Class {
    Identifying,
    Quasi { own_rate: f64 },
}

struct Watch {
    column: String,
    class: Class,
    transform: String,
    set: HashSet<u128>,
    hits: u64,
    src_rows: HashMap<u128, u128>,
    src_freq: HashMap<u128, u64>,
    tgt_freq: HashMap<u128, u64>,
    compared: u64,
    unchanged: u64,
    src_values: u64,
    tgt_values: u64,
    quasi_by_kind: bool,
}

/// Collects source values, then checks target rows.
pub struct LeakScan {
    watch: HashMap<String, Vec<Watch>>,
    json_cols: HashMap<String, Vec<String>>,
    text_cols: HashMap<String, Vec<(String, Kind)>>,
    union: HashSet<u128>,
    /// (hits, values scanned) per target column.
    cross: HashMap<(String, String), (u64, u64)>,
    kept_raw: Vec<String>,
    truncated: bool,
}

fn quasi_kind(k: PiiKind) -> bool {
    matches!(
        k,
        PiiKind::FirstName
            | PiiKind::LastName
            | PiiKind::City
            | PiiKind::PostalCode
            | PiiKind::DateOfBirth
    )
}

fn text_hash(s: &str) -> u128 {
    key_hash(&[&Value::Text(s.to_owned())])
}

fn json_leaves(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_leaves(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| json_leaves(x, out)),
        _ => {}
    }
}

impl LeakScan {
    pub fn new(schema: &Schema, plan: &MaskPlan, detections: &Detections) -> Self {
        let mut watch: HashMap<String, Vec<Watch>> = HashMap::new();
        for (t, cols) in &plan.tables {
            for c in cols {
                let Some(tr) = &c.transform else { continue };
                let quasi_by_kind = detections
                    .column(t, &c.column)
                    .is_some_and(|d| quasi_kind(d.kind));
                let class = match tr {
                    Transform::Null | Transform::Constant(_) | Transform::Noise(_) => continue,
                    Transform::DateNoise(o) => Class::Quasi {
                        own_rate: 1.0 / (2.0 * f64::from(o.days) + 1.0),
                    },
                    _ if quasi_by_kind => Class::Quasi { own_rate: 0.0 },
                    _ => Class::Identifying,
                };
                watch.entry(t.clone()).or_default().push(Watch {
                    column: c.column.clone(),
                    class,
                    transform: tr.name().to_owned(),
                    set: HashSet::new(),
                    hits: 0,
                    src_rows: HashMap::new(),
                    src_freq: HashMap::new(),
                    tgt_freq: HashMap::new(),
                    compared: 0,
                    unchanged: 0,
                    src_values: 0,
                    tgt_values: 0,
                    quasi_by_kind,
                });
            }
        }
        let mut json_cols: HashMap<String, Vec<String>> = HashMap::new();
        for d in &detections.json {
            let v = json_cols.entry(d.table.clone()).or_default();
            if !v.contains(&d.column) {
                v.push(d.column.clone());
            }
        }
        let text_cols = schema
            .tables
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    t.columns
                        .iter()
                        .filter(|c| c.kind.is_textual())
                        .map(|c| (c.name.clone(), c.kind))
                        .collect(),
                )
            })
            .collect();
        Self {
            watch,
            json_cols,
            text_cols,
            union: HashSet::new(),
            cross: HashMap::new(),
            kept_raw: plan.kept_raw.clone(),
            truncated: false,
        }
    }

    /// True when rows of `table` matter to the check (every row must be read).
    pub fn watches(&self, table: &str) -> bool {
        self.watch.contains_key(table)
            || self.json_cols.contains_key(table)
            || !self.union.is_empty()
    }

    pub fn source_row(&mut self, table: &str, cols: &[String], vals: &[Value], id: Option<u128>) {
        if let Some(ws) = self.watch.get_mut(table) {
            for w in ws {
                let Some(i) = cols.iter().position(|c| *c == w.column) else {
                    continue;
                };
                let Some(text) = vals[i].to_text() else {
                    continue;
                };
                w.src_values += 1;
                let h = text_hash(&text);
                *w.src_freq.entry(h).or_default() += 1;
                if let Some(id) = id {
                    w.src_rows.insert(id, h);
                }
                match w.class {
                    Class::Identifying => {
                        if text.chars().count() >= MIN_LEN {
                            if self.union.len() >= MAX_VALUES {
                                self.truncated = true;
                                continue;
                            }
                            w.set.insert(h);
                            self.union.insert(h);
                        }
                    }
                    Class::Quasi { .. } => {}
                }
            }
        }
        if let Some(jc) = self.json_cols.get(table) {
            for c in jc {
                let Some(i) = cols.iter().position(|x| x == c) else {
                    continue;
                };
                let (Value::Json(s) | Value::Text(s)) = &vals[i] else {
                    continue;
                };
                let Ok(doc) = serde_json::from_str::<serde_json::Value>(s) else {
                    continue;
                };
                let mut leaves = Vec::new();
                json_leaves(&doc, &mut leaves);
                for l in leaves {
                    if l.chars().count() >= MIN_LEN
                        && prodlike_mask::detect::classify_value(&l).is_some()
                    {
                        self.union.insert(text_hash(&l));
                    }
                }
            }
        }
    }

    pub fn target_row(&mut self, table: &str, cols: &[String], vals: &[Value], id: Option<u128>) {
        let mut counted: Vec<&str> = Vec::new();
        if let Some(ws) = self.watch.get_mut(table) {
            for w in ws.iter_mut() {
                let Some(i) = cols.iter().position(|c| *c == w.column) else {
                    continue;
                };
                let Some(text) = vals[i].to_text() else {
                    continue;
                };
                let h = text_hash(&text);
                w.tgt_values += 1;
                *w.tgt_freq.entry(h).or_default() += 1;
                let same_row = id.and_then(|id| w.src_rows.get(&id)).map(|src| *src == h);
                if let Some(same) = same_row {
                    w.compared += 1;
                    if same {
                        w.unchanged += 1;
                    }
                }
                if matches!(w.class, Class::Identifying)
                    && w.set.contains(&h)
                    && same_row != Some(true)
                {
                    w.hits += 1;
                }
            }
            counted = ws
                .iter()
                .filter(|w| matches!(w.class, Class::Identifying))
                .map(|w| w.column.as_str())
                .collect();
        }
        if self.union.is_empty() {
            return;
        }
        let Some(tc) = self.text_cols.get(table) else {
            return;
        };
        for (c, kind) in tc {
            if counted.contains(&c.as_str()) {
                continue;
            }
            let Some(i) = cols.iter().position(|x| x == c) else {
                continue;
            };
            let mut leaves = Vec::new();
            match &vals[i] {
                Value::Json(s) | Value::Text(s)
                    if *kind == Kind::Json || s.starts_with('{') || s.starts_with('[') =>
                {
                    match serde_json::from_str::<serde_json::Value>(s) {
                        Ok(doc) => json_leaves(&doc, &mut leaves),
                        Err(_) => leaves.push(s.clone()),
                    }
                }
                other => {
                    if let Some(t) = other.to_text() {
                        leaves.push(t);
                    }
                }
            }
            let hits = leaves
                .iter()
                .filter(|l| self.union.contains(&text_hash(l)))
                .count() as u64;
            let e = self.cross.entry((table.to_owned(), c.clone())).or_default();
            e.0 += hits;
            e.1 += leaves.len() as u64;
        }
    }

    pub fn finish(self, synthetic: bool) -> LeakCheck {
        let mut out = LeakCheck {
            kept_raw: self.kept_raw,
            truncated: self.truncated,
            ..Default::default()
        };
        let mut tables: Vec<(&String, &Vec<Watch>)> = self.watch.iter().collect();
        tables.sort_by_key(|(t, _)| t.as_str());
        for (t, ws) in tables {
            for w in ws {
                // Values most rows share (a common full name) do not identify anyone: such
                // columns are checked row by row, like quasi-identifiers.
                let distinct_ratio = if w.src_values == 0 {
                    1.0
                } else {
                    w.src_freq.len() as f64 / w.src_values as f64
                };
                let quasi = match w.class {
                    Class::Quasi { .. } => true,
                    Class::Identifying => !w.quasi_by_kind && distinct_ratio < 0.5,
                };
                let own_rate = match w.class {
                    Class::Quasi { own_rate } => own_rate,
                    Class::Identifying => 0.0,
                };
                let mut col = LeakColumn {
                    table: t.clone(),
                    column: w.column.clone(),
                    class: if quasi { "quasi" } else { "identifying" }.into(),
                    transform: w.transform.clone(),
                    source_values: w.set.len() as u64,
                    target_hits: w.hits,
                    compared_rows: (!synthetic).then_some(w.compared),
                    unchanged_rows: (!synthetic).then_some(w.unchanged),
                    expected_unchanged: None,
                    chance_matches: 0,
                    leaked: 0,
                };
                if quasi {
                    col.source_values = w.src_freq.len() as u64;
                    col.target_hits = 0;
                    if !synthetic {
                        let (ns, nt) = (
                            w.src_freq.values().sum::<u64>() as f64,
                            w.tgt_freq.values().sum::<u64>() as f64,
                        );
                        let chance: f64 = if ns == 0.0 || nt == 0.0 {
                            0.0
                        } else {
                            w.src_freq
                                .iter()
                                .map(|(h, c)| {
                                    (*c as f64 / ns)
                                        * (w.tgt_freq.get(h).copied().unwrap_or(0) as f64 / nt)
                                })
                                .sum()
                        };
                        let rate = (chance + own_rate).min(1.0);
                        let expected = rate * w.compared as f64;
                        let margin = 5.0 * expected.max(1.0).sqrt() + 3.0;
                        col.expected_unchanged = Some((expected * 10.0).round() / 10.0);
                        if w.unchanged as f64 > expected + margin {
                            col.leaked = w.unchanged;
                        }
                    }
                } else {
                    // A row keeping its own identifying value is a leak, always. Matches with
                    // another row's real value are a leak when systematic (shuffled or copied
                    // values), coincidence when rare.
                    let unchanged = if synthetic { 0 } else { w.unchanged };
                    if systematic(w.hits, w.tgt_values) {
                        col.leaked = unchanged + w.hits;
                    } else {
                        col.leaked = unchanged;
                        col.chance_matches = w.hits;
                    }
                }
                out.leaked_values += col.leaked;
                out.columns.push(col);
            }
        }
        let mut cross: Vec<CrossColumnHit> = self
            .cross
            .into_iter()
            .filter(|(_, (hits, _))| *hits > 0)
            .map(|((table, column), (hits, scanned))| CrossColumnHit {
                table,
                column,
                hits,
                scanned,
                leaked: systematic(hits, scanned),
            })
            .collect();
        cross.sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
        out.leaked_values += cross
            .iter()
            .filter(|c| c.leaked)
            .map(|c| c.hits)
            .sum::<u64>();
        out.cross_column = cross;
        out
    }
}

/// More than one value in a thousand matching real values, or more than 3 when few were
/// looked at: not what pseudonyms hitting real values by chance look like.
fn systematic(hits: u64, scanned: u64) -> bool {
    hits > 3 && hits as f64 > 0.001 * scanned as f64
}
