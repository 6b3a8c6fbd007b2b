//! Path patterns shared by route rules (`/api/*/orders/**`) and JSON-pointer ignore rules
//! (`/meta/**`, `**/request_id`): `*` matches one segment, `**` any number (zero included).
//! A pattern without wildcards and ending in `/` is a prefix.

#[derive(Debug, Clone, PartialEq)]
pub enum PathPattern {
    Prefix(String),
    Glob(Vec<Seg>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Lit(String),
    /// A segment with `*` inside, e.g. `v*` or `*.json`.
    Partial(String),
    Any,
    AnyDepth,
}

impl PathPattern {
    pub fn parse(p: &str) -> Result<PathPattern, String> {
        if p.is_empty() {
            return Err("empty pattern; write e.g. /api/ or /api/*/orders/**".into());
        }
        if !p.starts_with('/') && !p.starts_with("**") {
            return Err(format!("`{p}` must start with / (or **)"));
        }
        if !p.contains('*') && p.ends_with('/') {
            return Ok(PathPattern::Prefix(p.to_string()));
        }
        let segs = split(p)
            .map(|s| match s {
                "**" => Seg::AnyDepth,
                "*" => Seg::Any,
                s if s.contains('*') => Seg::Partial(s.to_string()),
                s => Seg::Lit(s.to_string()),
            })
            .collect();
        Ok(PathPattern::Glob(segs))
    }

    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathPattern::Prefix(p) => {
                path.starts_with(p.as_str()) || path == p.trim_end_matches('/')
            }
            PathPattern::Glob(segs) => {
                let parts: Vec<&str> = split(path).collect();
                match_segs(segs, &parts)
            }
        }
    }
}

fn split(p: &str) -> impl Iterator<Item = &str> {
    p.split('/').filter(|s| !s.is_empty())
}

fn match_segs(pat: &[Seg], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((Seg::AnyDepth, rest)) => (0..=path.len()).any(|i| match_segs(rest, &path[i..])),
        Some((seg, rest)) => match path.split_first() {
            None => false,
            Some((first, tail)) => {
                let ok = match seg {
                    Seg::Lit(l) => l == first,
                    Seg::Any => true,
                    Seg::Partial(p) => wildcard(p, first),
                    Seg::AnyDepth => true,
                };
                ok && match_segs(rest, tail)
            }
        },
    }
}

/// `*` within one segment.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(p: &str, path: &str) -> bool {
        PathPattern::parse(p).unwrap().matches(path)
    }

    #[test]
    fn globs_and_prefixes() {
        assert!(m("/api/", "/api/items"));
        assert!(m("/api/", "/api"));
        assert!(!m("/api/", "/apis"));
        assert!(m("/api/*/orders/**", "/api/v2/orders"));
        assert!(m("/api/*/orders/**", "/api/v2/orders/1/lines"));
        assert!(!m("/api/*/orders/**", "/api/orders"));
        assert!(m("**/request_id", "/request_id"));
        assert!(m("**/request_id", "/a/0/request_id"));
        assert!(!m("**/request_id", "/a/request_ids"));
        assert!(m("/meta/**", "/meta"));
        assert!(m("/items/*/price", "/items/0/price"));
        assert!(m("/files/*.json", "/files/a.json"));
        assert!(!m("/files/*.json", "/files/a.jsonx"));
        assert!(m("/exact", "/exact"));
        assert!(!m("/exact", "/exact/more"));
        assert!(PathPattern::parse("api").is_err());
        assert!(PathPattern::parse("").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(p in "[/a-z*.]{0,20}", path in "[/a-z0-9.]{0,30}") {
            if let Ok(pat) = PathPattern::parse(&p) { let _ = pat.matches(&path); }
        }

        #[test]
        fn double_star_matches_everything(path in "(/[a-z0-9]{1,5}){0,6}") {
            prop_assert!(m("/**", &path));
        }
    }
}
