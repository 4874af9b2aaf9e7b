//! Authentication and authorization: missing, unknown and right keys, allowlists, a warm cache,
//! keys kept from the upstream, and the no-auth mode.

use http::Method;
use paycombat_gateway::auth::hash_key;

use crate::common::*;

use super::*;

#[tokio::test]
async fn missing_key_is_401_unauthenticated_and_not_forwarded() {
    let app = start("").await;
    let r = keyless(&app, Method::GET, "/api/v1/anything/x").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHENTICATED");
    assert_eq!(r.header("content-type"), "application/json; charset=utf-8");
    // Empty values and other Authorization schemes are no key either.
    for (name, value) in [
        ("x-token", "  "),
        ("authorization", "Basic dXNlcjpwYXNz"),
        ("authorization", "Bearer"),
    ] {
        let r = app
            .send(Method::GET, "/api/v1/anything/x", &[(name, value)], b"")
            .await;
        assert_eq!(r.status, 401, "{name}: {value}");
        assert_eq!(r.error_code(), "UNAUTHENTICATED", "{name}: {value}");
    }
    // A write without a key is refused before its body is read or sent.
    let r = keyless(&app, Method::POST, "/api/v1/customer/create").await;
    assert_eq!(r.status, 401);
    assert_eq!(app.state().request_count("all"), 0);
    app.stop().await;
}

#[tokio::test]
async fn unknown_or_conflicting_key_is_401_unknown_client_key() {
    let app = start("").await;
    let r = get_with(&app, "/api/v1/anything/x", "not-a-configured-key").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/x",
            &[("authorization", "Bearer not-a-configured-key")],
            b"",
        )
        .await;
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    // The hash itself is not a key.
    let r = get_with(&app, "/api/v1/anything/x", &hash_key(CLIENT_KEY)).await;
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    // Two different valid keys at once: refused rather than picking one.
    let r = app
        .send(
            Method::GET,
            &detail(&customer_id(1)),
            &[
                ("x-token", CLIENT_KEY),
                ("authorization", &format!("Bearer {READONLY_KEY}")),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    assert_eq!(app.state().request_count("all"), 0);
    app.stop().await;
}

#[tokio::test]
async fn right_key_via_x_token_or_bearer_is_served() {
    let app = start("").await;
    let r = get_with(&app, "/api/v1/anything/xt", CLIENT_KEY).await;
    assert_eq!(r.status, 200, "{}", r.text());
    for auth in [
        format!("Bearer {CLIENT_KEY}"),
        format!("bearer  {CLIENT_KEY}"),
    ] {
        let r = app
            .send(
                Method::GET,
                "/api/v1/anything/bearer",
                &[("authorization", &auth)],
                b"",
            )
            .await;
        assert_eq!(r.status, 200, "{auth}: {}", r.text());
    }
    // The same key in both headers is one identity.
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/both",
            &[
                ("x-token", CLIENT_KEY),
                ("authorization", &format!("Bearer {CLIENT_KEY}")),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The readonly key works on its one allowed route, through either header.
    assert_eq!(
        get_with(&app, &detail(&customer_id(1)), READONLY_KEY)
            .await
            .status,
        200
    );
    let r = app
        .send(
            Method::GET,
            &detail(&customer_id(2)),
            &[("authorization", &format!("Bearer {READONLY_KEY}"))],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.state().request_count("echo"), 4);
    assert_eq!(app.state().request_count("customer_detail"), 2);
    app.stop().await;
}

#[tokio::test]
async fn routes_outside_the_allowlist_are_403_forbidden() {
    let app = start("").await;
    let id = customer_id(3);
    for (method, path) in [
        (Method::GET, wallet(&customer_id(3))),
        (Method::DELETE, detail(&customer_id(3))),
        (Method::GET, format!("/api/v1/customer/customer/{id}/extra")),
        (Method::GET, "/api/v1/customer/customer".to_owned()),
        (Method::POST, "/api/v1/customer/create".to_owned()),
        (Method::GET, "/api/v1/payout/list".to_owned()),
    ] {
        let r = app
            .send(method.clone(), &path, &[("x-token", READONLY_KEY)], b"{}")
            .await;
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        assert_eq!(r.error_code(), "FORBIDDEN", "{method} {path}");
    }
    assert_eq!(app.state().request_count("all"), 0);
    // The same routes are fine for the full-access client.
    assert_eq!(app.get(&wallet(&customer_id(3))).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_warm_cache_never_skips_authorization() {
    let app = start("").await;
    let (d, w) = (detail(&customer_id(5)), wallet(&customer_id(5)));
    assert_eq!(app.get(&d).await.status, 200);
    assert_eq!(app.get(&w).await.status, 200);
    let r = app.get(&d).await;
    assert!(
        r.header("cache-status").contains("hit"),
        "warm: {}",
        r.header("cache-status")
    );
    let r = app.get(&w).await;
    assert!(
        r.header("cache-status").contains("hit"),
        "warm: {}",
        r.header("cache-status")
    );
    let before = app.metrics().await;
    let lookups =
        |s: &str, route: &str| value(s, "gateway_cache_lookups_total", &[("route", route)]);

    let r = get_with(&app, &w, READONLY_KEY).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "FORBIDDEN");
    assert!(r.headers.get("cache-status").is_none());
    let r = keyless(&app, Method::GET, &d).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHENTICATED");
    let r = get_with(&app, &d, "wrong-key").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNKNOWN_CLIENT_KEY");
    // Refusals carry no customer data and did not even look at the cache.
    let after = app.metrics().await;
    assert_eq!(
        lookups(&after, "customer_detail"),
        lookups(&before, "customer_detail")
    );
    assert_eq!(
        lookups(&after, "customer_wallet_ready"),
        lookups(&before, "customer_wallet_ready")
    );

    // The readonly client may read the detail: served from the cache.
    let r = get_with(&app, &d, READONLY_KEY).await;
    assert_eq!(r.status, 200);
    assert!(r.header("cache-status").contains("hit"));
    assert_eq!(app.state().request_count("customer_detail"), 1);
    assert_eq!(app.state().request_count("customer_wallet_ready"), 1);
    app.stop().await;
}

#[tokio::test]
async fn client_keys_never_reach_the_upstream() {
    let app = start("").await;
    let json = [("content-type", "application/json")];
    let bearer = format!("Bearer {CLIENT_KEY}");
    let ro_bearer = format!("Bearer {READONLY_KEY}");
    let id = customer_id(10);
    let calls: Vec<(Method, String, Headers, Vec<u8>)> = vec![
        (
            Method::GET,
            detail(&customer_id(10)),
            vec![("x-token", CLIENT_KEY)],
            vec![],
        ),
        (
            Method::GET,
            wallet(&customer_id(10)),
            vec![("authorization", &bearer)],
            vec![],
        ),
        (
            Method::GET,
            detail(&customer_id(11)),
            vec![("x-token", READONLY_KEY)],
            vec![],
        ),
        (
            Method::GET,
            detail(&customer_id(12)),
            vec![("authorization", &ro_bearer)],
            vec![],
        ),
        (
            Method::GET,
            "/api/v1/anything/q?page=1".into(),
            vec![("x-token", CLIENT_KEY), ("authorization", &bearer)],
            vec![],
        ),
        (
            Method::PATCH,
            "/api/v1/customer/update".into(),
            [json[0], ("authorization", &bearer)].to_vec(),
            format!(r#"{{"customer_id":"{id}","description":"x"}}"#).into_bytes(),
        ),
        (
            Method::POST,
            "/api/v1/anything/post".into(),
            [json[0], ("x-token", CLIENT_KEY)].to_vec(),
            br#"{"a":1}"#.to_vec(),
        ),
        (
            Method::DELETE,
            detail(&customer_id(13)),
            vec![("x-token", CLIENT_KEY)],
            vec![],
        ),
    ];
    for (method, path, headers, body) in &calls {
        let r = app.send(method.clone(), path, headers, body).await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.text()
        );
    }
    let seen = app.state().requests();
    assert_eq!(seen.len(), calls.len());
    let secrets: Vec<String> = [CLIENT_KEY, READONLY_KEY]
        .iter()
        .flat_map(|k| [k.to_string(), hash_key(k)])
        .collect();
    let contains =
        |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    for req in &seen {
        assert_eq!(
            req.headers.get_all("x-token").iter().count(),
            1,
            "{}",
            req.path_and_query
        );
        assert_eq!(req.headers["x-token"], app.sandbox_cfg.token.as_str());
        assert!(
            req.headers.get("authorization").is_none(),
            "{}",
            req.path_and_query
        );
        for secret in &secrets {
            assert!(!contains(req.path_and_query.as_bytes(), secret));
            assert!(!contains(&req.body, secret), "{} body", req.path_and_query);
            for (name, value) in &req.headers {
                assert!(!contains(name.as_str().as_bytes(), secret));
                assert!(
                    !contains(value.as_bytes(), secret),
                    "{} header {name}",
                    req.path_and_query
                );
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn no_auth_mode_lets_keyless_requests_through_and_strips_client_tokens() {
    let app = start("[auth]\nmode = \"none\"").await;
    let r = keyless(&app, Method::GET, &detail(&customer_id(16))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = keyless(&app, Method::GET, &wallet(&customer_id(16))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Whatever a client sends as a token is not forwarded; the merchant token is.
    let r = app
        .send_raw(
            Method::GET,
            "/api/v1/anything/none",
            &[
                ("x-token", "client-sent-token"),
                ("authorization", "Bearer client-sent-bearer"),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // No rate limit either: the readonly client's burst of 3 does not apply.
    for _ in 0..5 {
        assert_eq!(
            get_with(&app, &wallet(&customer_id(16)), READONLY_KEY)
                .await
                .status,
            200
        );
    }
    for req in app.state().requests() {
        assert_eq!(req.headers.get_all("x-token").iter().count(), 1);
        assert_eq!(req.headers["x-token"], app.sandbox_cfg.token.as_str());
        assert!(req.headers.get("authorization").is_none());
    }
    assert_eq!(app.state().request_count("echo"), 1);
    let scrape = app.metrics().await;
    assert_eq!(requests_total(&scrape, "anonymous"), Some(8.0));
    // With authentication off no request is the readonly client's: no such series.
    assert_eq!(requests_total(&scrape, "readonly"), None);
    // Nobody was refused: no rejection series at all.
    assert_eq!(
        sample(&scrape, "gateway_client_rejections_total", &[]),
        None
    );
    app.stop().await;
}
