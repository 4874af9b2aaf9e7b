//! One rule for every spelling of a long integer (see [`super::numeral`]) and for digit groups
//! joined by any of the separators people use: what a reader takes for the integer
//! 6281234567890 is judged as that integer, in a string and in a number leaf.

use super::*;
use proptest::prelude::*;

fn all() -> Detectors {
    Detectors::default()
}

#[test]
fn denoted_integers() {
    let d = |t: &str| numeral::denoted(t, 7, 19).map(|c| c.into_owned());
    assert_eq!(d("6281234567890").as_deref(), Some("6281234567890"));
    assert_eq!(d("6281234567890.0").as_deref(), Some("6281234567890"));
    assert_eq!(d("6281234567890.").as_deref(), Some("6281234567890"));
    assert_eq!(d("6281234567890,0").as_deref(), Some("6281234567890"));
    assert_eq!(d("6.28123456789e12").as_deref(), Some("6281234567890"));
    assert_eq!(d("6.281234567890E+12").as_deref(), Some("6281234567890"));
    assert_eq!(d("628123456789000e-2").as_deref(), Some("6281234567890"));
    assert_eq!(d(".628123456789e13").as_deref(), Some("6281234567890"));
    assert_eq!(d("00012345678").as_deref(), Some("12345678"));
    for not_an_integer in [
        "6281234567890.5",
        "6281234567890.00",
        "10000.000",
        "1.5",
        "1e15",
        "1.5e12",
        "6.2812345678901e12",
        "1e-400",
        "1.2345678e9999999",
        "12345678901234567890",
        "0",
        "0.0",
        ".",
        "",
        "1.2.3",
        "6281234567890e",
    ] {
        assert_eq!(d(not_an_integer), None, "{not_an_integer}");
    }
}

#[test]
fn integer_spellings_in_strings_fire() {
    let d = all();
    for text in [
        "6.281234567890E12",
        "6.28123456789e12",
        "6281234567890.0",
        "+6281234567890.0",
        "-6.28123456789e+12",
        "6281234567890,0",
        "85156781124.0",
        "8.5156781124e10",
        "3.173000000001234E15",
        "phone=6.28123456789e12;",
        "id:6281234567890.0",
        "call 6281234567890.0 today",
        "６．２８１２３４５６７８９０Ｅ１２",
        "６２８１２３４５６７８９０．０",
        "٦٢٨١٢٣٤٥٦٧٨٩٠٫٠",
    ] {
        assert!(d.scan(text).is_some(), "{text}");
    }
    assert_eq!(d.scan("4.111111111111111e15"), Some(Detector::Card));
}

#[test]
fn integer_spellings_in_number_leaves_fire() {
    let d = all();
    for text in [
        "6281234567890",
        "6281234567890.0",
        "-6281234567890.0",
        "6.28123456789e12",
        "6.281234567890E12",
        "62812345678900e-1",
        "85156781124.0",
    ] {
        assert_eq!(d.scan_number(text), Some(Detector::DigitRun), "{text}");
    }
    assert_eq!(d.scan_number("4111111111111111.0"), Some(Detector::Card));
}

#[test]
fn digit_groups_with_any_separator_fire() {
    let d = all();
    for text in [
        "+62 812 - 3456 - 7890",
        "0812 - 3456 - 7890",
        "0812  3456  7890",
        "0812/3456/7890",
        "0812_3456_7890",
        "62.812.3456.7890",
        "+62 812.3456.7890",
        "851.5678.1124",
        "3173.0000.0000.1234",
        "3173/0000/0000/1234",
        "3173  0000  0000  1234",
        "3173 - 0000 - 0000 - 1234",
        "3173\u{a0}0000\u{a0}0000\u{a0}1234",
        "3173\u{202f}0000\u{202f}0000\u{202f}1234",
        "3173\u{2007}0000\u{2007}0000\u{2007}1234",
        "3173\u{b7}0000\u{b7}0000\u{b7}1234",
        "0812\u{3000}3456\u{3000}7890",
        "A1 3173 0000 0000 1234",
        "3173 0000 0000 1234 5a",
        "NIK: 3173 0000 0000 1234, 12:30",
    ] {
        assert!(d.scan(text).is_some(), "{text}");
    }
}

/// The documented API's non-personal values, and the look-alikes the wider rule meets: none
/// fires.
#[test]
fn payment_values_in_every_spelling_stay() {
    let d = all();
    for text in [
        "10000.00",
        "1.5",
        "1500000.50",
        "15000000.00",
        "1,500,000.0",
        "1.500.000,0",
        "1.5e6",
        "1e15",
        "2.5E3",
        "2024-12-06T03:53:52.779Z",
        "2024-12-06 03:53:52.0",
        "1.733457232779e12",
        "1733457232779.0",
        "2026/12/06",
        "06.12.2024",
        "6.12.2024",
        "2024_12_06",
        "10.0.19045.3693",
        "192.168.10.100",
        "v1.2.3",
        "PO/2026/12/000123",
        "report_2024_12_06_0001",
        "INV-6281234567890.0",
        "customer_6281234567890.0",
        "1.0.3",
        "12:30:45.0",
    ] {
        assert_eq!(d.scan(text), None, "{text}");
    }
    for number in [
        "10000.00",
        "1.5",
        "1500000000.0",
        "150000000000.00",
        "62812345678901.00",
        "1e15",
        "1.5e12",
        "1733457232779.0",
        "1.733457232779E12",
        "-25.0",
    ] {
        assert_eq!(d.scan_number(number), None, "{number}");
    }
}

/// The spellings of the integer `digits` a reader takes for it.
fn spellings(digits: &str) -> Vec<String> {
    let n = digits.len();
    let mut out = vec![
        digits.to_owned(),
        format!("{digits}.0"),
        format!("{digits}e0"),
        format!("{digits}0e-1"),
        format!("{}.{}e{}", &digits[..1], &digits[1..], n - 1),
        format!("{}.{}E+{}", &digits[..1], &digits[1..], n - 1),
        format!("{}.{}E{}", &digits[..n / 2], &digits[n / 2..], n - n / 2),
    ];
    // The trailing zeros a float formatter drops (`6.2812345678900e12` → `6.28123456789e12`).
    let trimmed = digits.trim_end_matches('0');
    if trimmed.len() > 1 {
        out.push(format!("{}.{}e{}", &trimmed[..1], &trimmed[1..], n - 1));
    }
    out
}

/// The same text in full-width or Arabic-Indic digits and punctuation.
fn script(text: &str, zero: char, dot: char) -> String {
    text.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(zero as u32 + (c as u32 - '0' as u32)).unwrap_or(c),
            '.' => dot,
            c => c,
        })
        .collect()
}

fn not_epoch_millis(digits: &str) -> bool {
    !digits::is_epoch_millis(digits.as_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// An integer of at least the threshold's digits (7 in a string, 11 in a number leaf) with
    /// at least 7 significant digits, in any spelling, signed or not, and in a string also in
    /// full-width or Arabic-Indic digits, is found.
    #[test]
    fn long_integers_fire_in_every_spelling(
        head in "[1-9][0-9]{5}[1-9]",
        tail in "[0-9]{0,12}",
        sign in "(|-|\\+)",
    ) {
        let digits = format!("{head}{tail}");
        prop_assume!(not_epoch_millis(&digits));
        let d = all();
        for s in spellings(&digits) {
            for text in [
                format!("{sign}{s}"),
                format!("ref {sign}{s}, thanks"),
                script(&s, '\u{ff10}', '\u{ff0e}'),
                script(&s, '\u{0660}', '\u{066b}'),
            ] {
                prop_assert!(d.scan(&text).is_some(), "string {:?}", text);
            }
            if digits.len() >= DEFAULT_NUMBER_DIGITS_MIN {
                let number = format!("{}{s}", if sign == "-" { "-" } else { "" });
                prop_assert!(d.scan_number(&number).is_some(), "number {}", number);
            }
        }
    }

    /// Amounts with two decimals, below the number threshold as numbers and at any size as
    /// strings, and shorter integers in a number leaf in any spelling, never fire.
    #[test]
    fn amounts_never_fire(
        amount in 0u64..10_000_000_000,
        cents in 0u32..100,
        big in 0u64..10_000_000_000_000_000,
    ) {
        let d = all();
        for text in [
            format!("{amount}.{cents:02}"),
            format!("{big}.{cents:02}"),
            format!("-{big}.{cents:02}"),
            format!("IDR {big}.{cents:02}"),
        ] {
            prop_assert_eq!(d.scan(&text), None, "{:?}", text);
        }
        prop_assert_eq!(d.scan_number(&format!("{amount}.{cents:02}")), None);
        prop_assert_eq!(d.scan_number(&format!("{big}.{cents:02}")), None);
        let short = (amount % 10_000_000_000).to_string();
        for s in spellings(&short) {
            prop_assert_eq!(d.scan_number(&s), None, "{}", s);
        }
    }
}
