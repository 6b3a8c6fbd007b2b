//! A small YAML emitter for the rules and rule-test files: block maps and sequences whose keys
//! and values are all double-quoted strings, escaped, because PromQL and Go templates are full
//! of braces, quotes, colons and `#` that plain YAML scalars would misread. No YAML dependency
//! for output this regular.

/// One YAML node: every scalar is a string (Prometheus reads durations and values from strings).
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Str(String),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
}

impl Node {
    /// A string scalar.
    pub fn s(text: impl Into<String>) -> Node {
        Node::Str(text.into())
    }

    /// A map from `(key, value)` pairs, in order.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

/// The document's text.
pub fn to_string(node: &Node) -> String {
    let mut out = String::new();
    write(node, 0, &mut out);
    out
}

fn write(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Str(s) => {
            out.push_str(&pad);
            out.push_str(&quote(s));
            out.push('\n');
        }
        Node::Map(pairs) if pairs.is_empty() => out.push_str(&format!("{pad}{{}}\n")),
        Node::Seq(items) if items.is_empty() => out.push_str(&format!("{pad}[]\n")),
        Node::Map(pairs) => {
            for (k, v) in pairs {
                out.push_str(&pad);
                out.push_str(&quote(k));
                out.push(':');
                match v {
                    Node::Str(s) => {
                        out.push(' ');
                        out.push_str(&quote(s));
                        out.push('\n');
                    }
                    Node::Map(m) if m.is_empty() => out.push_str(" {}\n"),
                    Node::Seq(s) if s.is_empty() => out.push_str(" []\n"),
                    _ => {
                        out.push('\n');
                        write(v, indent + 2, out);
                    }
                }
            }
        }
        Node::Seq(items) => {
            for item in items {
                // The item is written two deeper, then its first indentation becomes the dash:
                // `- key: value` with the following keys aligned under the first.
                let mut inner = String::new();
                write(item, indent + 2, &mut inner);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(inner.get(indent + 2..).unwrap_or(""));
            }
        }
    }
}

/// A double-quoted YAML scalar: backslash, quote and every control or line-breaking character
/// escaped, the rest as is (YAML is UTF-8).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || c == '\u{7f}'
                || c == '\u{85}'
                || c == '\u{2028}'
                || c == '\u{2029}'
                || c == '\u{feff}' =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_quoted_and_escaped() {
        assert_eq!(quote("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
        let doc = Node::map([(
            "groups",
            Node::Seq(vec![Node::map([
                ("name", Node::s("g")),
                (
                    "rules",
                    Node::Seq(vec![Node::map([("expr", Node::s("x{a=\"b\"} > 0"))])]),
                ),
                ("labels", Node::Map(vec![])),
            ])]),
        )]);
        assert_eq!(
            to_string(&doc),
            "\"groups\":\n  - \"name\": \"g\"\n    \"rules\":\n      - \"expr\": \"x{a=\\\"b\\\"} > 0\"\n    \"labels\": {}\n"
        );
    }
}
