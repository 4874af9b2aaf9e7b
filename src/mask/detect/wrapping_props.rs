//! The class of attack21f finding 6: a personal value behind any byte coding × compressor ×
//! text encoding of the one table ([`super::bytes`]) is read, and a stream the gateway cannot
//! open is refused (masked whole), never copied.

use std::io::Write;

use proptest::prelude::*;

use super::{Detector, Detectors};

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).expect("write");
    e.finish().expect("finish")
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).expect("write");
    e.finish().expect("finish")
}

fn deflate(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).expect("write");
    e.finish().expect("finish")
}

/// Adobe Ascii85 (`<~…~>`), as Python's `base64.a85encode(b, adobe=True)` writes it.
fn ascii85(b: &[u8]) -> String {
    let mut out = String::from("<~");
    for chunk in b.chunks(4) {
        let mut group = [0u8; 4];
        group[..chunk.len()].copy_from_slice(chunk);
        let v = u32::from_be_bytes(group);
        if v == 0 && chunk.len() == 4 {
            out.push('z');
            continue;
        }
        let mut digits = [0u8; 5];
        let mut n = v;
        for d in digits.iter_mut().rev() {
            *d = u8::try_from(n % 85).expect("digit") + b'!';
            n /= 85;
        }
        out.extend(digits[..chunk.len() + 1].iter().map(|&d| char::from(d)));
    }
    out.push_str("~>");
    out
}

/// `text` in one of the text encodings a client decodes: UTF-8, UTF-16 (both orders, with
/// and without a byte-order mark), Windows-1252.
fn encoded(text: &str, encoding: u8) -> Vec<u8> {
    let units = text.encode_utf16();
    match encoding {
        0 => text.as_bytes().to_vec(),
        1 => units.flat_map(u16::to_le_bytes).collect(),
        2 => [0xfe, 0xff]
            .into_iter()
            .chain(units.flat_map(u16::to_be_bytes))
            .collect(),
        // Windows-1252: every character here is Latin-1.
        _ => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
    }
}

fn compressed(b: &[u8], compressor: u8) -> Vec<u8> {
    match compressor {
        0 => b.to_vec(),
        1 => gzip(b),
        2 => zlib(b),
        _ => deflate(b),
    }
}

fn coded(b: &[u8], coding: u8) -> String {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    match coding {
        0 => STANDARD.encode(b),
        1 => URL_SAFE_NO_PAD.encode(b),
        2 => hex::encode(b),
        3 => hex::encode_upper(b),
        4 => data_encoding::BASE32.encode(b),
        _ => ascii85(b),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A name with 8-bit letters and an email or a phone number, in any text encoding, any
    /// compressor (or none), any byte coding: a detector fires.
    #[test]
    fn every_wrapping_of_a_personal_value_is_read(
        name in "(Zoë|Müller|José|Françoise|Ægir) [A-Z][a-z]{2,8}",
        local in "[a-z]{3,10}",
        domain in "[a-z]{3,10}",
        phone in "08[1-9][0-9]{8,10}",
        email in any::<bool>(),
        encoding in 0u8..4,
        compressor in 0u8..4,
        coding in 0u8..6,
    ) {
        let value = if email { format!("{local}@{domain}.com") } else { phone };
        let text = format!("{name}, {value}");
        let token = coded(&compressed(&encoded(&text, encoding), compressor), coding);
        let found = Detectors::default().scan(&token);
        prop_assert!(found.is_some(), "{text:?} as {token} (enc {encoding}, comp {compressor})");
        if email {
            prop_assert_eq!(found, Some(Detector::Email));
        }
    }

    /// Binary records holding text (MessagePack-like: a length byte before each string) are
    /// read by their printable runs under every coding.
    #[test]
    fn binary_records_holding_a_value_are_read(
        local in "[a-z]{3,10}",
        phone in "08[1-9][0-9]{8,10}",
        coding in 0u8..6,
    ) {
        let email = format!("{local}@example.com");
        let mut record = vec![0x82, 0xa1, b'e', 0xa0 | u8::try_from(email.len()).expect("short")];
        record.extend_from_slice(email.as_bytes());
        record.extend_from_slice(&[0xa1, b'p', 0xa0 | u8::try_from(phone.len()).expect("short")]);
        record.extend_from_slice(phone.as_bytes());
        let token = coded(&record, coding);
        prop_assert!(Detectors::default().scan(&token).is_some(), "{token}");
    }

    /// The other side: ids and digests (random bytes under every coding) have no reading a
    /// detector fires on.
    #[test]
    fn random_bytes_are_opaque(bytes in proptest::collection::vec(any::<u8>(), 16..33), coding in prop_oneof![Just(0u8), Just(1u8), Just(4u8)]) {
        let token = coded(&bytes, coding);
        prop_assert_eq!(Detectors::default().scan(&token), None, "{}", token);
    }
}

#[test]
fn streams_the_gateway_cannot_open_are_refused() {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    let d = Detectors::default();
    for magic in [
        &b"BZh91AY&SY\x00\x01\x02\x03"[..],
        &b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46"[..],
        &b"\x28\xb5\x2f\xfd\x24\x05\x29\x00"[..],
    ] {
        let token = STANDARD.encode(magic);
        assert_eq!(d.scan_bounded(&token), (None, true), "{token}");
        assert_eq!(d.scan_bounded(&hex::encode(magic)), (None, true));
    }
}
