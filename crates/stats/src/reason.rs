//! Number formatting for the one-sentence reasons: counts with thousands separators, proportion
//! differences in percentage points, relative changes in percent.

/// `12345` → `"12,345"`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A proportion difference in percentage points: `0.021` → `"2.1"`; two decimals below one point.
pub(crate) fn points(x: f64) -> String {
    number(x * 100.0)
}

/// A relative change in percent with its sign: `0.234` → `"+23.4%"`.
pub(crate) fn percent(x: f64) -> String {
    if !x.is_finite() {
        return if x > 0.0 {
            "+∞%".into()
        } else {
            "−∞%".into()
        };
    }
    let s = number(x * 100.0);
    if x >= 0.0 {
        format!("+{s}%")
    } else {
        format!("{s}%")
    }
}

/// A plain number with precision to suit its size; `∞` for unbounded.
pub(crate) fn number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    let a = x.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.1}")
    } else if a >= 0.01 {
        format!("{x:.2}")
    } else {
        format!("{x:.2e}")
    };
    s.replace('-', "−")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(123), "123");
        assert_eq!(points(0.021), "2.1");
        assert_eq!(points(-0.0042), "−0.42");
        assert_eq!(percent(0.234), "+23.4%");
        assert_eq!(percent(-0.05), "−5.0%");
        assert_eq!(number(f64::INFINITY), "∞");
    }
}
