//! Every reading a client might make of the bytes it got, for leak checks: as sent, with
//! content-codings undone (twice), and decoded as UTF-16 or UTF-32 (either byte order).

use std::io::Read;

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
