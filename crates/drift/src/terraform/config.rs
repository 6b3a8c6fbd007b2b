//! Terraform configuration (`.tf`): each top-level block is one object, named as Terraform
//! addresses it — `resource.aws_instance.web`, `data.aws_ami.base`, `module.web_cluster`,
//! `variable.region`, `output.url`, `provider.aws` (`provider.aws.west` with an alias),
//! `locals` and `terraform` (every such block of the file merged), `moved.<from>`,
//! `import.<to>`, `removed.<from>`, `check.<name>`. Attributes are the object's values, read
//! by `formats/hcl.rs` (literals as values, expressions as normalised text) with their lines.
//!
//! Object keys have the `group|kind|namespace|name` shape of Kubernetes objects, so
//! `pairing.rs` pairs `module.prod_cluster` with `module.staging_cluster` as it pairs
//! `prod-web` with `stg-web`. An unknown block type, a wrong number of labels, an attribute at
//! the top level and a block declared twice are errors naming the line, as Terraform's own.
use std::collections::BTreeMap;

use hcl::edit::Span;
use hcl::edit::structure::{Block, Structure};

use crate::formats::hcl::{self as reader, Error, Reader};
use crate::position::{Kids, PosNode};
use crate::secrets::{SecretPolicy, hash_all};
use crate::source::Object;
use crate::tree::Node;

/// Terraform's top-level block types, with their number of labels.
const BLOCKS: &[(&str, usize)] = &[
    ("terraform", 0),
    ("provider", 1),
    ("variable", 1),
    ("locals", 0),
    ("output", 1),
    ("module", 1),
    ("resource", 2),
    ("data", 2),
    ("ephemeral", 2),
    ("moved", 0),
    ("import", 0),
    ("removed", 0),
    ("check", 1),
];

/// The group part of every Terraform object key.
pub const GROUP: &str = "terraform";

/// Whether an object key is a Terraform block's or resource's (`terraform|module||web`).
pub fn is_terraform_key(key: &str) -> bool {
    key.strip_prefix(GROUP).is_some_and(|k| k.starts_with('|'))
}

/// Reads a `.tf` file into its objects, secrets masked.
pub fn objects(text: &str, policy: &SecretPolicy) -> Result<Vec<Object>, Error> {
    let body = reader::parse_body(text)?;
    let r = Reader {
        text,
        literals_only: false,
    };
    let mut out: Vec<Object> = Vec::new();
    // Where each object was declared, for "declared twice" errors.
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
    for s in body.iter() {
        let b = match s {
            Structure::Block(b) => b,
            Structure::Attribute(a) => {
                let (line, col) = r.at(a.key.span());
                return Err((
                    line,
                    col,
                    format!(
                        "`{}` is an attribute at the top level; a .tf file holds blocks (resource, module, variable, …)",
                        a.key.as_str()
                    ),
                ));
            }
        };
        let (kind, name) = address(&r, b)?;
        let (node, mut pos) = r.body(&b.body, 1)?;
        pos.at = r.pos(b.ident.span());
        let node = mask(&kind, &name, node, policy);
        let (line, _) = r.at(b.ident.span());
        let display = display(&kind, &name);
        if matches!(kind.as_str(), "locals" | "terraform") {
            if let Some(o) = out.iter_mut().find(|o| o.display == display) {
                merge(o, node, pos, &r, b)?;
                continue;
            }
        } else if let Some(first) = first_line.get(&display) {
            return Err((
                line,
                r.at(b.ident.span()).1,
                format!("{display} is declared twice (first on line {first})"),
            ));
        }
        first_line.insert(display.clone(), line);
        out.push(Object {
            key: format!("{GROUP}|{kind}||{name}"),
            display,
            node,
            pos: Some(pos),
        });
    }
    Ok(out)
}

/// The kind and name of a top-level block: (`resource.aws_instance`, `web`),
/// (`module`, `web_cluster`), (`moved`, `aws_instance.a`), (`locals`, ``).
fn address(r: &Reader<'_>, b: &Block) -> Result<(String, String), Error> {
    let ident = b.ident.as_str();
    let (line, col) = r.at(b.ident.span());
    let Some((_, labels)) = BLOCKS.iter().find(|(t, _)| *t == ident) else {
        let known: Vec<&str> = BLOCKS.iter().map(|(t, _)| *t).collect();
        return Err((
            line,
            col,
            format!(
                "unknown block type `{ident}`; Terraform's are {}",
                known.join(", ")
            ),
        ));
    };
    if b.labels.len() != *labels {
        let want = match labels {
            0 => "no labels".to_string(),
            1 => "one label (its name)".to_string(),
            _ => "two labels (its type and name)".to_string(),
        };
        return Err((
            line,
            col,
            format!("a {ident} block takes {want}, found {}", b.labels.len()),
        ));
    }
    let label = |i: usize| {
        b.labels
            .get(i)
            .map(|l| l.as_str().to_string())
            .unwrap_or_default()
    };
    Ok(match ident {
        "resource" | "data" | "ephemeral" => (format!("{ident}.{}", label(0)), label(1)),
        "provider" => {
            let alias = b
                .body
                .get_attribute("alias")
                .and_then(|a| a.value.as_str().map(str::to_string));
            match alias {
                Some(a) => (ident.to_string(), format!("{}.{a}", label(0))),
                None => (ident.to_string(), label(0)),
            }
        }
        // Identified by what they move, import or remove.
        "moved" | "removed" => (ident.to_string(), attribute_text(b, "from")),
        "import" => (ident.to_string(), attribute_text(b, "to")),
        _ => (ident.to_string(), label(0)),
    })
}

/// An attribute's normalised text (`aws_instance.a`), empty when absent.
fn attribute_text(b: &Block, name: &str) -> String {
    b.body
        .get_attribute(name)
        .map(|a| reader::normalised(&a.value))
        .unwrap_or_default()
}

/// How reports name an object: `resource.aws_instance.web`, `locals`.
fn display(kind: &str, name: &str) -> String {
    if name.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{name}")
    }
}

/// Masks secrets: by key, as every format is, plus what Terraform itself marks or names as
/// secret — the `default` of a `sensitive` variable or one with a secret-looking name, the
/// `value` of a `sensitive` output.
fn mask(kind: &str, name: &str, node: Node, policy: &SecretPolicy) -> Node {
    let sensitive = matches!(node.get("sensitive"), Some(Node::Bool(true)));
    let field = match kind {
        "variable" if sensitive || policy.is_secret_key(name) => Some("default"),
        "output" if sensitive => Some("value"),
        _ => None,
    };
    let node = policy.mask(node, false);
    match (field, node) {
        (Some(field), Node::Map(mut m)) => {
            if let Some(v) = m.remove(field) {
                m.insert(field.to_string(), hash_all(v));
            }
            Node::Map(m)
        }
        (_, node) => node,
    }
}

/// Adds another `locals` (or `terraform`) block's entries to the object of the first one.
fn merge(o: &mut Object, node: Node, pos: PosNode, r: &Reader<'_>, b: &Block) -> Result<(), Error> {
    let (Node::Map(into), Node::Map(from)) = (&mut o.node, node) else {
        return Ok(());
    };
    let mut from_pos = match pos.kids {
        Kids::Map(m) => m,
        _ => BTreeMap::new(),
    };
    let into_pos = o.pos.as_mut().map(|p| &mut p.kids);
    let mut into_pos = match into_pos {
        Some(Kids::Map(m)) => Some(m),
        _ => None,
    };
    for (k, v) in from {
        if into.contains_key(&k) {
            let (line, col) = from_pos
                .get(&k)
                .and_then(|(at, _)| *at)
                .map_or_else(|| r.at(b.ident.span()), |p| (p.line, p.column));
            return Err((
                line,
                col,
                format!("`{k}` is defined twice in {} blocks", o.display),
            ));
        }
        if let (Some(dst), Some(p)) = (into_pos.as_mut(), from_pos.remove(&k)) {
            dst.insert(k.clone(), p);
        }
        into.insert(k, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Object>, Error> {
        objects(text, &SecretPolicy::default())
    }

    #[test]
    fn blocks_become_addressed_objects() {
        let text = r#"
terraform {
  required_version = ">= 1.5"
}
provider "aws" {
  region = "eu-west-1"
}
provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
variable "db_password" {
  default = "hunter2"
}
locals {
  a = 1
}
locals {
  b = var.x
}
module "prod_cluster" {
  source         = "../modules/web_cluster"
  instance_count = 4
}
resource "aws_instance" "web" {
  count = 2
}
moved {
  from = aws_instance.old
  to   = aws_instance.web
}
"#;
        let objs = read(text).unwrap();
        let names: Vec<&str> = objs.iter().map(|o| o.display.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "terraform",
                "provider.aws",
                "provider.aws.us",
                "variable.db_password",
                "locals",
                "module.prod_cluster",
                "resource.aws_instance.web",
                "moved.aws_instance.old"
            ]
        );
        let locals = &objs[4];
        assert!(locals.node.get("a").is_some() && locals.node.get("b").is_some());
        assert!(matches!(objs[3].node.get("default"), Some(Node::Secret(_))));
        assert_eq!(objs[5].key, "terraform|module||prod_cluster");
        let at = objs[5]
            .pos
            .as_ref()
            .and_then(|p| p.find(&[crate::position::RawSeg::Key("instance_count".into())]));
        assert_eq!(at.map(|p| p.line), Some(23));
    }

    #[test]
    fn bad_blocks_name_their_line() {
        let e = read("resource \"a\" \"b\" {}\n\nresourse \"a\" \"c\" {}\n").unwrap_err();
        assert_eq!(e.0, 3, "{e:?}");
        assert!(e.2.contains("unknown block type `resourse`"), "{e:?}");
        let e = read("module {}\n").unwrap_err();
        assert!(e.2.contains("one label"), "{e:?}");
        let e = read("x = 1\n").unwrap_err();
        assert!(e.2.contains("top level"), "{e:?}");
        let e = read("module \"a\" {}\nmodule \"a\" {}\n").unwrap_err();
        assert_eq!(e.0, 2, "{e:?}");
        let e = read("locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n").unwrap_err();
        assert_eq!(e.0, 5, "{e:?}");
    }
}
