//! Property: on a `report` family, seeded personal values placed where issue 21's second
//! attack found them — split from their field name across sibling members (either order,
//! any neutral member names, in arrays of pairs and in tuples), under keys whose letters are
//! broken by combining marks, dots, spaces or other punctuation, and behind base32,
//! quoted-printable, CSS escapes and `0x…` numbers — never appear in the masked body.

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::default_masker;
use crate::mask::policy::PolicyFamily;

/// Field names as an upstream or a form builder writes them.
const FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "full name",
    "Date of Birth",
    "email",
    "phone",
    "address",
    "card_holder",
    "owner",
    "surname",
    "given_name",
    "mail",
    "nama",
    "alamat",
    "no_hp",
    "bday",
    "cvv",
    "pan",
];

/// Member names that say nothing: the label's and the value's.
const LABEL_KEYS: &[&str] = &["field", "name", "key", "label", "type", "attr", "k"];
const VALUE_KEYS: &[&str] = &["value", "val", "data", "content", "v", "text"];

/// Field names for keys whose letters a separator or a combining mark breaks: each is
/// personal to a reader that ignores those.
const BROKEN_KEYS: &[&str] = &[
    "e\u{301}mail",
    "na\u{308}me",
    "e.mail",
    "e mail",
    "first name",
    "phone.number",
    "ph\u{f6}ne",
    "a.d.d.r.e.s.s",
    "e/mail",
    "[email]",
    "E\u{301}MAIL",
];

/// A personal value written in one of the new codings.
fn encoded(seed: &str, how: u8) -> String {
    let email = format!("{seed}@example.com");
    match how % 6 {
        0 => data_encoding::BASE32.encode(email.as_bytes()),
        1 => data_encoding::BASE32HEX_NOPAD
            .encode(format!("mail {email}").as_bytes())
            .to_lowercase(),
        2 => email.replace('@', "=40"),
        3 => email.replace('@', "\\40 "),
        4 => email.replace('@', "\\000040"),
        _ => base64::engine::general_purpose::STANDARD.encode(
            data_encoding::BASE32.encode(format!(r#"{{"first_name":"{seed}"}}"#).as_bytes()),
        ),
    }
}

fn case() -> impl Strategy<Value = (Value, Vec<String>)> {
    (
        0usize..FIELDS.len(),
        0usize..LABEL_KEYS.len(),
        0usize..VALUE_KEYS.len(),
        0usize..BROKEN_KEYS.len(),
        0u8..6,
        0u8..5,
        "Seed[A-Z][a-z]{5,9}",
        any::<bool>(),
        // 10 to 12 digits: phone and ID lengths below the Unix-millisecond range.
        1_000_000_000u64..1_000_000_000_000,
    )
        .prop_map(|(f, lk, vk, bk, how, shape, seed, upper, number)| {
            // Residual (README): a capitalised vocabulary word of three letters or fewer
            // (`CVV`, `NIK`) under a key that is itself a personal field (`name`) reads as a
            // person's name (`Nik`), not as a field name.
            // So does a capitalised phrase whose ends are such short words (`No Hp`).
            let short = FIELDS[f].len() <= 3 || FIELDS[f] == "no_hp";
            let upper = upper && !(short && LABEL_KEYS[lk] == "name");
            // An upper-case identifier of several words is a code (`VIRTUAL_ACCOUNT`, residual
            // `FIRST_NAME`): capitals are tried on single words, and as Title Case on phrases.
            let field = if upper && FIELDS[f].contains(['_', ' ']) {
                FIELDS[f]
                    .split(['_', ' '])
                    .map(|w| w[..1].to_uppercase() + &w[1..])
                    .collect::<Vec<_>>()
                    .join(" ")
            } else if upper {
                FIELDS[f].to_uppercase()
            } else {
                FIELDS[f].to_owned()
            };
            let (lk, vk) = (LABEL_KEYS[lk], VALUE_KEYS[vk]);
            let name = format!("Alice {seed}");
            let mut seeds = vec![seed.clone()];
            let data = match shape {
                0 => json!({ lk: field, vk: name, "n": 1 }),
                1 => json!({ vk: name, lk: field }),
                2 => json!({ "fields": [{ lk: "ref", vk: "INV-1" }, { lk: field, vk: name }] }),
                3 => json!({ "pairs": [["amount", 1], [field, name]] }),
                _ => json!({ lk: field, vk: { "inner": name } }),
            };
            let hex = format!("0x{number:X}");
            seeds.push(hex.clone());
            let coded = encoded(&format!("victim.{}", seed.to_lowercase()), how);
            seeds.push(coded.clone());
            seeds.push(format!("victim.{}", seed.to_lowercase()));
            let broken_value = format!("Broken {seed}x");
            seeds.push(format!("{seed}x"));
            let doc = json!({
                "status": true,
                "data": {
                    "split": data,
                    BROKEN_KEYS[bk]: broken_value,
                    "ref": hex,
                    "note": coded,
                }
            });
            (doc, seeds)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn split_broken_and_encoded_values_never_leave((doc, seeds) in case()) {
        let m = default_masker();
        let body = doc.to_string();
        let masked = m.mask_for(body.as_bytes(), PolicyFamily::Payin).expect("maskable");
        let out = String::from_utf8(masked.body.to_vec()).expect("utf-8");
        for seed in &seeds {
            prop_assert!(!out.contains(seed.as_str()), "{seed} in {out}");
        }
    }
}
