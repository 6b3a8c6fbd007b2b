//! What a column accepts, read from its type and its CHECK constraints, for fitting masked
//! values to it (prodlike-mask's [`Fit`]).
//!
//! Read: the length of `varchar(n)`, `char(n)` and their SQLite spellings (`NVARCHAR(40)`), and
//! the CHECK constraints PostgreSQL prints (`pg_get_constraintdef`) that are a conjunction of
//! simple comparisons on the column alone:
//! - `char_length(c) <= n`, `length(c) < n`, `>= n` (length bounds), `c <> ''` (not empty);
//! - `c = ANY (ARRAY['a', 'b'])`, which is how PostgreSQL stores `c IN ('a', 'b')`;
//! - `c >= 0`, `c < 100` and `BETWEEN` (stored as two comparisons): numeric bounds.
//!
//! Any other CHECK (with `OR`, functions, other columns) is not evaluated: its names are returned
//! so the dry run can say so, and a value it refuses stops the sync with PostgreSQL's own message
//! naming the constraint.

use prodlike_mask::Fit;

use crate::schema::{Column, Table};

/// What `column` of `table` accepts, and the names of the CHECK constraints on it that could not
/// be evaluated.
pub fn column_fit(table: &Table, column: &Column) -> (Fit, Vec<String>) {
    let mut fit = Fit {
        max_chars: type_length(&column.sql_type),
        ..Fit::default()
    };
    let mut unread = Vec::new();
    for check in &table.checks {
        match read_check(&check.definition, &column.name) {
            Reading::NotAbout => {}
            Reading::Unread => unread.push(check.name.clone()),
            Reading::Bounds(b) => b.apply(&mut fit),
        }
    }
    (fit, unread)
}

/// The declared length of a character type (`character varying(15)`, `char(2)`, `NVARCHAR(40)`).
pub fn type_length(sql_type: &str) -> Option<usize> {
    let t = sql_type.trim().to_ascii_lowercase();
    let open = t.find('(')?;
    let close = t[open..].find(')')? + open;
    if !t[close + 1..].trim().is_empty() {
        // `character varying(15)[]`: an array, not a string of at most 15.
        return None;
    }
    let base = t[..open].trim();
    let is_char = matches!(
        base,
        "character varying"
            | "varchar"
            | "character"
            | "char"
            | "bpchar"
            | "nchar"
            | "nvarchar"
            | "varying character"
            | "native character"
            | "national character"
            | "national character varying"
            | "national varchar"
    );
    if !is_char {
        return None;
    }
    t[open + 1..close].trim().parse().ok()
}

enum Reading {
    /// The check does not mention the column.
    NotAbout,
    /// It mentions the column in a form that is not read.
    Unread,
    Bounds(Bounds),
}

#[derive(Default)]
struct Bounds {
    max_chars: Option<usize>,
    min_chars: Option<usize>,
    one_of: Vec<String>,
    min: Option<(f64, bool)>,
    max: Option<(f64, bool)>,
}

impl Bounds {
    fn apply(self, fit: &mut Fit) {
        fit.max_chars = match (fit.max_chars, self.max_chars) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        fit.min_chars = fit.min_chars.max(self.min_chars);
        if !self.one_of.is_empty() {
            fit.one_of = self.one_of;
        }
        if self.min.is_some() {
            fit.min = self.min;
        }
        if self.max.is_some() {
            fit.max = self.max;
        }
    }
}

/// Reads one CHECK definition for `column`.
fn read_check(definition: &str, column: &str) -> Reading {
    let body = strip_casts(definition);
    let lower = body.to_ascii_lowercase();
    let col = column.to_ascii_lowercase();
    let all = words(&lower);
    if !all.iter().any(|w| *w == col) {
        return Reading::NotAbout;
    }
    if all.iter().any(|w| *w == "or" || *w == "not") {
        return Reading::Unread;
    }
    let inner = lower
        .trim()
        .strip_prefix("check")
        .unwrap_or(&lower)
        .to_owned();
    let mut b = Bounds::default();
    for part in split_and(&inner) {
        let w = words_with_ops(&part);
        let ok = match w.as_slice() {
            [f, c, op, n] if (*f == "char_length" || *f == "length") && *c == col => {
                length_bound(&mut b, op, n)
            }
            [c, "=", "any", "array", ..] if *c == col => {
                b.one_of = literals(&body_part(&body, &part));
                !b.one_of.is_empty()
            }
            [c, "<>", "''"] if *c == col => {
                b.min_chars = Some(1);
                true
            }
            [c, op, n] if *c == col => number_bound(&mut b, op, n),
            [n, op, c] if *c == col => number_bound(&mut b, flip(op), n),
            _ => words(&part).iter().all(|x| *x != col),
        };
        if !ok {
            return Reading::Unread;
        }
    }
    Reading::Bounds(b)
}

/// The original-case text of a lowercased conjunct (string literals keep their case).
fn body_part(body: &str, lower_part: &str) -> String {
    let lower = body.to_ascii_lowercase();
    match lower.find(lower_part.trim()) {
        Some(i) => body
            .get(i..i + lower_part.trim().len())
            .unwrap_or_default()
            .to_owned(),
        None => lower_part.to_owned(),
    }
}

fn length_bound(b: &mut Bounds, op: &str, n: &str) -> bool {
    let Ok(n) = n.parse::<usize>() else {
        return false;
    };
    match op {
        "<=" => b.max_chars = Some(n),
        "<" => b.max_chars = n.checked_sub(1),
        ">=" => b.min_chars = Some(n),
        ">" => b.min_chars = Some(n + 1),
        "=" => {
            b.max_chars = Some(n);
            b.min_chars = Some(n);
        }
        _ => return false,
    }
    true
}

fn number_bound(b: &mut Bounds, op: &str, n: &str) -> bool {
    let Ok(v) = n.trim_matches('\'').parse::<f64>() else {
        return false;
    };
    match op {
        ">=" => b.min = Some((v, true)),
        ">" => b.min = Some((v, false)),
        "<=" => b.max = Some((v, true)),
        "<" => b.max = Some((v, false)),
        _ => return false,
    }
    true
}

fn flip(op: &str) -> &str {
    match op {
        ">=" => "<=",
        ">" => "<",
        "<=" => ">=",
        "<" => ">",
        other => other,
    }
}

/// Removes `::type` casts (`::text`, `::character varying`, `::text[]`), which PostgreSQL adds
/// everywhere and which do not change what is compared here.
fn strip_casts(s: &str) -> String {
    const MULTI: &[&str] = &[
        "character varying",
        "double precision",
        "timestamp without time zone",
        "timestamp with time zone",
        "time without time zone",
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("::") {
        out.push_str(&rest[..i]);
        let mut after = &rest[i + 2..];
        if let Some(m) = MULTI
            .iter()
            .find(|m| after.to_ascii_lowercase().starts_with(*m))
        {
            after = &after[m.len()..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '"' || c == '.'))
                .unwrap_or(after.len());
            after = &after[end..];
        }
        while let Some(a) = after.strip_prefix("[]") {
            after = a;
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Splits a lowercased check body on top-level ` and `.
fn split_and(s: &str) -> Vec<String> {
    s.split(" and ").map(str::to_owned).collect()
}

/// Identifier-like words, quotes and brackets dropped.
fn words(s: &str) -> Vec<&str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Words, comparison operators and the empty string literal, in order.
fn words_with_ops(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(b' ');
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-' {
            let start = i;
            while b.get(i).is_some_and(|c| {
                c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.' || *c == b'-'
            }) {
                i += 1;
            }
            out.push(&s[start..i]);
        } else if matches!(c, b'<' | b'>' | b'=' | b'!') {
            let start = i;
            while b
                .get(i)
                .is_some_and(|c| matches!(c, b'<' | b'>' | b'=' | b'!'))
            {
                i += 1;
            }
            out.push(&s[start..i]);
        } else if c == b'\'' {
            let start = i;
            i += 1;
            while i < b.len() && b.get(i) != Some(&b'\'') {
                i += 1;
            }
            i += 1;
            out.push(s.get(start..i.min(s.len())).unwrap_or_default());
        } else {
            i += 1;
        }
    }
    out
}

/// The single-quoted literals of `s`, with `''` unescaped.
fn literals(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut lit = String::new();
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    lit.push('\'');
                }
                Some('\'') | None => break,
                Some(x) => lit.push(x),
            }
        }
        out.push(lit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(def: &str, col: &str) -> Option<Fit> {
        match read_check(def, col) {
            Reading::Bounds(b) => {
                let mut f = Fit::default();
                b.apply(&mut f);
                Some(f)
            }
            _ => None,
        }
    }

    #[test]
    fn lengths_of_character_types() {
        assert_eq!(type_length("character varying(15)"), Some(15));
        assert_eq!(type_length("character(2)"), Some(2));
        assert_eq!(type_length("NVARCHAR(40)"), Some(40));
        assert_eq!(type_length("numeric(10,2)"), None);
        assert_eq!(type_length("character varying(15)[]"), None);
        assert_eq!(type_length("text"), None);
    }

    #[test]
    fn checks_postgresql_prints() {
        let f = read("CHECK ((char_length((code)::text) <= 10))", "code").unwrap();
        assert_eq!(f.max_chars, Some(10));
        let f = read(
            "CHECK (((status)::text = ANY ((ARRAY['new'::character varying, 'it''s'::character varying])::text[])))",
            "status",
        )
        .unwrap();
        assert_eq!(f.one_of, vec!["new".to_owned(), "it's".to_owned()]);
        let f = read("CHECK (((rating >= 1) AND (rating <= 5)))", "rating").unwrap();
        assert_eq!(f.min, Some((1.0, true)));
        assert_eq!(f.max, Some((5.0, true)));
        let f = read("CHECK ((price >= (0)::numeric))", "price").unwrap();
        assert_eq!(f.min, Some((0.0, true)));
        let f = read("CHECK (((name)::text <> ''::text))", "name").unwrap();
        assert_eq!(f.min_chars, Some(1));
        assert!(matches!(
            read_check("CHECK ((price > 0) OR (free))", "price"),
            Reading::Unread
        ));
        assert!(matches!(
            read_check("CHECK ((qty > 0))", "price"),
            Reading::NotAbout
        ));
    }
}
