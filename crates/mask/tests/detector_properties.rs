//! Property and fuzz tests for the PII detectors (issue 10, "Safety first").
//!
//! - Per detector, generated valid values are detected: by `classify_field` under a neutral key
//!   and under the keys that name them, as a span of prose by `find_spans`, and masked by
//!   `HttpMasker` in text, JSON, query strings and headers (the raw value never comes out).
//! - Near misses are not: Luhn-failing numbers, ids under id keys, versions, dates, prices,
//!   product and track names under a bare `Name`, UUIDs, hashes, never-issued SSNs, and settings
//!   under secret-sounding keys.
//! - `detection_rates` measures both over fixed seeds and prints the table:
//!   `cargo test -p prodlike-mask --test detector_properties -- detection_rates --nocapture`.
//! - Arbitrary strings and bytes never panic a detector or a masker; spans are ordered, disjoint
//!   and on char boundaries; masking keeps a JSON document's shape.
//! - One value gets one pseudonym in JSON, query, header and text, never equal to itself.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure here is a test failure

#[path = "detectors/corpus.rs"]
mod corpus;
#[path = "detectors/generators.rs"]
mod generators;

use std::sync::OnceLock;
use std::time::Instant;

use generators::*;
use prodlike_mask::detect::{
    Detector, KeyClass, NameKey, PiiKind, Scalar, classify_field, classify_key, classify_value,
    detect_name, find_spans, is_person_name,
};
use prodlike_mask::{HttpMaskRules, HttpMasker, MaskCounts, MaskKey, Masker};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

const SECRET: &[u8] = b"detector properties secret";

fn masker() -> &'static HttpMasker {
    static M: OnceLock<HttpMasker> = OnceLock::new();
    M.get_or_init(|| {
        HttpMaskRules::default()
            .compile(&Masker::new(MaskKey::from_secret(SECRET).unwrap()))
            .unwrap()
    })
}

/// A key that says nothing about its value.
const NEUTRAL: &str = "value";
/// A header that says nothing about its value.
const NEUTRAL_HEADER: &str = "X-Note";

fn prose(v: &str) -> String {
    format!("please contact {v} today")
}

fn percent_encode(s: &str) -> String {
    prodlike_common::percent::encode(s)
}

fn percent_decode(s: &str) -> String {
    prodlike_common::percent::decode(s, prodlike_common::percent::Plus::Space).into_owned()
}

/// Whether `masked` still shows `secret`: as a substring when the secret is long enough that a
/// pseudonym cannot contain it by chance, as the whole value otherwise.
fn shows(masked: &str, secret: &str) -> bool {
    if secret.chars().count() >= 8 {
        masked.contains(secret)
    } else {
        masked == secret
    }
}

/// A key written as a header name: HTTP compares header names without case, so `authToken` is
/// sent as `Auth-Token` (`x_api_key` as `x-api-key`).
fn header_name(key: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if c == '_' {
            out.push('-');
        } else {
            if c.is_uppercase() && prev_lower {
                out.push('-');
            }
            out.push(c);
        }
        prev_lower = c.is_lowercase();
    }
    out
}

fn detector_of(key: &str, value: &str) -> Option<Detector> {
    classify_field(classify_key(key), Scalar::Text(value), false).map(|h| h.detector)
}

/// Masks `value` under `key` in a JSON object, a query string and a header; the failures.
fn masked_everywhere(key: &str, header: &str, value: &str, secret: &str) -> Vec<String> {
    let m = masker();
    let mut failed = Vec::new();
    let mut c = MaskCounts::default();
    let mut doc = json!({ key: value });
    m.mask_json_value(&mut doc, &mut c);
    if doc[key].as_str().is_some_and(|s| shows(s, secret)) || c.detected.total() == 0 {
        failed.push(format!("json {key}: {}", doc[key]));
    }
    let q = format!("{}={}", percent_encode(key), percent_encode(value));
    let masked = m.mask_query_counted(&q, &mut c);
    let param = masked.split_once('=').map_or("", |(_, v)| v);
    if shows(&percent_decode(param), secret) {
        failed.push(format!("query {key}: {masked}"));
    }
    match m.mask_header(header, value, &mut c) {
        Some(h) if !shows(&h, secret) => {}
        other => failed.push(format!("header {header}: {other:?}")),
    }
    failed
}

/// A family of valid values and what must find them.
struct Valid {
    name: &'static str,
    /// The detector expected under a neutral key; `None` when only a key can tell.
    neutral: Option<Detector>,
    /// Keys that name the kind, and the detector expected under them.
    keys: &'static [&'static str],
    keyed: Detector,
    /// The kind of the span found in prose; `None` when free text cannot tell (a name, a secret
    /// known only by its key).
    span: Option<PiiKind>,
}

/// The checks a valid value fails (empty: detected everywhere). `secret` is the part that must
/// not come out: the value, or the credential of `Bearer <credential>`.
fn check_valid(f: &Valid, value: &str, secret: &str) -> Vec<String> {
    let mut failed = Vec::new();
    if let Some(d) = f.neutral {
        let got = detector_of(NEUTRAL, value);
        if got != Some(d) {
            failed.push(format!("classify_field({NEUTRAL}) = {got:?}"));
        }
        failed.extend(masked_everywhere(NEUTRAL, NEUTRAL_HEADER, value, secret));
    }
    for key in f.keys {
        let got = detector_of(key, value);
        if got != Some(f.keyed) {
            failed.push(format!("classify_field({key}) = {got:?}"));
        }
        failed.extend(masked_everywhere(key, &header_name(key), value, secret));
    }
    if let Some(kind) = f.span {
        let text = prose(value);
        let spans = find_spans(&text);
        if !spans
            .iter()
            .any(|s| &text[s.range.clone()] == secret && s.kind == kind)
        {
            let found: Vec<(&str, PiiKind)> = spans
                .iter()
                .map(|s| (&text[s.range.clone()], s.kind))
                .collect();
            failed.push(format!("find_spans = {found:?}"));
        }
        match masker().mask_text(&text, &mut MaskCounts::default()) {
            Some(t) if !t.contains(secret) && t.starts_with("please contact ") => {}
            other => failed.push(format!("mask_text = {other:?}")),
        }
    }
    failed
}

/// A family of ordinary values that resemble PII.
struct NearMiss {
    name: &'static str,
    /// Keys under which the value must be left alone.
    keys: &'static [&'static str],
    /// Whether the value must also be left alone inside prose.
    prose: bool,
    /// Whether the value must also be left alone as a path segment (a path segment has no key:
    /// ids are told by their shape).
    path: bool,
}

/// The checks a near miss fails (empty: left alone everywhere).
fn check_near_miss(f: &NearMiss, value: &str) -> Vec<String> {
    let m = masker();
    let mut failed = Vec::new();
    for &key in f.keys {
        if let Some(d) = detector_of(key, value) {
            failed.push(format!("classify_field({key}) = {d:?}"));
        }
        let mut docs = vec![json!({ key: value })];
        // A bare number is also sent as a JSON number.
        if let Ok(n) = value.parse::<u64>() {
            docs.push(json!({ key: n }));
        }
        for mut doc in docs {
            let before = doc.clone();
            let mut c = MaskCounts::default();
            m.mask_json_value(&mut doc, &mut c);
            if doc != before {
                failed.push(format!("json: {doc}"));
            }
        }
        let q = format!("{key}={}", percent_encode(value));
        let masked = m.mask_query_counted(&q, &mut MaskCounts::default());
        if masked != q {
            failed.push(format!("query: {masked}"));
        }
    }
    if f.path {
        let target = format!("/v1/items/{}/lines?page=2", percent_encode(value));
        let masked = m.mask_target(&target, &mut MaskCounts::default());
        if masked != target {
            failed.push(format!("path: {masked}"));
        }
    }
    if f.prose {
        let text = prose(value);
        let spans = find_spans(&text);
        if !spans.is_empty() {
            let found: Vec<(&str, PiiKind)> = spans
                .iter()
                .map(|s| (&text[s.range.clone()], s.kind))
                .collect();
            failed.push(format!("find_spans = {found:?}"));
        }
        if let Some(t) = m.mask_text(&text, &mut MaskCounts::default()) {
            failed.push(format!("mask_text = {t}"));
        }
    }
    failed
}

const EMAIL: Valid = Valid {
    name: "email",
    neutral: Some(Detector::Email),
    keys: &["email", "contactEmail"],
    keyed: Detector::Email,
    span: Some(PiiKind::Email),
};
const PHONE_E164: Valid = Valid {
    name: "phone, E.164",
    neutral: Some(Detector::Phone),
    keys: &["phone", "mobile"],
    keyed: Detector::Phone,
    span: Some(PiiKind::Phone),
};
const PHONE_NANP: Valid = Valid {
    name: "phone, (415) 555-0100",
    ..PHONE_E164
};
const CARD: Valid = Valid {
    name: "card, Luhn",
    neutral: Some(Detector::Card),
    keys: &["card_number", "credit_card"],
    keyed: Detector::Card,
    span: Some(PiiKind::CardNumber),
};
const SSN: Valid = Valid {
    name: "US SSN",
    neutral: Some(Detector::NationalId),
    keys: &["ssn", "social_security_number"],
    keyed: Detector::NationalId,
    span: Some(PiiKind::UsSsn),
};
const NINO: Valid = Valid {
    name: "UK NINO",
    neutral: Some(Detector::NationalId),
    keys: &["nino", "ni_number"],
    keyed: Detector::NationalId,
    span: Some(PiiKind::UkNino),
};
const IBAN: Valid = Valid {
    name: "IBAN, mod 97",
    neutral: Some(Detector::BankAccount),
    keys: &["iban", "bank_account"],
    keyed: Detector::BankAccount,
    span: Some(PiiKind::BankAccount),
};
const IPV4: Valid = Valid {
    name: "IPv4",
    neutral: Some(Detector::Ip),
    keys: &["ip", "client_ip", "remote_addr"],
    keyed: Detector::Ip,
    span: Some(PiiKind::IpAddress),
};
const IPV6: Valid = Valid {
    name: "IPv6",
    ..IPV4
};
const JWT: Valid = Valid {
    name: "JWT",
    neutral: Some(Detector::Token),
    keys: &["access_token", "Authorization"],
    keyed: Detector::Secret,
    span: Some(PiiKind::Secret),
};
const BEARER: Valid = Valid {
    name: "Bearer <credential>",
    ..JWT
};
const PREFIXED_KEY: Valid = Valid {
    name: "prefixed API key",
    keys: &["api_key", "X-Api-Key"],
    ..JWT
};
const SECRET_BY_KEY: Valid = Valid {
    name: "secret by key name",
    neutral: None,
    keys: &[
        "password",
        "api_key",
        "access_token",
        "client_secret",
        "X-Api-Key",
        "refresh_token",
        "passwd",
        "authToken",
        "private_key",
        "session_token",
        "csrf_token",
        "otp",
        "cvv",
    ],
    keyed: Detector::Secret,
    span: None,
};
const PERSON_BARE_KEY: Valid = Valid {
    name: "person name, bare name key",
    neutral: None,
    keys: &["name", "Name"],
    keyed: Detector::PersonName,
    span: None,
};
const PERSON_GLOBAL: Valid = Valid {
    name: "person name, outside word lists",
    ..PERSON_BARE_KEY
};
const PERSON_CERTAIN_KEY: Valid = Valid {
    name: "any text under first_name etc.",
    keys: &[
        "first_name",
        "last_name",
        "customer_name",
        "ContactName",
        "full_name",
        "surname",
    ],
    ..PERSON_BARE_KEY
};

const LUHN_FAILING: NearMiss = NearMiss {
    name: "16-19 digits failing Luhn",
    keys: &[NEUTRAL, "order_id", "reference"],
    prose: true,
    path: false,
};
const ID_UNDER_ID_KEY: NearMiss = NearMiss {
    name: "Luhn-valid id under an id key",
    keys: &[
        "order_id",
        "invoice_number",
        "orderId",
        "tracking_no",
        "sku",
        "transaction_ref",
    ],
    prose: false,
    path: true,
};
const VERSION: NearMiss = NearMiss {
    name: "version string",
    keys: &[NEUTRAL, "version", "app_version"],
    prose: true,
    path: true,
};
const DATE: NearMiss = NearMiss {
    name: "date or timestamp",
    keys: &[NEUTRAL, "created_at", "date"],
    prose: true,
    path: true,
};
const PRICES: NearMiss = NearMiss {
    name: "prices and quantities in prose",
    keys: &[NEUTRAL, "note"],
    prose: true,
    path: false,
};
const PRODUCT: NearMiss = NearMiss {
    name: "product, genre, album, track",
    keys: &["Name", "name"],
    prose: false,
    path: false,
};
const UUID: NearMiss = NearMiss {
    name: "UUID",
    keys: &[NEUTRAL, "id", "request_id"],
    prose: true,
    path: true,
};
const HEX_HASH: NearMiss = NearMiss {
    name: "hex digest",
    keys: &[NEUTRAL, "sha256", "checksum"],
    prose: true,
    path: true,
};
const UNISSUED_SSN: NearMiss = NearMiss {
    name: "SSN in a never-issued range",
    keys: &[NEUTRAL, "reference"],
    prose: true,
    path: false,
};

fn valid(f: &Valid, value: &str, secret: &str) -> Result<(), TestCaseError> {
    let failed = check_valid(f, value, secret);
    prop_assert!(
        failed.is_empty(),
        "{}: {value:?} missed: {failed:#?}",
        f.name
    );
    Ok(())
}

fn near_miss(f: &NearMiss, value: &str) -> Result<(), TestCaseError> {
    let failed = check_near_miss(f, value);
    prop_assert!(
        failed.is_empty(),
        "{}: {value:?} flagged: {failed:#?}",
        f.name
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn emails_are_detected(v in email()) { valid(&EMAIL, &v, &v)?; }

    #[test]
    fn e164_phones_are_detected(v in e164_phone()) { valid(&PHONE_E164, &v, &v)?; }

    #[test]
    fn nanp_phones_are_detected(v in nanp_phone()) { valid(&PHONE_NANP, &v, &v)?; }

    #[test]
    fn luhn_valid_cards_are_detected(v in card()) { valid(&CARD, &v, &v)?; }

    #[test]
    fn issued_ssns_are_detected(v in ssn()) { valid(&SSN, &v, &v)?; }

    #[test]
    fn ninos_are_detected(v in nino()) { valid(&NINO, &v, &v)?; }

    #[test]
    fn ibans_are_detected(v in iban()) { valid(&IBAN, &v, &v)?; }

    #[test]
    fn ipv4_addresses_are_detected(v in ipv4()) { valid(&IPV4, &v, &v)?; }

    #[test]
    fn ipv6_addresses_are_detected(v in ipv6()) { valid(&IPV6, &v, &v)?; }

    #[test]
    fn jwts_are_detected(v in jwt()) { valid(&JWT, &v, &v)?; }

    #[test]
    fn bearer_credentials_are_detected((v, cred) in bearer()) { valid(&BEARER, &v, &cred)?; }

    #[test]
    fn prefixed_api_keys_are_detected(v in prefixed_key()) { valid(&PREFIXED_KEY, &v, &v)?; }

    #[test]
    fn anything_under_a_secret_key_is_detected(v in any_secret_value()) {
        valid(&SECRET_BY_KEY, &v, &v)?;
    }

    #[test]
    fn person_names_under_a_bare_name_key_are_detected(v in person_name()) {
        valid(&PERSON_BARE_KEY, &v, &v)?;
    }

    #[test]
    fn any_text_under_a_person_key_is_detected(v in any_lettered_text()) {
        valid(&PERSON_CERTAIN_KEY, &v, &v)?;
    }

    #[test]
    fn luhn_failing_numbers_are_not_cards(v in luhn_failing_number()) {
        near_miss(&LUHN_FAILING, &v)?;
    }

    #[test]
    fn ids_under_id_keys_are_kept(v in luhn_valid_id()) { near_miss(&ID_UNDER_ID_KEY, &v)?; }

    #[test]
    fn versions_are_kept(v in version()) { near_miss(&VERSION, &v)?; }

    #[test]
    fn dates_and_timestamps_are_kept(v in date_or_timestamp()) { near_miss(&DATE, &v)?; }

    #[test]
    fn prices_and_quantities_are_kept(v in prices_in_prose()) { near_miss(&PRICES, &v)?; }

    #[test]
    fn uuids_are_kept(v in uuid()) { near_miss(&UUID, &v)?; }

    #[test]
    fn hex_digests_are_kept(v in hex_hash()) { near_miss(&HEX_HASH, &v)?; }

    #[test]
    fn unissued_ssns_are_kept(v in unissued_ssn()) { near_miss(&UNISSUED_SSN, &v)?; }

    #[test]
    fn settings_under_secret_sounding_keys_are_kept((key, v) in secretish_setting()) {
        let failed = check_setting(&key, &v);
        prop_assert!(failed.is_empty(), "{key}: {v} flagged: {failed:?}");
    }
}

/// A number or flag under a secret-sounding key (`token_ttl: 3600`): the failures.
fn check_setting(key: &str, v: &Value) -> Vec<String> {
    let text = v.to_string();
    let scalar = match v {
        Value::Number(_) => Scalar::Number(&text),
        _ => Scalar::Other,
    };
    let mut failed = Vec::new();
    if let Some(h) = classify_field(classify_key(key), scalar, false) {
        failed.push(format!("classify_field = {h:?}"));
    }
    let mut doc = json!({ key: v });
    masker().mask_json_value(&mut doc, &mut MaskCounts::default());
    if doc[key] != *v {
        failed.push(format!("json: {doc}"));
    }
    failed
}

/// `n` values of `s`, the same on every run.
fn sample<S: Strategy>(s: S, n: usize, seed: u8) -> Vec<S::Value> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    (0..n)
        .map(|_| s.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// Cases per family in the measured table.
const MEASURED: usize = 500;

fn pairs(values: Vec<String>) -> Vec<(String, String)> {
    values.into_iter().map(|v| (v.clone(), v)).collect()
}

/// One row of the table: how many of `cases` failed, and the first few failures.
fn tally(cases: usize, failures: Vec<(String, Vec<String>)>) -> (usize, Vec<String>) {
    let examples = failures
        .iter()
        .take(3)
        .map(|(v, f)| format!("{v:?}: {}", f.join("; ")))
        .collect();
    (cases - failures.len(), examples)
}

#[test]
// Long: the table of families and near misses the rates are measured over.
#[allow(clippy::too_many_lines)]
fn detection_rates() {
    let valid_families: Vec<(&Valid, Vec<(String, String)>)> = vec![
        (&EMAIL, pairs(sample(email(), MEASURED, 1))),
        (&PHONE_E164, pairs(sample(e164_phone(), MEASURED, 2))),
        (&PHONE_NANP, pairs(sample(nanp_phone(), MEASURED, 3))),
        (&CARD, pairs(sample(card(), MEASURED, 4))),
        (&SSN, pairs(sample(ssn(), MEASURED, 5))),
        (&NINO, pairs(sample(nino(), MEASURED, 6))),
        (&IBAN, pairs(sample(iban(), MEASURED, 7))),
        (&IPV4, pairs(sample(ipv4(), MEASURED, 8))),
        (&IPV6, pairs(sample(ipv6(), MEASURED, 9))),
        (&JWT, pairs(sample(jwt(), MEASURED, 10))),
        (&BEARER, sample(bearer(), MEASURED, 11)),
        (&PREFIXED_KEY, pairs(sample(prefixed_key(), MEASURED, 12))),
        (
            &SECRET_BY_KEY,
            pairs(sample(any_secret_value(), MEASURED, 13)),
        ),
        (&PERSON_BARE_KEY, pairs(sample(person_name(), MEASURED, 14))),
        (
            &PERSON_CERTAIN_KEY,
            pairs(sample(any_lettered_text(), MEASURED, 15)),
        ),
        (&PERSON_GLOBAL, pairs(global_names())),
    ];
    println!("\n{:<34} {:>6} {:>9}", "valid values", "cases", "detected");
    let mut short = Vec::new();
    for (f, values) in &valid_families {
        let failures: Vec<(String, Vec<String>)> = values
            .iter()
            .map(|(v, s)| (v.clone(), check_valid(f, v, s)))
            .filter(|(_, failed)| !failed.is_empty())
            .collect();
        let (ok, examples) = tally(values.len(), failures);
        let rate = 100.0 * ok as f64 / values.len() as f64;
        println!("{:<34} {:>6} {:>8.1}%", f.name, values.len(), rate);
        for e in &examples {
            println!("    missed {e}");
        }
        if ok < values.len() && f.name != PERSON_GLOBAL.name {
            short.push(f.name);
        }
    }

    // The word lists are European: names from elsewhere under a bare `name` are masked only in
    // a person's object (a sibling email, phone, address…), where every one of them is.
    let in_object = global_names()
        .iter()
        .filter(|v| check_name_in_person_object(v).is_empty())
        .count();
    println!(
        "{:<34} {:>6} {:>8.1}%",
        "same, in a person's object",
        global_names().len(),
        100.0 * in_object as f64 / global_names().len() as f64
    );
    if in_object < global_names().len() {
        short.push("person name in a person's object");
    }

    let near: Vec<(&NearMiss, Vec<String>)> = vec![
        (&LUHN_FAILING, sample(luhn_failing_number(), MEASURED, 21)),
        (&ID_UNDER_ID_KEY, sample(luhn_valid_id(), MEASURED, 22)),
        (&VERSION, sample(version(), MEASURED, 23)),
        (&DATE, sample(date_or_timestamp(), MEASURED, 24)),
        (&PRICES, sample(prices_in_prose(), MEASURED, 25)),
        (&UUID, sample(uuid(), MEASURED, 26)),
        (&HEX_HASH, sample(hex_hash(), MEASURED, 27)),
        (&UNISSUED_SSN, sample(unissued_ssn(), MEASURED, 28)),
        (
            &PRODUCT,
            corpus::NORTHWIND
                .iter()
                .chain(corpus::CHINOOK)
                .map(|s| s.to_string())
                .collect(),
        ),
    ];
    println!("\n{:<34} {:>6} {:>9}", "near misses", "cases", "flagged");
    let mut flagged_families = Vec::new();
    for (f, values) in &near {
        let failures: Vec<(String, Vec<String>)> = values
            .iter()
            .map(|v| (v.clone(), check_near_miss(f, v)))
            .filter(|(_, failed)| !failed.is_empty())
            .collect();
        let flagged: Vec<String> = failures.iter().map(|(v, _)| v.clone()).collect();
        let (ok, examples) = tally(values.len(), failures);
        let rate = 100.0 * (values.len() - ok) as f64 / values.len() as f64;
        println!("{:<34} {:>6} {:>8.1}%", f.name, values.len(), rate);
        for e in &examples {
            println!("    flagged {e}");
        }
        if f.name == PRODUCT.name {
            println!("    all flagged: {flagged:?}");
        }
        if ok < values.len() {
            flagged_families.push(f.name);
        }
    }
    let settings = sample(secretish_setting(), MEASURED, 29);
    let flagged = settings
        .iter()
        .filter(|(k, v)| !check_setting(k, v).is_empty())
        .count();
    println!(
        "{:<34} {:>6} {:>8.1}%",
        "settings under secret keys",
        settings.len(),
        100.0 * flagged as f64 / settings.len() as f64
    );
    assert!(short.is_empty(), "families not fully detected: {short:?}");
    assert!(
        flagged_families.is_empty() && flagged == 0,
        "near misses flagged: {flagged_families:?}, settings {flagged}"
    );
}

/// Every pairing of the global given names and surnames.
fn global_names() -> Vec<String> {
    corpus::GLOBAL_GIVEN_NAMES
        .iter()
        .flat_map(|g| {
            corpus::GLOBAL_SURNAMES
                .iter()
                .map(move |s| format!("{g} {s}"))
        })
        .collect()
}

/// A bare `name` in an object about a person (a sibling email): masked whatever the word lists
/// hold. The failures.
fn check_name_in_person_object(value: &str) -> Vec<String> {
    let mut doc = json!({ "name": value, "email": "someone@example.org", "plan": "gold" });
    masker().mask_json_value(&mut doc, &mut MaskCounts::default());
    if doc["name"].as_str().is_some_and(|s| shows(s, value)) {
        vec![format!("json: {doc}")]
    } else {
        Vec::new()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_name_in_a_person_object_is_masked(
        g in select(corpus::GLOBAL_GIVEN_NAMES),
        s in select(corpus::GLOBAL_SURNAMES),
    ) {
        let v = format!("{g} {s}");
        let failed = check_name_in_person_object(&v);
        prop_assert!(failed.is_empty(), "{v}: {failed:?}");
    }
}

/// Every key class, for feeding arbitrary values to `classify_field`.
fn key_classes() -> Vec<KeyClass> {
    let mut v = vec![
        KeyClass::Plain,
        KeyClass::Identifier,
        KeyClass::PersonName(PiiKind::Name, NameKey::Certain),
        KeyClass::PersonName(PiiKind::Name, NameKey::Ambiguous),
    ];
    v.extend(PiiKind::ALL.iter().map(|&k| KeyClass::Kind(k)));
    v
}

/// Pieces that steer the scanners into their branches: digits and separators, `@`, credential
/// prefixes, IBAN and NINO letters, colons, and multi-byte characters next to ASCII.
const FRAGMENTS: &[&str] = &[
    "4111",
    "1111",
    " ",
    "-",
    ".",
    "(",
    ")",
    "+",
    "@",
    "a",
    "x.io",
    "eyJ",
    "Bearer ",
    "GB82",
    "WEST",
    "AB",
    "12",
    "34 ",
    "C",
    ":",
    "::",
    "1",
    "0",
    "123",
    "45",
    "6789",
    "é",
    "€",
    "日本",
    "\u{1F600}",
    "/",
    "=",
    "_",
    "~",
    "ghp_",
    "AKIA",
    "sk_live_",
    "\n",
    "\t",
    "\"",
    "%",
    "%4",
    "?",
    "&",
    ";",
    "'",
    "ff",
    "2001:db8",
    "10.0.0.",
    "255",
    "+44",
    "(415) ",
    "555-",
    "0100",
];

/// Arbitrary text: any string, lossily decoded bytes, or a soup of [`FRAGMENTS`].
fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,120}",
        vec(any::<u8>(), 0..300).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        vec(select(FRAGMENTS), 0..60).prop_map(|f| f.concat()),
    ]
}

/// Checks that spans are inside the text, on char boundaries, non-empty, ordered and disjoint.
fn spans_are_well_formed(text: &str) -> Result<(), TestCaseError> {
    let spans = find_spans(text);
    let mut previous_end = 0;
    for s in &spans {
        prop_assert!(s.range.start < s.range.end, "empty span {s:?}");
        prop_assert!(s.range.end <= text.len(), "{s:?} past {}", text.len());
        prop_assert!(text.is_char_boundary(s.range.start) && text.is_char_boundary(s.range.end));
        prop_assert!(
            s.range.start >= previous_end,
            "overlap or disorder at {s:?}"
        );
        previous_end = s.range.end;
    }
    let masked = masker().mask_text(text, &mut MaskCounts::default());
    prop_assert_eq!(masked.is_some(), !spans.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn detectors_never_panic_on_arbitrary_text(s in arb_text(), key in arb_text()) {
        let _ = classify_value(&s);
        let _ = detect_name(&key);
        let _ = classify_key(&key);
        for class in key_classes() {
            for context in [false, true] {
                let _ = classify_field(class, Scalar::Text(&s), context);
            }
            let _ = classify_field(class, Scalar::Number(&s), false);
            let _ = classify_field(class, Scalar::Other, false);
        }
        for context in [false, true] {
            let _ = is_person_name(NameKey::Certain, &s, context);
            let _ = is_person_name(NameKey::Ambiguous, &s, context);
        }
        spans_are_well_formed(&s)?;
    }

    #[test]
    fn http_masking_never_panics_on_arbitrary_text(s in arb_text(), name in arb_text()) {
        let m = masker();
        let mut c = MaskCounts::default();
        let _ = m.mask_text(&s, &mut c);
        let _ = m.mask_header(&name, &s, &mut c);
        for header in ["cookie", "set-cookie", "referer", "authorization", "x-api-key"] {
            let _ = m.mask_header(header, &s, &mut c);
        }
        let _ = m.mask_target(&s, &mut c);
        let _ = m.mask_target(&format!("/{name}?{s}"), &mut c);
        let _ = m.mask_query_counted(&s, &mut c);
        let _ = m.mask_json_body(s.as_bytes());
    }

    #[test]
    fn json_bodies_never_panic(body in arb_json_bytes()) {
        let m = masker();
        let _ = m.mask_json_body(&body);
        let _ = m.mask_json_body_counted(&body, &mut MaskCounts::default());
    }

    #[test]
    fn masking_keeps_a_json_documents_shape_and_hides_planted_values(doc in arb_json()) {
        let mut masked = doc.clone();
        masker().mask_json_value(&mut masked, &mut MaskCounts::default());
        prop_assert!(same_shape(&doc, &masked), "{doc}\n{masked}");
        let text = masked.to_string();
        for planted in planted_values(&doc) {
            prop_assert!(!text.contains(&planted), "{planted} left in {text}");
        }
    }
}

/// JSON-ish bytes: arbitrary bytes, or JSON tokens in random order (valid documents now and
/// then, with PII-shaped strings, huge numbers, escapes and lone surrogates).
fn arb_json_bytes() -> impl Strategy<Value = Vec<u8>> {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"email\"",
        "\"name\"",
        "\"a@b.co\"",
        "\"Ann Smith\"",
        "\"4111 1111 1111 1111\"",
        "4111111111111111",
        "1e999",
        "-0",
        "0.5",
        "null",
        "true",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"é\"",
        " ",
        "\"order_id\"",
        "\"password\"",
        "\"x\"",
        "123456789012345678901234567890",
    ];
    prop_oneof![
        vec(any::<u8>(), 0..400),
        vec(select(TOKENS), 0..80).prop_map(|t| t.concat().into_bytes()),
    ]
}

/// Values planted in generated documents, detectable under any key: a key can only make a value
/// more personal, never less, except an id key over bare digits (not planted).
fn plantable() -> impl Strategy<Value = String> {
    prop_oneof![email(), ssn(), jwt(), iban(), prefixed_key()]
}

/// Nested objects and arrays with keys that name PII, ids, settings or nothing, and leaves that
/// are planted PII, arbitrary strings, numbers, booleans and nulls.
fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        select(
            &[
                "email",
                "name",
                "Name",
                "phone",
                "order_id",
                "password",
                "token_ttl",
                "note",
                "items",
                "customer",
                "first_name",
                "ip",
                "dob",
                "id",
                "card",
                "address",
                "city",
                "zip",
                "iban",
                "ssn",
                "username",
                "value",
            ][..]
        )
        .prop_map(str::to_owned),
        "\\PC{0,10}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,30}".prop_map(Value::String),
        plantable().prop_map(|v| Value::String(format!("{PLANT}{v}"))),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((key.clone(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Marks a planted string leaf (`PLANT` followed by the value), so that the test can find them.
const PLANT: &str = "\u{1}";

fn planted_values(doc: &Value) -> Vec<String> {
    match doc {
        Value::String(s) => s
            .strip_prefix(PLANT)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        Value::Array(a) => a.iter().flat_map(planted_values).collect(),
        Value::Object(o) => o.values().flat_map(planted_values).collect(),
        _ => Vec::new(),
    }
}

/// Same containers, same keys, same array lengths; scalars may change.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_shape(v, w))
        }
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => false,
        _ => true,
    }
}

/// The pseudonyms `value` gets in a JSON field, a query parameter, a header and free text, in
/// that order.
fn pseudonyms(m: &HttpMasker, key: &str, value: &str) -> Vec<Option<String>> {
    let mut c = MaskCounts::default();
    let mut doc = json!({ key: value });
    m.mask_json_value(&mut doc, &mut c);
    let in_json = doc[key].as_str().map(str::to_owned);
    let q = format!("{key}={}&page=2", percent_encode(value));
    let masked = m.mask_query_counted(&q, &mut c);
    let in_query = masked
        .strip_prefix(&format!("{key}="))
        .and_then(|r| r.strip_suffix("&page=2"))
        .map(percent_decode);
    let in_header = m.mask_header(&header_name(key), value, &mut c);
    let in_text = m
        .mask_text(&format!("write to {value} now"), &mut c)
        .and_then(|t| {
            t.strip_prefix("write to ")
                .and_then(|r| r.strip_suffix(" now"))
                .map(str::to_owned)
        });
    vec![in_json, in_query, in_header, in_text]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn one_email_gets_one_pseudonym_everywhere(e in email()) {
        // A second masker compiled from the same secret: pseudonyms depend on the key alone.
        let other = HttpMaskRules::default()
            .compile(&Masker::new(MaskKey::from_secret(SECRET).unwrap()))
            .unwrap();
        let mut all = pseudonyms(masker(), "email", &e);
        all.extend(pseudonyms(masker(), "contact", &e));
        all.extend(pseudonyms(&other, "customer_email", &e));
        let first = all[0].clone();
        prop_assert!(first.is_some(), "{e}: {all:?}");
        prop_assert!(all.iter().all(|p| *p == first), "{e}: {all:?}");
        prop_assert_ne!(first.as_deref(), Some(e.as_str()));
    }

    #[test]
    fn masked_free_form_values_never_equal_their_source(
        (key, v) in prop_oneof![
            email().prop_map(|v| ("email", v)),
            e164_phone().prop_map(|v| ("phone", v)),
            nanp_phone().prop_map(|v| ("phone", v)),
            person_name().prop_map(|v| ("name", v)),
            any_lettered_text().prop_map(|v| ("first_name", v)),
            ssn().prop_map(|v| ("ssn", v)),
            nino().prop_map(|v| ("nino", v)),
            card().prop_map(|v| ("card_number", v)),
            iban().prop_map(|v| ("iban", v)),
            "[A-Z0-9]{6,12}".prop_map(|v| ("passport_number", v)),
        ]
    ) {
        let mut doc = json!({ key: v });
        let mut c = MaskCounts::default();
        masker().mask_json_value(&mut doc, &mut c);
        prop_assert_eq!(c.detected.total(), 1, "{}", doc);
        prop_assert_ne!(doc[key].as_str(), Some(v.as_str()));
    }
}

/// Keys that name each kind of personal data.
const PII_KEYS: &[&str] = &[
    "email",
    "phone",
    "mobile",
    "card_number",
    "ssn",
    "nino",
    "passport_number",
    "iban",
    "ip",
    "dob",
    "password",
    "username",
    "address",
    "city",
    "zip",
    "first_name",
    "customer_name",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The key's class picks the transform, and a transform may not take every value (a
    /// phone's only changes digits): whatever the pairing, the value does not come out.
    #[test]
    fn no_value_survives_under_any_pii_key(
        key in select(PII_KEYS),
        v in prop_oneof![plantable(), person_name(), any_lettered_text(), e164_phone(), card()],
    ) {
        let mut doc = json!({ key: v });
        masker().mask_json_value(&mut doc, &mut MaskCounts::default());
        prop_assert!(
            !doc[key].as_str().is_some_and(|s| shows(s, &v)),
            "{key}: {v:?} -> {doc}"
        );
    }
}

/// 1 MiB (the scanned maximum) of `unit` repeated.
fn mebibyte_of(unit: &str) -> String {
    unit.repeat(prodlike_mask::detect::MAX_SCANNED_TEXT / unit.len())
}

/// 1 MiB of digits and spaces: groups of 1–6 digits from a fixed linear congruential sequence.
fn mebibyte_of_digits_and_spaces() -> String {
    let mut out = String::with_capacity(prodlike_mask::detect::MAX_SCANNED_TEXT);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    while out.len() + 8 < prodlike_mask::detect::MAX_SCANNED_TEXT {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let group = 1 + (x >> 61) as usize % 6;
        for k in 0..group {
            out.push(char::from(b'0' + ((x >> (8 * k + 3)) % 10) as u8));
        }
        out.push(' ');
    }
    out
}

/// The scanner bounds its windows, so a long text is scanned in time linear in its length. No
/// timing is asserted (the times are printed); each case must finish, and its spans be what the
/// text holds.
#[test]
fn long_texts_are_scanned_linearly() {
    let cases = [
        ("digits and spaces", mebibyte_of_digits_and_spaces()),
        ("a@ repeated", mebibyte_of("a@")),
        ("digits only", mebibyte_of("4")),
        ("one card repeated", mebibyte_of("4111 1111 1111 1111 ")),
        ("one email repeated", mebibyte_of("ann@x.io ")),
        ("dashed digits", mebibyte_of("12-")),
        ("IBAN letters", mebibyte_of("GB82 ")),
    ];
    for (name, text) in &cases {
        let started = Instant::now();
        let spans = find_spans(text);
        println!(
            "find_spans over 1 MiB of {name}: {} spans in {:?}",
            spans.len(),
            started.elapsed()
        );
        for w in spans.windows(2) {
            assert!(w[0].range.end <= w[1].range.start);
        }
        match *name {
            "a@ repeated" | "digits only" | "dashed digits" => {
                assert!(spans.is_empty(), "{name}: {:?}", &spans[..1]);
            }
            "one card repeated" => assert_eq!(spans.len(), text.len() / 20),
            "one email repeated" => assert_eq!(spans.len(), text.len() / 9),
            _ => assert!(spans.iter().all(|s| s.range.end <= text.len())),
        }
    }
}
