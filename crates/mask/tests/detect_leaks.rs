//! Detection outputs never contain the values they looked at.
#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure

use prodlike_mask::detect::{JsonPiiScan, PiiKind, ValueScan, classify_value, detect_column};
use proptest::prelude::*;
use serde_json::json;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn classification_never_panics(v in "\\PC{0,80}") {
        let _ = classify_value(&v);
        let mut s = ValueScan::new();
        s.add(&v);
        let _ = s.finish();
    }

    #[test]
    fn column_detection_output_holds_no_sampled_value(
        marker in "[a-z]{8}",
        n in 3usize..30,
        kind in 0usize..4,
    ) {
        let values: Vec<String> = (0..n)
            .map(|i| match kind {
                0 => format!("{marker}{i}@mail-{marker}.com"),
                1 => format!("10.{}.{}.{}", i % 250, (i * 7) % 250, (i * 13) % 250),
                2 => format!("+44 20 7{i:03} {:04}", i * 37 % 10_000),
                _ => format!("{}{marker}", i),
            })
            .collect();
        let d = detect_column("contact_info", values.iter().map(String::as_str));
        let text = serde_json::to_string(&d).unwrap();
        prop_assert!(!text.contains(&marker));
        for v in &values {
            prop_assert!(!text.contains(v.as_str()));
        }
        let expected = [Some(PiiKind::Email), Some(PiiKind::IpAddress), Some(PiiKind::Phone), None][kind];
        prop_assert_eq!(d.map(|d| d.kind), expected);
    }

    #[test]
    fn json_scan_output_holds_no_value_or_data_key(marker in "[a-z]{8}", n in 3usize..20) {
        let mut scan = JsonPiiScan::new();
        for i in 0..n {
            scan.add(&json!({
                "profile": {"email": format!("{marker}{i}@{marker}.org"), "phone": format!("+1 415 555 {:04}", i)},
                "sessions": {format!("{marker}{i}@{marker}.org"): {"ip": format!("192.168.{i}.1")}},
                "note": format!("free text {marker}"),
            }));
        }
        let found = scan.finish();
        let text = serde_json::to_string(&found).unwrap();
        prop_assert!(!text.contains(&marker), "{}", text);
        let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
        prop_assert!(paths.contains(&"/profile/email"));
        prop_assert!(paths.contains(&"/profile/phone"));
        prop_assert!(paths.contains(&"/sessions/*/ip"));
    }
}

#[test]
fn recommended_rules_from_a_json_scan_mask_what_was_found() {
    use prodlike_mask::{JsonMasker, MaskKey, Masker};
    let mut scan = JsonPiiScan::new();
    let docs: Vec<_> = (0..5)
        .map(|i| json!({"customer": {"email": format!("c{i}@shop.example"), "card": "4111 1111 1111 1111"}}))
        .collect();
    for d in &docs {
        scan.add(d);
    }
    let rules: Vec<_> = scan.finish().iter().map(|d| d.to_rule()).collect();
    assert_eq!(rules.len(), 2);
    let m = Masker::new(MaskKey::from_secret(b"scan to rules secret").unwrap());
    let jm = JsonMasker::new(&m, &rules).unwrap();
    for d in docs {
        let mut v = d.clone();
        jm.mask_value(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains("shop.example") && !text.contains("4111 1111 1111 1111"),
            "{text}"
        );
    }
}
