//! The key memo never carries one masker's answers into another's: a reload with a new
//! vocabulary masks on the very next body, on the same thread, and alternating maskers
//! keep their own answers.

use std::sync::Arc;

use super::*;
use crate::mask::detect::Detectors;
use crate::mask::policy::{
    DeclaredPaths, FieldPolicy, KeyWords, Mode, Policies, PolicyFamily, Undeclared,
};

fn with_words(words: &[&str]) -> Masker {
    let policies = Policies::new(
        vec![FieldPolicy {
            family: PolicyFamily::Payin,
            mode: Mode::Report,
            declared: DeclaredPaths::default(),
        }],
        KeyWords::new(words.iter().copied()),
        Detectors::default(),
        Strategy::Redact,
        Arc::new(Undeclared::default()),
    );
    default_masker().with_policies(policies)
}

fn out(m: &Masker, body: &str) -> String {
    let masked = m
        .mask_for(body.as_bytes(), PolicyFamily::Payin)
        .expect("maskable");
    String::from_utf8(masked.body.to_vec()).expect("utf-8")
}

const BODY: &str = r#"{"nickname":"Kimmy","amount":"150000"}"#;

#[test]
fn a_new_vocabulary_applies_to_the_next_body_on_the_same_thread() {
    let old = with_words(&["email"]);
    let new = with_words(&["email", "nickname"]);
    for _ in 0..3 {
        // `report` mode: a key no word names is copied, one a word names is masked.
        assert!(out(&old, BODY).contains("Kimmy"), "{}", out(&old, BODY));
        let masked = out(&new, BODY);
        assert!(!masked.contains("Kimmy"), "{masked}");
        assert!(masked.contains("150000"), "{masked}");
    }
}

#[test]
fn keys_that_are_data_are_checked_every_time() {
    let m = with_words(&["email", "name"]);
    let body = r#"{"victim@example.com":"x","name=Alice":"y"}"#;
    for _ in 0..3 {
        let masked = out(&m, body);
        assert!(!masked.contains("victim@example.com"), "{masked}");
        assert!(!masked.contains("Alice"), "{masked}");
    }
}
