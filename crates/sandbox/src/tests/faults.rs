use std::io::Read;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{authed, call, call_with_fault, fetch, send, start, TOKEN};
use crate::customer_gen::FIXTURE_DETAIL;
use crate::{Fault, FIXTURE_CUSTOMER_ID};

fn detail() -> String {
    format!("/api/v1/customer/customer/{FIXTURE_CUSTOMER_ID}")
}

#[tokio::test]
async fn status_fault_answers_an_error_envelope_without_processing() {
    let sb = start().await;
    let answer = call_with_fault(&sb, Method::GET, &detail(), "status=503").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json()["status"], false);
    assert_eq!(answer.headers["retry-after"], "1");

    let body =
        serde_json::to_vec(&json!({"customer_id": FIXTURE_CUSTOMER_ID, "description": "changed"}))
            .expect("json");
    let request = authed(&sb, Method::PATCH, "/api/v1/customer/update", &body)
        .header("x-sandbox-fault", "status=500")
        .body(Full::new(Bytes::from(body)))
        .expect("req");
    assert_eq!(
        fetch(request).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        call(&sb, Method::GET, &detail(), b"").await.body,
        FIXTURE_DETAIL.as_bytes()
    );
    assert_eq!(sb.state().request_count("customer_update"), 1);
}

#[tokio::test]
async fn content_encodings_decode_to_the_normal_body() {
    let sb = start().await;
    for (spec, header) in [("gzip", "gzip"), ("deflate", "deflate"), ("br", "br")] {
        let answer = call_with_fault(&sb, Method::GET, &detail(), spec).await;
        assert_eq!(answer.headers["content-encoding"], header);
        assert_eq!(
            answer.headers["content-length"],
            answer.body.len().to_string().as_str()
        );
        let mut decoded = Vec::new();
        let data = &answer.body[..];
        match spec {
            "gzip" => flate2::read::GzDecoder::new(data).read_to_end(&mut decoded),
            "deflate" => flate2::read::ZlibDecoder::new(data).read_to_end(&mut decoded),
            _ => brotli::Decompressor::new(data, 4096).read_to_end(&mut decoded),
        }
        .expect("decodes");
        assert_eq!(decoded, FIXTURE_DETAIL.as_bytes(), "{spec}");
    }
    // A streamed body is encoded on the fly.
    let memo = call_with_fault(
        &sb,
        Method::GET,
        "/api/v1/payin/memo/p1?size=100000",
        "gzip",
    )
    .await;
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&memo.body[..])
        .read_to_end(&mut decoded)
        .expect("decodes");
    assert_eq!(decoded.len(), 100_000);
    assert!(decoded.starts_with(b"%PDF-1.4"));
}

#[tokio::test]
async fn reset_drops_the_connection_but_counts_the_request() {
    let sb = start().await;
    let request = authed(&sb, Method::GET, &detail(), b"")
        .header("x-sandbox-fault", "reset")
        .body(Full::default())
        .expect("req");
    assert!(send(request).await.is_err());
    assert_eq!(sb.state().request_count("customer_detail"), 1);
    // The sandbox itself is unharmed.
    assert_eq!(
        call(&sb, Method::GET, &detail(), b"").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn reset_mid_body_sends_the_head_then_aborts() {
    let sb = start().await;
    let request = authed(&sb, Method::GET, &detail(), b"")
        .header("x-sandbox-fault", "reset_mid_body")
        .body(Full::default())
        .expect("req");
    let response = send(request).await.expect("head arrives");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.into_body().collect().await.is_err());
}

#[tokio::test]
async fn truncated_json_is_half_the_body_with_a_matching_length() {
    let sb = start().await;
    let answer = call_with_fault(&sb, Method::GET, &detail(), "truncated_json").await;
    let half = FIXTURE_DETAIL.len() / 2;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, FIXTURE_DETAIL.as_bytes()[..half]);
    assert_eq!(answer.headers["content-length"], half.to_string().as_str());
    assert!(serde_json::from_slice::<Value>(&answer.body).is_err());
}

#[tokio::test]
async fn hostile_bodies_and_headers() {
    let sb = start().await;
    let malformed = call_with_fault(&sb, Method::GET, &detail(), "malformed_json").await;
    assert!(malformed.headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/json"));
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());

    let non_utf8 = call_with_fault(&sb, Method::GET, &detail(), "non_utf8").await;
    assert!(std::str::from_utf8(&non_utf8.body).is_err());

    let deep = call_with_fault(&sb, Method::GET, &detail(), "deep=50").await;
    assert!(deep.json()["data"]["d"]["d"].is_object());

    let oversized = call_with_fault(&sb, Method::GET, &detail(), "oversized=200000").await;
    assert_eq!(oversized.body.len(), 200_000);
    assert!(oversized.json()["data"]["items"][0]["customer_id"].is_string());

    let plain = call_with_fault(&sb, Method::GET, &detail(), "wrong_content_type,no_store").await;
    assert!(plain.headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/plain"));
    assert_eq!(plain.headers["cache-control"], "no-store");
    assert_eq!(plain.body, FIXTURE_DETAIL.as_bytes());

    let private = call_with_fault(&sb, Method::GET, &detail(), "private").await;
    assert_eq!(private.headers["cache-control"], "private");

    let bogus = call_with_fault(&sb, Method::GET, &detail(), "bogus_encoding").await;
    assert_eq!(bogus.headers["content-encoding"], "x-unknown");

    let unknown = call_with_fault(&sb, Method::GET, &detail(), "explode").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json()["status"], false);
}

#[tokio::test]
async fn delay_and_slow_body_take_their_time() {
    let sb = start().await;
    let started = Instant::now();
    let delayed = call_with_fault(&sb, Method::GET, &detail(), "delay=200ms").await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(delayed.body, FIXTURE_DETAIL.as_bytes());

    let request = authed(&sb, Method::GET, &detail(), b"")
        .header("x-sandbox-fault", "slow_body=400ms")
        .body(Full::default())
        .expect("req");
    let response = send(request).await.expect("head");
    // The head comes first; the body then trickles for about 400 ms.
    let head_arrived = Instant::now();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let trickled = head_arrived.elapsed();
    assert!(
        trickled >= Duration::from_millis(300),
        "body took {trickled:?}"
    );
    assert_eq!(body, FIXTURE_DETAIL.as_bytes());
}

#[tokio::test]
async fn silence_holds_the_request_until_the_client_leaves() {
    let sb = start().await;
    let mut stream = TcpStream::connect(sb.local_addr()).await.expect("connect");
    let request = format!(
        "GET {} HTTP/1.1\r\nhost: localhost\r\nx-token: {TOKEN}\r\nx-sandbox-fault: silence\r\n\r\n",
        detail()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
    assert!(read.is_err(), "silence answered");
    assert_eq!(sb.state().request_count("customer_detail"), 1);

    // Once the client hangs up, nothing is left to drain: shutdown is quick, not the 2 s drain cap.
    drop(stream);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    sb.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn dropping_the_sandbox_stops_it() {
    let sb = start().await;
    let addr = sb.local_addr();
    drop(sb);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn global_fault_applies_until_cleared_and_header_wins() {
    let sb = start().await;
    let admin = |spec: &'static str| {
        Request::post(format!("{}/__sandbox/fault", sb.base_url()))
            .body(Full::new(Bytes::from_static(spec.as_bytes())))
            .expect("req")
    };
    let set = fetch(admin("status=429")).await;
    assert_eq!(set.json()["data"]["fault"], "status=429");
    assert_eq!(sb.state().fault(), Some(Fault::Status(429)));
    assert_eq!(
        call(&sb, Method::GET, &detail(), b"").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call_with_fault(&sb, Method::GET, &detail(), "status=502")
            .await
            .status,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        call_with_fault(&sb, Method::GET, &detail(), "")
            .await
            .status,
        StatusCode::OK
    );

    assert_eq!(
        fetch(admin("nonsense")).await.status,
        StatusCode::BAD_REQUEST
    );
    fetch(admin("")).await;
    assert_eq!(
        call(&sb, Method::GET, &detail(), b"").await.status,
        StatusCode::OK
    );

    // A global reset must not lock the admin endpoint out.
    sb.state().set_fault(Some("reset".parse().expect("spec")));
    assert_eq!(fetch(admin("")).await.status, StatusCode::OK);
    assert_eq!(sb.state().fault(), None);
}

#[tokio::test]
async fn created_faults_make_the_write_then_lose_its_answer() {
    let sb = start().await;
    let creates = |sb: &crate::Sandbox| sb.state().executed_writes("payin_create");
    let body = br#"{"amount": 10}"#;
    assert_eq!(
        call(&sb, Method::POST, "/api/v1/payin/create", body)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(creates(&sb), 1);
    // Not processed: not counted.
    for spec in ["status=503", "reset"] {
        let request = authed(&sb, Method::POST, "/api/v1/payin/create", body)
            .header("x-sandbox-fault", spec)
            .body(Full::new(Bytes::from_static(body)))
            .expect("req");
        let _ = send(request).await;
    }
    assert_eq!(creates(&sb), 1);
    // Processed, then the answer is lost.
    let request = authed(&sb, Method::POST, "/api/v1/payin/create", body)
        .header("x-sandbox-fault", "created_reset")
        .body(Full::new(Bytes::from_static(body)))
        .expect("req");
    assert!(send(request).await.is_err());
    assert_eq!(creates(&sb), 2);
    let request = authed(&sb, Method::POST, "/api/v1/payin/create", body)
        .header("x-sandbox-fault", "created_silence")
        .body(Full::new(Bytes::from_static(body)))
        .expect("req");
    let silent = tokio::time::timeout(Duration::from_millis(300), send(request)).await;
    assert!(silent.is_err(), "no answer");
    assert_eq!(creates(&sb), 3);
    // Reads are not writes; the admin endpoint shows the same counts.
    call(&sb, Method::GET, &detail(), b"").await;
    let counts = fetch(
        Request::get(format!("{}/__sandbox/creates", sb.base_url()))
            .body(Full::default())
            .expect("req"),
    )
    .await
    .json();
    assert_eq!(counts["data"]["payin_create"], 3);
    assert_eq!(counts["data"]["all"], 3);
}
