//! Groups request paths into routes (`/users/123` → `/users/{id}`) so divergence, latency and
//! metrics aggregate per endpoint and their cardinality stays bounded.

const MAX_SEGMENTS: usize = 16;

/// Explicit templates first, then heuristics on each segment.
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    templates: Vec<(Vec<TemplateSeg>, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum TemplateSeg {
    Lit(String),
    Param,
}

impl Normaliser {
    pub fn new(templates: &[String]) -> Self {
        let mut templates: Vec<(Vec<TemplateSeg>, String)> = templates
            .iter()
            .map(|t| {
                let segs = segments(t)
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            TemplateSeg::Param
                        } else {
                            TemplateSeg::Lit(s.to_string())
                        }
                    })
                    .collect();
                (segs, t.clone())
            })
            .collect();
        // The most specific template (most literal segments) wins.
        templates.sort_by_key(|(t, _)| {
            std::cmp::Reverse(
                t.iter()
                    .filter(|s| matches!(s, TemplateSeg::Lit(_)))
                    .count(),
            )
        });
        Normaliser { templates }
    }

    /// The route of a path (query already removed or not: it is ignored).
    #[cfg(test)]
    pub fn normalise(&self, path: &str) -> String {
        let mut out = String::with_capacity(path.len().min(128));
        self.normalise_into(path, &mut out);
        out
    }

    /// Writes the route of `path` into `out` (cleared first): the proxy reuses one buffer
    /// rather than allocating a route name per request.
    pub fn normalise_into(&self, path: &str, out: &mut String) {
        out.clear();
        let path = path.split('?').next().unwrap_or("");
        if !self.templates.is_empty() {
            let segs: Vec<&str> = segments(path).collect();
            for (t, raw) in &self.templates {
                if t.len() == segs.len()
                    && t.iter().zip(&segs).all(|(ts, s)| match ts {
                        TemplateSeg::Param => true,
                        TemplateSeg::Lit(l) => l == s,
                    })
                {
                    out.push_str(raw);
                    return;
                }
            }
        }
        for (i, seg) in segments(path).enumerate() {
            if i == MAX_SEGMENTS {
                out.push_str("/{…}");
                break;
            }
            out.push('/');
            out.push_str(classify(seg).unwrap_or(seg));
        }
        if out.is_empty() {
            out.push('/');
        }
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The placeholder for a segment that looks like an identifier, or None to keep it.
fn classify(seg: &str) -> Option<&'static str> {
    let bytes = seg.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        return Some("{id}");
    }
    if is_uuid(bytes) {
        return Some("{uuid}");
    }
    if seg.contains('@') || seg.contains("%40") {
        // An email in a path is PII: never let it become a metric label.
        return Some("{email}");
    }
    if bytes.len() >= 16 && bytes.iter().all(u8::is_ascii_hexdigit) {
        return Some("{hash}");
    }
    if is_date(bytes) {
        return Some("{date}");
    }
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = bytes.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let mixed_case =
        bytes.iter().any(u8::is_ascii_uppercase) && bytes.iter().any(u8::is_ascii_lowercase);
    if bytes.len() > 64 || (bytes.len() >= 24 && digits > 0 && mixed_case) {
        // Opaque tokens (API keys, signed links) are secrets: never a metric label.
        return Some("{token}");
    }
    if digits > 0 && letters > 0 && bytes.len() >= 8 && digits * 4 >= bytes.len() {
        // Mixed letters and many digits: order numbers, slugs with ids, opaque tokens.
        return Some("{id}");
    }
    if digits >= 3 && letters == 0 {
        // Digits with separators: 12-345, 2024.1.2 and the like.
        return Some("{id}");
    }
    None
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_date(b: &[u8]) -> bool {
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn identifiers_become_placeholders() {
        let n = Normaliser::default();
        assert_eq!(n.normalise("/users/123"), "/users/{id}");
        assert_eq!(
            n.normalise("/users/123/orders/9?x=1"),
            "/users/{id}/orders/{id}"
        );
        assert_eq!(
            n.normalise("/o/550e8400-e29b-41d4-a716-446655440000"),
            "/o/{uuid}"
        );
        assert_eq!(n.normalise("/blob/0123456789abcdef0123"), "/blob/{hash}");
        assert_eq!(n.normalise("/by-day/2024-03-01"), "/by-day/{date}");
        assert_eq!(n.normalise("/users/jane@example.com"), "/users/{email}");
        assert_eq!(n.normalise("/orders/ORD-20240301-77"), "/orders/{id}");
        assert_eq!(n.normalise("/api/v2/items"), "/api/v2/items");
        assert_eq!(n.normalise("/healthz"), "/healthz");
        assert_eq!(n.normalise("/"), "/");
        assert_eq!(n.normalise(""), "/");
    }

    #[test]
    fn templates_win() {
        let n = Normaliser::new(&[
            "/repos/{owner}/{repo}".into(),
            "/repos/rust-lang/{repo}".into(),
        ]);
        assert_eq!(n.normalise("/repos/tokio-rs/axum"), "/repos/{owner}/{repo}");
        assert_eq!(
            n.normalise("/repos/rust-lang/cargo"),
            "/repos/rust-lang/{repo}"
        );
        assert_eq!(n.normalise("/repos/x"), "/repos/x");
    }

    proptest! {
        #[test]
        fn bounded_and_stable(path in "(/[a-zA-Z0-9@.%-]{0,12}){0,40}") {
            let n = Normaliser::default();
            let r = n.normalise(&path);
            prop_assert!(r.starts_with('/'));
            prop_assert!(r.matches('/').count() <= MAX_SEGMENTS + 1);
            prop_assert!(!r.contains('@'));
            prop_assert_eq!(n.normalise(&r), r.clone());
        }
    }
}
