use serde_json::{json, Value};

use super::*;

const KEY: &[u8] = b"test-hmac-key-0123456789";
const FIXTURE: &str = include_str!("../../fixtures/customer-detail.json");

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

/// The shipped `[mask]` settings without their rules, passthrough entries or key file.
fn no_rules() -> MaskConfig {
    MaskConfig {
        rules: Vec::new(),
        passthrough: Vec::new(),
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
            crate::config::DEFAULT_TOML,
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

// ---- default rules -------------------------------------------------------------------------

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

#[test]
fn default_rules_cover_every_documented_personal_field() {
    let cfg = default_config();
    let fields: Vec<&str> = cfg
        .rules
        .iter()
        .filter_map(|r| r.field.as_deref())
        .collect();
    for f in DOCUMENTED_PERSONAL_FIELDS {
        assert!(fields.contains(f), "default rules miss `{f}`");
    }
    assert!(cfg.enabled);
    assert_eq!(cfg.placeholder, "[REDACTED]");
    assert_eq!(cfg.mask_char, '*');
    assert_eq!(cfg.max_depth, 64);
    // Building needs the key because of the hmac rules, and must succeed with it.
    assert!(matches!(
        compile(&cfg, None),
        Err(MaskConfigError::HmacWithoutKey { .. })
    ));
    let m = compile(&cfg, Some(KEY)).expect("default rules are valid");
    assert_eq!(m.rule_names().count(), cfg.rules.len());
}

#[test]
fn config_defaults_and_toml_shapes() {
    let d = default_config();
    assert!(d.enabled && no_rules().rules.is_empty());
    assert_eq!((d.hmac_prefix.as_str(), d.hmac_hex_chars), ("hmac_", 16));
    let toml = r##"
        [mask]
        mask_char = "#"
        [[mask.rules]]
        field = "account_number"
        strategy = { keep_last = 3 }
        [[mask.rules]]
        path = "data.individual.dob"
        strategy = "null"
    "##;
    let cfg = parse(toml).expect("parses");
    assert_eq!(cfg.mask_char, '#');
    assert_eq!(cfg.rules[0], field("account_number", Strategy::KeepLast(3)));
    assert_eq!(cfg.rules[1], path("data.individual.dob", Strategy::Null));

    let unknown = "[mask]\nplaceholdr = \"x\"\n";
    let res = parse(unknown);
    assert!(res.is_err(), "unknown keys must be refused");
}

#[test]
fn customer_detail_fixture_is_masked_and_everything_else_kept() {
    let m = default_masker();
    let out_text = run(&m, FIXTURE);
    let out: Value = serde_json::from_str(&out_text).expect("json");
    let input: Value = serde_json::from_str(FIXTURE).expect("json");
    let ind = &out["data"]["individual"];
    assert_eq!(ind["first_name"], "[REDACTED]");
    assert_eq!(ind["last_name"], "[REDACTED]");
    assert_eq!(ind["dob"], "[REDACTED]");
    assert_eq!(ind["email"], "f*****@paycombat.com");
    assert_eq!(ind["address_line1"], "[REDACTED]");
    assert_eq!(ind["phone_number"], "*******1124");
    assert_eq!(ind["phone_number_e164"], "**********1124");
    assert_eq!(ind["phone_country_code"], "[REDACTED]");
    let id = format!("hmac_{}", &hmac_hex("33777777")[..16]);
    assert_eq!(ind["identification_value"], id.as_str());
    assert_eq!(ind["identification_custom_type"], Value::Null);
    // Nothing else changed.
    for (k, v) in input["data"].as_object().expect("object") {
        if k != "individual" {
            assert_eq!(&out["data"][k], v, "{k} changed");
        }
    }
    assert_eq!(out["status"], true);
    for raw in [
        "kim",
        "jennie",
        "1997-08-04",
        "fatur4",
        "85156781124",
        "33777777",
        "SEMARANG",
    ] {
        assert!(!out_text.contains(raw), "{raw} leaked");
    }
    // Key order of the input is kept.
    let keys_in = [
        "\"status\"",
        "\"message\"",
        "\"customer_id\"",
        "\"individual\"",
        "\"created_by\"",
        "\"updated_at\"",
    ];
    let positions: Vec<usize> = keys_in
        .iter()
        .map(|k| out_text.find(k).expect("key present"))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "key order changed"
    );
    let masked = m.mask(FIXTURE.as_bytes()).expect("ok");
    let counts: Vec<(&str, u64)> = m.masked_fields(&masked).collect();
    assert!(counts.contains(&("phone_number", 1)));
    // identification_custom_type and company_domain are null: not counted.
    assert!(!counts
        .iter()
        .any(|(n, _)| *n == "identification_custom_type" || *n == "company_domain"));
    assert_eq!(masked.total(), 17);
}

// ---- strategies ----------------------------------------------------------------------------

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
    assert_eq!(one(Strategy::KeepLast(0), json!("abcdef")), json!("******"));
}

#[test]
fn keep_last_counts_characters_not_bytes() {
    assert_eq!(one(Strategy::Last4, json!("ÄÖÜßéèêë")), json!("****éèêë"));
    assert_eq!(
        one(Strategy::Last4, json!("日本語の電話番号")),
        json!("****電話番号")
    );
    assert_eq!(one(Strategy::Last4, json!("😀😀😀")), json!("**😀"));
    let cfg = MaskConfig {
        mask_char: '•',
        rules: vec![field("v", Strategy::Last4)],
        ..no_rules()
    };
    let m = compile(&cfg, None).expect("valid");
    assert_eq!(run(&m, r#"{"v":"12345678"}"#), r#"{"v":"••••5678"}"#);
}

#[test]
fn email_strategy() {
    assert_eq!(
        one(Strategy::Email, json!("fatur4@paycombat.com")),
        json!("f*****@paycombat.com")
    );
    assert_eq!(
        one(Strategy::Email, json!("élodie@exemple.fr")),
        json!("é*****@exemple.fr")
    );
    assert_eq!(one(Strategy::Email, json!("@x.com")), json!("*****@x.com"));
    assert_eq!(
        one(Strategy::Email, json!("a\"b@c@d.com")),
        json!("a*****@d.com")
    );
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
    assert_eq!(one(Strategy::Last4, json!(12345.678)), json!("*****.678"));
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
    // Every strategy replaces an object whole (its keys are data too); arrays of scalars are
    // masked element by element, objects inside them whole.
    assert_eq!(one(Strategy::Last4, v), json!("[REDACTED]"));
    assert_eq!(
        one(
            Strategy::Last4,
            json!(["12345678", [1234567890u64, null, {"c": "abcdefgh"}]])
        ),
        json!(["****5678", ["******7890", null, "[REDACTED]"]])
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
fn nested_arrays_of_objects_under_a_rule_mask_each_object_whole() {
    let body =
        r#"{"email":[[{"a@b.c":1},"x@y.io"],{"k":{"z@w.io":null}},[]],"ok":{"email":"q@r.st"}}"#;
    let m = masker(vec![field("email", Strategy::Email)]);
    let masked = m.mask(body.as_bytes()).expect("ok");
    assert_eq!(
        std::str::from_utf8(&masked.body).expect("utf-8"),
        r#"{"email":[["[REDACTED]","x*****@y.io"],"[REDACTED]",[]],"ok":{"email":"q*****@r.st"}}"#
    );
    assert_eq!(masked.total(), 4);
    let m = masker(vec![field("email", Strategy::Hmac)]);
    let digest = |t: &str| format!("hmac_{}", &hmac_hex(t)[..16]);
    assert_eq!(
        run_json(&m, &serde_json::from_str(body).expect("json"))["email"],
        json!([
            [digest(r#"{"a@b.c":1}"#), digest("x@y.io")],
            digest(r#"{"k":{"z@w.io":null}}"#),
            []
        ])
    );
}

// ---- matching ------------------------------------------------------------------------------

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
    ] {
        let out = run(&m, &format!(r#"{{"{key}":"85156781124"}}"#));
        assert_eq!(out, format!(r#"{{"{key}":"*******1124"}}"#), "{key}");
    }
    for key in [
        "phone_numbers",
        "phone number",
        "phone.number",
        "phone_number_e164",
        "phone_numbér",
    ] {
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
    assert_eq!(out["data"]["individual"]["dob"], "******8-04");
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
        r#"{"phone_number":"****5678"}"#
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

// ---- JSON inside strings -------------------------------------------------------------------

#[test]
fn json_documents_inside_strings_are_masked_at_every_level() {
    let m = default_masker();
    assert_eq!(
        run(
            &m,
            r#"{"data":{"note":"{\"email\":\"victim@example.com\"}"}}"#
        ),
        r#"{"data":{"note":"{\"email\":\"v*****@example.com\"}"}}"#
    );
    // Arrays, leading blanks, a top-level string; written back compact.
    assert_eq!(
        run(
            &m,
            r#"["  \n[{\"phone_number\": \"85156781124\", \"n\": 1.5}]"]"#
        ),
        r#"["[{\"phone_number\":\"*******1124\",\"n\":1.5}]"]"#
    );
    assert_eq!(
        run(&m, r#""{\"first_name\":\"Kim\"}""#),
        r#""{\"first_name\":\"[REDACTED]\"}""#
    );
    // Three levels deep, each one another spelling and shape.
    let l3 = json!({"phoneNumber": "85156781124", "Email": {"victim@example.com": 1}});
    let l2 = json!({"meta": [l3.to_string()], "first_name": "Kim"});
    let l1 = json!({"payload": l2.to_string()});
    let doc = json!({"data": {"events": [l1.to_string()]}});
    let masked = m.mask(doc.to_string().as_bytes()).expect("ok");
    let out = std::str::from_utf8(&masked.body).expect("utf-8");
    for raw in ["85156781124", "victim", "Kim"] {
        assert!(!out.contains(raw), "{raw} in {out}");
    }
    let v: Value = serde_json::from_str(out).expect("json");
    let l1: Value = serde_json::from_str(v["data"]["events"][0].as_str().expect("s")).expect("j");
    let l2: Value = serde_json::from_str(l1["payload"].as_str().expect("s")).expect("j");
    let l3: Value = serde_json::from_str(l2["meta"][0].as_str().expect("s")).expect("j");
    assert_eq!(l2["first_name"], "[REDACTED]");
    assert_eq!(
        l3,
        json!({"phoneNumber": "*******1124", "Email": "[REDACTED]"})
    );
    assert_eq!(masked.total(), 3, "values inside strings are counted");
    // Path rules go on through the string as if it were the value it encodes.
    let m = masker(vec![path("data.individual.dob", Strategy::Null)]);
    assert_eq!(
        run(
            &m,
            r#"{"data":"{\"individual\":{\"dob\":\"1997\"}}","x":"{\"dob\":1}"}"#
        ),
        r#"{"data":"{\"individual\":{\"dob\":null}}","x":"{\"dob\":1}"}"#
    );
}

#[test]
fn strings_that_only_look_like_json_are_copied_as_they_are() {
    let m = default_masker();
    for s in [
        "{not json",
        "[1,",
        "{\"a\":1}}",
        "[] and more",
        " {",
        "{\"phone_number\":\"12345678\",}",
        "x{\"phone_number\":\"12345678\"}",
    ] {
        let body = json!({ "note": s }).to_string();
        let masked = m.mask(body.as_bytes()).expect("ok");
        assert_eq!(std::str::from_utf8(&masked.body).expect("utf-8"), body);
        assert_eq!(masked.total(), 0, "{s}: a discarded attempt is not counted");
    }
    // Scalars in strings are not documents to open.
    for s in ["\"quoted\"", "12345678901", "true"] {
        let body = json!({ "note": s }).to_string();
        assert_eq!(run(&m, &body), body);
    }
    // Under a rule a string is masked whole by the strategy, JSON or not.
    let out = run(
        &m,
        r#"{"phone_number":"{\"n\":\"85156781124\"}","first_name":"[\"Kim\"]"}"#,
    );
    assert!(!out.contains("8515678") && !out.contains("Kim"), "{out}");
    assert!(out.contains(r#""first_name":"[REDACTED]""#), "{out}");
}

#[test]
fn json_inside_strings_counts_toward_max_depth() {
    let cfg = |max_depth| MaskConfig {
        max_depth,
        rules: vec![field("email", Strategy::Email)],
        ..no_rules()
    };
    let m = compile(&cfg(3), None).expect("valid");
    // object (1) + string (2) + inner object (3).
    assert!(m.mask(br#"{"n":"{\"a\":1}"}"#).is_ok());
    assert_eq!(
        m.mask(br#"{"n":"{\"a\":[1]}"}"#).err(),
        Some(MaskError::TooDeep)
    );
    // Too deep is never mistaken for "not JSON" and copied.
    assert_eq!(
        m.mask(br#"{"n":"{\"a\":[{\"email\":\"v@x.io\"}]}"}"#).err(),
        Some(MaskError::TooDeep)
    );
    // A chain of documents in strings ends in TooDeep, however the levels are spent.
    let m = compile(&cfg(10), None).expect("valid");
    let mut chain = json!({"email": "victim@example.com"});
    let mut levels = Vec::new();
    for _ in 0..8 {
        chain = json!({ "s": chain.to_string() });
        levels.push(m.mask(chain.to_string().as_bytes()).err());
    }
    assert_eq!(
        levels,
        vec![
            None,
            None,
            None,
            None,
            Some(MaskError::TooDeep),
            Some(MaskError::TooDeep),
            Some(MaskError::TooDeep),
            Some(MaskError::TooDeep)
        ]
    );
    let m = default_masker();
    let hidden = format!(r#"{{"note":"{}{}"}}"#, "[".repeat(200), "]".repeat(200));
    assert_eq!(m.mask(hidden.as_bytes()).err(), Some(MaskError::TooDeep));
}

// ---- pass-through fidelity -----------------------------------------------------------------

#[test]
fn unmasked_values_and_key_order_are_kept() {
    let m = default_masker();
    let body = r#"{"z":1,"a":[true,false,null,0,18446744073709551615,-9223372036854775808,"x"],"m":{"y":{},"b":[]},"f":0.5}"#;
    assert_eq!(run(&m, body), body);
    let floats = r#"[1.50,1e3,3.141592653589793,-2.5E-3,-0]"#;
    let out = run(&m, floats);
    let a: Vec<f64> = serde_json::from_str(floats).expect("json");
    let b: Vec<f64> = serde_json::from_str(&out).expect("json");
    assert_eq!(a, b);
    if m.exact_numbers {
        // serde_json normalises only the exponent marker; digits are kept.
        assert!(out.starts_with("[1.50,") && out.ends_with(",-0]"), "{out}");
    }
}

#[test]
fn an_object_shaped_like_serde_json_number_is_never_written_raw() {
    let m = default_masker();
    let fake = r#"{"$serde_json::private::Number":"1]}{\"x"}"#;
    let ok_number = r#"{"$serde_json::private::Number":"12.0"}"#;
    if m.exact_numbers {
        // With arbitrary_precision serde_json itself reads this as a number, so must we,
        // but only text that is a valid number may be emitted unquoted.
        assert!(matches!(
            m.mask(fake.as_bytes()),
            Err(MaskError::Parse { .. })
        ));
        assert_eq!(run(&m, ok_number), "12.0");
        assert_eq!(
            run(&m, r#"{"phone_number":123456789012.5}"#),
            r#"{"phone_number":"**********12.5"}"#
        );
    } else {
        assert_eq!(run(&m, fake), fake);
        assert_eq!(run(&m, ok_number), ok_number);
    }
}

#[test]
fn top_level_scalars_and_empty_bodies_pass_unchanged() {
    let m = default_masker();
    for body in [r#""just a string""#, "42", "true", "null", "-7"] {
        assert_eq!(run(&m, body), body);
    }
    assert_eq!(run(&m, ""), "");
    assert_eq!(run(&m, " \r\n"), " \r\n");
    assert_eq!(
        run(&m, "\u{feff}{\"email\":\"ab@c.de\"}"),
        r#"{"email":"a*****@c.de"}"#
    );
}

// ---- failures ------------------------------------------------------------------------------

#[test]
fn hostile_nesting_is_too_deep_not_a_stack_overflow() {
    let m = default_masker();
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert_eq!(m.mask(deep.as_bytes()).err(), Some(MaskError::TooDeep));
    let deep_obj = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
    assert_eq!(m.mask(deep_obj.as_bytes()).err(), Some(MaskError::TooDeep));
    // Even inside a container that is being replaced whole.
    let hidden = format!("{{\"name\":{}{}}}", "[".repeat(1000), "]".repeat(1000));
    assert_eq!(m.mask(hidden.as_bytes()).err(), Some(MaskError::TooDeep));
    assert_eq!(MaskError::TooDeep.reason(), "too_deep");
}

#[test]
fn depth_limit_is_exact_and_ours_below_serde_json_limit() {
    let m = default_masker();
    let nest = |n: usize| "[".repeat(n) + &"]".repeat(n);
    assert!(m.mask(nest(64).as_bytes()).is_ok());
    assert_eq!(m.mask(nest(65).as_bytes()).err(), Some(MaskError::TooDeep));
    let objs = |n: usize| "{\"a\":".repeat(n - 1) + "{}" + &"}".repeat(n - 1);
    assert!(m.mask(objs(64).as_bytes()).is_ok());
    assert_eq!(m.mask(objs(65).as_bytes()).err(), Some(MaskError::TooDeep));
    let cfg = MaskConfig {
        max_depth: MAX_DEPTH_LIMIT,
        ..no_rules()
    };
    let m = compile(&cfg, None).expect("valid");
    assert!(m.mask(nest(MAX_DEPTH_LIMIT).as_bytes()).is_ok());
    for n in [MAX_DEPTH_LIMIT + 1, MAX_DEPTH_LIMIT + 2, 128, 129] {
        assert_eq!(
            m.mask(nest(n).as_bytes()).err(),
            Some(MaskError::TooDeep),
            "{n}"
        );
    }
    assert_eq!(m.mask(nest(500).as_bytes()).err(), Some(MaskError::TooDeep));
}

#[test]
fn deepest_accepted_nesting_fits_a_small_thread_stack() {
    let cfg = MaskConfig {
        max_depth: MAX_DEPTH_LIMIT,
        rules: vec![field("a", Strategy::Last4)],
        ..no_rules()
    };
    let m = std::sync::Arc::new(compile(&cfg, None).expect("valid"));
    let levels = MAX_DEPTH_LIMIT / 2;
    let in_copy =
        "{\"x\":[".repeat(levels - 1) + "{\"y\":{\"a\":\"1234567890\"}}" + &"]}".repeat(levels - 1);
    let under_rule = "{\"a\":[".repeat(levels) + "1234567890" + &"]}".repeat(levels);
    // Nearly the same depth spent across 13 documents in strings (9 levels each: an object,
    // seven arrays and the string; escaping doubles the size per level, so no deeper chain
    // fits in a body).
    let mut in_strings = json!({"a": "1234567890"});
    for _ in 0..13 {
        in_strings = json!({"s": [[[[[[[in_strings.to_string()]]]]]]]});
    }
    let in_strings = in_strings.to_string();
    // A quarter of a tokio worker's default stack, even in an unoptimised build.
    let mask_small_stack = |body: String| {
        let m = m.clone();
        std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || m.mask(body.as_bytes()).map(|o| o.body))
            .expect("spawn")
            .join()
            .expect("no stack overflow")
            .expect("within the limit")
    };
    let out = mask_small_stack(in_copy);
    assert!(out.windows(12).any(|w| w == b"\"******7890\""));
    // Objects under the rule are replaced whole, but still parsed to the bottom.
    let out = mask_small_stack(under_rule);
    assert_eq!(&out[..], br#"{"a":["[REDACTED]"]}"#);
    let out = mask_small_stack(in_strings);
    assert!(!out.windows(10).any(|w| w == b"1234567890"));
    assert!(out.windows(10).any(|w| w == b"******7890"));
}

#[test]
fn malformed_bodies_fail_closed() {
    let m = default_masker();
    let parse = |b: &[u8]| matches!(m.mask(b), Err(MaskError::Parse { .. }));
    assert!(parse(b"<html>secret 85156781124</html>"));
    assert!(parse(br#"{"phone_number":"85156781124""#), "truncated");
    assert!(
        parse(br#"{"phone_number":"851567"#),
        "truncated in a string"
    );
    assert!(parse(br#"{"a":1} {"b":2}"#), "trailing data");
    assert!(parse(br#"{"a":1},"#), "trailing garbage");
    assert!(parse(br#"{"a":01}"#));
    assert!(parse(br#"{"a":"\ud800"}"#), "lone surrogate");
    assert!(parse(b"{\"a\":\"raw\x01control\"}"));
    assert!(parse(br#"{"a":NaN}"#));
    assert_eq!(
        m.mask(b"{\"email\":\"\xff\xfe@x.com\"}").err(),
        Some(MaskError::NotUtf8)
    );
    assert_eq!(m.mask(b"\xc3\x28").err(), Some(MaskError::NotUtf8));
    assert_eq!(MaskError::NotUtf8.reason(), "parse_error");
    // Errors never quote the body.
    let err = m
        .mask(br#"{"phone_number":"85156781124" x}"#)
        .expect_err("bad");
    assert_eq!(err.reason(), "parse_error");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("8515"), "{text}");
    }
}

#[test]
fn config_errors_name_the_rule() {
    let build = |rules: Vec<RuleConfig>, key: Option<&[u8]>| {
        let cfg = MaskConfig {
            rules,
            ..no_rules()
        };
        compile(&cfg, key).err()
    };
    let err = build(
        vec![
            field("a", Strategy::Redact),
            field("payer_id", Strategy::Hmac),
        ],
        None,
    )
    .expect("needs key");
    assert!(
        err.to_string().contains("mask.rules[1] (payer_id)"),
        "{err}"
    );
    let both = RuleConfig {
        field: Some("a".into()),
        path: Some("a.b".into()),
        strategy: Strategy::Redact,
    };
    let neither = RuleConfig {
        field: None,
        path: None,
        strategy: Strategy::Redact,
    };
    assert_eq!(
        build(vec![both], None),
        Some(MaskConfigError::FieldOrPath { index: 0 })
    );
    assert_eq!(
        build(vec![neither], None),
        Some(MaskConfigError::FieldOrPath { index: 0 })
    );
    assert!(matches!(
        build(vec![field("", Strategy::Redact)], None),
        Some(MaskConfigError::Empty { .. })
    ));
    assert!(matches!(
        build(vec![path("a..b", Strategy::Redact)], None),
        Some(MaskConfigError::Empty { .. })
    ));
    assert!(matches!(
        build(
            vec![field("a", Strategy::Redact), field("a", Strategy::Null)],
            None
        ),
        Some(MaskConfigError::Duplicate {
            index: 1,
            first: 0,
            ..
        })
    ));
    assert!(matches!(
        build(
            vec![path("a", Strategy::Redact), field("a", Strategy::Null)],
            None
        ),
        Some(MaskConfigError::Duplicate { .. })
    ));
    assert_eq!(
        build(vec![], Some(b"")),
        Some(MaskConfigError::EmptyHmacKey)
    );
    for (depth, hex) in [(0, 16), (MAX_DEPTH_LIMIT + 1, 16), (64, 0), (64, 65)] {
        let cfg = MaskConfig {
            max_depth: depth,
            hmac_hex_chars: hex,
            ..no_rules()
        };
        assert!(compile(&cfg, None).is_err(), "{depth} {hex}");
    }
}

#[test]
fn masker_is_shareable_and_debug_hides_the_key() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Masker>();
    let m = masker(vec![field("x", Strategy::Hmac)]);
    let dbg = format!("{m:?}");
    assert!(
        !dbg.contains("test-hmac-key") && dbg.contains("<set>"),
        "{dbg}"
    );
}

// ---- media types -------------------------------------------------------------------------

#[test]
fn json_media_types() {
    assert!(is_json_media_type("application/json"));
    assert!(is_json_media_type("Application/JSON; charset=utf-8"));
    assert!(is_json_media_type("text/json"));
    assert!(is_json_media_type("application/problem+json"));
    assert!(is_json_media_type(
        "application/vnd.paycombat.v1+JSON ; q=1"
    ));
    assert!(!is_json_media_type("application/pdf"));
    assert!(!is_json_media_type(""));
    assert!(!is_json_media_type("text/html"));
    assert!(!is_json_media_type("application/jsonx"));
    assert!(!is_json_media_type("+json"));
}
