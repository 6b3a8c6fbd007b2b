//! `nats://HOST:PORT/NAME` as the capture and replay flags take it: the server, and a subject
//! (`shadow --capture`) or a stream (`load --replay`). Parsed and checked before anything
//! connects, so a typo fails at start-up naming what is wrong.
use std::fmt;

/// The scheme both flags recognise.
pub const SCHEME: &str = "nats://";

/// The default NATS client port, when the URL gives none.
const DEFAULT_PORT: u16 = 4222;

/// A parsed `nats://HOST:PORT/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsUrl {
    /// `host:port`, as the client connects to it.
    pub server: String,
    /// What follows the first `/`: a subject or a stream name, checked by the caller's
    /// [`NatsUrl::subject`] or [`NatsUrl::stream`].
    pub name: String,
}

/// Why a `nats://` URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{url}`: {problem}")]
pub struct UrlError {
    pub url: String,
    pub problem: String,
}

/// True when `text` asks for NATS rather than a file.
pub fn is_nats(text: &str) -> bool {
    text.get(..SCHEME.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(SCHEME))
}

impl NatsUrl {
    /// Parses `nats://HOST[:PORT]/NAME`. Credentials in the URL are refused: they would end up
    /// in logs and results (use a credentials file).
    pub fn parse(text: &str) -> Result<NatsUrl, UrlError> {
        let bad = |problem: &str| UrlError {
            url: prodlike_common::redact::redact_url(text),
            problem: problem.to_string(),
        };
        if !is_nats(text) {
            return Err(bad("not a nats:// URL"));
        }
        let rest = text.get(SCHEME.len()..).unwrap_or_default();
        let (authority, name) = rest
            .split_once('/')
            .ok_or_else(|| bad("no name after the server; write nats://HOST:PORT/NAME"))?;
        if authority.contains('@') {
            return Err(bad(
                "credentials in the URL are not accepted (they would be logged); give a credentials file instead",
            ));
        }
        // `[::1]` alone has no port; `[::1]:4222` and `host:4222` do.
        let with_port = if authority.ends_with(']') {
            None
        } else {
            authority.rsplit_once(':')
        };
        let (host, port) = match with_port {
            Some((h, p)) => {
                let port: u16 = p
                    .parse()
                    .map_err(|_| bad(&format!("`{p}` is not a port number")))?;
                if port == 0 {
                    return Err(bad("port 0 is not a port to connect to"));
                }
                (h, port)
            }
            None => (authority, DEFAULT_PORT),
        };
        if host.is_empty() {
            return Err(bad("no host; write nats://HOST:PORT/NAME"));
        }
        if host
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'/' || b == b'?')
        {
            return Err(bad("the host holds characters a host name cannot"));
        }
        if name.is_empty() {
            return Err(bad("no name after the server; write nats://HOST:PORT/NAME"));
        }
        Ok(NatsUrl {
            server: format!("{host}:{port}"),
            name: name.to_string(),
        })
    }

    /// The name as a subject to publish to: dot-separated tokens, no wildcards.
    pub fn subject(&self) -> Result<&str, UrlError> {
        check_subject(&self.name).map_err(|problem| UrlError {
            url: self.to_string(),
            problem,
        })?;
        Ok(&self.name)
    }

    /// The name as a stream name.
    pub fn stream(&self) -> Result<&str, UrlError> {
        check_stream_name(&self.name).map_err(|problem| UrlError {
            url: self.to_string(),
            problem,
        })?;
        Ok(&self.name)
    }
}

impl fmt::Display for NatsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.server, self.name)
    }
}

/// A subject one publishes to: non-empty tokens separated by `.`, printable, no wildcards.
pub fn check_subject(subject: &str) -> Result<(), String> {
    if subject.len() > 255 {
        return Err("the subject is longer than 255 bytes".into());
    }
    for token in subject.split('.') {
        if token.is_empty() {
            return Err(format!(
                "subject `{subject}` has an empty token (two dots, or a dot at an end)"
            ));
        }
        if token == "*" || token == ">" {
            return Err(format!(
                "subject `{subject}` holds a wildcard; give the exact subject to publish to"
            ));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "subject `{subject}` holds spaces or characters outside printable ASCII"
            ));
        }
    }
    Ok(())
}

/// A JetStream stream name: printable ASCII without `.`, `*`, `>`, path separators or spaces.
pub fn check_stream_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the stream name is empty".into());
    }
    if name.len() > 255 {
        return Err("the stream name is longer than 255 bytes".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'.' | b'*' | b'>' | b'/' | b'\\'))
    {
        return Err(format!(
            "stream name `{name}` may hold only printable ASCII without `.`, `*`, `>`, `/`, `\\` or spaces"
        ));
    }
    Ok(())
}

/// The stream a subject is stored in when none is named: the subject upper-cased, with `.`
/// and other characters a stream name cannot hold as `_` (`prodlike.capture` →
/// `PRODLIKE_CAPTURE`).
pub fn default_stream(subject: &str) -> String {
    subject
        .bytes()
        .map(|b| match b {
            b'.' | b'*' | b'>' | b'/' | b'\\' => '_',
            b if b.is_ascii_graphic() => char::from(b.to_ascii_uppercase()),
            _ => '_',
        })
        .collect()
}

/// True when `subject` falls under `filter` (`*` one token, `>` one or more at the end).
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut f = filter.split('.');
    let mut s = subject.split('.');
    loop {
        match (f.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_and_name() {
        let u = NatsUrl::parse("nats://127.0.0.1:4222/prodlike.capture").unwrap();
        assert_eq!(u.server, "127.0.0.1:4222");
        assert_eq!(u.subject().unwrap(), "prodlike.capture");
        assert!(u.stream().is_err());
        let u = NatsUrl::parse("NATS://nats.internal/CAPTURE").unwrap();
        assert_eq!(u.server, "nats.internal:4222");
        assert_eq!(u.stream().unwrap(), "CAPTURE");
        assert_eq!(u.to_string(), "nats://nats.internal:4222/CAPTURE");
    }

    #[test]
    fn refuses_what_cannot_work() {
        for (url, says) in [
            ("nats://127.0.0.1:4222", "no name"),
            ("nats://127.0.0.1:4222/", "no name"),
            ("nats://:4222/x", "no host"),
            ("nats://h:99999/x", "not a port"),
            ("nats://h:0/x", "port 0"),
            ("nats://u:secret@h:4222/x", "credentials"),
            ("http://h/x", "not a nats"),
        ] {
            let e = NatsUrl::parse(url).unwrap_err();
            assert!(e.problem.contains(says), "{url}: {e}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
        let u = NatsUrl::parse("nats://h/a..b").unwrap();
        assert!(u.subject().unwrap_err().problem.contains("empty token"));
        let u = NatsUrl::parse("nats://h/a.>").unwrap();
        assert!(u.subject().unwrap_err().problem.contains("wildcard"));
    }

    #[test]
    fn default_streams_are_valid_names() {
        assert_eq!(
            default_stream("prodlike.capture.orders"),
            "PRODLIKE_CAPTURE_ORDERS"
        );
        check_stream_name(&default_stream("a.b-c")).unwrap();
    }

    #[test]
    fn wildcards_match_like_nats() {
        assert!(subject_matches("a.*", "a.b"));
        assert!(!subject_matches("a.*", "a.b.c"));
        assert!(subject_matches("a.>", "a.b.c"));
        assert!(!subject_matches("a.>", "a"));
        assert!(subject_matches("a.b", "a.b"));
        assert!(!subject_matches("a.b", "a.c"));
    }
}
