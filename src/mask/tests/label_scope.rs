//! Field labels on `report` families wherever they stand (issue 21, third attack): a label in
//! a child or sibling container names the values of the container around it; text that
//! mentions a personal field is masked whole; a role word marks its whole value; keys that
//! name people are data; labels are read past padding and punctuation; renderer steps are
//! read together. And what a payments client needs stays byte for byte.

use proptest::prelude::{prop, prop_assert, prop_assert_eq, proptest, ProptestConfig};
use proptest::strategy::Strategy as _;
use serde_json::json;

use super::*;
use crate::mask::policy::PolicyFamily;

fn out(family: PolicyFamily, body: &str) -> String {
    let masked = default_masker()
        .mask_for(body.as_bytes(), family)
        .expect("maskable");
    String::from_utf8(masked.body.to_vec()).expect("utf-8")
}

fn assert_hidden(body: &serde_json::Value, seeds: &[&str]) -> String {
    let got = out(PolicyFamily::Payin, &body.to_string());
    for seed in seeds {
        assert!(!got.contains(seed), "{seed} in {got}");
    }
    let _: Value = serde_json::from_str(&got).expect("JSON");
    got
}

/// A label one level down names the values beside its container: columnar answers, form
/// answers with a field descriptor, validation errors (pydantic, JSON:API), patches, audits.
#[test]
fn a_label_in_a_child_container_names_the_values_beside_it() {
    let body = json!({"status": true, "data": {
        "columns": ["id", "first_name", "last_name"],
        "rows": [["c1", "Alicia", "Columnson"]],
        "table": {"headers": ["Full Name", "Amount"], "rows": [["Brenda Headerson", 100]]},
        "answers": [{"field": {"id": "abc", "type": "short_text", "ref": "first_name"},
                     "type": "text", "text": "Carla Typeformson"}],
        "pairs": [{"k": "last_name"}, {"v": "Dora Splitson"}],
        "detail": [{"loc": ["body", "first_name"], "msg": "too long", "input": "Alice Pydanticson"}],
        "errors": [{"source": {"pointer": "/data/attributes/first_name"}, "meta": {"value": "Alice Jsonapison"}}],
        "patch": [{"op": "replace", "path": "$.customer.first_name", "value": "Alice Jsonpathson"},
                  {"op": "replace", "path": "#/customer/last_name", "value": "Alice Fragmentson"}],
        "audit": [{"attribute": {"name": "first_name"}, "new_value": "Alice Auditson"}],
    }});
    let got = assert_hidden(
        &body,
        &[
            "Columnson",
            "Headerson",
            "Typeformson",
            "Splitson",
            "Pydanticson",
            "Jsonapison",
            "Jsonpathson",
            "Fragmentson",
            "Auditson",
        ],
    );
    assert!(got.contains(r#""status":true"#), "{got}");
}

/// Only a label reaches one level up, and only one: a single word (`"channel": "email"`)
/// names its own container, and a label inside a personal key names what that key holds.
#[test]
fn a_label_reaches_one_container_up_and_a_word_none() {
    let body = r#"{"status":true,"data":{"amount":150000,"notification":{"channel":"email"},"ref":"INV-1"}}"#;
    let got = out(PolicyFamily::Payin, body);
    assert!(got.contains(r#""amount":150000"#), "{got}");
    assert!(got.contains(r#""ref":"INV-1""#), "{got}");
    assert!(
        got.contains(r#""notification":{"channel":"[REDACTED]"}"#),
        "{got}"
    );
    let body =
        r#"{"status":true,"data":{"amount":1,"address":{"label":"Home Address","line":"x"}}}"#;
    assert!(out(PolicyFamily::Payin, body).contains(r#""amount":1"#));
    // Two levels above the label: untouched.
    let body = r#"{"status":true,"data":{"amount":7,"form":{"fields":[{"field":{"ref":"first_name"},"text":"Ann Twolevelson"}]}}}"#;
    let got = out(PolicyFamily::Payin, body);
    assert!(
        got.contains(r#""amount":7"#) && !got.contains("Twolevelson"),
        "{got}"
    );
}

/// Payment values beside people's data stay: ids whose hex holds a vocabulary word's letters,
/// a description ending in such an id, a street that starts with a vocabulary word under its
/// rule (a person's address names no sibling of its container).
#[test]
fn payment_values_stay_beside_labels_and_ids() {
    for body in [
        r#"{"status":true,"data":{"customer_id":"customer_5acc3e0fa11","description":"Sandbox customer acc2e6","amount":1,"type":"company"}}"#,
        r#"{"status":true,"data":{"items":[{"customer_id":"customer_1","individual":{"address_line1":"JALAN SUDIRMAN","first_name":"Full Name"},"amount":2}]}}"#,
        r#"{"status":true,"data":{"payer":{"id":"cus_N2fr","type":"individual"},"beneficiary_type":"company","currency":"IDR","amount":"150000.00"}}"#,
    ] {
        // A `report` family (the customer families are `enforce`, where every undeclared
        // leaf is masked anyway).
        let got = out(PolicyFamily::Payin, body);
        for kept in [
            r#""amount":"#,
            r#""customer_id":"customer_"#,
            r#""type":"#,
            r#""currency":"IDR""#,
        ] {
            if body.contains(kept) {
                assert!(got.contains(kept), "{kept} in {got}");
            }
        }
        assert!(!got.contains(r#""amount":"[REDACTED]""#), "{got}");
        assert!(!got.contains(r#""customer_id":"[REDACTED]""#), "{got}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A hex id (any 32 hex digits) names no field and masks nothing beside it (the other id
    /// shapes: `id_shapes.rs`).
    #[test]
    fn hex_ids_name_nothing(hex in "[0-9a-f]{32}", amount in 1u32..10_000_000) {
        let body = format!(
            r#"{{"status":true,"data":{{"customer_id":"customer_{hex}","ref":"{hex}","note":"Sandbox customer {}","amount":{amount}}}}}"#,
            &hex[26..]
        );
        prop_assert_eq!(out(PolicyFamily::Payin, &body), body);
    }
}

/// The trade-off kept (README, "Field names in values"): a single vocabulary word as a value
/// still makes its own container personal.
#[test]
fn a_single_vocabulary_word_names_its_own_container() {
    let got = out(
        PolicyFamily::Payin,
        r#"{"status":true,"data":{"verification":"identity","amount":1}}"#,
    );
    assert_eq!(
        got,
        r#"{"status":true,"data":{"verification":"[REDACTED]","amount":"[REDACTED]"}}"#
    );
}

/// Form labels as people write them: punctuation, a required marker, a format hint, five
/// words, a plural, a role word alone.
#[test]
fn form_labels_with_punctuation_name_their_values() {
    for label in [
        "Account holder's name",
        "Phone #",
        "Email address *",
        "Date of birth (DD/MM/YYYY)",
        "Nama (sesuai KTP)",
        "Name & surname",
        "Name, surname",
        "Nama Lengkap Penerima Dana Anda",
        "Contacts",
        "Emails",
        "Addresses",
        "Recipient",
        "What is your email?",
    ] {
        let body = json!({"status": true, "data": {"custom_fields": [{"label": label, "value": "Anna Formson"}]}});
        assert_hidden(&body, &["Formson"]);
    }
}

/// Padding a client trims (spaces, NUL, zero-width spaces) does not hide a label.
#[test]
fn padded_labels_are_read_as_a_client_trims_them() {
    for label in [
        format!("first_name{}", " ".repeat(1100)),
        format!("last_name{}", "\u{200b}".repeat(20)),
        "first_name\u{0}".to_owned(),
        format!("{}email", "\u{feff}\u{200d}"),
    ] {
        let body = json!({"status": true, "data": {"fields": [{"field": label, "value": "Alice Padson"}]}});
        assert_hidden(&body, &["Padson"]);
    }
}

/// Text that mentions a personal field is masked whole: exports, markup, error texts of
/// databases and language runtimes, remittance lines with a role label.
#[test]
fn text_that_mentions_a_personal_field_is_masked_whole() {
    for (note, seed) in [
        ("first_name,last_name\nAlice,Csvson", "Csvson"),
        ("<customer><name>Alice Xmlson</name></customer>", "Xmlson"),
        ("Name | Alice Pipeson", "Pipeson"),
        ("**Name** Alice Boldson", "Boldson"),
        ("Name;Alice Semicolonson", "Semicolonson"),
        ("Payer: Alice Payerlabelson", "Payerlabelson"),
        ("Key (last_name)=(Postgreson) already exists.", "Postgreson"),
        (
            "invalid Customer(first_name='Alice Pythonreprson', id=3)",
            "Pythonreprson",
        ),
        ("error: invalid Customer(lastName=Lombokson)", "Lombokson"),
        ("set first_name to Alice Setson", "Setson"),
    ] {
        let body = json!({"status": false, "data": {"items": [{"note": note, "code": "E_DUP"}]}});
        assert_hidden(&body, &[seed]);
    }
    // An error envelope: the message goes, the status and the error code stay.
    assert_eq!(
        out(
            PolicyFamily::Payin,
            r#"{"status":false,"message":"Validation failed: email is required","code":"VALIDATION_ERROR"}"#
        ),
        r#"{"status":false,"message":"[REDACTED]","code":"VALIDATION_ERROR"}"#
    );
}

/// A role word marks its whole value: a name anywhere in a payer object or under a key with
/// a role word, a handle, a map keyed by people. Ids, codes and types stay.
#[test]
fn a_role_marks_names_and_keys_in_its_whole_value() {
    let body = json!({"status": true, "data": {
        "payer": {"full": "Olga Objectson", "id": "cus_N2fr", "type": "individual", "status": "PENDING"},
        "payer_info": "Ines Infoson",
        "recipient_display": "Dina Displayson",
        "parties": [{"label": "Recipient", "value": "Lara Labelson"}],
        "sender": "umar.digitson1990",
        "payers": {"Paula Payerkeyson": 150000},
        "recipients": [{"Rosa Recipientkeyson": 1}],
        "customer_type": "individual",
        "amount": 150000,
    }});
    let got = assert_hidden(
        &body,
        &[
            "Objectson",
            "Infoson",
            "Displayson",
            "Labelson",
            "digitson",
            "Payerkeyson",
            "Recipientkeyson",
        ],
    );
    for kept in [
        r#""id":"cus_N2fr""#,
        r#""type":"individual""#,
        r#""status":"PENDING""#,
        r#""customer_type":"individual""#,
        r#""amount":150000"#,
    ] {
        assert!(got.contains(kept), "{kept} in {got}");
    }
}

/// Keys naming people inside containers made personal by a label, and above a record of
/// personal data, are the gateway's placeholders.
#[test]
fn keys_naming_people_around_personal_data_are_placeholders() {
    for (body, seed) in [
        (
            json!({"status": true, "data": {"custom": {"field": "first_name", "value": {"Fiona Fieldkeyson": "x"}}}}),
            "Fieldkeyson",
        ),
        (
            json!({"status": true, "data": {"labelled": [{"label": "Full Name", "value": {"Lena Labelkeyson": {"note": "x"}}}]}}),
            "Labelkeyson",
        ),
    ] {
        assert_hidden(&body, &[seed]);
    }
    let body = json!({"status": true, "data": {
        "index": {"Ivan Indexkeyson": {"first_name": "Ivan", "email": "ivan@example.com"}},
        "totals": {"2026-12": {"amount": 1}},
    }});
    let got = assert_hidden(&body, &["Indexkeyson"]);
    assert!(got.contains(r#""index":{"<key>#0":"#), "{got}");
    assert!(
        got.contains(r#""totals":{"2026-12":{"amount":1}}"#),
        "{got}"
    );
}

/// Renderer steps read together (tags and references, QP and HTML, emphasis, invisible
/// named references).
#[test]
fn rendered_text_is_read_as_one_renderer_shows_it() {
    let body = json!({"status": true, "data": {
        "m1": "victim.tags<b>&#64;</b>example.com",
        "m2": "victim.qpentity=26#64;example.com",
        "m3": "<p>victim.qptags<span>=40</span>example.com</p>",
        "m4": "victim.hexnosemi&#x40example.com",
        "m5": "victim.zwj&zwj;@example.com",
        "m7": "victim.bold**@**example.com",
        "m8": "call 0812&ZeroWidthSpace;3456&ZeroWidthSpace;7891",
        "m10": "0812<b>&#8203;</b>3456<b>&#8203;</b>7893",
        "ok": "Tom &amp; Jerry <b>paid</b> 150000.00",
    }});
    let got = assert_hidden(&body, &["victim.", "0812"]);
    assert!(got.contains("Tom &amp; Jerry"), "{got}");
}

/// The market's own keys: Indonesian address parts and abbreviations, English special
/// categories; payment keys that contain those letters stay payment keys.
#[test]
fn vocabulary_covers_the_markets_keys_and_spares_payment_keys() {
    let s = default_settings();
    let p = &s.policies;
    for k in [
        "kota",
        "provinsi",
        "kabupaten",
        "desa",
        "rt_rw",
        "a_n",
        "jk",
        "status_perkawinan",
        "gol_darah",
        "nopol",
        "plat_nomor",
        "ttd",
        "acct",
        "acc_no",
        "acctNo",
        "bank_acc",
        "tel",
        "telno",
        "cell",
        "mob",
        "lat",
        "lng",
        "coordinates",
        "zipcode",
        "no_wa",
        "ethnicity",
        "race",
        "health",
        "blood_type",
        "tax_number",
        "social_security",
        "citizenship",
        "salary",
        "insurance_number",
    ] {
        assert!(p.is_personal_key(k), "{k}");
    }
    for k in [
        "trace_id",
        "healthcheck",
        "desain_id",
        "kotak",
        "cancelled_at",
        "platform_fee",
        "accepted",
        "telemetry",
        "mobility",
        "latency",
        "embrace",
        "status",
        "amount",
        "currency",
        "payin_id",
        "transaction_ref",
        "balance",
        "anchor",
        "wallet",
    ] {
        assert!(!p.is_personal_key(k), "{k}");
    }
}

/// Label spellings people and frameworks write.
fn label() -> impl proptest::strategy::Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "first_name",
        "Last Name",
        "Email address",
        "Phone",
        "Date of birth",
        "Nama Lengkap",
        "alamat",
        "no_hp",
        "Account holder",
        "Contacts",
    ]);
    let dress = prop::sample::select(vec![
        "{}",
        "{} *",
        "{} #",
        "{} (required)",
        "{}'s value",
        "{}\u{200b}\u{200b}",
        " {} ",
        "{}\u{0}",
        "$.customer.{}",
        "/data/attributes/{}",
    ]);
    (words, dress).prop_map(|(w, d)| {
        let w = if d.starts_with('$') || d.starts_with('/') {
            w.to_lowercase().replace(' ', "_")
        } else {
            w.to_owned()
        };
        d.replace("{}", &w)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Wherever a label stands beside its value — a sibling, a descriptor one level down,
    /// a header row — and however it is dressed, the value never leaves.
    #[test]
    fn a_labelled_value_never_leaves(l in label(), shape in 0u8..4, seed in "Seed[A-Z][a-z]{5,8}") {
        let v = format!("Alice {seed}");
        // One plain word (`Phone`, `alamat`) names only the container it stands in (README:
        // a word alone is too often a channel or a code to reach further).
        let single = crate::mask::policy::trim_label(&l).chars().all(char::is_alphanumeric);
        let shape = if single { 0 } else { shape };
        let data = match shape {
            0 => json!({"field": l, "value": v, "n": 1}),
            1 => json!({"field": {"ref": l, "id": "f1"}, "answer": v}),
            2 => json!({"columns": ["id", l], "rows": [["c1", v]]}),
            _ => json!([{"k": l}, {"v": v}]),
        };
        let body = json!({"status": true, "data": {"x": data}}).to_string();
        let got = out(PolicyFamily::Payin, &body);
        prop_assert!(!got.contains(&seed), "{} -> {}", body, got);
    }
}
