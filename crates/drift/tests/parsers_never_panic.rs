//! Every reader of untrusted input returns a value or an error on any input: arbitrary bytes,
//! and text shaped like each format. The diff, too, on arbitrary trees.
#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure
use std::path::Path;

use prodlike_drift::diff::Differ;
use prodlike_drift::formats::{self, Format};
use prodlike_drift::path::Path as TreePath;
use prodlike_drift::tree::Node;
use prodlike_drift::{Date, RuleSet, quantity, source};
use proptest::prelude::*;

const FORMATS: [Format; 7] = [
    Format::Yaml,
    Format::Json,
    Format::Toml,
    Format::Env,
    Format::Properties,
    Format::Tfvars,
    Format::Text,
];

/// Text made of the characters each format gives meaning to.
fn format_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\n"),
            Just(" "),
            Just("  "),
            Just(":"),
            Just("="),
            Just("-"),
            Just("- "),
            Just("---\n"),
            Just("["),
            Just("]"),
            Just("{"),
            Just("}"),
            Just(","),
            Just("\""),
            Just("'"),
            Just("\\"),
            Just("\\u"),
            Just("#"),
            Just("!"),
            Just("&a"),
            Just("*a"),
            Just("<<"),
            Just("<<EOF\n"),
            Just("EOF"),
            Just("${x}"),
            Just("key"),
            Just("apiVersion: v1"),
            Just("kind: List"),
            Just("items:"),
            Just("name"),
            Just("1"),
            Just("2.5e9"),
            Just("0x1F"),
            Just("true"),
            Just("null"),
            Just("[[a]]"),
            Just("export "),
            Just("\t"),
            Just("é"),
            Just("/*"),
            Just("*/"),
            Just("//"),
            Just("|"),
            Just(">"),
            Just("!!binary"),
            Just("\r\n"),
        ],
        0..80,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        for f in FORMATS {
            let _ = formats::parse(f, Path::new("x"), &text);
        }
        let _ = formats::detect(Path::new("x"), &text);
    }

    #[test]
    fn format_shaped_text_never_panics(text in format_soup()) {
        for f in FORMATS {
            if let Err(e) = formats::parse(f, Path::new("f"), &text) {
                // Every error names the file, and a line inside the text when it gives one.
                prop_assert!(e.to_string().starts_with("f"));
                if let Some(line) = e.line {
                    prop_assert!(line >= 1 && line <= text.split('\n').count() + 1, "{} for {:?}", e, text);
                }
            }
        }
        let _ = source::from_text(Path::new("x.yaml"), "x.yaml", &text, &Default::default());
        let _ = quantity::parse_text(&text);
        let _ = RuleSet::parse(&text, Date::today());
    }

    #[test]
    fn diff_of_arbitrary_trees_never_panics_and_a_tree_equals_itself(a in node(), b in node()) {
        let rules = RuleSet::default();
        let files = ["f"];
        let mut d = Differ::new(&rules, &files, "");
        d.diff(&mut TreePath::default(), &a, &b);
        if a.same(&b) {
            prop_assert!(d.out.is_empty());
        }
        let mut same = Differ::new(&rules, &files, "");
        same.diff(&mut TreePath::default(), &a, &a);
        prop_assert!(same.out.is_empty());
    }
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        Just(Node::Null),
        any::<bool>().prop_map(Node::Bool),
        (-5i64..5).prop_map(|i| Node::Int(i.into())),
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("512Mi"),
            Just("1Gi"),
            Just("web")
        ]
        .prop_map(|s| Node::String(s.into())),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Node::List),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("name".to_string()),
                    Just("id".to_string()),
                    Just("x".to_string()),
                    Just("y".to_string())
                ],
                inner,
                0..4
            )
            .prop_map(Node::Map),
        ]
    })
}
