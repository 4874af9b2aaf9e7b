//! The number a numeral spells across its decimal point: integer and fraction digits are read
//! together when the fraction is longer than an amount's (5 digits or more: see
//! [`super::numeral`]), so a card, NIK or phone written as an amount (`4111111111.111111`,
//! `317300000.0001234`, `0812.34567890`) fires, in a string and as a JSON number, while
//! amounts, crypto amounts and rates do not. A fraction of 2 to 4 digits is an amount's shape
//! and is not joined (`81234567.890` passes: the README's stated residual).

use proptest::prelude::*;

use super::{Detector, Detectors};

#[test]
fn numbers_split_by_a_point_fire() {
    let d = Detectors::default();
    for v in [
        "4111111111.111111",
        "317300000.0001234",
        "3173000000.001234",
        "0812.34567890",
        "8123456.78901",
    ] {
        assert!(d.scan(v).is_some(), "string {v}");
        assert!(d.scan(&format!("nominal {v} IDR")).is_some(), "in text {v}");
        assert!(d.scan_number(v).is_some(), "number {v}");
    }
    assert_eq!(d.scan_number("4111111111.111111"), Some(Detector::Card));
}

#[test]
fn amounts_and_rates_do_not() {
    let d = Detectors::default();
    for v in [
        "150000.00",
        "1500000000.00",
        "9999999999.99",
        "0.00012345",
        "12.34567890",
        "15634.1234",
        "1234.567890",
        "0.5",
        "1500000.000",
        // A fraction of 2 to 4 digits is an amount's, whatever the digits spell.
        "81234567.890",
        "1234567890.1234",
        "1234567.00000",
    ] {
        assert!(d.scan(v).is_none(), "string {v}");
        assert!(d.scan_number(v).is_none(), "number {v}");
    }
}

/// Where the point goes in `digits`: the fraction keeps at least 5 of them, the integer part
/// at least one.
fn with_point(digits: &str, at: usize) -> String {
    let cut = 1 + at % (digits.len() - 5);
    format!("{}.{}", &digits[..cut], &digits[cut..])
}

/// An amount a payment answer carries: two decimals and up to 10 integer digits, a rupiah
/// integer, an 8-decimal crypto amount, a rate, a three- or four-decimal amount: 10 digits in
/// all at most, or up to four decimals.
fn amount() -> impl Strategy<Value = String> {
    prop_oneof![
        "[1-9][0-9]{0,9}\\.[0-9]{2}",
        "[1-9][0-9]{0,9}",
        "0\\.[0-9]{8}",
        "[1-9][0-9]?\\.[0-9]{8}",
        "[1-9][0-9]{0,4}\\.[0-9]{1,5}",
        "[1-9][0-9]{0,3}\\.[0-9]{6}",
        "[1-9][0-9]{0,9}\\.[0-9]{3,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The class of finding 21g-3: a number of 11 to 19 digits (a phone without its leading
    /// zero, a NIK, a card; at least 7 of them significant) with a point placed anywhere that
    /// leaves 5 or more fraction digits fires, as a string, in text and as a JSON number.
    #[test]
    fn a_point_anywhere_in_a_number_hides_nothing(
        digits in "[1-9][0-9]{6}[0-9]{4,12}",
        at in 0usize..64,
        minus in any::<bool>(),
    ) {
        let v = format!("{}{}", if minus { "-" } else { "" }, with_point(&digits, at));
        let d = Detectors::default();
        prop_assert!(d.scan(&v).is_some(), "string {v}");
        prop_assert!(d.scan(&format!("paid {v} ok")).is_some(), "text {v}");
        prop_assert!(d.scan_number(&v).is_some(), "number {v}");
    }

    /// The other side: no amount, crypto amount or rate fires, as a JSON number or as a
    /// string (a plain integer string of 7+ digits is a digit run by design, so strings are
    /// checked with a point only).
    #[test]
    fn amounts_with_a_point_never_fire(v in amount(), minus in any::<bool>()) {
        let v = format!("{}{v}", if minus { "-" } else { "" });
        let d = Detectors::default();
        prop_assert!(d.scan_number(&v).is_none(), "number {v}");
        if v.contains('.') {
            prop_assert!(d.scan(&v).is_none(), "string {v}");
        }
    }
}
