//! Paths inside a tree of values, as reports print them and rules match them
//! (`spec.template.spec.containers[name=web].resources.limits.memory`), and the globs that
//! match such paths, relative file paths and object names.
use std::fmt;

use regex::Regex;

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

/// A compiled glob over printed paths.
///
/// * `*` matches within one key (never across `.` or `[`), `?` one such character;
/// * `[*]` matches any one list item (`[name=web]`, `[3]`);
/// * `**` matches any run of keys and items, including none: `**.image`, `metadata.**`,
///   `spec.**.limits`;
/// * everything else is literal.
#[derive(Debug, Clone)]
pub struct Glob {
    text: String,
    re: Regex,
}

impl Glob {
    /// A glob over tree paths (separators `.` and `[`).
    pub fn path(pattern: &str) -> Result<Glob, GlobError> {
        Self::compile(pattern, Flavor::Tree)
    }

    /// A glob over relative file paths (separator `/`; `**` spans folders).
    pub fn file(pattern: &str) -> Result<Glob, GlobError> {
        Self::compile(pattern, Flavor::File)
    }

    /// A glob over object names such as `Deployment/shop/web`, where `*` matches anything.
    pub fn object(pattern: &str) -> Result<Glob, GlobError> {
        Self::compile(pattern, Flavor::Object)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        self.re.is_match(text)
    }

    fn compile(pattern: &str, flavor: Flavor) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        let re = format!("^{}$", glob_regex(pattern, flavor));
        let re = Regex::new(&re).map_err(|source| GlobError::Regex {
            pattern: pattern.to_string(),
            source,
        })?;
        Ok(Glob {
            text: pattern.to_string(),
            re,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Tree,
    File,
    Object,
}

fn glob_regex(pattern: &str, flavor: Flavor) -> String {
    let (one, sep) = match flavor {
        Flavor::Tree => (r"[^.\[]", "."),
        Flavor::File => ("[^/]", "/"),
        Flavor::Object => (".", "/"),
    };
    let chars: Vec<char> = pattern.chars().collect();
    let sep_char = sep.chars().next().unwrap_or('.');
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_start = i == 0;
        let prev_sep = i > 0 && chars[i - 1] == sep_char;
        if c == '*' && chars.get(i + 1) == Some(&'*') {
            let next = chars.get(i + 2).copied();
            let starts_segment = at_start || prev_sep;
            if starts_segment && next == Some(sep_char) {
                // `**.` (or `a.**.`): any number of leading segments, including none.
                if prev_sep {
                    // `a.**.b`: the separator before `**` is optional along with the segments.
                    out.truncate(out.len() - regex::escape(sep).len());
                    out.push_str(&format!(
                        "(?:(?:{}|\\[).*)?{}",
                        regex::escape(sep),
                        regex::escape(sep)
                    ));
                } else {
                    out.push_str(&format!("(?:.*{})?", regex::escape(sep)));
                }
                i += 3;
                continue;
            }
            if prev_sep && next.is_none() {
                // `a.**`: `a` itself and everything below it.
                out.truncate(out.len() - regex::escape(sep).len());
                out.push_str(&format!("(?:(?:{}|\\[).*)?", regex::escape(sep)));
                i += 2;
                continue;
            }
            out.push_str(".*");
            i += 2;
            continue;
        }
        if flavor == Flavor::Tree
            && c == '['
            && chars.get(i + 1) == Some(&'*')
            && chars.get(i + 2) == Some(&']')
        {
            out.push_str(r"\[[^\]]*\]");
            i += 3;
            continue;
        }
        match c {
            '*' => out.push_str(&format!("{one}*")),
            '?' => out.push_str(one),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    out
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
