//! The field policy's operator surface: `GET /admin/mask/undeclared` (admin token, read-only)
//! and `[mask.policy]` in `/admin/config`.

use http::Method;

use crate::common::{spawn_app, ADMIN_TOKEN};

#[tokio::test]
async fn undeclared_listing_needs_the_token_is_read_only_and_names_every_family() {
    let app = spawn_app().await;
    let path = "/admin/mask/undeclared";

    for auth in [None, Some("Bearer wrong-token")] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let r = app.admin(Method::GET, path, &headers).await;
        assert_eq!(r.status, 401, "{auth:?}: {}", r.text());
    }
    // A wrong method is 405 for every admin endpoint alike (one routing table),
    // naming the methods it takes: nothing about the listing itself.
    let r = app.admin(Method::POST, path, &[]).await;
    assert_eq!(r.status, 405, "{}", r.text());
    assert_eq!(r.header("allow"), "GET, HEAD");

    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let auth = [("authorization", bearer.as_str())];
    let r = app.admin(Method::GET, path, &auth).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), "no-store");
    let v = r.json();
    assert_eq!(v["status"], true);
    let d = &v["data"];
    assert_eq!(d["modes"]["customer_detail"], "enforce");
    assert_eq!(d["modes"]["wallet_ready"], "enforce");
    assert_eq!(d["modes"]["payin"], "report");
    let families = d["undeclared"]["families"].as_array().expect("families");
    let names: Vec<&str> = families
        .iter()
        .map(|f| f["family"].as_str().unwrap_or(""))
        .collect();
    for want in [
        "customer_detail",
        "wallet_ready",
        "customer",
        "payin",
        "payout",
        "beneficiary",
        "checkout",
        "wallet",
        "transaction",
        "master_data",
        "payment_method",
        "other",
    ] {
        assert!(names.contains(&want), "{want} missing: {names:?}");
    }
    assert_eq!(d["undeclared"]["max_paths_per_family"], 256);

    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let r = app.admin(method.clone(), path, &auth).await;
        assert_eq!(r.status, 405, "{method}: {}", r.text());
        assert_eq!(r.header("allow"), "GET, HEAD");
        assert_eq!(r.error_code(), "METHOD_NOT_ALLOWED");
    }

    // `/admin/config` shows the policy in force.
    let r = app.admin(Method::GET, "/admin/config", &auth).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let p = &r.json()["data"]["mask"]["policy"];
    assert_eq!(p["families"]["customer_detail"]["mode"], "enforce");
    assert_eq!(p["default_strategy"], "redact");
    assert!(p["key_words"]
        .as_array()
        .is_some_and(|w| w.iter().any(|w| w == "msisdn")));
    assert_eq!(p["detectors"].as_array().map(Vec::len), Some(5));
    // Typed declarations as in force: kinds, the objects they place and the enums they name.
    assert_eq!(p["families"]["customer"]["mode"], "enforce");
    let has = |v: &serde_json::Value, want: &str| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(want)))
    };
    assert!(
        has(
            &p["families"]["customer_detail"]["declared"],
            "data:customer"
        ),
        "{p}"
    );
    assert!(
        has(
            &p["families"]["customer"]["declared"],
            "data.items[]:customer"
        ),
        "{p}"
    );
    assert!(has(&p["objects"]["customer"], "customer_id:id"), "{p}");
    assert!(has(&p["objects"]["person"], "first_name:personal"), "{p}");
    assert!(has(&p["enums"]["payment_method"], "SG_PAYNOW"), "{p}");
    app.stop().await;
}
