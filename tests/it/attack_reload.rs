//! Attacks on the live configuration reload: what a cached answer holds is shaped by
//! more keys than `mask.*` and `cache.*`; a reload changing any of them must not let an
//! answer built under the old value be served again.

use http::Method;
use paycombat_gateway::Reloaded;

use crate::common::*;

const NO_WATCH: &str = "[server]\nwatch_files = false\n";

fn rewrite(app: &TestApp, extra: &str) {
    let toml = test_config(app.dir.path(), &app.sandbox.base_url(), extra);
    std::fs::write(app.path("gateway.toml"), toml).unwrap();
}

/// The shipped `upstream.response_headers` without `name`, as a TOML layer.
fn allowlist_without(name: &str) -> String {
    let defaults: toml::Table = paycombat_gateway::defaults::DEFAULT_TOML.parse().unwrap();
    let list: Vec<toml::Value> = defaults["upstream"]["response_headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v.as_str() != Some(name))
        .cloned()
        .collect();
    let mut upstream = toml::Table::new();
    upstream.insert("response_headers".into(), list.into());
    let mut doc = toml::Table::new();
    doc.insert("upstream".into(), upstream.into());
    toml::to_string(&doc).unwrap()
}

#[tokio::test]
async fn a_header_taken_off_the_allowlist_is_not_served_from_the_cache() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let path = detail(FIXTURE_ID);
    let first = app.get(&path).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(!first.header("etag").is_empty(), "{:?}", first.headers);
    let hit = app.get(&path).await;
    assert!(hit.header("cache-status").contains("hit"));

    rewrite(&app, &format!("{NO_WATCH}{}", allowlist_without("etag")));
    match reload.reload().await {
        Reloaded::Applied { changed, .. } => assert_eq!(changed, ["upstream.response_headers"]),
        other => panic!("{other:?}"),
    }
    // Whether answered from the cache or refilled, the header no longer listed is gone.
    for _ in 0..2 {
        let after = app.get(&path).await;
        assert_eq!(after.status, 200, "{}", after.text());
        assert_eq!(
            after.header("etag"),
            "",
            "{}: {:?}",
            after.header("cache-status"),
            after.headers
        );
    }
    app.stop().await;
}
