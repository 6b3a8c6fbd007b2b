//! A compared file as objects: each Kubernetes object of a multi-document YAML file keyed by
//! its API group, kind, namespace and name; other documents by position; a plain file as one
//! object. Secrets are masked here, before anything else sees the values.
use std::path::{Path, PathBuf};

use crate::error::{DriftError, Malformed};
use crate::formats::{self, Format};
use crate::position::PosNode;
use crate::secrets::SecretPolicy;
use crate::terraform;
use crate::tree::Node;

/// One side of a file pair.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path relative to the compared root (or the file name when comparing two files).
    pub rel: String,
    pub format: Format,
    /// The file text, kept to locate findings by line; `None` for schemas.
    pub text: Option<String>,
    pub objects: Vec<Object>,
}

/// A unit of comparison inside a file.
#[derive(Debug, Clone)]
pub struct Object {
    /// Pairing key: `apps|Deployment|shop|web` for Kubernetes (the API version is compared as
    /// a field, so an upgrade from `v1beta1` to `v1` is a change, not a removal);
    /// `#2` for the third plain document; empty for a single-document file;
    /// `terraform|module||web` for Terraform blocks and plan resources (`crate::terraform`).
    pub key: String,
    /// As reports print it: `Deployment/shop/web`, `document 3`, or empty.
    pub display: String,
    pub node: Node,
    /// Positions of its values in the file (YAML, JSON, HCL); `None` for other formats, which
    /// are located by text search.
    pub pos: Option<PosNode>,
}

/// Reads and parses one file.
pub fn load_file(path: &Path, rel: &str, policy: &SecretPolicy) -> Result<Source, DriftError> {
    let bytes = std::fs::read(path).map_err(|source| DriftError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        return Ok(opaque(rel, &bytes, None));
    };
    from_text(path, rel, &text, policy)
}

/// Parses file text already in memory (the demo's bundled samples use this).
pub fn from_text(
    path: &Path,
    rel: &str,
    text: &str,
    policy: &SecretPolicy,
) -> Result<Source, DriftError> {
    let format = formats::detect(path, text);
    if format == Format::Text {
        return Ok(opaque(rel, text.as_bytes(), Some(text.to_string())));
    }
    let malformed = |line: Option<usize>, column: Option<usize>, message: String| {
        DriftError::Malformed(Malformed {
            path: path.to_path_buf(),
            format: format.name(),
            line,
            column,
            message,
        })
    };
    if format == Format::Terraform {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let objects = terraform::config::objects(body, policy)
            .map_err(|(line, col, message)| malformed(Some(line), Some(col), message))?;
        return Ok(source(rel, format, text, objects));
    }
    let (docs, positions) =
        formats::parse_located(format, path, text).map_err(DriftError::Malformed)?;
    if let ([doc], Format::Json) = (docs.as_slice(), format) {
        if terraform::show::is_show_json(doc) {
            let pos = positions.as_ref().and_then(|p| p.first());
            let objects = terraform::show::objects(doc, pos, policy).map_err(|(at, message)| {
                let p = pos.and_then(|p| p.find(&at));
                DriftError::Malformed(Malformed {
                    path: path.to_path_buf(),
                    format: "Terraform JSON",
                    line: p.map(|p| p.line),
                    column: p.map(|p| p.column),
                    message,
                })
            })?;
            return Ok(source(rel, format, text, objects));
        }
    }
    Ok(source(rel, format, text, objects(docs, positions, policy)))
}

fn source(rel: &str, format: Format, text: &str, objects: Vec<Object>) -> Source {
    Source {
        rel: rel.to_string(),
        format,
        text: Some(text.to_string()),
        objects,
    }
}

/// A file in no known format: compared by content, never printed (it could hold a key).
fn opaque(rel: &str, bytes: &[u8], text: Option<String>) -> Source {
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    let fp = crate::secrets::hash(&String::from_utf8_lossy(bytes)).fingerprint();
    Source {
        rel: rel.to_string(),
        format: Format::Text,
        text,
        objects: vec![Object {
            key: String::new(),
            display: String::new(),
            node: Node::String(format!(
                "{} bytes, {lines} lines, content {fp}",
                bytes.len()
            )),
            pos: None,
        }],
    }
}

fn objects(docs: Vec<Node>, positions: Option<Vec<PosNode>>, policy: &SecretPolicy) -> Vec<Object> {
    let mut positions = positions.map(Vec::into_iter);
    let mut docs: Vec<(Node, Option<PosNode>)> = docs
        .into_iter()
        .flat_map(|doc| {
            let pos = positions.as_mut().and_then(Iterator::next);
            expand_lists(doc, pos)
        })
        .collect();
    let single = docs.len() == 1 && k8s_identity(&docs[0].0).is_none();
    let mut out: Vec<Object> = Vec::new();
    for (i, (doc, pos)) in docs.drain(..).enumerate() {
        let (mut key, mut display) = match k8s_identity(&doc) {
            Some(id) => id,
            None if single => (String::new(), String::new()),
            None => (format!("#{i}"), format!("document {}", i + 1)),
        };
        if out.iter().any(|o| o.key == key) {
            // The same object twice in one file: keep both, the second by position.
            key = format!("{key}#{i}");
            display = format!("{display} (document {})", i + 1);
        }
        let is_secret = doc.get("kind").and_then(Node::as_str) == Some("Secret");
        out.push(Object {
            key,
            display,
            node: policy.mask(doc, is_secret),
            pos,
        });
    }
    out
}

/// `kind: List` (as `kubectl get -o yaml` prints) holds its objects under `items`.
fn expand_lists(doc: Node, pos: Option<PosNode>) -> Vec<(Node, Option<PosNode>)> {
    let is_list = doc
        .get("kind")
        .and_then(Node::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && doc.get("apiVersion").is_some();
    if is_list {
        if let Some(Node::List(items)) = doc.get("items") {
            return items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let p = pos.as_ref().and_then(|p| p.item("items", i)).cloned();
                    (item.clone(), p)
                })
                .collect();
        }
    }
    vec![(doc, pos)]
}

/// `(key, display)` of a Kubernetes object, or `None` for any other document.
pub fn k8s_identity(doc: &Node) -> Option<(String, String)> {
    let api = doc.get("apiVersion")?.as_str()?;
    let kind = doc.get("kind")?.as_str()?;
    let meta = doc.get("metadata")?;
    let name = meta
        .get("name")
        .or_else(|| meta.get("generateName"))?
        .as_str()?;
    let ns = meta.get("namespace").and_then(Node::as_str).unwrap_or("");
    let group = api.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let key = format!("{group}|{kind}|{ns}|{name}");
    let display = if ns.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}/{ns}/{name}")
    };
    Some((key, display))
}

/// Every file under `root`, as sorted relative paths with `/` separators (`.git` skipped).
pub fn walk(root: &Path) -> Result<Vec<(String, PathBuf)>, DriftError> {
    let mut out = Vec::new();
    walk_into(root, root, 0, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk_into(
    root: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), DriftError> {
    if depth > 64 {
        return Ok(());
    }
    let read_err = |source| DriftError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        if path.is_dir() {
            walk_into(root, &path, depth + 1, out)?;
        } else if path.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_objects_are_keyed_by_identity() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec: {}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cfg}\n";
        let s = from_text(
            Path::new("all.yaml"),
            "all.yaml",
            text,
            &SecretPolicy::default(),
        )
        .unwrap();
        let keys: Vec<&str> = s.objects.iter().map(|o| o.display.as_str()).collect();
        assert_eq!(
            keys,
            vec!["Deployment/shop/web", "Service/web", "ConfigMap/cfg"]
        );
        assert_eq!(s.objects[0].key, "apps|Deployment|shop|web");
    }

    #[test]
    fn plain_documents_are_keyed_by_position() {
        let s = from_text(
            Path::new("v.yaml"),
            "v.yaml",
            "a: 1\n",
            &SecretPolicy::default(),
        )
        .unwrap();
        assert_eq!(s.objects[0].key, "");
        let s = from_text(
            Path::new("v.yaml"),
            "v.yaml",
            "a: 1\n---\nb: 2\n",
            &SecretPolicy::default(),
        )
        .unwrap();
        assert_eq!(s.objects[1].display, "document 2");
    }
}
