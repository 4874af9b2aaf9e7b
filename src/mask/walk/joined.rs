//! An array or an object of scalars read as one value: a text or a number spelled across
//! array elements (`["v","i","c",…]`, `[0,8,1,2,…]`, `["0812","3456","7890"]`) or object
//! members (`{"local": "alice", "domain": "example.com"}`, `{"country_code": "62",
//! "area_code": "812", "subscriber": "345678"}`, how phone libraries serialise a number) is
//! the value a client gets by joining them (`arr.join("")`, `" ".join(arr)`, `local + "@" +
//! domain`), and no piece alone shows a shape. Three readings of the pieces in order: joined
//! with nothing, with a space, and with `@` between a local-part-like piece and a
//! domain-like one beside it. A JSON number of more than one digit is a value of its own (an
//! amount: `[150000, 2500]` is two amounts, each judged as a number leaf), so it breaks the
//! joined text, as a boolean, `null`, a nested container or a declared member does. In an
//! object, a member that shows a shape alone is masked by itself and breaks the text too: a
//! detector must fire on what only the join shows to mask the members around it. Only on
//! `report` families (in `enforce` every undeclared leaf is masked anyway), only for
//! containers no declaration covers.

use super::lexer::Lexer;
use super::{At, Walk};

/// The longest joined text read: as long as a string leaf the detectors read
/// (`MAX_SCANNED_TEXT`). A longer array of scalars is masked whole, as a longer string is: a
/// reading cut at a bound masks the value.
const MAX_JOINED_TEXT: usize = 64 * 1024;

impl Walk<'_> {
    /// Whether the array or object source text `src` (at `at`) holds two or more scalars
    /// whose texts, joined (see the module), are personal to a detector (in any reading of
    /// them, as a string leaf is), or whose joined text is too long to read.
    pub(super) fn joined_personal(&self, src: &str, at: At, object: bool) -> bool {
        let Some(p) = self.pol.as_ref() else {
            return false;
        };
        // A declared array is read joined like an undeclared one: elements that each fit their
        // kind say nothing of what they spell together (`["x0","x8","x1",…]`), and the
        // elements of a scalar declaration (`status: [0, 8, 1, …]`) are undeclared. A declared
        // object's members are judged by their own kinds.
        if object && at.decl.is_some_and(|d| p.policy.declared.is_declared(d)) {
            return false;
        }
        let declared = &p.policy.declared;
        let fields = &self.m.fields;
        let mut fold = String::new();
        // A member a field rule masks is masked by itself: it breaks the joined text.
        let mut ruled = |k: &str| match fields.spelling() {
            crate::mask::rules::Spelling::Exact => fields.get_formed(k).is_some(),
            crate::mask::rules::Spelling::Folded => fields
                .get_formed(crate::mask::keynorm::fold_key_into(k, &mut fold))
                .is_some(),
        };
        let member_declared = |k: &str| {
            at.decl
                .and_then(|d| declared.child(d, k))
                .is_some_and(|c| declared.is_declared(c))
        };
        let parts = if object {
            member_texts(src, |k| member_declared(k) || ruled(k))
        } else {
            scalar_texts(src)
        };
        let Some(mut parts) = parts else {
            return false;
        };
        if parts.iter().filter(|t| t.as_str() != BREAK).count() < 2 {
            return false;
        }
        let len: usize = parts.iter().map(|t| t.len() + 1).sum();
        if len > MAX_JOINED_TEXT {
            return true;
        }
        let detectors = p.policies.detectors();
        let fires = |parts: &[String]| {
            readings(parts, object).iter().any(|t| {
                let (found, bounded) = detectors.scan_bounded(t);
                found.is_some() || bounded
            })
        };
        if !fires(&parts) {
            return false;
        }
        if !object {
            return true;
        }
        // Rarely reached: which members show a shape alone (they are masked by themselves).
        for t in &mut parts {
            if t.as_str() != BREAK {
                let (found, bounded) = detectors.scan_bounded(t);
                if found.is_some() || bounded {
                    BREAK.clone_into(t);
                }
            }
        }
        fires(&parts)
    }
}

/// The joined readings of `parts` (see the module): with nothing, with a space, and for an
/// object every adjacent local-part-like and domain-like pair (in either order: objects are
/// often written with their keys sorted, `domain` before `local_part`) as `local@domain`.
/// Not for an array: a list of dotted names (`["individual.first_name",
/// "individual.email"]`, the fields a wallet still needs) is pairs of that shape, and what
/// the list's order says is its own.
fn readings(parts: &[String], object: bool) -> Vec<String> {
    let mut out = vec![parts.concat(), parts.join(" ")];
    if !object {
        return out;
    }
    let mut emails = String::new();
    for pair in parts.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        for (local, domain) in [(a, b), (b, a)] {
            if local_like(local) && domain_like(domain) {
                emails.push_str(local);
                emails.push('@');
                emails.push_str(domain);
                emails.push(' ');
            }
        }
    }
    if !emails.is_empty() {
        out.push(emails);
    }
    out
}

/// An email's local part: at most 64 letters, digits and `.`, `_`, `%`, `+`, `-`, starting
/// with a letter or digit.
fn local_like(t: &str) -> bool {
    (1..=64).contains(&t.len())
        && t.starts_with(|c: char| c.is_ascii_alphanumeric())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'))
}

/// A host name: dot-separated labels of letters, digits and `-`, the last all letters (two
/// or more).
fn domain_like(t: &str) -> bool {
    let t = t.trim_end_matches('.');
    let mut labels = t.split('.');
    let last = labels.next_back().unwrap_or_default();
    t.contains('.')
        && t.len() <= 253
        && last.len() >= 2
        && last.bytes().all(|b| b.is_ascii_alphabetic())
        && labels
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// The longest member value of an object read as a piece of a joined value (an email's
/// local part is at most 64 bytes).
const MAX_PIECE: usize = 64;

/// What an element that is no piece of a spelled value stands as in the joined text: a list
/// mark, so the pieces on either side are not read as one.
const BREAK: &str = "; ";

/// The text one scalar at the lexer stands for: a string decoded, a one-digit number as its
/// digit, any other number or literal as [`BREAK`]; `None` at a container or bad JSON.
fn scalar_text(lx: &mut Lexer<'_>, dec: &mut String) -> Option<String> {
    match lx.peek()? {
        b'"' => {
            let s = lx.string().ok()?;
            Some(s.value(dec).to_owned())
        }
        // A number is a value of its own (an amount, a count), judged alone as a number
        // leaf; only a one-digit number is a digit of a number spelled across elements.
        // Anything else breaks the joined text, as a list mark does.
        b'-' | b'0'..=b'9' => {
            let n = lx.number().ok()?;
            Some(if n.len() == 1 { n } else { BREAK }.to_owned())
        }
        b't' => lx.literal(b"true").ok().map(|()| BREAK.to_owned()),
        b'f' => lx.literal(b"false").ok().map(|()| BREAK.to_owned()),
        b'n' => lx.literal(b"null").ok().map(|()| BREAK.to_owned()),
        _ => None,
    }
}

/// The texts of the elements of the JSON array `src` (see [`scalar_text`]), or `None` when
/// it holds a container (a nested array or object is read on its own) or is no array.
fn scalar_texts(src: &str) -> Option<Vec<String>> {
    let mut lx = Lexer::new(src);
    lx.skip_ws();
    lx.expect(b'[').ok()?;
    let mut out = Vec::new();
    let mut dec = String::new();
    lx.skip_ws();
    if lx.eat(b']') {
        return Some(out);
    }
    loop {
        lx.skip_ws();
        out.push(scalar_text(&mut lx, &mut dec)?);
        lx.skip_ws();
        if lx.eat(b',') {
            continue;
        }
        lx.expect(b']').ok()?;
        return Some(out);
    }
}

/// The texts of the members' values of the JSON object `src` in order (see
/// [`scalar_text`]); a nested container, a member longer than [`MAX_PIECE`], or a member
/// `declared` says is judged alone (a declared path, a field rule), stands as [`BREAK`]. `None` when `src` is no object.
fn member_texts(src: &str, mut declared: impl FnMut(&str) -> bool) -> Option<Vec<String>> {
    let mut lx = Lexer::new(src);
    lx.skip_ws();
    lx.expect(b'{').ok()?;
    let mut out = Vec::new();
    let mut dec = String::new();
    let mut key = String::new();
    lx.skip_ws();
    if lx.eat(b'}') {
        return Some(out);
    }
    loop {
        lx.skip_ws();
        let k = lx.string().ok()?;
        let declared_member = declared(k.value(&mut key));
        lx.skip_ws();
        lx.expect(b':').ok()?;
        lx.skip_ws();
        let text = match lx.peek()? {
            b'{' | b'[' => {
                skip_container(&mut lx)?;
                BREAK.to_owned()
            }
            _ => scalar_text(&mut lx, &mut dec)?,
        };
        // A long member is text or a value of its own, judged alone: the pieces of a
        // split value are short. So is a number written as a string (`"amount": "150000"`,
        // `"fee": "2500"`: IDR has no minor unit), as a JSON number of more than one digit is
        // (see `scalar_text`): an object's numbers are its amounts, counts and codes.
        let number = text.len() > 1 && text.bytes().all(|b| b.is_ascii_digit());
        let piece = !declared_member && !number && text.len() <= MAX_PIECE;
        out.push(if piece { text } else { BREAK.to_owned() });
        lx.skip_ws();
        if lx.eat(b',') {
            continue;
        }
        lx.expect(b'}').ok()?;
        return Some(out);
    }
}

/// Moves the lexer past the container at it (strings read as strings, so brackets in them
/// do not count).
fn skip_container(lx: &mut Lexer<'_>) -> Option<()> {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::scalar_texts;
    use crate::mask::policy::PolicyFamily;
    use crate::mask::{default_settings, Masker};

    /// `data.x` of `body` masked as a `report` family's answer.
    fn masked_x(x: &Value) -> Value {
        let masker = Masker::new(&default_settings(), Some(b"joined-key")).expect("valid");
        let body = json!({"status": true, "data": {"x": x}}).to_string();
        let out = masker
            .mask_for(body.as_bytes(), PolicyFamily::Transaction)
            .expect("maskable");
        let v: Value = serde_json::from_slice(&out.body).expect("json");
        v["data"]["x"].clone()
    }

    /// `text` cut into pieces of `size` characters.
    fn pieces(text: &str, size: usize) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        chars.chunks(size).map(|c| c.iter().collect()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Finding 5: an email or a phone or ID number spelled across array elements (one
        /// character each, or string chunks; digits as one-digit numbers) never comes back: no
        /// element of the array is copied.
        #[test]
        fn values_spelled_across_elements_are_masked(
            local in "[a-z]{3,8}",
            domain in "[a-z]{3,8}",
            phone in "0[1-9][0-9]{9,11}",
            id in "[1-9]{11,16}",
            size in 1usize..=4,
        ) {
            let email = format!("{local}@{domain}.com");
            let digits: Vec<u64> = id.bytes().map(|b| u64::from(b - b'0')).collect();
            for x in [
                json!(pieces(&email, size)),
                json!(pieces(&phone, size)),
                json!(digits),
                json!(pieces(&id, size)),
            ] {
                let after = masked_x(&x);
                let (Value::Array(before), Value::Array(after)) = (&x, &after) else {
                    return Err(TestCaseError::fail(format!("{x} came back as {after}")));
                };
                for (a, b) in before.iter().zip(after) {
                    prop_assert_ne!(a, b, "{} came back as {:?}", x, after);
                }
            }
        }

        /// Finding 11: an email or a phone number split across an object's members (random
        /// cut points, random keys, an email's parts in either order) never comes back: no
        /// member is copied.
        #[test]
        fn values_split_across_members_are_masked(
            local in "[a-z]{3,8}\\.[a-z]{3,8}",
            domain in "[a-z]{3,8}\\.(com|co\\.id|org)",
            keys in proptest::collection::vec("[a-z]{1,6}", 2),
            swap in any::<bool>(),
        ) {
            // Only text pieces: a number written as a string is judged alone, as a JSON
            // number is (an object's numbers are its amounts), so a number split across
            // members is the README's stated residual, not read here.
            let mut email = serde_json::Map::new();
            let (first, second) = if swap { (&domain, &local) } else { (&local, &domain) };
            email.insert(format!("{}0", keys[0]), json!(first));
            email.insert(format!("{}1", keys[1]), json!(second));
            let x = Value::Object(email);
            let after = masked_x(&x);
            let (Value::Object(before), Value::Object(after)) = (&x, &after) else {
                return Err(TestCaseError::fail(format!("{x} came back as {after}")));
            };
            for v in before.values() {
                prop_assert!(after.values().all(|a| a != v), "{} came back as {:?}", x, after);
            }
        }

        /// The other side: objects of codes, statuses, ids, amounts (numbers, and decimal
        /// strings) and timestamps come back unchanged.
        #[test]
        fn objects_without_a_shape_pass(
            code in "(IDR|SGD|USD|PENDING|SUCCESS|FAILED|VA|QRIS)",
            id in "(payin|payout|customer)_[0-9a-f]{32}",
            amount in 10u64..10_000_000_000,
            decimal in "[1-9][0-9]{0,7}\\.[0-9]{2}",
            fee in "[1-9][0-9]{0,5}\\.[0-9]{2}",
            day in 1u32..28,
        ) {
            let x = json!({
                "a_status": code, "b_id": id, "c_amount": amount, "d_amount": decimal,
                "e_fee": fee, "f_created_at": format!("2024-12-{day:02}T03:53:52.779Z"),
                "g_currency": "IDR",
                // Amounts and fees as strings, as IDR answers write them (six digits or fewer:
                // a bare seven-digit string is a digit run on its own, joined or not).
                "h_amount": (100_000 + amount % 900_000).to_string(),
                "i_fee": (1_000 + amount % 9_000).to_string(),
            });
            prop_assert_eq!(masked_x(&x), x);
        }

        /// The other side: arrays of codes, statuses, ids and amounts (numbers of more than
        /// one digit) come back unchanged.
        #[test]
        fn arrays_without_a_shape_pass(
            codes in proptest::collection::vec("(IDR|SGD|USD|PENDING|SUCCESS|FAILED|VA|QRIS)", 1..8),
            ids in proptest::collection::vec("(payin|payout|customer)_[0-9a-f]{32}", 1..4),
            amounts in proptest::collection::vec(10u64..10_000_000_000, 1..12),
        ) {
            for x in [json!(codes), json!(ids), json!(amounts)] {
                prop_assert_eq!(masked_x(&x), x);
            }
        }
    }

    #[test]
    fn scalars_are_read_and_containers_are_not() {
        assert_eq!(
            scalar_texts(r#"[ "a\u0040", 7, 12, -1.5e3, true, null ]"#),
            Some(vec![
                "a@".into(),
                "7".into(),
                "; ".into(),
                "; ".into(),
                "; ".into(),
                "; ".into()
            ])
        );
        assert_eq!(scalar_texts("[]"), Some(vec![]));
        assert_eq!(scalar_texts(r#"["a", ["b"]]"#), None);
        assert_eq!(scalar_texts(r#"[{"a": 1}]"#), None);
    }
}
