use super::*;

#[test]
fn json_documents_inside_strings_are_masked_at_every_level() {
    let m = default_masker();
    assert_eq!(
        run(
            &m,
            r#"{"data":{"note":"{\"email\":\"victim@example.com\"}"}}"#
        ),
        r#"{"data":{"note":"{\"email\":\"v*****@*****\"}"}}"#
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
        "x{\"a\":\"b\"}",
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

#[test]
fn json_that_lenient_decoders_recover_from_a_string_is_masked() {
    let m = default_masker();
    let doc = json!({"email": "victim@example.com", "first_name": "Alice"}).to_string();
    let cases = [
        // Node: JSON.parse(s.trim()) skips BOM, NBSP and the other Unicode spaces.
        format!("\u{feff}{doc}"),
        format!("\u{a0}{doc}\u{a0}"),
        format!("\u{2003}\u{200b}\n{doc}"),
        format!("\0{doc}"),
        // JSON.parse(JSON.parse(s)): one more level of quoting, and another.
        serde_json::to_string(&doc).expect("quote"),
        format!(
            " {}",
            serde_json::to_string(&serde_json::to_string(&doc).expect("q")).expect("q")
        ),
        // Python raw_decode: the longest JSON prefix, then junk.
        format!("{doc} trailing junk"),
        format!("{doc}}}}}"),
        // Pieces after a document are read too.
        format!("[] {doc}"),
    ];
    for s in cases {
        let body = json!({ "note": s }).to_string();
        let masked = m.mask(body.as_bytes()).expect("maskable");
        let out = std::str::from_utf8(&masked.body).expect("utf-8");
        assert!(
            !out.contains("victim") && !out.contains("Alice"),
            "{s:?} -> {out}"
        );
        assert_eq!(masked.total(), 2, "{s:?}");
        let _: Value = serde_json::from_str(out).expect("still JSON");
    }
    // The document is written compact and the junk after it is kept.
    assert_eq!(
        run(&m, r#"{"n":"\u00a0{\"first_name\": \"Alice\"} ok"}"#),
        r#"{"n":"{\"first_name\":\"[REDACTED]\"} ok"}"#
    );
    // Double-encoded comes back double-encoded.
    let twice = serde_json::to_string(&r#"{"first_name":"Alice"}"#).expect("q");
    let out = run_json(&m, &json!({ "n": twice }));
    let once: String = serde_json::from_str(out["n"].as_str().expect("s")).expect("quoted");
    assert_eq!(
        serde_json::from_str::<Value>(&once).expect("json"),
        json!({"first_name": "[REDACTED]"})
    );
    // Text that no decoder turns into JSON is copied byte for byte.
    for s in [r#"\"quoted\""#, r#"\"{not json\""#, r#"say \"{}\""#] {
        let body = format!(r#"{{"n":"{s}"}}"#);
        assert_eq!(run(&m, &body), body);
    }
}
