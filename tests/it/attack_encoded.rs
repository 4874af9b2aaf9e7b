//! A second independent attack on issue 21's privacy rule, with shapes the other privacy
//! modules do not try: personal values behind an encoding nested in another (base64 of
//! base64, hex of base64, a gzipped JSON document in base64), hex-encoded JSON and emails,
//! JavaScript's `%u0040` escapes, keys whose key word a case change cuts in two (`namA`,
//! `EMail`), a phone number spelled as a JSON number with a zero-padded exponent, a declared
//! leaf repeated with an email (first vs last wins); and on the wire: upstream reason phrases,
//! `1xx` answers, chunked trailers, obs-folded, non-ASCII and personal headers (`Link`,
//! `Location`, `Content-Disposition`, `Set-Cookie`, `Warning`, `X-…`), JSON labelled with
//! other media types, and a body gzipped twice under one coding. Against a hostile upstream
//! on loopback, over HTTP/1.1 and h2c, GET (miss, then hit) and HEAD, on a forwarded `report`
//! route, the cached `enforce` route and a passthrough (memo PDF) route, and read raw off
//! the socket.

use std::io::Write;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::readings::{assert_no_seed_on_every_read, find, h2c_client, readings};
use crate::common::*;

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// (name, body, seeds): each seed is a byte string no reading of the answer may hold.
fn cases() -> Vec<(&'static str, String, Vec<String>)> {
    let hex_json = hex(br#"{"first_name":"Alice Hexname"}"#);
    let hex_email = hex(b"victim.hex@example.com").to_uppercase();
    let b64_gzip = STANDARD.encode(gzip(br#"{"email":"victim.gzip@example.com"}"#));
    let b64_b64 = STANDARD.encode(STANDARD.encode("mail victim.b64b64@example.com"));
    let hex_b64 = hex(STANDARD.encode("mail victim.hexb64@example.com").as_bytes());
    vec![
        (
            "encodings nested in encodings",
            json!({"status": true, "data": {
                "a": hex_json, "b": hex_email, "c": b64_gzip, "d": b64_b64, "e": hex_b64,
            }})
            .to_string(),
            vec![hex_json, hex_email, b64_gzip, b64_b64, hex_b64],
        ),
        (
            "JavaScript %u, brace and octal escapes, zero-padded HTML references",
            json!({"status": true, "data": {
                "note": "victim.pctu%u0040example.com",
                "upper": "%u0076ictim%U002Epct2%u0040example%u002Ecom",
                "zeros": "victim.zeros&#x0000000040;example.com",
                "brace": "victim.brace\\u{40}example.com",
                "octal": "victim.octal\\100example.com",
            }})
            .to_string(),
            vec![
                "victim.pctu".into(),
                "%U002Epct2".into(),
                "victim.zeros".into(),
                "victim.brace".into(),
                "victim.octal".into(),
            ],
        ),
        (
            "a key word cut by a case change or by separators",
            json!({"status": true, "data": {
                "namA": "Alice Casename", "EMail": "Emailcase", "TeLePon": "Telcase",
                "n_a_m_a": "Sepname", "no-h-p": "Sephp",
            }})
            .to_string(),
            vec![
                "Casename".into(),
                "Emailcase".into(),
                "Telcase".into(),
                "Sepname".into(),
                "Sephp".into(),
            ],
        ),
        (
            "a phone number as a JSON number with a zero-padded exponent",
            r#"{"status":true,"data":{"ref":62812345679e+0000000000000000000002,
                "neg":-6281234567910E-000000000000000000000000}}"#
                .to_owned(),
            vec!["62812345679".into(), "6281234567910".into()],
        ),
        (
            "a declared leaf repeated with an email, and an escaped JSON document",
            r#"{"status":true,"data":{"customer_id":"customer_1","customer_id":"victim.dup@example.com",
                "type":"victim.dup2@example.com","type":"INDIVIDUAL",
                "doc":"{\"catatan\":\"hubungi +62 812-3456-7001 atau 0812-3456-7002\"}"}}"#
                .to_owned(),
            vec![
                "victim.dup".into(),
                "3456-7001".into(),
                "3456-7002".into(),
            ],
        ),
    ]
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

#[tokio::test]
async fn personal_values_behind_nested_encodings_never_reach_a_client() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let h2 = h2c_client();
    for (i, (name, body, seeds)) in cases().into_iter().enumerate() {
        h.answer_json(body);
        let forward = format!("/api/v1/payin/encoded-{i}");
        let cached = detail(&customer_id(21_300 + i as u64));
        assert_no_seed_on_every_read(&app, &h2, &[&forward, &cached], &seeds, name).await;
    }
    // Ordinary values of these shapes still come back byte for byte: a hex digest, a
    // base64 id, an amount with an exponent, camel-case payment keys.
    let benign = format!(
        r#"{{"status":true,"data":{{"digest":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","cursor":"{}","payinId":"payin_67d84b19d50b490a8fa75ab20bbf275a","amount":1.5e+0000000006}}}}"#,
        STANDARD.encode(r#"{"page":2}"#)
    );
    h.answer_json(benign.clone());
    let r = app.get("/api/v1/payin/encoded-benign").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), benign);
    app.stop().await;
}

/// Sends a raw HTTP/1.1 request for `path` to the gateway and returns every byte it answers
/// with (status line, headers, body), the connection closed.
async fn raw_get(app: &TestApp, method: &str, path: &str) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: gw\r\nx-token: {CLIENT_KEY}\r\nte: trailers\r\nconnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("the gateway answers within 20 s")
        .unwrap();
    out
}

/// Upstream answers whose status line, informational answers, headers, trailers or framing
/// carry personal values: none of those bytes reaches the client, read raw off the socket
/// (GET and HEAD, forwarded `report` and cached `enforce` routes) and over h2c.
#[tokio::test]
async fn personal_values_in_the_framing_never_reach_a_client() {
    const SEEDS: [&str; 4] = [
        "victim.frame",
        "081299887766",
        "3173012345670009",
        "Framename",
    ];
    let body = br#"{"status":true,"data":{"ok":1}}"#;
    let chunked = |trailer: &str| {
        let mut out = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\ntrailer: x-contact\r\nconnection: close\r\n\r\n{:x}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out.extend_from_slice(format!("\r\n0\r\n{trailer}\r\n\r\n").as_bytes());
        out
    };
    let one_hundred = |rest: Vec<u8>| {
        let mut out = b"HTTP/1.1 103 victim.frame@example.com\r\nlink: <https://x.example/?email=victim.frame@example.com>\r\nx-phone: 081299887766\r\n\r\n".to_vec();
        out.extend(rest);
        out
    };
    let answers: Vec<(&str, Vec<u8>)> = vec![
        (
            "a reason phrase",
            response("200 victim.frame@example.com 081299887766", &[("content-type", "application/json")], body),
        ),
        (
            "personal headers",
            response(
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("link", "<https://x.example/u/victim.frame@example.com>; rel=\"me\""),
                    ("location", "/customers/3173012345670009"),
                    ("content-disposition", "attachment; filename=\"Alice Framename 081299887766.json\""),
                    ("set-cookie", "nik=3173012345670009; Path=/"),
                    ("warning", "199 - \"Framename\""),
                    ("x-customer-email", "victim.frame@example.com"),
                    ("vary", "x-nik-3173012345670009"),
                    ("x-latin", "Framename\u{e9}"),
                ],
                body,
            ),
        ),
        (
            "an obs-folded header",
            response(
                "200 OK",
                &[("content-type", "application/json"), ("x-folded", "a\r\n victim.frame@example.com")],
                body,
            ),
        ),
        ("an informational answer first", one_hundred(response("200 OK", &[("content-type", "application/json")], body))),
        ("chunked trailers", chunked("x-contact: victim.frame@example.com 081299887766")),
        (
            "JSON under other media types",
            response(
                "200 OK",
                &[("content-type", "application/problem+json; charset=utf-16; name=\"Framename\"")],
                br#"{"status":true,"data":{"email":"victim.frame@example.com","nik":"3173012345670009"}}"#,
            ),
        ),
        (
            "text/json",
            response(
                "200 OK",
                &[("content-type", "text/json")],
                br#"{"status":true,"data":{"note":"call 081299887766"}}"#,
            ),
        ),
    ];
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let h2 = h2c_client();
    let mut n = 0u64;
    for (name, answer) in answers {
        h.answer_bytes(answer);
        for method in ["GET", "HEAD"] {
            n += 1;
            let cached = detail(&customer_id(21_400 + n));
            for path in ["/api/v1/payin/framing", cached.as_str()] {
                let raw = raw_get(&app, method, path).await;
                let what = format!("{name}: h1 raw {method} {path}");
                assert!(raw.starts_with(b"HTTP/1.1 "), "{what}");
                for reading in readings(&raw) {
                    for s in SEEDS {
                        assert!(
                            !find(&reading, s.as_bytes()),
                            "{what}: {s} reached the client: {}",
                            String::from_utf8_lossy(&raw)
                        );
                    }
                }
                let url = format!("http://{}{path}", app.addr);
                let m = http::Method::from_bytes(method.as_bytes()).unwrap();
                let r = request(&h2, m, &url, &[("x-token", CLIENT_KEY)], b"").await;
                crate::common::readings::assert_no_seed(
                    &r,
                    &SEEDS,
                    &format!("{name}: h2 {method} {path}"),
                );
            }
        }
    }

    // A body gzipped twice under one `Content-Encoding: gzip` is no JSON after one
    // decoding: refused, never streamed.
    let twice = gzip(&gzip(
        br#"{"status":true,"data":{"email":"victim.frame@example.com"}}"#,
    ));
    h.answer_bytes(response(
        "200 OK",
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
        &twice,
    ));
    let r = app.get("/api/v1/payin/framing-twice").await;
    assert_eq!(r.status, 502, "{}", r.text());
    crate::common::readings::assert_no_seed(&r, &SEEDS, "gzip twice");
    app.stop().await;
}

/// A passthrough route streams its body byte for byte, but nothing else of upstream's: not a
/// personal value in chunked trailers, in a `103` answer before it, in its reason phrase or
/// in its headers — over HTTP/1.1 (raw, with `TE: trailers`) and h2c, GET and HEAD.
#[tokio::test]
async fn a_passthrough_stream_carries_nothing_but_its_body() {
    const SEEDS: [&str; 3] = ["victim.memo", "081299887711", "Memoname"];
    let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n";
    let mut answer =
        b"HTTP/1.1 103 Early victim.memo@example.com\r\nlink: </u/victim.memo@example.com>\r\n\r\n"
            .to_vec();
    answer.extend_from_slice(
        format!(
            "HTTP/1.1 200 Memoname 081299887711\r\ncontent-type: application/pdf\r\ncontent-disposition: attachment; filename=\"Memoname-081299887711.pdf\"\r\nx-owner: victim.memo@example.com\r\ntransfer-encoding: chunked\r\ntrailer: x-contact\r\nconnection: close\r\n\r\n{:x}\r\n",
            pdf.len()
        )
        .as_bytes(),
    );
    answer.extend_from_slice(pdf);
    answer.extend_from_slice(
        b"\r\n0\r\nx-contact: victim.memo@example.com 081299887711 Memoname\r\n\r\n",
    );
    let h = Hostile::start().await;
    h.answer_bytes(answer);
    let app = gateway(&h).await;
    let h2 = h2c_client();
    let path = "/api/v1/payin/memo/memo-1";
    for method in ["GET", "HEAD"] {
        let raw = raw_get(&app, method, path).await;
        let what = format!("h1 raw {method} {path}");
        assert!(
            raw.starts_with(b"HTTP/1.1 200"),
            "{what}: {}",
            String::from_utf8_lossy(&raw)
        );
        if method == "GET" {
            assert!(find(&raw, pdf), "{what}: the body streams");
        }
        for s in SEEDS {
            assert!(
                !find(&raw, s.as_bytes()),
                "{what}: {s} reached the client: {}",
                String::from_utf8_lossy(&raw)
            );
        }
        let url = format!("http://{}{path}", app.addr);
        let m = http::Method::from_bytes(method.as_bytes()).unwrap();
        let r = request(&h2, m, &url, &[("x-token", CLIENT_KEY)], b"").await;
        assert_eq!(r.status, 200, "h2 {method}");
        crate::common::readings::assert_no_seed(&r, &SEEDS, &format!("h2 {method} {path}"));
    }
    app.stop().await;
}
