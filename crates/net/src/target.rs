use http::Uri;
use http::uri::{Authority, Scheme};

/// An upstream or load target: `http://host:port[/base]` or `https://…`; for upstreams also
/// `h2c://…` (HTTP/2 over plain TCP by prior knowledge, see [`Target::parse_upstream`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`; an `h2c://` target has `http` here and `h2c` set.
    pub scheme: Scheme,
    /// HTTP/2 over plain TCP by prior knowledge (the URL said `h2c://`).
    pub h2c: bool,
    pub authority: Authority,
    /// Path prefix prepended to every request path, without a trailing slash ("" for none).
    pub base_path: String,
    /// Original text, for messages and labels.
    pub original: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TargetError {
    #[error("`{url}` is not a valid URL ({reason}); expected e.g. http://127.0.0.1:8080")]
    Malformed { url: String, reason: String },
    #[error("`{url}` uses scheme `{scheme}`; only {allowed} are supported")]
    Scheme {
        url: String,
        scheme: String,
        allowed: &'static str,
    },
    #[error("`{url}` has no host; expected e.g. http://127.0.0.1:8080")]
    NoHost { url: String },
    #[error(
        "`{url}` has a query or fragment; give only scheme, host, port and an optional base path"
    )]
    HasQuery { url: String },
}

impl Target {
    /// An `http://` or `https://` target.
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        Self::parse_with(url, false)
    }

    /// An upstream of the proxy: `http://`, `https://` (HTTP/2 or HTTP/1.1 by ALPN) or
    /// `h2c://` (HTTP/2 over plain TCP by prior knowledge).
    pub fn parse_upstream(url: &str) -> Result<Target, TargetError> {
        Self::parse_with(url, true)
    }

    fn parse_with(url: &str, allow_h2c: bool) -> Result<Target, TargetError> {
        let malformed = |reason: String| TargetError::Malformed {
            url: url.to_string(),
            reason,
        };
        let uri: Uri = url
            .trim()
            .parse()
            .map_err(|e: http::uri::InvalidUri| malformed(e.to_string()))?;
        let mut scheme = uri
            .scheme()
            .cloned()
            .ok_or_else(|| malformed("missing scheme".into()))?;
        let h2c = allow_h2c && scheme.as_str().eq_ignore_ascii_case("h2c");
        if h2c {
            scheme = Scheme::HTTP;
        }
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(TargetError::Scheme {
                url: url.to_string(),
                scheme: scheme.to_string(),
                allowed: if allow_h2c {
                    "http://, https:// and h2c://"
                } else {
                    "http:// and https://"
                },
            });
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| TargetError::NoHost {
                url: url.to_string(),
            })?;
        if authority.host().is_empty() {
            return Err(TargetError::NoHost {
                url: url.to_string(),
            });
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(TargetError::HasQuery {
                url: url.to_string(),
            });
        }
        let base_path = uri.path().trim_end_matches('/').to_string();
        Ok(Target {
            scheme,
            h2c,
            authority,
            base_path,
            original: url.trim().to_string(),
        })
    }

    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }

    /// host:port with the scheme's default port filled in, for connecting and labels.
    pub fn host_port(&self) -> String {
        let port = self
            .authority
            .port_u16()
            .unwrap_or(if self.is_https() { 443 } else { 80 });
        format!("{}:{port}", self.authority.host())
    }

    /// The absolute URI for an incoming request's path and query on this target. Without a base
    /// path this reuses the already-parsed path (no copy, no re-validation).
    pub fn uri_with(&self, pq: Option<&http::uri::PathAndQuery>) -> Result<Uri, http::Error> {
        if !self.base_path.is_empty() {
            return self.uri_for(pq.map(|p| p.as_str()).unwrap_or("/"));
        }
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(
            pq.cloned()
                .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")),
        );
        Ok(Uri::from_parts(parts)?)
    }

    /// The absolute URI for `path_and_query` (which starts with `/`) on this target.
    pub fn uri_for(&self, path_and_query: &str) -> Result<Uri, http::Error> {
        let mut pq = String::with_capacity(self.base_path.len() + path_and_query.len());
        pq.push_str(&self.base_path);
        pq.push_str(path_and_query);
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_shapes() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.host_port(), "127.0.0.1:8080");
        assert_eq!(t.base_path, "");
        assert_eq!(
            t.uri_for("/a?b=1").unwrap().to_string(),
            "http://127.0.0.1:8080/a?b=1"
        );
        let t = Target::parse("https://api.internal/v2/").unwrap();
        assert!(t.is_https());
        assert_eq!(t.host_port(), "api.internal:443");
        assert_eq!(
            t.uri_for("/x").unwrap().to_string(),
            "https://api.internal/v2/x"
        );
    }

    #[test]
    fn rejects_what_it_cannot_use() {
        assert!(matches!(
            Target::parse("127.0.0.1:8080"),
            Err(TargetError::Malformed { .. }) | Err(TargetError::Scheme { .. })
        ));
        assert!(matches!(
            Target::parse("ftp://x"),
            Err(TargetError::Scheme { .. })
        ));
        assert!(matches!(
            Target::parse("http://"),
            Err(TargetError::Malformed { .. }) | Err(TargetError::NoHost { .. })
        ));
        assert!(matches!(
            Target::parse("http://x/?a=1"),
            Err(TargetError::HasQuery { .. })
        ));
        assert!(matches!(
            Target::parse("ht tp://x"),
            Err(TargetError::Malformed { .. })
        ));
        let msg = Target::parse("localhost").unwrap_err().to_string();
        assert!(msg.contains("localhost"), "{msg}");
        assert!(matches!(
            Target::parse("h2c://x:81"),
            Err(TargetError::Scheme { .. })
        ));
    }

    #[test]
    fn upstreams_may_be_h2c() {
        let t = Target::parse_upstream("h2c://127.0.0.1:9000/base").unwrap();
        assert!(t.h2c && !t.is_https());
        assert_eq!(t.host_port(), "127.0.0.1:9000");
        assert_eq!(
            t.uri_for("/x").unwrap().to_string(),
            "http://127.0.0.1:9000/base/x"
        );
        assert!(!Target::parse_upstream("http://a").unwrap().h2c);
    }
}
