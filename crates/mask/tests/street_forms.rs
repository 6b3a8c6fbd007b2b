//! Street addresses written with a comma after the house number (`24, place Kléber`, French and
//! Belgian style) lose their street like any other: before, the part after the comma was taken
//! for a flat or a postcode and only its digits were masked, so the street was kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use prodlike_mask::{MaskKey, Masker, Transform};

#[test]
fn a_comma_after_the_house_number_does_not_keep_the_street() {
    let m = Masker::new(MaskKey::from_secret(b"street forms test secret").unwrap());
    let street = m
        .mask(&Transform::from_name("street_address").unwrap())
        .unwrap();
    for (src, kept) in [
        ("24, place Kléber", ["place", "Kléber"]),
        ("12, rue des Bouchers", ["rue", "Bouchers"]),
        ("184, chaussée de Tournai", ["chaussée", "Tournai"]),
    ] {
        let out = street.mask_str(src).unwrap().unwrap();
        for w in kept {
            assert!(!out.contains(w), "{src} → {out}");
        }
        assert!(
            out.chars().next().unwrap().is_ascii_digit(),
            "{src} → {out}"
        );
    }
    // A comma that starts a flat or a town stays the end of the street line.
    let out = street.mask_str("Obere Str. 57, Berlin").unwrap().unwrap();
    assert!(!out.contains("Obere"), "{out}");
}
