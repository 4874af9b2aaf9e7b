//! Fail closed by construction: against a hostile upstream on loopback, no
//! byte a client receives carries a seeded personal value or a gateway
//! secret — whatever the upstream's encoding, framing, labels or headers.
//! Every answer is masked JSON, a declared passthrough, or a 502 envelope.

use std::io::Write as _;
use std::time::Duration;

use crate::common::readings::{find, readings};
use crate::common::*;
use bytes::Bytes;
use http::Method;
use proptest::prelude::*;

const EMAIL: &str = "victim.person@example.com";
const ID_NUMBER: &str = "S9876543Z";
const PHONE: &str = "81234567";
const SEEDED: [&str; 3] = [EMAIL, ID_NUMBER, PHONE];
const MASK_KEY: &str = "test-mask-key";

/// A JSON body holding the seeded values under masked keys.
fn personal_json() -> String {
    format!(
        r#"{{"status":true,"message":"OK","data":{{"email":"{EMAIL}","identification_value":"{ID_NUMBER}","phone_number":"{PHONE}","kind":"individual"}}}}"#
    )
}

fn chunked(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n0\r\n\r\n");
    out
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::new();
    if bom {
        units.push(0xFEFF);
    }
    units.extend(s.encode_utf16());
    units
        .into_iter()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn utf32(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut chars: Vec<u32> = Vec::new();
    if bom {
        chars.push(0xFEFF);
    }
    chars.extend(s.chars().map(u32::from));
    chars
        .into_iter()
        .flat_map(|c| {
            if big_endian {
                c.to_be_bytes()
            } else {
                c.to_le_bytes()
            }
        })
        .collect()
}

/// Nothing seeded and no secret in any reading of the body or in any header.
fn assert_no_leak(r: &Resp, what: &str) {
    let cfg = paycombat_sandbox::SandboxConfig::demo();
    let secrets: Vec<Vec<u8>> = vec![
        cfg.token.as_bytes().to_vec(),
        cfg.signature_key.clone(),
        MASK_KEY.as_bytes().to_vec(),
    ];
    let mut needles: Vec<Vec<u8>> = SEEDED.iter().map(|s| s.as_bytes().to_vec()).collect();
    needles.extend(secrets);
    for reading in readings(&r.body) {
        for n in &needles {
            assert!(
                !find(&reading, n),
                "{what}: {:?} reached the client: {}",
                String::from_utf8_lossy(n),
                r.text()
            );
        }
    }
    for (k, v) in &r.headers {
        for n in &needles {
            assert!(
                !find(v.as_bytes(), n) && !find(k.as_str().as_bytes(), n),
                "{what}: {:?} in header {k}",
                String::from_utf8_lossy(n)
            );
        }
    }
}

/// A 502 envelope with the given code.
fn assert_refused(r: &Resp, code: &str, what: &str) {
    assert_eq!(r.status, 502, "{what}: {}", r.text());
    assert_eq!(r.error_code(), code, "{what}");
    assert_no_leak(r, what);
}

/// Valid JSON, masked.
fn assert_masked(r: &Resp, what: &str) {
    assert_eq!(r.status, 200, "{what}: {}", r.text());
    let v = r.json();
    assert_eq!(v["data"]["email"], "v*****@*****", "{what}");
    assert_no_leak(r, what);
}

async fn gateway(h: &Hostile) -> TestApp {
    spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        overlay:
            "[upstream.retry]\nmax_retries = 0\n[upstream.circuit_breaker]\nfailure_threshold = 0\n"
                .into(),
        ..Options::default()
    })
    .await
}

const PASSTHROUGH: &str = "/api/v1/payin/retrieve-payin/p1";
const MEMO: &str = "/api/v1/payin/memo/p1";

/// Both kinds of JSON route: a passthrough one and the cached customer read
/// (a fresh customer each time, so nothing is served from the cache).
fn json_routes(n: u64) -> [String; 2] {
    [
        PASSTHROUGH.to_owned(),
        format!("/api/v1/customer/customer/{}", customer_id(10_000 + n)),
    ]
}

#[tokio::test]
async fn encodings_prefixes_and_labels_that_clients_would_accept_fail_closed() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let json = personal_json();
    let j = json.as_bytes();
    let with = |prefix: &[u8], body: &[u8]| [prefix, body].concat();
    let ct = |t: &'static str| vec![("content-type", t)];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "utf-16le",
            response(
                "200 OK",
                &ct("application/json"),
                &utf16(&json, false, false),
            ),
        ),
        (
            "utf-16be bom",
            response("200 OK", &ct("application/json"), &utf16(&json, true, true)),
        ),
        (
            "utf-16le bom text",
            response("200 OK", &ct("text/plain"), &utf16(&json, false, true)),
        ),
        (
            "utf-16 charset",
            response(
                "200 OK",
                &ct("application/json; charset=utf-16"),
                &utf16(&json, false, true),
            ),
        ),
        (
            "utf-32le",
            response(
                "200 OK",
                &ct("application/json"),
                &utf32(&json, false, false),
            ),
        ),
        (
            "utf-32be bom",
            response("200 OK", &[], &utf32(&json, true, true)),
        ),
        (
            "form feed",
            response("200 OK", &ct("application/json"), &with(b"\x0c", j)),
        ),
        (
            "vertical tab",
            response("200 OK", &ct("application/json"), &with(b"\x0b", j)),
        ),
        (
            "nbsp",
            response(
                "200 OK",
                &ct("application/json"),
                &with("\u{a0}".as_bytes(), j),
            ),
        ),
        (
            "two boms",
            response(
                "200 OK",
                &ct("application/json"),
                &with(b"\xEF\xBB\xBF\xEF\xBB\xBF", j),
            ),
        ),
        (
            "json-seq RS",
            response("200 OK", &ct("application/json-seq"), &with(b"\x1e", j)),
        ),
        (
            "trailing junk",
            response("200 OK", &ct("application/json"), &with(j, b"\x0c")),
        ),
        (
            "xml",
            response(
                "200 OK",
                &ct("application/xml"),
                format!("<c><email>{EMAIL}</email><id>{ID_NUMBER}</id><p>{PHONE}</p></c>")
                    .as_bytes(),
            ),
        ),
        (
            "csv",
            response(
                "200 OK",
                &ct("text/csv"),
                format!("email,id,phone\n{EMAIL},{ID_NUMBER},{PHONE}\n").as_bytes(),
            ),
        ),
        (
            "html",
            response(
                "500 Internal Server Error",
                &ct("text/html"),
                format!("<html><body>{json}</body></html>").as_bytes(),
            ),
        ),
        (
            "jsonp",
            response(
                "200 OK",
                &ct("application/javascript"),
                format!("cb({json});").as_bytes(),
            ),
        ),
        (
            "multipart",
            response(
                "200 OK",
                &ct("multipart/mixed; boundary=b"),
                format!("--b\r\ncontent-type: application/json\r\n\r\n{json}\r\n--b--\r\n")
                    .as_bytes(),
            ),
        ),
        (
            "two content-types",
            response(
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("content-type", "text/plain"),
                ],
                &gzip(j),
            ),
        ),
        (
            "list content-type",
            response("200 OK", &ct("application/json, text/plain"), j),
        ),
        (
            "two content-encodings",
            response(
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("content-encoding", "identity"),
                    ("content-encoding", "gzip"),
                ],
                &gzip(j),
            ),
        ),
        (
            "gzip twice as text",
            response(
                "200 OK",
                &[("content-type", "text/plain"), ("content-encoding", "gzip")],
                &gzip(&gzip(j)),
            ),
        ),
        (
            "gzip undeclared",
            response("200 OK", &ct("text/plain"), &gzip(j)),
        ),
        (
            "transfer gzip",
            chunked(
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("transfer-encoding", "gzip, chunked"),
                ],
                &gzip(j),
            ),
        ),
    ];
    for (n, (what, bytes)) in cases.into_iter().enumerate() {
        h.answer_bytes(bytes);
        for path in json_routes(n as u64) {
            let r = app.get(&path).await;
            let what = format!("{what} on {path}");
            assert_eq!(r.status, 502, "{what}: {}", r.text());
            assert!(
                ["UPSTREAM_UNMASKABLE", "UPSTREAM_ERROR"].contains(&r.error_code().as_str()),
                "{what}"
            );
            assert_no_leak(&r, &what);
        }
    }
    // The same JSON, plainly sent, is masked and served (the cases above fail
    // for their framing, not for their content).
    h.answer_bytes(response("200 OK", &ct("application/json"), j));
    for path in json_routes(99) {
        assert_masked(&app.get(&path).await, &path);
    }
    // JSON mislabelled as text is still inspected, and served as JSON.
    h.answer_bytes(response("200 OK", &ct("text/plain; charset=utf-16"), j));
    let r = app.get(PASSTHROUGH).await;
    assert_masked(&r, "json labelled text");
    assert_eq!(r.header("content-type"), "application/json; charset=utf-8");
    app.stop().await;
}

#[tokio::test]
async fn range_requests_never_reach_json_routes() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let json = personal_json();
    // An upstream that honours ranges, as a generic file server would.
    h.answer(move |head| {
        if head.to_ascii_lowercase().contains("\r\nrange:") {
            let part = format!(
                "--r\r\ncontent-type: application/json\r\ncontent-range: bytes 0-0/{n}\r\n\r\n{{\r\n--r\r\ncontent-type: application/json\r\ncontent-range: bytes 1-4000/{n}\r\n\r\n{rest}\r\n--r--\r\n",
                n = json.len(),
                rest = &json[1..]
            );
            response(
                "206 Partial Content",
                &[("content-type", "multipart/byteranges; boundary=r")],
                part.as_bytes(),
            )
        } else {
            response("200 OK", &[("content-type", "application/json")], json.as_bytes())
        }
    });
    for path in json_routes(1) {
        let r = app
            .send(
                Method::GET,
                &path,
                &[("range", "bytes=0-0,1-4000"), ("if-range", "\"x\"")],
                b"",
            )
            .await;
        assert_masked(&r, &path);
        let head = h.last_head().to_ascii_lowercase();
        assert!(
            !head.contains("\r\nrange:") && !head.contains("\r\nif-range:"),
            "{head}"
        );
    }
    // An upstream that answers multipart unasked is refused, not streamed.
    let json = personal_json();
    h.answer_bytes(response(
        "206 Partial Content",
        &[("content-type", "multipart/byteranges; boundary=r")],
        format!("--r\r\ncontent-type: application/json\r\n\r\n{json}\r\n--r--\r\n").as_bytes(),
    ));
    for path in json_routes(2) {
        assert_refused(&app.get(&path).await, "UPSTREAM_UNMASKABLE", &path);
    }
    // The shipped memo entries do not opt into ranges: the header is
    // stripped there too, and a partial PDF (which cannot be checked against
    // its magic bytes) is refused — JSON labelled as one included.
    let pdf = b"%PDF-1.4 memo".to_vec();
    let partial = response(
        "206 Partial Content",
        &[
            ("content-type", "application/pdf"),
            ("content-range", "bytes 5-12/13"),
        ],
        &pdf[5..],
    );
    h.answer_bytes(partial.clone());
    let r = app
        .send(Method::GET, MEMO, &[("range", "bytes=5-")], b"")
        .await;
    assert_refused(&r, "UPSTREAM_UNMASKABLE", "unverifiable partial pdf");
    assert!(!h.last_head().to_ascii_lowercase().contains("\r\nrange:"));
    let json = personal_json();
    h.answer_bytes(response(
        "206 Partial Content",
        &[("content-type", "application/pdf")],
        json.as_bytes(),
    ));
    assert_refused(
        &app.get(MEMO).await,
        "UPSTREAM_UNMASKABLE",
        "json as a partial pdf",
    );
    app.stop().await;

    // An entry that opts in keeps the Range header and passes the 206.
    let overlay = "[upstream.retry]\nmax_retries = 0\n[[mask.passthrough]]\npath = \"/api/v1/payin/memo/*\"\ncontent_types = [\"application/pdf\"]\nmagic = \"%PDF-\"\nranges = true\n";
    let app = spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        overlay: overlay.into(),
        ..Options::default()
    })
    .await;
    h.answer_bytes(partial);
    let r = app
        .send(Method::GET, MEMO, &[("range", "bytes=5-")], b"")
        .await;
    assert_eq!(r.status, 206, "{}", r.text());
    assert_eq!(&r.body[..], &pdf[5..]);
    // The gateway's own line: the client's first byte, the bytes sent, and
    // no complete length (upstream's number is not copied).
    assert_eq!(r.header("content-range"), "bytes 5-12/*");
    assert!(h
        .last_head()
        .to_ascii_lowercase()
        .contains("\r\nrange: bytes=5-"));
    // Full answers on that route are still checked.
    h.answer_bytes(response(
        "200 OK",
        &[("content-type", "application/pdf")],
        json.as_bytes(),
    ));
    assert_refused(
        &app.get(MEMO).await,
        "UPSTREAM_UNMASKABLE",
        "json as a full pdf",
    );
    app.stop().await;
}

/// What upstream attaches to a response beyond its listed headers and body —
/// a reason phrase, parameters on the media type — never reaches the client,
/// on a streamed passthrough or a masked JSON answer alike.
#[tokio::test]
async fn reason_phrases_and_media_type_parameters_are_not_relayed() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let token = paycombat_sandbox::SandboxConfig::demo().token;
    let ask = |path: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nhost: gw\r\nx-token: {CLIENT_KEY}\r\nconnection: close\r\n\r\n"
        )
    };
    for (status, what) in [("200", EMAIL), ("503", token.as_str())] {
        let head = format!(
            "HTTP/1.1 {status} {what}\r\ncontent-type: application/pdf; name={EMAIL}\r\ncontent-length: 10\r\nconnection: close\r\n\r\n%PDF-1.4 x"
        );
        h.answer_bytes(head.into_bytes());
        let raw = raw_exchange(app.addr, ask(MEMO).as_bytes()).await;
        assert!(raw.starts_with(&format!("HTTP/1.1 {status} ")), "{raw}");
        assert!(!raw.contains(EMAIL) && !raw.contains(&token), "{raw}");
        assert!(
            raw.to_ascii_lowercase()
                .contains("content-type: application/pdf\r\n"),
            "{raw}"
        );
    }
    let json = personal_json();
    let head = format!(
        "HTTP/1.1 200 {EMAIL}\r\ncontent-type: application/json; note={EMAIL}; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    );
    h.answer_bytes(head.into_bytes());
    for path in json_routes(7) {
        let raw = raw_exchange(app.addr, ask(&path).as_bytes()).await;
        assert!(raw.starts_with("HTTP/1.1 200 OK\r\n"), "{raw}");
        assert!(!raw.contains(EMAIL), "{path}: {raw}");
        assert!(
            raw.to_ascii_lowercase()
                .contains("content-type: application/json; charset=utf-8\r\n"),
            "{raw}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn passthrough_is_only_what_is_declared() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let json = personal_json();
    let pdf = [b"%PDF-1.7\n".as_slice(), &[0xE2; 70_000]].concat();
    h.answer_bytes(response(
        "200 OK",
        &[("content-type", "application/pdf")],
        &pdf,
    ));
    let r = app.get(MEMO).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "application/pdf");
    assert!(
        r.body == pdf,
        "a declared passthrough streams byte for byte"
    );
    // JSON labelled as a PDF on the memo route fails the magic check.
    h.answer_bytes(response(
        "200 OK",
        &[("content-type", "application/pdf")],
        json.as_bytes(),
    ));
    let before = value(
        &app.metrics().await,
        "gateway_mask_failures_total",
        &[("reason", "passthrough_mismatch")],
    );
    assert_refused(&app.get(MEMO).await, "UPSTREAM_UNMASKABLE", "json as pdf");
    let after = value(
        &app.metrics().await,
        "gateway_mask_failures_total",
        &[("reason", "passthrough_mismatch")],
    );
    assert_eq!(after - before, 1.0);
    // The memo route's JSON answers (errors) are masked like any other.
    h.answer_bytes(response(
        "404 Not Found",
        &[("content-type", "application/json")],
        json.as_bytes(),
    ));
    let r = app.get(MEMO).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["data"]["email"], "v*****@*****");
    assert_no_leak(&r, "memo json");
    // A PDF on a route that is not declared is not trusted.
    h.answer_bytes(response(
        "200 OK",
        &[("content-type", "application/pdf")],
        &pdf,
    ));
    assert_refused(
        &app.get(PASSTHROUGH).await,
        "UPSTREAM_UNMASKABLE",
        "undeclared pdf",
    );
    app.stop().await;
}

#[tokio::test]
async fn response_headers_pass_by_allowlist() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let json = personal_json();
    let headers = [
        ("content-type", "application/json"),
        (
            "location",
            "https://x.example/?email=victim.person@example.com",
        ),
        ("link", "<https://x.example/S9876543Z>; rel=next"),
        ("set-cookie", "who=81234567"),
        ("x-customer-email", EMAIL),
        // paycombat's rate-limit fields never pass: the gateway writes its own.
        ("x-ratelimit-remaining", "41"),
        ("x-ratelimit-user", EMAIL),
        ("cache-control", "max-age=5"),
    ];
    h.answer_bytes(response("200 OK", &headers, json.as_bytes()));
    let scrape = app.metrics().await;
    let before = value(
        &scrape,
        "gateway_upstream_response_headers_dropped_total",
        &[],
    );
    for (n, path) in json_routes(3).into_iter().enumerate() {
        let r = app.get(&path).await;
        assert_masked(&r, &path);
        for gone in [
            "location",
            "link",
            "set-cookie",
            "x-customer-email",
            "x-ratelimit-user",
            "x-ratelimit-remaining",
        ] {
            assert!(r.headers.get(gone).is_none(), "{path}: {gone}");
        }
        let after = value(
            &app.metrics().await,
            "gateway_upstream_response_headers_dropped_total",
            &[],
        );
        // set-cookie is never taken from upstream; the other five are counted.
        assert_eq!(after - before, 5.0 * (n + 1) as f64, "{path}");
    }
    app.stop().await;
}

/// An allowlisted name is not a licence for any value: each must match its
/// header's grammar, and a refused one never loosens caching.
#[tokio::test]
async fn allowlisted_headers_carry_only_values_of_their_grammar() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let json = personal_json();
    let etag = format!("\"{PHONE}-{ID_NUMBER}@x\"");
    let no_store = format!("no-store, x-note=\"{EMAIL}\"");
    let headers = [
        ("content-type", "application/json"),
        ("retry-after", EMAIL),
        ("etag", etag.as_str()),
        ("date", ID_NUMBER),
        ("x-request-id", EMAIL),
        ("x-ratelimit-remaining", PHONE),
        ("cache-control", no_store.as_str()),
        ("vary", EMAIL),
        ("expires", EMAIL),
    ];
    h.answer_bytes(response("200 OK", &headers, json.as_bytes()));
    let refused = |scrape: &str, header: &str| {
        sample(
            scrape,
            "gateway_upstream_response_header_values_refused_total",
            &[("header", header)],
        )
    };
    let before = app.metrics().await;
    let id = customer_id(31_337);
    let cached = format!("/api/v1/customer/customer/{id}");
    for path in [PASSTHROUGH, cached.as_str()] {
        let r = app.get(path).await;
        assert_masked(&r, path);
        assert!(r.headers.get("x-ratelimit-remaining").is_none(), "{path}");
        assert_eq!(r.header("cache-control"), "no-store", "{path}");
        assert_eq!(r.header("vary"), "*", "{path}");
        assert_eq!(r.header("expires"), "0", "{path}");
        assert_ne!(r.header("etag"), etag, "{path}: the gateway's own tag");
        assert!(r.headers.get("retry-after").is_none(), "{path}");
    }
    let after = app.metrics().await;
    // Upstream's ETag, X-Request-Id and Date are never read: the gateway
    // writes its own, so they are not counted as refused.
    for header in ["retry-after", "cache-control", "vary", "expires"] {
        assert_eq!(
            metrics::moved(refused(&before, header), refused(&after, header)),
            Some(2.0),
            "{header}"
        );
    }
    // no-store survived the rewrite, so the customer read was not stored.
    let upstream_before = h.count();
    assert_masked(&app.get(&cached).await, "second read");
    assert_eq!(
        h.count(),
        upstream_before + 1,
        "a no-store answer was cached"
    );
    app.stop().await;
}

/// A Cache-Control line the value grammar cannot read (longer than it reads,
/// or not text) may carry no-store: it is answered as no-store, never
/// dropped, so the customer read is not stored and the client is told not to.
#[tokio::test]
async fn an_unreadable_no_store_line_still_keeps_the_answer_out_of_every_cache() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let json = personal_json();
    let names = ["x-a-rather-long-header-name"; 12].join(", ");
    let long = format!("no-store, private, no-cache=\"{names}\"");
    for (n, line) in [long.as_bytes(), b"no-store, x-note=\"caf\xe9\"".as_slice()]
        .into_iter()
        .enumerate()
    {
        let mut raw =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: ".to_vec();
        raw.extend_from_slice(line);
        raw.extend_from_slice(
            format!(
                "\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
                json.len()
            )
            .as_bytes(),
        );
        h.answer_bytes(raw);
        let cached = format!(
            "/api/v1/customer/customer/{}",
            customer_id(31_400 + n as u64)
        );
        let r = app.get(&cached).await;
        assert_masked(&r, "first read");
        assert_eq!(r.header("cache-control"), "no-store", "line {n}");
        let seen = h.count();
        let again = app.get(&cached).await;
        assert_masked(&again, "second read");
        assert_eq!(
            h.count(),
            seen + 1,
            "line {n}: a no-store answer was cached"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn reflected_credentials_never_reach_the_client_nor_the_cache() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let token = paycombat_sandbox::SandboxConfig::demo().token;
    // An echo endpoint: the request head comes back in an allowlisted header
    // and in the body.
    h.answer(|head| {
        let echoed = head.replace("\r\n", " | ").replace('"', "'");
        let body = format!(r#"{{"status":true,"message":"OK","data":{{"request":"{echoed}"}}}}"#);
        response(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    });
    let id = customer_id(4242);
    let cached = format!("/api/v1/customer/customer/{id}");
    // On a `report` route the echoed head is text that mentions personal fields (its header
    // names: `accept-encoding: identity`), masked whole before the guard looks; what is sent
    // holds no secret. (The guard's own refusals: the echoed signature and header below, and
    // tests/it/reflection.rs.)
    let r = app.get(PASSTHROUGH).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["request"], "[REDACTED]");
    assert_no_leak(&r, PASSTHROUGH);
    assert!(
        h.last_head().contains(&token),
        "the upstream did get the token"
    );
    // On the `enforce` customer read the echo is an undeclared field (its key the gateway's
    // own): masked before the guard looks, so what is stored and sent holds no secret.
    let r = app.get(&cached).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"]["<key>#0"], "[REDACTED]");
    assert_no_leak(&r, &cached);
    assert!(h.last_head().contains(&token));
    // Only the request's signature echoed back, on a write.
    h.answer(|head| {
        let sig = head
            .lines()
            .find_map(|l| l.strip_prefix("signature: "))
            .unwrap_or("none")
            .to_owned();
        let body = format!(r#"{{"status":true,"message":"OK","data":{{"sig":"{sig}"}}}}"#);
        response(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    });
    let r = app
        .send(
            Method::POST,
            "/api/v1/payin/create",
            &[("content-type", "application/json")],
            br#"{"amount":1}"#,
        )
        .await;
    assert_refused(&r, "UPSTREAM_SECRET_REFLECTED", "echoed signature");
    assert!(
        h.last_head().contains("signature: "),
        "the write was signed"
    );
    // Reflected in a header the allowlist passes: no header value is
    // upstream's text any more (the ETag is the gateway's digest of the
    // bytes it sends), so the token cannot reach the client that way.
    let t = token.clone();
    h.answer(move |_| {
        response(
            "200 OK",
            &[
                ("content-type", "application/json"),
                ("etag", &format!("\"{t}\"")),
            ],
            br#"{"status":true,"message":"OK","data":{}}"#,
        )
    });
    let r = app.get(PASSTHROUGH).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("etag").starts_with('"'), "the gateway's own tag");
    assert_no_leak(&r, "etag");
    // Hidden behind JSON escapes: caught in the form the client would read.
    let escaped: String = token
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    h.answer_bytes(response(
        "200 OK",
        &[("content-type", "application/json")],
        format!(r#"{{"status":true,"message":"OK","data":{{"x":"{escaped}"}}}}"#).as_bytes(),
    ));
    assert_refused(
        &app.get(PASSTHROUGH).await,
        "UPSTREAM_SECRET_REFLECTED",
        "escaped",
    );
    // The signature key and the mask key, in a streamed PDF: the transfer is cut.
    let pdf = [
        b"%PDF-1.7\n".as_slice(),
        &[b'x'; 100_000],
        MASK_KEY.as_bytes(),
        b"\n%%EOF",
    ]
    .concat();
    h.answer_bytes(response(
        "200 OK",
        &[("content-type", "application/pdf")],
        &pdf,
    ));
    let url = format!("http://{}{MEMO}", app.addr);
    let req = http::Request::get(&url)
        .header("x-token", CLIENT_KEY)
        .body(http_body_util::Full::new(Bytes::new()))
        .unwrap();
    let resp = app.client.request(req).await.unwrap();
    assert_eq!(resp.status(), 200, "the head was already on its way");
    use http_body_util::BodyExt;
    let got = resp.into_body().collect().await;
    assert!(got.is_err(), "the stream is aborted before the secret");
    let scrape = app.metrics().await;
    // The body refusals above: the echoed signature, the escaped token, the PDF (the echoed
    // head on the report route is masked before the guard looks).
    assert!(
        value(
            &scrape,
            "gateway_secret_reflections_total",
            &[("location", "body")]
        ) >= 3.0
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_secret_reflections_total",
            &[("location", "header")]
        ),
        Some(0.0),
        "no header carries upstream text"
    );
    app.stop().await;
}

#[tokio::test]
async fn head_answers_carry_no_body_over_http1_and_http2() {
    let app = spawn_app().await;
    let h2 = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<http_body_util::Full<Bytes>>();
    for (proto, client) in [("h1", &app.client), ("h2", &h2)] {
        for (path, key, status) in [
            ("/api/v1/customer/customer/x", None, 401),
            ("/api/v1/customer/customer/x", Some("wrong-key"), 401),
            ("/nope", Some(CLIENT_KEY), 404),
            ("/api/v1/%2e%2e/x", Some(CLIENT_KEY), 400),
        ] {
            let mut headers = vec![];
            if let Some(k) = key {
                headers.push(("x-token", k));
            }
            let url = format!("http://{}{path}", app.addr);
            let r = request(client, Method::HEAD, &url, &headers, b"").await;
            assert_eq!(r.status.as_u16(), status, "{proto} HEAD {path}");
            assert!(r.body.is_empty(), "{proto} HEAD {path}");
            assert!(r.headers.get("x-request-id").is_some(), "{proto}");
        }
    }
    app.stop().await;
}

// ---- the class, as a property ------------------------------------------------------------

/// How the seeded JSON is wrapped before the upstream sends it.
#[derive(Debug, Clone)]
enum Wrap {
    None,
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    Utf16 { be: bool, bom: bool },
    Utf32 { be: bool, bom: bool },
    Jsonp,
    Xml,
    Multipart,
}

/// Where the seeded values sit in the JSON document.
#[derive(Debug, Clone, Copy)]
enum Doc {
    /// Under the rule keys, as shipped.
    Plain,
    /// Under the rule keys spelled another way.
    Spellings,
    /// As keys of an object under a rule key.
    ObjectKeys,
    /// In a JSON document serialised inside a string value.
    InString,
}

fn doc_json(d: Doc) -> String {
    match d {
        Doc::Plain => personal_json(),
        Doc::Spellings => format!(
            r#"{{"status":true,"data":{{"Email":"{EMAIL}","identificationValue":"{ID_NUMBER}","PHONE-NUMBER":"{PHONE}"}}}}"#
        ),
        Doc::ObjectKeys => format!(
            r#"{{"status":true,"data":{{"email":{{"{EMAIL}":true,"{PHONE}":[1]}},"identification_value":{{"v":"{ID_NUMBER}"}}}}}}"#
        ),
        Doc::InString => {
            let inner = serde_json::to_string(&personal_json()).unwrap();
            format!(r#"{{"status":true,"data":{{"note":{inner}}}}}"#)
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    doc: Doc,
    route: usize,
    wraps: Vec<Wrap>,
    /// gzip layers applied, and how many of them are declared.
    gzips: usize,
    declared: usize,
    content_types: Vec<&'static str>,
    status: &'static str,
}

fn wrap() -> impl Strategy<Value = Wrap> {
    prop_oneof![
        Just(Wrap::None),
        prop::collection::vec(
            prop::sample::select(vec![
                0x0c_u8, 0x0b, 0x1e, 0xa0, 0xc2, 0xef, 0xbb, 0xbf, 0x00, b' ', b'\n', b'<', b'('
            ]),
            1..4
        )
        .prop_map(Wrap::Prefix),
        prop::collection::vec(
            prop::sample::select(vec![0x0c_u8, 0x00, b';', b')', b'x']),
            1..3
        )
        .prop_map(Wrap::Suffix),
        (any::<bool>(), any::<bool>()).prop_map(|(be, bom)| Wrap::Utf16 { be, bom }),
        (any::<bool>(), any::<bool>()).prop_map(|(be, bom)| Wrap::Utf32 { be, bom }),
        Just(Wrap::Jsonp),
        Just(Wrap::Xml),
        Just(Wrap::Multipart),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(vec![
            Doc::Plain,
            Doc::Spellings,
            Doc::ObjectKeys,
            Doc::InString,
        ]),
        0usize..3,
        prop::collection::vec(wrap(), 0..3),
        0usize..3,
        0usize..3,
        prop::collection::vec(
            prop::sample::select(vec![
                "application/json",
                "application/json; charset=utf-16",
                "text/plain",
                "text/html",
                "application/pdf",
                "application/xml",
                "application/octet-stream",
                "multipart/byteranges; boundary=b",
                "application/json, text/plain",
            ]),
            0..3,
        ),
        prop::sample::select(vec![
            "200 OK",
            "206 Partial Content",
            "404 Not Found",
            "500 Internal Server Error",
        ]),
    )
        .prop_map(
            |(doc, route, wraps, gzips, declared, content_types, status)| Case {
                doc,
                route,
                wraps,
                gzips,
                declared: declared.min(gzips),
                content_types,
                status,
            },
        )
}

fn build(c: &Case) -> Vec<u8> {
    let mut body = doc_json(c.doc).into_bytes();
    for w in &c.wraps {
        body = match w {
            Wrap::None => body,
            Wrap::Prefix(p) => [p.as_slice(), &body].concat(),
            Wrap::Suffix(s) => [body.as_slice(), s].concat(),
            Wrap::Utf16 { be, bom } => utf16(&String::from_utf8_lossy(&body), *be, *bom),
            Wrap::Utf32 { be, bom } => utf32(&String::from_utf8_lossy(&body), *be, *bom),
            Wrap::Jsonp => [b"cb(".as_slice(), &body, b")"].concat(),
            Wrap::Xml => [b"<r>".as_slice(), &body, b"</r>"].concat(),
            Wrap::Multipart => [b"--b\r\n\r\n".as_slice(), &body, b"\r\n--b--"].concat(),
        };
    }
    for _ in 0..c.gzips {
        body = gzip(&body);
    }
    let mut headers: Vec<(&str, &str)> = c
        .content_types
        .iter()
        .map(|t| ("content-type", *t))
        .collect();
    for _ in 0..c.declared {
        headers.push(("content-encoding", "gzip"));
    }
    response(c.status, &headers, &body)
}

#[test]
fn random_framings_of_personal_data_never_leak() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (h, app) = rt.block_on(async {
        let h = Hostile::start().await;
        let app = gateway(&h).await;
        (h, app)
    });
    let routes = [PASSTHROUGH.to_owned(), MEMO.to_owned(), String::new()];
    let n = std::sync::atomic::AtomicU64::new(0);
    let served = std::sync::atomic::AtomicU64::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&case(), |c| {
        let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        h.answer_bytes(build(&c));
        let path = match c.route {
            2 => format!("/api/v1/customer/customer/{}", customer_id(50_000 + n)),
            i => routes[i].clone(),
        };
        let r = rt.block_on(app.get(&path));
        let what = format!("{c:?} on {path}");
        assert_no_leak(&r, &what);
        if r.status == 502 {
            let code = r.error_code();
            prop_assert!(
                ["UPSTREAM_UNMASKABLE", "UPSTREAM_ERROR"].contains(&code.as_str()),
                "{what}: {code}"
            );
        } else {
            // Served: either masked JSON, or a declared passthrough (a PDF on
            // the memo route) — and no generated body starts with %PDF-.
            prop_assert!(r.status != 502);
            let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| {
                TestCaseError::fail(format!("{what}: served body is not JSON: {e}"))
            })?;
            served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if matches!(c.doc, Doc::Plain) {
                prop_assert_eq!(&v["data"]["email"], "v*****@*****", "{}", what);
            }
        }
        Ok(())
    });
    rt.block_on(app.stop());
    drop(h);
    result.unwrap();
    // Both outcomes occurred: the generator reaches bodies that are served
    // masked as well as ones that are refused.
    let (served, all) = (served.into_inner(), n.into_inner());
    assert!(served > 0 && served < all, "{served} of {all} served");
}

/// The secret guard checks a relayed PDF as it arrives, before it is held in
/// memory or the spool: a key deep in a body that spilled to disk for a slow
/// client still never reaches that client, and the bytes it did get are
/// exactly the clean start of the body.
#[tokio::test]
async fn a_secret_in_the_spooled_part_of_a_pdf_never_reaches_a_slow_client() {
    let h = Hostile::start().await;
    let app = spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        overlay:
            "[upstream.retry]\nmax_retries = 0\n[upstream.buffering]\nmemory_per_response = 16384\n"
                .into(),
        ..Options::default()
    })
    .await;
    let clean = [b"%PDF-1.7\n".as_slice(), &vec![b'x'; 8_000_000]].concat();
    let pdf = [clean.as_slice(), MASK_KEY.as_bytes(), b"\n%%EOF"].concat();
    h.answer_bytes(response(
        "200 OK",
        &[("content-type", "application/pdf")],
        &pdf,
    ));
    let url = format!("http://{}{MEMO}", app.addr);
    let req = http::Request::get(&url)
        .header("x-token", CLIENT_KEY)
        .body(http_body_util::Full::new(Bytes::new()))
        .unwrap();
    let resp = app.client.request(req).await.unwrap();
    assert_eq!(resp.status(), 200, "the head was already on its way");
    // A slow reader: paycombat has long finished when it asks for more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    use http_body_util::BodyExt;
    let mut body = resp.into_body();
    let mut got = Vec::new();
    let mut failed = false;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => got.extend_from_slice(&f.into_data().unwrap_or_default()),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the transfer is cut, not completed");
    assert!(
        !find(&got, MASK_KEY.as_bytes()),
        "the key reached the client"
    );
    assert!(clean.starts_with(&got), "only the clean start was sent");
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_secret_reflections_total",
            &[("location", "body")]
        ),
        Some(1.0)
    );
    assert!(
        value(&scrape, "gateway_spooled_bytes_total", &[]) > 0.0,
        "the clean start went through the spool: {scrape}"
    );
    // Nothing held after the cut: no spool file, no buffer, no slot.
    assert!(
        eventually(Duration::from_secs(5), || async {
            let s = app.metrics().await;
            sample(&s, "gateway_spool_files", &[]) == Some(0.0)
                && sample(&s, "gateway_response_buffer_bytes", &[]) == Some(0.0)
                && sample(&s, "gateway_upstream_slots_in_use", &[]) == Some(0.0)
        })
        .await
    );
    app.stop().await;
}
