//! Client access control end to end: keys, allowlists, rate limits, reloads, metrics, `hash-key`.
//! Also the home of every test that sends SIGHUP to the test process (see `RELOAD_COUNTING`).
//!
//! The helpers the tests share live here; each submodule holds the tests of one concern.

// The harness shared with the `it` binary.
#[path = "../it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use http::Method;

use common::*;

mod cli;
mod keys;
mod logs;
mod metrics;
mod reloads;

/// SIGHUP reaches every gateway in this test process; tests that count reloads exactly, or send
/// SIGHUP, hold this so they do not see each other's reloads.
static RELOAD_COUNTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Request headers as name/value pairs.
type Headers<'a> = Vec<(&'a str, &'a str)>;

const SECOND_KEY: &str = "test-client-key-rotated";

/// The harness's clients file with the full-access client `test` holding `test_keys`.
fn clients_file(test_keys: &[&str]) -> String {
    let test = test_keys
        .iter()
        .fold(clients::ClientEntry::new("test"), |c, k| c.key(k))
        .allow_all();
    let mut all = clients::harness_clients();
    all[0] = test;
    clients::clients_file(&all)
}

/// Every test starts its gateway through here, so log capture is in place before any of the
/// gateway's log call sites is first used.
async fn start(overlay: &str) -> TestApp {
    captured_logs();
    spawn_app_overlay(overlay).await
}

async fn get_with(app: &TestApp, path: &str, key: &str) -> Resp {
    app.send(Method::GET, path, &[("x-token", key)], b"").await
}

async fn keyless(app: &TestApp, method: Method, path: &str) -> Resp {
    app.send_raw(method, path, &[], b"").await
}

fn requests_total(scrape: &str, client: &str) -> Option<f64> {
    sample(scrape, "gateway_requests_total", &[("client", client)])
}

fn rejections(scrape: &str, client: &str, reason: &str) -> Option<f64> {
    sample(
        scrape,
        "gateway_client_rejections_total",
        &[("client", client), ("reason", reason)],
    )
}

fn reloads(scrape: &str, result: &str) -> f64 {
    value(
        scrape,
        "gateway_clients_reloads_total",
        &[("result", result)],
    )
}

/// The log output of every gateway in this test process (JSON lines).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// A process-wide subscriber, installed once: a per-thread one can miss events when another
/// thread registers the same call site concurrently.
fn captured_logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "access=info,paycombat_gateway=trace",
            ))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        logs
    })
}
