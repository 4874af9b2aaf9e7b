//! The route family's field policy applied during the walk: keys are checked like values,
//! every leaf the named rules left alone goes through [`FieldPolicy::decide`], and every
//! undeclared leaf's path is recorded.

use super::key_memo::{self, KeyFacts};
use super::{At, Walk};
use crate::mask::config::Strategy;
use crate::mask::detect::Detector;
use crate::mask::policy::kind;
use crate::mask::policy::{
    push_scanned_segment, push_segment, FieldPolicy, Kind, Leaf, LeafFacts, MaskReason, Mode,
    Naming, Policies, Verdict,
};

/// The policy in force for one body, and the path of the value being read (for the
/// undeclared-paths registry).
pub(in crate::mask) struct Pol<'m> {
    pub(super) policies: &'m Policies,
    pub(in crate::mask) policy: &'m FieldPolicy,
    pub(super) path: String,
    /// A container is being read a second time (a member names a field): what it holds was
    /// recorded and counted on the first reading, so nothing is recorded again.
    pub(super) quiet: bool,
    /// The masker's generation, for the key memo.
    generation: u64,
}

/// What a key check found.
pub(super) struct CheckedKey {
    /// The value's node in the declared-path trie.
    pub(super) decl: Option<u32>,
    /// The key names personal data, or is personal data: everything under it is personal.
    pub(super) personal: bool,
    /// The key is a role word alone (`payer`, `recipient`): a string under it that is no
    /// identifier is personal.
    pub(super) role: bool,
    /// One of the key's words is a role word (`payer_info`, `payer`): a string in its value
    /// written as a person's name is personal (see `At::scope`).
    pub(super) role_word: bool,
    /// The key may not be copied: written as this placeholder (plus `#N`) instead.
    pub(super) rewrite: Option<&'static str>,
    /// Path length to truncate back to after the value.
    pub(super) back: usize,
}

/// Longest key the detectors and label checks read; a longer one is written and listed as
/// `<key>`, and everything under it is personal.
const MAX_SCANNED_KEY: usize = 4 * 1024;

/// Longest string value the detectors read; a longer one is masked whole.
const MAX_SCANNED_TEXT: usize = 64 * 1024;

/// Longest string value whose readings are looked at for a field name: a name short enough
/// for [`crate::mask::policy::KeyWords::names_field`] stays under this in every encoding the
/// readings undo.
const MAX_LABEL_TEXT: usize = 1024;

/// Placeholder for a key that is rewritten without a detector firing on it.
const KEY_PLACEHOLDER: &str = "<key>";

/// The undeclared-paths registry of a reading that records (`None`: a quiet one).
struct Registry<'a>(Option<&'a crate::mask::policy::Undeclared>);

impl Registry<'_> {
    fn record(&self, family: crate::mask::policy::PolicyFamily, path: &str) {
        if let Some(u) = self.0 {
            u.record(family, path);
        }
    }

    fn masked(&self, family: crate::mask::policy::PolicyFamily, reason: MaskReason) {
        if let Some(u) = self.0 {
            u.masked(family, reason);
        }
    }
}

/// Whether `k` joins a lower-case word and a word with capitals by `_` or `-`
/// (`name_AliceVictimson`, `phone_Budi`): no one spelling convention (`first_name`,
/// `firstName`, `FirstName`, `Phone-Number`, `FIRST_NAME`) writes a key so.
fn mixed_convention(k: &str) -> bool {
    let mut lower = false;
    let mut capital = false;
    for seg in k.split(['_', '-']) {
        lower |= seg.bytes().any(|b| b.is_ascii_alphabetic())
            && seg.bytes().all(|b| !b.is_ascii_uppercase());
        capital |= seg.bytes().any(|b| b.is_ascii_uppercase());
    }
    lower && capital
}

/// The longest run of consecutive ASCII digits in `k`.
fn digit_run(k: &str) -> usize {
    k.as_bytes()
        .split(|b| !b.is_ascii_digit())
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0)
}

impl<'m> Pol<'m> {
    pub(super) fn new(policies: &'m Policies, policy: &'m FieldPolicy, generation: u64) -> Self {
        Pol {
            policies,
            policy,
            // Room for a few levels of keys, so the path rarely grows in the walk.
            path: String::with_capacity(128),
            quiet: false,
            generation,
        }
    }

    /// The undeclared-paths registry, or a sink when this reading is [`Pol::quiet`].
    fn registry(&self) -> Registry<'_> {
        Registry((!self.quiet).then(|| &**self.policies.undeclared()))
    }

    /// Checks object key `k` (decoded) under declared node `decl`; `keyed`: an enclosing key
    /// is personal (a key word, or a detector fired on it); `ruled`: a named rule matches the
    /// key (its value is masked by that rule); `scoped`: the container is read as personal (a
    /// field name in it) or stands under a role key, where a key that is no plain field name
    /// is data (`{"Alice Victimson": 150000}`).
    pub(super) fn key(
        &mut self,
        k: &str,
        decl: Option<u32>,
        keyed: bool,
        ruled: bool,
        scoped: bool,
    ) -> CheckedKey {
        if k.len() > MAX_SCANNED_KEY {
            // No field name is this long: data, masked unread (as an over-long value is) so
            // that a hostile key cannot make every reading run over megabytes.
            let back = push_segment(&mut self.path, self.policies.detectors(), KEY_PLACEHOLDER);
            return CheckedKey {
                decl: None,
                personal: true,
                role: false,
                role_word: false,
                rewrite: Some(KEY_PLACEHOLDER),
                back,
            };
        }
        let declared = &self.policy.declared;
        let child = decl.and_then(|d| declared.child(d, k));
        // The checks on the key's text alone, once per distinct key (see `key_memo`).
        let KeyFacts {
            detected,
            labelled,
            bounded,
            personal,
            role_word,
        } = key_memo::key_facts(self.generation, k, |k| self.key_facts(k));
        // `report`: a key the listing shows as `<key>` is none the gateway could read — no
        // plain field name of ASCII words (`"Budi Hartono"`, `ชื่อ`, `địa_chỉ`) — so none
        // it verified: what is below it is personal too.
        let unread = self.policy.mode == Mode::Report && !crate::mask::keynorm::is_listed_key(k);
        let rewrite = match detected {
            Some(d) => Some(d.placeholder()),
            None if bounded || labelled || k.starts_with('<') => Some(KEY_PLACEHOLDER),
            // A personal key that is no field name even once folded (`customer_name:Alice …`,
            // `Name of Alice …`; `ｅｍａｉｌ` and `email ` fold to one) holds more than the
            // name of a field: it may hold the value itself.
            None if personal && !crate::mask::keynorm::is_plain_field_name(k) => {
                Some(KEY_PLACEHOLDER)
            }
            // Everything under a personal key is personal, its keys included: a map keyed by
            // the people it lists (`contacts: {"Alice Victimson": …}`) is the common shape.
            None if keyed => Some(KEY_PLACEHOLDER),
            None if scoped && !crate::mask::keynorm::is_plain_field_name(k) => {
                Some(KEY_PLACEHOLDER)
            }
            // `report`: a key the listing shows as `<key>` (no plain field name: a space, a
            // dot, a comma — `"Budi Hartono": 150000`, `"alice.victimson": true`) is data,
            // whatever is below it: written as the listing shows it. One predicate for both.
            None if unread => Some(KEY_PLACEHOLDER),
            // A personal key with an identifier's worth of digits glued to its key word
            // (`phone_081234567890`, `nik_3173000000001234`) holds the value itself.
            None if personal && digit_run(k) >= self.policies.detectors().digit_run_min() => {
                Some(KEY_PLACEHOLDER)
            }
            // A personal key that mixes spelling conventions (`name_AliceVictimson`: snake
            // case with capitals after the separator) has a value glued on. Its value is
            // masked anyway, so renaming a merely odd key (`Customer_Name`) costs little.
            None if personal && mixed_convention(k) => Some(KEY_PLACEHOLDER),
            // `enforce`: a key is copied only on a declared path (declared, or a step to one,
            // matched exactly), or when a named rule matches it: its letters and digits then
            // spell a field of the gateway's own configuration (only upstream's letter case and
            // separators are left: `firstName`, `Phone-Number`), and its value is masked by that
            // rule. Any other key is upstream text no check has passed — a name spelled as a
            // field name (`AliceVictimson`) looks like one — so the gateway writes its own:
            // `<key>#N`, listed as `<key>`. Its value is masked as undeclared anyway.
            None if self.policy.mode == Mode::Enforce && child.is_none() && !ruled => {
                Some(KEY_PLACEHOLDER)
            }
            None => None,
        };
        if let Some(d) = detected {
            self.registry()
                .masked(self.policy.family, MaskReason::Detected(d));
        }
        // A rewritten key is listed as its placeholder, never as itself (a key a detector
        // fires on is listed as that detector's placeholder by `push_segment`).
        let listed = match (detected, rewrite) {
            (None, Some(placeholder)) => placeholder,
            _ => k,
        };
        let back = push_scanned_segment(&mut self.path, detected, listed);
        let role = !personal && self.policies.key_words().is_role_key(k);
        // A field declared `personal` is personal like a key word's: everything under it (an
        // object, an array, JSON inside its string) is masked, in both modes.
        let declared_personal = child
            .and_then(|c| declared.kind(c))
            .is_some_and(|kind| *kind == Kind::Personal);
        CheckedKey {
            decl: child,
            personal: personal || declared_personal || unread,
            role,
            role_word: !personal && role_word,
            rewrite,
            back,
        }
    }

    /// What the policy's checks find in key `k`'s text alone: a detector, a reading cut at a
    /// bound, a key word, a label.
    fn key_facts(&self, k: &str) -> KeyFacts {
        // A key is data when a detector fires on it; one starting with `<` would be
        // indistinguishable from the gateway's placeholders (in `enforce` mode every key off
        // the declared paths is rewritten too, whatever its text: see `key`).
        // A key that carries a personal label (`name=Alice …`, `{"first_name":…}`, encoded or
        // not) is itself personal data, not only the name of some. Both questions in one
        // enumeration of the readings.
        let words = self.policies.key_words();
        let (detected, labelled, bounded) = self
            .policies
            .detectors()
            .scan_labelled_bounded(k, |t| words.labels_personal(t));
        let personal =
            detected.is_some() || bounded || labelled || self.policies.is_personal_key(k);
        KeyFacts {
            detected,
            labelled,
            bounded,
            personal,
            role_word: words.has_role_word(k),
        }
    }

    /// The policy's verdict on a leaf holding `value`: `Some(strategy)` to mask it.
    /// Undeclared leaves are recorded; a declared one is copied only when `value` fits the
    /// declared kind.
    fn leaf(&self, at: At, detected: Option<Detector>, value: Leaf<'_>) -> Option<Strategy> {
        let kind = at.decl.and_then(|d| self.policy.declared.kind(d));
        if kind.is_none() {
            self.registry().record(self.policy.family, &self.path);
        }
        // An element of a declared array read as personal (its joined text holds a value, or
        // an enclosing key is personal) fits no kind: a list spells what no element shows.
        let fits = kind.is_some_and(|k| {
            if at.item && at.personal {
                false
            } else if at.item {
                k.fits_item(value)
            } else {
                k.fits(value)
            }
        });
        let facts = LeafFacts {
            declared: fits,
            misfit: kind.is_some() && !fits,
            rule: None,
            personal_key: at.personal,
            detected,
        };
        match self.policy.decide(facts, self.policies.default_strategy()) {
            Verdict::Keep => None,
            Verdict::Mask(s) => {
                let reason = facts
                    .reason(self.policy.mode)
                    .unwrap_or(MaskReason::Undeclared);
                self.registry().masked(self.policy.family, reason);
                Some(s)
            }
        }
    }
}

impl Walk<'_> {
    /// The policy's strategy for string value `v` at `at`, if it is to be masked (a detector
    /// firing anywhere in it masks it whole).
    pub(super) fn leaf_text(&self, v: &str, at: At) -> Option<Strategy> {
        let p = self.pol.as_ref()?;
        if v.len() > MAX_SCANNED_TEXT {
            // Too long to scan at fill time without a cost (time, regex caches) that scales
            // with upstream's whim: masked whole rather than copied unchecked.
            p.leaf(at, None, Leaf::Str(v));
            return Some(p.policies.default_strategy());
        }
        // Key-value data inside the text (a query string, base64 or JWT-encoded JSON, JSON
        // behind a prefix): a personal label in any reading of it makes the text personal,
        // on a declared leaf too (no id, reference, amount or flag carries one). Detectors,
        // labels and the reading bound in one enumeration of the readings.
        let words = p.policies.key_words();
        // On a `report` family, an undeclared text that mentions a personal field (`Key
        // (last_name)=(…)`, a CSV header line, `<name>…</name>`) is masked whole: see
        // `policy::mentions`. Declared leaves say what they are; `enforce` masks the rest.
        let declared = at.decl.is_some_and(|d| p.policy.declared.is_declared(d));
        let mut mentions = false;
        let check_mentions = !declared && !at.personal && p.policy.mode == Mode::Report;
        let (detected, labelled, bounded) = p.policies.detectors().scan_labelled_bounded(v, |t| {
            if check_mentions && !mentions {
                mentions = words.mentions_field(t);
            }
            words.labels_personal(t)
        });
        if bounded {
            // A reading stopped at a bound with text unread: masked whole, as too long a value.
            p.leaf(at, None, Leaf::Str(v));
            return Some(p.policies.default_strategy());
        }
        // A declared URL is read part by part too: a phone number as a path segment, a
        // base64url token of an email, digits dashed onto a word (`hook-6281299887766`).
        let detected = detected.or_else(|| {
            let kind = at.decl.and_then(|d| p.policy.declared.kind(d))?;
            if !kind.is_url() {
                return None;
            }
            let d = p.policies.detectors();
            kind::url_parts(v).into_iter().find_map(|part| {
                d.scan(part).or_else(|| {
                    (d.is_enabled(Detector::DigitRun)
                        && kind::glued_number(part, d.digit_run_min()))
                    .then_some(Detector::DigitRun)
                })
            })
        });
        // Under a role key (`"payer": …`) a string is the person unless it has an id's shape
        // (the declared `id` grammar: `customer_67d8…`, `cus_N2fr`), a reference to them.
        // Anywhere in a role key's value, and under a key with a role word (`payer.full`,
        // `payer_info`), every string is personal but an id, a code, an amount or a
        // timestamp (`individual`, `IDR`, `PENDING`): names are written in more ways than any
        // name grammar knows (`Victimson, Alice`, `Muhammad bin …`, `Alice+Victimson`, `李小龍`).
        // The detectors ran first: an id shape never keeps what a detector fires on.
        let person = (at.role && !kind::is_id(v)) || (at.scope && !kind::is_neutral_token(v));
        // A declared URL whose path names a personal field, read as a key is
        // (`/budi-hartono/jalan-melati-42`: a street and its number), is an address.
        let named = at
            .decl
            .and_then(|d| p.policy.declared.kind(d))
            .is_some_and(|k| k.is_url())
            && kind::url_named_segments(v).any(|seg| words.is_personal_key(seg));
        let labelled = labelled || mentions || named;
        let at = At {
            personal: at.personal || labelled || person,
            ..at
        };
        match p.leaf(at, detected, Leaf::Str(v)) {
            None if labelled => {
                p.registry().masked(p.policy.family, MaskReason::KeyWord);
                Some(p.policies.default_strategy())
            }
            verdict => verdict,
        }
    }

    /// Whether string value `v`, a direct member of a container at `at`, names a personal
    /// field ([`crate::mask::policy::KeyWords::names_field`], in any reading of it:
    /// `%XX`-decoded, escapes undone, hex or base64 text), like
    /// `{"field": "first_name", "value": …}`, `{"label": "Full Name", "value": …}` or
    /// `["phone", …]`. Only in `report` mode (`enforce` masks every undeclared leaf anyway),
    /// and never on a declared leaf (a declared method name such as `VIRTUAL_ACCOUNT` names
    /// a payment method, not a field).
    pub(super) fn names_personal_field(&self, v: &str, at: At, rule: bool) -> Naming {
        let Some(p) = self.pol.as_ref() else {
            return Naming::None;
        };
        if p.policy.mode != Mode::Report
            || at
                .decl
                .and_then(|d| p.policy.declared.kind(d))
                .is_some_and(|k| k.fits(Leaf::Str(v)))
        {
            return Naming::None;
        }
        // What a client trims (`s.trim()`, `strip()`, a C reader's NUL) is gone before the
        // bound: `first_name` and 1100 spaces is `first_name`.
        let v = crate::mask::policy::trim_label(v);
        if v.is_empty() || v.len() > MAX_LABEL_TEXT {
            return Naming::None;
        }
        let words = p.policies.key_words();
        // A value that is personal data itself (under a personal key or a rule) may be a name
        // that happens to be a vocabulary word: there only a field name's spelling counts.
        let personal = at.personal || rule;
        let mut naming = Naming::None;
        // Word rules: no text carved out of binary (`detect::Origin`).
        crate::mask::detect::any_text_reading(v, |t| {
            naming = naming.max(words.naming(t, personal));
            naming == Naming::Label
        });
        naming
    }

    /// The same for a number (its source text) or boolean.
    pub(super) fn leaf_scalar(&self, text: &str, boolean: bool, at: At) -> Option<Strategy> {
        let p = self.pol.as_ref()?;
        // A declared leaf's declaration says what it is: a 13-digit value in the Unix-ms
        // range is a clock there (its kind still decides whether it is copied), and an
        // identifier everywhere else.
        let declared = at.decl.is_some_and(|d| p.policy.declared.is_declared(d));
        let (detected, value) = if boolean {
            (None, Leaf::Bool)
        } else {
            (
                p.policies.detectors().scan_number_at(text, declared),
                Leaf::Number(text),
            )
        };
        p.leaf(at, detected, value)
    }

    /// The policy's strategy for string value `v` at `at` that a bound kept from being read
    /// whole (documents at offsets no try reached): masked, as a value too long to scan.
    pub(super) fn unread_text(&self, v: &str, at: At) -> Option<Strategy> {
        let p = self.pol.as_ref()?;
        p.leaf(at, None, Leaf::Str(v));
        Some(p.policies.default_strategy())
    }

    /// Writes string `v` masked by the policy's `strategy`.
    pub(super) fn mask_by_policy(&mut self, strategy: Strategy, v: &str) {
        self.by_policy = self.by_policy.saturating_add(1);
        let rendered = self.m.render(strategy, v, &mut self.scratch);
        self.write_scratch(rendered);
    }
}
