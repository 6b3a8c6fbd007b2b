//! Layered values, merged as Helm merges `-f values.yaml -f values-production.yaml`: maps are
//! deep-merged, lists and scalars replaced by the later layer, and a `null` deletes the key.
//! Each side is its own stack of layers; the merged trees are compared as one file per side,
//! and every finding points into the layer that supplied its value.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::compare::compare_sources;
use crate::error::DriftError;
use crate::position::{Kids, PosNode};
use crate::report::{DriftReport, Mode};
use crate::rules::RuleSet;
use crate::source::{self, Object, Source};
use crate::tree::Node;

/// Merges `over` into `base` as Helm does.
pub fn merge(base: Node, over: Node) -> Node {
    match (base, over) {
        (Node::Map(mut b), Node::Map(o)) => {
            for (k, v) in o {
                if matches!(v, Node::Null) {
                    b.remove(&k);
                    continue;
                }
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Node::Map(b)
        }
        (_, over) => over,
    }
}

/// Merges the positions of `over` (from `file`) into `base` along the same rules.
fn merge_pos(base: PosNode, over: PosNode, file: &Arc<str>) -> PosNode {
    match (base.kids, over.kids) {
        (Kids::Map(mut b), Kids::Map(o)) => {
            for (k, (key_at, v)) in o {
                let merged = match b.remove(&k) {
                    Some((_, old)) => merge_pos(old, v, file),
                    None => tagged(v, file),
                };
                b.insert(k, (key_at, tagged_root(merged, file)));
            }
            PosNode {
                at: base.at,
                kids: Kids::Map(b),
                file: base.file,
            }
        }
        (_, kids) => tagged(
            PosNode {
                at: over.at,
                kids,
                file: None,
            },
            file,
        ),
    }
}

/// Marks a subtree as read from `file` (the deepest mark on a path wins).
fn tagged(mut p: PosNode, file: &Arc<str>) -> PosNode {
    p.file = Some(file.clone());
    p
}

/// Marks a merged map entry's key as coming from `file` when nothing below says otherwise.
fn tagged_root(mut p: PosNode, file: &Arc<str>) -> PosNode {
    if p.file.is_none() {
        p.file = Some(file.clone());
    }
    p
}

/// One side: every layer read and merged in order, objects by key (a Kubernetes object or a
/// document of a layer merges into the same object of the layers before).
pub fn load_side(layers: &[PathBuf], rules: &RuleSet) -> Result<Source, DriftError> {
    let mut merged: Option<Source> = None;
    for path in layers {
        if !path.is_file() {
            return Err(DriftError::Missing { path: path.clone() });
        }
        let rel = layer_name(path);
        let layer = source::load_file(path, &rel, &rules.secrets)?;
        let file: Arc<str> = Arc::from(rel.as_str());
        merged = Some(match merged {
            None => Source {
                objects: layer
                    .objects
                    .into_iter()
                    .map(|o| tag_object(o, &file))
                    .collect(),
                ..layer
            },
            Some(mut acc) => {
                for o in layer.objects {
                    match acc.objects.iter_mut().find(|a| a.key == o.key) {
                        Some(a) => {
                            let node = std::mem::replace(&mut a.node, Node::Null);
                            a.node = merge(node, o.node);
                            a.pos = match (a.pos.take(), o.pos) {
                                (Some(b), Some(p)) => Some(merge_pos(b, p, &file)),
                                _ => None,
                            };
                        }
                        None => acc.objects.push(tag_object(o, &file)),
                    }
                }
                acc.rel = format!("{} + {rel}", acc.rel);
                acc.text = None;
                acc
            }
        });
    }
    merged.ok_or_else(|| DriftError::Missing {
        path: PathBuf::from("(no layers given)"),
    })
}

fn tag_object(mut o: Object, file: &Arc<str>) -> Object {
    o.pos = o.pos.map(|p| tagged(p, file));
    o
}

/// How a layer is named in reports: its path as given.
fn layer_name(p: &Path) -> String {
    p.display().to_string()
}

/// Compares the merged baseline layers with the merged candidate layers.
pub fn compare_layers(
    baseline: &[PathBuf],
    candidate: &[PathBuf],
    rules: &RuleSet,
    rules_file: Option<String>,
) -> Result<DriftReport, DriftError> {
    let b = load_side(baseline, rules)?;
    let c = load_side(candidate, rules)?;
    let (bl, cl) = (b.rel.clone(), c.rel.clone());
    Ok(compare_sources(
        vec![(Some(b), Some(c))],
        Mode::Files,
        &bl,
        &cl,
        rules,
        rules_file,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Node {
        serde_saphyr::from_str(s).unwrap()
    }

    #[test]
    fn maps_merge_lists_replace_nulls_delete() {
        let m = merge(
            yaml("a: {b: 1, c: [1, 2], d: {e: 1}}\nf: 1\n"),
            yaml("a: {b: 2, c: [3], d: null}\ng: 2\n"),
        );
        assert!(m.same(&yaml("a: {b: 2, c: [3]}\nf: 1\ng: 2\n")), "{m:?}");
    }
}
