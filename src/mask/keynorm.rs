//! The one key normalisation every key check of the masker uses.
//!
//! A key matches a rule when it matches after the loosest reading any common client applies:
//! Go's `encoding/json` (`EqualFold`: simple case folding, so `ſ` is `s` and `K` (Kelvin) is
//! `k`), readers that apply NFKC (full-width letters), readers that trim (`"email "`, a BOM,
//! a trailing NUL) and the gateway's own `_` / `-` folding (`phoneNumber`, `phone-number` and
//! `PHONE_NUMBER` are one name), widened to every character that is not a letter or a digit
//! (`e.mail`, `first name`, `phone.number`, `e mail` are `email`, `firstname`, `phonenumber`)
//! and to combining marks (`e\u{301}mail`, `na\u{308}me`: a reader, a log viewer and a
//! person see `email` and `name`). Folding more loosely than a client can only make the masker
//! mask more; folding less loosely lets a client fill a personal field the masker did not see.
//!
//! All Unicode data comes from ICU4X (`icu_normalizer`, `icu_casemap`, `icu_properties`): no
//! table here is written by hand.
//!
//! Note the direction: this is for *deny* checks (is this key a rule's name, a personal
//! word?). A check that lets a value through unmasked (a declared non-personal path) must not
//! accept every key that folds onto a declared name; see [`super::policy::DeclaredPaths`].

use std::borrow::Cow;

use icu_casemap::CaseMapper;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Folds an object key to the form every rule name, vocabulary word and path segment is
/// compared in:
///
/// 1. Unicode NFKC (full-width `ｅｍａｉｌ` is `email`, `ﬁ` is `fi`);
/// 2. removal of default-ignorable code points (zero-width joiners, variation selectors,
///    soft hyphens, BOM), format (Cf) and control (Cc, NUL included) characters, wherever they
///    stand;
/// 3. removal of every character that is neither a letter nor a digit: the separators
///    (`_`, `-`, `.`, spaces, any other punctuation or symbol), so `last_name`, `lastName`,
///    `LAST-NAME`, `last.name` and `last name` are one name (surrounding whitespace goes
///    with them);
/// 4. full Unicode case folding (`ſ` → `s`, `K` → `k`, `ß` → `ss`), then NFKC again so the
///    result is stable (folding twice gives the same key);
/// 5. removal of combining marks: NFKD, every nonspacing mark (Mn) dropped, then NFC
///    (`e\u{301}mail` and `émail` are `email`, `na\u{308}me` is `name`).
///
/// An ASCII key already in that form (lower-case letters and digits only) is returned
/// borrowed: the common case allocates nothing.
pub fn fold_key(raw: &str) -> Cow<'_, str> {
    if raw.is_ascii() {
        return fold_ascii(raw);
    }
    let composed = nfkc().normalize(raw);
    let kept: String = composed.chars().filter(|&c| !is_dropped(c)).collect();
    let folded = CaseMapper::new().fold_string(&kept);
    // Folding can leave text NFKC would change (and an NFKC pass can expose another
    // separator); one more round of both makes the fold idempotent.
    let again = nfkc().normalize(&folded);
    let unmarked = strip_marks(&again);
    Cow::Owned(unmarked.chars().filter(|&c| !is_dropped(c)).collect())
}

/// Whether `c` is a nonspacing or enclosing mark (an accent, a Thai vowel sign, a keycap).
pub(crate) fn is_mark(c: char) -> bool {
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark
    )
}

/// `s` without its combining marks: NFKD, every nonspacing (Mn) and enclosing (Me) mark
/// removed, NFC. Borrowed when `s` has none (ASCII text never has).
pub(crate) fn strip_marks(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    let decomposed = DecomposingNormalizerBorrowed::new_nfkd().normalize(s);
    let gc = CodePointMapData::<GeneralCategory>::new();
    // Nonspacing marks (accents) and enclosing marks (the keycap of `0️⃣`, circles).
    let mark = |c: char| {
        matches!(
            gc.get(c),
            GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark
        )
    };
    if !decomposed.chars().any(mark) {
        return Cow::Borrowed(s);
    }
    let kept: String = decomposed.chars().filter(|&c| !mark(c)).collect();
    Cow::Owned(
        ComposingNormalizerBorrowed::new_nfc()
            .normalize(&kept)
            .into_owned(),
    )
}

/// [`fold_key`] without an allocation per key: `raw` itself when it is already folded, else
/// the fold written into `buf` (cleared first), whose capacity the caller reuses from key to
/// key. The walk folds every key of a body; this keeps that to no allocation in the steady
/// state for ASCII keys.
pub fn fold_key_into<'a>(raw: &'a str, buf: &'a mut String) -> &'a str {
    if raw.is_ascii() {
        if ascii_is_folded(raw) {
            return raw;
        }
        buf.clear();
        // The kept bytes in runs (a slice copy each, not a char push per byte), then
        // lower-cased in place: the same bytes as filtering and lower-casing one by one.
        let mut from = 0;
        for (i, &b) in raw.as_bytes().iter().enumerate() {
            if ascii_dropped(b) {
                buf.push_str(&raw[from..i]);
                from = i + 1;
            }
        }
        buf.push_str(&raw[from..]);
        buf.make_ascii_lowercase();
        return buf.as_str();
    }
    buf.clear();
    buf.push_str(&fold_key(raw));
    buf.as_str()
}

/// Whether `raw` folds to `folded` (a value [`fold_key`] returned), without allocating for
/// ASCII keys: the hot comparison of a key with one stored name.
#[inline]
pub fn folds_to(raw: &str, folded: &str) -> bool {
    if raw.is_ascii() {
        let mut have = raw.bytes().filter(|&b| !ascii_dropped(b));
        for want in folded.bytes() {
            if have.next().map(|b| b.to_ascii_lowercase()) != Some(want) {
                return false;
            }
        }
        return have.next().is_none();
    }
    fold_key(raw) == folded
}

/// The words of a key, each folded as [`fold_key`] folds (without the separator removal,
/// which would glue them): split on every character that is neither a letter nor a digit
/// (`_`, `-`, spaces, dots, …), and inside a run of letters and digits at case changes
/// (`lastName` → `last`, `name`; `IBANNumber` → `iban`, `number`; `AddressLine1` →
/// `address`, `line`, `1`), after NFKC and the removal of ignorable, format and control
/// characters (so a zero-width joiner neither splits nor hides a word).
pub fn key_words(raw: &str) -> Vec<String> {
    let prepared = prepare_words(raw);
    // The first reading (`IBANNumber` → `iban`, `number`); checks judge every reading.
    word_readings(&prepared)
        .into_iter()
        .next()
        .unwrap_or_default()
        .into_iter()
        .map(|w| fold_word(w).into_owned())
        .collect()
}

/// NFKC, removal of ignorable, format and control characters, and removal of combining
/// marks ([`strip_marks`]): the text [`key_words`] splits (`e\u{301}mail` is one word,
/// `email`). Borrowed for ASCII keys without control characters.
pub(crate) fn prepare_words(raw: &str) -> Cow<'_, str> {
    if raw.is_ascii() {
        if raw.bytes().any(|b| b.is_ascii_control()) {
            return Cow::Owned(raw.chars().filter(|c| !c.is_ascii_control()).collect());
        }
        return Cow::Borrowed(raw);
    }
    let composed = nfkc().normalize(raw);
    let visible: String = composed.chars().filter(|&c| !is_invisible(c)).collect();
    Cow::Owned(strip_marks(&visible).into_owned())
}

/// One word folded (case folding, NFKC and [`strip_marks`]; borrowed when ASCII lower case
/// already).
pub(crate) fn fold_word(word: &str) -> Cow<'_, str> {
    if word.is_ascii() {
        if word.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(word.to_ascii_lowercase());
        }
        return Cow::Borrowed(word);
    }
    let folded = CaseMapper::new().fold_string(word);
    let composed = nfkc().normalize(&folded);
    Cow::Owned(strip_marks(&composed).into_owned())
}

/// Whether `raw` reads as a plain field name once a client's invisible differences are
/// undone (NFKC, invisible, format and control characters removed, surrounding whitespace
/// trimmed): non-empty ASCII letters, digits, `_` and `-`, at most 64 bytes. `ｅｍａｉｌ` and
/// `"email "` are; `first name`, `e.mail` and `customer_name:Alice` are not (a key with a
/// key word that is no plain field name may hold the value itself).
pub(crate) fn is_plain_field_name(raw: &str) -> bool {
    let plain = |k: &str| {
        !k.is_empty()
            && k.len() <= 64
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if raw.is_ascii() && !raw.bytes().any(|b| b.is_ascii_control()) {
        return plain(raw.trim_matches(' '));
    }
    let composed = nfkc().normalize(raw);
    let visible: String = composed.chars().filter(|&c| !is_invisible(c)).collect();
    plain(visible.trim_matches(char::is_whitespace))
}

/// Longest key shown as itself in the undeclared-paths listing and copied as itself on a
/// `report` family.
pub const MAX_LISTED_KEY: usize = 64;

/// Whether `raw` (a decoded key) is a plain field name as the schema writes one: non-empty
/// ASCII letters, digits, `_` and `-`, at most [`MAX_LISTED_KEY`] bytes. The one predicate of
/// the undeclared-paths listing (any other key is listed as `<key>`) and of the walk on
/// `report` families (any other key is written `<key>#N`): a key with a space, a dot, a comma
/// or any other character is data — a person's name, an address, a handle — never a field.
/// Currency codes, ids, dates and status words keep their keys (`IDR`, `cus_N2fr`,
/// `2024-12-06`, `PAID`); a timestamp or a decimal as a key (`10:00`, `1.5`) does not.
pub fn is_listed_key(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= MAX_LISTED_KEY
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Calls `f` with each word of `s` (already prepared by [`prepare_words`]) as a slice of
/// `s`, unfolded, in every reading of its case boundaries ([`word_readings`]); stops early
/// and returns true as soon as `f` does.
pub(crate) fn for_each_word<'s>(s: &'s str, mut f: impl FnMut(&'s str) -> bool) -> bool {
    split_words(s, false, &mut f) || (has_acronym_boundary(s) && split_words(s, true, &mut f))
}

/// The words of `s` (prepared by [`prepare_words`]) in each reading of its case boundaries:
/// one reading, or two when an upper-case run is followed by a lower-case one. There the
/// boundary is ambiguous — `IBANNumber` is `IBAN|Number` (the last capital starts the next
/// word), `KTPno` is `KTP|no` (the capitals are one word, an acronym before a lower-case
/// word) — and both split points are judged: every check that asks "is some word personal"
/// asks it of both readings. The one splitter of key words, role words and the words of text.
pub(crate) fn word_readings(s: &str) -> Vec<Vec<&str>> {
    let mut readings = Vec::with_capacity(2);
    for acronym in [false, true] {
        if acronym && !has_acronym_boundary(s) {
            break;
        }
        let mut words = Vec::new();
        split_words(s, acronym, &mut |w| {
            words.push(w);
            false
        });
        readings.push(words);
    }
    readings
}

/// Whether `s` has an upper-case run of two or more letters followed by a lower-case letter
/// (`KTPno`, `IBANNumber`): a boundary read two ways.
fn has_acronym_boundary(s: &str) -> bool {
    let mut run = 0usize;
    for c in s.chars() {
        if c.is_uppercase() {
            run += 1;
        } else {
            if run >= 2 && c.is_lowercase() {
                return true;
            }
            run = 0;
        }
    }
    false
}

/// One reading of `s`'s words: split on every character that is neither a letter nor a
/// digit, at lower-to-upper changes, between letters and digits, and where an upper-case run
/// meets a lower-case letter: before the run's last capital (`IBAN|Number`), or, with
/// `acronym`, after the whole run (`KTP|no`).
fn split_words<'s>(s: &'s str, acronym: bool, f: &mut impl FnMut(&'s str) -> bool) -> bool {
    let mut start: Option<usize> = None;
    // Previous character within a word, and whether the word so far is all capitals.
    let mut prev: Option<char> = None;
    let mut all_upper = true;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if !c.is_alphanumeric() {
            if let Some(st) = start.take() {
                if f(&s[st..i]) {
                    return true;
                }
            }
            prev = None;
            continue;
        }
        let Some(st) = start else {
            start = Some(i);
            prev = Some(c);
            all_upper = c.is_uppercase();
            continue;
        };
        let p = prev.unwrap_or(c);
        let next = iter.peek().map(|&(_, n)| n);
        let run_long = all_upper && s[st..i].chars().count() >= 2;
        let boundary =
            // lastName: lower (or digit) then upper.
            (c.is_uppercase() && (p.is_lowercase() || p.is_numeric()))
            // IBANNumber: the last upper of a run of uppers that a lower follows.
            || (!acronym
                && c.is_uppercase()
                && p.is_uppercase()
                && next.is_some_and(char::is_lowercase))
            // KTPno: the lower word after a run of uppers.
            || (acronym && c.is_lowercase() && p.is_uppercase() && run_long)
            // line1 / 1st: between letters and digits.
            || (c.is_numeric() != p.is_numeric());
        if boundary {
            if f(&s[st..i]) {
                return true;
            }
            start = Some(i);
            all_upper = c.is_uppercase();
        } else {
            all_upper &= c.is_uppercase();
        }
        prev = Some(c);
    }
    match start {
        Some(st) => f(&s[st..]),
        None => false,
    }
}

/// An ASCII key already in folded form: lower-case letters and digits only.
fn ascii_is_folded(raw: &str) -> bool {
    !raw.bytes()
        .any(|b| b.is_ascii_uppercase() || ascii_dropped(b))
}

fn fold_ascii(raw: &str) -> Cow<'_, str> {
    if ascii_is_folded(raw) {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(
        raw.bytes()
            .filter(|&b| !ascii_dropped(b))
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect(),
    )
}

/// ASCII characters the fold removes wherever they stand: everything but letters and digits
/// (separators, punctuation, spaces, controls).
#[inline]
fn ascii_dropped(b: u8) -> bool {
    !b.is_ascii_alphanumeric()
}

/// Characters [`fold_key`] removes: invisible ones, and every character that is neither a
/// letter nor a digit (separators, punctuation, symbols, spaces, combining marks left over).
fn is_dropped(c: char) -> bool {
    is_invisible(c) || !c.is_alphanumeric()
}

/// Default-ignorable, format and control characters: nothing a reader sees.
pub(crate) fn is_invisible(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || matches!(
            CodePointMapData::<GeneralCategory>::new().get(c),
            GeneralCategory::Format | GeneralCategory::Control
        )
}

fn nfkc() -> ComposingNormalizerBorrowed<'static> {
    ComposingNormalizerBorrowed::new_nfkc()
}

#[cfg(test)]
#[path = "keynorm_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "keynorm_ascii_tests.rs"]
mod ascii_tests;
