//! Text in which a role word labels a name: on a `report` family, an undeclared string where
//! a role word (`payer`, `Beneficiary`, `PENGIRIM`, `by order of`) stands as a word of the
//! text and a name follows it is masked whole.
//!
//! Why no list of forms: the ways text sets a label beside its value have no end (`Payer:`,
//! `payer=`, `payer -> …`, `Recipient - …`, `| Payer | … |`, `<td>Payer</td><td>…`,
//! `{:payer "…"}`, `(payer . "…")`, `Payer∶ …` with a colon look-alike, a `[payer]` section
//! over its lines, `ORDERING CUSTOMER …`), and the pair reader was always one form short. The
//! rule reads words, not punctuation: whatever stands between the role word and what follows
//! it (markup tags count as punctuation), a name right after it is the party's name.
//!
//! What follows is read up to the line's end; a role word that ends its line (a section or
//! a heading: `[payer]`, `Beneficiary`) labels the next line. A name there is
//! - two name words in a row right after the role word (`Customer Alice Victimson`), or
//! - one, when punctuation stands between them (`payer -> Alice`, `Payer | Alice`), or
//! - on the next line, two name words in a row among its first three words
//!   (`full = "Alice Victimson"` under `[payer]`).
//!
//! A name word is letters only, two or more, starting with a capital (`Alice`, `ALICE`) or of
//! a script without case (`李小龍`, `สมชาย`). Payment text stays: `customer not found`,
//! `Sandbox customer 1a2b3c`, `Test New Customer 2`, `customer_id is required` (an
//! identifier is no role word), `Customer created`.
//!
//! Residual: a name written in lower case right after a role word with only spaces between
//! (`payer alice victimson`), and a title-case phrase after one (`Customer Not Found`) is
//! masked as a name would be.

use super::words::KeyWords;
use crate::mask::keynorm::{fold_word, prepare_words};

/// Longest role compound read from consecutive words (`by order of`, `ordering customer`).
const MAX_ROLE_WORDS: usize = 3;

/// Longest markup tag read as punctuation.
const MAX_TAG: usize = 256;

/// One word of a line and whether punctuation (not only white space) stands before it.
struct Word<'a> {
    text: &'a str,
    punct_before: bool,
}

impl KeyWords {
    /// Whether a role word in `text` labels a name (see the module).
    pub fn role_labels_name(&self, text: &str) -> bool {
        if !self.has_roles() {
            return false;
        }
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                // A tab is white space between words, not a character to drop.
                let l = without_tags(l).replace('\t', " ");
                prepare_words(&l).into_owned()
            })
            .collect();
        let words: Vec<Vec<Word<'_>>> = lines.iter().map(|l| line_words(l)).collect();
        words.iter().enumerate().any(|(n, line)| {
            (0..line.len()).any(|i| {
                let Some(end) = self.role_at(line, i) else {
                    return false;
                };
                let rest = &line[end..];
                if rest.is_empty() {
                    // A heading: the next line with words is its value.
                    let next = words[n + 1..].iter().find(|l| !l.is_empty());
                    return next.is_some_and(|l| {
                        l.windows(2)
                            .take(2)
                            .any(|p| name_word(p[0].text) && name_word(p[1].text))
                    });
                }
                name_word(rest[0].text)
                    && (rest[0].punct_before || rest.get(1).is_some_and(|w| name_word(w.text)))
            })
        })
    }

    /// Where the role word (or role compound of up to [`MAX_ROLE_WORDS`] words) starting at
    /// `line[i]` ends, the longest one.
    fn role_at(&self, line: &[Word<'_>], i: usize) -> Option<usize> {
        let mut glued = String::new();
        let mut end = None;
        for (k, w) in line[i..].iter().take(MAX_ROLE_WORDS).enumerate() {
            // An identifier (`customer_id`, `v1/customer`) is no role word of text.
            if k > 0 && w.punct_before || !w.text.chars().all(char::is_alphabetic) {
                break;
            }
            glued.push_str(&fold_word(w.text));
            if self.is_role_word(&glued) {
                end = Some(i + k + 1);
            }
        }
        end
    }
}

/// `line` with its markup tags (`<td>`, `</dd>`, `<br/>`) written as `|`: a tag is
/// punctuation between a label and its value.
fn without_tags(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('<') {
        return line.into();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let tag = after
            .find('>')
            .filter(|&close| close <= MAX_TAG && !after[..close].contains('<'))
            .filter(|_| {
                after
                    .trim_start_matches('/')
                    .starts_with(|c: char| c.is_ascii_alphabetic())
            });
        match tag {
            Some(close) => {
                out.push_str(" | ");
                rest = &after[close + 1..];
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// Characters of a word as [`KeyWords::mentions_field`] reads one: letters, digits and the
/// separators identifiers are written with.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '$' | '#')
}

/// The words of one line, each with whether punctuation stands before it.
fn line_words(line: &str) -> Vec<Word<'_>> {
    let mut words = Vec::new();
    let mut punct = false;
    let mut rest = line;
    while !rest.is_empty() {
        let start = rest.find(word_char).unwrap_or(rest.len());
        punct |= rest[..start].chars().any(|c| !c.is_whitespace());
        rest = &rest[start..];
        let end = rest.find(|c: char| !word_char(c)).unwrap_or(rest.len());
        let raw = &rest[..end];
        rest = &rest[end..];
        let text = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if text.is_empty() {
            // `-`, `->`'s dash, `.`: punctuation written with word characters.
            punct |= !raw.is_empty();
            continue;
        }
        // Separators trimmed off a word (`-Alice`, `payer.`) stand between it and its
        // neighbours too.
        let lead = raw.len() - raw.trim_start_matches(|c: char| !c.is_alphanumeric()).len();
        words.push(Word {
            text,
            punct_before: punct || lead > 0,
        });
        punct = text.len() + lead < raw.len();
    }
    words
}

/// Whether `w` is written as a part of a name: letters only, two or more, the first a
/// capital or of a script without case.
fn name_word(w: &str) -> bool {
    let mut chars = w.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    w.chars().count() >= 2
        && w.chars().all(char::is_alphabetic)
        && (first.is_uppercase() || !w.chars().any(|c| c.is_lowercase() || c.is_uppercase()))
}

#[cfg(test)]
#[path = "role_text_tests.rs"]
mod tests;
