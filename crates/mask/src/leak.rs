//! Leak checking: did any source value of a masked column reach the target?
//!
//! `prodlike data verify` feeds every source value of the masked columns to [`LeakCheck::add_source`]
//! and then asks [`LeakCheck::is_leak`] for every target value. Only keyed 64-bit fingerprints are
//! kept (8 bytes per distinct value), never the values, and the fingerprints are keyed so they are
//! useless outside the run.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use crate::engine::Masker;
use crate::sip::SipKey;
use crate::unique::IdentityHasher;

/// Values shorter than this (after trimming) are ignored: `M`, `12` or `NY` identify no one and
/// would match masked values by chance.
pub const MIN_LEAK_LEN: usize = 3;

/// A set of source-value fingerprints to test target values against. Values are compared after
/// trimming and lowercasing, so `Ann@X.org` in the target counts as a leak of `ann@x.org`.
pub struct LeakCheck {
    key: SipKey,
    seen: HashSet<u64, BuildHasherDefault<IdentityHasher>>,
}

impl LeakCheck {
    /// An empty check keyed from `masker`'s key.
    pub fn new(masker: &Masker) -> Self {
        let k = masker.keys().unique.hash_parts(&[b"leak-check"]);
        Self {
            key: SipKey::from_bytes(&k[..16]),
            seen: HashSet::default(),
        }
    }

    fn fingerprint(&self, v: &str) -> Option<u64> {
        let t = v.trim();
        if t.chars().count() < MIN_LEAK_LEN {
            return None;
        }
        if t.bytes().any(|b| b.is_ascii_uppercase()) || !t.is_ascii() {
            let folded = t.to_lowercase();
            Some(self.key.hash(&[], folded.as_bytes()))
        } else {
            Some(self.key.hash(&[], t.as_bytes()))
        }
    }

    /// Remembers one source value.
    pub fn add_source(&mut self, value: &str) {
        if let Some(fp) = self.fingerprint(value) {
            self.seen.insert(fp);
        }
    }

    /// True when `value` equals (after trimming and lowercasing) a remembered source value.
    pub fn is_leak(&self, value: &str) -> bool {
        self.fingerprint(value)
            .is_some_and(|fp| self.seen.contains(&fp))
    }

    /// Distinct source values remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True when nothing was remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MaskKey, Transform};

    #[test]
    fn masked_values_are_not_leaks_and_raw_ones_are() {
        let m = Masker::new(MaskKey::from_secret(b"leak check secret 01").unwrap());
        let email = m.mask(&Transform::from_name("email").unwrap()).unwrap();
        let mut check = LeakCheck::new(&m);
        let sources: Vec<String> = (0..500)
            .map(|i| format!("person{i}@corp.example"))
            .collect();
        for s in &sources {
            check.add_source(s);
        }
        assert_eq!(check.len(), 500);
        for s in &sources {
            let masked = email.mask_str(s).unwrap().unwrap();
            assert!(!check.is_leak(&masked), "{masked}");
        }
        assert!(check.is_leak(" PERSON7@corp.example "));
        assert!(!check.is_leak("ab"));
    }
}
