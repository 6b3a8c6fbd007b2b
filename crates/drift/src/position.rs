//! Exact source positions of values: a tree parallel to a document's [`Node`] that holds the
//! line and column of every key and value, read by serde-saphyr's `Spanned` (YAML, and JSON,
//! which YAML reads too). The differ records, for each finding, the positional path of the value
//! on each side ([`RawSeg`]s: keys and list indices as written), and [`PosNode::find`] turns it
//! into a line and column. Terraform HCL (`.tf`, `.tfvars`) gets its positions from its own
//! parser's spans (`formats/hcl.rs`). Formats without positions (TOML, .env, properties) fall
//! back to `locate.rs`'s text search.
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::tree::{MAX_DEPTH, Node};

/// One step of a positional path: a map key or a list index, as the file holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawSeg {
    Key(String),
    Index(usize),
}

/// 1-based line and column of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Positions of a value and of everything below it.
#[derive(Debug, Clone, Default)]
pub struct PosNode {
    /// Where the value starts (for an alias, where it is defined); `None` when unknown.
    pub at: Option<Pos>,
    pub kids: Kids,
    /// The file this subtree was read from, when it differs from its parent's (a layer merged
    /// over another, see `layers.rs`); `None`: the parent's file.
    pub file: Option<Arc<str>>,
}

/// The positions below a value.
#[derive(Debug, Clone, Default)]
pub enum Kids {
    #[default]
    Leaf,
    List(Vec<PosNode>),
    /// Each key with the key's own position and its value's positions.
    Map(BTreeMap<String, (Option<Pos>, PosNode)>),
}

impl PosNode {
    /// The position of the value at `path`: a scalar's own position; for a map or list under
    /// a key, the key's (block collections start on the next line, the key names them). When
    /// the path goes deeper than the positions known (a secret hashed whole), the deepest known.
    pub fn find(&self, path: &[RawSeg]) -> Option<Pos> {
        self.find_in_file(path).map(|(p, _)| p)
    }

    /// [`PosNode::find`], with the file the position is in when a layer marked it.
    pub fn find_in_file(&self, path: &[RawSeg]) -> Option<(Pos, Option<Arc<str>>)> {
        let mut file = self.file.clone();
        self.walk(path, &mut file).map(|p| (p, file))
    }

    fn walk(&self, path: &[RawSeg], file: &mut Option<Arc<str>>) -> Option<Pos> {
        let mut node = self;
        let mut best = self.at;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            match (seg, &node.kids) {
                (RawSeg::Key(k), Kids::Map(m)) => {
                    let Some((key_at, child)) = m.get(k) else {
                        return best;
                    };
                    best = match (&child.kids, last) {
                        (Kids::Leaf, _) => child.at.or(*key_at),
                        (_, true) => key_at.or(child.at),
                        _ => child.at.or(*key_at),
                    };
                    if child.file.is_some() {
                        file.clone_from(&child.file);
                    }
                    node = child;
                }
                (RawSeg::Index(j), Kids::List(items)) => {
                    let Some(child) = items.get(*j) else {
                        return best;
                    };
                    best = child.at.or(best);
                    if child.file.is_some() {
                        file.clone_from(&child.file);
                    }
                    node = child;
                }
                _ => return best,
            }
        }
        best
    }

    /// The positions of the value at `path` (keys and indices), for a part of a document
    /// compared as an object of its own (a resource inside `terraform show -json` output).
    pub fn descend(&self, path: &[RawSeg]) -> Option<&PosNode> {
        path.iter()
            .try_fold(self, |node, seg| match (seg, &node.kids) {
                (RawSeg::Key(k), Kids::Map(m)) => m.get(k).map(|(_, child)| child),
                (RawSeg::Index(i), Kids::List(items)) => items.get(*i),
                _ => None,
            })
    }

    /// The positions of list item `i`, for `kind: List` documents opened into their items.
    pub fn item(&self, key: &str, i: usize) -> Option<&PosNode> {
        match &self.kids {
            Kids::Map(m) => match &m.get(key)?.1.kids {
                Kids::List(items) => items.get(i),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Positions of every document of a YAML (or JSON) text; `None` when the text does not read
/// (the caller has already read it into nodes, so this only fails on YAML that JSON is not).
pub fn read_yaml(text: &str) -> Option<Vec<PosNode>> {
    let options = serde_saphyr::options! { with_snippet: false };
    let docs: Vec<Spanned<Shape>> = serde_saphyr::from_multiple_with_options(text, options).ok()?;
    Some(docs.into_iter().map(spanned).collect())
}

/// A value's position: where it is defined (for an alias or a merged key, the anchored
/// value, which holds the text).
fn spanned(s: Spanned<Shape>) -> PosNode {
    let loc = if s.defined.line() > 0 {
        s.defined
    } else {
        s.referenced
    };
    let at = (loc.line() > 0).then(|| Pos {
        line: loc.line() as usize,
        column: loc.column() as usize,
    });
    PosNode {
        at,
        kids: s.value.0,
        file: None,
    }
}

/// The shape of a value with its children's positions (the value itself is not kept).
struct Shape(Kids);

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(ShapeVisitor { depth: 0 })
    }
}

struct ShapeVisitor {
    depth: usize,
}

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any configuration value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_i128<E>(self, _: i128) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_u128<E>(self, _: u128) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_none<E>(self) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape(Kids::Leaf))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("nesting too deep"));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Shape>>()? {
            items.push(spanned(item));
        }
        Ok(Shape(Kids::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("nesting too deep"));
        }
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Spanned<Shape>>()?;
            let at = key.referenced;
            let key_at = (at.line() > 0).then(|| Pos {
                line: at.line() as usize,
                column: at.column() as usize,
            });
            let text = match key.value.scalar_text() {
                Some(s) => s,
                None => key.value.to_json().to_string(),
            };
            out.insert(text, (key_at, spanned(value)));
        }
        Ok(Shape(Kids::Map(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> RawSeg {
        RawSeg::Key(k.into())
    }

    #[test]
    fn values_keys_and_items_have_their_lines() {
        let text = "a: 1\nb:\n  c: [x, y]\n  d:\n  - name: n0\n    v: 1\n  - v: 2\n    name: n1\n---\ne: {f: 3}\n";
        let docs = read_yaml(text).unwrap();
        assert_eq!(docs.len(), 2);
        let p = |d: usize, path: &[RawSeg]| docs[d].find(path).map(|p| (p.line, p.column));
        assert_eq!(p(0, &[key("a")]), Some((1, 4)));
        assert_eq!(p(0, &[key("b"), key("c")]), Some((3, 3)));
        assert_eq!(p(0, &[key("b"), key("c"), RawSeg::Index(1)]), Some((3, 10)));
        assert_eq!(
            p(0, &[key("b"), key("d"), RawSeg::Index(1), key("v")]),
            Some((7, 8))
        );
        assert_eq!(
            p(0, &[key("b"), key("d"), RawSeg::Index(1), key("name")]),
            Some((8, 11))
        );
        assert_eq!(p(1, &[key("e"), key("f")]), Some((10, 8)));
    }
}
