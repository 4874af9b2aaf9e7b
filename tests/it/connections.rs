//! Connections and slow clients: idle timeouts, the connection cap with
//! shedding of idle connections, request-body and response-write timeouts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::common::h2;
use crate::common::*;

fn closed(scrape: &str, listener: &str, reason: &str) -> Option<f64> {
    sample(
        scrape,
        "gateway_connections_closed_total",
        &[("listener", listener), ("reason", reason)],
    )
}

fn open(scrape: &str, listener: &str) -> f64 {
    value(
        scrape,
        "gateway_connections_open",
        &[("listener", listener)],
    )
}

/// A connection that holds at most a few KiB unread, so a client that stops
/// reading is seen at once instead of after megabytes of kernel buffers.
async fn tight_connect(addr: SocketAddr) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(addr).await.unwrap()
}

/// Reads until the peer closes or `within` passes; true if it closed.
async fn closes_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let end = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(end, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

fn h1_get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: gateway\r\nX-token: {CLIENT_KEY}\r\n{extra}\r\n")
        .into_bytes()
}

/// Reads one whole HTTP/1.1 response with a Content-Length; returns its status.
async fn read_h1_response(s: &mut TcpStream) -> u16 {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("response within 5 s")
            .unwrap();
        assert!(n > 0, "closed before a whole response");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .expect("content-length");
            if got.len() >= end + 4 + len {
                return text[9..12].parse().unwrap();
            }
        }
    }
}

#[tokio::test]
async fn idle_h2c_connection_gets_goaway_at_the_idle_timeout_despite_pings() {
    let app = spawn_app_overlay("[server]\nidle_timeout = \"600ms\"").await;
    let mut s = h2::connect(app.addr).await;
    // A keyless request: a 401 is enough to make the connection "used".
    s.write_all(&h2::get_headers(1, "/api/v1/anything/idle", &[]))
        .await
        .unwrap();
    let started = Instant::now();
    let mut answered = None;
    let mut goaway = None;
    let mut pinger = tokio::time::interval(Duration::from_millis(100));
    let give_up = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(give_up);
    let closed_at = loop {
        tokio::select! {
            f = h2::read_frame(&mut s) => match f {
                None => break started.elapsed(),
                Some(f) if f.kind == h2::HEADERS && f.stream == 1 => answered = Some(started.elapsed()),
                Some(f) if f.kind == h2::GOAWAY => goaway = Some(started.elapsed()),
                Some(f) if f.kind == h2::PING && f.flags & 0x1 == 0 => {
                    let _ = s.write_all(&h2::frame(h2::PING, 0x1, 0, &f.payload)).await;
                }
                Some(_) => {}
            },
            _ = pinger.tick() => {
                // A client keeping the connection warm with PINGs of its own.
                let _ = s.write_all(&h2::frame(h2::PING, 0, 0, &[0u8; 8])).await;
            }
            () = &mut give_up => panic!("still open after 5 s"),
        }
    };
    let answered = answered.expect("the request was answered");
    let goaway = goaway.expect("a GOAWAY before the close");
    assert!(
        goaway >= answered + Duration::from_millis(500),
        "GOAWAY too early: {goaway:?} (answered {answered:?})"
    );
    assert!(
        closed_at < answered + Duration::from_millis(2000),
        "closed late: {closed_at:?} (answered {answered:?})"
    );
    assert!(
        eventually(Duration::from_secs(2), || async {
            closed(&app.metrics().await, "api", "idle") == Some(1.0)
        })
        .await,
        "{}",
        app.metrics().await
    );
    app.stop().await;
}

#[tokio::test]
async fn idle_http1_keep_alive_connection_is_closed_at_the_idle_timeout() {
    // header_read_timeout stays at 10 s: the idle timeout is what closes it.
    let app = spawn_app_overlay("[server]\nidle_timeout = \"600ms\"").await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(&h1_get("/api/v1/anything/idle", ""))
        .await
        .unwrap();
    assert_eq!(read_h1_response(&mut s).await, 200);
    let answered = Instant::now();
    assert!(
        closes_within(&mut s, Duration::from_secs(3)).await,
        "still open after 3 s"
    );
    let took = answered.elapsed();
    assert!(
        took >= Duration::from_millis(500),
        "closed too early: {took:?}"
    );
    assert!(
        eventually(Duration::from_secs(2), || async {
            closed(&app.metrics().await, "api", "idle") == Some(1.0)
        })
        .await
    );
    app.stop().await;
}

#[tokio::test]
async fn at_the_connection_cap_idle_connections_are_shed_and_busy_ones_refuse_newcomers() {
    const CAP: usize = 4;
    let app = spawn_app_overlay(&format!(
        "[server]\nmax_connections = {CAP}\nidle_timeout = \"60s\""
    ))
    .await;
    // A client holds every slot with idle keep-alive connections.
    let mut hoard = Vec::new();
    for _ in 0..CAP {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        s.write_all(&h1_get("/api/v1/anything/hoard", ""))
            .await
            .unwrap();
        assert_eq!(read_h1_response(&mut s).await, 200);
        hoard.push(s);
    }
    assert!(
        eventually(Duration::from_secs(2), || async {
            open(&app.metrics().await, "api") == CAP as f64
        })
        .await
    );
    // Legitimate requests are served at once: each new connection sheds the oldest idle one.
    for i in 0..3 {
        let r = app.get(&format!("/api/v1/anything/legit-{i}")).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let m = app.metrics().await;
    assert!(
        closed(&m, "api", "evicted").is_some_and(|n| n >= 1.0),
        "{m}"
    );
    assert!(open(&m, "api") <= CAP as f64 + 1.0, "{m}");
    drop(hoard);
    assert!(
        eventually(Duration::from_secs(2), || async {
            open(&app.metrics().await, "api") <= 1.0
        })
        .await
    );

    // Every slot busy (a slow upstream answer): a newcomer is refused and counted.
    let mut busy = Vec::new();
    for i in 0..CAP {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        s.write_all(&h1_get(
            &format!("/api/v1/anything/busy-{i}"),
            "X-Sandbox-Fault: delay=1500ms\r\n",
        ))
        .await
        .unwrap();
        busy.push(s);
    }
    assert!(app.upstream_received(3 + 4 + CAP as u64).await);
    let mut refused = TcpStream::connect(app.addr).await.unwrap();
    let _ = refused
        .write_all(&h1_get("/api/v1/anything/late", ""))
        .await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), refused.read(&mut buf))
        .await
        .expect("refused at once")
        .unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer");
    // The admin listener has its own cap and still answers.
    let m = app.metrics().await;
    assert_eq!(closed(&m, "api", "refused_cap"), Some(1.0), "{m}");
    assert_eq!(app.admin(Method::GET, "/healthz", &[]).await.status, 200);
    // Once the busy connections finish, service resumes.
    for s in &mut busy {
        assert_eq!(read_h1_response(s).await, 200);
    }
    assert_eq!(app.get("/api/v1/anything/after").await.status, 200);
    drop(busy);
    app.stop().await;
}

#[tokio::test]
async fn a_trickled_request_body_gets_408_within_the_body_timeout() {
    let app = spawn_app_overlay("[server]\nrequest_body_timeout = \"500ms\"").await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/anything/trickle HTTP/1.1\r\nHost: gateway\r\nX-token: {CLIENT_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("REQUEST_BODY_TIMEOUT") {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "no 408 after 3 s"
        );
        let _ = s.write_all(b"{").await;
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("REQUEST_BODY_TIMEOUT"), "{text}");
    assert!(took >= Duration::from_millis(450), "too early: {took:?}");
    assert!(took < Duration::from_millis(1500), "too late: {took:?}");
    assert_eq!(app.state().request_count("all"), 0, "nothing was forwarded");
    app.stop().await;
}

#[tokio::test]
async fn non_reading_clients_hold_no_upstream_slot_and_are_dropped_on_http1_and_h2() {
    let _alone = memory_measurement().await;
    let app = spawn_app_overlay(
        "[server]\nresponse_write_timeout = \"3s\"\n[upstream]\nmax_concurrent_requests = 2\n\
         [upstream.per_client]\nslot_share = 1.0\nbuffer_share = 1.0",
    )
    .await;
    let memo = "/api/v1/payin/memo/p-77?size=8000000";
    let sent = Instant::now();
    // One HTTP/1.1 client that never reads, one h2 client that never opens its window.
    let mut h1 = tight_connect(app.addr).await;
    h1.write_all(&h1_get(memo, "")).await.unwrap();
    let mut h2c = h2::connect(app.addr).await;
    h2c.write_all(&h2::get_headers(1, memo, &[("x-token", CLIENT_KEY)]))
        .await
        .unwrap();
    assert!(app.upstream_received(2).await);
    // paycombat sends both bodies whole into the gateway's buffers (mostly
    // the spool): the slots are free while neither client has read.
    assert!(
        eventually(Duration::from_secs(10), || async {
            let s = app.metrics().await;
            sample(&s, "gateway_upstream_slots_in_use", &[]) == Some(0.0)
                && value(&s, "gateway_spool_bytes", &[]) > 8_000_000.0
        })
        .await,
        "{}",
        app.metrics().await
    );
    let r = app.get("/api/v1/anything/third").await;
    assert_eq!(r.status, 200, "{}", r.text());
    // After the write timeout (+ slack) both are dropped, and their buffers with them.
    assert!(
        eventually(Duration::from_secs(6), || async {
            closed(&app.metrics().await, "api", "write_stall") == Some(2.0)
        })
        .await,
        "{}",
        app.metrics().await
    );
    assert!(
        sent.elapsed() >= Duration::from_secs(3),
        "dropped before the write timeout"
    );
    assert!(
        eventually(Duration::from_secs(3), || async {
            let s = app.metrics().await;
            sample(&s, "gateway_spool_bytes", &[]) == Some(0.0)
                && sample(&s, "gateway_spool_files", &[]) == Some(0.0)
        })
        .await,
        "{}",
        app.metrics().await
    );
    assert!(closes_within(&mut h1, Duration::from_secs(2)).await);
    assert!(closes_within(&mut h2c, Duration::from_secs(2)).await);
    app.stop().await;
}

#[tokio::test]
async fn non_reading_clients_of_a_large_json_body_are_all_dropped() {
    let _alone = memory_measurement().await;
    // h2 clients that never open their window take 64 KiB, so 256 KiB stalls
    // them; HTTP/1.1 ones take what the kernel buffers (up to tcp_wmem's
    // 4 MiB), so theirs is larger. Every body is masked before it is sent:
    // bodies no larger than that keep the test's CPU (a debug build masking
    // on a loaded 2-core machine) inside `upstream.timeout`.
    const H2_CLIENTS: usize = 38;
    const H1_CLIENTS: usize = 2;
    let app = spawn_app_overlay(
        "[server]\nresponse_write_timeout = \"600ms\"\n[upstream]\ntimeout = \"30s\"",
    )
    .await;
    let mut held = Vec::new();
    for i in 0..H2_CLIENTS {
        let mut s = h2::connect(app.addr).await;
        let path = format!("/api/v1/anything/big-h2-{i}");
        let fault = [
            ("x-token", CLIENT_KEY),
            ("x-sandbox-fault", "oversized=262144"),
        ];
        s.write_all(&h2::get_headers(1, &path, &fault))
            .await
            .unwrap();
        held.push(s);
    }
    for i in 0..H1_CLIENTS {
        let mut s = tight_connect(app.addr).await;
        s.write_all(&h1_get(
            &format!("/api/v1/anything/big-h1-{i}"),
            "X-Sandbox-Fault: oversized=6000000\r\n",
        ))
        .await
        .unwrap();
        held.push(s);
    }
    let all = (H2_CLIENTS + H1_CLIENTS) as f64;
    // Read from the registry, not scraped: 800 scrapes over one pooled admin
    // connection while 40 bodies are masked can meet the server closing it.
    assert!(
        eventually(Duration::from_secs(40), || async {
            closed(&app.metrics_now(), "api", "write_stall") == Some(all)
        })
        .await,
        "{}",
        app.metrics_now()
    );
    let m = app.metrics().await;
    assert_eq!(open(&m, "api"), 0.0, "{m}");
    assert_eq!(
        value(&m, "gateway_requests_total", &[("status_class", "2xx")]),
        all,
        "every body was produced, then dropped: {m}"
    );
    drop(held);
    assert_eq!(app.get("/api/v1/anything/after").await.status, 200);
    app.stop().await;
}
