//! Which columns are masked, how, and why: rules from data.toml, PII detected in the source
//! (safe by default), and foreign keys (a key column and the columns referencing it are masked
//! alike so joins survive). Bound to a key, the plan masks fields on the way through.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use prodlike_mask::detect::{
    ClassShare, Content, ContentScan, ContentVerdict, Evidence, JsonPiiScan, NameDict, PiiKind,
    ValueScan, combine, detect_name,
};
use prodlike_mask::{
    Alphabet, DateNoiseOptions, Fit, FormatPreservingOptions, HashOptions, JsonMasker, JsonRule,
    Mask, Masker, Output, TextMasker, Transform, UniqueScope,
};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::row::Field;
use crate::rules::Rules;
use crate::schema::{Column, Kind, Schema, Table};
use crate::source::{FieldType, Scan, Source, collect};
use crate::value::{Value, parse_uuid};

/// Rows read per table to detect PII from values.
pub const DETECT_SAMPLE_ROWS: u64 = 2000;

/// A column detected as PII. Holds kinds and counts, never values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DetectedColumn {
    pub table: String,
    pub column: String,
    pub kind: PiiKind,
    pub confidence: f64,
    pub evidence: Evidence,
    /// Set when the people are inside the values (free text, lists of people): those are masked
    /// span by span instead of whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Sampled values matching each class: the evidence for the decision, as counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<ClassShare>,
}

/// A column whose name suggested a person but whose values did not (a `name` column of genres):
/// not masked, reported with the evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VetoedColumn {
    pub table: String,
    pub column: String,
    /// The name pattern that matched (`name`).
    pub pattern: String,
    pub shares: Vec<ClassShare>,
    pub sampled: u64,
}

/// PII found inside a JSON column, by path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DetectedJson {
    pub table: String,
    pub column: String,
    pub path: String,
    pub kind: PiiKind,
    pub confidence: f64,
}

/// Everything detection found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Detections {
    pub columns: Vec<DetectedColumn>,
    pub json: Vec<DetectedJson>,
    /// Columns named like people whose values are not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vetoed: Vec<VetoedColumn>,
    /// Name tokens of the person columns in the detection sample, for finding those people in
    /// free text. In memory only: never written to a profile or a result.
    #[serde(skip)]
    pub names: Arc<NameDict>,
}

impl Detections {
    pub fn column(&self, table: &str, column: &str) -> Option<&DetectedColumn> {
        self.columns
            .iter()
            .find(|d| d.table == table && d.column == column)
    }
}

fn could_hold_json(c: &Column) -> bool {
    c.kind == Kind::Json
}

/// How far the values must confirm a name-based guess of a person's name.
#[derive(PartialEq)]
enum NameCheck {
    /// A bare `name` (genres, tracks, categories are all called `name`): the values must be
    /// people.
    MustBePeople,
    /// `<person word>_name` (`ship_name`, `contact_name`): the values must not plainly be
    /// something else (companies).
    MustNotBeOther,
    /// `first_name`, `email`…: the name decides.
    None,
}

fn name_check(d: &prodlike_mask::detect::Detection) -> NameCheck {
    let bare_name = matches!(d.kind, PiiKind::Name)
        && matches!(&d.evidence, Evidence::Name { pattern } if pattern == "name");
    match (bare_name, d.confidence < 0.75) {
        (true, true) => NameCheck::MustBePeople,
        (true, false) => NameCheck::MustNotBeOther,
        _ => NameCheck::None,
    }
}

/// One table's text columns and their sample, between the two passes of [`detect`].
struct Sampled<'a> {
    table: &'a Table,
    text_cols: Vec<&'a Column>,
    /// Sampled values per text column, row by row (None for NULL and JSON): the second pass
    /// counts the database's own names in them. Dropped when detection ends.
    values: Vec<Vec<Option<String>>>,
    scans: Vec<ContentScan>,
}

/// Sample reads in flight at once: each is a connection of its own, so a schema of hundreds
/// of tables must not open hundreds.
const SAMPLE_READS_AT_ONCE: usize = 4;

/// The first [`DETECT_SAMPLE_ROWS`] rows of each table's textual columns (`None` for a table
/// without any), in `tables`' order. Read a few tables at once: one after another, each read's
/// connection and round trips kept one core idle at the start of a sync.
async fn read_samples(
    source: &Source,
    tables: &[&Table],
) -> Result<Vec<Option<(Vec<FieldType>, crate::row::Batch)>>> {
    use futures_util::{StreamExt, TryStreamExt};
    futures_util::stream::iter(tables.iter().map(|t| async move {
        let columns: Vec<String> = t
            .columns
            .iter()
            .filter(|c| c.generated.is_none() && c.kind.is_textual())
            .map(|c| c.name.clone())
            .collect();
        if columns.is_empty() {
            return Ok(None);
        }
        let scan = Scan {
            columns,
            limit: Some(DETECT_SAMPLE_ROWS),
            ..Default::default()
        };
        let (types, rx) = source.scan(t, &scan).await?;
        Ok(Some((types, collect(rx).await?)))
    }))
    .buffered(SAMPLE_READS_AT_ONCE)
    .try_collect()
    .await
}

/// Detects PII in `tables` from column names and a sample of values: in a first pass each
/// column by its name and values; then, with the names of the person columns found, the columns
/// holding those people inside their text (`notes`, a photo's path).
// Long: the two passes and the per-column decision, in the order the docs describe them.
#[allow(clippy::too_many_lines)]
pub async fn detect(source: &Source, tables: &[&Table]) -> Result<Detections> {
    let mut out = Detections::default();
    let mut names = NameDict::new();
    let mut sampled: Vec<Sampled> = Vec::new();
    let samples = read_samples(source, tables).await?;
    for (t, sample) in tables.iter().zip(samples) {
        let cols: Vec<&Column> = t.columns.iter().filter(|c| c.generated.is_none()).collect();
        let text_cols: Vec<&Column> = cols
            .iter()
            .copied()
            .filter(|c| c.kind.is_textual())
            .collect();
        let mut scans: Vec<ValueScan> = text_cols.iter().map(|_| ValueScan::new()).collect();
        let mut content: Vec<ContentScan> = text_cols.iter().map(|_| ContentScan::new()).collect();
        let mut values: Vec<Vec<Option<String>>> = text_cols.iter().map(|_| Vec::new()).collect();
        let mut json_scans: Vec<JsonPiiScan> =
            text_cols.iter().map(|_| JsonPiiScan::new()).collect();
        if let Some((types, rows)) = sample {
            for row in rows {
                for (i, f) in row.iter().enumerate() {
                    let v = types[i].value(f);
                    // Aligned with the rows, so a first and a last name pair up.
                    values[i].push(None);
                    let Some(slot) = values[i].last_mut() else {
                        continue;
                    };
                    match v {
                        Value::Null => {}
                        Value::Json(s) => {
                            json_scans[i].add_text(&s);
                        }
                        other => {
                            if let Some(s) = other.to_text() {
                                if s.starts_with('{') || s.starts_with('[') {
                                    json_scans[i].add_text(&s);
                                }
                                scans[i].add(&s);
                                content[i].add(&s);
                                *slot = Some(s);
                            }
                        }
                    }
                }
            }
        }
        for c in &cols {
            let at = text_cols.iter().position(|x| x.name == c.name);
            let by_values = at.and_then(|i| {
                if could_hold_json(c) {
                    None
                } else {
                    scans[i].finish()
                }
            });
            let scan = at.map(|i| &content[i]);
            let mut by_name = detect_name(&c.name);
            let mut detected_content = None;
            let shares = scan.map(ContentScan::shares).unwrap_or_default();
            // A bare `name` is a person only when the values are people.
            let vetoed = match (&by_name, scan) {
                (Some(n), Some(scan)) => match name_check(n) {
                    NameCheck::MustBePeople => !scan.looks_like_people(),
                    NameCheck::MustNotBeOther => scan.plainly_not_people(),
                    NameCheck::None => false,
                },
                _ => false,
            };
            if vetoed && let Some(scan) = scan {
                out.vetoed.push(VetoedColumn {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    pattern: "name".into(),
                    shares: shares.clone(),
                    sampled: scan.sampled(),
                });
                by_name = None;
            }
            let mut found = combine(by_name, by_values);
            if found.is_none()
                && let Some(scan) = scan
                && !could_hold_json(c)
            {
                let verdict = scan.verdict();
                let kind_and_content = match verdict {
                    ContentVerdict::Person => Some(None),
                    ContentVerdict::PersonList => Some(Some(Content::NameList)),
                    ContentVerdict::FreeText => Some(Some(Content::FreeText)),
                    ContentVerdict::Nothing => None,
                };
                if let Some(cn) = kind_and_content {
                    let matched = scan.matched(verdict);
                    let n = scan.sampled();
                    let confidence =
                        matched as f64 / n.max(1) as f64 * (n as f64 / (n as f64 + 2.0));
                    found = Some(prodlike_mask::detect::Detection {
                        kind: PiiKind::Name,
                        confidence: (confidence * 1000.0).round() / 1000.0,
                        evidence: Evidence::Values {
                            matched,
                            sampled: n,
                        },
                        recommended: PiiKind::Name.default_transform(),
                    });
                    detected_content = cn;
                }
            }
            if let Some(d) = found {
                // A key column named like PII (`user_id` is not, `email` is) still counts.
                if let Some(i) = at {
                    add_names(&mut names, d.kind, detected_content, &values[i]);
                }
                out.columns.push(DetectedColumn {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    kind: d.kind,
                    confidence: d.confidence,
                    evidence: d.evidence,
                    content: detected_content,
                    shares,
                });
            }
        }
        add_pairs(&mut names, &out, t, &text_cols, &values);
        for (i, c) in text_cols.iter().enumerate() {
            if out.column(&t.name, &c.name).is_some() && !could_hold_json(c) {
                continue;
            }
            for j in json_scans[i].finish() {
                out.json.push(DetectedJson {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    path: j.path.clone(),
                    kind: j.kind,
                    confidence: j.confidence,
                });
            }
        }
        sampled.push(Sampled {
            table: t,
            text_cols,
            values,
            scans: content,
        });
    }
    // Second pass: the database's own people inside columns detected as nothing so far.
    if !names.is_empty() {
        for s in &mut sampled {
            for (i, c) in s.text_cols.iter().enumerate() {
                if could_hold_json(c)
                    || out.column(&s.table.name, &c.name).is_some()
                    || out
                        .json
                        .iter()
                        .any(|j| j.table == s.table.name && j.column == c.name)
                    || s.table.is_key_column(&c.name)
                {
                    continue;
                }
                let scan = &mut s.scans[i];
                for v in s.values[i].iter().flatten() {
                    scan.add_known(v, &names);
                }
                if scan.verdict() == ContentVerdict::FreeText {
                    out.vetoed
                        .retain(|v| !(v.table == s.table.name && v.column == c.name));
                    let matched = scan.matched(ContentVerdict::FreeText);
                    let n = scan.sampled();
                    out.columns.push(DetectedColumn {
                        table: s.table.name.clone(),
                        column: c.name.clone(),
                        kind: PiiKind::Name,
                        confidence: ((matched as f64 / n.max(1) as f64) * 1000.0).round() / 1000.0,
                        evidence: Evidence::Values {
                            matched,
                            sampled: n,
                        },
                        content: Some(Content::FreeText),
                        shares: scan.shares(),
                    });
                }
            }
        }
    }
    out.names = Arc::new(names);
    Ok(out)
}

/// A table's given-name and surname columns, row by row: the people of the database, so that
/// the leak check tells "Steven Buchanan" (an employee) from a title's "Eric Clapton".
fn add_pairs(
    names: &mut NameDict,
    found: &Detections,
    t: &Table,
    text_cols: &[&Column],
    values: &[Vec<Option<String>>],
) {
    let col = |kind: PiiKind| {
        text_cols.iter().position(|c| {
            found
                .column(&t.name, &c.name)
                .is_some_and(|d| d.kind == kind && d.content.is_none())
        })
    };
    let (Some(g), Some(s)) = (col(PiiKind::FirstName), col(PiiKind::LastName)) else {
        return;
    };
    for (given, surname) in values[g].iter().zip(&values[s]) {
        if let (Some(given), Some(surname)) = (given, surname) {
            names.add_pair(given, surname);
        }
    }
}

/// Adds the sampled values of a person column to the dictionary free text is searched with.
/// Only columns of people one by one (customers, employees, contacts): a list such as
/// `composer` names public figures, whose names are song titles' and bands' words too.
fn add_names(
    names: &mut NameDict,
    kind: PiiKind,
    content: Option<Content>,
    values: &[Option<String>],
) {
    if content.is_some() {
        return;
    }
    for v in values.iter().flatten() {
        match kind {
            PiiKind::FirstName => names.add_given(v),
            PiiKind::LastName => names.add_surname(v),
            PiiKind::Name => names.add_full(v),
            _ => {}
        }
    }
}

/// Why a column is masked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum Origin {
    /// A rule in data.toml.
    Rule,
    /// Detected as PII, masked by default.
    Detected { kind: PiiKind },
    /// Linked by a foreign key to a masked column (`table.column`).
    ForeignKey { linked_to: String },
}

/// One masked column, as reported.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MaskedColumn {
    pub table: String,
    pub column: String,
    /// Transform name (`email`, `format_preserving`…).
    pub transform: String,
    #[serde(flatten)]
    pub origin: Origin,
    /// Kept unique with a uniqueness scope.
    pub unique: bool,
    /// JSON paths masked inside the column (JSON rules and detections).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_paths: Vec<String>,
}

/// A column decision before binding to a key.
#[derive(Debug, Clone)]
pub struct PlannedColumn {
    pub column: String,
    pub kind: Kind,
    pub transform: Option<Transform>,
    pub json_rules: Vec<JsonRule>,
    pub origin: Origin,
    /// Index of the shared uniqueness scope, if any.
    pub scope: Option<usize>,
    /// What the column accepts (length, simple CHECKs): masked values are fitted to it.
    pub fit: Fit,
    /// Masked span by span (free text, lists of people) rather than whole.
    pub content: Option<Content>,
}

/// The masking decisions of a sync.
#[derive(Debug, Clone, Default)]
pub struct MaskPlan {
    pub tables: BTreeMap<String, Vec<PlannedColumn>>,
    pub scopes: usize,
    /// `table.column` of detected PII columns kept raw by an explicit `keep` rule.
    pub kept_raw: Vec<String>,
    pub report: Vec<MaskedColumn>,
    /// The database's names, for masking the people inside free text (from detection).
    pub names: Arc<NameDict>,
}

/// A transform for a detected kind that fits the column's type.
pub fn fit_default(kind: PiiKind, col: &Column) -> Option<Transform> {
    let t = kind.default_transform();
    if t.accepts(col.kind.value_kind()) {
        return Some(t);
    }
    match col.kind {
        Kind::Int | Kind::Decimal => Some(Transform::FormatPreserving(FormatPreservingOptions {
            alphabet: Alphabet::Digits,
            ..Default::default()
        })),
        Kind::Date | Kind::Timestamp | Kind::TimestampTz => {
            Some(Transform::DateNoise(DateNoiseOptions { days: 180 }))
        }
        Kind::Text | Kind::Json => Some(Transform::Hash(HashOptions::default())),
        Kind::Uuid => Some(Transform::FormatPreserving(FormatPreservingOptions {
            alphabet: Alphabet::Hex,
            ..Default::default()
        })),
        Kind::Inet => Some(Transform::Ip),
        _ if col.nullable => Some(Transform::Null),
        _ => None,
    }
}

struct Dsu {
    parent: Vec<usize>,
}

impl Dsu {
    fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.parent[r] != r {
            r = self.parent[r];
        }
        let mut y = x;
        while self.parent[y] != r {
            let n = self.parent[y];
            self.parent[y] = r;
            y = n;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a] = b;
        }
    }
}

fn masks_values(t: &Transform) -> bool {
    !matches!(t, Transform::Keep)
}

/// Decides every column's mask. `unmasked` turns masking off entirely (explicit `--no-mask`).
// Long: column decisions in their order of precedence (rules, keys, detection, uniqueness); a split is noted in issue 11.
#[allow(clippy::too_many_lines)]
pub fn plan(
    schema: &Schema,
    tables: &[&Table],
    rules: &Rules,
    detections: &Detections,
    strict: bool,
    file: &str,
) -> Result<MaskPlan> {
    // Every column of every table, numbered, with FK links merged.
    let mut ids: HashMap<(String, String), usize> = HashMap::new();
    let mut cols: Vec<(&Table, &Column)> = Vec::new();
    for t in tables {
        for c in &t.columns {
            ids.insert((t.name.clone(), c.name.clone()), cols.len());
            cols.push((t, c));
        }
    }
    let mut dsu = Dsu {
        parent: (0..cols.len()).collect(),
    };
    for t in tables {
        for fk in &t.foreign_keys {
            for (c, p) in fk.columns.iter().zip(&fk.ref_columns) {
                if let (Some(&a), Some(&b)) = (
                    ids.get(&(t.name.clone(), c.clone())),
                    ids.get(&(fk.ref_table.clone(), p.clone())),
                ) {
                    dsu.union(a, b);
                }
            }
        }
    }
    // Decide per group: explicit rules win, then detection.
    let mut group_rule: HashMap<usize, (Transform, String)> = HashMap::new();
    let mut group_detected: HashMap<usize, (PiiKind, f64, String)> = HashMap::new();
    let mut unruled = Vec::new();
    let mut kept_raw = Vec::new();
    for (i, (t, c)) in cols.iter().enumerate() {
        let g = dsu.find(i);
        let here = format!("{}.{}", t.name, c.name);
        if let Some(tr) = rules
            .tables
            .get(&t.name)
            .and_then(|r| r.columns.get(&c.name))
        {
            if let Some((other, at)) = group_rule.get(&g)
                && other != tr
            {
                return Err(DataError::Rules {
                    file: file.to_owned(),
                    field: format!("tables.{}.columns.{}", t.name, c.name),
                    reason: format!(
                        "`{here}` and `{at}` are linked by a foreign key and must be masked alike (`{}` vs `{}`); give both the same transform",
                        tr.name(),
                        other.name()
                    ),
                });
            }
            group_rule.insert(g, (tr.clone(), here.clone()));
        }
        if let Some(d) = detections
            .column(&t.name, &c.name)
            .filter(|d| d.content.is_none())
        {
            let e = group_detected
                .entry(g)
                .or_insert((d.kind, d.confidence, here.clone()));
            if d.confidence > e.1 {
                *e = (d.kind, d.confidence, here.clone());
            }
        }
    }
    for (i, (t, c)) in cols.iter().enumerate() {
        let g = dsu.find(i);
        if detections.column(&t.name, &c.name).is_some() {
            match group_rule.get(&g) {
                None => unruled.push(format!("{}.{}", t.name, c.name)),
                Some((Transform::Keep, _)) => kept_raw.push(format!("{}.{}", t.name, c.name)),
                _ => {}
            }
        }
    }
    if strict && !unruled.is_empty() {
        return Err(DataError::StrictUnruled {
            columns: unruled.join(", "),
        });
    }

    // Columns linked by a foreign key are masked alike, so they are fitted alike too: to the
    // tightest of their limits, or a value fitted in one would not join with the other.
    let mut group_fit: HashMap<usize, Fit> = HashMap::new();
    for (i, (t, c)) in cols.iter().enumerate() {
        let f = crate::fit::column_fit(t, c).0;
        let g = group_fit.entry(dsu.find(i)).or_insert_with(|| f.clone());
        g.max_chars = match (g.max_chars, f.max_chars) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        g.min_chars = g.min_chars.max(f.min_chars);
        if g.one_of.is_empty() {
            g.one_of = f.one_of;
        }
    }
    let mut out = MaskPlan {
        kept_raw,
        names: detections.names.clone(),
        ..Default::default()
    };
    let mut scope_of_group: HashMap<usize, usize> = HashMap::new();
    for (i, (t, c)) in cols.iter().enumerate() {
        let g = dsu.find(i);
        let here = format!("{}.{}", t.name, c.name);
        // People inside the values (free text, lists): masked span by span, unless a rule says
        // otherwise.
        let content = detections
            .column(&t.name, &c.name)
            .and_then(|d| d.content)
            .filter(|_| !group_rule.contains_key(&g) && c.kind.is_textual());
        if let Some(content) = content {
            out.report.push(MaskedColumn {
                table: t.name.clone(),
                column: c.name.clone(),
                transform: content.transform_name().to_owned(),
                origin: Origin::Detected {
                    kind: PiiKind::Name,
                },
                unique: false,
                json_paths: Vec::new(),
            });
            out.tables
                .entry(t.name.clone())
                .or_default()
                .push(PlannedColumn {
                    column: c.name.clone(),
                    kind: c.kind,
                    transform: None,
                    json_rules: Vec::new(),
                    origin: Origin::Detected {
                        kind: PiiKind::Name,
                    },
                    scope: None,
                    fit: crate::fit::column_fit(t, c).0,
                    content: Some(content),
                });
            continue;
        }
        let (transform, origin) = match (group_rule.get(&g), group_detected.get(&g)) {
            (Some((tr, at)), _) => (
                tr.clone(),
                if *at == here {
                    Origin::Rule
                } else {
                    Origin::ForeignKey {
                        linked_to: at.clone(),
                    }
                },
            ),
            (None, Some((kind, _, at))) => {
                let tr = fit_default(*kind, c).ok_or_else(|| DataError::Mask {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    reason: format!("detected as {kind:?} but no default transform fits its type {}; add a rule for it", c.sql_type),
                })?;
                (
                    tr,
                    if *at == here {
                        Origin::Detected { kind: *kind }
                    } else {
                        Origin::ForeignKey {
                            linked_to: at.clone(),
                        }
                    },
                )
            }
            (None, None) => (Transform::Keep, Origin::Rule),
        };
        let json_rules: Vec<JsonRule> = rules
            .tables
            .get(&t.name)
            .map(|r| {
                r.json
                    .iter()
                    .filter(|j| j.column == c.name)
                    .map(|j| j.rule())
                    .collect()
            })
            .unwrap_or_default();
        let mut json_rules = json_rules;
        // Detected JSON paths not covered by a rule of the same path are masked by default.
        if !masks_values(&transform) || matches!(transform, Transform::Keep) {
            for d in detections
                .json
                .iter()
                .filter(|d| d.table == t.name && d.column == c.name)
            {
                if !json_rules
                    .iter()
                    .any(|r| r.path.as_deref() == Some(&d.path))
                    && !group_rule.contains_key(&g)
                {
                    json_rules.push(JsonRule::path(&d.path, d.kind.default_transform()));
                }
            }
        }
        if !masks_values(&transform) && json_rules.is_empty() {
            continue;
        }
        if masks_values(&transform) {
            transform
                .check_kind(c.kind.value_kind())
                .map_err(|e| DataError::Mask {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    reason: format!("{} (column type {})", e.message, c.sql_type),
                })?;
            let (_, unread) = crate::fit::column_fit(t, c);
            let fit = group_fit.get(&g).cloned().unwrap_or_default();
            fit.check(&transform).map_err(|reason| DataError::Mask {
                table: t.name.clone(),
                column: c.name.clone(),
                reason: format!("{reason} (column type {})", c.sql_type),
            })?;
            if !unread.is_empty() {
                tracing::warn!(
                    "{}.{}: CHECK {} not evaluated when fitting masked values; a value it refuses stops the sync with PostgreSQL's message",
                    t.name,
                    c.name,
                    unread.join(", ")
                );
            }
            if matches!(transform, Transform::Null) && !c.nullable {
                return Err(DataError::Mask {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    reason: "`null` on a NOT NULL column; use a fake or `constant` instead".into(),
                });
            }
        }
        let unique_needed = masks_values(&transform)
            && !transform.is_injective()
            && !transform.is_column_level()
            && cols
                .iter()
                .enumerate()
                .any(|(j, (tt, cc))| dsu.find(j) == g && tt.is_unique_member(&cc.name));
        let mut scope = None;
        if unique_needed {
            if !matches!(c.kind, Kind::Text | Kind::Uuid | Kind::Inet | Kind::Decimal) {
                return Err(DataError::Mask {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    reason: format!(
                        "the column is unique and `{}` can map two values to one on a {} column; use `format_preserving` (a bijection) or `keep`",
                        transform.name(),
                        c.sql_type
                    ),
                });
            }
            let next = scope_of_group.len();
            scope = Some(*scope_of_group.entry(g).or_insert(next));
        }
        // Masked only inside (JSON paths): say so, and why.
        let (shown, origin) = if masks_values(&transform) {
            (transform.name().to_owned(), origin)
        } else {
            let explicit = rules
                .tables
                .get(&t.name)
                .is_some_and(|r| r.json.iter().any(|j| j.column == c.name));
            let detected = detections
                .json
                .iter()
                .find(|d| d.table == t.name && d.column == c.name);
            (
                "json_paths".to_owned(),
                match (explicit, detected) {
                    (false, Some(d)) => Origin::Detected { kind: d.kind },
                    _ => Origin::Rule,
                },
            )
        };
        out.report.push(MaskedColumn {
            table: t.name.clone(),
            column: c.name.clone(),
            transform: shown,
            origin: origin.clone(),
            unique: scope.is_some(),
            json_paths: json_rules
                .iter()
                .map(|r| {
                    r.path
                        .clone()
                        .or_else(|| r.key.clone().map(|k| format!("**/{k}")))
                        .unwrap_or_default()
                })
                .collect(),
        });
        let fit = if masks_values(&transform) {
            // The group's text limits, this column's own numeric bounds.
            let own = crate::fit::column_fit(t, c).0;
            Fit {
                min: own.min,
                max: own.max,
                ..group_fit.get(&g).cloned().unwrap_or_default()
            }
        } else {
            Fit::default()
        };
        out.tables
            .entry(t.name.clone())
            .or_default()
            .push(PlannedColumn {
                column: c.name.clone(),
                kind: c.kind,
                transform: masks_values(&transform).then_some(transform),
                json_rules,
                origin,
                scope,
                fit,
                content: None,
            });
    }
    out.scopes = scope_of_group.len();
    let _ = schema;
    Ok(out)
}

impl MaskPlan {
    /// True when no column is masked.
    pub fn is_empty(&self) -> bool {
        self.report.is_empty()
    }

    /// Binds the plan to a key.
    pub fn bind(&self, masker: &Masker) -> Result<BoundMasks> {
        let scopes: Vec<UniqueScope> = (0..self.scopes).map(|_| UniqueScope::new()).collect();
        let text = if self.tables.values().flatten().any(|c| c.content.is_some()) {
            Some(
                TextMasker::new(masker, self.names.clone()).map_err(|e| DataError::Mask {
                    table: String::new(),
                    column: String::new(),
                    reason: e.to_string(),
                })?,
            )
        } else {
            None
        };
        let mut tables = HashMap::new();
        for (t, cols) in &self.tables {
            let mut bound = Vec::new();
            for c in cols {
                let err = |e: prodlike_mask::TransformError| DataError::Mask {
                    table: t.clone(),
                    column: c.column.clone(),
                    reason: e.to_string(),
                };
                let mask = match &c.transform {
                    Some(tr) if !tr.is_column_level() => Some(masker.mask(tr).map_err(err)?),
                    _ => None,
                };
                let json = if c.json_rules.is_empty() {
                    None
                } else {
                    Some(JsonMasker::new(masker, &c.json_rules).map_err(err)?)
                };
                bound.push(ColumnMask {
                    table: t.clone(),
                    column: c.column.clone(),
                    kind: c.kind,
                    mask,
                    json,
                    shuffle: c.transform.as_ref().and_then(|tr| match tr {
                        Transform::Shuffle(o) => Some(o.block_rows.unwrap_or(u64::MAX)),
                        _ => None,
                    }),
                    unique: c.scope.map(|s| scopes[s].clone()),
                    fit: c.fit.clone(),
                    // Numbers are fitted to their bounds after masking; text to its length and
                    // allowed values while masking.
                    text_fit: Fit {
                        min: None,
                        max: None,
                        ..c.fit.clone()
                    },
                    text: c
                        .content
                        .and_then(|content| text.clone().map(|m| (content, m))),
                });
            }
            tables.insert(t.clone(), bound);
        }
        Ok(BoundMasks {
            tables,
            masker: masker.clone(),
        })
    }
}

/// Masks bound to a key, per table.
#[derive(Clone)]
pub struct BoundMasks {
    pub tables: HashMap<String, Vec<ColumnMask>>,
    pub masker: Masker,
}

/// One column's runtime mask.
#[derive(Clone)]
pub struct ColumnMask {
    pub table: String,
    pub column: String,
    pub kind: Kind,
    mask: Option<Mask>,
    json: Option<JsonMasker>,
    /// `Some(block_rows)` for shuffled columns (`u64::MAX`: the whole column).
    pub shuffle: Option<u64>,
    unique: Option<UniqueScope>,
    fit: Fit,
    text_fit: Fit,
    /// Span-by-span masking of free text or lists of people.
    text: Option<(Content, TextMasker)>,
}

impl ColumnMask {
    /// True when every value is replaced by a free-form pseudonym (names, emails, phones,
    /// ids…), so a masked value equal to its own row's source value is a leak, never chance
    /// (DECISIONS.md, Masking). Not for shuffles, free text, JSON or closed domains.
    pub fn replaces_every_value(&self) -> bool {
        self.shuffle.is_none()
            && self.text.is_none()
            && self.json.is_none()
            && self
                .mask
                .as_ref()
                .is_some_and(|m| m.transform().is_free_form())
    }

    fn err(&self, reason: String) -> DataError {
        DataError::Mask {
            table: self.table.clone(),
            column: self.column.clone(),
            reason,
        }
    }

    /// A masked number brought inside the column's CHECK bounds: clamped for transforms that
    /// are not bijections (`noise`), refused for those that are (clamping would merge values).
    fn fit_number(&self, v: f64, step: f64) -> Result<f64> {
        if self.fit.accepts_number(v) {
            return Ok(v);
        }
        match &self.mask {
            Some(m) if m.transform().is_injective() => Err(self.err(format!(
                "`{}` gave a number outside the column's CHECK bounds; use `noise` (which is clamped to them) or `keep`",
                m.transform().name()
            ))),
            _ => Ok(self.fit.clamp_number(v, step)),
        }
    }

    /// A masked decimal (as text) brought inside the column's CHECK bounds, keeping its number
    /// of decimals.
    fn fit_decimal(&self, d: String) -> Result<String> {
        if self.fit.min.is_none() && self.fit.max.is_none() {
            return Ok(d);
        }
        let Ok(v) = d.trim().parse::<f64>() else {
            return Ok(d);
        };
        let decimals = d.split_once('.').map_or(0, |(_, f)| f.len());
        let step = 10f64.powi(-(decimals as i32));
        let fitted = self.fit_number(v, step)?;
        Ok(if fitted == v {
            d
        } else {
            format!("{fitted:.decimals$}")
        })
    }

    /// Free text masked span by span, cut to the column's length when the fakes made it longer
    /// (a span's fake can be longer than the real name it replaced).
    fn fit_text(&self, masked: String) -> String {
        match self.text_fit.max_chars {
            Some(max) if masked.chars().count() > max => masked.chars().take(max).collect(),
            _ => masked,
        }
    }

    /// Masks one field read with type `ft`.
    pub fn apply(&self, f: &Field, ft: FieldType, buf: &mut String) -> Result<Field> {
        if f.is_null() {
            return Ok(Field::Null);
        }
        let v = ft.value(f);
        let out = self.apply_value(v, buf)?;
        Ok(if out.is_null() {
            Field::Null
        } else {
            Field::Val(out)
        })
    }

    /// Masks one value.
    pub fn apply_value(&self, v: Value, buf: &mut String) -> Result<Value> {
        if let Some((content, m)) = &self.text {
            return Ok(match v {
                Value::Text(s) => Value::Text(self.fit_text(m.mask(*content, &s))),
                other => other,
            });
        }
        let json_text = match &v {
            Value::Json(s) => Some((s.as_str(), true)),
            Value::Text(s) if self.json.is_some() => Some((s.as_str(), false)),
            _ => None,
        };
        // Path rules alone (the usual JSON column): masked in one pass over the text, with the
        // same output as the tree route below.
        if let Some((s, is_json)) = json_text
            && self.mask.is_none()
            && let Some(j) = &self.json
            && let Some(text) = j.mask_text(s)
        {
            return Ok(if is_json {
                Value::Json(text)
            } else {
                Value::Text(text)
            });
        }
        if let Some((s, is_json)) = json_text
            && let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(s)
        {
            if let Some(m) = &self.mask {
                m.apply_json(&mut doc);
            }
            if let Some(j) = &self.json {
                j.mask_value(&mut doc);
            }
            let text = doc.to_string();
            return Ok(if is_json {
                Value::Json(text)
            } else {
                Value::Text(text)
            });
        }
        self.apply_scalar(v, buf)
    }

    fn apply_scalar(&self, v: Value, buf: &mut String) -> Result<Value> {
        let Some(m) = &self.mask else { return Ok(v) };
        let e = |x: prodlike_mask::MaskError| self.err(x.to_string());
        let text = |s: &str, buf: &mut String| -> Result<Option<String>> {
            let r = m
                .apply_str_fitted(s, &self.text_fit, self.unique.as_ref(), buf)
                .map_err(e)?;
            Ok(match r {
                Output::Text => Some(buf.clone()),
                Output::Null => None,
            })
        };
        Ok(match v {
            Value::Null => Value::Null,
            Value::Text(s) => text(&s, buf)?.map_or(Value::Null, Value::Text),
            Value::Json(s) => text(&s, buf)?.map_or(Value::Null, Value::Json),
            Value::Decimal(s) => match text(&s, buf)? {
                None => Value::Null,
                Some(d) => Value::Decimal(self.fit_decimal(d)?),
            },
            Value::Inet(s) => text(&s, buf)?.map_or(Value::Null, Value::Inet),
            Value::Int(i) => match m.apply_i64(i).map_err(e)? {
                None => Value::Null,
                Some(v) if self.fit.accepts_number(v as f64) => Value::Int(v),
                Some(v) => Value::Int(self.fit_number(v as f64, 1.0)? as i64),
            },
            Value::Float(f) => match m.apply_f64(f).map_err(e)? {
                None => Value::Null,
                Some(v) => Value::Float(self.fit_number(v, f64::EPSILON * v.abs().max(1.0))?),
            },
            Value::Date(d) => m
                .apply_date_days(d)
                .map_err(e)?
                .map_or(Value::Null, Value::Date),
            Value::Timestamp(t) => m
                .apply_timestamp_micros(t)
                .map_err(e)?
                .map_or(Value::Null, Value::Timestamp),
            Value::TimestampTz(t) => m
                .apply_timestamp_micros(t)
                .map_err(e)?
                .map_or(Value::Null, Value::TimestampTz),
            Value::Uuid(u) => {
                let s = Value::Uuid(u).to_text().unwrap_or_default();
                match text(&s, buf)? {
                    None => Value::Null,
                    Some(o) => Value::Uuid(parse_uuid(&o).ok_or_else(|| self.err("the transform did not give a UUID; use format_preserving with alphabet = \"hex\"".into()))?),
                }
            }
            Value::Bool(b) => match m.transform() {
                Transform::Null => Value::Null,
                Transform::Constant(c) => Value::Bool(c.value.as_bool().unwrap_or(b)),
                _ => Value::Bool(b),
            },
            Value::Bytes(b) => match m.transform() {
                Transform::Null => Value::Null,
                Transform::Keep => Value::Bytes(b),
                Transform::Constant(c) => {
                    Value::Bytes(c.value.as_str().unwrap_or_default().as_bytes().to_vec())
                }
                other => {
                    return Err(self.err(format!("`{}` cannot mask binary values", other.name())));
                }
            },
        })
    }
}
