//! String values that name a personal field: `{"field": "first_name", "value": "Alice"}`,
//! `{"label": "Full Name", "value": …}`, `["phone", "0812…"]`. The value beside such a name
//! is personal whatever its member is called, so the walk reads the container again as if
//! under a personal key (see `walk.rs`, `Walk::container`).
//!
//! A value is read as a key with the key words' own classification, but a field name is
//! told from a person's name by how it is written, because names can be vocabulary words
//! (`Nik Santoso`, `Peter Pan`, `Ismail` ends with `mail`):
//!
//! - **an identifier** — one token with a separator or a case change inside (`first_name`,
//!   `firstName`, `e.mail`), or one token without capitals (`email`, `firstname`) — names a
//!   field when [`KeyWords::is_personal_key`] says so (affixes and number prefixes
//!   included); an upper-case identifier of several words is a code (`VIRTUAL_ACCOUNT`,
//!   `NAME_MISMATCH`), never a field name;
//! - **a phrase or a capitalised word** (`Full Name`, `Date of Birth`, `EMAIL`, `Nik
//!   Santoso`) names one when one of its words *is* a vocabulary word (no affixes);
//! - where the value is personal data itself (under a personal key or a named rule, where a
//!   name is expected), a phrase must be a field label: no digits, and its first or last word
//!   a vocabulary word of [`AFFIX_MIN`] letters or more (`Full Name`, `Nama Lengkap`), and a
//!   capitalised single word must be such a word (`EMAIL`, `Address`; `Pan` and `Nik` are
//!   names).

use super::words::{KeyWords, AFFIX_MIN};
use crate::mask::keynorm::{fold_word, for_each_word, prepare_words};

/// Longest string value read as the name of a field (a key is at most this long in the
/// undeclared-paths listing too).
pub const MAX_FIELD_NAME: usize = 64;

/// Most words of a string value read as the name of a field: `Date of Birth`, `Nomor HP
/// Pelanggan`; a sentence (`Validation failed: email is required`) is longer.
pub const MAX_FIELD_NAME_WORDS: usize = 4;

impl KeyWords {
    /// Whether a string value names a personal field (see the module). `personal`: the
    /// value is personal data itself (under a personal key or a named rule).
    pub fn names_field(&self, text: &str, personal: bool) -> bool {
        let t = text.trim();
        if t.is_empty()
            || t.len() > MAX_FIELD_NAME
            || !field_name_chars(t)
            || t.split_whitespace().count() > MAX_FIELD_NAME_WORDS
        {
            return false;
        }
        let one_token = !t.chars().any(char::is_whitespace);
        let structured = t.chars().any(|c| !c.is_alphanumeric())
            || t.chars()
                .zip(t.chars().skip(1))
                .any(|(a, b)| a.is_lowercase() && b.is_uppercase());
        // An upper-case identifier of several words is a code from a closed list
        // (`VIRTUAL_ACCOUNT`, `BANK_ACCOUNT`, `NAME_MISMATCH`): payment methods and statuses
        // are written so, and masking the amount beside one would break payments.
        let code = one_token && structured && !t.chars().any(char::is_lowercase);
        if code {
            return false;
        }
        if one_token && (structured || !t.chars().any(char::is_uppercase)) {
            return self.is_personal_key(t);
        }
        let prepared = prepare_words(t);
        let mut words = Vec::new();
        for_each_word(&prepared, |w| {
            words.push(fold_word(w).into_owned());
            false
        });
        if !personal {
            return words.iter().any(|w| self.is_word(w));
        }
        let label = |w: Option<&String>| w.is_some_and(|w| w.len() >= AFFIX_MIN && self.is_word(w));
        if one_token {
            return words.len() == 1 && label(words.first());
        }
        !t.chars().any(|c| c.is_numeric()) && (label(words.first()) || label(words.last()))
    }
}

/// Whether `t` is made of what a field name is made of: letters, digits, spaces, the
/// separators `_`, `-`, `.`, `/`, `:`, `[`, `]`, and non-ASCII characters (combining marks).
/// An email address (`alice@mail.example.com`) or a sentence with other punctuation is a
/// value, not a name.
fn field_name_chars(t: &str) -> bool {
    t.chars().all(|c| {
        c.is_alphanumeric()
            || c.is_whitespace()
            || matches!(c, '_' | '-' | '.' | '/' | ':' | '[' | ']')
            // Combining marks and other scripts' separators; not a full-width `＠`.
            || (!c.is_ascii() && c != '\u{ff20}')
    })
}

#[cfg(test)]
mod tests {
    use super::KeyWords;

    fn shipped() -> KeyWords {
        crate::mask::default_settings().policies.key_words().clone()
    }

    #[test]
    fn field_names_are_told_from_names() {
        let w = shipped();
        for t in [
            "first_name",
            "firstName",
            "e.mail",
            "email",
            "firstname",
            "Full Name",
            "Date of Birth",
            "EMAIL",
            "Card Holder",
            "Nama Lengkap",
        ] {
            assert!(w.names_field(t, false), "{t}");
        }
        for t in [
            "first_name",
            "firstName",
            "email",
            "Full Name",
            "Nama Lengkap",
            "full name",
            "EMAIL",
            "PASSPORT",
        ] {
            assert!(w.names_field(t, true), "{t} (personal)");
        }
        for t in [
            "Ismail Hasan",
            "Ismail",
            "PENDING",
            "success",
            "payin",
            "individual",
            "SG_PAYNOW",
            "alice@mail.example.com",
            "Validation failed: email is required",
            "NATIONAL_ID",
            "VIRTUAL_ACCOUNT",
            "NAME_MISMATCH",
        ] {
            assert!(!w.names_field(t, false), "{t}");
        }
        for t in [
            "Nik Santoso",
            "Peter Pan",
            "Pan",
            "NIK",
            "Jalan Sudirman 5",
            "Ismail",
        ] {
            assert!(!w.names_field(t, true), "{t} (personal)");
        }
    }
}
