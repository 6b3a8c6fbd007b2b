//! HCL2, Terraform's language, read with hcl-rs (its span-keeping parser, hcl-edit) into
//! [`Node`]s with the position of every attribute. Literals (strings without interpolation,
//! numbers, booleans, null, lists and objects of them, heredocs) become values; every other
//! expression (`var.x`, `local.size * 2`, `max(1, var.n)`, `"${var.env}-web"`) becomes a
//! [`Node::Expr`] holding its normalised text (hcl-rs's formatter, compact), so spacing and
//! line breaks never read as differences. Nested blocks become maps under their type and
//! labels (`lifecycle`, `dynamic.ingress`); a block type repeated without labels becomes a
//! list (`ingress[0]`, `ingress[1]`), as `terraform show -json` writes them.
//!
//! Used by `.tf` files (`crate::terraform::config`, which turns top-level blocks into objects)
//! and `.tfvars` files ([`tfvars`]: attributes whose values must be literals).
use std::collections::BTreeMap;
use std::ops::Range;

use hcl::edit::Span;
use hcl::edit::expr::{Expression, ObjectKey, UnaryOperator};
use hcl::edit::structure::{Block, Body, Structure};
use hcl::edit::template::Element;
use prodlike_common::source::line_col;

use crate::position::{Kids, Pos, PosNode};
use crate::tree::{MAX_DEPTH, Node};

/// A parse error: 1-based line and column, and what is wrong there.
pub type Error = (usize, usize, String);

/// Parses an HCL body, refusing nesting deeper than [`MAX_DEPTH`] before the parser sees it
/// (the parser recurses per level).
pub fn parse_body(text: &str) -> Result<Body, Error> {
    check_nesting(text)?;
    hcl::edit::parser::parse_body(text).map_err(|e| {
        let at = e.location();
        let mut message = match e.message() {
            "" => "invalid HCL".to_string(),
            m => m.replace('\n', " "),
        };
        if message.contains("expected `}`, newline") && e.line().contains('{') {
            // hcl-edit's words for Terraform's "A single-line block definition can contain
            // only a single argument".
            message.push_str(
                " (a block written on one line holds one attribute at most: put each on its own line)",
            );
        }
        (at.line(), at.column(), message)
    })
}

/// Reads a `.tfvars` file: attributes only, every value a literal.
pub fn tfvars(text: &str) -> Result<(Node, PosNode), Error> {
    let body = parse_body(text)?;
    let reader = Reader {
        text,
        literals_only: true,
    };
    if let Some(Structure::Block(b)) = body.iter().find(|s| s.is_block()) {
        let (line, col) = reader.at(b.ident.span());
        return Err((
            line,
            col,
            format!(
                "`{}` is a block; .tfvars files hold only `name = value` attributes",
                b.ident.as_str()
            ),
        ));
    }
    reader.body(&body, 0)
}

/// Turns parsed HCL into nodes and positions.
pub struct Reader<'t> {
    /// The parsed text, to turn byte offsets into lines and columns.
    pub text: &'t str,
    /// `.tfvars`: an expression is an error, not a value.
    pub literals_only: bool,
}

/// A key of a body being built: an attribute, a block, the same block type repeated, or a
/// block type whose labels open a level each.
enum Slot {
    Value(Node, PosNode),
    Blocks(Vec<(Node, PosNode)>),
    Labels(BTreeMap<String, (Option<Pos>, Slot)>, Option<Pos>),
}

impl Reader<'_> {
    /// The 1-based line and column of a span's start (1:1 when the parser gave none).
    pub fn at(&self, span: Option<Range<usize>>) -> (usize, usize) {
        span.map_or((1, 1), |s| line_col(self.text, s.start))
    }

    /// The position of a span's start.
    pub fn pos(&self, span: Option<Range<usize>>) -> Option<Pos> {
        span.map(|s| {
            let (line, column) = line_col(self.text, s.start);
            Pos { line, column }
        })
    }

    fn err(&self, span: Option<Range<usize>>, message: String) -> Error {
        let (line, col) = self.at(span);
        (line, col, message)
    }

    /// A block or file body: attributes by name, nested blocks under their type and labels.
    pub fn body(&self, body: &Body, depth: usize) -> Result<(Node, PosNode), Error> {
        if depth > MAX_DEPTH {
            return Err(self.err(
                body.span(),
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        let mut slots: BTreeMap<String, (Option<Pos>, Slot)> = BTreeMap::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.as_str().to_string();
                    if let Some((first, _)) = slots.get(&name) {
                        let first = first.map(|p| p.line).unwrap_or(1);
                        return Err(self.err(
                            a.key.span(),
                            format!("`{name}` is set twice (first on line {first})"),
                        ));
                    }
                    let (node, pos) = self.expr(&a.value, depth + 1)?;
                    slots.insert(name, (self.pos(a.key.span()), Slot::Value(node, pos)));
                }
                Structure::Block(b) => self.nested_block(&mut slots, b, depth)?,
            }
        }
        let at = self.pos(body.span());
        Ok(finish(slots, at))
    }

    /// Adds a nested block to a body's slots: `lifecycle { … }` under `lifecycle`,
    /// `dynamic "ingress" { … }` under `dynamic.ingress`, a repeated type as a list.
    fn nested_block(
        &self,
        slots: &mut BTreeMap<String, (Option<Pos>, Slot)>,
        b: &Block,
        depth: usize,
    ) -> Result<(), Error> {
        let (node, mut pos) = self.body(&b.body, depth + 1)?;
        pos.at = self.pos(b.ident.span());
        let mut keys: Vec<(String, Option<Pos>)> = vec![(b.ident.as_str().to_string(), pos.at)];
        keys.extend(
            b.labels
                .iter()
                .map(|l| (l.as_str().to_string(), self.pos(l.span()))),
        );
        let mut level = slots;
        let last = keys.len() - 1;
        for (i, (key, key_at)) in keys.into_iter().enumerate() {
            if i == last {
                return match level.get_mut(&key) {
                    None => {
                        level.insert(key, (key_at, Slot::Blocks(vec![(node, pos)])));
                        Ok(())
                    }
                    Some((_, Slot::Blocks(list))) => {
                        list.push((node, pos));
                        Ok(())
                    }
                    Some(_) => Err(self.err(
                        b.ident.span(),
                        format!("`{key}` is both an attribute and a block"),
                    )),
                };
            }
            let entry = level
                .entry(key.clone())
                .or_insert_with(|| (key_at, Slot::Labels(BTreeMap::new(), key_at)));
            match &mut entry.1 {
                Slot::Labels(next, _) => level = next,
                _ => {
                    return Err(self.err(
                        b.ident.span(),
                        format!("`{key}` is used both with and without labels"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// An expression: a literal as its value, anything else as [`Node::Expr`].
    pub fn expr(&self, e: &Expression, depth: usize) -> Result<(Node, PosNode), Error> {
        if depth > MAX_DEPTH {
            return Err(self.err(e.span(), format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let leaf = |node: Node| {
            Ok((
                node,
                PosNode {
                    at: self.pos(e.span()),
                    kids: Kids::Leaf,
                    file: None,
                },
            ))
        };
        match e {
            Expression::Null(_) => leaf(Node::Null),
            Expression::Bool(b) => leaf(Node::Bool(*b.value())),
            Expression::Number(n) => leaf(number(n.value())),
            Expression::String(s) => leaf(Node::String(s.value().clone())),
            Expression::UnaryOp(op)
                if op.operator.value() == &UnaryOperator::Neg
                    && matches!(op.expr, Expression::Number(_)) =>
            {
                match &op.expr {
                    Expression::Number(n) => leaf(negate(number(n.value()))),
                    _ => leaf(Node::Null),
                }
            }
            Expression::StringTemplate(t) => match literal_template(t.iter()) {
                Some(s) => leaf(Node::String(s)),
                None => self.expression(e, leaf),
            },
            Expression::HeredocTemplate(h) => match literal_template(h.template.iter()) {
                Some(s) => leaf(Node::String(s)),
                None => self.expression(e, leaf),
            },
            Expression::Array(items) => {
                let mut nodes = Vec::new();
                let mut kids = Vec::new();
                for item in items.iter() {
                    let (n, p) = self.expr(item, depth + 1)?;
                    nodes.push(n);
                    kids.push(p);
                }
                Ok((
                    Node::List(nodes),
                    PosNode {
                        at: self.pos(e.span()),
                        kids: Kids::List(kids),
                        file: None,
                    },
                ))
            }
            Expression::Object(object) => {
                let mut nodes = BTreeMap::new();
                let mut kids = BTreeMap::new();
                for (key, value) in object.iter() {
                    let (name, key_at) = match key {
                        ObjectKey::Ident(i) => (i.as_str().to_string(), self.pos(i.span())),
                        ObjectKey::Expression(Expression::String(s)) => {
                            (s.value().clone(), self.pos(s.span()))
                        }
                        ObjectKey::Expression(k) => {
                            if self.literals_only {
                                return Err(self.not_literal(k));
                            }
                            (normalised(k), self.pos(k.span()))
                        }
                    };
                    let (n, p) = self.expr(value.expr(), depth + 1)?;
                    nodes.insert(name.clone(), n);
                    kids.insert(name, (key_at, p));
                }
                Ok((
                    Node::Map(nodes),
                    PosNode {
                        at: self.pos(e.span()),
                        kids: Kids::Map(kids),
                        file: None,
                    },
                ))
            }
            _ => self.expression(e, leaf),
        }
    }

    /// A non-literal expression: its normalised text, or an error in a `.tfvars` file.
    fn expression(
        &self,
        e: &Expression,
        leaf: impl Fn(Node) -> Result<(Node, PosNode), Error>,
    ) -> Result<(Node, PosNode), Error> {
        if self.literals_only {
            return Err(self.not_literal(e));
        }
        leaf(Node::Expr(normalised(e)))
    }

    fn not_literal(&self, e: &Expression) -> Error {
        self.err(
            e.span(),
            format!(
                "`{}` is an expression; .tfvars values must be literals",
                normalised(e)
            ),
        )
    }
}

/// Builds the node and positions of a body from its slots.
fn finish(slots: BTreeMap<String, (Option<Pos>, Slot)>, at: Option<Pos>) -> (Node, PosNode) {
    let mut nodes = BTreeMap::new();
    let mut kids = BTreeMap::new();
    for (key, (key_at, slot)) in slots {
        let (node, pos) = match slot {
            Slot::Value(n, p) => (n, p),
            Slot::Blocks(mut list) if list.len() == 1 => {
                let (n, p) = list.remove(0);
                (n, p)
            }
            Slot::Blocks(list) => {
                let (ns, ps): (Vec<Node>, Vec<PosNode>) = list.into_iter().unzip();
                (
                    Node::List(ns),
                    PosNode {
                        at: key_at,
                        kids: Kids::List(ps),
                        file: None,
                    },
                )
            }
            Slot::Labels(inner, inner_at) => finish(inner, inner_at),
        };
        nodes.insert(key.clone(), node);
        kids.insert(key, (key_at, pos));
    }
    (
        Node::Map(nodes),
        PosNode {
            at,
            kids: Kids::Map(kids),
            file: None,
        },
    )
}

fn number(n: &hcl::Number) -> Node {
    if let Some(i) = n.as_i64() {
        return Node::Int(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Node::Int(u.into());
    }
    Node::Float(n.as_f64().unwrap_or(f64::NAN))
}

fn negate(n: Node) -> Node {
    match n {
        Node::Int(i) => Node::Int(-i),
        Node::Float(f) => Node::Float(-f),
        other => other,
    }
}

/// The text of a template made of literals only (no `${…}`, no `%{…}`), else `None`.
fn literal_template<'e>(elements: impl Iterator<Item = &'e Element>) -> Option<String> {
    let mut s = String::new();
    for e in elements {
        match e {
            Element::Literal(l) => s.push_str(l.value()),
            _ => return None,
        }
    }
    Some(s)
}

/// An expression's canonical text: hcl-rs's formatter, compact (one line for arrays and
/// objects), so `var.a+1` and `var.a + 1` read the same. Falls back to the text as written.
pub fn normalised(e: &Expression) -> String {
    let expr = hcl::Expression::from(e.clone());
    let mut f = hcl::format::Formatter::builder().compact(true).build_vec();
    match hcl::format::Format::format_string(&expr, &mut f) {
        Ok(s) => s.trim().to_string(),
        Err(_) => e.to_string().trim().to_string(),
    }
}

/// Refuses text nested deeper than [`MAX_DEPTH`] brackets (counted roughly: brackets inside
/// strings count too, which only makes the limit stricter), before the recursive parser runs.
fn check_nesting(text: &str) -> Result<(), Error> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 1usize);
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Err((line, col, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tfvars_reads_literals() {
        let (n, _) = tfvars(
            "# vars\nregion = \"eu-west-1\"\ninstance_type = \"t3.xlarge\" // prod size\nreplicas = 4\nratio = 0.5\noffset = -2\nenabled = true\nzones = [\"a\", \"b\",\n  \"c\"]\ntags = {\n  team = \"shop\"\n  \"cost-center\" = 42\n}\npolicy = <<-EOT\n    line one\n    line two\n  EOT\n",
        )
        .unwrap();
        assert_eq!(n.get("region").and_then(Node::as_str), Some("eu-west-1"));
        assert!(n.get("replicas").unwrap().same(&Node::Int(4)));
        assert!(n.get("offset").unwrap().same(&Node::Int(-2)));
        assert!(n.get("ratio").unwrap().same(&Node::Float(0.5)));
        assert_eq!(n.get("zones").map(Node::leaf_count), Some(3));
        assert!(
            n.get("tags")
                .unwrap()
                .get("cost-center")
                .unwrap()
                .same(&Node::Int(42))
        );
        assert_eq!(
            n.get("policy").and_then(Node::as_str),
            Some("line one\nline two\n")
        );
    }

    #[test]
    fn tfvars_refuses_expressions_and_garbage_with_their_line() {
        let e = tfvars("a = 1\nb = var.x\n").unwrap_err();
        assert_eq!((e.0, e.1), (2, 5), "{e:?}");
        assert!(e.2.contains("var.x"), "{e:?}");
        let e = tfvars("a = \"open\n").unwrap_err();
        assert_eq!(e.0, 1, "{e:?}");
        let e = tfvars("a = 1\nresource \"x\" \"y\" {}\n").unwrap_err();
        assert_eq!(e.0, 2, "{e:?}");
    }

    #[test]
    fn expressions_keep_normalised_text_and_blocks_nest() {
        let text = "a = var.x\nb = local.size*2\nc = \"${var.env}-web\"\nd = max( 1 , var.n )\nlifecycle {\n  ignore_changes = [tags]\n}\ningress {\n  port = 80\n}\ningress {\n  port = 443\n}\ndynamic \"egress\" {\n  for_each = var.rules\n}\n";
        let body = parse_body(text).unwrap();
        let r = Reader {
            text,
            literals_only: false,
        };
        let (n, pos) = r.body(&body, 0).unwrap();
        let expr = |k: &str| match n.get(k) {
            Some(Node::Expr(e)) => e.clone(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(expr("a"), "var.x");
        assert_eq!(expr("b"), "local.size * 2");
        assert_eq!(expr("c"), "\"${var.env}-web\"");
        assert_eq!(expr("d"), "max(1, var.n)");
        assert!(matches!(n.get("ingress"), Some(Node::List(l)) if l.len() == 2));
        assert!(n.get("dynamic").and_then(|d| d.get("egress")).is_some());
        use crate::position::RawSeg;
        let at = |path: &[RawSeg]| pos.find(path).map(|p| p.line);
        assert_eq!(at(&[RawSeg::Key("b".into())]), Some(2));
        assert_eq!(
            at(&[
                RawSeg::Key("ingress".into()),
                RawSeg::Index(1),
                RawSeg::Key("port".into())
            ]),
            Some(12)
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("a = {}{}\n", "[".repeat(300), "]".repeat(300));
        assert!(tfvars(&deep).is_err());
    }
}
