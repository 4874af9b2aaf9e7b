//! The undelimited byte codings, for [`super::readings`]: the base-85 family and uuencode.
//!
//! Adobe's `<~ ~>` marks a token as Ascii85 ([`super::codings::ascii85_texts`]), but most
//! writers put none: Python's `base64.a85encode` by default, Go's `encoding/ascii85`,
//! `b85encode` (RFC 1924's alphabet, also git's and Mercurial's), ZeroMQ's Z85, and
//! `binascii.b2a_uu` / uuencode lines. A token is tried in each coding whose alphabet it is
//! written in, and read by the one byte table ([`super::bytes::bytes_text`]) only when the
//! bytes are text a person reads ([`super::codings::readable`], letters or digits in it) or a
//! stream that table inflates: an id, a word or a timestamp decodes to bytes that are no such
//! text. The cost is bounded: tokens of [`MIN_TOKEN`] to [`MAX_TOKEN`] characters, each one
//! linear pass per alphabet.

/// Fewest characters of a token tried: five characters spell four bytes, so this many hold
/// [`super::readings::MIN_SHAPE_BYTES`] bytes.
const MIN_TOKEN: usize = (super::readings::MIN_SHAPE_BYTES * 5).div_ceil(4);

/// Longest token tried whole; a longer one is tried on its first this many characters (a
/// multiple of 5 and of 4, so no group is cut) and noted as a bound.
const MAX_TOKEN: usize = 64 * 1020;

/// RFC 1924's alphabet (Python's `b85encode`, git, Mercurial).
const RFC1924: &[u8; 85] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";

/// ZeroMQ's Z85 alphabet.
const Z85: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// The alphabets of the base-85 codings: each character's digit value, or 255.
struct Alphabets {
    rfc1924: [u8; 128],
    z85: [u8; 128],
}

const fn table(alphabet: &[u8; 85]) -> [u8; 128] {
    let mut t = [255u8; 128];
    let mut i = 0;
    while i < 85 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
}

const ALPHABETS: Alphabets = Alphabets {
    rfc1924: table(RFC1924),
    z85: table(Z85),
};

/// The texts the undelimited base-85 and uuencoded tokens of `s` spell (see the module).
pub(super) fn texts(s: &str) -> impl Iterator<Item = super::bytes::Decoded> + '_ {
    let tokens = s
        .split_ascii_whitespace()
        .filter(|t| t.len() >= MIN_TOKEN)
        .flat_map(|t| {
            let t = if t.len() > MAX_TOKEN {
                super::readings::bounded();
                &t[..MAX_TOKEN]
            } else {
                t
            };
            [
                ascii85(t),
                base85(t, &ALPHABETS.rfc1924),
                base85(t, &ALPHABETS.z85),
            ]
        });
    tokens
        .chain(std::iter::once(uudecoded(s)))
        .flatten()
        .filter_map(|bytes| read(&bytes))
}

/// `bytes` as text when they are text a person reads, or a stream the byte table inflates.
fn read(bytes: &[u8]) -> Option<super::bytes::Decoded> {
    let compressed = matches!(bytes, [0x1f, 0x8b, ..] | [0x78, ..]);
    let text = super::bytes::bytes_text(bytes)?;
    let plain = std::str::from_utf8(bytes).is_ok_and(super::codings::readable);
    ((plain || compressed) && text.0.chars().any(char::is_alphanumeric)).then_some(text)
}

/// An Ascii85 token without delimiters (`!`–`u`, `z` for four zero bytes).
fn ascii85(t: &str) -> Option<Vec<u8>> {
    if !t.bytes().all(|b| matches!(b, b'!'..=b'u' | b'z')) {
        return None;
    }
    super::codings::ascii85_decoded(t)
}

/// A token of a base-85 alphabet (`digits`: each character's value): groups of five
/// characters, big-endian, for four bytes; a short last group padded with the highest digit
/// and its padding bytes dropped (Python's `b85decode`).
pub(super) fn base85(t: &str, digits: &[u8; 128]) -> Option<Vec<u8>> {
    let values: Option<Vec<u8>> = t
        .bytes()
        .map(|b| digits.get(usize::from(b)).copied().filter(|&v| v < 85))
        .collect();
    let values = values?;
    if values.len() % 5 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(values.len() / 5 * 4 + 4);
    for group in values.chunks(5) {
        let mut padded = [84u8; 5];
        padded[..group.len()].copy_from_slice(group);
        let v = padded.iter().try_fold(0u32, |acc, &d| {
            acc.checked_mul(85)?.checked_add(u32::from(d))
        })?;
        out.extend_from_slice(&v.to_be_bytes()[..group.len() - 1]);
    }
    Some(out)
}

/// The bytes of the uuencoded lines of `s` (`binascii.b2a_uu`, uuencode's body between
/// `begin` and `end`), joined: a line is a length character (`!`–`M`: 1–45 bytes) and that
/// many bytes in groups of four characters `` ` ``/space–`_` (six bits each, less 32),
/// trailing spaces optional (some writers and transports trim them). `None` when no line
/// of `s` is one.
pub(super) fn uudecoded(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for line in s.lines() {
        let b = line.as_bytes();
        let Some((&len, body)) = b.split_first() else {
            continue;
        };
        if !(b'!'..=b'M').contains(&len) || !body.iter().all(|c| (b' '..=b'`').contains(c)) {
            continue;
        }
        let n = usize::from(len - b' ');
        let groups = n.div_ceil(3);
        if body.len() > groups * 4 || body.len() + 3 < groups * 4 {
            continue;
        }
        let mut padded = body.to_vec();
        padded.resize(groups * 4, b' ');
        let mut bytes = Vec::with_capacity(groups * 3);
        for g in padded.chunks(4) {
            let v = g
                .iter()
                .fold(0u32, |acc, &c| acc << 6 | u32::from((c - b' ') & 63));
            bytes.extend_from_slice(&v.to_be_bytes()[1..]);
        }
        bytes.truncate(n);
        out.extend_from_slice(&bytes);
    }
    (out.len() >= super::readings::MIN_SHAPE_BYTES).then_some(out)
}

#[cfg(test)]
#[path = "codings85_tests.rs"]
mod tests;
