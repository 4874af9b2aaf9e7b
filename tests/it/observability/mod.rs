//! The admin listener and its metrics: exact counter movements from real scrapes, label hygiene, health and readiness.
//!
//! The helpers the tests share live here (scrapes, counter deltas, the closed label sets);
//! each submodule holds the tests of one concern.

use std::collections::{BTreeMap, BTreeSet};

use http::Method;

use crate::common::metrics::{labels, parse, Labels};
use crate::common::*;

mod components;
mod counters;
mod exposition;
mod health;
mod labels;

/// Counters a scripted step may move; every step states all their movements.
const COUNTERS: &[&str] = &[
    "gateway_requests_total",
    "gateway_request_duration_seconds_count",
    "gateway_upstream_requests_total",
    "gateway_upstream_duration_seconds_count",
    "gateway_upstream_retries_total",
    "gateway_cache_lookups_total",
    "gateway_masked_fields_total",
    "gateway_mask_failures_total",
    "gateway_client_rejections_total",
];

type Delta = (String, Labels, f64);
/// A series that moved, by a whole number (counters only).
type Moved = (String, Labels, u64);

fn d(name: &str, pairs: &[(&str, &str)], by: f64) -> Delta {
    (name.to_owned(), labels(pairs), by)
}

/// Every series of `COUNTERS` that moved between two scrapes, and by how much.
fn deltas(before: &str, after: &str) -> BTreeSet<Moved> {
    let index = |scrape: &str| -> BTreeMap<(String, Labels), f64> {
        parse(scrape)
            .into_iter()
            .filter(|s| COUNTERS.contains(&s.name.as_str()))
            .map(|s| ((s.name, s.labels), s.value))
            .collect()
    };
    let (b, a) = (index(before), index(after));
    a.iter()
        .filter_map(|((name, l), v)| {
            let moved = v - b.get(&(name.clone(), l.clone())).copied().unwrap_or(0.0);
            (moved != 0.0).then(|| (name.clone(), l.clone(), moved as u64))
        })
        .collect()
}

/// Asserts that exactly `expected` moved, and nothing else among `COUNTERS`.
fn assert_step(step: &str, before: &str, after: &str, expected: &[Delta]) {
    let got = deltas(before, after);
    let want: BTreeSet<_> = expected
        .iter()
        .map(|(n, l, v)| (n.clone(), l.clone(), *v as u64))
        .collect();
    let show = |set: Vec<&Moved>| -> String {
        set.iter()
            .map(|(n, l, v)| {
                let l: Vec<String> = l.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                format!("\n    {n}{{{}}} +{v}", l.join(","))
            })
            .collect()
    };
    let missing = show(want.difference(&got).collect());
    let unexpected = show(got.difference(&want).collect());
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "step `{step}`:\n  expected but not seen:{missing}\n  seen but not expected:{unexpected}"
    );
}

async fn scrape(app: &TestApp) -> String {
    let r = app.admin(Method::GET, "/metrics", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

// ---------------------------------------------------------------------------
// Closed label sets

const ROUTES: &[&str] = &[
    "customer_detail",
    "customer_wallet_ready",
    "customer_list",
    "customer_create",
    "customer_update",
    "customer_enable",
    "customer_disable",
    "customer_delete",
    "customer_other",
    "payin",
    "payout",
    "beneficiary",
    "checkout",
    "transaction",
    "wallet",
    "master_data",
    "payment_method",
    "other",
    "rejected",
];
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "OTHER",
];
const CLIENTS: &[&str] = &["test", "readonly", "anonymous"];
const CACHE_RESULTS: &[&str] = &["hit", "miss", "stale", "collapsed", "bypass"];
const OUTCOMES: &[&str] = &[
    "ok",
    "http_4xx",
    "http_5xx",
    "timeout",
    "connect_error",
    "error",
    "circuit_open",
    "overloaded",
];

/// The `field` / `path` names of the default masking rules: the only values of
/// `gateway_masked_fields_total{field}`.
fn mask_rule_names() -> BTreeSet<String> {
    include_str!("../../../config/default.toml")
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("field = ")
                .or_else(|| l.strip_prefix("path = "))
        })
        .map(|v| v.split('"').nth(1).expect("quoted rule name").to_owned())
        .collect()
}

/// Every label value in the scrape belongs to its documented closed set.
fn assert_closed_label_sets(scrape: &str) {
    let rules = mask_rule_names();
    assert!(rules.contains("email") && rules.len() > 30, "{rules:?}");
    for s in parse(scrape) {
        for (k, v) in &s.labels {
            let allowed: bool = match (s.name.as_str(), k.as_str()) {
                (_, "route") => ROUTES.contains(&v.as_str()),
                (_, "method") => METHODS.contains(&v.as_str()),
                (_, "client") => CLIENTS.contains(&v.as_str()),
                (_, "status_class") => ["1xx", "2xx", "3xx", "4xx", "5xx"].contains(&v.as_str()),
                ("gateway_requests_total", "cache") => {
                    CACHE_RESULTS.contains(&v.as_str()) || v == "none"
                }
                ("gateway_upstream_requests_total", "outcome") => OUTCOMES.contains(&v.as_str()),
                ("gateway_cache_lookups_total", "result") => CACHE_RESULTS.contains(&v.as_str()),
                (
                    "gateway_credential_reloads_total" | "gateway_clients_reloads_total",
                    "result",
                ) => ["ok", "failed"].contains(&v.as_str()),
                ("gateway_trace_export_spans_total", "result") => {
                    ["exported", "failed"].contains(&v.as_str())
                }
                ("gateway_mask_failures_total", "reason") => [
                    "parse_error",
                    "too_large",
                    "too_deep",
                    "bad_encoding",
                    "ambiguous_headers",
                    "passthrough_mismatch",
                    "content_range",
                ]
                .contains(&v.as_str()),
                ("gateway_secret_reflections_total", "location") => {
                    ["header", "body"].contains(&v.as_str())
                }
                ("gateway_upstream_credentials_rejected_total", "credential") => {
                    ["token", "token_or_signature"].contains(&v.as_str())
                }
                ("gateway_client_rejections_total", "reason") => {
                    ["unauthenticated", "forbidden", "rate_limited"].contains(&v.as_str())
                }
                ("gateway_cache_evictions_total", "cause") => {
                    ["expired", "size", "explicit", "replaced"].contains(&v.as_str())
                }
                ("gateway_cache_invalidations_total", "reason") => {
                    ["write", "write_all", "admin", "config_reload"].contains(&v.as_str())
                }
                ("gateway_cache_uncacheable_total", "reason") => {
                    ["status", "cache_control", "envelope", "vary"].contains(&v.as_str())
                }
                ("gateway_circuit_breakers_open", "scope") => {
                    ["upstream", "client"].contains(&v.as_str())
                }
                ("gateway_masked_fields_total", "field") => rules.contains(v),
                (
                    "gateway_mask_undeclared_fields_total" | "gateway_mask_policy_masked_total",
                    "family",
                ) => paycombat_gateway::mask::policy::PolicyFamily::from_label(v).is_some(),
                ("gateway_mask_policy_masked_total", "reason") => {
                    paycombat_gateway::mask::policy::MaskReason::ALL
                        .iter()
                        .any(|r| r.label() == v)
                }
                ("gateway_connections_open" | "gateway_connections_closed_total", "listener") => {
                    ["api", "admin"].contains(&v.as_str())
                }
                ("gateway_connections_closed_total", "reason") => [
                    "client_closed",
                    "idle",
                    "evicted",
                    "refused_cap",
                    "header_timeout",
                    "write_stall",
                    "drained",
                    "error",
                    "tls_handshake",
                ]
                .contains(&v.as_str()),
                ("gateway_tls_handshake_failures_total", "reason") => [
                    "no_client_certificate",
                    "bad_client_certificate",
                    "client_alert",
                    "not_tls",
                    "protocol",
                    "timeout",
                    "closed",
                ]
                .contains(&v.as_str()),
                ("gateway_tls_certificate_expiry_timestamp_seconds", "listener") => v == "api",
                ("gateway_tls_reloads_total", "result") => ["ok", "failed"].contains(&v.as_str()),
                ("gateway_config_reloads_total", "result") => {
                    ["applied", "unchanged", "invalid"].contains(&v.as_str())
                }
                (
                    "gateway_cluster_invalidations_published_total"
                    | "gateway_cluster_invalidations_received_total",
                    "kind",
                ) => ["customer", "all"].contains(&v.as_str()),
                ("gateway_cluster_rate_limit_decisions_total", "source") => {
                    ["redis", "local", "allow", "deny"].contains(&v.as_str())
                }
                ("gateway_cluster_rate_limit_decisions_total", "decision") => {
                    ["allowed", "limited"].contains(&v.as_str())
                }
                ("gateway_cluster_redis_errors_total", "operation") => [
                    "connect",
                    "subscribe",
                    "heartbeat",
                    "publish",
                    "ack",
                    "rate_limit",
                    "idempotency",
                ]
                .contains(&v.as_str()),
                ("gateway_idempotency_requests_total", "result") => {
                    paycombat_gateway::idempotency::metrics::RESULTS.contains(&v.as_str())
                }
                ("gateway_idempotency_outcomes_total", "outcome") => {
                    paycombat_gateway::idempotency::metrics::OUTCOMES.contains(&v.as_str())
                }
                ("gateway_idempotency_store_errors_total", "store" | "reason") => {
                    paycombat_gateway::idempotency::metrics::STORE_ERRORS
                        .iter()
                        .any(|(store, reason)| [*store, *reason].contains(&v.as_str()))
                }
                ("gateway_cluster_cache_drops_total", "reason") => {
                    ["subscribe", "stall"].contains(&v.as_str())
                }
                ("gateway_cluster_write_waits_total", "outcome") => {
                    ["confirmed", "lease", "unconfirmed"].contains(&v.as_str())
                }
                ("gateway_requests_abandoned_total", "reason") => [
                    "client_closed",
                    "stream_reset",
                    "write_timeout",
                    "drain_deadline",
                    "body_error",
                    "panicked",
                ]
                .contains(&v.as_str()),
                ("gateway_requests_abandoned_total", "phase") => {
                    ["waiting", "body"].contains(&v.as_str())
                }
                ("gateway_log_lines_dropped_total", "stream") => {
                    ["access", "log"].contains(&v.as_str())
                }
                (_, "le") => v == "+Inf" || v.parse::<f64>().is_ok(),
                ("gateway_build_info", "version" | "revision") => true,
                _ => false,
            };
            assert!(
                allowed,
                "label {k}=\"{v}\" on {} is outside its closed set",
                s.name
            );
        }
    }
}

fn assert_absent(scrape: &str, needles: &[&str]) {
    for n in needles {
        assert!(
            !scrape.contains(n),
            "`{n}` appears in the scrape:\n{scrape}"
        );
    }
}

fn req(route: &str, method: &str, class: &str, cache: &str, client: &str) -> Delta {
    d(
        "gateway_requests_total",
        &[
            ("route", route),
            ("method", method),
            ("status_class", class),
            ("cache", cache),
            ("client", client),
        ],
        1.0,
    )
}
fn req_hist(route: &str) -> Delta {
    d(
        "gateway_request_duration_seconds_count",
        &[("route", route)],
        1.0,
    )
}
