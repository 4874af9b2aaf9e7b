//! Text as one renderer shows it, every step of it applied together, for
//! [`super::readings`]: a mail client undoes quoted-printable and then renders the HTML; a
//! browser drops tags *and* decodes character references in the one pass; a markdown
//! renderer drops emphasis markers. Each of those steps is also read alone
//! ([`super::codings`], `readings::escapes_decoded`), but one step's output is never given
//! to another there, so `victim<b>&#64;</b>example.com` or `=26#64;` (QP of `&#64;`) showed
//! the address to the reader and not to the detectors.
//!
//! Here the steps run as one pipeline applied to a fixed point ([`MAX_ROUNDS`] at most):
//! quoted-printable escapes, HTML character references, tags and comments, markdown
//! emphasis. Every step only removes or shortens, so each round is at most as long as the one
//! before and the work is bounded.

use super::codings;

/// Most rounds of the pipeline: each round undoes one more layer (QP around an entity
/// around a tag); text that still changes after this many is read as the last round left it.
const MAX_ROUNDS: usize = 4;

/// `s` as a renderer shows it, when that differs from `s` (see the module).
pub(super) fn rendered(s: &str) -> Option<String> {
    if !may_render(s) {
        return None;
    }
    let steps: [fn(&str) -> Option<String>; 4] = [
        codings::quoted_printable_decoded,
        references_decoded,
        codings::markup_stripped,
        emphasis_dropped,
    ];
    let mut cur: Option<String> = None;
    for _ in 0..MAX_ROUNDS {
        let text = cur.as_deref().unwrap_or(s);
        let mut next: Option<String> = None;
        for step in steps {
            if let Some(t) = step(next.as_deref().unwrap_or(text)) {
                next = Some(t);
            }
        }
        match next {
            Some(n) if n != text => cur = Some(n),
            _ => break,
        }
    }
    cur
}

/// Whether a renderer could change `s` at all: a reference or tag (`&`, `<`), a
/// quoted-printable escape (`=` and two hex digits), emphasis (`*`, `~~`, `__`). Most strings
/// have none, and are done without allocating.
fn may_render(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    memchr::memchr3(b'&', b'<', b'*', b).is_some()
        || memchr::memchr_iter(b'=', b).any(|i| hex(i + 1) && hex(i + 2))
        || s.contains("~~")
        || s.contains("__")
}

/// Named references a renderer shows as a visible character that matters to a shape or a
/// label. Every other name (`&zwj;`, `&shy;`, `&ZeroWidthSpace;`, `&NoBreak;`, `&lrm;`, and
/// the ~2000 names of letters and symbols) is read as nothing: the invisible ones are nothing
/// to a reader, and dropping a visible one only joins the text around it, which a detector
/// then reads as one run (a reading, never the output).
const VISIBLE: [(&str, char); 24] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("commat", '@'),
    ("period", '.'),
    ("nbsp", ' '),
    ("ensp", ' '),
    ("emsp", ' '),
    ("thinsp", ' '),
    ("hyphen", '-'),
    ("dash", '-'),
    ("ndash", '-'),
    ("mdash", '-'),
    ("minus", '-'),
    ("plus", '+'),
    ("lpar", '('),
    ("rpar", ')'),
    ("colon", ':'),
    ("sol", '/'),
    ("lowbar", '_'),
    ("comma", ','),
    ("middot", '.'),
];

/// Longest reference name read (`&CounterClockwiseContourIntegral;` is the longest HTML has).
const MAX_NAME: usize = 32;

/// `s` with its HTML character references decoded as a renderer does, when it holds one:
/// numeric ones with or without their `;` (without it, the hex or decimal digits are read as
/// the longest prefix that is an ASCII character, as `&#x40example` shows `@` to lenient
/// renderers and `&#64example` to every one), named ones by [`VISIBLE`] or as nothing.
fn references_decoded(s: &str) -> Option<String> {
    memchr::memchr(b'&', s.as_bytes())?;
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        match reference_at(tail) {
            Some((c, used)) => {
                out.extend(c);
                rest = &tail[used..];
                changed = true;
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The character (or nothing) the reference at the start of `t` stands for, and its length.
fn reference_at(t: &str) -> Option<(Option<char>, usize)> {
    let body = t.strip_prefix('&')?;
    if let Some(num) = body.strip_prefix('#') {
        let (digits_from, radix) = match num.as_bytes().first() {
            Some(b'x' | b'X') => (2, 16),
            _ => (1, 10),
        };
        let digits = &t[1 + digits_from..];
        let n = digits
            .bytes()
            .take(8)
            .take_while(|b| (*b as char).is_digit(radix))
            .count();
        if n == 0 {
            return None;
        }
        let closed = digits[n..].starts_with(';');
        let mut take = n;
        if !closed {
            // Without `;` the reference's end is a guess: the longest prefix of the digits
            // that is an ASCII character (`&#x40example` → `@` then `example`).
            while take > 0 && u32::from_str_radix(&digits[..take], radix).map_or(true, |v| v > 0x7f)
            {
                take -= 1;
            }
            if take == 0 {
                take = n;
            }
        }
        let c = u32::from_str_radix(&digits[..take], radix)
            .ok()
            .and_then(char::from_u32)?;
        let used = 1 + digits_from + take + usize::from(closed && take == n);
        return Some((Some(c), used));
    }
    let name_len = body
        .bytes()
        .take(MAX_NAME + 1)
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    if name_len == 0 || name_len > MAX_NAME || !body[name_len..].starts_with(';') {
        return None;
    }
    let name = &body[..name_len];
    let c = VISIBLE.iter().find(|(n, _)| *n == name).map(|&(_, c)| c);
    Some((c, 1 + name_len + 1))
}

/// `s` without markdown emphasis markers, when it has some: runs of one to three `*`
/// (`victim**@**example.com`, `0812**3456**7892`), and `~~` or `__` pairs. A longer run of
/// `*` is no emphasis but a mask an upstream wrote (`4111********1111`,
/// `AK_FINMO…*******************CCBC7F`), and a single `_` joins the words of identifiers.
fn emphasis_dropped(s: &str) -> Option<String> {
    if !s.contains('*') && !s.contains("~~") && !s.contains("__") {
        return None;
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last = 0;
    let mut changed = false;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b'*' | b'~' | b'_') {
            let run = b[i..].iter().take_while(|&&x| x == c).count();
            let marker = match c {
                b'*' => run <= 3,
                _ => run == 2,
            };
            if marker {
                out.push_str(&s[last..i]);
                last = i + run;
                changed = true;
            }
            i += run;
        } else {
            i += 1;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&s[last..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::rendered;
    use crate::mask::detect::{Detector, Detectors};

    #[test]
    fn one_renderer_applies_every_step() {
        for (text, want) in [
            (
                "victim.tags<b>&#64;</b>example.com",
                "victim.tags@example.com",
            ),
            (
                "victim.qpentity=26#64;example.com",
                "victim.qpentity@example.com",
            ),
            (
                "<p>victim.qptags<span>=40</span>example.com</p>",
                "victim.qptags@example.com",
            ),
            (
                "victim.hexnosemi&#x40example.com",
                "victim.hexnosemi@example.com",
            ),
            ("victim.zwj&zwj;@example.com", "victim.zwj@example.com"),
            ("victim.bold**@**example.com", "victim.bold@example.com"),
            ("call 0812&ZeroWidthSpace;3456", "call 08123456"),
        ] {
            assert_eq!(rendered(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(rendered("plain text, no markup"), None);
    }

    #[test]
    fn detectors_see_rendered_text() {
        let d = Detectors::default();
        for (text, want) in [
            ("victim.tags<b>&#64;</b>example.com", Detector::Email),
            ("victim.qpentity=26#64;example.com", Detector::Email),
            (
                "<p>victim.qptags<span>=40</span>example.com</p>",
                Detector::Email,
            ),
            ("victim.hexnosemi&#x40example.com", Detector::Email),
            ("victim.zwj&zwj;@example.com", Detector::Email),
            ("victim.shy&shy;@example.com", Detector::Email),
            ("victim.bold**@**example.com", Detector::Email),
            (
                "call 0812&ZeroWidthSpace;3456&ZeroWidthSpace;7891",
                Detector::Phone,
            ),
            // Seen by the digit reading too (`**` between groups is a separator), which
            // names it first.
            ("0812**3456**7892", Detector::DigitRun),
            ("0812<b>&#8203;</b>3456<b>&#8203;</b>7893", Detector::Phone),
            ("victim%26%2364%3Bexample.com", Detector::Email),
        ] {
            assert_eq!(d.scan(text), Some(want), "{text}");
        }
        for text in [
            "Tom &amp; Jerry",
            "Rp&nbsp;150.000,00 &ndash; paid",
            "a **bold** claim of 150000.00",
            "fee_borne_by __init__",
            "4111********1111",
            "api_access_key:AK_FINMO_SBX_07C5090*******************CCBC7F",
        ] {
            assert_eq!(d.scan(text), None, "{text}");
        }
    }
}
