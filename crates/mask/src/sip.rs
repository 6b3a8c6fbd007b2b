//! SipHash-2-4, the round function of the Feistel networks; why a second keyed primitive exists
//! beside blake3 is written in `prf.rs`, where every key it is given comes from.
//!
//! Its keys are never the master key: each is 128 bits of a blake3 keyed hash (per transform and
//! value shape), so blake3 stays the root of every derivation while each Feistel round costs a
//! ~20 ns PRF on a short input instead of a full blake3 call.

/// One SipRound on the four state words.
macro_rules! sip_round {
    ($v0:ident, $v1:ident, $v2:ident, $v3:ident) => {
        $v0 = $v0.wrapping_add($v1);
        $v1 = $v1.rotate_left(13);
        $v1 ^= $v0;
        $v0 = $v0.rotate_left(32);
        $v2 = $v2.wrapping_add($v3);
        $v3 = $v3.rotate_left(16);
        $v3 ^= $v2;
        $v0 = $v0.wrapping_add($v3);
        $v3 = $v3.rotate_left(21);
        $v3 ^= $v0;
        $v2 = $v2.wrapping_add($v1);
        $v1 = $v1.rotate_left(17);
        $v1 ^= $v2;
        $v2 = $v2.rotate_left(32);
    };
}

/// A short message (`tag_len` bytes of tag, then data; 24 bytes at most) cut into SipHash's
/// words once, the tag's bytes left zero: a Feistel round hashes the same half under several
/// tags (one per block of four symbols), and packing the bytes again for each hash cost more
/// than the hash itself (buffers cleared and copied per call).
pub(crate) struct Words {
    /// The full words, then the last: the remaining bytes, zero-padded, the length in its top byte.
    w: [u64; 4],
    /// How many full words come before the last.
    full: usize,
}

impl Words {
    /// Longest message: tag and data.
    pub(crate) const MAX: usize = 24;

    /// The message `tag_len` zero bytes then `data`, or `None` when longer than [`Words::MAX`].
    #[inline]
    pub(crate) fn new(tag_len: usize, data: &[u8]) -> Option<Self> {
        let len = tag_len + data.len();
        if len > Self::MAX {
            return None;
        }
        let mut buf = [0u8; 32];
        buf[tag_len..len].copy_from_slice(data);
        let mut w = [0u64; 4];
        for (i, word) in w.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[i * 8..i * 8 + 8]);
            *word = u64::from_le_bytes(b);
        }
        let full = len / 8;
        w[full] |= (len as u64) << 56;
        Some(Self { w, full })
    }

    /// The tag `bytes` (at most 7) as the word ORed into the message's first word.
    #[inline]
    pub(crate) fn tag(bytes: &[u8]) -> u64 {
        bytes
            .iter()
            .take(7)
            .enumerate()
            .fold(0, |t, (i, &b)| t | (u64::from(b) << (8 * i)))
    }
}

#[derive(Clone, Copy)]
pub(crate) struct SipKey {
    k0: u64,
    k1: u64,
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
        if len <= 24 {
            // Feistel rounds hash a few bytes: a small buffer is cheaper to clear.
            let mut buf = [0u8; 24];
            buf[..prefix.len()].copy_from_slice(prefix);
            buf[prefix.len()..len].copy_from_slice(data);
            return self.hash_bytes(&buf[..len]);
        }
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

    /// [`SipKey::hash`] of `(a, data)` and of `(b, data)` at once (`a` and `b` of one length):
    /// the two hashes are independent, and computed in step the processor overlaps them, where
    /// one SipHash alone is a chain of dependent steps. The same values as two calls.
    #[inline]
    pub(crate) fn hash_pair(&self, a: &[u8], b: &[u8], data: &[u8]) -> (u64, u64) {
        match Words::new(a.len(), data) {
            Some(m) if a.len() == b.len() && a.len() <= 7 => {
                self.hash_words_pair(&m, Words::tag(a), Words::tag(b))
            }
            _ => (self.hash(a, data), self.hash(b, data)),
        }
    }

    /// The state SipHash starts from under this key.
    #[inline]
    fn init(&self) -> [u64; 4] {
        [
            self.k0 ^ 0x736f_6d65_7073_6575,
            self.k1 ^ 0x646f_7261_6e64_6f6d,
            self.k0 ^ 0x6c79_6765_6e65_7261,
            self.k1 ^ 0x7465_6462_7974_6573,
        ]
    }

    /// [`SipKey::hash`] of a message prepared as [`Words`], with `tag` in its first bytes.
    #[inline]
    pub(crate) fn hash_words(&self, m: &Words, tag: u64) -> u64 {
        let [mut v0, mut v1, mut v2, mut v3] = self.init();
        for i in 0..=m.full {
            let w = if i == 0 { m.w[0] | tag } else { m.w[i] };
            v3 ^= w;
            sip_round!(v0, v1, v2, v3);
            sip_round!(v0, v1, v2, v3);
            v0 ^= w;
        }
        v2 ^= 0xff;
        for _ in 0..4 {
            sip_round!(v0, v1, v2, v3);
        }
        v0 ^ v1 ^ v2 ^ v3
    }

    /// [`SipKey::hash_words`] under two tags at once, in step (see [`SipKey::hash_pair`]).
    #[inline]
    pub(crate) fn hash_words_pair(&self, m: &Words, a: u64, b: u64) -> (u64, u64) {
        let [mut a0, mut a1, mut a2, mut a3] = self.init();
        let [mut b0, mut b1, mut b2, mut b3] = self.init();
        for i in 0..=m.full {
            let (wa, wb) = if i == 0 {
                (m.w[0] | a, m.w[0] | b)
            } else {
                (m.w[i], m.w[i])
            };
            a3 ^= wa;
            b3 ^= wb;
            sip_round!(a0, a1, a2, a3);
            sip_round!(b0, b1, b2, b3);
            sip_round!(a0, a1, a2, a3);
            sip_round!(b0, b1, b2, b3);
            a0 ^= wa;
            b0 ^= wb;
        }
        a2 ^= 0xff;
        b2 ^= 0xff;
        for _ in 0..4 {
            sip_round!(a0, a1, a2, a3);
            sip_round!(b0, b1, b2, b3);
        }
        (a0 ^ a1 ^ a2 ^ a3, b0 ^ b1 ^ b2 ^ b3)
    }

    fn hash_bytes(&self, msg: &[u8]) -> u64 {
        // The state in four locals (registers) rather than an array.
        let [mut v0, mut v1, mut v2, mut v3] = self.init();
        let mut words = msg.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            let m = u64::from_le_bytes(word);
            v3 ^= m;
            sip_round!(v0, v1, v2, v3);
            sip_round!(v0, v1, v2, v3);
            v0 ^= m;
        }
        let rest = words.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        let b = ((msg.len() as u64) << 56) | u64::from_le_bytes(last);
        v3 ^= b;
        sip_round!(v0, v1, v2, v3);
        sip_round!(v0, v1, v2, v3);
        v0 ^= b;
        v2 ^= 0xff;
        sip_round!(v0, v1, v2, v3);
        sip_round!(v0, v1, v2, v3);
        sip_round!(v0, v1, v2, v3);
        sip_round!(v0, v1, v2, v3);
        v0 ^ v1 ^ v2 ^ v3
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
    fn prepared_words_are_the_same_hashes() {
        let k = SipKey::from_bytes(&[5u8; 16]);
        for n in 0..=24usize {
            let data: Vec<u8> = (0..n).map(|i| (i * 13 + 7) as u8).collect();
            for tag in [
                &[][..],
                &[1u8][..],
                &[2, 0, 1],
                &[255, 254, 253, 252, 251, 250, 249],
            ] {
                if tag.len() + n > Words::MAX {
                    assert!(Words::new(tag.len(), &data).is_none());
                    continue;
                }
                let Some(m) = Words::new(tag.len(), &data) else {
                    panic!("{} + {n} bytes fit", tag.len());
                };
                assert_eq!(k.hash_words(&m, Words::tag(tag)), k.hash(tag, &data));
                let other = [9u8; 7];
                let other = &other[..tag.len()];
                assert_eq!(
                    k.hash_words_pair(&m, Words::tag(tag), Words::tag(other)),
                    (k.hash(tag, &data), k.hash(other, &data))
                );
            }
        }
    }

    #[test]
    fn pairs_are_two_hashes() {
        let k = SipKey::from_bytes(&[3u8; 16]);
        for n in 0..30usize {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 + 1) as u8).collect();
            for (a, b) in [
                (&[1u8, 2, 3][..], &[1u8, 3, 3][..]),
                (&[9], &[8]),
                (&[], &[]),
            ] {
                assert_eq!(
                    k.hash_pair(a, b, &data),
                    (k.hash(a, &data), k.hash(b, &data))
                );
            }
        }
        assert_eq!(
            k.hash_pair(&[1], &[1, 2], b"x"),
            (k.hash(&[1], b"x"), k.hash(&[1, 2], b"x"))
        );
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
