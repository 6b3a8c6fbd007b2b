//! Which columns are masked, how, and why: rules from data.toml, PII detected in the source
//! (safe by default), and foreign keys (a key column and the columns referencing it are masked
//! alike so joins survive). Bound to a key, the plan masks fields on the way through.

use std::collections::{BTreeMap, HashMap};

use prodlike_mask::detect::{Evidence, JsonPiiScan, PiiKind, ValueScan, combine, detect_name};
use prodlike_mask::{
    Alphabet, DateNoiseOptions, Fit, FormatPreservingOptions, HashOptions, JsonMasker, JsonRule,
    Mask, Masker, Output, Transform, UniqueScope,
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

/// Detects PII in `tables` from column names and a sample of values.
pub async fn detect(source: &Source, tables: &[&Table]) -> Result<Detections> {
    let mut out = Detections::default();
    for t in tables {
        let cols: Vec<&Column> = t.columns.iter().filter(|c| c.generated.is_none()).collect();
        let text_cols: Vec<&&Column> = cols.iter().filter(|c| c.kind.is_textual()).collect();
        let mut scans: Vec<ValueScan> = text_cols.iter().map(|_| ValueScan::new()).collect();
        let mut json_scans: Vec<JsonPiiScan> =
            text_cols.iter().map(|_| JsonPiiScan::new()).collect();
        if !text_cols.is_empty() {
            let scan = Scan {
                columns: text_cols.iter().map(|c| c.name.clone()).collect(),
                limit: Some(DETECT_SAMPLE_ROWS),
                ..Default::default()
            };
            let (types, rx) = source.scan(t, &scan).await?;
            for row in collect(rx).await? {
                for (i, f) in row.iter().enumerate() {
                    let v = types[i].value(f);
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
                            }
                        }
                    }
                }
            }
        }
        for c in &cols {
            let by_values = text_cols
                .iter()
                .position(|x| x.name == c.name)
                .and_then(|i| {
                    if could_hold_json(c) {
                        None
                    } else {
                        scans[i].finish()
                    }
                });
            if let Some(d) = combine(detect_name(&c.name), by_values) {
                // A key column named like PII (`user_id` is not, `email` is) still counts.
                out.columns.push(DetectedColumn {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    kind: d.kind,
                    confidence: d.confidence,
                    evidence: d.evidence,
                });
            }
        }
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
    }
    Ok(out)
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
}

/// The masking decisions of a sync.
#[derive(Debug, Clone, Default)]
pub struct MaskPlan {
    pub tables: BTreeMap<String, Vec<PlannedColumn>>,
    pub scopes: usize,
    /// `table.column` of detected PII columns kept raw by an explicit `keep` rule.
    pub kept_raw: Vec<String>,
    pub report: Vec<MaskedColumn>,
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
        if let Some(d) = detections.column(&t.name, &c.name) {
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
        ..Default::default()
    };
    let mut scope_of_group: HashMap<usize, usize> = HashMap::new();
    for (i, (t, c)) in cols.iter().enumerate() {
        let g = dsu.find(i);
        let here = format!("{}.{}", t.name, c.name);
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
}

impl ColumnMask {
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
        let json_text = match &v {
            Value::Json(s) => Some((s.as_str(), true)),
            Value::Text(s) if self.json.is_some() => Some((s.as_str(), false)),
            _ => None,
        };
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
