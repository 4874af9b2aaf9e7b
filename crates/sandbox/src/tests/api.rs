use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{authed, call, detail_path, fetch, ready_path, send, start, KEY, TOKEN};
use crate::customer_gen::{sequence_id, FIXTURE_DETAIL, FIXTURE_WALLET_READY};
use crate::{signature, FIXTURE_CUSTOMER_ID};

#[tokio::test]
async fn authentication_rules() {
    let sb = start().await;
    let path = detail_path(FIXTURE_CUSTOMER_ID);

    let no_token = fetch(
        Request::get(format!("{}{path}", sb.base_url()))
            .body(Full::default())
            .expect("req"),
    )
    .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_token.json()["status"], false);

    let wrong = fetch(
        Request::get(format!("{}{path}", sb.base_url()))
            .header("x-token", "snd_wrong")
            .body(Full::default())
            .expect("req"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["data"], Value::Null);

    let body = br#"{"type":"individual","description":"x"}"#;
    let unsigned = fetch(
        Request::post(format!("{}/api/v1/customer/create", sb.base_url()))
            .header("x-token", TOKEN)
            .body(Full::new(Bytes::from_static(body)))
            .expect("req"),
    )
    .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    assert!(unsigned.json()["message"]
        .as_str()
        .unwrap_or_default()
        .contains("missing signature"));

    let badly_signed = fetch(
        Request::post(format!("{}/api/v1/customer/create", sb.base_url()))
            .header("x-token", TOKEN)
            .header("signature", signature(b"other-key", body))
            .body(Full::new(Bytes::from_static(body)))
            .expect("req"),
    )
    .await;
    assert_eq!(badly_signed.status, StatusCode::UNAUTHORIZED);
    assert!(badly_signed.json()["message"]
        .as_str()
        .unwrap_or_default()
        .contains("invalid signature"));

    let good = call(&sb, Method::POST, "/api/v1/customer/create", body).await;
    assert_eq!(good.status, StatusCode::OK);
    assert_eq!(
        call(&sb, Method::GET, &path, b"").await.status,
        StatusCode::OK
    );

    // Rotated credentials: the old ones stop working.
    sb.state().set_token("snd_rotated");
    assert_eq!(
        call(&sb, Method::GET, &path, b"").await.status,
        StatusCode::UNAUTHORIZED
    );
    sb.state().set_token(TOKEN);
    sb.state().set_signature_key(b"rotated-key");
    assert_eq!(
        call(&sb, Method::POST, "/api/v1/customer/create", body)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    sb.state().set_signature_key(KEY);
    assert_eq!(
        call(&sb, Method::POST, "/api/v1/customer/create", body)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn fixture_customer_is_served_verbatim() {
    let sb = start().await;
    let detail = call(&sb, Method::GET, &detail_path(FIXTURE_CUSTOMER_ID), b"").await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body, FIXTURE_DETAIL.as_bytes());
    assert!(detail.headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/json"));
    let ready = call(&sb, Method::GET, &ready_path(FIXTURE_CUSTOMER_ID), b"").await;
    assert_eq!(ready.body, FIXTURE_WALLET_READY.as_bytes());
}

#[tokio::test]
async fn generated_customers_are_deterministic() {
    let sb = start().await;
    let a = sequence_id("api-test", 1);
    let b = sequence_id("api-test", 2);
    let first = call(&sb, Method::GET, &detail_path(&a), b"").await;
    let again = call(&sb, Method::GET, &detail_path(&a), b"").await;
    let other = call(&sb, Method::GET, &detail_path(&b), b"").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body, again.body);
    assert_ne!(first.body, other.body);
    let data = &first.json()["data"];
    assert_eq!(data["customer_id"], a.as_str());
    let ready = call(&sb, Method::GET, &ready_path(&a), b"").await.json();
    assert_eq!(ready["data"]["is_wallet_ready"], data["is_wallet_ready"]);
}

#[tokio::test]
async fn ill_formed_ids_are_rejected() {
    let sb = start().await;
    for id in [
        "customer_ABC",
        "customer_67D84B19D50B490A8FA75AB20BBF275A",
        "67d84b19d50b490a8fa75ab20bbf275a",
    ] {
        assert_eq!(
            call(&sb, Method::GET, &detail_path(id), b"").await.status,
            StatusCode::BAD_REQUEST,
            "{id}"
        );
        assert_eq!(
            call(&sb, Method::GET, &ready_path(id), b"").await.status,
            StatusCode::BAD_REQUEST,
            "{id}"
        );
    }
    let update = serde_json::to_vec(&json!({"customer_id": "customer_x", "description": "y"}))
        .expect("json");
    assert_eq!(
        call(&sb, Method::PATCH, "/api/v1/customer/update", &update)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn echo_reports_the_request_without_credentials() {
    let sb = start().await;
    let body = br#"{"amount":"10.00"}"#;
    let request = authed(
        &sb,
        Method::POST,
        "/api/v1/payout/create-payout?dry=1",
        body,
    )
    .header("authorization", "Bearer client-secret")
    .header("x-request-id", "rid-1")
    .body(Full::new(Bytes::from_static(body)))
    .expect("req");
    let echo = fetch(request).await;
    assert_eq!(echo.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&echo.body).into_owned();
    assert!(!text.contains(TOKEN));
    assert!(!text.contains(&signature(KEY, body)));
    assert!(!text.contains("client-secret"));
    let data = &echo.json()["data"];
    assert_eq!(data["method"], "POST");
    assert_eq!(data["path"], "/api/v1/payout/create-payout");
    assert_eq!(data["query"], "dry=1");
    assert_eq!(data["body_len"], body.len());
    assert_eq!(data["body_sha256"], hex::encode(Sha256::digest(body)));
    assert_eq!(
        data["headers"]["x-request-id"],
        serde_json::json!(["rid-1"])
    );
    assert!(data["headers"].get("x-token").is_none());

    // The recorder, unlike the echo, keeps credentials for tests to inspect.
    let recorded = sb.state().requests();
    let last = recorded.last().expect("recorded");
    assert_eq!(last.route, "echo");
    assert_eq!(last.headers["x-token"], TOKEN);
    assert_eq!(last.body, &body[..]);
}

#[tokio::test]
async fn counters_count_each_request_once() {
    let sb = start().await;
    let state = sb.state();
    call(&sb, Method::GET, &detail_path(FIXTURE_CUSTOMER_ID), b"").await;
    call(&sb, Method::GET, &ready_path(FIXTURE_CUSTOMER_ID), b"").await;
    call(&sb, Method::GET, &ready_path(FIXTURE_CUSTOMER_ID), b"").await;
    let outside = call(&sb, Method::GET, "/not-the-api", b"").await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    assert_eq!(outside.json()["status"], false);
    assert_eq!(state.request_count("customer_detail"), 1);
    assert_eq!(state.request_count("customer_wallet_ready"), 2);
    assert_eq!(state.request_count("not_found"), 1);
    assert_eq!(state.request_count("all"), 4);

    let counts = fetch(
        Request::get(format!("{}/__sandbox/counts", sb.base_url()))
            .body(Full::default())
            .expect("req"),
    )
    .await;
    assert_eq!(counts.json()["data"]["customer_wallet_ready"], 2);
    assert_eq!(state.request_count("sandbox_admin"), 1);
}

#[tokio::test]
async fn payin_memo_streams_the_requested_size() {
    let sb = start().await;
    let size = 1_000_003;
    let response = send(
        authed(
            &sb,
            Method::GET,
            &format!("/api/v1/payin/memo/payin_42?size={size}"),
            b"",
        )
        .body(Full::default())
        .expect("req"),
    )
    .await
    .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-length"],
        size.to_string().as_str()
    );
    let mut body = response.into_body();
    let mut frames = 0;
    let mut received = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("frame").into_data() {
            frames += 1;
            received.extend_from_slice(&data);
        }
    }
    assert_eq!(received.len(), size);
    assert!(received.starts_with(b"%PDF-1.4"));
    assert!(frames > 1, "the memo arrived in {frames} frame(s)");

    let default = call(&sb, Method::GET, "/api/v1/payin/memo/payin_42", b"").await;
    assert_eq!(default.body.len(), 64 * 1024);
    let too_big = call(
        &sb,
        Method::GET,
        "/api/v1/payin/memo/payin_42?size=67108865",
        b"",
    )
    .await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn passthrough_families_carry_personal_data() {
    let sb = start().await;
    let payin = serde_json::to_vec(&json!({"amount": "12.50", "customer_email": "p@example.com"}))
        .expect("json");
    let created = call(&sb, Method::POST, "/api/v1/payin/create", &payin)
        .await
        .json();
    assert_eq!(created["data"]["customer_email"], "p@example.com");
    assert!(created["data"]["customer_personal_number"].is_string());

    let retrieved = call(
        &sb,
        Method::GET,
        "/api/v1/payin/retrieve-payin/payin_abc",
        b"",
    )
    .await
    .json();
    assert!(retrieved["data"]["customer_full_name"].is_string());
    assert!(retrieved["data"]["payer_id"].is_string());

    let list = call(&sb, Method::GET, "/api/v1/payout/beneficiary?limit=5", b"")
        .await
        .json();
    let items = list["data"]["items"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    assert!(items
        .iter()
        .all(|b| b["iban"].is_string() && b["beneficiary_name"].is_string()));
}

#[tokio::test]
async fn oversized_request_bodies_get_413() {
    let sb = start().await;
    let body = vec![b' '; 8 * 1024 * 1024 + 1];
    let answer = call(&sb, Method::POST, "/api/v1/payin/create", &body).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(sb.state().request_count("payin_create"), 1);
}

#[tokio::test]
async fn h2c_prior_knowledge_is_served() {
    let sb = start().await;
    let stream = tokio::net::TcpStream::connect(sb.local_addr())
        .await
        .expect("connect");
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .expect("h2 handshake");
    tokio::spawn(connection);
    let request = authed(&sb, Method::GET, &detail_path(FIXTURE_CUSTOMER_ID), b"")
        .body(Full::<Bytes>::default())
        .expect("req");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.version(), http::Version::HTTP_2);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(body, FIXTURE_DETAIL.as_bytes());
}
