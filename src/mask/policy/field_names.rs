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
use crate::mask::keynorm::{for_each_word, prepare_words};

/// Longest string value read as the name of a field (a key is at most this long in the
/// undeclared-paths listing too), measured once the text is trimmed and its invisible
/// characters are dropped (`last_name` and twenty zero-width spaces is `last_name`).
pub const MAX_FIELD_NAME: usize = 64;

/// Most words of a string value read as the name of a field: `Date of Birth`, `Nama Lengkap
/// Penerima Dana Anda`; a word is a run holding a letter or digit (`&`, `#`, `*` are none).
pub const MAX_FIELD_NAME_WORDS: usize = 6;

/// How a string value names a personal field (see [`KeyWords::naming`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Naming {
    /// It does not.
    None,
    /// One plain word (`email`, `Contacts`, `Recipient`): the container it stands in is
    /// personal. A word alone is too often a code or a channel (`"channel": "email"`) to
    /// reach further.
    Word,
    /// A label: an identifier with a separator or a case change (`first_name`,
    /// `$.customer.first_name`, `/data/attributes/first_name`) or a phrase (`Full Name`,
    /// `Phone #`): the container it stands in is personal, and so is the container around
    /// that one, where the values it labels stand (`columns` beside `rows`, a field
    /// descriptor beside its answer, pydantic's `loc` beside `input`).
    Label,
}

/// Trims what a client trims or a reader does not see from both ends of a label: white
/// space, control characters (NUL), format and default-ignorable characters (zero-width
/// spaces, BOM).
pub(crate) fn trim_label(text: &str) -> &str {
    text.trim_matches(|c: char| {
        c.is_whitespace()
            || c.is_control()
            || (!c.is_ascii() && crate::mask::keynorm::is_invisible(c))
    })
}

/// Whether `t` reads as a sentence rather than a label: a clause break inside (`. `, `: `,
/// `; `, `! `) or a full stop at its end (`Validation failed: email is required`). A
/// sentence that mentions a field is masked whole ([`KeyWords::mentions_field`]); it names no
/// sibling.
fn is_sentence(t: &str) -> bool {
    t.ends_with(['.', '!']) || [". ", ": ", "; ", "! "].iter().any(|b| t.contains(b))
}

/// Whether the one-token identifier `t` is spelled as a field name, a field path or a form
/// field is: it starts with a letter or a path mark (`$`, `/`, `.`, `_`, `[`), holds no
/// punctuation but those and `-` and `:`, and its digits stand at word edges
/// ([`digits_at_word_edges`]).
fn identifier_spelling(t: &str) -> bool {
    let path_mark = |c: char| matches!(c, '_' | '-' | '.' | '/' | '[' | ']' | '$' | ':');
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || (path_mark(c) && c != '-' && c != ':'))
        && t.chars().all(|c| c.is_alphanumeric() || path_mark(c))
        && digits_at_word_edges(t)
        && word_structure(t)
}

/// Whether every segment of the identifier `t` (a run of letters and digits between
/// separators) splits into words as a field name's do. A field name is written in words of
/// a language, and a random id (base62, base64url, nanoid, KSUID, ULID) is a random walk
/// between cases and digits whose case-split pieces are mostly one or two letters long
/// (`…TAn3` is `T|An|3`, `LFzwBYz` is `L|Fzw|BYz`, `…5YNSD` ends in `HP7Z9`): some short
/// piece is then a vocabulary word (`an`, `hp`, `ip`, `kp`). So in a segment of several
/// words, each word of letters has three or more (`first|Name`, `IBAN|Number`, `KTP|nomor`);
/// a shorter one is a word only as a whole segment (`no_hp`, `e.mail`, `HP`) or before
/// digits that close the segment (`E164` of `phoneNumberE164`). The price: a camel-case
/// label of short words (`noHp` as a *value*) names no field; the same key is still a
/// personal key. The residual: a random id with long runs of capitals (`REKKnqwxleZKOLBD`,
/// about one in 7,000 base64 or base62 ids of 16 to 24 characters) can still split into long
/// pieces one of which reads as a key word.
pub(super) fn word_structure(t: &str) -> bool {
    t.split(|c: char| !c.is_alphanumeric())
        .all(|s| s.chars().all(char::is_numeric) || segment_words(s))
}

/// [`word_structure`] for one segment holding a letter.
fn segment_words(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    // A caseless letter (CJK, Arabic) reads as lower case: it never starts a word.
    let lower = |ch: char| ch.is_alphabetic() && !ch.is_uppercase();
    let run = |mut i: usize, f: &dyn Fn(char) -> bool| {
        while i < c.len() && f(c[i]) {
            i += 1;
        }
        i
    };
    // A word of `len` letters ending at `end`: long enough, the whole segment, or followed
    // by digits that close it.
    let word = |start: usize, len: usize, end: usize| {
        len >= 3 || (start == 0 && end == c.len()) || {
            let digits = run(end, &|ch| ch.is_numeric());
            digits > end && digits == c.len()
        }
    };
    // Capitals alone have no case change to start a word at: a digit run inside them sits
    // inside a word (`N25HP7Z9B`), which an upper-case field name never writes (`LINE1`,
    // `E164`, `2FA`: at the segment's edges).
    let caps = !c.iter().any(|&ch| lower(ch));
    let mut i = 0;
    while i < c.len() {
        let start = i;
        if c[i].is_numeric() {
            i = run(i, &|ch| ch.is_numeric());
            if caps && start > 0 && i < c.len() {
                return false;
            }
        } else if lower(c[i]) {
            i = run(i, &lower);
            if !word(start, i - start, i) {
                return false;
            }
        } else {
            let capitals = run(i, &|ch| ch.is_uppercase());
            let tail = run(capitals, &lower);
            let (n, m) = (capitals - start, tail - capitals);
            i = tail;
            let fits = if m == 0 {
                word(start, n, capitals)
            } else {
                // `IBAN|Number` (the last capital starts a word) or `KTP|nomor` (the
                // capitals are one word): some reading leaves only words that fit.
                let title =
                    (n == 1 || word(start, n - 1, capitals - 1)) && word(capitals - 1, m + 1, tail);
                let acronym = word(start, n, capitals) && word(capitals, m, tail);
                title || acronym
            };
            if !fits {
                return false;
            }
        }
    }
    true
}

/// Whether every digit run of the identifier `t` starts or ends a word, as in a field name
/// (`address_line1`, `phone_number_e164`, `1st_name`, `addressLine2Alt`): a word ends at a
/// character that is no letter or digit, at a lower-to-upper case change and at the ends of
/// `t`. A run between a letter and a lower-case or caseless letter (`ac013cfe`, `L9zhx`) sits
/// inside a word, which no field name writes and every hex, base62 or decoded-binary token
/// does.
fn digits_at_word_edges(t: &str) -> bool {
    let c: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_numeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < c.len() && c[i].is_numeric() {
            i += 1;
        }
        // A run that a letter follows continues a word unless the letter starts a new one
        // (upper case); such a run must then start its word (`1st`), not follow a letter.
        let letter = |ch: Option<&char>| ch.is_some_and(|ch| ch.is_alphabetic());
        let continues = c
            .get(i)
            .is_some_and(|ch| ch.is_alphabetic() && !ch.is_uppercase());
        if continues && letter(start.checked_sub(1).and_then(|j| c.get(j))) {
            return false;
        }
    }
    true
}

impl KeyWords {
    /// Whether a string value names a personal field (see the module). `personal`: the
    /// value is personal data itself (under a personal key or a named rule).
    pub fn names_field(&self, text: &str, personal: bool) -> bool {
        self.naming(text, personal) != Naming::None
    }

    /// How a string value names a personal field (see the module and [`Naming`]).
    pub fn naming(&self, text: &str, personal: bool) -> Naming {
        let trimmed = trim_label(text);
        if trimmed.is_empty() || trimmed.len() > MAX_FIELD_NAME * 4 {
            return Naming::None;
        }
        let prepared = prepare_words(trimmed);
        let t = prepared.trim();
        if t.len() > MAX_FIELD_NAME
            // An email address, a URL or a query is a value, not a name.
            || t.contains(['@', '\u{ff20}', '='])
            || !t.contains(char::is_alphanumeric)
        {
            return Naming::None;
        }
        let one_token = !t.contains(char::is_whitespace);
        // Word counts and clause breaks only concern text with spaces (most values are one
        // token: ids, codes, amounts, timestamps).
        if !one_token
            && (t
                .split_whitespace()
                .filter(|w| w.contains(char::is_alphanumeric))
                .count()
                > MAX_FIELD_NAME_WORDS
                || is_sentence(t))
        {
            return Naming::None;
        }
        if t.ends_with(['.', '!']) || t.contains("://") {
            return Naming::None;
        }
        let structured = t.chars().any(|c| !c.is_alphanumeric())
            || t.chars()
                .zip(t.chars().skip(1))
                .any(|(a, b)| a.is_lowercase() && b.is_uppercase());
        // An upper-case identifier of several words is a code from a closed list
        // (`VIRTUAL_ACCOUNT`, `BANK_ACCOUNT`, `NAME_MISMATCH`): payment methods and statuses
        // are written so, and masking the amount beside one would break payments.
        let code = one_token && structured && !t.chars().any(char::is_lowercase);
        if code {
            return Naming::None;
        }
        if one_token && (structured || !t.chars().any(char::is_uppercase)) {
            if !identifier_spelling(t) {
                // Not spelled as a field name is (`9cfd2124…db8a`, `cus_N2fr`, `erV'WA`,
                // `0fHP1/`): an id's or a digest's body, or bytes decoded from one, whose
                // letter runs are no words.
                return Naming::None;
            }
            return match (self.is_personal_key(t), structured) {
                (false, _) => Naming::None,
                (true, true) => Naming::Label,
                (true, false) => Naming::Word,
            };
        }
        let found = if personal {
            // Where a name is expected, a phrase must be a field label: no digits, and its
            // first or last word a vocabulary word of four letters or more.
            let mut ws: Vec<String> = Vec::new();
            for_each_word(t, |w| {
                ws.push(w.to_owned());
                false
            });
            let label = |w: Option<&String>| {
                w.is_some_and(|w| w.len() >= AFFIX_MIN && self.is_text_word_as_written(w))
            };
            if one_token {
                ws.len() == 1 && label(ws.first())
            } else {
                !t.chars().any(char::is_numeric) && (label(ws.first()) || label(ws.last()))
            }
        } else {
            // A vocabulary word (its plural too: `Emails`); a word of one or two letters only
            // in capitals (`No HP`). A role word only as the whole label (`Recipient`): in a
            // phrase it is a description's (`Sandbox customer 1a2b3c`).
            // Words are runs of letters and digits: `acc2e6` (a hex suffix) holds no `acc`.
            t.split(|c: char| !c.is_alphanumeric()).any(|w| {
                let short = w.chars().count() <= 2;
                !w.is_empty()
                    && (!short || !w.chars().any(char::is_lowercase))
                    && self.is_text_word_as_written(w)
            })
            // An identifier among the words (`no_hp #`, `Key firstName`), as a key.
            || t.split_whitespace().any(|tok| {
                let tok = tok.trim_matches(|c: char| !c.is_alphanumeric());
                let case_change = tok
                    .chars()
                    .zip(tok.chars().skip(1))
                    .any(|(a, b)| a.is_lowercase() && b.is_uppercase());
                (tok.contains(['_', '-', '.', '/']) || case_change)
                    && tok.chars().any(char::is_lowercase)
                    && self.is_personal_key(tok)
            })
            // The phrase read as one key (`No Hp` is `nohp`, `E Mail` is `email`): short
            // phrases only, as no vocabulary word is long.
            || (t.len() <= 24 && self.is_text_word(&crate::mask::keynorm::fold_key(t)))
            || (one_token
                && t.chars().all(char::is_alphabetic)
                && self.is_role_word(&crate::mask::keynorm::fold_word(t)))
        };
        match (found, one_token) {
            (false, _) => Naming::None,
            // Where the value is personal data itself, a phrase that reads as a label may be
            // the person's own (`Jalan Sudirman`, a street; `Nama Lengkap`, a name): it names
            // its container, never the one around it.
            (true, true) => Naming::Word,
            (true, false) if personal => Naming::Word,
            (true, false) => Naming::Label,
        }
    }
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

    /// Tokens whose letter runs are no words: hex ids (their digit runs sit inside letter
    /// runs) and the printable bytes a decoding of one yields (punctuation no field name
    /// writes). Each held a vocabulary word or derived form (`cd`, `hp`, `wa`, `kk`) once its
    /// digits split it.
    #[test]
    fn ids_and_decoded_bytes_name_no_field() {
        let w = shipped();
        for t in [
            "9cfd212415db8acccd72be6df99cd119",
            "adead31ac013cfe9afba0ddbedad8f96",
            "5cccdf876d7b1d70e06e08f4d54cfca3",
            "erV'WA",
            "+E;;ICt",
            "0fHP1/",
            "L9zhxKK#z",
        ] {
            assert!(!w.names_field(t, false), "{t}");
        }
        for t in [
            "address_line1",
            "phone_number_e164",
            "addressLine2",
            "$.customer.first_name",
            "/data/attributes/first_name",
            "customer[first_name]",
            "no_hp",
        ] {
            assert!(w.names_field(t, false), "{t}");
        }
    }

    /// Random ids of the common shapes (one id per payment; in a URL path too) name no
    /// field: none of `ID_SAMPLES` (default 2,000) per shape; base64 and base62 session ids
    /// with long capital runs, the residual (`word_structure`), fewer than 1 in 500.
    #[test]
    fn random_ids_name_no_field() {
        use rand::Rng;
        let w = shipped();
        let samples = std::env::var("ID_SAMPLES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(2_000);
        let mut rng = rand::rng();
        let b62: Vec<char> = ('0'..='9').chain('A'..='Z').chain('a'..='z').collect();
        let b64u: Vec<char> = b62.iter().copied().chain(['-', '_']).collect();
        let b64: Vec<char> = b62.iter().copied().chain(['+', '/']).collect();
        let crock: Vec<char> = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".chars().collect();
        let mut pick = |a: &[char], n: usize| -> String {
            (0..n).map(|_| a[rng.random_range(0..a.len())]).collect()
        };
        let (mut hits, mut residual) = (Vec::new(), 0);
        for (shape, alpha, n, pre) in [
            ("base64url, 16 bytes", &b64u, 22, ""),
            ("base64, 12 bytes", &b64, 16, ""),
            ("nanoid", &b64u, 21, ""),
            ("KSUID", &b62, 27, ""),
            ("prefixed ULID", &crock, 26, "txn_"),
            (
                "checkout URL",
                &b62,
                24,
                "https://checkout.paycombat.com/pay/cs_live_",
            ),
        ] {
            let mut found = Vec::new();
            for _ in 0..samples {
                let id = format!("{pre}{}", pick(alpha, n));
                if w.names_field(&id, false) || w.mentions_field(&id) {
                    found.push(id);
                }
            }
            eprintln!("{shape}: {} of {samples}: {found:?}", found.len());
            if matches!(shape, "base64, 12 bytes" | "checkout URL") {
                residual += found.len();
            } else {
                hits.extend(found);
            }
        }
        assert!(hits.is_empty(), "{hits:#?}");
        assert!(residual * 500 < samples, "{residual} of {samples}");
    }
}
