//! The shipped masker itself over the sandbox's `report` answers: no payment leaf or key
//! changes (the accuracy module's false-positive side, end to end).

use serde_json::Value;

use super::*;

/// Where `masked` differs from `orig` at a leaf (or lost a key) that no rule, key word or
/// free-text key covers.
fn changed_payment_leaves<'v>(
    ctx: &Ctx<'_>,
    orig: &'v Value,
    masked: &Value,
    path: &mut Vec<&'v str>,
    out: &mut Vec<String>,
) {
    match (orig, masked) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                path.push(k);
                match b.get(k) {
                    Some(w) => changed_payment_leaves(ctx, v, w, path, out),
                    None if ctx.masked_anyway(path) => {}
                    None => out.push(format!("{}: the key was rewritten", path.join("."))),
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (v, w) in a.iter().zip(b) {
                changed_payment_leaves(ctx, v, w, path, out);
            }
        }
        _ if orig == masked || ctx.masked_anyway(path) => {}
        _ => out.push(format!("{}: {orig} became {masked}", path.join("."))),
    }
}

/// The walk itself, with the shipped masker, over every answer of the sandbox on `report`
/// families: every leaf that no rule, key word or free-text key covers comes back unchanged,
/// and so does every key on the way to one. This is what the field-name, mention and role
/// rules must not touch (ids, references, amounts, currencies, timestamps, statuses, types,
/// payment method names).
#[tokio::test]
async fn the_shipped_masker_keeps_every_payment_leaf_of_the_sandbox() {
    let (policies, rules) = shipped();
    let masker = crate::mask::Masker::new(
        &crate::mask::default_settings(),
        Some(b"accuracy-hmac-key-0123456"),
    )
    .expect("shipped masker");
    let mut changed = Vec::new();
    let mut report = 0;
    for (family, body) in &sandbox_bodies().await {
        let policy = policies.for_family(*family);
        if policy.mode != Mode::Report {
            continue;
        }
        report += 1;
        let text = serde_json::to_vec(body).expect("JSON");
        let masked = masker.mask_for(&text, *family).expect("maskable");
        let out: Value = serde_json::from_slice(&masked.body).expect("JSON out");
        let ctx = Ctx {
            policies: &policies,
            rules: &rules,
            declared: &policy.declared,
        };
        changed_payment_leaves(&ctx, body, &out, &mut Vec::new(), &mut changed);
    }
    changed.sort();
    changed.dedup();
    assert!(
        changed.is_empty(),
        "false positives:\n{}",
        changed.join("\n")
    );
    assert!(report >= 40, "{report} report answers");
}
