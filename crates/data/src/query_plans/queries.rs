//! The `--queries` file of `prodlike data plans`: SQL statements, each ending with `;`,
//! separated by blank lines, `--` comments allowed. A statement's first comment line names it
//! in the output (`q3` for the third otherwise). Sample parameters are written in place, or
//! bound: a comment line `-- param: $1 = 42` (one per parameter, before or inside the
//! statement) gives `$1` its literal, and the statement is planned through `PREPARE` and
//! `EXPLAIN EXECUTE` with those values.
//!
//! The split is lexical, not a parse: `;` inside quotes ('…', "…"), dollar quotes ($$…$$,
//! $tag$…$tag$) and comments (`--`, `/* */`) does not end a statement. Whether a statement is
//! valid SQL is for the database to say (its EXPLAIN error names the query).

/// One statement to explain.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Its first comment line, or `q<N>` (1-based).
    pub name: String,
    /// The statement without its trailing `;` and without leading comment lines.
    pub sql: String,
    /// 1-based line of the file where it starts.
    pub line: usize,
    /// The literals of `$1`, `$2`, … in order (empty: nothing to bind).
    pub params: Vec<String>,
    /// Why its parameters cannot be bound (a `$n` without a value, a value for no `$n`, a
    /// malformed `-- param:` line): the query is not comparable, an input error.
    pub bind_error: Option<String>,
    /// Explained as a generic plan (statements from `pg_stat_statements`, whose parameters
    /// are placeholders): `EXPLAIN (GENERIC_PLAN)` on PostgreSQL 16 and later, a prepared
    /// statement under `plan_cache_mode = force_generic_plan` before.
    pub generic: bool,
    /// Where it came from when it was read from `pg_stat_statements`.
    pub stat: Option<prodlike_results::data::plans::StatStatement>,
}

impl Query {
    /// A statement with nothing to bind.
    pub fn new(name: impl Into<String>, sql: impl Into<String>, line: usize) -> Query {
        Query {
            name: name.into(),
            sql: sql.into(),
            line,
            params: Vec::new(),
            bind_error: None,
            generic: false,
            stat: None,
        }
    }
}

/// Why a queries file cannot be read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueriesError {
    #[error("line {line}: an unterminated {what} runs to the end of the file")]
    Unterminated { line: usize, what: &'static str },
    #[error("line {line}: a statement with no `;` at its end")]
    NoSemicolon { line: usize },
    #[error("two statements are named `{name}` (lines {first} and {second}); names must be unique")]
    DuplicateName {
        name: String,
        first: usize,
        second: usize,
    },
    #[error("no statements in the file")]
    Empty,
}

/// Splits `text` into its statements.
// Long: one lexer loop, each branch a lexical case (comment, quote, dollar quote, `$n`, `;`).
#[allow(clippy::too_many_lines)]
pub fn parse(text: &str) -> Result<Vec<Query>, QueriesError> {
    let mut out: Vec<Query> = Vec::new();
    let mut name: Option<String> = None;
    let mut sql = String::new();
    let mut start_line = 0usize;
    let mut line = 1usize;
    // The line the last statement ended on: a comment after its `;` is its own, not a name.
    let mut ended_on = 0usize;
    // The statement's `-- param:` lines and the `$n` it uses.
    let mut binds = Binds::default();
    let mut chars = text.char_indices().peekable();
    // Lexical state.
    while let Some((i, c)) = chars.next() {
        let rest = &text[i..];
        if sql.trim().is_empty() && rest.starts_with("--") {
            // A comment before the statement: its first such line names it.
            let end = rest.find('\n').unwrap_or(rest.len());
            let comment = rest[2..end].trim();
            if let Some(p) = param_line(comment) {
                binds.lines.push((p, line));
            } else if name.is_none() && !comment.is_empty() && line != ended_on {
                name = Some(comment.to_string());
            }
            skip(&mut chars, end.saturating_sub(1));
            continue;
        }
        if sql.trim().is_empty() && c.is_whitespace() {
            if c == '\n' {
                line += 1;
            }
            continue;
        }
        if sql.trim().is_empty() {
            start_line = line;
        }
        match c {
            ';' => {
                let name = name.take().unwrap_or_else(|| format!("q{}", out.len() + 1));
                if let Some(first) = out.iter().find(|q| q.name == name) {
                    return Err(QueriesError::DuplicateName {
                        name,
                        first: first.line,
                        second: start_line,
                    });
                }
                let (params, bind_error) = std::mem::take(&mut binds).resolve();
                out.push(Query {
                    params,
                    bind_error,
                    ..Query::new(name, sql.trim(), start_line)
                });
                sql.clear();
                ended_on = line;
                continue;
            }
            '\'' | '"' => {
                let close = rest[1..].find(c).ok_or(QueriesError::Unterminated {
                    line,
                    what: if c == '\'' { "string" } else { "quoted name" },
                })?;
                let quoted = &rest[..close + 2];
                line += quoted.matches('\n').count();
                sql.push_str(quoted);
                skip(&mut chars, close + 1);
                continue;
            }
            '$' => {
                if let Some(tag) = dollar_tag(rest) {
                    let body = &rest[tag.len()..];
                    let close = body.find(tag).ok_or(QueriesError::Unterminated {
                        line,
                        what: "dollar-quoted string",
                    })?;
                    let quoted = &rest[..tag.len() + close + tag.len()];
                    line += quoted.matches('\n').count();
                    sql.push_str(quoted);
                    skip(&mut chars, quoted.len() - 1);
                    continue;
                }
                // `$1` (not `a$1`, a name): a parameter the statement uses.
                let digits: String = rest[1..].chars().take_while(char::is_ascii_digit).collect();
                let in_name = sql
                    .chars()
                    .last()
                    .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '$');
                if !digits.is_empty() && !in_name {
                    binds.used.insert(digits.parse().unwrap_or(usize::MAX));
                }
            }
            '-' if rest.starts_with("--") => {
                let end = rest.find('\n').unwrap_or(rest.len());
                if let Some(p) = param_line(rest[2..end].trim()) {
                    binds.lines.push((p, line));
                }
                skip(&mut chars, end.saturating_sub(1));
                sql.push(' ');
                continue;
            }
            '/' if rest.starts_with("/*") => {
                let close = rest[2..].find("*/").ok_or(QueriesError::Unterminated {
                    line,
                    what: "comment",
                })?;
                let comment = &rest[..close + 4];
                line += comment.matches('\n').count();
                skip(&mut chars, comment.len() - 1);
                sql.push(' ');
                continue;
            }
            '\n' => line += 1,
            _ => {}
        }
        sql.push(c);
    }
    if !sql.trim().is_empty() {
        return Err(QueriesError::NoSemicolon { line: start_line });
    }
    if out.is_empty() {
        return Err(QueriesError::Empty);
    }
    Ok(out)
}

/// One `-- param:` line: the parameter's number and literal, or why it is malformed.
type ParamLine = Result<(usize, String), String>;

/// A statement's parameters as the file gives them.
#[derive(Default)]
struct Binds {
    /// Each `-- param:` line, parsed or not, with its line number.
    lines: Vec<(ParamLine, usize)>,
    /// The `$n` the statement's text uses.
    used: std::collections::BTreeSet<usize>,
}

impl Binds {
    /// The literals of `$1..$n` in order, or why they cannot be bound.
    fn resolve(self) -> (Vec<String>, Option<String>) {
        let mut problems = Vec::new();
        let mut given: std::collections::BTreeMap<usize, String> = Default::default();
        for (parsed, line) in self.lines {
            match parsed {
                Err(e) => problems.push(format!("line {line}: {e}")),
                Ok((n, _)) if given.contains_key(&n) => {
                    problems.push(format!("line {line}: ${n} is bound twice"));
                }
                Ok((n, lit)) if !self.used.contains(&n) => {
                    problems.push(format!(
                        "line {line}: ${n} = {lit} binds a parameter the statement does not use"
                    ));
                    given.insert(n, lit);
                }
                Ok((n, lit)) => {
                    given.insert(n, lit);
                }
            }
        }
        for n in &self.used {
            if !given.contains_key(n) {
                problems.push(format!(
                    "${n} has no value (add a line `-- param: ${n} = …`)"
                ));
            }
        }
        // PostgreSQL numbers parameters from 1 without gaps: a gap has no type to infer.
        if let Some(&max) = self.used.last()
            && self.used.len() != max
        {
            problems.push(format!(
                "the statement uses ${max} but not every parameter below it"
            ));
        }
        if problems.is_empty() {
            (given.into_values().collect(), None)
        } else {
            (Vec::new(), Some(problems.join("; ")))
        }
    }
}

/// `param: $1 = 42` (a comment's text after `--`): `None` when the comment is no param line,
/// else the parameter's number and literal, or why the line is malformed.
fn param_line(comment: &str) -> Option<ParamLine> {
    let rest = comment.strip_prefix("param:")?.trim();
    let bad = |why: &str| Some(Err(format!("`-- {comment}`: {why}")));
    let Some(after) = rest.strip_prefix('$') else {
        return bad("write `-- param: $1 = <literal>`");
    };
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    let Ok(n) = digits.parse::<usize>() else {
        return bad("write `-- param: $1 = <literal>`");
    };
    if n == 0 {
        return bad("parameters are numbered from $1");
    }
    let Some(value) = after[digits.len()..].trim_start().strip_prefix('=') else {
        return bad("no `=` after the parameter");
    };
    let value = value.trim();
    if let Err(e) = literal(value) {
        return bad(&e);
    }
    Some(Ok((n, value.to_string())))
}

/// Checks that `text` is one SQL literal: a number, a quoted string ('…', '' inside), `true`,
/// `false` or `null`, optionally cast (`::date`, `::numeric(10,2)`, `::int[]`). Anything else
/// (an expression, a second statement) is refused: the value goes into `EXECUTE name(…)`.
pub fn literal(text: &str) -> Result<(), String> {
    let refuse = || {
        Err(format!(
            "`{text}` is not a literal: write a number, a quoted string ('…'), true, false or \
             null, optionally cast (::date)"
        ))
    };
    let (value, cast) = match split_cast(text) {
        Some(parts) => parts,
        None => return refuse(),
    };
    let value = value.trim();
    let word = value.to_ascii_lowercase();
    let ok =
        matches!(word.as_str(), "true" | "false" | "null") || is_number(value) || is_string(value);
    let cast_ok = cast.is_none_or(|c| {
        let c = c.trim();
        let name = c.trim_end_matches("[]");
        let (base, args) = match name.split_once('(') {
            Some((b, a)) => (b, Some(a)),
            None => (name, None),
        };
        !base.trim().is_empty()
            && base.starts_with(|ch: char| ch.is_ascii_alphabetic() || ch == '_')
            && base
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ' ' || ch == '.')
            && args.is_none_or(|a| {
                a.strip_suffix(')').is_some_and(|a| {
                    a.split(',').all(|d| {
                        !d.trim().is_empty() && d.trim().chars().all(|x| x.is_ascii_digit())
                    })
                })
            })
    });
    if ok && cast_ok { Ok(()) } else { refuse() }
}

/// `'a::b'::date` → (`'a::b'`, Some(`date`)): the first `::` outside the quotes.
fn split_cast(text: &str) -> Option<(&str, Option<&str>)> {
    let mut in_quote = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\'') => in_quote = !in_quote,
            Some(b':') if !in_quote && bytes.get(i + 1) == Some(&b':') => {
                return Some((text.get(..i)?, Some(text.get(i + 2..)?)));
            }
            _ => {}
        }
        i += 1;
    }
    Some((text, None))
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (s, None),
    };
    let digits = |d: &str| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => (digits(a) || a.is_empty()) && (digits(b) || (b.is_empty() && digits(a))),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(digits)
}

/// `'…'` with every inner quote doubled.
fn is_string(s: &str) -> bool {
    s.len() >= 2
        && s.starts_with('\'')
        && s.ends_with('\'')
        && s[1..s.len() - 1].replace("''", "").find('\'').is_none()
}

/// Advances `chars` past `bytes` more bytes.
fn skip(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, bytes: usize) {
    let Some(&(from, _)) = chars.peek() else {
        return;
    };
    while let Some(&(i, _)) = chars.peek() {
        if i >= from + bytes {
            break;
        }
        chars.next();
    }
}

/// `$$` or `$tag$` at the start of `rest` (a tag is letters, digits and `_`, not starting
/// with a digit); `None` for a positional parameter such as `$1`.
fn dollar_tag(rest: &str) -> Option<&str> {
    let end = rest[1..].find('$')? + 2;
    let tag = &rest[..end];
    let inner = &tag[1..tag.len() - 1];
    let ok = inner.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !inner.starts_with(|c: char| c.is_ascii_digit());
    ok.then_some(tag)
}

/// Bound parameters as a reader sees them: `$1 = 42, $2 = 'DE'`.
pub fn shown_params(params: &[String]) -> String {
    params
        .iter()
        .enumerate()
        .map(|(i, v)| format!("${} = {v}", i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn statements_are_named_by_their_first_comment() {
        let q = parse(
            "-- orders of one user\n-- (the account page)\nSELECT * FROM orders WHERE user_id = 42;\n\n\
             SELECT count(*) FROM users; -- trailing\n\n-- totals\nSELECT sum(total)\n  FROM orders;\n",
        )
        .unwrap();
        assert_eq!(
            q.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(),
            ["orders of one user", "q2", "totals"]
        );
        assert_eq!(q[0].sql, "SELECT * FROM orders WHERE user_id = 42");
        assert_eq!(q[0].line, 3);
        assert_eq!(q[2].sql, "SELECT sum(total)\n  FROM orders");
        assert_eq!(q[2].line, 8);
    }

    #[test]
    fn semicolons_in_quotes_and_comments_do_not_split() {
        let q = parse(
            "SELECT ';' AS a, \"x;y\" FROM t /* ; */ WHERE b = $$;$$ AND c = $t$;$t$ AND d = $1;",
        )
        .unwrap();
        assert_eq!(q.len(), 1);
        assert!(q[0].sql.ends_with("d = $1"), "{}", q[0].sql);
    }

    #[test]
    fn bad_files_say_where() {
        assert_eq!(
            parse("SELECT 1;\n\nSELECT 'open;\n"),
            Err(QueriesError::Unterminated {
                line: 3,
                what: "string"
            })
        );
        assert_eq!(
            parse("SELECT 1;\n\nSELECT 2\n"),
            Err(QueriesError::NoSemicolon { line: 3 })
        );
        assert_eq!(parse("-- only a comment\n"), Err(QueriesError::Empty));
        assert!(matches!(
            parse("-- a\nSELECT 1;\n-- a\nSELECT 2;"),
            Err(QueriesError::DuplicateName { .. })
        ));
    }

    #[test]
    fn param_lines_bind_placeholders() {
        let q = parse(
            "-- orders of one user\n-- param: $1 = 42\n-- param: $2 = 'it''s'::text\n\
             SELECT * FROM orders WHERE user_id = $1\n-- param: $3 = 2024-01-01\n  AND note = $2;\n\n\
             -- param: $1 = -1.5e3\nSELECT $1;\n",
        )
        .unwrap();
        assert_eq!(q[0].name, "orders of one user");
        assert_eq!(q[0].params, Vec::<String>::new());
        let e = q[0].bind_error.as_deref().unwrap();
        // The malformed third line is named by its line; the good ones bound nothing since
        // the statement as a whole cannot be bound.
        assert!(e.contains("line 5") && e.contains("not a literal"), "{e}");
        assert_eq!(q[1].name, "q2");
        assert_eq!(q[1].params, ["-1.5e3"]);
        assert_eq!(q[1].bind_error, None);
        let q = parse("-- p\n-- param: $2 = 'x'\n-- param: $1 = 7::int\nSELECT $1, $2;").unwrap();
        assert_eq!(q[0].params, ["7::int", "'x'"]);
        assert_eq!(q[0].name, "p");
    }

    #[test]
    fn parameters_that_cannot_be_bound_say_why() {
        let e = |text: &str| {
            parse(text).unwrap()[0]
                .bind_error
                .clone()
                .unwrap_or_default()
        };
        assert!(e("SELECT $1, $2;\n").contains("$1 has no value"));
        assert!(e("-- param: $1 = 1\nSELECT $1, $2;").contains("$2 has no value"));
        assert!(e("-- param: $2 = 1\nSELECT 1;").contains("does not use"));
        assert!(e("-- param: $1 = 1\n-- param: $1 = 2\nSELECT $1;").contains("twice"));
        assert!(e("-- param: $1 = 1); DROP TABLE t; --\nSELECT $1;").contains("not a literal"));
        assert!(e("-- param: 1 = 1\nSELECT $1;").contains("-- param: $1 = <literal>"));
        assert!(e("-- param: $1 = 1\n-- param: $3 = 1\nSELECT $1, $3;").contains("not every"));
        // A name with a `$` inside is no parameter.
        assert_eq!(parse("SELECT a$1 FROM t;").unwrap()[0].bind_error, None);
    }

    #[test]
    fn literals_are_one_value() {
        for ok in [
            "42",
            "-3.5",
            ".5",
            "1e9",
            "'a'",
            "'it''s'",
            "NULL",
            "true",
            "'2024-01-01'::date",
            "'{1,2}'::int[]",
            "'1.5'::numeric(10,2)",
            "'x'::character varying",
            "'a::b'",
        ] {
            assert_eq!(literal(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "abc",
            "1 + 1",
            "'a' || 'b'",
            "1); DROP TABLE t",
            "'open",
            "now()",
            "'x'::date; DELETE",
            "'a' 'b'",
        ] {
            assert!(literal(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn literal_never_panics(s in "\\PC{0,40}") {
            let _ = literal(&s);
        }

        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_sql_like_text(parts in prop::collection::vec(prop::sample::select(vec![
            "SELECT", " ", ";", "'", "\"", "$$", "$a$", "$1", "--", "/*", "*/", "\n", "x", "é",
        ]), 0..40)) {
            let _ = parse(&parts.concat());
        }

        /// Statements joined with `;` and blank lines come back as they were.
        #[test]
        fn round_trips(stmts in prop::collection::vec("[a-z][a-z0-9 =<>]{0,20}", 1..6)) {
            let text: String = stmts.iter().map(|s| format!("SELECT {s};\n\n")).collect();
            let q = parse(&text).unwrap();
            prop_assert_eq!(q.len(), stmts.len());
            for (q, s) in q.iter().zip(&stmts) {
                prop_assert_eq!(&q.sql, &format!("SELECT {s}").trim().to_string());
            }
        }
    }
}
