//! Wallet readiness, computed from a customer's current fields so that an update that fills the
//! gaps makes the customer ready.

use serde_json::{json, Map, Value};

/// Personal fields paycombat must capture before issuing a wallet.
const REQUIRED_PERSON: &[&str] = &[
    "first_name",
    "last_name",
    "dob",
    "email",
    "nationality",
    "address_country",
    "address_city",
    "address_line1",
    "address_zip_code",
    "country_of_residence",
    "phone_number",
    "phone_country_code",
    "identification_type",
    "identification_value",
];

const REQUIRED_COMPANY: &[&str] = &["name", "registration_number", "company_email"];

fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

fn missing_in(object: Option<&Value>, prefix: &str, required: &[&str], out: &mut Vec<String>) {
    for field in required {
        if is_blank(object.and_then(|o| o.get(*field))) {
            out.push(format!("{prefix}{field}"));
        }
    }
}

/// Dotted paths (from the customer object) of the fields still to capture.
pub(crate) fn missing_fields(customer: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if customer.get("type").and_then(Value::as_str) == Some("company") {
        let company = customer.get("company");
        missing_in(company, "company.", REQUIRED_COMPANY, &mut out);
        let user = company.and_then(|c| c.get("authorized_user"));
        missing_in(user, "company.authorized_user.", REQUIRED_PERSON, &mut out);
    } else {
        missing_in(
            customer.get("individual"),
            "individual.",
            REQUIRED_PERSON,
            &mut out,
        );
    }
    out
}

/// Ready means active with nothing missing (the documented example is inactive, complete and not
/// ready, with an empty `missing_field`).
pub(crate) fn is_ready(customer: &Map<String, Value>, missing: &[String]) -> bool {
    missing.is_empty() && customer.get("is_active") == Some(&Value::Bool(true))
}

/// Brings the stored `is_wallet_ready` flag in line with the fields.
pub(crate) fn refresh(customer: &mut Map<String, Value>) {
    let ready = is_ready(customer, &missing_fields(customer));
    customer.insert("is_wallet_ready".into(), Value::Bool(ready));
}

/// The `data` of the wallet-ready endpoint.
pub(crate) fn wallet_ready_data(customer: &Map<String, Value>) -> Value {
    let missing = missing_fields(customer);
    json!({"is_wallet_ready": is_ready(customer, &missing), "missing_field": missing})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer_gen::{fixture_customer, FIXTURE_WALLET_READY};

    #[test]
    fn fixture_customer_matches_the_documented_wallet_ready_answer() {
        let documented: Value =
            serde_json::from_str(FIXTURE_WALLET_READY).expect("fixture is JSON");
        assert_eq!(wallet_ready_data(&fixture_customer()), documented["data"]);
    }

    #[test]
    fn blank_and_missing_fields_are_reported_with_their_path() {
        let mut c = fixture_customer();
        c.insert("is_active".into(), Value::Bool(true));
        assert_eq!(wallet_ready_data(&c)["is_wallet_ready"], true);
        c["individual"]["dob"] = Value::Null;
        c["individual"]["phone_number"] = Value::String(" ".into());
        let data = wallet_ready_data(&c);
        assert_eq!(data["is_wallet_ready"], false);
        assert_eq!(
            data["missing_field"],
            json!(["individual.dob", "individual.phone_number"])
        );
    }
}
