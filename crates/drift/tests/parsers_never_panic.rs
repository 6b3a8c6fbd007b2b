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

const FORMATS: [Format; 8] = [
    Format::Yaml,
    Format::Json,
    Format::Toml,
    Format::Env,
    Format::Properties,
    Format::Tfvars,
    Format::Terraform,
    Format::Text,
];

/// Text made of HCL's tokens: blocks, labels, expressions, templates, heredocs, comments.
fn hcl_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\n"),
            Just(" "),
            Just("resource"),
            Just("module"),
            Just("variable"),
            Just("locals"),
            Just("dynamic"),
            Just("\"aws_instance\""),
            Just("\"web\""),
            Just("x"),
            Just("{"),
            Just("}"),
            Just("="),
            Just("["),
            Just("]"),
            Just("("),
            Just(")"),
            Just(","),
            Just(":"),
            Just("?"),
            Just("=>"),
            Just("..."),
            Just("var.x"),
            Just("local.y[0]"),
            Just(".*"),
            Just("[*]"),
            Just("max("),
            Just("for"),
            Just("in"),
            Just("if"),
            Just("\""),
            Just("${"),
            Just("%{"),
            Just("~}"),
            Just("<<EOT\n"),
            Just("<<-EOT\n"),
            Just("EOT"),
            Just("1"),
            Just("-"),
            Just("!"),
            Just("+"),
            Just("2.5e9"),
            Just("true"),
            Just("null"),
            Just("#"),
            Just("//"),
            Just("/*"),
            Just("*/"),
            Just("\\"),
            Just("é"),
            Just("\t"),
            Just("\r\n"),
        ],
        0..80,
    )
    .prop_map(|parts| parts.concat())
}

/// A real Terraform file to mutate.
const TF: &str = prodlike_drift::samples::terraform::PRODUCTION;

/// A `terraform show -json` plan to mutate.
const PLAN: &str = r#"{"format_version":"1.2","terraform_version":"1.9.5","resource_changes":[
{"address":"module.prod_cluster.aws_instance.web[0]","type":"aws_instance","change":{"actions":["create"],
"after":{"instance_type":"t3.xlarge","tags":{"a":"b"},"user_data":"x"},"after_unknown":{"id":true,"tags":{}},
"after_sensitive":{"user_data":true}}}],"output_changes":{"url":{"actions":["create"],"after":"https://x"}}}"#;

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
    fn hcl_shaped_text_never_panics(text in hcl_soup()) {
        for f in [Format::Terraform, Format::Tfvars] {
            if let Err(e) = formats::parse(f, Path::new("main.tf"), &text) {
                prop_assert!(e.to_string().starts_with("main.tf"));
                if let Some(line) = e.line {
                    prop_assert!(line >= 1 && line <= text.split('\n').count() + 1, "{} for {:?}", e, text);
                }
            }
        }
        let _ = source::from_text(Path::new("main.tf"), "main.tf", &text, &Default::default());
    }

    #[test]
    fn mutated_terraform_and_plans_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..8)
    ) {
        let mutate = |original: &str| {
            let mut chars: Vec<char> = original.chars().collect();
            for (at, op, c) in &edits {
                let i = at.index(chars.len() + 1);
                match op {
                    0 if i < chars.len() => { chars.remove(i); }
                    1 => chars.insert(i, *c),
                    _ if i < chars.len() => chars[i] = *c,
                    _ => {}
                }
            }
            chars.into_iter().collect::<String>()
        };
        let tf = mutate(TF);
        let _ = formats::parse(Format::Terraform, Path::new("main.tf"), &tf);
        let _ = source::from_text(Path::new("main.tf"), "main.tf", &tf, &Default::default());
        let plan = mutate(PLAN);
        let _ = source::from_text(Path::new("plan.json"), "plan.json", &plan, &Default::default());
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
        prop_oneof![Just("var.a"), Just("local.b * 2")].prop_map(|s| Node::Expr(s.into())),
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
