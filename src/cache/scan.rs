//! Finding every customer id a write names, whatever shape its body has.
//!
//! Invalidation must not depend on the gateway reading a body the way paycombat does: a
//! duplicate `customer_id` key (paycombat applies the last), a byte-order mark, an id
//! nested somewhere unexpected, a JSON escape (`customer\u005f…`), a form-encoded or
//! percent-encoded id, a UTF-16 body. So instead of parsing, every textual form the
//! bytes could be read as is searched for anything shaped like an id (`cache.id_pattern`,
//! unanchored). Finding too much only costs a few extra cache misses; finding too little
//! serves pre-write data.

use regex::Regex;
use regex_syntax::hir::{Hir, HirKind, Look};

/// Every distinct id a write names, in the order first found. There is no cap: a write
/// names at most what its body (bounded by `server.max_request_body_bytes`) can hold,
/// and turning "many" into "everything" would let any writer purge every replica.
#[derive(Default)]
struct Ids {
    order: Vec<String>,
    seen: std::collections::HashSet<String>,
}

impl Ids {
    fn push(&mut self, id: &str) {
        if !self.seen.contains(id) {
            self.seen.insert(id.to_owned());
            self.order.push(id.to_owned());
        }
    }
}

/// Searches text for ids matching the configured pattern anywhere.
#[derive(Clone, Debug)]
pub struct IdScanner {
    anywhere: Regex,
    whole: Regex,
}

impl IdScanner {
    /// `pattern` is `cache.id_pattern` as written. Its `^`/`$` anchors (wherever they are:
    /// `^a$|^b$` too) are dropped for the search, which can only widen what it finds.
    pub fn new(pattern: &str) -> Result<IdScanner, regex::Error> {
        let whole = Regex::new(&format!("^(?:{pattern})$"))?;
        let hir = regex_syntax::parse(pattern).map_err(|e| regex::Error::Syntax(e.to_string()))?;
        let anywhere = Regex::new(&unanchor(hir).to_string())?;
        Ok(IdScanner { anywhere, whole })
    }

    /// Every id in `bytes`, read raw, percent-decoded, as UTF-16, and inside each JSON
    /// string literal with its escapes decoded.
    /// Deduplicated, in the order first found.
    pub fn scan(&self, bytes: &[u8]) -> Vec<String> {
        let mut ids = Ids::default();
        for form in forms(bytes) {
            self.collect(&form, &mut ids);
            for literal in json_literals(&form) {
                self.collect(&literal, &mut ids);
            }
        }
        ids.order
    }

    fn collect(&self, text: &str, ids: &mut Ids) {
        fn push(ids: &mut Ids, id: &str) {
            ids.push(id);
        }
        // Whole tokens first: an id is a JSON string, a path segment or a form value, and
        // a lazy or alternating pattern's leftmost match might be only part of it.
        for token in text.split(is_delimiter).filter(|t| !t.is_empty()) {
            if self.whole.is_match(token) {
                push(ids, token);
            }
        }
        // Then every match start, overlapping: an id glued to other text still counts.
        let mut at = 0;
        while let Some(m) = self.anywhere.find_at(text, at) {
            if !m.as_str().is_empty() {
                push(ids, m.as_str());
            }
            let Some(next) = text[m.start()..].chars().next() else {
                return;
            };
            at = m.start() + next.len_utf8();
            if at > text.len() {
                return;
            }
        }
    }
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '"' | '\''
                | '`'
                | ','
                | ':'
                | ';'
                | '='
                | '&'
                | '?'
                | '#'
                | '/'
                | '\\'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '\u{feff}'
                | '\u{fffd}'
        )
}

/// The pattern with every start/end-of-text and start/end-of-line assertion removed.
fn unanchor(hir: Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Look(
            Look::Start | Look::End | Look::StartLF | Look::EndLF | Look::StartCRLF | Look::EndCRLF,
        ) => Hir::empty(),
        HirKind::Look(look) => Hir::look(look),
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(lit) => Hir::literal(lit.0),
        HirKind::Class(class) => Hir::class(class),
        HirKind::Repetition(mut rep) => {
            rep.sub = Box::new(unanchor(*rep.sub));
            Hir::repetition(rep)
        }
        HirKind::Capture(mut cap) => {
            cap.sub = Box::new(unanchor(*cap.sub));
            Hir::capture(cap)
        }
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(unanchor).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(unanchor).collect()),
    }
}

/// The texts `bytes` could be read as.
fn forms(bytes: &[u8]) -> Vec<String> {
    let raw = String::from_utf8_lossy(bytes).into_owned();
    let mut out = Vec::with_capacity(4);
    if let Some(decoded) = percent_decoded(&raw) {
        out.push(decoded);
    }
    // NUL bytes in a text body: probably UTF-16 (with or without a BOM).
    if bytes.contains(&0) {
        for big_endian in [false, true] {
            out.push(utf16(bytes, big_endian));
        }
    }
    out.insert(0, raw);
    out
}

fn utf16(bytes: &[u8], big_endian: bool) -> String {
    let units = bytes.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// `%XX` and `+` decoded (form bodies, paths, queries), when there is anything to decode.
fn percent_decoded(text: &str) -> Option<String> {
    if !text.contains(['%', '+']) {
        return None;
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Every `"…"` span of `text`, its JSON escapes decoded. Lexical, not a parse: it works on
/// invalid JSON, duplicate keys and anything nested, and a stray quote only shifts which
/// spans are literals (the raw text is searched as well).
fn json_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut literal = String::new();
        loop {
            match chars.next() {
                None | Some('"') => break,
                Some('\\') => decode_escape(&mut chars, &mut literal),
                Some(other) => literal.push(other),
            }
        }
        if !literal.is_empty() {
            out.push(literal);
        }
    }
    out
}

/// Decodes one escape after its backslash (`\uXXXX` with surrogate pairs included).
fn decode_escape(chars: &mut std::str::Chars<'_>, out: &mut String) {
    let Some(kind) = chars.next() else { return };
    match kind {
        'n' => out.push('\n'),
        't' => out.push('\t'),
        'r' => out.push('\r'),
        'b' => out.push('\u{8}'),
        'f' => out.push('\u{c}'),
        'u' => {
            let Some(high) = hex4(chars) else {
                out.push('\u{fffd}');
                return;
            };
            if (0xD800..0xDC00).contains(&high) {
                let mut look = chars.clone();
                if look.next() == Some('\\') && look.next() == Some('u') {
                    if let Some(low) = hex4(&mut look).filter(|l| (0xDC00..0xE000).contains(l)) {
                        *chars = look;
                        let c = 0x10000
                            + ((u32::from(high) - 0xD800) << 10)
                            + (u32::from(low) - 0xDC00);
                        out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                        return;
                    }
                }
            }
            out.push(char::from_u32(u32::from(high)).unwrap_or('\u{fffd}'));
        }
        // `\"`, `\\`, `\/` and anything unknown stand for themselves.
        other => out.push(other),
    }
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u16> {
    let mut v = 0u16;
    for _ in 0..4 {
        v = v << 4 | chars.next()?.to_digit(16)? as u16;
    }
    Some(v)
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
