//! `terraform show -json` documents — a saved plan (`terraform show -json tfplan`) or the state
//! (`terraform show -json`) — as objects paired by resource address. `terraform plan -json` is
//! something else, a stream of log lines, and is refused with the command to use.
//!
//! A plan's objects are its `resource_changes`, each the values it will have after apply
//! (`change.after`; a resource being deleted is absent), values known only after apply shown as
//! `(known after apply)`; without `resource_changes`, the resources of `planned_values`. A
//! state's are the resources of `values`. Outputs are objects too (`output.NAME`). Values
//! Terraform marks sensitive (`after_sensitive`, `sensitive_values`, a sensitive output) are
//! masked like any secret. Only `format_version` 1.x is read: another version is an error, as
//! its shape is not known.
use std::collections::BTreeMap;

use crate::position::{PosNode, RawSeg};
use crate::secrets::{SecretPolicy, hash_all};
use crate::source::Object;
use crate::terraform::config::GROUP;
use crate::tree::Node;

/// The value shown where a plan knows a value only after apply (as Terraform prints it).
pub const UNKNOWN: &str = "(known after apply)";

/// What is wrong with a document, and the path of the value at fault.
pub type Error = (Vec<RawSeg>, String);

/// Whether a JSON document is `terraform show -json` output.
pub fn is_show_json(doc: &Node) -> bool {
    doc.get("format_version").is_some()
        && [
            "terraform_version",
            "values",
            "planned_values",
            "resource_changes",
        ]
        .iter()
        .any(|k| doc.get(k).is_some())
}

/// Whether a text is `terraform plan -json`'s log stream (JSON lines with `@level`).
pub fn is_plan_log(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str::<serde_json::Value>(first)
        .is_ok_and(|v| v.get("@level").is_some() && v.get("type").is_some())
}

/// The objects of a plan or state document, secrets masked.
pub fn objects(
    doc: &Node,
    pos: Option<&PosNode>,
    policy: &SecretPolicy,
) -> Result<Vec<Object>, Error> {
    check_version(doc)?;
    let mut reader = Objects {
        pos,
        policy,
        out: BTreeMap::new(),
    };
    if let Some(changes) = doc.get("resource_changes") {
        reader.changes(changes)?;
        if let Some(Node::Map(outputs)) = doc.get("output_changes") {
            for (name, change) in outputs {
                let path = [key("output_changes"), key(name), key("after")];
                if let Some(after) = planned(change) {
                    reader.push("output", &format!("output.{name}"), after, &path);
                }
            }
        }
    } else if let Some(values) = doc.get("planned_values") {
        reader.module_tree(values, vec![key("planned_values")])?;
    } else if let Some(values) = doc.get("values") {
        reader.module_tree(values, vec![key("values")])?;
    }
    Ok(reader.out.into_values().collect())
}

fn key(k: &str) -> RawSeg {
    RawSeg::Key(k.to_string())
}

/// Refuses a `format_version` other than 1.x.
fn check_version(doc: &Node) -> Result<(), Error> {
    let at = vec![key("format_version")];
    match doc.get("format_version") {
        Some(Node::String(v)) if v.split('.').next() == Some("1") => Ok(()),
        Some(v) => Err((
            at,
            format!(
                "terraform show -json format_version {} is not supported: this build reads 1.x (Terraform 1.0 and later)",
                v.render_short(20)
            ),
        )),
        None => Err((at, "no format_version".to_string())),
    }
}

/// The value a change leaves after apply, unknowns and sensitive values marked; `None` when
/// the change deletes it.
fn planned(change: &Node) -> Option<Node> {
    let after = change.get("after")?;
    if matches!(after, Node::Null)
        && change
            .get("actions")
            .is_some_and(|a| a.same(&Node::List(vec![Node::String("delete".into())])))
    {
        return None;
    }
    let after = match change.get("after_unknown") {
        Some(u) => unknown(after.clone(), u),
        None => after.clone(),
    };
    Some(match change.get("after_sensitive") {
        Some(s) => sensitive(after, s),
        None => after,
    })
}

/// Marks what `after_unknown` says is unknown.
fn unknown(value: Node, marks: &Node) -> Node {
    match (value, marks) {
        (_, Node::Bool(true)) => Node::String(UNKNOWN.to_string()),
        (Node::Map(mut m), Node::Map(u)) => {
            for (k, mark) in u {
                match m.remove(k) {
                    Some(v) => {
                        m.insert(k.clone(), unknown(v, mark));
                    }
                    // Unknown values are left out of `after`.
                    None if matches!(mark, Node::Bool(true)) => {
                        m.insert(k.clone(), Node::String(UNKNOWN.to_string()));
                    }
                    None => {}
                }
            }
            Node::Map(m)
        }
        (Node::List(items), Node::List(u)) => Node::List(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match u.get(i) {
                    Some(mark) => unknown(v, mark),
                    None => v,
                })
                .collect(),
        ),
        (v, _) => v,
    }
}

/// Hashes what a sensitivity mask (`after_sensitive`, `sensitive_values`) marks `true`.
fn sensitive(value: Node, marks: &Node) -> Node {
    match (value, marks) {
        (v, Node::Bool(true)) => hash_all(v),
        (Node::Map(m), Node::Map(s)) => Node::Map(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match s.get(&k) {
                        Some(mark) => sensitive(v, mark),
                        None => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        (Node::List(items), Node::List(s)) => Node::List(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match s.get(i) {
                    Some(mark) => sensitive(v, mark),
                    None => v,
                })
                .collect(),
        ),
        (v, _) => v,
    }
}

/// Collects objects by address.
struct Objects<'a> {
    pos: Option<&'a PosNode>,
    policy: &'a SecretPolicy,
    out: BTreeMap<String, Object>,
}

impl Objects<'_> {
    fn push(&mut self, kind: &str, address: &str, node: Node, path: &[RawSeg]) {
        let pos = self.pos.and_then(|p| p.descend(path)).cloned();
        self.out.insert(
            address.to_string(),
            Object {
                key: format!("{GROUP}|{kind}||{address}"),
                display: address.to_string(),
                node: self.policy.mask(node, false),
                pos,
            },
        );
    }

    /// A plan's `resource_changes`.
    fn changes(&mut self, changes: &Node) -> Result<(), Error> {
        let Node::List(items) = changes else {
            return Err((vec![key("resource_changes")], "is not a list".into()));
        };
        for (i, rc) in items.iter().enumerate() {
            let at = vec![key("resource_changes"), RawSeg::Index(i)];
            let (address, kind) = identity(rc, &at)?;
            let Some(change) = rc.get("change") else {
                return Err((at, format!("{address} has no `change`")));
            };
            if let Some(after) = planned(change) {
                let mut path = at.clone();
                path.extend([key("change"), key("after")]);
                self.push(&kind, &address, after, &path);
            }
        }
        Ok(())
    }

    /// `values` or `planned_values`: the root module's resources, its child modules' in
    /// turn, and the outputs.
    fn module_tree(&mut self, values: &Node, at: Vec<RawSeg>) -> Result<(), Error> {
        if let Some(Node::Map(outputs)) = values.get("outputs") {
            for (name, o) in outputs {
                let Some(v) = o.get("value") else { continue };
                let v = if matches!(o.get("sensitive"), Some(Node::Bool(true))) {
                    hash_all(v.clone())
                } else {
                    v.clone()
                };
                let mut path = at.clone();
                path.extend([key("outputs"), key(name), key("value")]);
                self.push("output", &format!("output.{name}"), v, &path);
            }
        }
        let mut stack = Vec::new();
        if let Some(root) = values.get("root_module") {
            let mut path = at;
            path.push(key("root_module"));
            stack.push((root, path));
        }
        while let Some((module, path)) = stack.pop() {
            if let Some(Node::List(resources)) = module.get("resources") {
                for (i, r) in resources.iter().enumerate() {
                    let mut rpath = path.clone();
                    rpath.extend([key("resources"), RawSeg::Index(i)]);
                    let (address, kind) = identity(r, &rpath)?;
                    let v = r
                        .get("values")
                        .cloned()
                        .unwrap_or(Node::Map(BTreeMap::new()));
                    let v = match r.get("sensitive_values") {
                        Some(s) => sensitive(v, s),
                        None => v,
                    };
                    rpath.push(key("values"));
                    self.push(&kind, &address, v, &rpath);
                }
            }
            if let Some(Node::List(children)) = module.get("child_modules") {
                for (j, child) in children.iter().enumerate() {
                    let mut cpath = path.clone();
                    cpath.extend([key("child_modules"), RawSeg::Index(j)]);
                    stack.push((child, cpath));
                }
            }
        }
        Ok(())
    }
}

/// A resource's address and type (its kind for pairing).
fn identity(r: &Node, at: &[RawSeg]) -> Result<(String, String), Error> {
    let Some(address) = r.get("address").and_then(Node::as_str) else {
        return Err((at.to_vec(), "a resource without an `address`".into()));
    };
    let kind = r
        .get("type")
        .and_then(Node::as_str)
        .unwrap_or("resource")
        .to_string();
    Ok((address.to_string(), kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Node {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn plans_give_values_after_apply_by_address() {
        let doc = json(
            r#"{"format_version":"1.2","terraform_version":"1.9.5",
            "resource_changes":[
              {"address":"module.prod_cluster.aws_instance.web[0]","type":"aws_instance","change":{
                "actions":["create"],"after":{"instance_type":"t3.xlarge","password":"x","tags":{"a":"b"}},
                "after_unknown":{"id":true,"tags":{}},"after_sensitive":{"password":true}}},
              {"address":"aws_instance.old","type":"aws_instance","change":{"actions":["delete"],"after":null}}
            ]}"#,
        );
        assert!(is_show_json(&doc));
        let objs = objects(&doc, None, &SecretPolicy::default()).unwrap();
        assert_eq!(objs.len(), 1);
        let o = &objs[0];
        assert_eq!(o.display, "module.prod_cluster.aws_instance.web[0]");
        assert_eq!(
            o.node.get("id").and_then(Node::as_str),
            Some("(known after apply)")
        );
        assert!(matches!(o.node.get("password"), Some(Node::Secret(_))));
    }

    #[test]
    fn states_walk_child_modules_and_other_versions_are_refused() {
        let doc = json(
            r#"{"format_version":"1.0","values":{"outputs":{"url":{"sensitive":false,"value":"https://x"}},
            "root_module":{"resources":[{"address":"aws_s3_bucket.b","type":"aws_s3_bucket","values":{"bucket":"b"}}],
            "child_modules":[{"address":"module.m","resources":[{"address":"module.m.aws_sqs_queue.q","type":"aws_sqs_queue","values":{"name":"q"}}]}]}}}"#,
        );
        let objs = objects(&doc, None, &SecretPolicy::default()).unwrap();
        let names: Vec<&str> = objs.iter().map(|o| o.display.as_str()).collect();
        assert_eq!(
            names,
            vec!["aws_s3_bucket.b", "module.m.aws_sqs_queue.q", "output.url"]
        );
        let doc = json(r#"{"format_version":"2.0","terraform_version":"9.0","values":{}}"#);
        let e = objects(&doc, None, &SecretPolicy::default()).unwrap_err();
        assert!(e.1.contains("format_version \"2.0\""), "{e:?}");
        assert!(is_plan_log(
            "{\"@level\":\"info\",\"@message\":\"Terraform 1.9\",\"type\":\"version\"}\n{}\n"
        ));
    }
}
