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
            if w.is_ascii() {
                // No allocation: vocabulary words are folded, and folding ASCII is lower-casing.
                return self.words.iter().any(|v| ascii_matches(w, v));
            }
            let folded = fold_word(w);
            self.words.iter().any(|v| {
                let v = &**v;
                folded == v
                    || (v.len() >= AFFIX_MIN && (folded.starts_with(v) || folded.ends_with(v)))
            })
        })
    }
}

/// `word` (ASCII, any case) equals the folded vocabulary word `v`, or starts or ends with it
/// when `v` is long enough.
fn ascii_matches(word: &str, v: &str) -> bool {
    let (w, vb) = (word.as_bytes(), v.as_bytes());
    if w.len() == vb.len() {
        return w.eq_ignore_ascii_case(vb);
    }
    vb.len() >= AFFIX_MIN
        && w.len() > vb.len()
        && (w[..vb.len()].eq_ignore_ascii_case(vb)
            || w[w.len() - vb.len()..].eq_ignore_ascii_case(vb))
}
