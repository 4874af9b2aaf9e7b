//! The access line's cost on the request path: formatting one line (JSON and human)
//! into the reused per-thread buffer, the work `AccessLog::write` does before it
//! hands the bytes to the queue. The budget is 1.5 µs per request for the whole
//! log (README, "Access log and the hit path").

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use http::Method;
use paycombat_gateway::access_log_bench::{AccessRecord, BenchLine, Flags, UpstreamCall};

fn record() -> AccessRecord<'static> {
    AccessRecord {
        request_id: "9f0c2a4e-5b1d-4c8e-9a7f-3e2d1c0b9a88",
        trace_id: None,
        method: &Method::GET,
        route: "customer_detail",
        status: 200,
        cache: "miss",
        client: "billing",
        upstream: Some(UpstreamCall {
            status: 200,
            elapsed: Duration::from_micros(1234),
            addr: Some("203.0.113.10:443".parse().expect("an address")),
        }),
        duration: Duration::from_micros(2345),
        bytes_in: 0,
        bytes_out: Some(1644),
        peer: "10.1.2.3".parse().expect("an IP"),
        client_ip: Some("198.51.100.7".parse().expect("an IP")),
        proto: "h2",
        tls: Some("1.3"),
        flags: Flags::default(),
        ended: None,
        idempotency: None,
    }
}

fn format_line(c: &mut Criterion) {
    let r = record();
    let now = SystemTime::now();
    for (name, json) in [("access_line_json", true), ("access_line_human", false)] {
        let mut line = BenchLine::default();
        c.bench_function(name, |b| {
            b.iter(|| line.format(json, black_box(&r), black_box(now)))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = format_line
}
criterion_main!(benches);
