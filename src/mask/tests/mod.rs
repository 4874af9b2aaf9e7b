use serde_json::{json, Value};

use super::*;

mod defaults;
mod embedded_props;
mod enforce_props;
mod failures;
mod fidelity;
mod field_label_props;
mod field_labels;
mod id_shapes;
mod json_in_strings;
mod key_memo_walk;
mod label_scope;
mod market_keys;
mod matching;
mod media;
mod numeral_walk;
mod partial_reveal;
mod policy_props;
mod policy_walk;
mod strategies;

const KEY: &[u8] = b"test-hmac-key-0123456789";
const FIXTURE: &str = include_str!("../../../fixtures/customer-detail.json");

fn field(name: &str, strategy: Strategy) -> RuleConfig {
    RuleConfig {
        field: Some(name.to_owned()),
        path: None,
        strategy,
    }
}

fn path(p: &str, strategy: Strategy) -> RuleConfig {
    RuleConfig {
        field: None,
        path: Some(p.to_owned()),
        strategy,
    }
}

/// The shipped `[mask]` settings without their rules or key file.
fn no_rules() -> MaskConfig {
    MaskConfig {
        rules: Vec::new(),
        hmac_key_file: None,
        ..default_config()
    }
}

/// `cfg` validated (its first problem, if any) and built into a masker.
fn compile(cfg: &MaskConfig, key: Option<&[u8]>) -> Result<Masker, MaskConfigError> {
    let settings = cfg.validate().map_err(|mut errors| errors.remove(0))?;
    Masker::new(&settings, key)
}

/// `toml` layered over `config/default.toml`, as the gateway reads it.
fn parse(toml: &str) -> Result<MaskConfig, ::config::ConfigError> {
    ::config::Config::builder()
        .add_source(::config::File::from_str(
            crate::defaults::DEFAULT_TOML,
            ::config::FileFormat::Toml,
        ))
        .add_source(::config::File::from_str(toml, ::config::FileFormat::Toml))
        .build()?
        .get::<MaskConfig>("mask")
}

fn masker(rules: Vec<RuleConfig>) -> Masker {
    let cfg = MaskConfig {
        rules,
        ..no_rules()
    };
    compile(&cfg, Some(KEY)).expect("valid config")
}

fn default_masker() -> Masker {
    Masker::new(&default_settings(), Some(KEY)).expect("valid")
}

fn run(m: &Masker, body: &str) -> String {
    let out = m.mask(body.as_bytes()).expect("maskable");
    String::from_utf8(out.body.to_vec()).expect("utf-8 output")
}

fn run_json(m: &Masker, body: &Value) -> Value {
    serde_json::from_str(&run(m, &body.to_string())).expect("output is JSON")
}

fn one(strategy: Strategy, value: Value) -> Value {
    let m = masker(vec![field("v", strategy)]);
    run_json(&m, &json!({ "v": value }))["v"].clone()
}

fn hmac_hex(value: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(KEY).expect("key");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Every personal field named in docs/upstream-api.md, "Personal data in responses".
pub(super) const DOCUMENTED_PERSONAL_FIELDS: &[&str] = &[
    // customer, individual, authorized_user
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
    // company
    "name",
    "registration_number",
    "company_email",
    "company_domain",
    // payin
    "customer_full_name",
    "customer_email",
    "customer_phone",
    "customer_personal_number",
    "payer_id",
    // beneficiary
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
