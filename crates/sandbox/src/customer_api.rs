//! The customer endpoints of docs/upstream-api.md's table, and wallet creation.

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::clock;
use super::customer_gen::{self, FIXTURE_CUSTOMER_ID, FIXTURE_WALLET_READY};
use super::customer_patch::apply_patch;
use super::customer_store::{CustomerStore, WriteError};
use super::envelope::{nested, Refusal, Reply};
use super::readiness;

/// Generated customers the listing shows before the ones created through the API.
const LISTED_BASE: u64 = 200;
const MAX_LIMIT: u64 = 100;

fn bad_id() -> Reply {
    Reply::error(StatusCode::BAD_REQUEST, "invalid customer_id")
}

fn not_found() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, "customer not found")
}

fn write_failed<E: std::fmt::Display>(err: WriteError<E>) -> Reply {
    match err {
        WriteError::NotFound => not_found(),
        WriteError::Full => Reply::error(
            StatusCode::INSUFFICIENT_STORAGE,
            "sandbox customer store is full",
        ),
        WriteError::Rejected(msg) => Reply::error(StatusCode::BAD_REQUEST, &msg.to_string()),
    }
}

pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Refusal::bad_request("request body must be a JSON object")),
    }
}

fn body_customer_id(body: &Map<String, Value>) -> Result<String, Refusal> {
    match body.get("customer_id").and_then(Value::as_str) {
        Some(id) if customer_gen::is_valid_id(id) => Ok(id.to_owned()),
        Some(_) => Err(Refusal::bad_request("invalid customer_id")),
        None => Err(Refusal::bad_request("customer_id is required")),
    }
}

pub(crate) fn detail(store: &CustomerStore, id: &str) -> Reply {
    if !customer_gen::is_valid_id(id) {
        return bad_id();
    }
    if id == FIXTURE_CUSTOMER_ID && store.is_untouched(id) {
        return Reply::json_bytes(StatusCode::OK, customer_gen::fixture_detail_bytes());
    }
    match store.get(id) {
        Some(mut customer) => {
            readiness::refresh(&mut customer);
            Reply::ok(Value::Object(customer))
        }
        None => not_found(),
    }
}

pub(crate) fn wallet_ready(store: &CustomerStore, id: &str) -> Reply {
    if !customer_gen::is_valid_id(id) {
        return bad_id();
    }
    if id == FIXTURE_CUSTOMER_ID && store.is_untouched(id) {
        return Reply::json_bytes(
            StatusCode::OK,
            bytes::Bytes::from_static(FIXTURE_WALLET_READY.as_bytes()),
        );
    }
    match store.get(id) {
        Some(customer) => Reply::ok(readiness::wallet_ready_data(&customer)),
        None => not_found(),
    }
}

pub(crate) fn query_param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// `page` (from 1) and `limit` (1..=100; larger values are clamped) of a listing.
pub(crate) fn paging(query: Option<&str>, default_limit: u64) -> Result<(u64, u64), Refusal> {
    let number = |name: &str, default: u64| -> Result<u64, Refusal> {
        match query_param(query, name) {
            None | Some("") => Ok(default),
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(Refusal::bad_request(format!(
                    "{name} must be a positive integer"
                ))),
            },
        }
    };
    Ok((
        number("page", 1)?,
        number("limit", default_limit)?.min(MAX_LIMIT),
    ))
}

pub(crate) fn list(store: &CustomerStore, query: Option<&str>) -> Reply {
    let (page, limit) = match paging(query, 10) {
        Ok(p) => p,
        Err(refusal) => return refusal.into(),
    };
    let ids: Vec<String> = std::iter::once(FIXTURE_CUSTOMER_ID.to_owned())
        .chain((0..LISTED_BASE).map(|i| customer_gen::sequence_id("customer-list", i)))
        .chain(store.created_ids())
        .filter(|id| !store.is_deleted(id))
        .collect();
    let total = ids.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let items: Vec<Value> = ids
        .iter()
        .skip(skip)
        .take(take)
        .filter_map(|id| store.get(id))
        .map(|mut c| {
            readiness::refresh(&mut c);
            Value::Object(c)
        })
        .collect();
    Reply::ok(json!({
        "items": items,
        "page": page,
        "limit": limit,
        "total_items": total,
        "total_pages": total.div_ceil(limit),
    }))
}

pub(crate) fn create(store: &CustomerStore, body: &[u8]) -> Reply {
    let body = match json_object(body) {
        Ok(b) => b,
        Err(refusal) => return refusal.into(),
    };
    let is_company = match body.get("type").and_then(Value::as_str) {
        Some("company") => true,
        Some("individual") => false,
        None if body.get("type").is_none() => body.get("company").is_some_and(Value::is_object),
        _ => {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "type must be individual or company",
            );
        }
    };
    let id = customer_gen::new_id();
    let mut customer = customer_gen::blank_customer(&id, is_company);
    if let Err(msg) = apply_patch(&mut customer, &body) {
        return Reply::error(StatusCode::BAD_REQUEST, &msg);
    }
    readiness::refresh(&mut customer);
    match store.insert_new(id, customer.clone()) {
        Ok(()) => Reply::ok(Value::Object(customer)),
        Err(WriteError::Full) => write_failed(WriteError::<String>::Full),
        Err(_) => not_found(),
    }
}

pub(crate) fn update(store: &CustomerStore, body: &[u8]) -> Reply {
    let body = match json_object(body) {
        Ok(b) => b,
        Err(refusal) => return refusal.into(),
    };
    let id = match body_customer_id(&body) {
        Ok(id) => id,
        Err(refusal) => return refusal.into(),
    };
    match store.modify(&id, |c| apply_patch(c, &body)) {
        Ok(customer) => Reply::ok(Value::Object(customer)),
        Err(err) => write_failed(err),
    }
}

pub(crate) fn set_active(store: &CustomerStore, id: &str, active: bool) -> Reply {
    if !customer_gen::is_valid_id(id) {
        return bad_id();
    }
    let changed = store.modify::<String>(id, |c| {
        c.insert("is_active".into(), Value::Bool(active));
        c.insert("updated_at".into(), Value::String(clock::now_rfc3339()));
        readiness::refresh(c);
        Ok(())
    });
    match changed {
        Ok(_) => Reply::ok(nested(
            StatusCode::OK,
            json!({"customer_id": id, "is_active": active}),
        )),
        Err(err) => write_failed(err),
    }
}

pub(crate) fn delete(store: &CustomerStore, id: &str) -> Reply {
    if !customer_gen::is_valid_id(id) {
        return bad_id();
    }
    match store.delete(id) {
        Ok(()) => Reply::ok(nested(
            StatusCode::OK,
            json!({"customer_id": id, "deleted": true}),
        )),
        Err(WriteError::Full) => write_failed(WriteError::<String>::Full),
        Err(_) => not_found(),
    }
}

pub(crate) fn create_wallet(store: &CustomerStore, body: &[u8]) -> Reply {
    let body = match json_object(body) {
        Ok(b) => b,
        Err(refusal) => return refusal.into(),
    };
    let id = match body_customer_id(&body) {
        Ok(id) => id,
        Err(refusal) => return refusal.into(),
    };
    let Some(customer) = store.get(&id) else {
        return not_found();
    };
    let missing = readiness::missing_fields(&customer);
    if !readiness::is_ready(&customer, &missing) {
        let reason = if missing.is_empty() {
            "customer is not active".to_owned()
        } else {
            format!("missing {}", missing.join(", "))
        };
        return Reply::error(
            StatusCode::BAD_REQUEST,
            &format!("customer is not wallet-ready: {reason}"),
        );
    }
    let currency = body
        .get("currency")
        .and_then(Value::as_str)
        .unwrap_or("USD");
    Reply::ok(json!({
        "wallet_id": format!("wallet_{}", uuid::Uuid::new_v4().simple()),
        "customer_id": id,
        "currency": currency,
        "balance": "0.00",
        "available_balance": "0.00",
        "status": "ACTIVE",
        "created_at": clock::now_rfc3339(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_and_paging() {
        assert_eq!(query_param(Some("page=2&limit=5"), "limit"), Some("5"));
        assert_eq!(query_param(Some("flag&x=1"), "flag"), Some(""));
        assert_eq!(query_param(None, "page"), None);
        assert_eq!(paging(Some("page=3&limit=500"), 10).ok(), Some((3, 100)));
        assert_eq!(paging(None, 10).ok(), Some((1, 10)));
        assert!(paging(Some("limit=0"), 10).is_err());
        assert!(paging(Some("page=-1"), 10).is_err());
    }
}
