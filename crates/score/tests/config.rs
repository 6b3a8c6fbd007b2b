#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
//! report.toml: the defaults resolve to the documented table, every bad field is named with
//! its value and the fix, and no text makes the parser panic.
use prodlike_results::report::Component;
use prodlike_score::config::{SOURCES, default_component};
use prodlike_score::{ReportConfig, Resolved};
use proptest::prelude::*;

#[test]
fn the_defaults_are_the_documented_table() {
    let r = Resolved::default();
    assert_eq!(r, ReportConfig::default().resolve().unwrap());
    assert_eq!(r.weights.values().sum::<f64>(), 100.0);
    assert_eq!(r.weights[&Component::Traffic], 25.0);
    assert_eq!(r.critical_cap, 50.0);
    for s in SOURCES {
        assert_eq!(r.mapping[s], default_component(s), "{s}");
    }
    assert_eq!(r.mapping["compare.parity"], Some(Component::Observability));
}

#[test]
fn overrides_apply() {
    let c = ReportConfig::parse(
        "project = \"shop\"\ncritical = [\"data\"]\n[weights]\ntraffic = 5\n\
         [mapping]\n\"load.compare\" = \"behaviour\"\n\"drift.schema\" = \"ignore\"\n",
    )
    .unwrap()
    .resolve()
    .unwrap();
    assert_eq!(c.project, "shop");
    assert_eq!(c.weights[&Component::Traffic], 5.0);
    assert_eq!(c.weights[&Component::Data], 20.0);
    assert_eq!(c.critical, [Component::Data]);
    assert_eq!(c.mapping["load.compare"], Some(Component::Behaviour));
    assert_eq!(c.mapping["drift.schema"], None);
}

#[test]
fn bad_fields_are_named() {
    for (text, expected) in [
        ("colour = 1\n", "line 1"),
        (
            "[weights]\ntrafic = 1\n",
            "weights.trafic: unknown component `trafic`",
        ),
        ("[weights]\ndata = -1\n", "weights.data = -1"),
        (
            "[weights]\ntraffic = 0\ndata = 0\nconfiguration = 0\nschema = 0\nobservability = 0\nbehaviour = 0\n",
            "every weight is 0",
        ),
        (
            "critical = [\"dta\"]\n",
            "critical[0]: unknown component `dta`",
        ),
        ("critical_cap = 120\n", "critical_cap = 120"),
        (
            "[mapping]\n\"shadows\" = \"traffic\"\n",
            "mapping.\"shadows\": unknown source",
        ),
        (
            "[mapping]\n\"shadow\" = \"speed\"\n",
            "unknown component `speed`",
        ),
        ("[history]\nkeep_runs = 0\n", "history.keep_runs = 0"),
    ] {
        let e = ReportConfig::parse(text).unwrap_err();
        assert!(e.contains(expected), "{text:?}: {e}");
    }
}

proptest! {
    #[test]
    fn no_text_makes_the_parser_panic(text in "\\PC{0,200}") {
        let _ = ReportConfig::parse(&text);
    }

    #[test]
    fn no_weights_make_resolve_panic(w in proptest::collection::vec(-1e9f64..1e9, 6)) {
        let mut text = String::from("[weights]\n");
        for (c, w) in Component::ALL.iter().zip(&w) {
            text.push_str(&format!("{} = {w}\n", c.as_str()));
        }
        if let Ok(c) = ReportConfig::parse(&text) {
            let r = c.resolve().unwrap();
            prop_assert!(r.weights.values().all(|w| *w >= 0.0));
            prop_assert!(r.weights.values().sum::<f64>() > 0.0);
        }
    }
}
