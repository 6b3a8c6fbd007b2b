//! Fitting a masked value to the column that receives it: a length limit (`varchar(15)`,
//! `char(2)`, a `char_length(x) <= n` check), a list of allowed values (`x IN ('a', 'b')`) and
//! numeric bounds (`x >= 0`).
//!
//! A pseudonym is canonical per value class and key (`DECISIONS.md`, "Masking"): fitting is the
//! only step that depends on the column, and it is deterministic. [`crate::Mask::apply_str_fitted`]
//! keeps the canonical value whenever it fits; otherwise it regenerates within the class (another
//! keyed choice, never lengthened by digits), then shortens the value in a way its class allows
//! (a name is cut, an email keeps its `@domain` and cuts its local part), and for a list picks
//! a keyed member. [`Fit::min_chars_for`] tells a dry run, before any row is read, that a class can
//! never fit (an email into `varchar(3)`).

use crate::transform::Transform;

/// Keyed regenerations tried before shortening a value that does not fit.
pub(crate) const FIT_REGENERATIONS: u32 = 12;

/// What a column accepts. The default accepts everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fit {
    /// Longest value in characters (`varchar(n)`, `char(n)`, `char_length(x) <= n`).
    pub max_chars: Option<usize>,
    /// Shortest value in characters (`char_length(x) >= n`).
    pub min_chars: Option<usize>,
    /// The only values allowed (`x IN (…)`, `x = ANY (ARRAY[…])`); empty: any.
    pub one_of: Vec<String>,
    /// Smallest number allowed, and whether it is allowed itself (`>=`) or not (`>`).
    pub min: Option<(f64, bool)>,
    /// Largest number allowed, and whether it is allowed itself (`<=`) or not (`<`).
    pub max: Option<(f64, bool)>,
}

impl Fit {
    /// True when the fit accepts every value (nothing to do).
    pub fn is_free(&self) -> bool {
        *self == Fit::default()
    }

    /// True when the text (or, for a number, its value) is accepted.
    pub fn accepts(&self, s: &str) -> bool {
        let n = s.chars().count();
        if self.max_chars.is_some_and(|m| n > m) || self.min_chars.is_some_and(|m| n < m) {
            return false;
        }
        if !self.one_of.is_empty() && !self.one_of.iter().any(|v| v == s) {
            return false;
        }
        if self.min.is_some() || self.max.is_some() {
            return s
                .trim()
                .parse::<f64>()
                .is_ok_and(|v| self.accepts_number(v));
        }
        true
    }

    /// True when the number is within the bounds.
    pub fn accepts_number(&self, v: f64) -> bool {
        let lo = self
            .min
            .is_none_or(|(m, incl)| if incl { v >= m } else { v > m });
        let hi = self
            .max
            .is_none_or(|(m, incl)| if incl { v <= m } else { v < m });
        lo && hi
    }

    /// Brings a number inside the bounds (the nearest allowed value; `step` is the smallest
    /// change the column can hold: 1 for integers). Deterministic, and the identity on numbers
    /// already inside.
    pub fn clamp_number(&self, v: f64, step: f64) -> f64 {
        let mut v = v;
        if let Some((m, incl)) = self.min
            && !(if incl { v >= m } else { v > m })
        {
            v = if incl { m } else { m + step };
        }
        if let Some((m, incl)) = self.max
            && !(if incl { v <= m } else { v < m })
        {
            v = if incl { m } else { m - step };
        }
        v
    }

    /// Whether `transform` can ever produce a value this fit accepts, decided before any row is
    /// read: `Err(reason)` for a dry run to report with the column's name.
    pub fn check(&self, transform: &Transform) -> Result<(), String> {
        let Some(max) = self.max_chars else {
            return self.check_list(transform);
        };
        if let Some(min) = Fit::min_chars_for(transform)
            && min > max
        {
            return Err(format!(
                "`{}` values need at least {min} characters and the column holds at most {max}; mask it with `hash` (with `length` ≤ {max}), `format_preserving`, `constant` or `null`",
                transform.name()
            ));
        }
        if let Transform::Constant(c) = transform {
            let text = match &c.value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if text.chars().count() > max {
                return Err(format!(
                    "the constant has {} characters and the column holds at most {max}",
                    text.chars().count()
                ));
            }
        }
        self.check_list(transform)
    }

    fn check_list(&self, transform: &Transform) -> Result<(), String> {
        if let Transform::Constant(c) = transform
            && !self.one_of.is_empty()
        {
            let text = match &c.value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !self.one_of.contains(&text) {
                return Err(format!(
                    "the constant is not one of the values the column's CHECK allows ({})",
                    self.one_of.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The shortest value a transform can be fitted to, for the classes whose values cannot be
    /// cut anywhere: an email keeps `x@` and a domain of at least `a.io`; `None` when any
    /// length works (names, cities and hashes are cut; format-preserving transforms keep the
    /// source value's length, which fits already).
    pub fn min_chars_for(transform: &Transform) -> Option<usize> {
        match transform {
            Transform::Email(o) if o.domains.is_empty() => Some(6),
            Transform::Email(o) => o.domains.iter().map(|d| d.chars().count() + 2).min(),
            Transform::Ip => Some(7),
            _ => None,
        }
    }
}

/// Cuts `out` to at most `max` characters the way its class allows; false when it cannot.
/// `keep_digits`: the value ends with a uniqueness retry's digits (` 42`, or `42` before an
/// email's `@`), which must survive the cut or the retry would collide again.
pub(crate) fn shorten(
    transform: &Transform,
    out: &mut String,
    max: usize,
    keep_digits: bool,
) -> bool {
    let at = match transform {
        Transform::Email(_) | Transform::Username(_) => out.rfind('@').unwrap_or(out.len()),
        Transform::Name(_)
        | Transform::FirstName(_)
        | Transform::LastName(_)
        | Transform::StreetAddress(_)
        | Transform::City(_)
        | Transform::Company(_)
        | Transform::Hash(_) => out.len(),
        _ => return false,
    };
    // The part that may lose characters is `out[..at]`, minus its retry digits; the domain of
    // an email and the retry digits stay whole.
    let head = &out[..at];
    let digits_from = if keep_digits {
        let d = head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if d < head.len() {
            head[..d].trim_end_matches(' ').len()
        } else {
            head.len()
        }
    } else {
        head.len()
    };
    let kept_tail = &out[digits_from..];
    let tail_chars = kept_tail.chars().count();
    let Some(room) = max.checked_sub(tail_chars).filter(|r| *r >= 1) else {
        return false;
    };
    let cut: String = out[..digits_from].chars().take(room).collect();
    let cut = cut
        .trim_end_matches([' ', ',', '-', '.', '\'', '_', '+'])
        .to_owned();
    if cut.is_empty() {
        return false;
    }
    *out = cut + kept_tail;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{EmailOptions, FakeOptions};

    #[test]
    fn an_email_cannot_fit_three_characters() {
        let fit = Fit {
            max_chars: Some(3),
            ..Fit::default()
        };
        let e = fit
            .check(&Transform::Email(EmailOptions::default()))
            .unwrap_err();
        assert!(e.contains("at least 6 characters"), "{e}");
        assert!(fit.check(&Transform::City(FakeOptions::default())).is_ok());
    }

    #[test]
    fn shortening_keeps_the_domain() {
        let mut s = "kaylee.brekke@smith.com".to_owned();
        assert!(shorten(
            &Transform::Email(EmailOptions::default()),
            &mut s,
            14,
            false
        ));
        assert_eq!(s, "kayl@smith.com");
        let mut s = "kaylee.brekke42@smith.com".to_owned();
        assert!(shorten(
            &Transform::Email(EmailOptions::default()),
            &mut s,
            16,
            true
        ));
        assert_eq!(s, "kayl42@smith.com");
        let mut s = "Kaylee Brekke 042".to_owned();
        assert!(shorten(
            &Transform::Name(FakeOptions::default()),
            &mut s,
            8,
            true
        ));
        assert_eq!(s, "Kayl 042");
    }

    #[test]
    fn bounds_clamp_to_the_nearest_allowed_number() {
        let fit = Fit {
            min: Some((0.0, false)),
            max: Some((5.0, true)),
            ..Fit::default()
        };
        assert_eq!(fit.clamp_number(-3.0, 1.0), 1.0);
        assert_eq!(fit.clamp_number(9.0, 1.0), 5.0);
        assert_eq!(fit.clamp_number(3.0, 1.0), 3.0);
        assert!(fit.accepts("5") && !fit.accepts("0"));
    }
}
