//! The customer read cache: hits, TTLs, single flight, invalidation, stale-if-error, limits, Cache-Status.
//!
//! The helpers the tests share live here; each submodule holds the tests of one concern.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use paycombat_gateway::upstream::sign::sign;
use tokio::task::JoinHandle;

use crate::common::*;

mod hits;
mod invalidation;
mod stale;
mod storability;
mod vary;

const MISS: &str = "paycombat-gateway; fwd=miss; stored";
const COLLAPSED: &str = "paycombat-gateway; fwd=miss; collapsed; stored";
const UNCACHEABLE: &str = "paycombat-gateway; fwd=miss; detail=uncacheable";
const COLLAPSED_UNCACHEABLE: &str = "paycombat-gateway; fwd=miss; collapsed; detail=uncacheable";
const REFRESHED: &str = "paycombat-gateway; fwd=request; stored";
const NO_STORE: &str = "paycombat-gateway; fwd=request; detail=no-store";

fn hit(ttl: u64) -> String {
    format!("paycombat-gateway; hit; ttl={ttl}")
}

fn cache_status(r: &Resp) -> &str {
    r.header("cache-status")
}

fn age(r: &Resp) -> u64 {
    r.header("age")
        .parse()
        .unwrap_or_else(|_| panic!("Age header: {:?}", r.header("age")))
}

fn detail_count(app: &TestApp) -> u64 {
    app.state().request_count("customer_detail")
}

fn wallet_count(app: &TestApp) -> u64 {
    app.state().request_count("customer_wallet_ready")
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Resp {
    app.send(Method::GET, path, headers, b"").await
}

/// A write through the gateway, which must succeed.
async fn write(app: &TestApp, method: Method, path: &str, body: &str) -> Resp {
    let r = app
        .send(
            method,
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r
}

/// Changes a customer upstream without passing through this gateway (as a write through
/// another replica would).
async fn update_behind_the_gateway(app: &TestApp, id: &str, description: &str) {
    let body = format!(r#"{{"customer_id":"{id}","description":"{description}"}}"#);
    let signature = sign(&app.sandbox_cfg.signature_key, body.as_bytes());
    let r = request(
        &app.client,
        Method::PATCH,
        &format!("{}/api/v1/customer/update", app.sandbox.base_url()),
        &[
            ("x-token", &app.sandbox_cfg.token),
            ("signature", &signature),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Cache-Status values of many responses, counted.
fn tally<'a>(
    responses: impl IntoIterator<Item = &'a Resp>,
) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for r in responses {
        *out.entry(cache_status(r).to_owned()).or_insert(0) += 1;
    }
    out
}

/// `n` concurrent GETs of `path` carrying `headers`, released together.
async fn concurrent_gets(
    app: &TestApp,
    n: usize,
    path: &str,
    headers: &[(&str, &str)],
) -> Vec<Resp> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let url = format!("http://{}{}", app.addr, path);
    let mut all: Vec<(String, String)> = vec![("x-token".into(), CLIENT_KEY.into())];
    all.extend(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let tasks: Vec<JoinHandle<Resp>> = (0..n)
        .map(|_| {
            let (client, url, barrier, all) = (
                app.client.clone(),
                url.clone(),
                barrier.clone(),
                all.clone(),
            );
            tokio::spawn(async move {
                let headers: Vec<(&str, &str)> =
                    all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                barrier.wait().await;
                request(&client, Method::GET, &url, &headers, b"").await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}

/// Reads both cached routes of `id` until each is a hit.
async fn warm(app: &TestApp, id: &str) {
    for path in [detail(id), wallet(id)] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let r = app.get(&path).await;
        assert!(
            cache_status(&r).starts_with("paycombat-gateway; hit; ttl="),
            "{path}: {}",
            cache_status(&r)
        );
    }
}

// ---------------------------------------------------------------------------
// A paycombat stand-in on a real socket, for what the sandbox does not do: answers that
// vary on a request header, and writes read the lenient way (a leading byte-order mark
// skipped, JSON escapes decoded, the last duplicate key applied).

struct FakeUpstream {
    url: String,
    details: Arc<std::sync::atomic::AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        // The accept loop owns every connection task: aborting it ends them all.
        self.task.abort();
    }
}

impl FakeUpstream {
    /// `vary`: the `Vary` value on detail answers; `delay`: before each detail answer.
    async fn start(vary: Option<&'static str>, delay: Duration) -> FakeUpstream {
        Self::start_with(vary, delay, Duration::ZERO).await
    }

    /// As `start`; an update is applied `write_delay` after it arrives, whether or not
    /// the gateway still waits for its answer (as paycombat would).
    async fn start_with(
        vary: Option<&'static str>,
        delay: Duration,
        write_delay: Duration,
    ) -> FakeUpstream {
        use http_body_util::{BodyExt, Full};
        use hyper::service::service_fn;
        use hyper_util::rt::TokioIo;
        use std::sync::atomic::Ordering;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let details = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let descriptions = Arc::new(Mutex::new(
            std::collections::HashMap::<String, String>::new(),
        ));
        let counter = details.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (details, descriptions) = (counter.clone(), descriptions.clone());
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (details, descriptions) = (details.clone(), descriptions.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let path = parts.uri.path().to_owned();
                        let mut resp =
                            http::Response::builder().header("content-type", "application/json");
                        let out = if let Some(id) = path.strip_prefix("/api/v1/customer/customer/")
                        {
                            details.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(delay).await;
                            if let Some(v) = vary {
                                resp = resp.header("vary", v);
                            }
                            let tenant = parts
                                .headers
                                .get("x-tenant")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned();
                            let description = descriptions
                                .lock()
                                .unwrap()
                                .get(id)
                                .cloned()
                                .unwrap_or_else(|| "initial".to_owned());
                            serde_json::json!({"status": true, "message": "OK", "data": {
                                "customer_id": id, "description": description, "tenant": tenant,
                            }})
                        } else if path == "/api/v1/customer/update" {
                            let text = String::from_utf8_lossy(&body);
                            let v: serde_json::Value =
                                serde_json::from_str(text.trim_start_matches('\u{feff}'))
                                    .unwrap_or_default();
                            let (Some(id), Some(d)) =
                                (v["customer_id"].as_str(), v["description"].as_str())
                            else {
                                resp = resp.status(400);
                                return Ok::<_, std::convert::Infallible>(
                                    resp.body(Full::new(bytes::Bytes::from_static(
                                        br#"{"status":false,"message":"bad body","data":null}"#,
                                    )))
                                    .unwrap(),
                                );
                            };
                            let (id, d) = (id.to_owned(), d.to_owned());
                            let applied = tokio::spawn(async move {
                                tokio::time::sleep(write_delay).await;
                                descriptions.lock().unwrap().insert(id.clone(), d);
                                id
                            });
                            let id = applied.await.unwrap();
                            serde_json::json!({"status": true, "message": "OK", "data": {"customer_id": id}})
                        } else {
                            serde_json::json!({"status": true, "message": "OK", "data": {}})
                        };
                        Ok(resp
                            .body(Full::new(bytes::Bytes::from(out.to_string())))
                            .unwrap())
                    }
                });
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeUpstream { url, details, task }
    }

    fn details(&self) -> u64 {
        self.details.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn gateway(&self) -> TestApp {
        spawn_app_with(Options {
            upstream_override: Some(self.url.clone()),
            ..Options::default()
        })
        .await
    }
}

/// Reads `id` through the gateway until it is a hit.
async fn primed(app: &TestApp, id: &str) {
    assert_eq!(app.get(&detail(id)).await.status, 200);
    assert!(cache_status(&app.get(&detail(id)).await).starts_with("paycombat-gateway; hit;"));
}
