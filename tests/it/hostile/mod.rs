//! Hostile client input: smuggling, malformed heads, slowloris, hostile upstream JSON; HTTP/2
//! floods in `h2_floods`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// Sends `bytes`, then reads until the gateway closes the connection or `within` passes.
/// Returns what came back, whether the gateway closed, and when that happened.
async fn exchange_until_close(
    addr: SocketAddr,
    bytes: &[u8],
    within: Duration,
) -> (String, bool, Duration) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    if !bytes.is_empty() {
        s.write_all(bytes).await.unwrap();
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    let closed = loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => break false,
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    };
    (
        String::from_utf8_lossy(&out).into_owned(),
        closed,
        started.elapsed(),
    )
}

/// The status codes of every response in a raw HTTP/1.1 exchange, in order.
fn statuses(raw: &str) -> Vec<u16> {
    raw.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| raw.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

fn authed(head: &str) -> String {
    format!("{head}X-token: {CLIENT_KEY}\r\n")
}

#[tokio::test]
async fn content_length_with_transfer_encoding_uses_chunked_and_closes_the_connection() {
    // hyper (RFC 9112 §6.3): Transfer-Encoding wins, Content-Length is dropped, and the
    // connection is closed after the answer, so bytes past the chunked body can never be read
    // as a second request. The gateway re-frames the body with its own Content-Length.
    let app = spawn_app().await;
    let smuggled = "GET /api/v1/anything/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    let chunked = "5\r\nhello\r\n0\r\n\r\n";
    let req = format!(
        "{}Content-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}{smuggled}",
        authed("POST /api/v1/anything/te-cl HTTP/1.1\r\nHost: x\r\n"),
        chunked.len()
    );
    let (out, closed, _) =
        exchange_until_close(app.addr, req.as_bytes(), Duration::from_secs(5)).await;
    assert!(closed, "connection closed after a TE+CL request");
    assert_eq!(statuses(&out), vec![200], "exactly one answer: {out}");
    let seen = app.state().requests();
    assert_eq!(seen.len(), 1, "only the framed request went upstream");
    assert_eq!(seen[0].path_and_query, "/api/v1/anything/te-cl");
    assert_eq!(&seen[0].body[..], b"hello");
    assert_eq!(seen[0].headers["content-length"], "5");
    assert!(seen[0].headers.get("transfer-encoding").is_none());
    assert_eq!(app.state().request_count("all"), 1);
    app.stop().await;
}

#[tokio::test]
async fn malformed_framing_and_header_bytes_are_400_and_never_forwarded() {
    let app = spawn_app().await;
    let cases: &[(&str, String)] = &[
        (
            "conflicting Content-Length",
            format!(
                "{}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                authed("POST /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
        (
            "Content-Length list",
            format!(
                "{}Content-Length: 5, 5\r\n\r\nhello",
                authed("POST /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
        (
            "signed Content-Length",
            format!(
                "{}Content-Length: +5\r\n\r\nhello",
                authed("POST /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
        (
            "Transfer-Encoding not ending in chunked",
            format!(
                "{}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                authed("POST /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
        (
            "Transfer-Encoding on HTTP/1.0",
            format!(
                "{}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                authed("POST /api/v1/anything/a HTTP/1.0\r\nHost: x\r\n")
            ),
        ),
        (
            "obs-fold continuation line",
            format!(
                "{}X-Folded: one\r\n two\r\n\r\n",
                authed("GET /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
        (
            "NUL in a header value",
            format!(
                "{}X-Bad: a\0b\r\n\r\n",
                authed("GET /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
        (
            "DEL in a header value",
            format!(
                "{}X-Bad: a\x7fb\r\n\r\n",
                authed("GET /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
        (
            "space in a header name",
            format!(
                "{}X Bad: v\r\n\r\n",
                authed("GET /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
        (
            "space before the colon",
            format!(
                "{}X-Bad : v\r\n\r\n",
                authed("GET /api/v1/anything/a HTTP/1.1\r\nHost: x\r\n")
            ),
        ),
    ];
    for (what, req) in cases {
        let (out, closed, _) =
            exchange_until_close(app.addr, req.as_bytes(), Duration::from_secs(5)).await;
        assert_eq!(statuses(&out), vec![400], "{what}: {out:?}");
        assert!(
            closed,
            "{what}: the connection is closed after a parse error"
        );
    }
    assert_eq!(app.state().request_count("all"), 0, "nothing was forwarded");
    app.stop().await;
}

#[tokio::test]
async fn identical_duplicate_content_length_is_one_length() {
    // RFC 9110 §8.6 allows a recipient to treat repeated identical lengths as one; hyper does.
    let app = spawn_app().await;
    let req = format!(
        "{}Content-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        authed("POST /api/v1/anything/dup HTTP/1.1\r\nHost: x\r\n")
    );
    let (out, _, _) = exchange_until_close(app.addr, req.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(statuses(&out), vec![200], "{out}");
    let seen = app.state().requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(&seen[0].body[..], b"hello");
    assert_eq!(seen[0].headers.get_all("content-length").iter().count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_short_content_length_cannot_smuggle_a_request_past_auth() {
    // The bytes past the declared length are read as the next pipelined request, which is
    // checked like any other: without a key it is refused and never reaches upstream.
    let app = spawn_app().await;
    let second = "GET /api/v1/anything/smuggled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let req = format!(
        "{}Content-Length: 5\r\nContent-Type: application/json\r\n\r\nhello{second}",
        authed("POST /api/v1/anything/first HTTP/1.1\r\nHost: x\r\n")
    );
    let (out, closed, _) =
        exchange_until_close(app.addr, req.as_bytes(), Duration::from_secs(5)).await;
    assert!(closed);
    assert_eq!(statuses(&out), vec![200, 401], "{out}");
    assert!(out.contains("\"UNAUTHENTICATED\""), "{out}");
    let seen = app.state().requests();
    assert_eq!(seen.len(), 1, "only the first request went upstream");
    assert_eq!(seen[0].path_and_query, "/api/v1/anything/first");
    assert_eq!(&seen[0].body[..], b"hello");
    assert_eq!(seen[0].headers["content-length"], "5");
    app.stop().await;
}

#[tokio::test]
async fn too_many_headers_is_431_from_hyper() {
    let app = spawn_app_overlay("[server]\nmax_headers = 20").await;
    let mut req = authed("GET /api/v1/anything/many HTTP/1.1\r\nHost: x\r\n");
    for i in 0..30 {
        req.push_str(&format!("X-H{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let (out, closed, _) =
        exchange_until_close(app.addr, req.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(statuses(&out), vec![431], "{out}");
    assert!(closed);
    // Under the limit is fine.
    let mut req = authed("GET /api/v1/anything/few HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..10 {
        req.push_str(&format!("X-H{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let (out, _, _) = exchange_until_close(app.addr, req.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(statuses(&out), vec![200], "{out}");
    assert_eq!(app.state().request_count("all"), 1);
    app.stop().await;
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_header_read_timeout() {
    let app = spawn_app_overlay("[server]\nheader_read_timeout = \"500ms\"").await;
    let half_head = format!(
        "GET /api/v1/anything/slow HTTP/1.1\r\nHost: x\r\nX-token: {CLIENT_KEY}\r\nX-Slow: "
    );
    let cases: [(&str, &[u8]); 3] = [
        ("half a request head", half_head.as_bytes()),
        ("nothing at all", b""),
        ("part of the HTTP/2 preface", b"PRI * HTTP/2.0\r\n"),
    ];
    for (what, bytes) in cases {
        let (out, closed, took) =
            exchange_until_close(app.addr, bytes, Duration::from_secs(5)).await;
        assert!(closed, "{what}: still open after 5 s");
        assert!(
            took >= Duration::from_millis(400),
            "{what}: closed too early ({took:?})"
        );
        assert!(
            took < Duration::from_millis(2500),
            "{what}: closed late ({took:?})"
        );
        assert!(!out.contains("200"), "{what}: {out}");
    }
    // A client that trickles its head slower than the timeout is cut off too.
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let started = Instant::now();
    let mut cut = false;
    for b in half_head.as_bytes() {
        if s.write_all(&[*b]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let mut buf = [0u8; 64];
    let closed = cut
        || matches!(
            tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        );
    assert!(closed, "a trickled head is cut off");
    assert_eq!(app.state().request_count("all"), 0);
    // Ordinary clients are unaffected.
    assert_eq!(app.get("/api/v1/anything/after").await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn traversal_and_encoded_paths() {
    let app = spawn_app().await;
    for p in [
        "/api/v1/customer/customer/..%2f..%2fadmin",
        "/api/v1/customer/customer/%2E%2E",
        "/api/v1/customer/%2e/customer/x",
        "/api/v1/customer/customer/a%5C..%5Cb",
        "/api/v1/anything/%0d%0aX-Injected:%20yes",
        "/api/v1/anything/%",
    ] {
        let req = format!(
            "GET {p} HTTP/1.1\r\nHost: x\r\nX-token: {CLIENT_KEY}\r\nConnection: close\r\n\r\n"
        );
        let out = raw_exchange(app.addr, req.as_bytes()).await;
        assert_eq!(statuses(&out), vec![400], "{p}: {out}");
        assert!(out.contains("\"BAD_PATH\""), "{p}: {out}");
    }
    // Forms other than origin-form never name a path on this gateway.
    for line in [
        "OPTIONS * HTTP/1.1",
        "CONNECT api.paycombat.com:443 HTTP/1.1",
    ] {
        let req =
            format!("{line}\r\nHost: x\r\nX-token: {CLIENT_KEY}\r\nConnection: close\r\n\r\n");
        let out = raw_exchange(app.addr, req.as_bytes()).await;
        assert_eq!(statuses(&out), vec![400], "{line}: {out}");
        assert!(out.contains("\"BAD_PATH\""), "{line}: {out}");
    }
    // A double-encoded dot is a dot to anything that decodes twice: refused, like '%25' anywhere.
    let r = app.get("/api/v1/anything/%252e%252e/x").await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.error_code(), "BAD_PATH");
    assert_eq!(app.state().request_count("all"), 0, "nothing was forwarded");
    // An absolute-form target does not make the gateway an open proxy: only the path is used.
    let req = format!("GET http://evil.example/api/v1/anything/abs HTTP/1.1\r\nHost: evil.example\r\nX-token: {CLIENT_KEY}\r\nConnection: close\r\n\r\n");
    let out = raw_exchange(app.addr, req.as_bytes()).await;
    assert_eq!(statuses(&out), vec![200], "{out}");
    let seen = app.state().requests().pop().unwrap();
    assert_eq!(seen.path_and_query, "/api/v1/anything/abs");
    assert_eq!(
        seen.headers["host"],
        app.sandbox.local_addr().to_string().as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn connection_header_cannot_remove_what_the_gateway_sets() {
    let app = spawn_app().await;
    let id = customer_id(77);
    let body = format!(r#"{{"customer_id":"{id}","description":"via hostile connection"}}"#);
    let req = format!(
        "PATCH /api/v1/customer/update HTTP/1.1\r\nHost: evil.example\r\nX-token: {CLIENT_KEY}\r\n\
         Connection: x-token, host, content-length, x-forwarded-for, signature, close\r\n\
         X-Forwarded-For: 10.9.9.9\r\nSignature: forged\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let out = raw_exchange(app.addr, req.as_bytes()).await;
    assert_eq!(
        statuses(&out),
        vec![200],
        "the signed update was accepted upstream: {out}"
    );
    let seen = app.state().requests().pop().unwrap();
    let h = &seen.headers;
    assert_eq!(h["x-token"], app.sandbox_cfg.token.as_str());
    assert_eq!(h["host"], app.sandbox.local_addr().to_string().as_str());
    assert_eq!(h["content-length"], body.len().to_string().as_str());
    assert_eq!(
        h["x-forwarded-for"], "127.0.0.1",
        "the named XFF is dropped, the gateway's added"
    );
    assert_eq!(
        h["signature"],
        paycombat_gateway::upstream::sign::sign(&app.sandbox_cfg.signature_key, body.as_bytes())
            .as_str()
    );
    assert!(h.get("connection").is_none());
    assert_eq!(&seen.body[..], body.as_bytes());
    // The update reached paycombat (asked directly: through the gateway the detail's
    // `description` is free text its `enforce` policy masks).
    let direct = request(
        &app.client,
        Method::GET,
        &format!(
            "http://{}/api/v1/customer/customer/{id}",
            app.sandbox.local_addr()
        ),
        &[("x-token", app.sandbox_cfg.token.as_str())],
        b"",
    )
    .await;
    assert_eq!(
        direct.json()["data"]["description"],
        "via hostile connection"
    );
    app.stop().await;
}

#[tokio::test]
async fn deeply_nested_upstream_json_is_refused_without_overflow() {
    let app = spawn_app().await;
    let id = customer_id(91);
    let path = format!("/api/v1/customer/customer/{id}");
    for (fault, reason) in [
        ("deep=100000", "too_deep"),
        ("deep=1000000", "too_deep"),
        ("non_utf8", "parse_error"),
    ] {
        let r = app
            .send(Method::GET, &path, &[("x-sandbox-fault", fault)], b"")
            .await;
        assert_eq!(r.status, 502, "{fault}");
        assert_eq!(r.error_code(), "UPSTREAM_UNMASKABLE", "{fault}");
        assert!(
            !r.text().contains("deep.nest@example.com") && !r.text().contains("nee@example.com"),
            "{fault}"
        );
        let scrape = app.metrics().await;
        assert!(
            value(
                &scrape,
                "gateway_mask_failures_total",
                &[("reason", reason)]
            ) >= 1.0,
            "{fault}"
        );
    }
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_mask_failures_total",
            &[("reason", "too_deep")]
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_mask_failures_total",
            &[("reason", "parse_error")]
        ),
        Some(1.0)
    );
    // Still serving, and nothing was cached from the refused bodies.
    let r = app.get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"]["customer_id"], id.as_str());
    assert!(
        r.header("cache-status").contains("fwd=miss"),
        "{}",
        r.header("cache-status")
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------
// HTTP/2 (h2c prior knowledge) with hand-written frames, so the client can break the rules
// a conforming client library would keep.

mod h2_floods;
