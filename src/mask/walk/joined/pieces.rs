//! The pieces of a container, read from its source text and from the walk's output for it in
//! step: the scalar leaves below it in document order, through nested containers, each as
//! what it adds to the joined value (see [`Piece`]). `null` and booleans add nothing: a
//! separator that carries no digit does not split the value around it. A leaf the first
//! reading masked (its output token differs from its source token) is not what the client
//! reads between the pieces around it: the number reading passes over it; the text reading
//! reads it as before (a member masked under its key is still a piece of the text), but one
//! that shows a shape alone (a decoy email) or a container masked whole breaks the text, so
//! what is masked on its own never masks its neighbours.

use super::super::lexer::Lexer;

/// What one leaf adds to the joined value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Piece {
    /// Text read as a piece of a spelled value.
    Text(String),
    /// An object member that is a short digit string or integer (1 to [`MAX_NUM_PIECE`]
    /// digits): too short to be a value of its own alone, and the way a number is split
    /// across members (`{"country_code": "62", "area_code": "812", …}`). Read in the number
    /// reading only (see `shape`), since an object's longer numbers are its amounts.
    Num(String),
    /// A value of its own that carries what a detector judges alone (an amount, a declared
    /// member, a long text): the pieces on either side are not read as one.
    Break,
    /// A leaf the first reading masked under its key: a piece of the text reading, passed
    /// over by the number reading.
    Hidden(String),
    /// A leaf that shows a shape alone, or a container, the first reading masked: a break in
    /// the text reading, passed over by the number reading.
    Gap,
}

impl Piece {
    /// Whether this is a piece of a value (not a break, not a gap).
    pub(super) fn counts(&self) -> bool {
        !matches!(self, Piece::Break | Piece::Gap)
    }
}

/// The most digits of a [`Piece::Num`]: an amount in rupiah has more, an area code, a
/// subscriber group or a card's last four fewer.
pub(super) const MAX_NUM_PIECE: usize = 6;

/// The longest object member read as a piece of a joined value (an email's local part is
/// at most 64 bytes): a longer one is text of its own, judged alone.
pub(super) const MAX_PIECE: usize = 64;

/// The most levels of containers below the joined container read into it: a deeper
/// container stands as [`Piece::Break`] (it is read joined as a container of its own).
pub(super) const MAX_DEPTH: usize = 6;

/// The most pieces a nested container adds to the one around it: a bigger one (a record of a
/// list, a full answer) is a value of its own, read joined alone, and stands as
/// [`Piece::Break`].
pub(super) const MAX_INLINE: usize = 32;

/// How a member of an object at a declared path is judged: `(declared path of the member,
/// whether a declaration or a field rule judges it alone)`.
pub(super) type MemberRule<'r> = dyn FnMut(Option<u32>, &str) -> (Option<u32>, bool) + 'r;
/// The declared path of an array's elements, given the array's.
pub(super) type ItemRule<'r> = dyn Fn(Option<u32>) -> Option<u32> + 'r;
/// Whether a detector fires on a string alone.
pub(super) type Shows<'r> = dyn Fn(&str) -> bool + 'r;

pub(super) struct Reader<'a, 'r> {
    src: Lexer<'a>,
    out: Lexer<'a>,
    dec: String,
    key: String,
    member: &'r mut MemberRule<'r>,
    item: &'r ItemRule<'r>,
    shows: &'r Shows<'r>,
}

impl<'a, 'r> Reader<'a, 'r> {
    pub(super) fn new(
        src: &'a str,
        out: &'a str,
        member: &'r mut MemberRule<'r>,
        item: &'r ItemRule<'r>,
        shows: &'r Shows<'r>,
    ) -> Self {
        Reader {
            src: Lexer::new(src),
            out: Lexer::new(out),
            dec: String::new(),
            key: String::new(),
            member,
            item,
            shows,
        }
    }

    /// The pieces of the container both texts hold (see the module); `None` when they are not
    /// the same container (the output replaced it whole) or are no JSON.
    pub(super) fn read(mut self, object: bool, decl: Option<u32>) -> Option<Vec<Piece>> {
        let open = if object { b'{' } else { b'[' };
        self.src.skip_ws();
        self.out.skip_ws();
        if self.src.peek()? != open || self.out.peek()? != open {
            return None;
        }
        let mut pieces = Vec::new();
        self.container(object, decl, 0, &mut pieces)?;
        Some(pieces)
    }

    fn container(
        &mut self,
        object: bool,
        decl: Option<u32>,
        depth: usize,
        pieces: &mut Vec<Piece>,
    ) -> Option<()> {
        let (open, close) = if object { (b'{', b'}') } else { (b'[', b']') };
        self.src.expect(open).ok()?;
        self.out.expect(open).ok()?;
        self.src.skip_ws();
        self.out.skip_ws();
        if self.src.eat(close) {
            return self.out.expect(close).ok();
        }
        let items = (self.item)(decl);
        loop {
            self.src.skip_ws();
            self.out.skip_ws();
            let (child, alone) = if object {
                let k = self.src.string().ok()?;
                self.out.string().ok()?;
                let rule = (self.member)(decl, k.value(&mut self.key));
                for lx in [&mut self.src, &mut self.out] {
                    lx.skip_ws();
                    lx.expect(b':').ok()?;
                    lx.skip_ws();
                }
                rule
            } else {
                (items, false)
            };
            self.value(object, child, alone, depth, pieces)?;
            self.src.skip_ws();
            self.out.skip_ws();
            if self.src.eat(b',') {
                self.out.expect(b',').ok()?;
                continue;
            }
            self.src.expect(close).ok()?;
            return self.out.expect(close).ok();
        }
    }

    /// One member's (`object`) or element's value.
    fn value(
        &mut self,
        object: bool,
        decl: Option<u32>,
        alone: bool,
        depth: usize,
        pieces: &mut Vec<Piece>,
    ) -> Option<()> {
        let s = self.src.peek()?;
        if matches!(s, b'{' | b'[') {
            if self.out.peek()? != s {
                // Masked whole by the first reading.
                skip_value(&mut self.src)?;
                pieces.push(Piece::Gap);
                return skip_value(&mut self.out);
            }
            if depth + 1 > MAX_DEPTH {
                skip_value(&mut self.src)?;
                skip_value(&mut self.out)?;
                pieces.push(Piece::Break);
                return Some(());
            }
            let mut inner = Vec::new();
            self.container(s == b'{', decl, depth + 1, &mut inner)?;
            let count = inner.iter().filter(|p| p.counts()).count();
            if count > MAX_INLINE {
                pieces.push(Piece::Break);
            } else {
                pieces.extend(inner);
            }
            return Some(());
        }
        let (src, out) = (scalar(&mut self.src)?, scalar(&mut self.out)?);
        let masked = src.kind != out.kind || src.raw != out.raw;
        let piece = match src.kind {
            b'"' => {
                let v = if src.escaped {
                    self.dec.clear();
                    super::super::lexer::Str {
                        raw: src.raw,
                        escaped: true,
                    }
                    .value(&mut self.dec)
                    .to_owned()
                } else {
                    src.raw.to_owned()
                };
                if masked && (self.shows)(&v) {
                    Some(Piece::Gap)
                } else {
                    string_piece(v, object, alone)
                }
            }
            b'n' | b't' | b'f' => return Some(()),
            _ if masked => Some(Piece::Gap),
            _ => number_piece(src.raw, object, alone),
        };
        // Only a direct member is read as masked under its key: a leaf masked in a nested
        // container may be masked because that container's own reading fired, and read again
        // here it would mask every container around it.
        let piece = match piece {
            Some(Piece::Text(t)) if masked && depth == 0 => Some(Piece::Hidden(t)),
            Some(Piece::Num(d)) if masked && depth == 0 && d.len() == 1 => Some(Piece::Hidden(d)),
            Some(_) if masked => Some(Piece::Gap),
            p => p,
        };
        if let Some(p) = piece {
            pieces.push(p);
        }
        Some(())
    }
}

/// Whether the hex digits at the end of `id` (its body) are bytes of text: printable ASCII and
/// zero bytes only (UTF-8 or UTF-16 of ASCII). Text written in hex and cut into long pieces is
/// still a piece of what it spells; random bytes are printable throughout about once in a
/// million 12-byte bodies.
fn hex_of_text(id: &str) -> bool {
    let body: Vec<u8> = id
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_hexdigit() || *b == b'-')
        .filter(|b| *b != b'-')
        .collect();
    let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
    body.len() >= 2
        && body
            .rchunks_exact(2)
            .map(|p| digit(p[1]) << 4 | digit(p[0]))
            .all(|b| b == 0 || (0x20..0x7f).contains(&b))
}

/// What a string leaf adds: in an array, its text; in an object, a short digit string (or a
/// calling code, `+62`) is a [`Piece::Num`]; a member a declaration or rule judges alone, a
/// long one or a formatted number (`super::formatted`) breaks the value when it carries a
/// digit (a digit-free one adds nothing).
fn string_piece(v: String, object: bool, alone: bool) -> Option<Piece> {
    // An opaque id (a UUID, a hex body of 24 or more) is random bytes written out, a value of
    // its own: joined to its neighbour, two ids make one longer hex token whose decoded bytes
    // show a shape by chance (about 1 body in 10,000 masked whole).
    if crate::mask::policy::kind::is_opaque_id(&v) && !hex_of_text(&v) {
        return Some(Piece::Break);
    }
    if !object {
        return Some(Piece::Text(v));
    }
    // A country calling code is written with its `+` (`"+62"`): its digits are the piece.
    let v = match v.strip_prefix('+') {
        Some(cc) if (1..=3).contains(&cc.len()) && cc.bytes().all(|b| b.is_ascii_digit()) => {
            cc.to_owned()
        }
        _ => v,
    };
    let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    // A formatted number (a date, a time, an amount with its minor units) is a complete
    // value of its own, as a number written as a string is: a value spelled across members
    // is spelled in fragments, and the joined text never glues a date's last digits to the
    // next member's first (`06/12/2026` + `150000.00`).
    if alone
        || v.len() > MAX_PIECE
        || (digits && v.len() > MAX_NUM_PIECE)
        || super::formatted::formatted_number(&v)
    {
        return v.chars().any(|c| c.is_numeric()).then_some(Piece::Break);
    }
    Some(if digits {
        Piece::Num(v)
    } else {
        Piece::Text(v)
    })
}

/// What a number leaf adds: a one-digit number in an array is a digit of a number spelled
/// across elements; in an object an integer of at most [`MAX_NUM_PIECE`] digits is a
/// [`Piece::Num`]; any other number is a value of its own (an amount, a count).
fn number_piece(n: &str, object: bool, alone: bool) -> Option<Piece> {
    let integer = n.bytes().all(|b| b.is_ascii_digit());
    Some(if alone || !integer {
        Piece::Break
    } else if object && n.len() <= MAX_NUM_PIECE {
        Piece::Num(n.to_owned())
    } else if !object && n.len() == 1 {
        Piece::Text(n.to_owned())
    } else {
        Piece::Break
    })
}

/// One scalar token: its first byte (`"`, `n`, `t`, `f`, or a number's), its source text
/// (a string's body between the quotes) and whether a string has escapes.
struct Scalar<'a> {
    kind: u8,
    raw: &'a str,
    escaped: bool,
}

fn scalar<'a>(lx: &mut Lexer<'a>) -> Option<Scalar<'a>> {
    let kind = lx.peek()?;
    let (raw, escaped) = match kind {
        b'"' => {
            let s = lx.string().ok()?;
            (s.raw, s.escaped)
        }
        b'n' => lx.literal(b"null").ok().map(|()| ("null", false))?,
        b't' => lx.literal(b"true").ok().map(|()| ("true", false))?,
        b'f' => lx.literal(b"false").ok().map(|()| ("false", false))?,
        b'-' | b'0'..=b'9' => (lx.number().ok()?, false),
        _ => return None,
    };
    Some(Scalar { kind, raw, escaped })
}

/// Moves the lexer past the value at it (a container's strings read as strings, so brackets
/// in them do not count).
pub(super) fn skip_value(lx: &mut Lexer<'_>) -> Option<()> {
    if !matches!(lx.peek()?, b'{' | b'[') {
        return scalar(lx).map(|_| ());
    }
    let mut depth = 0usize;
    loop {
        match lx.peek()? {
            b'"' => {
                lx.string().ok()?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        lx.pos += 1;
        if depth == 0 {
            return Some(());
        }
    }
}
