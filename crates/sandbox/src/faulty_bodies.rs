//! Hostile bodies: not JSON, too deep, not UTF-8, or very large.

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::Value;

use super::body::{ChunkSource, STREAM_CHUNK};
use super::customer_gen;

pub(crate) fn malformed_json() -> Bytes {
    Bytes::from_static(b"{\"status\":true,\"message\":\"OK\",\"data\":{\"email\":\"broken@example.com\",<html>upstream error</html>")
}

/// Valid JSON except for bytes that are not UTF-8 inside personal-field strings.
pub(crate) fn non_utf8() -> Bytes {
    Bytes::from_static(
        b"{\"status\":true,\"message\":\"OK\",\"data\":{\"first_name\":\"Ren\xE9e\",\"email\":\"r\xFF\xFEnee@example.com\",\"identification_value\":\"S12\xC3\x28567A\"}}",
    )
}

/// `data` nested `depth` objects deep, with a personal field at the bottom.
pub(crate) fn deep(depth: u32) -> Bytes {
    let depth = depth as usize;
    let open = br#"{"d":"#;
    let mut out = BytesMut::with_capacity(64 + depth * (open.len() + 1));
    out.put_slice(br#"{"status":true,"message":"OK","data":"#);
    for _ in 0..depth {
        out.put_slice(open);
    }
    out.put_slice(br#"{"email":"deep.nest@example.com"}"#);
    for _ in 0..depth {
        out.put_u8(b'}');
    }
    out.put_u8(b'}');
    out.freeze()
}

const OVERSIZED_PREFIX: &[u8] = br#"{"status":true,"message":"OK","data":{"items":["#;
const OVERSIZED_PAD_OPEN: &[u8] = br#"],"padding":""#;
const OVERSIZED_CLOSE: &[u8] = br#""}}"#;

/// A valid JSON list of generated customers, padded to exactly `target` bytes (or the bare
/// minimum when `target` is smaller), streamed.
pub(crate) struct OversizedSource {
    total: u64,
    written: u64,
    index: u64,
    state: Stage,
}

#[derive(PartialEq, Eq)]
enum Stage {
    Prefix,
    Items,
    Padding,
    Done,
}

fn suffix_len() -> u64 {
    (OVERSIZED_PAD_OPEN.len() + OVERSIZED_CLOSE.len()) as u64
}

impl OversizedSource {
    pub(crate) fn new(target: u64) -> Self {
        let minimum = OVERSIZED_PREFIX.len() as u64 + suffix_len();
        OversizedSource {
            total: target.max(minimum),
            written: 0,
            index: 0,
            state: Stage::Prefix,
        }
    }

    fn item(&self) -> Vec<u8> {
        let id = customer_gen::sequence_id("oversized", self.index);
        serde_json::to_vec(&Value::Object(customer_gen::generate(&id))).unwrap_or_default()
    }
}

impl ChunkSource for OversizedSource {
    fn next_chunk(&mut self) -> Option<Bytes> {
        let mut out = BytesMut::with_capacity(STREAM_CHUNK + 2048);
        while out.len() < STREAM_CHUNK && self.state != Stage::Done {
            match self.state {
                Stage::Prefix => {
                    out.put_slice(OVERSIZED_PREFIX);
                    self.written += OVERSIZED_PREFIX.len() as u64;
                    self.state = Stage::Items;
                }
                Stage::Items => {
                    let item = self.item();
                    let sep = u64::from(self.index > 0);
                    if item.is_empty()
                        || self.written + sep + item.len() as u64 + suffix_len() > self.total
                    {
                        out.put_slice(OVERSIZED_PAD_OPEN);
                        self.written += OVERSIZED_PAD_OPEN.len() as u64;
                        self.state = Stage::Padding;
                        continue;
                    }
                    if sep == 1 {
                        out.put_u8(b',');
                    }
                    out.put_slice(&item);
                    self.written += sep + item.len() as u64;
                    self.index += 1;
                }
                Stage::Padding => {
                    let left = self.total - self.written - OVERSIZED_CLOSE.len() as u64;
                    let room = (STREAM_CHUNK.saturating_sub(out.len())).max(1) as u64;
                    let n = left.min(room);
                    out.put_bytes(b'x', n as usize);
                    self.written += n;
                    if n == left {
                        out.put_slice(OVERSIZED_CLOSE);
                        self.written += OVERSIZED_CLOSE.len() as u64;
                        self.state = Stage::Done;
                    }
                }
                Stage::Done => {}
            }
        }
        (!out.is_empty()).then(|| out.freeze())
    }

    fn len(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(mut src: OversizedSource) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = src.next_chunk() {
            out.extend_from_slice(&c);
        }
        out
    }

    #[test]
    fn oversized_is_exact_valid_json_with_customers() {
        for target in [0u64, 70, 5_000, 100_000, 300_001] {
            let src = OversizedSource::new(target);
            let expected = src.len();
            let body = render(src);
            assert_eq!(body.len() as u64, expected);
            assert!(expected >= target && (target < 100 || expected == target));
            let v: Value = serde_json::from_slice(&body).expect("valid JSON");
            if target >= 100_000 {
                let items = v["data"]["items"].as_array().expect("items");
                assert!(items.len() > 10);
                assert!(items[0]["customer_id"].is_string());
            }
        }
    }

    #[test]
    fn deep_nests_and_stays_valid() {
        let body = deep(100);
        let v: Value = serde_json::from_slice(&body).expect("valid JSON under serde's limit");
        let mut cur = &v["data"];
        for _ in 0..100 {
            cur = &cur["d"];
        }
        assert_eq!(cur["email"], "deep.nest@example.com");
    }

    #[test]
    fn non_utf8_and_malformed_are_what_they_claim() {
        assert!(std::str::from_utf8(&non_utf8()).is_err());
        assert!(serde_json::from_slice::<Value>(&malformed_json()).is_err());
    }
}
