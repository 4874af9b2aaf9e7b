//! Values split across sibling members: a string that names a personal field
//! (`{"field": "first_name", "value": "Alice"}`) makes its container's undeclared leaves
//! personal on `report` families, whichever member comes first and however the name is
//! written; ordinary payment objects are left alone.

use super::*;
use crate::mask::policy::PolicyFamily;

const SEEDS: &[&str] = &["Alice", "Victimson", "Rahasia", "1997", "0812", "victim"];

fn out(family: PolicyFamily, body: &str) -> String {
    let masked = default_masker()
        .mask_for(body.as_bytes(), family)
        .expect("maskable");
    String::from_utf8(masked.body.to_vec()).expect("utf-8")
}

#[test]
fn a_value_named_by_a_sibling_is_masked_in_every_shape() {
    for body in [
        r#"{"name":"first_name","value":"Alice Victimson"}"#,
        r#"{"value":"Alice Victimson","name":"first_name"}"#,
        r#"{"field":"phone","val":"0812 3456"}"#,
        r#"{"key":"email","data":"victim at example dot com"}"#,
        r#"{"fields":[{"label":"Full Name","value":"Alice Victimson"},{"label":"City","value":"x"}]}"#,
        r#"{"attr":"Date of Birth","v":"1997-08-04"}"#,
        r#"{"field":"dob","value":19970804}"#,
        r#"{"field":"address","value":{"line":"Jalan Rahasia","no":42}}"#,
        r#"{"field":"address","value":["Jalan Rahasia", 42]}"#,
        r#"[["first_name","Alice Victimson"],["amount",1]]"#,
        r#"{"k":"given","v":true,"w":"Alice"}"#,
        // The name written as a client decodes it: `%XX`, an escape, hex, a broken key.
        r#"{"field":"first%5Fname","value":"Alice"}"#,
        r#"{"field":"first\\u005fname","value":"Alice"}"#,
        r#"{"field":"66697273745f6e616d65","value":"Alice"}"#,
        r#"{"field":"e.mail","value":"victim"}"#,
        r#"{"field":"e\u0301mail","value":"victim"}"#,
        r#"{"field":"Card Holder","value":"Alice"}"#,
        r#"{"type":"surname","content":"Victimson"}"#,
    ] {
        let got = out(PolicyFamily::Payin, body);
        for seed in SEEDS {
            assert!(!got.contains(seed), "{body} -> {got}");
        }
        let _: Value = serde_json::from_str(&got).expect("JSON");
    }
}

/// The keys stay (the shape of the answer is kept) and a declared leaf is still copied.
#[test]
fn only_undeclared_leaves_of_the_container_are_masked() {
    assert_eq!(
        out(
            PolicyFamily::Payin,
            r#"{"status":true,"data":{"field":"first_name","value":"Alice","n":1}}"#
        ),
        r#"{"status":true,"data":{"field":"[REDACTED]","value":"[REDACTED]","n":"[REDACTED]"}}"#
    );
    // `status` is declared on every family: a label beside it does not mask it.
    assert_eq!(
        out(PolicyFamily::Payin, r#"{"status":false,"message":"Email"}"#),
        r#"{"status":false,"message":"[REDACTED]"}"#
    );
}

#[test]
fn ordinary_payment_objects_are_left_alone() {
    for body in [
        r#"{"type":"payin","status":"success","amount":150000,"currency":"IDR"}"#,
        r#"{"status":true,"message":"OK","data":{"payin_id":"payin_1","status":"PENDING"}}"#,
        r#"{"status":true,"data":{"payin_method_name":"VIRTUAL_ACCOUNT","amount":"150000.00"}}"#,
        r#"{"status":true,"data":{"type":"individual","is_active":false,"ref":"INV-2026-0042"}}"#,
        r#"{"status":true,"data":{"channel":"BANK_TRANSFER","fee":2500,"items":["a","b"]}}"#,
        r#"{"status":true,"data":{"description":"Refund for order 42 approved by the merchant team","amount":1}}"#,
    ] {
        assert_eq!(out(PolicyFamily::Payin, body), body);
    }
    // `enforce` masks undeclared leaves anyway; a label does not unmask a declared one.
    let body =
        r#"{"status":true,"data":{"is_wallet_ready":false,"missing_field":["first_name","dob"]}}"#;
    assert_eq!(out(PolicyFamily::WalletReady, body), body);
}

/// Containers whose members name a field, nested in one another, are each read again once;
/// a hostile chain of them is refused (too deep) instead of walked quadratically.
#[test]
fn nested_named_containers_are_bounded() {
    let nested =
        r#"{"field":"name","value":{"field":"email","value":[{"label":"phone","v":"Alice"}]}}"#;
    assert!(!out(PolicyFamily::Payin, nested).contains("Alice"));
    let mut chain = String::from(r#""Alice""#);
    for _ in 0..40 {
        chain = format!(r#"{{"v":{chain},"k":"name","pad":"{}"}}"#, "x".repeat(64));
    }
    match default_masker().mask_for(chain.as_bytes(), PolicyFamily::Payin) {
        Err(MaskError::TooDeep) => {}
        Ok(m) => assert!(!String::from_utf8_lossy(&m.body).contains("Alice")),
        Err(e) => panic!("{e:?}"),
    }
}

/// A person's name that happens to be a vocabulary word (`Nik`, `Pan`) is a value, not a
/// field name: under a personal key or a rule it does not mask the payment beside it.
#[test]
fn a_name_that_is_a_key_word_does_not_mask_its_siblings() {
    for body in [
        r#"{"status":true,"data":{"payin_id":"payin_1","amount":"150000.00","customer_full_name":"Nik Santoso"}}"#,
        r#"{"status":true,"data":{"payin_id":"payin_1","amount":"150000.00","name":"Pan"}}"#,
    ] {
        let got = out(PolicyFamily::Payin, body);
        assert!(got.contains(r#""amount":"150000.00""#), "{got}");
        assert!(!got.contains("Santoso") && !got.contains("Pan"), "{got}");
    }
}

/// Keys are data too: below a personal key every key is the gateway's placeholder, and a
/// personal key with an identifier's digits glued to it is one as well (attack21d F1).
#[test]
fn keys_below_a_personal_key_or_with_a_glued_number_are_placeholders() {
    let body = r#"{"status":true,"data":{"contacts":{"Alice Victimson":"x","AliceCamel":{"BudiDeeper":null}},"address":{"Budi Santoso":null},"phone_081234567890":true,"nik_3173000000001234":1,"name_AliceGlued":"x","amount":1}}"#;
    let m = default_masker();
    let masked = m
        .mask_for(body.as_bytes(), PolicyFamily::Payin)
        .expect("maskable");
    let got = String::from_utf8(masked.body.to_vec()).expect("utf-8");
    for seed in ["Alice", "Budi", "081234567890", "3173000000001234"] {
        assert!(!got.contains(seed), "{got}");
    }
    assert!(got.contains(r#""amount":1"#), "{got}");
    let listed = m
        .policies()
        .map(|p| serde_json::to_string(&p.undeclared().listing()).unwrap_or_default())
        .unwrap_or_default();
    assert!(
        !listed.contains("Alice") && !listed.contains("0812"),
        "{listed}"
    );
}

/// An email whose domain is split by an IDNA full stop (`。`, `｡`, `．`) is an email: UTS #46
/// readers (browsers, `mailto:`) take them for dots (attack21d F4).
#[test]
fn idna_full_stops_are_dots_in_an_email() {
    for v in [
        "alice.ideo@example\u{3002}com",
        "alice.ideo@example\u{ff61}com",
        "alice.ideo@example\u{ff0e}com",
    ] {
        let body = serde_json::json!({"status": true, "data": {"e4": v}}).to_string();
        assert!(
            !out(PolicyFamily::Payin, &body).contains("alice.ideo"),
            "{v}"
        );
    }
}

/// A container read again because a member names a field does not pass that on to the
/// container around it: its siblings are payment values.
#[test]
fn a_named_container_does_not_name_its_parent() {
    let body = r#"{"status":true,"data":{"customer_id":"customer_1","amount":1,"individual":{"identification_type":"PASSPORT","x":"y"},"created_at":"2026-12-06T10:00:00Z"}}"#;
    // A `report` family (`customer` enforces its object: `amount` would be undeclared there).
    let got = out(PolicyFamily::Payin, body);
    assert!(
        got.contains(r#""customer_id":"customer_1","amount":1"#),
        "{got}"
    );
    assert!(
        got.contains(r#""created_at":"2026-12-06T10:00:00Z""#),
        "{got}"
    );
}

/// A key that is only a role word holds a person: a name under it is masked, an id is kept,
/// and an object under it is judged key by key (attack21d F6).
#[test]
fn a_role_key_masks_a_name_and_keeps_an_id() {
    let body = r#"{"status":true,"data":{"payer":"Alice Victimson","recipients":["Budi Santoso"],"customer":"customer_67d84b19d50b490a8fa75ab20bbf275a","beneficiary":{"beneficiary_id":"beneficiary_1","currency":"IDR"},"penerima":"Citra","amount":1}}"#;
    let got = out(PolicyFamily::Payout, body);
    for seed in ["Alice", "Budi", "Citra"] {
        assert!(!got.contains(seed), "{got}");
    }
    for kept in [
        r#""customer":"customer_67d84b19d50b490a8fa75ab20bbf275a""#,
        r#""beneficiary":{"beneficiary_id":"beneficiary_1","currency":"IDR"}"#,
        r#""amount":1"#,
    ] {
        assert!(got.contains(kept), "{kept} in {got}");
    }
}

/// A reading cut short by a bound (a compressed stream longer than the inflation bound, a
/// fifth level of encoding, a fourth level of `%XX`) masks the value whole (attack21d F11).
#[test]
fn a_reading_cut_at_its_bound_masks_the_value_whole() {
    use base64::Engine as _;
    use std::io::Write as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut text = "x".repeat(100_000);
    text.push_str(" contact victim.gzbomb@example.com");
    gz.write_all(text.as_bytes()).expect("gzip");
    let bomb = b64(&gz.finish().expect("gzip"));
    let mut deep = "contact victim.deep4@example.com".to_owned();
    for _ in 0..4 {
        deep = b64(deep.as_bytes());
    }
    for v in [
        bomb.as_str(),
        deep.as_str(),
        "victim.pct4%25252540example.com",
    ] {
        let body = serde_json::json!({"status": true, "data": {"note": v}}).to_string();
        let got = out(PolicyFamily::Payin, &body);
        assert!(!got.contains(v), "{got}");
    }
    // Ordinary encoded values are read to the end and kept.
    for v in [
        b64(br#"{"page":2}"#),
        "a%2Fb%2Fc".to_owned(),
        b64(b64(b"cursor-2").as_bytes()),
    ] {
        let body = serde_json::json!({"status": true, "data": {"cursor": v}}).to_string();
        assert_eq!(out(PolicyFamily::Payin, &body), body);
    }
}

/// Text serialised as byte or character codes (Node's `Buffer.toJSON()`, a byte array) is
/// read as that text; arrays of amounts stay (attack21d F13).
#[test]
fn byte_and_character_code_arrays_are_read_as_text() {
    let codes = |s: &str| {
        s.bytes()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let email = codes("contact victim.buffer@example.com");
    let body = format!(
        r#"{{"status":true,"data":{{"payload":{{"type":"Buffer","data":[{email}]}},"chars":[{}],"amounts":[150000,2500,10,20,30,40,50,60]}}}}"#,
        codes("Alice 081234567890 phone")
    );
    let got = out(PolicyFamily::Payin, &body);
    assert!(!got.contains(&email), "{got}");
    assert!(!got.contains("48,56,49,50"), "{got}");
    assert!(
        got.contains(r#""amounts":[150000,2500,10,20,30,40,50,60]"#),
        "{got}"
    );
}
