#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use prodlike_shadow::{ConfigError, ShadowConfig};
use proptest::prelude::*;

const FULL: &str = r#"
listen = "0.0.0.0:8080"
admin = "127.0.0.1:9090"
workers = 2
drain_timeout = "15s"

[production]
upstreams = ["http://10.0.0.1:80", "https://prod-b.internal"]
connect_timeout = "500ms"
response_timeout = "20s"
[production.health]
consecutive_failures = 3
ejection_time = "30s"

[mirror]
staging = "http://staging.internal:8080"
sample = 0.05
methods = ["GET", "HEAD"]
queue_capacity = 2048
queue_max_bytes = "32MiB"
max_body = "512KiB"
drop_headers = ["authorization", "cookie", "x-api-key"]
[mirror.set_headers]
x-api-key = "staging-key"
[mirror.sticky]
key = "cookie:session"
[mirror.circuit]
consecutive_failures = 10
open_for = "5s"

[[route]]
match = "/admin/"
mirror = false
[[route]]
match = "/api/orders/**"
methods = ["POST"]
sample = 0.5

[normalise]
templates = ["/users/{user}/orders/{order}"]
max_routes = 200

[mask]
key_env = "MY_MASK_KEY"
detect = true
keep = ["/genre/name", "query:q", "header:x-request-id", "title"]
[[mask.json]]
key = "email"
transform = "email"
[[mask.query]]
param = "token"
transform = { type = "hash", length = 16 }

[compare]
headers = ["content-type", "cache-control"]
ignore = ["/meta/**", "**/request_id"]
numeric_tolerance = 0.01

[capture]
path = "traffic.jsonl"
max_file_size = "100MiB"
max_files = 5
"#;

#[test]
fn a_full_config_parses_and_validates() {
    let c = ShadowConfig::from_toml(FULL, "shadow.toml").unwrap();
    c.validate().unwrap();
    assert_eq!(c.production.upstreams.len(), 2);
    assert_eq!(c.mirror.queue_max_bytes, 32 << 20);
    assert_eq!(c.mirror.max_body, 512 << 10);
    assert_eq!(c.routes[1].sample, Some(0.5));
    assert_eq!(c.mask.json.len(), 1);
    assert_eq!(
        c.production.connect_timeout,
        std::time::Duration::from_millis(500)
    );
}

fn invalid(toml: &str) -> String {
    let c = ShadowConfig::from_toml(toml, "shadow.toml").unwrap();
    match c.validate() {
        Err(ConfigError::Invalid { field, problem }) => format!("{field}: {problem}"),
        Err(ConfigError::BadUrl { field, source }) => format!("{field}: {source}"),
        Err(ConfigError::BadPattern { field, source }) => format!("{field}: {source}"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn bad_values_name_the_field_and_the_fix() {
    let up = "[production]\nupstreams = [\"http://127.0.0.1:1\"]\n";
    assert!(invalid("").starts_with("production.upstreams: no production upstream"));
    assert!(
        invalid("[production]\nupstreams = [\"localhost:80\"]")
            .starts_with("production.upstreams[0]:")
    );
    assert!(
        invalid(&format!("{up}[mirror]\nsample = 1.5"))
            .starts_with("mirror.sample: 1.5 is not a fraction")
    );
    assert!(
        invalid(&format!("listen = \"8080\"\n{up}")).contains("listen: `8080` is not an address")
    );
    assert!(
        invalid(&format!("{up}[mirror]\nmethods = [\"GE T\"]")).starts_with("mirror.methods[0]")
    );
    assert!(invalid(&format!("{up}[[route]]\nmatch = \"api\"")).starts_with("route[0].match"));
    assert!(
        invalid(&format!("{up}[mirror.sticky]\nkey = \"ip\"")).starts_with("mirror.sticky.key")
    );
    assert!(
        invalid(&format!("{up}[compare]\nignore = [\"meta\"]")).starts_with("compare.ignore[0]")
    );
    assert!(
        invalid(&format!("{up}[[mask.json]]\ntransform = \"email\""))
            .starts_with("mask.json[0].key")
    );
    assert!(invalid(&format!("{up}[mirror]\nstaging = \"ftp://x\"")).starts_with("mirror.staging"));
    assert!(
        invalid(&format!("{up}[mask]\nkeep = [\"/ok\", \"header:\"]"))
            .starts_with("mask.keep[1]: `header:`: a name must follow the prefix")
    );
    assert!(invalid(&format!("{up}[mask]\nkeep = [\"/a~2\"]")).starts_with("mask.keep[0]"));
    assert!(
        invalid(&format!("{up}[mirror]\nnice = 25"))
            .starts_with("mirror.nice: 25 is outside 0 to 19")
    );
}

#[test]
fn a_nats_capture_is_checked_field_by_field_before_anything_connects() {
    let up = "[production]\nupstreams = [\"http://127.0.0.1:1\"]\n";
    let nats = |extra: &str| {
        format!("{up}[capture]\npath = \"nats://127.0.0.1:4222/prodlike.capture\"\n{extra}")
    };
    let good = ShadowConfig::from_toml(
        &nats("[capture.nats]\nstream = \"CAP\"\nmax_bytes = \"10MiB\"\nmax_age = \"1h\"\nmax_pending = 8\nack_timeout = \"2s\"\n"),
        "shadow.toml",
    )
    .unwrap();
    good.validate().unwrap();
    assert_eq!(
        good.capture.nats_url(),
        Some("nats://127.0.0.1:4222/prodlike.capture")
    );
    assert_eq!(good.capture.nats.max_bytes, 10 << 20);
    // Defaults bound the stream.
    let d = ShadowConfig::from_toml(&nats(""), "shadow.toml").unwrap();
    d.validate().unwrap();
    assert_eq!(d.capture.nats.max_bytes, 1 << 30);
    assert_eq!(
        d.capture.nats.max_age,
        std::time::Duration::from_secs(86_400)
    );
    for (toml, starts) in [
        (
            format!("{up}[capture]\npath = \"nats://127.0.0.1:4222/a..b\""),
            "capture.path:",
        ),
        (
            format!("{up}[capture]\npath = \"nats://127.0.0.1:4222/a.>\""),
            "capture.path:",
        ),
        (
            format!("{up}[capture]\npath = \"nats://u:secret@127.0.0.1:4222/a\""),
            "capture.path:",
        ),
        (
            format!("{up}[capture]\npath = \"nats://127.0.0.1:4222\""),
            "capture.path:",
        ),
        (
            nats("[capture.nats]\nstream = \"a.b\""),
            "capture.nats.stream:",
        ),
        (
            nats("[capture.nats]\nmax_bytes = 0"),
            "capture.nats.max_bytes:",
        ),
        (
            nats("[capture.nats]\nmax_age = \"0s\""),
            "capture.nats.max_age:",
        ),
        (
            nats("[capture.nats]\nmax_pending = 0"),
            "capture.nats.max_pending:",
        ),
        (
            nats("[capture.nats]\nack_timeout = \"0s\""),
            "capture.nats.ack_timeout:",
        ),
        (
            nats("[capture.nats]\ncredentials = \"/no/such/file.creds\""),
            "capture.nats.credentials:",
        ),
    ] {
        let e = invalid(&toml);
        assert!(e.starts_with(starts), "{toml}\n→ {e}");
        assert!(!e.contains("secret"), "{e}");
    }
}

#[test]
fn parse_errors_give_the_line_and_the_field() {
    let err = ShadowConfig::from_toml("listen = \"x\"\n\n[mirror]\nsampel = 0.1\n", "shadow.toml")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("shadow.toml line 4:"), "{err}");
    assert!(err.contains("sampel"), "{err}");
    let err = ShadowConfig::from_toml("[mirror]\ntimeout = \"soon\"\n", "s.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2") && err.contains("not a duration"),
        "{err}"
    );
    let err = ShadowConfig::from_toml("[mirror]\nmax_body = \"lots\"\n", "s.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a size"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        if let Ok(c) = ShadowConfig::from_toml(&text, "fuzz.toml") {
            let _ = c.validate();
        }
    }

    #[test]
    fn mutated_configs_never_panic(pos in 0usize..2000, len in 0usize..20, insert in "[\\[\\]=\"a-z0-9.*/ \n]{0,10}") {
        let mut text = FULL.to_string();
        let start = pos.min(text.len());
        let end = (start + len).min(text.len());
        if text.is_char_boundary(start) && text.is_char_boundary(end) {
            text.replace_range(start..end, &insert);
        }
        if let Ok(c) = ShadowConfig::from_toml(&text, "fuzz.toml") {
            let _ = c.validate();
        }
    }
}
