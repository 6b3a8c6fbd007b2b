//! PII inside free text: an email in a comment, a card number in a support ticket, an address in
//! a log line, a token in a `Referer`. Finds the spans that a value detector would flag on their
//! own, so that only they are replaced and the rest of the text stays readable.
//!
//! Spans are found by their shape, with the same strict checks as single values (Luhn for
//! cards, the SSA rules for SSNs, mod 97 for IBANs), so numbers in ordinary prose (prices, dates,
//! order numbers failing Luhn, versions) are left alone.

use std::collections::BTreeMap;
use std::ops::Range;

use super::PiiKind;
use super::secret::{auth_scheme_len, has_token_prefix, is_jwt};
use super::values::{
    is_card, is_email, is_iban, is_ip, is_nino, is_phone, is_ssn, starts_with_date,
};

/// One piece of PII found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSpan {
    /// Byte range in the text.
    pub range: Range<usize>,
    pub kind: PiiKind,
    /// True for a credential recognised by its value (a JWT, `Bearer …`, a prefixed API key).
    pub credential: bool,
}

/// Texts longer than this are scanned only up to it: the rest is not inspected, and a caller
/// that must not pass uninspected text treats it as unmaskable.
pub const MAX_SCANNED_TEXT: usize = 1 << 20;

/// Whether a text could hold a span at all: digits, an `@`, or a credential's first letters.
/// Lets the common case (short words, labels) skip the scan.
fn worth_scanning(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    b.len() >= 7
        && (b.contains(&b'@')
            // Six digits make a NINO, seven a phone; an IPv4 address has dots or colons.
            || digits >= 6
            || (digits >= 4 && b.iter().any(|c| matches!(c, b'.' | b':')))
            || text.contains("eyJ")
            // IPv6 addresses can be written in hex letters alone (`fe::ab`).
            || b.iter().filter(|c| **c == b':').count() >= 2
            // Issuers' prefixes (`sk_live_`, `ghp_`, `xoxb-`, `AKIA`, `AIza`) and the
            // credential after an `Authorization` scheme, which may have no digit at all.
            || b.contains(&b'_')
            || text.contains("xox")
            || text.contains("AKIA")
            || text.contains("AIza")
            || text.contains("glpat-")
            || has_scheme_word(b))
}

/// `Bearer `, `Basic `, `Token `, … anywhere, ASCII case-insensitively: one pass over the
/// words that a space follows.
fn has_scheme_word(b: &[u8]) -> bool {
    const SCHEMES: [&[u8]; 6] = [
        b"bearer",
        b"basic",
        b"token",
        b"digest",
        b"negotiate",
        b"apikey",
    ];
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b' ' {
            let word = &b[start..i];
            if (5..=9).contains(&word.len()) && SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s))
            {
                return true;
            }
            start = i + 1;
        } else if !c.is_ascii_alphabetic() {
            start = i + 1;
        }
    }
    false
}

fn is_email_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b)
}

/// Characters of a credential (RFC 6750 b64token: letters, digits, `-._~+/`, `=` padding), an
/// IPv6 address or a URL.
fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b'+' | b'=' | b':' | b'~')
}

/// Spans found so far, by start. They never overlap, so the only one a new range can overlap is
/// the last one that starts before the new range ends: a lookup in O(log n), which keeps a text
/// with many spans (1 MiB of addresses) linear.
type Found = BTreeMap<usize, TextSpan>;

/// Finds PII spans in `text`, in order, not overlapping.
pub fn find_spans(text: &str) -> Vec<TextSpan> {
    let mut spans = Found::new();
    if !worth_scanning(text) {
        return Vec::new();
    }
    let mut cut = text.len().min(MAX_SCANNED_TEXT);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let text = &text[..cut];
    emails(text, &mut spans);
    words(text, &mut spans);
    // IBANs and NINOs before bare numbers: their digit groups (`DE45 3717 2306 6982 8389 59`)
    // can pass Luhn on their own, and the whole value is the more specific match.
    ibans(text, &mut spans);
    ninos(text, &mut spans);
    numbers(text, &mut spans);
    spans.into_values().collect()
}

/// Adds a span unless it overlaps one found before: the first finder wins (an email's digits are
/// not a phone as well).
fn push(spans: &mut Found, range: Range<usize>, kind: PiiKind, credential: bool) {
    let overlaps = spans
        .range(..range.end)
        .next_back()
        .is_some_and(|(_, s)| s.range.end > range.start);
    if overlaps || range.is_empty() {
        return;
    }
    spans.insert(
        range.start,
        TextSpan {
            range,
            kind,
            credential,
        },
    );
}

fn emails(text: &str, spans: &mut Found) {
    let b = text.as_bytes();
    for (at, _) in text.match_indices('@') {
        // Bounded by the longest local part (64) and domain (255) an address can have.
        let mut start = at;
        while start > 0 && at - start < 64 && is_email_char(b[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < b.len()
            && end - at <= 255
            && (b[end].is_ascii_alphanumeric() || matches!(b[end], b'-' | b'.'))
        {
            end += 1;
        }
        // Sentence punctuation is not part of the address.
        while end > at + 1 && b[end - 1] == b'.' {
            end -= 1;
        }
        while start < at && matches!(b[start], b'.' | b'\'' | b'`' | b'{' | b'|' | b'/') {
            start += 1;
        }
        if start < at && is_email(&text[start..end]) {
            push(spans, start..end, PiiKind::Email, false);
        }
    }
}

/// Whitespace- and quote-delimited words: credentials, IPv6 addresses, and the credential after
/// an `Authorization` scheme (`Bearer <credential>`: the credential is masked, the scheme kept).
fn words(text: &str, spans: &mut Found) {
    let b = text.as_bytes();
    let mut i = 0;
    let mut previous: Option<Range<usize>> = None;
    while i < b.len() {
        if !is_word_char(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_word_char(b[i]) {
            i += 1;
        }
        let mut end = i;
        while end > start && matches!(b[end - 1], b'.' | b':' | b'/') {
            end -= 1;
        }
        let word = &text[start..end];
        let after_scheme = previous.as_ref().is_some_and(|p| {
            p.end + 1 == start && b[p.end] == b' ' && auth_scheme_len(&text[p.start..end]).is_some()
        });
        if word.len() >= 16 && (is_jwt(word) || has_token_prefix(word)) || after_scheme {
            push(spans, start..end, PiiKind::Secret, true);
        } else if word.contains(':') && word.len() >= 3 {
            // An address may end in `::` (`2001:db8::`), which the trim above took for
            // punctuation.
            let with_colons = end + 2 <= i && text.get(end..end + 2) == Some("::");
            if is_ip(word) {
                push(spans, start..end, PiiKind::IpAddress, false);
            } else if with_colons && is_ip(&text[start..end + 2]) {
                push(spans, start..end + 2, PiiKind::IpAddress, false);
            }
        }
        previous = Some(start..end);
    }
}

fn is_number_char(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'+')
}

/// Runs of digits and separators: cards, SSNs, phones, IPv4 addresses.
fn numbers(text: &str, spans: &mut Found) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit() || (matches!(b[i], b'+' | b'(') && next_is_digit(b, i));
        // A run starting inside a word (`A123`, `v1.2`), or inside a hyphenated token (the
        // groups of a UUID, `SKU-4111…`), is part of that word.
        let inside_word = i > 0
            && (b[i - 1].is_ascii_alphanumeric()
                || b[i - 1] == b'.'
                || (b[i - 1] == b'-' && i > 1 && b[i - 2].is_ascii_alphanumeric()));
        if !starts || inside_word {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_number_char(b[i]) {
            i += 1;
        }
        let mut end = i;
        while end > start && !(b[end - 1].is_ascii_digit() || b[end - 1] == b')') {
            end -= 1;
        }
        // Glued to letters on the right (`12ab`), it is an identifier.
        if end == i && i < b.len() && b[i].is_ascii_alphabetic() {
            continue;
        }
        classify_run(text, start, end, spans);
    }
}

fn next_is_digit(b: &[u8], i: usize) -> bool {
    b.get(i + 1).is_some_and(u8::is_ascii_digit)
        || (b[i] == b'+'
            && b.get(i + 1) == Some(&b'(')
            && b.get(i + 2).is_some_and(u8::is_ascii_digit))
}

/// A run may hold several values separated by spaces ("call 415 555 0100 or 415 555 0199"):
/// try the whole run, then each maximal prefix that parses, left to right.
fn classify_run(text: &str, start: usize, end: usize, spans: &mut Found) {
    let mut from = start;
    while from < end {
        let run = &text[from..end];
        // Candidate ends: every position after a digit or a closing parenthesis, longest first.
        let mut found = None;
        // The longest value looked for (a 19-digit card or a 15-digit phone with separators) fits
        // in 40 bytes: longer candidates are not tried, which keeps a long run linear.
        let window = &run[..run.len().min(MAX_NUMBER_LEN)];
        for (k, c) in window.char_indices().rev() {
            // A candidate never splits a group of digits (`2024-01-1|5`), nor a number whose
            // groups are joined by dashes or dots (`5094-6419-0225|-6523` is one order number,
            // not a phone and its tail): values in a run are separated by spaces.
            let splits_group = run.as_bytes().get(k + 1).is_some_and(u8::is_ascii_digit);
            let splits_joined = joins_groups(run.as_bytes(), k + 1);
            if !(c.is_ascii_digit() || c == ')') || splits_group || splits_joined {
                continue;
            }
            let cand = &run[..=k];
            if let Some(kind) = number_kind(cand) {
                found = Some((k + 1, kind));
                break;
            }
        }
        match found {
            Some((len, kind)) => {
                push(spans, from..from + len, kind, false);
                from += len;
            }
            None => {
                // Skip the first group and its separator, and try again; a number joined by
                // dashes or dots is skipped whole, as none of its parts is a value of its own.
                let skip = match run.find([' ', '-', '.']) {
                    Some(p) if joins_groups(run.as_bytes(), p) => run.find(' '),
                    other => other,
                };
                from += skip.map_or(run.len(), |p| p + 1);
            }
        }
        while from < end
            && !text.as_bytes()[from].is_ascii_digit()
            && !matches!(text.as_bytes()[from], b'+' | b'(')
        {
            from += 1;
        }
    }
}

const MAX_NUMBER_LEN: usize = 40;

/// Whether `b[at]` is a dash or a dot between two digits.
fn joins_groups(b: &[u8], at: usize) -> bool {
    at > 0
        && matches!(b.get(at), Some(b'-' | b'.'))
        && b[at - 1].is_ascii_digit()
        && b.get(at + 1).is_some_and(u8::is_ascii_digit)
}

fn number_kind(v: &str) -> Option<PiiKind> {
    if v.len() < 7 {
        return None;
    }
    let v = v.trim();
    if starts_with_date(v) {
        return None;
    }
    if v.contains('.') && !v.contains(' ') && is_ip(v) {
        return Some(PiiKind::IpAddress);
    }
    if is_ssn(v) {
        return Some(PiiKind::UsSsn);
    }
    if is_card(v) {
        return Some(PiiKind::CardNumber);
    }
    // In prose, a phone needs its `+` country code or a grouped national layout with
    // parentheses or dashes: "415-555-0100", "(415) 555 0100". Bare digit groups separated by
    // spaces are too often quantities.
    // A parenthesised group is an area code: `(415) 555…`, never a whole value such as a year
    // range `(1963-1981)`.
    let area_code = v.find('(').is_some_and(|open| {
        v[open..].find(')').is_some_and(|close| {
            let inner = &v[open + 1..open + close];
            (1..=4).contains(&inner.len())
                && inner.bytes().all(|b| b.is_ascii_digit())
                && open + close + 1 < v.len()
        })
    });
    if v.contains('(') && !area_code {
        return None;
    }
    let grouped = v.starts_with('+') || area_code || v.matches('-').count() >= 2;
    if grouped && !v.ends_with('-') && is_phone(v) {
        return Some(PiiKind::Phone);
    }
    None
}

/// UK National Insurance numbers in capitals, compact (`AB123456C`) or spaced
/// (`AB 12 34 56 C`), standing alone.
fn ninos(text: &str, spans: &mut Found) {
    let b = text.as_bytes();
    for i in 0..b.len().saturating_sub(8) {
        let starts = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts {
            continue;
        }
        for len in [9, 13] {
            let end = i + len;
            let spaced = len == 13 && [2, 5, 8, 11].iter().all(|&k| b.get(i + k) == Some(&b' '));
            let ends = !b.get(end).is_some_and(u8::is_ascii_alphanumeric);
            let Some(candidate) = text.get(i..end) else {
                continue;
            };
            if (len == 9 || spaced) && ends && b[end - 1].is_ascii_uppercase() && is_nino(candidate)
            {
                push(spans, i..end, PiiKind::UkNino, false);
            }
        }
    }
}

/// IBANs, written grouped by fours or in one block: two letters, two check digits, then letters
/// and digits.
fn ibans(text: &str, spans: &mut Found) {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 15 <= b.len() {
        let starts = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let mut end = i;
        let mut best = None;
        let mut chars = 0;
        while end < b.len() && chars < 34 {
            let c = b[end];
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                chars += 1;
                end += 1;
                let next_is_alnum = b.get(end).is_some_and(u8::is_ascii_alphanumeric);
                if chars >= 15 && !next_is_alnum && is_iban(&text[i..end]) {
                    best = Some(end);
                }
            } else if c == b' '
                && b.get(end + 1)
                    .is_some_and(|n| n.is_ascii_uppercase() || n.is_ascii_digit())
            {
                end += 1;
            } else {
                break;
            }
        }
        match best {
            Some(e) => {
                push(spans, i..e, PiiKind::BankAccount, false);
                i = e;
            }
            None => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, PiiKind)> {
        find_spans(text)
            .into_iter()
            .map(|s| (&text[s.range.clone()], s.kind))
            .collect()
    }

    #[test]
    fn finds_each_kind_in_prose() {
        let t = "Contact jane.doe@example.com or +1 415 555 0100. Card 4111 1111 1111 1111, \
                 SSN 123-45-6789, from 10.1.2.3 and 2001:db8::1; IBAN GB82 WEST 1234 5698 7654 32. \
                 Auth: Bearer abcdefghijklmnop and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2hlcmU";
        let f = found(t);
        let kinds: Vec<PiiKind> = f.iter().map(|x| x.1).collect();
        assert!(
            f.contains(&("jane.doe@example.com", PiiKind::Email)),
            "{f:?}"
        );
        assert!(f.contains(&("+1 415 555 0100", PiiKind::Phone)), "{f:?}");
        assert!(
            f.contains(&("4111 1111 1111 1111", PiiKind::CardNumber)),
            "{f:?}"
        );
        assert!(f.contains(&("123-45-6789", PiiKind::UsSsn)), "{f:?}");
        assert!(f.contains(&("10.1.2.3", PiiKind::IpAddress)), "{f:?}");
        assert!(f.contains(&("2001:db8::1", PiiKind::IpAddress)), "{f:?}");
        assert!(
            f.contains(&("GB82 WEST 1234 5698 7654 32", PiiKind::BankAccount)),
            "{f:?}"
        );
        assert!(f.contains(&("abcdefghijklmnop", PiiKind::Secret)), "{f:?}");
        assert_eq!(
            kinds.iter().filter(|k| **k == PiiKind::Secret).count(),
            2,
            "{f:?}"
        );
    }

    #[test]
    fn whole_values_win_over_their_parts() {
        let t = "NI AB 12 34 56 C or AB123456D, IBAN DE45 3717 2306 6982 8389 59, net 2001:db8::, \
                 Authorization: Bearer ab~cd~ef~gh";
        let f = found(t);
        assert!(f.contains(&("AB 12 34 56 C", PiiKind::UkNino)), "{f:?}");
        assert!(f.contains(&("AB123456D", PiiKind::UkNino)), "{f:?}");
        // `2306 6982 8389 59` alone passes Luhn: the IBAN is found first.
        assert!(
            f.contains(&("DE45 3717 2306 6982 8389 59", PiiKind::BankAccount)),
            "{f:?}"
        );
        assert!(f.contains(&("2001:db8::", PiiKind::IpAddress)), "{f:?}");
        assert!(f.contains(&("ab~cd~ef~gh", PiiKind::Secret)), "{f:?}");
    }

    #[test]
    fn ordinary_prose_has_no_spans() {
        for t in [
            "Order 4111111111111112 shipped on 2024-01-15 at 12:30:45, total 1234.50 EUR",
            "Version 1.2.3 of the product, build 20240115, 3 items of 250 g",
            "Education includes a BA in psychology from Colorado State University in 1970.",
            "Tracks 1 to 14, length 343719 ms, 11170334 bytes",
            "call me maybe",
            "ISO 8601 dates like 2024-01-15T10:00:00Z and times 10:00",
            "2009-01-01 00:00:00",
            "request 00000000-0000-003a-6701-401441803433 and SKU-4111111111111111",
            "Seek And Shall Find: More Of The Best (1963-1981)",
            "invoiced 15/01/2024 14:30 and 2024.01.15 09",
            // One number joined by dashes: neither its head (a phone's shape) nor a Luhn-valid
            // part of it is a value of its own.
            "order 5094-6419-0225-6523 and 3658-2928-6662-9928-017",
        ] {
            assert!(found(t).is_empty(), "{t}: {:?}", found(t));
        }
    }
}
