//! Endpoint families the gateway passes through untouched (apart from masking): payins, payin
//! memos, payout beneficiaries, and an echo of anything else under `/api/v1/`.

use http::header::{HeaderName, AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
use http::request::Parts;
use http::StatusCode;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::body::Payload;
use super::clock;
use super::customer_api::{json_object, paging, query_param};
use super::envelope::Reply;
use super::pdf::PdfSource;
use super::people;
use super::rng::Rng;

const DEFAULT_MEMO_BYTES: u64 = 64 * 1024;
const MAX_MEMO_BYTES: u64 = 64 * 1024 * 1024;
const BENEFICIARY_TOTAL: u64 = 25;

fn valid_reference(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn full_name(person: &Map<String, Value>) -> String {
    let part = |k: &str| {
        person
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    format!("{} {}", part("first_name"), part("last_name"))
}

fn payin(id: &str, rng: &mut Rng) -> Map<String, Value> {
    let person = people::person(rng);
    let text = |k: &str| person.get(k).cloned().unwrap_or(Value::Null);
    let created =
        clock::rfc3339_millis(rng.range(19_358, 20_269) * 86_400_000 + rng.range(0, 86_399_999));
    let mut p = Map::new();
    p.insert("payin_id".into(), Value::String(id.to_owned()));
    p.insert("status".into(), Value::String("PENDING".into()));
    p.insert(
        "amount".into(),
        Value::String(format!("{}.00", rng.range(10, 5000))),
    );
    p.insert("currency".into(), Value::String("SGD".into()));
    p.insert(
        "payin_method_name".into(),
        Value::String("SG_PAYNOW".into()),
    );
    p.insert(
        "customer_id".into(),
        Value::String(format!("customer_{}", rng.hex(32))),
    );
    p.insert(
        "customer_full_name".into(),
        Value::String(full_name(&person)),
    );
    p.insert("customer_email".into(), text("email"));
    p.insert("customer_phone".into(), text("phone_number_e164"));
    p.insert(
        "customer_personal_number".into(),
        text("identification_value"),
    );
    p.insert("payer_id".into(), Value::String(rng.pattern("S#######A")));
    p.insert("created_at".into(), Value::String(created));
    p
}

pub(crate) fn payin_create(body: &[u8]) -> Reply {
    let request = match json_object(body) {
        Ok(b) => b,
        Err(refusal) => return refusal.into(),
    };
    let id = format!("payin_{}", uuid::Uuid::new_v4().simple());
    let mut created = payin(&id, &mut Rng::keyed("payin", &id));
    // Whatever the caller sent wins over the invented defaults, so tests see their own values.
    for (key, value) in request {
        if key != "payin_id" {
            created.insert(key, value);
        }
    }
    created.insert("created_at".into(), Value::String(clock::now_rfc3339()));
    Reply::ok(Value::Object(created))
}

pub(crate) fn payin_retrieve(id: &str) -> Reply {
    if !valid_reference(id) {
        return Reply::error(StatusCode::BAD_REQUEST, "invalid payin id");
    }
    Reply::ok(Value::Object(payin(id, &mut Rng::keyed("payin", id))))
}

/// A PDF of `size=` bytes (default 64 KiB), generated while it is sent.
pub(crate) fn payin_memo(id: &str, query: Option<&str>) -> Reply {
    if !valid_reference(id) {
        return Reply::error(StatusCode::BAD_REQUEST, "invalid payin id");
    }
    let size = match query_param(query, "size") {
        None => DEFAULT_MEMO_BYTES,
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if n <= MAX_MEMO_BYTES => n,
            _ => {
                return Reply::error(
                    StatusCode::BAD_REQUEST,
                    "size must be an integer between 0 and 67108864",
                );
            }
        },
    };
    Reply::with_content_type(
        StatusCode::OK,
        "application/pdf",
        Payload::Stream(Box::new(PdfSource::new(id, size))),
    )
}

fn beneficiary(index: u64) -> Value {
    let mut rng = Rng::keyed("beneficiary", &index.to_string());
    let is_company = rng.chance(30);
    let mut b = people::bank_account(&mut rng);
    b.insert(
        "beneficiary_id".into(),
        Value::String(format!("beneficiary_{}", rng.hex(32))),
    );
    b.insert(
        "currency".into(),
        Value::String(rng.pick(&["SGD", "AUD", "GBP", "USD", "INR"], "USD").into()),
    );
    b.insert(
        "payout_method_name".into(),
        Value::String("BANK_TRANSFER".into()),
    );
    if is_company {
        let company = people::company(&mut rng);
        let name = company.get("name").cloned().unwrap_or(Value::Null);
        b.insert("beneficiary_type".into(), Value::String("company".into()));
        b.insert("beneficiary_name".into(), name);
        b.insert("individual".into(), Value::Null);
        b.insert("company".into(), Value::Object(company));
    } else {
        let person = people::person(&mut rng);
        b.insert(
            "beneficiary_type".into(),
            Value::String("individual".into()),
        );
        b.insert("beneficiary_name".into(), Value::String(full_name(&person)));
        b.insert("individual".into(), Value::Object(person));
        b.insert("company".into(), Value::Null);
    }
    Value::Object(b)
}

pub(crate) fn beneficiary_list(query: Option<&str>) -> Reply {
    let (page, limit) = match paging(query, 10) {
        Ok(p) => p,
        Err(refusal) => return refusal.into(),
    };
    let start = (page - 1).saturating_mul(limit);
    let items: Vec<Value> = (start..BENEFICIARY_TOTAL.max(start))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(beneficiary)
        .collect();
    Reply::ok(json!({
        "items": items,
        "page": page,
        "limit": limit,
        "total_items": BENEFICIARY_TOTAL,
        "total_pages": BENEFICIARY_TOTAL.div_ceil(limit),
    }))
}

/// Headers never echoed: the sandbox must not hand a credential back to whoever sent it.
fn is_secret_header(name: &HeaderName) -> bool {
    name == AUTHORIZATION
        || name == PROXY_AUTHORIZATION
        || name == COOKIE
        || name.as_str() == "x-token"
        || name.as_str() == "signature"
}

/// What the sandbox received, minus credentials, for passthrough tests.
pub(crate) fn echo(parts: &Parts, body: &[u8]) -> Reply {
    let mut headers = Map::new();
    for name in parts.headers.keys() {
        if is_secret_header(name) {
            continue;
        }
        // One string per header line, as received.
        let lines = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        headers.insert(name.as_str().to_owned(), Value::Array(lines));
    }
    Reply::ok(json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "body_len": body.len(),
        "body_sha256": hex::encode(Sha256::digest(body)),
        "headers": headers,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beneficiaries_carry_every_bank_and_personal_field() {
        for i in 0..BENEFICIARY_TOTAL {
            let b = beneficiary(i);
            for field in [
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
            ] {
                assert!(b[field].is_string(), "{field}");
            }
            assert!(b["individual"].is_object() || b["company"]["authorized_user"].is_object());
        }
        assert_eq!(beneficiary(3), beneficiary(3));
    }

    #[test]
    fn payin_carries_personal_fields() {
        let p = payin("payin_1", &mut Rng::keyed("payin", "payin_1"));
        for field in [
            "customer_full_name",
            "customer_email",
            "customer_phone",
            "customer_personal_number",
            "payer_id",
        ] {
            assert!(p[field].is_string(), "{field}");
        }
    }
}
