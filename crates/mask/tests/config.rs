//! Transforms and HTTP rules as they appear in TOML files.
#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure

use prodlike_mask::{
    Alphabet, HashEncoding, HttpMaskRules, Locale, TRANSFORM_NAMES, Transform, ValueKind,
};

#[derive(Debug, serde::Deserialize)]
struct Columns {
    columns: std::collections::BTreeMap<String, Transform>,
}

fn parse(text: &str) -> Result<Columns, toml::de::Error> {
    toml::from_str(text)
}

#[test]
fn bare_names_and_tables_both_parse() {
    let c = parse(
        r#"
        [columns]
        email = "email"
        ssn = { type = "format_preserving", alphabet = "digits", keep_suffix = 4 }
        token = { type = "hash", encoding = "base32", length = 26 }
        name = { type = "name", locale = "fr_FR" }
        price = { type = "noise", percent = 5 }
        plan = { type = "constant", value = "basic" }
        "#,
    )
    .unwrap();
    assert_eq!(c.columns["email"], Transform::from_name("email").unwrap());
    match &c.columns["ssn"] {
        Transform::FormatPreserving(o) => {
            assert_eq!(o.alphabet, Alphabet::Digits);
            assert_eq!(o.keep_suffix, 4);
        }
        other => panic!("{other:?}"),
    }
    match &c.columns["token"] {
        Transform::Hash(o) => assert_eq!((o.encoding, o.length), (HashEncoding::Base32, 26)),
        other => panic!("{other:?}"),
    }
    match &c.columns["name"] {
        Transform::Name(o) => assert_eq!(o.locale, Locale::FrFr),
        other => panic!("{other:?}"),
    }
    for t in c.columns.values() {
        t.validate().unwrap();
    }
}

#[test]
fn every_transform_name_parses_or_explains_what_it_needs() {
    for name in TRANSFORM_NAMES {
        match Transform::from_name(name) {
            Ok(t) => {
                assert_eq!(t.name(), *name);
                t.validate().unwrap();
                // Serialising and reading back gives the same transform.
                let text = toml::to_string(&Columns1 { t: t.clone() }).unwrap();
                let back: Columns1 = toml::from_str(&text).unwrap();
                assert_eq!(back.t, t, "{text}");
            }
            Err(e) => {
                assert_eq!(*name, "constant");
                assert_eq!(e.field, "value");
            }
        }
    }
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct Columns1 {
    t: Transform,
}

#[test]
fn unknown_names_and_fields_are_rejected_with_the_culprit() {
    let err = parse("[columns]\na = \"emial\"").unwrap_err().to_string();
    assert!(err.contains("emial") && err.contains("email"), "{err}");
    let err = parse("[columns]\na = { type = \"hash\", lenght = 3 }")
        .unwrap_err()
        .to_string();
    assert!(err.contains("lenght"), "{err}");
    let err = parse("[columns]\na = { type = \"nope\" }")
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
    let err = parse("[columns]\na = { type = \"name\", locale = \"xx\" }")
        .unwrap_err()
        .to_string();
    assert!(err.contains("xx"), "{err}");
}

#[test]
fn validate_names_the_bad_option_with_its_path() {
    let cases = [
        (r#"{ type = "hash", length = 0 }"#, "length"),
        (
            r#"{ type = "hash", encoding = "base32", length = 60 }"#,
            "length",
        ),
        (r#"{ type = "noise", percent = 0 }"#, "percent"),
        (r#"{ type = "noise", percent = 150 }"#, "percent"),
        (r#"{ type = "date_noise", days = 0 }"#, "days"),
        (
            r#"{ type = "email", domains = ["ok.com", "not a domain"] }"#,
            "domains[1]",
        ),
        (
            r#"{ type = "email", keep_domain = true, domains = ["a.com"] }"#,
            "domains",
        ),
        (r#"{ type = "format_preserving", luhn = true }"#, "luhn"),
        (r#"{ type = "constant", value = [1, 2] }"#, "value"),
        (r#"{ type = "shuffle", block_rows = 1 }"#, "block_rows"),
    ];
    for (spec, field) in cases {
        let t: Columns1 = toml::from_str(&format!("t = {spec}")).unwrap();
        let err = t.t.validate().unwrap_err().at("tables.users.columns.x");
        assert_eq!(
            err.field,
            format!("tables.users.columns.x.{field}"),
            "{spec}"
        );
        assert!(err.to_string().starts_with("tables.users.columns.x."));
    }
}

#[test]
fn kinds_gate_type_incompatible_masks() {
    let email = Transform::from_name("email").unwrap();
    assert!(email.accepts(ValueKind::Text));
    let err = email.check_kind(ValueKind::Integer).unwrap_err();
    assert!(err.message.contains("email") && err.message.contains("Integer"));
    assert!(
        Transform::from_name("date_noise")
            .unwrap()
            .accepts(ValueKind::Timestamp)
    );
    assert!(
        !Transform::from_name("date_noise")
            .unwrap()
            .accepts(ValueKind::Bool)
    );
    assert!(
        Transform::from_name("format_preserving")
            .unwrap()
            .accepts(ValueKind::Integer)
    );
    assert!(
        Transform::from_name("keep")
            .unwrap()
            .accepts(ValueKind::Bytes)
    );
}

#[test]
fn http_rules_parse_validate_and_compile() {
    let rules: HttpMaskRules = toml::from_str(
        r#"
        [[json]]
        key = "email"
        transform = "email"
        [[json]]
        path = "/payment/**/number"
        transform = { type = "card", keep_bin = true }
        [[query]]
        param = "session"
        transform = { type = "hash", length = 24 }
        "#,
    )
    .unwrap();
    rules.validate().unwrap();
    let bad: HttpMaskRules = toml::from_str(
        r#"
        [[query]]
        param = "session"
        transform = { type = "hash", length = 99 }
        "#,
    )
    .unwrap();
    assert_eq!(
        bad.validate().unwrap_err().at("mask").field,
        "mask.query[0].transform.length"
    );
    let unknown =
        toml::from_str::<HttpMaskRules>("[[json]]\nkey = \"a\"\ntransform = \"hash\"\nextra = 1");
    assert!(unknown.unwrap_err().to_string().contains("extra"));
}
