//! Text that mentions a personal field: on a `report` family, an undeclared string of two
//! or more words in which a personal field's name stands as a word is masked whole.
//!
//! Why a mention and not a label: the ways text writes a field beside its value have no end
//! (`first_name: …`, `first_name=…`, a CSV header line, `<last_name>…</last_name>`, `Name |
//! …`, `**Name** …`, `Key (last_name)=(…)`, `Customer(lastName=…)`, `set first_name to …`),
//! and every list of them was one form short. What they share is the field's name written as
//! a word of the text, so that is the rule: text that names a personal field is text likely to
//! carry it. Error messages that mention a field (`Validation failed: email is required`)
//! are masked too: on a `report` family a client loses such a message's wording (the status,
//! the HTTP code and single-token error codes stay), which is the safe default; declaring the
//! path keeps it.
//!
//! A word of the text is read as a key is, with the same fold and vocabulary:
//! - an identifier (a separator or a case change inside: `last_name`, `lastName`,
//!   `$.customer.first_name`) is a personal field when [`KeyWords::is_personal_key`] says so
//!   (affixes included: `firstname`), unless it is an upper-case code (`VIRTUAL_ACCOUNT`)
//!   or is not written in a field name's words (a random id's pieces of one or two letters,
//!   as in a checkout URL's session id: see `field_names::word_structure`);
//! - a plain word (`Name`, `email`, `NAMA`) when it *is* a vocabulary word of three letters or
//!   more, or the plural of one ([`KeyWords::is_text_word`]): prose has `username` and
//!   `accounting`, which no key-word affix should reach, and one- and two-letter words (`hp`,
//!   `kk`) are too common in prose to count.
//!
//! A role word alone does not count here (`Customer created` is no personal text); a role
//! word followed by a name does, whatever stands between them (see `role_text`).

use super::words::KeyWords;
use crate::mask::keynorm::prepare_words;

/// Characters of a word of text as this rule reads it: letters, digits, and the separators
/// identifiers and paths are written with.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '$' | '#')
}

impl KeyWords {
    /// Whether `text` has two or more words and one of them names a personal field (see the
    /// module). A single word is no free text: it is judged as a field name beside its
    /// siblings ([`KeyWords::naming`]).
    pub fn mentions_field(&self, text: &str) -> bool {
        self.mentions_word(text) || self.role_labels_name(text)
    }

    fn mentions_word(&self, text: &str) -> bool {
        if self.words().next().is_none() {
            return false;
        }
        let prepared = prepare_words(text);
        let mut words = prepared
            .split(|c: char| !word_char(c))
            .map(|raw| raw.trim_matches(|c: char| !c.is_alphanumeric()))
            .filter(|w| !w.is_empty());
        // One word alone is no text: ids and codes (most strings) stop here unread.
        let (Some(first), Some(second)) = (words.next(), words.next()) else {
            return false;
        };
        if self.word_names_field(first) || self.word_names_field(second) {
            return true;
        }
        words.any(|w| self.word_names_field(w))
    }

    /// Whether one word of text (see the module) names a personal field.
    fn word_names_field(&self, w: &str) -> bool {
        let identifier = w.chars().any(|c| !c.is_alphanumeric())
            || w.chars()
                .zip(w.chars().skip(1))
                .any(|(a, b)| a.is_lowercase() && b.is_uppercase());
        if identifier {
            // `VIRTUAL_ACCOUNT`, `NAME_MISMATCH`: codes, as in field names in values.
            return w.chars().any(char::is_lowercase)
                && super::field_names::word_structure(w)
                && self.is_personal_key(w);
        }
        w.chars().count() >= 3 && self.is_text_word_as_written(w)
    }
}

#[cfg(test)]
mod tests {
    fn shipped() -> super::KeyWords {
        crate::mask::default_settings().policies.key_words().clone()
    }

    #[test]
    fn text_that_names_a_personal_field_is_found_in_every_form() {
        let w = shipped();
        for t in [
            "first_name,last_name\nAlice,Csvson",
            "<customer><name>Alice Xmlson</name></customer>",
            "<first_name>Alice</first_name><last_name>Xmltagson</last_name>",
            "Name | Alice Pipeson",
            "**Name** Alice Boldson",
            "Name;Alice Semicolonson",
            "Key (last_name)=(Postgreson) already exists.",
            "Key (first_name, last_name)=(Alice, Compositeson) already exists.",
            "invalid Customer(first_name='Alice Pythonreprson', id=3)",
            "error: invalid Customer(lastName=Lombokson)",
            "set first_name to Alice",
            "first_name -> Alice",
            "Validation failed: email is required",
            "NAMA: BUDI",
            "Emails sent to Alice",
            "patch $.customer.first_name",
        ] {
            assert!(w.mentions_field(t), "{t}");
        }
    }

    #[test]
    fn payment_text_mentions_no_personal_field() {
        let w = shipped();
        for t in [
            "OK",
            "email",
            "first_name",
            "Sandbox customer 1a2b3c",
            "Test New Customer 2",
            "customer_id is required",
            "customer not found",
            "Refund approved by the merchant team",
            "Payment method VIRTUAL_ACCOUNT is not available",
            "Invalid username",
            "Trace id 1234 accounting period closed",
            "2024-12-06T03:53:52.779Z",
            "amount must be positive",
            "hp kk",
        ] {
            assert!(!w.mentions_field(t), "{t}");
        }
    }
}
