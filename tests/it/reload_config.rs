//! Live reload of the whole configuration, on real sockets: a mask-rule change applies to
//! the next request (answers cached before it included), a refused configuration leaves the
//! running one serving, restart-only keys are named and kept, the config file's change
//! triggers it, and a request admitted before a reload finishes under its own generation.

use std::time::Duration;

use http::Method;
use paycombat_gateway::Reloaded;

use crate::common::*;

/// No watcher: the test reloads when it means to (the file-trigger test has its own).
const NO_WATCH: &str = "[server]\nwatch_files = false\n";

/// The shipped `mask.rules` plus a `redact` rule for `field`, as a TOML layer.
fn rules_plus(field: &str) -> String {
    let defaults: toml::Table = paycombat_gateway::defaults::DEFAULT_TOML.parse().unwrap();
    let mut rules = defaults["mask"]["rules"].as_array().unwrap().clone();
    let mut rule = toml::Table::new();
    rule.insert("field".into(), field.into());
    rule.insert("strategy".into(), "redact".into());
    rules.push(rule.into());
    let mut mask = toml::Table::new();
    mask.insert("rules".into(), rules.into());
    let mut doc = toml::Table::new();
    doc.insert("mask".into(), mask.into());
    toml::to_string(&doc).unwrap()
}

/// Rewrites the gateway's config file: the test configuration with `extra` over it.
fn rewrite(app: &TestApp, extra: &str) {
    let toml = test_config(app.dir.path(), &app.sandbox.base_url(), extra);
    std::fs::write(app.path("gateway.toml"), toml).unwrap();
}

/// An echo of a forwarded (never cached) request carrying `description: <value>` as a
/// header: the sandbox answers it back under `data.headers`.
async fn echoed_description(app: &TestApp) -> serde_json::Value {
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/reload",
            &[("description", "plain words")],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    echoed_line(&r.json()["data"]["headers"]["description"])
}

/// The sandbox echoes each header as its lines; a rule that masks the field may replace the
/// whole list with one value.
pub(crate) fn echoed_line(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Array(lines) if lines.len() == 1 => lines[0].clone(),
        other => other.clone(),
    }
}

async fn reloads(app: &TestApp, result: &str) -> f64 {
    value(
        &app.metrics().await,
        "gateway_config_reloads_total",
        &[("result", result)],
    )
}

#[tokio::test]
async fn a_mask_rule_change_applies_to_the_next_request_cached_answers_included() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let path = detail(FIXTURE_ID);
    // Filled, then answered from the cache, under the running rules.
    let first = app.get(&path).await;
    assert_eq!(first.json()["data"]["description"], "Test New Customer 2");
    let hit = app.get(&path).await;
    assert!(
        hit.header("cache-status").contains("hit"),
        "{}",
        hit.header("cache-status")
    );
    assert_eq!(hit.json()["data"]["description"], "Test New Customer 2");
    assert_eq!(echoed_description(&app).await, "plain words");

    rewrite(&app, &format!("{NO_WATCH}{}", rules_plus("description")));
    match reload.reload().await {
        Reloaded::Applied { changed, .. } => assert_eq!(changed, ["mask.rules"]),
        other => panic!("{other:?}"),
    }
    // The entry filled before the reload is gone: the next read refills under the new rule.
    let after = app.get(&path).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.json()["data"]["description"], "[REDACTED]");
    assert!(
        !after.header("cache-status").contains("hit"),
        "{}",
        after.header("cache-status")
    );
    let cached = app.get(&path).await;
    assert!(
        cached.header("cache-status").contains("hit"),
        "{}",
        cached.header("cache-status")
    );
    assert_eq!(cached.json()["data"]["description"], "[REDACTED]");
    // A forwarded route too.
    assert_eq!(echoed_description(&app).await, "[REDACTED]");

    let scrape = app.metrics().await;
    assert_eq!(
        value(
            &scrape,
            "gateway_config_reloads_total",
            &[("result", "applied")]
        ),
        1.0
    );
    assert_eq!(
        value(&scrape, "gateway_config_last_reload_successful", &[]),
        1.0
    );
    assert_eq!(
        value(
            &scrape,
            "gateway_cache_invalidations_total",
            &[("reason", "config_reload")]
        ),
        1.0
    );
    // `/admin/config` shows the rule now in force.
    let shown = app
        .admin(
            Method::GET,
            "/admin/config",
            &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
        )
        .await
        .json()["data"]
        .clone();
    let rules = shown["mask"]["rules"].as_array().unwrap();
    assert_eq!(rules.last().unwrap()["field"], "description");
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_configuration_keeps_the_running_one_and_names_every_problem() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    assert_eq!(echoed_description(&app).await, "plain words");
    // Two problems, in two sections, with a valid rule change beside them.
    rewrite(
        &app,
        &format!(
            "{NO_WATCH}[cache]\nmax_entry_bytes = 0\n[log]\nlevel = \"verbose\"\n{}",
            rules_plus("description")
        ),
    );
    match reload.reload().await {
        Reloaded::Invalid { problems } => {
            let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
            assert!(keys.contains(&"cache.max_entry_bytes"), "{keys:?}");
            assert!(keys.contains(&"log.level"), "{keys:?}");
        }
        other => panic!("{other:?}"),
    }
    // Nothing of it applies: not the valid rule either.
    assert_eq!(echoed_description(&app).await, "plain words");
    assert_eq!(reloads(&app, "invalid").await, 1.0);
    assert_eq!(reloads(&app, "applied").await, 0.0);
    let scrape = app.metrics().await;
    assert_eq!(
        value(&scrape, "gateway_config_last_reload_successful", &[]),
        0.0
    );

    // Fixed: applied, and the gauge says so again.
    rewrite(&app, &format!("{NO_WATCH}{}", rules_plus("description")));
    assert!(matches!(reload.reload().await, Reloaded::Applied { .. }));
    assert_eq!(echoed_description(&app).await, "[REDACTED]");
    let scrape = app.metrics().await;
    assert_eq!(
        value(&scrape, "gateway_config_last_reload_successful", &[]),
        1.0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_restart_only_change_is_named_and_left_as_it_is() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let elsewhere = spare.local_addr().unwrap();
    drop(spare);
    rewrite(
        &app,
        &format!(
            "[server]\nwatch_files = false\nlisten = \"{elsewhere}\"\nmax_request_body_bytes = 64\n\
             [cluster]\nprefix = \"renamed\"\n"
        ),
    );
    match reload.reload().await {
        Reloaded::Applied {
            changed,
            needs_restart,
            ..
        } => {
            assert_eq!(changed, ["server.max_request_body_bytes"]);
            assert_eq!(needs_restart, ["server.listen", "cluster.prefix"]);
        }
        other => panic!("{other:?}"),
    }
    // Still served on the port it was started on; nothing listens on the new one.
    assert_eq!(app.get("/api/v1/anything/still-here").await.status, 200);
    assert!(tokio::net::TcpStream::connect(elsewhere).await.is_err());
    // The live key took effect: a body over 64 bytes is refused.
    let big = app
        .send(Method::POST, "/api/v1/anything/big", &[], &[b'x'; 100])
        .await;
    assert_eq!(big.status, 413, "{}", big.text());
    // `/admin/config` shows what runs: the old address and prefix, the new limit.
    let shown = app
        .admin(
            Method::GET,
            "/admin/config",
            &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
        )
        .await
        .json()["data"]
        .clone();
    assert_eq!(shown["server"]["listen"], "127.0.0.1:0");
    assert_eq!(shown["cluster"]["prefix"], "paycombat-gateway");
    assert_eq!(shown["server"]["max_request_body_bytes"], 64);
    // Re-read with nothing new: unchanged, the pending restart named again.
    match reload.reload().await {
        Reloaded::Unchanged { needs_restart } => {
            assert_eq!(needs_restart, ["server.listen", "cluster.prefix"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(reloads(&app, "unchanged").await, 1.0);
    app.stop().await;
}

#[tokio::test]
async fn writing_the_config_file_reloads_it() {
    let (app, _reload) = spawn_app_reloading("").await;
    assert_eq!(echoed_description(&app).await, "plain words");
    rewrite(&app, &rules_plus("description"));
    assert!(
        eventually(Duration::from_secs(10), || async {
            reloads(&app, "applied").await >= 1.0
        })
        .await,
        "a change to the config file reloads it"
    );
    assert_eq!(echoed_description(&app).await, "[REDACTED]");
    app.stop().await;
}

#[tokio::test]
async fn a_request_admitted_before_a_reload_finishes_under_its_own_generation() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let client = app.client.clone();
    let url = format!("http://{}/api/v1/anything/slow", app.addr);
    let before = app.state().request_count("all");
    let slow = tokio::spawn(async move {
        request(
            &client,
            Method::GET,
            &url,
            &[
                ("x-token", CLIENT_KEY),
                ("x-sandbox-fault", "delay=1500ms"),
                ("description", "plain words"),
            ],
            b"",
        )
        .await
    });
    assert!(app.upstream_received(before + 1).await);
    rewrite(&app, &format!("{NO_WATCH}{}", rules_plus("description")));
    assert!(matches!(reload.reload().await, Reloaded::Applied { .. }));
    // Admitted after the swap: the new rule.
    assert_eq!(echoed_description(&app).await, "[REDACTED]");
    // Admitted before it: answered whole, under the rules it was admitted with.
    let r = slow.await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        echoed_line(&r.json()["data"]["headers"]["description"]),
        "plain words"
    );
    // Recorded like any other request: nothing left in flight for the drain.
    let scrape = app.metrics().await;
    assert_eq!(value(&scrape, "gateway_inflight_requests", &[]), 0.0);
    app.stop().await;
}

#[tokio::test]
async fn the_sampling_ratio_reloads_without_restarting_the_exporter() {
    let rx = crate::common::otlp::Receiver::start().await;
    let (app, reload) =
        spawn_app_reloading(&format!("{NO_WATCH}{}", rx.overlay("sampling_ratio = 0.0"))).await;
    // The sampled flag the gateway's own traceparent carried to paycombat.
    let sampled_flag = |app: &TestApp| -> String {
        let last = app.state().requests().pop().unwrap();
        let tp = last.headers["traceparent"].to_str().unwrap().to_owned();
        tp.rsplit('-').next().unwrap().to_owned()
    };
    assert_eq!(app.get("/api/v1/anything/ratio-0").await.status, 200);
    assert_eq!(sampled_flag(&app), "00");

    rewrite(
        &app,
        &format!("{NO_WATCH}{}", rx.overlay("sampling_ratio = 1.0")),
    );
    match reload.reload().await {
        Reloaded::Applied { changed, .. } => assert_eq!(changed, ["telemetry.sampling_ratio"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(app.get("/api/v1/anything/ratio-1").await.status, 200);
    assert_eq!(sampled_flag(&app), "01");
    app.stop().await;
}

/// History check for the generation swap: while the configuration flips between two rule
/// sets, every answer is masked wholly under one of them, never half of each.
#[tokio::test]
async fn answers_during_reloads_are_masked_wholly_under_one_configuration() {
    let x = format!(
        "{NO_WATCH}[mask]\nplaceholder = \"[X]\"\n{}",
        rules_plus("description")
    );
    let y = format!(
        "{NO_WATCH}[mask]\nplaceholder = \"[Y]\"\n{}",
        rules_plus("remark")
    );
    let (app, reload) = spawn_app_reloading(&x).await;
    let app = std::sync::Arc::new(app);
    let mut clients = Vec::new();
    for c in 0..6 {
        let app = app.clone();
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for n in 0..20 {
                let r = app
                    .send(
                        Method::GET,
                        &format!("/api/v1/anything/flip-{c}-{n}"),
                        &[("description", "plain d"), ("remark", "plain r")],
                        b"",
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text());
                let h = &r.json()["data"]["headers"];
                seen.push((
                    echoed_line(&h["description"]).as_str().unwrap().to_owned(),
                    echoed_line(&h["remark"]).as_str().unwrap().to_owned(),
                ));
            }
            seen
        }));
    }
    for flip in 0..10 {
        rewrite(&app, if flip % 2 == 0 { &y } else { &x });
        assert!(matches!(reload.reload().await, Reloaded::Applied { .. }));
        tokio::task::yield_now().await;
    }
    let mut by_config = [0, 0];
    for c in clients {
        for (d, r) in c.await.unwrap() {
            match (d.as_str(), r.as_str()) {
                ("[X]", "plain r") => by_config[0] += 1,
                ("plain d", "[Y]") => by_config[1] += 1,
                other => panic!("an answer masked under neither configuration: {other:?}"),
            }
        }
    }
    assert_eq!(by_config[0] + by_config[1], 120);
    assert_eq!(reloads(&app, "applied").await, 10.0);
    std::sync::Arc::try_unwrap(app)
        .unwrap_or_else(|_| panic!("clients done"))
        .stop()
        .await;
}
