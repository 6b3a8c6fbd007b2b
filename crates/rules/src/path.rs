//! Paths inside a tree of values, as reports print them and rules match them
//! (`spec.template.spec.containers[name=web].resources.limits.memory`), and the globs that
//! match such paths, relative file paths and object names.
use std::fmt;

use prodlike_common::glob::{self as common, SegmentSyntax, Wildcard};

use crate::error::GlobError;

/// One step down a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A map key.
    Key(String),
    /// A list item matched by its identity key, printed `[name=web]`.
    Item { key: String, value: String },
    /// A list item matched by position, printed `[3]`.
    Index(usize),
}

/// A path from an object's root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// Goes one step down.
    pub fn push(&mut self, seg: Seg) {
        self.0.push(seg);
    }
    /// Goes one step back up.
    pub fn pop(&mut self) {
        self.0.pop();
    }
    /// The last map key on the path, if any.
    pub fn last_key(&self) -> Option<&str> {
        self.0.iter().rev().find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Item { key, value } => write!(f, "[{key}={value}]")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A compiled glob over printed paths, relative file paths or object names.
///
/// Tree paths (`Glob::path`):
/// * `*` matches within one key (never across `.` or `[`), `?` one such character;
/// * `[*]` matches any one list item (`[name=web]`, `[3]`);
/// * `**` matches any run of keys and items, including none: `**.image`, `metadata.**`,
///   `spec.**.memory`;
/// * everything else is literal.
///
/// Paths are cut into keys and items and matched by `prodlike_common::glob`, the workspace's one
/// segment matcher; file globs are its `/`-separated globs, object globs one whole-text wildcard.
#[derive(Debug, Clone)]
pub struct Glob {
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Tree(common::Glob),
    File(common::Glob),
    /// The pattern and its forms with `/**` segments left out (`Deployment/**` also matches
    /// `Deployment`).
    Object(Vec<Wildcard>),
}

/// Tree paths: `*` and `?` stop at `.` and `[`, `?` is a wildcard.
const TREE: SegmentSyntax = SegmentSyntax {
    question_mark: true,
    star_stops_at: &['.', '['],
};

/// Object names: `*` matches anything, `/` included.
const OBJECT: SegmentSyntax = SegmentSyntax {
    question_mark: true,
    star_stops_at: &[],
};

impl Glob {
    /// A glob over tree paths (separators `.` and `[`).
    pub fn path(pattern: &str) -> Result<Glob, GlobError> {
        let segs = tree_segments(pattern)
            .into_iter()
            .map(|s| if s == "[*]" { "[**]" } else { s });
        Ok(Glob {
            text: pattern.to_string(),
            kind: Kind::Tree(common::Glob::from_segments(pattern, segs, TREE)?),
        })
    }

    /// A glob over relative file paths (separator `/`; `**` spans folders).
    pub fn file(pattern: &str) -> Result<Glob, GlobError> {
        Ok(Glob {
            text: pattern.to_string(),
            kind: Kind::File(common::Glob::file(pattern)?),
        })
    }

    /// A glob over object names such as `Deployment/shop/web`, where `*` matches anything.
    pub fn object(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        // `**` between slashes may also stand for nothing, slash included, as it did when these
        // globs were regular expressions (`shop/**/web` matches `shop/web`).
        let parts: Vec<&str> = pattern.split('/').collect();
        let stars: Vec<usize> = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == "**")
            .map(|(i, _)| i)
            .collect();
        let mut forms = Vec::new();
        let subsets = if stars.len() <= 4 {
            1u32 << stars.len()
        } else {
            1
        };
        for dropped in 0..subsets {
            let kept: Vec<&str> = parts
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    stars
                        .iter()
                        .position(|s| s == i)
                        .is_none_or(|bit| dropped & (1 << bit) == 0)
                })
                .map(|(_, p)| *p)
                .collect();
            if !kept.is_empty() {
                forms.push(Wildcard::new(&kept.join("/"), OBJECT));
            }
        }
        Ok(Glob {
            text: pattern.to_string(),
            kind: Kind::Object(forms),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        match &self.kind {
            Kind::Tree(g) => g.matches_segments(tree_segments(text)),
            Kind::File(g) => g.matches(text),
            Kind::Object(forms) => forms.iter().any(|w| w.matches(text)),
        }
    }
}

/// Cuts a printed path (or a tree glob) into keys and items: `spec.containers[name=web].image`
/// is `spec`, `containers`, `[name=web]`, `image`. An item runs to the first `]`; a `[` with no
/// `]` after it is part of its key.
fn tree_segments(text: &str) -> Vec<&str> {
    let mut segs = Vec::new();
    let mut key_start = Some(0);
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with('.') {
            if let Some(start) = key_start {
                segs.push(&text[start..i]);
            }
            key_start = Some(i + 1);
            i += 1;
        } else if let Some(close) = rest.strip_prefix('[').and_then(|r| r.find(']')) {
            match key_start {
                Some(start) if start < i => segs.push(&text[start..i]),
                _ => {}
            }
            segs.push(&text[i..i + close + 2]);
            key_start = None;
            i += close + 2;
        } else {
            key_start.get_or_insert(i);
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    if let Some(start) = key_start {
        segs.push(&text[start..]);
    }
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(glob: &str, path: &str) -> bool {
        Glob::path(glob).unwrap().matches(path)
    }

    #[test]
    fn tree_globs() {
        assert!(m("spec.replicas", "spec.replicas"));
        assert!(!m("spec.replicas", "spec.replicasX"));
        assert!(m("metadata.*", "metadata.labels"));
        assert!(!m("metadata.*", "metadata.labels.app"));
        assert!(m("metadata.**", "metadata"));
        assert!(m("metadata.**", "metadata.labels.app"));
        assert!(m("**.image", "image"));
        assert!(m("**.image", "spec.containers[name=web].image"));
        assert!(!m("**.image", "spec.imagePullPolicy"));
        assert!(m("spec.**.memory", "spec.memory"));
        assert!(m(
            "spec.**.memory",
            "spec.template.spec.containers[name=web].resources.limits.memory"
        ));
        assert!(m("containers[*].image", "containers[name=my.app].image"));
        assert!(m("containers[*].image", "containers[2].image"));
        assert!(m(
            "containers[name=web].image",
            "containers[name=web].image"
        ));
        assert!(!m(
            "containers[name=web].image",
            "containers[name=api].image"
        ));
        assert!(m("**", "anything.at[all]"));
        assert!(m("env[name=DB_*].value", "env[name=DB_HOST].value"));
    }

    #[test]
    fn file_and_object_globs() {
        let g = Glob::file("k8s/*.yaml").unwrap();
        assert!(g.matches("k8s/web.yaml"));
        assert!(!g.matches("k8s/sub/web.yaml"));
        assert!(Glob::file("**/*.yaml").unwrap().matches("k8s/sub/web.yaml"));
        assert!(Glob::file("**/*.yaml").unwrap().matches("web.yaml"));
        assert!(
            Glob::object("Deployment/*")
                .unwrap()
                .matches("Deployment/shop/web")
        );
        assert!(Glob::path("").is_err());
        assert!(Glob::object("Deployment/**").unwrap().matches("Deployment"));
        assert!(Glob::object("**/web").unwrap().matches("web"));
    }

    #[test]
    fn paths_print_keys_items_and_indexes() {
        let p = Path(vec![
            Seg::Key("spec".into()),
            Seg::Key("containers".into()),
            Seg::Item {
                key: "name".into(),
                value: "web".into(),
            },
            Seg::Key("args".into()),
            Seg::Index(0),
        ]);
        assert_eq!(p.to_string(), "spec.containers[name=web].args[0]");
        assert_eq!(p.last_key(), Some("args"));
    }
}
