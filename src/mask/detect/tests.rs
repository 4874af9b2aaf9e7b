use super::*;

fn all() -> Detectors {
    Detectors::default()
}

#[test]
fn claimed_shapes_fire() {
    let d = all();
    for (text, want) in [
        ("fatur4@paycombat.com", Detector::Email),
        ("contact victim.person@example.co.id now", Detector::Email),
        ("+62 812-3456-7890", Detector::Phone),
        ("+44 20 7946 0958", Detector::Phone),
        ("call 081234567890 today", Detector::Phone),
        ("(021) 555-1234", Detector::Phone),
        ("3173000000001234", Detector::DigitRun),
        ("NIK 3173 0000 0000 1234.", Detector::DigitRun),
        ("85156781124", Detector::DigitRun),
        ("DE44500105175407324931", Detector::Iban),
        ("iban: GB82 WEST 1234 5698 7654 32 thanks", Detector::Iban),
        ("4111 1111 1111 1111", Detector::Card),
        ("card 5500-0000-0000-0004", Detector::Card),
        ("０８１２３４５６７８９０", Detector::Phone),
        ("08\u{200b}1234567890", Detector::Phone),
        ("NRIC S1234567D", Detector::DigitRun),
        ("ni: AB 12 34 56 C.", Detector::DigitRun),
        ("123-45-6789", Detector::DigitRun),
    ] {
        assert_eq!(d.scan(text), Some(want), "{text:?}");
    }
}

#[test]
fn payment_values_do_not_fire() {
    let d = all();
    for text in [
        "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "org_59b8fb2f52254f95ac54d0e140f4e429",
        "api_access_key:AK_FINMO_SBX_07C5090*******************CCBC7F",
        "2024-12-06T03:53:52.779Z",
        "2024-12-06 03:53:52",
        "1997-08-04",
        "150000.00",
        "1500000.00",
        "15000000.50",
        "1,500,000.00",
        "INV-2026-0042",
        "+150000.00",
        "-1500000.00",
        "+15000000.50 IDR",
        "INV-20260042",
        "PO-2026-12-0001234",
        "IDR",
        "NOT_STARTED",
        "individual",
        "OK",
        "67d84b19-d50b-490a-8fa7-5ab20bbf275a",
        "",
    ] {
        assert_eq!(d.scan(text), None, "{text:?}");
    }
}

#[test]
fn numbers_fire_only_when_long_integers() {
    let d = all();
    assert_eq!(d.scan_number("6281234567890"), Some(Detector::DigitRun));
    assert_eq!(d.scan_number("4111111111111111"), Some(Detector::Card));
    assert_eq!(d.scan_number("150000"), None);
    assert_eq!(d.scan_number("15000000"), None);
    assert_eq!(d.scan_number("150000000000.00"), None);
    assert_eq!(d.scan_number("1.5e12"), None);
    // A 13-digit value is a clock only where a declaration says so.
    assert_eq!(d.scan_number("1733457232779"), Some(Detector::DigitRun));
    assert_eq!(
        d.scan_number_at("1733457232779", true),
        None,
        "declared clock"
    );
    assert_eq!(
        d.scan_number_at("3173000000001234", true),
        Some(Detector::DigitRun),
        "a declaration exempts only a clock's shape"
    );
    assert_eq!(d.scan_number("1733457232"), None, "epoch seconds");
    assert_eq!(d.scan_number("15000000000"), Some(Detector::DigitRun));
    assert_eq!(d.scan_number("123456789012345678901234567890"), None);
}

#[test]
fn disabled_detectors_stay_silent() {
    let only_email = Detectors::new(&[Detector::Email], 7, 10);
    assert_eq!(only_email.scan("081234567890"), None);
    assert_eq!(only_email.scan("a@b.com"), Some(Detector::Email));
    assert_eq!(Detectors::none().scan("a@b.com"), None);
}

#[test]
fn labels_round_trip() {
    for d in Detector::ALL {
        assert_eq!(Detector::from_label(d.label()), Some(d));
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Words that free text is made of around a seeded value: letters, spaces, punctuation,
    /// short numbers (never a claimed shape themselves).
    fn filler() -> impl Strategy<Value = String> {
        "[A-Za-z ,;:()!?]{0,20}( [0-9]{1,4})?[A-Za-z .]{0,10}"
    }

    fn personal() -> impl Strategy<Value = (String, Detector)> {
        prop_oneof![
            (
                "[a-z][a-z0-9.]{0,10}[a-z0-9]",
                "[a-z]{2,10}",
                "(com|id|co\\.id|org|net)"
            )
                .prop_map(|(l, d, t)| (format!("{l}@{d}.{t}"), Detector::Email)),
            ("(62|44|65|1)", "[1-9][0-9]{8,10}")
                .prop_map(|(cc, n)| (format!("+{cc} {n}"), Detector::Phone)),
            "0[1-9][0-9]{8,10}".prop_map(|n| (n, Detector::Phone)),
            // Claimed: 7+ digits (Unix milliseconds too: a clock only where declared).
            "[1-9][0-9]{6,17}".prop_map(|n| (n, Detector::DigitRun)),
            "[1-9][0-9]{3} [0-9]{4} [0-9]{4} [0-9]{4}".prop_map(|n| (n, Detector::DigitRun)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A value of a claimed shape is found in any free text around it.
        #[test]
        fn seeded_values_are_found_in_free_text(
            (value, _) in personal(),
            before in filler(),
            after in filler(),
        ) {
            let text = format!("{before} {value} {after}");
            prop_assert!(Detectors::default().scan(&text).is_some(), "{text:?}");
        }

        /// Amounts, timestamps, ids and references never fire.
        #[test]
        fn payment_values_never_fire(
            amount in 0u64..10_000_000_000,
            cents in 0u32..100,
            ms in 1_420_070_400_000u64..2_208_988_800_000,
            hex in "[0-9a-f]{32}",
            prefix in "(customer|org|payin|payout|beneficiary|wallet|tx)",
            status in "[A-Z]{2,10}(_[A-Z]{2,10}){0,2}",
        ) {
            let d = Detectors::default();
            let secs = ms / 1000;
            let ts = format!(
                "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                secs % 40, secs % 12 + 1, secs % 28 + 1, secs % 24, secs % 60, (secs / 7) % 60, ms % 1000
            );
            for s in [
                format!("{amount}.{cents:02}"),
                format!("+{amount}.{cents:02}"),
                format!("-{amount}.{cents:02}"),
                format!("IDR {amount}.{cents:02}"),
                ts,
                format!("{prefix}_{hex}"),
                status,
            ] {
                prop_assert_eq!(d.scan(&s), None, "{:?}", s);
            }
            prop_assert_eq!(d.scan_number(&format!("{amount}.{cents:02}")), None);
            prop_assert_eq!(d.scan_number_at(&ms.to_string(), true), None, "declared clock");
            prop_assert_eq!(d.scan_number(&(amount % 10_000_000_000).to_string()), None);
        }
    }
}

#[test]
fn declared_leaves_meet_only_the_shapes_no_payment_value_has() {
    let d = all();
    for reference in [
        "20241206001234",
        "15000000",
        "0012345678",
        "4111111111111111",
    ] {
        assert!(d.scan(reference).is_some(), "{reference}");
        assert_eq!(d.scan_declared(reference), None, "{reference}");
    }
    assert_eq!(d.scan_declared("victim@example.com"), Some(Detector::Email));
    assert_eq!(
        d.scan_declared("DE44500105175407324931"),
        Some(Detector::Iban)
    );
}

/// A number is judged by the integer every JSON reader takes it for, whatever its spelling:
/// a phone or ID number in exponent or fraction form is still that number.
#[test]
fn numbers_in_other_spellings_are_judged_by_their_value() {
    let d = all();
    for text in [
        "6.281234567890e12",
        "6.28123456789e12",
        "6.28123456789E+12",
        "62812345678.90e2",
        "628123456789000e-2",
        "-6.28123456789e12",
    ] {
        assert_eq!(d.scan_number(text), Some(Detector::DigitRun), "{text}");
    }
    // Its integer part, whatever the fraction says (a phone number has no cents).
    for text in [
        "62812345678901.00",
        "6281234567890.00",
        "6281234567890.5",
        "-6281234567890.000",
    ] {
        assert!(d.scan_number(text).is_some(), "{text}");
    }
    assert_eq!(d.scan_number("4.111111111111111e15"), Some(Detector::Card));
    // Round values, real fractions and huge values stay numbers.
    for text in [
        "1e15",
        "1.5e12",
        "1500000.00",
        "150000000000.00",
        "1.23456789012345678901e25",
        "1e-400",
        "1e999999999999999999999",
    ] {
        assert_eq!(d.scan_number(text), None, "{text}");
    }
}

/// Every Unicode decimal digit is a digit to the detectors, not only the forms NFKC maps
/// (full-width): Arabic-Indic, Extended Arabic-Indic, Devanagari, Thai.
#[test]
fn decimal_digits_of_every_script_are_digits() {
    let d = all();
    for text in [
        "٠٨١٢٣٤٥٦٧٨٩٠",
        "+٦٢ ٨١٢ ٣٤٥٦ ٧٨٩٠",
        "۰۸۱۲۳۴۵۶۷۸۹۰",
        "०८१२३४५६७८९०",
        "๐๘๑๒๓๔๕๖๗๘๙๐",
        "NIK ٣١٧٣٠٠٠٠٠٠٠٠١٢٣٤",
    ] {
        assert!(d.scan(text).is_some(), "{text}");
    }
    assert_eq!(ascii_digits("٠١٢٣٤٥٦٧٨٩ ۹ ९ ๙ x"), "0123456789 9 9 9 x");
}

/// Emails in the forms RFC 5321 and mail clients accept beyond `local@host.tld`, and any
/// value a percent-decoding client reads as one (once or twice encoded).
#[test]
fn emails_in_every_accepted_form_and_percent_encoded_fire() {
    let d = all();
    for text in [
        "victim@[192.168.0.1]",
        "victim@[IPv6:2001:db8::1]",
        "victim@192.168.0.1",
        "\"alice victim\"@example.com",
        "reach \"a.v\"@[10.0.0.1] now",
        "victim%40example.com",
        "https://x.example/cb?e=victim%2540example.com",
        "%7B%22email%22%3A%22victim%40example.com%22%7D",
        "%2B62%20812-3456-7890",
    ] {
        assert!(d.scan(text).is_some(), "{text}");
    }
    assert_eq!(
        d.scan_declared("victim%40example.com"),
        Some(Detector::Email)
    );
    // Percent signs in amounts and rates, and `@` with nothing host-like after it, stay.
    for text in [
        "fee 2.5% @ 100",
        "50%off",
        "%zz",
        "discount 10%",
        "a@b",
        "@[x]",
    ] {
        assert_eq!(d.scan(text), None, "{text}");
    }
}

/// Groups of a card or phone number joined by other punctuation, or by Unicode dashes, are
/// read like the dashed form; thousands grouping, decimals and dates stay out.
#[test]
fn digit_groups_joined_by_other_punctuation_fire() {
    let d = all();
    for (text, want) in [
        ("4111.1111.1111.1111", Detector::Card),
        ("4111_1111_1111_1111", Detector::Card),
        ("card 4111/1111/1111/1111 exp", Detector::Card),
        ("+62.812.3456.7890", Detector::Phone),
        ("+62/812/3456/7890", Detector::Phone),
        ("+62\u{2013}812\u{2013}3456\u{2013}7890", Detector::Phone),
        ("+62\u{2212}812\u{2212}3456\u{2212}7890", Detector::Phone),
        // Thousands grouping of identifier digits: the integer is judged as a number's is.
        ("6,281,234,567,890", Detector::DigitRun),
        ("1.234.567.890.123", Detector::DigitRun),
        ("Rp 6.281.234.567.890,00", Detector::DigitRun),
        ("6\u{2019}281\u{2019}234\u{2019}567\u{2019}890", Detector::DigitRun),
        ("\u{666}\u{66c}\u{662}\u{668}\u{661}\u{66c}\u{662}\u{663}\u{664}\u{66c}\u{665}\u{666}\u{667}\u{66c}\u{668}\u{669}\u{660}", Detector::DigitRun),
    ] {
        assert_eq!(d.scan(text), Some(want), "{text}");
    }
    for text in [
        "+1.500.000",
        "+12.500.000",
        "1.234.567.890",
        "1,500,000,000,000.00",
        "12,50,00,000",
        "2026/12/06",
        "v1.2.3.4",
        "10.0.0.1",
        "+150000.00",
        "1500000.00",
    ] {
        assert_eq!(d.scan(text), None, "{text}");
    }
}

/// A base64 token that decodes to text is judged as that text too (standard and URL-safe
/// alphabets, padded or not); ids, digests and tokens that decode to binary are not.
#[test]
fn base64_text_is_read_decoded() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let d = all();
    for plain in [
        r#"{"email":"victim@example.com"}"#,
        "call 081234567890",
        "NIK 3173000000001234",
    ] {
        for enc in [STANDARD.encode(plain), URL_SAFE_NO_PAD.encode(plain)] {
            assert!(d.scan(&enc).is_some(), "{plain} as {enc}");
            assert!(d.scan(&format!("payload={enc};")).is_some(), "{enc}");
        }
    }
    for text in [
        "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "org_59b8fb2f52254f95ac54d0e140f4e429",
        "3f9a1c0e8b7d6a5f4e3d2c1b0a9f8e7d",
        "QUJDREVGR0hJSktMTU5PUA==",
    ] {
        assert_eq!(d.scan(text), None, "{text}");
    }
}

/// Every decoding a client may apply, nested in another, reaches the detectors: hex (either
/// case), base64 of base64, hex of base64, a gzip or zlib stream in base64, JavaScript's
/// `%u` escapes; and a JSON number's exponent is read whatever its leading zeros.
#[test]
fn nested_and_compressed_encodings_are_read() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use std::io::Write as _;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let email = "mail victim.nested@example.com";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(email.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zl.write_all(email.as_bytes()).unwrap();
    let zl = zl.finish().unwrap();
    let d = all();
    for text in [
        hex(email.as_bytes()),
        hex(email.as_bytes()).to_uppercase(),
        format!("0x{}", hex(email.as_bytes())),
        STANDARD.encode(STANDARD.encode(email)),
        STANDARD.encode(STANDARD.encode(STANDARD.encode(email))),
        hex(STANDARD.encode(email).as_bytes()),
        STANDARD.encode(&gz),
        STANDARD.encode(&zl),
        "victim%u0040example.com".to_owned(),
        "%u0076ictim%U0040example%u002Ecom".to_owned(),
        "victim&#x0000000040;example.com".to_owned(),
        "victim&#000064;example&#0000046;com".to_owned(),
        "victim\\u{40}example.com".to_owned(),
        "victim\\u{000040}example\\u{2e}com".to_owned(),
        "victim\\100example\\056com".to_owned(),
    ] {
        // Masked whole: the email, or the digits of a zero-padded reference, fires first.
        assert!(d.scan(&text).is_some(), "{text}");
    }
    for text in [
        "62812345679e+0000000000000000000002",
        "-6281234567910E-000000000000000000000000",
        "628123456791e+00000000001",
    ] {
        assert!(d.scan_number(text).is_some(), "{text}");
    }
    // Digests and ids decode to binary; an amount's padded exponent is still an amount.
    for text in [
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ] {
        assert_eq!(d.scan(text), None, "{text}");
    }
    // An escape that is not complete is text: `\u{40` without its brace, `\19` short.
    assert_eq!(d.scan("victim\\u{40example.com"), None);
    assert_eq!(d.scan("victim\\19example.com"), None);
    assert_eq!(d.scan_number("1.5e+0000000006"), None);
    assert_eq!(d.scan_number("1e+00000000000000000000000000000015"), None);
}
