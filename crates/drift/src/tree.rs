//! The one tree every format is read into: YAML, JSON, TOML, .env, properties, Terraform (HCL,
//! .tfvars, `terraform show -json`) and live database schemas all become [`Node`]s, so the diff
//! and the rules know one model only.
use std::collections::BTreeMap;
use std::fmt;

use prodlike_rules::quantity::{self, Quantity};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Deepest nesting any reader accepts; deeper input is an error, never a stack overflow.
pub const MAX_DEPTH: usize = 200;

/// A configuration value.
#[derive(Debug, Clone)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    String(String),
    List(Vec<Node>),
    Map(BTreeMap<String, Node>),
    /// An expression that is not a literal (Terraform's `var.timeout`, `local.size * 2`,
    /// `"${var.env}-web"`), kept as its normalised text: compared as written, never evaluated.
    /// A literal against an expression is its own kind of difference (`hard_coded`).
    Expr(String),
    /// A value found under a secret-looking key. Only its keyed hash is kept: the clear text is
    /// dropped while reading, so no report can print it.
    Secret(SecretHash),
}

/// Keyed blake3 hash of a secret value (the key is random per process, so the hash cannot be
/// looked up in a dictionary built elsewhere).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// The kind of a value, for "type changed" findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    List,
    Map,
    Expression,
    Secret,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::List => "list",
            Kind::Map => "map",
            Kind::Expression => "expression",
            Kind::Secret => "secret",
        }
    }
}

impl Node {
    pub fn kind(&self) -> Kind {
        match self {
            Node::Null => Kind::Null,
            Node::Bool(_) => Kind::Bool,
            Node::Int(_) | Node::Float(_) => Kind::Number,
            Node::String(_) => Kind::String,
            Node::List(_) => Kind::List,
            Node::Map(_) => Kind::Map,
            Node::Expr(_) => Kind::Expression,
            Node::Secret(_) => Kind::Secret,
        }
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(self, Node::List(_) | Node::Map(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Node>> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks a key up in a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Equality as a user means it: `3` equals `3.0`, NaN equals NaN, secrets by hash.
    pub fn same(&self, other: &Node) -> bool {
        match (self, other) {
            (Node::Null, Node::Null) => true,
            (Node::Bool(a), Node::Bool(b)) => a == b,
            (Node::Int(a), Node::Int(b)) => a == b,
            (Node::Float(a), Node::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Node::Int(a), Node::Float(b)) | (Node::Float(b), Node::Int(a)) => (*a as f64) == *b,
            (Node::String(a), Node::String(b)) | (Node::Expr(a), Node::Expr(b)) => a == b,
            (Node::Secret(a), Node::Secret(b)) => a == b,
            (Node::List(a), Node::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (Node::Map(a), Node::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.same(vb))
            }
            _ => false,
        }
    }

    /// The text of a scalar as a user wrote it (strings unquoted); `None` for lists, maps and
    /// secrets.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Null => Some("null".into()),
            Node::Bool(b) => Some(b.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) => Some(format_float(*f)),
            Node::String(s) | Node::Expr(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// Whether this is an expression (see [`Node::Expr`]).
    pub fn is_expr(&self) -> bool {
        matches!(self, Node::Expr(_))
    }

    /// JSON for reports. Secrets become the string `"<secret:fingerprint>"`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => match i64::try_from(*i) {
                Ok(v) => Value::from(v),
                Err(_) => match u64::try_from(*i) {
                    Ok(v) => Value::from(v),
                    Err(_) => Value::String(i.to_string()),
                },
            },
            Node::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(format_float(*f))),
            Node::String(s) | Node::Expr(s) => Value::String(s.clone()),
            Node::List(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Node::Secret(h) => Value::String(secret_text(h)),
        }
    }

    /// One-line rendering for human reports, cut to `max` characters.
    pub fn render_short(&self, max: usize) -> String {
        let full = match self {
            Node::String(s) => serde_json::Value::String(s.clone()).to_string(),
            Node::Secret(h) => secret_text(h),
            // Unquoted, as written: `var.timeout` against `"var.timeout"` reads apart.
            Node::Expr(e) => e.clone(),
            other => other.to_json().to_string(),
        };
        truncate(&full, max)
    }

    /// Number of leaves (scalars) in this subtree, for "3 keys added" style summaries.
    pub fn leaf_count(&self) -> usize {
        match self {
            Node::List(items) => items.iter().map(Node::leaf_count).sum(),
            Node::Map(m) => m.values().map(Node::leaf_count).sum(),
            _ => 1,
        }
    }
}

/// What rules see of a value (prodlike-rules judges scale, map and pattern rules through it).
impl prodlike_rules::Value for Node {
    fn scalar_text(&self) -> Option<String> {
        Node::scalar_text(self)
    }

    fn quantity(&self) -> Option<Quantity> {
        match self {
            Node::Int(i) => Some(Quantity::integer(*i)),
            Node::Float(f) => Quantity::float(*f),
            Node::String(s) => quantity::parse_text(s),
            _ => None,
        }
    }

    /// Every scalar's text (a pattern applies to all of them); secrets have none.
    fn leaf_texts(&self) -> Vec<String> {
        match self {
            Node::List(items) => items.iter().flat_map(|n| n.leaf_texts()).collect(),
            Node::Map(m) => m.values().flat_map(|n| n.leaf_texts()).collect(),
            Node::Secret(_) => Vec::new(),
            other => Node::scalar_text(other).into_iter().collect(),
        }
    }

    fn render_short(&self, max: usize) -> String {
        Node::render_short(self, max)
    }
}

/// What reports print in place of a secret value: a fingerprint that shows whether two values
/// differ within one report, never the value.
pub fn secret_text(h: &SecretHash) -> String {
    format!("<secret:{}>", h.fingerprint())
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

fn format_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        }
    } else {
        f.to_string()
    }
}

/// Turns a map key of any scalar type into the string the tree uses.
fn key_text(node: Node) -> String {
    match node.scalar_text() {
        Some(s) => s,
        None => node.to_json().to_string(),
    }
}

/// TOML date-times arrive through serde as a one-entry map with this private key.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

/// Reads any serde format into a [`Node`], refusing nesting deeper than [`MAX_DEPTH`].
pub struct NodeSeed {
    pub depth: usize,
}

impl<'de> DeserializeSeed<'de> for NodeSeed {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom(format!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        d.deserialize_any(NodeVisitor { depth: self.depth })
    }
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        NodeSeed { depth: 0 }.deserialize(d)
    }
}

struct NodeVisitor {
    depth: usize,
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any configuration value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(match i128::try_from(v) {
            Ok(i) => Node::Int(i),
            Err(_) => Node::Float(v as f64),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::String(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        NodeSeed { depth: self.depth }.deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        NodeSeed { depth: self.depth }.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed {
            depth: self.depth + 1,
        })? {
            items.push(item);
        }
        Ok(Node::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key_seed(NodeSeed {
            depth: self.depth + 1,
        })? {
            let value = map.next_value_seed(NodeSeed {
                depth: self.depth + 1,
            })?;
            let key = key_text(key);
            if key == TOML_DATETIME_KEY && out.is_empty() {
                if let Some(text) = value.scalar_text() {
                    return drain_datetime(map, text);
                }
            }
            out.insert(key, value);
        }
        Ok(Node::Map(out))
    }
}

fn drain_datetime<'de, A: MapAccess<'de>>(mut map: A, text: String) -> Result<Node, A::Error> {
    while map
        .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
        .is_some()
    {}
    Ok(Node::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_and_nan_equals_nan() {
        assert!(Node::Int(3).same(&Node::Float(3.0)));
        assert!(Node::Float(f64::NAN).same(&Node::Float(f64::NAN)));
        assert!(!Node::Int(3).same(&Node::String("3".into())));
    }

    #[test]
    fn toml_datetimes_read_as_strings() {
        let n: Node = toml::from_str("when = 1979-05-27T07:32:00Z").unwrap();
        assert_eq!(
            n.get("when").and_then(Node::as_str),
            Some("1979-05-27T07:32:00Z")
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let mut de = serde_json::Deserializer::from_str(&deep);
        assert!(NodeSeed { depth: 0 }.deserialize(&mut de).is_err());
    }
}
