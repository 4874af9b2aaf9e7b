//! Through the walk, on a shipped `report` family: a long integer in any spelling, as a string
//! leaf or a number leaf under a key nothing names, is masked; the amounts, rates and
//! timestamps beside it come back byte for byte.

use proptest::prelude::*;

use super::default_masker;
use crate::mask::policy::PolicyFamily;

/// The non-personal fields every generated document carries, and must keep as they are.
/// (A 13-digit Unix-ms value is a clock only where a declaration says so: see
/// `undeclared_millis_and_fractions_are_judged_as_numbers`.)
const KEPT: &str = r#""amount":"10000.00","fee":1.5,"total":10000.00,"rate":0.25,"created_at":"2024-12-06T03:53:52.779Z","qty":150000"#;

fn masked(body: &str) -> String {
    let out = default_masker()
        .mask_for(body.as_bytes(), PolicyFamily::Payin)
        .expect("maskable");
    String::from_utf8(out.body.to_vec()).expect("utf-8")
}

#[test]
fn the_issues_spellings_are_masked_and_amounts_kept() {
    for leaf in [
        r#""6.281234567890E12""#,
        r#""6281234567890.0""#,
        r#""+62 812 - 3456 - 7890""#,
        r#""62.812.3456.7890""#,
        r#""６２８１２３４５６７８９０．０""#,
        "6281234567890.0",
        "6.28123456789e12",
        "-6.281234567890E+12",
    ] {
        let body = format!(r#"{{"ref_x":{leaf},{KEPT}}}"#);
        let out = masked(&body);
        assert!(!out.contains(leaf), "{leaf} left in {out}");
        assert!(out.ends_with(&format!("{KEPT}}}")), "{out}");
    }
}

/// An undeclared 13-digit value in the Unix-ms range is an identifier (an account number may
/// fall there), as a number and as a string; a fraction hides nothing either.
#[test]
fn undeclared_millis_and_fractions_are_judged_as_numbers() {
    for leaf in [
        "1560012303306",
        r#""1560012303305""#,
        "0.6281234503301",
        "6.281234503302e-1",
        "3173000000003308e-400",
    ] {
        let body = format!(r#"{{"created_ms":{leaf},{KEPT}}}"#);
        let out = masked(&body);
        assert!(!out.contains(leaf), "{leaf} left in {out}");
        assert!(out.ends_with(&format!("{KEPT}}}")), "{out}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn long_integers_in_any_spelling_are_masked(
        head in "[1-9][0-9]{9}[1-9]",
        tail in "[0-9]{0,6}",
        form in 0usize..4,
        as_string in any::<bool>(),
    ) {
        let digits = format!("{head}{tail}");
        let n = digits.len();
        let numeral = match form {
            0 => digits.clone(),
            1 => format!("{digits}.0"),
            2 => format!("{}.{}e{}", &digits[..1], &digits[1..], n - 1),
            _ => format!("{}.{}E+{}", &digits[..3], &digits[3..], n - 3),
        };
        let leaf = if as_string { format!("\"{numeral}\"") } else { numeral.clone() };
        let out = masked(&format!(r#"{{"note":{leaf},{KEPT}}}"#));
        prop_assert!(!out.contains(&numeral), "{} left in {}", numeral, out);
        prop_assert!(!out.contains(&head), "{} left in {}", head, out);
        prop_assert!(out.ends_with(&format!("{KEPT}}}")), "{}", out);
    }
}
