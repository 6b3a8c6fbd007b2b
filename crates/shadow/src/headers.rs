//! Header rules of a reverse proxy: hop-by-hop headers stay on their hop (RFC 9110 §7.6.1),
//! and X-Forwarded-For/-Proto/-Host tell the upstream who asked. `Trailer` is end to end (RFC
//! 9110 §6.6.2): it announces the trailer fields, and hyper's HTTP/1.1 server sends only the
//! trailers a response announces.
use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
];

pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub static X_PRODLIKE_SHADOW: HeaderName = HeaderName::from_static("x-prodlike-shadow");

/// Removes hop-by-hop headers, including those the Connection header names. `TE: trailers` is
/// kept, as HTTP/2 (gRPC) needs it end to end. One pass over the headers finds them; most
/// messages carry none, or only `Connection: keep-alive`, and cost no allocation.
pub fn remove_hop_by_hop(h: &mut HeaderMap) {
    const MAX_FOUND: usize = 8;
    let mut found: [Option<HeaderName>; MAX_FOUND] = Default::default();
    let mut n = 0;
    for k in h.keys() {
        if is_hop_by_hop(k) {
            if n == MAX_FOUND {
                break;
            }
            found[n] = Some(k.clone());
            n += 1;
        }
    }
    if n == 0 {
        return;
    }
    // Headers the Connection header names are hop-by-hop too; its usual tokens name nothing.
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| {
            !t.is_empty()
                && !["keep-alive", "close", "upgrade", "te"]
                    .iter()
                    .any(|c| t.eq_ignore_ascii_case(c))
        })
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .collect();
    for name in named {
        h.remove(name);
    }
    let keep_trailers = h
        .get(header::TE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("trailers"))
        });
    for name in found.iter_mut().take(n) {
        if let Some(name) = name.take() {
            h.remove(name);
        }
    }
    if keep_trailers {
        h.insert(header::TE, HeaderValue::from_static("trailers"));
    }
    // More hop-by-hop headers than we track in one pass: rare, so sweep again.
    if n == MAX_FOUND {
        remove_hop_by_hop(h);
    }
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name) || name == "keep-alive" || name == "proxy-connection"
}

/// Appends the client to X-Forwarded-For and sets X-Forwarded-Proto and -Host unless a proxy in
/// front of us already did. `client` is the peer address already rendered (once per
/// connection). One pass finds which of the three are present.
pub fn add_forwarded(
    h: &mut HeaderMap,
    client: &HeaderValue,
    proto: &'static str,
    host: Option<&HeaderValue>,
) {
    let (mut has_for, mut has_proto, mut has_host) = (false, false, false);
    for k in h.keys() {
        if k == X_FORWARDED_FOR {
            has_for = true;
        } else if k == X_FORWARDED_PROTO {
            has_proto = true;
        } else if k == X_FORWARDED_HOST {
            has_host = true;
        }
    }
    let value = match h.get(&X_FORWARDED_FOR).filter(|_| has_for) {
        Some(prev) if !prev.is_empty() => {
            let mut v = Vec::with_capacity(prev.len() + 2 + client.len());
            v.extend_from_slice(prev.as_bytes());
            v.extend_from_slice(b", ");
            v.extend_from_slice(client.as_bytes());
            HeaderValue::from_bytes(&v).unwrap_or_else(|_| client.clone())
        }
        _ => client.clone(),
    };
    h.insert(X_FORWARDED_FOR.clone(), value);
    if !has_proto {
        h.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(proto));
    }
    if !has_host && let Some(host) = host {
        h.insert(X_FORWARDED_HOST.clone(), host.clone());
    }
}

/// The client address as a header value, computed once per connection.
pub fn client_value(ip: IpAddr) -> HeaderValue {
    // An IP address renders to ASCII digits, dots, colons and hex: always a valid value.
    HeaderValue::from_str(&ip.to_string()).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// A copy of `h` that owns its bytes. Parsed header values are slices of the connection's read
/// buffer; a copy kept for the mirror (queued, or waiting on a slow staging) would otherwise
/// keep that whole buffer alive and make the connection allocate a new one.
pub fn detached(h: &HeaderMap) -> HeaderMap {
    // One buffer for all the values, and the map's structure cloned as it is (no rehashing):
    // this runs for every mirrored request.
    let mut all = bytes::BytesMut::with_capacity(h.values().map(HeaderValue::len).sum());
    for v in h.values() {
        all.extend_from_slice(v.as_bytes());
    }
    let all = all.freeze();
    let mut out = h.clone();
    let mut at = 0;
    for v in out.values_mut() {
        let end = at + v.len();
        if let Ok(mut owned) = HeaderValue::from_maybe_shared(all.slice(at..end)) {
            owned.set_sensitive(v.is_sensitive());
            *v = owned;
        }
        at = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut h = HeaderMap::new();
        h.insert("connection", "keep-alive, x-secret-hop".parse().unwrap());
        h.insert("x-secret-hop", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert("transfer-encoding", "chunked".parse().unwrap());
        h.insert("upgrade", "websocket".parse().unwrap());
        h.insert("te", "trailers, deflate".parse().unwrap());
        h.insert("accept", "*/*".parse().unwrap());
        remove_hop_by_hop(&mut h);
        let mut clean = HeaderMap::new();
        clean.insert("accept", "*/*".parse().unwrap());
        let before = clean.clone();
        remove_hop_by_hop(&mut clean);
        assert_eq!(clean, before);
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(names, vec!["accept", "te"]);
        assert_eq!(h["te"], "trailers");
    }

    #[test]
    fn forwarded_headers_append_and_preserve() {
        let mut h = HeaderMap::new();
        let host = HeaderValue::from_static("shop.example");
        add_forwarded(
            &mut h,
            &client_value("10.0.0.1".parse().unwrap()),
            "http",
            Some(&host),
        );
        assert_eq!(h["x-forwarded-for"], "10.0.0.1");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "shop.example");
        add_forwarded(
            &mut h,
            &client_value("10.0.0.2".parse().unwrap()),
            "https",
            None,
        );
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 10.0.0.2");
        assert_eq!(h["x-forwarded-proto"], "http");
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_hop_by_hop_header_survives_and_others_do(
            names in prop::collection::vec(prop_oneof![
                Just("connection"), Just("keep-alive"), Just("transfer-encoding"), Just("upgrade"),
                Just("te"), Just("proxy-connection"), Just("proxy-authorization"),
                Just("accept"), Just("x-custom"), Just("content-type"), Just("x-named")
            ], 0..20),
            connection in "(keep-alive|close|x-named|upgrade)(, (keep-alive|close|x-named))?",
        ) {
            let mut h = HeaderMap::new();
            for n in &names {
                let v = if *n == "connection" { connection.as_str() } else { "v" };
                h.append(HeaderName::from_static(n), HeaderValue::from_str(v).unwrap());
            }
            let named_by_connection = names.contains(&"connection") && connection.contains("x-named");
            remove_hop_by_hop(&mut h);
            for k in h.keys() {
                prop_assert!(!is_hop_by_hop(k) || (k == header::TE && h[header::TE] == "trailers"), "{} survived", k);
            }
            for keep in ["accept", "x-custom", "content-type"] {
                prop_assert_eq!(h.contains_key(keep), names.contains(&keep));
            }
            if named_by_connection {
                prop_assert!(!h.contains_key("x-named"));
            }
        }
    }

    #[test]
    fn a_detached_copy_shares_no_bytes_with_the_original() {
        let buffer = bytes::Bytes::from_static(b"abcdef-secret");
        let mut h = HeaderMap::new();
        h.append(
            "x-a",
            HeaderValue::from_maybe_shared(buffer.slice(0..6)).unwrap(),
        );
        h.append("x-a", HeaderValue::from_static("second"));
        let mut secret = HeaderValue::from_maybe_shared(buffer.slice(7..)).unwrap();
        secret.set_sensitive(true);
        h.insert(header::AUTHORIZATION, secret);
        let d = detached(&h);
        assert_eq!(d, h);
        assert!(d[header::AUTHORIZATION].is_sensitive());
        for (orig, copy) in h.values().zip(d.values()) {
            assert_ne!(orig.as_bytes().as_ptr(), copy.as_bytes().as_ptr());
        }
    }
}
