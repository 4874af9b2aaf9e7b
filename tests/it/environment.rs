//! Environment values are strings unless the key is typed otherwise: the real
//! binary, given its token and its mask placeholder in the environment, sends
//! the token to a real upstream socket and the placeholder to a real client
//! exactly as written (`00123` is not `123`, `TRUE` is not `true`).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http::Method;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

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

/// A one-purpose upstream: reports the raw `x-token` header line of each
/// request and answers a JSON body with a personal field to mask.
async fn recording_upstream() -> (
    String,
    mpsc::UnboundedReceiver<Vec<u8>>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
                        Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                // The value's bytes exactly as they crossed the socket.
                let token = head
                    .split(|&b| b == b'\n')
                    .find_map(|line| {
                        let line = line.strip_suffix(b"\r").unwrap_or(line);
                        let colon = line.iter().position(|&b| b == b':')?;
                        line[..colon]
                            .eq_ignore_ascii_case(b"x-token")
                            .then(|| line[colon + 1..].trim_ascii().to_vec())
                    })
                    .unwrap_or_default();
                let _ = tx.send(token);
                let body = br#"{"status":true,"message":"ok","data":{"first_name":"Alice"}}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.write_all(body).await;
            });
        }
    });
    (base, rx, task)
}

#[tokio::test]
async fn secrets_and_strings_from_the_environment_arrive_exactly() {
    let (base, mut tokens, upstream) = recording_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hmac"), "k").unwrap();
    let client = Client::builder(TokioExecutor::new()).build_http();
    let values = ["00123", "TRUE", "1e3", "a value with spaces", "k=v=w"];
    for (i, value) in values.into_iter().enumerate() {
        // Each value is also another run's placeholder: the same value as both
        // would be the token reflected in the body, which the gateway refuses.
        let placeholder = values[(i + 1) % values.len()];
        let port = free_port();
        let admin_port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
            .args(["serve", "--config-dir", "/nonexistent"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin_port}")])
            .env_remove("GATEWAY_ENV")
            .env("GATEWAY__UPSTREAM__BASE_URL", &base)
            .env("GATEWAY__UPSTREAM__TOKEN", value)
            .env("GATEWAY__MASK__PLACEHOLDER", placeholder)
            .env("GATEWAY__MASK__HMAC_KEY_FILE", dir.path().join("hmac"))
            .env("GATEWAY__AUTH__MODE", "none")
            // Any caller may write with auth off, so writes must be signable.
            .env("GATEWAY__UPSTREAM__SIGNATURE_KEY", "env-test-signature-key")
            // Typed keys from strings, alongside: a number, a bool, a duration, a list.
            .env("GATEWAY__SERVER__MAX_CONNECTIONS", "32")
            .env("GATEWAY__SERVER__WATCH_FILES", "false")
            .env("GATEWAY__SERVER__DRAIN_TIMEOUT", "1s")
            .env("GATEWAY__SERVER__TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let _gateway = Gateway(child);
        let url = format!("http://127.0.0.1:{port}/api/v1/anything/env");
        let up = eventually(Duration::from_secs(15), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        assert!(up, "{value:?}: the gateway came up");
        let r = request(&client, Method::GET, &url, &[], b"").await;
        assert_eq!(r.status, 200, "{value:?}: {}", r.text());
        assert_eq!(
            r.json()["data"]["first_name"],
            serde_json::Value::from(placeholder),
            "{placeholder:?}: the placeholder reaches the client as the same string"
        );
        let sent = tokio::time::timeout(Duration::from_secs(5), tokens.recv())
            .await
            .expect("upstream saw the request")
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&sent),
            value,
            "the X-token paycombat receives"
        );
    }
    upstream.abort();
}
