//! Attack tests on personal values in leaves — declared leaves on
//! the `enforce` routes carrying text their field cannot hold, numerals that hide an
//! identifier outside their integer part or inside the "Unix milliseconds" range, an email
//! written with an IDNA dot — and the value shapes that held (phone, IBAN, card, ID and email
//! spellings). Hostile upstream on loopback; HTTP/1.1 and h2c, GET (miss and hit) and HEAD.
//!
//! `#[ignore = "finding: …"]` tests state a class still open (the reason names it):
//! `cargo test --test it attack_ -- --ignored`.

use serde_json::json;

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// F2: a declaration names a field, not what its value may be: flags, ids, statuses and
/// timestamps carrying a name, an address or a date of birth are copied.
#[tokio::test]
async fn declared_leaves_carry_only_what_their_field_can_hold() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let detail_body = json!({"status": "Alice Declstatus", "data": {
        "customer_id": "Alice Declid",
        "type": "Budi Decltype",
        "is_active": "Jalan Declflag 42, Jakarta",
        "created_at": "1990-05-17 born Declborn",
        "gca_activation_status": "Citra Declenum",
        "organization_reference_id": "Dewi Declref",
        "created_by": "Eka Declby",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21d_301)),
        "200 OK",
        &detail_body,
        &[
            "Declstatus",
            "Declid",
            "Decltype",
            "Declflag",
            "Declborn",
            "Declenum",
            "Declref",
            "Declby",
        ],
        "declared customer_detail leaves",
    )
    .await;
    let wallet_body = json!({"status": true, "data": {
        "is_wallet_ready": "Alice Declready",
        "missing_field": ["Budi Declmissing", "Jalan Declmissing2 42"],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        &wallet(&customer_id(0x21d_302)),
        "200 OK",
        &wallet_body,
        &["Declready", "Declmissing"],
        "declared wallet_ready leaves",
    )
    .await;
    // On a report family a declaration overrides the key word `name`, unchecked.
    let payin_body = json!({"status": true, "data": {
        "payin_method_name": "Alice Declmethod",
        "items": [{"payin_method_name": "Budi Declitem"}],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-declared",
        "200 OK",
        &payin_body,
        &["Declmethod", "Declitem"],
        "declared payin leaves",
    )
    .await;
    app.stop().await;
}

/// F3: a numeral is judged on its integer part only, and every 13-digit value from
/// 1420070400000 to 2208988800000 is taken for a clock. Every digit run of a numeral's text
/// (integer part, fraction, exponent, in numbers and numeric strings) is judged now, and an
/// undeclared 13-digit value is an identifier.
#[tokio::test]
async fn identifiers_in_any_part_of_a_numeral_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let report = r#"{"status":true,"data":{"x":0.6281234503301,"y":6.281234503302e-1,"z":"0.6281234503303","w":-0.3173000000003304,"dest":"1560012303305","dest_num":1560012303306,"note":"transfer ke 1560012303307","u":3173000000003308e-400,"v":6281234503309e10,"t":3.173000000003310e300,"q":"rate 0.6281234503316e-3","m":62812.34503317e-5}}"#;
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-numerals",
        "200 OK",
        report,
        &[
            "6281234503301",
            "281234503302",
            "6281234503303",
            "3173000000003304",
            "1560012303305",
            "1560012303306",
            "1560012303307",
            "3173000000003308",
            "6281234503309",
            "173000000003310",
            "6281234503316",
            "34503317",
        ],
        "numerals (report)",
    )
    .await;
    // Declared leaves: a declaration says what a field is, not that any number fits it.
    let enforce = r#"{"status":true,"data":{"customer_id":"customer_67d84b19d50b490a8fa75ab20bbf275a","is_active":0.6281234503311,"is_gca_enabled":6.281234503312e-1}}"#;
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21d_303)),
        "200 OK",
        enforce,
        &["6281234503311", "281234503312"],
        "numerals (enforce, declared)",
    )
    .await;
    // No false positive: amounts in every spelling pass byte for byte.
    let amounts = r#"{"status":true,"data":{"amount":1500000,"fee":2500.50,"total":"1,502,500.50","rate":0.25,"big":1.5e9,"when":"2024-12-06T03:53:52.779Z"}}"#;
    let out = read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-numerals-amounts",
        "200 OK",
        amounts,
        &[],
        "amounts",
    )
    .await;
    assert!(
        out.contains("1500000") && out.contains("2500.50") && out.contains("1,502,500.50"),
        "amounts must pass: {out}"
    );
    app.stop().await;
}

/// F3, the declared half: a 13-digit value in the Unix-ms range, or a numeric string, under
/// a declared timestamp is masked: the declaration's kind (an RFC 3339 date-time) decides
/// what the field may hold.
#[tokio::test]
async fn declared_timestamps_hold_only_timestamps() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let enforce = r#"{"status":true,"data":{"customer_id":"customer_67d84b19d50b490a8fa75ab20bbf275a","gca_activated_at":1560012303313,"updated_at":"1560012303314"}}"#;
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21d_305)),
        "200 OK",
        enforce,
        &["1560012303313", "1560012303314"],
        "numerals (enforce, declared timestamps)",
    )
    .await;
    app.stop().await;
}

/// F4: UTS #46 (browsers, `mailto:`, Python's `idna`) reads `。` and `｡` as dots; NFKC does not.
#[tokio::test]
async fn an_email_with_an_idna_dot_never_passes() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "a": "alice.ideo@example\u{3002}com",
        "b": "write to alice.halfwidth@example\u{ff61}co\u{ff61}id",
        "c": "alice.comment(work)@example.com",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-idna",
        "200 OK",
        &body,
        &["alice.ideo", "alice.halfwidth", "alice.comment"],
        "IDNA dots",
    )
    .await;
    app.stop().await;
}

/// Held: phone, ID, card, IBAN and email spellings under neutral keys on a `report` route
/// (and the same body on the `enforce` route), free text included.
#[tokio::test]
async fn value_shapes_a_detector_claims_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "p1": "+62-812-3456-4401", "p2": "0812-3456-4402", "p3": "(0812) 3456 4403",
        "p4": "62 812 3456 4404", "p5": "https://wa.me/6281234564405",
        "p6": "https://api.whatsapp.com/send?phone=6281234564406", "p7": "tel:0812-3456-4407",
        "p8": "+62 (812) 3456-4408", "p9": "(+62) 812 3456 4409", "p10": "+44 7911 124410",
        "p11": "WA 0812.3456.4411",
        "n1": "00000006281234564412", "n2": "081234564413 3173000000004414",
        "n3": "3173000000004415,3173000000004416", "n4": "a=3173000000004417&b=1",
        "n5": "(3173000000004418)", "n6": "3173-0000-0000-4419-5678",
        "c1": "4111 1111 1111 1111", "c2": 4_111_111_111_111_111_u64,
        "i1": "gb82west12345698765432", "i2": "DE89\u{a0}3704\u{a0}0044\u{a0}0532\u{a0}0130\u{a0}00",
        "e1": "\u{43a}\u{43e}\u{43d}\u{442}\u{430}\u{43a}\u{442}: \u{430}\u{43b}\u{438}\u{441}\u{430}@\u{43f}\u{440}\u{438}\u{43c}\u{435}\u{440}.\u{440}\u{444}",
        "e2": "alice.umlaut@b\u{fc}cher.de", "e3": "alice.smallat\u{fe6b}example.com",
        "e4": "alice.puny@xn--bcher-kva.de", "e5": "alice.trail@example.com.",
        "e6": "mailto:alice%2Epct%40example%2Ecom",
    }})
    .to_string();
    let seeds = [
        "3456-4401",
        "3456-4402",
        "3456 4403",
        "3456 4404",
        "6281234564405",
        "6281234564406",
        "3456-4407",
        "3456-4408",
        "3456 4409",
        "7911 124410",
        "3456.4411",
        "6281234564412",
        "081234564413",
        "3173000000004414",
        "3173000000004415",
        "3173000000004416",
        "3173000000004417",
        "3173000000004418",
        "4419-5678",
        "1111 1111 1111",
        "4111111111111111",
        "12345698765432",
        "0532",
        "\u{430}\u{43b}\u{438}\u{441}\u{430}@",
        "alice.umlaut",
        "alice.smallat",
        "alice.puny",
        "alice.trail",
        "alice%2Epct",
    ];
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-shapes",
        "200 OK",
        &body,
        &seeds,
        "value shapes (report)",
    )
    .await;
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21d_304)),
        "200 OK",
        &body,
        &seeds,
        "value shapes (enforce)",
    )
    .await;
    app.stop().await;
}

/// F5: `last4` reveals up to half of each element of an array, so a number split into
/// pieces shows half its digits.
#[tokio::test]
async fn a_split_number_never_shows_more_than_its_last_four() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = r#"{"status":true,"data":{"account_number":["3173","5501","7702","1234"],"phone_number":["08","13","57","92","46","80"],"customer_phone":[6281239,517290]}}"#;
    let out = read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-split",
        "200 OK",
        body,
        &[],
        "split values under last4",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["account_number", "phone_number", "customer_phone"] {
        let shown: usize = v["data"][key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str())
                    .map(|e| e.chars().filter(char::is_ascii_digit).count())
                    .sum()
            })
            .unwrap_or(0);
        assert!(shown <= 4, "{key}: {shown} digits shown: {out}");
    }
    app.stop().await;
}

/// F6: keys that name a person (a payment's counterparty), a name part, a special category
/// or an identity document are neutral to the key words: a bare name under them passes.
#[tokio::test]
async fn keys_naming_a_person_or_a_special_category_are_personal() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let keys = [
        "payer",
        "payee",
        "sender",
        "recipient",
        "beneficiary",
        "customer",
        "individual",
        "given",
        "family",
        "maiden",
        "gender",
        "religion",
        "marital",
        "national_id",
        "tax_id",
        "sim",
        "selfie",
        "signature",
        "latitude",
        "id_number",
        "personal_number",
        "kitas",
        "penerima",
        "pengirim",
        "nasabah",
    ];
    let data: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ((*k).to_owned(), json!(format!("Alice Rolekey{i:02}"))))
        .collect();
    let body = json!({"status": true, "data": data}).to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-roles",
        "200 OK",
        &body,
        &["Rolekey"],
        "person-role keys",
    )
    .await;
    app.stop().await;
}

/// F5 (hmac): each element of an array under an `hmac` rule gets its own digest, so an ID
/// number split into digits is a ten-symbol substitution cipher.
#[tokio::test]
async fn a_split_id_number_never_decodes_by_codebook() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    // `hmac` per element is a codebook: the digest of "3" (learnt from any answer where a
    // rule digests the single value "3") must not decode a split ID number.
    let digits = r#"{"status":true,"data":{"identification_value":["3","1","7","3","0","0","0","0","0","0","0","0","1","2","3","4"],"payer_id":"3"}}"#;
    let out = read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-split-hmac",
        "200 OK",
        digits,
        &[],
        "split values under hmac",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let three = v["data"]["payer_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let split = v["data"]["identification_value"].to_string();
    assert!(
        three.is_empty() || !split.contains(&three),
        "the digest of \"3\" decodes the split ID: {out}"
    );
    app.stop().await;
}

/// F7: digit groups joined by separators outside the detector's list, and digits written
/// with keycaps, dingbats or a blank-rendering symbol, are copied.
#[tokio::test]
async fn digits_behind_any_separator_are_digits() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let keycap: String = "081234567701"
        .chars()
        .flat_map(|c| [c, '\u{fe0f}', '\u{20e3}'])
        .collect();
    let body = json!({"status": true, "data": {
        "a": "WA 0812:3456:7702", "b": "0812~3456~7703", "c": "0812|3456|7704",
        "d": "0812+3456+7705", "e": "0812*3456*7706", "f": "0812'3456'7707",
        "g": "0812\u{2800}3456\u{2800}7708", "h": keycap,
        "i": "\u{2780}\u{2787}\u{2780}\u{2781}\u{2782}\u{2783}\u{2784}\u{2785}\u{2786}\u{2786}\u{2789}\u{2788}",
        "j": "0812\u{2192}3456\u{2192}7709", "k": "0812 / 3456 / 7710",
        "l": "\u{24f5}\u{24f6}\u{24f7}\u{24f8}\u{24f9}\u{24fa}\u{24fb}\u{24fc}\u{24fd}\u{24f5}\u{24f6}",
        "m": "0812#3456#7711",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-separators",
        "200 OK",
        &body,
        &[
            "3456:7702",
            "3456~7703",
            "3456|7704",
            "3456+7705",
            "3456*7706",
            "3456'7707",
            "3456\u{2800}7708",
            "7\u{fe0f}\u{20e3}0\u{fe0f}\u{20e3}1",
            "7\\ufe0f\\u20e30\\ufe0f\\u20e31",
            "\u{2786}\u{2786}\u{2789}",
            "3456\u{2192}7709",
            "3456 / 7710",
            "\u{24fc}\u{24fd}\u{24f5}",
            "3456#7711",
        ],
        "separators and non-Nd digits",
    )
    .await;
    app.stop().await;
}

/// F8: the customer object is masked under `enforce` on the detail route and under `report`
/// on update and list, where a field paycombat adds (inside the documented personal container
/// `individual`) passes.
#[tokio::test]
async fn the_customer_object_is_enforced_on_every_route() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let object = json!({
        "customer_id": "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "type": "individual",
        "individual": {"mothers_maiden": "Siti Objmaiden", "notes": "VIP: Alice Objnotes"},
    });
    let seeds = ["Objmaiden", "Objnotes"];
    let one = json!({"status": true, "data": object}).to_string();
    let list = json!({"status": true, "data": [object]}).to_string();
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21d_701)),
        "200 OK",
        &one,
        &seeds,
        "customer detail (enforce)",
    )
    .await;
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/customer/customer",
        "200 OK",
        &list,
        &seeds,
        "customer list",
    )
    .await;
    bodies
        .lock()
        .unwrap()
        .insert("/api/v1/customer/update".into(), ("200 OK", one.clone()));
    let r = app
        .send(
            http::Method::PATCH,
            "/api/v1/customer/update",
            &[("content-type", "application/json")],
            br#"{"customer_id":"customer_67d84b19d50b490a8fa75ab20bbf275a"}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    crate::common::readings::assert_no_seed(&r, &seeds, "customer update");
    app.stop().await;
}

/// F11: a small base64 gzip/zlib token whose inflated text is longer than the detectors'
/// reading bound (64 KiB) is judged on the prefix only.
#[tokio::test]
async fn a_compressed_blob_longer_than_the_reading_bound_never_passes() {
    use base64::Engine as _;
    use std::io::Write;
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let mut text = vec![b'x'; 100_000];
    text.extend_from_slice(b" contact victim.gzbomb@example.com");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zl.write_all(&text).unwrap();
    let zl = zl.finish().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let (g, z) = (b64.encode(&gz), b64.encode(&zl));
    assert!(
        g.len() < 1024 && z.len() < 1024,
        "small values, far below 64 KiB"
    );
    // The decode-level bounds are the same class: base64 four times, `%` four times.
    let mut b4 = b"contact victim.deep4@example.com".to_vec();
    for _ in 0..4 {
        b4 = b64.encode(&b4).into_bytes();
    }
    let b4 = String::from_utf8(b4).unwrap();
    let body = json!({"status": true, "data": {
        "receipt": g, "blob": z, "b4": b4, "p4": "victim.pct4%25252540example.com",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-gzbomb",
        "200 OK",
        &body,
        &[&g[..40], &z[..40], &b4[..40], "victim.pct4"],
        "compressed blob past the bound",
    )
    .await;
    app.stop().await;
}
