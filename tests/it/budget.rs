//! The global buffer budget: clients that ask for large bodies and never read
//! them cannot grow the gateway's memory past `upstream.max_buffered_bytes`.

use std::time::Duration;

use crate::common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: f64 = 24.0 * 1024.0 * 1024.0;
/// Larger than the kernel's largest socket send buffer (4 MiB here), so
/// most of each body stays in the gateway while its client does not read.
const SIZE: &str = "oversized=7000000";

/// Sends a GET for a large body and reads only the status line: the rest
/// stays unread, with a small receive buffer so the kernel cannot absorb it.
async fn stalled_client(app: &TestApp, path: &str) -> (tokio::net::TcpStream, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(app.addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nhost: gw\r\nx-token: {CLIENT_KEY}\r\nx-sandbox-fault: {SIZE}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(20), s.read_exact(&mut head))
        .await
        .expect("a status line")
        .unwrap();
    let status = std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap();
    (s, status)
}

/// Resident memory of this process, from /proc.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test]
async fn non_reading_clients_cannot_hold_more_than_the_budget() {
    let _alone = memory_measurement().await;
    let app = spawn_app_overlay(
        // One client here: the global bound is under test, not its share of it.
        "[upstream]\nmax_response_body_bytes = 8388608\nmax_buffered_bytes = 25165824\nbuffer_wait = \"100ms\"\ntimeout = \"20s\"\n[upstream.per_client]\nbuffer_share = 1.0\n",
    )
    .await;
    let rss_before = rss_bytes();
    let mut held = Vec::new();
    let mut refused = 0;
    for n in 0..16 {
        let (s, status) =
            stalled_client(&app, &format!("/api/v1/payin/retrieve-payin/big{n}")).await;
        let scrape = app.metrics().await;
        let bytes = value(&scrape, "gateway_response_buffer_bytes", &[]);
        assert!(bytes <= LIMIT, "{bytes} bytes held, over the budget");
        match status {
            200 => held.push(s),
            503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(refused > 0, "the budget refused some inspections");
    assert!(!held.is_empty(), "the budget admitted some");
    // The stated bound: the whole test process (sandbox and clients
    // included) grows by less than the budget (24 MiB) plus 40 MiB of
    // allocator slack. Measured here: about 23 MiB; the same 16 clients
    // with the budget out of the way grow it by over 100 MiB.
    let grown = rss_bytes().saturating_sub(rss_before);
    eprintln!(
        "RSS grew by {} MiB with {} stalled clients held",
        grown >> 20,
        held.len()
    );
    assert!(
        grown < 24 * 1024 * 1024 + 40 * 1024 * 1024,
        "RSS grew by {} MiB",
        grown >> 20
    );
    let scrape = app.metrics().await;
    assert_eq!(
        value(&scrape, "gateway_response_buffer_exhausted_total", &[]),
        refused as f64
    );
    // Once the slow clients go away their reservations are given back and
    // the next large read is served in full.
    drop(held);
    assert!(
        eventually(Duration::from_secs(5), || async {
            sample(&app.metrics().await, "gateway_response_buffer_bytes", &[]) == Some(0.0)
        })
        .await,
        "reservations released"
    );
    let r = app
        .send(
            http::Method::GET,
            "/api/v1/payin/retrieve-payin/after",
            &[("x-sandbox-fault", SIZE)],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    app.stop().await;
}
