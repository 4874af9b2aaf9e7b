//! Attack tests on the response head, read as raw HTTP/1.1 bytes (so the
//! status line's reason phrase and trailers are seen too, which a client library hides):
//! upstream reason phrases, a `103 Early Hints` with `Link` before the answer, redirects
//! with `Location`, `Set-Cookie`, `WWW-Authenticate`, `Allow`, `Refresh`, `Alt-Svc`,
//! `Content-Disposition` and `Content-Language` on a passthrough, chunked trailers on JSON
//! and passthrough answers, on forwarded, cached and memo routes. All held on the tree this
//! was written against: these guard it.

use crate::attack_keys::gateway;
use crate::common::*;

const SEEDS: [&str; 4] = ["victim", "Victimson", "081234567890", "3173000000001234"];

fn head(status: &str, lines: &[&str]) -> String {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for l in lines {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out
}

fn with_body(mut head: String, body: &str) -> Vec<u8> {
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    head.into_bytes()
}

fn chunked(mut head: String, body: &str, trailer: &str) -> Vec<u8> {
    head.push_str(&format!(
        "transfer-encoding: chunked\r\ntrailer: x-who\r\nconnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n{trailer}\r\n\r\n",
        body.len()
    ));
    head.into_bytes()
}

#[tokio::test]
async fn no_upstream_text_in_the_raw_response_head_or_trailers() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let json = r#"{"status":true}"#;
    let seeded = [
        "set-cookie: who=victim.cookie@example.com; Path=/",
        "www-authenticate: Basic realm=\"victim.realm@example.com\"",
        "location: https://merchant.example/victim.loc@example.com",
        "content-location: /customers/Alice-Victimson",
        "link: <https://x/victim.link@example.com>; rel=next",
        "refresh: 0; url=https://x/?phone=081234567890",
        "alt-svc: h3=\":443\"; victim=1",
        "allow: GET, Victimson",
        "content-language: id-Victimson",
        "content-disposition: attachment; filename=\"Alice Victimson 3173000000001234.pdf\"",
        "warning: 199 - \"victim.warning@example.com\"",
        "server: Victimson/081234567890",
        "retry-after: call 081234567890",
        "expires: Alice Victimson",
        "content-type: application/json; who=victim.ct@example.com",
    ];
    let memo_lines: Vec<&str> = seeded
        .iter()
        .copied()
        .filter(|l| !l.starts_with("content-type"))
        .chain(["content-type: application/pdf; name=081234567890"])
        .collect();
    let cases: Vec<(String, Vec<u8>)> = vec![
        (
            "/api/v1/payin/attack-reason".into(),
            with_body(
                head("200 victim.reason@example.com 081234567890", &seeded),
                json,
            ),
        ),
        (
            detail(&customer_id(0x21d_401)),
            with_body(head("200 Alice Victimson", &seeded), json),
        ),
        ("/api/v1/payin/attack-early".into(), {
            let mut b = head(
                "103 Early Hints",
                &["link: </victim.early@example.com>; rel=preload"],
            )
            .into_bytes();
            b.extend_from_slice(b"\r\n");
            b.extend(with_body(head("302 Found Victimson", &seeded), json));
            b
        }),
        (
            "/api/v1/payout/attack-405".into(),
            with_body(head("405 Victimson", &seeded), r#"{"status":false}"#),
        ),
        (
            "/api/v1/payin/attack-trailer".into(),
            chunked(
                head("200 OK", &["content-type: application/json"]),
                json,
                "x-who: victim.trailer@example.com",
            ),
        ),
        (
            "/api/v1/payin/memo/attack".into(),
            chunked(
                head("200 Alice Victimson", &memo_lines),
                "%PDF-1.7 memo",
                "x-who: victim.trailer@example.com",
            ),
        ),
        (
            "/api/v1/payout/memo/attack-head".into(),
            with_body(head("200 OK", &memo_lines), ""),
        ),
    ];
    for (path, answer) in cases {
        h.answer_bytes(answer);
        for method in ["GET", "GET", "HEAD"] {
            for te in ["", "te: trailers\r\n"] {
                let req = format!(
                    "{method} {path} HTTP/1.1\r\nhost: gw\r\nx-token: {CLIENT_KEY}\r\n{te}connection: close\r\n\r\n"
                );
                let raw = raw_exchange(app.addr, req.as_bytes()).await;
                assert!(raw.starts_with("HTTP/1.1 "), "{method} {path}: {raw}");
                for s in SEEDS {
                    assert!(
                        !raw.to_ascii_lowercase().contains(&s.to_ascii_lowercase()),
                        "{method} {path} {te}: {s} reached the client:\n{raw}"
                    );
                }
            }
        }
    }
    app.stop().await;
}

/// F10: `Retry-After` and `Cache-Control` lifetimes pass upstream's six digits verbatim (a
/// birth date as DDMMYY, a postcode, a sort code).
#[tokio::test]
async fn header_numbers_carry_no_six_digit_value() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let dobs = ["170590", "123456", "290587"];
    h.answer_bytes(response(
        "503 Service Unavailable",
        &[
            ("content-type", "application/json"),
            ("retry-after", "170590"),
            (
                "cache-control",
                "max-age=170590, stale-if-error=123456, stale-while-revalidate=290587",
            ),
        ],
        br#"{"status":false,"message":"try later"}"#,
    ));
    for path in [
        "/api/v1/payin/attack-six".to_owned(),
        detail(&customer_id(0x21d_b01)),
    ] {
        let r = app.get(&path).await;
        for (k, v) in &r.headers {
            let v = v.to_str().unwrap_or_default();
            for d in dobs {
                assert!(!v.contains(d), "{path}: {d} in {k}: {v}");
            }
        }
    }
    app.stop().await;
}

/// N2 (protocol, not privacy): a `101` the gateway never asked for, or a status outside
/// 100–599, is relayed to the client instead of being refused.
#[tokio::test]
async fn an_upstream_status_the_gateway_never_negotiated_is_a_502() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    for answer in [
        &b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n"[..],
        &b"HTTP/1.1 600 Victim\r\ncontent-type: application/json\r\ncontent-length: 15\r\nconnection: close\r\n\r\n{\"status\":true}"[..],
    ] {
        h.answer_bytes(answer.to_vec());
        let req = format!(
            "GET /api/v1/payin/attack-status HTTP/1.1\r\nhost: gw\r\nx-token: {CLIENT_KEY}\r\nconnection: close\r\n\r\n"
        );
        let raw = raw_exchange(app.addr, req.as_bytes()).await;
        assert!(raw.starts_with("HTTP/1.1 502 "), "{raw}");
    }
    app.stop().await;
}
