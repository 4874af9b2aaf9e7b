//! Restarts of the real binary under load: SIGTERM loses no accepted request, a SIGHUP reload
//! drops nothing.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};

use crate::common::process::free_port;
use crate::common::*;

struct Gateway {
    /// Taken when the test waits for the exit; killed on drop if a test fails first.
    child: Option<Child>,
    port: u16,
    admin_port: u16,
    sandbox: paycombat_sandbox::Sandbox,
    _dir: tempfile::TempDir,
}

fn catches_sighup(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & 1 != 0)
}

async fn spawn_binary() -> Gateway {
    let sandbox = crate::common::process::demo_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = paycombat_sandbox::SandboxConfig::demo();
    let (port, admin_port) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["serve", "--config-dir", "/nonexistent"])
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            &format!("127.0.0.1:{admin_port}"),
        ])
        .env_remove("GATEWAY_ENV")
        .envs(process::gateway_env(&sandbox.base_url(), &cfg, dir.path()))
        .env("GATEWAY__SERVER__DRAIN_TIMEOUT", "10s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let gw = Gateway {
        child: Some(child),
        port,
        admin_port,
        sandbox,
        _dir: dir,
    };
    let client = plain_client();
    let url = format!("http://127.0.0.1:{port}/api/v1/anything/up");
    let up = eventually(Duration::from_secs(10), || async {
        matches!(try_get(&client, &url, "").await, Ok(200))
    })
    .await;
    assert!(up, "gateway started");
    let pid = gw.pid();
    assert!(
        eventually(
            Duration::from_secs(5),
            || async move { catches_sighup(pid) }
        )
        .await,
        "SIGHUP handler installed"
    );
    gw
}

fn plain_client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

/// One GET; an error instead of a panic when the connection fails.
async fn try_get(
    client: &Client<HttpConnector, Full<Bytes>>,
    url: &str,
    fault: &str,
) -> Result<u16, String> {
    let mut req = Request::get(url);
    if !fault.is_empty() {
        req = req.header("x-sandbox-fault", fault);
    }
    let req = req.body(Full::new(Bytes::new())).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(15), client.request(req))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    resp.into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(status)
}

impl Gateway {
    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Waits (bounded) for the process to exit.
    async fn exit_code(&mut self) -> Option<i32> {
        let mut child = self.child.take().expect("running");
        let waited = tokio::task::spawn_blocking(move || child.wait());
        let status = tokio::time::timeout(Duration::from_secs(15), waited)
            .await
            .expect("exits within 15 s");
        status.unwrap().unwrap().code()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

struct Outcome {
    started: Instant,
    finished: Instant,
    result: Result<u16, String>,
}

/// `workers` loops of GETs until `stop` is set or a request fails; every outcome is kept.
/// Worker `w` asks upstream to hold each request `delay_ms + (w % 5) * 10` ms, so the
/// workers do not move in lockstep.
fn load(
    port: u16,
    workers: usize,
    delay_ms: u64,
    stop: Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<Vec<Outcome>>> {
    let client = plain_client();
    (0..workers)
        .map(|w| {
            let client = client.clone();
            let stop = stop.clone();
            let fault = format!("delay={}ms", delay_ms + (w as u64 % 5) * 10);
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut n = 0;
                while stop.load(Ordering::Relaxed) == 0 {
                    n += 1;
                    let url = format!("http://127.0.0.1:{port}/api/v1/anything/load-{w}-{n}");
                    let started = Instant::now();
                    let result = try_get(&client, &url, &fault).await;
                    let failed = result.is_err();
                    let finished = Instant::now();
                    seen.push(Outcome {
                        started,
                        finished,
                        result,
                    });
                    if failed {
                        break;
                    }
                }
                seen
            })
        })
        .collect()
}

#[tokio::test]
async fn sigterm_under_load_loses_no_accepted_request() {
    let mut gw = spawn_binary().await;
    let stop = Arc::new(AtomicU64::new(0));
    let workers = load(gw.port, 50, 80, stop.clone());
    let state = gw.sandbox.state();
    assert!(
        eventually(Duration::from_secs(10), || async {
            state.request_count("echo") > 200
        })
        .await
    );
    let signalled = Instant::now();
    signal(gw.pid(), "-TERM");
    assert_eq!(gw.exit_code().await, Some(0));
    stop.store(1, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for w in workers {
        outcomes.extend(
            tokio::time::timeout(Duration::from_secs(20), w)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    // Requests sent well before the signal (allowing for the request to reach the gateway).
    let margin = Duration::from_millis(30);
    let mut in_flight_at_signal = 0;
    for o in &outcomes {
        if let Ok(status) = &o.result {
            assert_eq!(*status, 200, "every answer is a 200");
        }
        if o.started + margin < signalled {
            assert_eq!(
                o.result,
                Ok(200),
                "a request accepted before SIGTERM completed"
            );
            if o.finished > signalled {
                in_flight_at_signal += 1;
            }
        }
    }
    assert!(
        in_flight_at_signal >= 25,
        "the signal arrived under load ({in_flight_at_signal} in flight)"
    );
}

#[tokio::test]
async fn sighup_reload_under_load_drops_nothing() {
    let mut gw = spawn_binary().await;
    let client = plain_client();
    let metrics_url = format!("http://127.0.0.1:{}/metrics", gw.admin_port);
    let scrape = request(&client, Method::GET, &metrics_url, &[], b"")
        .await
        .text();
    let reloads_before = value(
        &scrape,
        "gateway_credential_reloads_total",
        &[("result", "ok")],
    );

    let stop = Arc::new(AtomicU64::new(0));
    let workers = load(gw.port, 20, 10, stop.clone());
    let pid = gw.pid();
    for _ in 0..15 {
        signal(pid, "-HUP");
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    stop.store(1, Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        for o in tokio::time::timeout(Duration::from_secs(20), w)
            .await
            .unwrap()
            .unwrap()
        {
            assert_eq!(o.result, Ok(200), "request during SIGHUP reloads");
            total += 1;
        }
    }
    assert!(total > 100, "load was flowing: {total}");
    let scrape = request(&client, Method::GET, &metrics_url, &[], b"")
        .await
        .text();
    assert!(
        value(
            &scrape,
            "gateway_credential_reloads_total",
            &[("result", "ok")]
        ) > reloads_before
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_credential_reloads_total",
            &[("result", "failed")]
        ),
        Some(0.0)
    );
    assert!(
        gw.child.as_mut().unwrap().try_wait().unwrap().is_none(),
        "still running"
    );
    signal(pid, "-TERM");
    assert_eq!(gw.exit_code().await, Some(0));
}
