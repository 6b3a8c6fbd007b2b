//! A small RFC 4180 CSV reader for data files: quoted fields, doubled quotes, newlines inside
//! quotes, LF or CRLF line ends. Errors carry the line number.

/// Parses `text` into records. A trailing newline does not make an empty record; blank lines
/// are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, (usize, String)> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut field_started_quoted = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !field_started_quoted => {
                in_quotes = true;
                field_started_quoted = true;
                any = true;
            }
            '"' => {
                return Err((
                    line,
                    "a quote inside an unquoted field; quote the whole field and double inner quotes (\"\")".into(),
                ));
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                field_started_quoted = false;
                any = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if any || !field.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                field_started_quoted = false;
                any = false;
                line += 1;
                record_line = line;
            }
            _ => {
                if field_started_quoted {
                    return Err((
                        line,
                        "text after a closing quote; separate fields with commas".into(),
                    ));
                }
                field.push(c);
                any = true;
            }
        }
    }
    if in_quotes {
        return Err((record_line, "a quoted field is never closed".into()));
    }
    if any || !field.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
pub(crate) fn encode_csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for r in rows {
        let fields: Vec<String> = r
            .iter()
            .map(|f| {
                if f.contains([',', '"', '\n', '\r']) || f.is_empty() {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.clone()
                }
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_quotes_and_line_ends() {
        let rows =
            parse_csv("id,name\r\n1,\"Smith, J\"\n2,\"say \"\"hi\"\"\"\n\n3,\"two\nlines\"\n")
                .unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1], vec!["1", "Smith, J"]);
        assert_eq!(rows[2], vec!["2", "say \"hi\""]);
        assert_eq!(rows[3], vec!["3", "two\nlines"]);
        assert_eq!(parse_csv("a,b\nc,\"d").unwrap_err().0, 2);
        assert_eq!(parse_csv("a,b\nc,d\"e").unwrap_err().0, 2);
        assert_eq!(parse_csv("a\n\"x\"y").unwrap_err().0, 2);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse_csv(&s);
        }

        #[test]
        fn round_trips(rows in prop::collection::vec(prop::collection::vec("[a-z ,\"\n]{0,8}", 1..5), 1..10)) {
            let text = encode_csv(&rows);
            prop_assert_eq!(parse_csv(&text).unwrap(), rows);
        }
    }
}
