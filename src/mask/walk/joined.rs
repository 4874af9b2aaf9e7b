//! An array of scalars read as one value: a text or a number spelled across array elements
//! (`["v","i","c",…]`, `[0,8,1,2,…]`, `["0812","3456","7890"]`) is the value a client gets by
//! joining them (`arr.join("")`, `" ".join(arr)`), and no element alone shows a shape. A JSON
//! number of more than one digit is a value of its own (an amount: `[150000, 2500]` is two
//! amounts, each judged as a number leaf), so it breaks the joined text. Only on
//! `report` families (in `enforce` every undeclared leaf is masked anyway), only for arrays
//! no declaration covers.

use super::lexer::Lexer;
use super::{At, Walk};

/// The longest joined text read: as long as a string leaf the detectors read
/// (`MAX_SCANNED_TEXT`). A longer array of scalars is masked whole, as a longer string is: a
/// reading cut at a bound masks the value.
const MAX_JOINED_TEXT: usize = 64 * 1024;

impl Walk<'_> {
    /// Whether the array source text `src` (at `at`) is an array of two or more scalars whose
    /// elements' texts, joined with nothing and with a space, are personal to a detector (in
    /// any reading of them, as a string leaf is), or whose joined text is too long to read.
    pub(super) fn joined_personal(&self, src: &str, at: At) -> bool {
        let Some(p) = self.pol.as_ref() else {
            return false;
        };
        if at.decl.is_some_and(|d| p.policy.declared.is_declared(d)) {
            return false;
        }
        let Some(parts) = scalar_texts(src) else {
            return false;
        };
        if parts.len() < 2 {
            return false;
        }
        let len: usize = parts.iter().map(|t| t.len() + 1).sum();
        if len > MAX_JOINED_TEXT {
            return true;
        }
        let detectors = p.policies.detectors();
        [parts.concat(), parts.join(" ")].iter().any(|t| {
            let (found, bounded) = detectors.scan_bounded(t);
            found.is_some() || bounded
        })
    }
}

/// What an element that is no piece of a spelled value stands as in the joined text: a list
/// mark, so the pieces on either side are not read as one.
const BREAK: &str = "; ";

/// The texts of the elements of the JSON array `src` (strings decoded, one-digit numbers as
/// their digit, other numbers and literals as [`BREAK`]), or `None` when it holds a container
/// (a nested array or object is read on its own) or is no array.
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
        match lx.peek()? {
            b'"' => {
                let s = lx.string().ok()?;
                out.push(s.value(&mut dec).to_owned());
            }
            // A number is a value of its own (an amount, a count), judged alone as a number
            // leaf; only a one-digit number is a digit of a number spelled across elements.
            // Anything else breaks the joined text, as a list mark does.
            b'-' | b'0'..=b'9' => {
                let n = lx.number().ok()?;
                out.push(if n.len() == 1 { n } else { BREAK }.to_owned());
            }
            b't' => {
                lx.literal(b"true").ok()?;
                out.push(BREAK.to_owned());
            }
            b'f' => {
                lx.literal(b"false").ok()?;
                out.push(BREAK.to_owned());
            }
            b'n' => {
                lx.literal(b"null").ok()?;
                out.push(BREAK.to_owned());
            }
            _ => return None,
        }
        lx.skip_ws();
        if lx.eat(b',') {
            continue;
        }
        lx.expect(b']').ok()?;
        return Some(out);
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
