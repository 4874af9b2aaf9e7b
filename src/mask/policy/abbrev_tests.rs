//! The class of finding 2 and 12: every spelling of a vocabulary word a schema writes
//! (abbreviated, in any case style, joined by any separator, beside other words) is personal,
//! and no field name of the documented API or its fixtures that is not personal becomes so.

use proptest::prelude::*;

use super::{derived_forms, Derived};
use crate::mask::policy::KeyWords;

fn shipped() -> KeyWords {
    crate::mask::default_settings().policies.key_words().clone()
}

/// The shipped vocabulary's entries (`=word` marks kept), and its role words.
fn entries() -> (Vec<String>, Vec<String>) {
    let c = crate::mask::default_config().policy;
    (c.key_words, c.role_words)
}

/// One entry and every derived form of it (an `=word` entry only as itself).
fn spellings(entry: &str) -> Vec<String> {
    if let Some(bare) = entry.strip_prefix('=') {
        return vec![bare.to_owned()];
    }
    let parts: Vec<&str> = entry.split('_').collect();
    let mut out = vec![parts.concat()];
    out.extend(derived_forms(&parts));
    out
}

/// Words a key writes beside a personal word: none of them personal, or a role.
const NEUTRAL: [&str; 6] = ["billing", "primary", "value", "info", "new", "data"];

/// `words` written in one of the case styles and separators schemas use.
fn styled(words: &[String], style: u8) -> String {
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    match style % 7 {
        0 => words.join("_"),
        1 => words.join("-"),
        2 => words.join("_").to_ascii_uppercase(),
        3 => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { w.clone() } else { cap(w) })
            .collect(),
        4 => words.iter().map(|w| cap(w)).collect(),
        5 => words.join(" "),
        _ => words.join("."),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Vocabulary word × abbreviation × case style × separator × neighbours: personal.
    #[test]
    fn every_spelling_of_a_vocabulary_word_is_personal(
        pick in any::<prop::sample::Index>(),
        form in any::<prop::sample::Index>(),
        before in proptest::option::of(0..NEUTRAL.len()),
        after in proptest::option::of(0..NEUTRAL.len()),
        style in 0u8..7,
    ) {
        let w = shipped();
        let (words, _) = entries();
        let entry = &words[pick.index(words.len())];
        let forms = spellings(entry);
        let word = forms[form.index(forms.len())].clone();
        let parts: Vec<String> = before
            .map(|i| NEUTRAL[i].to_owned())
            .into_iter()
            .chain([word])
            .chain(after.map(|i| NEUTRAL[i].to_owned()))
            .collect();
        let key = styled(&parts, style);
        prop_assert!(w.is_personal_key(&key), "{key:?} (from {entry:?})");
    }

    /// A role word or its abbreviation, in any case style, alone: a role key.
    #[test]
    fn every_spelling_of_a_role_word_is_a_role(
        pick in any::<prop::sample::Index>(),
        form in any::<prop::sample::Index>(),
        style in 0u8..7,
    ) {
        let w = shipped();
        let (_, roles) = entries();
        let entry = &roles[pick.index(roles.len())];
        let forms: Vec<String> = spellings(entry);
        let word = &forms[form.index(forms.len())];
        // A compound's own words, or one derived token.
        let parts: Vec<String> = if *word == entry.replace('_', "") {
            entry.split('_').map(str::to_owned).collect()
        } else {
            vec![word.clone()]
        };
        let key = styled(&parts, style);
        prop_assert!(w.is_role_key(&key) || w.is_personal_key(&key), "{key:?} (from {entry:?})");
        prop_assert!(w.has_role_word(&format!("{key}_info")) || w.is_personal_key(&key), "{key:?}_info");
    }
}

/// Every object key of the fixtures and every field named in the documented API: the ones
/// that are not personal stay so (the derived forms, the acronym reading and the glued runs
/// reach none of them).
#[test]
fn no_documented_payment_field_becomes_personal() {
    let w = shipped();
    let mut keys: Vec<String> = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.push(k.clone());
                walk(v, out);
            }),
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    for text in [
        include_str!("../../../fixtures/customer-detail.json"),
        include_str!("../../../fixtures/customer-wallet-ready.json"),
    ] {
        let v: serde_json::Value = serde_json::from_str(text).expect("fixture");
        walk(&v, &mut keys);
    }
    // Field names as the documented API writes them: `"key":` and `` `key` ``.
    let doc = include_str!("../../../docs/upstream-api.md");
    for piece in doc.split(['"', '`']).skip(1).step_by(2) {
        if !piece.is_empty()
            && piece.len() <= 40
            && piece
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            keys.push(piece.to_owned());
        }
    }
    keys.sort();
    keys.dedup();
    let personal: Vec<&String> = keys.iter().filter(|k| w.is_personal_key(k)).collect();
    let unexpected: Vec<&&String> = personal
        .iter()
        .filter(|k| !PERSONAL_FIELDS.contains(&k.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "payment fields read as personal: {unexpected:?}"
    );
    for k in NON_PERSONAL {
        assert!(!w.is_personal_key(k), "{k}");
    }
}

/// The fields of the documented API and fixtures that are personal (a person's or company's).
const PERSONAL_FIELDS: &[&str] = &[
    "account_number",
    "address_city",
    "address_country",
    "address_line1",
    "address_line2",
    "address_state",
    "address_zip_code",
    "beneficiary_name",
    "company_domain",
    "company_email",
    "country_of_residence",
    "customer_email",
    "customer_full_name",
    "customer_personal_number",
    "customer_phone",
    "dob",
    "email",
    "first_name",
    "iban",
    "identification_custom_type",
    "identification_type",
    "identification_value",
    "identity",
    "last_name",
    "name",
    "nationality",
    "phone_country_code",
    "phone_number",
    "phone_number_e164",
    "negative_ttl",
];

/// Payment fields beside the documented ones, and abbreviations that are not personal.
const NON_PERSONAL: &[&str] = &[
    "customer_id",
    "created_at",
    "updated_at",
    "org_id",
    "organization_reference_id",
    "payin_sender_id_list",
    "missing_field",
    "status_code",
    "webhook_url",
    "request_time",
    "amount",
    "currency",
    "reference_no",
    "invoice_no",
    "trx_id",
    "txn_ref",
    "tid",
    "mid",
    "post_url",
    "hold_reason",
    "pass_fee",
    "self",
    "totals",
    "html_body",
    "ml_score",
    "str_value",
    "crdt_amt",
    "credit_note",
    "settlement_date",
    "due_date",
    "paid_at",
    "expiry_date",
    "bank_code",
    "country_code",
    "currencyCode",
    "statusCode",
    "MIDno",
    "TIDnum",
    "IDR",
    "USD",
    "SG_PAYNOW",
];

#[test]
fn the_derived_vocabulary_holds_no_payment_word() {
    let (words, _) = entries();
    let d = Derived::new(words.iter().map(|w| match w.strip_prefix('=') {
        Some(b) => (b, true),
        None => (w.as_str(), false),
    }));
    for payment in [
        "amount", "post", "pass", "hold", "self", "long", "mid", "tid", "str", "acc", "add", "ref",
        "txn", "trx", "ccy", "fee", "tax", "code", "date", "type", "ltd", "intl", "ml", "npl",
        "gds", "umr", "mdl",
    ] {
        assert!(!d.is_form(payment), "{payment}");
    }
}
