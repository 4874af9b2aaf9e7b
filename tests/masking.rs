//! PII masking: every JSON response masked (all families, errors, cache, encodings), failures closed.

// The harness shared with the `it` binary.
#[path = "it/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use common::*;

/// Keys paycombat uses for personal data (docs/upstream-api.md, "Personal data in responses").
const PERSONAL_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "dob",
    "email",
    "nationality",
    "country_of_residence",
    "identification_type",
    "identification_custom_type",
    "identification_value",
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_zip_code",
    "address_country",
    "phone_country_code",
    "phone_number",
    "phone_number_e164",
    "name",
    "registration_number",
    "company_email",
    "company_domain",
    "customer_full_name",
    "customer_email",
    "customer_phone",
    "customer_personal_number",
    "payer_id",
    "beneficiary_name",
    "account_number",
    "iban",
    "bsb",
    "bic_swift",
    "aba",
    "sort_code",
    "pay_id",
    "ifsc",
    "proxy_value",
];

/// The key the test settings write to `mask.hmac_key_file`.
const HMAC_KEY: &[u8] = b"test-mask-key";
const FAILURE_REASONS: &[&str] = &["parse_error", "too_large", "too_deep", "bad_encoding"];

fn detail_path(id: &str) -> String {
    format!("/api/v1/customer/customer/{id}")
}

/// What paycombat (the sandbox) itself answers, asked directly with the merchant token.
async fn upstream(app: &TestApp, path: &str) -> Resp {
    upstream_with(app, path, &[]).await
}

async fn upstream_with(app: &TestApp, path: &str, extra: &[(&str, &str)]) -> Resp {
    let mut headers = vec![("x-token", app.sandbox_cfg.token.as_str())];
    headers.extend_from_slice(extra);
    request(
        &app.client,
        Method::GET,
        &format!("{}{path}", app.sandbox.base_url()),
        &headers,
        b"",
    )
    .await
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Resp {
    app.send(Method::GET, path, headers, b"").await
}

async fn fault_get(app: &TestApp, path: &str, fault: &str) -> Resp {
    get_with(app, path, &[("x-sandbox-fault", fault)]).await
}

/// Every non-null scalar held under a personal key, as `(key, value)`.
fn personal_values(v: &Value) -> Vec<(String, Value)> {
    fn walk(v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if PERSONAL_KEYS.contains(&k.as_str())
                        && !x.is_null()
                        && !x.is_object()
                        && !x.is_array()
                    {
                        out.push((k.clone(), x.clone()));
                    } else {
                        walk(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

/// The document with every personal value replaced by a marker (null stays null), so what is
/// left — keys, order-independent structure, every non-personal value — can be compared.
/// Envelope and free-text fields the field policy may mask although no named rule does.
const FREE_TEXT_KEYS: &[&str] = &["message", "description"];

fn blanked(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = if PERSONAL_KEYS.contains(&k.as_str()) && !x.is_null() {
                        Value::String("<personal>".into())
                    } else if FREE_TEXT_KEYS.contains(&k.as_str()) && x.is_string() {
                        // Free text: masked by the field policy on `enforce` routes, checked by
                        // the detectors on the others; compared by neither.
                        Value::String("<free text>".into())
                    } else {
                        blanked(x)
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(blanked).collect()),
        other => other.clone(),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// No raw personal value of `raw` appears in `bytes`: never as a JSON string or number, and
/// (for values long enough to be unambiguous) nowhere at all. A company domain is exempt from
/// the second test: the `email` strategy keeps the domain on purpose.
fn assert_no_raw_values(raw: &[(String, Value)], bytes: &[u8], what: &str) {
    assert!(
        !raw.is_empty(),
        "{what}: the upstream body holds personal values to check"
    );
    for (key, value) in raw {
        let literal = value.to_string();
        assert!(
            !contains(bytes, literal.as_bytes()),
            "{what}: raw {key} {literal} leaked"
        );
        let text = value.as_str().map_or(literal.clone(), str::to_owned);
        if text.len() >= 6 && key != "company_domain" {
            assert!(
                !contains(bytes, text.as_bytes()),
                "{what}: raw {key} leaked inside another value"
            );
        }
    }
}

/// The gateway's body is the sandbox's body masked: no raw personal value, every personal key
/// still there with a different value, every other value unchanged.
fn assert_masked_copy(raw_body: &[u8], masked: &Resp, what: &str) -> Vec<(String, Value)> {
    assert_eq!(masked.status, 200, "{what}: {}", masked.text());
    let raw: Value = serde_json::from_slice(raw_body).expect("sandbox answers JSON");
    let raw_values = personal_values(&raw);
    assert_no_raw_values(&raw_values, &masked.body, what);
    let got = masked.json();
    assert_eq!(
        blanked(&got),
        blanked(&raw),
        "{what}: non-personal data changed or a key went missing"
    );
    raw_values
}

fn hmac_of(value: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(HMAC_KEY).unwrap();
    mac.update(value.as_bytes());
    format!("hmac_{}", &hex::encode(mac.finalize().into_bytes())[..16])
}

fn count_of(raw: &[(String, Value)], key: &str) -> f64 {
    raw.iter().filter(|(k, _)| k == key).count() as f64
}

fn masked_total(scrape: &str, field: &str) -> f64 {
    value(scrape, "gateway_masked_fields_total", &[("field", field)])
}

fn failures(scrape: &str) -> Vec<f64> {
    FAILURE_REASONS
        .iter()
        .map(|r| value(scrape, "gateway_mask_failures_total", &[("reason", r)]))
        .collect()
}

/// A 502 envelope from the gateway itself, and nothing of upstream's body in it.
fn assert_refused(r: &Resp, code: &str, leaks: &[&str], what: &str) {
    assert_eq!(r.status, 502, "{what}: {}", r.text());
    assert_eq!(r.error_code(), code, "{what}");
    assert_eq!(
        r.header("content-type"),
        "application/json; charset=utf-8",
        "{what}"
    );
    let v = r.json();
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["status", "message", "data", "error"]),
        "{what}"
    );
    for leak in leaks {
        assert!(
            !contains(&r.body, leak.as_bytes()),
            "{what}: {leak} forwarded"
        );
    }
    assert!(
        !contains(&r.body, b"@"),
        "{what}: an address was forwarded: {}",
        r.text()
    );
}

/// The first generated customer of the wanted type whose identity fields are all present.
async fn generated_customer(app: &TestApp, kind: &str, from: u64) -> (String, Resp) {
    for n in from..from + 200 {
        let id = customer_id(n);
        let r = upstream(app, &detail_path(&id)).await;
        let v = r.json();
        let holder = if kind == "company" {
            &v["data"]["company"]["authorized_user"]
        } else {
            &v["data"]["individual"]
        };
        if v["data"]["type"] == kind
            && [
                "identification_value",
                "dob",
                "phone_number",
                "address_line1",
            ]
            .iter()
            .all(|f| holder[f].is_string())
        {
            return (id, r);
        }
    }
    panic!("no complete generated {kind} customer");
}

#[tokio::test]
async fn fixture_customer_is_masked_with_each_strategy() {
    let app = spawn_app().await;
    let before = app.metrics().await;
    let raw = upstream(&app, &detail_path(FIXTURE_ID)).await;
    let r = app.get(&detail_path(FIXTURE_ID)).await;
    let values = assert_masked_copy(&raw.body, &r, "fixture detail");
    assert_eq!(values.len(), 17, "the fixture's non-null personal fields");
    assert_eq!(r.header("content-type"), "application/json; charset=utf-8");
    assert!(r.headers.get("content-encoding").is_none());
    assert_eq!(
        r.header("content-length"),
        r.body.len().to_string(),
        "the length of the masked body"
    );

    let d = &r.json()["data"];
    let p = &d["individual"];
    assert_eq!(p["phone_number"], "*******1124");
    assert_eq!(p["phone_number_e164"], "**********1124");
    assert_eq!(p["email"], "f*****@*****");
    assert_eq!(p["identification_value"], hmac_of("33777777").as_str());
    assert!(p["identification_value"]
        .as_str()
        .unwrap()
        .starts_with("hmac_"));
    for redacted in [
        "first_name",
        "last_name",
        "dob",
        "nationality",
        "country_of_residence",
        "identification_type",
        "address_line1",
        "address_line2",
        "address_city",
        "address_state",
        "address_zip_code",
        "address_country",
        "phone_country_code",
    ] {
        assert_eq!(p[redacted], "[REDACTED]", "{redacted}");
    }
    assert!(
        p["identification_custom_type"].is_null(),
        "null carries nothing and stays null"
    );
    assert!(d["company_domain"].is_null());
    // Non-personal fields, spelled out.
    assert_eq!(d["customer_id"], FIXTURE_ID);
    assert_eq!(d["org_id"], "org_59b8fb2f52254f95ac54d0e140f4e429");
    assert_eq!(d["type"], "individual");
    assert_eq!(d["is_active"], false);
    // Declared by the test harness (the shipped policy masks it; see tests/it/common).
    assert_eq!(d["description"], "Test New Customer 2");
    assert_eq!(d["created_at"], "2024-12-06T03:53:52.779Z");
    assert_eq!(d["updated_at"], "2024-12-19T10:55:31.771Z");

    // One body: each rule counted exactly as often as it fired.
    let after = app.metrics().await;
    for field in [
        "identification_value",
        "email",
        "phone_number",
        "first_name",
        "address_line2",
    ] {
        assert_eq!(
            masked_total(&after, field) - masked_total(&before, field),
            1.0,
            "{field}"
        );
    }
    assert_eq!(
        masked_total(&after, "identification_custom_type"),
        0.0,
        "null values are not counted"
    );
    app.stop().await;
}

#[tokio::test]
async fn generated_individual_and_company_customers_are_masked() {
    let app = spawn_app().await;
    let (ind, raw_ind) = generated_customer(&app, "individual", 1).await;
    let r = app.get(&detail_path(&ind)).await;
    assert_masked_copy(&raw_ind.body, &r, "individual");
    let raw = raw_ind.json();
    let p = &r.json()["data"]["individual"];
    assert_eq!(
        p["identification_value"],
        hmac_of(
            raw["data"]["individual"]["identification_value"]
                .as_str()
                .unwrap()
        )
        .as_str()
    );
    assert_eq!(p["first_name"], "[REDACTED]");

    let (co, raw_co) = generated_customer(&app, "company", 1).await;
    let r = app.get(&detail_path(&co)).await;
    assert_masked_copy(&raw_co.body, &r, "company");
    let raw = raw_co.json();
    let (c, rc) = (&r.json()["data"]["company"], &raw["data"]["company"]);
    assert_eq!(c["name"], "[REDACTED]");
    assert_eq!(c["company_domain"], "[REDACTED]");
    assert_eq!(r.json()["data"]["company_domain"], "[REDACTED]");
    let reg = rc["registration_number"].as_str().unwrap();
    assert_eq!(
        c["registration_number"],
        format!("{}{}", "*".repeat(reg.len() - 4), &reg[reg.len() - 4..]).as_str()
    );
    let domain = rc["company_domain"].as_str().unwrap();
    // A company domain names the company: masked with the rest.
    assert_eq!(c["company_email"], "f*****@*****");
    assert!(!r.text().contains(domain));
    let user = &c["authorized_user"];
    assert_eq!(user["last_name"], "[REDACTED]");
    assert_eq!(
        user["identification_value"],
        hmac_of(
            rc["authorized_user"]["identification_value"]
                .as_str()
                .unwrap()
        )
        .as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn lists_wallet_ready_and_beneficiaries_are_masked_with_exact_counts() {
    let app = spawn_app().await;
    let path = "/api/v1/customer/customer?page=1&limit=30";
    let raw = upstream(&app, path).await;
    let before = app.metrics().await;
    let r = app.get(path).await;
    let values = assert_masked_copy(&raw.body, &r, "customer list");
    assert_eq!(r.json()["data"]["items"].as_array().unwrap().len(), 30);
    let after = app.metrics().await;
    for field in [
        "identification_value",
        "email",
        "phone_number",
        "name",
        "company_email",
    ] {
        let expected = count_of(&values, field);
        assert!(expected > 0.0, "{field} occurs in the list");
        assert_eq!(
            masked_total(&after, field) - masked_total(&before, field),
            expected,
            "{field}"
        );
    }

    // Beneficiaries: bank fields, and individual / company objects nested in an array.
    let path = "/api/v1/payout/beneficiary?limit=25";
    let raw = upstream(&app, path).await;
    let r = app.get(path).await;
    let values = assert_masked_copy(&raw.body, &r, "beneficiary list");
    for key in [
        "account_number",
        "iban",
        "bsb",
        "bic_swift",
        "aba",
        "sort_code",
        "pay_id",
        "ifsc",
        "proxy_value",
        "beneficiary_name",
    ] {
        assert_eq!(count_of(&values, key), 25.0, "{key} in every beneficiary");
    }
    let items = r.json()["data"]["items"].as_array().unwrap().clone();
    assert!(items
        .iter()
        .any(|b| b["individual"]["first_name"] == "[REDACTED]"));
    assert!(items
        .iter()
        .any(|b| b["company"]["authorized_user"]["first_name"] == "[REDACTED]"));
    let acct = raw.json()["data"]["items"][0]["account_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        items[0]["account_number"],
        format!("{}{}", "*".repeat(acct.len() - 4), &acct[acct.len() - 4..]).as_str()
    );

    // Wallet-ready holds no personal value: it goes through the masker unchanged but for
    // the envelope's free text, which its `enforce` policy does not declare.
    for id in [FIXTURE_ID.to_owned(), customer_id(3), customer_id(4)] {
        let path = format!("/api/v1/customer/customer-wallet-is-ready/{id}");
        let mut raw = upstream(&app, &path).await.json();
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.text());
        raw["message"] = "[REDACTED]".into();
        assert_eq!(r.json(), raw, "{id}");
    }
    app.stop().await;
}

#[tokio::test]
async fn payins_and_customer_writes_mask_the_response_but_never_the_request() {
    let app = spawn_app().await;
    // Payin retrieve.
    let path = "/api/v1/payin/retrieve-payin/payin_abc123";
    let raw = upstream(&app, path).await;
    let r = app.get(path).await;
    let values = assert_masked_copy(&raw.body, &r, "payin retrieve");
    assert_eq!(values.len(), 5);
    let p = r.json()["data"].clone();
    assert_eq!(p["customer_full_name"], "[REDACTED]");
    assert!(p["payer_id"].as_str().unwrap().starts_with("hmac_"));
    assert!(p["customer_personal_number"]
        .as_str()
        .unwrap()
        .starts_with("hmac_"));
    assert!(p["customer_email"].as_str().unwrap().contains("*****@"));

    // Payin create: the sandbox echoes the caller's fields.
    let body = br#"{"amount":"42.00","currency":"SGD","customer_full_name":"Wanda Personal","customer_email":"wanda.personal@example.org","customer_phone":"+6591234567","customer_personal_number":"S9876543Q","payer_id":"P1234567X"}"#;
    let r = app
        .send(
            Method::POST,
            "/api/v1/payin/create",
            &[("content-type", "application/json")],
            body,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for raw in [
        "Wanda Personal",
        "wanda.personal@example.org",
        "+6591234567",
        "S9876543Q",
        "P1234567X",
    ] {
        assert!(
            !contains(&r.body, raw.as_bytes()),
            "{raw} in the payin create response"
        );
    }
    let d = r.json()["data"].clone();
    assert_eq!(d["amount"], "42.00");
    assert_eq!(d["customer_phone"], "*******4567");
    assert_eq!(d["customer_email"], "w*****@*****");
    assert_eq!(d["customer_personal_number"], hmac_of("S9876543Q").as_str());
    let seen = app
        .state()
        .requests()
        .into_iter()
        .rev()
        .find(|q| q.route == "payin_create")
        .unwrap();
    assert_eq!(
        &seen.body[..],
        &body[..],
        "the request reached paycombat byte for byte, unmasked"
    );

    // Customer create and update: same.
    let create = br#"{"type":"individual","description":"masking test","individual":{"first_name":"Quentin","last_name":"Rawvalue","email":"quentin.rawvalue@example.net","phone_number":"81234567","identification_value":"X7777777Z","dob":"1990-02-03"}}"#;
    let r = app
        .send(
            Method::POST,
            "/api/v1/customer/create",
            &[("content-type", "application/json")],
            create,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for raw in [
        "Quentin",
        "Rawvalue",
        "quentin.rawvalue@example.net",
        "81234567",
        "X7777777Z",
        "1990-02-03",
    ] {
        assert!(
            !contains(&r.body, raw.as_bytes()),
            "{raw} in the create response"
        );
    }
    assert_eq!(r.json()["data"]["description"], "masking test");
    let seen = app
        .state()
        .requests()
        .into_iter()
        .rev()
        .find(|q| q.route == "customer_create")
        .unwrap();
    assert_eq!(&seen.body[..], &create[..]);

    let id = r.json()["data"]["customer_id"].as_str().unwrap().to_owned();
    let update =
        format!(r#"{{"customer_id":"{id}","individual":{{"address_line1":"12 Secret Lane"}}}}"#);
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/customer/update",
            &[("content-type", "application/json")],
            update.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!contains(&r.body, b"Secret Lane"));
    assert_eq!(
        r.json()["data"]["individual"]["address_line1"],
        "[REDACTED]"
    );
    let seen = app
        .state()
        .requests()
        .into_iter()
        .rev()
        .find(|q| q.route == "customer_update")
        .unwrap();
    assert_eq!(&seen.body[..], update.as_bytes());
    // paycombat stored the real value: the sandbox, asked directly, has it.
    assert!(contains(
        &upstream(&app, &detail_path(&id)).await.body,
        b"12 Secret Lane"
    ));
    app.stop().await;
}

#[tokio::test]
async fn nested_write_envelopes_and_upstream_errors_go_through_the_masker() {
    let app = spawn_app().await;
    let id = customer_id(77);
    let r = app
        .send(
            Method::PATCH,
            &format!("/api/v1/customer/disable/{id}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["data"]["success"], true);
    assert_eq!(v["data"]["status_code"], 200);
    assert_eq!(
        v["data"]["data"],
        serde_json::json!({"customer_id": id, "is_active": false})
    );

    let r = app.send(Method::DELETE, &detail_path(&id), &[], b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["data"]["data"],
        serde_json::json!({"customer_id": id, "deleted": true})
    );

    // paycombat's own 404 envelope: its free text is masked on this `enforce` route (a message
    // may name the customer), the rest comes back as paycombat wrote it.
    let before = app.state().request_count("customer_detail");
    for _ in 0..2 {
        let r = app.get(&detail_path(&id)).await;
        assert_eq!(r.status, 404);
        assert_eq!(
            &r.body[..],
            br#"{"status":false,"message":"[REDACTED]","data":null}"#
        );
    }
    assert_eq!(
        app.state().request_count("customer_detail"),
        before + 2,
        "an error is never cached"
    );

    // An upstream failure status is forwarded as an envelope, not as raw bytes.
    let r = fault_get(&app, "/api/v1/payin/retrieve-payin/p1", "status=400").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["status"], false);
    app.stop().await;
}

/// An upstream for bodies the sandbox cannot produce (an error envelope carrying personal
/// data, hostile framing). Each request is answered by the first entry whose path prefix it
/// matches; an entry's parts are written with a pause between them, so they arrive as separate
/// reads.
async fn canned_upstream(routes: Vec<(&'static str, Vec<Vec<u8>>)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let routes = Arc::new(routes);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let routes = routes.clone();
            tokio::spawn(async move {
                let Some(target) = read_request_target(&mut s).await else {
                    return;
                };
                let Some((_, parts)) = routes.iter().find(|(prefix, _)| target.starts_with(prefix))
                else {
                    return;
                };
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    let _ = s.write_all(part).await;
                    let _ = s.flush().await;
                }
                let _ = s.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn http_response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[tokio::test]
async fn error_envelopes_carrying_personal_data_are_masked_on_every_route() {
    let body = br#"{"status":false,"message":"validation failed","data":{"email":"err.person@example.com","identification_value":"S1111111D","phone_number":"98765432","field":"dob"}}"#;
    let base = canned_upstream(vec![(
        "/",
        vec![http_response(
            "422 Unprocessable Entity",
            "application/problem+json",
            body,
        )],
    )])
    .await;
    let app = spawn_app_with(Options {
        upstream_override: Some(base),
        ..Options::default()
    })
    .await;
    for path in [
        detail_path(&customer_id(5)),
        "/api/v1/payout/create-payout-status/x".to_owned(),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, 422, "{path}: {}", r.text());
        for raw in ["err.person@example.com", "S1111111D", "98765432"] {
            assert!(!contains(&r.body, raw.as_bytes()), "{path}: {raw}");
        }
        let d = r.json()["data"].clone();
        assert_eq!(d["email"], "e*****@*****");
        assert_eq!(d["identification_value"], hmac_of("S1111111D").as_str());
        assert_eq!(d["phone_number"], "****5432");
        // On the `report` route the value names a personal field (`dob`), so its object is
        // read as personal and the name is masked with everything else in it; on the
        // `enforce` route it is undeclared, and so is its key: the gateway writes its own.
        if path.starts_with("/api/v1/payout") {
            assert_eq!(d["field"], "[REDACTED]", "{path}");
        } else {
            assert_eq!(d["<key>#3"], "[REDACTED]", "{path}");
            assert!(d.get("field").is_none(), "{path}: an undeclared key copied");
        }
        let message = &r.json()["message"];
        if path.starts_with("/api/v1/payout") {
            assert_eq!(message, "validation failed");
        } else {
            assert_eq!(message, "[REDACTED]", "free text on an enforce route");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn other_spellings_objects_under_rules_and_json_in_strings_are_masked() {
    let note = serde_json::json!({
        "email": "hidden.person@example.com",
        "Phone-Number": "6281234567890",
    })
    .to_string();
    let body = serde_json::json!({
        "status": true,
        "message": "Customer retrieved",
        "data": {
            "customer_id": "cus_canned42",
            "type": "individual",
            // Declared `text` by the harness: an undeclared key on this `enforce` route would
            // be the gateway's `<key>#N`.
            "description": note,
            "individual": {
                "firstName": "Jennie",
                "phoneNumber": "85156781124",
                "email": {"victim@example.com": true},
            },
        },
    })
    .to_string();
    let base = canned_upstream(vec![(
        "/",
        vec![http_response("200 OK", "application/json", body.as_bytes())],
    )])
    .await;
    let app = spawn_app_with(Options {
        upstream_override: Some(base),
        ..Options::default()
    })
    .await;
    let r = app.get(&detail_path(&customer_id(5))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    for raw in [
        "Jennie",
        "85156781124",
        "victim@example.com",
        "hidden.person",
        "6281234567890",
    ] {
        assert!(!contains(&r.body, raw.as_bytes()), "{raw} leaked");
    }
    let ind = r.json()["data"]["individual"].clone();
    assert_eq!(ind["firstName"], "[REDACTED]");
    assert_eq!(ind["phoneNumber"], "*******1124");
    assert_eq!(ind["email"], "[REDACTED]");
    let note: Value =
        serde_json::from_str(r.json()["data"]["description"].as_str().expect("a string")).unwrap();
    assert_eq!(
        note,
        serde_json::json!({"email": "h*****@*****", "Phone-Number": "*********7890"})
    );
    assert_eq!(r.json()["data"]["customer_id"], "cus_canned42");
    let scrape = app.metrics().await;
    assert_eq!(masked_total(&scrape, "phone_number"), 2.0);
    assert_eq!(masked_total(&scrape, "email"), 2.0);
    assert_eq!(masked_total(&scrape, "first_name"), 1.0);
    app.stop().await;
}

#[tokio::test]
async fn a_cache_hit_replays_the_masked_bytes() {
    let app = spawn_app().await;
    let raw = upstream(&app, &detail_path(FIXTURE_ID)).await;
    let first = app.get(&detail_path(FIXTURE_ID)).await;
    assert_masked_copy(&raw.body, &first, "first read");
    assert!(
        !first.header("cache-status").contains("hit"),
        "{}",
        first.header("cache-status")
    );
    let masked_once = masked_total(&app.metrics().await, "identification_value");

    let reads = app.state().request_count("customer_detail");
    let second = app.get(&detail_path(FIXTURE_ID)).await;
    assert!(
        second.header("cache-status").contains("hit"),
        "{}",
        second.header("cache-status")
    );
    assert_eq!(second.body, first.body, "byte-identical");
    assert_eq!(
        app.state().request_count("customer_detail"),
        reads,
        "served from the cache"
    );
    // The entry was masked before it was stored: a hit does not run the masker again.
    assert_eq!(
        masked_total(&app.metrics().await, "identification_value"),
        masked_once
    );

    // Wallet-ready, the other cached route, likewise.
    let path = format!("/api/v1/customer/customer-wallet-is-ready/{FIXTURE_ID}");
    let a = app.get(&path).await;
    let b = app.get(&path).await;
    assert!(b.header("cache-status").contains("hit"));
    assert_eq!(a.body, b.body);
    app.stop().await;
}

#[tokio::test]
async fn compressed_bodies_are_decoded_then_masked() {
    let app = spawn_app().await;
    let direct = upstream_with(
        &app,
        "/api/v1/payin/retrieve-payin/pz",
        &[("x-sandbox-fault", "br")],
    )
    .await;
    assert_eq!(
        direct.header("content-encoding"),
        "br",
        "the sandbox really encodes"
    );

    // Whatever the client accepts, the gateway asks paycombat for identity.
    let r = get_with(
        &app,
        "/api/v1/payin/retrieve-payin/pz",
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    assert!(r.headers.get("content-encoding").is_none());
    let seen = app.state().requests().pop().unwrap();
    assert_eq!(seen.headers["accept-encoding"], "identity");

    let passthrough = "/api/v1/payin/retrieve-payin/pz";
    let plain_raw = upstream(&app, passthrough).await;
    let reference = app.get(passthrough).await;
    assert_masked_copy(&plain_raw.body, &reference, "identity payin");
    for (n, coding) in ["gzip", "deflate", "br"].into_iter().enumerate() {
        let r = fault_get(&app, passthrough, coding).await;
        assert_eq!(r.status, 200, "{coding}: {}", r.text());
        assert!(r.headers.get("content-encoding").is_none(), "{coding}");
        assert_eq!(
            r.header("content-length"),
            r.body.len().to_string(),
            "{coding}"
        );
        assert_eq!(
            r.body, reference.body,
            "{coding}: same masked bytes as the identity answer"
        );

        // Cached route, a customer not read before.
        let path = detail_path(&customer_id(900 + n as u64));
        let raw = upstream(&app, &path).await;
        let r = fault_get(&app, &path, coding).await;
        assert!(r.headers.get("content-encoding").is_none(), "{coding}");
        assert_masked_copy(&raw.body, &r, coding);
        assert!(
            r.header("cache-status").contains("stored"),
            "{}",
            r.header("cache-status")
        );
        let refreshed = get_with(&app, &path, &[("cache-control", "no-cache")]).await;
        assert_eq!(refreshed.body, r.body, "{coding}: same as an identity read");
    }
    app.stop().await;
}

#[tokio::test]
async fn json_labelled_text_plain_is_still_masked() {
    let app = spawn_app().await;
    let path = "/api/v1/payin/retrieve-payin/ptext";
    let direct = upstream_with(&app, path, &[("x-sandbox-fault", "wrong_content_type")]).await;
    assert!(direct.header("content-type").starts_with("text/plain"));
    let r = fault_get(&app, path, "wrong_content_type").await;
    assert_masked_copy(
        &upstream(&app, path).await.body,
        &r,
        "passthrough text/plain",
    );

    let detail = detail_path(FIXTURE_ID);
    let r = fault_get(&app, &detail, "wrong_content_type").await;
    assert_masked_copy(&upstream(&app, &detail).await.body, &r, "cached text/plain");
    let hit = app.get(&detail).await;
    assert!(!contains(&hit.body, b"33777777"));
    app.stop().await;
}

#[tokio::test]
async fn unmaskable_bodies_fail_closed_with_the_reason() {
    let app = spawn_app_overlay(
        "[upstream]\nmax_response_body_bytes = 65536\n[upstream.retry]\nmax_retries = 0\n[upstream.circuit_breaker]\nfailure_threshold = 0\n",
    )
    .await;
    // (fault, mask failure reason or None for a broken connection, markers of its body)
    let cases: &[(&str, Option<&str>, &[&str])] = &[
        (
            "malformed_json",
            Some("parse_error"),
            &["broken@example.com", "upstream error"],
        ),
        ("truncated_json", Some("parse_error"), &[]),
        (
            "non_utf8",
            Some("parse_error"),
            &["Ren", "nee@example.com", "S12"],
        ),
        ("deep=200", Some("too_deep"), &["deep.nest@example.com"]),
        ("oversized=200000", Some("too_large"), &["customer_"]),
        // Small on the wire, too large once decoded.
        ("oversized=3000000,gzip", Some("too_large"), &["customer_"]),
        ("bogus_encoding", Some("bad_encoding"), &[]),
        ("gzip,truncated_json", Some("parse_error"), &[]),
        ("reset_mid_body", None, &[]),
    ];
    // Right at the limits, a body is still masked and served: 64 levels of nesting (the root,
    // `data`'s 62 wrappers, the innermost object), and exactly max_response_body_bytes.
    let r = fault_get(&app, "/api/v1/payin/retrieve-payin/edge", "deep=62").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(contains(&r.body, b"\"d*****@*****\"") && !contains(&r.body, b"deep.nest"));
    assert_eq!(
        fault_get(&app, "/api/v1/payin/retrieve-payin/edge", "deep=63")
            .await
            .status,
        502
    );
    let fault = [("x-sandbox-fault", "oversized=65536")];
    let raw = upstream_with(&app, "/api/v1/payin/retrieve-payin/edge", &fault).await;
    assert_eq!(raw.body.len(), 65536);
    let r = get_with(&app, "/api/v1/payin/retrieve-payin/edge", &fault).await;
    assert_masked_copy(&raw.body, &r, "a body of exactly the limit");
    assert_eq!(
        fault_get(&app, "/api/v1/payin/retrieve-payin/edge", "oversized=65537")
            .await
            .status,
        502
    );

    let purge = format!("/admin/cache/purge?customer_id={FIXTURE_ID}");
    let admin_auth = format!("Bearer {ADMIN_TOKEN}");
    for (n, (fault, reason, markers)) in cases.iter().enumerate() {
        // A payin on a passthrough route, the fixture on the cached route.
        for (path, cached) in [
            (format!("/api/v1/payin/retrieve-payin/fail{n}"), false),
            (detail_path(FIXTURE_ID), true),
        ] {
            let what = format!("{fault} on {path}");
            let raw = personal_values(&upstream(&app, &path).await.json());
            let before = failures(&app.metrics().await);
            let r = fault_get(&app, &path, fault).await;
            let code = if reason.is_some() {
                "UPSTREAM_UNMASKABLE"
            } else {
                "UPSTREAM_ERROR"
            };
            assert_refused(&r, code, markers, &what);
            assert_no_raw_values(&raw, &r.body, &what);
            let after = failures(&app.metrics().await);
            for (i, label) in FAILURE_REASONS.iter().enumerate() {
                let expected = if Some(*label) == *reason { 1.0 } else { 0.0 };
                assert_eq!(
                    after[i] - before[i],
                    expected,
                    "{what}: gateway_mask_failures_total{{reason={label}}}"
                );
            }
            if cached {
                assert!(
                    r.header("cache-status").contains("uncacheable"),
                    "{what}: {}",
                    r.header("cache-status")
                );
                // Nothing was stored: the next normal read goes upstream and succeeds.
                let reads = app.state().request_count("customer_detail");
                let next = app.get(&path).await;
                assert_eq!(next.status, 200, "{what}: {}", next.text());
                assert!(
                    !next.header("cache-status").contains("hit"),
                    "{what}: {}",
                    next.header("cache-status")
                );
                assert_eq!(
                    app.state().request_count("customer_detail"),
                    reads + 1,
                    "{what}"
                );
                assert_no_raw_values(&raw, &next.body, &what);
                // Forget what that read stored, for the next case.
                let r = app
                    .admin(Method::POST, &purge, &[("authorization", &admin_auth)])
                    .await;
                assert_eq!(r.status, 200, "purge: {}", r.text());
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn hostile_framing_from_upstream_fails_closed() {
    // More blank bytes than the gateway buffers, arriving before the JSON, labelled as text.
    let json = br#"{"status":true,"message":"OK","data":{"email":"hidden.behind@blanks.example"}}"#;
    let mut head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        6000 + json.len()
    )
    .into_bytes();
    head.extend_from_slice(&[b' '; 6000]);
    // A gzip header followed by garbage, claiming JSON.
    let mut corrupt = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff];
    corrupt.extend_from_slice(b"definitely not deflate data: jane.doe@example.com");
    let mut corrupt_gzip = http_response("200 OK", "application/json", &corrupt);
    corrupt_gzip.splice(17..17, b"content-encoding: gzip\r\n".iter().copied());
    let base = canned_upstream(vec![
        (
            "/api/v1/payin/retrieve-payin/blank",
            vec![head, json.to_vec()],
        ),
        ("/api/v1/payin/retrieve-payin/corrupt", vec![corrupt_gzip]),
    ])
    .await;
    let app = spawn_app_with(Options {
        upstream_override: Some(base),
        overlay: "[upstream]\nmax_response_body_bytes = 4096\n[upstream.retry]\nmax_retries = 0\n"
            .into(),
        ..Options::default()
    })
    .await;
    for (path, reason, leak) in [
        (
            "/api/v1/payin/retrieve-payin/blank",
            "too_large",
            "hidden.behind",
        ),
        (
            "/api/v1/payin/retrieve-payin/corrupt",
            "bad_encoding",
            "jane.doe",
        ),
    ] {
        let before = failures(&app.metrics().await);
        let r = app.get(path).await;
        assert_refused(&r, "UPSTREAM_UNMASKABLE", &[leak], path);
        let after = failures(&app.metrics().await);
        for (i, label) in FAILURE_REASONS.iter().enumerate() {
            let expected = if *label == reason { 1.0 } else { 0.0 };
            assert_eq!(after[i] - before[i], expected, "{path}: reason={label}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_pdf_streams_through_byte_identical() {
    let app = spawn_app().await;
    let path = "/api/v1/payin/memo/p-77?size=300000";
    let direct = upstream(&app, path).await;
    let before = app.metrics().await;
    let r = app.get(path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "application/pdf");
    assert_eq!(r.body.len(), 300_000);
    assert!(r.body == direct.body, "the PDF is forwarded byte for byte");
    // A compressed PDF is decoded (it could not be told from JSON otherwise), and nothing else.
    let r = fault_get(&app, path, "gzip").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("content-encoding").is_none());
    assert_eq!(r.header("content-type"), "application/pdf");
    assert!(r.body == direct.body, "the decoded PDF is the original");
    let after = app.metrics().await;
    assert_eq!(failures(&after), failures(&before));
    assert_eq!(masked_total(&after, "name"), masked_total(&before, "name"));
    app.stop().await;
}

#[tokio::test]
async fn custom_field_and_dotted_path_rules_apply() {
    // Rules given in a layer replace the whole shipped list, so a layer repeats it and adds.
    let overlay = format!(
        "{}\n[[mask.rules]]\npath = \"data.description\"\nstrategy = {{ keep_last = 6 }}\n\
         [[mask.rules]]\npath = \"data.individual.email\"\nstrategy = \"null\"\n\
         [[mask.rules]]\npath = \"data.items.description\"\nstrategy = \"redact\"\n\
         [[mask.rules]]\nfield = \"created_by\"\nstrategy = \"hmac\"\n\
         [mask.policy.families.customer_detail]\nmode = \"enforce\"\n\
         declared = [\"status:flag\", \"message:personal\", \"data:customer\"]\n",
        // A rule wins over a declaration (`description`, `created_by` are declared in the
        // shipped `customer` object): the layer only narrows the family to the object.
        paycombat_gateway::mask::default_rules_toml()
    );
    let app = spawn_app_overlay(&overlay).await;
    let r = app.get(&detail_path(FIXTURE_ID)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let d = r.json()["data"].clone();
    assert_eq!(d["description"], "*************omer 2");
    assert!(
        d["individual"]["email"].is_null(),
        "the path rule wins over the `email` field rule"
    );
    assert_eq!(
        d["individual"]["first_name"], "[REDACTED]",
        "the shipped rules still apply"
    );
    assert_eq!(
        d["created_by"],
        hmac_of("api_access_key:AK_FINMO_SBX_07C5090*******************CCBC7F").as_str()
    );
    // Arrays along a path are transparent.
    let list = app.get("/api/v1/customer/customer?limit=5").await.json();
    for item in list["data"]["items"].as_array().unwrap() {
        assert_eq!(item["description"], "[REDACTED]");
    }
    let scrape = app.metrics().await;
    assert_eq!(masked_total(&scrape, "data.individual.email"), 1.0);
    assert_eq!(masked_total(&scrape, "data.description"), 1.0);
    assert_eq!(masked_total(&scrape, "data.items.description"), 5.0);
    // In the list the path rule does not match (`data.items.individual.email`): the field rule does.
    let raw_list = personal_values(
        &upstream(&app, "/api/v1/customer/customer?limit=5")
            .await
            .json(),
    );
    assert_eq!(masked_total(&scrape, "email"), count_of(&raw_list, "email"));
    app.stop().await;
}

/// Everything the gateway writes to its logs, for this test binary.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other subscriber in this binary");
        buf
    })
    .clone()
}

#[tokio::test]
async fn personal_values_never_reach_metrics_or_logs() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let mut raw = Vec::new();
    for path in [
        detail_path(FIXTURE_ID),
        detail_path(&customer_id(11)),
        "/api/v1/customer/customer?limit=20".to_owned(),
        "/api/v1/payout/beneficiary?limit=10".to_owned(),
        "/api/v1/payin/retrieve-payin/plog".to_owned(),
    ] {
        raw.extend(personal_values(&upstream(&app, &path).await.json()));
        assert_eq!(
            fault_get(&app, &path, "truncated_json").await.status,
            502,
            "{path}"
        );
        assert_eq!(app.get(&path).await.status, 200, "{path}");
    }
    assert_eq!(
        fault_get(&app, "/api/v1/payin/retrieve-payin/plog", "malformed_json")
            .await
            .status,
        502
    );
    let scrape = app.metrics().await;
    assert!(value(&scrape, "gateway_masked_fields_total", &[]) > 0.0);
    assert_no_raw_values(&raw, scrape.as_bytes(), "/metrics");
    assert!(!contains(scrape.as_bytes(), b"broken@example.com"));

    let access_log = app.stop_and_read_access_log().await;
    assert!(
        access_log.contains("customer_detail"),
        "access lines were captured"
    );
    let mut logged = logs.lock().unwrap().clone();
    assert!(contains(&logged, b"parse_error"), "the refusal was logged");
    logged.extend_from_slice(access_log.as_bytes());
    assert_no_raw_values(&raw, &logged, "logs");
    assert!(!contains(&logged, b"broken@example.com"));
}

const BAD_RULE: &str =
    "[[mask.rules]]\nfield = \"email\"\npath = \"data.email\"\nstrategy = \"redact\"\n";

#[tokio::test]
async fn an_invalid_rule_stops_the_gateway_from_starting() {
    // Rules are checked in the config pass: `serve` exits before it binds.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), "k").unwrap();
    let layer = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
         [auth]\nmode = \"none\"\n[mask]\nhmac_key_file = \"{}\"\n{BAD_RULE}",
        dir.path().join("key").display()
    );
    std::fs::write(dir.path().join("production.toml"), layer).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["serve", "--config-dir"])
        .arg(dir.path())
        .env("GATEWAY_ENV", "production")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .unwrap_or_else(|_| panic!("a rule with both `field` and `path` was accepted"))
        .unwrap();
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut err)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(64), "{err}");
    assert!(err.contains("mask.rules[0]"), "{err}");
}

#[test]
fn check_config_rejects_an_invalid_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), "k").unwrap();
    let layer = format!(
        "[auth]\nmode = \"none\"\n[mask]\nhmac_key_file = \"{}\"\n{BAD_RULE}",
        dir.path().join("key").display()
    );
    std::fs::write(dir.path().join("production.toml"), layer).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["check-config", "--config-dir"])
        .arg(dir.path())
        .env("GATEWAY_ENV", "production")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mask.rules[0]"),
        "{out:?}"
    );
}
