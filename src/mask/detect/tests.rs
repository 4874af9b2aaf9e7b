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
