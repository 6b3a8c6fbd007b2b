//! Access-log lines to replayable requests: nginx/Apache combined (and common) format, and JSON
//! lines as nginx `escape=json`, Caddy, Traefik and most JSON loggers write them. Untrusted
//! input: every failure is a reason string, never a panic.
pub use prodlike_common::date::parse_rfc3339_micros as parse_rfc3339;
use prodlike_common::date::{Timestamp, parse_utc_offset};
use serde_json::Value;

use super::ReplayRequest;

/// One parsed access-log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Microseconds since the Unix epoch.
    pub ts_us: u64,
    /// True when the timestamp only has whole seconds (combined logs).
    pub whole_seconds: bool,
    pub request: ReplayRequest,
}

/// Parses a combined (or common) log line:
/// `host ident user [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.1" 200 2326 "referer" "agent"`.
pub fn parse_combined(line: &str) -> Result<LogEntry, String> {
    let open = line.find('[').ok_or("no [timestamp]")?;
    let close = line[open..].find(']').ok_or("unterminated [timestamp]")? + open;
    let ts_us = parse_clf_time(&line[open + 1..close])?;
    let rest = line[close + 1..].trim_start();
    let (request, rest) = quoted(rest).ok_or("no quoted request line after the timestamp")?;
    let mut parts = request.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().ok_or("request line has no path")?;
    let mut fields = rest.split_whitespace();
    let _status = fields.next();
    let _bytes = fields.next();
    let after_bytes = rest
        .trim_start()
        .splitn(3, char::is_whitespace)
        .nth(2)
        .unwrap_or("")
        .trim_start();
    let mut headers = Vec::new();
    if let Some((referer, rest2)) = quoted(after_bytes) {
        if !referer.is_empty() && referer != "-" {
            headers.push(("referer".to_string(), referer));
        }
        if let Some((agent, _)) = quoted(rest2.trim_start())
            && !agent.is_empty()
            && agent != "-"
        {
            headers.push(("user-agent".to_string(), agent));
        }
    }
    let request = ReplayRequest::new(method, target, headers, None, None)?;
    Ok(LogEntry {
        ts_us,
        whole_seconds: true,
        request,
    })
}

/// A double-quoted field at the start of `s` (backslash escapes honoured, `\xHH` decoded) and
/// what follows it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'x')) => {
                    let hex: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                    match u8::from_str_radix(&hex, 16) {
                        Ok(b) if b.is_ascii() => out.push(b as char),
                        _ => out.push('?'),
                    }
                }
                Some((_, c)) => out.push(c),
                None => return None,
            },
            _ => out.push(c),
        }
    }
    None
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `10/Oct/2000:13:55:36 -0700` → µs since the epoch.
pub fn parse_clf_time(s: &str) -> Result<u64, String> {
    let bad = || format!("timestamp `{s}` is not like 10/Oct/2000:13:55:36 -0700");
    let (dt, zone) = s.trim().split_once(' ').ok_or_else(bad)?;
    let mut it = dt.splitn(3, '/');
    let day: u32 = it.next().and_then(|d| d.parse().ok()).ok_or_else(bad)?;
    let mon = it.next().ok_or_else(bad)?;
    let month = MONTHS.iter().position(|m| *m == mon).ok_or_else(bad)? as u32 + 1;
    let rest = it.next().ok_or_else(bad)?;
    let mut it = rest.split(':');
    let mut num =
        || -> Result<i64, String> { it.next().and_then(|v| v.parse().ok()).ok_or_else(bad) };
    let (year, h, m, sec) = (num()?, num()?, num()?, num()?);
    let offset_secs = parse_utc_offset(zone).ok_or_else(bad)?;
    Timestamp {
        year,
        month,
        day,
        hour: h,
        minute: m,
        second: sec,
        micros: 0,
        offset_secs,
    }
    .epoch_micros()
    .ok_or_else(bad)
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k)?;
    }
    Some(cur)
}

fn first_str<'a>(v: &'a Value, paths: &[&[&str]]) -> Option<&'a str> {
    paths
        .iter()
        .find_map(|p| get(v, p).and_then(|x| x.as_str()).filter(|s| !s.is_empty()))
}

fn time_of(v: &Value) -> Option<(u64, bool)> {
    const KEYS: &[&[&str]] = &[
        &["ts"],
        &["time"],
        &["timestamp"],
        &["@timestamp"],
        &["time_iso8601"],
        &["time_local"],
        &["StartUTC"],
        &["start_time"],
        &["date"],
    ];
    for k in KEYS {
        match get(v, k) {
            Some(Value::Number(n)) => {
                let x = n.as_f64()?;
                if !(x.is_finite() && x > 0.0) {
                    return None;
                }
                // Seconds, milliseconds or microseconds since the epoch, by magnitude.
                let us = if x > 1e14 {
                    x
                } else if x > 1e11 {
                    x * 1e3
                } else {
                    x * 1e6
                };
                return Some((us as u64, false));
            }
            Some(Value::String(s)) => {
                if let Some(us) = parse_rfc3339(s) {
                    return Some((us, false));
                }
                if let Ok(us) = parse_clf_time(s) {
                    return Some((us, true));
                }
                if let Ok(x) = s.parse::<f64>() {
                    return time_of(&serde_json::json!({ "ts": x }));
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses one JSON access-log line.
pub fn parse_json_line(line: &str) -> Result<LogEntry, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let (ts_us, whole_seconds) =
        time_of(&v).ok_or("no timestamp (ts, time, timestamp, @timestamp, time_iso8601, …)")?;
    let request_line = first_str(&v, &[&["request"], &["request_line"]]);
    let (mut method, mut target) = (
        first_str(
            &v,
            &[
                &["method"],
                &["request_method"],
                &["RequestMethod"],
                &["http_method"],
                &["request", "method"],
                &["http", "request", "method"],
            ],
        )
        .map(str::to_string),
        first_str(
            &v,
            &[
                &["uri"],
                &["request_uri"],
                &["path"],
                &["url"],
                &["RequestPath"],
                &["request", "uri"],
                &["request", "path"],
                &["url", "original"],
            ],
        )
        .map(str::to_string),
    );
    if let Some(rl) = request_line {
        let mut parts = rl.split(' ');
        if method.is_none() {
            method = parts.next().map(str::to_string);
        } else {
            parts.next();
        }
        if target.is_none() {
            target = parts.next().map(str::to_string);
        }
    }
    let method = method.ok_or("no method (method, request_method, request, …)")?;
    let target = target.ok_or("no path (uri, request_uri, path, url, request, …)")?;
    let mut headers = Vec::new();
    if let Some(Value::Object(h)) = get(&v, &["request", "headers"]) {
        for (k, val) in h {
            let value = match val {
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => continue,
            };
            headers.push((k.to_ascii_lowercase(), value));
        }
    }
    if let Some(ua) = first_str(
        &v,
        &[
            &["http_user_agent"],
            &["user_agent"],
            &["request_User-Agent"],
        ],
    ) && !headers.iter().any(|(k, _)| k == "user-agent")
    {
        headers.push(("user-agent".into(), ua.to_string()));
    }
    let body = first_str(&v, &[&["request_body"], &["body"]])
        .filter(|b| *b != "-")
        .map(|b| b.as_bytes().to_vec());
    let request = ReplayRequest::new(&method, &target, headers, body, None)?;
    Ok(LogEntry {
        ts_us,
        whole_seconds,
        request,
    })
}

/// Either format, by the line's first character.
pub fn parse_log_line(line: &str) -> Result<LogEntry, String> {
    if line.trim_start().starts_with('{') {
        parse_json_line(line)
    } else {
        parse_combined(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn combined_lines() {
        let l = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;
        let e = parse_combined(l).unwrap();
        assert_eq!(e.ts_us, 971_211_336_000_000);
        assert_eq!(e.request.method, "GET");
        assert_eq!(e.request.target, "/apache_pb.gif?a=1");
        assert_eq!(e.request.route, "GET /apache_pb.gif");
        assert_eq!(e.request.headers.len(), 2);
        let common =
            r#"10.0.0.1 - - [23/Nov/2026:10:00:00 +0000] "POST /api/items/42 HTTP/1.1" 201 12"#;
        let e = parse_combined(common).unwrap();
        assert_eq!(e.request.route, "POST /api/items/{id}");
        let escaped = r#"1.2.3.4 - - [23/Nov/2026:10:00:00 +0000] "GET /q?x=\x22a\x22 HTTP/1.1" 200 1 "-" "curl/8""#;
        assert_eq!(
            parse_combined(escaped).unwrap().request.target,
            "/q?x=\"a\""
        );
        for bad in [
            "",
            "garbage",
            r#"1.2.3.4 - - [99/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
            r#"1.2.3.4 - - [23/Nov/2026:10:00:00 +0000] "-" 400 0"#,
            r#"1.2.3.4 - - [23/Nov/2026:10:00:00 +0000] "\x16\x03\x01" 400 0"#,
        ] {
            assert!(parse_combined(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_lines_of_several_loggers() {
        let nginx = r#"{"time_iso8601":"2026-11-23T10:00:00+00:00","request":"GET /a?b=1 HTTP/1.1","status":"200","http_user_agent":"k"}"#;
        let e = parse_json_line(nginx).unwrap();
        assert_eq!(
            (e.request.method.as_str(), e.request.target.as_str()),
            ("GET", "/a?b=1")
        );
        assert_eq!(e.ts_us, parse_rfc3339("2026-11-23T10:00:00Z").unwrap());
        let caddy = r#"{"ts":1795423200.5,"request":{"method":"POST","uri":"/x","headers":{"Content-Type":["application/json"]}},"status":200}"#;
        let e = parse_json_line(caddy).unwrap();
        assert_eq!(e.ts_us, 1_795_423_200_500_000);
        assert_eq!(
            e.request.headers[0],
            ("content-type".into(), "application/json".into())
        );
        let traefik = r#"{"StartUTC":"2026-11-23T10:00:00.25Z","RequestMethod":"DELETE","RequestPath":"/u/7"}"#;
        let e = parse_json_line(traefik).unwrap();
        assert_eq!(e.ts_us % 1_000_000, 250_000);
        assert!(
            parse_json_line(r#"{"method":"GET","path":"/"}"#)
                .unwrap_err()
                .contains("timestamp")
        );
        assert!(
            parse_json_line(r#"{"ts":1,"path":"/"}"#)
                .unwrap_err()
                .contains("method")
        );
        assert!(parse_json_line("[1,2]").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00.5Z"),
            Some(951_782_400_500_000)
        );
        assert_eq!(parse_rfc3339("2000-13-29T00:00:00Z"), None);
        assert_eq!(parse_clf_time("01/Jan/1970:00:00:00 +0000"), Ok(0));
    }

    proptest! {
        #[test]
        fn arbitrary_lines_never_panic(s in "\\PC{0,200}") {
            let _ = parse_log_line(&s);
            let _ = parse_combined(&s);
            let _ = parse_rfc3339(&s);
            let _ = parse_clf_time(&s);
        }

        #[test]
        fn mangled_combined_lines_never_panic(cut in 0usize..200, byte in any::<char>()) {
            let l = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326 "http://x/" "Mozilla""#;
            let mut chars: Vec<char> = l.chars().collect();
            let i = cut % chars.len();
            chars[i] = byte;
            let s: String = chars.into_iter().collect();
            let _ = parse_log_line(&s);
            let _ = parse_log_line(&s[..s.char_indices().nth(i).map(|(k, _)| k).unwrap_or(0)]);
        }

        #[test]
        fn generated_combined_lines_parse(day in 1u32..=28, mon in 0usize..12, year in 1970i64..2100,
                                          h in 0u32..24, m in 0u32..60, s in 0u32..60,
                                          path in "/[a-z0-9/]{0,20}", method in "GET|POST|PUT|DELETE") {
            let l = format!("1.2.3.4 - - [{day:02}/{}/{year}:{h:02}:{m:02}:{s:02} +0000] \"{method} {path} HTTP/1.1\" 200 5 \"-\" \"ua\"", MONTHS[mon]);
            let e = parse_combined(&l).unwrap();
            prop_assert_eq!(&e.request.target, &path);
            prop_assert_eq!(&e.request.method, &method);
            let json = format!("{{\"time_local\":\"{day:02}/{}/{year}:{h:02}:{m:02}:{s:02} +0000\",\"request\":\"{method} {path} HTTP/1.1\"}}", MONTHS[mon]);
            prop_assert_eq!(parse_json_line(&json).unwrap().ts_us, e.ts_us);
        }
    }
}
