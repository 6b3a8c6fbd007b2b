//! Masks that fit their column (issue 16): fitted values fit their length, are deterministic,
//! keep the canonical value whenever it fits, and stay unique in a unique column; a class that
//! can never fit is refused before any value is masked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure here is a test failure

#[path = "detectors/corpus.rs"]
#[allow(dead_code)] // the lists this file does not use
mod corpus;

use std::collections::HashSet;

use prodlike_mask::{Fit, Mask, MaskKey, Masker, Output, Transform, UniqueScope};
use proptest::prelude::*;

fn masker(seed: u32) -> Masker {
    Masker::new(MaskKey::from_secret(format!("fit masks key {seed:08}").as_bytes()).unwrap())
}

fn mask(m: &Masker, transform: &str) -> Mask {
    m.mask(&Transform::from_name(transform).unwrap()).unwrap()
}

fn apply(mask: &Mask, input: &str) -> String {
    mask.mask_str(input).unwrap().unwrap()
}

fn surnames() -> Vec<&'static str> {
    corpus::SURNAMES
        .iter()
        .chain(corpus::GLOBAL_SURNAMES)
        .copied()
        .collect()
}

fn name_word() -> impl Strategy<Value = String> {
    prop::sample::select(
        corpus::GIVEN_NAMES
            .iter()
            .chain(corpus::SURNAMES)
            .copied()
            .collect::<Vec<_>>(),
    )
    .prop_map(str::to_owned)
}

#[test]
fn an_email_never_fits_three_characters() {
    let fit = Fit {
        max_chars: Some(3),
        ..Fit::default()
    };
    let email = Transform::from_name("email").unwrap();
    let e = fit.check(&email).unwrap_err();
    assert!(e.contains("at least 6 characters"), "{e}");
    let m = masker(0);
    let mut out = String::new();
    assert!(
        mask(&m, "email")
            .apply_str_fitted("ann@x.io", &fit, None, &mut out)
            .is_err()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Fitted values fit, are deterministic, and are the canonical value whenever that fits.
    #[test]
    fn fitted_values_fit_and_are_deterministic(
        seed in 0u32..50,
        a in name_word(),
        b in name_word(),
        max in 1usize..30,
        t in prop::sample::select(vec!["name", "first_name", "last_name", "city", "company", "street_address", "email", "username", "hash"]),
    ) {
        let m = masker(seed);
        let mk = mask(&m, t);
        let input = match t {
            "email" => format!("{}.{}@example.com", a.to_lowercase(), b.to_lowercase()),
            "street_address" => format!("12 {b} Road"),
            _ => format!("{a} {b}"),
        };
        let fit = Fit { max_chars: Some(max), ..Fit::default() };
        if Fit::min_chars_for(mk.transform()).is_some_and(|min| min > max) {
            prop_assert!(fit.check(mk.transform()).is_err());
            return Ok(());
        }
        let mut out = String::new();
        let r = mk.apply_str_fitted(&input, &fit, None, &mut out);
        if t == "email" && r.is_err() {
            // Only when the fake domain alone leaves no room for a local part.
            return Ok(());
        }
        prop_assert_eq!(r.unwrap(), Output::Text);
        prop_assert!(out.chars().count() <= max, "{t} {input} -> {out} (max {max})");
        prop_assert!(!out.is_empty());
        let mut again = String::new();
        mk.apply_str_fitted(&input, &fit, None, &mut again).unwrap();
        prop_assert_eq!(&out, &again);
        let canonical = apply(&mk, &input);
        if canonical.chars().count() <= max {
            prop_assert_eq!(&out, &canonical);
        }
    }
}

#[test]
fn uniqueness_survives_fitting_into_a_short_unique_column() {
    let m = masker(3);
    let last = mask(&m, "last_name");
    let scope = UniqueScope::new();
    let fit = Fit {
        max_chars: Some(8),
        ..Fit::default()
    };
    let mut seen = HashSet::new();
    let mut given = Vec::new();
    let mut out = String::new();
    // 600 distinct surnames (real ones and numbered variants) into a unique varchar(8).
    let inputs: Vec<String> = (0..600)
        .map(|i| {
            format!(
                "{}{}",
                surnames()[i % surnames().len()],
                i / surnames().len()
            )
        })
        .collect();
    for input in &inputs {
        last.apply_str_fitted(input, &fit, Some(&scope), &mut out)
            .unwrap();
        assert!(out.chars().count() <= 8, "{input} -> {out}");
        assert!(seen.insert(out.clone()), "{input} -> {out} twice");
        given.push(out.clone());
    }
    // Deterministic: each input gets its value again from the scope, in any order.
    for (input, first) in inputs.iter().zip(&given).rev() {
        last.apply_str_fitted(input, &fit, Some(&scope), &mut out)
            .unwrap();
        assert_eq!(&out, first);
    }
}
