//! Request header rules: what a client sent that paycombat must not see,
//! and what the gateway adds.
//!
//! Drop hop-by-hop headers and whatever the client's `Connection`
//! names, drop every credential the client sent, then add the gateway's own
//! headers. The order matters: removal happens before injection, so no client
//! header (not even `Connection: x-token`) can remove what the gateway adds.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::http::headers::strip_hop_by_hop;

pub const X_TOKEN: HeaderName = HeaderName::from_static("x-token");
pub const SIGNATURE: HeaderName = HeaderName::from_static("signature");
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Headers an upstream (or its framework) may take as the client's address,
/// the original host, scheme, port or path, or the real method. Only the
/// gateway knows these, so whatever a client sent is dropped; `X-Forwarded-For`
/// is rebuilt by [`add_forwarded`].
const FORWARDING: &[&str] = &[
    "forwarded",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-forwarded-server",
    "x-forwarded-scheme",
    "x-forwarded-ssl",
    "x-original-forwarded-for",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "x-cluster-client-ip",
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-original-host",
    "x-host",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Everything a client sent that must not reach paycombat: hop-by-hop
/// headers, client credentials, configured extras, and headers the gateway
/// sets itself (so a client cannot pre-seed them).
pub fn clean_request(headers: &mut HeaderMap, extra: &[HeaderName]) {
    strip_hop_by_hop(headers);
    for name in [X_TOKEN, SIGNATURE, header::AUTHORIZATION, header::HOST] {
        headers.remove(name);
    }
    for name in FORWARDING {
        headers.remove(*name);
    }
    for name in extra {
        headers.remove(name);
    }
    // The gateway must read bodies to mask them; ask for them unencoded.
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
}

/// Sets `X-Forwarded-For` to the peer, keeping the earlier hops only when
/// the peer is a `trusted` proxy (anyone else can write any address there),
/// and `X-Forwarded-Proto` to the scheme the client used to reach the gateway.
pub fn add_forwarded(
    headers: &mut HeaderMap,
    peer: std::net::IpAddr,
    trusted: bool,
    proto: &'static str,
) {
    let peer = peer.to_canonical();
    let prior: Vec<&str> = if trusted {
        headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    let chain = if prior.is_empty() {
        peer.to_string()
    } else {
        format!("{}, {peer}", prior.join(", "))
    };
    let value = HeaderValue::from_str(&chain)
        .unwrap_or_else(|_| HeaderValue::from_str(&peer.to_string()).expect("an IP is ASCII"));
    headers.insert(X_FORWARDED_FOR, value);
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_cannot_remove_injected_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("x-token, x-custom, keep-alive"),
        );
        h.insert("x-custom", HeaderValue::from_static("1"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        h.insert(X_TOKEN, HeaderValue::from_static("client-token"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        h.insert(SIGNATURE, HeaderValue::from_static("abc"));
        h.insert("proxy-foo", HeaderValue::from_static("1"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        clean_request(&mut h, &[HeaderName::from_static("cookie")]);
        // Injection happens after cleaning; nothing the client said removes it.
        h.insert(X_TOKEN, HeaderValue::from_static("gateway-token"));
        assert_eq!(h[X_TOKEN], "gateway-token");
        assert!(h.get("x-custom").is_none());
        assert!(h.get("x-kept").is_some());
        assert!(h.get(header::AUTHORIZATION).is_none());
        assert!(h.get(SIGNATURE).is_none());
        assert!(h.get("proxy-foo").is_none());
        assert!(h.get(header::TRANSFER_ENCODING).is_none());
        assert!(h.get(header::CONNECTION).is_none());
        assert_eq!(h[header::ACCEPT_ENCODING], "identity");
    }

    #[test]
    fn forwarded_for_appends_behind_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_FOR, HeaderValue::from_static("10.0.0.1"));
        h.append(
            X_FORWARDED_FOR,
            HeaderValue::from_static("10.0.0.2, 10.0.0.3"),
        );
        add_forwarded(&mut h, "127.0.0.1".parse().unwrap(), true, "http");
        assert_eq!(
            h[X_FORWARDED_FOR],
            "10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1"
        );
        assert_eq!(h.get_all(X_FORWARDED_FOR).iter().count(), 1);
        assert_eq!(h[X_FORWARDED_PROTO], "http");
    }

    #[test]
    fn forwarded_for_is_replaced_by_the_peer_when_untrusted() {
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_FOR, HeaderValue::from_static("1.2.3.4"));
        h.append(X_FORWARDED_FOR, HeaderValue::from_static("5.6.7.8"));
        add_forwarded(&mut h, "::ffff:127.0.0.1".parse().unwrap(), false, "http");
        assert_eq!(h[X_FORWARDED_FOR], "127.0.0.1");
        assert_eq!(h.get_all(X_FORWARDED_FOR).iter().count(), 1);
        // Without a chain, trusted or not, the peer starts one.
        let mut h = HeaderMap::new();
        add_forwarded(&mut h, "10.1.1.1".parse().unwrap(), true, "http");
        assert_eq!(h[X_FORWARDED_FOR], "10.1.1.1");
    }

    #[test]
    fn client_forwarding_headers_are_dropped() {
        let mut h = HeaderMap::new();
        for name in FORWARDING {
            h.insert(*name, HeaderValue::from_static("spoofed"));
        }
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        clean_request(&mut h, &[]);
        for name in FORWARDING {
            assert!(h.get(*name).is_none(), "{name} survived");
        }
        assert!(h.get("x-kept").is_some());
        add_forwarded(&mut h, "127.0.0.1".parse().unwrap(), false, "http");
        assert_eq!(h[X_FORWARDED_PROTO], "http");
    }
}
