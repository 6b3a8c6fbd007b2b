//! Header rules of a reverse proxy: hop-by-hop headers stay on their hop (RFC 9110 §7.6.1),
//! and X-Forwarded-For/-Proto/-Host tell the upstream who asked.
use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
];

pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub static X_PRODLIKE_SHADOW: HeaderName = HeaderName::from_static("x-prodlike-shadow");

/// Removes hop-by-hop headers, including those the Connection header names. `TE: trailers` is
/// kept, as HTTP/2 (gRPC) needs it end to end. One pass over the headers finds them; the map is
/// only touched when one is present, which on most requests none is.
pub fn remove_hop_by_hop(h: &mut HeaderMap) {
    if !h.keys().any(is_hop_by_hop) {
        return;
    }
    if h.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = h
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
            .collect();
        for n in named {
            h.remove(n);
        }
    }
    let keep_trailers = h
        .get(header::TE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("trailers"))
        });
    let present: Vec<HeaderName> = h.keys().filter(|k| is_hop_by_hop(k)).cloned().collect();
    for n in present {
        h.remove(n);
    }
    if keep_trailers {
        h.insert(header::TE, HeaderValue::from_static("trailers"));
    }
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name) || name == "keep-alive" || name == "proxy-connection"
}

/// Appends the client to X-Forwarded-For and sets X-Forwarded-Proto and -Host unless a proxy in
/// front of us already did. `client` is the peer address already rendered (once per
/// connection).
pub fn add_forwarded(
    h: &mut HeaderMap,
    client: &HeaderValue,
    proto: &'static str,
    host: Option<&HeaderValue>,
) {
    let appended = match h.get(&X_FORWARDED_FOR) {
        Some(prev) if !prev.is_empty() => {
            let mut v = Vec::with_capacity(prev.len() + 2 + client.len());
            v.extend_from_slice(prev.as_bytes());
            v.extend_from_slice(b", ");
            v.extend_from_slice(client.as_bytes());
            HeaderValue::from_bytes(&v).ok()
        }
        _ => None,
    };
    h.insert(
        X_FORWARDED_FOR.clone(),
        appended.unwrap_or_else(|| client.clone()),
    );
    if !h.contains_key(&X_FORWARDED_PROTO) {
        h.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(proto));
    }
    if !h.contains_key(&X_FORWARDED_HOST)
        && let Some(host) = host
    {
        h.insert(X_FORWARDED_HOST.clone(), host.clone());
    }
}

/// The client address as a header value, computed once per connection.
pub fn client_value(ip: IpAddr) -> HeaderValue {
    // An IP address renders to ASCII digits, dots, colons and hex: always a valid value.
    HeaderValue::from_str(&ip.to_string()).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
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
}
