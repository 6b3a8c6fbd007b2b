#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! With no `[mask]` section at all, nothing personal leaves the production side: not in what
//! staging receives, not in the capture, not in `/api/divergence`, `/metrics` or the dashboard.
mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::routing::any;
use bytes::Bytes;
use common::*;
use http::{Method, StatusCode};
use prodlike_shadow::config::RouteRule;
use prodlike_testkit::browser::Chromium;
use prodlike_testkit::services::serve;
use serde_json::{Value, json};

// What the client sends.
const CLIENT_EMAIL: &str = "client.person@mail.example";
const CLIENT_TOKEN: &str = "tok_live_7Hq2Zx9Kd3Lm8Np4";
const CLIENT_PASSWORD: &str = "hunter2-correct-horse";
const CLIENT_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";
const CLIENT_COOKIE: &str = "SESSIONSECRET8842197";
const CLIENT_CARD: &str = "5500 0000 0000 0004";
const CLIENT_PHONE: &str = "+44 20 7946 0018";
const PATH_EMAIL: &str = "path.person@mail.example";

// What production answers (staging answers other people, so diffs show both sides).
const PROD_PEOPLE: Person = Person {
    name: "Ann Smith",
    email: "ann.smith@corp.example",
    phone: "+1 415 555 0100",
    ssn: "123-45-6789",
    card: "4111 1111 1111 1111",
    iban: "GB82 WEST 1234 5698 7654 32",
    password_hash: "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    ip: "203.0.113.77",
    token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.YW5uLXNpZ25hdHVyZS1ieXRlcw",
};
const STAGING_PEOPLE: Person = Person {
    name: "Bob Jones",
    email: "bob.jones@corp.example",
    phone: "+1 415 555 0199",
    ssn: "219-09-9999",
    card: "4012 8888 8888 1881",
    iban: "DE89 3704 0044 0532 0130 00",
    password_hash: "$2b$12$KIXQJ1kUq9.dQ3v6e/Jjf.8r5UOxXwJkJ5dQzQ/5KJz1yZ9R8n7pO",
    ip: "198.51.100.23",
    token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.Ym9iLXNpZ25hdHVyZS1ieXRlcw",
};

#[derive(Clone, Copy)]
struct Person {
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    ssn: &'static str,
    card: &'static str,
    iban: &'static str,
    password_hash: &'static str,
    ip: &'static str,
    token: &'static str,
}

impl Person {
    fn values(&self) -> [&'static str; 9] {
        [
            self.name,
            self.email,
            self.phone,
            self.ssn,
            self.card,
            self.iban,
            self.password_hash,
            self.ip,
            self.token,
        ]
    }
}

/// The copy of the request to `/api/customers/…` (the one with credentials, query and path
/// PII): copies reach staging in whatever order the mirror's workers send them.
fn customers(staged: &[Seen]) -> &Seen {
    staged
        .iter()
        .find(|r| r.uri.starts_with("/api/customers/"))
        .unwrap_or_else(|| {
            panic!(
                "no copy of /api/customers reached staging: {:?}",
                staged.iter().map(|r| &r.uri).collect::<Vec<_>>()
            )
        })
}

/// One request an upstream received.
#[derive(Clone)]
struct Seen {
    method: String,
    uri: String,
    headers: http::HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A JSON API whose answers carry every kind the detectors know, and echo the request's query.
fn pii_api(who: Person, price: u32, log: Log) -> Router {
    Router::new().fallback(any(move |req: Request| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            log.lock().unwrap().push(Seen {
                method: parts.method.to_string(),
                uri: parts.uri.to_string(),
                headers: parts.headers.clone(),
                body: bytes,
            });
            let echoed = parts.uri.query().unwrap_or("").to_string();
            let doc = json!({
                "customer": {
                    "name": who.name,
                    "email": who.email,
                    "phone": who.phone,
                    "ssn": who.ssn,
                    "card_number": who.card,
                    "iban": who.iban,
                    "password_hash": who.password_hash,
                    "last_login_ip": who.ip,
                },
                "session": {"access_token": who.token},
                "note": format!("Call {} about order 4711 (link token {})", who.email, who.token),
                "genre": {"Name": "Rock"},
                "album": {"Title": "For Those About To Rock We Salute You"},
                "echo": echoed,
                "price": price,
            });
            (
                [
                    ("content-type", "application/json"),
                    ("x-customer-email", who.email),
                ],
                doc.to_string(),
            )
        }
    }))
}

fn contains(hay: &[u8], needle: &str) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every raw value, and the spellings it travels in (percent-encoded, without separators).
fn raw_values() -> Vec<String> {
    let mut v: Vec<String> = [
        CLIENT_EMAIL,
        CLIENT_TOKEN,
        CLIENT_PASSWORD,
        CLIENT_JWT,
        CLIENT_COOKIE,
        CLIENT_CARD,
        CLIENT_PHONE,
        PATH_EMAIL,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for p in [PROD_PEOPLE, STAGING_PEOPLE] {
        v.extend(p.values().iter().map(|s| s.to_string()));
    }
    let extra: Vec<String> = v
        .iter()
        .flat_map(|s| {
            [
                s.replace('@', "%40"),
                s.replace(' ', ""),
                s.replace(' ', "+").replace('@', "%40"),
                s.replace(' ', "%20"),
            ]
        })
        .collect();
    v.extend(extra);
    v.sort();
    v.dedup();
    v
}

fn assert_clean(what: &str, bytes: &[u8]) {
    for raw in raw_values() {
        assert!(
            !contains(bytes, &raw),
            "{raw:?} appears in {what}:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

struct Setup {
    shadow: prodlike_shadow::RunningShadow,
    staging_seen: Log,
    _services: Vec<prodlike_testkit::services::RunningService>,
    capture: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn start_without_mask_config() -> Setup {
    start_with(|_| {}).await
}

async fn start_with(adjust: impl FnOnce(&mut prodlike_shadow::ShadowConfig)) -> Setup {
    let prod_seen = Log::default();
    let staging_seen = Log::default();
    let prod = serve(pii_api(PROD_PEOPLE, 10, prod_seen)).await.unwrap();
    let staging = serve(pii_api(STAGING_PEOPLE, 12, staging_seen.clone()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("traffic.jsonl");
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.capture.path = Some(capture.clone());
    cfg.routes = vec![RouteRule {
        pattern: "/**".into(),
        mirror: true,
        methods: Some(vec!["GET".into(), "POST".into()]),
        sample: None,
    }];
    // No [mask] section; and no key in the environment: a variable that is surely unset.
    cfg.mask.key_env = "PRODLIKE_TEST_KEY_THAT_IS_NEVER_SET".into();
    cfg.compare.headers = vec!["x-customer-email".into()];
    // Every copy must reach staging, however busy the machine: generous timeouts (this test
    // counts copies; it times nothing).
    cfg.mirror.timeout = std::time::Duration::from_secs(20);
    cfg.mirror.connect_timeout = std::time::Duration::from_secs(10);
    adjust(&mut cfg);
    let shadow = start(cfg).await;
    Setup {
        shadow,
        staging_seen,
        _services: vec![prod, staging],
        capture,
        _dir: dir,
    }
}

async fn send_personal_traffic(addr: std::net::SocketAddr) {
    let c = client();
    let cookie = format!("session={CLIENT_COOKIE}; theme=dark");
    let bearer = format!("Bearer {CLIENT_JWT}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("cookie", cookie.as_str()),
        ("x-user-email", CLIENT_EMAIL),
        ("x-api-key", CLIENT_TOKEN),
    ];
    let query = format!(
        "email={}&token={CLIENT_TOKEN}&page=2",
        CLIENT_EMAIL.replace('@', "%40")
    );
    for _ in 0..3 {
        let r = send(
            &c,
            Method::GET,
            &format!("http://{addr}/api/customers/{PATH_EMAIL}?{query}"),
            &headers,
            Bytes::new(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        // Production's answer to the client is untouched.
        assert!(contains(&r.body, PROD_PEOPLE.email));
    }
    let body = json!({
        "user": {"email": CLIENT_EMAIL, "password": CLIENT_PASSWORD, "mobile": CLIENT_PHONE},
        "payment": {"card": CLIENT_CARD},
        "items": [1, 2],
    });
    send(
        &c,
        Method::POST,
        &format!("http://{addr}/api/orders"),
        &[("content-type", "application/json")],
        Bytes::from(body.to_string()),
    )
    .await;
    let form = format!(
        "contact={}&phone={}&note=hello",
        CLIENT_EMAIL.replace('@', "%40"),
        CLIENT_PHONE.replace(' ', "+").replace('+', "%2B")
    );
    send(
        &c,
        Method::POST,
        &format!("http://{addr}/api/form"),
        &[("content-type", "application/x-www-form-urlencoded")],
        Bytes::from(form),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// Long: one request per detector kind, then every place a raw value must not appear.
#[allow(clippy::too_many_lines)]
async fn without_mask_config_nothing_personal_leaves_production() {
    let s = start_without_mask_config().await;
    send_personal_traffic(s.shadow.addr).await;
    let admin = s.shadow.admin_addr.unwrap();
    // Copies are compared on the mirror's runtime: wait (polling a condition) until the three
    // copies of the customer request have been, so that what is read below is complete.
    let mut divergence = get(&client(), &format!("http://{admin}/api/divergence")).await;
    for _ in 0..1000 {
        let compared = json(&divergence.body)["routes"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["route"] == "/api/customers/{email}"))
            .and_then(|r| r["compared"].as_u64())
            .unwrap_or(0);
        if compared >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        divergence = get(&client(), &format!("http://{admin}/api/divergence")).await;
    }
    let metrics = get(&client(), &format!("http://{admin}/metrics")).await;
    let dashboard_url = format!("http://{admin}/");
    let dom = match Chromium::find() {
        Some(chromium) => Some(
            tokio::task::spawn_blocking(move || chromium.dump_dom(&dashboard_url, 5000))
                .await
                .unwrap()
                .unwrap(),
        ),
        None => None,
    };
    let report = s.shadow.shutdown().await;

    // Staging got every copy, with nothing personal in it.
    let staged = s.staging_seen.lock().unwrap().clone();
    assert_eq!(staged.len(), 5, "{report:?}");
    for r in &staged {
        let mut all = Vec::new();
        all.extend_from_slice(r.uri.as_bytes());
        for (k, v) in &r.headers {
            all.extend_from_slice(k.as_str().as_bytes());
            all.extend_from_slice(b": ");
            all.extend_from_slice(v.as_bytes());
            all.push(b'\n');
        }
        all.extend_from_slice(&r.body);
        assert_clean(
            &format!("what staging received ({} {})", r.method, r.uri),
            &all,
        );
    }
    // What is not personal survives: the page number, the form note, the JSON structure.
    // (Copies reach staging in whatever order the mirror's workers send them.)
    assert!(
        staged
            .iter()
            .any(|r| r.uri.contains("page=2") && r.uri.starts_with("/api/customers/")),
        "{:?}",
        staged.iter().map(|r| &r.uri).collect::<Vec<_>>()
    );
    assert!(staged.iter().any(|r| contains(&r.body, "note=hello")));
    let order: Value = staged
        .iter()
        .find(|r| r.uri == "/api/orders")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .unwrap();
    assert_eq!(order["items"], json!([1, 2]));
    assert!(order["user"]["email"].as_str().unwrap().contains('@'));
    // Credentials are dropped by default (mirror.drop_headers); other secret headers are masked.
    assert!(customers(&staged).headers.get("authorization").is_none());
    let api_key = customers(&staged)
        .headers
        .get("x-api-key")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(!api_key.is_empty() && api_key != CLIENT_TOKEN);

    // The capture says what it is, and holds nothing personal.
    let text = std::fs::read(&s.capture).unwrap();
    assert_clean("the capture", &text);
    let mut lines = text.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    let header: Value = serde_json::from_slice(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert_eq!(header["masked"], true);
    assert_eq!(header["mask"]["detect"], true);
    assert_eq!(header["mask"]["key_source"], "ephemeral");
    assert_eq!(
        header["mask"]["key_fingerprint"].as_str().unwrap().len(),
        16
    );
    let records: Vec<Value> = lines.map(|l| serde_json::from_slice(l).unwrap()).collect();
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|r| r["masked"] == true));
    // Non-personal response values are still readable in the capture.
    let first_prod: Value =
        serde_json::from_str(records[0]["production"]["body"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(first_prod["genre"]["Name"], "Rock");
    assert_eq!(
        first_prod["album"]["Title"],
        "For Those About To Rock We Salute You"
    );
    assert_eq!(first_prod["price"], 10);

    // The admin API and metrics, and the dashboard as a browser renders it.
    assert_clean("/api/divergence", &divergence.body);
    assert_clean("/metrics", &metrics.body);
    if let Some(dom) = dom {
        assert!(dom.contains(r#"data-loaded="true""#), "{dom}");
        assert_clean("the dashboard", dom.as_bytes());
    }
    // The divergence is still found (the price), with masked values around it.
    let api = json(&divergence.body);
    let route = api["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == "/api/customers/{email}")
        .unwrap_or_else(|| panic!("{api}"));
    assert_eq!(route["mismatched"], 3, "{route}");
    let diffs = route["examples"][0]["body"].as_array().unwrap();
    assert!(diffs.iter().any(|d| d["path"] == "/price"), "{diffs:?}");
    // Masked values are counted per route and detector.
    let m = String::from_utf8_lossy(&metrics.body);
    for detector in [
        "email",
        "token",
        "secret",
        "card",
        "phone",
        "national_id",
        "ip",
        "person_name",
    ] {
        assert!(
            m.contains(&format!("detector=\"{detector}\"")),
            "no masked_values for {detector}:\n{m}"
        );
    }
}

fn capture_lines(path: &std::path::Path) -> (Value, Vec<Value>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// `keep` keeps exactly what it names: the named parameter, header and JSON path reach staging
/// and the capture as they are, everything else personal is still masked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_rules_keep_exactly_what_they_name() {
    let default_digest = {
        let s = start_without_mask_config().await;
        s.shadow.shutdown().await;
        capture_lines(&s.capture).0["mask"]["rules_digest"].clone()
    };
    let s = start_with(|cfg| {
        cfg.mask.keep = vec![
            "query:email".into(),
            "header:x-user-email".into(),
            "/customer/name".into(),
        ];
    })
    .await;
    send_personal_traffic(s.shadow.addr).await;
    s.shadow.shutdown().await;
    let staged = s.staging_seen.lock().unwrap().clone();
    let first = customers(&staged);
    let kept_query = format!("email={}", CLIENT_EMAIL.replace('@', "%40"));
    assert!(first.uri.contains(&kept_query), "{}", first.uri);
    assert!(!first.uri.contains(CLIENT_TOKEN), "{}", first.uri);
    assert!(!first.uri.contains(PATH_EMAIL), "{}", first.uri);
    assert_eq!(first.headers["x-user-email"], CLIENT_EMAIL);
    assert_ne!(first.headers["x-api-key"], CLIENT_TOKEN);
    // A kept query parameter is kept in the query only: the same email in a JSON body is masked.
    let order = staged.iter().find(|r| r.uri == "/api/orders").unwrap();
    assert!(!contains(&order.body, CLIENT_EMAIL));

    let (header, records) = capture_lines(&s.capture);
    assert_eq!(header["masked"], true);
    assert_ne!(header["mask"]["rules_digest"], default_digest);
    assert!(records.iter().all(|r| r["masked"] == true));
    let prod: Value =
        serde_json::from_str(records[0]["production"]["body"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(prod["customer"]["name"], PROD_PEOPLE.name);
    assert_ne!(prod["customer"]["email"], PROD_PEOPLE.email);
    assert_ne!(prod["customer"]["phone"], PROD_PEOPLE.phone);
}

/// With detection off and no rules, nothing is masked, and the capture says so in its header
/// and in every record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detection_off_is_recorded_as_unmasked() {
    let s = start_with(|cfg| cfg.mask.detect = false).await;
    send_personal_traffic(s.shadow.addr).await;
    s.shadow.shutdown().await;
    let staged = s.staging_seen.lock().unwrap().clone();
    assert!(
        customers(&staged).uri.contains(CLIENT_TOKEN),
        "nothing is masked: {}",
        customers(&staged).uri
    );
    let (header, records) = capture_lines(&s.capture);
    assert_eq!(header["masked"], false);
    assert_eq!(header["mask"]["detect"], false);
    assert!(header["mask"].get("key_fingerprint").is_none());
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|r| r["masked"] == false));
}

/// A body that claims a content coding but does not decode cannot be inspected: the copy is
/// not mirrored, and it is counted as `unmaskable_body`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_compressed_request_body_is_not_mirrored() {
    let s = start_without_mask_config().await;
    let c = client();
    send(
        &c,
        Method::POST,
        &format!("http://{}/api/orders", s.shadow.addr),
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
        Bytes::from_static(b"\x1f\x8b\x08\x00 not really gzip"),
    )
    .await;
    let report = s.shadow.shutdown().await;
    assert!(s.staging_seen.lock().unwrap().is_empty());
    assert_eq!(
        report.totals.dropped.get("unmaskable_body"),
        Some(&1),
        "{report:?}"
    );
}
