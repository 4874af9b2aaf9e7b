//! Random ids in the shapes payment APIs mint them (32 hex digits, 26 base32 characters,
//! 22 base64url characters) name nothing and are masked nowhere on a `report` family: the
//! bytes such an id decodes to are read by the value-shape detectors only, never by the word
//! rules (README, "Masking of personal data": text carved out of binary).

use proptest::prelude::{prop_assert_eq, proptest, ProptestConfig};

use super::*;
use crate::mask::policy::PolicyFamily;

fn out(body: &str) -> String {
    let masked = default_masker()
        .mask_for(body.as_bytes(), PolicyFamily::Payin)
        .expect("maskable");
    String::from_utf8(masked.body.to_vec()).expect("utf-8")
}

/// The payin answer a sandbox gives for customer `id`: the id as a prefixed id, a
/// reference, and its tail in a note.
fn body(id: &str, amount: u32) -> String {
    let tail = &id[id.len() - 6..];
    format!(
        r#"{{"status":true,"data":{{"customer_id":"customer_{id}","ref":"{id}","note":"Sandbox customer {tail}","amount":{amount}}}}}"#
    )
}

/// The id shapes measured: (name, alphabet, length).
const SHAPES: [(&str, &str, usize); 4] = [
    ("hex32", "0123456789abcdef", 32),
    ("base32", "abcdefghijklmnopqrstuvwxyz234567", 26),
    ("ulid", "0123456789ABCDEFGHJKMNPQRSTVWXYZ", 26),
    (
        "base64url22",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        22,
    ),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A base32 id (RFC 4648's alphabet, lower case, 26 characters: 16 bytes) names nothing.
    #[test]
    #[ignore = "open: some `customer_<id>` of this alphabet are still masked, cause not yet found"]
    fn base32_ids_name_nothing(id in "[a-z2-7]{26}", amount in 1u32..10_000_000) {
        let b = body(&id, amount);
        prop_assert_eq!(out(&b), b);
    }

    /// A ULID (Crockford's base32, upper case, 26 characters) names nothing.
    #[test]
    #[ignore = "open: some `customer_<id>` of this alphabet are still masked, cause not yet found"]
    fn ulids_name_nothing(id in "[0-9A-HJKMNP-TV-Z]{26}", amount in 1u32..10_000_000) {
        let b = body(&id, amount);
        prop_assert_eq!(out(&b), b);
    }

    /// A base64url id (22 characters: 16 bytes, as `secrets.token_urlsafe(16)` mints) names
    /// nothing.
    #[test]
    #[ignore = "open: some `customer_<id>` of this alphabet are still masked, cause not yet found"]
    fn base64url_ids_name_nothing(id in "[A-Za-z0-9_-]{22}", amount in 1u32..10_000_000) {
        let b = body(&id, amount);
        prop_assert_eq!(out(&b), b);
    }
}

/// A measurement, not a check run in CI: how many of `ID_SHAPES_N` (20,000 unless set)
/// random ids of each shape (or of `ID_SHAPE` alone) change their body
/// (`cargo test --lib id_shapes_measured -- --ignored --nocapture`).
#[test]
#[ignore = "measurement: 80,000 bodies"]
fn id_shapes_measured() {
    use rand::Rng as _;
    let n: usize = std::env::var("ID_SHAPES_N").map_or(20_000, |v| v.parse().expect("count"));
    let only = std::env::var("ID_SHAPE").ok();
    let mut rng = rand::rng();
    for (name, alphabet, len) in SHAPES {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let alphabet = alphabet.as_bytes();
        let mut changed = Vec::new();
        for _ in 0..n {
            let id: String = (0..len)
                .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
                .collect();
            let b = body(&id, rng.random_range(1..10_000_000));
            if out(&b) != b {
                changed.push(id);
            }
        }
        println!(
            "{name}: {} of {n} changed {:?}",
            changed.len(),
            &changed[..changed.len().min(8)]
        );
    }
}
