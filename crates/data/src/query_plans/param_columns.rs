//! Where a statement's placeholders get a value from: for `pg_stat_statements`' normalized
//! text (`… WHERE o.user_id = $1 LIMIT $2`), the column each `$n` is compared with and the
//! table that column belongs to, so that a value can be sampled from staging's own data
//! (nothing from production's rows is read). A lexical reading, not a parse: comparisons
//! (`=`, `<>`, `<`, `>=`, `LIKE`, …, either side), `IN (…)` lists, `BETWEEN … AND …`, and
//! `LIMIT`/`OFFSET`; a placeholder anywhere else has no known source.

/// Where one placeholder's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A column, sampled from one of `tables` (the one its qualifier names, or every table the
    /// statement reads when unqualified), in order.
    Column { column: String, tables: Vec<String> },
    /// A value that does not depend on the data (`LIMIT $n`: 1, `OFFSET $n`: 0).
    Fixed(String),
    /// Why none is known.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A name or keyword as written (`"Quoted"` keeps its quotes).
    Word(String),
    Param(usize),
    Op(String),
    Punct(char),
    Literal,
}

impl Tok {
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
    /// A name that is not a keyword.
    fn name(&self) -> Option<&str> {
        match self {
            Tok::Word(w) if !KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => Some(w),
            _ => None,
        }
    }
}

/// Words that end a table reference or cannot be a column's name here.
const KEYWORDS: &[&str] = &[
    "select",
    "from",
    "where",
    "join",
    "inner",
    "left",
    "right",
    "full",
    "cross",
    "natural",
    "outer",
    "on",
    "using",
    "group",
    "order",
    "by",
    "limit",
    "offset",
    "having",
    "union",
    "except",
    "intersect",
    "set",
    "values",
    "window",
    "for",
    "returning",
    "as",
    "lateral",
    "and",
    "or",
    "not",
    "in",
    "between",
    "like",
    "ilike",
    "is",
    "null",
    "fetch",
    "default",
    "into",
    "update",
    "delete",
    "insert",
    "with",
    "distinct",
    "case",
    "when",
    "then",
    "else",
    "end",
    "any",
    "all",
    "some",
    "exists",
    "true",
    "false",
];

/// Operators a column is compared with a value by.
const COMPARISONS: &[&str] = &["=", "<>", "!=", "<", "<=", ">", ">=", "~~", "!~~", "~~*"];

/// The statement's placeholders (`$n`, each once, ascending) with their sources; `Err` when
/// the text holds more than one statement.
pub fn sources(sql: &str) -> Result<Vec<(usize, Source)>, String> {
    let toks = lex(sql);
    if toks.contains(&Tok::Punct(';')) {
        return Err("more than one statement".into());
    }
    let tables = tables_of(&toks);
    let mut out: Vec<(usize, Source)> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Tok::Param(n) = t else { continue };
        if out.iter().any(|(m, _)| m == n) {
            continue;
        }
        let source = match column_for(&toks, i) {
            Found::Column(qualifier, column) => {
                let tables: Vec<String> = match &qualifier {
                    Some(q) => tables
                        .iter()
                        .filter(|(name, alias)| {
                            alias.as_deref().is_some_and(|a| same(a, q))
                                || same(last_part(name), q)
                                || same(name, q)
                        })
                        .map(|(name, _)| name.clone())
                        .collect(),
                    None => tables.iter().map(|(name, _)| name.clone()).collect(),
                };
                if tables.is_empty() {
                    Source::Unknown(format!(
                        "${n} is compared with {}{column}, whose table is not found in the \
                         statement",
                        qualifier.map(|q| format!("{q}.")).unwrap_or_default()
                    ))
                } else {
                    Source::Column { column, tables }
                }
            }
            Found::Fixed(v) => Source::Fixed(v.into()),
            Found::Nothing => Source::Unknown(format!(
                "${n} is not compared with a column (only `column = $n`, `IN`, `BETWEEN`, \
                 `LIKE`, `LIMIT` and `OFFSET` are sampled)"
            )),
        };
        out.push((*n, source));
    }
    out.sort_by_key(|(n, _)| *n);
    Ok(out)
}

enum Found {
    Column(Option<String>, String),
    Fixed(&'static str),
    Nothing,
}

/// What the placeholder at `i` is compared with.
fn column_for(toks: &[Tok], i: usize) -> Found {
    let at = |k: usize| toks.get(k);
    let before = |back: usize| i.checked_sub(back).and_then(|k| toks.get(k));
    let is_cmp = |t: Option<&Tok>| {
        t.is_some_and(|t| {
            matches!(t, Tok::Op(o) if COMPARISONS.contains(&o.as_str()))
                || t.is_kw("like")
                || t.is_kw("ilike")
        })
    };
    if before(1).is_some_and(|t| t.is_kw("limit")) {
        return Found::Fixed("1");
    }
    if before(1).is_some_and(|t| t.is_kw("offset")) {
        return Found::Fixed("0");
    }
    // `col = $n`, `col LIKE $n`, `col NOT LIKE $n`.
    if is_cmp(before(1)) {
        let end = if before(2).is_some_and(|t| t.is_kw("not")) {
            3
        } else {
            2
        };
        return column_ending(toks, i.checked_sub(end));
    }
    // `col BETWEEN $n AND …` and `col BETWEEN … AND $n`.
    let between_at = if before(1).is_some_and(|t| t.is_kw("between")) {
        Some(1)
    } else if before(1).is_some_and(|t| t.is_kw("and"))
        && before(3).is_some_and(|t| t.is_kw("between"))
    {
        Some(3)
    } else {
        None
    };
    if let Some(b) = between_at {
        let end = if before(b + 1).is_some_and(|t| t.is_kw("not")) {
            b + 2
        } else {
            b + 1
        };
        return column_ending(toks, i.checked_sub(end));
    }
    // `col IN ($1, $2, …)`.
    if matches!(before(1), Some(Tok::Punct('(' | ','))) {
        let mut k = i;
        while let Some(prev) = k.checked_sub(1) {
            match toks.get(prev) {
                Some(Tok::Param(_) | Tok::Literal | Tok::Punct(',')) => k = prev,
                _ => break,
            }
        }
        let open = k.checked_sub(1);
        let in_at = open.and_then(|o| o.checked_sub(1));
        if open.and_then(|o| toks.get(o)) == Some(&Tok::Punct('('))
            && in_at
                .and_then(|x| toks.get(x))
                .is_some_and(|t| t.is_kw("in"))
        {
            let end = in_at.and_then(|x| {
                let not = x.checked_sub(1).and_then(|y| toks.get(y))?.is_kw("not");
                x.checked_sub(if not { 2 } else { 1 })
            });
            return column_ending(toks, end);
        }
    }
    // `$n = col`.
    if is_cmp(at(i + 1)) {
        if let Some(col) = at(i + 2).and_then(Tok::name) {
            if at(i + 3) == Some(&Tok::Punct('.')) {
                if let Some(c) = at(i + 4).and_then(Tok::name) {
                    return Found::Column(Some(col.to_string()), c.to_string());
                }
            }
            return Found::Column(None, col.to_string());
        }
    }
    Found::Nothing
}

/// A column reference (`col` or `q.col`) whose last token is at `end`.
fn column_ending(toks: &[Tok], end: Option<usize>) -> Found {
    let Some(end) = end else {
        return Found::Nothing;
    };
    let Some(col) = toks.get(end).and_then(Tok::name) else {
        return Found::Nothing;
    };
    let dot = end.checked_sub(1).and_then(|k| toks.get(k));
    let qualifier = end
        .checked_sub(2)
        .and_then(|k| toks.get(k))
        .and_then(Tok::name);
    match (dot, qualifier) {
        (Some(Tok::Punct('.')), Some(q)) => Found::Column(Some(q.to_string()), col.to_string()),
        _ => Found::Column(None, col.to_string()),
    }
}

/// The tables `sql` reads or writes, with their aliases, in order (sqlite.rs names SQLite's
/// `SCAN o` by them).
pub fn tables(sql: &str) -> Vec<(String, Option<String>)> {
    tables_of(&lex(sql))
}

/// The tables the statement reads or writes, with their aliases: after `FROM` (and the
/// commas of its list), `JOIN`, `UPDATE` and `INTO`.
fn tables_of(toks: &[Tok]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    // The parenthesis depth of the FROM list being read.
    let mut from_depth: Option<usize> = None;
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate() {
        let starts = t.is_kw("from") || t.is_kw("join") || t.is_kw("update") || t.is_kw("into");
        match t {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => {
                depth = depth.saturating_sub(1);
                if from_depth.is_some_and(|d| d > depth) {
                    from_depth = None;
                }
            }
            _ => {}
        }
        let list_comma = *t == Tok::Punct(',') && from_depth == Some(depth);
        if t.is_kw("from") {
            from_depth = Some(depth);
        } else if matches!(t, Tok::Word(_))
            && t.name().is_none()
            && !t.is_kw("as")
            && !t.is_kw("only")
        {
            // WHERE, JOIN, GROUP, …: the comma-separated list of tables is over.
            from_depth = None;
        }
        if !(starts || list_comma) {
            continue;
        }
        let mut k = i + 1;
        if toks.get(k).is_some_and(|t| t.is_kw("only")) {
            k += 1;
        }
        let Some(first) = toks.get(k).and_then(Tok::name) else {
            continue;
        };
        let mut name = first.to_string();
        k += 1;
        while toks.get(k) == Some(&Tok::Punct('.')) {
            let Some(part) = toks.get(k + 1).and_then(Tok::name) else {
                break;
            };
            name = format!("{name}.{part}");
            k += 2;
        }
        if toks.get(k).is_some_and(|t| t.is_kw("as")) {
            k += 1;
        }
        let alias = toks.get(k).and_then(Tok::name).map(str::to_string);
        out.push((name, alias));
    }
    out
}

/// Names compare case-insensitively unless quoted.
fn same(a: &str, b: &str) -> bool {
    if a.starts_with('"') || b.starts_with('"') {
        a == b
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

fn last_part(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Tokens of `sql`; comments dropped.
fn lex(sql: &str) -> Vec<Tok> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |k: usize| chars.get(k).copied();
    while let Some(c) = at(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && at(i + 1) == Some('-') {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            i += 2;
            while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            i += 1;
            while let Some(c) = at(i) {
                i += 1;
                if c == '\'' {
                    if at(i) == Some('\'') {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            out.push(Tok::Literal);
        } else if c == '"' {
            let start = i;
            i += 1;
            while at(i).is_some_and(|c| c != '"') {
                i += 1;
            }
            i += 1;
            out.push(Tok::Word(chars[start..i.min(chars.len())].iter().collect()));
        } else if c == '$' && at(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            let start = i + 1;
            i += 1;
            while at(i).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            out.push(Tok::Param(digits.parse().unwrap_or(usize::MAX)));
        } else if c == '$' {
            // A dollar-quoted string: `$tag$ … $tag$`.
            let mut k = i + 1;
            while at(k).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                k += 1;
            }
            if at(k) == Some('$') {
                let tag: String = chars[i..=k].iter().collect();
                let rest: String = chars[k + 1..].iter().collect();
                let close = rest.find(&tag).map_or(rest.len(), |p| p + tag.len());
                i = k + 1 + rest[..close].chars().count();
                out.push(Tok::Literal);
            } else {
                out.push(Tok::Op("$".into()));
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '.') {
                i += 1;
            }
            out.push(Tok::Literal);
        } else if "(),.;[]".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else {
            let start = i;
            while at(i).is_some_and(|c| "=<>!~+-*/%|&^@#:?".contains(c)) {
                i += 1;
            }
            if i == start {
                i += 1;
            }
            out.push(Tok::Op(chars[start..i].iter().collect()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn column(c: &str, t: &[&str]) -> Source {
        Source::Column {
            column: c.into(),
            tables: t.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn comparisons_find_their_columns_and_tables() {
        let s = sources(
            "SELECT o.id, u.name FROM orders o JOIN public.users AS u ON u.id = o.user_id \
             WHERE o.user_id = $1 AND $2 < u.created AND o.total BETWEEN $3 AND $4 \
             AND u.name LIKE $5 AND o.id IN ($6, $7) ORDER BY o.id LIMIT $8 OFFSET $9",
        )
        .unwrap();
        assert_eq!(
            s,
            vec![
                (1, column("user_id", &["orders"])),
                (2, column("created", &["public.users"])),
                (3, column("total", &["orders"])),
                (4, column("total", &["orders"])),
                (5, column("name", &["public.users"])),
                (6, column("id", &["orders"])),
                (7, column("id", &["orders"])),
                (8, Source::Fixed("1".into())),
                (9, Source::Fixed("0".into())),
            ]
        );
    }

    #[test]
    fn unqualified_columns_try_every_table() {
        let s = sources("SELECT * FROM a, b WHERE x = $1 AND y <> $2").unwrap();
        assert_eq!(s[0], (1, column("x", &["a", "b"])));
        let s = sources("UPDATE accounts SET balance = balance + $1 WHERE id = $2").unwrap();
        // `balance + $1` is arithmetic, not a comparison.
        assert!(matches!(s[0].1, Source::Unknown(_)), "{s:?}");
        assert_eq!(s[1], (2, column("id", &["accounts"])));
    }

    #[test]
    fn what_is_not_known_says_so() {
        let s = sources("SELECT lower($1)").unwrap();
        assert!(matches!(&s[0].1, Source::Unknown(w) if w.contains("$1")));
        let s = sources("SELECT * FROM t WHERE q.x = $1").unwrap();
        assert!(
            matches!(&s[0].1, Source::Unknown(w) if w.contains("q.x")),
            "{s:?}"
        );
        assert!(sources("SELECT 1; SELECT 2").is_err());
        assert!(sources("SELECT 1").unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,120}") {
            let _ = sources(&s);
        }

        #[test]
        fn never_panics_on_sql_like_text(parts in prop::collection::vec(prop::sample::select(vec![
            "SELECT", "FROM", " ", "t", ".", ",", "(", ")", "=", "$1", "$2", "IN", "BETWEEN",
            "AND", "NOT", "LIMIT", "'", "\"", "$$", "--", "/*", "é", "AS", "JOIN",
        ]), 0..40)) {
            let _ = sources(&parts.join(" "));
        }
    }
}
