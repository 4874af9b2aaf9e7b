//! Trace trees and `traceparent`: one tree per request, honoured and refused parents, sampling,
//! span names from closed sets, and one attempt span per retry.

use std::collections::BTreeSet;
use std::time::Duration;

use http::Method;

use crate::common::otlp::{Receiver, SpanRecord};
use crate::common::*;

use super::*;

#[tokio::test]
async fn a_cache_fill_is_one_tree_and_upstream_gets_the_attempt_span_as_parent() {
    let rx = Receiver::start().await;
    let app = spawn_app_overlay(&rx.overlay("")).await;
    let path = detail(&customer_id(7001));
    let r = app.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let sent = upstream_trace_headers(&app, &path);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (trace, parent, flags) = parse(&sent[0].0);
    assert_eq!(flags, "01", "a sampled trace says so upstream");
    assert_eq!(sent[0].1, None, "no empty tracestate is invented");

    let spans = rx.trace_with(&trace, "GET customer_detail", 1).await;
    let root = one(&spans, "GET customer_detail");
    assert_eq!(root.kind, KIND_SERVER);
    assert_eq!(root.parent_span_id, "", "no client traceparent: a new root");
    assert_eq!(root.service, "paycombat-gateway");
    for (key, value) in [
        ("http.request.method", "GET"),
        ("http.route", "customer_detail"),
        ("http.response.status_code", "200"),
        ("gateway.cache", "miss"),
        ("gateway.client", "test"),
    ] {
        assert_eq!(root.attr(key), Some(value), "{key} on {root:#?}");
    }

    let lookup = one(&spans, "cache lookup");
    assert_eq!(lookup.parent_span_id, root.span_id);
    assert_eq!(lookup.attr("gateway.cache.decision"), Some("fill"));
    let fill = one(&spans, "cache fill");
    assert_eq!(fill.parent_span_id, root.span_id);
    assert_eq!(fill.attr("gateway.cache.store"), Some("stored"));
    let upstream = one(&spans, "upstream");
    assert_eq!(upstream.parent_span_id, fill.span_id);
    assert_eq!(upstream.attr("gateway.upstream.attempts"), Some("1"));
    let attempt = one(&spans, "upstream attempt");
    assert_eq!(attempt.kind, KIND_CLIENT);
    assert_eq!(attempt.parent_span_id, upstream.span_id);
    assert_eq!(
        attempt.span_id, parent,
        "paycombat's parent is the gateway's attempt span"
    );
    assert_eq!(attempt.attr("http.response.status_code"), Some("200"));
    assert_eq!(attempt.attr("gateway.upstream.attempt"), Some("1"));
    let mask = one(&spans, "mask");
    assert_eq!(mask.kind, KIND_INTERNAL);
    assert_eq!(mask.parent_span_id, fill.span_id);
    assert_eq!(mask.attr("gateway.mask.outcome"), Some("inspected"));
    assert_eq!(spans.len(), 6, "{spans:#?}");

    // A hit: the lookup and nothing upstream, in the caller's trace.
    let tp = client_traceparent("01");
    let r = app
        .send(Method::GET, &path, &[("traceparent", tp.as_str())], b"")
        .await;
    assert_eq!(r.status, 200);
    let hit = rx.trace_with(CLIENT_TRACE, "GET customer_detail", 1).await;
    let root = one(&hit, "GET customer_detail");
    assert_eq!(root.attr("gateway.cache"), Some("hit"));
    assert_eq!(
        one(&hit, "cache lookup").attr("gateway.cache.decision"),
        Some("hit")
    );
    assert_eq!(hit.len(), 2, "{hit:#?}");
    assert_eq!(upstream_trace_headers(&app, &path).len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_honoured_traceparent_is_the_parent_and_is_replaced_upstream() {
    let rx = Receiver::start().await;
    let app = spawn_app_overlay(&rx.overlay("")).await;
    let path = "/api/v1/customer/customer?page=1";
    let tp = client_traceparent("01");
    let r = app
        .send(
            Method::GET,
            path,
            &[
                ("traceparent", tp.as_str()),
                ("tracestate", "vendor=opaque"),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let sent = upstream_trace_headers(&app, "/api/v1/customer/customer?");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (trace, parent, flags) = parse(&sent[0].0);
    assert_eq!(trace, CLIENT_TRACE, "the caller's trace goes on");
    assert_ne!(
        parent, CLIENT_SPAN,
        "the client's own traceparent is not forwarded"
    );
    assert_eq!(flags, "01");
    assert_eq!(sent[0].1.as_deref(), Some("vendor=opaque"));

    let spans = rx.trace_with(CLIENT_TRACE, "GET customer_list", 1).await;
    let root = one(&spans, "GET customer_list");
    assert_eq!(root.parent_span_id, CLIENT_SPAN);
    assert_eq!(root.attr("gateway.cache"), Some("none"));
    let upstream = one(&spans, "upstream");
    assert_eq!(upstream.parent_span_id, root.span_id);
    assert_eq!(one(&spans, "upstream attempt").span_id, parent);
    assert_eq!(one(&spans, "mask").parent_span_id, root.span_id);
    app.stop().await;
}

#[tokio::test]
async fn a_traceparent_not_honoured_starts_a_new_trace() {
    let rx = Receiver::start().await;
    let app = spawn_app_overlay(&rx.overlay("honour_traceparent = false")).await;
    let path = "/api/v1/customer/customer?page=2";
    let tp = client_traceparent("01");
    let r = app
        .send(
            Method::GET,
            path,
            &[
                ("traceparent", tp.as_str()),
                ("tracestate", "vendor=opaque"),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let sent = upstream_trace_headers(&app, "/api/v1/customer/customer?");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (trace, parent, _) = parse(&sent[0].0);
    assert_ne!(trace, CLIENT_TRACE);
    assert_eq!(
        sent[0].1, None,
        "the client's tracestate is dropped with its trace"
    );

    let spans = rx.trace_with(&trace, "GET customer_list", 1).await;
    let root = one(&spans, "GET customer_list");
    assert_eq!(root.parent_span_id, "");
    assert_eq!(one(&spans, "upstream attempt").span_id, parent);
    assert!(rx.spans().iter().all(|s| s.trace_id != CLIENT_TRACE));
    app.stop().await;
}

/// A client can send any method token; the span name and method attribute take
/// the same closed set as the request metrics, so made-up methods cannot mint
/// span names (which trace stores index) one per request.
#[tokio::test]
async fn made_up_methods_do_not_name_spans() {
    let rx = Receiver::start().await;
    let app = spawn_app_overlay(&rx.overlay("")).await;
    let path = detail(&customer_id(7050));
    let mut traces = Vec::new();
    for (n, method) in ["BREW", "X-CUSTOMER-81234567", "GET"]
        .into_iter()
        .enumerate()
    {
        let trace = format!("{:032x}", 0x7e57_0000 + n);
        let tp = format!("00-{trace}-{CLIENT_SPAN}-01");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        app.send(method, &path, &[("traceparent", tp.as_str())], b"")
            .await;
        traces.push(trace);
    }
    let mut roots = Vec::new();
    for trace in &traces {
        let end = tokio::time::Instant::now() + Duration::from_secs(5);
        let root = loop {
            let found = rx
                .spans()
                .into_iter()
                .find(|s| &s.trace_id == trace && s.kind == KIND_SERVER);
            match found {
                Some(root) => break root,
                None if tokio::time::Instant::now() < end => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                None => panic!("no request span for trace {trace}"),
            }
        };
        roots.push(root);
    }
    let (made_up, get) = (&roots[..2], &roots[2]);
    assert!(get.name.starts_with("GET "), "{get:#?}");
    for root in made_up {
        assert_eq!(root.attr("http.request.method"), Some("OTHER"), "{root:#?}");
        assert!(root.name.starts_with("OTHER "), "{root:#?}");
        assert!(!root.name.contains("81234567"), "{root:#?}");
    }
    assert_eq!(
        made_up[0].name, made_up[1].name,
        "one name for every made-up method"
    );
    app.stop().await;
}

#[tokio::test]
async fn sampling_ratio_zero_exports_nothing_without_a_sampled_parent() {
    let rx = Receiver::start().await;
    let app = spawn_app_overlay(&rx.overlay("sampling_ratio = 0.0")).await;
    for n in 0..3 {
        let r = app
            .get(&format!("/api/v1/customer/customer?page={}", n + 1))
            .await;
        assert_eq!(r.status, 200);
    }
    let unsampled = upstream_trace_headers(&app, "/api/v1/customer/customer?");
    assert_eq!(unsampled.len(), 3);
    for (tp, _) in &unsampled {
        let (_, _, flags) = parse(tp);
        assert_eq!(flags, "00", "not sampled, and paycombat is told so");
    }
    // An unsampled parent is followed too.
    let tp = client_traceparent("00");
    app.send(
        Method::GET,
        &detail(&customer_id(7002)),
        &[("traceparent", tp.as_str())],
        b"",
    )
    .await;
    // A sampled parent is followed: its spans arrive after anything the
    // unsampled requests could have queued before them.
    let sampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let r = app
        .send(
            Method::GET,
            &detail(&customer_id(7003)),
            &[("traceparent", sampled)],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    let spans = rx
        .trace_with("0af7651916cd43dd8448eb211c80319c", "GET customer_detail", 1)
        .await;
    assert_eq!(
        one(&spans, "GET customer_detail").parent_span_id,
        "b7ad6b7169203331"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let traces: BTreeSet<String> = rx.spans().into_iter().map(|s| s.trace_id).collect();
    assert_eq!(
        traces,
        BTreeSet::from(["0af7651916cd43dd8448eb211c80319c".to_owned()])
    );
    app.stop().await;
}

#[tokio::test]
async fn every_retry_is_an_attempt_span_and_carries_its_own_traceparent() {
    let rx = Receiver::start().await;
    let app = spawn_app_overlay(&format!(
        "{}\n[upstream.retry]\nmax_retries = 2\nbackoff = \"10ms\"\n",
        rx.overlay("")
    ))
    .await;
    let path = "/api/v1/customer/customer?page=9";
    let r = app
        .send(Method::GET, path, &[("x-sandbox-fault", "status=503")], b"")
        .await;
    assert_eq!(r.status, 503, "{}", r.text());

    let sent = upstream_trace_headers(&app, "/api/v1/customer/customer?");
    assert_eq!(sent.len(), 3, "two retries: {sent:?}");
    let parsed: Vec<_> = sent.iter().map(|(tp, _)| parse(tp)).collect();
    let trace = parsed[0].0.clone();
    assert!(parsed.iter().all(|(t, _, _)| *t == trace));
    let parents: BTreeSet<String> = parsed.iter().map(|(_, p, _)| p.clone()).collect();
    assert_eq!(parents.len(), 3, "each attempt is its own parent");

    let spans = rx.trace_with(&trace, "GET customer_list", 1).await;
    let root = one(&spans, "GET customer_list");
    assert_eq!(root.attr("http.response.status_code"), Some("503"));
    assert_eq!(root.status, STATUS_ERROR);
    let upstream = one(&spans, "upstream");
    assert_eq!(upstream.attr("gateway.upstream.attempts"), Some("3"));
    let mut attempts: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.name == "upstream attempt")
        .collect();
    attempts.sort_by_key(|s| s.attr("gateway.upstream.attempt").map(str::to_owned));
    assert_eq!(attempts.len(), 3);
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a.parent_span_id, upstream.span_id);
        assert_eq!(
            a.attr("gateway.upstream.attempt"),
            Some(&*(i + 1).to_string())
        );
        assert_eq!(a.attr("http.response.status_code"), Some("503"));
        let resend = (i > 0).then(|| i.to_string());
        assert_eq!(a.attr("http.request.resend_count"), resend.as_deref());
        assert_eq!(a.status, STATUS_ERROR);
        assert!(
            parents.contains(&a.span_id),
            "{} was not sent upstream",
            a.span_id
        );
    }
    app.stop().await;
}
