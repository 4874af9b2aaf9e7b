//! An array or an object read as one value: a text or a number spelled across array elements
//! (`["v","i","c",…]`, `[0,8,1,2,…]`, `["0812","3456","7890"]`) or object members
//! (`{"local": "alice", "domain": "example.com"}`, `{"country_code": "62", "area_code":
//! "812", "subscriber": "345678"}`, how phone libraries serialise a number) is the value a
//! client gets by joining them (`arr.join("")`, `" ".join(arr)`, `local + "@" + domain`), and
//! no piece alone shows a shape.
//!
//! **The pieces** ([`pieces`]): the scalar leaves below the container in document order,
//! through nested containers (`[{"d": "0812"}, {"d": "3456"}, …]`, `[["0812"], ["3456"]]`,
//! sibling objects' members) up to [`pieces::MAX_DEPTH`] levels down, a nested container of
//! more than [`pieces::MAX_INLINE`] pieces (a record of a list) standing as a break. `null` and
//! booleans add nothing: what carries no digit does not split a value. A leaf the first
//! reading masked is passed over by the number reading; the text reading reads one masked
//! under its key as a piece, and one that shows a shape alone (a decoy email) or a container
//! masked whole as a break, so what is masked on its own never masks its neighbours. A JSON
//! number of more than one digit in an array, an object member longer than 64 bytes, a
//! declared member and one a field rule judges is a value of its own and breaks the text
//! when it carries a digit.
//!
//! **The readings**: the text pieces joined with nothing, with a space, and (in an object)
//! with `@` between a local-part-like piece and a domain-like one beside it, judged by every
//! detector; and the number reading ([`shape`]): consecutive short digit pieces (an object's
//! members of at most six digits, `"62"`, `"812"`, `"345678"`) judged by the closed grammar of
//! a mobile number or a NIK, not by the digit-run detector, because an object's short numbers
//! side by side are also its amounts, fees and codes (`"150000"`, `"2500"`; `"014"`,
//! `"123456"`).
//!
//! **Join roots**: every container is read so, innermost first; when one's reading fires,
//! it is masked whole (every leaf below it), and the containers around it read its leaves as
//! masked: the smallest container holding the pieces is the one masked. Only on `report`
//! families (in `enforce` every undeclared leaf is masked anyway) and arrays declared
//! `key[]`; a declared object's members are judged by their own kinds.

mod formatted;
#[cfg(test)]
mod payment_tests;
mod pieces;
mod shape;
#[cfg(test)]
mod tests;

use pieces::{Piece, Reader};

use super::{At, Walk};

/// The longest joined text read: as long as a string leaf the detectors read
/// (`MAX_SCANNED_TEXT`). A container with a run of pieces (between two breaks) that joins to a
/// longer text is masked whole, as a longer string is: a reading cut at a bound masks the
/// value.
const MAX_JOINED_TEXT: usize = 64 * 1024;

/// What a break stands as in the joined text: a list mark, so the pieces on either side are
/// not read as one.
const BREAK: &str = "; ";

impl Walk<'_> {
    /// Whether the array or object source text `src` (at `at`), whose first reading wrote
    /// `out`, holds two or more pieces whose joined readings (see the module) are personal,
    /// or whose joined text is too long to read.
    pub(super) fn joined_personal(&self, src: &str, out: &[u8], at: At, object: bool) -> bool {
        let Some(p) = self.pol.as_ref() else {
            return false;
        };
        // A declared array is read joined like an undeclared one: elements that each fit their
        // kind say nothing of what they spell together (`["x0","x8","x1",…]`), and the
        // elements of a scalar declaration (`status: [0, 8, 1, …]`) are undeclared. A declared
        // object's members are judged by their own kinds.
        if object && at.decl.is_some_and(|d| p.policy.declared.is_declared(d)) {
            return false;
        }
        let Ok(out) = std::str::from_utf8(out) else {
            return false;
        };
        let declared = &p.policy.declared;
        let fields = &self.m.fields;
        let mut fold = String::new();
        // A member a declaration or a field rule judges is a value of its own.
        let mut member = |decl: Option<u32>, k: &str| {
            let child = decl.and_then(|d| declared.child(d, k));
            let ruled = match fields.spelling() {
                crate::mask::rules::Spelling::Exact => fields.get_formed(k).is_some(),
                crate::mask::rules::Spelling::Folded => fields
                    .get_formed(crate::mask::keynorm::fold_key_into(k, &mut fold))
                    .is_some(),
            };
            (
                child,
                ruled || child.is_some_and(|c| declared.is_declared(c)),
            )
        };
        // `[["…"]]` under a declared `key[]` is a shape the declaration did not describe.
        let item = |decl: Option<u32>| decl.filter(|&d| declared.takes_array(d));
        let decl = if object { at.decl } else { item(at.decl) };
        let detectors = p.policies.detectors();
        let shows = |t: &str| {
            let (found, bounded) = detectors.scan_bounded(t);
            found.is_some() || bounded
        };
        let reader = Reader::new(src, out, &mut member, &item, &shows);
        let Some(pieces) = reader.read(object, decl) else {
            return false;
        };
        if pieces.iter().filter(|t| t.counts()).count() < 2 {
            return false;
        }
        if shape::spells_number(&pieces) {
            return true;
        }
        let parts: Vec<&str> = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) | Piece::Hidden(t) => t.as_str(),
                // A one-digit member is a digit of a number spelled across members.
                Piece::Num(d) if d.len() == 1 => d.as_str(),
                Piece::Num(_) | Piece::Break | Piece::Gap => BREAK,
            })
            .collect();
        // A break ends a value: the pieces on either side are never read as one, so each run
        // of pieces between breaks is read alone. A run of one piece is a leaf the first
        // reading already judged. The length bound is a run's, never the container's: a list
        // of a thousand records, each a break, is a thousand short runs, not one text too long
        // to read.
        parts
            .split(|t| *t == BREAK)
            .filter(|run| run.len() >= 2)
            .any(|run| {
                let len: usize = run.iter().map(|t| t.len() + 1).sum();
                len > MAX_JOINED_TEXT || readings(run, object).iter().any(|t| shows(t))
            })
    }
}

/// The joined readings of `parts` (see the module): with nothing, with a space, and for an
/// object every adjacent local-part-like and domain-like pair (in either order: objects are
/// often written with their keys sorted, `domain` before `local_part`) as `local@domain`.
/// Not for an array: a list of dotted names (`["individual.first_name",
/// "individual.email"]`, the fields a wallet still needs) is pairs of that shape, and what
/// the list's order says is its own.
fn readings(parts: &[&str], object: bool) -> Vec<String> {
    let mut out = vec![parts.concat(), parts.join(" ")];
    if !object {
        return out;
    }
    let mut emails = String::new();
    for pair in parts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        for (local, domain) in [(a, b), (b, a)] {
            if local_like(local) && domain_like(domain) {
                emails.push_str(local);
                emails.push('@');
                emails.push_str(domain);
                emails.push(' ');
            }
        }
    }
    if !emails.is_empty() {
        out.push(emails);
    }
    out
}

/// An email's local part: at most 64 letters, digits and `.`, `_`, `%`, `+`, `-`, starting
/// with a letter or digit.
fn local_like(t: &str) -> bool {
    (1..=64).contains(&t.len())
        && t.starts_with(|c: char| c.is_ascii_alphanumeric())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'))
}

/// A host name: dot-separated labels of letters, digits and `-`, the last all letters (two
/// or more).
fn domain_like(t: &str) -> bool {
    let t = t.trim_end_matches('.');
    let mut labels = t.split('.');
    let last = labels.next_back().unwrap_or_default();
    t.contains('.')
        && t.len() <= 253
        && last.len() >= 2
        && last.bytes().all(|b| b.is_ascii_alphabetic())
        && labels
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}
