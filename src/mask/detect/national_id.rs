//! National ID numbers framed by letters, which a digit run cannot see (the letters touch the
//! digits): Singapore's NRIC/FIN (`S1234567D`: S, T, F, G or M, seven digits, a letter) and the
//! UK National Insurance number (`AB123456C`, spaces allowed between its pairs, with HMRC's
//! prefix letters and an A–D suffix). Standing alone, as digit runs do. Counted as
//! [`super::Detector::DigitRun`]: the class of ID and account numbers.

use std::sync::LazyLock;

use regex::Regex;

static FRAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(?:[STFGM]\d{7}[A-Z]",
        r"|[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D])\b",
    ))
    .unwrap_or_else(|e| panic!("national id pattern: {e}"))
});

/// Whether `text` holds a letter-framed national ID.
pub(super) fn find(text: &str) -> bool {
    FRAMED.find_iter(text).any(|m| {
        // `\b` treats `_` as a word character already; a NINO's excluded prefixes are
        // administrative, never issued.
        let head = m.as_str().get(..2).unwrap_or("").to_ascii_uppercase();
        !matches!(
            head.as_str(),
            "BG" | "GB" | "NK" | "KN" | "TN" | "NT" | "ZZ"
        )
    })
}
