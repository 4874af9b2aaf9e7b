//! The kinds' grammars: documented values fit, what a person writes does not.
use super::{Kind, Leaf};

fn s(kind: &Kind, v: &str) -> bool {
    kind.fits(Leaf::Str(v))
}

#[test]
fn documented_values_fit_their_kinds() {
    for id in [
        "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "org_59b8fb2f52254f95ac54d0e140f4e429",
        "api_access_key:AK_FINMO_SBX_07C5090*******************CCBC7F",
        "REF-482913",
        "3f2b8c1e-9a4d-4e7b-8f00-1c2d3e4f5a6b",
    ] {
        assert!(s(&Kind::Id, id), "{id}");
    }
    for t in [
        "2024-12-06T03:53:52.779Z",
        "2024-12-19T10:55:31Z",
        "2024-12-06T10:53:52+07:00",
    ] {
        assert!(s(&Kind::Timestamp, t), "{t}");
    }
    for c in ["individual", "company", "NOT_STARTED", "OK"] {
        assert!(s(&Kind::Code, c), "{c}");
    }
    for f in ["individual.first_name", "company.authorized_user.dob"] {
        assert!(s(&Kind::Field, f), "{f}");
    }
    assert!(s(
        &Kind::Url,
        "https://hooks.example.com/paycombat/1a2b3c4d"
    ));
    assert!(s(&Kind::Url, "http://127.0.0.1:8080/hook"));
    assert!(Kind::Flag.fits(Leaf::Bool));
    for n in ["0", "10", "200", "999999"] {
        assert!(Kind::Count.fits(Leaf::Number(n)), "{n}");
    }
    for a in ["150000.00", "0.5", "-12", "1234567890.12345678"] {
        assert!(Kind::Amount.fits(Leaf::Str(a)), "{a}");
        assert!(Kind::Amount.fits(Leaf::Number(a)), "{a}");
    }
}

#[test]
fn what_a_person_writes_fits_no_kind() {
    let person = [
        "Alice Victimson",
        "Jalan Melati 42, Jakarta",
        "1990-05-17",
        "1990-05-17 born Declborn",
        "081234567890",
        "+6281234567890",
        "3173000000001234",
        "Alice",
        "victim@example.com",
        "VIP: Alice",
        "",
    ];
    for kind in [
        Kind::Id,
        Kind::Timestamp,
        Kind::Code,
        Kind::Field,
        Kind::Url,
        Kind::Count,
        Kind::Amount,
        Kind::Personal,
    ] {
        for v in person {
            // `Alice` is one token of one case in `field` (lower-case only) and `code`
            // only when written in one case: the mixed-case spelling fits neither.
            assert!(!s(&kind, v), "{} accepts {v:?}", kind.name());
            assert!(!kind.fits(Leaf::Number(v)) || kind == Kind::Amount, "{v}");
        }
    }
    assert!(!Kind::Flag.fits(Leaf::Str("true")));
    assert!(!Kind::Count.fits(Leaf::Number("081234567890")));
    assert!(!Kind::Count.fits(Leaf::Number("1.5")));
    assert!(!Kind::Amount.fits(Leaf::Number("6281234567890")));
    assert!(!Kind::Amount.fits(Leaf::Str("0812345678")));
    assert!(!s(&Kind::Url, "https://user:pw@example.com/"));
    assert!(!s(&Kind::Url, "https://example.com/?email=a%40b.c"));
    assert!(!s(&Kind::Timestamp, "2024-13-06T03:53:52Z"));
    assert!(!s(&Kind::Personal, "anything"));
}

/// Issue 21, attack21f findings 1 and 14: identity numbers, phones, cards, SSNs, dates of
/// birth, names and addresses written as one token fit no kind that copies a string.
#[test]
fn identity_values_glued_into_tokens_fit_no_kind() {
    for v in [
        "x081234567890",
        "nik3173000000001234",
        "nik_3173000000001234",
        "4111111111111111x",
        "card-4111111111111111",
        "AB-123-45-6789",
        "alice_victimson_17051990",
        "Alice-Victimson-1",
        "jalan-melati-42-jakarta",
        "Budi_Hartono_081234567890",
        "umar_Handlesnake1990",
        "AliceVictimson1",
        "citra-handleaddr-jl-melati-42",
        "customer_081234567890",
        "x0",
    ] {
        assert!(!s(&Kind::Id, v), "id {v}");
    }
    for v in [
        "no_081299112233",
        "individual.nik_3173000000009876",
        "dob_17051990",
        "phone62812",
    ] {
        assert!(!s(&Kind::Field, v), "field {v}");
    }
    for v in ["NO_081299112233", "nik3173000000009876", "ref_19900517"] {
        assert!(!s(&Kind::Code, v), "code {v}");
    }
    for n in ["123456789", "19900517", "1000000"] {
        assert!(!Kind::Count.fits(Leaf::Number(n)), "count {n}");
    }
    // A flag is never an array's element; other kinds are, where declared `key[]`.
    assert!(!Kind::Flag.fits_item(Leaf::Bool));
    assert!(Kind::Id.fits_item(Leaf::Str("customer_67d84b19d50b490a8fa75ab20bbf275a")));
}

/// A URL's parts are what the detectors read one by one: host labels, path segments and the
/// pieces of a segment.
#[test]
fn url_parts_are_labels_segments_and_pieces() {
    assert_eq!(
        super::url_parts("https://a.example.com:8443/p/hook-6281299887766/YWxp"),
        [
            "a",
            "example",
            "com",
            "p",
            "hook-6281299887766",
            "hook",
            "6281299887766",
            "YWxp"
        ]
    );
}

mod props {
    use proptest::prelude::*;

    use super::super::{glued_number, is_neutral_token, url_parts, Kind, Leaf};
    use crate::mask::detect::Detectors;

    /// A value a person owns: a phone, an identity or card number, an SSN, a date of birth
    /// written as digits, a capitalised name.
    fn personal() -> impl Strategy<Value = String> {
        prop_oneof![
            "0[1-9][0-9]{9,11}",
            "62[1-9][0-9]{9,10}",
            "[1-9][0-9]{15}",
            "4[0-9]{15,18}",
            // An SSN as issued: area 001-899, group 01-99, serial 0001-9999 (`000-00-0001` is
            // the count 1 by its digits, and no one's number).
            "(00[1-9]|0[1-9][0-9]|[1-8][0-9]{2})-(0[1-9]|[1-9][0-9])-(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})",
            "(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9])",
            "(0[1-9]|[12][0-9])(0[1-9]|1[0-2])(19|20)[0-9]{2}",
            "[A-Z][a-z]{2,8}[_.-][A-Z][a-z]{2,8}",
            "[A-Z][a-z]{3,8}",
        ]
    }

    /// What frames a token in ids and references.
    fn word() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z]{1,8}", "[A-Z]{1,8}"]
    }

    fn sep() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[_:-]"]
    }

    /// Real values of each kind, from the fixtures and the sandbox.
    fn real_id() -> impl Strategy<Value = String> {
        prop_oneof![
            "(customer|org|payin|payout|beneficiary)_[0-9a-f]{32}",
            "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
            "REF-[0-9]{6}",
            "api_access_key:AK_FINMO_SBX_[0-9A-F]{7}\\*{19}[0-9A-F]{6}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The class of findings 1, 5 and 14: a personal value embedded at any position of a
        /// token (before, after or between framing words, with or without a separator) fits
        /// neither `id`, `code` nor `field`, nor is it neutral under a role word; as a number
        /// it is no `count`; as a URL's path segment or host label a detector reads it.
        #[test]
        fn personal_values_embedded_in_a_kind_never_fit(
            v in personal(),
            a in word(),
            b in word(),
            s1 in sep(),
            s2 in sep(),
            at in 0usize..4,
        ) {
            let token = match at {
                0 => format!("{a}{s1}{v}"),
                1 => format!("{v}{s1}{a}"),
                2 => format!("{a}{s1}{v}{s2}{b}"),
                _ => v.clone(),
            };
            prop_assert!(!Kind::Id.fits(Leaf::Str(&token)), "id {token}");
            // Under a role word the detectors run first; what they pass must not be neutral.
            let d = Detectors::default();
            prop_assert!(
                !is_neutral_token(&token) || d.scan(&token).is_some(),
                "neutral {token}"
            );
            // A lower-case name spelled as a field path is the stated residual of `field`.
            if v.chars().any(|c| c.is_ascii_digit()) {
                let lower = token.to_ascii_lowercase().replace(['-', ':'], "_");
                prop_assert!(!Kind::Field.fits(Leaf::Str(&lower)), "field {lower}");
            }
            let digits: String = v.chars().filter(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                prop_assert!(!Kind::Count.fits(Leaf::Number(digits.trim_start_matches('0'))), "count {digits}");
                prop_assert!(!Kind::Code.fits(Leaf::Str(&format!("{a}{v}"))), "code {a}{v}");
                for url in [
                    format!("https://hooks.example.com/{a}/{token}"),
                    format!("https://hooks.example.com/{a}-{digits}"),
                ] {
                    let parts = url_parts(&url);
                    prop_assert!(
                        parts.iter().any(|p| d.scan(p).is_some() || glued_number(p, 7)),
                        "url {url}"
                    );
                }
            }
        }

        /// The other side: the ids, counts, field paths, URLs and timestamps paycombat and the
        /// sandbox write fit their kinds, and no detector fires on a URL's parts.
        #[test]
        fn real_values_fit_their_kinds(
            id in real_id(),
            n in 0u32..=999_999,
            // The sandbox's webhook token: 32 hex digits, opaque (the `url` kind bounds the
            // digits a URL spells outside such a token).
            hex in "[0-9a-f]{32}",
            field in "(company\\.authorized_user\\.|company\\.|individual\\.)?(first_name|dob|address_line1|address_zip_code|phone_number|identification_value|registration_number)",
            ts in "20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\\.[0-9]{3}Z",
        ) {
            prop_assert!(Kind::Id.fits(Leaf::Str(&id)), "{id}");
            prop_assert!(is_neutral_token(&id), "{id}");
            let count = n.to_string();
            prop_assert!(Kind::Count.fits(Leaf::Number(&count)));
            prop_assert!(Kind::Field.fits(Leaf::Str(&field)), "{field}");
            prop_assert!(Kind::Timestamp.fits(Leaf::Str(&ts)), "{ts}");
            let url = format!("https://hooks.example.com/paycombat/{hex}");
            prop_assert!(Kind::Url.fits(Leaf::Str(&url)));
            let d = Detectors::default();
            prop_assert!(
                url_parts(&url).iter().all(|p| d.scan(p).is_none() && !glued_number(p, 7)),
                "{url}"
            );
        }
    }
}
