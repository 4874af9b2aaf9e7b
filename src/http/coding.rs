//! Undoing `Content-Encoding` before masking, with a hard cap on the decoded size so a small
//! compressed body cannot expand into gigabytes.

use std::io::Read;

use bytes::Bytes;

/// A single supported content coding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Deflate,
    Br,
}

/// Failure to undo a `Content-Encoding`; the body must not be forwarded.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unsupported content-encoding")]
    Unsupported,
    #[error("corrupt or truncated compressed body")]
    Corrupt,
    #[error("decoded body exceeds the size limit")]
    TooLarge,
}

impl DecodeError {
    /// Metric label value.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Unsupported | DecodeError::Corrupt => "bad_encoding",
            DecodeError::TooLarge => "too_large",
        }
    }
}

/// Reads a `Content-Encoding` header. Stacked codings (`gzip, br`) are refused: upstream has
/// no reason to send them and each extra layer is more attack surface.
pub fn parse_content_encoding(value: Option<&http::HeaderValue>) -> Result<Encoding, DecodeError> {
    let Some(value) = value else {
        return Ok(Encoding::Identity);
    };
    let v = value.to_str().map_err(|_| DecodeError::Unsupported)?.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("identity") {
        Ok(Encoding::Identity)
    } else if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") {
        Ok(Encoding::Gzip)
    } else if v.eq_ignore_ascii_case("deflate") {
        Ok(Encoding::Deflate)
    } else if v.eq_ignore_ascii_case("br") {
        Ok(Encoding::Br)
    } else {
        Err(DecodeError::Unsupported)
    }
}

/// Decodes `body`. Output longer than `max_len` fails with `TooLarge`, and no more than about
/// `max_len` bytes are ever allocated for it. Truncated streams fail with `Corrupt`.
pub fn decode(enc: Encoding, body: &[u8], max_len: usize) -> Result<Bytes, DecodeError> {
    match enc {
        Encoding::Identity if body.len() > max_len => Err(DecodeError::TooLarge),
        Encoding::Identity => Ok(Bytes::copy_from_slice(body)),
        Encoding::Gzip => {
            read_bounded(flate2::read::MultiGzDecoder::new(body), body.len(), max_len)
        }
        Encoding::Deflate => {
            // "deflate" is meant to be zlib-wrapped, but raw deflate is common in the wild.
            if looks_like_zlib(body) {
                match read_bounded(flate2::read::ZlibDecoder::new(body), body.len(), max_len) {
                    Err(DecodeError::Corrupt) => {}
                    other => return other,
                }
            }
            read_bounded(flate2::read::DeflateDecoder::new(body), body.len(), max_len)
        }
        Encoding::Br => read_bounded(brotli::Decompressor::new(body, 4096), body.len(), max_len),
    }
}

/// RFC 1950 header check: deflate method, window <= 32K, header checksum.
fn looks_like_zlib(b: &[u8]) -> bool {
    match b {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

fn read_bounded<R: Read>(mut r: R, input_len: usize, max_len: usize) -> Result<Bytes, DecodeError> {
    let mut out: Vec<u8> = Vec::with_capacity(input_len.saturating_mul(4).max(256).min(max_len));
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(DecodeError::Corrupt),
        };
        if out.len() + n > max_len {
            return Err(DecodeError::TooLarge);
        }
        if out.capacity() - out.len() < n {
            // Doubling, but never past the cap.
            let want = out
                .capacity()
                .saturating_mul(2)
                .max(out.len() + n)
                .min(max_len);
            out.reserve_exact(want - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use http::HeaderValue;

    use super::*;

    const PLAIN: &[u8] = br#"{"status":true,"data":{"phone_number":"85156781124"}}"#;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn br(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(data).expect("write");
        }
        out
    }

    #[test]
    fn content_encoding_header() {
        let p = |s: &str| parse_content_encoding(Some(&HeaderValue::from_str(s).expect("header")));
        assert_eq!(parse_content_encoding(None), Ok(Encoding::Identity));
        assert_eq!(p("identity"), Ok(Encoding::Identity));
        assert_eq!(p("gzip"), Ok(Encoding::Gzip));
        assert_eq!(p("X-GZIP"), Ok(Encoding::Gzip));
        assert_eq!(p(" deflate "), Ok(Encoding::Deflate));
        assert_eq!(p("br"), Ok(Encoding::Br));
        assert_eq!(p("zstd"), Err(DecodeError::Unsupported));
        assert_eq!(p("gzip, br"), Err(DecodeError::Unsupported));
        assert_eq!(p("compress"), Err(DecodeError::Unsupported));
        let opaque = HeaderValue::from_bytes(b"gz\xffip").expect("header");
        assert_eq!(
            parse_content_encoding(Some(&opaque)),
            Err(DecodeError::Unsupported)
        );
        assert_eq!(DecodeError::Unsupported.reason(), "bad_encoding");
        assert_eq!(DecodeError::TooLarge.reason(), "too_large");
    }

    #[test]
    fn decodes_every_supported_coding() {
        assert_eq!(
            &decode(Encoding::Identity, PLAIN, 1024).expect("ok")[..],
            PLAIN
        );
        assert_eq!(
            &decode(Encoding::Gzip, &gzip(PLAIN), 1024).expect("ok")[..],
            PLAIN
        );
        assert_eq!(
            &decode(Encoding::Deflate, &zlib(PLAIN), 1024).expect("ok")[..],
            PLAIN
        );
        assert_eq!(
            &decode(Encoding::Deflate, &raw_deflate(PLAIN), 1024).expect("ok")[..],
            PLAIN
        );
        assert_eq!(
            &decode(Encoding::Br, &br(PLAIN), 1024).expect("ok")[..],
            PLAIN
        );
        // Concatenated gzip members are one body.
        let mut two = gzip(b"{\"a\":");
        two.extend(gzip(b"1}"));
        assert_eq!(
            &decode(Encoding::Gzip, &two, 1024).expect("ok")[..],
            b"{\"a\":1}"
        );
    }

    #[test]
    fn corrupt_and_truncated_bodies_fail() {
        let big: Vec<u8> = (0..20_000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        for (enc, data) in [
            (Encoding::Gzip, gzip(&big)),
            (Encoding::Deflate, zlib(&big)),
            (Encoding::Deflate, raw_deflate(&big)),
            (Encoding::Br, br(&big)),
        ] {
            let cut = &data[..data.len() / 2];
            assert_eq!(
                decode(enc, cut, 1 << 20).err(),
                Some(DecodeError::Corrupt),
                "{enc:?}"
            );
            // A stream stopping short of its last bytes is truncated too.
            let cut = &data[..data.len() - 3];
            assert!(decode(enc, cut, 1 << 20).is_err(), "{enc:?} minus 3 bytes");
        }
        assert_eq!(
            decode(Encoding::Gzip, PLAIN, 1024).err(),
            Some(DecodeError::Corrupt)
        );
        assert_eq!(
            decode(Encoding::Br, b"\xff\xff\xff\xff", 1024).err(),
            Some(DecodeError::Corrupt)
        );
    }

    #[test]
    fn bombs_stop_at_max_len() {
        let zeros = vec![0u8; 8 << 20];
        let bomb = gzip(&zeros);
        assert!(bomb.len() < 64 * 1024);
        assert_eq!(
            decode(Encoding::Gzip, &bomb, 1 << 20).err(),
            Some(DecodeError::TooLarge)
        );
        assert_eq!(
            decode(Encoding::Br, &br(&zeros), 1 << 20).err(),
            Some(DecodeError::TooLarge)
        );
        assert_eq!(
            decode(Encoding::Deflate, &zlib(&zeros), 1 << 20).err(),
            Some(DecodeError::TooLarge)
        );
        // Exactly at the limit is fine, one byte over is not.
        assert_eq!(
            decode(Encoding::Gzip, &gzip(PLAIN), PLAIN.len())
                .expect("ok")
                .len(),
            PLAIN.len()
        );
        assert_eq!(
            decode(Encoding::Gzip, &gzip(PLAIN), PLAIN.len() - 1).err(),
            Some(DecodeError::TooLarge)
        );
        assert_eq!(
            decode(Encoding::Identity, PLAIN, PLAIN.len() - 1).err(),
            Some(DecodeError::TooLarge)
        );
    }
}
