//! Partial reveals (`last4`, `keep_last = N`) keep part of a *number*: a value that is wholly
//! digits with the usual group separators (space, `-`, `.`, a leading `+`) shows exactly its
//! last N digits (at most half of them); any other text under the key — a name after the
//! number, a note, letters — is the placeholder, so no letter ever shows.

use proptest::prelude::{any, prop, prop_assert, prop_assert_eq, proptest};
use serde_json::json;

use super::*;
use crate::mask::masker::number_tail;

#[test]
fn a_name_beside_the_number_is_masked_whole() {
    for text in [
        "WA: Sri",
        "+62 812 3456 7890 (Dewi)",
        "1234567890 a.n. BUDI",
        "12-34-56 Jalan Mawar",
        "0812345678x",
        "GB29 NWBK 6016 1331 9268 19",
        "++62812345678",
        "62+812345678",
        "0812\u{ff13}45678",
        "0812\t345678",
        "+",
        " - . ",
    ] {
        for s in [
            Strategy::Last4,
            Strategy::KeepLast(2),
            Strategy::KeepLast(6),
        ] {
            assert_eq!(one(s, json!(text)), json!("[REDACTED]"), "{text:?} {s:?}");
        }
    }
}

#[test]
fn a_number_keeps_its_last_digits_and_separators_between_them() {
    for (s, text, out) in [
        (Strategy::Last4, "+62 812 3456 7890", "*************7890"),
        (Strategy::Last4, "+62 812-3456-78.90", "*************78.90"),
        (Strategy::Last4, "12-34-56", "****4-56"),
        (Strategy::KeepLast(3), "1234567890 ", "*******890 "),
        (Strategy::Last4, "85156781124", "*******1124"),
        (Strategy::Last4, "+62", "**2"),
    ] {
        assert_eq!(one(s, json!(text)), json!(out), "{text:?} {s:?}");
    }
    // A JSON number is masked through its text.
    assert_eq!(
        one(Strategy::Last4, json!(81234567890u64)),
        json!("*******7890")
    );
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

proptest! {
    /// Text holding a letter (any script) never shows one, whatever the strategy keeps.
    #[test]
    fn text_with_a_letter_never_shows_a_letter(
        head in "[0-9 +.-]{0,12}",
        word in "[A-Za-z\u{c0}-\u{24f}\u{ff21}-\u{ff3a}]{1,6}",
        tail in "[0-9 .()-]{0,12}",
        n in 0usize..12,
    ) {
        let text = format!("{head}{word}{tail}");
        for s in [Strategy::Last4, Strategy::KeepLast(n)] {
            prop_assert_eq!(one(s, json!(text)), json!("[REDACTED]"));
        }
    }

    /// A number keeps exactly its last min(N, digits/2) digits; everything before them is
    /// one mask character per character.
    #[test]
    fn numbers_keep_exactly_their_last_digits(
        plus in any::<bool>(),
        groups in prop::collection::vec(("[0-9]{1,4}", "[ .-]?"), 1..6),
        n in 0usize..12,
    ) {
        let mut text = String::from(if plus { "+" } else { "" });
        for (g, sep) in &groups {
            text.push_str(g);
            text.push_str(sep);
        }
        let all = digits(&text);
        let shown = n.min(all.len() / 2);
        let at = number_tail(&text, n).expect("a number");
        prop_assert_eq!(digits(&text[at..]), &all[all.len() - shown..]);
        let out = one(Strategy::KeepLast(n), json!(text));
        let out = out.as_str().expect("text");
        prop_assert_eq!(out.chars().count(), text.chars().count());
        prop_assert_eq!(digits(out), &all[all.len() - shown..]);
        prop_assert!(out[..out.len() - (text.len() - at)].chars().all(|c| c == '*'));
    }
}
