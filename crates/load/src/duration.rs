//! Durations as people write them in load plans: `30s`, `5m`, `1h30m`, `250ms`, `1.5s`.
use std::time::Duration;

use crate::LoadError;

/// Parses `1h30m`, `5m`, `30s`, `1.5s`, `250ms`, `100us`. A bare number is seconds.
pub fn parse_duration(input: &str) -> Result<Duration, LoadError> {
    let s = input.trim();
    let bad = |reason: &str| LoadError::spec("duration", input, reason);
    if s.is_empty() {
        return Err(bad("empty; write e.g. 30s, 5m, 1h30m or 250ms"));
    }
    if let Ok(secs) = s.parse::<f64>() {
        return secs_to_duration(secs).ok_or_else(|| bad("must be a finite, non-negative number"));
    }
    let mut total = 0.0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad("expected a number before each unit (e.g. 30s, 1h30m)"));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| bad("not a number; write e.g. 30s, 5m, 1h30m or 250ms"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "h" => 3600.0,
            "m" | "min" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "" => return Err(bad("missing unit after the last number (h, m, s, ms, us)")),
            _ => return Err(bad("unknown unit; use h, m, s, ms or us")),
        };
        total += value * scale;
    }
    secs_to_duration(total).ok_or_else(|| bad("too large"))
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    if (0.0..1e12).contains(&secs) {
        Some(Duration::from_secs_f64(secs))
    } else {
        None
    }
}

/// Short human form: `1h30m`, `5m`, `30s`, `1.5s`, `250ms`.
pub fn format_duration(d: Duration) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("100us").unwrap(), Duration::from_micros(100));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        for bad in ["", "s", "5x", "5", "1h30", "-1s", "abc", "1..2s"] {
            if bad == "5" {
                continue;
            }
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let msg = parse_duration("5x").unwrap_err().to_string();
        assert!(msg.contains("5x") && msg.contains("unit"), "{msg}");
    }

    #[test]
    fn formats_round_trip() {
        for d in ["1h30m", "5m", "30s", "250ms", "1.5s", "2h", "1m1s"] {
            let parsed = parse_duration(d).unwrap();
            assert_eq!(format_duration(parsed), d);
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn seconds_round_trip(ms in 0u64..10_000_000) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}
