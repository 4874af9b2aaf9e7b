//! Key-word classification: a key is personal when one of its words (see
//! [`crate::mask::keynorm::key_words`]) is a personal-data word of the vocabulary, or starts
//! or ends with one of at least four letters (`firstname`, `emailaddress`, `phonenumber`,
//! `dateofbirth` are single words to the splitter).

use super::abbrev::{Derived, NUMBER_WORDS};
use crate::mask::keynorm::{
    fold_key, fold_word, for_each_word, is_mark, prepare_words, word_readings,
};

/// Shortest vocabulary word also matched as a prefix or suffix of a key's word: shorter
/// ones (`nik`, `dob`, `ktp`) would match inside unrelated words.
pub const AFFIX_MIN: usize = 4;

/// Written before a vocabulary word (`=race`), it makes the word meet whole words only: its
/// affix reading would name payment keys (`trace_id`, `desain`).
pub const EXACT_MARK: char = '=';

/// The personal-data vocabulary, each word stored folded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyWords {
    words: Vec<Box<str>>,
    /// Per word: matched as a prefix or suffix too (four letters or more, not written
    /// `=word`). A word written `=race` meets whole words only, where its affix reading would
    /// name payment keys (`trace_id`, `desain`).
    affix: Vec<bool>,
    /// Indices into `words` by byte length: a word can only equal one of its own length (every
    /// key word is checked against the vocabulary, so this keeps a larger vocabulary cheap).
    by_len: Vec<Vec<usize>>,
    /// Indices of the words of [`AFFIX_MIN`] bytes or more, shortest first.
    affixes: Vec<usize>,
    /// Role words (`payer`, `recipient`), folded: see [`KeyWords::is_role_key`].
    roles: Vec<Box<str>>,
    /// The vocabulary's abbreviations and compounds (`nm`, `addr`, `bdate`, `idcard`): see
    /// `abbrev.rs`.
    derived: Derived,
    /// The role words' (`dbtr`, `billto`).
    derived_roles: Derived,
    /// This vocabulary's identity for the per-thread memo of key answers
    /// (`key_word_memo.rs`): every vocabulary built takes a fresh one.
    generation: super::key_word_memo::Generation,
}

impl KeyWords {
    /// The vocabulary (the config layer checks each word is non-empty, letters and digits
    /// only); words are folded here.
    /// A word may be a compound written with `_` (`identity_card`, `date_of_birth`): it is
    /// met glued (`identitycard`, `IdentityCard`, `identity_card`) and its abbreviations are
    /// derived word by word (`idcard`, `dob`).
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let entries: Vec<(String, bool)> = words
            .into_iter()
            .map(|w| {
                let (exact, w) = match w.strip_prefix(EXACT_MARK) {
                    Some(rest) => (true, rest),
                    None => (false, w),
                };
                (fold_word(&prepare_words(w)).into_owned(), exact)
            })
            .collect();
        let derived = Derived::new(entries.iter().map(|(w, e)| (w.as_str(), *e)));
        let (words, affix): (Vec<Box<str>>, Vec<bool>) = entries
            .iter()
            .map(|(w, exact)| {
                let folded = w.replace('_', "").into_boxed_str();
                let affix = !exact && folded.len() >= AFFIX_MIN;
                (folded, affix)
            })
            .unzip();
        let mut by_len: Vec<Vec<usize>> = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if by_len.len() <= w.len() {
                by_len.resize(w.len() + 1, Vec::new());
            }
            by_len[w.len()].push(i);
        }
        let mut affixes: Vec<usize> = (0..words.len()).filter(|&i| affix[i]).collect();
        affixes.sort_by_key(|&i| words[i].len());
        KeyWords {
            words,
            affix,
            by_len,
            affixes,
            roles: Vec::new(),
            derived,
            derived_roles: Derived::default(),
            generation: super::key_word_memo::Generation::fresh(),
        }
    }

    /// The vocabulary with these role words (folded here).
    pub fn with_roles<'a>(mut self, roles: impl IntoIterator<Item = &'a str>) -> Self {
        let entries: Vec<String> = roles
            .into_iter()
            .map(|w| fold_word(&prepare_words(w)).into_owned())
            .collect();
        self.derived_roles = Derived::new(entries.iter().map(|w| (w.as_str(), false)));
        self.roles = entries
            .iter()
            .map(|w| w.replace('_', "").into_boxed_str())
            .collect();
        self.generation = super::key_word_memo::Generation::fresh();
        self
    }

    /// Whether `raw_key` is a role word and nothing else once folded (`payer`, `Recipient`,
    /// `penerima`): such a key holds a person (a name, or an object about them). A role word
    /// with another word (`payer_id`, `customer_type`) names an attribute, judged by its
    /// other words.
    pub fn is_role_key(&self, raw_key: &str) -> bool {
        if self.roles.is_empty() {
            return false;
        }
        // The plural too: `recipients: ["Alice", …]`.
        self.is_role_word(&fold_key(raw_key))
    }

    /// Whether one of `raw_key`'s words (as [`KeyWords::is_personal_key`] splits them) is a
    /// role word or its plural (`payer_info`, `recipientDisplay`, `by_customer`).
    pub fn has_role_word(&self, raw_key: &str) -> bool {
        if self.roles.is_empty() {
            return false;
        }
        let prepared = prepare_words(raw_key);
        for_each_word(&prepared, |w| self.is_role_word(&fold_word(w)))
            || any_run(&prepared, |run| self.is_role_word(run))
    }

    /// Whether the vocabulary has role words.
    pub(super) fn has_roles(&self) -> bool {
        !self.roles.is_empty()
    }

    /// Whether the folded word `w` is a role word, an abbreviation of one (`dbtr`) or a role
    /// compound glued (`billto`), or the plural of one (`recipients`).
    pub(super) fn is_role_word(&self, w: &str) -> bool {
        let single = w.strip_suffix('s').unwrap_or(w);
        [w, single]
            .iter()
            .any(|x| self.roles.iter().any(|r| **r == **x) || self.derived_roles.is_form(x))
    }

    /// Whether the folded word `w`, as a word of text (a label, a sentence), is a vocabulary
    /// word: equal to one, a number prefix glued to one (`nohp`), or the plural of one of
    /// [`AFFIX_MIN`] letters or more (`Emails`, `Addresses`, `Contacts`: a list's label).
    /// No other affixes: prose has `username` and `accounting`, which a key would not.
    pub(super) fn is_text_word(&self, w: &str) -> bool {
        if self.is_word(w) {
            return true;
        }
        let plural =
            |stem: Option<&str>| stem.is_some_and(|s| s.len() >= AFFIX_MIN && self.is_word(s));
        plural(w.strip_suffix('s')) || plural(w.strip_suffix("es"))
    }

    /// [`KeyWords::is_text_word`] for a word as written (any case), without allocating for
    /// ASCII words.
    pub(super) fn is_text_word_as_written(&self, w: &str) -> bool {
        if !w.is_ascii() {
            return self.is_text_word(&fold_word(w));
        }
        let equals_one = |x: &str| {
            self.by_len
                .get(x.len())
                .is_some_and(|b| b.iter().any(|&i| x.eq_ignore_ascii_case(&self.words[i])))
        };
        let stem = |suffix: &str| {
            let cut = w.len().checked_sub(suffix.len())?;
            w[cut..]
                .eq_ignore_ascii_case(suffix)
                .then(|| &w[..cut])
                .filter(|s| s.len() >= AFFIX_MIN)
        };
        equals_one(w)
            || number_prefixed(w).is_some_and(equals_one)
            || stem("s").is_some_and(equals_one)
            || stem("es").is_some_and(equals_one)
    }

    /// Whether the ASCII word `w` (any case) is personal: it equals a vocabulary word, is a
    /// number prefix glued to one, or starts or ends with one of [`AFFIX_MIN`] letters or more.
    fn ascii_word_personal(&self, w: &str) -> bool {
        let equals_one = |x: &str| {
            self.by_len
                .get(x.len())
                .is_some_and(|b| b.iter().any(|&i| x.eq_ignore_ascii_case(&self.words[i])))
        };
        if equals_one(w) || number_affixed(w).is_some_and(equals_one) {
            return true;
        }
        // Derived forms are stored lower case: a word in capitals is lowered on the stack.
        let mut lower = [0u8; 64];
        if let Some(l) = lower.get_mut(..w.len()) {
            l.copy_from_slice(w.as_bytes());
            l.make_ascii_lowercase();
            if std::str::from_utf8(l).is_ok_and(|l| self.derived_personal(l)) {
                return true;
            }
        } else if self.derived_personal(&w.to_ascii_lowercase()) {
            return true;
        }
        let wb = w.as_bytes();
        self.affixes
            .iter()
            .map(|&i| self.words[i].as_bytes())
            .take_while(|v| v.len() < wb.len())
            .any(|v| {
                wb[..v.len()].eq_ignore_ascii_case(v)
                    || wb[wb.len() - v.len()..].eq_ignore_ascii_case(v)
            })
    }

    /// Whether the folded word `w` is a vocabulary word, or a number prefix glued to one
    /// (`nohp`): equality only, no affixes.
    pub(super) fn is_word(&self, w: &str) -> bool {
        let equals = |x: &str| {
            self.by_len
                .get(x.len())
                .is_some_and(|b| b.iter().any(|&i| *self.words[i] == *x))
        };
        equals(w) || number_affixed(w).is_some_and(equals)
    }

    /// Whether the folded word `w` is an abbreviation of the vocabulary (see `abbrev.rs`),
    /// bare or with a number word glued before or after it (`ktpno`, `nonik`).
    fn derived_personal(&self, w: &str) -> bool {
        self.derived.meets_word(w) || number_affixed(w).is_some_and(|r| self.derived.is_form(r))
    }

    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|w| &**w)
    }

    /// Whether `raw_key` (as decoded from the body) names personal data.
    pub fn is_personal_key(&self, raw_key: &str) -> bool {
        if self.words.is_empty() {
            return false;
        }
        super::key_word_memo::remembered(self.generation, raw_key, || {
            self.personal_key_unremembered(raw_key)
        })
    }

    /// [`KeyWords::is_personal_key`], computed.
    fn personal_key_unremembered(&self, raw_key: &str) -> bool {
        let prepared = prepare_words(raw_key);
        // Each word as split (`lastName` → `last` `name`), and each run of letters and digits
        // as one word: a case change inside a vocabulary word (`namA`, `EMail`, `eMAIL`)
        // splits it into pieces that are no words, yet every case-insensitive reader of the
        // key reads `nama` or `email`.
        for_each_word(&prepared, |w| self.word_personal(w))
            // Runs of words glued (`national_id_no` holds `nationalid`, `id_num` is `idnum`,
            // `zip_cd` is `zipcd`): a compound of the vocabulary or a derived form, exactly.
            || any_run(&prepared, |run| {
                self.is_word(run) || self.derived.is_form(run)
            })
            || prepared
                .split(|c: char| !c.is_alphanumeric())
                .filter(|run| !run.is_empty())
                .any(|run| self.word_personal(run))
            // The whole key after the key fold (every character that is no letter or digit
            // and every combining mark removed, as rule names compare): `n_a_m_a`, `e-mail`,
            // `e.mail` and `e mail` are `nama` and `email` to it. Equality only: joining words must not make new prefixes and suffixes.
            || (!raw_key.bytes().all(|b| b.is_ascii_alphanumeric()) && {
                let folded = fold_key(raw_key);
                let numbered = number_prefixed(&folded);
                self.words
                    .iter()
                    .any(|v| *folded == **v || numbered == Some(&**v))
            })
    }

    /// Whether one word of a key (any case, not yet folded) is personal.
    fn word_personal(&self, w: &str) -> bool {
        if w.is_ascii() {
            // No allocation: vocabulary words are folded, and folding ASCII is lower-casing.
            return self.ascii_word_personal(w);
        }
        let folded = fold_word(w);
        let numbered = number_affixed(&folded);
        self.derived_personal(&folded)
            || self.words.iter().zip(&self.affix).any(|(v, &affix)| {
                let v = &**v;
                folded == v
                    || numbered == Some(v)
                    || (affix && (folded.starts_with(v) || folded.ends_with(v)))
            })
    }
}

impl KeyWords {
    /// Whether `text` labels a value with a personal key, as key-value data written into a
    /// string does: a form or query field (`customer_name=…`, `?a=1&email=…`,
    /// `customer[first_name]=…`) or a quoted JSON or Python key (`"first_name":`,
    /// `'first_name':`, behind a prefix no JSON reader skips). A client that parses such a
    /// text reads a personal field, so the string is as personal as that field.
    pub fn labels_personal(&self, text: &str) -> bool {
        if self.words.is_empty() {
            return false;
        }
        let b = text.as_bytes();
        memchr::memchr2_iter(b'=', b':', b).any(|sep| {
            let mut end = sep;
            while end > 0 && b[end - 1] == b' ' {
                end -= 1;
            }
            let quote = match end.checked_sub(1).map(|i| b[i]) {
                Some(q @ (b'"' | b'\'')) => q,
                // A bare `label:` starting a clause is a field written out for a person or a
                // YAML reader: `Customer name: Alice …`, `nama: …`, `…; phone: …`.
                _ if b[sep] == b':' => return self.clause_label_personal(&text[..end]),
                _ => 0,
            };
            let label = if quote != 0 {
                let close = end - 1;
                // The matching opening quote, at most a long key away.
                let from = close.saturating_sub(MAX_LABEL);
                let Some(open) = memchr::memrchr(quote, &b[from..close]).map(|i| from + i) else {
                    return false;
                };
                &text[open + 1..close]
            } else {
                let mut start = end;
                while start > 0 && is_form_label_byte(b[start - 1]) && end - start < MAX_LABEL {
                    start -= 1;
                }
                // A form field starts the text or follows `?`, `&`, `;` or white space.
                let framed = start == 0
                    || matches!(
                        b[start - 1],
                        b'?' | b'&' | b';' | b' ' | b'\t' | b'\n' | b'\r'
                    );
                if !framed {
                    return false;
                }
                &text[start..end]
            };
            !label.is_empty() && self.is_personal_key(label)
        }) || self.pairs_personal(text)
            || super::segments::party_segment_personal(text)
    }
}

impl KeyWords {
    /// Whether the clause that ends at a `:` (`before` is the text up to it) is a label of a
    /// few words naming personal data: from the start of the text or the last `\n`, `,`, `;`,
    /// `|`, `(`, `.` or `-`+space, at most [`MAX_LABEL`] bytes of letters, digits, spaces,
    /// `_` and `-`.
    fn clause_label_personal(&self, before: &str) -> bool {
        let from = before
            .rfind(['\n', '\r', ',', ';', '|', '(', '.', '{', '['])
            .map_or(0, |i| i + 1);
        let label = before[from..].trim();
        !label.is_empty()
            && label.len() <= MAX_LABEL
            // Letters of any script: `Họ tên:`, `Dirección:` fold to vocabulary words.
            && label.chars().any(char::is_alphabetic)
            && label
                .chars()
                .all(|c| c.is_alphanumeric() || is_mark(c) || matches!(c, ' ' | '_' | '-'))
            // A role word alone labels a person too: `Payer: Alice …`, `Recipient: …`, the
            // remittance line of a transfer.
            && (self.is_personal_key(label)
                || (!label.bytes().any(|b| b.is_ascii_digit()) && self.is_role_key(label)))
    }
}

/// Longest label [`KeyWords::labels_personal`] reads.
const MAX_LABEL: usize = 64;

/// Bytes of a form field's name: `customer[first_name]`, `payer.email`, `last-name`.
fn is_form_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']')
}

/// Number prefixes a key glues to the word it numbers: `nohp`, `norek`, `nomorhp` (Indonesian
/// `no`/`nomor`), `nrktp`, `numphone`. Longest first.
const NUMBER_PREFIXES: [&str; 4] = ["nomor", "num", "no", "nr"];

/// The rest of `word` after a number prefix (ASCII case ignored), when something follows it:
/// a vocabulary word equal to the rest names the key (a short word such as `hp` or `rek` is
/// never matched as a suffix on its own, see [`AFFIX_MIN`]).
fn number_prefixed(word: &str) -> Option<&str> {
    NUMBER_PREFIXES.iter().find_map(|p| {
        let head = word.get(..p.len())?;
        let rest = &word[p.len()..];
        (head.eq_ignore_ascii_case(p) && !rest.is_empty()).then_some(rest)
    })
}

/// [`number_prefixed`], or the rest of `word` before a number word glued after it (`ktpno`,
/// `niknum`, `hpnumber`; two letters of rest at least): the rest is then compared exactly.
fn number_affixed(word: &str) -> Option<&str> {
    number_prefixed(word).or_else(|| {
        NUMBER_WORDS.iter().find_map(|n| {
            let cut = word.len().checked_sub(n.len())?;
            let tail = word.get(cut..)?;
            (cut >= 2 && tail.eq_ignore_ascii_case(n)).then(|| &word[..cut])
        })
    })
}

/// Calls `f` with each run of two to four consecutive words of `prepared` glued and folded
/// (`national`,`id` → `nationalid`), in every reading of its case boundaries, when the run
/// is four letters or more and holds no digit word; stops as soon as `f` says true.
fn any_run(prepared: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    // One word has no run (most values read as keys: ids, codes, amounts).
    if !prepared
        .trim_matches(|c: char| !c.is_alphabetic())
        .contains(|c: char| !c.is_alphabetic())
        && !prepared.contains(|c: char| c.is_uppercase())
    {
        return false;
    }
    for reading in word_readings(prepared) {
        // Groups of consecutive words without digits: a run never crosses a digit word, so
        // an id (`customer_67d8…`: letters between digits) has none and allocates nothing.
        let mut group: Vec<&str> = Vec::new();
        for w in reading.iter().copied().chain([""]) {
            if !w.is_empty() && !w.chars().any(char::is_numeric) {
                group.push(w);
                continue;
            }
            if group.len() >= 2 && runs_of(&group, &mut f) {
                return true;
            }
            group.clear();
        }
    }
    false
}

/// [`any_run`] over one group of consecutive words without digits.
fn runs_of(group: &[&str], f: &mut impl FnMut(&str) -> bool) -> bool {
    let folded: Vec<std::borrow::Cow<'_, str>> = group.iter().map(|w| fold_word(w)).collect();
    let mut run = String::new();
    for i in 0..folded.len() {
        run.clear();
        for (j, w) in folded.iter().enumerate().skip(i).take(MAX_RUN) {
            run.push_str(w);
            if j > i && run.len() >= AFFIX_MIN && f(&run) {
                return true;
            }
        }
    }
    false
}

/// Most words glued into one by [`any_run`]: the longest compound of the vocabulary.
const MAX_RUN: usize = 4;

#[cfg(test)]
mod label_tests {
    use super::KeyWords;

    fn words() -> KeyWords {
        KeyWords::new(["name", "email", "address", "account", "phone"])
    }

    #[test]
    fn personal_labels_in_text_are_found_in_every_encoding_of_a_field() {
        let w = words();
        for text in [
            "first_name=Alice",
            "https://m.example/r?ref=1&customer_name=Alice%20V",
            "customer[last_name]=V&x=1",
            "payload={\"first_name\":\"Alice\"}",
            "{'email_address': 'x'}",
            "{ \"Name\" : 1 }",
            "first_name: Alice",
            "Refund approved. Customer name: Alice V",
            "ok; phone: 0812",
        ] {
            assert!(w.labels_personal(text), "{text}");
        }
    }

    /// A case change inside a vocabulary word does not hide it (`namA`, `EMail`), and
    /// case-split words still name a key (`lastName`); payment keys stay payment keys.
    #[test]
    fn a_key_word_cut_by_a_case_change_still_names_the_key() {
        let w = words();
        for key in [
            "namE",
            "EMail",
            "eMAIL",
            "PhONE",
            "custNAme",
            "lastName",
            "billing AddrESS",
        ] {
            assert!(w.is_personal_key(key), "{key}");
        }
        for key in [
            "payinId",
            "amountValue",
            "createdAt",
            "referenceNo",
            "currencyCode",
        ] {
            assert!(!w.is_personal_key(key), "{key}");
        }
    }

    #[test]
    fn payment_texts_carry_no_personal_label() {
        let w = words();
        for text in [
            "https://m.example/r?ref=INV-2026-0042&amount=150000&customer_id=c1",
            "2026-12-06T10:00:00Z",
            "Settlement: batch 12",
            "Error: amount must be positive",
            "Validation failed: email is required",
            "https://x.example/a:b",
            "status=paid&currency=IDR",
            "a=b",
            "",
        ] {
            assert!(!w.labels_personal(text), "{text}");
        }
        assert!(!KeyWords::default().labels_personal("name=Alice"));
    }
}
