//! Percent coding (RFC 3986), the one decoder and encoder: query strings and form bodies are
//! decoded with `+` as a space, a malformed escape (`%zz`, `%4` at the end) is kept literally,
//! and encoding escapes every byte but the unreserved `A-Z a-z 0-9 - . _ ~` in upper-case hex.
//!
//! Used by mask (query and path masking), shadow (echo scrubbing) and load (templates).
use std::borrow::Cow;

/// What a `+` decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    /// A space, as `application/x-www-form-urlencoded` (query strings, form bodies) means it.
    Space,
    /// Itself, as RFC 3986 paths mean it.
    Literal,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Appends the decoded bytes of `input` to `out`.
pub fn decode_into(input: &[u8], plus: Plus, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' if i + 2 < input.len() => match (hex_val(input[i + 1]), hex_val(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus == Plus::Space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
}

/// The decoded text of `input`, invalid UTF-8 replaced by U+FFFD; borrowed when nothing needed
/// decoding.
pub fn decode(input: &str, plus: Plus) -> Cow<'_, str> {
    let plain = !input.contains('%') && (plus == Plus::Literal || !input.contains('+'));
    if plain {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    decode_into(input.as_bytes(), plus, &mut out);
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// Appends `input` with every byte but the unreserved ones escaped.
pub fn encode_into(input: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in input.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// `input` with every byte but the unreserved ones escaped.
pub fn encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    encode_into(input, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decode_handles_escapes_plus_and_malformed_percent() {
        let mut v = Vec::new();
        decode_into(b"a%40b+c%2", Plus::Space, &mut v);
        assert_eq!(v, b"a@b c%2");
        v.clear();
        decode_into(b"%zz%41", Plus::Space, &mut v);
        assert_eq!(v, b"%zzA");
        assert_eq!(decode("a+b%2B", Plus::Literal), "a+b+");
        assert_eq!(decode("a+b", Plus::Space), "a b");
        assert!(matches!(decode("plain", Plus::Space), Cow::Borrowed(_)));
        assert_eq!(decode("%ff", Plus::Space), "\u{fffd}");
    }

    #[test]
    fn encode_round_trips_through_decode() {
        let e = encode("jo hn+x@ex.com/é");
        assert_eq!(e, "jo%20hn%2Bx%40ex.com%2F%C3%A9");
        assert_eq!(decode(&e, Plus::Space), "jo hn+x@ex.com/é");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..64)) {
            let mut out = Vec::new();
            decode_into(&b, Plus::Space, &mut out);
            prop_assert!(out.len() <= b.len());
        }

        #[test]
        fn encoding_round_trips(s in "\\PC{0,40}") {
            let e = encode(&s);
            prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            prop_assert_eq!(decode(&e, Plus::Space), s.as_str());
            prop_assert_eq!(decode(&e, Plus::Literal), s.as_str());
        }
    }
}
