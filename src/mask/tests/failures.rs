use super::*;

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
    // Containers under the rule (the array too: one value) are replaced whole, but still
    // parsed to the bottom.
    let out = mask_small_stack(under_rule);
    assert_eq!(&out[..], br#"{"a":"[REDACTED]"}"#);
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
    assert!(parse(br#"{"a":1e400}"#), "beyond a double's range");
    assert!(parse(br#"[-3.287130374878351e+285285]"#));
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
