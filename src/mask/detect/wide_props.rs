//! The class of finding 21h-2/21h-3: every byte sequence the masker decodes (a token's
//! bytes, `%XX` escapes) is read by the one byte table, so a personal value in any text
//! encoding (UTF-8, UTF-16 and UTF-32 in either order, with or without a mark, Latin-1) under
//! any coding is read.

use proptest::prelude::*;

use super::{Detector, Detectors};

/// `text` in text encoding `encoding`: UTF-8, UTF-16 LE/BE (BE with a mark), UTF-32 LE/BE
/// (each with and without a mark), Windows-1252.
fn encoded(text: &str, encoding: u8) -> Vec<u8> {
    let u16s = |le: bool| -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    };
    let u32s = |le: bool| -> Vec<u8> {
        text.chars()
            .map(u32::from)
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    };
    let marked = |mark: &[u8], b: Vec<u8>| -> Vec<u8> { mark.iter().copied().chain(b).collect() };
    match encoding {
        0 => text.as_bytes().to_vec(),
        1 => u16s(true),
        2 => marked(&[0xfe, 0xff], u16s(false)),
        3 => u32s(true),
        4 => u32s(false),
        5 => marked(&[0xff, 0xfe, 0, 0], u32s(true)),
        6 => marked(&[0, 0, 0xfe, 0xff], u32s(false)),
        _ => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
    }
}

/// `b` under coding `coding`: base64, base64url, hex, base32, every byte `%XX`, and only the
/// bytes a URL encoder must escape as `%XX` (Python's `quote`).
fn coded(b: &[u8], coding: u8) -> String {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    match coding {
        0 => STANDARD.encode(b),
        1 => URL_SAFE_NO_PAD.encode(b),
        2 => hex::encode(b),
        3 => data_encoding::BASE32.encode(b),
        4 => b.iter().map(|b| format!("%{b:02X}")).collect(),
        _ => b
            .iter()
            .map(|&b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// An email or a phone number, beside a name with 8-bit letters, in any text encoding
    /// under any coding: a detector fires.
    #[test]
    fn every_text_encoding_under_every_coding_is_read(
        name in "(Zoë|Müller|José|Françoise|Ægir) [A-Z][a-z]{2,8}",
        local in "[a-z]{3,10}",
        domain in "[a-z]{3,10}",
        phone in "08[1-9][0-9]{8,10}",
        email in any::<bool>(),
        encoding in 0u8..8,
        coding in 0u8..6,
    ) {
        let value = if email { format!("{local}@{domain}.com") } else { phone };
        let text = format!("{name}, {value}");
        let token = coded(&encoded(&text, encoding), coding);
        let found = Detectors::default().scan(&token);
        prop_assert!(found.is_some(), "{text:?} as {token} (enc {encoding}, coding {coding})");
        if email {
            prop_assert_eq!(found, Some(Detector::Email));
        }
    }

    /// The other side: ids and digests (random bytes) under every coding still have no
    /// reading a detector fires on.
    #[test]
    fn random_bytes_stay_opaque(
        bytes in proptest::collection::vec(any::<u8>(), 16..33),
        coding in 0u8..5,
    ) {
        let token = coded(&bytes, coding);
        prop_assert_eq!(Detectors::default().scan(&token), None, "{}", token);
    }
}

#[test]
fn percent_escapes_keep_their_utf8_reading() {
    let d = Detectors::default();
    for text in [
        "victim%40example.com",
        "victim%40example.com%FF",
        "Zo%EB%20victim%40example.com",
    ] {
        assert_eq!(d.scan(text), Some(Detector::Email), "{text}");
    }
    for text in ["ord%5F12345", "a%20b", "%E2%82%AC150000.00"] {
        assert_eq!(d.scan(text), None, "{text}");
    }
}
