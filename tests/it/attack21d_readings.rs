//! Independent attack (attack21d) on the detectors' *readings* of a value: the decodings a
//! client applies before it shows a value. `#[ignore = "finding: …"]`: see
//! /work/wt/attack21d-findings.md.

use base64::Engine as _;
use serde_json::json;

use crate::attack21d_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// F12: Node's `Buffer.from(s, 'base64')` and Python's `b64decode` skip every character
/// outside the alphabet, so base64 split by spaces, tabs or dots still decodes.
#[tokio::test]
#[ignore = "finding F12: base64 split by spaces, tabs or dots (skipped by Node/Python decoders) passes"]
async fn base64_broken_by_skipped_characters_never_passes() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let b = base64::engine::general_purpose::STANDARD.encode("contact victim.spaced@example.com");
    let split = |sep: &str, n: usize| -> String {
        b.as_bytes()
            .chunks(n)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(sep)
    };
    let (sp, tab, dot) = (split(" ", 8), split("\t", 8), split(".", 12));
    let body = json!({"status": true, "data": {"a": sp, "b": tab, "c": dot}}).to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack21d-b64split",
        "200 OK",
        &body,
        &[&b[..8], &b[8..16]],
        "base64 broken by skipped characters",
    )
    .await;
    app.stop().await;
}
