//! Key/value pairs written into text, read by one reader and judged by the key classifier the
//! walk uses for JSON keys ([`KeyWords::classify_key`]).
//!
//! Text carries fields in many notations; what a client that parses it reads is a key and a
//! value either way. The reader knows these notations:
//! - `key=value` (a query string, a form body, `key=value` logs, logfmt, SQL `key='value'`,
//!   XML and HTML attributes `key="value"`), the key framed by the start of the text, white
//!   space, `?`, `&`, `;`, `,` or `(`; the value quoted, or up to `&`, `;`, `,` or a line end;
//! - `"key": value`, `'key': value` (JSON, Python and JS reprs), the value quoted or up to `,`,
//!   `}` or a line end;
//! - `<key>value</key>` (XML elements);
//! - CSV: a header line and the rows under it, comma-, semicolon- or tab-separated.
//!
//! A pair is personal when its key is personal by the key words (any value), or names a party
//! by a role word and its value is a person's as the walk judges one under that key: under a
//! role word alone (`payer=…`) any value that is no identifier, under a key with a role word
//! among others (`payer_name` is a key word anyway; `payer_display`) a value written as a name.

use super::words::KeyWords;

/// Longest text read for pairs (a header and rows of CSV, a query string): a longer text is
/// still read by every other check.
const MAX_TEXT: usize = 16 * 1024;
/// Most pairs read from one text.
const MAX_PAIRS: usize = 256;
/// Longest key read.
const MAX_KEY: usize = 64;

/// How the key classifier reads a key (the walk's `CheckedKey` is built from the same).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyClass {
    /// A key word names personal data: everything under the key is personal.
    pub personal: bool,
    /// The key is a role word alone (`payer`, `Cdtr`): a value that is no identifier is a
    /// person's.
    pub role: bool,
    /// One of its words is a role word (`payer_info`, `UltmtDbtr`): a value written as a
    /// person's name is one.
    pub role_word: bool,
}

impl KeyWords {
    /// The key classifier: key words, role words alone, role words among others.
    pub fn classify_key(&self, raw_key: &str) -> KeyClass {
        let personal = self.is_personal_key(raw_key);
        KeyClass {
            personal,
            role: !personal && self.is_role_key(raw_key),
            role_word: !personal && self.has_role_word(raw_key),
        }
    }

    /// Whether a pair written into `text` is personal (see the module).
    pub fn pairs_personal(&self, text: &str) -> bool {
        if text.len() > MAX_TEXT || self.words().next().is_none() {
            return false;
        }
        let mut n = 0;
        for_each_pair(text, |key, value| {
            n += 1;
            n > MAX_PAIRS || self.pair_personal(key, value)
        })
    }

    fn pair_personal(&self, key: &str, value: &str) -> bool {
        let key = key.trim();
        let value = value.trim().trim_matches(['"', '\'']).trim();
        // Every personal reading of a pair needs a value with letters (a name, an address):
        // most pairs in payment text (`10:00`, `amount=100`) stop here, before the classifier.
        let letters = value.chars().filter(|c| c.is_alphabetic()).count() >= 2;
        if !letters || key.is_empty() || key.len() > MAX_KEY {
            return false;
        }
        if !key.bytes().any(|b| b.is_ascii_alphabetic())
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' '))
        {
            return false;
        }
        let class = self.classify_key(key);
        class.personal
            // The JSON walk's rule under a role (one grammar: `kind`): a role key's value is
            // the person unless it has an id shape; in a key with a role word, anything but an
            // id, code, amount or timestamp.
            || (class.role && !super::kind::is_id(value))
            || (class.role_word && !super::kind::is_neutral_token(value))
    }
}

/// Calls `f` with each key/value pair the text writes (see the module); stops as soon as `f`
/// says true.
pub fn for_each_pair(text: &str, mut f: impl FnMut(&str, &str) -> bool) -> bool {
    assignments(text, &mut f) || xml_elements(text, &mut f) || csv_rows(text, &mut f)
}

/// Bytes of a key as text writes one: `customer[first_name]`, `payer.name`, `last-name`.
fn key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']')
}

/// `key=value`, `"key": value`, `'key': value`, `key: value`.
fn assignments(text: &str, f: &mut impl FnMut(&str, &str) -> bool) -> bool {
    let b = text.as_bytes();
    memchr::memchr2_iter(b'=', b':', b).any(|sep| {
        // `==`, `:=`, `://` are no assignments.
        if b.get(sep + 1).is_some_and(|&c| c == b'=' || c == b'/') {
            return false;
        }
        let mut end = sep;
        while end > 0 && b[end - 1] == b' ' {
            end -= 1;
        }
        let key = match end.checked_sub(1).map(|i| b[i]) {
            Some(q @ (b'"' | b'\'')) => {
                let close = end - 1;
                let from = close.saturating_sub(MAX_KEY);
                let Some(open) = memchr::memrchr(q, &b[from..close]).map(|i| from + i) else {
                    return false;
                };
                &text[open + 1..close]
            }
            _ => {
                let mut start = end;
                while start > 0 && key_byte(b[start - 1]) && end - start < MAX_KEY {
                    start -= 1;
                }
                let framed = start == 0
                    || matches!(
                        b[start - 1],
                        b'?' | b'&' | b';' | b',' | b'(' | b'{' | b' ' | b'\t' | b'\n' | b'\r'
                    );
                if !framed {
                    return false;
                }
                &text[start..end]
            }
        };
        let value = value_after(text, sep + 1);
        !key.is_empty() && f(key, value)
    })
}

/// The value that starts after `from`: a quoted string, or the text up to the next `&`, `;`,
/// `,`, `}`, `<` or line end.
fn value_after(text: &str, from: usize) -> &str {
    let rest = text.get(from..).unwrap_or_default();
    let trimmed = rest.trim_start_matches([' ', '\t']);
    if let Some(q) = trimmed.chars().next().filter(|c| matches!(c, '"' | '\'')) {
        let inner = &trimmed[1..];
        return inner.find(q).map_or(inner, |i| &inner[..i]);
    }
    let end = trimmed
        .find(['&', ';', ',', '}', '<', '\n', '\r'])
        .unwrap_or(trimmed.len());
    &trimmed[..end]
}

/// `<key>value</key>`, and `<key attr="…">value</key>`.
fn xml_elements(text: &str, f: &mut impl FnMut(&str, &str) -> bool) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'<', b).any(|open| {
        let name_from = open + 1;
        let mut name_end = name_from;
        while name_end < b.len() && (key_byte(b[name_end]) || b[name_end] == b':') {
            name_end += 1;
        }
        if name_end == name_from || name_end - name_from > MAX_KEY {
            return false;
        }
        let Some(gt) = memchr::memchr(b'>', &b[name_end..]).map(|i| name_end + i) else {
            return false;
        };
        if b[gt - 1] == b'/' {
            return false;
        }
        let body = &text[gt + 1..];
        let value = body.find('<').map_or(body, |i| &body[..i]);
        f(&text[name_from..name_end], value)
    })
}

/// A header line and the rows under it: each row's fields paired with the header's.
fn csv_rows(text: &str, f: &mut impl FnMut(&str, &str) -> bool) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return false;
    };
    let Some(sep) = [',', ';', '\t', '|']
        .into_iter()
        .find(|&c| header.contains(c))
    else {
        return false;
    };
    let names: Vec<&str> = header.split(sep).collect();
    lines.any(|row| {
        row.split(sep)
            .zip(&names)
            .any(|(value, name)| f(name.trim().trim_matches(['"', '\'']), value))
    })
}

#[cfg(test)]
mod tests {
    fn shipped() -> super::KeyWords {
        crate::mask::default_settings().policies.key_words().clone()
    }

    #[test]
    fn role_and_key_words_in_every_notation_mark_their_value() {
        let w = shipped();
        for t in [
            "payer=Alice+Stqs&amount=100",
            "recipient=Alice Stpct",
            "payer=Alice Stkv",
            "<payer>Alice Stxml</payer>",
            "payer,amount\nAlice Stcsv,100",
            "{'payer': 'Alice Strepr'}",
            "beneficiary='Alice Stsql'",
            "<Dbtr><Nm>Budi Hartono</Nm></Dbtr>",
            "debtor: Alice Victimson",
            "<x remitter=\"Alice V\"/>",
            "ts=1 level=info payer_display=\"Alice Victimson\"",
            "name;amount\nAlice;100",
        ] {
            assert!(w.pairs_personal(t), "{t}");
        }
    }

    #[test]
    fn payment_pairs_are_not_personal() {
        let w = shipped();
        for t in [
            "payer_id=cus_123&amount=100",
            "status=paid&currency=IDR",
            "customer_type=individual",
            "payer=cus_N2fr9",
            "<status>PAID</status>",
            "id,amount,currency\npay_1,100,IDR",
            "https://m.example/r?ref=INV-1&amount=150000",
            "a=b",
            "Settlement, batch 12\nOK",
            "",
        ] {
            assert!(!w.pairs_personal(t), "{t}");
        }
    }
}
