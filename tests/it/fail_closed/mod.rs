//! Fail closed by construction: against a hostile upstream on loopback, no
//! byte a client receives carries a seeded personal value or a gateway
//! secret — whatever the upstream's encoding, framing, labels or headers.
//! Every answer is masked JSON, a declared passthrough, or a 502 envelope.
//!
//! The helpers the tests share live here; each submodule holds the tests of one concern.

mod framing;
mod headers;
mod property;
mod secrets;

use std::io::Write as _;
use std::time::Duration;

use crate::common::readings::{find, readings};
use crate::common::*;
use bytes::Bytes;
use http::Method;
use proptest::prelude::*;

const EMAIL: &str = "victim.person@example.com";
const ID_NUMBER: &str = "S9876543Z";
const PHONE: &str = "81234567";
const SEEDED: [&str; 3] = [EMAIL, ID_NUMBER, PHONE];
const MASK_KEY: &str = "test-mask-key";

/// A JSON body holding the seeded values under masked keys.
fn personal_json() -> String {
    format!(
        r#"{{"status":true,"message":"OK","data":{{"email":"{EMAIL}","identification_value":"{ID_NUMBER}","phone_number":"{PHONE}","kind":"individual"}}}}"#
    )
}

fn chunked(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n0\r\n\r\n");
    out
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::new();
    if bom {
        units.push(0xFEFF);
    }
    units.extend(s.encode_utf16());
    units
        .into_iter()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn utf32(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut chars: Vec<u32> = Vec::new();
    if bom {
        chars.push(0xFEFF);
    }
    chars.extend(s.chars().map(u32::from));
    chars
        .into_iter()
        .flat_map(|c| {
            if big_endian {
                c.to_be_bytes()
            } else {
                c.to_le_bytes()
            }
        })
        .collect()
}

/// Nothing seeded and no secret in any reading of the body or in any header.
fn assert_no_leak(r: &Resp, what: &str) {
    let cfg = paycombat_sandbox::SandboxConfig::demo();
    let secrets: Vec<Vec<u8>> = vec![
        cfg.token.as_bytes().to_vec(),
        cfg.signature_key.clone(),
        MASK_KEY.as_bytes().to_vec(),
    ];
    let mut needles: Vec<Vec<u8>> = SEEDED.iter().map(|s| s.as_bytes().to_vec()).collect();
    needles.extend(secrets);
    for reading in readings(&r.body) {
        for n in &needles {
            assert!(
                !find(&reading, n),
                "{what}: {:?} reached the client: {}",
                String::from_utf8_lossy(n),
                r.text()
            );
        }
    }
    for (k, v) in &r.headers {
        for n in &needles {
            assert!(
                !find(v.as_bytes(), n) && !find(k.as_str().as_bytes(), n),
                "{what}: {:?} in header {k}",
                String::from_utf8_lossy(n)
            );
        }
    }
}

/// A 502 envelope with the given code.
fn assert_refused(r: &Resp, code: &str, what: &str) {
    assert_eq!(r.status, 502, "{what}: {}", r.text());
    assert_eq!(r.error_code(), code, "{what}");
    assert_no_leak(r, what);
}

/// Valid JSON, masked.
fn assert_masked(r: &Resp, what: &str) {
    assert_eq!(r.status, 200, "{what}: {}", r.text());
    let v = r.json();
    assert_eq!(v["data"]["email"], "v*****@*****", "{what}");
    assert_no_leak(r, what);
}

async fn gateway(h: &Hostile) -> TestApp {
    spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        overlay:
            "[upstream.retry]\nmax_retries = 0\n[upstream.circuit_breaker]\nfailure_threshold = 0\n"
                .into(),
        ..Options::default()
    })
    .await
}

const PASSTHROUGH: &str = "/api/v1/payin/retrieve-payin/p1";
const MEMO: &str = "/api/v1/payin/memo/p1";

/// Both kinds of JSON route: a passthrough one and the cached customer read
/// (a fresh customer each time, so nothing is served from the cache).
fn json_routes(n: u64) -> [String; 2] {
    [
        PASSTHROUGH.to_owned(),
        format!("/api/v1/customer/customer/{}", customer_id(10_000 + n)),
    ]
}
