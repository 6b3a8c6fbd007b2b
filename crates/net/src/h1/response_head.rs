//! Parsing a response head off the front of a connection's read buffer, and deciding from it
//! how the body is framed (RFC 9112 §6.3) and whether the connection can be reused.
//!
//! This runs once per proxied request, so it avoids what a straightforward version costs:
//! the header slots are left uninitialised (4 KiB otherwise cleared per attempt), framing is
//! read off httparse's slices before any map exists (no hashed lookups), and header values
//! are zero-copy slices of the head's bytes rather than one allocation each. Connection and
//! Keep-Alive headers that describe only this connection are left out.
use std::mem::MaybeUninit;

use bytes::{Buf, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Version};

use super::H1Error;
use super::body::Framing;
use super::chunked::ChunkedDecoder;

/// Headers a response may carry.
pub(crate) const MAX_HEADERS: usize = 128;

/// Where one header's name and value lie within the head's bytes.
#[derive(Clone, Copy, Default)]
struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// What a final (non-1xx) response head says about the exchange.
struct Head {
    /// Bytes of the head, from the front of the buffer.
    len: usize,
    status: StatusCode,
    version: Version,
    framing: Framing,
    keep_alive: bool,
}

/// Parses the response head at the front of `buf`, dropping interim 1xx heads from it.
/// `collect` sees the final head's headers while httparse still borrows the buffer, with the
/// buffer's address to turn them into offsets; the head's bytes stay in `buf`. `Ok(None)` asks
/// for more bytes. With `upgrade`, a 101 Switching Protocols is final (no body: the connection
/// changes protocol after it).
#[inline(always)]
fn parse_final<T>(
    buf: &mut BytesMut,
    method: &Method,
    upgrade: bool,
    mut collect: impl FnMut(&[httparse::Header<'_>], usize) -> T,
) -> Result<Option<(Head, T)>, H1Error> {
    loop {
        if buf.is_empty() {
            return Ok(None);
        }
        let parsed = {
            let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut []);
            let len = match httparse::ParserConfig::default()
                .parse_response_with_uninit_headers(&mut resp, buf, &mut slots)
            {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(e) => return Err(H1Error::Head(e)),
            };
            let code = resp.code.unwrap_or(0);
            let status = StatusCode::from_u16(code)
                .map_err(|_| H1Error::Protocol(format!("status {code}")))?;
            let switched = upgrade && status == StatusCode::SWITCHING_PROTOCOLS;
            if status.is_informational() && !switched {
                if status == StatusCode::SWITCHING_PROTOCOLS {
                    return Err(H1Error::Protocol(
                        "101 Switching Protocols: this client speaks HTTP/1.1 only".into(),
                    ));
                }
                Err(len)
            } else {
                let version = if resp.version == Some(0) {
                    Version::HTTP_10
                } else {
                    Version::HTTP_11
                };
                let (framing, reusable) = if switched {
                    (Framing::Empty, false)
                } else {
                    response_framing(method, status, resp.headers)?
                };
                let keep_alive = reusable && keeps_alive(version, resp.headers);
                let collected = collect(resp.headers, buf.as_ptr() as usize);
                let head = Head {
                    len,
                    status,
                    version,
                    framing,
                    keep_alive,
                };
                Ok((head, collected))
            }
        };
        match parsed {
            Ok(done) => return Ok(Some(done)),
            Err(interim) => buf.advance(interim),
        }
    }
}

/// Parses a response head at the front of `buf`, skipping interim 1xx responses. On success the
/// head's bytes are removed from `buf`; `Ok(None)` asks for more bytes.
pub(crate) fn parse_head(
    buf: &mut BytesMut,
    method: &Method,
) -> Result<Option<(http::response::Parts, Framing, bool)>, H1Error> {
    parse_head_with(buf, method, false)
}

/// Like [`parse_head`] for a request that asked to upgrade: a 101 is final, and its
/// `Connection`/`Upgrade` headers are kept (the proxy answers its client with them).
pub(crate) fn parse_upgrade_head(
    buf: &mut BytesMut,
    method: &Method,
) -> Result<Option<(http::response::Parts, Framing, bool)>, H1Error> {
    parse_head_with(buf, method, true)
}

fn parse_head_with(
    buf: &mut BytesMut,
    method: &Method,
    upgrade: bool,
) -> Result<Option<(http::response::Parts, Framing, bool)>, H1Error> {
    // Nothing to parse yet (the first look, before any read): return before clearing `spans`.
    if buf.is_empty() {
        return Ok(None);
    }
    let mut spans = [Span::default(); MAX_HEADERS];
    let found = parse_final(buf, method, upgrade, |headers, base| {
        let only_this_hop = !upgrade && describes_only_this_connection(headers);
        let offset = |s: &[u8]| ((s.as_ptr() as usize - base) as u32, s.len() as u32);
        let passed_up = headers
            .iter()
            .filter(|h| !(only_this_hop && is_connection_header(h.name)));
        let mut kept = 0;
        for (span, h) in spans.iter_mut().zip(passed_up) {
            *span = Span {
                name: offset(h.name.as_bytes()),
                value: offset(h.value),
            };
            kept += 1;
        }
        kept
    })?;
    let Some((head, count)) = found else {
        return Ok(None);
    };
    let bytes = buf.split_to(head.len).freeze();
    let mut map = HeaderMap::with_capacity(count);
    for span in &spans[..count] {
        let range = |(at, n): (u32, u32)| at as usize..(at + n) as usize;
        let name = HeaderName::from_bytes(&bytes[range(span.name)]).map_err(|_| {
            H1Error::Protocol(format!(
                "invalid header name {:?}",
                String::from_utf8_lossy(&bytes[range(span.name)])
            ))
        })?;
        let value = HeaderValue::from_maybe_shared(bytes.slice(range(span.value)))
            .map_err(|_| H1Error::Protocol(format!("invalid value of header {name}")))?;
        map.append(name, value);
    }
    let mut parts = Response::new(()).into_parts().0;
    parts.status = head.status;
    parts.version = head.version;
    parts.headers = map;
    Ok(Some((parts, head.framing, head.keep_alive)))
}

/// What a load generator keeps of a response head: status, body framing and whether the
/// connection can be reused. No header map is built. On success the head's bytes (interim 1xx
/// heads included) are removed from `buf`.
pub(crate) fn parse_status(
    buf: &mut BytesMut,
    method: &Method,
) -> Result<Option<(StatusCode, Framing, bool)>, H1Error> {
    let Some((head, ())) = parse_final(buf, method, false, |_, _| ())? else {
        return Ok(None);
    };
    buf.advance(head.len);
    Ok(Some((head.status, head.framing, head.keep_alive)))
}

fn is_connection_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive")
}

/// Whether the Connection header only says keep-alive or close. Then it and Keep-Alive are not
/// passed up: they are hop-by-hop (RFC 9110 §7.6.1) and a proxy would only remove them again.
/// When it names other headers they stay, so that the caller can remove those too.
fn describes_only_this_connection(headers: &[httparse::Header<'_>]) -> bool {
    tokens(headers, "connection").all(|t| {
        t.is_empty() || t.eq_ignore_ascii_case("keep-alive") || t.eq_ignore_ascii_case("close")
    })
}

/// The comma-separated tokens of every `name` header, trimmed.
fn tokens<'a>(
    headers: &'a [httparse::Header<'a>],
    name: &'static str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| std::str::from_utf8(h.value).unwrap_or("\u{0}"))
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// RFC 9112 §6.3. Returns the framing and whether the connection can carry another exchange
/// after this body.
fn response_framing(
    method: &Method,
    status: StatusCode,
    headers: &[httparse::Header<'_>],
) -> Result<(Framing, bool), H1Error> {
    if *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok((Framing::Empty, true));
    }
    if headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("transfer-encoding"))
    {
        let last = tokens(headers, "transfer-encoding")
            .filter(|c| !c.is_empty())
            .last()
            .unwrap_or("");
        return Ok(if last.eq_ignore_ascii_case("chunked") {
            (Framing::Chunked(ChunkedDecoder::default()), true)
        } else {
            (Framing::UntilClose, false)
        });
    }
    let mut length: Option<u64> = None;
    for part in tokens(headers, "content-length") {
        let n: u64 = part
            .parse()
            .map_err(|_| H1Error::Protocol(format!("invalid Content-Length {part:?}")))?;
        if length.is_some_and(|l| l != n) {
            return Err(H1Error::Protocol(
                "conflicting Content-Length values".into(),
            ));
        }
        length = Some(n);
    }
    Ok(match length {
        Some(n) => (Framing::Length(n), true),
        None => (Framing::UntilClose, false),
    })
}

fn keeps_alive(version: Version, headers: &[httparse::Header<'_>]) -> bool {
    let mut connection = tokens(headers, "connection");
    if version == Version::HTTP_10 {
        connection.any(|t| t.eq_ignore_ascii_case("keep-alive"))
    } else {
        !connection.any(|t| t.eq_ignore_ascii_case("close"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn parse(
        bytes: &[u8],
        method: Method,
    ) -> Result<Option<(http::response::Parts, Framing, bool)>, H1Error> {
        let mut buf = BytesMut::from(bytes);
        parse_head(&mut buf, &method)
    }

    #[test]
    fn framing_keep_alive_and_leftover_bytes() {
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello"[..],
        );
        let (parts, framing, keep) = parse_head(&mut buf, &Method::GET).unwrap().unwrap();
        assert_eq!(parts.status, 200);
        assert!(matches!(framing, Framing::Length(5)));
        assert!(keep);
        let all: Vec<_> = parts.headers.get_all("x-a").iter().collect();
        assert_eq!(all, ["1", "2"]);
        assert_eq!(&buf[..], b"hello");

        // (response, method, framing, connection reusable)
        let cases: [(&[u8], Method, &str, bool); 5] = [
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
                Method::GET,
                "chunked",
                false,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                Method::GET,
                "until-close",
                false,
            ),
            (
                b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
                Method::GET,
                "length 0",
                false, // HTTP/1.0 closes unless it says keep-alive
            ),
            (
                b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: Keep-Alive\r\n\r\n",
                Method::GET,
                "length 0",
                true,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
                Method::HEAD,
                "empty",
                true,
            ),
        ];
        for (raw, method, framing, reusable) in cases {
            let (_, f, keep) = parse(raw, method).unwrap().unwrap();
            let got = match f {
                Framing::Chunked(_) => "chunked".to_string(),
                Framing::UntilClose => "until-close".to_string(),
                Framing::Length(n) => format!("length {n}"),
                Framing::Empty => "empty".to_string(),
            };
            assert_eq!(got, framing, "{}", String::from_utf8_lossy(raw));
            assert_eq!(keep, reusable, "{}", String::from_utf8_lossy(raw));
        }
        assert!(
            parse(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
                Method::GET
            )
            .is_err()
        );
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", Method::GET).is_err());
        assert!(parse(b"HTTP/1.1 101 Switching Protocols\r\n\r\n", Method::GET).is_err());
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Le", Method::GET)
                .unwrap()
                .is_none()
        );
        assert!(parse(b"", Method::GET).unwrap().is_none());

        // Connection headers about this connection only are not passed up; ones naming other
        // headers are, so that the proxy can remove those as well.
        let (parts, _, keep) = parse(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-B: 1\r\nContent-Length: 0\r\n\r\n", Method::GET).unwrap().unwrap();
        assert!(keep);
        let names: Vec<_> = parts.headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["x-b", "content-length"]);
        let (parts, _, _) = parse(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-B\r\nX-B: 1\r\nContent-Length: 0\r\n\r\n", Method::GET).unwrap().unwrap();
        assert_eq!(parts.headers["connection"], "keep-alive, X-B");
        assert_eq!(parts.headers["x-b"], "1");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes, Method::GET);
        }

        /// Whatever headers a well-formed head carries come back, in order, byte for byte.
        #[test]
        fn headers_round_trip(
            headers in proptest::collection::vec(("[a-z][a-z0-9-]{0,12}", "[ -~]{0,40}"), 0..20),
            body in "[a-z]{0,10}",
        ) {
            let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
            for (n, v) in &headers {
                raw.extend_from_slice(format!("x-{n}: {v}\r\n").as_bytes());
            }
            raw.extend_from_slice(b"\r\n");
            raw.extend_from_slice(body.as_bytes());
            let mut buf = BytesMut::from(&raw[..]);
            let (parts, _, _) = parse_head(&mut buf, &Method::GET).unwrap().unwrap();
            let got: Vec<(String, String)> = parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let mut want: Vec<(String, String)> = headers
                .iter()
                .map(|(n, v)| (format!("x-{n}"), v.trim().to_string()))
                .collect();
            // A HeaderMap groups repeated names at their first position.
            let mut grouped: Vec<(String, String)> = Vec::new();
            for (n, _) in &want {
                if !grouped.iter().any(|(g, _)| g == n) {
                    grouped.extend(want.iter().filter(|(m, _)| m == n).cloned());
                }
            }
            want = grouped;
            prop_assert_eq!(got, want);
            prop_assert_eq!(&buf[..], body.as_bytes());
        }
    }
}
