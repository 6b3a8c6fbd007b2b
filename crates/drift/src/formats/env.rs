//! `.env` files as docker compose and dotenv read them: `KEY=value`, optional `export`,
//! `#` comments, single quotes (literal), double quotes (escapes, may span lines).
use std::collections::BTreeMap;

use crate::tree::Node;

pub fn parse(text: &str) -> Result<Node, (usize, String)> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i].trim_end_matches('\r');
        i += 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let body = trimmed
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(trimmed);
        let Some((key, rest)) = body.split_once('=') else {
            return Err((
                line_no,
                format!(
                    "expected KEY=value, found `{}`",
                    crate::tree::truncate(trimmed, 40)
                ),
            ));
        };
        let key = key.trim_end();
        let key_ok = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !key_ok {
            return Err((
                line_no,
                format!(
                    "`{}` is not a variable name (letters, digits, `_`, `.`, `-`; not starting with a digit)",
                    crate::tree::truncate(key, 40)
                ),
            ));
        }
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                // The value may continue over the following lines until its closing quote.
                let mut buf = rest[1..].to_string();
                let mut value = String::new();
                loop {
                    match close_quote(&buf, q) {
                        Some((v, after)) => {
                            value.push_str(&v);
                            let after = after.trim();
                            if !after.is_empty() && !after.starts_with('#') {
                                return Err((
                                    i,
                                    format!(
                                        "unexpected text after the closing quote: `{}`",
                                        crate::tree::truncate(after, 40)
                                    ),
                                ));
                            }
                            break;
                        }
                        None => {
                            if i >= lines.len() {
                                return Err((
                                    line_no,
                                    format!("the {q} quote opened here is never closed"),
                                ));
                            }
                            buf.push('\n');
                            buf.push_str(lines[i].trim_end_matches('\r'));
                            i += 1;
                        }
                    }
                }
                value
            }
            _ => {
                let v = match rest.find(" #") {
                    Some(pos) => &rest[..pos],
                    None => rest,
                };
                v.trim_end().to_string()
            }
        };
        out.insert(key.to_string(), Node::String(value));
    }
    Ok(Node::Map(out))
}

/// Finds the closing quote in `s`; returns the unescaped value and the text after the quote.
fn close_quote(s: &str, q: char) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((pos, c)) = chars.next() {
        if c == q {
            return Some((value, &s[pos + c.len_utf8()..]));
        }
        if c == '\\' && q == '"' {
            match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, other)) => value.push(other),
                None => return None,
            }
            continue;
        }
        value.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(n: &Node, k: &str) -> String {
        n.get(k).and_then(Node::as_str).unwrap().to_string()
    }

    #[test]
    fn reads_the_usual_forms() {
        let n = parse(
            "# comment\nexport A=1\nB = two words # trailing\nC='lit $X \\n'\nD=\"esc\\n\\\"q\\\"\"\nE=\"multi\nline\"\nF=\nG=a#b\n",
        )
        .unwrap();
        assert_eq!(get(&n, "A"), "1");
        assert_eq!(get(&n, "B"), "two words");
        assert_eq!(get(&n, "C"), "lit $X \\n");
        assert_eq!(get(&n, "D"), "esc\n\"q\"");
        assert_eq!(get(&n, "E"), "multi\nline");
        assert_eq!(get(&n, "F"), "");
        assert_eq!(get(&n, "G"), "a#b");
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("A=1\nnot a pair\n").unwrap_err().0, 2);
        assert_eq!(parse("A=1\nB=\"open\nC=3\n").unwrap_err().0, 2);
        assert_eq!(parse("A=1\n\n9X=1\n").unwrap_err().0, 3);
    }
}
