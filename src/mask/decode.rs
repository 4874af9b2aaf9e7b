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
