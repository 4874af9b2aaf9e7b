use super::*;

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
