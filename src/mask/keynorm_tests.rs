use super::*;
use proptest::prelude::*;

#[test]
fn client_spellings_fold_onto_rule_names() {
    for (raw, want) in [
        ("email", "email"),
        ("EMAIL", "email"),
        ("email ", "email"),
        ("\u{feff}email", "email"),
        ("email\u{0}", "email"),
        ("e\u{200d}ma\u{200b}il", "email"),
        ("ｅｍａｉｌ", "email"),
        ("la\u{17f}t_name", "lastname"),
        ("La\u{17f}tName", "lastname"),
        ("last-name", "lastname"),
        ("LAST_NAME", "lastname"),
        ("\u{17f}ort_code", "sortcode"),
        ("SortCode", "sortcode"),
        ("\u{212a}tp", "ktp"),
        (" _ email _ ", "email"),
        ("ｓｏｒｔ＿ｃｏｄｅ", "sortcode"),
        ("stra\u{df}e", "strasse"),
        // Every character that is no letter or digit separates; combining marks are dropped.
        ("e.mail", "email"),
        ("e mail", "email"),
        ("first name", "firstname"),
        ("phone.number", "phonenumber"),
        ("e\u{301}mail", "email"),
        ("\u{e9}mail", "email"),
        ("na\u{308}me", "name"),
        ("E\u{301}.MAIL", "email"),
        ("e/mail:", "email"),
        ("[email]", "email"),
    ] {
        assert_eq!(fold_key(raw), want, "{raw:?}");
        assert!(folds_to(raw, want), "folds_to {raw:?}");
    }
}

#[test]
fn folded_ascii_is_borrowed() {
    assert!(matches!(fold_key("email"), Cow::Borrowed(_)));
    assert!(matches!(fold_key("lastname1"), Cow::Borrowed(_)));
    assert!(matches!(fold_key("last_name"), Cow::Owned(_)));
}

#[test]
fn words_split_on_separators_and_case() {
    assert_eq!(key_words("last_name"), ["last", "name"]);
    assert_eq!(key_words("lastName"), ["last", "name"]);
    assert_eq!(key_words("IBANNumber"), ["iban", "number"]);
    assert_eq!(key_words("AddressLine1"), ["address", "line", "1"]);
    assert_eq!(key_words("date-of birth"), ["date", "of", "birth"]);
    assert_eq!(key_words("La\u{17f}tName"), ["last", "name"]);
    assert_eq!(key_words("e\u{200d}mail"), ["email"]);
    assert_eq!(key_words("ｅｍａｉｌ_ａｄｄｒｅｓｓ"), ["email", "address"]);
    assert_eq!(key_words("e\u{301}mail"), ["email"]);
    assert_eq!(key_words("na\u{308}me.first"), ["name", "first"]);
    assert_eq!(key_words("phone.number"), ["phone", "number"]);
}

#[test]
fn plain_field_names_are_what_a_client_reads_as_one() {
    for k in [
        "email",
        "first_name",
        "ｅｍａｉｌ",
        "email ",
        "\u{feff}email",
        "last-name",
    ] {
        assert!(is_plain_field_name(k), "{k:?}");
    }
    for k in [
        "first name",
        "e.mail",
        "customer_name:Alice",
        "",
        "na\u{308}me",
    ] {
        assert!(!is_plain_field_name(k), "{k:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Folding is idempotent, so a stored name and a folded key compare equal exactly when
    /// they fold alike.
    #[test]
    fn fold_is_idempotent(raw in "\\PC{0,12}") {
        let once = fold_key(&raw).into_owned();
        prop_assert_eq!(fold_key(&once), once.as_str());
    }

    /// `fold_key_into` is `fold_key`, with a reused buffer.
    #[test]
    fn fold_into_agrees(raw in "[ a-zA-Z_\\-\\x00\\t]{0,10}|\\PC{0,8}", junk in "\\PC{0,8}") {
        let mut buf = junk;
        let into = fold_key_into(&raw, &mut buf).to_owned();
        prop_assert_eq!(into, fold_key(&raw).into_owned());
    }

    /// `folds_to` agrees with comparing folds.
    #[test]
    fn folds_to_agrees(raw in "[ a-zA-Z_\\-\\x00\\t]{0,10}", other in "[a-z]{0,6}") {
        let folded = fold_key(&raw).into_owned();
        prop_assert!(folds_to(&raw, &folded));
        prop_assert_eq!(folds_to(&raw, &other), folded == other);
    }

    /// Whatever a client inserts that it ignores (case, separators, invisible characters,
    /// surrounding spaces, full-width forms) does not change the fold.
    #[test]
    fn disguises_do_not_change_the_fold(
        name in "[a-z]{1,8}(_[a-z]{1,8}){0,2}",
        case in proptest::collection::vec(any::<bool>(), 30),
        invisible in proptest::sample::select(vec!['\u{200b}', '\u{200d}', '\u{feff}', '\u{ad}', '\u{0}', '\u{2060}']),
        at in 0usize..30,
        wide in any::<bool>(),
        pad in proptest::sample::select(vec!["", " ", "\u{a0}", "\u{3000}", "\t"]),
    ) {
        let mut s: String = name
            .chars()
            .zip(case.iter().cycle())
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
            .map(|c| if wide && c.is_ascii_alphabetic() {
                char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)
            } else { c })
            .collect();
        let pos = s.char_indices().map(|(i, _)| i).nth(at % (name.len() + 1)).unwrap_or(s.len());
        s.insert(pos, invisible);
        let s = format!("{pad}{s}{pad}");
        prop_assert_eq!(fold_key(&s), fold_key(&name));
    }
}

/// Finding 12: an upper-case run before a lower-case word is read both ways (`IBAN|Number`,
/// `KTP|no`), and every check judges both readings.
#[test]
fn acronym_boundaries_are_read_both_ways() {
    use super::{prepare_words, word_readings};
    let r = |k: &str| -> Vec<Vec<String>> {
        let p = prepare_words(k);
        word_readings(&p)
            .into_iter()
            .map(|ws| ws.into_iter().map(str::to_ascii_lowercase).collect())
            .collect()
    };
    assert_eq!(r("KTPno")[1], ["ktp", "no"]);
    assert_eq!(r("DOBdate")[1], ["dob", "date"]);
    assert_eq!(r("IBANNumber")[0], ["iban", "number"]);
    assert_eq!(r("lastName").len(), 1);
    assert_eq!(r("HPnumber")[1], ["hp", "number"]);
}

/// The one predicate of the listing and the `report` walk: plain field names keep their
/// keys (currency codes, ids, dates, status words), anything else is `<key>`.
#[test]
fn listed_keys_are_plain_field_names() {
    use super::is_listed_key;
    for k in ["IDR", "cus_N2fr", "2024-12-06", "PAID", "first_name", "x-y"] {
        assert!(is_listed_key(k), "{k}");
    }
    for k in [
        "Budi Hartono",
        "alice.victimson",
        "Citra, Jl Melati 42",
        "",
        "10:00",
        "ｅｍａｉｌ",
        &"k".repeat(65),
    ] {
        assert!(!is_listed_key(k), "{k}");
    }
}
