//! Throughput of the PII masker on the customer-detail body with the shipped rules.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use paycombat_gateway::mask::policy::PolicyFamily;
use paycombat_gateway::mask::{default_settings, Masker};

const CUSTOMER_DETAIL: &str = include_str!("../fixtures/customer-detail.json");
const WALLET_READY: &str = include_str!("../fixtures/customer-wallet-ready.json");

fn bench_mask(c: &mut Criterion) {
    let cfg = default_settings();
    let masker = Masker::new(&cfg, Some(b"bench-hmac-key")).expect("default mask rules are valid");

    let mut group = c.benchmark_group("mask");
    for (name, body) in [
        ("customer_detail", CUSTOMER_DETAIL),
        ("wallet_ready", WALLET_READY),
    ] {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| masker.mask(black_box(body.as_bytes())).expect("maskable"))
        });
    }
    // What the miss path runs: the named rules plus the route family's field policy
    // (`enforce` on the customer read, `report` with detectors on other families).
    for (name, family) in [
        (
            "customer_detail_policy_enforce",
            PolicyFamily::CustomerDetail,
        ),
        // A `report` family (every customer endpoint enforces the customer object).
        ("customer_detail_policy_report", PolicyFamily::Other),
    ] {
        group.throughput(Throughput::Bytes(CUSTOMER_DETAIL.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                masker
                    .mask_for(black_box(CUSTOMER_DETAIL.as_bytes()), family)
                    .expect("maskable")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_mask);
criterion_main!(benches);
