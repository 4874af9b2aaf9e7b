//! The validated, immutable masker and the per-value rewriting strategies.

use std::fmt;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::Strategy;
use super::error::{MaskConfigError, MaskError};
use super::policy::{Policies, PolicyFamily};
use super::rules::{FieldIndex, PathTrie};
use super::settings::MaskSettings;
use super::walk;

/// serde_json refuses a 128th level of nesting by itself; staying below keeps every depth failure
/// ours (and typed as `TooDeep`).
pub const MAX_DEPTH_LIMIT: usize = 126;

/// Masks personal data in JSON bodies. Built once from the config, then shared (`Arc`) by all
/// connections; `mask` takes `&self` only.
pub struct Masker {
    pub(super) rules: Vec<Rule>,
    pub(super) fields: FieldIndex,
    pub(super) paths: PathTrie,
    placeholder: Box<str>,
    mask_char: char,
    pub(super) max_depth: usize,
    hmac_prefix: Box<str>,
    hmac_hex_chars: usize,
    /// Keyed once; cloning the keyed state is cheaper than re-keying per value.
    hmac: Option<Hmac<Sha256>>,
    /// Lower-case domains the `email` strategy may show (shared mail providers).
    mail_domains: Box<[Box<str>]>,
    /// Field policies per route family; `None`: the named rules only.
    policies: Option<Policies>,
    /// Identifies this masker's policies to the walk's per-thread key memo: unique per
    /// masker, new again when the policies change.
    pub(super) generation: u64,
}

#[derive(Clone, Debug)]
pub(super) struct Rule {
    pub(super) name: Box<str>,
    pub(super) strategy: Strategy,
}

/// A masked body plus how many values each rule rewrote.
pub struct Masked {
    pub body: Bytes,
    counts: Box<[u32]>,
    /// Values (and keys) masked by the route family's field policy rather than a named rule.
    by_policy: u32,
    /// See [`Masked::unescaped`].
    escaped: Vec<u8>,
}

impl Masked {
    /// `(rule index, values masked)` for every rule that fired; indexes follow
    /// [`Masker::rule_names`].
    pub fn counts(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(i, &n)| (i, n))
    }

    /// Total number of values masked in this body.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&n| u64::from(n)).sum::<u64>() + u64::from(self.by_policy)
    }

    /// What a client reads in the strings (and keys) the body carries with JSON escapes,
    /// decoded, one per line. The body copies them as written (`"\u0073nd_…"`), so a check
    /// for text that must never reach a client (the secret guard) looks here too.
    pub fn unescaped(&self) -> &[u8] {
        &self.escaped
    }

    /// Values and keys masked by the field policy (key words, detectors, `enforce` defaults).
    pub fn by_policy(&self) -> u32 {
        self.by_policy
    }
}

impl fmt::Debug for Masked {
    // The body is left out: if a rule is missing it may still hold personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masked")
            .field("body_len", &self.body.len())
            .field("counts", &self.counts)
            .finish()
    }
}

impl fmt::Debug for Masker {
    // Hand-written so the HMAC key state can never be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("rules", &self.rules.len())
            .field("max_depth", &self.max_depth)
            .field("hmac_key", &self.hmac.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// What a strategy turned a value into.
pub(super) enum Rendered {
    Null,
    /// The string now in the scratch buffer.
    Text,
}

impl Masker {
    /// The masker `settings` describe. `hmac_key` (read from `mask.hmac_key_file`) is required
    /// as soon as one rule uses the `hmac` strategy.
    pub fn new(
        settings: &MaskSettings,
        hmac_key: Option<&[u8]>,
    ) -> Result<Masker, MaskConfigError> {
        let hmac = match hmac_key {
            Some([]) => return Err(MaskConfigError::EmptyHmacKey),
            Some(key) => Some(
                // HMAC accepts keys of any length; the error branch is unreachable for Sha256.
                <Hmac<Sha256> as Mac>::new_from_slice(key)
                    .map_err(|_| MaskConfigError::EmptyHmacKey)?,
            ),
            None => None,
        };
        if let (None, Some((index, name))) = (&hmac, settings.first_hmac_rule()) {
            return Err(MaskConfigError::HmacWithoutKey {
                index,
                name: name.to_owned(),
            });
        }
        Ok(Masker {
            rules: settings.rules.clone(),
            fields: settings.fields.clone(),
            paths: settings.paths.clone(),
            placeholder: settings.placeholder.clone(),
            mask_char: settings.mask_char,
            max_depth: settings.max_depth,
            hmac_prefix: settings.hmac_prefix.clone(),
            hmac_hex_chars: settings.hmac_hex_chars,
            hmac,
            mail_domains: settings.mail_domains.clone(),
            policies: Some(settings.policies.clone()),
            generation: walk::next_generation(),
        })
    }

    /// Label value of each rule (its field name or dotted path), in rule-index order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| &*r.name)
    }

    /// `(rule name, values masked)` for every rule that fired on `masked`.
    pub fn masked_fields<'a>(
        &'a self,
        masked: &'a Masked,
    ) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        masked
            .counts()
            .filter_map(move |(i, n)| self.rules.get(i).map(|r| (&*r.name, u64::from(n))))
    }

    /// Masks `body`, which must be a complete JSON document (an optional UTF-8 BOM is dropped).
    /// An empty body is returned as it is: there is nothing in it to leak. Anything else that
    /// is not one JSON document (whitespace only, a lone BOM) is refused. On error the body
    /// must not be forwarded.
    ///
    /// Only the named rules apply; a gateway masks through [`Masker::mask_for`].
    pub fn mask(&self, body: &[u8]) -> Result<Masked, MaskError> {
        self.mask_with(body, None)
    }

    /// Masks `body` as an answer of `family`: the named rules, then the family's field policy
    /// (when the masker has policies: see [`Masker::with_policies`]).
    pub fn mask_for(&self, body: &[u8], family: PolicyFamily) -> Result<Masked, MaskError> {
        let policy = self.policies.as_ref().map(|p| (p, p.for_family(family)));
        self.mask_with(body, policy)
    }

    fn mask_with(
        &self,
        body: &[u8],
        policy: Option<(&Policies, &super::policy::FieldPolicy)>,
    ) -> Result<Masked, MaskError> {
        if body.is_empty() {
            return Ok(Masked {
                body: Bytes::new(),
                counts: vec![0; self.rules.len()].into_boxed_slice(),
                by_policy: 0,
                escaped: Vec::new(),
            });
        }
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let text = std::str::from_utf8(body).map_err(|_| MaskError::NotUtf8)?;
        let mut out = walk::run(self, text, policy)?;
        // The body may be held (cache, slow client) far longer than the walk; a buffer that
        // grew past its first guess would keep up to twice its length of slack alive.
        if out.body.capacity() - out.body.len() > out.body.len() / 8 {
            out.body.shrink_to_fit();
        }
        Ok(Masked {
            body: Bytes::from(out.body),
            counts: out.counts,
            by_policy: out.by_policy,
            escaped: out.escaped,
        })
    }

    /// The masker with field policies per route family.
    pub fn with_policies(mut self, policies: Policies) -> Masker {
        self.policies = Some(policies);
        self.generation = walk::next_generation();
        self
    }

    /// The field policies, if any.
    pub fn policies(&self) -> Option<&Policies> {
        self.policies.as_ref()
    }

    /// Applies `strategy` to the textual form of a scalar. The result goes to `dst` (cleared
    /// first) unless it is `null`.
    pub(super) fn render(&self, strategy: Strategy, text: &str, dst: &mut String) -> Rendered {
        dst.clear();
        match strategy {
            Strategy::Null => return Rendered::Null,
            Strategy::Redact => dst.push_str(&self.placeholder),
            Strategy::Last4 => self.keep_last(4, text, dst),
            Strategy::KeepLast(n) => self.keep_last(n, text, dst),
            Strategy::Email => self.email(text, dst),
            Strategy::Hmac => self.hmac(text, dst),
        }
        Rendered::Text
    }

    /// What an object under a personal key becomes, given its compact JSON text. Its keys are
    /// data too, and a partial reveal of JSON text shows arbitrary parts of it, so only `null`
    /// and a digest (which keeps records matchable) differ from the placeholder.
    pub(super) fn render_container(
        &self,
        strategy: Strategy,
        json: &str,
        dst: &mut String,
    ) -> Rendered {
        dst.clear();
        match strategy {
            Strategy::Null => return Rendered::Null,
            Strategy::Hmac => self.hmac(json, dst),
            Strategy::Redact | Strategy::Last4 | Strategy::KeepLast(_) | Strategy::Email => {
                dst.push_str(&self.placeholder)
            }
        }
        Rendered::Text
    }

    /// What a boolean under a personal key becomes: a partial reveal or digest of a one-bit
    /// value would disclose it, so every strategy but `null` yields the placeholder.
    pub(super) fn render_bool(&self, strategy: Strategy, dst: &mut String) -> Rendered {
        dst.clear();
        if strategy == Strategy::Null {
            return Rendered::Null;
        }
        dst.push_str(&self.placeholder);
        Rendered::Text
    }

    /// A partial reveal keeps part of a number, so it checks that the value is one: only a
    /// value that is wholly a number in [`number_tail`]'s grammar shows its last digits; any
    /// other text (a name after the number, letters, other scripts) is the placeholder, since
    /// its tail need not be digits at all.
    fn keep_last(&self, n: usize, text: &str, dst: &mut String) {
        if text.is_empty() {
            return;
        }
        match number_tail(text, n) {
            Some(tail_at) => {
                let hidden = text[..tail_at].chars().count();
                dst.extend(std::iter::repeat_n(self.mask_char, hidden));
                dst.push_str(&text[tail_at..]);
            }
            None => dst.push_str(&self.placeholder),
        }
    }

    /// First character of the local part, `*****@`, then the domain only when it is one of the
    /// configured shared mail providers (written in the configuration's spelling, never
    /// upstream's), else `*****`: a personal or company domain names its owner, and text after
    /// the last `@` need not be a domain at all.
    fn email(&self, text: &str, dst: &mut String) {
        // Split at the last '@': anything before it is the local part, even another '@'.
        match text.rsplit_once('@') {
            Some((local, domain)) if !domain.is_empty() => {
                if let Some(first) = local.chars().next() {
                    dst.push(first);
                }
                dst.push_str("*****@");
                match self.shared_mail_domain(domain) {
                    Some(known) => dst.push_str(known),
                    None => dst.push_str("*****"),
                }
            }
            _ => dst.push_str(&self.placeholder),
        }
    }

    /// The configured provider `domain` names, if it is a hostname (LDH labels) on the list.
    fn shared_mail_domain(&self, domain: &str) -> Option<&str> {
        if !is_hostname(domain) {
            return None;
        }
        self.mail_domains
            .iter()
            .find(|d| d.eq_ignore_ascii_case(domain))
            .map(|d| &**d)
    }

    fn hmac(&self, text: &str, dst: &mut String) {
        let Some(keyed) = &self.hmac else {
            // `new` refuses hmac rules without a key; never fall back to revealing the value.
            dst.push_str(&self.placeholder);
            return;
        };
        let mut mac = keyed.clone();
        mac.update(text.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut hex_buf = [0u8; 64];
        dst.push_str(&self.hmac_prefix);
        if hex::encode_to_slice(digest, &mut hex_buf).is_ok() {
            let hex = std::str::from_utf8(&hex_buf[..self.hmac_hex_chars]).unwrap_or_default();
            dst.push_str(hex);
        }
    }
}

/// A DNS hostname: dot-separated labels of 1 to 63 ASCII letters, digits and hyphens, not
/// starting or ending with a hyphen, at most 253 bytes.
pub(super) fn is_hostname(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            (1..=63).contains(&b.len())
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                && b.first() != Some(&b'-')
                && b.last() != Some(&b'-')
        })
}

/// Where the shown tail of `text` starts when the strategy keeps its last `n` digits, or `None`
/// when `text` is not wholly a number: ASCII digits with the usual group separators (space,
/// `-`, `.`) and at most a leading `+`, nothing else, at least one digit. The tail holds at
/// most `n` digits and never more than half of the value's digits; it starts at its first
/// digit, so it holds nothing but those digits and the separators between them.
pub(crate) fn number_tail(text: &str, n: usize) -> Option<usize> {
    let body = text.strip_prefix('+').unwrap_or(text);
    let mut digits = 0usize;
    for b in body.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b' ' | b'-' | b'.' => {}
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    let shown = n.min(digits / 2);
    if shown == 0 {
        return Some(text.len());
    }
    // The byte index of the `shown`-th digit from the end (all bytes here are ASCII).
    let mut seen = 0;
    for (i, b) in text.bytes().enumerate().rev() {
        if b.is_ascii_digit() {
            seen += 1;
            if seen == shown {
                return Some(i);
            }
        }
    }
    Some(text.len())
}
