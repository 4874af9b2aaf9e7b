//! Response headers and status lines: only what is declared or allowlisted, in its grammar, reaches the client.

use super::*;

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
