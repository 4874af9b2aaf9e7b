//! How a create/update body changes a customer: only listed fields change, an empty string
//! clears a field, personal fields may come nested or flat.

use serde_json::{Map, Value};

use super::clock;
use super::people::{COMPANY_FIELDS, PERSON_FIELDS};
use super::readiness;

/// Merges a create/update body into a customer: only listed fields change, and an empty string
/// clears a field. Personal fields may come nested (`individual`, `company.authorized_user`) or
/// flat at the top level.
pub(crate) fn apply_patch(
    customer: &mut Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<(), String> {
    let is_company = customer.get("type").and_then(Value::as_str) == Some("company");
    for (key, value) in patch {
        match key.as_str() {
            "customer_id" | "type" => {}
            "description" | "webhook_url" | "organization_reference_id" | "company_domain" => {
                set_text(customer, key, value)?;
                if is_company && key == "company_domain" {
                    set_text(holder_company(customer)?, key, value)?;
                }
            }
            "metadata" | "payin_sender_id_list" => {
                let v = if value.as_str() == Some("") {
                    Value::Null
                } else {
                    value.clone()
                };
                customer.insert(key.clone(), v);
            }
            "is_sender_validation_enabled" => match value {
                Value::Bool(_) => {
                    customer.insert(key.clone(), value.clone());
                }
                _ => return Err(format!("{key} must be a boolean")),
            },
            "individual" if is_company => {
                return Err("individual is not allowed on a company customer".into());
            }
            "company" if !is_company => {
                return Err("company is not allowed on an individual customer".into());
            }
            "individual" => merge_person(holder_person(customer, false)?, value, "individual")?,
            "company" => {
                let Value::Object(fields) = value else {
                    return Err("company must be an object".into());
                };
                for (field, v) in fields {
                    if field == "authorized_user" {
                        merge_person(holder_person(customer, true)?, v, "authorized_user")?;
                    } else if COMPANY_FIELDS.contains(&field.as_str()) {
                        set_text(holder_company(customer)?, field, v)?;
                    }
                }
            }
            flat if PERSON_FIELDS.contains(&flat) => {
                set_text(holder_person(customer, is_company)?, key, value)?
            }
            flat if is_company && COMPANY_FIELDS.contains(&flat) => {
                set_text(holder_company(customer)?, key, value)?;
            }
            // Unknown keys are ignored, as paycombat ignores them.
            _ => {}
        }
    }
    if is_company {
        let domain = holder_company(customer)?
            .get("company_domain")
            .cloned()
            .unwrap_or(Value::Null);
        customer.insert("company_domain".into(), domain);
    }
    customer.insert("updated_at".into(), Value::String(clock::now_rfc3339()));
    readiness::refresh(customer);
    Ok(())
}

fn set_text(target: &mut Map<String, Value>, key: &str, value: &Value) -> Result<(), String> {
    let v = match value {
        Value::String(s) if s.is_empty() => Value::Null,
        Value::String(_) | Value::Null => value.clone(),
        _ => return Err(format!("{key} must be a string")),
    };
    target.insert(key.to_owned(), v);
    Ok(())
}

fn merge_person(target: &mut Map<String, Value>, value: &Value, name: &str) -> Result<(), String> {
    let Value::Object(fields) = value else {
        return Err(format!("{name} must be an object"));
    };
    for (field, v) in fields {
        if PERSON_FIELDS.contains(&field.as_str()) {
            set_text(target, field, v)?;
        }
    }
    Ok(())
}

/// The object the customer's company fields live in, created when absent.
fn holder_company(customer: &mut Map<String, Value>) -> Result<&mut Map<String, Value>, String> {
    object_entry(customer, "company")
}

/// The person object: `individual`, or the company's `authorized_user`.
fn holder_person(
    customer: &mut Map<String, Value>,
    is_company: bool,
) -> Result<&mut Map<String, Value>, String> {
    if is_company {
        object_entry(holder_company(customer)?, "authorized_user")
    } else {
        object_entry(customer, "individual")
    }
}

fn object_entry<'m>(
    map: &'m mut Map<String, Value>,
    key: &str,
) -> Result<&'m mut Map<String, Value>, String> {
    let slot = map.entry(key.to_owned()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| format!("{key} is not an object"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::customer_gen::{self, FIXTURE_CUSTOMER_ID};

    #[test]
    fn patch_clears_sets_and_ignores() {
        let mut c = customer_gen::fixture_customer();
        let patch = json!({
            "customer_id": "customer_00000000000000000000000000000000",
            "description": "",
            "individual": {"dob": "", "email": "new@example.com", "unknown": 1},
            "phone_number": "811111111",
            "whatever": true
        });
        let Value::Object(patch) = patch else {
            unreachable!()
        };
        apply_patch(&mut c, &patch).expect("valid patch");
        assert_eq!(c["customer_id"], FIXTURE_CUSTOMER_ID);
        assert_eq!(c["description"], Value::Null);
        assert_eq!(c["individual"]["dob"], Value::Null);
        assert_eq!(c["individual"]["email"], "new@example.com");
        assert_eq!(c["individual"]["phone_number"], "811111111");
        assert!(c["individual"].get("unknown").is_none());
        assert!(c.get("whatever").is_none());
    }

    #[test]
    fn patch_rejects_wrong_types() {
        let mut c = customer_gen::fixture_customer();
        let Value::Object(patch) = json!({"individual": {"dob": 19970804}}) else {
            unreachable!()
        };
        assert!(apply_patch(&mut c, &patch).is_err());
        let Value::Object(patch) = json!({"company": {"name": "x"}}) else {
            unreachable!()
        };
        assert!(apply_patch(&mut c, &patch).is_err());
    }

    #[test]
    fn company_patch_reaches_company_and_authorized_user() {
        let id = (0..500)
            .map(|i| customer_gen::sequence_id("patch-company", i))
            .find(|id| customer_gen::generate(id)["type"] == "company")
            .expect("some generated customer is a company");
        let mut c = customer_gen::generate(&id);
        let Value::Object(patch) = json!({
            "name": "Renamed Ltd",
            "company_domain": "renamed.example.com",
            "company": {"registration_number": "", "authorized_user": {"email": "au@example.com"}},
            "dob": "1990-01-01"
        }) else {
            unreachable!()
        };
        apply_patch(&mut c, &patch).expect("valid patch");
        assert_eq!(c["company"]["name"], "Renamed Ltd");
        assert_eq!(c["company"]["registration_number"], Value::Null);
        assert_eq!(c["company_domain"], "renamed.example.com");
        assert_eq!(c["company"]["company_domain"], "renamed.example.com");
        assert_eq!(c["company"]["authorized_user"]["email"], "au@example.com");
        assert_eq!(c["company"]["authorized_user"]["dob"], "1990-01-01");
        assert_eq!(c["is_wallet_ready"], false);
        let Value::Object(patch) = json!({"individual": {"dob": "1990-01-01"}}) else {
            unreachable!()
        };
        assert!(apply_patch(&mut c, &patch).is_err());
    }
}
