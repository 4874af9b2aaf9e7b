//! Every header the client receives is the gateway's: against a hostile
//! upstream on loopback that seeds every header example of issue 21 (emails,
//! names, phone, ID and account numbers in Content-Type, Vary,
//! Cache-Control, RateLimit fields, ETag, Content-Range), over HTTP/1.1 and
//! h2c, GET and HEAD, on forwarded, cached (miss and hit) and passthrough
//! routes, no header byte holds a seeded value.

use bytes::Bytes;
use http::Method;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};

use crate::common::*;

const EMAIL: &str = "victim.person@example.com";
const SEEDS: [&str; 7] = [
    EMAIL,
    "victim",
    "alice-victimson",
    "081234567890",
    "3173000000001234",
    "9876543210123",
    "81234567",
];
const FORWARD: &str = "/api/v1/payin/retrieve-payin/p1";
const MEMO: &str = "/api/v1/payin/memo/p1";
const BODY: &str = r#"{"status":true,"message":"OK","data":{"id":"c1"}}"#;

/// The issue's seeded header lines on a JSON answer the cache may store
/// (nothing here forbids storing: `no-cache` only asks for revalidation).
const STORABLE_SEEDS: [(&str, &str); 6] = [
    ("content-type", "application/victim.person@example.com+json"),
    ("cache-control", "no-cache=\"x-081234567890\", max-age=60"),
    ("ratelimit-policy", "\"081234567890\";q=100;w=60"),
    ("ratelimit-limit", "9876543210123"),
    ("etag", "\"3173000000001234\""),
    ("x-request-id", "Alice-Victimson-081234567890"),
];

/// Seeded lines that make an answer unstorable or vary.
const OTHER_SEEDS: [(&str, &str); 3] = [
    ("vary", "x-081234567890, Alice-Victimson"),
    (
        "cache-control",
        "private=\"Alice-Victimson-3173000000001234\"",
    ),
    ("last-modified", "Tue, 01 Dec 2026 11:00:00 GMT"),
];

fn percent_decoded(v: &str) -> String {
    percent_encoding::percent_decode_str(v)
        .decode_utf8_lossy()
        .into_owned()
}

/// No seeded value in any header name or value, lower-cased and percent-decoded.
fn assert_no_seed_in_headers(r: &Resp, what: &str) {
    for (k, v) in &r.headers {
        let text = percent_decoded(&String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
        for seed in SEEDS {
            assert!(
                !text.contains(seed) && !k.as_str().contains(seed),
                "{what}: {seed:?} in {k}: {text}"
            );
        }
    }
}

/// A raw answer without a body or Content-Length (204, 304, HEAD).
fn bodiless(status: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    out.into_bytes()
}

async fn gateway(h: &Hostile, extra: &str) -> TestApp {
    spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        overlay: format!(
            "[upstream.retry]\nmax_retries = 0\n[upstream.circuit_breaker]\nfailure_threshold = 0\n{extra}"
        ),
        ..Options::default()
    })
    .await
}

fn clients(app: &TestApp) -> [(&'static str, Client<HttpConnector, Full<Bytes>>); 2] {
    let h2 = Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    [("h1", app.client.clone()), ("h2c", h2)]
}

async fn ask(
    app: &TestApp,
    client: &Client<HttpConnector, Full<Bytes>>,
    method: Method,
    path: &str,
    extra: &[(&str, &str)],
) -> Resp {
    let mut headers = vec![("x-token", CLIENT_KEY)];
    headers.extend_from_slice(extra);
    let url = format!("http://{}{path}", app.addr);
    request(client, method, &url, &headers, b"").await
}

#[tokio::test]
async fn seeded_upstream_headers_never_reach_the_client_on_any_route() {
    let h = Hostile::start().await;
    let app = gateway(&h, "").await;
    let mut n = 0u64;
    for (proto, client) in clients(&app) {
        // Forwarded and cached JSON routes, GET and HEAD, every seeded line.
        let all: Vec<(&str, &str)> = STORABLE_SEEDS.iter().chain(&OTHER_SEEDS).copied().collect();
        h.answer_bytes(response("200 OK", &all, BODY.as_bytes()));
        for method in [Method::GET, Method::HEAD] {
            n += 1;
            let cached = format!("/api/v1/customer/customer/{}", customer_id(61_000 + n));
            for path in [FORWARD, cached.as_str()] {
                let what = format!("{proto} {method} {path}");
                let r = ask(&app, &client, method.clone(), path, &[]).await;
                assert_eq!(r.status, 200, "{what}: {}", r.text());
                assert_no_seed_in_headers(&r, &what);
                assert_eq!(
                    r.header("content-type"),
                    "application/json; charset=utf-8",
                    "{what}"
                );
                assert_eq!(r.header("vary"), "*", "{what}");
                assert!(r.headers.get("last-modified").is_none(), "{what}");
                let cc = r.header("cache-control");
                assert!(
                    cc.contains("private") && cc.contains("no-cache"),
                    "{what}: {cc}"
                );
            }
        }

        // Cached: a storable answer with seeded headers, then its hit.
        h.answer_bytes(response("200 OK", &STORABLE_SEEDS, BODY.as_bytes()));
        n += 1;
        let cached = format!("/api/v1/customer/customer/{}", customer_id(61_000 + n));
        let miss = ask(&app, &client, Method::GET, &cached, &[]).await;
        assert_eq!(miss.status, 200, "{}", miss.text());
        assert_no_seed_in_headers(&miss, &format!("{proto} miss"));
        let upstream_calls = h.count();
        let hit = ask(&app, &client, Method::GET, &cached, &[]).await;
        assert!(
            hit.header("cache-status").contains("hit"),
            "{proto}: {}",
            hit.header("cache-status")
        );
        assert_eq!(h.count(), upstream_calls, "{proto}: served from the cache");
        assert_no_seed_in_headers(&hit, &format!("{proto} hit"));
        assert_eq!(hit.header("etag"), miss.header("etag"), "{proto}");
        assert_eq!(
            hit.header("cache-control"),
            "no-cache, max-age=60",
            "{proto}"
        );
        // paycombat's rate-limit fields never pass (this client has no
        // limit at the gateway, so the answer carries none at all).
        assert!(hit.headers.get("ratelimit-policy").is_none(), "{proto}");
        assert!(hit.headers.get("ratelimit-limit").is_none(), "{proto}");

        // Empty, bodiless and HEAD answers: the whole upstream Content-Type
        // line used to pass on these.
        let ct = format!("text/plain; who={EMAIL}; phone=081234567890");
        let ct = [("content-type", ct.as_str())];
        for (what, answer) in [
            ("empty 200", response("200 OK", &ct, b"")),
            ("204", bodiless("204 No Content", &ct)),
            ("304", bodiless("304 Not Modified", &ct)),
            ("404 without body", response("404 Not Found", &ct, b"")),
        ] {
            h.answer_bytes(answer);
            for method in [Method::GET, Method::HEAD] {
                n += 1;
                let cached = format!("/api/v1/customer/customer/{}", customer_id(61_000 + n));
                for path in [FORWARD, cached.as_str()] {
                    let what = format!("{proto} {method} {path} {what}");
                    let r = ask(&app, &client, method.clone(), path, &[]).await;
                    assert!(r.body.is_empty(), "{what}: {}", r.text());
                    assert_no_seed_in_headers(&r, &what);
                    assert_eq!(
                        r.header("content-type"),
                        "application/json; charset=utf-8",
                        "{what}"
                    );
                }
            }
        }

        // The memo (passthrough) route: an ETag and a Content-Range holding
        // an ID and a phone number, a media type with a seeded parameter.
        let pdf = b"%PDF-1.7\n0123456789\n%%EOF".to_vec();
        h.answer_bytes(response(
            "200 OK",
            &[
                ("content-type", "application/pdf; name=081234567890"),
                ("etag", "\"3173000000001234\""),
                ("content-range", "bytes 0-99/081234567890"),
                ("accept-ranges", "bytes"),
            ],
            &pdf,
        ));
        for method in [Method::GET, Method::HEAD] {
            let what = format!("{proto} {method} memo");
            let r = ask(&app, &client, method.clone(), MEMO, &[]).await;
            assert_eq!(r.status, 200, "{what}: {}", r.text());
            assert_no_seed_in_headers(&r, &what);
            assert!(r.headers.get("etag").is_none(), "{what}");
            assert!(r.headers.get("content-range").is_none(), "{what}");
        }
    }
    app.stop().await;
}

/// A ranges passthrough gets the gateway's own Content-Range, and a 206
/// whose numbers do not agree with the bytes sent is refused.
#[tokio::test]
async fn content_range_on_the_memo_route_agrees_with_the_body_sent() {
    let h = Hostile::start().await;
    let app = gateway(
        &h,
        "[[mask.passthrough]]\npath = \"/api/v1/payin/memo/*\"\ncontent_types = [\"application/pdf\"]\nmagic = \"%PDF-\"\nranges = true\n",
    )
    .await;
    let part = b"0123456789";
    for (proto, client) in clients(&app) {
        h.answer_bytes(response(
            "206 Partial Content",
            &[
                ("content-type", "application/pdf"),
                ("content-range", "bytes 100-109/081234567890"),
                ("etag", "\"3173000000001234\""),
            ],
            part,
        ));
        let r = ask(
            &app,
            &client,
            Method::GET,
            MEMO,
            &[("range", "bytes=100-199")],
        )
        .await;
        assert_eq!(r.status, 206, "{proto}: {}", r.text());
        assert_eq!(&r.body[..], part);
        assert_eq!(r.header("content-range"), "bytes 100-109/*", "{proto}");
        assert_no_seed_in_headers(&r, proto);
        // Numbers that carry a phone number instead of the range asked for.
        h.answer_bytes(response(
            "206 Partial Content",
            &[
                ("content-type", "application/pdf"),
                ("content-range", "bytes 81234567-81234576/81234577"),
            ],
            part,
        ));
        let r = ask(
            &app,
            &client,
            Method::GET,
            MEMO,
            &[("range", "bytes=100-199")],
        )
        .await;
        assert_eq!(r.status, 502, "{proto}: {}", r.text());
        assert_eq!(r.error_code(), "UPSTREAM_UNMASKABLE");
        assert_no_seed_in_headers(&r, proto);
        // A suffix range cannot be checked: it is not forwarded at all.
        h.answer_bytes(response(
            "200 OK",
            &[("content-type", "application/pdf")],
            b"%PDF-1.7 x",
        ));
        let r = ask(&app, &client, Method::GET, MEMO, &[("range", "bytes=-500")]).await;
        assert_eq!(r.status, 200, "{proto}");
        assert!(!h.last_head().to_ascii_lowercase().contains("\r\nrange:"));
    }
    app.stop().await;
}

/// Validators on masked answers are the gateway's: If-None-Match is answered
/// by the gateway (304, also from the cache) and never forwarded.
#[tokio::test]
async fn conditional_requests_on_masked_routes_are_answered_by_the_gateway() {
    let h = Hostile::start().await;
    let app = gateway(&h, "").await;
    h.answer_bytes(response(
        "200 OK",
        &[
            ("content-type", "application/json"),
            ("etag", "\"upstream-tag\""),
            ("last-modified", "Tue, 01 Dec 2026 11:00:00 GMT"),
        ],
        BODY.as_bytes(),
    ));
    let cached = format!("/api/v1/customer/customer/{}", customer_id(62_001));
    for (proto, client) in clients(&app) {
        for path in [FORWARD, cached.as_str()] {
            let what = format!("{proto} {path}");
            let first = ask(&app, &client, Method::GET, path, &[]).await;
            let tag = first.header("etag").to_owned();
            assert!(
                tag.starts_with('"') && tag != "\"upstream-tag\"",
                "{what}: {tag}"
            );
            assert!(first.headers.get("last-modified").is_none(), "{what}");
            let calls = h.count();
            let r = ask(
                &app,
                &client,
                Method::GET,
                path,
                &[
                    ("if-none-match", &tag),
                    ("if-modified-since", "Tue, 01 Dec 2026 11:00:00 GMT"),
                ],
            )
            .await;
            assert_eq!(r.status, 304, "{what}: {}", r.text());
            assert!(r.body.is_empty(), "{what}");
            assert_eq!(r.header("etag"), tag, "{what}");
            if path == FORWARD {
                assert_eq!(h.count(), calls + 1, "{what}");
            }
            let head = h.last_head().to_ascii_lowercase();
            assert!(
                !head.contains("if-none-match") && !head.contains("if-modified-since"),
                "{what}: conditional headers were forwarded: {head}"
            );
            // Another tag: the full answer.
            let r = ask(
                &app,
                &client,
                Method::GET,
                path,
                &[("if-none-match", "\"upstream-tag\"")],
            )
            .await;
            assert_eq!(r.status, 200, "{what}");
            assert_eq!(r.body, first.body, "{what}");
        }
    }
    app.stop().await;
}
