//! Transforms on typed scalars: phone numbers, IP addresses, numeric and date noise.

use std::fmt::Write as _;
#[cfg(test)]
use std::net::Ipv4Addr;
use std::net::{IpAddr, Ipv6Addr};

use prodlike_common::date;

use crate::engine::Keys;
#[cfg(test)]
use crate::fpe::bits_key;
use crate::fpe::{FpeSpec, fpe_str, permute_bits};
use crate::prf::{Prf, below, unit_f64};
use crate::transform::Alphabet;

/// Country calling codes of one and two digits (ITU E.164); every other code has three.
const CC1: &[u8] = b"17";
const CC2: &[u16] = &[
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

fn country_code_len(digits: &[u8]) -> usize {
    match digits {
        [] => 0,
        [d, ..] if CC1.contains(d) => 1,
        [a, b, ..] => {
            let v = u16::from(a - b'0') * 10 + u16::from(b - b'0');
            if CC2.contains(&v) {
                2
            } else {
                digits.len().min(3)
            }
        }
        [_] => 1,
    }
}

/// Number of leading digits a phone number keeps: international prefix and country code, or a
/// national trunk `0`.
fn phone_kept_digits(input: &str) -> usize {
    let t = input.trim_start();
    let digits_after = |s: &str| -> Vec<u8> {
        s.bytes()
            .take_while(u8::is_ascii_digit)
            .take(3)
            .collect::<Vec<u8>>()
    };
    if let Some(rest) = t.strip_prefix('+') {
        country_code_len(&digits_after(rest.trim_start()))
    } else if let Some(rest) = t.strip_prefix("00") {
        2 + country_code_len(&digits_after(rest))
    } else if t.starts_with('0') {
        1
    } else {
        bare_country_code(t)
    }
}

/// A country code written without `+` or `00` (`1 (780) 836-9987`, `44 20 7946 0018`): a first
/// group of one to three digits that is a whole ITU code, set apart by a space, `-` or `.`, and
/// followed by at least nine more digits (a full national number, which a local number with an
/// area code such as `415 555 0100` does not have).
fn bare_country_code(t: &str) -> usize {
    let group = t.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=3).contains(&group) {
        return 0;
    }
    let after = t.as_bytes().get(group).copied();
    if !matches!(after, Some(b' ' | b'-' | b'.')) {
        return 0;
    }
    let digits: Vec<u8> = t.bytes().filter(u8::is_ascii_digit).collect();
    let head = digits.get(..group).unwrap_or_default();
    if country_code_len(head) != group || digits.len() < group + 9 {
        return 0;
    }
    group
}

pub(crate) fn phone(keys: &Keys, keep_country_code: bool, input: &str, out: &mut String) {
    let mut spec = FpeSpec::new(Alphabet::Digits);
    if keep_country_code {
        spec.keep_prefix = phone_kept_digits(input);
    }
    // Leading zeros (trunk `0`, `00` prefixes) stay and the first masked digit stays non-zero, so
    // number classes never meet and the transform stays injective.
    spec.no_leading_zero = true;
    fpe_str(&keys.phone, &spec, b"phone", input, out);
}

/// Maps an IPv4/IPv6 address (optionally with a `/prefix`) through a keyed permutation of its
/// address space. `None` when the text is not an address.
pub(crate) fn ip(keys: &Keys, input: &str, out: &mut String) -> Option<()> {
    let trimmed = input.trim();
    let (addr, suffix) = match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, ""),
    };
    let parsed: IpAddr = addr.parse().ok()?;
    match parsed {
        IpAddr::V4(v4) => {
            let y = permute_bits(&keys.ip_v4, 32, u128::from(u32::from(v4)));
            // As `Ipv4Addr`'s Display writes it, without the formatting machinery.
            for (i, octet) in (y as u32).to_be_bytes().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u8(octet, out);
            }
        }
        IpAddr::V6(v6) => {
            let y = permute_bits(&keys.ip_v6, 128, u128::from(v6));
            let _ = write!(out, "{}", Ipv6Addr::from(y));
        }
    }
    out.push_str(suffix);
    Some(())
}

fn push_u8(v: u8, out: &mut String) {
    if v >= 100 {
        out.push(char::from(b'0' + v / 100));
    }
    if v >= 10 {
        out.push(char::from(b'0' + v / 10 % 10));
    }
    out.push(char::from(b'0' + v % 10));
}

/// The address mapping as it was written first: [`ip`] must agree with it (tested).
#[cfg(test)]
fn ip_addr(prf: &Prf, addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let x = u128::from(u32::from(v4));
            let y = permute_bits(&bits_key(prf, b"v4"), 32, x);
            IpAddr::V4(Ipv4Addr::from(y as u32))
        }
        IpAddr::V6(v6) => {
            let y = permute_bits(&bits_key(prf, b"v6"), 128, u128::from(v6));
            IpAddr::V6(Ipv6Addr::from(y))
        }
    }
}

/// Largest integer magnitude an f64 holds exactly.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

fn factor(prf: &Prf, canonical: &[u8], percent: f64) -> f64 {
    let h = prf.hash_parts_once(&[canonical]);
    let u = unit_f64(crate::prf::u64_at(&h, 0)) * 2.0 - 1.0;
    1.0 + u * percent / 100.0
}

pub(crate) fn noise_i64(prf: &Prf, v: i64, percent: f64) -> i64 {
    let f = factor(prf, &int_canonical(v), percent);
    let x = (v as f64 * f).round();
    if x >= i64::MAX as f64 {
        i64::MAX
    } else if x <= i64::MIN as f64 {
        i64::MIN
    } else {
        x as i64
    }
}

fn int_canonical(v: i64) -> [u8; 9] {
    let mut c = [b'i'; 9];
    c[1..].copy_from_slice(&v.to_le_bytes());
    c
}

pub(crate) fn noise_f64(prf: &Prf, v: f64, percent: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    if v.fract() == 0.0 && v.abs() < EXACT_F64 {
        let f = factor(prf, &int_canonical(v as i64), percent);
        return v * f;
    }
    let mut c = [b'f'; 9];
    c[1..].copy_from_slice(&v.to_bits().to_le_bytes());
    v * factor(prf, &c, percent)
}

/// Noise on a decimal written as text (`-12`, `3.50`, ` 7 `): the result keeps the number of
/// decimals. `None` when the text is not a plain decimal number.
pub(crate) fn noise_text(prf: &Prf, input: &str, percent: f64, out: &mut String) -> Option<()> {
    let t = input.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int_part, frac_part) = match body.find('.') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int_part)
        || !frac_part.is_none_or(digits_ok)
        || (int_part.is_empty() && frac_part.is_none_or(str::is_empty))
    {
        return None;
    }
    match frac_part {
        None => match t.parse::<i64>() {
            Ok(v) => {
                let _ = write!(out, "{}", noise_i64(prf, v, percent));
            }
            Err(_) => {
                let v: f64 = t.parse().ok()?;
                let _ = write!(out, "{:.0}", noise_f64(prf, v, percent));
            }
        },
        Some(frac) => {
            let v: f64 = t.parse().ok()?;
            let _ = write!(
                out,
                "{:.prec$}",
                noise_f64(prf, v, percent),
                prec = frac.len()
            );
        }
    }
    Some(())
}

/// The keyed shift, in days, of calendar day `day` (days since 1970-01-01).
pub(crate) fn day_shift(prf: &Prf, day: i64, max_days: u32) -> i64 {
    let r = prf.u64_parts(&[&day.to_le_bytes()]);
    below(r, 2 * max_days as usize + 1) as i64 - i64::from(max_days)
}

/// Shifts the leading `YYYY-MM-DD` of `input`, keeping everything after it (time, offset) as it
/// was. `None` when the text does not start with a valid ISO date or leaves years 0..=9999.
pub(crate) fn date_noise_text(
    prf: &Prf,
    input: &str,
    max_days: u32,
    out: &mut String,
) -> Option<()> {
    let lead = input.len() - input.trim_start().len();
    let t = &input[lead..];
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &[u8]| -> Option<u32> {
        if s.iter().all(u8::is_ascii_digit) {
            Some(s.iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0')))
        } else {
            None
        }
    };
    let y = i64::from(num(&b[0..4])?);
    let m = num(&b[5..7])?;
    let d = num(&b[8..10])?;
    if !date::is_valid(y, m, d) {
        return None;
    }
    if b.len() > 10 && b[10].is_ascii_digit() {
        return None;
    }
    let day = date::days_from_civil(y, m, d);
    let (ny, nm, nd) = date::civil_from_days(day + day_shift(prf, day, max_days));
    if !(0..=9999).contains(&ny) {
        return None;
    }
    out.push_str(&input[..lead]);
    let _ = write!(out, "{ny:04}-{nm:02}-{nd:02}");
    out.push_str(&t[10..]);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_their_display_writes_them() {
        let m = crate::Masker::new(crate::MaskKey::from_secret(b"ip display test key").unwrap());
        let keys = m.keys();
        let mut x: u32 = 0x1234_5678;
        for i in 0..5000u32 {
            x = x.wrapping_mul(0x9E37_79B9).wrapping_add(i);
            let v4 = Ipv4Addr::from(if i < 300 {
                i.wrapping_mul(0x0101_0101) / 3
            } else {
                x
            });
            let v6 = Ipv6Addr::from(u128::from(x) << (i % 96));
            for (input, addr) in [
                (format!("{v4}"), IpAddr::V4(v4)),
                (format!(" {v4}/24"), IpAddr::V4(v4)),
                (format!("{v6}/64"), IpAddr::V6(v6)),
            ] {
                let mut out = String::new();
                ip(keys, &input, &mut out).unwrap();
                let suffix = input.find('/').map_or("", |i| &input[i..]);
                assert_eq!(out, format!("{}{suffix}", ip_addr(&keys.ip, addr)));
            }
        }
    }

    #[test]
    fn country_codes_have_their_itu_lengths() {
        assert_eq!(phone_kept_digits("+1 415 555 0100"), 1);
        assert_eq!(phone_kept_digits("+44 20 7946 0018"), 2);
        assert_eq!(phone_kept_digits("+353 1 234 5678"), 3);
        assert_eq!(phone_kept_digits("0033 1 23 45 67 89"), 4);
        assert_eq!(phone_kept_digits("020 7946 0018"), 1);
        assert_eq!(phone_kept_digits("415-555-0100"), 0);
        assert_eq!(phone_kept_digits("1 (780) 836-9987"), 1);
        assert_eq!(phone_kept_digits("44 20 7946 0018"), 2);
        assert_eq!(phone_kept_digits("415 555 0100"), 0);
        assert_eq!(phone_kept_digits("1-800-555-0100"), 1);
    }

    #[test]
    fn decimal_text_keeps_its_precision() {
        let prf = Prf::derive(&[1; 32], "n");
        let mut out = String::new();
        noise_text(&prf, "1234.50", 10.0, &mut out).unwrap();
        let (_, frac) = out.split_once('.').unwrap();
        assert_eq!(frac.len(), 2);
        let v: f64 = out.parse().unwrap();
        assert!((1111.0..=1358.0).contains(&v), "{v}");
        assert!(noise_text(&prf, "12a", 10.0, &mut String::new()).is_none());
        assert!(noise_text(&prf, "-", 10.0, &mut String::new()).is_none());
    }

    #[test]
    fn invalid_dates_are_refused() {
        let prf = Prf::derive(&[1; 32], "d");
        for bad in [
            "2024-02-30",
            "2024-13-01",
            "24-01-01",
            "2024-01-012",
            "hello",
        ] {
            assert!(
                date_noise_text(&prf, bad, 5, &mut String::new()).is_none(),
                "{bad}"
            );
        }
    }
}
