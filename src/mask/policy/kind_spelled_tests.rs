//! The kinds that copy a string bound what the whole value spells, not each piece: digits cut
//! by letters, separators, dots or slashes are still the number a reader joins.
use super::{is_neutral_token, Kind, Leaf};

fn s(kind: &Kind, v: &str) -> bool {
    kind.fits(Leaf::Str(v))
}

#[test]
fn numbers_cut_into_pieces_fit_no_kind() {
    for v in [
        "cus_081234x567890",
        "nik-317300X000000X1234",
        "cus_4111x111111x1111x111",
        "ssn_123x45x6789",
        "budi-hartono_170590",
        "budi:hartono:081234",
        "cus_Ali1Vic2Tim3Son4",
        "cus_ab1cd2ef3gh4ij5kl6mn7",
    ] {
        assert!(!s(&Kind::Id, v), "id {v}");
        assert!(!is_neutral_token(v), "neutral {v}");
    }
    for v in ["cus_081234x567890", "NO_0812_3456_7890", "ssn_123x45x6789"] {
        assert!(!s(&Kind::Code, v), "code {v}");
    }
    for v in [
        "https://hooks.example.com/0812x3456x7890",
        "https://hooks.example.com/c/081234/567890",
        "https://hooks.example.com/0812/a/3456/a/7890",
        "https://hooks.example.com:8123/456789/0",
        "https://a0812.b3456.c7890.example.com/",
        "https://shop.example.com/webhooks/12345678",
    ] {
        assert!(!s(&Kind::Url, v), "url {v}");
    }
    for v in [
        "2024-12-06T03:53:52.123456789Z",
        "2024-12-06T03:53:52.1234567Z",
        "0812-03-04T05:06:07.890Z",
        "3173-12-30T00:00:00.001234Z",
        "1969-12-31T23:59:59Z",
        "2024-12-06T03:53:52.779+08:12",
        "2024-12-06T03:53:52.779+15:00",
    ] {
        assert!(!s(&Kind::Timestamp, v), "timestamp {v}");
    }
}

#[test]
fn documented_and_sandbox_values_still_fit() {
    for v in [
        "cus_N2fr",
        "cus_N2fr9",
        "REF-482913",
        "beneficiary_1",
        "api_access_key:AK_FINMO_SBX_07C5090*******************CCBC7F",
        "customer_00000000000000000000000000000001",
    ] {
        assert!(s(&Kind::Id, v), "id {v}");
    }
    for v in [
        "NOT_STARTED",
        "individual",
        "e164_v2",
        "BUDI_HARTONO_170590",
    ] {
        // The last: a name in one case with a six-digit stub is the stated residual.
        assert!(s(&Kind::Code, v), "code {v}");
    }
    for v in [
        "https://hooks.example.com/paycombat/1a2b3c4d",
        "https://hooks.example.com/paycombat/67d84b19d50b490a8fa75ab20bbf275a",
        "https://hooks.example.com/p/3f2b8c1e-9a4d-4e7b-8f00-1c2d3e4f5a6b",
        "http://127.0.0.1:8080/hook",
        "https://shop.example.com:8443/webhooks/v2/paycombat",
    ] {
        assert!(s(&Kind::Url, v), "url {v}");
    }
    for v in [
        "1970-01-01T00:00:00Z",
        "2099-12-31T23:59:60.999999Z",
        "2024-12-06T10:53:52+05:30",
        "2024-12-06T10:53:52+05:45",
        "2024-12-06T10:53:52-14:00",
        "2024-12-06T10:53:52.779+07:00",
    ] {
        assert!(s(&Kind::Timestamp, v), "timestamp {v}");
    }
}

mod props {
    use proptest::prelude::*;

    use super::super::{is_neutral_token, Kind, Leaf};

    /// A number of 7 to 19 digits (a phone, NIK, card, SSN or DOB written as digits).
    fn number() -> impl Strategy<Value = String> {
        "[1-9][0-9]{6,18}"
    }

    /// Cuts `digits` into pieces at `cuts` (positions taken modulo its length) and joins them
    /// with `glue`.
    fn cut(digits: &str, cuts: &[usize], glue: &str) -> String {
        let mut at: Vec<usize> = cuts.iter().map(|c| 1 + c % (digits.len() - 1)).collect();
        at.sort_unstable();
        at.dedup();
        let mut out = String::new();
        let mut from = 0;
        for i in at {
            out.push_str(&digits[from..i]);
            out.push_str(glue);
            from = i;
        }
        out.push_str(&digits[from..]);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The class of finding 21g-1: a number of 7 or more digits, cut into pieces by any
        /// letters or separators, behind any prefix, fits no `id`, `code` or `url`, and is no
        /// neutral token under a role word.
        #[test]
        fn a_number_cut_anywhere_fits_no_kind(
            n in number(),
            cuts in proptest::collection::vec(0usize..32, 1..5),
            glue in prop_oneof!["[a-zA-Z]", "[_:-]", Just("/".to_owned()), Just(".".to_owned())],
            prefix in prop_oneof!["[a-z]{1,8}", "[A-Z]{1,8}", "[a-z]{2,6}[-_][a-z]{2,6}"],
            sep in "[_:-]",
        ) {
            let body = cut(&n, &cuts, &glue);
            let token = format!("{prefix}{sep}{body}");
            prop_assert!(!Kind::Id.fits(Leaf::Str(&token)), "id {token}");
            prop_assert!(!Kind::Code.fits(Leaf::Str(&token)), "code {token}");
            prop_assert!(!is_neutral_token(&token), "neutral {token}");
            for url in [
                format!("https://hooks.example.com/{prefix}/{body}"),
                format!("https://{}.example.com/", body.replace(['/', '_', ':'], ".")),
                format!("https://hooks.example.com/{}", body.replace(['.', ':'], "/")),
            ] {
                prop_assert!(!Kind::Url.fits(Leaf::Str(&url)), "url {url}");
            }
        }

        /// And the other side: random base62 and short references after one word, sandbox
        /// tokens and timestamps a clock writes fit.
        #[test]
        fn machine_values_fit(
            word in prop_oneof!["[a-z]{1,12}", "[A-Z]{1,12}"],
            b62 in "([a-z]{2,3}|[A-Z]{2,3})[0-9]{1,2}([a-z]{1,3}|[A-Z]{1,3})[0-9]{0,2}",
            reference in "[0-9]{1,6}",
            token in "[0-9a-f]{32}",
            y in 1970u32..=2099,
            frac in "(\\.[0-9]{1,6})?",
            off in prop_oneof![
                Just("Z".to_owned()),
                "[+-](0[0-9]|1[0-4]):(00|30|45)",
            ],
        ) {
            for id in [format!("{word}_{b62}"), format!("{word}-{reference}")] {
                prop_assert!(Kind::Id.fits(Leaf::Str(&id)), "id {id}");
            }
            let url = format!("https://hooks.example.com/paycombat/{token}");
            prop_assert!(Kind::Url.fits(Leaf::Str(&url)), "url {url}");
            let ts = format!("{y}-12-06T03:53:52{frac}{off}");
            prop_assert!(Kind::Timestamp.fits(Leaf::Str(&ts)), "timestamp {ts}");
        }
    }
}
