//! Decoded bytes as text, for [`super::readings`]: **one table** every byte coding (base64,
//! base64url, hex, base32, Ascii85) goes through, so a compressor or a text encoding added
//! here is read under every coding alike.
//!
//! - **compressors**: a gzip or zlib stream (by its header) and a raw deflate stream (.NET's
//!   `DeflateStream`, Java's `Inflater(nowrap)`, PHP's `gzdeflate`: no header, so it counts
//!   only when it inflates to its end and uses every byte) are inflated, at most
//!   [`MAX_INFLATED`] bytes, one level (the text inflated is read again by the readings,
//!   whose depth is bounded). A bzip2, xz or zstd stream (known by its magic) is not read:
//!   it is reported as a reading cut at a bound, so the value is masked whole (the refusing
//!   default for a wrapping no check can open);
//! - **text encodings**: UTF-8; UTF-32 and UTF-16, either order, with or without a mark
//!   ([`super::wide::wide_text`]); bytes that are neither, read as Windows-1252 (Latin-1's superset) when they look like 8-bit text (one
//!   `ë` must not hide the email beside it: the detectors are ASCII);
//! - **binary records** (MessagePack, CBOR, protobuf, BSON): their printable ASCII runs, as
//!   `strings(1)` shows them, each run a piece of its own.
//!
//! Bytes that are none of these (digests, ids) are opaque: no reading, as before.
//!
//! Each text comes with its [`Origin`]: the runs carved out of a binary record, and UTF-8 with
//! control characters in it (a record of strings), are [`Origin::Carved`]: read by the
//! value-shape detectors only, never by the word rules (see [`Origin`]).

use std::cell::RefCell;

use miniz_oxide::inflate::core::DecompressorOxide;

use super::{codings, wide};

/// The largest inflated text read from a compressed token: enough for any value a client
/// would show, bounded so a small token cannot make the gateway inflate a bomb.
pub(super) const MAX_INFLATED: usize = 64 * 1024;

/// Shortest printable run of a binary record read as a piece: the fewest bytes any shape
/// needs ([`super::readings::MIN_SHAPE_BYTES`]); shorter runs are the record's own tags and
/// lengths.
const MIN_RUN: usize = super::readings::MIN_SHAPE_BYTES;

/// What stands between the runs of a binary record: a list mark, so runs on either side are
/// not read as one value.
const RUN_BREAK: &str = "; ";

/// Where a reading of decoded bytes comes from, which decides who reads it.
///
/// The value-shape detectors (email, phone, card, national ID...) read every reading: a
/// shape is a shape wherever its bytes stand, and a base64 record holding an email is an
/// email to whoever decodes it. The word rules (key words naming a field, role words, field
/// names and labels in values) read only [`Origin::Text`]: a word is only a word in text
/// written to be read. A binary record's printable runs start and end wherever a byte
/// happens to be printable, so in random bytes (the ids, nonces and digests most tokens
/// are) they hold short vocabulary words (`hp`, `wa`, `kk`) at a rate no word rule can
/// tell from a label (a few random 32-hex ids in ten thousand were masked so, their
/// neighbours with them). What a record holds
/// that is personal by its shape is still found; a record's keys are its structure, not
/// text, as a protobuf record has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The string as written, a decoding of its escapes, or bytes that read whole as text
    /// (UTF-8 or UTF-16 without control characters, 8-bit text, an inflated stream of such).
    Text,
    /// Text carved out of binary: the printable runs of a record, or UTF-8 holding control
    /// characters (a record of strings).
    Carved,
}

/// A text read from decoded bytes, and its [`Origin`].
pub(super) type Decoded = (String, Origin);

/// `bytes` as the text a client that decodes them reads (see the module) and its
/// [`Origin`], or `None`.
pub(super) fn bytes_text(bytes: &[u8]) -> Option<Decoded> {
    if let Some((inflated, cut)) = inflated(bytes) {
        return text_of(&inflated, cut);
    }
    if unreadable_stream(bytes) {
        super::readings::bounded();
        return None;
    }
    text_of(bytes, false)
}

/// The text readings of `bytes` (no decompression). `cut`: the bytes were cut at
/// [`MAX_INFLATED`], so their last character may be cut too.
fn text_of(bytes: &[u8], cut: bool) -> Option<Decoded> {
    let text = |t: String| (t, Origin::Text);
    match std::str::from_utf8(bytes) {
        Ok(t) if codings::readable(t) => Some(text(t.to_owned())),
        // UTF-8, or UTF-32/UTF-16 when that is what the bytes are (`v\0i\0c\0…` is UTF-8 too,
        // with control characters a wide reader reads as its high bytes); else the text with
        // its controls (a protobuf record of UTF-8 strings is valid UTF-8): a record, carved.
        Ok(t) => wide::wide_text(bytes)
            .map(text)
            .or_else(|| Some((t.to_owned(), Origin::Carved))),
        Err(e) if cut && e.error_len().is_none() => text_of(&bytes[..e.valid_up_to()], false),
        Err(_) => wide::wide_text(bytes)
            .or_else(|| cp1252_text(bytes))
            .map(text)
            .or_else(|| printable_runs(bytes).map(|t| (t, Origin::Carved))),
    }
}

/// `bytes` as Windows-1252 text when they look like 8-bit text: at least three quarters
/// ASCII without controls (white space aside), and every other byte a letter (`ë`, `ß`,
/// `Ž`) or one of the few symbols prose uses (no-break space, quotes, dashes, `€`, `£`,
/// `°`, `«`, `»`). A record's length and type bytes (`¡`, `¯`, `±` read so) and a digest's
/// bytes are not such text. Windows-1252 is what browsers read `ISO-8859-1` as.
fn cp1252_text(bytes: &[u8]) -> Option<String> {
    let ascii = bytes.iter().filter(|b| b.is_ascii()).count();
    if ascii * 4 < bytes.len() * 3 {
        return None;
    }
    let prose = |c: char| c.is_ascii() || c.is_alphabetic() || "\u{a0}€£°«»‘’“”–—…".contains(c);
    bytes
        .iter()
        .map(|&b| cp1252(b).filter(|&c| prose(c)))
        .collect()
}

/// One Windows-1252 byte as its character, `None` for controls (white space aside) and the
/// five undefined bytes.
fn cp1252(b: u8) -> Option<char> {
    const HIGH: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
        0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
        0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ];
    match b {
        b'\t' | b'\n' | b'\r' | 0x20..=0x7e | 0xa0..=0xff => Some(char::from(b)),
        0x80..=0x9f => match HIGH[usize::from(b - 0x80)] {
            0 => None,
            c => char::from_u32(u32::from(c)),
        },
        _ => None,
    }
}

/// The printable ASCII runs of at least [`MIN_RUN`] bytes of a binary record, joined by
/// [`RUN_BREAK`], when it has one.
fn printable_runs(bytes: &[u8]) -> Option<String> {
    let printable = |b: &u8| (0x20..=0x7e).contains(b);
    let mut out = String::new();
    for run in bytes.split(|b| !printable(b)) {
        if run.len() >= MIN_RUN {
            if !out.is_empty() {
                out.push_str(RUN_BREAK);
            }
            // Printable ASCII: one char per byte.
            out.extend(run.iter().map(|&b| char::from(b)));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether `bytes` start with the magic of a compressed stream the gateway does not inflate:
/// bzip2 (`BZh1`..`BZh9` then the block magic), xz, zstd.
fn unreadable_stream(bytes: &[u8]) -> bool {
    const BZIP2_BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    match bytes {
        [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..] => rest.starts_with(&BZIP2_BLOCK),
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => true,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => true,
        _ => false,
    }
}

thread_local! {
    /// One raw-deflate decompressor and output buffer per thread, reused for each attempt:
    /// most decoded tokens (ids, digests) are tried and fail within a few bytes, so what an
    /// attempt must not do is prepare memory. The decompressor's `init` only resets its state,
    /// and the buffer (zeroed once) is written, never cleared: decompression reads back only
    /// what it wrote. (`flate2::Decompress` zeroes its 32 KiB window on reset and
    /// `decompress_vec` the output's spare capacity on every call: ~100 KiB of memset per
    /// token, once most of a miss's cost.)
    static RAW: RefCell<(Box<DecompressorOxide>, Vec<u8>)> =
        RefCell::new((Box::default(), vec![0; MAX_INFLATED + 1]));
}

/// `bytes` inflated, when they are a gzip, zlib or complete raw deflate stream, and whether
/// it was cut: a stream longer than [`MAX_INFLATED`] is cut there and noted as a bound.
fn inflated(bytes: &[u8]) -> Option<(Vec<u8>, bool)> {
    use std::io::Read;
    let read_all = |r: &mut dyn Read| {
        let mut out = Vec::new();
        r.take(MAX_INFLATED as u64 + 1).read_to_end(&mut out).ok()?;
        let cut = out.len() > MAX_INFLATED;
        if cut {
            // More follows than is read: judged on its prefix, and noted.
            super::readings::bounded();
            out.truncate(MAX_INFLATED);
        }
        Some((out, cut))
    };
    match bytes {
        [0x1f, 0x8b, ..] => read_all(&mut flate2::read::MultiGzDecoder::new(bytes)),
        [0x78, second, ..] if (u16::from(0x78u8) << 8 | u16::from(*second)) % 31 == 0 => {
            read_all(&mut flate2::read::ZlibDecoder::new(bytes))
        }
        // A raw stream's first block header: BTYPE 11 is reserved, so a quarter of all byte
        // strings stop here; UTF-8 text is read as text (a raw deflate stream of any length
        // is almost never valid UTF-8).
        [first, ..] if first & 0b110 != 0b110 && std::str::from_utf8(bytes).is_err() => {
            raw_inflated(bytes)
        }
        _ => None,
    }
}

/// `bytes` as one complete raw deflate stream: it must end (the final block's end) on the
/// last byte, as a writer's output does; anything else is not one.
fn raw_inflated(bytes: &[u8]) -> Option<(Vec<u8>, bool)> {
    use miniz_oxide::inflate::core::{decompress, inflate_flags};
    use miniz_oxide::inflate::TINFLStatus;
    RAW.with(|raw| {
        let mut raw = raw.borrow_mut();
        let (state, out) = &mut *raw;
        state.init();
        // The whole input at once into a buffer that holds the whole output: no more input
        // follows, and back references read the buffer itself.
        let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        let (status, used, written) = decompress(state, bytes, out, 0, flags);
        match status {
            TINFLStatus::Done if used == bytes.len() => Some((out[..written].to_vec(), false)),
            // Output full before the end: a long stream, judged on its prefix.
            TINFLStatus::HasMoreOutput if written > MAX_INFLATED => {
                super::readings::bounded();
                Some((out[..MAX_INFLATED].to_vec(), true))
            }
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_deflate(text: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(text).expect("write");
        e.finish().expect("finish")
    }

    #[test]
    fn each_wrapping_is_read() {
        let text = b"alice.victim@example.com 081234567890";
        assert_eq!(
            bytes_text(&raw_deflate(text)),
            Some((
                "alice.victim@example.com 081234567890".to_owned(),
                Origin::Text
            ))
        );
        let cp = b"Zo\xeb M\xfcller, 081234567890";
        assert_eq!(
            bytes_text(cp),
            Some(("Zoë Müller, 081234567890".to_owned(), Origin::Text))
        );
        // MessagePack {"n": "Alice Victimson", "e": "alice@example.com"}.
        let mut mp = vec![0x82, 0xa1, b'n', 0xaf];
        mp.extend_from_slice(b"Alice Victimson");
        mp.extend_from_slice(&[0xa1, b'e', 0xb1]);
        mp.extend_from_slice(b"alice@example.com");
        assert_eq!(
            bytes_text(&mp),
            Some((
                "Alice Victimson; alice@example.com".to_owned(),
                Origin::Carved
            ))
        );
    }

    #[test]
    fn raw_deflate_attempts_share_one_state_without_leaking_between_them() {
        let text = b"alice.victim@example.com 081234567890";
        let stream = raw_deflate(text);
        // A failed attempt between two good ones leaves nothing behind; a stream with a
        // byte more after its end, or one byte short, is no stream.
        for garbage in [&[0x02u8, 0xff, 0x13, 0x77][..], &stream[..stream.len() - 1]] {
            assert_eq!(raw_inflated(garbage), None);
            assert_eq!(raw_inflated(&stream), Some((text.to_vec(), false)));
        }
        let mut longer = stream.clone();
        longer.push(0);
        assert_eq!(raw_inflated(&longer), None);
    }

    #[test]
    fn a_long_raw_deflate_stream_is_judged_on_its_prefix() {
        let mut text = b"081234567890 ".repeat(MAX_INFLATED / 13 + 100);
        text.extend_from_slice(b"tail");
        let (prefix, cut) = raw_inflated(&raw_deflate(&text)).expect("inflated");
        assert!(cut);
        assert_eq!(prefix, text[..MAX_INFLATED]);
    }

    #[test]
    fn digests_and_ids_have_no_reading() {
        for hex in [
            "67d84b19d50b490a8fa75ab20bbf275a",
            "59b8fb2f52254f95ac54d0e140f4e429",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            let bytes = hex::decode(hex).expect("hex");
            assert_eq!(bytes_text(&bytes), None, "{hex}");
        }
    }
}
