use super::*;

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

    // `[mask]` has two owners (the masker's keys, inspection's `passthrough`): the
    // config pass refuses a key neither reads.
    let unknown = "[mask]\nplaceholdr = \"x\"\n";
    let res = crate::config::load_with(std::path::Path::new("/nonexistent"), None, Some(unknown));
    assert!(
        res.is_err_and(|e| e.to_string().contains("`mask.placeholdr`: unknown key")),
        "unknown keys must be refused"
    );
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
    assert_eq!(ind["email"], "f*****@*****");
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
