//! The text route of JSON masking ([`JsonMasker::mask_text`], one pass over the text) gives
//! byte for byte what the tree route gives (`serde_json::from_str`, `mask_value`, `to_string`)
//! on generated documents: any shape, key order, whitespace, escapes, unicode and numbers, with
//! rules by key and by path matching strings, numbers, booleans, objects and arrays.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure here is a test failure

use std::fmt::Write as _;

use prodlike_mask::{JsonMasker, JsonRule, MaskKey, Masker, Transform};
use proptest::prelude::*;

fn tree_route(j: &JsonMasker, text: &str) -> Option<String> {
    let mut doc: serde_json::Value = serde_json::from_str(text).ok()?;
    j.mask_value(&mut doc);
    Some(doc.to_string())
}

fn masker() -> JsonMasker {
    let m = Masker::new(MaskKey::from_secret(b"json text route test key").unwrap());
    let t = |s: &str| Transform::from_name(s).unwrap();
    JsonMasker::new(
        &m,
        &[
            JsonRule::path("/ip", t("ip")),
            JsonRule::path("/user/email", t("email")),
            JsonRule::path("/a/*/b", t("email")),
            JsonRule::path("/**/card", t("card")),
            JsonRule::key("phone", t("phone")),
            JsonRule::key("n", t("noise")),
            JsonRule::key("h", t("hash")),
            JsonRule::key("z", t("null")),
            JsonRule::key("k", t("keep")),
            JsonRule::path(
                "/c",
                Transform::Constant(prodlike_mask::ConstantOptions {
                    value: serde_json::json!("c-é\"\n"),
                }),
            ),
        ],
    )
    .unwrap()
}

/// Keys that rules match and keys they do not, in mixed case, with escapes and unicode.
const KEYS: &[&str] = &[
    "ip", "user", "email", "a", "b", "card", "phone", "PHONE", "n", "h", "z", "k", "c", "x", "",
    "é", "ключ", "a\"b", "tab\t", "Zeta", "aa", "ab",
];
const STRINGS: &[&str] = &[
    "10.1.2.3",
    "::1",
    "ann.smith42@example.com",
    "4111 1111 1111 1111",
    "+44 20 7946 0018",
    "plain text",
    "",
    "q\"uote \\ back/slash",
    "new\nline\ttab\u{1}\u{1f}\u{7f}",
    "é ü 😀 ключ",
    "not an ip",
];
const NUMBERS: &[&str] = &[
    "0",
    "7",
    "-0",
    "-12",
    "1.50",
    "1e5",
    "2.5E-3",
    "-0.0",
    "12345678901234567890",
    "9999999999999999999",
    "-9223372036854775808",
    "4111111111111111",
    "0.1",
    "1E+2",
];

#[derive(Debug, Clone)]
enum Doc {
    Str(usize, bool),
    Num(usize),
    Lit(usize),
    Arr(Vec<Doc>),
    Obj(Vec<(usize, Doc)>),
}

fn doc() -> impl Strategy<Value = Doc> {
    let leaf = prop_oneof![
        (0..STRINGS.len(), any::<bool>()).prop_map(|(i, e)| Doc::Str(i, e)),
        (0..NUMBERS.len()).prop_map(Doc::Num),
        (0..3usize).prop_map(Doc::Lit),
    ];
    leaf.prop_recursive(5, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Doc::Arr),
            prop::collection::vec((0..KEYS.len(), inner), 0..6).prop_map(Doc::Obj),
        ]
    })
}

/// Writes a string literal, escaping some characters that need no escape (`\/`, `\u00e9`,
/// surrogate pairs) when `fancy`.
fn lit(s: &str, fancy: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if fancy => out.push_str("\\/"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c if fancy && !c.is_ascii() => {
                let mut b = [0u16; 2];
                for u in c.encode_utf16(&mut b) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(d: &Doc, ws: &str, out: &mut String) {
    match d {
        Doc::Str(i, fancy) => lit(STRINGS[*i], *fancy, out),
        Doc::Num(i) => out.push_str(NUMBERS[*i]),
        Doc::Lit(i) => out.push_str(["true", "false", "null"][*i]),
        Doc::Arr(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    out.push_str(ws);
                }
                write(x, ws, out);
            }
            out.push(']');
        }
        Doc::Obj(members) => {
            out.push('{');
            out.push_str(ws);
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(ws);
                    out.push(',');
                }
                lit(KEYS[*k], i % 2 == 1, out);
                out.push_str(ws);
                out.push(':');
                out.push_str(ws);
                write(v, ws, out);
            }
            out.push_str(ws);
            out.push('}');
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn text_and_tree_routes_agree(d in doc(), ws in prop_oneof![Just(""), Just(" "), Just("\n\t "), Just("\r\n")]) {
        let j = masker();
        let mut text = String::new();
        write(&d, ws, &mut text);
        prop_assert_eq!(j.mask_text(&text), tree_route(&j, &text), "{}", text);
    }
}

#[test]
fn text_that_is_not_json_or_odd_agrees_too() {
    let j = masker();
    for text in [
        "",
        "   ",
        "not json",
        "{\"ip\": }",
        "{\"ip\": \"1.2.3.4\"} trailing",
        "  {\"ip\": \"1.2.3.4\"}  ",
        "{\"ip\": \"1.2.3.4\", \"ip\": \"10.0.0.1\"}",
        "{\"ip\": \"1.2.3.4\", \"bad\": \"\\ud800\"}",
        "{\"bad\": \"\\udc00\", \"ip\": \"1.2.3.4\"}",
        "{\"bad\": \"\\ud800\\u0041\"}",
        "{\"raw\": \"tab\there\"}",
        "[01]",
        "[1.]",
        "[-]",
        "[1e400]",
        "[.5]",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "[1,]",
        "\u{feff}{}",
        "tru",
        "nul",
        "\"\\x\"",
        "{\"phone\": 4155550100, \"card\": {\"card\": [4111111111111111, true, null]}}",
        "{\"user\": {\"email\": [\"a@b.c\", {\"x\": \"d@e.f\"}]}}",
        &"[".repeat(120),
        &format!("{}1{}", "[".repeat(99), "]".repeat(99)),
        &format!("{}1{}", "[".repeat(127), "]".repeat(127)),
        &format!("{}1{}", "[".repeat(129), "]".repeat(129)),
    ] {
        assert_eq!(j.mask_text(text), tree_route(&j, text), "{text:?}");
    }
}
