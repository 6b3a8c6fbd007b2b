//! Format-preserving keyed bijections.
//!
//! A value's maskable characters become symbols (digit radix 10, letter radix 26, hex radix 16);
//! the symbol vector is encrypted by an unbalanced Feistel network whose round function is a
//! keyed blake3 hash, and whose combining step adds per-position offsets modulo each symbol's
//! radix. Each round is invertible given the other half, so the whole is a permutation of the
//! symbol vectors of that shape: distinct inputs give distinct outputs (collision-free by
//! construction), digits stay digits, letters stay letters with their case, and every other
//! character stays where it was. The tweak binds the permutation to the shape (radix sequence)
//! and to any characters kept in clear, so values of different shapes use unrelated permutations.

use crate::prf::Prf;
use crate::sip::{SipKey, Words};
use crate::transform::Alphabet;

/// FF3-1 uses 8 rounds, FF1 10: 8 keeps every symbol dependent on every other after two
/// double-rounds with margin to spare.
const ROUNDS: u8 = 8;
/// Symbol vectors up to this length are kept on the stack.
const STACK_SYMBOLS: usize = 96;

/// Symbol classes, which fix how a symbol is read and written back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Class {
    Digit = 10,
    Lower = 26,
    Upper = 27,
    HexLower = 16,
    HexUpper = 17,
}

impl Class {
    fn radix(self) -> u8 {
        match self {
            Class::Digit => 10,
            Class::Lower | Class::Upper => 26,
            Class::HexLower | Class::HexUpper => 16,
        }
    }
}

/// Classifies `c` under `alphabet`; `None` means the character is kept as is.
#[inline]
pub(crate) fn classify(c: char, alphabet: Alphabet, hex_upper: bool) -> Option<(Class, u8)> {
    match alphabet {
        Alphabet::Digits => c.is_ascii_digit().then(|| (Class::Digit, c as u8 - b'0')),
        Alphabet::Alnum => {
            if c.is_ascii_digit() {
                Some((Class::Digit, c as u8 - b'0'))
            } else if c.is_ascii_lowercase() {
                Some((Class::Lower, c as u8 - b'a'))
            } else if c.is_ascii_uppercase() {
                Some((Class::Upper, c as u8 - b'A'))
            } else {
                None
            }
        }
        Alphabet::Hex => {
            let class = if hex_upper {
                Class::HexUpper
            } else {
                Class::HexLower
            };
            match c {
                '0'..='9' => Some((class, c as u8 - b'0')),
                'a'..='f' => Some((class, c as u8 - b'a' + 10)),
                'A'..='F' => Some((class, c as u8 - b'A' + 10)),
                _ => None,
            }
        }
    }
}

#[inline]
fn render(class: Class, v: u8) -> char {
    let b = match class {
        Class::Digit => b'0' + v,
        Class::Lower => b'a' + v,
        Class::Upper => b'A' + v,
        Class::HexLower => {
            if v < 10 {
                b'0' + v
            } else {
                b'a' + v - 10
            }
        }
        Class::HexUpper => {
            if v < 10 {
                b'0' + v
            } else {
                b'A' + v - 10
            }
        }
    };
    b as char
}

/// Runs `f` with a zeroed scratch buffer of `n` bytes, on the stack when small.
#[inline]
pub(crate) fn with_scratch<R>(n: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if n <= STACK_SYMBOLS {
        let mut buf = [0u8; STACK_SYMBOLS];
        f(&mut buf[..n])
    } else {
        let mut v = vec![0u8; n];
        f(&mut v)
    }
}

/// Encrypts `values` (each below its radix) in place. `tweak` selects the permutation.
pub(crate) fn encrypt(prf: &Prf, tweak: &[u8; 32], values: &mut [u8], radices: &[u8]) {
    let n = values.len();
    if n == 0 {
        return;
    }
    if n == 1 {
        values[0] = small_permutation(prf, tweak, radices[0], values[0], false);
        return;
    }
    let key = SipKey::from_bytes(&tweak[16..]);
    let m = n / 2;
    for round in 0..ROUNDS {
        let (left, right) = values.split_at_mut(m);
        let (lr, rr) = radices.split_at(m);
        if round % 2 == 0 {
            add_round(&key, round, right, left, lr, true);
        } else {
            add_round(&key, round, left, right, rr, true);
        }
    }
}

/// Inverse of [`encrypt`] (used by tests to prove bijectivity; not exposed: masking is one-way for
/// callers, though anyone holding the key could invert it).
#[cfg(test)]
pub(crate) fn decrypt(prf: &Prf, tweak: &[u8; 32], values: &mut [u8], radices: &[u8]) {
    let n = values.len();
    if n == 0 {
        return;
    }
    if n == 1 {
        values[0] = small_permutation(prf, tweak, radices[0], values[0], true);
        return;
    }
    let key = SipKey::from_bytes(&tweak[16..]);
    let m = n / 2;
    for round in (0..ROUNDS).rev() {
        let (left, right) = values.split_at_mut(m);
        let (lr, rr) = radices.split_at(m);
        if round % 2 == 0 {
            add_round(&key, round, right, left, lr, false);
        } else {
            add_round(&key, round, left, right, rr, false);
        }
    }
}

/// `target[i] ±= F(round, source)[i] mod radix[i]`, where F is SipHash-2-4 under the value
/// shape's key, 16 bits per target position (four positions per call).
#[inline]
fn add_round(
    key: &SipKey,
    round: u8,
    source: &[u8],
    target: &mut [u8],
    radices: &[u8],
    forward: bool,
) {
    let apply = |block: usize, r: u64, chunk: &mut [u8]| {
        for (k, t) in chunk.iter_mut().enumerate() {
            let radix = u32::from(radices[block * 4 + k]);
            // Multiply-shift maps 16 random bits onto 0..radix without a division.
            let off = (u32::from((r >> (16 * k)) as u16) * radix) >> 16;
            let cur = u32::from(*t);
            let next = if forward {
                cur + off
            } else {
                cur + radix - off
            };
            *t = (if next >= radix { next - radix } else { next }) as u8;
        }
    };
    let tag = |block: usize| [round, block as u8, (block >> 8) as u8];
    // The source half does not change within a round: cut into words once when short (every
    // e-mail's digit run, phone, card and postal code), and its blocks hashed two at a time.
    if let Some(words) = Words::new(3, source) {
        let tag = |block: usize| Words::tag(&tag(block));
        let mut chunks = target.chunks_mut(4).enumerate();
        while let Some((block, chunk)) = chunks.next() {
            match chunks.next() {
                Some((next, next_chunk)) => {
                    let (r, s) = key.hash_words_pair(&words, tag(block), tag(next));
                    apply(block, r, chunk);
                    apply(next, s, next_chunk);
                }
                None => apply(block, key.hash_words(&words, tag(block)), chunk),
            }
        }
        return;
    }
    let mut chunks = target.chunks_mut(4).enumerate();
    while let Some((block, chunk)) = chunks.next() {
        match chunks.next() {
            Some((next, next_chunk)) => {
                let (r, s) = key.hash_pair(&tag(block), &tag(next), source);
                apply(block, r, chunk);
                apply(next, s, next_chunk);
            }
            None => apply(block, key.hash(&tag(block), source), chunk),
        }
    }
}

/// A keyed permutation of `0..radix` (radix <= 32) by Fisher-Yates over keyed randomness.
fn small_permutation(prf: &Prf, tweak: &[u8; 32], radix: u8, v: u8, inverse: bool) -> u8 {
    let r = radix.min(32) as usize;
    let mut perm = [0u8; 32];
    for (i, p) in perm.iter_mut().enumerate().take(r) {
        *p = i as u8;
    }
    let mut stream = [0u8; 64];
    prf.fill_parts(&[b"single", &tweak[..16]], &mut stream);
    for i in (1..r).rev() {
        let x = u16::from_le_bytes([stream[2 * i], stream[2 * i + 1]]);
        let j = (x as usize) % (i + 1);
        perm.swap(i, j);
    }
    if inverse {
        perm[..r].iter().position(|&p| p == v).unwrap_or(0) as u8
    } else {
        perm[v as usize % r]
    }
}

/// Luhn check digit for `payload` digits (the digits before the check digit).
pub(crate) fn luhn_check_digit(payload: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &d) in payload.iter().rev().enumerate() {
        let d = u32::from(d);
        sum += if i % 2 == 0 {
            let x = d * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            d
        };
    }
    ((10 - (sum % 10)) % 10) as u8
}

/// True when the digits of `s` (other characters ignored) end in a valid Luhn check digit.
pub fn luhn_valid(s: &str) -> bool {
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    match digits.split_last() {
        Some((&check, payload)) if !payload.is_empty() => luhn_check_digit(payload) == check,
        _ => false,
    }
}

/// What to do with the symbols of a string.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FpeSpec {
    pub alphabet: Alphabet,
    pub keep_prefix: usize,
    pub keep_suffix: usize,
    pub luhn: bool,
    /// Keep leading zero digits in clear and re-encrypt (cycle-walk) until the first masked digit
    /// is non-zero, so integers keep their digit count and numbers with and without leading zeros
    /// never meet. Stays a bijection.
    pub no_leading_zero: bool,
}

impl FpeSpec {
    pub(crate) fn new(alphabet: Alphabet) -> Self {
        Self {
            alphabet,
            keep_prefix: 0,
            keep_suffix: 0,
            luhn: false,
            no_leading_zero: false,
        }
    }
}

/// Format-preserving encryption of `input` into `out` (appended). `context` is mixed into the
/// tweak (e.g. the attempt counter of a uniqueness retry, or a transform-specific label).
pub(crate) fn fpe_str(prf: &Prf, spec: &FpeSpec, context: &[u8], input: &str, out: &mut String) {
    let hex_upper = spec.alphabet == Alphabet::Hex
        && input.bytes().any(|b| (b'A'..=b'F').contains(&b))
        && !input.bytes().any(|b| (b'a'..=b'f').contains(&b));
    let count = input
        .chars()
        .filter(|&c| classify(c, spec.alphabet, hex_upper).is_some())
        .count();
    with_scratch(count * 3, |buf| {
        let (values, rest) = buf.split_at_mut(count);
        let (radices, classes) = rest.split_at_mut(count);
        let mut i = 0;
        for c in input.chars() {
            if let Some((class, v)) = classify(c, spec.alphabet, hex_upper) {
                values[i] = v;
                radices[i] = class.radix();
                classes[i] = class as u8;
                i += 1;
            }
        }
        permute_symbols(prf, spec, context, values, radices);
        let mut i = 0;
        for c in input.chars() {
            if classify(c, spec.alphabet, hex_upper).is_some() {
                out.push(render(class_of(classes[i]), values[i]));
                i += 1;
            } else {
                out.push(c);
            }
        }
    });
}

fn class_of(b: u8) -> Class {
    match b {
        10 => Class::Digit,
        26 => Class::Lower,
        27 => Class::Upper,
        16 => Class::HexLower,
        _ => Class::HexUpper,
    }
}

/// Encrypts the symbol vector honouring kept prefix/suffix, Luhn and leading-zero rules.
pub(crate) fn permute_symbols(
    prf: &Prf,
    spec: &FpeSpec,
    context: &[u8],
    values: &mut [u8],
    radices: &[u8],
) {
    let n = values.len();
    let luhn = spec.luhn && n >= 2;
    let end_excl_check = if luhn { n - 1 } else { n };
    let mut start = spec.keep_prefix.min(end_excl_check);
    let end = end_excl_check.saturating_sub(spec.keep_suffix).max(start);
    if spec.no_leading_zero {
        // Leading zeros stay in clear: values with and without them then never meet, and the
        // rest starts with a non-zero digit that cycle-walking keeps non-zero.
        while start < end && radices[start] == 10 && values[start] == 0 {
            start += 1;
        }
    }
    let (input_check_offset, _) = if luhn {
        let expected = luhn_check_digit(&values[..n - 1]);
        ((values[n - 1] + 10 - expected) % 10, ())
    } else {
        (0, ())
    };
    // Tweak: the radix pattern of the whole value and every symbol kept in clear, so each
    // shape/prefix combination gets its own permutation.
    let tweak = prf.hash_parts(&[
        b"fpe-tweak",
        context,
        radices,
        &values[..start],
        &values[end..end_excl_check],
        &[u8::from(luhn)],
    ]);
    let body = &mut values[start..end];
    let body_radices = &radices[start..end];
    let walk = spec.no_leading_zero && !body.is_empty() && body_radices[0] == 10;
    encrypt(prf, &tweak, body, body_radices);
    if walk {
        // Cycle-walking: a permutation's cycle through a valid value returns to a valid value,
        // so this terminates; the bound only guards against a broken invariant.
        let mut guard = 0;
        while body[0] == 0 && guard < 10_000 {
            encrypt(prf, &tweak, body, body_radices);
            guard += 1;
        }
    }
    if luhn {
        let check = luhn_check_digit(&values[..n - 1]);
        values[n - 1] = (check + input_check_offset) % 10;
    }
}

/// The Feistel key for a bit permutation: blake3 of the transform key and `tweak`.
pub(crate) fn bits_key(prf: &Prf, tweak: &[u8]) -> SipKey {
    SipKey::from_bytes(&prf.hash_parts(&[b"bits", tweak])[..16])
}

/// A keyed permutation of `0..2^bits` (bits even, 2..=128) by a balanced Feistel network.
pub(crate) fn permute_bits(key: &SipKey, bits: u32, x: u128) -> u128 {
    let half = bits / 2;
    let mask: u128 = if half >= 128 {
        u128::MAX
    } else {
        (1u128 << half) - 1
    };
    let mut l = (x >> half) & mask;
    let mut r = x & mask;
    for round in 0..ROUNDS {
        let f = bits_round(key, round, r, half) & mask;
        let nr = l ^ f;
        l = r;
        r = nr;
    }
    (l << half) | r
}

/// Round function of [`permute_bits`]: 64 bits of output for halves up to 64 bits, 128 above.
#[inline]
fn bits_round(key: &SipKey, round: u8, half: u128, half_bits: u32) -> u128 {
    if half_bits <= 64 {
        return u128::from(key.hash(&[round], &(half as u64).to_le_bytes()));
    }
    let bytes = half.to_le_bytes();
    let (lo, hi) = key.hash_pair(&[round, 0], &[round, 1], &bytes);
    (u128::from(hi) << 64) | u128::from(lo)
}

#[cfg(test)]
pub(crate) fn unpermute_bits(key: &SipKey, bits: u32, y: u128) -> u128 {
    let half = bits / 2;
    let mask: u128 = (1u128 << half) - 1;
    let mut l = (y >> half) & mask;
    let mut r = y & mask;
    for round in (0..ROUNDS).rev() {
        let pr = l;
        let f = bits_round(key, round, pr, half) & mask;
        l = r ^ f;
        r = pr;
    }
    (l << half) | r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn prf() -> Prf {
        Prf::derive(&[9; 32], "fpe-test")
    }

    #[test]
    fn luhn_matches_known_card_numbers() {
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert_eq!(luhn_check_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
    }

    #[test]
    fn every_three_digit_string_maps_to_a_distinct_one() {
        let p = prf();
        let spec = FpeSpec::new(Alphabet::Digits);
        let mut seen = HashSet::new();
        for i in 0..1000 {
            let s = format!("{i:03}");
            let mut out = String::new();
            fpe_str(&p, &spec, b"", &s, &mut out);
            assert_eq!(out.len(), 3);
            assert!(out.bytes().all(|b| b.is_ascii_digit()));
            assert!(seen.insert(out), "collision at {s}");
        }
        assert_eq!(seen.len(), 1000);
    }

    #[test]
    fn single_symbols_are_permuted_not_shifted() {
        let p = prf();
        let spec = FpeSpec::new(Alphabet::Digits);
        let outs: Vec<u8> = (0..10)
            .map(|d| {
                let mut out = String::new();
                fpe_str(&p, &spec, b"", &d.to_string(), &mut out);
                out.as_bytes()[0] - b'0'
            })
            .collect();
        let set: HashSet<u8> = outs.iter().copied().collect();
        assert_eq!(set.len(), 10);
        // A constant shift would make consecutive differences all equal.
        let diffs: HashSet<u8> = outs.windows(2).map(|w| (w[1] + 10 - w[0]) % 10).collect();
        assert!(diffs.len() > 1);
    }

    #[test]
    fn decrypt_inverts_encrypt_on_mixed_radices() {
        let p = prf();
        let tweak = [5u8; 32];
        let radices = [10u8, 26, 26, 10, 16, 10, 26];
        let orig = [3u8, 25, 0, 9, 15, 1, 7];
        let mut v = orig;
        encrypt(&p, &tweak, &mut v, &radices);
        assert_ne!(v, orig);
        decrypt(&p, &tweak, &mut v, &radices);
        assert_eq!(v, orig);
    }

    #[test]
    fn bit_permutation_round_trips() {
        let p = prf();
        let k = bits_key(&p, b"t");
        for x in [0u128, 1, 0xdead_beef, u32::MAX as u128] {
            let y = permute_bits(&k, 32, x);
            assert!(y <= u32::MAX as u128);
            assert_eq!(unpermute_bits(&k, 32, y), x);
        }
        for x in [0u128, 1, u128::MAX, 0x2001_0db8 << 96] {
            assert_eq!(unpermute_bits(&k, 128, permute_bits(&k, 128, x)), x);
        }
    }

    #[test]
    fn luhn_spec_keeps_validity_and_invalidity() {
        let p = prf();
        let mut spec = FpeSpec::new(Alphabet::Digits);
        spec.luhn = true;
        let mut out = String::new();
        fpe_str(&p, &spec, b"", "4111-1111-1111-1111", &mut out);
        assert!(luhn_valid(&out), "{out}");
        assert_ne!(out, "4111-1111-1111-1111");
        let mut bad = String::new();
        fpe_str(&p, &spec, b"", "4111-1111-1111-1112", &mut bad);
        assert!(!luhn_valid(&bad));
    }
}
