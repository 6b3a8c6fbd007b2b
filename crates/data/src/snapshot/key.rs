//! The snapshot key: the secret that authenticates a snapshot's manifest (keyed BLAKE3, the
//! workspace's one keyed hash). It is a secret of its own, not the mask key: staging needs it to
//! restore, and must never hold the mask key. Read from an environment variable
//! (`PRODLIKE_SNAPSHOT_KEY` unless told otherwise); dump refuses to run without it.

use crate::error::{DataError, Result};

/// Environment variable the snapshot secret is read from unless `--snapshot-key-env` says
/// otherwise.
pub const DEFAULT_SNAPSHOT_KEY_ENV: &str = "PRODLIKE_SNAPSHOT_KEY";

/// Domain separation: a snapshot key derived from the same secret as some other key is still
/// unrelated to it.
const CONTEXT: &str = "prodlike data snapshot manifest MAC v1";

/// What every leak-check hash starts with (part of the snapshot format: never edited).
const LEAK_DOMAIN: &[u8] = b"prodlike snapshot leak check\0";
/// Leak-check messages up to this length are framed on the stack.
const LEAK_STACK: usize = 256;

/// A 32-byte MAC key derived from the secret. `Debug` shows the fingerprint only.
#[derive(Clone)]
pub struct SnapshotKey {
    key: [u8; 32],
}

impl std::fmt::Debug for SnapshotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SnapshotKey(fingerprint {})", self.fingerprint())
    }
}

impl SnapshotKey {
    /// Derives the key from a secret of at least [`prodlike_mask::MIN_SECRET_LEN`] bytes.
    pub fn from_secret(secret: &[u8]) -> Result<Self> {
        let min = prodlike_mask::MIN_SECRET_LEN;
        if secret.len() < min {
            return Err(DataError::Invalid(format!(
                "the snapshot key is {} bytes; it must be at least {min} bytes (e.g. `openssl rand -hex 32`)",
                secret.len()
            )));
        }
        Ok(Self {
            key: blake3::derive_key(CONTEXT, secret),
        })
    }

    /// Reads the secret from the environment variable `var` (surrounding whitespace trimmed).
    pub fn from_env(var: &str) -> Result<Self> {
        match std::env::var(var) {
            Ok(v) => Self::from_secret(v.trim().as_bytes()).map_err(|_| {
                DataError::Invalid(format!(
                    "snapshot key: ${var} is {} bytes; it must be at least {} bytes (e.g. `export {var}=$(openssl rand -hex 32)`)",
                    v.trim().len(),
                    prodlike_mask::MIN_SECRET_LEN
                ))
            }),
            Err(_) => Err(DataError::Invalid(format!(
                "snapshot key: environment variable {var} is not set (or not UTF-8); set it to a secret of at least {} bytes shared by the dumping and the restoring side (e.g. `export {var}=$(openssl rand -hex 32)`); it is not the mask key",
                prodlike_mask::MIN_SECRET_LEN
            ))),
        }
    }

    /// The MAC of `bytes`.
    pub fn mac(&self, bytes: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.key, bytes)
    }

    /// A short, non-secret identifier of the key, recorded in the manifest so that a restore
    /// with another key says so.
    pub fn fingerprint(&self) -> String {
        let h = blake3::keyed_hash(&self.key, b"prodlike snapshot key fingerprint");
        h.to_hex()[..16].to_owned()
    }

    /// Keyed hash of length-prefixed parts, 64 bits (the restore's leak check: the snapshot
    /// holds these, never the values).
    pub fn parts_hash(&self, parts: &[&[u8]]) -> u64 {
        let total = LEAK_DOMAIN.len() + parts.iter().map(|p| 8 + p.len()).sum::<usize>();
        let b = if total <= LEAK_STACK {
            // The usual row (a key and a value): framed on the stack and hashed in one call, the
            // same bytes as the streamed form below, so the same hash; the dump and the restore
            // each hash one value of every checked row, and a hasher fed piece by piece cost
            // about twice as much.
            let mut buf = [0u8; LEAK_STACK];
            buf[..LEAK_DOMAIN.len()].copy_from_slice(LEAK_DOMAIN);
            let mut at = LEAK_DOMAIN.len();
            for p in parts {
                buf[at..at + 8].copy_from_slice(&(p.len() as u64).to_le_bytes());
                at += 8;
                buf[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
            blake3::keyed_hash(&self.key, &buf[..at])
        } else {
            let mut h = blake3::Hasher::new_keyed(&self.key);
            h.update(LEAK_DOMAIN);
            for p in parts {
                h.update(&(p.len() as u64).to_le_bytes());
                h.update(p);
            }
            h.finalize()
        };
        let mut out = [0u8; 8];
        out.copy_from_slice(&b.as_bytes()[..8]);
        u64::from_le_bytes(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused_and_keys_differ_by_secret() {
        assert!(SnapshotKey::from_secret(b"short").is_err());
        let a = SnapshotKey::from_secret(b"0123456789abcdef").unwrap_or_else(|e| panic!("{e}"));
        let b = SnapshotKey::from_secret(b"0123456789abcdeg").unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.mac(b"x"), b.mac(b"x"));
        assert_eq!(a.mac(b"x"), a.mac(b"x"));
        assert!(!format!("{a:?}").contains("0123"));
    }

    /// The leak-check hash as snapshots written before the framing on the stack computed it.
    fn streamed(key: &SnapshotKey, parts: &[&[u8]]) -> u64 {
        let mut h = blake3::Hasher::new_keyed(&key.key);
        h.update(b"prodlike snapshot leak check\0");
        for p in parts {
            h.update(&(p.len() as u64).to_le_bytes());
            h.update(p);
        }
        let mut out = [0u8; 8];
        out.copy_from_slice(&h.finalize().as_bytes()[..8]);
        u64::from_le_bytes(out)
    }

    proptest::proptest! {
        /// Framed on the stack or streamed, small or large: the hash every earlier snapshot's
        /// `leaks.json` holds.
        #[test]
        fn leak_hashes_are_the_streamed_ones(
            parts in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..120), 0..5),
        ) {
            let key = SnapshotKey::from_secret(b"0123456789abcdef").unwrap_or_else(|e| panic!("{e}"));
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            proptest::prop_assert_eq!(key.parts_hash(&refs), streamed(&key, &refs));
        }
    }

    #[test]
    fn the_stack_limit_does_not_change_the_hash() {
        let key = SnapshotKey::from_secret(b"0123456789abcdef").unwrap_or_else(|e| panic!("{e}"));
        let row: [&[u8]; 3] = [b"email", &42i32.to_be_bytes(), b"ana@example.com"];
        assert_eq!(key.parts_hash(&row), streamed(&key, &row));
        // Pinned: the same key and row must hash the same in every build, or the leak check of
        // a snapshot written by another build finds nothing.
        assert_eq!(key.parts_hash(&row), 13_409_367_062_933_753_938);
        // Both sides of the stack limit.
        let long = vec![7u8; LEAK_STACK];
        let edge = vec![7u8; LEAK_STACK - LEAK_DOMAIN.len() - 8];
        for value in [&long[..], &edge[..], &edge[..edge.len() - 1]] {
            assert_eq!(key.parts_hash(&[value]), streamed(&key, &[value]));
        }
    }
}
