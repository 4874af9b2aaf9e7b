//! Every reading a client might make of the bytes it got, for leak checks: as sent, with
//! content-codings undone (twice), and decoded as UTF-16 or UTF-32 (either byte order); and
//! the privacy tests' one loop over every way a client reads a route (HTTP/1.1 and h2c, GET
//! as a miss and a hit, HEAD), checking each answer in every reading.

use std::io::Read;

use bytes::Bytes;
use http::Method;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};

use super::{request, Resp, TestApp, CLIENT_KEY};

pub fn readings(body: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![body.to_vec()];
    for _ in 0..2 {
        let mut more = Vec::new();
        for b in &out {
            let mut d = Vec::new();
            if flate2::read::MultiGzDecoder::new(&b[..])
                .read_to_end(&mut d)
                .is_ok()
            {
                more.push(d);
            }
            let mut d = Vec::new();
            if flate2::read::ZlibDecoder::new(&b[..])
                .read_to_end(&mut d)
                .is_ok()
            {
                more.push(d);
            }
            let mut d = Vec::new();
            if brotli::Decompressor::new(&b[..], 4096)
                .read_to_end(&mut d)
                .is_ok()
            {
                more.push(d);
            }
        }
        out.extend(more);
    }
    let mut text = Vec::new();
    for b in &out {
        for be in [false, true] {
            let units: Vec<u16> = b
                .chunks_exact(2)
                .map(|c| {
                    if be {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    }
                })
                .collect();
            text.push(String::from_utf16_lossy(&units).into_bytes());
            let chars: String = b
                .chunks_exact(4)
                .filter_map(|c| {
                    let v = if be {
                        u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                    } else {
                        u32::from_le_bytes([c[0], c[1], c[2], c[3]])
                    };
                    char::from_u32(v)
                })
                .collect();
            text.push(chars.into_bytes());
        }
    }
    out.extend(text);
    out
}

pub fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// No seed appears in any reading of the body or of any header value of `r`.
pub fn assert_no_seed<S: AsRef<str>>(r: &Resp, seeds: &[S], what: &str) {
    for reading in readings(&r.body) {
        for s in seeds {
            let s = s.as_ref();
            assert!(
                !find(&reading, s.as_bytes()),
                "{what}: {s:?} reached the client: {}",
                r.text()
            );
        }
    }
    for (k, v) in &r.headers {
        for s in seeds {
            let s = s.as_ref();
            for reading in readings(v.as_bytes()) {
                assert!(!find(&reading, s.as_bytes()), "{what}: {s:?} in header {k}");
            }
        }
    }
}

/// A client speaking h2c with prior knowledge.
pub fn h2c_client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>()
}

/// Reads each of `paths` from `app` as the harness client, over HTTP/1.1 and over `h2`: GET
/// twice (a miss, then a hit where the route caches), each a 200 JSON answer, and HEAD, an
/// empty one; asserts no seed in any reading of any of them ([`assert_no_seed`]). Returns
/// the last GET body of each path, in the order of `paths`.
pub async fn assert_no_seed_on_every_read<S: AsRef<str>>(
    app: &TestApp,
    h2: &Client<HttpConnector, Full<Bytes>>,
    paths: &[&str],
    seeds: &[S],
    name: &str,
) -> Vec<Bytes> {
    let auth = [("x-token", CLIENT_KEY)];
    let mut last = vec![Bytes::new(); paths.len()];
    for (proto, client) in [("h1", &app.client), ("h2", h2)] {
        for (i, path) in paths.iter().enumerate() {
            let url = format!("http://{}{path}", app.addr);
            for round in ["first", "second"] {
                let r = request(client, Method::GET, &url, &auth, b"").await;
                let what = format!("{name}: {proto} GET {path} ({round})");
                assert_eq!(r.status, 200, "{what}: {}", r.text());
                let _: serde_json::Value =
                    serde_json::from_slice(&r.body).expect("the answer is JSON");
                assert_no_seed(&r, seeds, &what);
                last[i] = r.body.clone();
            }
            let r = request(client, Method::HEAD, &url, &auth, b"").await;
            let what = format!("{name}: {proto} HEAD {path}");
            assert!(r.body.is_empty(), "{what}");
            assert_no_seed(&r, seeds, &what);
        }
    }
    last
}
