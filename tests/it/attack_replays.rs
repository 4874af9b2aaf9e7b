//! Attack tests on what the gateway keeps and shows after seeded traffic:
//! the `Idempotency-Key` store (a stored answer replayed, with the headers a replay may
//! carry: `Location`, `Content-Disposition`, `Content-Language` seeded upstream), and the
//! operator's views — `/metrics`, `/admin/config`, the JSON access log. All held on the tree
//! this was written against (the undeclared-paths listing is finding F1, in
//! `attack_keys`): these guard it.

use http::Method;
use serde_json::json;

use crate::attack_keys::gateway;
use crate::common::readings::assert_no_seed;
use crate::common::*;

const SEEDS: [&str; 5] = [
    "victim.replay@example.com",
    "victim.replay",
    "081234567333",
    "3173000000007333",
    "Replayname",
];

fn seeded_body() -> String {
    json!({"status": true, "data": {
        "payin_id": "payin_67d84b19d50b490a8fa75ab20bbf275a",
        "customer_email": "victim.replay@example.com",
        "note": "call 081234567333",
        "customer_name": "Alice Replayname",
        "ref": "3173000000007333",
    }})
    .to_string()
}

#[tokio::test]
async fn stored_and_replayed_answers_and_operator_views_hold_no_seed() {
    let h = Hostile::start().await;
    let body = seeded_body();
    let answer = response(
        "201 Created",
        &[
            ("content-type", "application/json"),
            ("location", "/api/v1/payin/victim.replay@example.com"),
            (
                "content-disposition",
                "inline; filename=\"Alice Replayname 081234567333.json\"",
            ),
            ("content-language", "id-Replayname"),
            ("x-request-id", "victim.replay@example.com"),
        ],
        body.as_bytes(),
    );
    h.answer_bytes(answer);
    let app = gateway(&h).await;
    let key = "attack-replay-0001";
    let req = br#"{"amount": 1000, "currency": "IDR", "reference": "INV-21D"}"#;
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", key),
    ];
    let first = app
        .send(Method::POST, "/api/v1/payin/create", &headers, req)
        .await;
    assert!(
        first.status.is_success(),
        "{}: {}",
        first.status,
        first.text()
    );
    assert_no_seed(&first, &SEEDS, "first send");
    let sent = h.count();
    for round in 0..2 {
        let again = app
            .send(Method::POST, "/api/v1/payin/create", &headers, req)
            .await;
        assert_eq!(
            again.header("idempotent-replayed"),
            "true",
            "{}",
            again.text()
        );
        assert_eq!(h.count(), sent, "a replay is not sent upstream");
        assert_no_seed(&again, &SEEDS, &format!("replay {round}"));
        assert_eq!(again.body, first.body, "the replay is the stored answer");
    }

    // The same seeds through forwarded and cached reads, then the operator's views.
    h.answer_bytes(response(
        "200 OK",
        &[
            ("content-type", "application/json"),
            ("x-who", "victim.replay@example.com"),
        ],
        body.as_bytes(),
    ));
    for path in [
        "/api/v1/payin/attack-replay".to_owned(),
        detail(&customer_id(0x21d_601)),
    ] {
        for _ in 0..2 {
            let r = app.get(&path).await;
            assert_no_seed(&r, &SEEDS, &path);
        }
    }
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let auth = [("authorization", bearer.as_str())];
    let views = [
        (
            "/metrics",
            app.admin(Method::GET, "/metrics", &[]).await.text(),
        ),
        (
            "/admin/config",
            app.admin(Method::GET, "/admin/config", &auth).await.text(),
        ),
    ];
    let log = app.stop_and_read_access_log().await;
    assert!(!log.is_empty(), "the access log was written");
    for (what, text) in views.iter().chain([("access log", log)].iter()) {
        for s in SEEDS {
            assert!(!text.contains(s), "{what} holds {s}");
        }
    }
}
