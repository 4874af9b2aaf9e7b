//! Findings on `enforce` routes: declared kinds that carry identity numbers (ids, urls,
//! counts, field paths, the report families' declared status) and declared scalars spelled
//! across arrays.

use serde_json::json;

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// Finding 1: on the `enforce` customer routes a **declared** leaf is checked only against its
/// kind's grammar and the `email`/`iban` detectors, and the shipped kinds admit identity
/// numbers: `id` takes a phone, NIK or card number behind one letter and an SSN behind a
/// letter prefix, `url` takes a phone or NIK
/// as a path segment, `count` takes 9 digits (a US SSN, a DOB as YYYYMMDD), `timestamp` a date
/// of birth. None of this is in the README's stated residual risk of a declaration (a name in
/// `code`/`field`/`url`).
#[tokio::test]
async fn enforce_declared_kinds_carry_identity_numbers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "customer_id": customer_id(0x21f_001),
        "org_id": "x081234567890",
        "created_by": "nik3173000000001234",
        "organization_reference_id": "4111111111111111x",
        "payin_sender_id_list": [
            "AB-123-45-6789", "alice_idvictim_17051990", "Budi-Idvictim-1", "jalan-idmelati-42-jakarta",
        ],
        "webhook_url": "https://hooks.example.com/6281299887766/3173000000005678",
        "created_at": "1990-05-17T00:00:00Z",
    }})
    .to_string();
    let seeds = [
        "081234567890",
        "3173000000001234",
        "4111111111111111",
        "123-45-6789",
        "6281299887766",
        "3173000000005678",
        "idvictim",
        "Idvictim",
        "idmelati",
    ];
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21f_001)),
        "200 OK",
        &body,
        &seeds,
        "declared kinds (detail)",
    )
    .await;
    app.stop().await;
}

/// Finding 1 (counts): `count` admits 0..=999999999, so a 9-digit US SSN and an 8-digit date
/// of birth pass as `page`, `limit`, `total_items` on the `enforce` customer list.
#[tokio::test]
async fn enforce_declared_counts_carry_ssn_and_dob() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let list = json!({"status": true, "data": {
        "items": [], "page": 123456789, "limit": 19900517, "total_items": 78051120,
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/customer/customer",
        "200 OK",
        &list,
        &["123456789", "19900517", "78051120"],
        "declared counts (list)",
    )
    .await;
    app.stop().await;
}

/// Finding 5: arrays are transparent on declared paths, so a declared *scalar* (`page:count`,
/// `customer_id:id`, `status:flag`) also takes an array of values, each judged alone: a phone or
/// NIK spelled digit by digit or in groups across a declared count array, or across id tokens
/// (`"x0","x8",…`), reaches the client on the `enforce` routes. The `report` families read an
/// undeclared array of scalars as its joined text; a declared array is never joined.
#[tokio::test]
async fn enforce_declared_scalars_spelled_across_arrays_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let list = json!({"status": true, "data": {
        "page": [0, 8, 1, 2, 9, 8, 7, 6, 5, 4, 3, 2],
        "limit": [812, 3456, 7890],
        "total_items": [3173, 0, 0, 4321],
        "items": [{
            "customer_id": customer_id(0x21f_005),
            "payin_sender_id_list": ["x0","x8","x1","x2","x5","x5","x5","x1","x2","x3","x4","x9"],
        }],
    }})
    .to_string();
    let body = read_everywhere(
        &app,
        &bodies,
        "/api/v1/customer/customer",
        "200 OK",
        &list,
        &[],
        "declared arrays (list)",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let joined = |x: &serde_json::Value| -> String {
        x.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| match e {
                        serde_json::Value::String(s) => s.trim_start_matches('x').to_owned(),
                        other => other.to_string(),
                    })
                    .collect::<String>()
            })
            .unwrap_or_default()
    };
    let d = &v["data"];
    for (what, got, seed) in [
        ("page", joined(&d["page"]), "081298765432"),
        ("limit", joined(&d["limit"]), "81234567890"),
        ("total_items", joined(&d["total_items"]), "3173004321"),
        (
            "payin_sender_id_list",
            joined(&d["items"][0]["payin_sender_id_list"]),
            "081255512349",
        ),
    ] {
        assert!(!got.contains(seed), "{what} spells {seed}: {body}");
    }
    app.stop().await;
}

/// Findings 1 and 5 on the `report` families: every one declares `status:flag|code|count`, and
/// a declared leaf skips the digit detectors, so `status` carries a 9-digit SSN as a count and
/// a phone spelled across an array (declared arrays are never read joined).
#[tokio::test]
async fn report_declared_status_carries_numbers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-status-count",
        "200 OK",
        &json!({"status": 123456789, "data": {}}).to_string(),
        &["123456789"],
        "declared status count (report)",
    )
    .await;
    let body = read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-status-array",
        "200 OK",
        &json!({"status": [0, 8, 1, 2, 9, 8, 7, 6, 5, 4, 3, 2], "data": {}}).to_string(),
        &[],
        "declared status array (report)",
    )
    .await;
    assert!(
        !body.contains("[0,8,1,2,9,8,7,6,5,4,3,2]"),
        "a phone spelled across the declared status: {body}"
    );
    app.stop().await;
}

/// Finding 1 (url): a declared `id` leaf holding a base64/hex/base32 token of an email or phone
/// is read and masked, but the declared `url` leaf (`webhook_url`) is not: a base64url path
/// segment spelling `alice.victim@example.com 081234567890` is copied on the `enforce` detail.
#[tokio::test]
async fn enforce_declared_url_path_tokens_are_read() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    // base64url of "alice.victim@example.com 081234567890", unpadded
    let token = "YWxpY2UudmljdGltQGV4YW1wbGUuY29tIDA4MTIzNDU2Nzg5MA";
    let body = json!({"status": true, "data": {
        "customer_id": customer_id(0x21f_011),
        "webhook_url": format!("https://hooks.example.com/{token}"),
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21f_011)),
        "200 OK",
        &body,
        &[token],
        "encoded token in webhook_url",
    )
    .await;
    app.stop().await;
}

/// Finding 1 (field): `wallet_ready`'s declared `data.missing_field[]:field` takes any dotted
/// lower-case snake-case path, digits included: a phone and a NIK glued to a word by `_`
/// (`no_081234567890`, `nik_3173000000001234`) pass on the `enforce` route, although the same
/// strings under an undeclared key on a `report` route are masked.
#[tokio::test]
async fn enforce_declared_field_paths_carry_numbers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "is_wallet_ready": false,
        "missing_field": ["no_081299112233", "individual.nik_3173000000009876"],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        &wallet(&customer_id(0x21f_012)),
        "200 OK",
        &body,
        &["081299112233", "3173000000009876"],
        "field-kind leaves (wallet_ready)",
    )
    .await;
    app.stop().await;
}
