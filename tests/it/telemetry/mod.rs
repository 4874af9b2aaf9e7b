//! OpenTelemetry traces end to end: a real gateway exporting over OTLP/HTTP to
//! an in-test receiver (`common::otlp`), the sandbox recording the
//! `traceparent` each upstream attempt carried.
//!
//! The helpers the tests share live here; each submodule holds the tests of one concern.

use crate::common::otlp::SpanRecord;
use crate::common::*;

mod export;
mod privacy;
mod traces;

const KIND_INTERNAL: i32 = 1;
const KIND_SERVER: i32 = 2;
const KIND_CLIENT: i32 = 3;
const STATUS_ERROR: i32 = 2;

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

fn client_traceparent(flags: &str) -> String {
    format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-{flags}")
}

/// A W3C traceparent split into (trace id, parent span id, flags).
fn parse(traceparent: &str) -> (String, String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "malformed traceparent {traceparent:?}");
    assert_eq!(parts[0], "00");
    (parts[1].into(), parts[2].into(), parts[3].into())
}

/// The `traceparent` (and `tracestate`) of every request the sandbox got
/// whose path starts with `path`, in arrival order.
fn upstream_trace_headers(app: &TestApp, path: &str) -> Vec<(String, Option<String>)> {
    let text = |h: &http::HeaderMap, name: &str| {
        h.get(name)
            .map(|v| v.to_str().unwrap_or("<not text>").to_owned())
    };
    app.state()
        .requests()
        .into_iter()
        .filter(|r| r.path_and_query.starts_with(path))
        .map(|r| {
            (
                text(&r.headers, "traceparent").unwrap_or_default(),
                text(&r.headers, "tracestate"),
            )
        })
        .collect()
}

fn one<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    let found: Vec<&SpanRecord> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "expected one {name:?} span in {spans:#?}");
    found[0]
}
