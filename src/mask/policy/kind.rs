//! What a declared field may hold: a declaration names a field **and its kind**, and a leaf is
//! copied only when its value fits that kind. A declaration says what the field is, not that
//! upstream put the right thing in it: `"customer_id": "Alice Victimson"` or
//! `"is_active": "Jalan Melati 42"` is a value its field cannot hold, so it is masked (with the
//! family's default strategy, counted under the `kind` reason) instead of copied.
//!
//! Each kind is a closed grammar chosen so that text a person would write (a name, an address,
//! a date of birth, a sentence) does not fit it: no kind that copies a string accepts a blank,
//! and the two that accept letters only (`code`, `field`) accept one letter case per token. A
//! `null` fits every kind (it carries nothing). `personal` fits nothing: the key is known (and
//! copied, so clients keep the schema's shape) and its value is always masked.

use std::sync::Arc;

/// Longest `id`, `code` and `field` value accepted.
const MAX_TOKEN: usize = 128;
/// Longest `url` accepted.
const MAX_URL: usize = 2048;
/// Most digits of a `count` (as of a count in a header): below any identity number (a 9-digit
/// SSN), phone number or date of birth written as digits (`19900517`).
const MAX_COUNT_DIGITS: usize = 6;
/// Most digits of an id's number body (`REF-482913`), and of a digit run in a base62 body: the
/// shortest identity or phone number the detectors look for has 7.
const MAX_REF_DIGITS: usize = 6;
/// Most digits a value that copies a string may spell **in all**, read together whatever
/// stands between them (letters, separators, dots, slashes), outside an opaque id: an id's
/// or a code's digits, a URL's. Below the shortest number the detectors look for (a run of 7),
/// so no phone, NIK, card, SSN or date of birth written as digits fits, however it is cut.
const MAX_SPELLED_DIGITS: usize = 6;
/// Fewest digits of an id's hex body: more than a card number's 19.
const MIN_HEX_BODY: usize = 24;
/// Most digits of a timestamp's fraction: microseconds, below a 7-digit run.
const MAX_FRACTION_DIGITS: usize = 6;
/// Most integer digits of an `amount`, and most fraction digits.
const MAX_AMOUNT_DIGITS: usize = 10;
const MAX_AMOUNT_FRACTION: usize = 8;

/// The kinds built in, as written after `:` in a declaration.
pub const BUILT_IN: [&str; 10] = [
    "flag",
    "id",
    "timestamp",
    "code",
    "count",
    "amount",
    "field",
    "url",
    "text",
    "personal",
];

/// A leaf as the walk met it.
#[derive(Clone, Copy, Debug)]
pub enum Leaf<'a> {
    /// A string value, decoded.
    Str(&'a str),
    /// A number's source text.
    Number(&'a str),
    Bool,
}

/// The kind of a declared field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A JSON boolean.
    Flag,
    /// An identifier's shape ([`is_id`]): a UUID, or a prefix of one-case words and a hex
    /// body, or a one-word prefix and a base62 or short-number body: `customer_67d8…`,
    /// `org_59b8…`, `REF-482913`, `cus_N2fr`, `api_access_key:AK_FINMO_SBX_07C5090****CCBC7F`.
    /// Outside a hex body at most 6 digits in all: no phone, ID or card number, date of birth
    /// or mixed-case name fits, alone, glued to letters or cut by them.
    Id,
    /// An RFC 3339 date-time as paycombat writes it: `2024-12-06T03:53:52.779Z`,
    /// `2024-12-06T10:53:52+07:00`; year 1970–2099, a fraction of at most 6 digits, an offset
    /// of at most 14 hours and 00, 30 or 45 minutes. A bare date (a date of birth) is none.
    Timestamp,
    /// A short token of ASCII letters, digits and `_`, starting with a letter, its letters
    /// all of one case, at most 6 digits in all: `individual`, `NOT_STARTED`, `OK`.
    Code,
    /// A JSON integer from 0 to 999999 (six digits, as a count in a header).
    Count,
    /// A decimal amount, as a JSON number or a string: an optional `-`, 1 to 10 integer
    /// digits without a leading zero, an optional fraction of 1 to 8 digits (`150000.00`).
    Amount,
    /// A dotted path of lower-case snake-case field names, each word letters then up to three
    /// digits, six digits in all: `individual.first_name`, `individual.phone_number_e164`.
    Field,
    /// An absolute `http`/`https` URL: a hostname, an optional port and a path of
    /// unreserved characters; no user info, query, fragment or percent escapes; at most 6
    /// digits in all outside opaque segments ([`url_digits`]). Its host labels and path
    /// segments are read by the detectors one by one ([`url_parts`]).
    Url,
    /// Any value. Copies whatever upstream writes there (the detectors that run on declared
    /// leaves still do): for an operator's own free-text field, never shipped.
    Text,
    /// A known personal field: its key is copied, its value always masked.
    Personal,
    /// One of a closed set of strings (`mask.policy.enums`), compared exactly.
    Enum {
        name: Arc<str>,
        values: Arc<[Box<str>]>,
    },
    /// Any of several kinds, written `flag|code`: a value fits when it fits one of them.
    OneOf { name: Arc<str>, kinds: Arc<[Kind]> },
}

impl Kind {
    /// A built-in kind by name.
    pub fn built_in(name: &str) -> Option<Kind> {
        Some(match name {
            "flag" => Kind::Flag,
            "id" => Kind::Id,
            "timestamp" => Kind::Timestamp,
            "code" => Kind::Code,
            "count" => Kind::Count,
            "amount" => Kind::Amount,
            "field" => Kind::Field,
            "url" => Kind::Url,
            "text" => Kind::Text,
            "personal" => Kind::Personal,
            _ => return None,
        })
    }

    /// The name it is written with.
    pub fn name(&self) -> &str {
        match self {
            Kind::Flag => "flag",
            Kind::Id => "id",
            Kind::Timestamp => "timestamp",
            Kind::Code => "code",
            Kind::Count => "count",
            Kind::Amount => "amount",
            Kind::Field => "field",
            Kind::Url => "url",
            Kind::Text => "text",
            Kind::Personal => "personal",
            Kind::Enum { name, .. } | Kind::OneOf { name, .. } => name,
        }
    }

    /// Whether `leaf`, an element of an array declared `key[]`, is a value this field can
    /// hold: as [`Kind::fits`], but a flag is never an array's element (a list of booleans
    /// spells bits).
    pub fn fits_item(&self, leaf: Leaf<'_>) -> bool {
        match (self, leaf) {
            (Kind::Flag, _) => false,
            (Kind::OneOf { kinds, .. }, leaf) => kinds.iter().any(|k| k.fits_item(leaf)),
            _ => self.fits(leaf),
        }
    }

    /// Whether a string that fits this kind is read part by part too ([`url_parts`]).
    pub fn is_url(&self) -> bool {
        match self {
            Kind::Url => true,
            Kind::OneOf { kinds, .. } => kinds.iter().any(Kind::is_url),
            _ => false,
        }
    }

    /// Whether `leaf` is a value this field can hold.
    pub fn fits(&self, leaf: Leaf<'_>) -> bool {
        match (self, leaf) {
            (Kind::Flag, Leaf::Bool) => true,
            (Kind::Count, Leaf::Number(n)) => is_count(n),
            (Kind::Amount, Leaf::Number(n) | Leaf::Str(n)) => is_amount(n),
            (Kind::Id, Leaf::Str(s)) => is_id(s),
            (Kind::Timestamp, Leaf::Str(s)) => is_timestamp(s),
            (Kind::Code, Leaf::Str(s)) => is_code(s),
            (Kind::Field, Leaf::Str(s)) => is_field(s),
            (Kind::Url, Leaf::Str(s)) => is_url(s),
            (Kind::Text, _) => true,
            (Kind::Enum { values, .. }, Leaf::Str(s)) => values.iter().any(|v| &**v == s),
            (Kind::OneOf { kinds, .. }, leaf) => kinds.iter().any(|k| k.fits(leaf)),
            _ => false,
        }
    }
}

/// Whether `s` has an identifier's shape: the one grammar of `id` leaves, shared with the
/// role-word check (a string under `payer` is kept only when it is an id by this rule).
///
/// Built in (not configuration), so that no configuration can widen it to a name:
/// - a UUID (`3f2b8c1e-9a4d-4e7b-8f00-1c2d3e4f5a6b`, either letter case), or a bare hex
///   body as below (a digest: `9f86d081884c7d659a2feaa0c55ad015`);
/// - a **prefix and a hex body**: the prefix one to six words of ASCII letters, each word of
///   one letter case (`customer`, `org`, `api_access_key:AK_FINMO_SBX`), joined by `_`, `-`
///   or `:`, then one of those separators and 24 to 64 hex digits (or `*`, a masked digit) of
///   one letter case: the cache's `customer_` + 32 hex (`cache.id_pattern`), `org_…`, the
///   Finmo access key `…07C5090*******************CCBC7F`. Opaque: longer than any phone,
///   identity or card number, so a 16-digit NIK or card behind a prefix (`nik_3173…`) is no
///   hex body;
/// - a **one-word prefix and a short body**, the body holding at most 6 digits **in all**
///   (read together, whatever letters stand between them):
///   - 4 to 64 letters and digits, at least one of each, every letter run at most 3 letters
///     of one case (`cus_N2fr`: random base62, not a word, a name's capital or a number);
///   - 1 to 6 digits (`REF-482913`, `beneficiary_1`).
///
/// Why the whole body and one word: digits cut by letters are still the number a reader
/// joins (`cus_081234x567890` is a phone, `ssn_123x45x6789` an SSN), and a multi-word prefix
/// before a number is how a name is written beside a DOB or phone stub
/// (`budi-hartono_170590`), never how paycombat or the sandbox writes a non-opaque id. A
/// capital before lower-case letters is a written word (`cus_Ali1Vic2Tim3Son4`). So no phone,
/// NIK, card or SSN (7 or more digits outside a hex body, glued to letters, cut by them or
/// not), no DOB written as digits (`alice_victimson_17051990`), no mixed-case name
/// (`Alice`, `Ali1Vic2`) and no multi-word text ending in a number
/// (`jalan-melati-42-jakarta`) is an id. At most 128 bytes.
pub fn is_id(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_TOKEN || !s.is_ascii() {
        return false;
    }
    if is_uuid(s) || hex_body(s) {
        return true;
    }
    // Every split point between a prefix and a body.
    s.char_indices()
        .filter(|&(_, c)| matches!(c, '_' | '-' | ':'))
        .any(|(i, _)| {
            let (prefix, body) = (&s[..i], &s[i + 1..]);
            prefix_words(prefix).is_some_and(|words| {
                hex_body(body) || (words == 1 && (base62_body(body) || short_number(body)))
            })
        })
}

/// Whether `s` is an opaque id: a UUID, or 24 to 64 hex digits of one case, alone or after a
/// prefix of words (`customer_67d84b19…`). Random bytes written out: no piece of a spelled
/// value, and no number a person owns.
pub fn is_opaque_id(s: &str) -> bool {
    if s.len() > MAX_TOKEN || !s.is_ascii() {
        return false;
    }
    is_uuid(s)
        || hex_body(s)
        || s.char_indices()
            .filter(|&(_, c)| matches!(c, '_' | '-' | ':'))
            .any(|(i, _)| prefix_words(&s[..i]).is_some() && hex_body(&s[i + 1..]))
}

/// Whether `s` is a string a party's record holds beside the party's names: an id
/// ([`is_id`]), a code (`individual`, `IDR`, `PENDING`), an amount or a timestamp, or
/// empty. Under a role word every other string is personal.
pub fn is_neutral_token(s: &str) -> bool {
    s.is_empty() || is_id(s) || is_code(s) || is_amount(s) || is_timestamp(s)
}

/// Whether a part of a URL ([`url_parts`]) holds a run of `min` or more decimal digits glued
/// to letters (`a081234567890`), which the digit-run detector leaves to references: in a
/// URL's path only an opaque id (a UUID or a hex body of 24 or more) may hold such a run.
/// Separators inside the run do not break it (`a123-45-6789`: an SSN glued to a letter).
pub fn glued_number(part: &str, min: usize) -> bool {
    if is_uuid(part) || hex_body(part) {
        return false;
    }
    let digits: String = part
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | '~'))
        .collect();
    longest_run(&digits, |c| c.is_ascii_digit()) >= min
}

/// `8-4-4-4-12` hex digits, one letter case.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
        && one_case(s)
}

/// The number of words of an id's prefix: 1 to 6 words of 1 to 16 ASCII letters, each of one
/// letter case, joined by single `_`, `-` or `:`.
fn prefix_words(p: &str) -> Option<usize> {
    let mut n = 0;
    for w in p.split(['_', '-', ':']) {
        n += 1;
        if w.is_empty()
            || w.len() > 16
            || !w.bytes().all(|b| b.is_ascii_alphabetic())
            || !one_case(w)
        {
            return None;
        }
    }
    (1..=6).contains(&n).then_some(n)
}

fn one_case(s: &str) -> bool {
    !(s.bytes().any(|b| b.is_ascii_uppercase()) && s.bytes().any(|b| b.is_ascii_lowercase()))
}

/// 24 to 64 hex digits (or `*`, a masked digit) of one letter case: longer than any phone,
/// identity or card number (at most 19 digits), so a body that happens to be all decimal
/// (`customer_000…01`, which the cache's id pattern takes) is still an opaque id.
fn hex_body(b: &str) -> bool {
    (MIN_HEX_BODY..=64).contains(&b.len())
        && b.bytes().all(|c| c.is_ascii_hexdigit() || c == b'*')
        && one_case(b)
}

/// Random base62: letters and digits, at least one of each, at most 6 digits in all, every
/// letter run at most 3 letters of one case.
fn base62_body(b: &str) -> bool {
    (4..=64).contains(&b.len())
        && b.bytes().all(|c| c.is_ascii_alphanumeric())
        && b.bytes().any(|c| c.is_ascii_alphabetic())
        && (1..=MAX_SPELLED_DIGITS).contains(&spelled_digits(b))
        && b.split(|c: char| c.is_ascii_digit())
            .all(|run| run.len() <= 3 && one_case(run))
}

/// How many decimal digits `s` holds in all: the number a reader joins from its pieces,
/// whatever letters or separators stand between them.
fn spelled_digits(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
}

fn short_number(b: &str) -> bool {
    (1..=MAX_REF_DIGITS).contains(&b.len()) && b.bytes().all(|c| c.is_ascii_digit())
}

/// The longest run of bytes of `s` for which `f` holds.
fn longest_run(s: &str, f: impl Fn(u8) -> bool) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.bytes() {
        cur = if f(c) { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

/// A code: ASCII letters, digits and `_`, starting with a letter, its letters of one case, at
/// most 6 digits **in all** (not per run: `cus_081234x567890` and `NO_0812_3456_7890` spell a
/// phone across their runs).
fn is_code(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=MAX_TOKEN.min(64)).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !(b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase))
        && spelled_digits(s) <= MAX_SPELLED_DIGITS
}

/// A dotted path of field names: each name lower-case ASCII words joined by single `_`, a word
/// of letters then up to three digits (`address_line1`, `phone_number_e164`), at most
/// [`MAX_FIELD_DIGITS`] digits in the whole path, so no number of a digit run's length.
fn is_field(s: &str) -> bool {
    (1..=MAX_TOKEN).contains(&s.len())
        && s.bytes().filter(u8::is_ascii_digit).count() <= MAX_FIELD_DIGITS
        && s.split('.').all(|seg| {
            seg.split('_').all(|w| {
                let b = w.as_bytes();
                let letters = b.iter().take_while(|c| c.is_ascii_lowercase()).count();
                letters > 0
                    && b.len() - letters <= MAX_WORD_DIGITS
                    && b[letters..].iter().all(u8::is_ascii_digit)
            })
        })
}

/// Most digits a word of a `field` path ends in: a standard's number (`e164`, `sha256`,
/// `line1`), not a fragment of one (`phone62812`).
const MAX_WORD_DIGITS: usize = 3;

/// Most digits a `field` path holds in all (`phone_number_e164`, `address_line1`): fewer
/// than a digit run (`digit_run_min`, 7), so no phone, NIK or card is spelled in one.
const MAX_FIELD_DIGITS: usize = 6;

/// The parts of a URL (one that fits `url`) the detectors read one by one, beside the whole
/// URL: its host's labels, each path segment, and each piece of a segment between `-`, `_`,
/// `.` and `~` (`hook-6281299887766` holds a phone number a digit-run reader would take for
/// part of a reference). A base64url token is a segment, read by every reading a string is.
pub fn url_parts(s: &str) -> Vec<&str> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let mut parts: Vec<&str> = host.split('.').collect();
    for seg in path.split('/').filter(|p| !p.is_empty()) {
        parts.push(seg);
        if seg.contains(['-', '_', '.', '~']) {
            parts.extend(seg.split(['-', '_', '.', '~']).filter(|p| !p.is_empty()));
        }
    }
    parts
}

/// The path segments of a URL that are not opaque (a UUID, 24+ hex): each is read as a key
/// is, and one that names a personal field (`jalan-melati-42`, `alamat`, `phone-verified`)
/// makes the URL personal: a street and a house number are an address wherever they stand.
pub fn url_named_segments(s: &str) -> impl Iterator<Item = &str> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split('/')
        .filter(|seg| !seg.is_empty() && !is_uuid(seg) && !hex_body(seg))
}

fn is_count(n: &str) -> bool {
    (1..=MAX_COUNT_DIGITS).contains(&n.len())
        && n.bytes().all(|b| b.is_ascii_digit())
        && (n == "0" || !n.starts_with('0'))
}

fn is_amount(n: &str) -> bool {
    let n = n.strip_prefix('-').unwrap_or(n);
    let (int, frac) = match n.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (n, None),
    };
    let digits =
        |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    digits(int, MAX_AMOUNT_DIGITS)
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(|f| digits(f, MAX_AMOUNT_FRACTION))
}

/// `YYYY-MM-DD(T|t| )hh:mm:ss(.frac)?(Z|z|±hh:mm)`, fields in range, and no field wider than
/// a clock writes it, so that no field carries digits of the writer's choosing: the year
/// 1970–2099 (paycombat writes this century; `0812-…`, `3173-…` are a phone's and a NIK's
/// leading digits), a fraction of 1 to 6 digits (milliseconds or microseconds, below a
/// 7-digit run: `….123456789Z` is an SSN), an offset of at most 14 hours and 00, 30 or 45
/// minutes (the offsets in use: `+08:12` is none).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, len: usize, max: u32| -> bool {
        b.get(from..from + len).is_some_and(|d| {
            d.iter().all(u8::is_ascii_digit)
                && d.iter().fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0')) <= max
        })
    };
    let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    let date = num(0, 4, 2099)
        && b[..4] >= b"1970"[..]
        && at(4, b"-")
        && num(5, 2, 12)
        && at(7, b"-")
        && num(8, 2, 31)
        && b[5..7] != *b"00"
        && b[8..10] != *b"00";
    if !(date
        && at(10, b"Tt ")
        && num(11, 2, 23)
        && at(13, b":")
        && num(14, 2, 59)
        && at(16, b":")
        && num(17, 2, 60))
    {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=MAX_FRACTION_DIGITS).contains(&digits) {
            return false;
        }
        i += 1 + digits;
    }
    match b.get(i..) {
        Some([b'Z' | b'z']) => true,
        Some([b'+' | b'-', ..]) => {
            b.len() == i + 6
                && num(i + 1, 2, 14)
                && at(i + 3, b":")
                && matches!(&b[i + 4..], b"00" | b"30" | b"45")
        }
        _ => false,
    }
}

fn is_url(s: &str) -> bool {
    if s.len() > MAX_URL {
        return false;
    }
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, port)) => {
            if !(1..=5).contains(&port.len()) || !port.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            (h, port)
        }
        None => (authority, ""),
    };
    crate::mask::masker::is_hostname(host)
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~'))
        && url_digits(host, port, path) <= MAX_SPELLED_DIGITS
}

/// The digits a URL spells in all, read together across host labels, port, path segments and
/// the pieces of a segment (a client joins `/0812/a/3456/a/7890`, `:8123/456789/0` and
/// `a0812.b3456.c7890` as easily as `0812x3456x7890`), leaving out what is opaque: a segment,
/// piece or label that is a UUID or 24 to 64 hex digits of one case (the sandbox's webhook
/// token; a random hex id), whose bits are the writer's as an id's hex body is. The loopback
/// address `127.0.0.1` is one constant, not digits chosen. A merchant endpoint with its own
/// number in the path (`/webhooks/12345678`) spells 8 and is masked: such a field is
/// declared `text` to be copied.
fn url_digits(host: &str, port: &str, path: &str) -> usize {
    let opaque = |p: &&str| is_uuid(p) || hex_body(p);
    let host_digits: usize = if host == "127.0.0.1" {
        0
    } else {
        host.split('.')
            .filter(|l| !opaque(l))
            .map(spelled_digits)
            .sum()
    };
    let path_digits: usize = path
        .split('/')
        .filter(|seg| !opaque(seg))
        .flat_map(|seg| seg.split(['-', '_', '.', '~']))
        .filter(|piece| !opaque(piece))
        .map(spelled_digits)
        .sum();
    host_digits + spelled_digits(port) + path_digits
}

#[cfg(test)]
#[path = "kind_spelled_tests.rs"]
mod spelled_tests;
#[cfg(test)]
#[path = "kind_tests.rs"]
mod tests;
