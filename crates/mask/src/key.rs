//! The secret every mask is derived from.

use std::fmt;
use std::path::Path;

/// Environment variable `prodlike` reads the mask secret from unless told otherwise.
pub const DEFAULT_KEY_ENV: &str = "PRODLIKE_MASK_KEY";

/// Shortest secret accepted, in bytes. 16 bytes of real entropy (e.g. `openssl rand -hex 16`,
/// which gives 32 hex characters) is the floor for a keyed pseudonym that cannot be brute-forced.
pub const MIN_SECRET_LEN: usize = 16;

/// Why a mask key could not be made. Never carries the secret itself.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "mask key: environment variable {var} is not set; set it to a secret of at least {min} bytes (e.g. `export {var}=$(openssl rand -hex 32)`), and keep it out of the config file",
        min = MIN_SECRET_LEN
    )]
    MissingEnv { var: String },
    #[error("mask key: environment variable {var} is not valid UTF-8; use a hex or base64 secret")]
    EnvNotUnicode { var: String },
    #[error(
        "mask key from {source_name} is {len} bytes; it must be at least {min} bytes (e.g. `openssl rand -hex 32`)",
        min = MIN_SECRET_LEN
    )]
    TooShort { source_name: String, len: usize },
    #[error("cannot read the mask key file {path}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("mask key: cannot read random bytes from {device} for a one-run key")]
    Random {
        device: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The master key of every mask: 32 bytes derived with blake3 from a user secret.
///
/// The same secret always gives the same key, so masked values are stable across processes and
/// runs; two different secrets give unrelated outputs for every transform. `Debug` never prints
/// the key; [`MaskKey::fingerprint`] gives a short id that is safe to log and compare.
#[derive(Clone, PartialEq, Eq)]
pub struct MaskKey {
    bytes: [u8; 32],
}

impl MaskKey {
    /// Derives the key from a secret of at least [`MIN_SECRET_LEN`] bytes. The secret is used as
    /// is (no trimming): pass the bytes that were meant.
    pub fn from_secret(secret: &[u8]) -> Result<Self, KeyError> {
        Self::from_secret_named(secret, "the given secret")
    }

    fn from_secret_named(secret: &[u8], source_name: &str) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(KeyError::TooShort {
                source_name: source_name.to_owned(),
                len: secret.len(),
            });
        }
        Ok(Self {
            bytes: crate::prf::master_key(secret),
        })
    }

    /// Reads the secret from the environment variable `var` (surrounding whitespace trimmed,
    /// since `export K=$(cat file)` style setups often keep a newline).
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        match std::env::var(var) {
            Ok(value) => Self::from_secret_named(value.trim().as_bytes(), &format!("${var}")),
            Err(std::env::VarError::NotPresent) => Err(KeyError::MissingEnv {
                var: var.to_owned(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(KeyError::EnvNotUnicode {
                var: var.to_owned(),
            }),
        }
    }

    /// Reads the secret from a file (e.g. a mounted Kubernetes secret); a trailing newline is
    /// ignored.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::File {
            path: path.display().to_string(),
            source,
        })?;
        let trimmed = trim_ascii_end(&bytes);
        Self::from_secret_named(trimmed, &path.display().to_string())
    }

    /// A random key for this process only, from the operating system's random source. Values
    /// masked with it are consistent within the run and unrelated to any other run's, so they
    /// cannot be joined with data masked by `prodlike data` or by another process: a safe
    /// default when no secret is configured, never a substitute for one.
    pub fn ephemeral() -> Result<Self, KeyError> {
        use std::io::Read;
        const DEVICE: &str = "/dev/urandom";
        let mut secret = [0u8; 32];
        std::fs::File::open(DEVICE)
            .and_then(|mut f| f.read_exact(&mut secret))
            .map_err(|source| KeyError::Random {
                device: DEVICE,
                source,
            })?;
        Self::from_secret_named(&secret, DEVICE)
    }

    /// A short, non-secret identifier of this key (16 hex chars of a domain-separated hash).
    /// Reports and result files record it so that two runs can be compared ("masked with the
    /// same key") without revealing anything about the key.
    pub fn fingerprint(&self) -> String {
        crate::hex::encode_prefix(&crate::prf::key_fingerprint(&self.bytes), 16)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

fn trim_ascii_end(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while end > 0 && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    &bytes[..end]
}

impl fmt::Debug for MaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskKey(fingerprint {})", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secret_is_refused_with_its_length() {
        let err = MaskKey::from_secret(b"short").unwrap_err();
        assert!(
            matches!(
                &err,
                KeyError::TooShort { source_name, len: 5 } if source_name == "the given secret"
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("at least 16 bytes"));
    }

    #[test]
    fn missing_env_names_the_variable() {
        let err = MaskKey::from_env("PRODLIKE_MASK_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(
            err.to_string()
                .contains("PRODLIKE_MASK_TEST_SURELY_UNSET_VAR")
        );
    }

    #[test]
    fn same_secret_same_key_different_secret_different_key() {
        let a = MaskKey::from_secret(b"0123456789abcdef").unwrap();
        let b = MaskKey::from_secret(b"0123456789abcdef").unwrap();
        let c = MaskKey::from_secret(b"0123456789abcdeg").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn debug_does_not_print_key_bytes() {
        let k = MaskKey::from_secret(b"0123456789abcdef").unwrap();
        let dbg = format!("{k:?}");
        let raw = crate::hex::encode_prefix(k.bytes(), 64);
        assert!(!dbg.contains(&raw[..16]));
        assert!(dbg.contains(&k.fingerprint()));
    }

    #[test]
    fn key_file_trailing_newline_is_ignored() {
        let dir = std::env::temp_dir().join(format!("prodlike-mask-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("key");
        std::fs::write(&p, b"0123456789abcdef\n").unwrap();
        let from_file = MaskKey::from_file(&p).unwrap();
        assert_eq!(
            from_file,
            MaskKey::from_secret(b"0123456789abcdef").unwrap()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ephemeral_keys_differ_between_calls() {
        let a = MaskKey::ephemeral().unwrap();
        let b = MaskKey::ephemeral().unwrap();
        assert_ne!(a, b);
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
