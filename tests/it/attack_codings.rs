//! Attack tests on body framing and codings: a body the gateway cannot
//! inspect never reaches a client. Gzip declared on a plain body, gzip twice under one
//! header, a gzip member followed by a plain or a second gzipped document, raw deflate and
//! zlib, brotli, zstd, `x-gzip`, an upper-case coding name, codings stacked across lines,
//! codings on a passthrough, two documents, a document then junk, UTF-16 and UTF-32 with and
//! without a BOM, a charset parameter that lies. On forwarded (`report`) and cached
//! (`enforce`) routes, HTTP/1.1 and h2c, GET and HEAD: every answer is either masked JSON or
//! the gateway's 502, and no reading of it holds a seed. All held: these guard it.

use std::io::Write;

use http::Method;

use crate::attack_keys::gateway;
use crate::common::readings::{assert_no_seed, h2c_client};
use crate::common::*;

const DOC: &str = r#"{"status":true,"data":{"email":"victim.coded@example.com","contacts":["Alice Codedname"],"note":"call 081234567012"}}"#;
const SEEDS: [&str; 3] = ["victim.coded", "Codedname", "081234567012"];

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn br(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(b).unwrap();
    }
    out
}

fn utf16(s: &str, be: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom
        .then_some(0xFEFF_u16)
        .into_iter()
        .chain(s.encode_utf16());
    for u in units {
        out.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
    }
    out
}

fn utf32(s: &str, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for c in bom.then_some('\u{feff}').into_iter().chain(s.chars()) {
        out.extend((c as u32).to_le_bytes());
    }
    out
}

/// (name, content-type, content-encoding lines, body)
fn shapes() -> Vec<(&'static str, &'static str, Vec<&'static str>, Vec<u8>)> {
    let d = DOC.as_bytes();
    let mut member_then_plain = gzip(br#"{"status":true}"#);
    member_then_plain.extend_from_slice(d);
    let mut two_members = gzip(br#"{"status":true}"#);
    two_members.extend(gzip(d));
    let json = "application/json";
    vec![
        ("gzip declared, plain body", json, vec!["gzip"], d.to_vec()),
        (
            "gzip twice, declared once",
            json,
            vec!["gzip"],
            gzip(&gzip(d)),
        ),
        (
            "gzip member then plain",
            json,
            vec!["gzip"],
            member_then_plain,
        ),
        ("two gzip members", json, vec!["gzip"], two_members),
        ("gzip", json, vec!["gzip"], gzip(d)),
        ("x-gzip", json, vec!["x-gzip"], gzip(d)),
        ("GZIP", json, vec!["GZIP"], gzip(d)),
        ("deflate (zlib)", json, vec!["deflate"], zlib(d)),
        ("deflate (raw)", json, vec!["deflate"], raw_deflate(d)),
        ("br", json, vec!["br"], br(d)),
        ("zstd", json, vec!["zstd"], d.to_vec()),
        (
            "gzip then br across lines",
            json,
            vec!["gzip", "br"],
            br(&gzip(d)),
        ),
        ("gzip undeclared", json, vec![], gzip(d)),
        ("br undeclared", "text/plain", vec![], br(d)),
        ("identity", json, vec!["identity"], d.to_vec()),
        ("two documents", json, vec![], [d, b" ", d].concat()),
        (
            "document then junk",
            json,
            vec![],
            [d, b"\x00victim.coded@example.com"].concat(),
        ),
        (
            "utf-16le bom",
            "application/json; charset=utf-16",
            vec![],
            utf16(DOC, false, true),
        ),
        ("utf-16be", json, vec![], utf16(DOC, true, false)),
        ("utf-32le bom", json, vec![], utf32(DOC, true)),
        (
            "charset lies",
            "application/json; charset=iso-8859-1",
            vec![],
            d.to_vec(),
        ),
    ]
}

fn answer(ct: &str, codings: &[&str], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 200 OK\r\ncontent-type: {ct}\r\n");
    for c in codings {
        head.push_str(&format!("content-encoding: {c}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Tokens lenient readers accept and RFC 8259 does not: each body must be refused whole
/// (a lenient reader would see the personal value a strict one never judged).
#[tokio::test]
async fn json_a_lenient_reader_accepts_is_refused() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let note = "\"note\":\"Alice Lenientname\"";
    let bodies = [
        format!("{{\"status\":true,\"x\":NaN,{note}}}"),
        format!("{{\"status\":true,\"x\":-Infinity,{note}}}"),
        format!("{{\"status\":true,\"x\":+1,{note}}}"),
        format!("{{\"status\":true,\"x\":.5,{note}}}"),
        format!("{{\"status\":true,\"x\":0x1F,{note}}}"),
        format!("{{\"status\":true,\"x\":01,{note}}}"),
        format!("{{\"status\":true,{note},}}"),
        format!("{{status:true,{note}}}"),
        format!("{{'status':true,{note}}}"),
        format!("{{\"status\":true /* c */,{note}}}"),
        format!("{{\"status\":true,{note}}} // trailing"),
        format!("{{\"status\":true,\"x\":\"\\ud800\",{note}}}"),
        format!("{{\"status\":true,\"x\":\"a\tb\",{note}}}"),
        format!("\u{1e}{{\"status\":true,{note}}}"),
        format!(")]}}'\n{{\"status\":true,{note}}}"),
        format!("cb({{\"status\":true,{note}}})"),
        format!("{{\"status\":true,{note}}}\u{0}"),
        format!("\u{feff}\u{feff}{{\"status\":true,{note}}}"),
    ];
    for (i, body) in bodies.iter().enumerate() {
        h.answer_bytes(answer("application/json", &[], body.as_bytes()));
        for path in [
            "/api/v1/payin/attack-lenient".to_owned(),
            detail(&customer_id(0x21d_800 + i as u64)),
        ] {
            let r = app.get(&path).await;
            assert_eq!(r.status, 502, "{i} {body:?} on {path}: {}", r.text());
            assert!(!r.text().contains("Lenientname"), "{i}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn no_coding_or_framing_lets_an_uninspected_body_through() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let h2 = h2c_client();
    let auth = [("x-token", CLIENT_KEY)];
    let mut n = 0u64;
    for (name, ct, codings, body) in shapes() {
        h.answer_bytes(answer(ct, &codings, &body));
        n += 1;
        let cached = detail(&customer_id(0x21d_500 + n));
        for path in [
            "/api/v1/payin/attack-coded".to_owned(),
            cached,
            "/api/v1/payin/memo/attack-coded".to_owned(),
        ] {
            for (proto, client) in [("h1", &app.client), ("h2", &h2)] {
                for method in [Method::GET, Method::GET, Method::HEAD] {
                    let url = format!("http://{}{path}", app.addr);
                    let r = request(client, method.clone(), &url, &auth, b"").await;
                    let what = format!("{name}: {proto} {method} {path} -> {}", r.status);
                    assert_no_seed(&r, &SEEDS, &what);
                    assert!(r.status == 200 || r.status == 502, "{what}: {}", r.text());
                    if method == Method::GET {
                        let v: serde_json::Value = serde_json::from_slice(&r.body)
                            .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", r.text()));
                        assert!(v.is_object(), "{what}");
                        assert!(r.headers.get("content-encoding").is_none(), "{what}");
                    }
                }
            }
        }
    }
    app.stop().await;
}
