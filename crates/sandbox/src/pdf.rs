//! A payin memo "PDF" of any requested size, produced chunk by chunk.

use bytes::Bytes;

use super::body::{ChunkSource, STREAM_CHUNK};

const HEADER: &[u8] = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
const TRAILER: &[u8] = b"\n%%EOF\n";
const FILLER: &[u8; 64] = b"% paycombat payin memo, sandbox filler line ...................\n";

pub(crate) struct PdfSource {
    size: u64,
    pos: u64,
}

impl PdfSource {
    pub(crate) fn new(_payin_id: &str, size: u64) -> Self {
        PdfSource { size, pos: 0 }
    }

    fn byte_at(&self, offset: u64) -> u8 {
        let header = HEADER.len() as u64;
        let trailer = TRAILER.len() as u64;
        if offset < header {
            return HEADER[offset as usize];
        }
        if self.size >= header + trailer && offset >= self.size - trailer {
            return TRAILER[(offset - (self.size - trailer)) as usize];
        }
        FILLER[(offset % 64) as usize]
    }
}

impl ChunkSource for PdfSource {
    fn next_chunk(&mut self) -> Option<Bytes> {
        if self.pos >= self.size {
            return None;
        }
        let end = self.size.min(self.pos + STREAM_CHUNK as u64);
        let chunk: Vec<u8> = (self.pos..end).map(|o| self.byte_at(o)).collect();
        self.pos = end;
        Some(Bytes::from(chunk))
    }

    fn len(&self) -> u64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(size: u64) -> Vec<u8> {
        let mut src = PdfSource::new("payin_1", size);
        let mut out = Vec::new();
        while let Some(c) = src.next_chunk() {
            assert!(c.len() <= STREAM_CHUNK);
            out.extend_from_slice(&c);
        }
        out
    }

    #[test]
    fn exact_size_with_header_and_trailer() {
        for size in [0u64, 3, 20, 100, 16 * 1024, 50_000] {
            let pdf = render(size);
            assert_eq!(pdf.len() as u64, size);
            let n = HEADER.len().min(pdf.len());
            assert_eq!(&pdf[..n], &HEADER[..n]);
            if size >= (HEADER.len() + TRAILER.len()) as u64 {
                assert!(pdf.ends_with(TRAILER));
            }
        }
    }
}
