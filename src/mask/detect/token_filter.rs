//! A pre-filter that can only say "no token here" for the base64 and hex readings.
//!
//! [`super::base64_split_texts`] and [`super::hex_texts`] split a string on every character
//! outside their alphabet and decode the pieces long enough to hold the fewest bytes a shape
//! needs (`MIN_BASE64`, `MIN_HEX`: 8 and 12 characters). Every key and
//! string leaf goes through them (several times: as written and after each decoding), and
//! most are short words, dates or ids with no such piece, yet the split walks them char by
//! char. One byte loop finds the longest run of alphabet bytes first: a string without a run
//! long enough holds no piece long enough, so the readers get the empty string instead, for
//! which they yield nothing, exactly as for the original (see the property test below).

/// Bytes a base64 piece may hold (both alphabets), plus the line breaks
/// [`super::base64_texts`] removes before a second split: a run across them may become one
/// piece.
#[inline]
fn base64_run_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'\r' | b'\n')
}

/// Whether `s` has a run of at least `min` consecutive bytes satisfying `member`. The
/// alphabets are ASCII: a multi-byte character's bytes (all >= 0x80) end a run, as the
/// character ends a piece in the split.
#[inline]
fn has_run(s: &str, min: usize, member: impl Fn(u8) -> bool) -> bool {
    if s.len() < min {
        return false;
    }
    let mut run = 0usize;
    for &b in s.as_bytes() {
        if member(b) {
            run += 1;
            if run >= min {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// `s` when it may hold a base64 piece of `min` characters or more, else `""`.
pub(super) fn base64_gate(s: &str, min: usize) -> &str {
    if has_run(s, min, base64_run_byte) {
        s
    } else {
        ""
    }
}

/// `s` when it may hold a hex piece of `min` characters or more, else `""`.
pub(super) fn hex_gate(s: &str, min: usize) -> &str {
    if has_run(s, min, |b| b.is_ascii_hexdigit()) {
        s
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{base64_split_texts, hex_texts, MIN_BASE64, MIN_HEX};
    use super::{base64_gate, hex_gate};

    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[A-Za-z0-9+/_-]{0,20}",
            "[0-9a-fA-F]{0,20}",
            Just("\r\n".to_owned()),
            Just("\n".to_owned()),
            Just("=".to_owned()),
            Just(" ".to_owned()),
            Just("bmFtZT1BbGljZQ".to_owned()),
            Just("6e616d653d416c696365".to_owned()),
            "\\PC{0,3}",
        ];
        proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// The gate never hides a piece: the readers yield the same texts through it.
        #[test]
        fn gated_readers_yield_what_the_readers_yield(s in text()) {
            let all: Vec<_> = base64_split_texts(&s).collect();
            let gated: Vec<_> = base64_split_texts(base64_gate(&s, MIN_BASE64)).collect();
            prop_assert_eq!(gated, all, "{:?}", s);
            let all: Vec<_> = hex_texts(&s).collect();
            let gated: Vec<_> = hex_texts(hex_gate(&s, MIN_HEX)).collect();
            prop_assert_eq!(gated, all, "{:?}", s);
        }
    }

    #[test]
    fn short_words_dates_and_ids_skip_the_split_but_long_pieces_do_not() {
        // `2024-12-06T03` is a run of 13 base64 (URL-safe) bytes: a timestamp is split.
        for s in ["kim", "CENTRAL JAVA", "a b c d e f g h i", "12:30:45.0"] {
            assert_eq!(base64_gate(s, MIN_BASE64), "", "{s}");
        }
        for s in [
            "customer_67d84b19d50b490a8fa75ab20bbf275a",
            "bmFtZT1\r\nBbGljZQ",
        ] {
            assert_eq!(base64_gate(s, MIN_BASE64), s, "{s}");
        }
        assert_eq!(hex_gate("67d84b19d50b490a", MIN_HEX), "67d84b19d50b490a");
        assert_eq!(hex_gate("67d84b19-d50b490a", MIN_HEX), "");
    }
}
