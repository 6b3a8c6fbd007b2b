//! Credentials recognisable by their value alone: JSON Web Tokens, `Authorization`-style
//! credentials (`Bearer …`, `Basic …`) and API keys whose issuers give them a fixed prefix.
//!
//! A long random-looking string is *not* flagged by its value alone: ids, hashes and UUIDs look
//! the same. Such strings are secrets only under a key that says so (`token`, `api_key`, …),
//! which [`super::detect_name`] decides.

/// Schemes of the `Authorization` header family whose credential follows after one space.
const AUTH_SCHEMES: [&str; 6] = ["bearer", "basic", "token", "digest", "negotiate", "apikey"];

/// Prefixes that issuers put on their secrets, with the shortest credential after the prefix.
/// Published by each issuer so that secret scanners can find leaked keys.
const TOKEN_PREFIXES: [(&str, usize); 16] = [
    ("sk_live_", 16),    // Stripe secret key
    ("sk_test_", 16),    // Stripe test key
    ("rk_live_", 16),    // Stripe restricted key
    ("ghp_", 30),        // GitHub personal access token
    ("gho_", 30),        // GitHub OAuth token
    ("ghu_", 30),        // GitHub user-to-server token
    ("ghs_", 30),        // GitHub server-to-server token
    ("ghr_", 30),        // GitHub refresh token
    ("github_pat_", 40), // GitHub fine-grained token
    ("glpat-", 20),      // GitLab personal access token
    ("xoxb-", 20),       // Slack bot token
    ("xoxp-", 20),       // Slack user token
    ("xoxa-", 20),       // Slack app token
    ("npm_", 30),        // npm token
    ("AKIA", 16),        // AWS access key id
    ("AIza", 35),        // Google API key
];

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// A compact JWS or JWE: three or five base64url segments separated by dots, the first being a
/// JSON header (`{"` encodes as `eyJ`).
pub fn is_jwt(v: &str) -> bool {
    if v.len() < 24 || !v.starts_with("eyJ") {
        return false;
    }
    let mut segments = 0;
    for seg in v.split('.') {
        segments += 1;
        // The signature of an unsecured JWT is empty; every other segment is not.
        if seg.is_empty() && segments != 3 {
            return false;
        }
        if !seg.bytes().all(is_base64url) {
            return false;
        }
    }
    segments == 3 || segments == 5
}

/// The length of the scheme and its space when `v` is `<scheme> <credential>` with a known
/// scheme, e.g. `Bearer abc…` gives `Some(7)`.
pub fn auth_scheme_len(v: &str) -> Option<usize> {
    let (scheme, rest) = v.split_once(' ')?;
    let known = AUTH_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme));
    let credential = rest.trim();
    (known && credential.len() >= 8 && !credential.contains(' ')).then_some(scheme.len() + 1)
}

/// A key with an issuer's published prefix and enough characters after it.
pub fn has_token_prefix(v: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|(p, min)| {
        v.strip_prefix(p).is_some_and(|rest| {
            rest.len() >= *min && rest.bytes().all(|b| is_base64url(b) || b == b'-')
        })
    })
}

/// A credential recognisable by its value: a JWT, `Bearer …`-style, or a prefixed API key.
pub fn is_credential(v: &str) -> bool {
    is_jwt(v) || auth_scheme_len(v).is_some() || has_token_prefix(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_credentials() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert!(is_jwt(jwt));
        assert!(is_credential(&format!("Bearer {jwt}")));
        assert_eq!(auth_scheme_len("Basic dXNlcjpwYXNzd29yZA=="), Some(6));
        assert!(has_token_prefix("ghp_abcdefghijklmnopqrstuvwxyz0123456789"));
        assert!(has_token_prefix("AKIAIOSFODNN7EXAMPLE"));
    }

    #[test]
    fn ordinary_values_are_not_credentials() {
        for v in [
            "eyJ",
            "eyJhbGciOiJIUzI1NiJ9",
            "v1.2.3",
            "2024-01-15T10:00:00Z",
            "550e8400-e29b-41d4-a716-446655440000",
            "bearer",
            "Bearer of good news",
            "AKIA",
            "sk_live_short",
            "a.b.c",
        ] {
            assert!(!is_credential(v), "{v}");
        }
    }
}
