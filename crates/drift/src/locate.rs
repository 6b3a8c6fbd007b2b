//! Best-effort line numbers for findings, so text reports and SARIF point into the file. The
//! trees do not keep positions, so this walks the path's keys down the file text in order.
use crate::path::{Path, Seg};

/// The 1-based line of `path` inside the object `object` (a Kubernetes display name such as
/// `Deployment/shop/web`, `document 3`, or empty) of `text`.
pub fn locate(text: &str, object: &str, path: &Path) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let (mut from, to) = object_range(&lines, object);
    let mut found = None;
    for seg in &path.0 {
        let hit = match seg {
            Seg::Key(k) => (from..to).find(|&i| is_key_line(lines[i], k)),
            Seg::Item { value, .. } => (from..to).find(|&i| lines[i].contains(value.as_str())),
            Seg::Index(_) => continue,
        };
        match hit {
            Some(i) => {
                found = Some(i + 1);
                from = i + 1;
            }
            None => break,
        }
    }
    found.or_else(|| (!object.is_empty() && from > 0).then_some(from))
}

fn is_key_line(line: &str, key: &str) -> bool {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    let t = t.strip_prefix("export ").unwrap_or(t);
    let rest = if let Some(r) = t.strip_prefix(key) {
        r
    } else if let Some(r) = t.strip_prefix(&format!("\"{key}\"")) {
        r
    } else if let Some(r) = t.strip_prefix(&format!("'{key}'")) {
        r
    } else {
        return (t.starts_with('[') && t.trim_end().trim_end_matches(']').ends_with(key))
            && !key.is_empty();
    };
    let rest = rest.trim_start();
    rest.starts_with(':') || rest.starts_with('=')
}

/// The lines of one document of a multi-document YAML file.
fn object_range(lines: &[&str], object: &str) -> (usize, usize) {
    if object.is_empty() {
        return (0, lines.len());
    }
    let mut docs = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("---") {
            if i > start {
                docs.push((start, i));
            }
            start = i + 1;
        }
    }
    docs.push((start, lines.len()));
    if let Some(n) = object
        .strip_prefix("document ")
        .and_then(|n| n.parse::<usize>().ok())
    {
        let non_empty: Vec<_> = docs
            .iter()
            .filter(|(a, b)| {
                lines[*a..*b]
                    .iter()
                    .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            })
            .collect();
        return non_empty
            .get(n.wrapping_sub(1))
            .map(|r| **r)
            .unwrap_or((0, lines.len()));
    }
    let parts: Vec<&str> = object.split('/').collect();
    let (kind, name) = (
        parts.first().copied().unwrap_or(""),
        parts.last().copied().unwrap_or(""),
    );
    docs.into_iter()
        .find(|(a, b)| {
            let doc = &lines[*a..*b];
            doc.iter().any(|l| l.trim() == format!("kind: {kind}"))
                && doc.iter().any(|l| {
                    let t = l.trim();
                    t == format!("name: {name}") || t == format!("name: \"{name}\"")
                })
        })
        .unwrap_or((0, lines.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_down_the_path() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1\n";
        let p = Path(vec![Seg::Key("spec".into()), Seg::Key("replicas".into())]);
        assert_eq!(locate(text, "Deployment/web", &p), Some(11));
        let p = Path(vec![
            Seg::Key("spec".into()),
            Seg::Key("template".into()),
            Seg::Key("spec".into()),
            Seg::Key("containers".into()),
            Seg::Item {
                key: "name".into(),
                value: "web".into(),
            },
            Seg::Key("image".into()),
        ]);
        assert_eq!(locate(text, "Deployment/web", &p), Some(16));
        let p = Path(vec![Seg::Key("DB_HOST".into())]);
        assert_eq!(locate("A=1\nDB_HOST=x\n", "", &p), Some(2));
    }
}
