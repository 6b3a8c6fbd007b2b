//! PII kinds from value patterns.

use std::net::IpAddr;

use super::{Detection, Evidence, PiiKind};
use crate::fpe::luhn_valid;

/// The PII kind a single value looks like, if any. Formats are checked strictly (Luhn for cards,
/// the SSA rules for SSNs, HMRC prefixes for NINOs, mod-97 for IBANs) so that ordinary ids and
/// numbers are not flagged.
pub fn classify_value(value: &str) -> Option<PiiKind> {
    let v = value.trim();
    if v.is_empty() || v.len() > 320 {
        return None;
    }
    // Every kind below needs an `@`, a digit or (IPv6) a colon: most words have none, and are
    // answered without looking further.
    let b = v.as_bytes();
    let at = b.contains(&b'@');
    if !at && !b.iter().any(|c| c.is_ascii_digit() || *c == b':') {
        return None;
    }
    if at && is_email(v) {
        return Some(PiiKind::Email);
    }
    if is_ip(v) {
        return Some(PiiKind::IpAddress);
    }
    if is_ssn(v) {
        return Some(PiiKind::UsSsn);
    }
    if is_nino(v) {
        return Some(PiiKind::UkNino);
    }
    if is_iban(v) {
        return Some(PiiKind::BankAccount);
    }
    if is_card(v) {
        return Some(PiiKind::CardNumber);
    }
    if is_phone(v) {
        return Some(PiiKind::Phone);
    }
    None
}

pub(crate) fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return false;
    }
    let local_ok = local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    local_ok
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

pub(crate) fn is_ip(v: &str) -> bool {
    let addr = v.split_once('/').map_or(v, |(a, _)| a);
    // Plain integers parse as nothing here, but `1.2` style decimals would not either; require
    // the dotted-quad or a colon form.
    (addr.contains('.') || addr.contains(':')) && addr.parse::<IpAddr>().is_ok()
}

fn digits(v: &str) -> Vec<u8> {
    v.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// `AAA-GG-SSSS` (dashes or spaces) with the SSA's never-issued ranges excluded.
pub(crate) fn is_ssn(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() != 11 || !(b[3] == b[6] && (b[3] == b'-' || b[3] == b' ')) {
        return false;
    }
    let d = digits(v);
    if d.len() != 9 {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = u32::from(d[3]) * 10 + u32::from(d[4]);
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// UK National Insurance number: two prefix letters (HMRC exclusions), six digits, A–D.
pub(crate) fn is_nino(v: &str) -> bool {
    let s: Vec<u8> = v
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if s.len() != 9 {
        return false;
    }
    let (a, b) = (s[0], s[1]);
    let letters_ok = a.is_ascii_uppercase()
        && b.is_ascii_uppercase()
        && !b"DFIQUV".contains(&a)
        && !b"DFIOQUV".contains(&b);
    let prefix = [a, b];
    let banned = [b"BG", b"GB", b"NK", b"KN", b"TN", b"NT", b"ZZ"];
    letters_ok
        && !banned.iter().any(|p| **p == prefix)
        && s[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&s[8])
}

/// Length of an IBAN in each country of the SWIFT IBAN registry. A string of the wrong length
/// for its country letters is not an IBAN: without this, one random hex digest in a few
/// thousand (`ab44…`, 2 letters and 2 digits first) passed the mod-97 check alone.
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// IBAN: a registry country, that country's length, check digits, mod 97 == 1.
pub(crate) fn is_iban(v: &str) -> bool {
    let s: Vec<u8> = v
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if !(15..=34).contains(&s.len())
        || !s[2..4].iter().all(u8::is_ascii_digit)
        || !s.iter().all(u8::is_ascii_alphanumeric)
        || !IBAN_LENGTHS
            .iter()
            .any(|(country, len)| s[..2] == country[..] && s.len() == *len)
    {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in s[4..].iter().chain(&s[..4]) {
        let n = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if n >= 10 {
            (rem * 100 + n) % 97
        } else {
            (rem * 10 + n) % 97
        };
    }
    rem == 1
}

/// 13–19 digits, optionally grouped by spaces or dashes, a known issuer first digit, and a valid
/// Luhn check digit.
pub(crate) fn is_card(v: &str) -> bool {
    if !v
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-')
    {
        return false;
    }
    let d = digits(v);
    (13..=19).contains(&d.len())
        && (2..=6).contains(&d[0])
        && !d.iter().all(|&x| x == d[0])
        && luhn_valid(v)
}

/// Phone numbers: 7–15 digits with a leading `+`, or grouped by separators, and nothing that
/// looks like a date, a decimal or a bare integer.
pub(crate) fn is_phone(v: &str) -> bool {
    if !v
        .bytes()
        .all(|b| b.is_ascii_digit() || b" +-().".contains(&b))
    {
        return false;
    }
    let d = digits(v);
    if !(7..=15).contains(&d.len()) {
        return false;
    }
    let plus = v.starts_with('+');
    if v[1..].contains('+') {
        return false;
    }
    let groups = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .count();
    let dots = v.matches('.').count();
    // 2024-01-15, 15-01-2024 and 12.50 are not phone numbers.
    let date_like = starts_with_date(v);
    // 123-45-6789 is the SSN layout, never a phone layout.
    let ssn_like = v.len() == 11
        && digits(v).len() == 9
        && v.as_bytes()[3] == v.as_bytes()[6]
        && !v[..3].contains(|c: char| !c.is_ascii_digit())
        && v.as_bytes()[6] != b'.'
        && v[4..6].bytes().all(|b| b.is_ascii_digit());
    if date_like || ssn_like || (dots == 1 && groups == 2) {
        return false;
    }
    // Dots alone separate versions (`116.81.2483`), dates (`24.11.1973`) and thousands as often
    // as a phone's groups: only the layouts phones are written in count.
    if dots > 0 && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return dotted_phone_layout(v, d.len());
    }
    plus || groups >= 3 || (groups == 2 && v.contains('('))
}

/// Phone layouts with dots: pairs (`06.12.34.56.78`), the North American 3-3-4
/// (`415.555.0100`), or a trunk `0` and groups of two or more (`0471.12.34.56`).
fn dotted_phone_layout(v: &str, digits: usize) -> bool {
    let lens: Vec<usize> = v.split('.').map(str::len).collect();
    let pairs = lens.len() >= 4 && lens.iter().all(|&n| n == 2);
    let nanp = lens == [3, 3, 4] && !v.starts_with(['0', '1']);
    let trunk = v.starts_with('0') && lens.iter().all(|&n| n >= 2) && digits >= 9;
    pairs || nanp || trunk
}

/// `2024-01-15…`, `15/01/2024…`, `2024.01.15…`: a date, maybe followed by a time.
pub(crate) fn starts_with_date(v: &str) -> bool {
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let sep = |i: usize| b.get(i).is_some_and(|c| matches!(c, b'-' | b'/' | b'.'));
    (digits(0..4) && sep(4) && digits(5..7) && sep(7) && digits(8..10))
        || (digits(0..2) && sep(2) && digits(3..5) && sep(5) && digits(6..10))
}

/// Kinds counted by [`ValueScan`].
const SCANNED: [PiiKind; 7] = [
    PiiKind::Email,
    PiiKind::IpAddress,
    PiiKind::UsSsn,
    PiiKind::UkNino,
    PiiKind::BankAccount,
    PiiKind::CardNumber,
    PiiKind::Phone,
];

/// Accumulates value-pattern matches over a column's sample; holds counts only.
#[derive(Debug, Clone, Default)]
pub struct ValueScan {
    counts: [u64; SCANNED.len()],
    sampled: u64,
}

impl ValueScan {
    /// An empty scan.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one sampled value (empty and whitespace-only values are skipped).
    pub fn add(&mut self, value: &str) {
        if value.trim().is_empty() {
            return;
        }
        self.sampled += 1;
        if let Some(k) = classify_value(value) {
            if let Some(i) = SCANNED.iter().position(|&s| s == k) {
                self.counts[i] += 1;
            }
        }
    }

    /// Non-empty values seen.
    pub fn sampled(&self) -> u64 {
        self.sampled
    }

    /// The dominant kind when at least half of the values (and at least 3, or all of a smaller
    /// sample) match it. Confidence is the matching share, discounted for small samples.
    pub fn finish(&self) -> Option<Detection> {
        let (i, &matched) = self.counts.iter().enumerate().max_by_key(|(_, c)| **c)?;
        let n = self.sampled;
        if matched == 0 || matched < 3.min(n) || matched * 2 < n {
            return None;
        }
        let share = matched as f64 / n as f64;
        let confidence = share * (n as f64 / (n as f64 + 2.0));
        Some(Detection::new(
            SCANNED[i],
            confidence,
            Evidence::Values {
                matched,
                sampled: n,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_need_a_registry_country_and_its_length() {
        for iban in [
            "GB82 WEST 1234 5698 7654 32",
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "NO9386011117947",
        ] {
            assert!(is_iban(iban), "{iban}");
        }
        // A hex digest whose mod-97 check happens to pass: `AB` is no country.
        assert!(!is_iban("ab44302716168bfff3a722c2683fcd9e"));
        // A real country at the wrong length.
        assert!(!is_iban("DE8937040044053201300"));
    }

    #[test]
    fn known_formats_classify() {
        let cases = [
            ("jane.doe+news@example.co.uk", PiiKind::Email),
            ("192.168.0.1", PiiKind::IpAddress),
            ("2001:db8::ff00:42:8329", PiiKind::IpAddress),
            ("10.0.0.0/8", PiiKind::IpAddress),
            ("123-45-6789", PiiKind::UsSsn),
            ("AB 12 34 56 C", PiiKind::UkNino),
            ("GB82 WEST 1234 5698 7654 32", PiiKind::BankAccount),
            ("4111 1111 1111 1111", PiiKind::CardNumber),
            ("5500-0000-0000-0004", PiiKind::CardNumber),
            ("+1 (415) 555-0100", PiiKind::Phone),
            ("+447946001800", PiiKind::Phone),
            ("06 12 34 56 78", PiiKind::Phone),
            ("415-555-0100", PiiKind::Phone),
            ("415.555.0100", PiiKind::Phone),
            ("06.12.34.56.78", PiiKind::Phone),
        ];
        for (v, k) in cases {
            assert_eq!(classify_value(v), Some(k), "{v}");
        }
    }

    #[test]
    fn ordinary_values_do_not_classify() {
        for v in [
            "hello",
            "12345",
            "4111111111111112",
            "666-12-3456",
            "000-12-3456",
            "2024-01-15",
            "12.50",
            "1.2",
            "user@localhost",
            "@example.com",
            "QQ123456C",
            "GB82 WEST 1234 5698 7654 33",
            "v1.2.3",
            "1234567890",
            "116.81.2483",
            "120.0.6099.109",
            "24.11.1973",
            "2011.04.17",
            "02-06-1994",
        ] {
            assert_eq!(classify_value(v), None, "{v}");
        }
    }

    #[test]
    fn scan_needs_a_majority() {
        let mut s = ValueScan::new();
        for v in ["a@b.co", "x", "y", "z"] {
            s.add(v);
        }
        assert!(s.finish().is_none());
        let mut s = ValueScan::new();
        for v in ["a@b.co", "c@d.co", "e@f.co", "nope", ""] {
            s.add(v);
        }
        let d = s.finish().unwrap();
        assert_eq!(d.kind, PiiKind::Email);
        assert_eq!(
            d.evidence,
            Evidence::Values {
                matched: 3,
                sampled: 4
            }
        );
    }
}
