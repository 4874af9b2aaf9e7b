//! A strict RFC 8259 scanner over text already known to be UTF-8.
//!
//! Why our own and not serde_json: the walk must copy every value it does not mask byte for
//! byte (a 30-digit amount, `1.50`, a string's own escapes), which needs each token's source
//! span. serde_json's streaming visitor hands over decoded values only (numbers re-printed, or
//! behind its `arbitrary_precision` stand-in map), and `RawValue` gives spans only for values
//! it does not enter, while the walk enters everything. Streaming crates (struson) decode
//! strings and do not expose spans either. The grammar is small and closed, so the scanner
//! is: whitespace, the three literals, numbers, strings; structure is the walk's.
//!
//! Strictness matches serde_json's: no control characters in strings, only the nine escapes,
//! `\u` surrogates only as a high-low pair, no leading zeros, no `+`, no bare `.`, no NaN.

/// Why scanning stopped. Positions are byte offsets in the scanned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    Syntax(usize),
    TooDeep,
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pub(crate) pos: usize,
}

/// A string token: its body between the quotes, escapes as written.
#[derive(Clone, Copy)]
pub(crate) struct Str<'a> {
    pub(crate) raw: &'a str,
    pub(crate) escaped: bool,
}

impl<'a> Str<'a> {
    /// The string's value: borrowed when it has no escapes, else decoded into `buf`.
    pub(crate) fn value<'b>(&self, buf: &'b mut String) -> &'b str
    where
        'a: 'b,
    {
        if !self.escaped {
            return self.raw;
        }
        buf.clear();
        unescape(self.raw, buf);
        buf
    }
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// The source text between two positions this lexer has passed (empty if out of range).
    pub(crate) fn source(&self, from: usize, to: usize) -> &'a str {
        self.src.get(from..to).unwrap_or_default()
    }

    #[inline]
    pub(crate) fn err(&self) -> Fail {
        Fail::Syntax(self.pos)
    }

    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        let b = self.src.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[inline]
    pub(crate) fn expect(&mut self, b: u8) -> Result<(), Fail> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    pub(crate) fn literal(&mut self, word: &'static [u8]) -> Result<(), Fail> {
        let end = self.pos + word.len();
        if self.src.as_bytes().get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(self.err())
        }
    }

    /// A number, at its first byte; returns its text.
    pub(crate) fn number(&mut self) -> Result<&'a str, Fail> {
        let b = self.src.as_bytes();
        let start = self.pos;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(b, i + 1),
            _ => return Err(Fail::Syntax(i)),
        }
        if b.get(i) == Some(&b'.') {
            let after = digits(b, i + 1);
            if after == i + 1 {
                return Err(Fail::Syntax(after));
            }
            i = after;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let after = digits(b, i);
            if after == i {
                return Err(Fail::Syntax(after));
            }
            i = after;
        }
        let text = &self.src[start..i];
        // Beyond a double's range is refused, as serde_json and every JSON.parse-style reader
        // do (a client would read `1e400` as infinity); only long or exponent forms can be.
        if (text.len() > 300 || text.bytes().any(|b| b == b'e' || b == b'E'))
            && !text.parse::<f64>().is_ok_and(f64::is_finite)
        {
            return Err(Fail::Syntax(start));
        }
        self.pos = i;
        Ok(text)
    }

    /// A string, at its opening quote.
    pub(crate) fn string(&mut self) -> Result<Str<'a>, Fail> {
        let b = self.src.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = super::plain_run::skip_plain(b, i);
            let Some(&c) = b.get(i) else {
                return Err(Fail::Syntax(i));
            };
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i = escape(b, i + 1)?;
                }
                0..=0x1f => return Err(Fail::Syntax(i)),
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        Ok(Str {
            raw: &self.src[start..i],
            escaped,
        })
    }
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(i) {
        i += 1;
    }
    i
}

/// Checks the escape whose letter is at `i`; returns the offset after it.
fn escape(b: &[u8], i: usize) -> Result<usize, Fail> {
    match b.get(i) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 1),
        Some(b'u') => {
            let unit = hex4(b, i + 1)?;
            match unit {
                0xD800..=0xDBFF => {
                    // Only a low surrogate may follow, as another escape.
                    if b.get(i + 5) != Some(&b'\\') || b.get(i + 6) != Some(&b'u') {
                        return Err(Fail::Syntax(i + 5));
                    }
                    match hex4(b, i + 7)? {
                        0xDC00..=0xDFFF => Ok(i + 11),
                        _ => Err(Fail::Syntax(i + 7)),
                    }
                }
                0xDC00..=0xDFFF => Err(Fail::Syntax(i)),
                _ => Ok(i + 5),
            }
        }
        _ => Err(Fail::Syntax(i)),
    }
}

fn hex4(b: &[u8], i: usize) -> Result<u32, Fail> {
    let digits = b.get(i..i + 4).ok_or(Fail::Syntax(i))?;
    let mut v = 0u32;
    for (k, &d) in digits.iter().enumerate() {
        let n = (d as char).to_digit(16).ok_or(Fail::Syntax(i + k))?;
        v = v * 16 + n;
    }
    Ok(v)
}

/// Decodes the body of a string the lexer accepted.
fn unescape(raw: &str, out: &mut String) {
    let b = raw.as_bytes();
    let mut i = 0;
    let mut run = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&raw[run..i]);
        let c = b.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        match c {
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = hex4(b, i).unwrap_or(0xFFFD);
                i += 4;
                let code = if (0xD800..=0xDBFF).contains(&hi) {
                    let lo = hex4(b, i + 2).unwrap_or(0xDC00);
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            other => out.push(other as char),
        }
        run = i;
    }
    out.push_str(&raw[run..]);
}

/// 1-based line and column of byte `pos` in `text`, for error reports that never quote it.
pub(crate) fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..pos).unwrap_or(text.as_bytes());
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(before.len() + 1, |nl| before.len() - nl);
    (line, column)
}
