use super::*;

#[test]
fn unmasked_values_and_key_order_are_kept() {
    let m = default_masker();
    let body = r#"{"z":1,"a":[true,false,null,0,18446744073709551615,-9223372036854775808,"x"],"m":{"y":{},"b":[]},"f":0.5}"#;
    assert_eq!(run(&m, body), body);
}

#[test]
fn unmasked_values_are_copied_byte_for_byte() {
    let m = default_masker();
    // Numbers keep their text: beyond 64 bits, trailing zeros, exponents, negative zero.
    let numbers = r#"[123456789012345678901234567890,1.50,1e3,1E+3,-2.5E-3,-0,0.1000000000000000055511151231257827,1.7976931348623157e308]"#;
    assert_eq!(run(&m, numbers), numbers);
    assert_eq!(
        run(
            &m,
            r#"{"amount":123456789012345678901234567890,"fee":"1.50","rate":1.50}"#
        ),
        r#"{"amount":123456789012345678901234567890,"fee":"1.50","rate":1.50}"#
    );
    // Strings keep their escapes as written (and whitespace inside them).
    let strings = r#"["\u00e9\/\u0041  \t x","a\"b","\ud83d\ude00","  spaced  "]"#;
    assert_eq!(run(&m, strings), strings);
    // Whitespace between tokens is not kept: the output is compact.
    assert_eq!(
        run(&m, "{ \"a\" : [ 1 , 2.0 ] ,\n\t\"b\" : \"x\" }"),
        r#"{"a":[1,2.0],"b":"x"}"#
    );
    // A masked value next to unmasked ones leaves them untouched.
    assert_eq!(
        run(
            &m,
            r#"{"amount":100000000000000000000.00,"phone_number":"85156781124","ref":"\u0052EF"}"#
        ),
        r#"{"amount":100000000000000000000.00,"phone_number":"*******1124","ref":"\u0052EF"}"#
    );
}

#[test]
fn an_object_shaped_like_serde_json_number_is_just_an_object() {
    let m = default_masker();
    let fake = r#"{"$serde_json::private::Number":"1]}{\"x"}"#;
    assert_eq!(run(&m, fake), fake);
    assert_eq!(
        run(&m, r#"{"phone_number":123456789012.5}"#),
        r#"{"phone_number":"*********012.5"}"#
    );
}

#[test]
fn top_level_scalars_and_empty_bodies_pass_unchanged() {
    let m = default_masker();
    for body in [r#""just a string""#, "42", "true", "null", "-7"] {
        assert_eq!(run(&m, body), body);
    }
    assert_eq!(run(&m, ""), "");
    // A non-empty body of only whitespace (or a lone BOM) is no JSON document.
    for blank in [" ", " \r\n", "\t", "\u{feff}", "\u{feff} "] {
        assert!(
            matches!(m.mask(blank.as_bytes()), Err(MaskError::Parse { .. })),
            "{blank:?}"
        );
    }
    assert_eq!(
        run(&m, "\u{feff}{\"email\":\"ab@c.de\"}"),
        r#"{"email":"a*****@*****"}"#
    );
}

#[test]
fn strings_copied_with_escapes_are_also_given_decoded_for_the_secret_guard() {
    let m = default_masker();
    let masked = m
        .mask(br#"{"x":"\u0073nd_t\u006fken","k\u0065y":"plain","p":"no escapes"}"#)
        .expect("ok");
    // The body keeps the escapes; the guard reads what a client reads.
    assert!(std::str::from_utf8(&masked.body)
        .expect("utf-8")
        .contains(r"\u0073nd_t\u006fken"));
    assert_eq!(masked.unescaped(), b"snd_token\nkey\n");
}

#[test]
fn strings_copied_are_given_in_every_reading_for_the_secret_guard() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    let m = default_masker();
    let secret = "merchant-token-0123456789abcdef";
    let utf16: Vec<u8> = secret.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let b64 = STANDARD.encode(secret);
    let full_width: String = secret
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).expect("full-width"))
        .collect();
    for form in [
        STANDARD.encode(&b64),
        format!("{}\\n{}", &b64[..b64.len() / 2], &b64[b64.len() / 2..]),
        data_encoding::BASE32.encode(secret.as_bytes()),
        STANDARD.encode(&utf16),
        full_width,
    ] {
        let body = format!(r#"{{"debug":"{form}"}}"#);
        let masked = m.mask(body.as_bytes()).expect("ok");
        let read = String::from_utf8_lossy(masked.unescaped());
        assert!(read.contains(secret), "{form}: {read}");
    }
}
