//! One rule for every spelling of a long integer (see [`super::numeral`]) and for digit groups
//! joined by any of the separators people use: what a reader takes for the integer
//! 6281234567890 is judged as that integer, in a string and in a number leaf.

use super::*;
use proptest::prelude::*;

fn all() -> Detectors {
    Detectors::default()
}

#[test]
fn denoted_integer_parts() {
    let d = |t: &str| numeral::denoted(t, 19).map(|n| (n.digits.into_owned(), n.spelled, n.amount));
    let int = |s: &str, spelled: bool, amount: bool| Some((s.to_owned(), spelled, amount));
    assert_eq!(d("6281234567890"), int("6281234567890", false, false));
    assert_eq!(d("6281234567890.0"), int("6281234567890", true, false));
    assert_eq!(d("6281234567890."), int("6281234567890", true, false));
    assert_eq!(d("6281234567890,0"), int("6281234567890", true, false));
    assert_eq!(d("6.28123456789e12"), int("6281234567890", true, false));
    assert_eq!(d("6.281234567890E+12"), int("6281234567890", true, false));
    assert_eq!(d("628123456789000e-2"), int("6281234567890", true, false));
    assert_eq!(d(".628123456789e13"), int("6281234567890", true, false));
    assert_eq!(d("00012345678"), int("12345678", false, false));
    // Amount spellings: a fraction of two or more digits, or a value that is no integer.
    assert_eq!(d("6281234567890.00"), int("6281234567890", true, true));
    assert_eq!(d("6281234567890.000"), int("6281234567890", true, true));
    assert_eq!(d("6281234567890.5"), int("6281234567890", true, true));
    assert_eq!(d("6281234567890.57"), int("6281234567890", true, true));
    assert_eq!(d("6.2812345678905e12"), int("6281234567890", true, true));
    for no_integer_part in [
        "0.5",
        ".5",
        "0",
        "0.0",
        "1e-400",
        "1.2345678e9999999",
        "12345678901234567890",
        ".",
        "",
        "1.2.3",
        "6281234567890e",
        "-1",
    ] {
        assert_eq!(d(no_integer_part), None, "{no_integer_part}");
    }
}

/// The significant-digit condition: round quantities are not judged, identifiers are.
#[test]
fn spelled_round_quantities_are_not_judged() {
    let judged = |t: &str| numeral::denoted(t, 19).is_some_and(|n| n.judged(7));
    for round in [
        "150000000000.00",
        "1e15",
        "1.5e12",
        "1000000.0",
        "15000000000.5",
    ] {
        assert!(!judged(round), "{round}");
    }
    for identifier in [
        "6281234567890.00",
        "6281234567890",
        "150000000000",
        "62812345678e2",
    ] {
        assert!(judged(identifier), "{identifier}");
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
        "9999999999.99",
        "-1234567890.12",
        "1e15",
        "1.5e12",
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

/// The amount spellings of the integer `digits` (a fraction of two or more digits, a real
/// fraction, thousands grouping): a reader still takes the digits for that integer's.
/// `(text, is_json_number)`.
fn amount_spellings(digits: &str) -> Vec<(String, bool)> {
    let grouped = |sep: char| {
        let head = digits.len() % 3;
        let mut out = String::from(&digits[..head]);
        for (i, c) in digits[head..].chars().enumerate() {
            if i % 3 == 0 && !out.is_empty() {
                out.push(sep);
            }
            out.push(c);
        }
        out
    };
    vec![
        (format!("{digits}.00"), true),
        (format!("{digits}.000"), true),
        (format!("{digits}.57"), true),
        (format!("{digits},00"), false),
        (grouped(','), false),
        (format!("{}.00", grouped(',')), false),
        (format!("{},00", grouped('.')), false),
        (grouped('.'), false),
        (grouped('\''), false),
    ]
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
        // Written as an amount is written, the digits are judged as a JSON number's are.
        if digits.len() >= DEFAULT_NUMBER_DIGITS_MIN {
            for (s, is_number) in amount_spellings(&digits) {
                for text in [
                    format!("{sign}{s}"),
                    format!("total {sign}{s} IDR"),
                    script(&s, '\u{ff10}', '\u{ff0e}'),
                ] {
                    prop_assert!(d.scan(&text).is_some(), "string {:?}", text);
                }
                if is_number {
                    let number = format!("{}{s}", if sign == "-" { "-" } else { "" });
                    prop_assert!(d.scan_number(&number).is_some(), "number {}", number);
                }
            }
        }
    }

    /// Amounts below the number threshold (10 integer digits) in every spelling, as strings
    /// and as numbers, and round amounts of any size (at most six significant digits) in every
    /// amount spelling, never fire; nor do shorter integers in a number leaf in any spelling.
    #[test]
    fn amounts_never_fire(
        amount in 0u64..10_000_000_000,
        cents in 0u32..100,
        round in 1u64..1_000_000,
        zeros in 0u32..13,
        sign in "(|-|\\+)",
    ) {
        let d = all();
        let big = round * 10u64.pow(zeros);
        let mut texts = Vec::new();
        for n in [amount, big] {
            let digits = n.to_string();
            texts.push((format!("{n}.{cents:02}"), n == amount));
            for (s, is_number) in amount_spellings(&digits) {
                // A real fraction of a round amount is not round; `.57` is tried on `amount`.
                if n == big && s.contains(".57") {
                    continue;
                }
                texts.push((s, is_number));
            }
        }
        for (s, is_number) in texts {
            for text in [format!("{sign}{s}"), format!("IDR {sign}{s}")] {
                prop_assert_eq!(d.scan(&text), None, "{:?}", text);
            }
            if is_number {
                let number = format!("{}{s}", if sign == "-" { "-" } else { "" });
                prop_assert_eq!(d.scan_number(&number), None, "{}", number);
            }
        }
        let short = (amount % 10_000_000_000).to_string();
        // Every digit run written in a number is judged too: a spelling that writes more
        // digits than the number has (`12345678900e-1`) is judged by what it writes.
        let written = |s: &str| {
            s.split(|c: char| !c.is_ascii_digit())
                .all(|r| r.len() < DEFAULT_NUMBER_DIGITS_MIN)
        };
        for s in spellings(&short).into_iter().filter(|s| written(s)) {
            prop_assert_eq!(d.scan_number(&s), None, "{}", s);
        }
    }
}
