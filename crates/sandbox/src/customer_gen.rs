//! The virtual customer base: the documented fixture customer plus one deterministic customer for
//! every other well-formed id.

use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::clock;
use super::people::{self, PERSON_FIELDS};
use super::rng::Rng;

/// The customer of paycombat's documentation example, served from the fixture files.
pub const FIXTURE_CUSTOMER_ID: &str = "customer_67d84b19d50b490a8fa75ab20bbf275a";

pub(crate) const FIXTURE_DETAIL: &str = include_str!("../../../fixtures/customer-detail.json");
pub(crate) const FIXTURE_WALLET_READY: &str =
    include_str!("../../../fixtures/customer-wallet-ready.json");

pub(crate) const ORG_ID: &str = "org_59b8fb2f52254f95ac54d0e140f4e429";
const CREATED_BY: &str = "api_access_key:AK_FINMO_SBX_07C5090*******************CCBC7F";

/// Fields a generated customer may lack, so that some customers are not wallet-ready.
const OFTEN_MISSING: &[&str] = &[
    "dob",
    "identification_value",
    "identification_type",
    "address_line1",
    "address_zip_code",
    "phone_number",
];

/// `customer_` followed by exactly 32 lowercase hex digits.
pub(crate) fn is_valid_id(id: &str) -> bool {
    id.strip_prefix("customer_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A fresh id for a created customer.
pub(crate) fn new_id() -> String {
    format!("customer_{}", uuid::Uuid::new_v4().simple())
}

/// The id at position `index` of a named virtual sequence (used by listings).
pub(crate) fn sequence_id(namespace: &str, index: u64) -> String {
    format!(
        "customer_{}",
        Rng::keyed(namespace, &index.to_string()).hex(32)
    )
}

pub(crate) fn fixture_detail_bytes() -> Bytes {
    Bytes::from_static(FIXTURE_DETAIL.as_bytes())
}

/// The fixture's `data` object (parsed once).
pub(crate) fn fixture_customer() -> Map<String, Value> {
    static PARSED: OnceLock<Map<String, Value>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            serde_json::from_str::<Value>(FIXTURE_DETAIL)
                .ok()
                .and_then(|mut v| v.get_mut("data").map(Value::take))
                .and_then(|v| match v {
                    Value::Object(map) => Some(map),
                    _ => None,
                })
                .unwrap_or_default()
        })
        .clone()
}

/// The customer an id denotes before any write touched it.
pub(crate) fn base_customer(id: &str) -> Map<String, Value> {
    if id == FIXTURE_CUSTOMER_ID {
        fixture_customer()
    } else {
        generate(id)
    }
}

/// A customer derived from a hash of its id: same id, same customer, on every run.
pub(crate) fn generate(id: &str) -> Map<String, Value> {
    let mut rng = Rng::keyed("customer", id);
    let is_company = rng.chance(30);
    let is_active = rng.chance(85);
    // 2023-01-01 .. 2025-06-30, then updated up to 200 days later.
    let created_ms = rng.range(19_358, 20_269) * 86_400_000 + rng.range(0, 86_399_999);
    let updated_ms = created_ms + rng.range(0, 200 * 86_400_000);

    let mut holder = people::person(&mut rng);
    let mut company = if is_company {
        Some(people::company(&mut rng))
    } else {
        None
    };
    if rng.chance(35) {
        let missing = rng.range(1, 3);
        for _ in 0..missing {
            let field = rng.pick(OFTEN_MISSING, "dob");
            holder.insert(field.to_owned(), Value::Null);
        }
    }

    let mut c = Map::new();
    c.insert("customer_id".into(), Value::String(id.to_owned()));
    c.insert("org_id".into(), Value::String(ORG_ID.to_owned()));
    c.insert(
        "type".into(),
        Value::String(if is_company { "company" } else { "individual" }.to_owned()),
    );
    c.insert(
        "description".into(),
        Value::String(format!(
            "Sandbox customer {}",
            id.get(id.len().saturating_sub(6)..).unwrap_or(id)
        )),
    );
    c.insert(
        "webhook_url".into(),
        if rng.chance(30) {
            // An opaque token (32 hex): a URL's other digits are bounded by the gateway's
            // `url` kind, a random token's are not its to judge.
            Value::String(format!(
                "https://hooks.example.com/paycombat/{}",
                rng.hex(32)
            ))
        } else {
            Value::Null
        },
    );
    c.insert("metadata".into(), Value::Null);
    c.insert("is_active".into(), Value::Bool(is_active));
    c.insert("is_wallet_ready".into(), Value::Bool(false));
    c.insert(
        "organization_reference_id".into(),
        if rng.chance(40) {
            Value::String(rng.pattern("REF-######"))
        } else {
            Value::Null
        },
    );
    c.insert("is_gca_enabled".into(), Value::Bool(false));
    c.insert(
        "gca_activation_status".into(),
        Value::String("NOT_STARTED".into()),
    );
    c.insert("gca_activated_at".into(), Value::Null);
    c.insert("is_sender_validation_enabled".into(), Value::Bool(false));
    c.insert("payin_sender_id_list".into(), Value::Null);
    match company.as_mut() {
        Some(company) => {
            c.insert(
                "company_domain".into(),
                company
                    .get("company_domain")
                    .cloned()
                    .unwrap_or(Value::Null),
            );
            company.insert("authorized_user".into(), Value::Object(holder));
        }
        None => {
            c.insert("company_domain".into(), Value::Null);
            c.insert("individual".into(), Value::Object(holder));
        }
    }
    if let Some(company) = company {
        c.insert("company".into(), Value::Object(company));
    }
    c.insert("created_by".into(), Value::String(CREATED_BY.to_owned()));
    c.insert(
        "created_at".into(),
        Value::String(clock::rfc3339_millis(created_ms)),
    );
    c.insert(
        "updated_at".into(),
        Value::String(clock::rfc3339_millis(updated_ms)),
    );
    super::readiness::refresh(&mut c);
    c
}

/// The shell of a customer created through the API, before the request's fields are merged in.
pub(crate) fn blank_customer(id: &str, is_company: bool) -> Map<String, Value> {
    let blank_person = || {
        Value::Object(
            PERSON_FIELDS
                .iter()
                .map(|f| ((*f).to_owned(), Value::Null))
                .collect(),
        )
    };
    let now = clock::now_rfc3339();
    let mut c = Map::new();
    c.insert("customer_id".into(), Value::String(id.to_owned()));
    c.insert("org_id".into(), Value::String(ORG_ID.to_owned()));
    c.insert(
        "type".into(),
        Value::String(if is_company { "company" } else { "individual" }.to_owned()),
    );
    for key in [
        "description",
        "webhook_url",
        "metadata",
        "organization_reference_id",
        "gca_activated_at",
        "payin_sender_id_list",
        "company_domain",
    ] {
        c.insert(key.into(), Value::Null);
    }
    c.insert("is_active".into(), Value::Bool(true));
    c.insert("is_wallet_ready".into(), Value::Bool(false));
    c.insert("is_gca_enabled".into(), Value::Bool(false));
    c.insert(
        "gca_activation_status".into(),
        Value::String("NOT_STARTED".into()),
    );
    c.insert("is_sender_validation_enabled".into(), Value::Bool(false));
    if is_company {
        let mut company: Map<String, Value> = people::COMPANY_FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), Value::Null))
            .collect();
        company.insert("authorized_user".into(), blank_person());
        c.insert("company".into(), Value::Object(company));
    } else {
        c.insert("individual".into(), blank_person());
    }
    c.insert("created_by".into(), Value::String(CREATED_BY.to_owned()));
    c.insert("created_at".into(), Value::String(now.clone()));
    c.insert("updated_at".into(), Value::String(now));
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_format_is_strict() {
        assert!(is_valid_id(FIXTURE_CUSTOMER_ID));
        assert!(is_valid_id(&new_id()));
        assert!(is_valid_id(&sequence_id("list", 3)));
        for bad in [
            "",
            "customer_",
            "customer_67D84B19D50B490A8FA75AB20BBF275A",
            "customer_67d84b19d50b490a8fa75ab20bbf275",
            "customer_67d84b19d50b490a8fa75ab20bbf275aa",
            "client_67d84b19d50b490a8fa75ab20bbf275a",
            "customer_67d84b19d50b490a8fa75ab20bbf275g",
            "customer_67d84b19d50b490a8fa75ab20bbf27é",
        ] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn fixture_customer_is_the_documented_one() {
        let c = base_customer(FIXTURE_CUSTOMER_ID);
        assert_eq!(c["customer_id"], FIXTURE_CUSTOMER_ID);
        assert_eq!(c["individual"]["identification_value"], "33777777");
    }

    #[test]
    fn generation_is_deterministic_and_varied() {
        let ids: Vec<String> = (0..200).map(|i| sequence_id("gen-test", i)).collect();
        let mut companies = 0;
        let mut ready = 0;
        for id in &ids {
            let a = generate(id);
            assert_eq!(a, generate(id));
            assert_eq!(a["customer_id"], id.as_str());
            if a["type"] == "company" {
                companies += 1;
                assert!(a["company"]["authorized_user"].is_object());
                assert_eq!(a["company_domain"], a["company"]["company_domain"]);
            } else {
                assert!(a["individual"]["first_name"].is_string());
            }
            if a["is_wallet_ready"] == true {
                ready += 1;
            }
        }
        assert!((20..120).contains(&companies), "{companies} companies");
        assert!((40..180).contains(&ready), "{ready} wallet-ready");
    }
}
