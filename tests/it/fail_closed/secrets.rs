//! Gateway secrets an upstream reflects never reach the client, the cache or a slow reader of a spooled PDF.

use super::*;

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
