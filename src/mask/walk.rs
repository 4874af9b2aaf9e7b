//! The body walk: a strict recursive-descent reader ([`lexer`]) that copies every token it does
//! not mask from the input, byte for byte (numbers keep their text, strings their escapes),
//! and writes the gateway's own text only for masked values. Whitespace between tokens is
//! dropped, so the output is compact JSON with the input's key order.
//!
//! Recursion is bounded by `max_depth` (<= 126), checked before each container is entered, so
//! hostile nesting ends in `TooDeep` long before the stack is at risk. A string holding a JSON
//! document is masked as a document of its own, one level deeper than the string (see
//! [`embedded`]), so documents in strings in strings also end in `TooDeep`.

use super::config::Strategy;
use super::error::MaskError;
use super::keynorm::fold_key_into;
use super::masker::{Masker, Rendered};
use super::policy::{FieldPolicy, Naming, Policies};
use super::rules::Spelling;

mod embedded;
mod joined;
mod key_memo;
pub(crate) mod lexer;
mod named;
mod plain_run;
mod policy;
mod write;

pub(super) use key_memo::next_generation;
use lexer::{Fail, Lexer, Str};
use named::plain_key;
use policy::Pol;
// The walk's judgement of a value under a role key, shared with the text pairs' reader
// (`policy::pairs`).

/// Where a value stands: how deep, where in the rule and declared-path tries, and whether an
/// enclosing key named personal data.
#[derive(Clone, Copy, Debug)]
pub(super) struct At {
    /// Number of containers (and strings opened as documents) enclosing this value.
    pub(super) depth: usize,
    /// Position in the path-rule trie; `None` once off every configured path.
    pub(super) node: Option<u32>,
    /// Position in the family's declared-path trie; `None` once off every declared path.
    pub(super) decl: Option<u32>,
    /// A key on the way here is personal (a key word, or a detector fired on it).
    pub(super) personal: bool,
    /// This value is an element of an array: a declaration covers the scalars of an array
    /// at its path, never of an array inside that array.
    pub(super) item: bool,
    /// An enclosing key is personal (a key word, or a detector fired on it): unlike
    /// `personal`, not set for a container read again because a member names a field.
    pub(super) keyed: bool,
    /// The key of this value (or of the array holding it) is a role word alone (`payer`): a
    /// name here is personal. Not inherited by an object's members.
    pub(super) role: bool,
    /// This value is a member of an object (or an element of an array): a string here that
    /// names a personal field makes its siblings personal (see [`Walk::container`]).
    pub(super) member: bool,
    /// Inside the value of a key with a role word (`payer: {…}`, `payer_info`, `recipients:
    /// [{…}]`): a string written as a person's name is personal, and a key that is no plain
    /// field name (`"Alice Victimson": 150000`) is data.
    pub(super) scope: bool,
}

/// What [`run`] produced: the body, values masked per rule, values masked by the field policy.
pub(super) struct Output {
    pub(super) body: Vec<u8>,
    pub(super) escaped: Vec<u8>,
    pub(super) counts: Box<[u32]>,
    pub(super) by_policy: u32,
}

pub(super) fn run(
    m: &Masker,
    text: &str,
    policy: Option<(&Policies, &FieldPolicy)>,
) -> Result<Output, MaskError> {
    let pol = policy.map(|(policies, policy)| Pol::new(policies, policy, m.generation));
    let root = At {
        depth: 0,
        node: m.paths.root(),
        decl: pol.as_ref().map(|p| p.policy.declared.root()),
        personal: false,
        keyed: false,
        role: false,
        item: false,
        member: false,
        scope: false,
    };
    let mut w = Walk {
        m,
        out: Vec::with_capacity(text.len() + 64),
        counts: vec![0; m.rules.len()].into_boxed_slice(),
        by_policy: 0,
        escaped: Vec::new(),
        scratch: String::new(),
        dec: String::new(),
        fold_buf: String::new(),
        pol,
        names_field: Naming::None,
        label_below: false,
        counts_stack: Vec::new(),
        rewalk_left: text.len().saturating_mul(named::REWALK_FACTOR),
    };
    let mut lx = Lexer::new(text);
    let res = w.value(&mut lx, root, Mode::Copy).and_then(|()| {
        lx.skip_ws();
        if lx.at_end() {
            Ok(())
        } else {
            Err(lx.err())
        }
    });
    match res {
        Ok(()) => Ok(Output {
            body: w.out,
            escaped: w.escaped,
            counts: w.counts,
            by_policy: w.by_policy,
        }),
        Err(Fail::TooDeep) => Err(MaskError::TooDeep),
        Err(Fail::Syntax(pos)) => {
            let (line, column) = lexer::line_column(text, pos);
            Err(MaskError::Parse { line, column })
        }
    }
}

/// What happens to the value being read.
#[derive(Clone, Copy, Debug)]
pub(super) enum Mode {
    /// Not personal: copied unchanged.
    Copy,
    /// Under a key matched by this rule: scalars are rewritten by its strategy, containers
    /// (objects and arrays) are replaced whole.
    Rule(usize),
    /// Inside a container under an `hmac` rule: written in canonical compact form from this
    /// output offset on, so its text can be digested (then dropped) when it closes.
    Capture(usize),
    /// Inside a container already replaced as a whole: read (to validate it) but not written.
    Skip,
}

pub(super) struct Walk<'m> {
    pub(super) m: &'m Masker,
    pub(super) out: Vec<u8>,
    pub(super) counts: Box<[u32]>,
    /// Values masked by the field policy (default strategy).
    pub(super) by_policy: u32,
    /// The decoded text of every string and key copied with escapes, one per line: what a
    /// client reads there, for the secret guard (the output holds only the escaped form).
    pub(super) escaped: Vec<u8>,
    /// Reused buffers so masking a value does not allocate once they have grown.
    scratch: String,
    /// Decoded form of the current escaped string or key.
    dec: String,
    /// The current key in the rules' form (reused: no allocation per key).
    fold_buf: String,
    /// The route family's field policy, when the masker has one.
    pub(super) pol: Option<Pol<'m>>,
    /// How a direct member of the container being read names a personal field (`{"field":
    /// "first_name", "value": …}`): the container is read again as personal.
    pub(super) names_field: Naming,
    /// A container directly in the one being read was named by a label ([`Naming::Label`]):
    /// the one being read holds the values it labels, and is read again as personal too.
    pub(super) label_below: bool,
    /// Per-rule counts at the start of each container being watched for such a member
    /// (stacked, so a second reading starts from the counts the first one started from).
    pub(super) counts_stack: Vec<u32>,
    /// Bytes the walk may still read a second time for such containers.
    pub(super) rewalk_left: usize,
}

impl Walk<'_> {
    pub(super) fn value(&mut self, lx: &mut Lexer<'_>, at: At, mode: Mode) -> Result<(), Fail> {
        lx.skip_ws();
        match lx.peek() {
            Some(b'{') => self.container(lx, at, mode, true),
            Some(b'[') => self.container(lx, at, mode, false),
            Some(b'"') => {
                let s = lx.string()?;
                self.string(mode, s, at)
            }
            Some(b't') => {
                lx.literal(b"true")?;
                self.scalar(mode, "true", true, at)
            }
            Some(b'f') => {
                lx.literal(b"false")?;
                self.scalar(mode, "false", true, at)
            }
            Some(b'n') => {
                lx.literal(b"null")?;
                // null carries nothing personal: kept as is, and not counted as masked.
                if !matches!(mode, Mode::Skip) {
                    self.out.extend_from_slice(b"null");
                }
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let n = lx.number()?;
                self.scalar(mode, n, false, at)
            }
            _ => Err(lx.err()),
        }
    }

    fn array(&mut self, lx: &mut Lexer<'_>, at: At, mode: Mode) -> Result<(), Fail> {
        if at.depth >= self.m.max_depth {
            return Err(Fail::TooDeep);
        }
        lx.expect(b'[')?;
        let inner = self.enter(mode);
        let write = !matches!(inner, Mode::Skip);
        if write {
            self.out.push(b'[');
        }
        lx.skip_ws();
        // `[["…"]]` under a declared `key[]`: a shape the declaration did not describe, so
        // undeclared; so is an array at a leaf declared as a scalar (`page: [0, 8, 1, …]`).
        let decl = match (&self.pol, at.decl) {
            (Some(p), Some(d)) if !at.item && p.policy.declared.takes_array(d) => Some(d),
            _ => None,
        };
        if !lx.eat(b']') {
            loop {
                let item = At {
                    depth: at.depth + 1,
                    decl,
                    item: true,
                    member: true,
                    ..at
                };
                self.value(lx, item, inner)?;
                lx.skip_ws();
                if lx.eat(b',') {
                    if write {
                        self.out.push(b',');
                    }
                    continue;
                }
                lx.expect(b']')?;
                break;
            }
        }
        if write {
            self.out.push(b']');
        }
        if let (Mode::Rule(r), Mode::Capture(start)) = (mode, inner) {
            self.finish_capture(r, start);
        }
        Ok(())
    }

    fn object(&mut self, lx: &mut Lexer<'_>, at: At, mode: Mode) -> Result<(), Fail> {
        if at.depth >= self.m.max_depth {
            return Err(Fail::TooDeep);
        }
        lx.expect(b'{')?;
        let inner = self.enter(mode);
        let write = !matches!(inner, Mode::Skip);
        if write {
            self.out.push(b'{');
        }
        lx.skip_ws();
        if !lx.eat(b'}') {
            let mut member = 0usize;
            loop {
                lx.skip_ws();
                if lx.peek() != Some(b'"') {
                    return Err(lx.err());
                }
                let key = lx.string()?;
                lx.skip_ws();
                lx.expect(b':')?;
                let key_at = self.out.len();
                let (child, value_mode, back) = self.key(key, at, inner, member);
                lx.skip_ws();
                // A key that is no field name above a container: if the container turns out
                // to hold personal data, the key is data too (see `data_key_above`).
                let watch_key = matches!(value_mode, Mode::Copy)
                    && self.pol.is_some()
                    && matches!(lx.peek(), Some(b'{' | b'['))
                    && !plain_key(key.raw)
                    && self.out.get(key_at + 1) != Some(&b'<');
                let masked_before = if watch_key { self.masked_so_far() } else { 0 };
                self.value(lx, child, value_mode)?;
                if watch_key && self.masked_so_far() > masked_before {
                    self.data_key_above(key_at, member);
                }
                if let (Some(p), Some(back)) = (&mut self.pol, back) {
                    p.path.truncate(back);
                }
                member += 1;
                lx.skip_ws();
                if lx.eat(b',') {
                    if write {
                        self.out.push(b',');
                    }
                    continue;
                }
                lx.expect(b'}')?;
                break;
            }
        }
        if write {
            self.out.push(b'}');
        }
        if let (Mode::Rule(r), Mode::Capture(start)) = (mode, inner) {
            self.finish_capture(r, start);
        }
        Ok(())
    }

    /// Writes a key (when not skipping) and works out what applies to its value: where it
    /// stands, its mode, and (with a field policy) the path length to go back to after it.
    fn key(
        &mut self,
        key: Str<'_>,
        at: At,
        mode: Mode,
        member: usize,
    ) -> (At, Mode, Option<usize>) {
        let mut child = At {
            depth: at.depth + 1,
            node: None,
            decl: None,
            personal: at.personal,
            keyed: at.keyed,
            role: false,
            item: false,
            member: true,
            scope: at.scope,
        };
        match mode {
            Mode::Skip => return (child, Mode::Skip, None),
            // Digested whole: rules inside do not apply.
            Mode::Capture(_) => {
                self.write_canonical(key);
                self.out.push(b':');
                return (child, mode, None);
            }
            Mode::Copy | Mode::Rule(_) => {}
        }
        let mut dec = std::mem::take(&mut self.dec);
        let k = key.value(&mut dec);
        // One fold per key, for the field rules and the path rules alike.
        let mut fold_buf = std::mem::take(&mut self.fold_buf);
        let formed: &str = match self.m.fields.spelling() {
            Spelling::Exact => k,
            Spelling::Folded => fold_key_into(k, &mut fold_buf),
        };
        child.node = at.node.and_then(|n| self.m.paths.child(n, formed));
        let rule = child
            .node
            .and_then(|c| self.m.paths.rule(c))
            .or_else(|| self.m.fields.get_formed(formed));
        self.fold_buf = fold_buf;
        let mut back = None;
        let mut rewrite = None;
        if let Some(p) = &mut self.pol {
            // `ruled`: a named rule matches the key. In a container read as personal (a field
            // name in it, a role key above it), a key that is no plain field name is data:
            // `{"Alice Victimson": …}`.
            let checked = p.key(
                k,
                at.decl,
                at.keyed,
                rule.is_some(),
                at.personal || at.scope,
            );
            child.decl = checked.decl;
            child.personal |= checked.personal;
            child.keyed |= checked.personal;
            child.role = checked.role;
            child.scope |= checked.role || checked.role_word;
            rewrite = checked.rewrite;
            back = Some(checked.back);
        }
        // A key a named rule matches is copied only when it is printable ASCII: its letters
        // and digits spell the rule's name, so upstream's case and separators are all it
        // keeps. Any other spelling (`ｅｍａｉｌ`, `ſurname`, combining marks, tag or
        // zero-width characters a client folds away or cannot see) is written in the
        // gateway's own, `<key>#N` (unique, unlike the rule's name beside a plain sibling).
        if rewrite.is_none() && rule.is_some() && !k.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            rewrite = Some("<key>");
        }
        match rewrite {
            Some(placeholder) => {
                // `<…>#N`: the member's index keeps keys unique, and no key copied from
                // upstream starts with `<` (those are rewritten too), so none can collide.
                self.out.push(b'"');
                self.out.extend_from_slice(placeholder.as_bytes());
                self.out.extend_from_slice(format!("#{member}").as_bytes());
                self.out.push(b'"');
                self.by_policy = self.by_policy.saturating_add(1);
            }
            None => self.write_raw(key),
        }
        self.out.push(b':');
        self.dec = dec;
        (child, rule.map_or(mode, Mode::Rule), back)
    }

    fn string(&mut self, mode: Mode, s: Str<'_>, at: At) -> Result<(), Fail> {
        match mode {
            Mode::Skip => Ok(()),
            Mode::Capture(_) => {
                self.write_canonical(s);
                Ok(())
            }
            Mode::Rule(r) => {
                let mut dec = std::mem::take(&mut self.dec);
                let v = s.value(&mut dec);
                // Masked by its rule, but the name it holds still names its siblings.
                if at.member && self.names_field != Naming::Label {
                    let n = self.names_personal_field(v, at, true);
                    self.names_field = self.names_field.max(n);
                }
                self.mask_text(r, v);
                self.dec = dec;
                Ok(())
            }
            Mode::Copy => {
                if embedded::may_hold_json(s) {
                    // Owned: the walk of an embedded document reuses `dec`.
                    let mut owned = String::new();
                    let v = s.value(&mut owned).to_owned();
                    if let Some(text) = self.embedded(&v, at)? {
                        self.write_str(&text);
                        return Ok(());
                    }
                }
                if self.pol.is_none() {
                    self.write_raw(s);
                    return Ok(());
                }
                let mut dec = std::mem::take(&mut self.dec);
                let v = s.value(&mut dec);
                if at.member && self.names_field != Naming::Label {
                    let n = self.names_personal_field(v, at, false);
                    self.names_field = self.names_field.max(n);
                }
                match self.leaf_text(v, at) {
                    Some(strategy) => self.mask_by_policy(strategy, v),
                    None => self.write_raw(s),
                }
                self.dec = dec;
                Ok(())
            }
        }
    }

    /// A number or boolean. Under a personal key a number is masked through its text and
    /// comes out as a string (or null): phone and account numbers sometimes arrive unquoted.
    /// A boolean's one bit would show through a partial reveal or a digest, so it becomes the
    /// placeholder (or null).
    fn scalar(&mut self, mode: Mode, text: &str, boolean: bool, at: At) -> Result<(), Fail> {
        match mode {
            Mode::Copy => match self.leaf_scalar(text, boolean, at) {
                Some(strategy) => {
                    self.by_policy = self.by_policy.saturating_add(1);
                    let rendered = if boolean {
                        self.m.render_bool(strategy, &mut self.scratch)
                    } else {
                        self.m.render(strategy, text, &mut self.scratch)
                    };
                    self.write_scratch(rendered);
                }
                None => self.out.extend_from_slice(text.as_bytes()),
            },
            Mode::Capture(_) => self.out.extend_from_slice(text.as_bytes()),
            Mode::Skip => {}
            Mode::Rule(r) => {
                self.count(r);
                let strategy = self.strategy(r);
                let rendered = if boolean {
                    self.m.render_bool(strategy, &mut self.scratch)
                } else {
                    self.m.render(strategy, text, &mut self.scratch)
                };
                self.write_scratch(rendered);
            }
        }
        Ok(())
    }

    /// Masks a string value by rule `r` and writes the result.
    pub(super) fn mask_text(&mut self, r: usize, v: &str) {
        self.count(r);
        let rendered = self.m.render(self.strategy(r), v, &mut self.scratch);
        self.write_scratch(rendered);
    }

    /// Mode for the inside of a container. Under a rule every container is **one value**,
    /// replaced whole: the replacement is written here and the contents are then only
    /// validated, or, for `hmac`, captured to be digested whole by `finish_capture`.
    ///
    /// An object's keys are data too. An array is one value because nothing tells a list of
    /// values from one value split into pieces: `["3173","5501","7702","1234"]` under `last4`
    /// masked element by element would show half of each piece, and `hmac` per element would
    /// give each digit its own digest, a codebook. So a partial reveal (`last4`, `keep_last`,
    /// `email`) never applies to a container (it becomes the placeholder), and `hmac`
    /// digests the container's canonical compact text, so equal arrays still match.
    fn enter(&mut self, mode: Mode) -> Mode {
        let Mode::Rule(r) = mode else {
            return mode;
        };
        let strategy = self.strategy(r);
        self.count(r);
        if strategy == Strategy::Hmac {
            return Mode::Capture(self.out.len());
        }
        let rendered = self.m.render_container(strategy, "", &mut self.scratch);
        self.write_scratch(rendered);
        Mode::Skip
    }

    /// Replaces the object captured from `start` on with its digest.
    fn finish_capture(&mut self, rule: usize, start: usize) {
        let strategy = self.strategy(rule);
        let captured = self.out.get(start..).unwrap_or_default();
        // Captured text is built from the input's (UTF-8) tokens and our own escaping.
        let json = std::str::from_utf8(captured).unwrap_or_default();
        let rendered = self.m.render_container(strategy, json, &mut self.scratch);
        self.out.truncate(start);
        self.write_scratch(rendered);
    }

    fn count(&mut self, rule: usize) {
        if let Some(c) = self.counts.get_mut(rule) {
            *c = c.saturating_add(1);
        }
    }

    fn strategy(&self, rule: usize) -> Strategy {
        // Rule indexes come from the masker's own tables; Redact is the safe reading anyway.
        self.m
            .rules
            .get(rule)
            .map_or(Strategy::Redact, |r| r.strategy)
    }
}
