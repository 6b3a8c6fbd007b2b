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
//! - **Every text column**, masked or not, free text included: each value's personal pieces
//!   (emails, phones and the other patterns of `find_spans`, the database's person names, known
//!   given name + surname pairs) and, when it is one, the whole value of an identifying column
//!   are compared with the *same row* of the source (same primary key). A piece still there on
//!   its row is a leak (`row_leaks`); a piece equal to a source piece of the same class on
//!   another row is a chance match between a fake and an unrelated real value
//!   (`class_matches`), reported and not counted, unless systematic. Tables without a primary
//!   key fall back to the rate: more matches than chance is a leak.
//!
//! Source values are held only as 128-bit hashes, in memory, for the duration of the check.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use prodlike_mask::Transform;
use prodlike_mask::detect::{NameDict, PiiKind, find_spans, name_spans};

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

/// What a personal piece of a text is, for comparing like with like.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Piece {
    /// The whole value (or a JSON leaf), compared with identifying columns' source values.
    Whole,
    /// An email, a phone, a card… found inside the text.
    Pattern(PiiKind),
    /// A given name followed by a surname.
    NamePair,
}

/// Each row's (by id) personal pieces of one column.
type RowPieces = HashMap<u128, Vec<(u128, Piece)>>;

/// A free-text value's words (lowercased, hashed), each flagged when it is a person's name.
type Words = Vec<(u128, bool)>;

/// Per target column: (row leaks, class matches, values scanned).
#[derive(Default, Clone, Copy)]
struct TextCounts {
    row_leaks: u64,
    class_matches: u64,
    scanned: u64,
}

/// Collects source values, then checks target rows.
pub struct LeakScan {
    watch: HashMap<String, Vec<Watch>>,
    text_cols: HashMap<String, Vec<(String, Kind)>>,
    union: HashSet<u128>,
    /// The database's person names (from detection), to find them in text.
    names: Arc<NameDict>,
    /// Columns whose people are inside their text (detected free text or lists).
    free_text: HashSet<(String, String)>,
    /// Source pieces per (table, column), per row id.
    src_pieces: HashMap<(String, String), RowPieces>,
    /// Tables whose rows have an identity, so that rows can be compared.
    keyed: HashSet<String>,
    /// Every source piece, by class.
    src_all: HashSet<(u128, Piece)>,
    /// Free-text columns' words per row: a person's name still in its place is a leak.
    src_words: HashMap<(String, String), HashMap<u128, Words>>,
    /// Every person-name word of the source's free text.
    src_name_words: HashSet<u128>,
    held: usize,
    text: HashMap<(String, String), TextCounts>,
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
        let free_text = detections
            .columns
            .iter()
            .filter(|d| d.content.is_some())
            .map(|d| (d.table.clone(), d.column.clone()))
            .collect();
        Self {
            watch,
            text_cols,
            union: HashSet::new(),
            names: detections.names.clone(),
            free_text,
            src_pieces: HashMap::new(),
            keyed: HashSet::new(),
            src_all: HashSet::new(),
            src_words: HashMap::new(),
            src_name_words: HashSet::new(),
            held: 0,
            text: HashMap::new(),
            kept_raw: plan.kept_raw.clone(),
            truncated: false,
        }
    }

    /// True when rows of `table` matter to the check (every row must be read).
    pub fn watches(&self, table: &str) -> bool {
        self.watch.contains_key(table) || self.text_cols.get(table).is_some_and(|c| !c.is_empty())
    }

    /// The personal pieces of one text value (JSON leaves one by one).
    fn pieces(&self, kind: Kind, v: &Value) -> Vec<(u128, Piece)> {
        let mut leaves = Vec::new();
        match v {
            Value::Json(s) | Value::Text(s)
                if kind == Kind::Json || s.starts_with('{') || s.starts_with('[') =>
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
        let mut out = Vec::new();
        for l in &leaves {
            if l.chars().count() >= MIN_LEN {
                out.push((text_hash(l), Piece::Whole));
            }
            for span in find_spans(l) {
                let piece = l[span.range].trim().to_lowercase();
                out.push((text_hash(&piece), Piece::Pattern(span.kind)));
            }
            let names = name_spans(l, &self.names);
            for (i, n) in names.iter().enumerate() {
                let token = l[n.range.clone()].to_lowercase();
                // Only the database's own people: a title's "Eric Clapton" is not one of them.
                if let Some(next) = names.get(i + 1)
                    && l[n.range.end..next.range.start].chars().all(|c| c == ' ')
                    && self.names.is_pair(&token, &l[next.range.clone()])
                {
                    let pair = format!("{token} {}", l[next.range.clone()].to_lowercase());
                    out.push((text_hash(&pair), Piece::NamePair));
                }
            }
        }
        out
    }

    /// The words of a free-text value, flagged when they are a person's name. Masking replaces a
    /// name in its place, so a name still at its place (counted from the start or from the
    /// end, in case text was added) is left, while a fake that happens to equal another real
    /// name of the row is elsewhere.
    fn words(&self, v: &Value) -> Words {
        let Some(text) = v.to_text() else {
            return Vec::new();
        };
        let names: HashSet<usize> = name_spans(&text, &self.names)
            .into_iter()
            .map(|n| n.range.start)
            .collect();
        let mut out = Vec::new();
        let mut start: Option<usize> = None;
        let push = |s: usize, e: usize, out: &mut Words| {
            let w = text[s..e].to_lowercase();
            out.push((text_hash(&w), names.contains(&s)));
        };
        for (i, c) in text.char_indices() {
            if c.is_alphabetic() {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                push(s, i, &mut out);
            }
        }
        if let Some(s) = start {
            push(s, text.len(), &mut out);
        }
        out
    }

    fn source_text(&mut self, table: &str, cols: &[String], vals: &[Value], id: Option<u128>) {
        if id.is_some() && !self.keyed.contains(table) {
            self.keyed.insert(table.to_owned());
        }
        let Some(tc) = self.text_cols.get(table) else {
            return;
        };
        let mut found = Vec::new();
        for (c, kind) in tc {
            let Some(i) = cols.iter().position(|x| x == c) else {
                continue;
            };
            let pieces = self.pieces(*kind, &vals[i]);
            if !pieces.is_empty() {
                found.push((c.clone(), pieces));
            }
        }
        let free: Vec<(usize, String)> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| self.free_text.contains(&(table.to_owned(), (*c).clone())))
            .map(|(i, c)| (i, c.clone()))
            .collect();
        for (i, c) in free {
            let words = self.words(&vals[i]);
            self.src_name_words
                .extend(words.iter().filter(|w| w.1).map(|w| w.0));
            if let Some(id) = id
                && words.iter().any(|w| w.1)
            {
                self.held += words.len();
                self.src_words
                    .entry((table.to_owned(), c))
                    .or_default()
                    .insert(id, words);
            }
        }
        for (c, pieces) in found {
            for p in &pieces {
                if p.1 != Piece::Whole {
                    self.src_all.insert(*p);
                }
            }
            let Some(id) = id else { continue };
            if self.held >= MAX_VALUES {
                self.truncated = true;
                continue;
            }
            self.held += pieces.len();
            self.src_pieces
                .entry((table.to_owned(), c))
                .or_default()
                .insert(id, pieces);
        }
    }

    fn target_text(
        &mut self,
        table: &str,
        cols: &[String],
        vals: &[Value],
        id: Option<u128>,
        watched: &[String],
    ) {
        let Some(tc) = self.text_cols.get(table).cloned() else {
            return;
        };
        for (c, kind) in tc {
            let Some(i) = cols.iter().position(|x| *x == c) else {
                continue;
            };
            let key = (table.to_owned(), c.clone());
            let own_column_watched = watched.contains(&c);
            let pieces = self.pieces(kind, &vals[i]);
            let same_row: HashSet<(u128, Piece)> = id
                .and_then(|id| self.src_pieces.get(&key).and_then(|m| m.get(&id)))
                .map(|v| v.iter().copied().collect())
                .unwrap_or_default();
            let mut counts = self.text.get(&key).copied().unwrap_or_default();
            counts.scanned += 1;
            if self.free_text.contains(&key) {
                let t = self.words(&vals[i]);
                let s = id.and_then(|id| self.src_words.get(&key).and_then(|m| m.get(&id)));
                let left = s.map_or(0, |s| names_in_place(s, &t));
                counts.row_leaks += left;
                let named = t
                    .iter()
                    .filter(|w| self.src_name_words.contains(&w.0))
                    .count() as u64;
                counts.class_matches += named.saturating_sub(left);
            }
            for p in pieces {
                let known = match p.1 {
                    // A whole value counts when it is an identifying source value; its own
                    // column's whole values are the watch's (same row, same column) business.
                    Piece::Whole => !own_column_watched && self.union.contains(&p.0),
                    _ => self.src_all.contains(&p),
                };
                if !known {
                    continue;
                }
                if same_row.contains(&p) {
                    counts.row_leaks += 1;
                } else {
                    counts.class_matches += 1;
                }
            }
            self.text.insert(key, counts);
        }
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
        self.source_text(table, cols, vals, id);
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
        let watched: Vec<String> = counted.iter().map(|c| (*c).to_owned()).collect();
        self.target_text(table, cols, vals, id, &watched);
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
        let mut cross = text_hits(&self.text, &self.keyed);
        cross.sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
        out.leaked_values += cross
            .iter()
            .filter(|c| c.leaked)
            .map(|c| c.row_leaks.filter(|n| *n > 0).unwrap_or(c.hits))
            .sum::<u64>();
        out.row_leaks = Some(
            out.columns
                .iter()
                .filter(|c| c.class == "identifying")
                .filter_map(|c| c.unchanged_rows)
                .sum::<u64>()
                + cross.iter().filter_map(|c| c.row_leaks).sum::<u64>(),
        );
        out.class_matches = Some(
            out.columns.iter().map(|c| c.chance_matches).sum::<u64>()
                + cross.iter().filter_map(|c| c.class_matches).sum::<u64>(),
        );
        out.cross_column = cross;
        out
    }
}

/// Every text column with personal pieces of the source: leaked when one is still on its row,
/// or, in tables without a primary key (no row to compare), at a rate above chance.
fn text_hits(
    text: &HashMap<(String, String), TextCounts>,
    keyed: &HashSet<String>,
) -> Vec<CrossColumnHit> {
    text.iter()
        .filter(|(_, c)| c.row_leaks + c.class_matches > 0)
        .map(|((table, column), c)| {
            let per_row = keyed.contains(table);
            CrossColumnHit {
                table: table.clone(),
                column: column.clone(),
                hits: c.row_leaks + c.class_matches,
                scanned: c.scanned,
                leaked: c.row_leaks > 0 || (systematic(c.class_matches, c.scanned) && !per_row),
                row_leaks: Some(c.row_leaks),
                class_matches: Some(c.class_matches),
            }
        })
        .collect()
}

/// Source name words still at their place in the target's words, aligned from the start and
/// from the end (text added at one end shifts only one of the two).
fn names_in_place(s: &Words, t: &Words) -> u64 {
    let n = s.len().min(t.len());
    let mut at: HashSet<usize> = HashSet::new();
    for i in 0..n {
        if s[i].1 && s[i].0 == t[i].0 {
            at.insert(i);
        }
        let (si, ti) = (s.len() - 1 - i, t.len() - 1 - i);
        if s[si].1 && s[si].0 == t[ti].0 {
            at.insert(si);
        }
    }
    at.len() as u64
}

/// More than one value in a thousand matching real values, or more than 3 when few were
/// looked at: not what pseudonyms hitting real values by chance look like.
fn systematic(hits: u64, scanned: u64) -> bool {
    hits > 3 && hits as f64 > 0.001 * scanned as f64
}
