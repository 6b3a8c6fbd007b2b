//! Java `.properties` files, read as `java.util.Properties` does: `key=value`, `key: value` or
//! `key value`; `#` and `!` comments; backslash line continuations; `\uXXXX` escapes.
use std::collections::BTreeMap;

use crate::tree::Node;

pub fn parse(text: &str) -> Result<Node, (usize, String)> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let mut i = 0;
    while i < lines.len() {
        let start_line = i + 1;
        let first = lines[i].trim_start_matches([' ', '\t', '\u{c}']);
        i += 1;
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        // Join continuation lines: a line ending in an odd number of backslashes continues.
        let mut logical = String::new();
        let mut current = first;
        loop {
            let trailing = current.chars().rev().take_while(|c| *c == '\\').count();
            if trailing % 2 == 1 {
                logical.push_str(&current[..current.len() - 1]);
                if i >= lines.len() {
                    break;
                }
                current = lines[i].trim_start_matches([' ', '\t', '\u{c}']);
                i += 1;
            } else {
                logical.push_str(current);
                break;
            }
        }
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|m| (start_line, m))?;
        let value = unescape(value).map_err(|m| (start_line, m))?;
        out.insert(key, Node::String(value));
    }
    Ok(Node::Map(out))
}

/// Splits at the first unescaped `=`, `:` or whitespace, as Java does.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (pos, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' => {
                return (
                    &line[..pos],
                    line[pos + 1..].trim_start_matches([' ', '\t', '\u{c}']),
                );
            }
            ' ' | '\t' | '\u{c}' => {
                let rest = line[pos..].trim_start_matches([' ', '\t', '\u{c}']);
                let rest = rest
                    .strip_prefix(['=', ':'])
                    .map(|r| r.trim_start_matches([' ', '\t', '\u{c}']))
                    .unwrap_or(rest);
                return (&line[..pos], rest);
            }
            _ => {}
        }
    }
    (line, "")
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    let mut pending_high: Option<u16> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush(&mut out, &mut pending_high);
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let unit = if hex.len() == 4 {
                    u16::from_str_radix(&hex, 16).ok()
                } else {
                    None
                };
                let Some(unit) = unit else {
                    return Err(format!(
                        "malformed \\uXXXX escape `\\u{hex}`: expected four hex digits"
                    ));
                };
                match (pending_high.take(), unit) {
                    (Some(high), 0xDC00..=0xDFFF) => {
                        let cp = 0x10000
                            + ((u32::from(high) - 0xD800) << 10)
                            + (u32::from(unit) - 0xDC00);
                        out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                    }
                    (high, 0xD800..=0xDBFF) => {
                        if high.is_some() {
                            out.push('\u{fffd}');
                        }
                        pending_high = Some(unit);
                    }
                    (high, _) => {
                        if high.is_some() {
                            out.push('\u{fffd}');
                        }
                        out.push(char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}'));
                    }
                }
            }
            Some(other) => {
                flush(&mut out, &mut pending_high);
                out.push(match other {
                    't' => '\t',
                    'n' => '\n',
                    'r' => '\r',
                    'f' => '\u{c}',
                    c => c,
                });
            }
            None => flush(&mut out, &mut pending_high),
        }
    }
    flush(&mut out, &mut pending_high);
    Ok(out)
}

fn flush(out: &mut String, pending_high: &mut Option<u16>) {
    if pending_high.take().is_some() {
        out.push('\u{fffd}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(n: &Node, k: &str) -> String {
        n.get(k).and_then(Node::as_str).unwrap().to_string()
    }

    #[test]
    fn reads_java_forms() {
        let n = parse(
            "# c\n! c\nspring.datasource.url=jdbc:postgresql://prod-db:5432/shop\nserver.port: 8080\nname value with spaces\nmulti = one, \\\n    two\nesc\\ key = caf\\u00e9\\t!\nempty\n",
        )
        .unwrap();
        assert_eq!(
            get(&n, "spring.datasource.url"),
            "jdbc:postgresql://prod-db:5432/shop"
        );
        assert_eq!(get(&n, "server.port"), "8080");
        assert_eq!(get(&n, "name"), "value with spaces");
        assert_eq!(get(&n, "multi"), "one, two");
        assert_eq!(get(&n, "esc key"), "café\t!");
        assert_eq!(get(&n, "empty"), "");
    }

    #[test]
    fn bad_unicode_escape_names_line() {
        let e = parse("a=1\nb=\\u12G4\n").unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.contains("\\u"));
    }
}
