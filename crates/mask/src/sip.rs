//! SipHash-2-4, the round function of the Feistel networks; why a second keyed primitive exists
//! beside blake3 is written in `prf.rs`, where every key it is given comes from.
//!
//! Its keys are never the master key: each is 128 bits of a blake3 keyed hash (per transform and
//! value shape), so blake3 stays the root of every derivation while each Feistel round costs a
//! ~20 ns PRF on a short input instead of a full blake3 call.

#[derive(Clone, Copy)]
pub(crate) struct SipKey {
    k0: u64,
    k1: u64,
}

#[inline(always)]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

impl SipKey {
    pub(crate) fn from_bytes(b: &[u8]) -> Self {
        let mut k0 = [0u8; 8];
        let mut k1 = [0u8; 8];
        k0.copy_from_slice(&b[..8]);
        k1.copy_from_slice(&b[8..16]);
        Self {
            k0: u64::from_le_bytes(k0),
            k1: u64::from_le_bytes(k1),
        }
    }

    /// SipHash-2-4 of `prefix` (a few domain bytes) followed by `data`.
    #[inline]
    pub(crate) fn hash(&self, prefix: &[u8], data: &[u8]) -> u64 {
        let len = prefix.len() + data.len();
        if len <= 128 {
            let mut buf = [0u8; 128];
            buf[..prefix.len()].copy_from_slice(prefix);
            buf[prefix.len()..len].copy_from_slice(data);
            return self.hash_bytes(&buf[..len]);
        }
        let mut joined = Vec::with_capacity(len);
        joined.extend_from_slice(prefix);
        joined.extend_from_slice(data);
        self.hash_bytes(&joined)
    }

    fn hash_bytes(&self, msg: &[u8]) -> u64 {
        let mut v = [
            self.k0 ^ 0x736f_6d65_7073_6575,
            self.k1 ^ 0x646f_7261_6e64_6f6d,
            self.k0 ^ 0x6c79_6765_6e65_7261,
            self.k1 ^ 0x7465_6462_7974_6573,
        ];
        let mut words = msg.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            let m = u64::from_le_bytes(word);
            v[3] ^= m;
            round(&mut v);
            round(&mut v);
            v[0] ^= m;
        }
        let rest = words.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        let b = ((msg.len() as u64) << 56) | u64::from_le_bytes(last);
        v[3] ^= b;
        round(&mut v);
        round(&mut v);
        v[0] ^= b;
        v[2] ^= 0xff;
        for _ in 0..4 {
            round(&mut v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_test_vectors() {
        // Aumasson & Bernstein's vectors: key 00..0f, message 00..(n-1).
        let key: Vec<u8> = (0u8..16).collect();
        let k = SipKey::from_bytes(&key);
        assert_eq!(k.hash(&[], &[]), 0x726f_db47_dd0e_0e31);
        let msg: Vec<u8> = (0u8..15).collect();
        assert_eq!(k.hash(&[], &msg), 0xa129_ca61_49be_45e5);
        // The prefix is just the first bytes of the message.
        assert_eq!(k.hash(&msg[..3], &msg[3..]), 0xa129_ca61_49be_45e5);
    }

    #[test]
    #[allow(deprecated)] // std's SipHasher is SipHash-2-4: a second reference
    fn agrees_with_std_siphasher() {
        use std::hash::Hasher;
        let k = SipKey::from_bytes(&[7u8; 16]);
        for n in 0..40usize {
            let msg: Vec<u8> = (0..n).map(|i| (i * 31 % 251) as u8).collect();
            let mut h = std::hash::SipHasher::new_with_keys(k.k0, k.k1);
            h.write(&msg);
            assert_eq!(k.hash(&[], &msg), h.finish(), "len {n}");
        }
    }
}
