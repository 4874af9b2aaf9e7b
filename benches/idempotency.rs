//! What an `Idempotency-Key` costs a write, end to end on loopback: one client
//! connection, sequential payin creates through a real gateway to the in-process
//! sandbox, without a key, with a fresh key each time (claim, spawned exchange, answer
//! stored) and with one key again (a replay: paycombat is not called). With a
//! `redis-server` on the PATH, the same in cluster mode (the claim and the record in
//! Redis). Results: docs/benchmarks.md, "Idempotent writes".

use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use paycombat_gateway::App;
use paycombat_sandbox::{Sandbox, SandboxConfig};

const BODY: &[u8] = br#"{"amount": 1250, "currency": "EUR", "reference": "order-1"}"#;

struct Gateway {
    addr: std::net::SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn gateway(upstream: &str, extra: &str) -> Gateway {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = SandboxConfig::demo();
    std::fs::write(dir.path().join("token"), &cfg.token).unwrap();
    std::fs::write(dir.path().join("sig"), &cfg.signature_key).unwrap();
    std::fs::write(dir.path().join("hmac"), "bench-mask-key").unwrap();
    let p = |f: &str| dir.path().join(f).display().to_string();
    let overlay = format!(
        r#"
[server]
listen = "127.0.0.1:0"
[admin]
listen = "127.0.0.1:0"
[upstream]
base_url = "{upstream}"
token_file = "{token}"
signature_key_file = "{sig}"
[mask]
hmac_key_file = "{hmac}"
[auth]
mode = "none"
[log]
level = "warn"
[log.access]
output = "off"
# Every fresh key leaves a record for the whole run.
[idempotency]
max_bytes = 1073741824
{extra}
"#,
        token = p("token"),
        sig = p("sig"),
        hmac = p("hmac"),
    );
    let settings =
        paycombat_gateway::config::load_with(Path::new("/nonexistent"), None, Some(&overlay))
            .expect("bench settings");
    let app = App::build(settings).await.expect("gateway builds");
    let addr = app.api_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    Gateway {
        addr,
        _stop: stop,
        _dir: dir,
    }
}

async fn post(client: &Client<HttpConnector, Full<Bytes>>, url: &str, key: Option<&str>) {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from_static(BODY))).unwrap())
        .await
        .expect("answer");
    assert_eq!(resp.status(), 200);
    resp.into_body().collect().await.expect("body");
}

/// `redis-server` on a free port, without persistence; None when it is not installed.
fn redis() -> Option<(Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((child, port))
}

fn writes(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut redis = redis();
    let (_sandbox, single, cluster) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sandbox = Sandbox::start(listener, SandboxConfig::demo())
            .await
            .unwrap();
        let single = gateway(&sandbox.base_url(), "").await;
        let cluster = match &redis {
            Some((_, port)) => Some(
                gateway(
                    &sandbox.base_url(),
                    &format!("[cluster]\nredis_url = \"redis://127.0.0.1:{port}/0\""),
                )
                .await,
            ),
            None => None,
        };
        // Let the cluster replica connect its command connection.
        tokio::time::sleep(Duration::from_millis(500)).await;
        (sandbox, single, cluster)
    });
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1)
        .build_http();
    let fresh = AtomicU64::new(0);
    let mut group = c.benchmark_group("write_payin_create");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));
    let mut targets = vec![("single", single.addr)];
    if let Some(g) = &cluster {
        targets.push(("cluster", g.addr));
    }
    for (mode, addr) in targets {
        let url = format!("http://{addr}/api/v1/payin/create");
        rt.block_on(post(&client, &url, Some(&format!("replay-{mode}"))));
        for case in ["keyless", "fresh_key", "replayed_key"] {
            group.bench_function(format!("{mode}/{case}"), |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let key = match case {
                                "keyless" => None,
                                "fresh_key" => {
                                    Some(format!("k-{}", fresh.fetch_add(1, Ordering::Relaxed)))
                                }
                                _ => Some(format!("replay-{mode}")),
                            };
                            post(&client, &url, key.as_deref()).await;
                        }
                        start.elapsed()
                    })
                })
            });
        }
    }
    group.finish();
    if let Some((child, _)) = redis.as_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

criterion_group!(benches, writes);
criterion_main!(benches);
