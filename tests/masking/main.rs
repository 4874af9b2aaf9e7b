//! PII masking: every JSON response masked (all families, errors, cache, encodings), failures closed.
//!
//! The helpers the tests share live here; each submodule holds the tests of one concern.

// The harness shared with the `it` binary.
#[path = "../it/common/mod.rs"]
mod common;

mod encodings;
mod fail_closed;
mod routes;
mod rules;

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
