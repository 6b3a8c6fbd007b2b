//! Deterministic keyed masking and PII detection, shared by `prodlike shadow` and
//! `prodlike data`.
//!
//! - [`MaskKey`]: the secret (from bytes, an environment variable or a file).
//! - [`Masker`]: the engine (`Send + Sync`, `Arc` inside); [`Masker::mask`] binds a
//!   [`Transform`] (serde, from TOML) to the key and gives a [`Mask`].
//! - [`Mask`]: applies one transform to text, integers, floats, dates, timestamps or JSON values;
//!   [`Mask::apply_str_unique`] with a [`UniqueScope`] keeps unique columns unique.
//! - [`JsonMasker`] / [`QueryMasker`] / [`HttpMaskRules`]: masking HTTP bodies and query strings.
//! - [`shuffle`]: keyed permutations for column shuffles.
//! - [`detect`]: PII detection from column names, sample values and JSON keys.
//! - [`TextMasker`]: personal spans inside free text and lists of people, masked in place.
//! - [`LeakCheck`]: did any source value of a masked column reach the target?
//!
//! Every derivation is rooted in blake3 keyed hashing with one subkey per purpose; see
//! `docs/masking.md` for the guarantees.
//!
//! ```
//! use prodlike_mask::{HttpMaskRules, MaskKey, Masker, BodyMask};
//! let rules: HttpMaskRules = toml::from_str(r#"
//!     [[json]]
//!     key = "email"
//!     transform = "email"
//!     [[query]]
//!     param = "card"
//!     transform = "card"
//! "#).unwrap();
//! let masker = Masker::new(MaskKey::from_secret(b"0123456789abcdef").unwrap());
//! let http = rules.compile(&masker).unwrap();
//! let BodyMask::Masked(body) = http.mask_json_body(br#"{"user":{"Email":"ann@x.org"}}"#).unwrap()
//!     else { panic!() };
//! assert!(!String::from_utf8(body).unwrap().contains("ann@x.org"));
//! let q = http.mask_query("card=4111111111111111&page=2");
//! assert!(q.ends_with("&page=2") && !q.contains("4111111111111111"));
//! ```
//!
//! For `prodlike data`: detect, pick a transform per column, check it against the column type,
//! and mask unique columns through a shared scope so joins and constraints survive.
//!
//! ```
//! use prodlike_mask::{detect, MaskKey, Masker, Output, Transform, UniqueScope, ValueKind};
//! let masker = Masker::new(MaskKey::from_secret(b"0123456789abcdef").unwrap());
//! let found = detect::detect_column("email", ["a@x.io", "b@y.org", "c@z.net"]).unwrap();
//! let t: Transform = found.recommended;          // or the column's rule from data.toml
//! t.check_kind(ValueKind::Text).unwrap();         // type-incompatible masks fail up front
//! let mask = masker.mask(&t).unwrap();            // validated, bound to the key; cheap to clone
//! let emails = UniqueScope::new();                // one per set of columns that must agree
//! let mut out = String::new();
//! mask.apply_str_unique("a@x.io", &emails, &mut out).unwrap();   // users.email (unique)
//! let in_users = out.clone();
//! mask.apply_str_unique("a@x.io", &emails, &mut out).unwrap();   // orders.customer_email
//! assert_eq!(out, in_users);                      // the join still works
//! assert_eq!(mask.apply_str("a@x.io", &mut out).unwrap(), Output::Text);
//! ```
#![forbid(unsafe_code)]

pub mod detect;
mod detection;
mod engine;
mod fake_memo;
mod fakes;
mod fit;
mod fpe;
mod hex;
mod http;
mod json;
mod json_text;
mod key;
mod leak;
mod locale;
mod mask;
mod prf;
mod prf_memo;
mod query;
pub mod shuffle;
mod sip;
mod textmask;
mod transform;
mod unique;
mod values;

pub use engine::Masker;
pub use fit::Fit;
pub use fpe::luhn_valid;
pub use http::{HttpMaskRules, HttpMasker, MaskCounts};
pub use json::{BodyError, BodyMask, JsonMaskStats, JsonMasker, JsonRule, KeepRule};
pub use key::{DEFAULT_KEY_ENV, KeyError, MIN_SECRET_LEN, MaskKey};
pub use leak::{LeakCheck, MIN_LEAK_LEN};
pub use locale::Locale;
pub use mask::{MAX_UNIQUE_ATTEMPTS, Mask, MaskError, Output, PG_EPOCH_DAYS};
pub use query::{QueryMaskStats, QueryMasker, QueryRule};
pub use shuffle::KeyedPermutation;
pub use textmask::TextMasker;
pub use transform::{
    Alphabet, CardOptions, ConstantOptions, DateNoiseOptions, EmailOptions, FakeOptions,
    FormatPreservingOptions, HashEncoding, HashOptions, NoiseOptions, PhoneOptions, ShuffleOptions,
    TRANSFORM_NAMES, Transform, TransformError, ValueKind,
};
pub use unique::UniqueScope;
