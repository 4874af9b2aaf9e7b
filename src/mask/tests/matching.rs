use super::*;

#[test]
fn field_and_path_rules_match_every_spelling_of_a_name() {
    let m = masker(vec![
        field("phone_number", Strategy::Last4),
        path("data.individual.dob", Strategy::Null),
    ]);
    for key in [
        "phone_number",
        "Phone_Number",
        "phoneNumber",
        "PhoneNumber",
        "PHONE-NUMBER",
        "phone-number",
        "PHONENUMBER",
        "phone__number",
        "_phone_number_",
        // Every character that is no letter or digit separates, and combining marks are
        // dropped: what a reader (and a person) reads as the name is the name.
        "phone number",
        "phone.number",
        " phone.Number ",
    ] {
        let out = run(&m, &format!(r#"{{"{key}":"85156781124"}}"#));
        assert_eq!(out, format!(r#"{{"{key}":"*******1124"}}"#), "{key}");
    }
    // A key that is not printable ASCII is written as the rule's name: only upstream's ASCII
    // case and separators are kept, never a mark, a width or an invisible character.
    for key in [
        "phone_numbe\\u0301r",
        "pho\\u0308ne_number",
        "ｐｈｏｎｅ_number",
        "phone_number\\u200b",
        "phone_number\\udb40\\udc41",
    ] {
        let out = run(&m, &format!(r#"{{"{key}":"85156781124"}}"#));
        assert!(
            out == r#"{"phone_number":"*******1124"}"# || out.starts_with(r#"{"<key>#0""#),
            "{key}: {out}"
        );
    }
    for key in ["phone_numbers", "phone_number_e164", "phone_numbr"] {
        let body = format!(r#"{{"{key}":"85156781124"}}"#);
        assert_eq!(run(&m, &body), body, "{key} is another name");
    }
    let out = run_json(
        &m,
        &json!({"Data": {"INDIVIDUAL": {"Dob": "1997-08-04"}, "dob": "kept"}}),
    );
    assert_eq!(
        out,
        json!({"Data": {"INDIVIDUAL": {"Dob": null}, "dob": "kept"}})
    );
    // Rule names may be written in any spelling too.
    let m = masker(vec![field("PhoneNumber", Strategy::Redact)]);
    assert_eq!(
        run(&m, r#"{"phone_number":"1"}"#),
        r#"{"phone_number":"[REDACTED]"}"#
    );
    assert_eq!(m.rule_names().collect::<Vec<_>>(), vec!["PhoneNumber"]);
}

#[test]
fn match_spellings_false_matches_names_exactly() {
    let cfg = MaskConfig {
        match_spellings: false,
        rules: vec![
            field("phone_number", Strategy::Last4),
            path("data.dob", Strategy::Null),
        ],
        ..no_rules()
    };
    let m = compile(&cfg, None).expect("valid");
    assert_eq!(
        run(
            &m,
            r#"{"phone_number":"12345678","phoneNumber":"12345678","Phone_Number":"1"}"#
        ),
        r#"{"phone_number":"****5678","phoneNumber":"12345678","Phone_Number":"1"}"#
    );
    assert_eq!(
        run(&m, r#"{"data":{"dob":"x","Dob":"y"},"Data":{"dob":"z"}}"#),
        r#"{"data":{"dob":null,"Dob":"y"},"Data":{"dob":"z"}}"#
    );
    let on = parse("[mask]\nmatch_spellings = false\n").expect("parses");
    assert!(!on.match_spellings);
    assert!(no_rules().match_spellings);
    assert!(default_config().match_spellings);
}

#[test]
fn names_equal_once_spellings_fold_are_refused() {
    let build = |match_spellings: bool, rules: Vec<RuleConfig>| {
        let cfg = MaskConfig {
            match_spellings,
            rules,
            ..no_rules()
        };
        compile(&cfg, None).err()
    };
    let err = build(
        true,
        vec![
            field("email", Strategy::Email),
            field("phone_number", Strategy::Last4),
            field("phoneNumber", Strategy::Redact),
        ],
    )
    .expect("refused");
    assert_eq!(
        err,
        MaskConfigError::SameSpelling {
            index: 2,
            name: "phoneNumber".into(),
            first: 1,
            first_name: "phone_number".into(),
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("mask.rules[2] (phoneNumber)")
            && text.contains("mask.rules[1] (phone_number)")
            && text.contains("match_spellings"),
        "{text}"
    );
    assert!(matches!(
        build(
            true,
            vec![
                path("data.phone_number", Strategy::Redact),
                path("Data.PHONE-NUMBER", Strategy::Null),
            ]
        ),
        Some(MaskConfigError::SameSpelling {
            index: 1,
            first: 0,
            ..
        })
    ));
    // Exact duplicates keep their own error.
    assert!(matches!(
        build(
            true,
            vec![field("dob", Strategy::Redact), field("dob", Strategy::Null)]
        ),
        Some(MaskConfigError::Duplicate { .. })
    ));
    // Without folding they are different keys.
    assert_eq!(
        build(
            false,
            vec![
                field("phone_number", Strategy::Last4),
                field("phoneNumber", Strategy::Redact),
                path("data.phone_number", Strategy::Redact),
                path("Data.PHONE-NUMBER", Strategy::Null),
            ]
        ),
        None
    );
}

#[test]
fn field_rules_match_at_any_depth_and_inside_arrays() {
    let m = masker(vec![field("phone_number", Strategy::Last4)]);
    let body = json!({
        "phone_number": "111122223333",
        "data": {"data": {"items": [
            {"phone_number": "444455556666", "other": "444455556666x"},
            [[{"deeper": {"phone_number": "777788889999"}}]]
        ]}}
    });
    let out = run_json(&m, &body);
    assert_eq!(out["phone_number"], "********3333");
    assert_eq!(
        out["data"]["data"]["items"][0]["phone_number"],
        "********6666"
    );
    assert_eq!(out["data"]["data"]["items"][0]["other"], "444455556666x");
    assert_eq!(
        out["data"]["data"]["items"][1][0][0]["deeper"]["phone_number"],
        "********9999"
    );
    let masked = m.mask(body.to_string().as_bytes()).expect("ok");
    assert_eq!(
        m.masked_fields(&masked).collect::<Vec<_>>(),
        vec![("phone_number", 3)]
    );
    // A value equal to a rule name is not a key and is left alone.
    assert_eq!(
        run(&m, r#"{"missing_field":["phone_number"]}"#),
        r#"{"missing_field":["phone_number"]}"#
    );
}

#[test]
fn path_rules_follow_keys_from_the_root_through_arrays() {
    let m = masker(vec![path("data.items.email", Strategy::Null)]);
    let body = json!({"email": "root@x.io", "data": {"items": [{"email": "a@x.io"}, {"email": "b@x.io"}], "email": "c@x.io"},
                      "other": {"data": {"items": [{"email": "d@x.io"}]}}});
    let out = run_json(&m, &body);
    assert_eq!(
        out["data"]["items"],
        json!([{"email": null}, {"email": null}])
    );
    assert_eq!(out["email"], "root@x.io");
    assert_eq!(out["data"]["email"], "c@x.io");
    assert_eq!(out["other"]["data"]["items"][0]["email"], "d@x.io");
    // Arrays at the root are transparent too.
    assert_eq!(
        run(&m, r#"[{"data":{"items":{"email":"z"}}}]"#),
        r#"[{"data":{"items":{"email":null}}}]"#
    );
}

#[test]
fn path_rule_wins_over_field_rule() {
    let m = masker(vec![
        field("dob", Strategy::Redact),
        path("data.individual.dob", Strategy::Last4),
    ]);
    let out = run_json(
        &m,
        &json!({"data": {"individual": {"dob": "1997-08-04"}, "dob": "2001-01-01"}}),
    );
    assert_eq!(out["data"]["individual"]["dob"], "*****08-04");
    assert_eq!(out["data"]["dob"], "[REDACTED]");
    assert_eq!(
        m.rule_names().collect::<Vec<_>>(),
        vec!["dob", "data.individual.dob"]
    );
}

#[test]
fn escaped_keys_match_after_unescaping_and_strings_round_trip() {
    let m = masker(vec![field("phone_number", Strategy::Last4)]);
    assert_eq!(
        run(&m, r#"{"ph\u006fne_number":"12345678"}"#),
        // The key is matched on its value and copied as written.
        r#"{"ph\u006fne_number":"****5678"}"#
    );
    let body =
        r#"{"s":"quote \" back \\ nl \n tab \t uni \u00e9 \ud83d\ude00 ctl \u0001","k\"ey":1}"#;
    let out = run(&m, body);
    let a: Value = serde_json::from_str(body).expect("json");
    let b: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(a, b);
    // Escaped personal values are masked on their unescaped text.
    assert_eq!(
        run(
            &m,
            r#"{"phone_number":"\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"}"#
        ),
        r#"{"phone_number":"****5678"}"#
    );
}
