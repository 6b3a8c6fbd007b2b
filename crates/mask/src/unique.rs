//! Keeping unique columns unique after masking.
//!
//! Bijective transforms (`format_preserving`, `card`, `phone`, `ip`, `keep`) cannot collide and
//! need nothing. Fakes, `hash` and `noise` map a large input space onto a smaller one, so two
//! inputs can meet on one pseudonym. A [`UniqueScope`] remembers which input holds each
//! pseudonym; a second input that lands on a held one is re-derived with a keyed retry counter
//! until it finds a free one ([`crate::Mask::apply_str_unique`]). Same input → same output inside
//! a scope, whatever the order; memory is ~40 bytes per distinct value.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use crate::prf::Prf;

const SHARDS: usize = 16;

/// Keys are already uniformly random 64-bit fingerprints: hash them by identity.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // The shard is chosen by the top bits (`claim`), and hashbrown takes its control byte
        // from the top 7 bits of the hash: rotated, every entry of a shard does not share them
        // (which made lookups compare keys in long runs). Only where entries sit changes.
        self.0 = n.rotate_left(32);
    }
}

type Shard = HashMap<u64, u128, BuildHasherDefault<IdentityHasher>>;

/// Which input holds which pseudonym, for one set of columns that must not share values (one
/// unique column, or several columns compared with each other). Cheap to clone, `Send + Sync`:
/// share one scope between the tables whose masked values must agree (e.g. `users.email` and
/// `invites.email`) so that the same input gets the same pseudonym in both.
///
/// Pseudonyms are remembered by a 64-bit fingerprint (a false match only causes a spare retry,
/// never a duplicate) and inputs by a 128-bit keyed tag.
#[derive(Clone, Default)]
pub struct UniqueScope {
    shards: Arc<[Mutex<Shard>; SHARDS]>,
}

impl UniqueScope {
    /// An empty scope.
    pub fn new() -> Self {
        Self::default()
    }

    /// Distinct pseudonyms held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// True when no pseudonym is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn input_tag(&self, prf: &Prf, transform: &str, input: &str) -> u128 {
        let h = prf.hash_parts_once(&[transform.as_bytes(), input.as_bytes()]);
        let mut w = [0u8; 16];
        w.copy_from_slice(&h[..16]);
        u128::from_le_bytes(w)
    }

    /// Claims `output` for the input with `tag`: true when it was free or already this input's.
    pub(crate) fn claim(&self, output: &[u8], tag: u128) -> bool {
        let fp = fingerprint(output);
        let shard = &self.shards[(fp >> 60) as usize % SHARDS];
        let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(&fp) {
            Some(&holder) => holder == tag,
            None => {
                map.insert(fp, tag);
                true
            }
        }
    }
}

/// 64-bit FNV-1a followed by a murmur3 finaliser: fast, and distinct outputs only share a
/// fingerprint by chance (which costs one spare retry, not a duplicate).
fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_is_reentrant_for_same_input_and_refused_for_another() {
        let s = UniqueScope::new();
        assert!(s.claim(b"bob", 1));
        assert!(s.claim(b"bob", 1));
        assert!(!s.claim(b"bob", 2));
        assert!(s.claim(b"bib", 2));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn clones_share_state() {
        let s = UniqueScope::new();
        let t = s.clone();
        assert!(s.claim(b"x", 1));
        assert!(!t.claim(b"x", 9));
    }
}
