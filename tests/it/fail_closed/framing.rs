//! Encodings, prefixes, labels, range requests and HEAD answers a hostile upstream tries: every one fails closed.

use super::*;

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
