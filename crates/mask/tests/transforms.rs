//! Property tests for every per-value transform: determinism, key separation, format
//! preservation, bijectivity / uniqueness, and no panic on arbitrary input.
#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure

use std::collections::{HashMap, HashSet};

use prodlike_mask::{Mask, MaskError, MaskKey, Masker, Output, Transform, UniqueScope, luhn_valid};
use proptest::prelude::*;

fn masker(secret: &[u8]) -> Masker {
    Masker::new(MaskKey::from_secret(secret).unwrap())
}

fn t(spec: &str) -> Transform {
    let table: toml::Table = toml::from_str(&format!("t = {spec}")).unwrap();
    table["t"].clone().try_into().unwrap()
}

fn mask(m: &Masker, spec: &str) -> Mask {
    m.mask(&t(spec)).unwrap()
}

/// Every transform that masks single values, in TOML form.
const ALL_SPECS: &[&str] = &[
    r#""hash""#,
    r#"{ type = "hash", encoding = "base32", length = 52 }"#,
    r#""name""#,
    r#"{ type = "name", locale = "ja_JP" }"#,
    r#""first_name""#,
    r#""last_name""#,
    r#""email""#,
    r#"{ type = "email", keep_domain = true }"#,
    r#"{ type = "email", domains = ["example.com", "example.org"] }"#,
    r#""phone""#,
    r#""street_address""#,
    r#"{ type = "street_address", locale = "de_DE" }"#,
    r#""city""#,
    r#""company""#,
    r#""username""#,
    r#""format_preserving""#,
    r#"{ type = "format_preserving", alphabet = "hex" }"#,
    r#"{ type = "format_preserving", alphabet = "digits", luhn = true, keep_prefix = 2 }"#,
    r#""card""#,
    r#"{ type = "card", keep_bin = true }"#,
    r#""ip""#,
    r#""noise""#,
    r#""date_noise""#,
    r#""null""#,
    r#"{ type = "constant", value = "x" }"#,
    r#""keep""#,
];

fn class_pattern(s: &str) -> Vec<char> {
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                'd'
            } else if c.is_ascii_lowercase() {
                'l'
            } else if c.is_ascii_uppercase() {
                'u'
            } else {
                c
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn no_transform_panics_on_arbitrary_unicode(input in "\\PC{0,40}") {
        let m = masker(b"arbitrary-input secret");
        let mut out = String::new();
        for spec in ALL_SPECS {
            let mk = mask(&m, spec);
            // Any result is fine as long as it is a result, and an error names no input.
            if let Err(e) = mk.apply_str(&input, &mut out) {
                prop_assert!(input.len() < 3 || !e.to_string().contains(&input));
            }
            let mut v = serde_json::Value::String(input.clone());
            mk.apply_json(&mut v);
        }
    }

    #[test]
    fn every_transform_is_deterministic_across_engines(input in "[ -~]{1,30}") {
        let a = masker(b"determinism secret 1");
        let b = masker(b"determinism secret 1");
        for spec in ALL_SPECS {
            let ra = mask(&a, spec).mask_str(&input);
            let rb = mask(&b, spec).mask_str(&input);
            prop_assert_eq!(&ra, &rb, "{}", spec);
            prop_assert_eq!(ra, mask(&a, spec).mask_str(&input), "{}", spec);
        }
    }

    #[test]
    fn format_preserving_keeps_classes_and_separators(input in "[A-Za-z0-9 ./_:-]{1,40}") {
        let m = masker(b"format secret 0001");
        let out = mask(&m, r#""format_preserving""#).mask_str(&input).unwrap().unwrap();
        prop_assert_eq!(class_pattern(&out), class_pattern(&input));
    }

    #[test]
    fn card_keeps_layout_and_luhn_validity(
        digits in proptest::collection::vec(0u8..10, 12..19),
        sep in prop::sample::select(vec!["", " ", "-"]),
    ) {
        let m = masker(b"card secret 000001");
        let s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let grouped: String = s
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(sep);
        let out = mask(&m, r#""card""#).mask_str(&grouped).unwrap().unwrap();
        prop_assert_eq!(class_pattern(&out), class_pattern(&grouped));
        prop_assert_eq!(luhn_valid(&out), luhn_valid(&grouped));
        prop_assert_eq!(out.chars().next(), grouped.chars().next(), "card network digit kept");
        let bin = mask(&m, r#"{ type = "card", keep_bin = true }"#).mask_str(&s).unwrap().unwrap();
        prop_assert_eq!(&bin[..6], &s[..6]);
        prop_assert_eq!(luhn_valid(&bin), luhn_valid(&s));
    }

    #[test]
    fn phone_keeps_country_code_and_layout(
        cc in prop::sample::select(vec!["+1 ", "+44 ", "+353 ", "+33 ", ""]),
        body in "[0-9]{2,4}([ .-][0-9]{2,4}){1,3}",
    ) {
        let m = masker(b"phone secret 00001");
        let input = format!("{cc}{body}");
        let out = mask(&m, r#""phone""#).mask_str(&input).unwrap().unwrap();
        prop_assert_eq!(class_pattern(&out), class_pattern(&input));
        prop_assert!(out.starts_with(cc));
    }

    #[test]
    fn email_keeps_shape_and_suffix(
        local in "[a-z]{1,8}([._][a-z]{1,8})?[0-9]{0,3}",
        host in "[a-z]{2,10}",
        suffix in prop::sample::select(vec!["com", "co.uk", "org", "fr"]),
    ) {
        let m = masker(b"email secret 00001");
        let input = format!("{local}@{host}.{suffix}");
        let out = mask(&m, r#""email""#).mask_str(&input).unwrap().unwrap();
        let (ol, od) = out.rsplit_once('@').unwrap();
        prop_assert!(od.ends_with(&format!(".{suffix}")), "{}", out);
        prop_assert!(ol.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_'));
        // Same separators in the same order, same digit-run lengths.
        let seps = |s: &str| s.chars().filter(|c| !c.is_ascii_alphanumeric()).collect::<String>();
        prop_assert_eq!(seps(ol), seps(&local));
        let trailing = |s: &str| s.chars().rev().take_while(char::is_ascii_digit).count();
        prop_assert_eq!(trailing(ol), trailing(&local));
    }

    #[test]
    fn names_keep_token_count_and_case(first in "[A-Z][a-z]{1,9}", last in "[A-Z][a-z]{1,9}", upper in any::<bool>()) {
        // Titles (Mr, Dr…) are kept on purpose; they are not names.
        prop_assume!(!["mr", "ms", "mx", "dr", "sir", "mrs", "miss", "dame", "prof", "herr", "frau", "sr", "sra", "jr", "ii", "iii", "iv", "md", "phd", "esq", "mme", "mlle", "m"].contains(&first.to_lowercase().as_str()));
        prop_assume!(!["jr", "sr", "ii", "iii", "iv", "md", "phd", "esq", "mr", "ms", "mx", "dr", "sir", "mrs", "miss", "dame", "prof", "herr", "frau", "sra", "mme", "mlle", "m"].contains(&last.to_lowercase().as_str()));
        let m = masker(b"name secret 000001");
        let mut input = format!("{first} {last}");
        if upper {
            input = input.to_uppercase();
        }
        let out = mask(&m, r#""name""#).mask_str(&input).unwrap().unwrap();
        prop_assert_eq!(out.split(' ').count(), 2, "{}", out);
        if upper {
            prop_assert_eq!(out.to_uppercase(), out.clone());
        }
        // The first token is the same fake as first_name gives, the last as last_name.
        let f = mask(&m, r#""first_name""#).mask_str(&first).unwrap().unwrap();
        let l = mask(&m, r#""last_name""#).mask_str(&last).unwrap().unwrap();
        prop_assert_eq!(out.to_lowercase(), format!("{f} {l}").to_lowercase());
    }

    #[test]
    fn noise_stays_within_percent(v in -1_000_000i64..1_000_000, pct in 1u32..50) {
        let m = masker(b"noise secret 00001");
        let mk = mask(&m, &format!("{{ type = \"noise\", percent = {pct} }}"));
        let out = mk.apply_i64(v).unwrap().unwrap();
        let bound = (v.abs() as f64) * f64::from(pct) / 100.0 + 1.0;
        prop_assert!(((out - v) as f64).abs() <= bound);
        let text = mk.mask_str(&v.to_string()).unwrap().unwrap();
        prop_assert_eq!(text, out.to_string());
    }

    #[test]
    fn date_noise_stays_within_days_and_keeps_format(day in 0i32..40_000, days in 1u32..400, time in "(T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z)?") {
        let m = masker(b"date secret 000001");
        let mk = mask(&m, &format!("{{ type = \"date_noise\", days = {days} }}"));
        let shifted = mk.apply_date_days(day).unwrap().unwrap();
        prop_assert!((shifted - day).unsigned_abs() <= days);
        // Text agrees with the typed form and keeps the time part.
        let (y, mo, d) = civil(day);
        let input = format!("{y:04}-{mo:02}-{d:02}{time}");
        let out = mk.mask_str(&input).unwrap().unwrap();
        let (sy, smo, sd) = civil(shifted);
        prop_assert_eq!(out, format!("{sy:04}-{smo:02}-{sd:02}{time}"));
    }

    #[test]
    fn hash_has_requested_length_and_alphabet(input in "\\PC{0,30}", len in 1usize..=64) {
        let m = masker(b"hash secret 000001");
        let out = mask(&m, &format!("{{ type = \"hash\", length = {len} }}")).mask_str(&input).unwrap().unwrap();
        prop_assert_eq!(out.len(), len);
        prop_assert!(out.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn ip_stays_an_address_of_the_same_family(a in any::<[u8; 4]>(), b in any::<[u16; 8]>()) {
        let m = masker(b"ip secret 00000001");
        let ip = mask(&m, r#""ip""#);
        let v4 = std::net::Ipv4Addr::from(a).to_string();
        let o4 = ip.mask_str(&v4).unwrap().unwrap();
        prop_assert!(o4.parse::<std::net::Ipv4Addr>().is_ok());
        let v6 = std::net::Ipv6Addr::from(b).to_string();
        let o6 = ip.mask_str(&v6).unwrap().unwrap();
        prop_assert!(o6.parse::<std::net::Ipv6Addr>().is_ok());
    }

    #[test]
    fn integer_digit_permutation_keeps_digit_count_and_sign(v in any::<i64>().prop_filter("fits", |v| v.unsigned_abs() < 1_000_000_000_000_000_000)) {
        let m = masker(b"int secret 0000001");
        let out = mask(&m, r#""format_preserving""#).apply_i64(v).unwrap().unwrap();
        prop_assert_eq!(out.unsigned_abs().to_string().len(), v.unsigned_abs().to_string().len());
        prop_assert_eq!(out.signum() * v.signum() >= 0, true);
    }
}

/// Days since 1970 to a civil date.
fn civil(z: i32) -> (i64, u32, u32) {
    prodlike_common::date::civil_from_days(i64::from(z))
}

#[test]
fn different_keys_give_unrelated_outputs() {
    let a = masker(b"key separation secret A");
    let b = masker(b"key separation secret B");
    for spec in ALL_SPECS {
        if [
            "\"null\"",
            "\"keep\"",
            "{ type = \"constant\", value = \"x\" }",
        ]
        .contains(spec)
            || spec.contains("domains")
        {
            continue;
        }
        let (ma, mb) = (mask(&a, spec), mask(&b, spec));
        let inputs: Vec<String> = (0..200)
            .map(|i| match *spec {
                s if s.contains("date_noise") => format!("2020-01-{:02}", i % 28 + 1),
                s if s.contains("ip") => format!("10.1.{}.{}", i / 200, i % 250),
                s if s.contains("noise") => format!("{}", 1000 + i * 37),
                s if s.contains("card") => format!("4{:014}", i * 7919),
                s if s.contains("hex") => format!("{:08x}-ab12", i * 7919),
                _ => format!("Person{i} Value{i}@example{i}.com 555-{i:04}"),
            })
            .collect();
        let same = inputs
            .iter()
            .filter(|i| ma.mask_str(i).unwrap() == mb.mask_str(i).unwrap())
            .count();
        // Noise and date noise draw from a small range, so some equal outputs happen by chance.
        let allowed = if spec.contains("noise") { 40 } else { 4 };
        assert!(
            same <= allowed,
            "{spec}: {same}/200 equal outputs under two keys"
        );
    }
}

#[test]
fn format_preserving_is_a_bijection_on_every_four_digit_value() {
    let m = masker(b"exhaustive secret 01");
    for spec in [
        r#""format_preserving""#,
        r#""phone""#,
        r#"{ type = "phone", keep_country_code = false }"#,
        r#""card""#,
    ] {
        let mk = mask(&m, spec);
        let mut seen = HashSet::new();
        for i in 0..10_000 {
            let out = mk.mask_str(&format!("{i:04}")).unwrap().unwrap();
            assert_eq!(out.len(), 4);
            assert!(seen.insert(out), "{spec}: collision");
        }
    }
    // Integers: every 4-digit integer maps to a distinct 4-digit integer.
    let fp = mask(&m, r#""format_preserving""#);
    let outs: HashSet<i64> = (1000..10_000)
        .map(|v| fp.apply_i64(v).unwrap().unwrap())
        .collect();
    assert_eq!(outs.len(), 9000);
    assert!(outs.iter().all(|v| (1000..10_000).contains(v)));
}

#[test]
fn alnum_ids_never_collide() {
    let m = masker(b"alnum id secret 001");
    let mk = mask(&m, r#""format_preserving""#);
    let mut seen = HashMap::new();
    for i in 0..50_000u32 {
        let id = format!("AB-{:05}-{}", i, char::from(b'a' + (i % 26) as u8));
        let out = mk.mask_str(&id).unwrap().unwrap();
        if let Some(prev) = seen.insert(out.clone(), id.clone()) {
            panic!("{prev} and {id} both map to {out}");
        }
    }
}

/// The uniqueness scope turns collision-prone fakes into collision-free pseudonyms.
#[test]
fn unique_scope_makes_fakes_collision_free() {
    let m = masker(b"unique scope secret 1");
    for (spec, make) in [
        (
            r#""first_name""#,
            (|i: u32| format!("Name{i}")) as fn(u32) -> String,
        ),
        (r#""city""#, |i| format!("Town {i}")),
        (r#""email""#, |i| format!("{}@corp.com", letters(i))),
        (r#"{ type = "hash", length = 5 }"#, |i| format!("v{i}")),
        (r#"{ type = "noise", percent = 1 }"#, |i| {
            format!("{}", 1000 + i % 5000)
        }),
    ] {
        let mk = mask(&m, spec);
        let scope = UniqueScope::new();
        let mut by_output: HashMap<String, String> = HashMap::new();
        let mut by_input: HashMap<String, String> = HashMap::new();
        let mut out = String::new();
        let n = 20_000;
        let mut collisions_without_scope = 0;
        let mut plain = HashSet::new();
        for i in 0..n {
            let input = make(i);
            if !plain.insert(mk.mask_str(&input).unwrap().unwrap()) {
                collisions_without_scope += 1;
            }
            match mk.apply_str_unique(&input, &scope, &mut out) {
                Ok(Output::Text) => {}
                Ok(Output::Null) => panic!("{spec}: unexpected null"),
                Err(MaskError::UniqueExhausted { .. }) if spec.contains("noise") => continue,
                Err(e) => panic!("{spec}: {e}"),
            }
            if let Some(prev) = by_input.get(&input) {
                assert_eq!(prev, &out, "{spec}: same input, different pseudonym");
                continue;
            }
            if let Some(other) = by_output.insert(out.clone(), input.clone()) {
                panic!("{spec}: {other} and {input} share {out}");
            }
            by_input.insert(input, out.clone());
        }
        // The test only proves something if plain masking did collide.
        assert!(
            collisions_without_scope > 0,
            "{spec}: no collisions to resolve"
        );
        // Replaying inputs (e.g. the same email in a second table) returns the same pseudonyms.
        for (input, expected) in by_input.iter().take(2000) {
            mk.apply_str_unique(input, &scope, &mut out).unwrap();
            assert_eq!(&out, expected);
        }
    }
}

/// `i` written in base 26 with letters (a, b, …, ba, bb, …).
fn letters(mut i: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (i % 26) as u8);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

/// Noise on a small integer range cannot be unique: the scope says so instead of looping.
#[test]
fn unique_scope_reports_exhaustion() {
    let m = masker(b"exhaustion secret 01");
    let mk = mask(&m, r#"{ type = "constant", value = "same" }"#);
    let scope = UniqueScope::new();
    let mut out = String::new();
    mk.apply_str_unique("a", &scope, &mut out).unwrap();
    let err = mk.apply_str_unique("b", &scope, &mut out).unwrap_err();
    assert!(matches!(
        err,
        MaskError::UniqueExhausted {
            transform: "constant",
            ..
        }
    ));
}

#[test]
fn engine_and_masks_are_send_sync_and_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Masker>();
    assert_send_sync::<Mask>();
    assert_send_sync::<UniqueScope>();
    assert_send_sync::<prodlike_mask::JsonMasker>();
    assert_send_sync::<prodlike_mask::QueryMasker>();
    let m = masker(b"threads secret 00001");
    let mk = mask(&m, r#""email""#);
    let expected = mk.mask_str("ann@acme.com").unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let mk = mk.clone();
            std::thread::spawn(move || mk.mask_str("ann@acme.com").unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), expected);
    }
}

/// Phone numbers of every class (international `+`, `00`, trunk `0`, plain, with and without
/// separators) never share a pseudonym, in both country-code modes.
#[test]
fn phone_is_injective_across_number_classes() {
    let m = masker(b"phone classes secret 1");
    let prefixes = [
        "+1 ", "+44 ", "+353 ", "0044 ", "00 44 ", "0", "0 0", "", "+44 (0)",
    ];
    for spec in [
        r#""phone""#,
        r#"{ type = "phone", keep_country_code = false }"#,
    ] {
        let mk = mask(&m, spec);
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..30_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let prefix = prefixes[(x % prefixes.len() as u64) as usize];
            let digits = format!("{:06}", (x >> 8) % 1_000_000);
            let sep = if i % 2 == 0 { "-" } else { "" };
            let input = format!("{prefix}{}{sep}{}", &digits[..3], &digits[3..]);
            let out = mk.mask_str(&input).unwrap().unwrap();
            if let Some(prev) = seen.insert(out.clone(), input.clone()) {
                assert_eq!(prev, input, "{spec}: {prev} and {input} both map to {out}");
            }
        }
    }
}

#[test]
fn uuid_bytes_and_uuid_text_mask_alike() {
    let m = masker(b"uuid consistency secret");
    let mk = mask(&m, r#"{ type = "format_preserving", alphabet = "hex" }"#);
    let mut seen = HashSet::new();
    for i in 0..2000u128 {
        let bytes = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834)).to_be_bytes();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        let masked_bytes = mk.apply_uuid(bytes).unwrap().unwrap();
        let masked_text = mk.mask_str(&text).unwrap().unwrap();
        let from_bytes: String = masked_bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(from_bytes, masked_text.replace('-', ""));
        assert!(seen.insert(masked_bytes), "collision");
    }
    assert!(mask(&m, r#""email""#).apply_uuid([0; 16]).is_err());
}

#[test]
fn integers_mask_like_their_digits_as_text() {
    let m = masker(b"int text consistency 1");
    for spec in [r#""format_preserving""#, r#""card""#, r#""phone""#] {
        let mk = mask(&m, spec);
        for v in [7i64, 42, 12_345, 4_111_111_111_111_111, 987_654_321] {
            let as_int = mk.apply_i64(v).unwrap().unwrap();
            let as_text = mk.mask_str(&v.to_string()).unwrap().unwrap();
            assert_eq!(as_int.to_string(), as_text, "{spec} {v}");
        }
    }
}

#[test]
fn nineteen_digit_integers_stay_in_range_and_distinct() {
    let m = masker(b"i64 range secret 0001");
    let mk = mask(&m, r#""format_preserving""#);
    let mut seen = HashSet::new();
    for i in 0..3000i64 {
        let v = i64::MAX - i * 1_000_003;
        let out = mk.apply_i64(v).unwrap().unwrap();
        assert_eq!(out.to_string().len(), 19);
        assert!(seen.insert(out));
        let neg = mk.apply_i64(-v).unwrap().unwrap();
        assert_eq!(neg, -out);
    }
}
