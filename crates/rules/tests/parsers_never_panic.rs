//! The rules' parsers read user input (rules files, `--today`, `--exclude`): arbitrary text
//! gives an answer or an error, never a panic, and what they accept round-trips.
use prodlike_rules::{Date, Glob, quantity};
use proptest::prelude::*;

proptest! {
    #[test]
    fn globs_dates_and_quantities_never_panic(text in "\\PC{0,40}") {
        let globs = [Glob::path(&text), Glob::file(&text), Glob::object(&text)];
        for g in globs.iter().flatten() {
            // A glob without wildcards matches its own text.
            if !text.contains(['*', '?', '[']) {
                prop_assert!(g.matches(&text), "{text:?}");
            }
        }
        if let Some(d) = Date::parse(&text) {
            prop_assert_eq!(Date::parse(&d.to_string()), Some(d));
        }
        if let Some(q) = quantity::parse_text(&text) {
            prop_assert!(q.value.is_finite());
        }
    }

    #[test]
    fn dates_round_trip_through_days(days in -1_000_000i64..1_000_000) {
        let d = Date::from_days(days);
        prop_assert_eq!(Date::parse(&d.to_string()), (d.year >= 0).then_some(d));
    }
}
