//! National ID numbers framed by letters, which a digit run cannot see (the letters touch the
//! digits): Singapore's NRIC/FIN (`S1234567D`: S, T, F, G or M, seven digits, a letter) and the
//! UK National Insurance number (`AB123456C`, spaces allowed between its pairs, with HMRC's
//! prefix letters and an A–D suffix). Standing alone, as digit runs do. And national IDs whose
//! printed form the digit rules exempt, recognised by their check digits (so no payment value
//! fires by chance): China's resident ID ending in the check character `X`
//! (`11010519491231002X`, ISO 7064 MOD 11-2) and Brazil's CPF as printed (`123.456.789-09`,
//! two mod-11 check digits), which reads as a grouped amount with a suffix. Counted as
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

static CHECKSUMMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:\d{17}[Xx]|\d{3}\.\d{3}\.\d{3}-\d{2})\b")
        .unwrap_or_else(|e| panic!("national id pattern: {e}"))
});

/// The digits of `s` as numbers.
fn digit_values(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// China's resident ID: 17 digits and a check character by ISO 7064 MOD 11-2.
fn cn_resident_id(m: &str) -> bool {
    let d = digit_values(&m[..17]);
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, v)| v * ((1u32 << (17 - i)) % 11))
        .sum();
    let check = (12 - sum % 11) % 11;
    check == 10 && m[17..].eq_ignore_ascii_case("x")
}

/// Brazil's CPF: nine digits and two mod-11 check digits (not all digits the same).
fn cpf(m: &str) -> bool {
    let d = digit_values(m);
    if d.len() != 11 || d.iter().all(|&v| v == d[0]) {
        return false;
    }
    let check = |n: usize| {
        let sum: u32 = d[..n]
            .iter()
            .enumerate()
            .map(|(i, v)| v * (n as u32 + 1 - i as u32))
            .sum();
        let r = sum * 10 % 11;
        if r == 10 {
            0
        } else {
            r
        }
    };
    check(9) == d[9] && check(10) == d[10]
}

/// Whether `text` holds a letter-framed or checksummed national ID.
pub(super) fn find(text: &str) -> bool {
    let checksummed = CHECKSUMMED.find_iter(text).any(|m| {
        let m = m.as_str();
        if m.contains('.') {
            cpf(m)
        } else {
            cn_resident_id(m)
        }
    });
    checksummed
        || FRAMED.find_iter(text).any(|m| {
            // `\b` treats `_` as a word character already; a NINO's excluded prefixes are
            // administrative, never issued.
            let head = m.as_str().get(..2).unwrap_or("").to_ascii_uppercase();
            !matches!(
                head.as_str(),
                "BG" | "GB" | "NK" | "KN" | "TN" | "NT" | "ZZ"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn checksummed_ids_are_found_and_near_misses_are_not() {
        for id in [
            "11010519491231002X",
            "123.456.789-09",
            "529.982.247-25",
            "S1234567D",
        ] {
            assert!(find(id), "{id}");
        }
        for not in [
            "11010519491231002Y",
            "123.456.789-00",
            "111.111.111-11",
            "1.500.000-00",
        ] {
            assert!(!find(not), "{not}");
        }
    }
}
