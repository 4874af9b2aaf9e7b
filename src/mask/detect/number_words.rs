//! Numbers spelled in words: how speech-to-text writes a call note, how an IVR transcript or
//! a "confirm your number" echo reads (`zero eight one two …`, `nol delapan satu dua …`,
//! `cero ocho uno dos …`, `0812 three 456 seven 890`). One reading of a text
//! ([`spelled_digits`]): every run of number words and digit groups, separated only by
//! spaces, dashes, commas or full stops, is written as its digits, joined, when the run holds
//! at least two number words; the detectors then judge those digits as they judge any (the
//! digit-run and phone thresholds are theirs). A sentence with a few number words (`one of two
//! payments`, `dua transaksi`) has no run of two words, or too few digits for any shape.
//!
//! The words: the digits of the market's languages (English, Indonesian, Spanish), the
//! teens and tens (`twelve`, `eighty one`, `dua belas`, `delapan puluh satu`, `quince`,
//! `treinta y dos`, `veintidós`) and `double`/`triple` before a digit (`double seven`).
//! Hundreds and thousands are no way to read out a phone or ID number, and are not read.

/// One number word's part in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Word {
    /// A digit.
    Unit(u8),
    /// 10 to 19.
    Teen(u8),
    /// A tens word (`eighty`, `ochenta`): its tens digit; a unit word may follow.
    Tens(u8),
    /// Indonesian `belas` after a unit: `dua belas` is 12.
    Belas,
    /// Indonesian `puluh` after a unit: `delapan puluh` is 80, `delapan puluh satu` 81.
    Puluh,
    /// Spanish `y` between tens and a unit: `treinta y dos` is 32.
    And,
    /// `double`, `triple` before a digit.
    Times(u8),
}

/// The longest number word (`veinticuatro`), in bytes after folding.
const MAX_WORD: usize = 12;

/// Most bytes of separator between two tokens of a run.
const MAX_GAP: usize = 3;

/// The number word `w` is (case and the accents of Spanish folded), if any.
fn word(w: &str) -> Option<Word> {
    if w.len() > MAX_WORD + 4 {
        return None;
    }
    let mut buf = [0u8; MAX_WORD];
    let mut n = 0;
    for c in w.chars() {
        let c = match c.to_ascii_lowercase() {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' => 'u',
            c if c.is_ascii_lowercase() => c,
            _ => return None,
        };
        *buf.get_mut(n)? = c as u8;
        n += 1;
    }
    let w = std::str::from_utf8(&buf[..n]).ok()?;
    const UNITS: [[&str; 10]; 3] = [
        [
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        ],
        [
            "nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
        ],
        [
            "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
        ],
    ];
    const TEENS: [[&str; 10]; 2] = [
        [
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ],
        [
            "diez",
            "once",
            "doce",
            "trece",
            "catorce",
            "quince",
            "dieciseis",
            "diecisiete",
            "dieciocho",
            "diecinueve",
        ],
    ];
    const TENS: [[&str; 8]; 2] = [
        [
            "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
        ],
        [
            "veinte",
            "treinta",
            "cuarenta",
            "cincuenta",
            "sesenta",
            "setenta",
            "ochenta",
            "noventa",
        ],
    ];
    let at = |list: &[&str]| list.iter().position(|x| *x == w).map(|i| i as u8);
    if let Some(d) = UNITS.iter().find_map(|l| at(l)) {
        return Some(Word::Unit(d));
    }
    if let Some(d) = TEENS.iter().find_map(|l| at(l)) {
        return Some(Word::Teen(10 + d));
    }
    if let Some(d) = TENS.iter().find_map(|l| at(l)) {
        return Some(Word::Tens(2 + d));
    }
    // Spanish 21..29 in one word (`veintiuno`, `veintidós`).
    if let Some(Word::Unit(d @ 1..=9)) = w.strip_prefix("veinti").and_then(unit_es) {
        return Some(Word::Teen(20 + d));
    }
    Some(match w {
        "oh" | "kosong" => Word::Unit(0),
        "sepuluh" => Word::Teen(10),
        "sebelas" => Word::Teen(11),
        "belas" => Word::Belas,
        "puluh" => Word::Puluh,
        "y" => Word::And,
        "double" => Word::Times(2),
        "triple" => Word::Times(3),
        _ => return None,
    })
}

/// A Spanish unit after `veinti` (`un` as in `veintiún`).
fn unit_es(w: &str) -> Option<Word> {
    if w == "un" {
        return Some(Word::Unit(1));
    }
    match word(w)? {
        u @ Word::Unit(_) => Some(u),
        _ => None,
    }
}

/// A token of a run: a digit group as written, or a number word.
#[derive(Clone, Copy)]
enum Tok<'a> {
    Digits(&'a str),
    Word(Word),
}

/// `s` with every run of number words and digit groups (see the module) written as its
/// digits, when it holds such a run of at least two number words.
pub(super) fn spelled_digits(s: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut run: Vec<Tok<'_>> = Vec::new();
    let (mut run_start, mut run_end, mut words) = (0, 0, 0usize);
    let mut flush = |run: &mut Vec<Tok<'_>>, start: usize, end: usize, words: usize| {
        if words >= 2 {
            let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
            o.push_str(&s[copied..start]);
            o.push_str(&digits(run));
            copied = end;
        }
        run.clear();
    };
    for (start, end, digit) in tokens(s) {
        let text = &s[start..end];
        let tok = if digit {
            Some(Tok::Digits(text))
        } else {
            word(text).map(Tok::Word)
        };
        let joins = !run.is_empty() && gap_ok(&s[run_end..start]);
        if !joins || tok.is_none() {
            flush(&mut run, run_start, run_end, words);
            words = 0;
        }
        let Some(tok) = tok else { continue };
        if run.is_empty() {
            run_start = start;
        }
        if matches!(
            tok,
            Tok::Word(Word::Unit(_) | Word::Teen(_) | Word::Tens(_))
        ) {
            words += 1;
        }
        run.push(tok);
        run_end = end;
    }
    flush(&mut run, run_start, run_end, words);
    let mut out = out?;
    out.push_str(&s[copied..]);
    Some(out)
}

/// Whether the text between two tokens keeps them in one run: at most [`MAX_GAP`] spaces,
/// dashes, commas and full stops.
fn gap_ok(gap: &str) -> bool {
    gap.len() <= MAX_GAP
        && gap
            .chars()
            .all(|c| c.is_whitespace() || matches!(c, '-' | ',' | '.'))
}

/// The spans of `s`'s letter runs and ASCII digit runs, and which are digits.
fn tokens(s: &str) -> impl Iterator<Item = (usize, usize, bool)> + '_ {
    let mut it = s.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (i, c) = it.next()?;
        let digit = c.is_ascii_digit();
        if !digit && !c.is_alphabetic() {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = it.peek() {
            if (digit && d.is_ascii_digit()) || (!digit && d.is_alphabetic()) {
                end = j + d.len_utf8();
                it.next();
            } else {
                break;
            }
        }
        return Some((i, end, digit));
    })
}

/// The digits a run spells.
fn digits(run: &[Tok<'_>]) -> String {
    let mut out = String::new();
    let d = |n: u8| char::from(b'0' + n);
    let mut i = 0;
    while i < run.len() {
        let next = |k: usize| match run.get(i + k) {
            Some(Tok::Word(w)) => Some(*w),
            _ => None,
        };
        match run[i] {
            Tok::Digits(t) => out.push_str(t),
            Tok::Word(Word::Unit(u)) => match (next(1), next(2)) {
                (Some(Word::Belas), _) => {
                    out.extend([d(1), d(u)]);
                    i += 1;
                }
                (Some(Word::Puluh), Some(Word::Unit(v))) => {
                    out.extend([d(u), d(v)]);
                    i += 2;
                }
                (Some(Word::Puluh), _) => {
                    out.extend([d(u), d(0)]);
                    i += 1;
                }
                _ => out.push(d(u)),
            },
            Tok::Word(Word::Teen(n)) => out.extend([d(n / 10), d(n % 10)]),
            Tok::Word(Word::Tens(t)) => match (next(1), next(2)) {
                (Some(Word::Unit(v @ 1..=9)), _) => {
                    out.extend([d(t), d(v)]);
                    i += 1;
                }
                (Some(Word::And), Some(Word::Unit(v))) => {
                    out.extend([d(t), d(v)]);
                    i += 2;
                }
                _ => out.extend([d(t), d(0)]),
            },
            Tok::Word(Word::Times(k)) => {
                if let Some(Word::Unit(v)) = next(1) {
                    out.extend(std::iter::repeat_n(d(v), usize::from(k)));
                    i += 1;
                }
            }
            Tok::Word(Word::Belas | Word::Puluh | Word::And) => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::spelled_digits;
    use crate::mask::detect::Detectors;

    #[test]
    fn runs_of_number_words_are_read_as_digits() {
        for (text, want) in [
            (
                "zero eight one two three four five six seven eight nine zero",
                "081234567890",
            ),
            (
                "nol delapan satu dua tiga empat lima enam tujuh delapan sembilan nol",
                "081234567890",
            ),
            (
                "cero ocho uno dos tres cuatro cinco seis siete ocho nueve cero",
                "081234567890",
            ),
            ("0812 three 456 seven 890", "081234567890"),
            (
                "call oh eight twelve, thirty four, fifty six",
                "call 08123456",
            ),
            ("nol delapan dua belas tiga puluh empat", "081234"),
            ("Nol-delapan dua belas, tiga puluh", "081230"),
            ("ochenta y uno veintidós", "8122"),
            ("double seven triple one", "77111"),
        ] {
            let got = spelled_digits(text);
            assert_eq!(got.as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn sentences_with_a_few_number_words_are_left_alone() {
        let d = Detectors::default();
        for text in [
            "one of two payments failed",
            "dua transaksi berhasil",
            "paid 150000 for two items",
            "uno de dos pagos",
            "Settlement for 2 payins, one pending",
            "Tiga puluh hari lagi",
            "Refund of 250000 IDR, two of three items, 2024-12-06",
        ] {
            assert_eq!(d.scan(text), None, "{text}");
        }
    }
}
