//! Soak: mixed reads, writes and injected faults; no unexplained 5xx, no personal value out, no leak.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Method;
use rand::Rng;

use crate::common::*;

/// Values from the documented fixture customer; none may ever leave the gateway.
const FIXTURE_PERSONAL: &[&str] = &[
    "33777777",
    "85156781124",
    "fatur4@paycombat.com",
    "SEMARANG",
];
/// Written into customers as a first name during the run; it must only ever come back masked.
const WRITTEN_MARKER: &str = "SoakWrite";

/// Faults a request may carry; any status is acceptable for them, a leak is not.
const FAULTS: &[&str] = &[
    "status=500",
    "status=502",
    "status=503",
    "reset",
    "reset_mid_body",
    "malformed_json",
    "truncated_json",
    "gzip",
    "deflate",
    "br",
    "wrong_content_type",
    "non_utf8",
    "bogus_encoding",
    "deep=100",
    "no_store",
    "private",
    "delay=30ms",
    "slow_body=30ms",
    "oversized=300000",
];

const PERSONAL_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "identification_value",
    "address_line1",
    "address_city",
    "phone_number",
    "phone_number_e164",
    "registration_number",
    "company_email",
];

const OVERLAY: &str = r#"
[upstream]
timeout = "2s"
connect_timeout = "1s"
[upstream.retry]
backoff = "5ms"
[upstream.circuit_breaker]
failure_threshold = 50
[cache]
max_bytes = 8388608
[cache.routes.customer_detail]
ttl = "2s"
stale_if_error = "30s"
[cache.routes.customer_wallet_ready]
ttl = "1s"
"#;

/// Personal values of 8+ bytes anywhere in a JSON document (shorter names recur inside the
/// company domains that email masking keeps by design).
fn collect_personal(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match v {
                    serde_json::Value::String(s)
                        if PERSONAL_KEYS.contains(&k.as_str()) && s.len() >= 8 =>
                    {
                        out.push(s.clone())
                    }
                    _ => collect_personal(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_personal(v, out)),
        _ => {}
    }
}

/// Resident set size and open descriptors of this process (gateway, sandbox and load together).
fn usage() -> (u64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    (rss_kib * 1024, fds)
}

#[derive(Default)]
struct Tally {
    by_status: BTreeMap<u16, u64>,
    problems: Vec<String>,
}

impl Tally {
    fn problem(&mut self, p: String) {
        if self.problems.len() < 20 {
            self.problems.push(p);
        }
    }
}

async fn soak(duration: Duration, workers: usize, sample_every: Duration) {
    let app = Arc::new(spawn_app_overlay(OVERLAY).await);
    let mut ids: Vec<String> = (0..300).map(|i| customer_id(100_000 + i)).collect();
    ids.push(FIXTURE_ID.to_owned());
    // What the upstream holds for each customer: none of it may come out unmasked.
    let mut raw: HashMap<String, Vec<String>> = HashMap::new();
    for id in &ids {
        let url = format!("{}/api/v1/customer/customer/{id}", app.sandbox.base_url());
        let r = request(
            &app.client,
            Method::GET,
            &url,
            &[("x-token", app.sandbox_cfg.token.as_str())],
            b"",
        )
        .await;
        let mut values = Vec::new();
        collect_personal(&r.json(), &mut values);
        raw.insert(id.clone(), values);
    }
    let raw = Arc::new(raw);
    let ids = Arc::new(ids);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let sent = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + duration;

    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (app, ids, raw, tally, sent) = (app.clone(), ids.clone(), raw.clone(), tally.clone(), sent.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    n += 1;
                    let (id, pick, fault) = {
                        let mut rng = rand::rng();
                        let id = ids[rng.random_range(0..ids.len())].clone();
                        let fault = (rng.random_range(0..100) < 20).then(|| FAULTS[rng.random_range(0..FAULTS.len())]);
                        (id, rng.random_range(0..100), fault)
                    };
                    let update = format!(r#"{{"customer_id":"{id}","description":"soak {w}-{n}","first_name":"{WRITTEN_MARKER}{w}x{n}"}}"#);
                    let (method, path, body): (Method, String, &[u8]) = match pick {
                        0..=59 => (Method::GET, format!("/api/v1/customer/customer/{id}"), b""),
                        60..=74 => (Method::GET, format!("/api/v1/customer/customer-wallet-is-ready/{id}"), b""),
                        75..=84 => (Method::PATCH, "/api/v1/customer/update".to_owned(), update.as_bytes()),
                        85..=92 => (Method::GET, format!("/api/v1/payin/retrieve-payin/soak-{}", n % 50), b""),
                        _ => (Method::GET, format!("/api/v1/anything/soak-{w}"), b""),
                    };
                    let mut headers = vec![("content-type", "application/json")];
                    if let Some(f) = fault {
                        headers.push(("x-sandbox-fault", f));
                    }
                    let r = app.send(method.clone(), &path, &headers, body).await;
                    sent.fetch_add(1, Ordering::Relaxed);
                    let text = r.text();
                    let mut t = tally.lock().unwrap();
                    *t.by_status.entry(r.status.as_u16()).or_default() += 1;
                    // A read that joined another request's cache fill shares that fill's
                    // answer, faulted or not: that is single flight, not a gateway failure.
                    let collapsed = r.header("cache-status").contains("collapsed");
                    if fault.is_none() && r.status.as_u16() != 200 && !collapsed {
                        t.problem(format!(
                            "{method} {path}: {} without an injected fault (cache-status {:?}): {}",
                            r.status,
                            r.header("cache-status"),
                            text.chars().take(200).collect::<String>()
                        ));
                    }
                    let mut needles: Vec<&str> = FIXTURE_PERSONAL.to_vec();
                    needles.push(WRITTEN_MARKER);
                    needles.extend(raw.get(&id).into_iter().flatten().map(String::as_str));
                    if let Some(leak) = needles.iter().find(|v| text.contains(**v)) {
                        t.problem(format!("{method} {path} (fault {fault:?}): personal value {} chars long in the body", leak.len()));
                    }
                }
            })
        })
        .collect();

    // Memory and descriptors, sampled while the load runs.
    let warm_up = (duration / 5).max(Duration::from_secs(1));
    let started = Instant::now();
    let mut samples = Vec::new();
    while Instant::now() < end {
        tokio::time::sleep(sample_every.min(end.saturating_duration_since(Instant::now()))).await;
        if started.elapsed() >= warm_up {
            samples.push(usage());
        }
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("workers stop")
            .unwrap();
    }
    samples.push(usage());

    let (by_status, problems) = {
        let t = tally.lock().unwrap();
        (t.by_status.clone(), t.problems.clone())
    };
    let total = sent.load(Ordering::Relaxed);
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    eprintln!(
        "soak: {total} requests in {:?}, statuses {:?}; rss {} -> {} MiB, fds {} -> {}",
        duration,
        by_status,
        first.0 >> 20,
        last.0 >> 20,
        first.1,
        last.1
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        total >= 20 * duration.as_secs(),
        "the load ran ({total} requests)"
    );
    assert!(
        last.0 as f64 <= first.0 as f64 * 1.5 + 16.0 * 1024.0 * 1024.0,
        "RSS grew from {} to {} bytes",
        first.0,
        last.0
    );
    assert!(
        last.1 <= first.1 + 32,
        "open fds grew from {} to {}",
        first.1,
        last.1
    );

    // Nothing is left counted in flight, and the cache stayed inside its bound.
    let settled = eventually(Duration::from_secs(5), || async {
        sample(&app.metrics().await, "gateway_inflight_requests", &[]) == Some(0.0)
    })
    .await;
    assert!(settled, "in-flight gauge returns to 0");
    let scrape = app.metrics().await;
    assert!(value(&scrape, "gateway_cache_weighted_bytes", &[]) <= 8388608.0);
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(0.0)
    );
    assert_eq!(
        app.get(&format!("/api/v1/customer/customer/{FIXTURE_ID}"))
            .await
            .status,
        200
    );
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_short() {
    // It measures this process's RSS and descriptors: not while another
    // test holds hundreds of connections.
    let _alone = memory_measurement().await;
    soak(Duration::from_secs(5), 16, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long soak: run by scripts/soak.sh (SOAK_SECONDS, default 60)"]
async fn soak_long() {
    let secs = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    soak(Duration::from_secs(secs), 32, Duration::from_secs(5)).await;
}
