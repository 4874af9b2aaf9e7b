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
async fn stalled_client(addr: std::net::SocketAddr, path: &str) -> (tokio::net::TcpStream, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: gw\r\nx-sandbox-fault: {SIZE}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    // Generous: a debug build masks a 7 MB body in seconds, more on a loaded machine.
    tokio::time::timeout(Duration::from_secs(90), s.read_exact(&mut head))
        .await
        .expect("a status line")
        .unwrap();
    let status = std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap();
    (s, status)
}

/// Against the gateway binary as a child process, so its resident memory is
/// measured alone: in this process the sandbox streaming the bodies and
/// every test running beside this one would count too.
#[tokio::test]
async fn non_reading_clients_cannot_hold_more_than_the_budget() {
    let _alone = memory_measurement().await;
    // One client here (authentication off: one peer): the global bound is
    // under test, not its share of it.
    let app = process::GatewayProcess::start(&[
        (
            "GATEWAY__UPSTREAM__MAX_RESPONSE_BODY_BYTES",
            "8388608".into(),
        ),
        ("GATEWAY__UPSTREAM__MAX_BUFFERED_BYTES", "25165824".into()),
        ("GATEWAY__UPSTREAM__BUFFER_WAIT", "100ms".into()),
        ("GATEWAY__UPSTREAM__TIMEOUT", "80s".into()),
        ("GATEWAY__UPSTREAM__PER_CLIENT__BUFFER_SHARE", "1.0".into()),
    ])
    .await;
    let rss_before = app.rss();
    let mut held = Vec::new();
    let mut refused = 0;
    for n in 0..16 {
        let (s, status) =
            stalled_client(app.addr, &format!("/api/v1/payin/retrieve-payin/big{n}")).await;
        let scrape = app.scrape().await;
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
    // The stated bound: the gateway process grows by less than the budget
    // (24 MiB) plus 40 MiB of allocator slack; the same 16 clients with the
    // budget out of the way grow it by over 100 MiB.
    let grown = app.rss().saturating_sub(rss_before);
    eprintln!(
        "gateway RSS grew by {} MiB with {} stalled clients held",
        grown >> 20,
        held.len()
    );
    assert!(
        grown < 24 * 1024 * 1024 + 40 * 1024 * 1024,
        "RSS grew by {} MiB",
        grown >> 20
    );
    let scrape = app.scrape().await;
    assert_eq!(
        value(&scrape, "gateway_response_buffer_exhausted_total", &[]),
        refused as f64
    );
    // Once the slow clients go away their reservations are given back and
    // the next large read is served in full.
    drop(held);
    assert!(
        eventually(Duration::from_secs(5), || async {
            sample(&app.scrape().await, "gateway_response_buffer_bytes", &[]) == Some(0.0)
        })
        .await,
        "reservations released"
    );
    let r = app
        .get(
            "/api/v1/payin/retrieve-payin/after",
            &[("x-sandbox-fault", SIZE)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}
