//! Small encoders for digests (no dependency needed for two alphabets).

const HEX: &[u8; 16] = b"0123456789abcdef";
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The first `chars` lowercase hex characters of `bytes` (at most `2 * bytes.len()`).
pub(crate) fn encode_prefix(bytes: &[u8], chars: usize) -> String {
    let mut out = String::with_capacity(chars);
    push_hex(bytes, chars, &mut out);
    out
}

pub(crate) fn push_hex(bytes: &[u8], chars: usize, out: &mut String) {
    for i in 0..chars.min(bytes.len() * 2) {
        let b = bytes[i / 2];
        let nibble = if i % 2 == 0 { b >> 4 } else { b & 0x0f };
        out.push(HEX[nibble as usize] as char);
    }
}

/// The first `chars` characters of the RFC 4648 base32 encoding of `bytes`, lowercase, unpadded.
pub(crate) fn push_base32(bytes: &[u8], chars: usize, out: &mut String) {
    let total_bits = bytes.len() * 8;
    for i in 0..chars.min(total_bits.div_ceil(5)) {
        let bit = i * 5;
        let mut v: u16 = 0;
        for k in 0..5 {
            let b = bit + k;
            let set = b < total_bits && (bytes[b / 8] >> (7 - (b % 8))) & 1 == 1;
            v = (v << 1) | u16::from(set);
        }
        out.push(BASE32[v as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_matches_known_encoding() {
        assert_eq!(encode_prefix(&[0xde, 0xad, 0xbe, 0xef], 8), "deadbeef");
        assert_eq!(encode_prefix(&[0xde, 0xad], 3), "dea");
    }

    #[test]
    fn base32_matches_rfc4648_vector() {
        // RFC 4648 section 10: BASE32("foobar") = "MZXW6YTBOI======"
        let mut s = String::new();
        push_base32(b"foobar", 16, &mut s);
        assert_eq!(s, "mzxw6ytboi");
    }
}
