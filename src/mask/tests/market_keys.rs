//! Keys in the languages of paycombat's markets, online identifiers, and keys the gateway
//! cannot read, on a shipped `report` family.

use proptest::prelude::*;

use super::default_masker;
use crate::mask::policy::PolicyFamily;

fn payin(body: &str) -> String {
    let masked = default_masker()
        .mask_for(body.as_bytes(), PolicyFamily::Payin)
        .expect("masks");
    String::from_utf8(masked.body.to_vec()).expect("utf-8")
}

fn assert_masked(key: &str, value: &str) {
    let body =
        serde_json::json!({"status": true, "data": {key: value, "currency": "IDR"}}).to_string();
    let out = payin(&body);
    assert!(!out.contains(value), "{key}: {out}");
    // The payment field beside it stays.
    assert!(out.contains(r#""currency":"IDR""#), "{key}: {out}");
}

#[test]
fn market_language_keys_mask_their_value() {
    for key in [
        "telefon",
        "no_telefon",
        "telefon_bimbit",
        "emel",
        "poskod",
        "nombre",
        "Nombre",
        "apellido",
        "apellidos",
        "dirección",
        "direccion",
        "domicilio",
        "fecha_nacimiento",
        "fechaNacimiento",
        "cedula",
        "cédula",
        "dni",
        "curp",
        "telefono",
        "teléfono",
        "celular",
        "correo",
        "ho_ten",
        "hoTen",
        "họ_tên",
        "dia_chi",
        "địa_chỉ",
        "ngay_sinh",
        "ngày_sinh",
        "noi_sinh",
        "cccd",
        "cmnd",
        "so_dien_thoai",
        "gioi_tinh",
        "quoc_tich",
        "pangalan",
        "apelyido",
        "tirahan",
        "kaarawan",
        "telepono",
        "kasarian",
        "chue",
        "namsakun",
        "thi_yu",
        "wan_koet",
        "thorasap",
        "ชื่อ",
        "ที่อยู่",
    ] {
        assert_masked(key, "Seedvalue Personson");
    }
}

#[test]
fn online_identifiers_and_birth_details_mask_their_value() {
    for (key, value) in [
        ("ip", "203.0.113.45"),
        ("source_ip", "203.0.113.46"),
        ("remote_ip", "2001:db8::7335"),
        ("ipAddress", "198.51.100.9"),
        ("x_forwarded_for", "198.51.100.77"),
        ("X-Forwarded-For", "198.51.100.78"),
        ("device_id", "6D92078A-8246-4BA4-AE5B-76104861E7DC"),
        ("idfa", "6D92078A-8246-4BA4-AE5B-76104861E7DD"),
        ("gaid", "38400000-8cf0-11bd-b23e-10b96e40000d"),
        ("imei", "35-209900-176148-1"),
        ("next_of_kin", "Siti Kinaminah"),
        ("nok", "Siti Kinaminah"),
        ("yob", "1990"),
        ("pob", "Surabaya"),
        ("place_of_birth", "Surabaya"),
    ] {
        assert_masked(key, value);
    }
}

#[test]
fn payment_keys_keep_their_values() {
    let body = r#"{"status":true,"data":{"payin_id":"pay_N2fr9","reference_id":"INV-42","amount":"150000.00","currency":"IDR","status":"PAID","description":"Invoice 42","fx":{"IDR":1,"USD":2,"PAID":3},"created_at":"2024-12-06T03:53:52.779Z"}}"#;
    assert_eq!(payin(body), body);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The class: a key with any character that is no ASCII letter, digit, `_` or `-` (a
    /// space, punctuation, a letter of another script) is written `<key>#N` and its value
    /// masked, whatever the value is.
    #[test]
    fn a_key_the_gateway_cannot_read_masks_its_value(
        key in "[a-z]{0,6}[ .,:;!'ก-ฮà-ỹА-я一-龥][a-zก-ฮ]{0,6}",
        value in "Seed[a-z]{4,8}( [A-Z][a-z]{3,8})?",
    ) {
        let body = serde_json::json!({"data": {key.clone(): value.clone()}}).to_string();
        let out = payin(&body);
        prop_assert!(!out.contains(&value), "{key}: {out}");
        // The key as a member name (a key of one punctuation mark, `:`, is in any JSON text).
        let got: serde_json::Value = serde_json::from_str(&out).expect("json");
        let names = got["data"].as_object().expect("an object");
        prop_assert!(names.keys().all(|k| !k.contains(&key)), "{key}: {out}");
    }
}
