//! `--replay FILE`: prodlike shadow captures, nginx/Apache combined logs and JSON-lines access
//! logs, streamed (constant memory), malformed lines skipped and counted with line numbers; and
//! `--replay nats://HOST:PORT/STREAM`: a capture published to NATS JetStream (`nats.rs`), whose
//! records go through the same conversion as a capture file's.
mod accesslog;
mod nats;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub use accesslog::{
    LogEntry, parse_clf_time, parse_combined, parse_json_line, parse_log_line, parse_rfc3339,
};

use crate::LoadError;
use crate::mix::RenderedRequest;

/// Headers never replayed as recorded: load sets them itself.
const HOP_BY_HOP: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// One recorded request, ready to send again.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayRequest {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Name used for per-route statistics: `GET /users/{id}`.
    pub route: String,
}

impl ReplayRequest {
    pub fn new(
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        route: Option<&str>,
    ) -> Result<ReplayRequest, String> {
        if method.is_empty() || method.len() > 20 || !method.bytes().all(|b| b.is_ascii_uppercase())
        {
            return Err(format!(
                "`{}` is not an HTTP method",
                method.chars().take(20).collect::<String>()
            ));
        }
        let target = if let Some(rest) = target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))
        {
            // Absolute-form (proxy logs): keep path and query.
            rest.find('/').map(|i| &rest[i..]).unwrap_or("/")
        } else {
            target
        };
        if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(format!(
                "`{}` is not a request path",
                target.chars().take(80).collect::<String>()
            ));
        }
        let headers = headers
            .into_iter()
            .filter(|(k, v)| {
                !HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str())
                    && !k.is_empty()
                    && k.bytes().all(|b| b.is_ascii_graphic() && b != b':')
                    && !v.contains(['\r', '\n'])
            })
            .collect();
        let route = match route {
            Some(r) if !r.is_empty() => {
                if r.contains(' ') {
                    r.to_string()
                } else {
                    format!("{method} {r}")
                }
            }
            _ => format!("{method} {}", normalise_path(target)),
        };
        Ok(ReplayRequest {
            method: method.to_string(),
            target: target.to_string(),
            headers,
            body,
            route,
        })
    }

    pub fn rendered(&self) -> RenderedRequest {
        RenderedRequest {
            method: self.method.clone(),
            path: self.target.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }
}

/// Path without query, with id-like segments (numbers, UUIDs, long hex) as `{id}`, so routes
/// group like the shadow's normalised routes.
pub fn normalise_path(target: &str) -> String {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let segs: Vec<&str> = path
        .split('/')
        .map(|s| {
            let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let hexish = s.len() >= 16 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            if digits || hexish { "{id}" } else { s }
        })
        .collect();
    segs.join("/")
}

/// What a replay source read: part of the published result (prodlike.load/1).
pub use prodlike_results::load::ReplayStats;

const KEEP_EXAMPLES: usize = 20;

/// Counts a skipped line, keeping the first few as examples.
fn skip(stats: &mut ReplayStats, file: &str, line: u64, reason: &str) {
    stats.skipped += 1;
    if stats.skipped_examples.len() < KEEP_EXAMPLES {
        stats
            .skipped_examples
            .push(format!("{file}:{line}: {reason}"));
    }
}

/// One recorded request with its arrival time, µs since the epoch; `whole_seconds` when the
/// source only had second resolution.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub ts_us: u64,
    pub whole_seconds: bool,
    pub request: ReplayRequest,
}

fn is_capture(path: &Path) -> Result<bool, LoadError> {
    let f = File::open(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut r = BufReader::new(f);
    let mut line = String::new();
    loop {
        line.clear();
        let n = r.read_line(&mut line).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if n == 0 {
            return Ok(false);
        }
        if line.trim().is_empty() {
            continue;
        }
        let v: Option<serde_json::Value> = serde_json::from_str(line.trim()).ok();
        return Ok(v.is_some_and(|v| {
            v.get("type").and_then(|t| t.as_str()) == Some("header")
                && v.get("format").and_then(|t| t.as_str()) == Some(prodlike_capture::FORMAT)
        }));
    }
}

/// What `--replay` reads: a capture's rotated files or one log file, or a JetStream stream.
#[derive(Debug, Clone)]
pub enum ReplaySource {
    Files {
        files: Vec<PathBuf>,
        /// True for a prodlike capture, false for an access log.
        capture: bool,
    },
    Nats(nats::NatsSource),
}

/// The recording `--replay PATH` means: `nats://HOST:PORT/STREAM` (the stream checked now, so a
/// wrong name fails before the run), a capture's rotated files in order, or the one log file.
pub fn replay_source(path: &Path) -> Result<ReplaySource, LoadError> {
    if let Some(url) = path.to_str().filter(|p| prodlike_capture::nats::is_nats(p)) {
        return Ok(ReplaySource::Nats(nats::NatsSource::open(url)?));
    }
    let (files, capture) = replay_files(path)?;
    Ok(ReplaySource::Files { files, capture })
}

/// The files `--replay PATH` means: a capture's rotated files in order, or the one log file.
pub fn replay_files(path: &Path) -> Result<(Vec<PathBuf>, bool), LoadError> {
    if !path.exists() {
        return Err(LoadError::Replay {
            path: path.to_path_buf(),
            reason: "no such file".into(),
        });
    }
    if is_capture(path)? {
        Ok((prodlike_capture::rotated_files(path), true))
    } else {
        Ok((vec![path.to_path_buf()], false))
    }
}

/// Streams every recorded request of `source` to `sink` in recorded order; returns false from
/// `sink` to stop early. Malformed lines or records are skipped and counted in `stats`.
pub fn stream(
    source: &ReplaySource,
    stats: &mut ReplayStats,
    sink: impl FnMut(Recorded) -> bool,
) -> Result<(), LoadError> {
    match source {
        ReplaySource::Files { files, capture } => stream_files(files, *capture, stats, sink),
        ReplaySource::Nats(n) => n.stream(stats, sink),
    }
}

/// One capture record as a request to replay, counted in `stats`; false when `sink` wants no
/// more. A record that is no valid request is skipped with `label:line`.
fn replay_exchange(
    ex: prodlike_capture::Exchange,
    label: &str,
    line: u64,
    stats: &mut ReplayStats,
    sink: &mut impl FnMut(Recorded) -> bool,
) -> bool {
    *stats.formats.entry("capture".into()).or_insert(0) += 1;
    // Counted, and warned about by the summary and the CLI.
    stats.unmasked += u64::from(!ex.masked);
    let body = if ex.request.body_truncated {
        None
    } else {
        ex.request.body.as_ref().and_then(|b| b.to_bytes())
    };
    match ReplayRequest::new(
        &ex.request.method,
        &ex.request.target,
        ex.request.headers,
        body,
        Some(&ex.route),
    ) {
        Ok(request) => {
            stats.requests += 1;
            sink(Recorded {
                ts_us: ex.ts_us,
                whole_seconds: false,
                request,
            })
        }
        Err(reason) => {
            skip(stats, label, line, &reason);
            true
        }
    }
}

/// Adds a capture reader's own counts (lines, skipped lines) to `stats`.
fn add_read_stats(stats: &mut ReplayStats, label: &str, rs: &prodlike_capture::ReadStats) {
    stats.lines += rs.lines;
    stats.skipped += rs.skipped;
    for sk in &rs.skipped_examples {
        if stats.skipped_examples.len() < KEEP_EXAMPLES {
            stats
                .skipped_examples
                .push(format!("{label}:{}: {}", sk.line, sk.reason));
        }
    }
}

/// Streams every recorded request of `files` to `sink` in file order; returns false from `sink`
/// to stop early. Malformed lines are skipped and counted in `stats`.
fn stream_files(
    files: &[PathBuf],
    capture: bool,
    stats: &mut ReplayStats,
    mut sink: impl FnMut(Recorded) -> bool,
) -> Result<(), LoadError> {
    for path in files {
        let label = path.display().to_string();
        if !stats.files.contains(&label) {
            stats.files.push(label.clone());
        }
        if capture {
            let mut reader = prodlike_capture::CaptureReader::open(path).map_err(|source| {
                LoadError::Capture {
                    path: path.clone(),
                    source,
                }
            })?;
            for item in reader.by_ref() {
                let ex = item.map_err(|source| LoadError::Capture {
                    path: path.clone(),
                    source,
                })?;
                let id = ex.id;
                if !replay_exchange(ex, &label, id, stats, &mut sink) {
                    return Ok(());
                }
            }
            add_read_stats(stats, &label, reader.stats());
            continue;
        }
        let f = File::open(path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        let mut r = BufReader::with_capacity(256 * 1024, f);
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = r
                .by_ref()
                .take(1024 * 1024)
                .read_until(b'\n', &mut buf)
                .map_err(|source| LoadError::Io {
                    path: path.clone(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            line_no += 1;
            stats.lines += 1;
            if buf.last() != Some(&b'\n') && n == 1024 * 1024 {
                // Longer than 1 MiB: skip the rest of it.
                let mut rest = Vec::new();
                let _ = r.read_until(b'\n', &mut rest);
                skip(stats, &label, line_no, "line longer than 1 MiB");
                continue;
            }
            let Ok(line) = std::str::from_utf8(&buf) else {
                skip(stats, &label, line_no, "not UTF-8");
                continue;
            };
            let line = line.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                continue;
            }
            let fmt = if line.trim_start().starts_with('{') {
                "json"
            } else {
                "combined"
            };
            match parse_log_line(line) {
                Ok(e) => {
                    *stats.formats.entry(fmt.into()).or_insert(0) += 1;
                    stats.requests += 1;
                    if !sink(Recorded {
                        ts_us: e.ts_us,
                        whole_seconds: e.whole_seconds,
                        request: e.request,
                    }) {
                        return Ok(());
                    }
                }
                Err(reason) => skip(stats, &label, line_no, &reason),
            }
        }
    }
    Ok(())
}

/// Requests per whole second of the recording (first pass of `--scale`).
pub fn rate_curve(source: &ReplaySource) -> Result<(Vec<f64>, ReplayStats), LoadError> {
    let mut stats = ReplayStats::default();
    let mut first: Option<u64> = None;
    let mut counts: Vec<f64> = Vec::new();
    let mut out_of_order = 0u64;
    stream(source, &mut stats, |r| {
        let t0 = *first.get_or_insert(r.ts_us);
        if r.ts_us < t0 {
            out_of_order += 1;
            return true;
        }
        let s = ((r.ts_us - t0) / 1_000_000) as usize;
        if s < 366 * 86_400 {
            if counts.len() <= s {
                counts.resize(s + 1, 0.0);
            }
            counts[s] += 1.0;
        }
        true
    })?;
    Ok((counts, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_ids() {
        assert_eq!(normalise_path("/users/42/orders?x=1"), "/users/{id}/orders");
        assert_eq!(
            normalise_path("/o/3f2a9c1e-7b6d-4e21-9a0b-123456789abc"),
            "/o/{id}"
        );
        assert_eq!(normalise_path("/"), "/");
    }

    #[test]
    fn malformed_lines_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("access.log");
        std::fs::write(
            &p,
            concat!(
                "1.2.3.4 - - [23/Nov/2026:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"ua\"\n",
                "this line is garbage\n",
                "\n",
                "{\"ts\": 1795423201.0, \"method\": \"POST\", \"path\": \"/b\"}\n",
                "{\"ts\": \n",
                "1.2.3.4 - - [23/Nov/2026:10:00:01 +0000] \"GET /c HTTP/1.1\" 200 1\n",
            ),
        )
        .unwrap();
        let source = replay_source(&p).unwrap();
        assert!(matches!(source, ReplaySource::Files { capture: false, .. }));
        let mut stats = ReplayStats::default();
        let mut got = Vec::new();
        stream(&source, &mut stats, |r| {
            got.push(r.request.target);
            true
        })
        .unwrap();
        assert_eq!(got, vec!["/a", "/b", "/c"]);
        assert_eq!(stats.skipped, 2);
        assert!(
            stats.skipped_examples[0].ends_with(":2: no [timestamp]"),
            "{:?}",
            stats.skipped_examples
        );
        assert!(
            stats.skipped_examples[1].contains(":5: not JSON"),
            "{:?}",
            stats.skipped_examples
        );
        assert_eq!(stats.formats["combined"], 2);
    }

    #[test]
    fn reads_captures_with_their_routes() {
        use prodlike_capture::{CapturedRequest, Exchange, Header, Record, encode_line};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("traffic.jsonl");
        let mut text = encode_line(&Record::Header(Header::new(
            "test",
            "2026-11-23T10:00:00Z",
            true,
            None,
        )))
        .unwrap();
        for i in 0..3u64 {
            let ex = Exchange {
                id: i,
                ts_us: 1_000_000 + i * 250_000,
                route: "/items/{id}".into(),
                masked: true,
                request: CapturedRequest {
                    method: "GET".into(),
                    target: format!("/items/{i}"),
                    version: "HTTP/1.1".into(),
                    headers: vec![("host".into(), "x".into()), ("accept".into(), "*/*".into())],
                    body: None,
                    body_len: 0,
                    body_truncated: false,
                    body_omitted: None,
                },
                production: None,
                production_error: None,
                staging: None,
                staging_error: None,
            };
            text.extend(encode_line(&Record::Exchange(Box::new(ex))).unwrap());
        }
        text.extend_from_slice(b"{broken\n");
        std::fs::write(&p, text).unwrap();
        let source = replay_source(&p).unwrap();
        assert!(matches!(source, ReplaySource::Files { capture: true, .. }));
        let (curve, stats) = rate_curve(&source).unwrap();
        assert_eq!(curve, vec![3.0]);
        assert_eq!(stats.skipped, 1);
        let mut got = Vec::new();
        let mut stats = ReplayStats::default();
        stream(&source, &mut stats, |r| {
            got.push(r);
            true
        })
        .unwrap();
        assert_eq!(got[1].request.route, "GET /items/{id}");
        assert_eq!(
            got[1].request.headers,
            vec![("accept".to_string(), "*/*".to_string())]
        );
    }
}
