//! Request templates: method, path, headers and body with `{{variable}}` placeholders, filled
//! from a data file's row or from built-ins, and encoded to HTTP/1.1 bytes once per request (or
//! once per run when nothing varies).
use std::sync::Arc;

use bytes::Bytes;
use prodlike_common::percent;

use super::data::DataSource;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Column(usize),
    Seq,
    Uuid,
    RandomInt(i64, i64),
    TimestampMs,
}

/// A compiled template string.
#[derive(Debug, Clone, PartialEq)]
pub struct Tpl {
    parts: Vec<Part>,
}

/// Built-in variables, listed in errors.
pub const BUILTINS: &str = "seq, uuid, timestamp_ms, random_int A B";

impl Tpl {
    /// Compiles `text`; `{{name}}` must be a column of `data` or a built-in.
    pub fn compile(text: &str, data: Option<&DataSource>) -> Result<Tpl, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in `{text}`"))?;
            let expr = after[..close].trim();
            parts.push(compile_var(expr, data)?);
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Ok(Tpl { parts })
    }

    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    fn render(&self, out: &mut String, ctx: &mut RenderCtx<'_>, url: bool) {
        for p in &self.parts {
            let start = out.len();
            match p {
                Part::Lit(s) => {
                    out.push_str(s);
                    continue;
                }
                Part::Column(i) => out.push_str(ctx.row.get(*i).map(|s| s.as_str()).unwrap_or("")),
                Part::Seq => out.push_str(&ctx.seq.to_string()),
                Part::Uuid => {
                    let (a, b) = (ctx.rng.u64(..), ctx.rng.u64(..));
                    out.push_str(&format!(
                        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                        a >> 32,
                        (a >> 16) & 0xffff,
                        a & 0xfff,
                        0x8000 | (b >> 48) & 0x3fff,
                        b & 0xffff_ffff_ffff
                    ));
                }
                Part::RandomInt(lo, hi) => out.push_str(&ctx.rng.i64(*lo..=*hi).to_string()),
                Part::TimestampMs => out.push_str(
                    &std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis())
                        .unwrap_or(0)
                        .to_string(),
                ),
            }
            if url {
                let value = out.split_off(start);
                percent::encode_into(&value, out);
            }
        }
    }
}

fn compile_var(expr: &str, data: Option<&DataSource>) -> Result<Part, String> {
    let mut words = expr.split_whitespace();
    let head = words.next().unwrap_or("");
    match head {
        "seq" => return Ok(Part::Seq),
        "uuid" => return Ok(Part::Uuid),
        "timestamp_ms" => return Ok(Part::TimestampMs),
        "random_int" => {
            let nums: Vec<i64> = words.filter_map(|w| w.parse().ok()).collect();
            return match nums[..] {
                [lo, hi] if lo <= hi => Ok(Part::RandomInt(lo, hi)),
                _ => Err(format!(
                    "`{{{{{expr}}}}}`: write `{{{{random_int LOW HIGH}}}}` with LOW <= HIGH"
                )),
            };
        }
        _ => {}
    }
    match data {
        Some(d) => d.column(head).map(Part::Column).ok_or_else(|| {
            format!(
                "`{{{{{expr}}}}}` is neither a column of data `{}` ({}) nor a built-in ({BUILTINS})",
                d.name,
                d.columns.join(", ")
            )
        }),
        None => Err(format!(
            "`{{{{{expr}}}}}` is not a built-in ({BUILTINS}); to use data columns, set `data = \"NAME\"` on the request"
        )),
    }
}

struct RenderCtx<'a> {
    row: &'a [String],
    seq: u64,
    rng: &'a mut fastrand::Rng,
}

/// One kind of request in the mix.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub weight: f64,
    pub method: String,
    path: Tpl,
    headers: Vec<(String, Tpl)>,
    body: Option<Tpl>,
    data: Option<Arc<DataSource>>,
}

/// What a template is compiled from (scenario `[[request]]`).
#[derive(Debug, Clone)]
pub struct TemplateSpec {
    pub name: String,
    pub weight: f64,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Template {
    pub fn compile(spec: &TemplateSpec, data: Option<Arc<DataSource>>) -> Result<Template, String> {
        let d = data.as_deref();
        let method = spec.method.trim().to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("method `{}` is not an HTTP method", spec.method));
        }
        if !spec.path.starts_with('/') {
            return Err(format!("path `{}` must start with `/`", spec.path));
        }
        if spec.path.contains([' ', '\r', '\n']) {
            return Err(format!(
                "path `{}` contains a space or line break; percent-encode it",
                spec.path
            ));
        }
        if !(spec.weight.is_finite() && spec.weight > 0.0) {
            return Err(format!("weight {} must be a positive number", spec.weight));
        }
        let mut headers = Vec::new();
        for (k, v) in &spec.headers {
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                return Err(format!("header name `{k}` is not a valid HTTP header name"));
            }
            if ["host", "content-length", "transfer-encoding", "connection"]
                .contains(&k.to_ascii_lowercase().as_str())
            {
                return Err(format!("header `{k}` is set by load itself; remove it"));
            }
            headers.push((k.clone(), Tpl::compile(v, d)?));
        }
        Ok(Template {
            name: spec.name.clone(),
            weight: spec.weight,
            method,
            path: Tpl::compile(&spec.path, d)?,
            headers,
            body: spec
                .body
                .as_deref()
                .map(|b| Tpl::compile(b, d))
                .transpose()?,
            data,
        })
    }

    pub fn is_static(&self) -> bool {
        self.path.is_static()
            && self.headers.iter().all(|(_, v)| v.is_static())
            && self.body.as_ref().is_none_or(|b| b.is_static())
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    fn render(&self, seq: u64, rng: &mut fastrand::Rng) -> RenderedRequest {
        let empty: Vec<String> = Vec::new();
        let row: Vec<String> = match &self.data {
            Some(d) => d.next_row(rng).to_vec(),
            None => empty,
        };
        let mut ctx = RenderCtx {
            row: &row,
            seq,
            rng,
        };
        let mut path = String::new();
        self.path.render(&mut path, &mut ctx, true);
        // Query separators and slashes written in the template stay as they are; only values
        // are encoded, above.
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| {
                let mut s = String::new();
                v.render(&mut s, &mut ctx, false);
                (k.clone(), s.replace(['\r', '\n'], " "))
            })
            .collect();
        let body = self.body.as_ref().map(|b| {
            let mut s = String::new();
            b.render(&mut s, &mut ctx, false);
            s.into_bytes()
        });
        RenderedRequest {
            method: self.method.clone(),
            path,
            headers,
            body,
        }
    }
}

/// A request with every variable filled in, not yet encoded for a target.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedRequest {
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// Where a request goes: what the Host header and the base path are.
#[derive(Debug, Clone)]
pub struct WireTarget {
    pub host: String,
    pub base_path: String,
}

impl RenderedRequest {
    /// HTTP/1.1 bytes for `target`. `close` asks the server to close afterwards (churn).
    pub fn encode(&self, target: &WireTarget, defaults: &[(String, String)], close: bool) -> Bytes {
        let body_len = self.body.as_ref().map(|b| b.len()).unwrap_or(0);
        let mut out = Vec::with_capacity(128 + self.path.len() + body_len);
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(target.base_path.as_bytes());
        out.extend_from_slice(self.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        out.extend_from_slice(target.host.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (k, v) in defaults {
            if self
                .headers
                .iter()
                .any(|(hk, _)| hk.eq_ignore_ascii_case(k))
            {
                continue;
            }
            push_header(&mut out, k, v);
        }
        for (k, v) in &self.headers {
            push_header(&mut out, k, v);
        }
        if close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        if self.body.is_some()
            || !matches!(self.method.as_str(), "GET" | "HEAD" | "DELETE" | "OPTIONS")
        {
            out.extend_from_slice(format!("content-length: {body_len}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if let Some(b) = &self.body {
            out.extend_from_slice(b);
        }
        Bytes::from(out)
    }
}

fn push_header(out: &mut Vec<u8>, k: &str, v: &str) {
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(v.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The weighted request mix, with requests that never vary encoded once per target.
#[derive(Debug)]
pub struct RequestMix {
    pub templates: Vec<Template>,
    cumulative: Vec<f64>,
    /// [template][target][close as usize]
    cached: Vec<Vec<[Option<Bytes>; 2]>>,
    targets: Vec<WireTarget>,
    defaults: Vec<(String, String)>,
}

/// The path requested when neither flags nor a scenario describe a request.
pub const DEFAULT_PATH: &str = "/";

/// The name of the one request of [`RequestMix::single_get`]: `GET /path`.
pub fn single_get_name(path: &str) -> String {
    format!("GET {path}")
}

impl RequestMix {
    pub fn new(
        templates: Vec<Template>,
        targets: Vec<WireTarget>,
        defaults: Vec<(String, String)>,
    ) -> RequestMix {
        let mut total = 0.0;
        let cumulative = templates
            .iter()
            .map(|t| {
                total += t.weight;
                total
            })
            .collect();
        let mut rng = fastrand::Rng::with_seed(0);
        let cached = templates
            .iter()
            .map(|t| {
                targets
                    .iter()
                    .map(|wt| {
                        if t.is_static() {
                            let r = t.render(0, &mut rng);
                            [
                                Some(r.encode(wt, &defaults, false)),
                                Some(r.encode(wt, &defaults, true)),
                            ]
                        } else {
                            [None, None]
                        }
                    })
                    .collect()
            })
            .collect();
        RequestMix {
            templates,
            cumulative,
            cached,
            targets,
            defaults,
        }
    }

    /// A mix of one `GET path`, named [`single_get_name`].
    pub fn single_get(
        path: &str,
        targets: Vec<WireTarget>,
        defaults: Vec<(String, String)>,
    ) -> Result<RequestMix, String> {
        let spec = TemplateSpec {
            name: single_get_name(path),
            weight: 1.0,
            method: "GET".into(),
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        };
        Ok(RequestMix::new(
            vec![Template::compile(&spec, None)?],
            targets,
            defaults,
        ))
    }

    pub fn pick(&self, rng: &mut fastrand::Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        if self.templates.len() <= 1 || total <= 0.0 {
            return 0;
        }
        let x = rng.f64() * total;
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.templates.len() - 1)
    }

    /// Renders template `i` once; encode it per target with [`RequestMix::encode_rendered`].
    pub fn render(&self, i: usize, seq: u64, rng: &mut fastrand::Rng) -> Option<RenderedRequest> {
        if self.cached.get(i)?.first()?[0].is_some() {
            return None;
        }
        self.templates.get(i).map(|t| t.render(seq, rng))
    }

    /// Bytes for template `i` on `target`: cached when static, else from `rendered`.
    pub fn bytes(
        &self,
        i: usize,
        target: usize,
        rendered: Option<&RenderedRequest>,
        close: bool,
    ) -> Bytes {
        if let Some(b) = self
            .cached
            .get(i)
            .and_then(|per| per.get(target))
            .and_then(|c| c[close as usize].clone())
        {
            return b;
        }
        match (rendered, self.targets.get(target)) {
            (Some(r), Some(t)) => r.encode(t, &self.defaults, close),
            _ => Bytes::new(),
        }
    }

    pub fn encode_rendered(&self, r: &RenderedRequest, target: usize, close: bool) -> Bytes {
        match self.targets.get(target) {
            Some(t) => r.encode(t, &self.defaults, close),
            None => Bytes::new(),
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.templates.iter().map(|t| t.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wt() -> WireTarget {
        WireTarget {
            host: "example:80".into(),
            base_path: "/v1".into(),
        }
    }

    #[test]
    fn renders_columns_and_builtins_and_encodes() {
        let d = Arc::new(DataSource::inline(
            "users",
            vec!["id".into(), "name".into()],
            vec![vec!["7".into(), "Ann Lee/x".into()]],
        ));
        let spec = TemplateSpec {
            name: "user".into(),
            weight: 1.0,
            method: "post".into(),
            path: "/users/{{id}}?q={{name}}&n={{seq}}".into(),
            headers: vec![("x-name".into(), "{{name}}".into())],
            body: Some(r#"{"id":{{id}},"r":{{random_int 5 5}}}"#.into()),
        };
        let t = Template::compile(&spec, Some(d)).unwrap();
        assert!(!t.is_static());
        let mut rng = fastrand::Rng::with_seed(1);
        let r = t.render(42, &mut rng);
        assert_eq!(r.path, "/users/7?q=Ann%20Lee%2Fx&n=42");
        assert_eq!(r.body.as_deref(), Some(&br#"{"id":7,"r":5}"#[..]));
        let bytes = r.encode(&wt(), &[("user-agent".into(), "ua".into())], true);
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.starts_with("POST /v1/users/7?q=Ann%20Lee%2Fx&n=42 HTTP/1.1\r\nhost: example:80\r\nuser-agent: ua\r\nx-name: Ann Lee/x\r\nconnection: close\r\ncontent-length: 14\r\n\r\n{\"id\":7"), "{text}");
    }

    #[test]
    fn unknown_variables_and_bad_fields_are_named() {
        let mut spec = TemplateSpec {
            name: "x".into(),
            weight: 1.0,
            method: "GET".into(),
            path: "/a/{{nope}}".into(),
            headers: vec![],
            body: None,
        };
        let e = Template::compile(&spec, None).unwrap_err();
        assert!(e.contains("nope") && e.contains("data"), "{e}");
        spec.path = "/a/{{id".into();
        assert!(
            Template::compile(&spec, None)
                .unwrap_err()
                .contains("closing")
        );
        spec.path = "a".into();
        assert!(
            Template::compile(&spec, None)
                .unwrap_err()
                .contains("start with")
        );
        spec.path = "/a".into();
        spec.weight = 0.0;
        assert!(
            Template::compile(&spec, None)
                .unwrap_err()
                .contains("weight")
        );
        spec.weight = 1.0;
        spec.headers = vec![("Host".into(), "x".into())];
        assert!(
            Template::compile(&spec, None)
                .unwrap_err()
                .contains("set by load")
        );
    }

    #[test]
    fn weighted_pick_follows_weights() {
        let mk = |name: &str, w: f64| {
            Template::compile(
                &TemplateSpec {
                    name: name.into(),
                    weight: w,
                    method: "GET".into(),
                    path: "/".into(),
                    headers: vec![],
                    body: None,
                },
                None,
            )
            .unwrap()
        };
        let mix = RequestMix::new(vec![mk("a", 1.0), mk("b", 3.0)], vec![wt()], vec![]);
        let mut rng = fastrand::Rng::with_seed(9);
        let mut counts = [0u32; 2];
        for _ in 0..40_000 {
            counts[mix.pick(&mut rng)] += 1;
        }
        let share = counts[1] as f64 / 40_000.0;
        assert!((share - 0.75).abs() < 0.01, "{share}");
        let b = mix.bytes(0, 0, None, false);
        assert!(b.starts_with(b"GET /v1/ HTTP/1.1\r\n"));
    }
}
