//! Key-word classification: a key is personal when one of its words (see
//! [`crate::mask::keynorm::key_words`]) is a personal-data word of the vocabulary, or starts
//! or ends with one of at least four letters (`firstname`, `emailaddress`, `phonenumber`,
//! `dateofbirth` are single words to the splitter).

use crate::mask::keynorm::{fold_word, for_each_word, prepare_words};

/// Shortest vocabulary word also matched as a prefix or suffix of a key's word: shorter
/// ones (`nik`, `dob`, `ktp`) would match inside unrelated words.
pub const AFFIX_MIN: usize = 4;

/// The personal-data vocabulary, each word stored folded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyWords {
    words: Vec<Box<str>>,
}

impl KeyWords {
    /// The vocabulary (the config layer checks each word is non-empty, letters and digits
    /// only); words are folded here.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        KeyWords {
            words: words
                .into_iter()
                .map(|w| fold_word(&prepare_words(w)).into_owned().into_boxed_str())
                .collect(),
        }
    }

    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|w| &**w)
    }

    /// Whether `raw_key` (as decoded from the body) names personal data.
    pub fn is_personal_key(&self, raw_key: &str) -> bool {
        if self.words.is_empty() {
            return false;
        }
        let prepared = prepare_words(raw_key);
        for_each_word(&prepared, |w| {
            let folded = fold_word(w);
            self.words.iter().any(|v| {
                let v = &**v;
                folded == v
                    || (v.len() >= AFFIX_MIN && (folded.starts_with(v) || folded.ends_with(v)))
            })
        })
    }
}
