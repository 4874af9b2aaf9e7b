//! The class of attack21f finding 9: a JSON document inside a string is masked as a document
//! (its structure read: role words, key words, `<key>` keys) behind any prefix a client strips
//! first, not only at the string's start.

use proptest::prelude::*;

use super::*;
use crate::mask::policy::PolicyFamily;

/// `s` as `data.note` of an answer on a `report` family, masked.
fn masked_note(s: &str) -> String {
    let m = Masker::new(&default_settings(), Some(KEY)).expect("valid");
    let body = json!({"status": true, "data": {"note": s}}).to_string();
    let out = m
        .mask_for(body.as_bytes(), PolicyFamily::Transaction)
        .expect("maskable");
    String::from_utf8(out.body.to_vec()).expect("utf-8")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// A name under a role word, or a value under a key word, inside a document behind a
    /// random prefix (the usual anti-hijacking and JSONP ones, or any text) and before a
    /// random suffix never comes back.
    #[test]
    fn documents_behind_any_prefix_are_masked_as_documents(
        prefix in prop_oneof![
            Just(")]}',\n".to_owned()),
            Just("while(1);".to_owned()),
            Just("for(;;);".to_owned()),
            Just("cb(".to_owned()),
            Just("data: ".to_owned()),
            "[a-zA-Z0-9 ;:(),.'=]{1,24}",
            "[a-z]{1,6}\\[[a-z]{1,6}\\] ",
        ],
        suffix in prop_oneof![Just(String::new()), Just(");".to_owned()), "[a-z ;)]{0,8}"],
        given in "[A-Z][a-z]{3,8}",
        family in "[A-Z][a-z]{3,8}",
        shape in 0u8..3,
    ) {
        let name = format!("{given} {family}");
        let doc = match shape {
            0 => json!({"payer": name}),
            1 => json!({"items": [{"recipient": name, "amount": 10}]}),
            _ => json!({"first_name": name}),
        };
        let note = format!("{prefix}{doc}{suffix}");
        let out = masked_note(&note);
        prop_assert!(!out.contains(&given), "{note:?} came back as {out}");
    }

    /// The other side: a string with brackets and no personal document comes back byte for
    /// byte (documents in it are not rewritten compact).
    #[test]
    fn strings_without_personal_documents_are_copied(
        words in "(alpha|beta|gamma|ok|done)",
        n in 0u32..1000,
    ) {
        for note in [
            format!("[{words}] see {{\"code\": {n}, \"ok\": true}}"),
            format!("list: [1, 2, {n}] and {{ {words} }}"),
            format!("cb({{\"status\": \"{words}\"}});"),
        ] {
            let body = json!({"status": true, "data": {"note": note}}).to_string();
            prop_assert_eq!(masked_note(&note), body);
        }
    }
}

#[test]
fn a_string_with_more_starts_than_the_bound_is_masked_whole() {
    let note = format!(
        "{}{}",
        "[x ".repeat(40),
        json!({"payer": "Alice Boundvictim"})
    );
    let out = masked_note(&note);
    assert!(!out.contains("Boundvictim"), "{out}");
    assert!(!out.contains("[x ["), "{out}");
}
