//! Secrets are never printed. Values under secret-looking keys (password, token, key, secret,
//! ...), every value of a Kubernetes `Secret`, the `value` of an env entry whose `name` looks
//! secret, and the password inside a URL (`postgres://app:pw@db/shop`) are replaced by a keyed
//! blake3 hash while the file is read, so diffs still see whether they changed.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use prodlike_common::redact::replace_url_passwords;

use crate::tree::{Node, SecretHash};

/// Words that make a key secret-looking (matched per word of the key, case-insensitive).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "apikey",
    "privatekey",
    "secretkey",
    "accesskey",
    "signingkey",
    "dsn",
    "cookie",
    "salt",
];
/// Substrings that make a single-word key secret-looking (`DBPASSWORD`, `authtoken`).
const SECRET_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "privatekey",
];
/// A key whose last word is one of these names a reference to a secret, not the secret itself
/// (`secretName`, `secretKeyRef`, `passwordFile`, `existingSecret` is still secret-looking).
const REFERENCE_WORDS: &[&str] = &[
    "ref",
    "refs",
    "name",
    "names",
    "file",
    "path",
    "dir",
    "id",
    "ttl",
    "length",
    "enabled",
    "mode",
    "type",
    "policy",
    "expiry",
    "expiration",
    "rotation",
];

/// Which keys are secret: the built-in words plus the rules file's `[secrets] keys`.
#[derive(Debug, Clone, Default)]
pub struct SecretPolicy {
    /// Extra words, lower case.
    pub extra_words: Vec<String>,
}

impl SecretPolicy {
    /// Whether a key's value must never be printed.
    pub fn is_secret_key(&self, key: &str) -> bool {
        let words = split_words(key);
        let Some(last) = words.last() else {
            return false;
        };
        if REFERENCE_WORDS.contains(&last.as_str()) {
            return false;
        }
        let extra = |w: &str| {
            self.extra_words
                .iter()
                .any(|x| w == x || w.contains(x.as_str()))
        };
        words.iter().any(|w| {
            SECRET_WORDS.contains(&w.as_str())
                || SECRET_PARTS.iter().any(|p| w.contains(p))
                || extra(w)
                // `key` alone is structural in Kubernetes (tolerations, selectors, keyRefs);
                // `api_key`, `private-key`, `SSH_KEY` are secrets.
                || (w == "key" && words.len() > 1)
        })
    }

    /// Replaces every secret in a document by its hash. `k8s_secret` marks a Kubernetes
    /// `Secret`, whose `data` and `stringData` are secret whatever their keys.
    pub fn mask(&self, node: Node, k8s_secret: bool) -> Node {
        match node {
            Node::Map(map) => Node::Map(
                map.into_iter()
                    .map(|(k, v)| {
                        let secret = (k8s_secret && (k == "data" || k == "stringData"))
                            || self.is_secret_key(&k);
                        let v = if secret {
                            hash_all(v)
                        } else {
                            self.mask(v, false)
                        };
                        (k, v)
                    })
                    .collect::<BTreeMap<_, _>>(),
            )
            .map_env_entry(self),
            Node::List(items) => {
                Node::List(items.into_iter().map(|v| self.mask(v, false)).collect())
            }
            Node::String(s) => Node::String(redact_url_passwords(&s)),
            Node::Expr(e) => Node::Expr(redact_url_passwords(&e)),
            other => other,
        }
    }
}

trait EnvEntry {
    fn map_env_entry(self, policy: &SecretPolicy) -> Node;
}

impl EnvEntry for Node {
    /// `{name: DB_PASSWORD, value: hunter2}`: the secret is named by a sibling, not by the key.
    fn map_env_entry(self, policy: &SecretPolicy) -> Node {
        let Node::Map(mut map) = self else {
            return self;
        };
        let named_secret = ["name", "key"].iter().any(|k| {
            map.get(*k)
                .and_then(Node::as_str)
                .is_some_and(|n| policy.is_secret_key(n))
        });
        if named_secret {
            if let Some(v) = map.remove("value") {
                map.insert("value".into(), hash_all(v));
            }
        }
        Node::Map(map)
    }
}

/// Hashes every scalar below a secret key, keeping the shape (so "a key was added under
/// credentials" is still reported, without its value).
pub fn hash_all(node: Node) -> Node {
    match node {
        Node::Map(m) => Node::Map(m.into_iter().map(|(k, v)| (k, hash_all(v))).collect()),
        Node::List(items) => Node::List(items.into_iter().map(hash_all).collect()),
        Node::Secret(h) => Node::Secret(h),
        // `password = var.db_password` names where the secret comes from, not the secret, and
        // stays readable so a literal against it is still a `hard_coded` finding. Any other
        // expression could hold a literal (`base64encode("hunter2")`) and is hashed.
        Node::Expr(e) if is_reference(&e) => Node::Expr(e),
        scalar => {
            let text = scalar.scalar_text().unwrap_or_default();
            Node::Secret(hash(&text))
        }
    }
}

/// A bare reference (`var.x`, `local.db.password`, `module.db.secrets["app"]` is not one: it
/// holds a quoted literal): identifiers, dots, `*` and numeric indices only.
fn is_reference(e: &str) -> bool {
    e.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && e.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']' | '*'))
}

/// Keyed hash of a secret's text.
pub fn hash(text: &str) -> SecretHash {
    SecretHash(*blake3::keyed_hash(process_key(), text.as_bytes()).as_bytes())
}

impl SecretHash {
    /// Eight hex digits: enough to see that two values differ within one report, useless for
    /// guessing the value (the key changes on every run).
    pub fn fingerprint(&self) -> String {
        self.0[..4].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A key made fresh for each process, so hashes printed in one report cannot be matched
/// against a dictionary computed elsewhere.
fn process_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut h = blake3::Hasher::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.update(&now.to_le_bytes());
        h.update(&std::process::id().to_le_bytes());
        let local = 0u8;
        h.update(&(std::ptr::addr_of!(local) as usize).to_le_bytes());
        h.update(format!("{:?}", std::thread::current().id()).as_bytes());
        *h.finalize().as_bytes()
    })
}

/// `scheme://user:password@host` → `scheme://user:<secret:1a2b3c4d>@host` (the URLs found by
/// `prodlike_common::redact`; an empty password is left as it is).
pub fn redact_url_passwords(s: &str) -> String {
    replace_url_passwords(s, |pw| {
        (!pw.is_empty()).then(|| format!("<secret:{}>", hash(pw).fingerprint()))
    })
    .into_owned()
}

/// `DB_PASSWORD`, `dbPassword`, `db-password`, `db.password` → `["db", "password"]`.
fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_keys() {
        let p = SecretPolicy::default();
        for k in [
            "password",
            "DB_PASSWORD",
            "dbPassword",
            "apiKey",
            "api_key",
            "SSH_KEY",
            "token",
            "authToken",
            "client-secret",
            "DBPASSWORD",
            "aws.secretAccessKey",
            "existingSecret",
        ] {
            assert!(p.is_secret_key(k), "{k} should be secret");
        }
        for k in [
            "key",
            "secretName",
            "secretKeyRef",
            "passwordFile",
            "name",
            "replicas",
            "keyspace",
            "monkeys",
            "tokenTTL",
            "host",
        ] {
            assert!(!p.is_secret_key(k), "{k} should not be secret");
        }
        let p = SecretPolicy {
            extra_words: vec!["pin".into()],
        };
        assert!(p.is_secret_key("card_pin"));
    }

    #[test]
    fn masking_keeps_shape_and_drops_clear_text() {
        let p = SecretPolicy::default();
        let doc: Node = serde_json::from_str(
            r#"{"db": {"password": "hunter2", "host": "prod-db"},
                "env": [{"name": "API_TOKEN", "value": "abc"}, {"name": "MODE", "value": "x"}],
                "url": "postgres://app:s3cret@prod-db:5432/shop"}"#,
        )
        .unwrap();
        let masked = p.mask(doc, false);
        let text = masked.to_json().to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("abc") && !text.contains("s3cret"),
            "{text}"
        );
        assert!(text.contains("prod-db") && text.contains("\"x\""), "{text}");
        assert!(matches!(
            masked.get("db").and_then(|d| d.get("password")),
            Some(Node::Secret(_))
        ));
        let secret: Node =
            serde_json::from_str(r#"{"kind": "Secret", "data": {"url": "aGVsbG8="}}"#).unwrap();
        assert!(
            !p.mask(secret, true)
                .to_json()
                .to_string()
                .contains("aGVsbG8=")
        );
    }

    #[test]
    fn equal_secrets_hash_equal() {
        assert_eq!(hash("a"), hash("a"));
        assert_ne!(hash("a"), hash("b"));
    }
}
