//! Strings that a common decoding turns into JSON are masked as JSON.
//!
//! Clients recover documents from strings more leniently than a strict parser: Node's
//! `JSON.parse(s.trim())` skips Unicode whitespace and BOMs, `JSON.parse(JSON.parse(s))` undoes
//! one more level of quoting, Python's `raw_decode` takes the longest JSON prefix and ignores
//! what follows. So a string is read as a sequence of pieces, each after skipping such
//! blanks: an object or array that parses (as a prefix) is masked as a document; a string
//! literal whose content is again such a text is masked inside and re-quoted.
//!
//! A document also counts **at any offset** where one parses, not only at the start: what
//! clients strip before parsing (`)]}',\n` — Angular's `$http` does it itself —, `while(1);`,
//! `for(;;);`, a JSONP callback `cb(…)`, an SSE `data: ` line) is then one more text before
//! it, with no list of prefixes to keep. Text between and after documents is judged like any
//! string value. Work is bounded: at most [`MAX_STARTS`] offsets are tried per string, and a
//! failed try spends the walk's re-read budget by the bytes it read; a string with offsets
//! left untried when either runs out is masked whole (the refusing default). The string is
//! rewritten (compact documents, blanks before them dropped) only if at least one piece was a
//! document; otherwise it is copied byte for byte.

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

/// Most offsets of one string at which a document is tried: enough for any prefix a client
/// strips and a few bracketed words before it (`[TEST]`, `(see [1])`).
pub(super) const MAX_STARTS: usize = 16;

/// Cheap test on the token: can its value hold a document (a `{` or `[` anywhere, one SIMD
/// scan) or start, after blanks, with a quoted one? A string without escapes holds no `"`.
pub(super) fn may_hold_json(s: Str<'_>) -> bool {
    s.escaped || memchr::memchr2(b'{', b'[', s.raw.as_bytes()).is_some()
}

/// One try at a document: masked (its text and the bytes it spans), or not JSON (how many
/// bytes the lexer read before it failed).
enum Attempt {
    Document(String, usize),
    NotJson(usize),
}

/// How a search for a document further on in a string ended.
enum Further {
    /// At this offset: its masked text and the bytes it spans.
    Found(usize, String, usize),
    /// No offset left.
    None,
    /// Offsets left untried: the bound ran out.
    Bounded,
}

impl Walk<'_> {
    /// The masked text of string value `v` at `depth`, or `None` if no piece of it is JSON.
    pub(super) fn embedded(&mut self, v: &str, at: At) -> Result<Option<String>, Fail> {
        let mut rest = v;
        let mut text: Option<String> = None;
        let mut starts_left = MAX_STARTS;
        let masked_before = self.masked_so_far();
        loop {
            let piece = rest.trim_start_matches(is_blank);
            let masked = match piece.chars().next() {
                Some('{' | '[') => {
                    starts_left = starts_left.saturating_sub(1);
                    match self.document(piece, at)? {
                        Attempt::Document(t, used) => Some((t, used)),
                        Attempt::NotJson(read) => {
                            self.rewalk_left = self.rewalk_left.saturating_sub(read);
                            None
                        }
                    }
                }
                Some('"') => self.quoted(piece, at)?,
                _ => None,
            };
            if let Some((masked, used)) = masked {
                text.get_or_insert_with(String::new).push_str(&masked);
                rest = piece.get(used..).unwrap_or_default();
                continue;
            }
            // A document further on, behind text a client strips first.
            match self.further(piece, at, &mut starts_left)? {
                Further::Found(offset, masked, used) => {
                    let out = text.get_or_insert_with(String::new);
                    let mut out = std::mem::take(out);
                    self.push_judged(&piece[..offset], at, &mut out);
                    out.push_str(&masked);
                    text = Some(out);
                    rest = piece.get(offset + used..).unwrap_or_default();
                }
                Further::None => break,
                Further::Bounded => {
                    // Documents may stand where no try reached: masked whole, unread.
                    return Ok(self.unread_text(v, at).map(|strategy| {
                        self.by_policy = self.by_policy.saturating_add(1);
                        match self.m.render(strategy, v, &mut self.scratch) {
                            super::Rendered::Text => std::mem::take(&mut self.scratch),
                            // `null` cannot stand inside a string: the string goes empty.
                            _ => String::new(),
                        }
                    }));
                }
            }
        }
        let Some(mut text) = text else {
            return Ok(None);
        };
        // What follows the last document is text like any other string value.
        self.push_judged(rest, at, &mut text);
        if self.masked_so_far() == masked_before {
            // Nothing in it was personal: the string is judged (and copied byte for byte)
            // as any other, not rewritten compact.
            return Ok(None);
        }
        Ok(Some(text))
    }

    /// Appends `part` of a string that also holds documents to `out`: as it is, or masked
    /// by the policy when it is personal text.
    fn push_judged(&mut self, part: &str, at: At, out: &mut String) {
        match self.leaf_text(part, at) {
            Some(strategy) if !part.trim_matches(is_blank).is_empty() => {
                self.by_policy = self.by_policy.saturating_add(1);
                let rendered = self.m.render(strategy, part, &mut self.scratch);
                if matches!(rendered, super::Rendered::Text) {
                    out.push_str(&self.scratch);
                }
            }
            _ => out.push_str(part),
        }
    }

    /// The first document at an offset of `piece` after its first character (at most
    /// `starts_left` offsets tried, each failure spending the re-read budget).
    fn further(&mut self, piece: &str, at: At, starts_left: &mut usize) -> Result<Further, Fail> {
        let b = piece.as_bytes();
        let mut from = 1;
        while let Some(offset) = b.get(from..).and_then(|t| memchr::memchr2(b'{', b'[', t)) {
            let offset = from + offset;
            if *starts_left == 0 || self.rewalk_left == 0 {
                return Ok(Further::Bounded);
            }
            *starts_left -= 1;
            match self.document(&piece[offset..], at)? {
                Attempt::Document(t, used) => return Ok(Further::Found(offset, t, used)),
                Attempt::NotJson(read) => {
                    self.rewalk_left = self.rewalk_left.saturating_sub(read);
                }
            }
            from = offset + 1;
        }
        Ok(Further::None)
    }

    /// An object or array at the start of `piece`, masked as a document one level below the
    /// string: its compact masked text and the bytes of `piece` it spans.
    fn document(&mut self, piece: &str, at: At) -> Result<Attempt, Fail> {
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
            Ok(()) => Ok(match String::from_utf8(inner) {
                Ok(t) => Attempt::Document(t, lx.pos),
                Err(_) => Attempt::NotJson(lx.pos),
            }),
            // Too deep is never "not JSON": copying it would forward what we could not inspect.
            Err(Fail::TooDeep) => Err(Fail::TooDeep),
            Err(Fail::Syntax(_)) => {
                self.counts = counts;
                self.by_policy = by_policy;
                if let (Some(p), Some(len)) = (&mut self.pol, path_len) {
                    p.path.truncate(len);
                }
                Ok(Attempt::NotJson(lx.pos.max(1)))
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
