//! Property tests, one per class of issue 21's digit findings: identifiers in any digit run of
//! a numeral; digits behind any separator and in any form with a Unicode digit value
//! (one-digit groups included); short encoded tokens; UTF-16 inside tokens. Each asserts the
//! class (every generated member fires) and its false-positive side (amounts, dates,
//! versions, lists never do).

use base64::Engine as _;
use proptest::prelude::*;

use super::Detectors;

/// One digit `d` in one of the forms a reader takes for it: ASCII, full-width,
/// Arabic-Indic, Devanagari, mathematical bold, a keycap, a circled or dingbat digit.
fn digit_form(d: u32, form: u8) -> String {
    let at = |base: u32, v: u32| char::from_u32(base + v).map(String::from);
    let s = match form {
        1 => at(0xff10, d),
        2 => at(0x0660, d),
        3 => at(0x0966, d),
        4 => at(0x1d7ce, d),
        5 => Some(format!("{d}\u{fe0f}\u{20e3}")),
        // Dingbat and double-circled digits run from one; zero stays ASCII.
        6 if d > 0 => at(0x2780, d - 1),
        7 if d > 0 => at(0x2776, d - 1),
        8 if d > 0 => at(0x24f5, d - 1),
        9 if d > 0 => at(0x2460, d - 1),
        9 => Some('\u{24ea}'.to_string()),
        _ => None,
    };
    s.unwrap_or_else(|| d.to_string())
}

/// A separator: one to three characters that are neither letters nor digits (no list mark:
/// `,` and `;` separate values).
fn separator() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec![
            ' ', '.', '-', '/', ':', '~', '|', '+', '*', '\'', '_', '#', '(', ')', '[', ']', '"',
            '\\', '=', '\u{2800}', '\u{2192}', '\u{2022}', '\u{00b7}', '\u{3001}', '\u{2013}',
            '\u{00a0}', '\u{2605}',
        ]),
        1..=3,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// F3: an identifier in any digit run of a numeral (fraction, exponent, mantissa), as a
    /// JSON number and in a string, fires; so does an undeclared 13-digit value in the Unix-ms
    /// range, which only a declaration makes a clock.
    #[test]
    fn identifiers_in_any_digit_run_of_a_numeral_fire(
        id in "[1-9][0-9]{9,14}[1-9]",
        int in 0u32..1000,
        sign in "(|-)",
        ms in 1_420_070_400_000u64..2_208_988_800_000,
    ) {
        let d = Detectors::default();
        for n in [
            format!("{int}.{id}"),
            format!("{int}.{id}e-3"),
            format!("{int}.{id}E+300"),
            format!("{id}e-400"),
            format!("{id}e10"),
            format!("1e{id}"),
            format!("0.0{id}"),
        ] {
            let number = format!("{sign}{n}");
            prop_assert!(d.scan_number(&number).is_some(), "number {}", number);
            let text = format!("ref {number} ok");
            prop_assert!(d.scan(&text).is_some(), "string {:?}", text);
        }
        let ms = ms.to_string();
        prop_assert!(d.scan_number(&ms).is_some(), "{}", ms);
        prop_assert!(d.scan(&ms).is_some(), "{}", ms);
        prop_assert_eq!(d.scan_number_at(&ms, true), None, "declared clock {}", ms);
    }

    /// F3, the other side: amounts with up to ten integer digits and a fraction of two to four
    /// digits (or one non-zero digit), in numbers and strings, never fire (`….0` spells an
    /// integer, judged as its digits).
    #[test]
    fn amounts_with_short_fractions_never_fire(
        int in 0u64..10_000_000_000,
        frac in "([0-9]{2,4}|[1-9])",
        sign in "(|-)",
    ) {
        let d = Detectors::default();
        let number = format!("{sign}{int}.{frac}");
        prop_assert_eq!(d.scan_number(&number), None, "{}", number);
        let text = format!("IDR {number}");
        prop_assert_eq!(d.scan(&text), None, "{:?}", text);
    }

    /// F7 and finding 6: a number of 11 to 16 digits, in groups of one to four digits joined
    /// by any one separator (the same throughout), each digit in any form with a Unicode digit
    /// value, fires.
    #[test]
    fn digits_behind_any_separator_in_any_form_fire(
        (k, digits) in (1usize..=4).prop_flat_map(|k| {
            // Group counts that make 11..=16 digits, and (for groups of three) no IPv4 shape.
            let m = match k { 1 => 11..=16usize, 2 => 6..=8, 3 => 5..=5, _ => 3..=4 };
            (Just(k), m.prop_flat_map(move |m| {
                proptest::collection::vec(0u32..10, k * m..=k * m)
            }))
        }),
        sep in separator(),
        forms in proptest::collection::vec(0u8..10, 16),
    ) {
        // `\060\070…` is octal escapes (read decoded), not groups joined by `\`.
        prop_assume!(!(sep.ends_with('\\') && k == 3));
        let mut text = String::from("ref ");
        for (i, d) in digits.iter().enumerate() {
            if i > 0 && i % k == 0 {
                text.push_str(&sep);
            }
            text.push_str(&digit_form(*d, forms[i % forms.len()]));
        }
        text.push_str(" ok");
        prop_assert!(Detectors::default().scan(&text).is_some(), "{:?}", text);
    }

    /// The other side: dates, times, versions, IPv4 addresses and lists of short numbers,
    /// whatever joins them, never fire.
    #[test]
    fn dates_times_versions_and_lists_never_fire(
        y in 2000u32..2040, mo in 1u32..13, da in 1u32..29,
        h in 0u32..24, mi in 0u32..60, s in 0u32..60,
        major in 1u32..20, minor in 0u32..10, build in 0u32..100_000, rev in 0u32..10_000,
        // (An address whose last three parts have three digits each is also thousands
        // grouping, `10.100.110.100`: judged as the amount it spells.)
        ip in (proptest::collection::vec(0u32..256, 3), 0u32..100),
        list in proptest::collection::vec(0u32..10_000, 2..10),
        sep in prop::sample::select(vec![", ", "; ", ";"]),
    ) {
        let d = Detectors::default();
        let list: Vec<String> = list.iter().map(u32::to_string).collect();
        for text in [
            format!("{y}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}"),
            format!("{da:02}.{mo:02}.{y} {h:02}:{mi:02}"),
            format!("{y}/{mo:02}/{da:02}"),
            format!("{major}.{minor}.{build}.{rev}"),
            format!("v{major}.{minor}.{build}"),
            format!("{}.{}.{}.{}", ip.0[0], ip.0[1], ip.0[2], ip.1),
            list.join(sep),
        ] {
            prop_assert_eq!(d.scan(&text), None, "{:?}", text);
        }
    }

    /// Finding 11 and finding 4: a value of 7 to 11 bytes (a phone, an SSN, an ID) in a token
    /// of any length its bytes need, base64 (either alphabet, padded or not), base32 or hex,
    /// and the same text as UTF-16 (either order, with or without a mark) in base64 or hex,
    /// fires.
    #[test]
    fn short_and_utf16_tokens_are_read(
        value in prop_oneof!["0[1-9][0-9]{8,9}", "[1-9][0-9]{6,9}", "[1-9][0-9]{2}-[0-9]{2}-[0-9]{4}"],
        utf16 in 0u8..4,
    ) {
        let d = Detectors::default();
        let b = value.as_bytes();
        let hex = |b: &[u8]| -> String { b.iter().map(|x| format!("{x:02x}")).collect() };
        let mut tokens = vec![
            base64::engine::general_purpose::STANDARD.encode(b),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(b),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
            data_encoding::BASE32.encode(b),
            data_encoding::BASE32_NOPAD.encode(b).to_lowercase(),
            hex(b),
        ];
        let units = value.encode_utf16();
        let wide: Vec<u8> = match utf16 {
            0 => units.flat_map(u16::to_le_bytes).collect(),
            1 => units.flat_map(u16::to_be_bytes).collect(),
            2 => [0xff, 0xfe].into_iter().chain(units.flat_map(u16::to_le_bytes)).collect(),
            _ => [0xfe, 0xff].into_iter().chain(units.flat_map(u16::to_be_bytes)).collect(),
        };
        tokens.push(base64::engine::general_purpose::STANDARD.encode(&wide));
        tokens.push(hex(&wide));
        for t in tokens {
            let text = format!("ref {t}");
            prop_assert!(d.scan(&text).is_some(), "{} as {:?}", value, text);
        }
    }
}

#[test]
fn enclosed_digits_with_punctuation_and_one_digit_groups_fire() {
    let d = Detectors::default();
    for text in [
        "0.8.1.2.3.4.5.6.7.8.9.6",
        "(0)(8)(1)(2)(3)(4)(5)(6)(7)(8)(9)(7)",
        "\u{1F100}\u{248F}\u{2488}\u{2489}\u{248A}\u{248B}\u{248C}\u{248D}\u{248E}\u{248F}\u{2490}\u{2490}",
        "\u{2474}\u{2475}\u{2476}\u{2477}\u{2478}\u{2479}\u{247A}\u{247B}\u{247C}\u{247D}\u{2474}",
        "0812+3456+7705",
        "0812%3456%7890",
        "\u{1369}\u{136a}\u{136b}\u{136c}\u{136d}\u{136e}\u{136f}\u{1370}\u{1371}",
    ] {
        assert!(d.scan(text).is_some(), "{text}");
    }
    for text in [
        "10.0.19045.3693",
        "1.2.3",
        "v1.2.3.4",
        "1, 2, 3, 4, 5, 6, 7, 8",
    ] {
        assert_eq!(d.scan(text), None, "{text}");
    }
}
