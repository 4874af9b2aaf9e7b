#![allow(dead_code)]
//! Test harness: a real sandbox upstream and a real gateway on ephemeral
//! loopback ports, and a plain HTTP client to talk to them.

pub mod clients;
pub mod config_files;
pub mod h2;
pub mod hostile;
pub mod link;
pub mod metrics;
pub mod otlp;
pub mod process;
pub mod programs;
pub mod readings;
pub mod redis;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use paycombat_gateway::clock::Clock;
use paycombat_gateway::App;
use paycombat_sandbox::{Sandbox, SandboxConfig, SandboxState};
use std::sync::Arc;
use tokio::sync::oneshot;

#[allow(unused_imports)]
pub use hostile::{response, Hostile};
// Not every test binary that includes this harness needs it.
#[allow(unused_imports)]
pub use programs::require_program;
// The test configuration lives in its own file; every `use crate::common::*` still sees it.
#[allow(unused_imports)]
pub use config_files::{clients_toml, merge_toml, reload_layers, test_config, test_settings};

pub const CLIENT_KEY: &str = "test-client-key";
pub const READONLY_KEY: &str = "readonly-client-key";
pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const FIXTURE_ID: &str = "customer_67d84b19d50b490a8fa75ab20bbf275a";

/// The customer-detail path for `id` (a cached route).
pub fn detail(id: &str) -> String {
    format!("/api/v1/customer/customer/{id}")
}

/// The wallet-ready path for `id` (the other cached route).
pub fn wallet(id: &str) -> String {
    format!("/api/v1/customer/customer-wallet-is-ready/{id}")
}

/// A distinct well-formed customer id for test `n`.
pub fn customer_id(n: u64) -> String {
    format!("customer_{n:032x}")
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub sandbox: Sandbox,
    pub sandbox_cfg: SandboxConfig,
    pub dir: tempfile::TempDir,
    pub client: Client<HttpConnector, Full<Bytes>>,
    /// The gateway's metrics, readable also after it stopped.
    pub registry: prometheus::Registry,
    /// What the gateway's cache and client rate limits read: advance it instead of
    /// sleeping for a TTL or a token refill (it otherwise keeps real time).
    pub clock: Clock,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The gateway's own error envelope: status false, data null, a code.
    pub fn error_code(&self) -> String {
        let v = self.json();
        assert_eq!(v["status"], false, "{}", self.text());
        assert!(v["data"].is_null(), "{}", self.text());
        v["error"]["code"].as_str().unwrap_or("").to_owned()
    }
}

#[derive(Default)]
pub struct Options {
    /// Extra TOML layered over the test defaults.
    pub overlay: String,
    pub sandbox_tls: Option<Arc<rustls::ServerConfig>>,
    /// Point the gateway at this base URL instead of the sandbox.
    pub upstream_override: Option<String>,
    /// The clients file, instead of `clients_toml()`.
    pub clients_toml: Option<String>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_overlay(overlay: &str) -> TestApp {
    spawn_app_with(Options {
        overlay: overlay.to_owned(),
        ..Options::default()
    })
    .await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    let cfg = SandboxConfig {
        tls: opts.sandbox_tls.clone(),
        ..SandboxConfig::demo()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start(listener, cfg.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    if let Some(clients) = &opts.clients_toml {
        std::fs::write(dir.path().join("clients.toml"), clients).unwrap();
    }
    let upstream = opts
        .upstream_override
        .clone()
        .unwrap_or_else(|| sandbox.base_url());
    let settings = test_settings(dir.path(), &upstream, &opts.overlay);
    let clock = Clock::adjustable();
    let app = App::build_on(settings, clock.clone())
        .await
        .expect("gateway builds");
    running(app, sandbox, cfg, dir, clock)
}

/// The gateway with the test configuration written to `<dir>/gateway.toml` and read as
/// the file layer (`--config FILE`, no environment layer), reloading it on SIGHUP and
/// when the file changes; with the handle that reloads it at once.
pub async fn spawn_app_reloading(extra: &str) -> (TestApp, Arc<paycombat_gateway::ConfigReload>) {
    let cfg = SandboxConfig::demo();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox = Sandbox::start(listener, cfg.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, test_config(dir.path(), &sandbox.base_url(), extra)).unwrap();
    let layers = reload_layers(&file);
    let settings = paycombat_gateway::config::settle(&layers).expect("test settings");
    let clock = Clock::adjustable();
    let app = App::build_on(settings, clock.clone())
        .await
        .expect("gateway builds")
        .reloading(layers)
        .expect("reloading");
    let reload = app.config_reload().expect("set up");
    (running(app, sandbox, cfg, dir, clock), reload)
}

/// Runs a built gateway in the background, with a client for it.
fn running(
    app: App,
    sandbox: Sandbox,
    cfg: SandboxConfig,
    dir: tempfile::TempDir,
    clock: Clock,
) -> TestApp {
    let addr = app.api_addr();
    let admin_addr = app.admin_addr();
    let registry = app.registry();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    // A pooled connection is dropped well before the gateway closes an idle keep-alive
    // connection (`server.header_read_timeout`, 10 s): reusing one the gateway is closing
    // fails the request with IncompleteMessage (seen on a loaded machine).
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(5))
        .build_http();
    TestApp {
        addr,
        admin_addr,
        sandbox,
        sandbox_cfg: cfg,
        dir,
        client,
        registry,
        clock,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    pub fn state(&self) -> Arc<SandboxState> {
        self.sandbox.state()
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// Sends a request with the test client's key (unless `headers` sets its own
    /// `x-token` or `authorization`, or `keyless` is asked for via `send_raw`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if !headers.iter().any(|(k, _)| {
            k.eq_ignore_ascii_case("x-token") || k.eq_ignore_ascii_case("authorization")
        }) {
            all.push(("x-token", CLIENT_KEY));
        }
        self.send_raw(method, path, &all, body).await
    }

    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        request(
            &self.client,
            method,
            &format!("http://{}{}", self.addr, path),
            headers,
            body,
        )
        .await
    }

    /// Starts a GET with the full-access key and a sandbox fault spec in the
    /// background, for tests that need a request in flight.
    pub fn spawn_get(&self, path: &str, fault: &str) -> tokio::task::JoinHandle<Resp> {
        let client = self.client.clone();
        let url = format!("http://{}{}", self.addr, path);
        let fault = fault.to_owned();
        tokio::spawn(async move {
            request(
                &client,
                Method::GET,
                &url,
                &[("x-token", CLIENT_KEY), ("x-sandbox-fault", &fault)],
                b"",
            )
            .await
        })
    }

    /// Waits (bounded) until the sandbox has received `n` requests in all.
    pub async fn upstream_received(&self, n: u64) -> bool {
        eventually(Duration::from_secs(5), || async {
            self.state().request_count("all") >= n
        })
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, &[], b"").await
    }

    pub async fn admin(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Resp {
        request(
            &self.client,
            method,
            &format!("http://{}{}", self.admin_addr, path),
            headers,
            b"",
        )
        .await
    }

    pub async fn metrics(&self) -> String {
        self.admin(Method::GET, "/metrics", &[]).await.text()
    }

    /// The metrics as `/metrics` would show them, read directly (also after a stop).
    pub fn metrics_now(&self) -> String {
        use prometheus::Encoder;
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Stops the gateway, then returns its access log (JSON lines, all written by then).
    pub async fn stop_and_read_access_log(mut self) -> String {
        self.stop_in_place().await;
        std::fs::read_to_string(self.path("access.log")).unwrap_or_default()
    }

    /// Stops the gateway gracefully and waits for it.
    pub async fn stop(mut self) {
        self.stop_in_place().await;
    }

    async fn stop_in_place(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), t)
                .await
                .expect("gateway stops")
                .unwrap()
                .unwrap();
        }
    }

    pub fn begin_stop(&mut self) -> tokio::task::JoinHandle<anyhow::Result<()>> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.take().expect("running")
    }
}

pub async fn request(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let req = req.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(30), client.request(req))
        .await
        .expect("response within 30 s")
        .expect("request succeeds at the HTTP level");
    let (parts, body) = resp.into_parts();
    let body = tokio::time::timeout(Duration::from_secs(60), body.collect())
        .await
        .expect("body within 60 s")
        .expect("body readable")
        .to_bytes();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// Sends raw bytes on a fresh TCP connection and returns what came back
/// (for requests no well-behaved client library would send).
pub async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of the series `name` whose labels include `labels`, summed over every series
/// that matches; `None` when none does (a series never written, or a misspelt or renamed
/// metric: never read as 0).
pub fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<f64> = metrics::parse(scrape)
        .into_iter()
        .filter(|s| s.name == name && s.has(labels))
        .map(|s| s.value)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

/// As [`sample`], for a series that must be there: panics, naming it, when it is absent.
#[track_caller]
pub fn value(scrape: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(scrape, name, labels)
        .unwrap_or_else(|| panic!("no series {name} with {labels:?} in the scrape"))
}

/// Polls `f` until it returns true, at most `within`.
/// Held by tests that measure this process's resident memory and by those
/// that move large bodies through it, so a measurement never counts another
/// test's buffers.
pub async fn memory_measurement() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

pub async fn eventually<F, Fut>(within: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + within;
    loop {
        if f().await {
            return true;
        }
        if tokio::time::Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads one request head from a raw upstream-side connection (each read
/// bounded to 5 s) and returns its request target; `None` if the peer went
/// away or stalled first. For hand-written test upstreams.
pub async fn read_request_target(s: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
    let target = String::from_utf8_lossy(&head).split(' ').nth(1)?.to_owned();
    Some(target)
}
