use super::*;
use crate::mask::detect::Detectors;

fn words() -> KeyWords {
    KeyWords::new([
        "name", "address", "birth", "dob", "phone", "mobile", "msisdn", "email", "account", "iban",
        "nik", "ktp", "passport",
    ])
}

#[test]
fn personal_keys_by_word() {
    let w = words();
    for k in [
        "last_name",
        "LastName",
        "firstname",
        "address_line1",
        "AddressLine1",
        "date_of_birth",
        "dateOfBirth",
        "dob",
        "phone",
        "mobile",
        "msisdn",
        "contactEmail",
        "IBANNumber",
        "bank_account_number",
        "nik",
        "KTP",
        "passportNo",
        "la\u{17f}tName",
        "ｅｍａｉｌ",
        "e\u{200d}mail",
    ] {
        assert!(w.is_personal_key(k), "{k:?}");
    }
}

#[test]
fn payment_keys_are_not_personal() {
    let w = words();
    for k in [
        "customer_id",
        "org_id",
        "type",
        "status",
        "amount",
        "currency",
        "reference",
        "created_at",
        "updated_at",
        "is_active",
        "missing_field",
        "gca_activation_status",
        "organization_reference_id",
        "unique_id",
        "technique",
        "description",
        "message",
    ] {
        assert!(!w.is_personal_key(k), "{k:?}");
    }
}

#[test]
fn declared_paths_match_exactly_and_arrays_are_transparent() {
    let mut d = DeclaredPaths::default();
    assert!(d.insert("data.customer_id", Kind::Id));
    assert!(d.insert("data.items[].id", Kind::Id));
    assert!(!d.insert("data.customer_id", Kind::Text));
    assert_eq!(
        d.kind(
            d.child(d.child(d.root(), "data").unwrap(), "customer_id")
                .unwrap()
        ),
        Some(&Kind::Id)
    );
    let data = d.child(d.root(), "data").expect("data");
    assert!(!d.is_declared(data));
    let id = d.child(data, "customer_id").expect("customer_id");
    assert!(d.is_declared(id));
    assert!(d.child(data, "Customer_Id").is_none());
    assert!(d.child(data, "customer_id\u{200d}").is_none());
    let items = d.child(data, "items").expect("items");
    assert!(d.is_declared(d.child(items, "id").expect("id")));
}

#[test]
fn decide_table() {
    let p = FieldPolicy {
        family: PolicyFamily::Payin,
        mode: Mode::Report,
        declared: DeclaredPaths::default(),
    };
    let redact = Strategy::Redact;
    assert_eq!(p.decide(LeafFacts::default(), redact), Verdict::Keep);
    let e = FieldPolicy {
        mode: Mode::Enforce,
        ..p.clone()
    };
    assert_eq!(
        e.decide(LeafFacts::default(), redact),
        Verdict::Mask(redact)
    );
    let declared = LeafFacts {
        declared: true,
        ..LeafFacts::default()
    };
    assert_eq!(e.decide(declared, redact), Verdict::Keep);
    let declared_but_email = LeafFacts {
        detected: Some(Detector::Email),
        ..declared
    };
    assert_eq!(e.decide(declared_but_email, redact), Verdict::Mask(redact));
    let worded = LeafFacts {
        personal_key: true,
        ..LeafFacts::default()
    };
    assert_eq!(p.decide(worded, redact), Verdict::Mask(redact));
    // A declared leaf whose value does not fit its kind is masked in both modes.
    let misfit = LeafFacts {
        misfit: true,
        ..LeafFacts::default()
    };
    assert_eq!(p.decide(misfit, redact), Verdict::Mask(redact));
    assert_eq!(e.decide(misfit, redact), Verdict::Mask(redact));
    assert_eq!(misfit.reason(Mode::Report), Some(MaskReason::Kind));
}

#[test]
fn undeclared_is_bounded_and_lists_placeholders() {
    let u = Undeclared::new(2);
    let det = Detectors::default();
    let mut path = String::new();
    let back = push_segment(&mut path, &det, "data");
    assert_eq!(back, 0);
    let b2 = push_segment(&mut path, &det, "alice@example.com");
    assert_eq!(path, "data.<email>");
    u.record(PolicyFamily::Payin, &path);
    path.truncate(b2);
    push_segment(&mut path, &det, "Alice Victimson");
    assert_eq!(path, "data.<key>");
    u.record(PolicyFamily::Payin, &path);
    u.record(PolicyFamily::Payin, "data.third");
    u.record(PolicyFamily::Payin, "data.<email>");
    let l = u.listing();
    let payin = &l.families[PolicyFamily::Payin.index()];
    assert_eq!(payin.family, "payin");
    assert_eq!(payin.paths[0], ("data.<email>".to_owned(), 2));
    assert_eq!(payin.paths.len(), 2);
    assert_eq!(payin.overflow, 1);
}

#[test]
fn families_cover_routes() {
    use http::Method;
    let r = Route::classify(&Method::GET, "/api/v1/customer/customer/c1");
    assert_eq!(PolicyFamily::of(&r), PolicyFamily::CustomerDetail);
    let r = Route::classify(&Method::GET, "/api/v1/payout/beneficiary/x");
    assert_eq!(PolicyFamily::of(&r), PolicyFamily::Beneficiary);
    for f in PolicyFamily::ALL {
        assert_eq!(PolicyFamily::from_label(f.label()), Some(f));
        assert_eq!(PolicyFamily::ALL[f.index()], f);
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The allocation-free ASCII path of `is_personal_key` agrees with the definition:
        /// some word of `key_words` is a vocabulary word, or has one of 4+ letters as prefix or
        /// suffix, or is a number prefix (`no`, `nomor`, `num`, `nr`) glued to a vocabulary
        /// word; where the words are those of `key_words` and each run of letters and digits
        /// as one word (a case change does not cut a vocabulary word: `EMAILa`); or the whole
        /// key after the key fold equals one, bare or number-prefixed (`na_me`).
        #[test]
        fn personal_key_agrees_with_key_words(
            key in "[a-zA-Z_ -]{0,6}(no|Nomor|name|Name|EMAIL|dob|Phone|x|id|Amount|KTP|nm|addr|Addr|brth){0,2}[a-zA-Z0-9_]{0,6}",
        ) {
            let w = words();
            let vocab: Vec<&str> = w.words().collect();
            let derived = super::super::abbrev::Derived::new(vocab.iter().map(|v| (*v, false)));
            let numbers = ["nomor", "num", "no", "nr"];
            // A word with a number word glued before it, or after it (two letters of rest).
            let unnumbered = |word: &str| -> Option<String> {
                numbers
                    .iter()
                    .find_map(|p| word.strip_prefix(p).filter(|r| !r.is_empty()))
                    .or_else(|| {
                        super::super::abbrev::NUMBER_WORDS
                            .iter()
                            .find_map(|n| word.strip_suffix(n).filter(|r| r.len() >= 2))
                    })
                    .map(str::to_owned)
            };
            let runs = key
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|r| !r.is_empty())
                .map(str::to_ascii_lowercase);
            let whole = crate::mask::keynorm::fold_key(&key).into_owned();
            let whole_numbered = numbers
                .iter()
                .find_map(|p| whole.strip_prefix(p).filter(|r| !r.is_empty()));
            let whole_personal = vocab
                .iter()
                .any(|v| whole == *v || whole_numbered == Some(*v));
            // Every reading of the case boundaries, its words and its glued runs of 2–4 words.
            let mut words_seen: Vec<String> = Vec::new();
            for reading in crate::mask::keynorm::word_readings(&key) {
                let folded: Vec<String> = reading.iter().map(|x| x.to_ascii_lowercase()).collect();
                words_seen.extend(folded.iter().cloned());
                for i in 0..folded.len() {
                    let mut run = String::new();
                    for (j, x) in folded.iter().enumerate().skip(i).take(4) {
                        if x.bytes().any(|b| b.is_ascii_digit()) {
                            break;
                        }
                        run.push_str(x);
                        if j > i && run.len() >= 4 && (vocab.contains(&run.as_str()) || derived.is_form(&run)) {
                            words_seen.push(format!("={run}"));
                        }
                    }
                }
            }
            let glued = words_seen.iter().any(|x| x.starts_with('='));
            let want = whole_personal || glued || words_seen.into_iter().chain(runs).any(|word| {
                let word = word.as_str();
                let numbered = unnumbered(word);
                derived.meets_word(word)
                    || numbered.as_deref().is_some_and(|r| derived.is_form(r))
                    || vocab.iter().any(|v| {
                        word == *v
                            || numbered.as_deref() == Some(*v)
                            || (v.len() >= crate::mask::policy::words::AFFIX_MIN
                                && (word.starts_with(v) || word.ends_with(v)))
                    })
            });
            prop_assert_eq!(w.is_personal_key(&key), want, "{:?}", key);
        }
    }
}
