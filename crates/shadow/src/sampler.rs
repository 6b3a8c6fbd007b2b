//! Which requests are copied: route rules, method rules, and random or sticky sampling.
use std::net::IpAddr;

use http::request::Parts;
use http::{HeaderName, Method};

use crate::config::{MirrorConfig, RouteRule};
use prodlike_common::glob::Glob;

/// Where the sticky sampling key comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum StickyKey {
    Header(HeaderName),
    Cookie(String),
    ClientIp,
}

impl StickyKey {
    pub fn parse(s: &str) -> Result<StickyKey, String> {
        let fix = "write header:NAME, cookie:NAME or client_ip";
        match s.split_once(':') {
            Some(("header", name)) => {
                HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
                    .map(StickyKey::Header)
                    .map_err(|_| format!("`{name}` is not a header name; {fix}"))
            }
            Some(("cookie", name)) if !name.trim().is_empty() => {
                Ok(StickyKey::Cookie(name.trim().to_string()))
            }
            None if s == "client_ip" => Ok(StickyKey::ClientIp),
            _ => Err(format!("`{s}` is not a sampling key; {fix}")),
        }
    }
}

/// The sampling decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not sampled (or the route is excluded): nothing to count.
    Skip,
    /// Sampled but the method is not mirrored on this route.
    MethodNotMirrored,
    Mirror,
}

struct CompiledRule {
    pattern: Glob,
    mirror: bool,
    methods: Option<Vec<Method>>,
    sample: Option<f64>,
}

pub struct Sampler {
    rate: f64,
    methods: Vec<Method>,
    rules: Vec<CompiledRule>,
    sticky: Option<(StickyKey, blake3::Hasher, bool)>,
}

fn methods(list: &[String]) -> Vec<Method> {
    list.iter()
        .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
        .collect()
}

impl Sampler {
    /// From a validated config.
    pub fn new(cfg: &MirrorConfig, rules: &[RouteRule]) -> Self {
        let rules = rules
            .iter()
            .filter_map(|r| {
                Some(CompiledRule {
                    pattern: Glob::url_path(&r.pattern).ok()?,
                    mirror: r.mirror,
                    methods: r.methods.as_deref().map(methods),
                    sample: r.sample,
                })
            })
            .collect();
        let sticky = cfg.sticky.as_ref().and_then(|s| {
            let key = StickyKey::parse(&s.key).ok()?;
            let seed = blake3::derive_key("prodlike shadow sticky sampling v1", s.seed.as_bytes());
            Some((
                key,
                blake3::Hasher::new_keyed(&seed),
                s.missing_key == "random",
            ))
        });
        Sampler {
            rate: cfg.sample,
            methods: methods(&cfg.methods),
            rules,
            sticky,
        }
    }

    pub fn decide(&self, parts: &Parts, client_ip: IpAddr) -> Decision {
        let path = parts.uri.path();
        let rule = self.rules.iter().find(|r| r.pattern.matches(path));
        if let Some(r) = rule
            && !r.mirror
        {
            return Decision::Skip;
        }
        let rate = rule.and_then(|r| r.sample).unwrap_or(self.rate);
        if !self.sampled(parts, client_ip, rate) {
            return Decision::Skip;
        }
        let allowed = rule
            .and_then(|r| r.methods.as_ref())
            .unwrap_or(&self.methods);
        if allowed.contains(&parts.method) {
            Decision::Mirror
        } else {
            Decision::MethodNotMirrored
        }
    }

    fn sampled(&self, parts: &Parts, client_ip: IpAddr, rate: f64) -> bool {
        if rate >= 1.0 {
            return true;
        }
        if rate <= 0.0 {
            return false;
        }
        match &self.sticky {
            None => fastrand::f64() < rate,
            Some((key, hasher, random_if_missing)) => match key_value(key, parts, client_ip) {
                Some(k) => sticky_sampled(hasher, k.as_bytes(), rate),
                None if *random_if_missing => fastrand::f64() < rate,
                None => false,
            },
        }
    }
}

/// Deterministic: the same key and seed give the same answer on every proxy instance.
pub fn sticky_sampled(hasher: &blake3::Hasher, key: &[u8], rate: f64) -> bool {
    let mut h = hasher.clone();
    h.update(key);
    let mut word = [0u8; 8];
    word.copy_from_slice(&h.finalize().as_bytes()[..8]);
    // Uniform in [0, 1) from the top 53 bits.
    let u = (u64::from_le_bytes(word) >> 11) as f64 / (1u64 << 53) as f64;
    u < rate
}

fn key_value(key: &StickyKey, parts: &Parts, client_ip: IpAddr) -> Option<String> {
    match key {
        StickyKey::Header(name) => parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        StickyKey::Cookie(name) => parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string()),
        StickyKey::ClientIp => Some(client_ip.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StickyConfig;
    use proptest::prelude::*;

    fn parts(method: &str, path: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn ip() -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    #[test]
    fn methods_and_routes() {
        let cfg = MirrorConfig {
            sample: 1.0,
            ..MirrorConfig::default()
        };
        let rules = vec![
            RouteRule {
                pattern: "/admin/".into(),
                mirror: false,
                methods: None,
                sample: None,
            },
            RouteRule {
                pattern: "/api/orders".into(),
                mirror: true,
                methods: Some(vec!["post".into()]),
                sample: None,
            },
            RouteRule {
                pattern: "/api/rare/**".into(),
                mirror: true,
                methods: None,
                sample: Some(0.0),
            },
        ];
        let s = Sampler::new(&cfg, &rules);
        assert_eq!(
            s.decide(&parts("GET", "/api/items", &[]), ip()),
            Decision::Mirror
        );
        assert_eq!(
            s.decide(&parts("POST", "/api/items", &[]), ip()),
            Decision::MethodNotMirrored
        );
        assert_eq!(
            s.decide(&parts("POST", "/api/orders", &[]), ip()),
            Decision::Mirror
        );
        assert_eq!(
            s.decide(&parts("GET", "/api/orders", &[]), ip()),
            Decision::MethodNotMirrored
        );
        assert_eq!(
            s.decide(&parts("GET", "/admin/users", &[]), ip()),
            Decision::Skip
        );
        assert_eq!(
            s.decide(&parts("GET", "/api/rare/x", &[]), ip()),
            Decision::Skip
        );
    }

    #[test]
    fn sticky_keys_parse() {
        assert_eq!(StickyKey::parse("client_ip"), Ok(StickyKey::ClientIp));
        assert!(matches!(
            StickyKey::parse("header:X-User"),
            Ok(StickyKey::Header(_))
        ));
        assert_eq!(
            StickyKey::parse("cookie:sid"),
            Ok(StickyKey::Cookie("sid".into()))
        );
        assert!(StickyKey::parse("ip").is_err());
        assert!(StickyKey::parse("cookie:").is_err());
    }

    fn sticky_sampler(rate: f64, missing: &str) -> Sampler {
        let cfg = MirrorConfig {
            sample: rate,
            sticky: Some(StickyConfig {
                key: "cookie:sid".into(),
                seed: "s".into(),
                missing_key: missing.into(),
            }),
            ..MirrorConfig::default()
        };
        Sampler::new(&cfg, &[])
    }

    #[test]
    fn missing_keys_follow_the_policy() {
        let skip = sticky_sampler(0.5, "skip");
        for _ in 0..100 {
            assert_eq!(skip.decide(&parts("GET", "/", &[]), ip()), Decision::Skip);
        }
        let random = sticky_sampler(0.5, "random");
        let n = (0..2000)
            .filter(|_| random.decide(&parts("GET", "/", &[]), ip()) == Decision::Mirror)
            .count();
        assert!((800..1200).contains(&n), "{n}");
    }

    proptest! {
        // A key's requests are all mirrored or none are, and across many keys the share of
        // mirrored keys follows the configured rate.
        #[test]
        fn sticky_sampling_is_all_or_none_per_key_at_the_rate(rate in 0.05f64..0.95, seed in any::<u64>()) {
            let s = sticky_sampler(rate, "skip");
            let keys = 2000;
            let mut mirrored_keys = 0;
            for k in 0..keys {
                let cookie = format!("theme=dark; sid=user-{seed}-{k}");
                let first = s.decide(&parts("GET", "/api/items", &[("cookie", &cookie)]), ip());
                for path in ["/api/items/1", "/api/users/2", "/"] {
                    prop_assert_eq!(s.decide(&parts("GET", path, &[("cookie", &cookie)]), ip()), first);
                }
                if first == Decision::Mirror { mirrored_keys += 1; }
            }
            let share = mirrored_keys as f64 / keys as f64;
            // 5 standard deviations of a binomial share at n = 2000.
            let tolerance = 5.0 * (rate * (1.0 - rate) / keys as f64).sqrt();
            prop_assert!((share - rate).abs() <= tolerance, "share {} rate {}", share, rate);
        }
    }
}
