//! What a fresh gateway exports: build info, process metrics, the content type, promtool's
//! verdict, and the deploy metrics list covering every family.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use http::Method;

use crate::common::metrics::{exact, exact_value, parse};
use crate::common::*;

use super::*;

#[tokio::test]
async fn fresh_scrape_has_build_info_process_metrics_and_prometheus_content_type() {
    let app = spawn_app().await;
    let r = app.admin(Method::GET, "/metrics", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let s = r.text();

    let build: Vec<_> = parse(&s)
        .into_iter()
        .filter(|x| x.name == "gateway_build_info")
        .collect();
    assert_eq!(build.len(), 1, "{build:?}");
    assert_eq!(build[0].value, 1.0);
    assert_eq!(build[0].labels["version"], "0.1.0");
    let rev = &build[0].labels["revision"];
    assert_eq!(rev, paycombat_gateway::build::REVISION);
    assert!(
        rev == "unknown" || (rev.len() == 12 && rev.bytes().all(|b| b.is_ascii_hexdigit())),
        "revision {rev}"
    );

    // The standard process collector (Linux).
    assert!(exact_value(&s, "process_resident_memory_bytes", &[]) > 1_000_000.0);
    assert!(exact_value(&s, "process_open_fds", &[]) >= 3.0);
    assert!(exact_value(&s, "process_max_fds", &[]) >= exact_value(&s, "process_open_fds", &[]));
    assert!(
        s.lines()
            .any(|l| l.starts_with("process_cpu_seconds_total ")),
        "{s}"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = exact_value(&s, "process_start_time_seconds", &[]);
    assert!(started > 0.0 && started <= now + 1.0, "{started}");

    // Gauges with known values at start.
    assert_eq!(exact(&s, "gateway_ready", &[]), Some(1.0));
    assert_eq!(exact(&s, "gateway_inflight_requests", &[]), Some(0.0));
    assert_eq!(exact(&s, "gateway_circuit_breaker_state", &[]), Some(0.0));
    assert_eq!(exact(&s, "gateway_cache_entries", &[]), Some(0.0));
    assert_eq!(
        exact(&s, "gateway_cache_max_bytes", &[]),
        Some(67_108_864.0)
    );
    assert_eq!(
        exact(&s, "gateway_clients_reloads_total", &[("result", "ok")]),
        Some(1.0)
    );
    // Series alerts use `increase()` on exist at 0 before the first event.
    for reason in ["parse_error", "too_large", "too_deep", "bad_encoding"] {
        assert!(
            s.contains(&format!(
                "gateway_mask_failures_total{{reason=\"{reason}\"}} 0"
            )),
            "{reason}"
        );
    }
    assert!(
        s.contains("gateway_credential_reloads_total{result=\"failed\"} 0"),
        "{s}"
    );

    // After one request, its histogram has exactly the documented buckets, µs to seconds.
    assert_eq!(app.get("/api/v1/anything/one").await.status, 200);
    let s = scrape(&app).await;
    let les: Vec<String> = parse(&s)
        .into_iter()
        .filter(|x| {
            x.name == "gateway_request_duration_seconds_bucket" && x.labels["route"] == "other"
        })
        .map(|x| x.labels["le"].clone())
        .collect();
    let want = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
        1.0, 2.5, 5.0, 10.0,
    ];
    assert_eq!(les.len(), want.len() + 1, "{les:?}");
    for (le, w) in les.iter().zip(want) {
        assert_eq!(le.parse::<f64>().unwrap(), w, "{les:?}");
    }
    assert_eq!(les.last().map(String::as_str), Some("+Inf"));
    assert!(s.contains("# TYPE gateway_request_duration_seconds histogram"));
    assert!(s.contains("# TYPE gateway_requests_total counter"));
    assert_eq!(
        exact(
            &s,
            "gateway_request_duration_seconds_bucket",
            &[("route", "other"), ("le", "+Inf")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_upstream_duration_seconds_count",
            &[("route", "other")]
        ),
        Some(1.0)
    );
    assert!(
        exact_value(
            &s,
            "gateway_request_duration_seconds_sum",
            &[("route", "other")]
        ) > 0.0
    );

    promtool_check(&s);
    app.stop().await;
}

/// `promtool check metrics` on a real scrape, when promtool is installed.
fn promtool_check(scrape: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: promtool is not on PATH; skipping `promtool check metrics` (CI runs scripts/check-metrics.sh)");
            return;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// deploy/grafana/metrics.txt (what the dashboard and alert checks accept)
/// lists every family a live scrape has, with its type. (Label-vector
/// families appear only once a series exists, so the list may hold more.)
#[tokio::test]
async fn the_deploy_metrics_list_covers_the_exported_set() {
    let app = spawn_app().await;
    let scrape = app.metrics().await;
    let exported: BTreeSet<String> = scrape
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(str::to_owned)
        .collect();
    let listed: BTreeSet<String> = include_str!("../../../deploy/grafana/metrics.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert!(exported.len() > 20, "{exported:?}");
    assert_eq!(
        exported.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "exported but not in deploy/grafana/metrics.txt"
    );
    app.stop().await;
}
