//! Hostile HTTP/2 clients: streams past the concurrency limit, rapid-reset bursts, and
//! multiplexing past the limit.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::common::h2::{self, frame, read_frame, GOAWAY, HEADERS};
use crate::common::*;

const RST_STREAM: u8 = 0x3;
const REFUSED_STREAM: u32 = 0x7;
const CANCEL: u32 = 0x8;
const ENHANCE_YOUR_CALM: u32 = 0xb;

fn get_headers(stream: u32, path: &str, fault: &str) -> Vec<u8> {
    h2::get_headers(
        stream,
        path,
        &[("x-token", CLIENT_KEY), ("x-sandbox-fault", fault)],
    )
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[tokio::test]
async fn h2_streams_beyond_max_concurrent_are_refused_and_never_forwarded() {
    let app = spawn_app_overlay("[server]\nhttp2_max_concurrent_streams = 8").await;
    let mut s = h2::connect(app.addr).await;
    let ids: Vec<u32> = (0..20).map(|i| 1 + 2 * i).collect();
    let mut burst = Vec::new();
    for id in &ids {
        burst.extend(get_headers(
            *id,
            &format!("/api/v1/anything/h2-{id}"),
            "delay=400ms",
        ));
    }
    s.write_all(&burst).await.unwrap();
    let (mut answered, mut refused) = (Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while answered.len() + refused.len() < ids.len() {
        let f = tokio::time::timeout_at(deadline, read_frame(&mut s))
            .await
            .expect("every stream resolves")
            .expect("open");
        match f.kind {
            // `:status: 200` is HPACK static entry 8.
            HEADERS => {
                assert_eq!(
                    f.payload.first(),
                    Some(&0x88),
                    "stream {} answered 200",
                    f.stream
                );
                answered.push(f.stream);
            }
            RST_STREAM => {
                assert_eq!(u32_at(&f.payload, 0), REFUSED_STREAM, "stream {}", f.stream);
                refused.push(f.stream);
            }
            GOAWAY => panic!("connection closed: error {}", u32_at(&f.payload, 4)),
            _ => {}
        }
    }
    assert_eq!(
        answered.len(),
        8,
        "answered {answered:?}, refused {refused:?}"
    );
    assert_eq!(refused.len(), 12);
    assert_eq!(
        app.state().request_count("echo"),
        8,
        "upstream never saw more than the limit"
    );
    // The connection is still usable for a stream inside the limit.
    s.write_all(&get_headers(41, "/api/v1/anything/h2-after", ""))
        .await
        .unwrap();
    let f = loop {
        let f = tokio::time::timeout(Duration::from_secs(5), read_frame(&mut s))
            .await
            .unwrap()
            .unwrap();
        if f.stream == 41 && f.kind == HEADERS {
            break f;
        }
    };
    assert_eq!(f.payload.first(), Some(&0x88));
    app.stop().await;
}

#[tokio::test]
async fn h2_rapid_reset_burst_gets_goaway_enhance_your_calm() {
    let app = spawn_app_overlay("[server]\nhttp2_max_pending_accept_reset_streams = 10").await;
    let mut s = h2::connect(app.addr).await;
    let mut burst = Vec::new();
    for i in 0..200u32 {
        let id = 1 + 2 * i;
        burst.extend(get_headers(id, "/api/v1/anything/rapid", "delay=200ms"));
        burst.extend(frame(RST_STREAM, 0, id, &CANCEL.to_be_bytes()));
    }
    let _ = s.write_all(&burst).await;
    let goaway = loop {
        match tokio::time::timeout(Duration::from_secs(5), read_frame(&mut s))
            .await
            .expect("answer within 5 s")
        {
            Some(f) if f.kind == GOAWAY => break Some(f),
            Some(_) => continue,
            None => break None,
        }
    };
    let goaway = goaway.expect("a GOAWAY before the connection closed");
    assert_eq!(u32_at(&goaway.payload, 4), ENHANCE_YOUR_CALM);
    let forwarded = app.state().request_count("echo");
    assert!(
        forwarded < 200,
        "the burst was cut short, {forwarded} forwarded"
    );
    // Other clients are unaffected.
    assert_eq!(app.get("/api/v1/anything/after").await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn h2_client_multiplexing_past_the_limit_is_queued_not_dropped() {
    // A conforming client honours SETTINGS_MAX_CONCURRENT_STREAMS once it has read the
    // server's SETTINGS: requests past the limit wait on the client side. (Streams opened
    // before that are refused with REFUSED_STREAM, which a client may safely retry.)
    let app = spawn_app_overlay("[server]\nhttp2_max_concurrent_streams = 8").await;
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(app.addr).await.unwrap());
    let (sender, conn) = hyper::client::conn::http2::handshake::<_, _, Empty<Bytes>>(
        hyper_util::rt::TokioExecutor::new(),
        io,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let get = |uri: String| {
        http::Request::get(uri)
            .header("x-token", CLIENT_KEY)
            .header("x-sandbox-fault", "delay=200ms")
            .body(Empty::<Bytes>::new())
            .unwrap()
    };
    let mut first = sender.clone();
    let warm = first
        .send_request(get(format!("http://{}/api/v1/anything/mux-warm", app.addr)))
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let mut sender = sender.clone();
        let uri = format!("http://{}/api/v1/anything/mux-{i}", app.addr);
        let req = get(uri);
        tasks.push(tokio::spawn(async move {
            sender.ready().await.unwrap();
            let resp = sender.send_request(req).await.unwrap();
            let status = resp.status();
            resp.into_body().collect().await.unwrap();
            status
        }));
    }
    for t in tasks {
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(20), t)
                .await
                .unwrap()
                .unwrap(),
            200
        );
    }
    // 40 requests, at most 8 at a time, each held 200 ms upstream: at least 5 waves.
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.state().request_count("echo"), 41);
    app.stop().await;
}
