//! Shows where two values differ, for the human renderings (text, Markdown, SARIF; JSON keeps
//! the full values). A long one-line string becomes a window around its first difference,
//! with the common prefix and suffix elided (`…acme-staging-v02…` against `…acme-v02…`); a
//! multi-line string becomes a bounded unified line diff.
use serde_json::Value;

/// Characters of common text kept on each side of the differing part.
const CONTEXT: usize = 16;
/// Lines of a line diff shown at most (then `… N more lines`).
const MAX_DIFF_LINES: usize = 24;
/// Lines of unchanged context around each changed line.
const CONTEXT_LINES: usize = 1;
/// Lines compared by the line diff at most on each side (after the common head and tail are
/// cut); beyond that, the middle prints as removed then added lines.
const MAX_LCS: usize = 400;

/// How two values are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// `baseline → candidate` on one line, each value windowed to the difference.
    Inline(String, String),
    /// A unified line diff of two multi-line strings: lines starting with ` `, `-`, `+` or
    /// `…`.
    Lines(Vec<String>),
}

/// Shows baseline `b` against candidate `c`, cutting each inline value to `max` characters.
pub fn show(b: &Value, c: &Value, max: usize) -> Shown {
    match (b, c) {
        (Value::String(bs), Value::String(cs)) if bs.contains('\n') || cs.contains('\n') => {
            Shown::Lines(line_diff(bs, cs))
        }
        (Value::String(bs), Value::String(cs))
            if bs.chars().count() + 2 > max || cs.chars().count() + 2 > max =>
        {
            let (wb, wc) = window(bs, cs, max);
            Shown::Inline(quote(&wb), quote(&wc))
        }
        _ => Shown::Inline(
            crate::tree::truncate(&b.to_string(), max),
            crate::tree::truncate(&c.to_string(), max),
        ),
    }
}

fn quote(s: &str) -> String {
    Value::String(s.to_string())
        .to_string()
        .replace("\\u2026", "…")
}

/// The two strings cut to the part where they differ: the common prefix and suffix elided
/// to `…` with [`CONTEXT`] characters kept, the rest cut to `max`.
pub fn window(b: &str, c: &str, max: usize) -> (String, String) {
    let bc: Vec<char> = b.chars().collect();
    let cc: Vec<char> = c.chars().collect();
    let prefix = bc.iter().zip(&cc).take_while(|(x, y)| x == y).count();
    let suffix = bc[prefix..]
        .iter()
        .rev()
        .zip(cc[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let cut = |s: &[char]| -> String {
        let start = prefix.saturating_sub(CONTEXT);
        let end_keep = s.len() - suffix;
        let end = (end_keep + CONTEXT).min(s.len());
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        let middle: String = s[start..end].iter().collect();
        out.push_str(&crate::tree::truncate(&middle, max.max(2 * CONTEXT + 8)));
        if end < s.len() && !out.ends_with('…') {
            out.push('…');
        }
        out
    };
    (cut(&bc), cut(&cc))
}

/// A unified diff of the lines of `b` and `c`, at most [`MAX_DIFF_LINES`] lines.
pub fn line_diff(b: &str, c: &str) -> Vec<String> {
    // A block scalar's final newline is not a line of its own.
    let (b, c) = if b.ends_with('\n') && c.ends_with('\n') {
        (&b[..b.len() - 1], &c[..c.len() - 1])
    } else {
        (b, c)
    };
    let bl: Vec<&str> = b.split('\n').collect();
    let cl: Vec<&str> = c.split('\n').collect();
    let head = bl.iter().zip(&cl).take_while(|(x, y)| x == y).count();
    let tail = bl[head..]
        .iter()
        .rev()
        .zip(cl[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (bm, cm) = (&bl[head..bl.len() - tail], &cl[head..cl.len() - tail]);
    let mut ops: Vec<(char, &str)> = bl[..head].iter().map(|l| (' ', *l)).collect();
    ops.extend(middle_ops(bm, cm));
    ops.extend(bl[bl.len() - tail..].iter().map(|l| (' ', *l)));
    let keep: Vec<bool> = (0..ops.len())
        .map(|i| {
            let lo = i.saturating_sub(CONTEXT_LINES);
            let hi = (i + CONTEXT_LINES + 1).min(ops.len());
            ops[lo..hi].iter().any(|(k, _)| *k != ' ')
        })
        .collect();
    let mut out = Vec::new();
    let mut skipped = false;
    for (i, (k, l)) in ops.iter().enumerate() {
        if !keep[i] {
            skipped = true;
            continue;
        }
        if skipped && !out.is_empty() {
            out.push("…".to_string());
        }
        skipped = false;
        out.push(format!("{k}{l}"));
    }
    if out.len() > MAX_DIFF_LINES {
        let more = out.len() - MAX_DIFF_LINES;
        out.truncate(MAX_DIFF_LINES);
        out.push(format!("… {more} more line{}", crate::report::plural(more)));
    }
    out
}

/// The edit script of the differing middle: a longest common subsequence when small enough.
fn middle_ops<'s>(b: &[&'s str], c: &[&'s str]) -> Vec<(char, &'s str)> {
    if b.len() > MAX_LCS || c.len() > MAX_LCS {
        let mut ops: Vec<(char, &str)> = b.iter().map(|l| ('-', *l)).collect();
        ops.extend(c.iter().map(|l| ('+', *l)));
        return ops;
    }
    let (n, m) = (b.len(), c.len());
    let mut lcs = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if b[i] == c[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < n || j < m {
        if i < n && j < m && b[i] == c[j] {
            ops.push((' ', b[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', b[i]));
            i += 1;
        } else {
            ops.push(('+', c[j]));
            j += 1;
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_show_the_window_where_they_differ() {
        let b = "https://acme-v02.api.letsencrypt.org/directory/with/a/long/tail/that/is/the/same";
        let c = "https://acme-staging-v02.api.letsencrypt.org/directory/with/a/long/tail/that/is/the/same";
        let Shown::Inline(wb, wc) = show(&Value::from(b), &Value::from(c), 40) else {
            panic!("inline expected");
        };
        assert!(wc.contains("acme-staging-v02"), "{wc}");
        assert!(wb.contains("acme-v02"), "{wb}");
        assert!(wb.ends_with("…\""), "{wb}");
        let long_prefix = format!("{}X{}", "a".repeat(100), "b".repeat(100));
        let other = format!("{}Y{}", "a".repeat(100), "b".repeat(100));
        let (wb, wc) = window(&long_prefix, &other, 40);
        assert!(
            wb.starts_with('…') && wb.contains('X') && wb.ends_with('…'),
            "{wb}"
        );
        assert!(wc.contains('Y'), "{wc}");
    }

    #[test]
    fn multi_line_strings_show_a_unified_diff() {
        let b = "- op: replace\n  path: /spec/acme/server\n  value: https://acme-v02.api.letsencrypt.org/directory\n- op: add\n";
        let c = "- op: replace\n  path: /spec/acme/server\n  value: https://acme-staging-v02.api.letsencrypt.org/directory\n- op: add\n";
        let Shown::Lines(lines) = show(&Value::from(b), &Value::from(c), 60) else {
            panic!("lines expected");
        };
        assert_eq!(
            lines,
            vec![
                "   path: /spec/acme/server",
                "-  value: https://acme-v02.api.letsencrypt.org/directory",
                "+  value: https://acme-staging-v02.api.letsencrypt.org/directory",
                " - op: add",
            ]
        );
        let many_b: String = (0..100).map(|i| format!("b{i}\n")).collect();
        let many_c: String = (0..100).map(|i| format!("c{i}\n")).collect();
        assert_eq!(line_diff(&many_b, &many_c).len(), MAX_DIFF_LINES + 1);
    }
}
