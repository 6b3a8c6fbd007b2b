//! Every parser of this crate reads untrusted text (config files, flags, logs, URLs): arbitrary
//! input gives an answer or a typed error, never a panic, and what they accept round-trips.
use prodlike_common::date::{self, Date};
use prodlike_common::glob::{Glob, SegmentSyntax, Step};
use prodlike_common::{duration, percent, redact, source};
use proptest::prelude::*;

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,40}", path in "\\PC{0,40}") {
        for g in [Glob::url_path(&text), Glob::pointer(&text), Glob::file(&text)].iter().flatten() {
            let _ = g.matches(&path);
            let s = g.step(g.start(), Step::Index(3));
            let _ = g.accepts(g.step(s, Step::Key(&path)));
        }
        let _ = duration::parse(&text);
        let _ = Date::parse(&text);
        let _ = date::parse_rfc3339_micros(&text);
        let _ = date::parse_utc_offset(&text);
        let _ = percent::decode(&text, percent::Plus::Space);
        let _ = redact::redact_url(&text);
        let _ = source::line_col(&text, path.len());
    }

    /// A pattern without wildcards matches its own text, in every syntax that accepts it.
    #[test]
    fn literal_patterns_match_themselves(text in "[/a-z0-9.~ -]{0,30}") {
        prop_assume!(!text.contains('*'));
        if let Ok(g) = Glob::file(&text) {
            prop_assert!(g.matches(&text), "file {text:?}");
        }
        if let Ok(g) = Glob::url_path(&text) {
            prop_assert!(g.matches(&text), "url {text:?}");
        }
        if let Ok(g) = Glob::pointer(&text) {
            prop_assert!(g.matches(&text), "pointer {text:?}");
        }
    }

    /// `/**` matches every path; `*` segments match exactly one segment each.
    #[test]
    fn stars_count_segments(segs in prop::collection::vec("[a-z0-9]{1,5}", 0..8)) {
        let path: String = segs.iter().map(|s| format!("/{s}")).collect();
        prop_assert!(Glob::url_path("/**").unwrap().matches(&path));
        prop_assert!(Glob::pointer("/**").unwrap().matches(&path));
        if !segs.is_empty() {
            let stars = "/*".repeat(segs.len());
            prop_assert!(Glob::url_path(&stars).unwrap().matches(&path));
            prop_assert!(Glob::pointer(&stars).unwrap().matches(&path));
            let one_more = "/*".repeat(segs.len() + 1);
            prop_assert!(!Glob::pointer(&one_more).unwrap().matches(&path));
        }
        let g = Glob::from_segments("caller", segs.iter().map(String::as_str), SegmentSyntax::PLAIN).unwrap();
        prop_assert!(g.matches_segments(segs.iter().map(String::as_str)));
    }

    #[test]
    fn dates_round_trip_through_days(days in -1_000_000i64..1_000_000) {
        let d = Date::from_days(days);
        prop_assert_eq!(d.to_days(), days);
        prop_assert_eq!(Date::parse(&d.to_string()), (d.year >= 0).then_some(d));
        let (y, m, dd) = date::civil_from_days(days);
        prop_assert!(date::is_valid(y, m, dd));
        prop_assert_eq!(date::days_from_civil(y, m, dd), days);
    }
}
