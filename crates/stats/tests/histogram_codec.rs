#![allow(clippy::unwrap_used, clippy::expect_used)]
//! LatencyHistogram::to_base64/from_base64: every histogram round-trips bucket for bucket, and
//! arbitrary or damaged text is refused with an error, never a panic.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use prodlike_stats::LatencyHistogram;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_keeps_every_bucket(values in prop::collection::vec((0u64..5_000_000_000, 1u64..1000), 0..200)) {
        let mut h = LatencyHistogram::new();
        for (us, n) in &values {
            for _ in 0..(*n % 7 + 1) {
                h.record_us(*us);
            }
        }
        let text = h.to_base64().unwrap();
        let back = LatencyHistogram::from_base64(&text).unwrap();
        prop_assert_eq!(back.count(), h.count());
        prop_assert_eq!(back.buckets_ms(), h.buckets_ms());
        prop_assert_eq!(back.summary(), h.summary());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = LatencyHistogram::from_base64(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = LatencyHistogram::from_base64(&STANDARD.encode(&bytes));
    }

    #[test]
    fn damaged_encodings_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut h = LatencyHistogram::new();
        for us in [5u64, 50, 500, 5_000, 50_000, 500_000] {
            h.record_us(us);
        }
        let mut bytes = STANDARD.decode(h.to_base64().unwrap()).unwrap();
        for (i, b) in &flips {
            let at = i.index(bytes.len());
            bytes[at] ^= *b;
        }
        let _ = LatencyHistogram::from_base64(&STANDARD.encode(&bytes));
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = LatencyHistogram::from_base64(&STANDARD.encode(&bytes));
    }
}

#[test]
fn a_plain_v2_encoding_is_read_too() {
    use hdrhistogram::serialization::{Serializer, V2Serializer};
    let mut theirs = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 2).unwrap();
    theirs.record_n(1_500, 40).unwrap();
    theirs.record_n(90_000_000 / 2, 2).unwrap();
    let mut bytes = Vec::new();
    V2Serializer::new().serialize(&theirs, &mut bytes).unwrap();
    let h = LatencyHistogram::from_base64(&STANDARD.encode(&bytes)).unwrap();
    assert_eq!(h.count(), 42);
    assert!(
        (h.quantile_ms(0.5) - 1.5).abs() < 0.02,
        "{}",
        h.quantile_ms(0.5)
    );
}
