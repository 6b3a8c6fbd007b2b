//! The masking engine: a key plus the subkeys every transform derives from it.

use std::fmt;
use std::sync::Arc;

use crate::fpe::bits_key;
use crate::key::MaskKey;
use crate::mask::Mask;
use crate::prf::Prf;
use crate::shuffle::KeyedPermutation;
use crate::sip::SipKey;
use crate::transform::{Transform, TransformError};

/// One subkey per purpose. Labels are part of the output contract: renaming one changes every
/// value masked with it.
pub(crate) struct Keys {
    pub hash: Prf,
    pub first: Prf,
    pub last: Prf,
    pub initial: Prf,
    pub word: Prf,
    pub fake_digits: Prf,
    pub domain: Prf,
    pub pick: Prf,
    pub street: Prf,
    pub city: Prf,
    pub company: Prf,
    pub fpe: Prf,
    pub card: Prf,
    pub phone: Prf,
    /// Only the Feistel keys below are used outside tests.
    #[cfg(test)]
    pub ip: Prf,
    pub noise: Prf,
    pub date: Prf,
    pub unique: Prf,
    pub shuffle: Prf,
    pub scalar: Prf,
    pub disambiguate: Prf,
    pub fit: Prf,
    /// The Feistel keys of IPv4 and IPv6 addresses (`bits_key` of `ip`), derived once.
    pub ip_v4: SipKey,
    pub ip_v6: SipKey,
}

impl Keys {
    fn derive(master: &[u8; 32]) -> Self {
        let d = |label: &str| Prf::derive(master, label);
        let ip = d("ip");
        Self {
            ip_v4: bits_key(&ip, b"v4"),
            ip_v6: bits_key(&ip, b"v6"),
            hash: d("hash"),
            first: d("name/first"),
            last: d("name/last"),
            initial: d("name/initial"),
            word: d("name/word"),
            fake_digits: d("fake/digits"),
            domain: d("email/domain"),
            pick: d("email/pick"),
            street: d("address/street"),
            city: d("address/city"),
            company: d("company"),
            fpe: d("fpe"),
            card: d("card"),
            phone: d("phone"),
            #[cfg(test)]
            ip,
            noise: d("noise"),
            date: d("date"),
            unique: d("unique"),
            shuffle: d("shuffle"),
            scalar: d("scalar"),
            disambiguate: d("unique/disambiguate"),
            fit: d("fit"),
        }
    }
}

pub(crate) struct Inner {
    pub keys: Keys,
    pub fingerprint: String,
}

/// The masking engine. Cheap to clone (an `Arc` inside), `Send + Sync`: build one per process
/// from the key and share it between threads, tables and requests.
///
/// ```
/// use prodlike_mask::{MaskKey, Masker, Transform};
/// let masker = Masker::new(MaskKey::from_secret(b"a secret of 16+ bytes").unwrap());
/// let email = masker.mask(&Transform::from_name("email").unwrap()).unwrap();
/// let a = email.mask_str("alice.martin@acme.co.uk").unwrap();
/// assert_eq!(a, email.mask_str("alice.martin@acme.co.uk").unwrap()); // deterministic
/// assert!(a.as_deref().unwrap().ends_with(".co.uk"));
/// ```
#[derive(Clone)]
pub struct Masker {
    pub(crate) inner: Arc<Inner>,
}

impl Masker {
    /// An engine for `key`. Derives every subkey once (a few microseconds).
    pub fn new(key: MaskKey) -> Self {
        let fingerprint = key.fingerprint();
        Self {
            inner: Arc::new(Inner {
                keys: Keys::derive(key.bytes()),
                fingerprint,
            }),
        }
    }

    /// Validates `transform` and binds it to this engine's key.
    pub fn mask(&self, transform: &Transform) -> Result<Mask, TransformError> {
        transform.validate()?;
        Ok(Mask::new(self.clone(), transform.clone()))
    }

    /// A keyed permutation of `0..n` for shuffling (see [`crate::shuffle`]). `scope` separates
    /// independent permutations (e.g. `"users.country"` plus a block number).
    pub fn permutation(&self, scope: &str, n: u64) -> KeyedPermutation {
        KeyedPermutation::new(&self.inner.keys.shuffle, scope, n)
    }

    /// The key's non-secret fingerprint (see [`MaskKey::fingerprint`]).
    pub fn key_fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Masker(key {})", self.inner.fingerprint)
    }
}
