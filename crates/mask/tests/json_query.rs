//! Property tests for the JSON and query-string maskers: masked values never appear in the
//! output, everything else is unchanged, and arbitrary input never panics.
#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure

use prodlike_mask::{
    BodyError, BodyMask, JsonMasker, JsonRule, MaskKey, Masker, QueryMasker, QueryRule, Transform,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn masker() -> Masker {
    Masker::new(MaskKey::from_secret(b"json and query test secret").unwrap())
}

fn tr(name: &str) -> Transform {
    Transform::from_name(name).unwrap()
}

/// Arbitrary JSON with string, number, bool and null leaves; keys from a small set so rules hit.
fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "id", "name", "items", "data", "note", "qty", "user", "tags",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|i| json!(i)),
        "[a-z0-9 ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// Puts `secret` under key `key` at a random object inside `doc` (or wraps the doc).
fn plant(doc: &mut Value, path: &[usize], key: &str, secret: Value) {
    match doc {
        Value::Object(map) if !path.is_empty() && !map.is_empty() => {
            let i = path[0] % map.len();
            let k = map.keys().nth(i).cloned().unwrap();
            plant(map.get_mut(&k).unwrap(), &path[1..], key, secret);
        }
        Value::Array(items) if !path.is_empty() && !items.is_empty() => {
            let i = path[0] % items.len();
            plant(&mut items[i], &path[1..], key, secret);
        }
        Value::Object(map) => {
            map.insert(key.to_string(), secret);
        }
        other => {
            let inner = other.take();
            *other = json!({ "wrapped": inner, key: secret });
        }
    }
}

/// Compares two documents leaf by leaf, skipping members named in `masked_keys`.
fn same_except(a: &Value, b: &Value, masked_keys: &[&str]) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    masked_keys.iter().any(|m| m.eq_ignore_ascii_case(k))
                        || y.get(k).is_some_and(|w| same_except(v, w, masked_keys))
                })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_except(v, w, masked_keys))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn masked_json_values_never_appear_and_the_rest_is_unchanged(
        doc in arb_json(),
        path in prop::collection::vec(any::<usize>(), 0..4),
        local in "[a-z]{6,10}",
        digits in prop::collection::vec(0u8..10, 15),
        key_case in prop::sample::select(vec!["Email", "email", "EMAIL"]),
    ) {
        let m = masker();
        let jm = JsonMasker::new(&m, &[
            JsonRule::key("email", tr("email")),
            JsonRule::path("/**/card", tr("card")),
        ]).unwrap();
        let email = format!("{local}@secret-domain.org");
        let mut card: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        card.insert(0, '4');
        let mut planted = doc.clone();
        plant(&mut planted, &path, key_case, json!(email));
        plant(&mut planted, &path[..path.len().saturating_sub(1)], "card", json!(card));
        let original = planted.clone();
        let mut masked = planted;
        let stats = jm.mask_value(&mut masked);
        // One rule can swallow the other when one planted value ends up inside the other.
        prop_assert!(stats.masked >= 1);
        let text = serde_json::to_string(&masked).unwrap();
        prop_assert!(!text.contains(&email));
        prop_assert!(!text.contains(&local));
        prop_assert!(!text.contains(&card));
        prop_assert!(same_except(&original, &masked, &["email", "card"]));

        // The raw-body helper agrees with the in-place one.
        let body = serde_json::to_vec(&original).unwrap();
        match jm.mask_body(&body).unwrap() {
            BodyMask::Masked(out) => prop_assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), masked),
            BodyMask::Unchanged => prop_assert!(false, "planted values were not masked"),
        }
    }

    #[test]
    fn documents_without_matches_are_left_alone(doc in arb_json()) {
        let jm = JsonMasker::new(&masker(), &[JsonRule::key("password", tr("hash"))]).unwrap();
        let mut v = doc.clone();
        prop_assert_eq!(jm.mask_value(&mut v).masked, 0);
        prop_assert_eq!(&v, &doc);
        prop_assert_eq!(jm.mask_body(&serde_json::to_vec(&doc).unwrap()).unwrap(), BodyMask::Unchanged);
    }

    #[test]
    fn mask_body_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let jm = JsonMasker::new(&masker(), &[JsonRule::key("email", tr("email"))]).unwrap();
        match jm.mask_body(&bytes) {
            Ok(_) => prop_assert!(serde_json::from_slice::<Value>(&bytes).is_ok() || bytes.iter().all(u8::is_ascii_whitespace)),
            Err(BodyError::NotJson { .. }) => prop_assert!(serde_json::from_slice::<Value>(&bytes).is_err()),
        }
    }

    #[test]
    fn query_masking_hides_listed_params_and_keeps_others_byte_identical(
        others in prop::collection::vec(("[a-z]{1,6}", "[A-Za-z0-9%+._~-]{0,12}"), 0..6),
        email_local in "[a-z]{6,10}",
        positions in prop::collection::vec(any::<usize>(), 1..3),
        encode_at in any::<bool>(),
    ) {
        let qm = QueryMasker::new(&masker(), &[QueryRule::new("email", tr("email"))]).unwrap();
        let others: Vec<(String, String)> = others.into_iter().filter(|(k, _)| k != "email").collect();
        let email = format!("{email_local}@private.example");
        let encoded = if encode_at { email.replace('@', "%40") } else { email.clone() };
        let mut pairs: Vec<String> = others.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for p in &positions {
            let at = p % (pairs.len() + 1);
            pairs.insert(at, format!("EMAIL={encoded}"));
        }
        let query = pairs.join("&");
        let (out, stats) = qm.mask_with_stats(&query);
        prop_assert_eq!(stats.masked, positions.len());
        prop_assert!(!out.contains(&email_local));
        let out_pairs: Vec<&str> = out.split('&').collect();
        prop_assert_eq!(out_pairs.len(), pairs.len());
        for (before, after) in pairs.iter().zip(&out_pairs) {
            if before.starts_with("EMAIL=") {
                prop_assert!(after.starts_with("EMAIL="));
                prop_assert_ne!(before.as_str(), *after);
            } else {
                prop_assert_eq!(before.as_str(), *after);
            }
        }
    }

    #[test]
    fn query_masking_never_panics_and_is_identity_without_matches(q in "\\PC{0,60}") {
        let qm = QueryMasker::new(&masker(), &[QueryRule::new("zzzz-not-present", tr("hash"))]).unwrap();
        let out = qm.mask(&q);
        prop_assert_eq!(out.as_ref(), q.as_str());
        let qm2 = QueryMasker::new(&masker(), &[QueryRule::new("a", tr("ip"))]).unwrap();
        let _ = qm2.mask(&q);
    }
}

#[test]
fn numbers_booleans_and_containers_are_masked_sensibly() {
    let m = masker();
    let jm = JsonMasker::new(
        &m,
        &[
            JsonRule::key("account", tr("format_preserving")),
            JsonRule::key("salary", Transform::Noise(Default::default())),
            JsonRule::key("born", tr("date_noise")),
            JsonRule::key("address", tr("street_address")),
            JsonRule::key("ip", tr("ip")),
            JsonRule::path("/flags/vip", tr("hash")),
        ],
    )
    .unwrap();
    let mut doc = json!({
        "account": 12345678,
        "salary": 50000.5,
        "born": "1990-05-17",
        "address": {"line1": "1 Main St", "zip": "90210"},
        "ip": "not an ip",
        "flags": {"vip": true},
        "untouched": 7
    });
    let stats = jm.mask_value(&mut doc);
    assert_eq!(stats.masked, 6);
    assert_eq!(stats.nulled, 1, "the non-IP string is nulled, not leaked");
    let acct = doc["account"].as_i64().unwrap();
    assert!((10_000_000..100_000_000).contains(&acct) && acct != 12_345_678);
    let sal = doc["salary"].as_f64().unwrap();
    assert!((45_000.0..=55_000.0).contains(&sal) && sal != 50000.5);
    assert_ne!(doc["born"], "1990-05-17");
    assert!(doc["born"].as_str().unwrap().starts_with("19"));
    assert_ne!(doc["address"]["line1"], "1 Main St");
    assert_ne!(doc["address"]["zip"], "90210");
    assert_eq!(doc["ip"], Value::Null);
    assert!(doc["flags"]["vip"].is_boolean());
    assert_eq!(doc["untouched"], 7);
}

#[test]
fn first_matching_rule_wins_and_array_globs_match_indices() {
    let m = masker();
    let jm = JsonMasker::new(
        &m,
        &[
            JsonRule::path("/users/1/email", Transform::Null),
            JsonRule::path("/users/*/email", tr("keep")),
        ],
    )
    .unwrap();
    let mut doc = json!({"users": [{"email": "a@x.io"}, {"email": "b@x.io"}]});
    jm.mask_value(&mut doc);
    assert_eq!(
        doc,
        json!({"users": [{"email": "a@x.io"}, {"email": null}]})
    );
}

#[test]
fn bad_rules_name_the_field() {
    let m = masker();
    let err = JsonMasker::new(
        &m,
        &[
            JsonRule::key("email", tr("email")),
            JsonRule::path("users/*", tr("hash")),
        ],
    )
    .unwrap_err();
    assert_eq!(err.field, "[1].path");
    let both = JsonRule {
        key: Some("a".into()),
        path: Some("/a".into()),
        transform: tr("hash"),
    };
    assert_eq!(JsonMasker::new(&m, &[both]).unwrap_err().field, "[0].path");
    let shuffle = QueryRule::new("q", tr("shuffle"));
    assert_eq!(
        QueryMasker::new(&m, &[shuffle]).unwrap_err().field,
        "[0].transform"
    );
}

#[test]
fn query_null_empties_value_and_keeps_leading_question_mark() {
    let qm = QueryMasker::new(
        &masker(),
        &[
            QueryRule::new("token", Transform::Null),
            QueryRule::new("q", tr("hash")),
        ],
    )
    .unwrap();
    let out = qm.mask("?token=abc123&page=2&q=hello+world&flag");
    assert!(out.starts_with("?token=&page=2&q="), "{out}");
    assert!(out.ends_with("&flag"));
    assert!(!out.contains("hello"));
}
