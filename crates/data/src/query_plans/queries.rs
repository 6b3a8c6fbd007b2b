//! The `--queries` file of `prodlike data plans`: SQL statements, each ending with `;`,
//! separated by blank lines, `--` comments allowed. A statement's first comment line names it
//! in the output (`q3` for the third otherwise). Sample parameters are written in place.
//!
//! The split is lexical, not a parse: `;` inside quotes ('…', "…"), dollar quotes ($$…$$,
//! $tag$…$tag$) and comments (`--`, `/* */`) does not end a statement. Whether a statement is
//! valid SQL is for the database to say (its EXPLAIN error names the query).

/// One statement to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Its first comment line, or `q<N>` (1-based).
    pub name: String,
    /// The statement without its trailing `;` and without leading comment lines.
    pub sql: String,
    /// 1-based line of the file where it starts.
    pub line: usize,
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
pub fn parse(text: &str) -> Result<Vec<Query>, QueriesError> {
    let mut out: Vec<Query> = Vec::new();
    let mut name: Option<String> = None;
    let mut sql = String::new();
    let mut start_line = 0usize;
    let mut line = 1usize;
    // The line the last statement ended on: a comment after its `;` is its own, not a name.
    let mut ended_on = 0usize;
    let mut chars = text.char_indices().peekable();
    // Lexical state.
    while let Some((i, c)) = chars.next() {
        let rest = &text[i..];
        if sql.trim().is_empty() && rest.starts_with("--") {
            // A comment before the statement: its first such line names it.
            let end = rest.find('\n').unwrap_or(rest.len());
            let comment = rest[2..end].trim();
            if name.is_none() && !comment.is_empty() && line != ended_on {
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
                out.push(Query {
                    name,
                    sql: sql.trim().to_string(),
                    line: start_line,
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
            }
            '-' if rest.starts_with("--") => {
                let end = rest.find('\n').unwrap_or(rest.len());
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

    proptest! {
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
