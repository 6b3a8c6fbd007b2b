#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::io::Cursor;

use prodlike_capture::*;
use proptest::prelude::*;

fn exchange(id: u64) -> Exchange {
    Exchange {
        id,
        ts_us: 1_700_000_000_000_000 + id * 1000,
        route: "/users/{id}".into(),
        masked: true,
        request: CapturedRequest {
            method: "POST".into(),
            target: format!("/users/{id}?q=1"),
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(Body::from_bytes(br#"{"email":"masked"}"#)),
            body_len: 18,
            body_truncated: false,
            body_omitted: None,
        },
        production: Some(CapturedResponse {
            status: 200,
            headers: vec![],
            body: Some(Body::from_bytes(&[0xde, 0xad, 0xbe, 0xef])),
            body_len: 4,
            body_truncated: false,
            body_omitted: None,
            latency_us: 1234,
        }),
        production_error: None,
        staging: None,
        staging_error: Some("timeout".into()),
    }
}

fn header() -> Header {
    Header::new("test", "2026-01-01T00:00:00Z", true, None)
}

#[test]
fn written_records_read_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traffic.jsonl");
    let mut sink = FileSink::create(&path, RotationPolicy::default(), header()).unwrap();
    for i in 0..100 {
        sink.write_line(&encode_line(&Record::Exchange(Box::new(exchange(i)))).unwrap())
            .unwrap();
    }
    sink.flush().unwrap();
    drop(sink);
    let mut reader = CaptureReader::open(&path).unwrap();
    let read: Vec<Exchange> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(read.len(), 100);
    assert_eq!(read[42], exchange(42));
    assert_eq!(reader.stats().exchanges, 100);
    assert_eq!(reader.stats().skipped, 0);
    assert_eq!(reader.stats().lines, 101, "header + 100 exchanges");
}

#[test]
fn rotation_keeps_every_record_in_order_and_prunes_old_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traffic.jsonl");
    let policy = RotationPolicy {
        max_bytes: 4096,
        max_files: 0,
    };
    let mut sink = FileSink::create(&path, policy, header()).unwrap();
    for i in 0..200 {
        sink.write_line(&encode_line(&Record::Exchange(Box::new(exchange(i)))).unwrap())
            .unwrap();
    }
    drop(sink);
    let files = rotated_files(&path);
    assert!(files.len() > 5, "expected rotation, got {files:?}");
    let mut ids = Vec::new();
    for f in &files {
        assert!(std::fs::metadata(f).unwrap().len() <= 4096 + 1024);
        let first = std::fs::read_to_string(f).unwrap();
        assert!(first.starts_with(r#"{"type":"header","format":"prodlike-capture","version":2"#));
        ids.extend(CaptureReader::open(f).unwrap().map(|e| e.unwrap().id));
    }
    assert_eq!(ids, (0..200).collect::<Vec<_>>());

    // With a retention limit, only the newest rotated files stay.
    let path2 = dir.path().join("kept.jsonl");
    let mut sink = FileSink::create(
        &path2,
        RotationPolicy {
            max_bytes: 4096,
            max_files: 2,
        },
        header(),
    )
    .unwrap();
    for i in 0..200 {
        sink.write_line(&encode_line(&Record::Exchange(Box::new(exchange(i)))).unwrap())
            .unwrap();
    }
    drop(sink);
    assert_eq!(
        rotated_files(&path2).len(),
        3,
        "two rotated files and the active one"
    );
}

#[test]
fn reopening_rotates_the_previous_run_away() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    for run in 0..2 {
        let mut sink = FileSink::create(&path, RotationPolicy::default(), header()).unwrap();
        sink.write_line(&encode_line(&Record::Exchange(Box::new(exchange(run)))).unwrap())
            .unwrap();
    }
    let files = rotated_files(&path);
    assert_eq!(files.len(), 2);
    let ids: Vec<u64> = files
        .iter()
        .flat_map(|f| CaptureReader::open(f).unwrap().map(|e| e.unwrap().id))
        .collect();
    assert_eq!(ids, vec![0, 1]);
}

#[test]
fn malformed_lines_are_skipped_and_counted_with_line_numbers() {
    let good =
        String::from_utf8(encode_line(&Record::Exchange(Box::new(exchange(1)))).unwrap()).unwrap();
    let input = format!(
        "{}\n{good}not json\n{{\"type\":\"exchange\"}}\n\n{good}",
        serde_json::to_string(&Record::Header(header())).unwrap()
    );
    let mut r = CaptureReader::new(Cursor::new(input), "mem");
    let got: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(r.stats().skipped, 2);
    assert_eq!(r.stats().skipped_examples[0].line, 3);
    assert_eq!(r.stats().skipped_examples[1].line, 4);
}

#[test]
fn newer_versions_and_foreign_formats_are_refused() {
    let newer = r#"{"type":"header","format":"prodlike-capture","version":9,"created_at":"x","source":"y","masked":true}"#;
    let err = CaptureReader::new(Cursor::new(newer), "new.jsonl")
        .next()
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");
    let foreign = r#"{"type":"header","format":"har","version":1,"created_at":"x","source":"y","masked":true}"#;
    let err = CaptureReader::new(Cursor::new(foreign), "f.jsonl")
        .next()
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("not a prodlike capture"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let r = CaptureReader::new(Cursor::new(bytes), "fuzz");
        for item in r { let _ = item; }
    }

    #[test]
    fn mutated_records_never_panic(cut in 0usize..400, flip in 0usize..400, byte in any::<u8>()) {
        let mut line = encode_line(&Record::Exchange(Box::new(exchange(7)))).unwrap();
        let n = line.len();
        line[flip % n] = byte;
        line.truncate(cut.min(n));
        let mut r = CaptureReader::new(Cursor::new(line), "fuzz");
        let items: Vec<_> = r.by_ref().collect();
        let s = r.stats();
        prop_assert!(items.len() as u64 <= s.lines);
        prop_assert!(s.exchanges + s.skipped <= s.lines);
        if byte != b'\n' && cut >= n {
            // One line, damaged or not: either read or skipped, never both, never lost.
            prop_assert_eq!(s.exchanges + s.skipped, 1);
        }
    }
}
