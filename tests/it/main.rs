//! The integration tests, one module per area, in one binary: real sockets on both sides, a
//! real client, the real gateway and the sandbox or a hostile upstream (`common` is the harness).
//!
//! Nothing here may act on the whole process: tests that send SIGHUP to it, or capture every
//! gateway's logs through a global tracing subscriber, are the `access` and `masking` binaries.

mod common;

mod access_fields;
mod admin_config;
mod admin_errors;
mod attack_codings;
mod attack_encoded;
mod attack_headers;
mod attack_idempotency;
mod attack_keys;
mod attack_next;
mod attack_privacy;
mod attack_props;
mod attack_readings;
mod attack_reload;
mod attack_replays;
mod attack_report;
mod attack_routes;
mod attack_split;
mod attack_values;
mod body_privacy;
mod budget;
mod cache;
mod check_config;
mod cluster;
mod cluster_edges;
mod cluster_faults;
mod cluster_history;
mod connections;
mod core;
mod credentials_rejected;
mod environment;
mod fail_closed;
mod first_day;
mod forwarding;
mod fuzz_props;
mod go_client;
mod header_vocabulary;
mod hostile;
mod idempotency;
mod idempotency_cluster;
mod lifecycle;
mod limits;
mod logging;
mod mask_policy;
mod observability;
mod operator;
mod paths;
mod rate_limit_fields;
mod reflection;
mod reliability;
mod reload_config;
mod reload_sighup;
mod reload_watch;
mod slow_readers;
mod soak;
mod systemd;
mod telemetry;
mod tls;
