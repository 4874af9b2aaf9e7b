//! A request is recorded exactly once, however it ends: answered, abandoned by
//! its client (HTTP/1.1 close, h2 RST_STREAM, h2 connection close) or cut off
//! by the gateway (drain deadline, write-stall watchdog). Real sockets on both sides; the sandbox
//! holds each request with its `delay` fault.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::h2::{self, frame, get_headers, read_frame, HEADERS};
use crate::common::*;

const RST_STREAM: u8 = 0x3;
const CANCEL: u32 = 0x8;

fn inflight(scrape: &str) -> f64 {
    value(scrape, "gateway_inflight_requests", &[])
}

fn abandoned(scrape: &str, reason: &str, phase: &str) -> f64 {
    value(
        scrape,
        "gateway_requests_abandoned_total",
        &[("reason", reason), ("phase", phase)],
    )
}

fn requests(scrape: &str, class: &str) -> f64 {
    value(scrape, "gateway_requests_total", &[("status_class", class)])
}

/// Waits until the gauge shows `n` requests in flight.
async fn inflight_reaches(app: &TestApp, n: f64) -> bool {
    eventually(Duration::from_secs(10), || async {
        inflight(&app.metrics_now()) == n
    })
    .await
}

/// The access log's lines, parsed.
fn access_lines(app: &TestApp) -> Vec<serde_json::Value> {
    std::fs::read_to_string(app.path("access.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Stops the gateway (the drain writes every queued line) and returns its access log.
async fn stop_and_read(mut app: TestApp) -> (Vec<serde_json::Value>, String) {
    tokio::time::timeout(Duration::from_secs(15), app.begin_stop())
        .await
        .expect("gateway stops")
        .unwrap()
        .unwrap();
    (access_lines(&app), app.metrics_now())
}

fn h1_head(path: &str, fault: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: gateway\r\nx-token: {CLIENT_KEY}\r\n\
         x-sandbox-fault: {fault}\r\n\r\n"
    )
    .into_bytes()
}

fn assert_one_line(lines: &[serde_json::Value], status: u64, reason: &str) {
    let matching: Vec<_> = lines.iter().filter(|l| l["status"] == status).collect();
    assert_eq!(matching.len(), 1, "one {status} line: {lines:#?}");
    assert_eq!(matching[0]["reason"], reason, "{lines:#?}");
}

#[tokio::test]
async fn an_http1_client_that_hangs_up_is_recorded_once_as_499() {
    let app = spawn_app().await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(&h1_head("/api/v1/anything/hangup", "delay=20s"))
        .await
        .unwrap();
    assert!(app.upstream_received(1).await);
    assert!(inflight_reaches(&app, 1.0).await);
    drop(s);
    assert!(
        inflight_reaches(&app, 0.0).await,
        "the gauge comes back down"
    );
    let m = app.metrics_now();
    assert_eq!(abandoned(&m, "client_closed", "waiting"), 1.0, "{m}");
    assert_eq!(requests(&m, "4xx"), 1.0);
    assert_eq!(sample(&m, "gateway_requests_total", &[]), Some(1.0));
    let (lines, m) = stop_and_read(app).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_one_line(&lines, 499, "client_closed");
    assert!(lines[0].get("bytes_out").is_none(), "no answer was sent");
    assert_eq!(
        sample(&m, "gateway_requests_total", &[]),
        Some(1.0),
        "still once"
    );
}

#[tokio::test]
async fn an_h2_stream_reset_and_an_h2_connection_close_are_each_recorded_once() {
    let app = spawn_app().await;
    let key = [("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=20s")];
    let mut s = h2::connect(app.addr).await;
    s.write_all(&get_headers(1, "/api/v1/anything/reset", &key))
        .await
        .unwrap();
    assert!(inflight_reaches(&app, 1.0).await);
    s.write_all(&frame(RST_STREAM, 0, 1, &CANCEL.to_be_bytes()))
        .await
        .unwrap();
    assert!(inflight_reaches(&app, 0.0).await);
    let m = app.metrics_now();
    assert_eq!(abandoned(&m, "stream_reset", "waiting"), 1.0, "{m}");
    assert_eq!(abandoned(&m, "client_closed", "waiting"), 0.0);

    // The connection is still up: a request on it is answered, once.
    let plain = [("x-token", CLIENT_KEY)];
    s.write_all(&get_headers(3, "/api/v1/anything/after", &plain))
        .await
        .unwrap();
    let answered = loop {
        let f = tokio::time::timeout(Duration::from_secs(5), read_frame(&mut s))
            .await
            .expect("an answer")
            .expect("connection open");
        if f.stream == 3 && f.kind == HEADERS {
            break f;
        }
    };
    assert_eq!(answered.payload.first(), Some(&0x88), "200");

    // Then a stream still waiting when the client closes the whole connection.
    s.write_all(&get_headers(5, "/api/v1/anything/close", &key))
        .await
        .unwrap();
    assert!(inflight_reaches(&app, 1.0).await);
    drop(s);
    assert!(inflight_reaches(&app, 0.0).await);
    let m = app.metrics_now();
    assert_eq!(abandoned(&m, "client_closed", "waiting"), 1.0, "{m}");
    assert_eq!(abandoned(&m, "stream_reset", "waiting"), 1.0);
    assert_eq!(requests(&m, "4xx"), 2.0);
    assert_eq!(requests(&m, "2xx"), 1.0);

    let (lines, _) = stop_and_read(app).await;
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let reasons: Vec<_> = lines
        .iter()
        .map(|l| (l["status"].as_u64(), l["reason"].as_str()))
        .collect();
    for expected in [
        (Some(499), Some("stream_reset")),
        (Some(200), None),
        (Some(499), Some("client_closed")),
    ] {
        assert_eq!(
            reasons.iter().filter(|r| **r == expected).count(),
            1,
            "{expected:?} in {reasons:?}"
        );
    }
}

#[tokio::test]
async fn a_client_that_leaves_during_the_body_keeps_its_status_with_the_reason() {
    let app = spawn_app().await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(&h1_head(
        "/api/v1/payin/memo/p-9?size=200000",
        "slow_body=20s",
    ))
    .await
    .unwrap();
    // A streamed PDF memo: the head arrives at once, the body trickles.
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("the head")
            .unwrap();
        assert!(n > 0, "closed before the head");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    assert_eq!(inflight(&app.metrics_now()), 1.0, "still sending the body");
    drop(s);
    assert!(inflight_reaches(&app, 0.0).await);
    let m = app.metrics_now();
    assert_eq!(abandoned(&m, "client_closed", "body"), 1.0, "{m}");
    assert_eq!(requests(&m, "2xx"), 1.0, "the client had its 200");
    let (lines, _) = stop_and_read(app).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_one_line(&lines, 200, "client_closed");
}

#[tokio::test]
async fn a_body_that_breaks_off_upstream_is_the_gateways_cut_off() {
    let app = spawn_app().await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(&h1_head(
        "/api/v1/payin/memo/p-8?size=200000",
        "reset_mid_body",
    ))
    .await
    .unwrap();
    // The head and part of the body, then the connection is cut.
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got)).await;
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got[..got.len().min(200)])
    );
    assert!(inflight_reaches(&app, 0.0).await);
    let m = app.metrics_now();
    assert_eq!(abandoned(&m, "body_error", "body"), 1.0, "{m}");
    assert_eq!(
        abandoned(&m, "client_closed", "body"),
        0.0,
        "not blamed on the client"
    );
    let (lines, _) = stop_and_read(app).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_one_line(&lines, 200, "body_error");
    let sent = lines[0]["bytes_out"].as_u64().unwrap();
    assert!(sent > 0 && sent < 200_000, "{sent} bytes handed over");
}

#[tokio::test]
async fn the_drain_deadline_cuts_requests_off_as_the_gateways_doing() {
    let app = spawn_app_overlay("[server]\ndrain_timeout = \"300ms\"").await;
    let mut h1 = TcpStream::connect(app.addr).await.unwrap();
    h1.write_all(&h1_head("/api/v1/anything/drain1", "delay=20s"))
        .await
        .unwrap();
    let key = [("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=20s")];
    let mut h2c = h2::connect(app.addr).await;
    h2c.write_all(&get_headers(1, "/api/v1/anything/drain2", &key))
        .await
        .unwrap();
    assert!(inflight_reaches(&app, 2.0).await);

    let (lines, m) = stop_and_read(app).await;
    assert_eq!(inflight(&m), 0.0, "{m}");
    assert_eq!(abandoned(&m, "drain_deadline", "waiting"), 2.0, "{m}");
    assert_eq!(
        abandoned(&m, "client_closed", "waiting"),
        0.0,
        "not blamed on the client"
    );
    assert_eq!(requests(&m, "5xx"), 2.0);
    assert_eq!(sample(&m, "gateway_requests_total", &[]), Some(2.0));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for l in &lines {
        assert_eq!(l["status"], 503, "{l}");
        assert_eq!(l["reason"], "drain_deadline", "{l}");
    }
    drop((h1, h2c));
}

#[tokio::test]
async fn the_write_stall_watchdog_cuts_requests_off_as_the_gateways_doing() {
    // One h2 stream whose large body the client never makes room for, and one
    // still waiting on paycombat: the watchdog drops the connection, and both
    // are the gateway's cut-off, not the client's hang-up.
    let app = spawn_app_overlay(
        "[server]\nresponse_write_timeout = \"600ms\"\n[upstream]\ntimeout = \"30s\"",
    )
    .await;
    let mut s = h2::connect(app.addr).await;
    let big = [
        ("x-token", CLIENT_KEY),
        ("x-sandbox-fault", "oversized=1000000"),
    ];
    s.write_all(&get_headers(1, "/api/v1/anything/stall", &big))
        .await
        .unwrap();
    let slow = [("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=20s")];
    s.write_all(&get_headers(3, "/api/v1/anything/waiting", &slow))
        .await
        .unwrap();
    let stalled = eventually(Duration::from_secs(20), || async {
        sample(
            &app.metrics_now(),
            "gateway_connections_closed_total",
            &[("listener", "api"), ("reason", "write_stall")],
        ) == Some(1.0)
    })
    .await;
    assert!(stalled, "{}", app.metrics_now());
    assert!(inflight_reaches(&app, 0.0).await);
    let m = app.metrics_now();
    assert_eq!(abandoned(&m, "write_timeout", "body"), 1.0, "{m}");
    assert_eq!(abandoned(&m, "write_timeout", "waiting"), 1.0, "{m}");
    assert_eq!(abandoned(&m, "client_closed", "waiting"), 0.0);
    assert_eq!(abandoned(&m, "stream_reset", "waiting"), 0.0);
    assert_eq!(requests(&m, "2xx"), 1.0, "the stalled body's head was sent");
    assert_eq!(
        requests(&m, "5xx"),
        1.0,
        "the waiting request got no answer"
    );
    drop(s);
    let (lines, _) = stop_and_read(app).await;
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_one_line(&lines, 200, "write_timeout");
    assert_one_line(&lines, 503, "write_timeout");
}

#[tokio::test]
async fn an_answered_request_is_recorded_once_without_a_reason() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/anything/plain").await;
    assert_eq!(r.status, 200);
    assert!(inflight_reaches(&app, 0.0).await);
    let m = app.metrics_now();
    for cause in [
        "client_closed",
        "stream_reset",
        "write_timeout",
        "drain_deadline",
        "body_error",
        "panicked",
    ] {
        for phase in ["waiting", "body"] {
            assert_eq!(abandoned(&m, cause, phase), 0.0, "{cause} {phase}");
        }
    }
    let (lines, _) = stop_and_read(app).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].get("reason").is_none(), "{:?}", lines[0]);
    assert_eq!(lines[0]["bytes_out"].as_u64(), Some(r.body.len() as u64));
}

#[tokio::test]
async fn an_abandoned_request_closes_its_span_with_the_reason() {
    let rx = crate::common::otlp::Receiver::start().await;
    let app = spawn_app_overlay(&rx.overlay("")).await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "GET /api/v1/anything/traced HTTP/1.1\r\nHost: gateway\r\nx-token: {CLIENT_KEY}\r\n\
         x-sandbox-fault: delay=20s\r\ntraceparent: 00-{trace}-00f067aa0ba902b7-01\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    assert!(inflight_reaches(&app, 1.0).await);
    drop(s);
    assert!(inflight_reaches(&app, 0.0).await);
    let spans = rx.trace_with(trace, "GET other", 1).await;
    let root = spans
        .iter()
        .find(|s| s.name == "GET other")
        .unwrap_or_else(|| panic!("the request's span was exported: {spans:#?}"));
    assert_eq!(
        root.attr("gateway.ended"),
        Some("client_closed"),
        "{root:?}"
    );
    assert_eq!(root.attr("http.response.status_code"), Some("499"));
    assert_ne!(
        root.status, 2,
        "a client's hang-up is not the gateway's error"
    );
    app.stop().await;
}

/// An upstream answering every request with a PDF in chunked encoding (no
/// Content-Length); stopped by aborting it.
async fn chunked_pdf_upstream() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                if read_request_target(&mut s).await.is_none() {
                    return;
                }
                let mut out = b"HTTP/1.1 200 OK\r\ncontent-type: application/pdf\r\n\
                    transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                    .to_vec();
                for piece in [&b"%PDF-1.7 "[..], &[b'x'; 40_000][..], b" %%EOF"] {
                    out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    out.extend_from_slice(piece);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                let _ = s.write_all(&out).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn a_passthrough_body_of_unknown_length_read_whole_is_answered() {
    let (upstream, task) = chunked_pdf_upstream().await;
    let app = spawn_app_with(Options {
        upstream_override: Some(upstream),
        ..Options::default()
    })
    .await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        format!(
            "GET /api/v1/payin/memo/p-9 HTTP/1.1\r\nHost: gateway\r\n\
             x-token: {CLIENT_KEY}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got))
        .await
        .expect("answered")
        .unwrap();
    let text = String::from_utf8_lossy(&got).to_lowercase();
    assert!(
        text.starts_with("http/1.1 200"),
        "{}",
        &text[..text.len().min(400)]
    );
    assert!(
        text.contains("transfer-encoding: chunked"),
        "{}",
        &text[..400]
    );
    assert!(text.trim_end().ends_with("0"), "the last chunk arrived");
    assert!(inflight_reaches(&app, 0.0).await);
    let m = app.metrics_now();
    for cause in ["client_closed", "stream_reset", "body_error"] {
        assert_eq!(abandoned(&m, cause, "body"), 0.0, "{cause}: {m}");
    }
    let (lines, _) = stop_and_read(app).await;
    task.abort();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].get("reason").is_none(), "{:?}", lines[0]);
    assert_eq!(lines[0]["bytes_out"].as_u64(), Some(40_015));
}
