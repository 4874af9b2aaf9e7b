//! Limits, timeouts and their envelopes; draining on shutdown.

use std::time::Duration;

use http::Method;

use crate::common::*;

#[tokio::test]
async fn oversized_body_is_413_and_not_forwarded() {
    let app = spawn_app_overlay("[server]\nmax_request_body_bytes = 1024").await;
    let big = vec![b'a'; 4096];
    let r = app
        .send(Method::POST, "/api/v1/anything/big", &[], &big)
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.error_code(), "PAYLOAD_TOO_LARGE");
    // Chunked (no Content-Length): still refused while reading.
    let mut req = format!(
        "POST /api/v1/anything/big HTTP/1.1\r\nHost: x\r\nX-token: {CLIENT_KEY}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..4 {
        req.extend_from_slice(b"400\r\n");
        req.extend_from_slice(&[b'a'; 1024]);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let out = raw_exchange(app.addr, &req).await;
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    assert_eq!(app.state().request_count("all"), 0);
    app.stop().await;
}

#[tokio::test]
async fn oversized_headers_are_431_in_the_envelope() {
    let app = spawn_app_overlay("[server]\nmax_header_bytes = 2048").await;
    let big = "v".repeat(3000);
    let r = app
        .send(Method::GET, "/api/v1/anything/h", &[("x-big", &big)], b"")
        .await;
    assert_eq!(r.status, 431);
    assert_eq!(r.error_code(), "HEADERS_TOO_LARGE");
    assert_eq!(app.state().request_count("all"), 0);
    app.stop().await;
}

#[tokio::test]
async fn refused_upstream_connection_is_502() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = spawn_app_with(Options {
        upstream_override: Some(format!("http://127.0.0.1:{port}")),
        ..Options::default()
    })
    .await;
    let r = app.get("/api/v1/anything/refused").await;
    assert_eq!(r.status, 502);
    assert_eq!(r.error_code(), "UPSTREAM_UNREACHABLE");
    assert!(!r.text().contains(&port.to_string()), "no internals leak");
    let scrape = app.metrics().await;
    // A GET is retried on connect errors: 1 attempt + upstream.retry.max_retries (2).
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_requests_total",
            &[("outcome", "connect_error")]
        ),
        Some(3.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn slow_upstream_is_504_within_the_deadline() {
    let app =
        spawn_app_overlay("[upstream]\ntimeout = \"300ms\"\nconnect_timeout = \"200ms\"").await;
    let started = std::time::Instant::now();
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/slow",
            &[("x-sandbox-fault", "delay=3s")],
            b"",
        )
        .await;
    assert_eq!(r.status, 504);
    assert_eq!(r.error_code(), "UPSTREAM_TIMEOUT");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrency_cap_is_503_with_retry_after() {
    let app = spawn_app_overlay("[upstream]\nmax_concurrent_requests = 1").await;
    let slow = app.spawn_get("/api/v1/anything/slow", "delay=1s");
    assert!(app.upstream_received(1).await);
    let r = app.get("/api/v1/anything/second").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.error_code(), "GATEWAY_OVERLOADED");
    assert_eq!(r.header("retry-after"), "1");
    let scrape = app.metrics().await;
    let overloaded = [("route", "other"), ("outcome", "overloaded")];
    assert_eq!(
        sample(&scrape, "gateway_upstream_requests_total", &overloaded),
        Some(1.0)
    );
    assert_eq!(slow.await.unwrap().status, 200);
    // The slot is free again.
    assert_eq!(app.get("/api/v1/anything/third").await.status, 200);
    assert_eq!(
        app.state().request_count("all"),
        2,
        "the refused request never went upstream"
    );
    app.stop().await;
}

#[tokio::test]
async fn in_flight_request_completes_across_shutdown_and_readyz_turns_503() {
    let mut app = spawn_app().await;
    let ready = app.admin(Method::GET, "/readyz", &[]).await;
    assert_eq!(ready.status, 200);
    let slow = app.spawn_get("/api/v1/anything/slow", "delay=1s");
    assert!(app.upstream_received(1).await);
    let stopping = app.begin_stop();
    let drained_ready = app.admin(Method::GET, "/readyz", &[]).await;
    assert_eq!(drained_ready.status, 503, "not ready while draining");
    let r = slow.await.unwrap();
    assert_eq!(
        r.status,
        200,
        "the in-flight request finished: {}",
        r.text()
    );
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // New connections are refused once stopped.
    assert!(tokio::net::TcpStream::connect(app.addr).await.is_err());
}

#[tokio::test]
async fn sigterm_on_the_binary_drains_and_exits_zero() {
    use std::process::{Command, Stdio};
    let sandbox = crate::common::process::demo_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = paycombat_sandbox::SandboxConfig::demo();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args([
            "serve",
            "--config-dir",
            "/nonexistent",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .env_remove("GATEWAY_ENV")
        .envs(process::gateway_env(&sandbox.base_url(), &cfg, dir.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let url = format!("http://127.0.0.1:{port}/api/v1/anything/slow");
    let up = eventually(Duration::from_secs(10), || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    assert!(up, "gateway started");
    let slow = tokio::spawn(async move {
        request(
            &client,
            Method::GET,
            &url,
            &[("x-sandbox-fault", "delay=1500ms")],
            b"",
        )
        .await
    });
    let state = sandbox.state();
    assert!(
        eventually(Duration::from_secs(5), || async {
            state.request_count("all") == 1
        })
        .await
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let r = slow.await.unwrap();
    assert_eq!(r.status, 200, "accepted request finished across SIGTERM");
    let code = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.code(), Some(0));
    sandbox.shutdown().await;
}
