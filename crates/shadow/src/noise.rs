//! Noise: the differences that are nobody's fault. A request id, a `served_at` timestamp or a
//! signature differs between any two responses, production's own included; counting them as
//! divergence would make every route look broken.
//!
//! Two ways to tell noise from real differences, per route and per body path (array indices
//! generalised to `*`):
//! - **learned** (`noise.probe = "production"`, as Diffy does): a share of mirrored
//!   safe-method requests is also sent to a second production upstream; paths where production
//!   differs from itself in at least `noise.threshold` of `noise.min_samples` probes or more are
//!   noise, left out of staging's verdict and reported with their counts;
//! - **suspected** (no probe): paths that differ in nearly every comparison with volatile values
//!   (UUIDs, timestamps, tokens, nonces) are reported with the ignore rule that would silence
//!   them, and left out of the verdict only with `noise.auto_ignore = true`.
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::NoiseConfig;

/// Distinct paths remembered per route for each kind of count.
const MAX_PATHS: usize = 64;

/// A JSON pointer with array indices generalised: `/items/3/id` → `/items/*/id`.
pub fn generalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for seg in path.split('/').skip(1) {
        out.push('/');
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('*');
        } else {
            out.push_str(seg);
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The shape of a value that changes on every response, if it has one. `value` is JSON text
/// as shown in a diff (strings quoted).
pub fn volatile_shape(value: &str) -> Option<&'static str> {
    let v = value.trim().trim_matches('"');
    let b = v.as_bytes();
    let hex = |s: &[u8]| s.iter().all(u8::is_ascii_hexdigit);
    if b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
    {
        return Some("uuid");
    }
    // RFC 3339 / ISO 8601 timestamps, and HTTP dates.
    if b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b' ')
        && b[13] == b':'
    {
        return Some("timestamp");
    }
    if v.ends_with(" GMT") && v.len() >= 29 {
        return Some("timestamp");
    }
    // Epoch seconds (2001–2286) and milliseconds.
    if (b.len() == 10 || b.len() == 13) && b.iter().all(u8::is_ascii_digit) && b[0] != b'0' {
        return Some("timestamp");
    }
    if b.len() >= 16 && hex(b) {
        return Some("token");
    }
    let alnum = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'/' | b'='));
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    if b.len() >= 16 && alnum && digits >= 2 && letters >= 2 {
        return Some("nonce");
    }
    None
}

/// One path's counts among staging comparisons.
#[derive(Debug, Clone, Default)]
struct Suspect {
    differed: u64,
    /// Diffs whose values were seen (only the first diffs of a comparison keep them)…
    shown: u64,
    /// …and how many of those looked volatile.
    volatile: u64,
    shape: Option<&'static str>,
}

/// A route's noise: what the probe learned and what staging's diffs suggest.
#[derive(Debug, Default)]
pub struct RouteNoise {
    /// Production-vs-production probes compared.
    probes: u64,
    /// Generalised path → probes in which production differed from itself there.
    probe_diffs: BTreeMap<String, u64>,
    /// Comparisons with staging seen (for suspicion).
    compared: u64,
    suspects: BTreeMap<String, Suspect>,
    /// Diffs left out of staging's verdict, by generalised path.
    excluded: BTreeMap<String, u64>,
    /// The paths left out of the verdict now: rebuilt when counts change.
    ignored: Arc<[String]>,
    /// Bumped whenever `ignored` changes.
    version: u64,
}

impl RouteNoise {
    /// Paths currently left out of staging's verdict (generalised).
    pub fn ignored(&self) -> Arc<[String]> {
        self.ignored.clone()
    }

    /// Changes whenever the ignored paths do.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// One probe: the generalised paths where production differed from itself.
    pub fn record_probe(&mut self, paths: &[String], cfg: &NoiseConfig) {
        self.probes += 1;
        for p in paths {
            bump(&mut self.probe_diffs, p);
        }
        self.refresh(cfg);
    }

    /// One comparison with staging: every differing path (generalised), with the values shown
    /// for the kept diffs.
    pub fn record_staging(
        &mut self,
        paths: &[String],
        shown: &[(String, Option<&str>, Option<&str>)],
        cfg: &NoiseConfig,
    ) {
        self.compared += 1;
        for p in paths {
            if !self.suspects.contains_key(p) && self.suspects.len() >= MAX_PATHS {
                continue;
            }
            let s = self.suspects.entry(p.clone()).or_default();
            s.differed += 1;
            if let Some((_, prod, staging)) = shown.iter().find(|(sp, _, _)| sp == p) {
                s.shown += 1;
                let shape = prod
                    .and_then(volatile_shape)
                    .or(staging.and_then(volatile_shape));
                if let Some(shape) = shape {
                    s.volatile += 1;
                    s.shape = Some(shape);
                }
            }
        }
        if cfg.auto_ignore {
            self.refresh(cfg);
        }
    }

    /// Counts diffs left out of the verdict.
    pub fn record_excluded(&mut self, paths: &[String]) {
        for p in paths {
            bump(&mut self.excluded, p);
        }
    }

    fn learned(&self, path: &str, cfg: &NoiseConfig) -> bool {
        let n = self.probe_diffs.get(path).copied().unwrap_or(0);
        self.probes >= cfg.min_samples && n as f64 >= cfg.threshold * self.probes as f64
    }

    fn suspected(&self, s: &Suspect, cfg: &NoiseConfig) -> bool {
        // Nearly every comparison differs there, and most of the values look volatile.
        self.compared >= cfg.min_samples
            && s.differed as f64 >= 0.9 * self.compared as f64
            && s.shown > 0
            && s.volatile as f64 >= 0.8 * s.shown as f64
    }

    fn refresh(&mut self, cfg: &NoiseConfig) {
        let mut paths: Vec<String> = self
            .probe_diffs
            .keys()
            .filter(|p| self.learned(p, cfg))
            .cloned()
            .collect();
        if cfg.auto_ignore {
            let suspected: Vec<String> = self
                .suspects
                .iter()
                .filter(|(p, s)| self.suspected(s, cfg) && !paths.contains(p))
                .map(|(p, _)| p.clone())
                .collect();
            paths.extend(suspected);
        }
        if paths[..] != self.ignored[..] {
            self.ignored = paths.into();
            self.version += 1;
        }
    }

    /// What is known of this route's noise, for reports.
    pub fn report(&self, cfg: &NoiseConfig) -> Vec<NoisePath> {
        let mut out: Vec<NoisePath> = self
            .probe_diffs
            .iter()
            .filter(|(p, _)| self.learned(p, cfg))
            .map(|(p, n)| NoisePath {
                path: p.clone(),
                source: NoiseSource::Probe,
                differed: *n,
                samples: self.probes,
                shape: None,
                ignored: true,
                excluded_diffs: self.excluded.get(p).copied().unwrap_or(0),
                rule: ignore_rule(p),
            })
            .collect();
        for (p, s) in &self.suspects {
            if out.iter().any(|n| &n.path == p) || !self.suspected(s, cfg) {
                continue;
            }
            out.push(NoisePath {
                path: p.clone(),
                source: NoiseSource::Suspected,
                differed: s.differed,
                samples: self.compared,
                shape: s.shape.map(str::to_owned),
                ignored: cfg.auto_ignore,
                excluded_diffs: self.excluded.get(p).copied().unwrap_or(0),
                rule: ignore_rule(p),
            });
        }
        out
    }

    /// Diffs left out of the verdict as noise, all paths together.
    pub fn excluded_total(&self) -> u64 {
        self.excluded.values().sum()
    }

    /// Production-vs-production probes compared on this route.
    pub fn probes(&self) -> u64 {
        self.probes
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else if map.len() < MAX_PATHS {
        map.insert(key.to_string(), 1);
    }
}

/// The `shadow.toml` line that silences a path.
fn ignore_rule(path: &str) -> String {
    format!("[compare] ignore = [\"{path}\"]")
}

pub use prodlike_results::shadow::{NoisePath, NoiseSource};

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(auto: bool) -> NoiseConfig {
        NoiseConfig {
            auto_ignore: auto,
            ..NoiseConfig::default()
        }
    }

    #[test]
    fn paths_and_shapes() {
        assert_eq!(generalise("/items/3/id"), "/items/*/id");
        assert_eq!(generalise(""), "/");
        assert_eq!(
            volatile_shape("\"550e8400-e29b-41d4-a716-446655440000\""),
            Some("uuid")
        );
        assert_eq!(
            volatile_shape("\"2026-12-04T11:07:18.123Z\""),
            Some("timestamp")
        );
        assert_eq!(volatile_shape("1764846438"), Some("timestamp"));
        assert_eq!(
            volatile_shape("\"9f86d081884c7d659a2feaa0c55ad015\""),
            Some("token")
        );
        for plain in [
            "12",
            "\"kettle\"",
            "24.5",
            "true",
            "\"premium\"",
            "\"v1.2.3\"",
        ] {
            assert_eq!(volatile_shape(plain), None, "{plain}");
        }
    }

    #[test]
    fn the_probe_learns_noise_after_enough_samples() {
        let c = cfg(false);
        let mut n = RouteNoise::default();
        for i in 0..10 {
            let mut paths = vec!["/request_id".to_string()];
            if i == 0 {
                paths.push("/price".into());
            }
            n.record_probe(&paths, &c);
            let learned = n.ignored().iter().any(|p| p == "/request_id");
            assert_eq!(learned, i + 1 >= 5, "after {} probes", i + 1);
        }
        // A path production disagreed with itself on once in ten probes is not noise.
        assert!(!n.ignored().iter().any(|p| p == "/price"));
        let r = n.report(&c);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].differed, r[0].samples, r[0].source),
            (10, 10, NoiseSource::Probe)
        );
    }

    #[test]
    fn volatile_paths_are_suspected_and_hidden_only_when_asked() {
        for auto in [false, true] {
            let c = cfg(auto);
            let mut n = RouteNoise::default();
            for i in 0..20 {
                let id = format!("\"550e8400-e29b-41d4-a716-4466554400{i:02}\"");
                let shown = [
                    (
                        "/request_id".to_string(),
                        Some(id.as_str()),
                        Some(id.as_str()),
                    ),
                    ("/price".to_string(), Some("10"), Some("12")),
                ];
                n.record_staging(&["/request_id".into(), "/price".into()], &shown, &c);
            }
            let r = n.report(&c);
            assert_eq!(r.len(), 1, "{r:?}");
            assert_eq!(r[0].path, "/request_id");
            assert_eq!(r[0].shape.as_deref(), Some("uuid"));
            assert_eq!(r[0].rule, "[compare] ignore = [\"/request_id\"]");
            assert_eq!(r[0].ignored, auto);
            assert_eq!(n.ignored().iter().any(|p| p == "/request_id"), auto);
            // A real difference with plain values is never suspected.
            assert!(!n.ignored().iter().any(|p| p == "/price"));
        }
    }
}
