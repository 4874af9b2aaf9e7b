//! Label hygiene: ids, paths, methods and keys never become label values.

use http::Method;

use crate::common::metrics::exact;
use crate::common::*;

use super::*;

#[tokio::test]
async fn ids_paths_methods_and_keys_never_become_label_values() {
    let app = spawn_app().await;
    let written = customer_id(9);
    type Case = (Method, String, Vec<(&'static str, &'static str)>, u16);
    let cases: Vec<Case> = vec![
        // Not a well-formed id: bypasses the cache, and upstream refuses it.
        (
            Method::GET,
            "/api/v1/customer/customer/LEAKid1".into(),
            vec![],
            400,
        ),
        (
            Method::GET,
            format!("/api/v1/leakfamily2/{written}"),
            vec![],
            200,
        ),
        (
            Method::GET,
            "/api/v1/customer/customer?page=1&limit=5&sort=LEAKq3".into(),
            vec![],
            200,
        ),
        (
            Method::GET,
            "/api/v1/anything/x".into(),
            vec![("x-token", "LEAKkey4")],
            401,
        ),
        (Method::GET, "/LEAKpath5".into(), vec![], 404),
        (
            Method::PATCH,
            format!("/api/v1/customer/disable/{written}"),
            vec![],
            200,
        ),
    ];
    for (method, path, headers, status) in &cases {
        let r = app.send(method.clone(), path, headers, b"").await;
        assert_eq!(r.status, *status, "{method} {path}: {}", r.text());
    }
    let s = scrape(&app).await;
    assert_eq!(
        exact(
            &s,
            "gateway_requests_total",
            &[
                ("route", "customer_detail"),
                ("method", "GET"),
                ("status_class", "4xx"),
                ("cache", "bypass"),
                ("client", "test")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_requests_total",
            &[
                ("route", "other"),
                ("method", "GET"),
                ("status_class", "2xx"),
                ("cache", "none"),
                ("client", "test")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_requests_total",
            &[
                ("route", "customer_list"),
                ("method", "GET"),
                ("status_class", "2xx"),
                ("cache", "none"),
                ("client", "test")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_requests_total",
            &[
                ("route", "customer_disable"),
                ("method", "PATCH"),
                ("status_class", "2xx"),
                ("cache", "none"),
                ("client", "test")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_client_rejections_total",
            &[("client", "anonymous"), ("reason", "unauthenticated")]
        ),
        Some(1.0)
    );
    assert_closed_label_sets(&s);
    assert_absent(&s, &["LEAK", "leak", &written, "customer_000", "/api/"]);
    app.stop().await;
}

#[tokio::test]
async fn arbitrary_request_methods_do_not_mint_label_values() {
    let app = spawn_app().await;
    for m in ["LEAKMETHODA", "LEAKMETHODB"] {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let r = app.send(method, "/api/v1/anything/m", &[], b"").await;
        assert!(r.status.as_u16() >= 200, "{m}");
    }
    let s = scrape(&app).await;
    assert_absent(&s, &["LEAKMETHOD"]);
    assert_closed_label_sets(&s);
    app.stop().await;
}
