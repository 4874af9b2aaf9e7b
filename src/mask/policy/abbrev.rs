//! Abbreviations of the vocabulary, derived by one function rather than listed.
//!
//! Payment and banking schemas abbreviate the words the vocabulary holds, and they do it by a
//! few fixed habits: vowels dropped after the first letter (`name` → `nm`, `birth` → `brth`,
//! `phone` → `phn`, ISO 20022's `Dbtr`), the consonant skeleton cut short (`address` →
//! `addr`, `identity` → `idnt`), and in a compound the leading words cut to their first
//! syllable or letter (`identity card` → `idcard`, `birth date` → `bdate`, `zip code` →
//! `zipcd`, `document number` → `docno`) or the whole written as its initials (`date of
//! birth` → `dob`, `social security number` → `ssn`). [`derived_forms`] writes those forms
//! for one vocabulary entry; the vocabulary stays the list of *what* is personal, the
//! derivation says *how it is written*.
//!
//! What keeps a derived form from naming payment keys:
//! - only words of [`MIN_DERIVED_FROM`] letters or more are abbreviated (`nik`, `dob` are
//!   their own abbreviations), and never a word written `=word` (whole words only);
//! - a form made of hex letters only (`acc`, `bd`, `bacc`) is dropped: hex ids split into
//!   such pieces (`…5acc3…`);
//! - every derived form has four letters or more (shorter ones — `nm`, `hp`, `tlp` — say too
//!   little on their own and are listed in the vocabulary where they are meant), but the
//!   initials of a compound of three words or more (`dob`, `ssn`, `fin`);
//! - a single word's forms are its skeletons (no vowel after the first letter: no English
//!   word is spelled so, which is what makes them abbreviations) and their cuts where a
//!   syllable ends (`addr|ess`, `idnt|ity`); a syllable cut of the word itself (`post`,
//!   `pass`, `hold`) is used inside a compound only, where the other word carries the meaning.

/// Shortest vocabulary word that is abbreviated.
pub const MIN_DERIVED_FROM: usize = 4;

/// Shortest cut of a skeleton, and shortest compound form.
const MIN_CUT: usize = 4;

/// The words a key writes a number with (`ktp_no`, `id_num`, `nomor_hp`, `acct_nbr`): in a
/// compound of the vocabulary a number word may be any of them.
pub const NUMBER_WORDS: [&str; 9] = [
    "number", "nomor", "numero", "nmbr", "num", "nbr", "nmr", "no", "nr",
];

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// `w`'s first letter, then every letter of the rest that is no vowel: `name` → `nm`,
/// `address` → `addrss`, `creditor` → `crdtr`.
pub fn skeleton(w: &str) -> String {
    let b = w.as_bytes();
    let mut out = String::with_capacity(b.len());
    if let Some(&first) = b.first() {
        out.push(char::from(first));
    }
    out.extend(
        b.iter()
            .skip(1)
            .filter(|&&c| !is_vowel(c))
            .map(|&c| char::from(c)),
    );
    out
}

/// `s` with each run of one letter written once: `addrss` → `adrs`.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// The first syllable of `w`: up to its first vowel and the consonants after it
/// (`identity` → `id`, `address` → `addr`, `document` → `doc`, `telephone` → `tel`).
fn syllable(w: &str) -> &str {
    let b = w.as_bytes();
    let Some(v) = b.iter().position(|&c| is_vowel(c)) else {
        return w;
    };
    let mut end = v + 1;
    while end < b.len() && !is_vowel(b[end]) {
        end += 1;
    }
    &w[..end]
}

/// Whether `s` is made of hex letters only (`acc`, `bad`): a piece of a hex id.
fn hex_only(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'a'..=b'f'))
}

/// Whether `w` is a word this module abbreviates: ASCII lower-case letters, at least
/// [`MIN_DERIVED_FROM`] of them.
fn abbreviable(w: &str) -> bool {
    w.len() >= MIN_DERIVED_FROM && w.bytes().all(|b| b.is_ascii_lowercase())
}

/// The skeletons of one word and their cuts at a syllable: `address` → `addrss`, `adrs`,
/// `addr` (`addr|ess`); `birth` → `brth`; `creditor` → `crdtr`; `initials` → `intls` (not
/// `intl`: `initial|s` is no syllable's end, and `intl` is "international").
fn word_abbreviations(w: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if !abbreviable(w) {
        return out;
    }
    let s = skeleton(w);
    let b = w.as_bytes();
    // Where each letter of the skeleton stands in the word.
    let at: Vec<usize> = (0..b.len())
        .filter(|&i| i == 0 || !is_vowel(b[i]))
        .collect();
    for n in MIN_CUT..s.len() {
        if at
            .get(n - 1)
            .and_then(|&i| b.get(i + 1))
            .is_some_and(|&c| is_vowel(c))
        {
            out.push(s[..n].to_owned());
        }
    }
    let c = collapse(&s);
    out.extend([c, s].into_iter().filter(|x| x != w && x.len() >= MIN_CUT));
    out
}

/// How one word of a compound may be written: itself, its skeletons, its first syllable,
/// and (when it is not the last word) its initial; a number word as any number word.
fn part_forms(w: &str, last: bool) -> Vec<String> {
    if NUMBER_WORDS.contains(&w) {
        return NUMBER_WORDS.iter().map(|&n| n.to_owned()).collect();
    }
    let mut out = vec![w.to_owned()];
    if abbreviable(w) {
        let s = skeleton(w);
        out.push(collapse(&s));
        out.push(s);
        out.push(syllable(w).to_owned());
    }
    if !last {
        out.extend(w.get(..1).map(str::to_owned));
    }
    out.sort();
    out.dedup();
    out
}

/// Every derived form of the vocabulary entry `parts` (its words, folded; one word or a
/// compound such as `identity_card`), without the entry itself.
pub fn derived_forms(parts: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = match parts {
        [] => Vec::new(),
        [w] => word_abbreviations(w),
        _ => {
            // Each form with whether a word (not a number word) kept more than its initial:
            // `dnum` (`d` + a number word) says nothing of a document.
            let mut joined = vec![(String::new(), false)];
            for (i, p) in parts.iter().enumerate() {
                let forms = part_forms(p, i + 1 == parts.len());
                let number = NUMBER_WORDS.contains(p);
                joined = joined
                    .iter()
                    .flat_map(|(head, kept)| {
                        forms
                            .iter()
                            .map(move |f| (format!("{head}{f}"), *kept || (!number && f.len() > 1)))
                    })
                    .collect();
            }
            let mut joined: Vec<String> = joined
                .into_iter()
                .filter(|(f, kept)| *kept && f.len() >= MIN_CUT)
                .map(|(f, _)| f)
                .collect();
            if parts.len() >= 3 {
                // `dob`, `ssn`, `tin`, `fin`, `nric`.
                joined.push(parts.iter().filter_map(|p| p.get(..1)).collect());
            }
            joined
        }
    };
    let whole: String = parts.concat();
    out.retain(|f| *f != whole && !hex_only(f) && f.len() >= 2);
    out.sort();
    out.dedup();
    out
}

/// Whether `f` (a derived form) has no vowel at all (`nm`, `phn`, `brth`, `dbtr`): such a form
/// is matched at the end of a longer word too (`fullnm`), where no English word ends so.
pub fn consonants_only(f: &str) -> bool {
    !f.bytes().any(is_vowel)
}

/// The derived forms of a vocabulary (key words or role words), ready to match one folded
/// word of a key, or several glued (`national`,`id` → `nationalid`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derived {
    /// Every derived form and every compound entry: met by a whole word or a run of words.
    whole: Vec<Box<str>>,
    /// Forms of four letters or more derived from one word (`addr`, `brth`, `dbtr`): met as a
    /// word's prefix or suffix too, as vocabulary words of that length are.
    affix: Vec<Box<str>>,
    /// Forms and vocabulary words without a vowel (`nm`, `hp`, `brth`): met at the end of a
    /// word whose rest is a word of three letters or more with a vowel (`fullnm`, `custnm`).
    tail: Vec<Box<str>>,
}

impl Derived {
    /// The forms of `entries`: each one folded, its words joined by `_` (`identity_card`),
    /// `exact` when written `=word` (no derived forms then).
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, bool)>) -> Self {
        let mut d = Derived::default();
        for (entry, exact) in entries {
            let parts: Vec<&str> = entry.split('_').filter(|p| !p.is_empty()).collect();
            if parts.len() > 1 {
                d.whole.push(parts.concat().into_boxed_str());
            } else if parts.len() == 1 && entry.len() >= 2 && consonants_only(entry) {
                // A listed abbreviation (`nm`, `hp`) glued after a word (`fullnm`, `nohp`).
                d.tail.push(entry.into());
            }
            if exact {
                continue;
            }
            for f in derived_forms(&parts) {
                if parts.len() == 1 && f.len() >= MIN_CUT {
                    d.affix.push(f.clone().into_boxed_str());
                }
                if parts.len() == 1 && consonants_only(&f) {
                    d.tail.push(f.clone().into_boxed_str());
                }
                d.whole.push(f.into_boxed_str());
            }
        }
        for v in [&mut d.whole, &mut d.affix, &mut d.tail] {
            v.sort();
            v.dedup();
        }
        // Longest first: the first tail that fits leaves the shortest rest.
        d.tail.sort_by_key(|f| std::cmp::Reverse(f.len()));
        d
    }

    /// Whether the folded word (or glued run of words) `w` is a derived form exactly.
    pub fn is_form(&self, w: &str) -> bool {
        self.whole.binary_search_by(|f| (**f).cmp(w)).is_ok()
    }

    /// Whether the folded word `w` (ASCII lower case) is a derived form, starts or ends with
    /// one of four letters or more, or ends with a vowel-less one after a word (`fullnm`).
    pub fn meets_word(&self, w: &str) -> bool {
        let b = w.as_bytes();
        // Every form is two letters or more, starting with a letter: a digit run or a single
        // letter (most pieces of ids) meets none.
        if b.len() < 2 || !b[0].is_ascii_alphabetic() || self.whole.is_empty() {
            return false;
        }
        if self.is_form(w) {
            return true;
        }
        let (first, last) = (b[0], b[b.len() - 1]);
        self.affix.iter().any(|f| {
            let f = f.as_bytes();
            f.len() < b.len()
                && ((f[0] == first && b.starts_with(f))
                    || (f[f.len() - 1] == last && b.ends_with(f)))
        }) || self.tail.iter().any(|f| {
            let f = f.as_bytes();
            f[f.len() - 1] == last && b.len() >= f.len() + 3 && b.ends_with(f) && {
                let rest = &b[..b.len() - f.len()];
                rest.iter().all(u8::is_ascii_alphabetic) && rest.iter().any(|&c| is_vowel(c))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::derived_forms;

    fn forms(entry: &str) -> Vec<String> {
        let parts: Vec<&str> = entry.split('_').collect();
        derived_forms(&parts)
    }

    #[test]
    fn abbreviations_are_derived_from_the_words() {
        for (entry, want) in [
            ("address", "addr"),
            ("address", "adrs"),
            ("birth", "brth"),
            ("telephone", "tlph"),
            ("debtor", "dbtr"),
            ("attention", "attnt"),
            ("identity", "idnt"),
            ("zip_code", "zipcd"),
            ("birth_date", "bdate"),
            ("date_of_birth", "dob"),
            ("identity_card", "idcard"),
            ("id_number", "idnum"),
            ("id_number", "idno"),
            ("document_number", "docno"),
            ("national_id", "natid"),
            ("foreign_identification_number", "fin"),
            ("account_number", "accno"),
            ("telephone_number", "telno"),
        ] {
            assert!(
                forms(entry).iter().any(|f| f == want),
                "{entry} → {want}: {:?}",
                forms(entry)
            );
        }
    }

    #[test]
    fn no_form_is_a_hex_piece_or_a_common_cut() {
        for entry in [
            "account",
            "bank_account",
            "birth_date",
            "postal",
            "passport",
            "holder",
        ] {
            for f in forms(entry) {
                assert!(!f.bytes().all(|b| matches!(b, b'a'..=b'f')), "{entry}: {f}");
                assert!(
                    !["post", "pass", "hold", "acc", "add"].contains(&f.as_str()),
                    "{entry}: {f}"
                );
            }
        }
        assert!(forms("usia").is_empty());
        assert!(forms("nik").is_empty());
    }
}

#[cfg(test)]
#[path = "abbrev_tests.rs"]
mod class_tests;
