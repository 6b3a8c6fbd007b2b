#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The JetStream sink and reader against the shared NATS server, each test on a stream of its
//! own (deleted at the end): what is published is read back one for one; a record above the
//! server's max payload is dropped as `too_large`; past `max_pending` records are dropped as
//! `pending_full`; every record is stored or counted, never lost silently.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prodlike_capture::nats::{
    ConnectSettings, JetStreamSettings, JetStreamSink, ReplaySettings, StreamSettings,
    default_stream, read_stream,
};
use prodlike_capture::{
    CaptureDrop, CapturedRequest, Exchange, Header, MaskSummary, Record, RecordSink, SinkEvents,
    encode_line,
};
use prodlike_testkit::nats::{SHARED, StreamGuard, unique};
use prodlike_testkit::require;

#[derive(Default)]
struct Counts {
    stored: AtomicU64,
    dropped: std::sync::Mutex<Vec<CaptureDrop>>,
    up: AtomicU64,
}

impl SinkEvents for Counts {
    fn stored(&self) {
        self.stored.fetch_add(1, Ordering::Relaxed);
    }
    fn dropped(&self, why: CaptureDrop) {
        self.dropped.lock().unwrap().push(why);
    }
    fn connection(&self, up: bool) {
        self.up.store(u64::from(up), Ordering::Relaxed);
    }
}

fn header() -> Header {
    Header::new(
        "test",
        "2026-12-04T10:00:00Z",
        true,
        Some(MaskSummary {
            detect: true,
            rules_digest: "0123456789abcdef".into(),
            key_fingerprint: Some("8c1e".into()),
            key_source: Some("given".into()),
        }),
    )
}

fn exchange(id: u64, body: Option<String>) -> Vec<u8> {
    encode_line(&Record::Exchange(Box::new(Exchange {
        id,
        ts_us: 1_000_000 + id,
        route: "/r/{id}".into(),
        masked: true,
        request: CapturedRequest {
            method: "GET".into(),
            target: format!("/r/{id}"),
            version: "HTTP/1.1".into(),
            headers: vec![],
            body: body.map(prodlike_capture::Body::Text),
            body_len: 0,
            body_truncated: false,
            body_omitted: None,
        },
        production: None,
        production_error: None,
        staging: None,
        staging_error: None,
    })))
    .unwrap()
}

fn connect() -> ConnectSettings {
    ConnectSettings {
        server: SHARED.into(),
        credentials: None,
        name: "prodlike capture test".into(),
    }
}

/// A sink on a fresh subject, once it is ready; with its stream's guard.
fn sink(max_pending: usize) -> (JetStreamSink, Arc<Counts>, StreamGuard, String) {
    let subject = unique("prodlike.test.sink", '.');
    let stream = default_stream(&subject);
    let guard = StreamGuard::new(SHARED, &stream);
    let counts = Arc::new(Counts::default());
    let sink = JetStreamSink::start(
        JetStreamSettings {
            connect: connect(),
            stream: StreamSettings {
                name: stream.clone(),
                subject,
                max_bytes: 64 << 20,
                max_age: Duration::from_secs(3600),
            },
            max_pending,
            ack_timeout: Duration::from_secs(5),
        },
        header(),
        counts.clone(),
        || {},
    )
    .unwrap();
    for _ in 0..400 {
        if sink.is_ready() {
            return (sink, counts, guard, stream);
        }
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("the sink never became ready");
}

fn read_all(stream: &str) -> Vec<Exchange> {
    let mut got = Vec::new();
    let stats = read_stream(
        &ReplaySettings {
            connect: connect(),
            stream: stream.into(),
            label: format!("nats://{SHARED}/{stream}"),
        },
        |ex| {
            got.push(ex);
            true
        },
    )
    .unwrap();
    assert_eq!(stats.skipped, 0, "{:?}", stats.skipped_examples);
    assert_eq!(stats.exchanges, got.len() as u64);
    got
}

#[test]
fn records_published_are_read_back_one_for_one_in_order() {
    if !require::nats() {
        return;
    }
    let (mut sink, counts, guard, stream) = sink(1024);
    assert_eq!(counts.up.load(Ordering::Relaxed), 1);
    for id in 0..300 {
        sink.write_line(&exchange(id, None)).unwrap();
    }
    sink.close().unwrap();
    assert_eq!(counts.stored.load(Ordering::Relaxed), 300);
    assert!(counts.dropped.lock().unwrap().is_empty());
    // The header record first, then the exchanges.
    assert_eq!(guard.messages(), Some(301));
    let raw = guard.raw_messages();
    assert!(String::from_utf8_lossy(&raw[0].0).contains("\"type\":\"header\""));
    assert!(
        raw[1]
            .1
            .iter()
            .any(|(k, v)| k == "Prodlike-Record" && v == "exchange")
    );
    let ids: Vec<u64> = read_all(&stream).iter().map(|e| e.id).collect();
    assert_eq!(ids, (0..300).collect::<Vec<_>>());
}

#[test]
fn a_record_above_the_max_payload_is_dropped_as_too_large() {
    if !require::nats() {
        return;
    }
    let (mut sink, counts, _guard, stream) = sink(16);
    sink.write_line(&exchange(1, None)).unwrap();
    // The server's max payload is 1 MB by default: 2 MB cannot be one message.
    sink.write_line(&exchange(2, Some("x".repeat(2 << 20))))
        .unwrap();
    sink.write_line(&exchange(3, None)).unwrap();
    sink.close().unwrap();
    assert_eq!(counts.stored.load(Ordering::Relaxed), 2);
    assert_eq!(*counts.dropped.lock().unwrap(), vec![CaptureDrop::TooLarge]);
    let ids: Vec<u64> = read_all(&stream).iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![1, 3]);
}

#[test]
fn past_max_pending_records_are_dropped_and_counted_never_waited_for() {
    if !require::nats() {
        return;
    }
    let (mut sink, counts, _guard, stream) = sink(1);
    for id in 0..2000 {
        sink.write_line(&exchange(id, None)).unwrap();
    }
    sink.close().unwrap();
    let stored = counts.stored.load(Ordering::Relaxed);
    let dropped = counts.dropped.lock().unwrap().clone();
    assert_eq!(
        stored + dropped.len() as u64,
        2000,
        "every record stored or counted"
    );
    assert!(
        !dropped.is_empty(),
        "one pending ack cannot keep up with a burst"
    );
    assert!(
        dropped.iter().all(|d| *d == CaptureDrop::PendingFull),
        "{dropped:?}"
    );
    assert_eq!(read_all(&stream).len() as u64, stored);
}

#[test]
fn an_existing_stream_that_does_not_store_the_subject_is_not_published_to() {
    if !require::nats() {
        return;
    }
    // A stream of the test's own on another subject, named as the sink's stream.
    let (mut other, _c, guard, stream) = sink(4);
    other.close().unwrap();
    let counts = Arc::new(Counts::default());
    let mut sink = JetStreamSink::start(
        JetStreamSettings {
            connect: connect(),
            stream: StreamSettings {
                name: stream.clone(),
                subject: unique("prodlike.test.elsewhere", '.'),
                max_bytes: 1 << 20,
                max_age: Duration::from_secs(60),
            },
            max_pending: 4,
            ack_timeout: Duration::from_secs(1),
        },
        header(),
        counts.clone(),
        || {},
    )
    .unwrap();
    sink.write_line(&exchange(1, None)).unwrap();
    sink.close().unwrap();
    assert!(!sink.is_ready());
    assert_eq!(
        *counts.dropped.lock().unwrap(),
        vec![CaptureDrop::Disconnected]
    );
    assert_eq!(
        guard.messages(),
        Some(1),
        "only the first sink's header record"
    );
}
