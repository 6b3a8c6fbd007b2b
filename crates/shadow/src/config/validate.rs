//! The checks of `shadow.toml` that parsing cannot make, one section at a time. Each error
//! names the field by its path in the file (`mirror.sample`, `route[2].match`) and the fix.
use std::net::SocketAddr;

use prodlike_common::glob::Glob;
use prodlike_net::Target;

use super::{ProbeMode, ShadowConfig};
use crate::error::ConfigError;

fn bad(field: &str, problem: String) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        field: field.to_string(),
        problem,
    })
}

/// `listen` and `admin`.
pub(super) fn listeners(c: &ShadowConfig) -> Result<(), ConfigError> {
    if c.listen.parse::<SocketAddr>().is_err() {
        return bad(
            "listen",
            format!("`{}` is not an address; write e.g. 0.0.0.0:8080", c.listen),
        );
    }
    if let Some(admin) = c.admin.as_deref()
        && !admin.is_empty()
        && admin.parse::<SocketAddr>().is_err()
    {
        return bad(
            "admin",
            format!("`{admin}` is not an address; write e.g. 127.0.0.1:9090, or \"\" to disable"),
        );
    }
    Ok(())
}

/// Production's upstreams and staging's, and every timeout.
pub(super) fn upstreams(c: &ShadowConfig) -> Result<(), ConfigError> {
    if c.production.upstreams.is_empty() {
        return bad(
            "production.upstreams",
            "no production upstream; give --production URL or production.upstreams = [\"http://host:port\"]".into(),
        );
    }
    for (i, u) in c.production.upstreams.iter().enumerate() {
        if let Err(source) = Target::parse_upstream(u) {
            return Err(ConfigError::BadUrl {
                field: format!("production.upstreams[{i}]"),
                source,
            });
        }
    }
    if let Some(s) = &c.mirror.staging
        && let Err(source) = Target::parse_upstream(s)
    {
        return Err(ConfigError::BadUrl {
            field: "mirror.staging".into(),
            source,
        });
    }
    for (field, d) in [
        ("production.connect_timeout", c.production.connect_timeout),
        ("production.response_timeout", c.production.response_timeout),
        ("mirror.timeout", c.mirror.timeout),
        ("mirror.connect_timeout", c.mirror.connect_timeout),
        (
            "production.upgrade_idle_timeout",
            c.production.upgrade_idle_timeout,
        ),
    ] {
        if d.is_zero() {
            return bad(field, "must be longer than 0; write e.g. 2s".into());
        }
    }
    Ok(())
}

/// Streams: a cut of at least one byte, media types as `type/subtype`.
pub(super) fn streams(c: &ShadowConfig) -> Result<(), ConfigError> {
    if c.mirror.stream_cut == 0 {
        return bad(
            "mirror.stream_cut",
            "must be at least 1 byte; write e.g. \"64KiB\"".into(),
        );
    }
    for (i, t) in c.mirror.stream_types.iter().enumerate() {
        if t.split('/').count() != 2 || t.contains(';') || t.trim() != t {
            return bad(
                &format!("mirror.stream_types[{i}]"),
                format!("`{t}` is not a media type; write e.g. \"text/event-stream\""),
            );
        }
    }
    Ok(())
}

/// The mirror's sampling, bounds, priority and stickiness.
pub(super) fn mirror(c: &ShadowConfig) -> Result<(), ConfigError> {
    if !(0.0..=1.0).contains(&c.mirror.sample) || c.mirror.sample.is_nan() {
        return bad(
            "mirror.sample",
            format!(
                "{} is not a fraction; use 0.0 to 1.0 (0.05 mirrors 5%)",
                c.mirror.sample
            ),
        );
    }
    for (field, n) in [
        ("mirror.queue_capacity", c.mirror.queue_capacity),
        ("mirror.concurrency", c.mirror.concurrency),
        ("normalise.max_routes", c.normalise.max_routes),
        ("capture.queue", c.capture.queue),
    ] {
        if n == 0 {
            return bad(field, "must be at least 1".into());
        }
    }
    if !(0..=19).contains(&c.mirror.nice) {
        return bad(
            "mirror.nice",
            format!(
                "{} is outside 0 to 19; 10 (the default) lets production's threads run first, 0 lets the mirror compete equally",
                c.mirror.nice
            ),
        );
    }
    super::validate_methods("mirror.methods", &c.mirror.methods)?;
    if let Some(sticky) = &c.mirror.sticky {
        if let Err(e) = crate::sampler::StickyKey::parse(&sticky.key) {
            return bad("mirror.sticky.key", e);
        }
        if sticky.missing_key != "random" && sticky.missing_key != "skip" {
            return bad(
                "mirror.sticky.missing_key",
                format!("`{}` is not `random` or `skip`", sticky.missing_key),
            );
        }
    }
    Ok(())
}

/// Per-route rules and route templates.
pub(super) fn routes(c: &ShadowConfig) -> Result<(), ConfigError> {
    for (i, r) in c.routes.iter().enumerate() {
        if let Err(source) = Glob::url_path(&r.pattern) {
            return Err(ConfigError::BadPattern {
                field: format!("route[{i}].match"),
                source,
            });
        }
        if let Some(m) = &r.methods {
            super::validate_methods(&format!("route[{i}].methods"), m)?;
        }
        if let Some(s) = r.sample
            && (!(0.0..=1.0).contains(&s) || s.is_nan())
        {
            return bad(
                &format!("route[{i}].sample"),
                format!("{s} is not a fraction; use 0.0 to 1.0"),
            );
        }
    }
    for (i, t) in c.normalise.templates.iter().enumerate() {
        if !t.starts_with('/') {
            return bad(
                &format!("normalise.templates[{i}]"),
                format!("`{t}` must start with /"),
            );
        }
    }
    Ok(())
}

/// Headers set on, dropped from, or written as `Host` of the copies.
pub(super) fn copy_headers(c: &ShadowConfig) -> Result<(), ConfigError> {
    for (name, value) in &c.mirror.set_headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return bad(
                &format!("mirror.set_headers.{name}"),
                "is not a valid header name".into(),
            );
        }
        if http::HeaderValue::from_str(value).is_err() {
            return bad(
                &format!("mirror.set_headers.{name}"),
                "value is not a valid header value".into(),
            );
        }
    }
    for (i, h) in c.mirror.drop_headers.iter().enumerate() {
        if http::HeaderName::from_bytes(h.as_bytes()).is_err() {
            return bad(
                &format!("mirror.drop_headers[{i}]"),
                format!("`{h}` is not a valid header name"),
            );
        }
    }
    if !c.mirror.host.is_empty() && http::HeaderValue::from_str(&c.mirror.host).is_err() {
        return bad(
            "mirror.host",
            format!("`{}` is not a valid Host value", c.mirror.host),
        );
    }
    Ok(())
}

/// Ignore globs and tolerances.
pub(super) fn compare(c: &ShadowConfig) -> Result<(), ConfigError> {
    for (i, p) in c.compare.ignore.iter().enumerate() {
        if !(p.starts_with('/') || p.starts_with("**")) {
            return bad(
                &format!("compare.ignore[{i}]"),
                format!("`{p}` is not a JSON-pointer glob; write e.g. /meta/** or **/request_id"),
            );
        }
    }
    if c.compare.numeric_tolerance < 0.0 || c.compare.numeric_tolerance.is_nan() {
        return bad("compare.numeric_tolerance", "must be 0 or more".into());
    }
    if c.compare.numeric_relative_tolerance < 0.0 || c.compare.numeric_relative_tolerance.is_nan() {
        return bad(
            "compare.numeric_relative_tolerance",
            "must be 0 or more".into(),
        );
    }
    Ok(())
}

/// Mask rules, keep entries and the key variable.
pub(super) fn mask(c: &ShadowConfig) -> Result<(), ConfigError> {
    if let Err(e) = c.mask.rules().validate() {
        return Err(ConfigError::Invalid {
            field: format!("mask.{}", e.field),
            problem: e.message,
        });
    }
    if c.mask.key_env.is_empty() && !c.mask.is_noop() {
        return bad(
            "mask.key_env",
            "masking is configured but no key variable is named".into(),
        );
    }
    Ok(())
}

/// The noise probe and the thresholds that call a path noise.
pub(super) fn noise(c: &ShadowConfig) -> Result<(), ConfigError> {
    let n = &c.noise;
    if !(0.0..=1.0).contains(&n.probe_share) {
        return bad(
            "noise.probe_share",
            format!("{} is not a fraction; use 0.0 to 1.0", n.probe_share),
        );
    }
    if !(n.probe_max_per_second > 0.0 && n.probe_max_per_second <= 10_000.0) {
        return bad(
            "noise.probe_max_per_second",
            format!(
                "{} is out of range; use a rate above 0 and at most 10000",
                n.probe_max_per_second
            ),
        );
    }
    if !(n.threshold > 0.0 && n.threshold <= 1.0) {
        return bad(
            "noise.threshold",
            format!("{} is not a share in (0, 1]", n.threshold),
        );
    }
    if n.min_samples == 0 {
        return bad(
            "noise.min_samples",
            "must be at least 1 (a path is judged after this many samples)".into(),
        );
    }
    if n.probe == ProbeMode::Production && c.production.upstreams.len() < 2 {
        return bad(
            "noise.probe",
            format!(
                "probing production against itself needs two production upstreams or more; {} given (add one with --production, or set noise.probe = \"off\")",
                c.production.upstreams.len()
            ),
        );
    }
    Ok(())
}

/// The capture file can be created: not a folder, in a folder that exists (checked before any
/// port is bound, so a typo does not leave a proxy half started).
pub(super) fn capture(c: &ShadowConfig) -> Result<(), ConfigError> {
    if let Some(url) = c.capture.nats_url() {
        return capture_nats(url, &c.capture.nats);
    }
    let Some(p) = &c.capture.path else {
        return Ok(());
    };
    if p.is_dir() {
        return bad(
            "capture.path",
            format!(
                "{} is a folder; give a file path such as {}",
                p.display(),
                p.join("capture.jsonl").display()
            ),
        );
    }
    if let Some(dir) = p.parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        return bad(
            "capture.path",
            format!(
                "{}: folder {} does not exist; create it first",
                p.display(),
                dir.display()
            ),
        );
    }
    Ok(())
}

/// `capture.path = "nats://…"` and `[capture.nats]`: the URL, the subject, the stream name,
/// limits that bound the stream, and the credentials file, all before anything connects.
fn capture_nats(url: &str, n: &super::NatsCaptureConfig) -> Result<(), ConfigError> {
    use prodlike_capture::nats::{NatsUrl, check_stream_name};
    let parsed = NatsUrl::parse(url).map_err(|e| ConfigError::Invalid {
        field: "capture.path".into(),
        problem: format!("{e}; write nats://HOST:PORT/SUBJECT"),
    })?;
    if let Err(e) = parsed.subject() {
        return bad("capture.path", e.to_string());
    }
    if let Some(stream) = &n.stream
        && let Err(problem) = check_stream_name(stream)
    {
        return bad("capture.nats.stream", problem);
    }
    if n.max_bytes == 0 {
        return bad(
            "capture.nats.max_bytes",
            "must be above 0: it bounds the stream's disk (e.g. \"1GiB\")".into(),
        );
    }
    if n.max_age.is_zero() {
        return bad(
            "capture.nats.max_age",
            "must be above 0: it bounds how long records are kept (e.g. \"24h\")".into(),
        );
    }
    if n.max_pending == 0 {
        return bad(
            "capture.nats.max_pending",
            "must be at least 1 (records awaiting acknowledgement)".into(),
        );
    }
    if n.ack_timeout.is_zero() {
        return bad(
            "capture.nats.ack_timeout",
            "must be above 0 (e.g. \"5s\")".into(),
        );
    }
    if let Some(creds) = &n.credentials
        && !creds.is_file()
    {
        return bad(
            "capture.nats.credentials",
            format!("{} does not exist or is not a file", creds.display()),
        );
    }
    Ok(())
}

/// The listener's certificate and key exist.
pub(super) fn tls(c: &ShadowConfig) -> Result<(), ConfigError> {
    if let Some(tls) = &c.tls {
        for (field, p) in [("tls.cert", &tls.cert), ("tls.key", &tls.key)] {
            if !p.is_file() {
                return bad(
                    field,
                    format!("{} does not exist or is not a file", p.display()),
                );
            }
        }
    }
    Ok(())
}
