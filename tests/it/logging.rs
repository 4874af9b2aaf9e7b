//! Logging can never stall the gateway: the real binary with stdout and stderr
//! into pipes nobody reads keeps answering, and counts the lines it dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Method;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::process::free_port;
use crate::common::*;

/// The gateway process; killed when the test ends, whatever happens.
struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_log_pipe_nobody_reads_never_blocks_requests_and_drops_are_counted() {
    let sandbox = crate::common::process::demo_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = paycombat_sandbox::SandboxConfig::demo();
    let file = |name: &str, body: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let (port, admin_port) = (free_port(), free_port());
    // Client keys and JSON access lines to stdout: how it runs in production. The
    // smallest queue, so it fills right after the pipe's 64 KiB do.
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["serve", "--config-dir", "/nonexistent"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--admin-listen", &format!("127.0.0.1:{admin_port}")])
        .env_remove("GATEWAY_ENV")
        .env_remove("RUST_LOG")
        .env("GATEWAY__UPSTREAM__BASE_URL", sandbox.base_url())
        .env(
            "GATEWAY__UPSTREAM__TOKEN_FILE",
            file("token", cfg.token.as_bytes()),
        )
        .env(
            "GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE",
            file("sig", &cfg.signature_key),
        )
        .env("GATEWAY__MASK__HMAC_KEY_FILE", file("hmac", b"k"))
        .env("GATEWAY__AUTH__MODE", "keys")
        .env(
            "GATEWAY__AUTH__CLIENTS_FILE",
            file("clients.toml", clients_toml().as_bytes()),
        )
        .env("GATEWAY__LOG__FORMAT", "json")
        .env("GATEWAY__LOG__LEVEL", "info")
        .env("GATEWAY__LOG__QUEUE_BYTES", "4096")
        .env("GATEWAY__LOG__ACCESS__OUTPUT", "stdout")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Held open and never read: once the pipe buffers fill, every write blocks.
    let _unread = (child.stdout.take(), child.stderr.take());
    let _gateway = Gateway(child);

    let client = Client::builder(TokioExecutor::new()).build_http();
    assert!(
        crate::common::process::ready(admin_port).await,
        "the gateway came up"
    );
    let admin = format!("http://127.0.0.1:{admin_port}");

    let url = format!("http://127.0.0.1:{port}/api/v1/customer/customer/{FIXTURE_ID}");
    let key = [("x-token", CLIENT_KEY)];
    let first = request(&client, Method::GET, &url, &key, b"").await;
    assert_eq!(first.status, 200, "{}", first.text());

    let started = Instant::now();
    let bound = Duration::from_secs(30);
    for n in 0..2000 {
        let r = tokio::time::timeout(
            bound.saturating_sub(started.elapsed()),
            request(&client, Method::GET, &url, &key, b""),
        )
        .await
        .unwrap_or_else(|_| panic!("hit {n} not answered within 30 s of the first"));
        assert_eq!(r.status, 200, "hit {n}: {}", r.text());
        assert!(r.header("cache-status").contains("hit"), "hit {n}");
    }

    let scrape = request(&client, Method::GET, &format!("{admin}/metrics"), &[], b"")
        .await
        .text();
    let dropped = value(
        &scrape,
        "gateway_log_lines_dropped_total",
        &[("stream", "access")],
    );
    // 2,001 lines of ~350 bytes against 64 KiB of pipe and 4 KiB of queue.
    assert!(dropped >= 1000.0, "dropped access lines counted: {dropped}");
    assert!(
        scrape.contains("gateway_log_lines_dropped_total{stream=\"log\"}"),
        "the other stream's counter is there too"
    );
    sandbox.shutdown().await;
}
