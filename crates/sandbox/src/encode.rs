//! Incremental Content-Encoding, so streamed bodies can be compressed without buffering them.

use std::io::{self, Write};

use bytes::Bytes;
use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    /// HTTP's `deflate` is the zlib format (RFC 9110 §8.4.1.2), not raw deflate.
    Deflate,
    Br,
}

impl Coding {
    pub(crate) fn header_value(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Br => "br",
        }
    }
}

pub(crate) enum Encoder {
    Gzip(GzEncoder<Vec<u8>>),
    Deflate(ZlibEncoder<Vec<u8>>),
    Br(Box<brotli::CompressorWriter<Vec<u8>>>),
}

impl Encoder {
    pub(crate) fn new(coding: Coding) -> Self {
        match coding {
            Coding::Gzip => Encoder::Gzip(GzEncoder::new(Vec::new(), Compression::fast())),
            Coding::Deflate => Encoder::Deflate(ZlibEncoder::new(Vec::new(), Compression::fast())),
            Coding::Br => Encoder::Br(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                4096,
                5,
                22,
            ))),
        }
    }

    /// Feeds `input` and returns whatever compressed output is ready (possibly nothing).
    pub(crate) fn push(&mut self, input: &[u8]) -> io::Result<Bytes> {
        match self {
            Encoder::Gzip(e) => {
                e.write_all(input)?;
                Ok(take(e.get_mut()))
            }
            Encoder::Deflate(e) => {
                e.write_all(input)?;
                Ok(take(e.get_mut()))
            }
            Encoder::Br(e) => {
                e.write_all(input)?;
                Ok(take(e.get_mut()))
            }
        }
    }

    /// Forces out everything fed so far (used right before a deliberate mid-body abort).
    pub(crate) fn flush(&mut self) -> io::Result<Bytes> {
        match self {
            Encoder::Gzip(e) => {
                e.flush()?;
                Ok(take(e.get_mut()))
            }
            Encoder::Deflate(e) => {
                e.flush()?;
                Ok(take(e.get_mut()))
            }
            Encoder::Br(e) => {
                e.flush()?;
                Ok(take(e.get_mut()))
            }
        }
    }

    pub(crate) fn finish(self) -> io::Result<Bytes> {
        match self {
            Encoder::Gzip(e) => e.finish().map(Bytes::from),
            Encoder::Deflate(e) => e.finish().map(Bytes::from),
            Encoder::Br(e) => Ok(Bytes::from(e.into_inner())),
        }
    }
}

fn take(buf: &mut Vec<u8>) -> Bytes {
    Bytes::from(std::mem::take(buf))
}

pub(crate) fn encode_all(coding: Coding, input: &[u8]) -> io::Result<Bytes> {
    let mut encoder = Encoder::new(coding);
    let head = encoder.push(input)?;
    let tail = encoder.finish()?;
    let mut out = Vec::with_capacity(head.len() + tail.len());
    out.extend_from_slice(&head);
    out.extend_from_slice(&tail);
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn decode(coding: Coding, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            Coding::Gzip => flate2::read::GzDecoder::new(data).read_to_end(&mut out),
            Coding::Deflate => flate2::read::ZlibDecoder::new(data).read_to_end(&mut out),
            Coding::Br => brotli::Decompressor::new(data, 4096).read_to_end(&mut out),
        }
        .expect("decodes");
        out
    }

    #[test]
    fn incremental_output_decodes_to_the_input() {
        let input: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for coding in [Coding::Gzip, Coding::Deflate, Coding::Br] {
            let mut enc = Encoder::new(coding);
            let mut out = Vec::new();
            for chunk in input.chunks(7_000) {
                out.extend_from_slice(&enc.push(chunk).expect("push"));
            }
            out.extend_from_slice(&enc.finish().expect("finish"));
            assert_eq!(decode(coding, &out), input, "{coding:?}");
            let whole = encode_all(coding, &input).expect("encode");
            assert_eq!(decode(coding, &whole), input, "{coding:?}");
        }
    }
}
