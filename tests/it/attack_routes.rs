//! Attack tests on how an answer's field policy is chosen: from the method
//! and path the gateway sees. An upstream may execute another method than the one the gateway
//! classified (a method-override parameter); the answer must still be judged under the policy
//! of what was executed: refused (400 `BAD_PATH`) or judged as that route.

use http::Method;
use serde_json::json;

use crate::attack_keys::{gateway, serve};
use crate::common::readings::assert_no_seed;
use crate::common::*;

/// F9: `?_method=GET` reaches paycombat; a framework that honours it serves the customer
/// detail, which the gateway judges as a `customer`-family POST (`report`).
#[tokio::test]
async fn a_method_override_parameter_never_picks_a_weaker_policy() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let path = detail(&customer_id(0x21d_901));
    let body = json!({"status": true, "data": {
        "customer_id": "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "notes": "Alice Overridename",
    }})
    .to_string();
    bodies
        .lock()
        .unwrap()
        .insert(path.clone(), ("200 OK", body));
    // The enforce route masks the note.
    let get = app.get(&path).await;
    assert_eq!(get.status, 200, "{}", get.text());
    assert_no_seed(&get, &["Overridename"], "GET");
    for (method, query) in [
        (Method::POST, "?_method=GET"),
        (Method::PUT, "?_method=GET"),
        (Method::POST, "?_METHOD=get"),
    ] {
        let r = app
            .send(
                method.clone(),
                &format!("{path}{query}"),
                &[("content-type", "application/json")],
                b"",
            )
            .await;
        let what = format!("{method} {path}{query} -> {}", r.status);
        let upstream = h.last_head();
        // Either the override never reaches paycombat, or the answer is judged as the GET.
        if upstream.to_ascii_lowercase().contains("_method") {
            assert_no_seed(&r, &["Overridename"], &what);
        }
    }
    app.stop().await;
}

/// F9: a case variant of an `enforce` route's path is forwarded as spelled and judged under
/// the `report` policy of whatever family its first segments name; a case-insensitive router
/// upstream serves the customer detail there.
#[tokio::test]
async fn a_case_variant_of_an_enforce_route_is_judged_as_that_route() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let id = customer_id(0x21d_902);
    let body = json!({"status": true, "data": {
        "customer_id": "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "is_wallet_ready": true,
        "notes": "Alice Casename",
    }})
    .to_string();
    for path in [
        format!("/api/v1/Customer/customer/{id}"),
        format!("/api/v1/customer/Customer/{id}"),
        format!("/api/v1/customer/Customer-Wallet-Is-Ready/{id}"),
    ] {
        bodies
            .lock()
            .unwrap()
            .insert(path.clone(), ("200 OK", body.clone()));
        let r = app.get(&path).await;
        let what = format!("GET {path} -> {}", r.status);
        // Refused (4xx) is as good as masked; a 200 must carry no unmasked note.
        assert_no_seed(&r, &["Casename"], &what);
    }
    app.stop().await;
}
