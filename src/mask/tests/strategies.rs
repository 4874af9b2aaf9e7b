use super::*;

#[test]
fn redact_and_null() {
    assert_eq!(
        one(Strategy::Redact, json!("secret value")),
        json!("[REDACTED]")
    );
    assert_eq!(one(Strategy::Null, json!("secret value")), Value::Null);
    let cfg = MaskConfig {
        placeholder: "<hidden>".into(),
        rules: vec![field("v", Strategy::Redact)],
        ..no_rules()
    };
    let m = compile(&cfg, None).expect("no hmac rule, no key needed");
    assert_eq!(run(&m, r#"{"v":"x"}"#), r#"{"v":"<hidden>"}"#);
}

#[test]
fn keep_last_reveals_at_most_half() {
    assert_eq!(
        one(Strategy::Last4, json!("85156781124")),
        json!("*******1124")
    );
    assert_eq!(one(Strategy::KeepLast(2), json!("123456")), json!("****56"));
    // 6 chars: at most 3 shown even if 4 were asked for.
    assert_eq!(one(Strategy::Last4, json!("123456")), json!("***456"));
    assert_eq!(one(Strategy::Last4, json!("+62")), json!("**2"));
    assert_eq!(one(Strategy::Last4, json!("7")), json!("*"));
    assert_eq!(one(Strategy::Last4, json!("")), json!(""));
    assert_eq!(one(Strategy::KeepLast(0), json!("123456")), json!("******"));
    assert_eq!(
        one(Strategy::KeepLast(0), json!("abcdef")),
        json!("[REDACTED]")
    );
}

#[test]
fn keep_last_masks_text_that_is_not_a_number_whole() {
    // Letters and other scripts are no digits of a number: the tail of such text could be a
    // name, so the whole value is the placeholder (was: the last characters, any script).
    assert_eq!(one(Strategy::Last4, json!("ÄÖÜßéèêë")), json!("[REDACTED]"));
    assert_eq!(
        one(Strategy::Last4, json!("日本語の電話番号")),
        json!("[REDACTED]")
    );
    assert_eq!(one(Strategy::Last4, json!("😀😀😀")), json!("[REDACTED]"));
    // The mask character counts characters, not bytes.
    let cfg = MaskConfig {
        mask_char: '•',
        rules: vec![field("v", Strategy::Last4)],
        ..no_rules()
    };
    let m = compile(&cfg, None).expect("valid");
    assert_eq!(run(&m, r#"{"v":"12345678"}"#), r#"{"v":"••••5678"}"#);
    assert_eq!(run(&m, r#"{"v":"+62 812-34"}"#), r#"{"v":"••••••2-34"}"#);
}

#[test]
fn email_strategy() {
    // Shared mail providers are shown, in the configuration's spelling.
    assert_eq!(
        one(Strategy::Email, json!("fatur4@gmail.com")),
        json!("f*****@gmail.com")
    );
    assert_eq!(
        one(Strategy::Email, json!("élodie@Proton.ME")),
        json!("é*****@proton.me")
    );
    assert_eq!(
        one(Strategy::Email, json!("@yahoo.com")),
        json!("*****@yahoo.com")
    );
    assert_eq!(
        one(Strategy::Email, json!("a\"b@c@outlook.com")),
        json!("a*****@outlook.com")
    );
    // Any other domain names its owner, or is no domain at all: masked too.
    for other in [
        "fatur4@paycombat.com",
        "x@ Alice Victimson, Jalan Rahasia 42, 081234567890",
        "x@gmail.com.victimson.id",
        "x@gmail.com ",
        "x@gmail..com",
        "x@-gmail.com",
        "x@gmail.com/081234567890",
        "x@\u{ff47}mail.com",
    ] {
        let first = other.chars().next().expect("non-empty");
        assert_eq!(
            one(Strategy::Email, json!(other)),
            json!(format!("{first}*****@*****")),
            "{other}"
        );
    }
    assert_eq!(
        one(Strategy::Email, json!("no-at-sign")),
        json!("[REDACTED]")
    );
    assert_eq!(
        one(Strategy::Email, json!("trailing@")),
        json!("[REDACTED]")
    );
}

#[test]
fn email_providers_are_configuration_and_must_be_hostnames() {
    let cfg = MaskConfig {
        shared_mail_domains: vec!["Example.org".into()],
        rules: vec![field("v", Strategy::Email)],
        ..no_rules()
    };
    let m = compile(&cfg, None).expect("valid");
    assert_eq!(
        run(&m, r#"{"v":"a@EXAMPLE.org","w":"b@gmail.com"}"#),
        r#"{"v":"a*****@example.org","w":"b@gmail.com"}"#
    );
    assert_eq!(run(&m, r#"{"v":"a@gmail.com"}"#), r#"{"v":"a*****@*****"}"#);
    for bad in ["", "a b.com", "-x.com", "x..com", "ex@mple.com"] {
        let cfg = MaskConfig {
            shared_mail_domains: vec!["gmail.com".into(), bad.into()],
            ..no_rules()
        };
        let err = compile(&cfg, None).expect_err(bad);
        assert_eq!(err, MaskConfigError::MailDomain { index: 1 }, "{bad}");
        assert!(err.to_string().starts_with("mask.shared_mail_domains[1]"));
    }
    let shipped = default_config().shared_mail_domains;
    for d in [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "proton.me",
        "protonmail.com",
        "aol.com",
        "gmx.com",
        "yandex.com",
        "mail.com",
    ] {
        assert!(shipped.iter().any(|s| s == d), "{d}");
    }
}

#[test]
fn hmac_strategy_is_keyed_truncated_and_stable() {
    let expected = format!("hmac_{}", &hmac_hex("33777777")[..16]);
    assert_eq!(one(Strategy::Hmac, json!("33777777")), json!(expected));
    // Equal values stay equal, whether they arrive as a string or as a number.
    assert_eq!(one(Strategy::Hmac, json!(33777777)), json!(expected));
    assert_ne!(one(Strategy::Hmac, json!("33777778")), json!(expected));
    let cfg = MaskConfig {
        hmac_prefix: "h:".into(),
        hmac_hex_chars: 64,
        rules: vec![field("v", Strategy::Hmac)],
        ..no_rules()
    };
    let other_key = compile(&cfg, Some(b"another key")).expect("valid");
    let out = run_json(&other_key, &json!({"v": "33777777"}));
    let s = out["v"].as_str().expect("string");
    assert!(s.starts_with("h:") && s.len() == 2 + 64);
    assert_ne!(&s[2..18], &expected[5..]);
}

#[test]
fn numbers_under_personal_keys_become_masked_strings() {
    assert_eq!(
        one(Strategy::Last4, json!(85156781124u64)),
        json!("*******1124")
    );
    assert_eq!(
        one(Strategy::Last4, json!(-1234567890i64)),
        json!("*******7890")
    );
    // The last four digits, with the separator between them.
    assert_eq!(one(Strategy::Last4, json!(12345.678)), json!("****5.678"));
    assert_eq!(one(Strategy::Redact, json!(42)), json!("[REDACTED]"));
    assert_eq!(one(Strategy::Null, json!(42)), Value::Null);
}

#[test]
fn booleans_under_personal_keys_are_redacted_and_nulls_kept() {
    for s in [
        Strategy::Last4,
        Strategy::Email,
        Strategy::Hmac,
        Strategy::Redact,
    ] {
        assert_eq!(one(s, json!(true)), json!("[REDACTED]"), "{s:?}");
        assert_eq!(one(s, Value::Null), Value::Null, "{s:?}");
    }
    assert_eq!(one(Strategy::Null, json!(false)), Value::Null);
    let m = masker(vec![field("v", Strategy::Last4)]);
    let masked = m.mask(br#"{"v":null}"#).expect("ok");
    assert_eq!(masked.total(), 0, "a null is not a masked value");
}

#[test]
fn containers_under_personal_keys() {
    let v = json!({"a": "12345678", "b": [1234567890u64, null, {"c": "abcdefgh"}]});
    assert_eq!(one(Strategy::Redact, v.clone()), json!("[REDACTED]"));
    assert_eq!(one(Strategy::Null, v.clone()), Value::Null);
    assert_eq!(one(Strategy::Redact, json!([])), json!("[REDACTED]"));
    assert_eq!(one(Strategy::Null, json!({})), Value::Null);
    // Every strategy replaces an object whole (its keys are data too), and an array too: it
    // is one value, so a partial reveal shows nothing of it (per element, a value split into
    // pieces would show half of each piece).
    assert_eq!(one(Strategy::Last4, v), json!("[REDACTED]"));
    assert_eq!(
        one(
            Strategy::Last4,
            json!(["12345678", [1234567890u64, null, {"c": "abcdefgh"}]])
        ),
        json!("[REDACTED]")
    );
    assert_eq!(
        one(Strategy::KeepLast(2), json!(["08", "12"])),
        json!("[REDACTED]")
    );
    assert_eq!(
        one(Strategy::Email, json!(["a@gmail.com"])),
        json!("[REDACTED]")
    );
    // A rule inside an object under a rule does not reopen it.
    let m = masker(vec![
        field("phones", Strategy::Last4),
        field("email", Strategy::Email),
    ]);
    let masked = m
        .mask(br#"{"phones": {"home": "0123456789", "email": "joe@x.io"}}"#)
        .expect("ok");
    assert_eq!(&masked.body[..], br#"{"phones":"[REDACTED]"}"#);
    assert_eq!(
        m.masked_fields(&masked).collect::<Vec<_>>(),
        vec![("phones", 1)]
    );
    // Rules inside a container that was replaced whole do not count.
    let m = masker(vec![
        field("individual", Strategy::Redact),
        field("email", Strategy::Email),
    ]);
    let masked = m
        .mask(br#"{"individual":{"email":"a@b.c","x":[{"email":"d@e.f"}]}}"#)
        .expect("ok");
    assert_eq!(&masked.body[..], br#"{"individual":"[REDACTED]"}"#);
    assert_eq!(
        m.masked_fields(&masked).collect::<Vec<_>>(),
        vec![("individual", 1)]
    );
}

#[test]
fn an_object_under_a_masked_field_never_shows_its_keys() {
    let body = r#"{"email": {"victim@example.com": true}}"#;
    for (strategy, expected) in [
        (Strategy::Email, json!("[REDACTED]")),
        (Strategy::Last4, json!("[REDACTED]")),
        (Strategy::KeepLast(2), json!("[REDACTED]")),
        (Strategy::Redact, json!("[REDACTED]")),
        (Strategy::Null, Value::Null),
        (
            Strategy::Hmac,
            json!(format!(
                "hmac_{}",
                &hmac_hex(r#"{"victim@example.com":true}"#)[..16]
            )),
        ),
    ] {
        let m = masker(vec![field("email", strategy)]);
        let masked = m.mask(body.as_bytes()).expect("ok");
        let out = std::str::from_utf8(&masked.body).expect("utf-8");
        assert!(!out.contains("victim"), "{strategy:?}: {out}");
        let v: Value = serde_json::from_str(out).expect("json");
        assert_eq!(v, json!({ "email": expected }), "{strategy:?}");
        assert_eq!(
            m.masked_fields(&masked).collect::<Vec<_>>(),
            vec![("email", 1)],
            "{strategy:?}"
        );
    }
    // Empty objects too: there is nothing in them, but the rule still decides their shape.
    assert_eq!(one(Strategy::Last4, json!({})), json!("[REDACTED]"));
    // The digest is of the compact text, so the same object hashes the same however it is
    // laid out, and two different objects differ.
    let m = masker(vec![field("v", Strategy::Hmac)]);
    let a = run(&m, r#"{"v":{"k":[1,"x"]}}"#);
    assert_eq!(a, run(&m, "{\"v\": {\n  \"k\": [1, \"x\"]\n}}"));
    assert_ne!(a, run(&m, r#"{"v":{"k":[1,"y"]}}"#));
    assert_eq!(
        a,
        format!(r#"{{"v":"hmac_{}"}}"#, &hmac_hex(r#"{"k":[1,"x"]}"#)[..16])
    );
}

#[test]
fn an_array_under_a_rule_is_one_value() {
    let body =
        r#"{"email":[[{"a@b.c":1},"x@y.io"],{"k":{"z@w.io":null}},[]],"ok":{"email":"q@r.st"}}"#;
    let m = masker(vec![field("email", Strategy::Email)]);
    let masked = m.mask(body.as_bytes()).expect("ok");
    assert_eq!(
        std::str::from_utf8(&masked.body).expect("utf-8"),
        r#"{"email":"[REDACTED]","ok":{"email":"q*****@*****"}}"#
    );
    assert_eq!(masked.total(), 2);
    // `hmac` digests the array's canonical compact text: equal arrays match, however they
    // are spelled, and no element gets a digest of its own (no codebook for split values).
    let m = masker(vec![field("email", Strategy::Hmac)]);
    let digest = |t: &str| format!("hmac_{}", &hmac_hex(t)[..16]);
    assert_eq!(
        run_json(&m, &serde_json::from_str(body).expect("json"))["email"],
        json!(digest(
            r#"[[{"a@b.c":1},"x@y.io"],{"k":{"z@w.io":null}},[]]"#
        ))
    );
    let spaced = run(&m, r#"{"email": [ "\u0033" , "1" ]}"#);
    assert_eq!(
        spaced,
        format!(r#"{{"email":"{}"}}"#, digest(r#"["3","1"]"#))
    );
    assert_ne!(spaced, format!(r#"{{"email":"{}"}}"#, digest("3")));
}
