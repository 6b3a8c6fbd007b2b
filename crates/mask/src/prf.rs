//! Keyed pseudo-random functions: every masked value is derived from blake3 in keyed mode, and
//! every keyed hash of the crate starts here.
//!
//! * The master key is derived from the user's secret here ([`master_key`], blake3 `derive_key`)
//!   and its public fingerprint computed here ([`key_fingerprint`]); `key.rs` only reads
//!   secrets.
//! * The master key is never used directly: each purpose gets its own 32-byte subkey
//!   `blake3::keyed_hash(master, "prodlike-mask/v1/" + label)` ([`Prf::derive`]), so outputs of
//!   different transforms are unrelated even for the same input (domain separation), while the
//!   same transform gives the same output for the same input in every table, process and run.
//!
//! **The one second keyed primitive: SipHash-2-4 (`sip.rs`).** Format-preserving encryption
//! (`fpe.rs`: ten Feistel rounds per value), bit permutations (`shuffle.rs`, uniqueness scopes)
//! and leak fingerprints (`leak.rs`: one hash per scanned target value) call a PRF on inputs of a
//! few bytes many times per value. On 8- to 32-byte inputs a blake3 keyed hash costs two to
//! three times a SipHash-2-4 call (measured at 89–117 ns against 38–43 ns per call, 20 M calls
//! each, release build on the 2-core development machine): its 64-byte block and finalisation
//! dominate, and would multiply the cost of every format-preserving mask. So those rounds use SipHash, and its 128-bit keys are always cut from
//! a blake3 output of a [`Prf`] here (never the master key): blake3 stays the root of every
//! derivation. Replacing SipHash would change every format-preserving output, which the
//! golden values forbid.

/// Context string for turning a user secret into the master key (blake3 `derive_key` mode).
/// Changing it changes every masked value, so it is versioned and never edited.
const KEY_CONTEXT: &str = "prodlike-mask 2026-01 master key v1";

/// The master key of a user secret.
pub(crate) fn master_key(secret: &[u8]) -> [u8; 32] {
    blake3::derive_key(KEY_CONTEXT, secret)
}

/// 32 bytes that identify `master` without revealing it (its fingerprint's source).
pub(crate) fn key_fingerprint(master: &[u8; 32]) -> [u8; 32] {
    *blake3::keyed_hash(master, b"prodlike-mask/fingerprint").as_bytes()
}

/// Multi-part inputs are length-prefixed so that `("ab","c")` and `("a","bc")` differ.
const STACK: usize = 256;

#[derive(Clone)]
pub(crate) struct Prf {
    key: [u8; 32],
}

impl Prf {
    pub(crate) fn derive(master: &[u8; 32], label: &str) -> Self {
        let mut h = blake3::Hasher::new_keyed(master);
        h.update(b"prodlike-mask/v1/");
        h.update(label.as_bytes());
        Self {
            key: *h.finalize().as_bytes(),
        }
    }

    /// The subkey itself, as an identity: two `Prf`s of different master keys never share it.
    /// Only per-thread memos of pure functions of the key compare it (`fake_memo.rs`).
    pub(crate) fn id(&self) -> &[u8; 32] {
        &self.key
    }

    /// 32 pseudo-random bytes for a single input.
    #[inline]
    pub(crate) fn hash(&self, input: &[u8]) -> [u8; 32] {
        *blake3::keyed_hash(&self.key, input).as_bytes()
    }

    /// 32 pseudo-random bytes for several parts, unambiguously framed. Small inputs are
    /// assembled on the stack and hashed in one call; large ones stream through a hasher.
    pub(crate) fn hash_parts(&self, parts: &[&[u8]]) -> [u8; 32] {
        let total: usize = parts.iter().map(|p| p.len() + 4).sum();
        if total <= crate::prf_memo::MAX_INPUT {
            // The usual case (words, labels, tweaks): a small buffer is cheaper to clear.
            let mut buf = [0u8; crate::prf_memo::MAX_INPUT];
            let at = frame(parts, &mut buf);
            let key = &self.key;
            return crate::prf_memo::cached(key, &buf[..at], || self.hash(&buf[..at]));
        }
        if total <= STACK {
            let mut buf = [0u8; STACK];
            let at = frame(parts, &mut buf);
            let key = &self.key;
            crate::prf_memo::cached(key, &buf[..at], || self.hash(&buf[..at]))
        } else {
            let mut h = blake3::Hasher::new_keyed(&self.key);
            for p in parts {
                h.update(&(p.len() as u32).to_le_bytes());
                h.update(p);
            }
            *h.finalize().as_bytes()
        }
    }
}

/// Writes the length-prefixed `parts` into `buf` (which fits them); returns the length.
fn frame(parts: &[&[u8]], buf: &mut [u8]) -> usize {
    let mut at = 0;
    for p in parts {
        buf[at..at + 4].copy_from_slice(&(p.len() as u32).to_le_bytes());
        at += 4;
        buf[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    at
}

impl Prf {
    /// [`Prf::hash_parts`] for inputs that do not repeat (a unique value's own tag, a noise
    /// factor): the same bytes, without probing or filling the per-thread memo, whose slots
    /// then stay with the inputs that do repeat.
    pub(crate) fn hash_parts_once(&self, parts: &[&[u8]]) -> [u8; 32] {
        let total: usize = parts.iter().map(|p| p.len() + 4).sum();
        if total <= STACK {
            let mut buf = [0u8; STACK];
            let at = frame(parts, &mut buf);
            return self.hash(&buf[..at]);
        }
        self.hash_parts(parts)
    }

    /// Fills `out` with pseudo-random bytes for the framed parts (blake3 extendable output).
    pub(crate) fn fill_parts(&self, parts: &[&[u8]], out: &mut [u8]) {
        if out.len() <= 32 {
            let h = self.hash_parts(parts);
            out.copy_from_slice(&h[..out.len()]);
            return;
        }
        let mut h = blake3::Hasher::new_keyed(&self.key);
        for p in parts {
            h.update(&(p.len() as u32).to_le_bytes());
            h.update(p);
        }
        h.finalize_xof().fill(out);
    }

    /// A pseudo-random u64 for the framed parts.
    #[inline]
    pub(crate) fn u64_parts(&self, parts: &[&[u8]]) -> u64 {
        let h = self.hash_parts(parts);
        u64_at(&h, 0)
    }
}

#[inline]
pub(crate) fn u64_at(bytes: &[u8; 32], word: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[word * 8..word * 8 + 8]);
    u64::from_le_bytes(w)
}

/// Uniform index below `n` (n > 0) from a random u64, by 128-bit multiply (Lemire); the bias is
/// at most n / 2^64.
#[inline]
pub(crate) fn below(r: u64, n: usize) -> usize {
    ((u128::from(r) * n as u128) >> 64) as usize
}

/// Uniform float in [0, 1) from a random u64 (53 significant bits).
#[inline]
pub(crate) fn unit_f64(r: u64) -> f64 {
    (r >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_separates_part_boundaries() {
        let p = Prf::derive(&[7; 32], "t");
        assert_ne!(p.hash_parts(&[b"ab", b"c"]), p.hash_parts(&[b"a", b"bc"]));
    }

    #[test]
    fn stack_and_streaming_paths_agree() {
        let p = Prf::derive(&[7; 32], "t");
        let big = vec![3u8; 300];
        // Same framing whether the input fits the stack buffer or not.
        let mut h = blake3::Hasher::new_keyed(&p.key);
        h.update(&300u32.to_le_bytes());
        h.update(&big);
        assert_eq!(p.hash_parts(&[&big]), *h.finalize().as_bytes());
        let small = [1u8, 2, 3];
        let mut framed = Vec::new();
        framed.extend_from_slice(&3u32.to_le_bytes());
        framed.extend_from_slice(&small);
        assert_eq!(p.hash_parts(&[&small]), p.hash(&framed));
    }

    #[test]
    fn memoised_and_direct_hashes_agree() {
        let p = Prf::derive(&[7; 32], "t");
        for input in [&b""[..], b"john", b"gmail", &[5u8; 40], &[6u8; 90]] {
            let mut framed = Vec::new();
            framed.extend_from_slice(&(input.len() as u32).to_le_bytes());
            framed.extend_from_slice(input);
            // Twice: the second answer may come from the memo.
            assert_eq!(p.hash_parts(&[input]), p.hash(&framed));
            assert_eq!(p.hash_parts(&[input]), p.hash(&framed));
        }
    }

    #[test]
    fn once_and_memoised_hashes_agree() {
        let p = Prf::derive(&[7; 32], "t");
        for input in [&b""[..], b"john", &[5u8; 70], &[6u8; 300]] {
            assert_eq!(
                p.hash_parts_once(&[input, b"x"]),
                p.hash_parts(&[input, b"x"])
            );
        }
    }

    #[test]
    fn labels_separate_domains() {
        let a = Prf::derive(&[7; 32], "a");
        let b = Prf::derive(&[7; 32], "b");
        assert_ne!(a.hash(b"x"), b.hash(b"x"));
    }

    #[test]
    fn below_stays_in_range() {
        for r in [0, 1, u64::MAX, u64::MAX / 2] {
            assert!(below(r, 7) < 7);
        }
        assert_eq!(below(u64::MAX, 10), 9);
    }
}
