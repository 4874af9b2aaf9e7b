//! Attack tests on the detectors' *readings* of a value: the decodings a
//! client applies before it shows a value. `#[ignore = "finding: …"]`: a class still open
//! (the reason names it).

use base64::Engine as _;
use serde_json::json;

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// F12: Node's `Buffer.from(s, 'base64')` and Python's `b64decode` skip every character
/// outside the alphabet, so base64 split by spaces, tabs or dots still decodes.
#[tokio::test]
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
        "/api/v1/payin/attack-b64split",
        "200 OK",
        &body,
        &[&b[..8], &b[8..16]],
        "base64 broken by skipped characters",
    )
    .await;
    app.stop().await;
}

/// F13: Node serialises a `Buffer` as `{"type":"Buffer","data":[…bytes…]}`; the detectors
/// only read strings, so text written as byte codes passes.
#[tokio::test]
async fn text_serialised_as_byte_codes_never_passes() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let email = b"contact victim.buffer@example.com";
    let codes: Vec<u8> = email.to_vec();
    let listed = codes
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let colon = codes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let body = json!({"status": true, "data": {
        "payload": {"type": "Buffer", "data": codes},
        "listed": listed,
        "colon": colon,
    }})
    .to_string();
    // The run of codes for "victim" (118,105,99,116,105,109) in each written form.
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-bytes",
        "200 OK",
        &body,
        &["118,105,99,116,105,109", "76:69:63:74:69:6d"],
        "text as byte codes",
    )
    .await;
    app.stop().await;
}

/// F14: tags, comments and markdown escapes that a renderer drops split an email or a phone
/// number; character references are decoded, markup is not.
#[tokio::test]
async fn markup_a_renderer_drops_never_hides_a_value() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "a": "victim.tag<span>@</span>example.com",
        "b": "victim.cmt<!-- x -->@example.com",
        "c": "victim.wbr@exa<wbr>mple.com",
        "d": "call 0812<span>3456</span>7790",
        "e": "victim.md\\@example.com",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-markup",
        "200 OK",
        &body,
        &[
            "victim.tag",
            "victim.cmt",
            "victim.wbr",
            "3456</span>7790",
            "victim.md",
        ],
        "markup inside values",
    )
    .await;
    app.stop().await;
}

/// F15: national IDs with a check digit whose printed form the digit rules exempt (an
/// amount-like grouping, a trailing check letter).
#[tokio::test]
async fn checksummed_foreign_ids_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "a": "CPF 123.456.789-09",
        "b": "ID 11010519491231002X",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-foreign-ids",
        "200 OK",
        &body,
        &["456.789-09", "0519491231002"],
        "foreign national IDs",
    )
    .await;
    app.stop().await;
}
