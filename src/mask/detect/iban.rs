//! IBANs: two letters, two check digits, then 11 to 30 letters and digits (single spaces
//! or dashes allowed, as in the printed and the typed forms), accepted only when the `iban_validate` crate finds the
//! country in the SWIFT registry, the length and BBAN format of that country, and the
//! mod-97 checksum valid. Lower case is read as upper case (people type them so).

use std::sync::LazyLock;

use regex::Regex;

static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}")
        .unwrap_or_else(|e| panic!("iban pattern: {e}"))
});

/// The longest IBAN (ISO 13616).
const MAX_LEN: usize = 34;
const MIN_LEN: usize = 15;

/// Whether `text` holds a valid IBAN.
pub(super) fn find(text: &str) -> bool {
    CANDIDATE.find_iter(text).any(|m| valid_prefix(m.as_str()))
}

/// Whether some prefix of the candidate (spaces and dashes removed, upper-cased) is a valid IBAN: the
/// pattern is greedy, so `DE44500105175407324931 and` is matched with ` and` glued on.
fn valid_prefix(candidate: &str) -> bool {
    let mut buf = [0u8; MAX_LEN];
    let mut len = 0;
    for b in candidate.bytes().filter(|&b| b != b' ' && b != b'-') {
        if len == MAX_LEN {
            break;
        }
        buf[len] = b.to_ascii_uppercase();
        len += 1;
    }
    (MIN_LEN..=len)
        .any(|n| std::str::from_utf8(&buf[..n]).is_ok_and(|s| s.parse::<iban::Iban>().is_ok()))
}
