//! The one duration grammar of every flag and config file (`docs/units.md`): a number and a unit,
//! repeated, with or without spaces — `30s`, `1h30m`, `1h 30m`, `2.5s`, `500ms`, `1.5 hours` —
//! or a bare number of seconds (`2`, `0.25`). Units: `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, `d`,
//! with the long forms shadow's config read before (`sec`, `min`, `hours`, `days`, `weeks`,
//! `months` = 30.44 days, `years` = 365.25 days…). Units are case-sensitive (`M` is a month).
//!
//! Numbers are decimals, added up exactly in nanoseconds (`0.1s` is 100 ms, not the nearest
//! float); a fraction finer than a nanosecond rounds to the nearest one. The grammar accepts
//! everything load's own parser and shadow's (humantime) accepted, with the same values; the
//! property tests in this file hold it to humantime on every shape both read.
use std::time::Duration;

/// The largest duration accepted, in seconds (about 31,700 years): larger values are typos, and
/// callers add durations to clocks without overflow checks.
pub const MAX_SECS: u64 = 1_000_000_000_000;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Why a duration was refused. Each message quotes the input and shows the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing but white space.
    #[error("empty duration; write e.g. 30s, 5m, 1h30m or 250ms")]
    Empty,
    /// Something other than a number where one must stand.
    #[error(
        "`{input}` is not a duration: expected a number at `{rest}`; write e.g. 30s, 5m, 1h30m or 250ms"
    )]
    NumberExpected {
        /// The text as written.
        input: String,
        /// What follows the place a number was expected.
        rest: String,
    },
    /// A number with no unit after it, in a duration of several parts.
    #[error(
        "`{input}` is not a duration: missing unit after `{number}`; use ns, us, ms, s, m, h or d"
    )]
    MissingUnit {
        /// The text as written.
        input: String,
        /// The number left without a unit.
        number: String,
    },
    /// A word that is not a unit.
    #[error("`{input}` is not a duration: unknown unit `{unit}`; use ns, us, ms, s, m, h or d")]
    UnknownUnit {
        /// The text as written.
        input: String,
        /// The word read as a unit.
        unit: String,
    },
    /// A bare number that is negative, not finite, or too large.
    #[error(
        "`{input}` is not a duration: a bare number is seconds and must be finite, non-negative and below {MAX_SECS}"
    )]
    BadSeconds {
        /// The text as written.
        input: String,
    },
    /// More than [`MAX_SECS`] seconds in all.
    #[error("`{input}` is too long a duration: at most {MAX_SECS} seconds")]
    TooLarge {
        /// The text as written.
        input: String,
    },
}

/// Parses a duration written as `docs/units.md` describes.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        // A bare decimal: seconds, exactly.
        if let Some(n) = lex_number(s).filter(|n| n.len == s.len()) {
            return to_duration(n.nanos(NANOS_PER_SEC), input);
        }
    }
    if let Ok(secs) = s.parse::<f64>() {
        // Other numbers Rust reads (`1e3`, `+5`): seconds, as load always took them.
        return if secs.is_finite() && (0.0..MAX_SECS as f64).contains(&secs) {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(DurationError::BadSeconds {
                input: input.to_owned(),
            })
        };
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let Some(number) = lex_number(rest) else {
            return Err(DurationError::NumberExpected {
                input: input.to_owned(),
                rest: rest.to_owned(),
            });
        };
        let number_text = &rest[..number.len];
        rest = rest[number.len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            return Err(DurationError::MissingUnit {
                input: input.to_owned(),
                number: number_text.to_owned(),
            });
        }
        let Some(scale) = unit_nanos(unit) else {
            return Err(DurationError::UnknownUnit {
                input: input.to_owned(),
                unit: unit.to_owned(),
            });
        };
        total = total.saturating_add(number.nanos(scale));
        rest = rest[unit_len..].trim_start();
    }
    to_duration(total, input)
}

/// A decimal as written: its integer part (saturated) and up to 20 fraction digits.
struct Number {
    int: u128,
    frac: u128,
    frac_digits: u32,
    /// Bytes of text it took.
    len: usize,
}

impl Number {
    /// The number times `scale` nanoseconds, rounded to the nearest nanosecond.
    fn nanos(&self, scale: u128) -> u128 {
        let whole = self.int.saturating_mul(scale);
        let den = 10u128.pow(self.frac_digits);
        // frac < 10^20 and scale < 2^55: the product fits in a u128.
        let part = (self.frac * scale + den / 2) / den;
        whole.saturating_add(part)
    }
}

/// Reads `digits[.digits]` or `.digits` at the start of `s` (at least one digit).
fn lex_number(s: &str) -> Option<Number> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut int: u128 = 0;
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        int = int
            .saturating_mul(10)
            .saturating_add(u128::from(b[i] - b'0'));
        i += 1;
        digits += 1;
    }
    let (mut frac, mut frac_digits) = (0u128, 0u32);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            if frac_digits < 20 {
                frac = frac * 10 + u128::from(b[i] - b'0');
                frac_digits += 1;
            }
            i += 1;
            digits += 1;
        }
    }
    (digits > 0).then_some(Number {
        int,
        frac,
        frac_digits,
        len: i,
    })
}

/// Nanoseconds in one `unit`.
fn unit_nanos(unit: &str) -> Option<u128> {
    const S: u128 = NANOS_PER_SEC;
    Some(match unit {
        "ns" | "nsec" | "nanos" => 1,
        "us" | "µs" | "μs" | "usec" => 1_000,
        "ms" | "msec" | "millis" => 1_000_000,
        "s" | "sec" | "secs" | "second" | "seconds" => S,
        "m" | "min" | "mins" | "minute" | "minutes" => 60 * S,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600 * S,
        "d" | "day" | "days" => 86_400 * S,
        "w" | "wk" | "wks" | "week" | "weeks" => 7 * 86_400 * S,
        "M" | "month" | "months" => 2_630_016 * S,
        "y" | "yr" | "yrs" | "year" | "years" => 31_557_600 * S,
        _ => return None,
    })
}

fn to_duration(nanos: u128, input: &str) -> Result<Duration, DurationError> {
    if nanos >= u128::from(MAX_SECS) * NANOS_PER_SEC {
        return Err(DurationError::TooLarge {
            input: input.to_owned(),
        });
    }
    Ok(Duration::new(
        (nanos / NANOS_PER_SEC) as u64,
        (nanos % NANOS_PER_SEC) as u32,
    ))
}

/// The short form reports print, which [`parse`] reads back: `1h30m`, `5m`, `30s`, `1.5s`,
/// `250ms`, `100us` (below a millisecond, whole microseconds).
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return format!("{}us", d.as_micros());
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms % 1000 != 0 {
        let n = format!("{:.3}", d.as_secs_f64());
        return format!("{}s", n.trim_end_matches('0'));
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// Serde `deserialize_with` for a [`Duration`] field: a string in this grammar, or a number of
/// seconds.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Seconds(f64),
        Text(String),
    }
    let text = match <Repr as serde::Deserialize>::deserialize(d)? {
        Repr::Seconds(secs) => secs.to_string(),
        Repr::Text(s) => s,
    };
    parse(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Duration {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("1h30m"), Duration::from_secs(5400));
        assert_eq!(ok("1h 30m"), Duration::from_secs(5400));
        assert_eq!(ok("250ms"), Duration::from_millis(250));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("2.5s"), Duration::from_millis(2500));
        assert_eq!(ok("100us"), Duration::from_micros(100));
        assert_eq!(ok("100µs"), Duration::from_micros(100));
        assert_eq!(ok("7ns"), Duration::from_nanos(7));
        assert_eq!(ok("2d"), Duration::from_secs(172_800));
        assert_eq!(ok("2"), Duration::from_secs(2));
        assert_eq!(ok(" 0.25 "), Duration::from_millis(250));
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("1e3"), Duration::from_secs(1000));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("1.h"), Duration::from_secs(3600));
        assert_eq!(ok("1min"), Duration::from_secs(60));
        assert_eq!(ok("2 hours 37 min"), Duration::from_secs(9420));
        assert_eq!(ok("1M"), Duration::from_secs(2_630_016));
        assert_eq!(ok("0.1s"), Duration::from_millis(100));
        assert_eq!(ok("0.0000000004s"), Duration::ZERO);
        assert_eq!(ok("0.0000000006s"), Duration::from_nanos(1));
    }

    #[test]
    fn refuses_with_the_reason() {
        for bad in [
            "", "s", "5x", "1h30", "-1s", "abc", "1..2s", "1 0s", "5s,", "inf", "-2",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let msg = parse("5x").unwrap_err().to_string();
        assert!(msg.contains("5x") && msg.contains("unit"), "{msg}");
        assert!(matches!(
            parse("1h30"),
            Err(DurationError::MissingUnit { .. })
        ));
        assert!(matches!(
            parse("1000000000000s"),
            Err(DurationError::TooLarge { .. })
        ));
        assert_eq!(ok("999999999999s"), Duration::from_secs(999_999_999_999));
    }

    #[test]
    fn formats_round_trip() {
        for d in ["1h30m", "5m", "30s", "250ms", "1.5s", "2h", "1m1s", "100us"] {
            assert_eq!(format(ok(d)), d);
        }
    }

    #[test]
    fn deserializes_text_and_seconds() {
        use serde::de::IntoDeserializer;
        use serde::de::value::Error;
        let text: Result<Duration, Error> = deserialize("1h 30m".into_deserializer());
        assert_eq!(text, Ok(Duration::from_secs(5400)));
        let secs: Result<Duration, Error> = deserialize(2.5f64.into_deserializer());
        assert_eq!(secs, Ok(Duration::from_millis(2500)));
        let whole: Result<Duration, Error> = deserialize(5u64.into_deserializer());
        assert_eq!(whole, Ok(Duration::from_secs(5)));
        let bad: Result<Duration, Error> = deserialize("soon".into_deserializer());
        assert!(bad.is_err());
    }

    /// A unit as humantime and this grammar both spell it, and its length in nanoseconds.
    fn unit() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "ns", "nsec", "us", "µs", "usec", "ms", "msec", "s", "sec", "secs", "second",
            "seconds", "m", "min", "mins", "minutes", "h", "hr", "hours", "d", "day", "days", "w",
            "weeks", "M", "months", "y", "years",
        ])
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = parse(&s);
        }

        #[test]
        fn arbitrary_digits_units_and_spaces_never_panic(s in "[0-9. a-zµ]{0,30}") {
            let _ = parse(&s);
        }

        /// Every duration shadow's old grammar (humantime) read, of the shapes people write —
        /// integers or decimals, units long or short, with or without spaces — reads the same.
        #[test]
        fn agrees_with_humantime(parts in prop::collection::vec(
            (0u64..100_000, prop::option::of(0u32..1000), " ?", unit(), " ?"), 1..4)) {
            let text: String = parts.iter().map(|(n, frac, sp, u, sp2)| match frac {
                Some(f) => format!("{n}.{f:03}{sp}{u}{sp2}"),
                None => format!("{n}{sp}{u}{sp2}"),
            }).collect();
            if let Ok(old) = humantime::parse_duration(text.trim()) {
                if old.as_secs() < MAX_SECS {
                    prop_assert_eq!(parse(&text), Ok(old), "{}", text);
                }
            }
        }

        /// Every duration load's old grammar read (units h, m, min, s, ms, us, no spaces)
        /// reads the same to the nanosecond, within what its float arithmetic could carry.
        #[test]
        fn agrees_with_loads_old_grammar(parts in prop::collection::vec(
            (0u64..10_000, prop::option::of(0u32..1000), prop::sample::select(vec!["h", "m", "min", "s", "ms", "us"])), 1..4)) {
            let text: String = parts.iter().map(|(n, frac, u)| match frac {
                Some(f) => format!("{n}.{f:03}{u}"),
                None => format!("{n}{u}"),
            }).collect();
            let secs: f64 = parts.iter().map(|(n, frac, u)| {
                let v = *n as f64 + frac.map_or(0.0, |f| f64::from(f) / 1000.0);
                v * match *u { "h" => 3600.0, "m" | "min" => 60.0, "s" => 1.0, "ms" => 1e-3, _ => 1e-6 }
            }).sum();
            let old = Duration::from_secs_f64(secs);
            let new = parse(&text).unwrap();
            let diff = old.abs_diff(new);
            // f64 carries 53 bits: the old sum could be off by a few ulps of the total.
            prop_assert!(diff.as_secs_f64() <= secs * 4.0 * f64::EPSILON + 1e-9, "{} {:?} {:?}", text, old, new);
        }

        #[test]
        fn bare_seconds_read_as_load_read_them(ms in 0u64..100_000_000) {
            let text = format!("{}.{:03}", ms / 1000, ms % 1000);
            prop_assert_eq!(parse(&text), Ok(Duration::from_millis(ms)));
        }

        #[test]
        fn formatted_durations_read_back(ms in 0u64..10_000_000) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(parse(&format(d)), Ok(d));
        }
    }
}
