//! The number reading of a container's pieces: short digit pieces next to each other (object
//! members of at most six digits, digit strings of array elements; `null`, booleans and
//! masked leaves between them add nothing) joined, judged by a closed grammar of the
//! market's personal numbers rather than by the digit-run detector: an object's short numbers
//! side by side are also its amounts, fees, bank and payment codes, a card's last four and
//! expiry (`"150000"`, `"2500"`; `"014"`, `"123456"`), and a run of seven digits says
//! nothing of those. Two grammars:
//!
//! - an Indonesian mobile number: `08` or `628`, an operator's prefix, then the subscriber
//!   (10 to 13 digits from `0`); a piece `62` (the country code) is read in front of the
//!   others wherever it stands;
//! - a NIK: 16 digits of a province, a regency, a district, a date of birth and a serial.

use super::pieces::Piece;

/// The longest number the grammars describe (a NIK).
const MAX_DIGITS: usize = 16;

/// Whether two or more consecutive digit pieces of `pieces` (see the module) join to a
/// mobile number or a NIK.
pub(super) fn spells_number(pieces: &[Piece]) -> bool {
    let mut run: Vec<&str> = Vec::new();
    for p in pieces.iter().chain([&Piece::Break]) {
        match p {
            Piece::Num(d) => run.push(d),
            Piece::Text(t) if is_digit_piece(t) => run.push(t),
            // Masked: not between the pieces the client reads.
            Piece::Hidden(_) | Piece::Gap => {}
            _ => {
                if run_spells(&run) {
                    return true;
                }
                run.clear();
            }
        }
    }
    false
}

/// A text piece that is a short digit string (an array element `"0812"`).
fn is_digit_piece(t: &str) -> bool {
    (1..=super::pieces::MAX_NUM_PIECE).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
}

/// Whether some two or more consecutive pieces of `run` join to a number of the grammars,
/// in document order or with the country code `62` among them moved to the front: objects
/// are often written with their keys sorted (`area_code`, `country_code`, `subscriber`).
fn run_spells(run: &[&str]) -> bool {
    let mut joined = String::with_capacity(MAX_DIGITS);
    for i in 0..run.len() {
        for j in i + 2..=run.len() {
            let window = &run[i..j];
            if holds_month_and_year(window) {
                continue;
            }
            joined.clear();
            window.iter().for_each(|p| joined.push_str(p));
            if joined.len() > MAX_DIGITS {
                break;
            }
            if mobile(&joined) || nik(&joined) {
                return true;
            }
            if let Some(k) = window.iter().skip(1).position(|p| *p == COUNTRY) {
                joined.clear();
                joined.push_str(COUNTRY);
                for (n, p) in window.iter().enumerate() {
                    if n != k + 1 {
                        joined.push_str(p);
                    }
                }
                if mobile(&joined) {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether `window` holds a month (`01`–`12`, two digits) and a year (`1900`–`2099`) side by
/// side, in either order: a date's parts (a card's expiry month and year beside its last four,
/// `"0811"`, `"01"`, `"2025"`), not pieces of a number. The price: a number split so that two
/// of its pieces read as a month and a year side by side (about 1 in 400 splits into a 2-digit
/// and a 4-digit piece) is not read joined.
fn holds_month_and_year(window: &[&str]) -> bool {
    let month = |p: &str| p.len() == 2 && matches!(p.parse::<u8>(), Ok(1..=12));
    let year = |p: &str| p.len() == 4 && matches!(p.parse::<u16>(), Ok(1900..=2099));
    window
        .windows(2)
        .any(|w| (month(w[0]) && year(w[1])) || (year(w[0]) && month(w[1])))
}

/// Indonesia's country calling code.
const COUNTRY: &str = "62";

/// The mobile prefixes after `08` (`0811`…`0899`) the Indonesian operators hold.
fn operator(two: &[u8]) -> bool {
    matches!(
        two,
        [b'1', b'1'..=b'9']
            | [b'2', b'1'..=b'3']
            | [b'3', b'1'..=b'3' | b'8']
            | [b'5', b'1'..=b'3' | b'5'..=b'9']
            | [b'7', b'7' | b'8']
            | [b'8', b'1'..=b'9']
            | [b'9', b'5'..=b'9']
    )
}

/// `08` + operator + subscriber, 10 to 13 digits; or `62` + `8` + operator + subscriber, 11
/// to 14.
pub(super) fn mobile(d: &str) -> bool {
    let b = d.as_bytes();
    let rest = if let Some(r) = b.strip_prefix(b"08") {
        r
    } else if let Some(r) = b.strip_prefix(b"628") {
        r
    } else {
        return false;
    };
    rest.len() >= 2 && operator(&rest[..2]) && (8..=11).contains(&rest.len())
}

/// 16 digits: a province code, a regency code (never `00`), a district, a date of birth
/// (a day `01`–`31`, `41`–`71` for a woman, a month `01`–`12`, either `00` as test and
/// placeholder numbers write them), and a serial (never `0000`). Short codes and amounts side
/// by side rarely fit it all: a run ending in an amount ends in `0000`, a year where the
/// month stands is no month.
pub(super) fn nik(d: &str) -> bool {
    let b = d.as_bytes();
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    b.len() == MAX_DIGITS
        && &b[2..4] != b"00"
        && &b[12..] != b"0000"
        && matches!(two(6), 0..=31 | 41..=71)
        && two(8) <= 12
        && matches!(
            (b[0], b[1]),
            (b'1', b'1'..=b'9')
                | (b'2', b'1')
                | (b'3', b'1'..=b'6')
                | (b'5', b'1'..=b'3')
                | (b'6', b'1'..=b'5')
                | (b'7', b'1'..=b'6')
                | (b'8', b'1' | b'2')
                | (b'9', b'1'..=b'6')
        )
}
