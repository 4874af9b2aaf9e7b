//! Bodies the masker cannot read fail closed with their reason; a PDF streams through untouched.

use super::*;

#[tokio::test]
async fn unmaskable_bodies_fail_closed_with_the_reason() {
    let app = spawn_app_overlay(
        "[upstream]\nmax_response_body_bytes = 65536\n[upstream.retry]\nmax_retries = 0\n[upstream.circuit_breaker]\nfailure_threshold = 0\n",
    )
    .await;
    // (fault, mask failure reason or None for a broken connection, markers of its body)
    let cases: &[(&str, Option<&str>, &[&str])] = &[
        (
            "malformed_json",
            Some("parse_error"),
            &["broken@example.com", "upstream error"],
        ),
        ("truncated_json", Some("parse_error"), &[]),
        (
            "non_utf8",
            Some("parse_error"),
            &["Ren", "nee@example.com", "S12"],
        ),
        ("deep=200", Some("too_deep"), &["deep.nest@example.com"]),
        ("oversized=200000", Some("too_large"), &["customer_"]),
        // Small on the wire, too large once decoded.
        ("oversized=3000000,gzip", Some("too_large"), &["customer_"]),
        ("bogus_encoding", Some("bad_encoding"), &[]),
        ("gzip,truncated_json", Some("parse_error"), &[]),
        ("reset_mid_body", None, &[]),
    ];
    // Right at the limits, a body is still masked and served: 64 levels of nesting (the root,
    // `data`'s 62 wrappers, the innermost object), and exactly max_response_body_bytes.
    let r = fault_get(&app, "/api/v1/payin/retrieve-payin/edge", "deep=62").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(contains(&r.body, b"\"d*****@*****\"") && !contains(&r.body, b"deep.nest"));
    assert_eq!(
        fault_get(&app, "/api/v1/payin/retrieve-payin/edge", "deep=63")
            .await
            .status,
        502
    );
    let fault = [("x-sandbox-fault", "oversized=65536")];
    let raw = upstream_with(&app, "/api/v1/payin/retrieve-payin/edge", &fault).await;
    assert_eq!(raw.body.len(), 65536);
    let r = get_with(&app, "/api/v1/payin/retrieve-payin/edge", &fault).await;
    assert_masked_copy(&raw.body, &r, "a body of exactly the limit");
    assert_eq!(
        fault_get(&app, "/api/v1/payin/retrieve-payin/edge", "oversized=65537")
            .await
            .status,
        502
    );

    let purge = format!("/admin/cache/purge?customer_id={FIXTURE_ID}");
    let admin_auth = format!("Bearer {ADMIN_TOKEN}");
    for (n, (fault, reason, markers)) in cases.iter().enumerate() {
        // A payin on a passthrough route, the fixture on the cached route.
        for (path, cached) in [
            (format!("/api/v1/payin/retrieve-payin/fail{n}"), false),
            (detail_path(FIXTURE_ID), true),
        ] {
            let what = format!("{fault} on {path}");
            let raw = personal_values(&upstream(&app, &path).await.json());
            let before = failures(&app.metrics().await);
            let r = fault_get(&app, &path, fault).await;
            let code = if reason.is_some() {
                "UPSTREAM_UNMASKABLE"
            } else {
                "UPSTREAM_ERROR"
            };
            assert_refused(&r, code, markers, &what);
            assert_no_raw_values(&raw, &r.body, &what);
            let after = failures(&app.metrics().await);
            for (i, label) in FAILURE_REASONS.iter().enumerate() {
                let expected = if Some(*label) == *reason { 1.0 } else { 0.0 };
                assert_eq!(
                    after[i] - before[i],
                    expected,
                    "{what}: gateway_mask_failures_total{{reason={label}}}"
                );
            }
            if cached {
                assert!(
                    r.header("cache-status").contains("uncacheable"),
                    "{what}: {}",
                    r.header("cache-status")
                );
                // Nothing was stored: the next normal read goes upstream and succeeds.
                let reads = app.state().request_count("customer_detail");
                let next = app.get(&path).await;
                assert_eq!(next.status, 200, "{what}: {}", next.text());
                assert!(
                    !next.header("cache-status").contains("hit"),
                    "{what}: {}",
                    next.header("cache-status")
                );
                assert_eq!(
                    app.state().request_count("customer_detail"),
                    reads + 1,
                    "{what}"
                );
                assert_no_raw_values(&raw, &next.body, &what);
                // Forget what that read stored, for the next case.
                let r = app
                    .admin(Method::POST, &purge, &[("authorization", &admin_auth)])
                    .await;
                assert_eq!(r.status, 200, "purge: {}", r.text());
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn hostile_framing_from_upstream_fails_closed() {
    // More blank bytes than the gateway buffers, arriving before the JSON, labelled as text.
    let json = br#"{"status":true,"message":"OK","data":{"email":"hidden.behind@blanks.example"}}"#;
    let mut head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        6000 + json.len()
    )
    .into_bytes();
    head.extend_from_slice(&[b' '; 6000]);
    // A gzip header followed by garbage, claiming JSON.
    let mut corrupt = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff];
    corrupt.extend_from_slice(b"definitely not deflate data: jane.doe@example.com");
    let mut corrupt_gzip = http_response("200 OK", "application/json", &corrupt);
    corrupt_gzip.splice(17..17, b"content-encoding: gzip\r\n".iter().copied());
    let base = canned_upstream(vec![
        (
            "/api/v1/payin/retrieve-payin/blank",
            vec![head, json.to_vec()],
        ),
        ("/api/v1/payin/retrieve-payin/corrupt", vec![corrupt_gzip]),
    ])
    .await;
    let app = spawn_app_with(Options {
        upstream_override: Some(base),
        overlay: "[upstream]\nmax_response_body_bytes = 4096\n[upstream.retry]\nmax_retries = 0\n"
            .into(),
        ..Options::default()
    })
    .await;
    for (path, reason, leak) in [
        (
            "/api/v1/payin/retrieve-payin/blank",
            "too_large",
            "hidden.behind",
        ),
        (
            "/api/v1/payin/retrieve-payin/corrupt",
            "bad_encoding",
            "jane.doe",
        ),
    ] {
        let before = failures(&app.metrics().await);
        let r = app.get(path).await;
        assert_refused(&r, "UPSTREAM_UNMASKABLE", &[leak], path);
        let after = failures(&app.metrics().await);
        for (i, label) in FAILURE_REASONS.iter().enumerate() {
            let expected = if *label == reason { 1.0 } else { 0.0 };
            assert_eq!(after[i] - before[i], expected, "{path}: reason={label}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_pdf_streams_through_byte_identical() {
    let app = spawn_app().await;
    let path = "/api/v1/payin/memo/p-77?size=300000";
    let direct = upstream(&app, path).await;
    let before = app.metrics().await;
    let r = app.get(path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "application/pdf");
    assert_eq!(r.body.len(), 300_000);
    assert!(r.body == direct.body, "the PDF is forwarded byte for byte");
    // A compressed PDF is decoded (it could not be told from JSON otherwise), and nothing else.
    let r = fault_get(&app, path, "gzip").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("content-encoding").is_none());
    assert_eq!(r.header("content-type"), "application/pdf");
    assert!(r.body == direct.body, "the decoded PDF is the original");
    let after = app.metrics().await;
    assert_eq!(failures(&after), failures(&before));
    assert_eq!(masked_total(&after, "name"), masked_total(&before, "name"));
    app.stop().await;
}
