//! Property: the joint scan answers what the two passes it replaces answered.

use proptest::prelude::*;

use crate::mask::detect::{any_text_reading, Detector, Detectors};
use crate::mask::policy::KeyWords;

fn words() -> KeyWords {
    KeyWords::new(["name", "email", "address", "phone", "nama", "dob"])
}

/// Strings built from pieces that trigger every reading and every check: labels,
/// separators, encoded forms (percent, HTML, base64, hex), emails, digit runs.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("name=".to_owned()),
        Just("\"email\":".to_owned()),
        Just("Customer name: ".to_owned()),
        Just("%40".to_owned()),
        Just("%25".to_owned()),
        Just("&#64;".to_owned()),
        Just("\\u0040".to_owned()),
        Just("bmFtZT1BbGljZQ==".to_owned()),
        Just("ZW1haWw6YWxpY2VAZXhhbXBsZS5jb20".to_owned()),
        Just("6e616d653d416c696365".to_owned()),
        Just("alice@example.com".to_owned()),
        Just("081234567890".to_owned()),
        Just("4111111111111111".to_owned()),
        Just("GB82WEST12345698765432".to_owned()),
        Just("\r\n".to_owned()),
        "[a-zA-Z0-9_+/=:&%@. -]{0,24}",
        "\\PC{0,6}",
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn two_passes(d: &Detectors, w: &KeyWords, s: &str) -> (Option<Detector>, bool) {
    let detected = d.scan(s);
    let labelled = detected.is_none() && any_text_reading(s, |t| w.labels_personal(t));
    (detected, labelled)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn joint_scan_equals_scan_then_labels(s in text()) {
        let w = words();
        for d in [Detectors::default(), Detectors::none(), Detectors::new(&[Detector::Email], 7, 11)] {
            prop_assert_eq!(
                d.scan_labelled(&s, |t| w.labels_personal(t)),
                two_passes(&d, &w, &s),
                "{:?}", s
            );
        }
    }
}

#[test]
fn joint_scan_on_known_cases() {
    let w = words();
    let d = Detectors::default();
    for s in [
        "",
        "kim",
        "alice@example.com",
        "name=Alice",
        "bmFtZT1BbGljZQ==",
        "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "2024-12-06T03:53:52.779Z",
        "name=Alice alice@example.com",
    ] {
        assert_eq!(
            d.scan_labelled(s, |t| w.labels_personal(t)),
            two_passes(&d, &w, s),
            "{s}"
        );
    }
}
