//! Generators of valid personal values, one per detector format, and of the ordinary values that
//! look like them (near misses). Every valid generator builds the real check (Luhn, mod 97, SSA
//! ranges, HMRC prefixes) instead of sampling a regex, so a miss is the detector's, not ours.

use std::net::Ipv6Addr;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::string::string_regex;

use super::corpus::{GIVEN_NAMES, SURNAMES};

/// The Luhn check digit for `payload` (the digits before it).
pub fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// How a run of digits is written.
#[derive(Debug, Clone, Copy)]
pub enum Grouping {
    Bare,
    Spaces,
    Dashes,
}

fn grouping() -> impl Strategy<Value = Grouping> {
    prop_oneof![
        Just(Grouping::Bare),
        Just(Grouping::Spaces),
        Just(Grouping::Dashes)
    ]
}

/// Digits in groups of four (American Express numbers 4-6-5), joined by the grouping.
pub fn write_card(d: &[u8], g: Grouping) -> String {
    let sep = match g {
        Grouping::Bare => "",
        Grouping::Spaces => " ",
        Grouping::Dashes => "-",
    };
    let sizes: Vec<usize> = if d.len() == 15 {
        vec![4, 6, 5]
    } else {
        let mut s = vec![4; d.len() / 4];
        if d.len() % 4 != 0 {
            s.push(d.len() % 4);
        }
        s
    };
    let mut out = String::new();
    let mut at = 0;
    for (i, n) in sizes.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.extend(d[at..at + n].iter().map(|x| char::from(b'0' + x)));
        at += n;
    }
    out
}

/// Luhn-valid card digits: 13–19 of them, issuer first digit 2–6, not all the same digit.
pub fn card_digits() -> impl Strategy<Value = Vec<u8>> {
    (13usize..=19, 2u8..=6, vec(0u8..=9, 18))
        .prop_map(|(len, first, rest)| {
            let mut d = vec![first];
            d.extend_from_slice(&rest[..len - 2]);
            d.push(luhn_check_digit(&d));
            d
        })
        .prop_filter("all one digit", |d| d.iter().any(|&x| x != d[0]))
}

pub fn card() -> impl Strategy<Value = String> {
    (card_digits(), grouping()).prop_map(|(d, g)| write_card(&d, g))
}

/// A 16–19 digit number that fails Luhn: a valid card number with its check digit changed.
/// Written bare or grouped by dashes; by spaces only with 16 digits, because in prose
/// `4111 1111 1111 1111 123` is a card followed by its security code, and its first 16 digits
/// pass Luhn one time in ten.
pub fn luhn_failing_number() -> impl Strategy<Value = String> {
    (card_digits(), 1u8..=9, grouping())
        .prop_filter("16 digits or more", |(d, _, g)| {
            d.len() == 16 || (d.len() > 16 && !matches!(g, Grouping::Spaces))
        })
        .prop_map(|(mut d, bump, g)| {
            let last = d.len() - 1;
            d[last] = (d[last] + bump) % 10;
            write_card(&d, g)
        })
}

/// A Luhn-valid run of 13–19 digits, written bare (as an order id would be).
pub fn luhn_valid_id() -> impl Strategy<Value = String> {
    card_digits().prop_map(|d| write_card(&d, Grouping::Bare))
}

const CALLING_CODES: [&str; 12] = [
    "1", "7", "31", "33", "34", "39", "44", "49", "55", "61", "353", "971",
];

/// E.164 numbers: `+CC` then 7–11 national digits, compact or grouped by spaces or dashes in
/// groups of 1–4 (the first) and 2–4 (the rest).
pub fn e164_phone() -> impl Strategy<Value = String> {
    (
        select(&CALLING_CODES[..]),
        1u8..=9,
        vec(0u8..=9, 6..=10),
        grouping(),
        1usize..=4,
        vec(2usize..=4, 6),
    )
        .prop_map(|(cc, first, rest, g, lead, sizes)| {
            let mut national = String::from(char::from(b'0' + first));
            national.extend(rest.iter().map(|x| char::from(b'0' + x)));
            let sep = match g {
                Grouping::Bare => return format!("+{cc}{national}"),
                Grouping::Spaces => ' ',
                Grouping::Dashes => '-',
            };
            let mut groups = vec![];
            let mut at = 0;
            for n in std::iter::once(lead).chain(sizes) {
                if at >= national.len() {
                    break;
                }
                let end = (at + n).min(national.len());
                groups.push(&national[at..end]);
                at = end;
            }
            // A trailing group of one digit joins the one before it.
            if groups.len() > 1 && groups.last().is_some_and(|g| g.len() == 1) {
                let n = groups.len();
                let start = national.len() - groups[n - 2].len() - 1;
                groups.truncate(n - 2);
                groups.push(&national[start..]);
            }
            let mut out = format!("+{cc}");
            for grp in groups {
                out.push(sep);
                out.push_str(grp);
            }
            out
        })
}

/// North American numbers: `(415) 555-0100`, `415-555-0100`, `(415) 555 0100`,
/// `+1 (415) 555-0100`.
pub fn nanp_phone() -> impl Strategy<Value = String> {
    (
        2u16..=9,
        0u16..=99,
        2u16..=9,
        0u16..=99,
        0u16..=9999,
        0usize..4,
    )
        .prop_map(|(a, a2, e, e2, line, style)| {
            let area = a * 100 + a2;
            let exch = e * 100 + e2;
            match style {
                0 => format!("({area:03}) {exch:03}-{line:04}"),
                1 => format!("{area:03}-{exch:03}-{line:04}"),
                2 => format!("({area:03}) {exch:03} {line:04}"),
                _ => format!("+1 ({area:03}) {exch:03}-{line:04}"),
            }
        })
}

/// US SSNs in issued ranges: area 001–899 but not 666, group 01–99, serial 0001–9999.
pub fn ssn() -> impl Strategy<Value = String> {
    (1u16..=899, 1u16..=99, 1u16..=9999, any::<bool>())
        .prop_filter("area 666", |(a, ..)| *a != 666)
        .prop_map(|(a, g, s, spaces)| {
            let sep = if spaces { ' ' } else { '-' };
            format!("{a:03}{sep}{g:02}{sep}{s:04}")
        })
}

/// SSN-shaped numbers in ranges the SSA never issues: area 000, 666 or 9xx, group 00 or
/// serial 0000.
pub fn unissued_ssn() -> impl Strategy<Value = String> {
    (0usize..3, 0u16..=999, 0u16..=99, 0u16..=9999, 0usize..3).prop_map(|(bad, a, g, s, field)| {
        let (mut a, mut g, mut s) = (a, g, s);
        match field {
            0 => a = [0, 666, 900 + a % 100][bad],
            1 => g = 0,
            _ => s = 0,
        }
        format!("{a:03}-{g:02}-{s:04}")
    })
}

const NINO_FIRST: &[u8] = b"ABCEGHJKLMNOPRSTWXYZ";
const NINO_SECOND: &[u8] = b"ABCEGHJKLMNPRSTWXYZ";
const NINO_BANNED: [&str; 7] = ["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"];

/// UK National Insurance numbers: HMRC-valid prefix, six digits, suffix A–D; compact or
/// `AB 12 34 56 C`.
pub fn nino() -> impl Strategy<Value = String> {
    (
        select(NINO_FIRST),
        select(NINO_SECOND),
        0u32..=999_999,
        select(&b"ABCD"[..]),
        any::<bool>(),
    )
        .prop_map(|(a, b, n, s, spaced)| {
            let (a, b, s) = (char::from(a), char::from(b), char::from(s));
            let d = format!("{n:06}");
            if spaced {
                format!("{a}{b} {} {} {} {s}", &d[..2], &d[2..4], &d[4..])
            } else {
                format!("{a}{b}{d}{s}")
            }
        })
        .prop_filter("banned prefix", |v| !NINO_BANNED.contains(&&v[..2]))
}

/// BBAN layouts of a few countries (ISO 13616 registry), as regexes.
const IBAN_LAYOUTS: [(&str, &str); 8] = [
    ("GB", "[A-Z]{4}[0-9]{14}"),
    ("DE", "[0-9]{18}"),
    ("FR", "[0-9]{10}[A-Z0-9]{11}[0-9]{2}"),
    ("NL", "[A-Z]{4}[0-9]{10}"),
    ("ES", "[0-9]{20}"),
    ("BE", "[0-9]{12}"),
    ("IT", "[A-Z][0-9]{10}[A-Z0-9]{12}"),
    ("CH", "[0-9]{5}[A-Z0-9]{12}"),
];

fn mod97(s: &str) -> u32 {
    s.bytes().fold(0u32, |rem, c| {
        if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A') + 10) % 97
        }
    })
}

/// An IBAN with real check digits, compact or in groups of four.
pub fn iban() -> impl Strategy<Value = String> {
    (select(&IBAN_LAYOUTS[..]), any::<bool>())
        .prop_flat_map(|((cc, layout), grouped)| {
            let bban = string_regex(layout).expect("a valid regex");
            (Just(cc), bban, Just(grouped))
        })
        .prop_map(|(cc, bban, grouped)| {
            let check = 98 - mod97(&format!("{bban}{cc}00"));
            let compact = format!("{cc}{check:02}{bban}");
            if !grouped {
                return compact;
            }
            let chunks: Vec<String> = compact
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            chunks.join(" ")
        })
}

pub fn ipv4() -> impl Strategy<Value = String> {
    any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}"))
}

/// IPv6 addresses with runs of zero groups (so that `::` appears), written the standard way
/// (compressed, lower case) or in full upper case. Not generated: `::` and one group before a
/// final `::` (`da8d::`), which in prose are as often a word followed by a scope operator
/// (`cafe::`) as a network prefix, and are no host's address.
pub fn ipv6() -> impl Strategy<Value = String> {
    (any::<[u16; 8]>(), any::<[bool; 8]>(), any::<bool>())
        .prop_filter("a host address", |(g, zero, _)| {
            (1..8).any(|i| !zero[i] && g[i] != 0)
        })
        .prop_map(|(mut g, zero, full)| {
            for (x, z) in g.iter_mut().zip(zero) {
                if z {
                    *x = 0;
                }
            }
            if full {
                let parts: Vec<String> = g.iter().map(|x| format!("{x:X}")).collect();
                parts.join(":")
            } else {
                Ipv6Addr::from(g).to_string()
            }
        })
}

/// base64url without padding, as JWTs use.
pub fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// Signed JWTs: a JSON header (`eyJ…`), a JSON payload, and a 32-, 64- or 256-byte signature.
pub fn jwt() -> impl Strategy<Value = String> {
    (
        select(&["HS256", "RS256", "ES256", "PS512"][..]),
        "[a-f0-9]{0,12}",
        "[a-z0-9|-]{1,24}",
        0u64..2_000_000_000,
        select(&[32usize, 64, 256][..]),
        any::<u64>(),
    )
        .prop_map(|(alg, kid, sub, iat, sig_len, seed)| {
            let header = if kid.is_empty() {
                format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)
            } else {
                format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#)
            };
            let payload = format!(r#"{{"sub":"{sub}","iat":{iat}}}"#);
            let sig: Vec<u8> = (0..sig_len)
                .map(|i| (seed.rotate_left(i as u32 % 64) >> (i % 8)) as u8)
                .collect();
            format!(
                "{}.{}.{}",
                base64url(header.as_bytes()),
                base64url(payload.as_bytes()),
                base64url(&sig)
            )
        })
}

/// `<scheme> <credential>`, the credential a b64token (RFC 6750) that does not end in sentence
/// punctuation (`.`, `:`, `/` after a word end a sentence or a URL in prose, and are not taken).
pub fn bearer() -> impl Strategy<Value = (String, String)> {
    (
        select(&["Bearer", "bearer", "BEARER", "Token", "Basic"][..]),
        "[A-Za-z0-9][A-Za-z0-9._~+/-]{6,58}[A-Za-z0-9]={0,2}",
    )
        .prop_map(|(scheme, cred)| (format!("{scheme} {cred}"), cred))
}

/// API keys with their issuer's published prefix and length.
pub fn prefixed_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "ghp_[A-Za-z0-9]{36}",
        "gho_[A-Za-z0-9]{36}",
        "ghs_[A-Za-z0-9]{36}",
        "github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
        "sk_live_[A-Za-z0-9]{24,99}",
        "sk_test_[A-Za-z0-9]{24}",
        "rk_live_[A-Za-z0-9]{24}",
        "AKIA[A-Z2-7]{16}",
        "AIza[A-Za-z0-9_-]{35}",
        "glpat-[A-Za-z0-9_-]{20}",
        "xox[bpa]-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}",
        "npm_[A-Za-z0-9]{36}",
    ]
}

/// Emails: dotted, plus-tagged and hyphenated local parts in mixed case; sub-domains; generic,
/// country and long TLDs.
pub fn email() -> impl Strategy<Value = String> {
    (
        "[A-Za-z0-9]{1,12}",
        vec(
            (select(&[".", "_", "-", "+"][..]), "[A-Za-z0-9]{1,8}"),
            0..3,
        ),
        vec("[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", 1..=3),
        select(
            &[
                "com",
                "org",
                "net",
                "io",
                "co.uk",
                "de",
                "fr",
                "com.br",
                "museum",
                "technology",
                "app",
                "COM",
            ][..],
        ),
    )
        .prop_map(|(head, tail, labels, tld)| {
            let mut local = head;
            for (sep, part) in tail {
                local.push_str(sep);
                local.push_str(&part);
            }
            format!("{local}@{}.{tld}", labels.join("."))
        })
}

/// A given name and a surname from [`GIVEN_NAMES`] and [`SURNAMES`], sometimes with a middle
/// initial.
pub fn person_name() -> impl Strategy<Value = String> {
    (
        select(GIVEN_NAMES),
        select(SURNAMES),
        prop::option::of(select(&b"ABCDEJKLMRST"[..])),
    )
        .prop_map(|(g, s, initial)| match initial {
            Some(i) => format!("{g} {}. {s}", char::from(i)),
            None => format!("{g} {s}"),
        })
}

/// Any text with a letter in it, as a `first_name` or `customer_name` may hold.
pub fn any_lettered_text() -> impl Strategy<Value = String> {
    "\\PC{0,20}[A-Za-zÀ-ÿ]\\PC{0,20}"
}

/// Any value a secret's key may hold: some visible text.
pub fn any_secret_value() -> impl Strategy<Value = String> {
    "\\PC{0,40}\\S\\PC{0,20}"
}

/// Versions: `1.2`, `1.2.3`, `v10.4.21`, `2.0.0-rc.1`, `1.4.0+build.7`, and four-part build
/// versions (`120.0.6099.109`, `10.0.19045.3803`).
pub fn version() -> impl Strategy<Value = String> {
    (
        0u32..=130,
        0u32..=99,
        0u32..=9999,
        0u32..=99_999,
        0usize..6,
        any::<bool>(),
        select(&["rc", "beta", "alpha", "pre", "dev"][..]),
        0u32..=20,
    )
        .prop_map(|(major, minor, patch, build, style, v, pre, n)| {
            let v = if v { "v" } else { "" };
            match style {
                0 => format!("{v}{major}.{minor}"),
                1 | 2 => format!("{v}{major}.{minor}.{patch}"),
                3 => format!("{v}{major}.{minor}.{patch}-{pre}.{n}"),
                4 => format!("{v}{major}.{minor}.{patch}+build.{n}"),
                // Four parts whose last is above 255 cannot be an IPv4 address; four small parts
                // (`1.2.3.4`) can, and are not generated.
                _ => format!("{v}{major}.{minor}.{patch}.{}", 256 + build),
            }
        })
}

/// Dates and timestamps in the common layouts, and Unix times.
pub fn date_or_timestamp() -> impl Strategy<Value = String> {
    (
        1970u32..=2099,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1000,
        0usize..14,
    )
        .prop_map(|(y, mo, d, h, mi, s, ms, style)| match style {
            0 => format!("{y}-{mo:02}-{d:02}"),
            1 => format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
            2 => format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}+02:00"),
            3 => format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
            4 => format!("{d:02}/{mo:02}/{y}"),
            5 => format!("{mo:02}/{d:02}/{y}"),
            6 => format!("{d:02}.{mo:02}.{y}"),
            7 => format!("{d:02}-{mo:02}-{y}"),
            8 => format!("{y}/{mo:02}/{d:02}"),
            9 => format!("{y}.{mo:02}.{d:02}"),
            10 => format!("{y}{mo:02}{d:02}"),
            11 => format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}"),
            12 => format!(
                "{}",
                u64::from(y - 1970) * 31_556_952 + u64::from(mo * 86_400)
            ),
            _ => format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z"),
        })
}

/// Sentences with prices, totals and quantities.
pub fn prices_in_prose() -> impl Strategy<Value = String> {
    (
        1u32..=9,
        0u32..=999,
        0u32..=999,
        0u32..=99,
        1u32..=500,
        1u32..=9999,
        0usize..10,
    )
        .prop_map(|(a, b, c, cents, qty, grams, style)| match style {
            0 => format!("Total {a},{b:03},{c:03}.{cents:02} USD for {qty} items"),
            1 => format!("Gesamt {a}.{b:03}.{c:03},{cents:02} EUR ({qty} Stück)"),
            2 => format!("Prix : {a} {b:03} {c:03},{cents:02} € pour {qty} articles"),
            3 => format!("{qty} x {grams} g at ${b}.{cents:02} each"),
            4 => format!("ordered {qty} units on {b} pallets, {a}{b:03}{c:03} pieces in stock"),
            5 => format!(
                "sizes {} {} {} {} and {}",
                qty,
                qty + 2,
                qty + 4,
                qty + 6,
                qty + 8
            ),
            6 => format!("qty: {qty}, price: {b}.{cents:02}, discount: {cents}%"),
            7 => format!("{a} {b:03} {c:03} units shipped in {qty} boxes of {grams}"),
            8 => format!("Subtotal ${a}{b:03}.{cents:02} + tax ${c}.{cents:02} = total"),
            _ => format!("pages {b}-{}, {qty} copies, {grams} sheets", b + grams),
        })
}

/// UUIDs in lower or upper case.
pub fn uuid() -> impl Strategy<Value = String> {
    (any::<[u8; 16]>(), any::<bool>()).prop_map(|(b, upper)| {
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let u = format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        );
        if upper { u.to_uppercase() } else { u }
    })
}

/// MD5, SHA-1 and SHA-256 digests in hex.
pub fn hex_hash() -> impl Strategy<Value = String> {
    (
        select(&[16usize, 20, 32][..]),
        vec(any::<u8>(), 32),
        any::<bool>(),
    )
        .prop_map(|(n, b, upper)| {
            let h: String = b[..n].iter().map(|x| format!("{x:02x}")).collect();
            if upper { h.to_uppercase() } else { h }
        })
}

/// A key that sounds secret but whose numbers and flags are settings, with such a value.
pub fn secretish_setting() -> impl Strategy<Value = (String, serde_json::Value)> {
    (
        select(
            &[
                "token_ttl",
                "token",
                "password",
                "api_key",
                "password_min_length",
                "session_timeout",
                "otp_length",
                "max_tokens",
                "pin_attempts",
                "secret_rotation_days",
                "access_token_lifetime",
                "refresh_token_expires_in",
            ][..],
        ),
        prop_oneof![
            (0u32..=99_999).prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::Bool),
            Just(serde_json::Value::Null),
        ],
    )
        .prop_map(|(k, v)| (k.to_owned(), v))
}
