//! Numbers with units, so scale rules compare `512Mi` with `1Gi`, `500m` CPU with `1`, and
//! PostgreSQL's `128MB` with `64MB`. A tree's values become quantities through
//! [`crate::Value::quantity`], which uses [`Quantity::integer`], [`Quantity::float`] and
//! [`parse_text`].

/// What a quantity measures; a scale rule only relates quantities of the same dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Plain numbers, Kubernetes CPU (`500m`, `2`) and decimal-suffixed counts (`1k`).
    Number,
    /// Bytes: Kubernetes binary (`Ki`, `Mi`, `Gi`...) and PostgreSQL (`kB`, `MB`, `GB`, 1024-based).
    Bytes,
    /// Durations: `ms`, `s`, `min`, `h`, `d`.
    Time,
}

/// A number in base units with what it measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    /// In base units: ones, bytes or seconds.
    pub value: f64,
    /// What it measures.
    pub dimension: Dimension,
    /// Written without a fraction or unit (`3`, not `3.0` or `3k`): counts such as replicas.
    pub integer: bool,
}

impl Quantity {
    /// A whole number as a tree holds it: a count such as replicas.
    pub fn integer(value: i128) -> Quantity {
        Quantity {
            value: value as f64,
            dimension: Dimension::Number,
            integer: true,
        }
    }

    /// A number with a fraction as a tree holds it; `None` when it is not finite.
    pub fn float(value: f64) -> Option<Quantity> {
        value.is_finite().then_some(Quantity {
            value,
            dimension: Dimension::Number,
            integer: false,
        })
    }
}

/// Reads text holding a number with an optional unit (`512Mi`, `500m`, `30s`, `1e3`); `None`
/// for anything else.
pub fn parse_text(text: &str) -> Option<Quantity> {
    let t = text.trim();
    let split = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
                && !(matches!(c, 'e' | 'E')
                    && t[i + 1..].starts_with(|d: char| d.is_ascii_digit() || d == '-' || d == '+')
                    && i > 0)
        })
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() || num == "-" || num == "+" {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() {
        return None;
    }
    let unit = unit.trim();
    const KI: f64 = 1024.0;
    let (factor, dimension) = match unit {
        "" => (1.0, Dimension::Number),
        "n" => (1e-9, Dimension::Number),
        "u" => (1e-6, Dimension::Number),
        "m" => (1e-3, Dimension::Number),
        "k" => (1e3, Dimension::Number),
        "M" => (1e6, Dimension::Number),
        "G" => (1e9, Dimension::Number),
        "T" => (1e12, Dimension::Number),
        "P" => (1e15, Dimension::Number),
        "E" => (1e18, Dimension::Number),
        "B" => (1.0, Dimension::Bytes),
        "Ki" | "kB" | "KB" | "KiB" => (KI, Dimension::Bytes),
        "Mi" | "MB" | "MiB" => (KI * KI, Dimension::Bytes),
        "Gi" | "GB" | "GiB" => (KI * KI * KI, Dimension::Bytes),
        "Ti" | "TB" | "TiB" => (KI.powi(4), Dimension::Bytes),
        "Pi" | "PB" | "PiB" => (KI.powi(5), Dimension::Bytes),
        "Ei" | "EiB" => (KI.powi(6), Dimension::Bytes),
        "us" | "µs" => (1e-6, Dimension::Time),
        "ms" => (1e-3, Dimension::Time),
        "s" | "sec" => (1.0, Dimension::Time),
        "min" => (60.0, Dimension::Time),
        "h" => (3600.0, Dimension::Time),
        "d" => (86400.0, Dimension::Time),
        _ => return None,
    };
    let integer = unit.is_empty() && !num.contains(['.', 'e', 'E']);
    Some(Quantity {
        value: n * factor,
        dimension,
        integer,
    })
}

/// Human rendering of a base-unit value, for notes such as "expected 512Mi".
pub fn describe(value: f64, dimension: Dimension) -> String {
    let trim = |v: f64| {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    match dimension {
        Dimension::Number => trim(value),
        Dimension::Bytes => {
            let mut units = ["B", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].iter().peekable();
            let mut unit = "B";
            let mut v = value;
            while let Some(u) = units.next() {
                unit = u;
                if v.abs() < 1024.0 || units.peek().is_none() {
                    break;
                }
                v /= 1024.0;
            }
            format!("{}{}", trim(v), unit)
        }
        Dimension::Time => format!("{}s", trim(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        parse_text(s).unwrap()
    }

    #[test]
    fn units_are_understood() {
        assert_eq!(q("512Mi").value * 2.0, q("1Gi").value);
        assert_eq!(q("500m").value, 0.5);
        assert_eq!(q("1").value, 1.0);
        assert!(q("3").integer && !q("3.0").integer && !q("3k").integer);
        assert_eq!(q("128MB").value, 128.0 * 1024.0 * 1024.0);
        assert_eq!(q("8kB").dimension, Dimension::Bytes);
        assert_eq!(q("5min").value, 300.0);
        assert_eq!(q("1e3").value, 1000.0);
        assert_eq!(q("-2").value, -2.0);
        assert!(parse_text("t3.large").is_none());
        assert!(parse_text("12 monkeys").is_none());
        assert!(parse_text("").is_none());
        assert!(parse_text("e5").is_none());
        assert_eq!(describe(q("512Mi").value, Dimension::Bytes), "512Mi");
    }
}
