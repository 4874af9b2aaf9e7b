//! Strings that a common decoding turns into JSON are masked as JSON.
//!
//! Clients recover documents from strings more leniently than a strict parser: Node's
//! `JSON.parse(s.trim())` skips Unicode whitespace and BOMs, `JSON.parse(JSON.parse(s))` undoes
//! one more level of quoting, Python's `raw_decode` takes the longest JSON prefix and ignores
//! what follows. So a string is read as a sequence of pieces, each after skipping such
//! blanks: an object or array that parses (as a prefix) is masked as a document; a string
//! literal whose content is again such a text is masked inside and re-quoted; the first piece
//! that is neither ends the reading and is kept as it is with everything after it. The string
//! is rewritten (compact documents, blanks before them dropped) only if at least one piece
//! was a document; otherwise it is copied byte for byte.

use super::lexer::{Fail, Lexer, Str};
use super::{At, Mode, Walk};

/// Characters skipped before a piece: Unicode white space (NBSP and the other spaces
/// included, as JavaScript's `trim` does), BOM / zero-width no-break space, the zero-width
/// format characters, and NUL.
pub(super) fn is_blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\0')
}

fn opens_piece(c: Option<char>) -> bool {
    matches!(c, Some('{' | '[' | '"'))
}

/// Cheap test on the token: can its value start, after blanks, with `{`, `[` or `"`?
/// A string without escapes holds no `"`, and its first non-blank character is visible.
pub(super) fn may_hold_json(s: Str<'_>) -> bool {
    if s.escaped {
        return true;
    }
    opens_piece(s.raw.chars().find(|&c| !is_blank(c)))
}

impl Walk<'_> {
    /// The masked text of string value `v` at `depth`, or `None` if no piece of it is JSON.
    pub(super) fn embedded(&mut self, v: &str, at: At) -> Result<Option<String>, Fail> {
        let mut rest = v;
        let mut text: Option<String> = None;
        loop {
            let piece = rest.trim_start_matches(is_blank);
            let masked = match piece.chars().next() {
                Some('{' | '[') => self.document(piece, at)?,
                Some('"') => self.quoted(piece, at)?,
                _ => None,
            };
            let Some((masked, used)) = masked else {
                break;
            };
            text.get_or_insert_with(String::new).push_str(&masked);
            rest = piece.get(used..).unwrap_or_default();
        }
        let Some(mut text) = text else {
            return Ok(None);
        };
        // What follows the last document is text like any other string value.
        match self.leaf_text(rest, at) {
            Some(strategy) if !rest.trim_matches(is_blank).is_empty() => {
                self.by_policy = self.by_policy.saturating_add(1);
                let rendered = self.m.render(strategy, rest, &mut self.scratch);
                if matches!(rendered, super::Rendered::Text) {
                    text.push_str(&self.scratch);
                }
            }
            _ => text.push_str(rest),
        }
        Ok(Some(text))
    }

    /// An object or array at the start of `piece`, masked as a document one level below the
    /// string: its compact masked text and the bytes of `piece` it spans.
    fn document(&mut self, piece: &str, at: At) -> Result<Option<(String, usize)>, Fail> {
        // Not sized by `piece`: a string of many small pieces would allocate its length each time.
        let outer = std::mem::take(&mut self.out);
        // Counts (and path segments) from a text that turns out not to be JSON must not stay.
        let counts = self.counts.clone();
        let by_policy = self.by_policy;
        let path_len = self.pol.as_ref().map(|p| p.path.len());
        let mut lx = Lexer::new(piece);
        // The string stands for the value it encodes, so path rules go on from its key.
        let inner_at = At {
            depth: at.depth + 1,
            ..at
        };
        let res = self.value(&mut lx, inner_at, Mode::Copy);
        let inner = std::mem::replace(&mut self.out, outer);
        match res {
            // The walk writes only input tokens and its own escaping: valid UTF-8.
            Ok(()) => Ok(String::from_utf8(inner).ok().map(|t| (t, lx.pos))),
            // Too deep is never "not JSON": copying it would forward what we could not inspect.
            Err(Fail::TooDeep) => Err(Fail::TooDeep),
            Err(Fail::Syntax(_)) => {
                self.counts = counts;
                self.by_policy = by_policy;
                if let (Some(p), Some(len)) = (&mut self.pol, path_len) {
                    p.path.truncate(len);
                }
                Ok(None)
            }
        }
    }

    /// A JSON string literal at the start of `piece` whose content is again JSON text: that
    /// content masked, re-quoted.
    fn quoted(&mut self, piece: &str, at: At) -> Result<Option<(String, usize)>, Fail> {
        let mut lx = Lexer::new(piece);
        let Ok(s) = lx.string() else {
            return Ok(None);
        };
        let mut buf = String::new();
        let content = s.value(&mut buf).to_owned();
        if !opens_piece(content.chars().find(|&c| !is_blank(c))) {
            return Ok(None);
        }
        // Each level of quoting is a level of nesting, so quotes in quotes end in TooDeep.
        if at.depth + 1 >= self.m.max_depth {
            return Err(Fail::TooDeep);
        }
        let inner_at = At {
            depth: at.depth + 1,
            ..at
        };
        Ok(self
            .embedded(&content, inner_at)?
            .and_then(|masked| serde_json::to_string(&masked).ok())
            .map(|quoted| (quoted, lx.pos)))
    }
}
