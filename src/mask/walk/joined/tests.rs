//! Objects and arrays read joined, through `Masker::mask_for` on a `report` family.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::pieces::{self, Piece, Reader};
use crate::mask::policy::PolicyFamily;
use crate::mask::{default_settings, Masker};

/// `data.x` of `body` masked as a `report` family's answer.
fn masked_x(x: &Value) -> Value {
    let masker = Masker::new(&default_settings(), Some(b"joined-key")).expect("valid");
    let body = json!({"status": true, "data": {"x": x}}).to_string();
    let out = masker
        .mask_for(body.as_bytes(), PolicyFamily::Transaction)
        .expect("maskable");
    let v: Value = serde_json::from_slice(&out.body).expect("json");
    v["data"]["x"].clone()
}

/// `text` cut into pieces of `size` characters.
fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Finding 5: an email or a phone or ID number spelled across array elements (one
    /// character each, or string chunks; digits as one-digit numbers) never comes back: no
    /// element of the array is copied.
    #[test]
    fn values_spelled_across_elements_are_masked(
        local in "[a-z]{3,8}",
        domain in "[a-z]{3,8}",
        phone in "0[1-9][0-9]{9,11}",
        id in "[1-9]{11,16}",
        size in 1usize..=4,
    ) {
        let email = format!("{local}@{domain}.com");
        let digits: Vec<u64> = id.bytes().map(|b| u64::from(b - b'0')).collect();
        for x in [
            json!(pieces(&email, size)),
            json!(pieces(&phone, size)),
            json!(digits),
            json!(pieces(&id, size)),
        ] {
            let after = masked_x(&x);
            let (Value::Array(before), Value::Array(after)) = (&x, &after) else {
                return Err(TestCaseError::fail(format!("{x} came back as {after}")));
            };
            for (a, b) in before.iter().zip(after) {
                prop_assert_ne!(a, b, "{} came back as {:?}", x, after);
            }
        }
    }

    /// Finding 11: an email or a phone number split across an object's members (random
    /// cut points, random keys, an email's parts in either order) never comes back: no
    /// member is copied.
    #[test]
    fn values_split_across_members_are_masked(
        local in "[a-z]{3,8}\\.[a-z]{3,8}",
        domain in "[a-z]{3,8}\\.(com|co\\.id|org)",
        keys in proptest::collection::vec("[a-z]{1,6}", 2),
        swap in any::<bool>(),
    ) {
        // Text pieces: numbers split across members are the number reading's
        // (`numbers_split_across_containers_are_masked`).
        let mut email = serde_json::Map::new();
        let (first, second) = if swap { (&domain, &local) } else { (&local, &domain) };
        email.insert(format!("{}0", keys[0]), json!(first));
        email.insert(format!("{}1", keys[1]), json!(second));
        let x = Value::Object(email);
        let after = masked_x(&x);
        let (Value::Object(before), Value::Object(after)) = (&x, &after) else {
            return Err(TestCaseError::fail(format!("{x} came back as {after}")));
        };
        for v in before.values() {
            prop_assert!(after.values().all(|a| a != v), "{} came back as {:?}", x, after);
        }
    }

    /// The other side: objects of codes, statuses, ids, amounts (numbers, and decimal
    /// strings) and timestamps come back unchanged.
    #[test]
    fn objects_without_a_shape_pass(
        code in "(IDR|SGD|USD|PENDING|SUCCESS|FAILED|VA|QRIS)",
        id in "(payin|payout|customer)_[0-9a-f]{32}",
        amount in 10u64..10_000_000_000,
        decimal in "[1-9][0-9]{0,7}\\.[0-9]{2}",
        fee in "[1-9][0-9]{0,5}\\.[0-9]{2}",
        day in 1u32..28,
    ) {
        let x = json!({
            "a_status": code, "b_id": id, "c_amount": amount, "d_amount": decimal,
            "e_fee": fee, "f_created_at": format!("2024-12-{day:02}T03:53:52.779Z"),
            "g_currency": "IDR",
            // Amounts and fees as strings, as IDR answers write them (six digits or fewer:
            // a bare seven-digit string is a digit run on its own, joined or not).
            "h_amount": (100_000 + amount % 900_000).to_string(),
            "i_fee": (1_000 + amount % 9_000).to_string(),
        });
        prop_assert_eq!(masked_x(&x), x);
    }

    /// The other side: arrays of codes, statuses, ids and amounts (numbers of more than
    /// one digit) come back unchanged.
    #[test]
    fn arrays_without_a_shape_pass(
        codes in proptest::collection::vec("(IDR|SGD|USD|PENDING|SUCCESS|FAILED|VA|QRIS)", 1..8),
        ids in proptest::collection::vec("(payin|payout|customer)_[0-9a-f]{32}", 1..4),
        amounts in proptest::collection::vec(10u64..10_000_000_000, 1..12),
    ) {
        for x in [json!(codes), json!(ids), json!(amounts)] {
            prop_assert_eq!(masked_x(&x), x);
        }
    }
}

/// The pieces of `src` whose first reading wrote `out`, no declaration.
fn pieces_of(src: &str, out: &str, object: bool) -> Option<Vec<Piece>> {
    let mut member = |d: Option<u32>, _: &str| (d, false);
    let item = |d: Option<u32>| d;
    let shows = |t: &str| t.contains('@');
    Reader::new(src, out, &mut member, &item, &shows).read(object, None)
}

fn text(t: &str) -> Piece {
    Piece::Text(t.to_owned())
}

#[test]
fn leaves_are_read_through_containers_and_separators_add_nothing() {
    let src = r#"[ "a\u0040", 7, 12, -1.5e3, true, null, ["b", {"c": "0812", "d": 62}], {} ]"#;
    let out = r#"["a\u0040",7,12,-1.5e3,true,null,["b",{"c":"0812","d":62}],{}]"#;
    assert_eq!(
        pieces_of(src, out, false),
        Some(vec![
            text("a@"),
            text("7"),
            Piece::Break,
            Piece::Break,
            text("b"),
            Piece::Num("0812".into()),
            Piece::Num("62".into()),
        ])
    );
    assert_eq!(pieces_of("[]", "[]", false), Some(vec![]));
    // A leaf or container the first reading masked: a gap when it shows a shape alone or is
    // a container, a hidden piece of text when it was masked under its key.
    assert_eq!(
        pieces_of(
            r#"{"a": "0812", "b": "x@example.com", "c": ["3456"], "d": {"e": "7890"}, "f": "ann"}"#,
            r#"{"a":"0812","b":"[REDACTED]","c":"[REDACTED]","d":{"e":"7890"},"f":null}"#,
            true
        ),
        Some(vec![
            Piece::Num("0812".into()),
            Piece::Gap,
            Piece::Gap,
            Piece::Num("7890".into()),
            Piece::Hidden("ann".into()),
        ])
    );
    // The output replaced the container whole: nothing to read.
    assert_eq!(pieces_of("[1, 2]", "\"[REDACTED]\"", false), None);
}

#[test]
fn deep_and_big_containers_break_the_value() {
    let deep = r#"["0812", [[[[[[["3456"]]]]]]], "7890"]"#;
    let pieces = pieces_of(deep, deep, false).expect("json");
    assert_eq!(pieces, vec![text("0812"), Piece::Break, text("7890")]);
    let big: Vec<String> = (0..=pieces::MAX_INLINE).map(|i| format!("w{i}")).collect();
    let src = serde_json::to_string(&json!(["0812", big, "7890"])).expect("json");
    let pieces = pieces_of(&src, &src, false).expect("json");
    assert_eq!(pieces, vec![text("0812"), Piece::Break, text("7890")]);
}

/// `text` cut at random points into pieces of two to six characters (`cuts` picks the sizes).
fn cut(text: &str, cuts: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    for &n in cuts.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let n = if rest.len() <= 6 {
            rest.len()
        } else {
            n.min(rest.len() - 2)
        };
        out.push(rest[..n].to_owned());
        rest = &rest[n..];
    }
    out
}

/// Every digit of the leaves below `v` in document order: what a client that joins pieces
/// reads, whatever stands between them.
fn digits_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.chars().filter(char::is_ascii_digit).collect(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => a.iter().map(digits_of).collect(),
        Value::Object(o) => o.values().map(digits_of).collect(),
        _ => String::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Finding 21g-4, the class: a mobile number or NIK cut into pieces of two to six digits,
    /// each piece alone or in its own one-member object or array, in an array or an
    /// object's members, with `null`, booleans, empty containers or a masked decoy between
    /// the pieces, never reaches the client whole.
    #[test]
    fn numbers_split_across_containers_are_masked(
        number in "(08(1[1-9]|5[1-3]|77|9[5-9])[0-9]{7,9}|3[1-6][1-9][0-9]{3}([0-2][0-9]|4[1-9])(0[0-9]|1[0-2])[0-9]{2}[1-9][0-9]{3})",
        cuts in proptest::collection::vec(2usize..=6, 1..4),
        wraps in proptest::collection::vec(0u8..3, 8),
        seps in proptest::collection::vec(0u8..6, 8),
        object in any::<bool>(),
    ) {
        let sep = |i: usize| match seps[i % seps.len()] {
            0 => None,
            1 => Some(json!(null)),
            2 => Some(json!(true)),
            3 => Some(json!({})),
            4 => Some(json!([])),
            _ => Some(json!("decoy@example.com")),
        };
        let mut items = Vec::new();
        for (i, piece) in cut(&number, &cuts).into_iter().enumerate() {
            items.push(match wraps[i % wraps.len()] {
                0 => json!(piece),
                1 => json!({ "v": piece }),
                _ => json!([piece]),
            });
            items.extend(sep(i));
        }
        let x = if object {
            let members = items.into_iter().enumerate().map(|(i, v)| (format!("k{i:02}"), v));
            Value::Object(members.collect())
        } else {
            Value::Array(items)
        };
        let after = masked_x(&x);
        prop_assert!(!digits_of(&after).contains(&number), "{} came back as {}", x, after);
    }

    /// The other side: lists of payment records as upstream writes them (short amounts and
    /// codes as strings, a bank and payment code, a card summary) come back whole.
    #[test]
    fn lists_of_payment_records_pass(
        amounts in proptest::collection::vec(1_000u32..1_000_000, 1..6),
        fee in 100u32..10_000,
        bank in "(002|008|009|014|022|451)",
        code in "[0-9]{6}",
        last4 in "[0-9]{4}",
        month in 1u32..=12,
        year in 2025u32..2035,
    ) {
        let records: Vec<String> = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| format!(
                r#"{{"payin_id": "payin_{i}", "amount": "{a}", "fee": "{fee}", "currency": "IDR",
                "bank": {{"bank_code": "{bank}", "payment_code": "{code}"}},
                "card": {{"card_brand": "VISA", "card_last4": "{last4}",
                "exp_month": "{month:02}", "exp_year": "{year}"}},
                "status": "PAID", "paid": true, "note": null}}"#
            ))
            .collect();
        // Raw text: members in the order upstream writes them (`json!` sorts the keys).
        let body = format!(
            r#"{{"status": true, "data": {{"x": {{"items": [{}], "total": {}}}}}}}"#,
            records.join(","),
            amounts.len()
        );
        let masker = Masker::new(&default_settings(), Some(b"joined-key")).expect("valid");
        let out = masker
            .mask_for(body.as_bytes(), PolicyFamily::Transaction)
            .expect("maskable");
        let got: Value = serde_json::from_slice(&out.body).expect("json");
        let sent: Value = serde_json::from_str(&body).expect("json");
        prop_assert_eq!(got, sent);
    }
}

#[test]
fn a_number_split_the_way_phone_libraries_write_it_is_masked() {
    for x in [
        json!({"country_code": "62", "area_code": "812", "subscriber": "345678"}),
        json!({"country_code": "+62", "national": {"area": "812", "number": "345678"}}),
        json!({"a": "0812", "b": "9988", "c": "7766"}),
    ] {
        let after = masked_x(&x);
        assert!(
            !digits_of(&after).contains("345678"),
            "{x} came back as {after}"
        );
        assert!(
            !digits_of(&after).contains("9988"),
            "{x} came back as {after}"
        );
    }
    // A card's expiry month `08` beside its last four and year is no mobile number.
    let card = json!({"exp_month": "08", "card_last4": "1234", "exp_year": "2027"});
    assert_eq!(masked_x(&card), card);
}

/// A list's length is no reason to mask it: records are breaks between them, and the bound on a
/// joined text is a run's (the pieces between two breaks), so a list of thousands of records
/// (far longer than `MAX_JOINED_TEXT` joined) comes back whole, and one holding personal
/// members loses those members only.
#[test]
fn long_lists_of_records_are_read_record_by_record() {
    let record = |i: usize| {
        format!(
            r#"{{"payin_id": "payin_{i:032x}", "amount": "{}", "currency": "IDR",
            "description": "Order INV-2026-{i:06}", "status": "PAID",
            "created_at": "2026-12-07T04:00:00.000Z", "paid": true, "note": null}}"#,
            1_000 + i
        )
    };
    let items: Vec<String> = (0..3_000).map(record).collect();
    let body = format!(r#"{{"status": true, "data": [{}]}}"#, items.join(","));
    assert!(body.len() > 4 * super::MAX_JOINED_TEXT);
    let masker = Masker::new(&default_settings(), Some(b"joined-key")).expect("valid");
    let out = masker
        .mask_for(body.as_bytes(), PolicyFamily::Transaction)
        .expect("maskable");
    let got: Value = serde_json::from_slice(&out.body).expect("json");
    let sent: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(got, sent);

    let people: Vec<String> = (0..1_000)
        .map(|i| {
            format!(
                r#"{{"customer_id": "customer_{i:032x}", "type": "individual",
                "individual": {{"first_name": "Alice", "phone_number": "8515678{i:04}",
                "phone_country_code": "+62", "email": "alice{i}@example.com"}},
                "created_at": "2026-12-07T04:00:00.000Z"}}"#
            )
        })
        .collect();
    let body = format!(r#"{{"status": true, "data": [{}]}}"#, people.join(","));
    let out = masker
        .mask_for(body.as_bytes(), PolicyFamily::Transaction)
        .expect("maskable");
    let got: Value = serde_json::from_slice(&out.body).expect("json");
    for (i, c) in got["data"].as_array().expect("a list").iter().enumerate() {
        assert_eq!(c["customer_id"], format!("customer_{i:032x}"), "{c}");
        assert_eq!(c["created_at"], "2026-12-07T04:00:00.000Z", "{c}");
        let person = c["individual"].to_string();
        assert!(!person.contains("8515678"), "{person}");
        assert!(!person.contains("alice"), "{person}");
    }
}

/// A card's summary whose last four start like a mobile number (`0811`) joins with its expiry
/// month and year to ten digits a mobile number could have: the month and year side by side
/// are a date's parts, and the card comes back whole.
#[test]
fn a_card_expiry_is_no_piece_of_a_number() {
    for last4 in ["0811", "0812", "0857", "0896"] {
        for (m, y) in [("01", "2025"), ("12", "2031"), ("07", "2099")] {
            let card = json!({"card_last4": last4, "exp_month": m, "exp_year": y});
            assert_eq!(masked_x(&card), card);
        }
    }
    // The same digits without a month and year side by side are still read as one number.
    let split = json!({"a": "0811", "b": "0125", "c": "2025"});
    assert!(!digits_of(&masked_x(&split)).contains("0125"), "{split}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Opaque ids side by side are values of their own: two random hex ids joined make one
    /// longer hex token, whose decoded bytes would show a shape by chance.
    #[test]
    fn opaque_ids_side_by_side_pass(a in "[0-9a-f]{32}", b in "[0-9a-f]{32}") {
        let x = json!({"customer_id": format!("customer_{a}"), "ref": a, "other": b});
        prop_assert_eq!(masked_x(&x), x.clone());
        let list = json!([a, b]);
        prop_assert_eq!(masked_x(&list), list.clone());
    }
}

/// Text written in hex and cut into long pieces is still read joined: an email's hex in two
/// 24-digit pieces is masked.
#[test]
fn hex_of_text_in_long_pieces_is_still_joined() {
    let hex: String = "victim.person@example.com"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (a, b) = hex.split_at(24);
    let list = json!([a, b]);
    assert_ne!(masked_x(&list), list);
}
