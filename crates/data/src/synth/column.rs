//! Value generators for one column, built from its profile.

use prodlike_mask::{Mask, Masker, UniqueScope};
use std::collections::HashSet;

use crate::error::{DataError, Result};
use crate::profile::ColumnProfile;
use crate::profile::shape::fill;
use crate::schema::{Column, Kind, Table};
use crate::value::{Value, key_hash};

/// Inverse CDF from 0th..100th percentiles, linear between them.
pub fn draw_percentile(p: &[f64], u: f64) -> f64 {
    if p.is_empty() {
        return 0.0;
    }
    if p.len() == 1 {
        return p[0];
    }
    let x = u.clamp(0.0, 1.0) * (p.len() - 1) as f64;
    let i = (x.floor() as usize).min(p.len() - 2);
    let f = x - i as f64;
    p[i] + (p[i + 1] - p[i]) * f
}

struct Categorical {
    values: Vec<String>,
    cum: Vec<f64>,
}

impl Categorical {
    fn new(items: impl Iterator<Item = (String, u64)>) -> Option<Self> {
        let mut values = Vec::new();
        let mut cum = Vec::new();
        let mut acc = 0.0;
        for (v, c) in items {
            acc += c as f64;
            values.push(v);
            cum.push(acc);
        }
        (acc > 0.0).then_some(Self { values, cum })
    }

    fn pick(&self, rng: &mut fastrand::Rng) -> &str {
        let total = self.cum[self.cum.len() - 1];
        let x = rng.f64() * total;
        let i = self
            .cum
            .partition_point(|c| *c <= x)
            .min(self.values.len() - 1);
        &self.values[i]
    }
}

enum How {
    Categorical(Categorical),
    Numeric {
        pct: Vec<f64>,
        integral: bool,
    },
    Fake {
        mask: Mask,
        shapes: Option<Categorical>,
        ip: bool,
    },
    Shape(Categorical),
    Json(Categorical),
    Counter,
}

/// Generates one column.
pub struct ColumnGen {
    table: String,
    name: String,
    kind: Kind,
    null_rate: f64,
    how: How,
    unique: Option<(UniqueScope, HashSet<u128>)>,
    /// What the column accepts: fakes are fitted to it as in a sync.
    fit: prodlike_mask::Fit,
}

fn number_value(x: f64, kind: Kind, integral: bool) -> Value {
    match kind {
        Kind::Int => Value::Int(x.round() as i64),
        Kind::Float => Value::Float(if integral { x.round() } else { x }),
        Kind::Decimal => Value::Decimal(if integral {
            format!("{}", x.round() as i64)
        } else {
            format!("{x:.2}")
        }),
        Kind::Date => Value::Date(x.round() as i32),
        Kind::Timestamp => Value::Timestamp((x * 1e6).round() as i64),
        Kind::TimestampTz => Value::TimestampTz((x * 1e6).round() as i64),
        Kind::Bool => Value::Bool(x >= 0.5),
        _ => Value::Text(if integral {
            format!("{}", x.round() as i64)
        } else {
            format!("{x}")
        }),
    }
}

fn text_value(s: &str, kind: Kind) -> Value {
    match kind {
        Kind::Json => Value::Json(s.to_owned()),
        Kind::Bool => Value::Bool(matches!(s, "true" | "t" | "1")),
        Kind::Int => s
            .parse()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Text(s.to_owned())),
        Kind::Float => s
            .parse()
            .map(Value::Float)
            .unwrap_or_else(|_| Value::Text(s.to_owned())),
        Kind::Decimal => Value::Decimal(s.to_owned()),
        _ => Value::Text(s.to_owned()),
    }
}

fn fill_json(v: &serde_json::Value, rng: &mut fastrand::Rng) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::String(s) => J::String(fill(s, rng)),
        J::Number(_) => J::from(rng.u32(0..100)),
        J::Bool(_) => J::Bool(rng.bool()),
        J::Array(a) => J::Array(a.iter().map(|x| fill_json(x, rng)).collect()),
        J::Object(m) => J::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), fill_json(x, rng)))
                .collect(),
        ),
        J::Null => J::Null,
    }
}

impl ColumnGen {
    pub fn new(
        t: &Table,
        col: &Column,
        p: Option<&ColumnProfile>,
        masker: &Masker,
        _index: usize,
    ) -> Self {
        let unique = t
            .is_single_unique(&col.name)
            .then(|| (UniqueScope::new(), HashSet::new()));
        let null_rate = p.map_or(0.0, |p| p.null_fraction);
        let shapes =
            p.and_then(|p| Categorical::new(p.shapes.iter().map(|f| (f.value.clone(), f.count))));
        let how = match p {
            Some(p) if p.pii.is_some() && col.kind.is_textual() => {
                let tr = p
                    .pii
                    .map(|k| crate::maskplan::fit_default(k, col))
                    .unwrap_or(None);
                let ip = p.pii == Some(prodlike_mask::detect::PiiKind::IpAddress);
                match tr.and_then(|tr| masker.mask(&tr).ok()) {
                    Some(mask) => How::Fake { mask, shapes, ip },
                    None => shapes.map_or(How::Counter, How::Shape),
                }
            }
            Some(p) if p.frequencies_complete && !p.frequencies.is_empty() && unique.is_none() => {
                Categorical::new(p.frequencies.iter().map(|f| (f.value.clone(), f.count)))
                    .map_or(How::Counter, How::Categorical)
            }
            Some(p)
                if !p.percentiles.is_empty()
                    && (col.kind.is_numeric() || col.kind == Kind::Bool) =>
            {
                How::Numeric {
                    pct: p.percentiles.clone(),
                    integral: p.integral,
                }
            }
            Some(p) if col.kind == Kind::Json && !p.json_skeletons.is_empty() => {
                Categorical::new(p.json_skeletons.iter().map(|f| (f.value.clone(), f.count)))
                    .map_or(How::Counter, How::Json)
            }
            _ => shapes.map_or(How::Counter, How::Shape),
        };
        Self {
            table: t.name.clone(),
            name: col.name.clone(),
            kind: col.kind,
            null_rate,
            how,
            unique,
            // Fakes are text: their length and allowed values count, not numeric bounds.
            fit: prodlike_mask::Fit {
                min: None,
                max: None,
                ..crate::fit::column_fit(t, col).0
            },
        }
    }

    pub fn next(&mut self, rng: &mut fastrand::Rng, i: u64, buf: &mut String) -> Result<Value> {
        if self.null_rate > 0.0 && rng.f64() < self.null_rate {
            return Ok(Value::Null);
        }
        for attempt in 0..20u32 {
            let v = self.draw(rng, i, attempt, buf)?;
            let Some((_, seen)) = &mut self.unique else {
                return Ok(v);
            };
            if matches!(self.how, How::Fake { .. }) || seen.insert(key_hash(&[&v])) {
                return Ok(v);
            }
        }
        // Out of luck with random draws: a value made unique by the row number.
        Ok(match self.kind {
            Kind::Int => Value::Int(i as i64 + 1),
            _ => Value::Text(format!("{}-{}", self.name, i + 1)),
        })
    }

    fn draw(
        &self,
        rng: &mut fastrand::Rng,
        i: u64,
        attempt: u32,
        buf: &mut String,
    ) -> Result<Value> {
        Ok(match &self.how {
            How::Categorical(c) => text_value(c.pick(rng), self.kind),
            How::Numeric { pct, integral } => {
                number_value(draw_percentile(pct, rng.f64()), self.kind, *integral)
            }
            How::Shape(c) => text_value(&fill(c.pick(rng), rng), self.kind),
            How::Json(c) => {
                let skel: serde_json::Value = serde_json::from_str(c.pick(rng)).unwrap_or_default();
                Value::Json(fill_json(&skel, rng).to_string())
            }
            How::Counter => match self.kind {
                Kind::Int => Value::Int(i as i64 + 1),
                Kind::Uuid => {
                    let mut b = [0u8; 16];
                    for x in &mut b {
                        *x = rng.u8(..);
                    }
                    b[6] = (b[6] & 0x0f) | 0x40;
                    b[8] = (b[8] & 0x3f) | 0x80;
                    Value::Uuid(b)
                }
                Kind::Bool => Value::Bool(rng.bool()),
                _ => Value::Text(format!("{}-{}", self.name, i + 1 + u64::from(attempt))),
            },
            How::Fake { mask, shapes, ip } => {
                let seed_text = match shapes {
                    _ if *ip => format!(
                        "{}.{}.{}.{}",
                        rng.u8(1..224),
                        rng.u8(..),
                        rng.u8(..),
                        rng.u8(1..255)
                    ),
                    Some(s) => fill(s.pick(rng), rng),
                    None => format!("{} {}", rng.u32(..), i),
                };
                let scope = self.unique.as_ref().map(|(scope, _)| scope);
                let r = mask.apply_str_fitted(&seed_text, &self.fit, scope, buf);
                match r {
                    Ok(prodlike_mask::Output::Text) => text_value(buf, self.kind),
                    Ok(prodlike_mask::Output::Null) => Value::Null,
                    // A seed the transform cannot take (a shape that is not a valid value): the
                    // random seed itself is synthetic, so it is used as it is.
                    Err(prodlike_mask::MaskError::Unsupported { .. }) => {
                        text_value(&seed_text, self.kind)
                    }
                    Err(e) => {
                        return Err(DataError::Mask {
                            table: self.table.clone(),
                            column: self.name.clone(),
                            reason: e.to_string(),
                        });
                    }
                }
            }
        })
    }
}
