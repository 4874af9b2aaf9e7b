//! `GET /admin/config`: the validated configuration after every layer, with
//! exactly the keys of `config/default.toml`, secrets redacted, behind the
//! admin token.

use http::Method;

use crate::common::*;

#[tokio::test]
async fn admin_config_shows_settings_never_secrets_and_needs_the_admin_token() {
    let inline_token = "snd_inline-merchant-token-value";
    let app = spawn_app_overlay(&format!(
        "[upstream]\ntoken_file = \"\"\ntoken = \"{inline_token}\"\n[cache.routes.customer_detail]\nttl = \"15s\""
    ))
    .await;
    let secrets = [
        inline_token.to_owned(),
        String::from_utf8(app.sandbox_cfg.signature_key.clone()).unwrap(),
        ADMIN_TOKEN.to_owned(),
        std::fs::read_to_string(app.path("mask_hmac_key")).unwrap(),
    ];

    for auth in [None, Some("Bearer wrong-token"), Some(ADMIN_TOKEN)] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let r = app.admin(Method::GET, "/admin/config", &headers).await;
        assert_eq!(r.status, 401, "{:?}: {}", auth, r.text());
        assert_eq!(r.error_code(), "UNAUTHENTICATED");
    }
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let r = app
        .admin(Method::GET, "/admin/config", &[("authorization", &bearer)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), "no-store");
    let text = r.text();
    for s in &secrets {
        assert!(!text.contains(s.trim()), "a secret leaked: {text}");
    }
    let v = r.json();
    let d = &v["data"];
    // Unset is "" (as in config/default.toml), never null; every key is there.
    assert_eq!(d["telemetry"]["otlp_endpoint"], "");
    assert_eq!(d["telemetry"]["honour_traceparent"], true);
    assert_eq!(d["telemetry"]["export_interval"], "5s");
    // A secret given as a value is redacted; one given as a file is named.
    assert_eq!(d["upstream"]["token"], "[redacted]");
    assert_eq!(d["upstream"]["token_file"], "");
    let sig_file = app.path("signature_key").display().to_string();
    assert_eq!(d["upstream"]["signature_key_file"], sig_file);
    assert_eq!(d["upstream"]["signature_key"], "");
    // Values in the configuration's own words, never Rust debug text.
    assert_eq!(d["server"]["trusted_proxies"], serde_json::json!([]));
    assert!(d["upstream"]["response_headers"]
        .as_array()
        .is_some_and(|h| h.iter().any(|h| h == "content-type")));
    assert!(!text.contains("TrustedProxies") && !text.contains("HeaderAllowlist"));
    assert_eq!(d["cluster"]["redis_url"], "");
    assert_eq!(
        d["admin"]["token_file"],
        app.path("admin_token").display().to_string()
    );
    assert_eq!(
        d["mask"]["hmac_key_file"],
        app.path("mask_hmac_key").display().to_string()
    );
    assert_eq!(d["server"]["listen"], "127.0.0.1:0");
    assert_eq!(d["upstream"]["base_url"], app.sandbox.base_url() + "/");
    assert_eq!(d["cache"]["routes"]["customer_detail"]["ttl"], "15s");
    assert_eq!(d["upstream"]["timeout"], "5s");
    assert_eq!(d["auth"]["mode"], "keys");
    assert_eq!(d["revision"], paycombat_gateway::build::REVISION);
    assert!(d["mask"]["rules"].as_array().unwrap().len() > 10);
    // Read-only: no other method (405, naming GET).
    let r = app
        .admin(Method::POST, "/admin/config", &[("authorization", &bearer)])
        .await;
    assert_eq!((r.status.as_u16(), r.header("allow")), (405, "GET, HEAD"));
    app.stop().await;

    // Without an admin token configured the endpoint does not exist.
    let app = spawn_app_overlay("[admin]\ntoken_file = \"\"").await;
    let r = app
        .admin(Method::GET, "/admin/config", &[("authorization", &bearer)])
        .await;
    assert_eq!(r.status, 404);
    app.stop().await;
}

/// Every key of `config/default.toml` appears in `GET /admin/config` under
/// the same dotted path (elements of a list of tables included), with a
/// value of the same kind: a new key shows there by construction.
#[tokio::test]
async fn admin_config_has_every_key_of_the_shipped_defaults() {
    fn keys(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    keys(&key, v, out);
                }
            }
            serde_json::Value::Array(items)
                if items.iter().all(|i| i.is_object()) && !items.is_empty() =>
            {
                for (i, item) in items.iter().enumerate() {
                    keys(&format!("{prefix}[{i}]"), item, out);
                }
            }
            leaf => out.push((prefix.to_owned(), leaf.clone())),
        }
    }
    fn at<'a>(root: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
        let mut v = root;
        for part in key.split('.') {
            let (name, index) = match part.split_once('[') {
                Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
                None => (part, None),
            };
            v = v.get(name)?;
            if let Some(i) = index {
                v = v.get(i)?;
            }
        }
        Some(v)
    }
    let shipped: serde_json::Value = toml::from_str(paycombat_gateway::config::DEFAULT_TOML)
        .expect("config/default.toml parses");
    let mut all = Vec::new();
    keys("", &shipped, &mut all);
    assert!(all.len() > 150, "{} keys", all.len());

    let app = spawn_app_overlay("").await;
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let r = app
        .admin(Method::GET, "/admin/config", &[("authorization", &bearer)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let d = r.json()["data"].clone();
    let kind = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "table",
    };
    let mut missing = Vec::new();
    for (key, value) in &all {
        match at(&d, key) {
            None => missing.push(key.clone()),
            Some(shown) => {
                assert_eq!(kind(shown), kind(value), "{key}: {shown} for {value}");
                // A duration the test did not change reads as the defaults write it
                // (`24h`, not `1day`).
                let duration = |v: &serde_json::Value| {
                    v.as_str()
                        .filter(|t| t.ends_with(|c: char| c.is_ascii_alphabetic()))
                        .and_then(|t| humantime_serde::re::humantime::parse_duration(t).ok())
                };
                if let (Some(a), Some(b)) = (duration(shown), duration(value)) {
                    if a == b {
                        assert_eq!(shown, value, "{key}: the same duration in other words");
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing from /admin/config: {missing:?}"
    );
    app.stop().await;
}
