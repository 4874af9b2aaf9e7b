//! Eight bytes at a time through the plain part of a JSON string.
//!
//! The string scanner must look at every byte for the closing quote, a backslash and the
//! control characters JSON forbids; everything else (most of a body) is plain. A word of 8
//! bytes holds none of the three exactly when none of its bytes is `"` or `\` and none is
//! below 0x20, which the classic "has a zero byte" test answers exactly (as a yes/no per
//! word, without false negatives), so whole words are skipped and the byte loop takes over
//! at the first word that holds one. Safe code only: the word is read with `from_le_bytes`.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Flags (high bit of the byte) the bytes of `w` below `n` (`n` <= 0x80). The lowest flag
/// is exact; a borrow may also flag a byte above a flagged one, never one below it.
#[inline]
fn flag_less(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH
}

/// Flags the bytes of `w` equal to `b`, with the same exactness as [`flag_less`].
#[inline]
fn flag_byte(w: u64, b: u8) -> u64 {
    flag_less(w ^ (ONES * u64::from(b)), 1)
}

/// The first offset from `i` on where a byte the string scanner must look at may stand:
/// every byte in `b[i..result]` is neither `"`, `\` nor below 0x20, and when 8 bytes or
/// more are left from `result` on, `b[result]` is one of them (the lowest flag of a word
/// is exact, so the union's lowest flag is the first such byte).
#[inline]
pub(super) fn skip_plain(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(word);
        let flags = flag_less(w, 0x20) | flag_byte(w, b'"') | flag_byte(w, b'\\');
        if flags != 0 {
            // Little-endian: byte k of the word is bits 8k..8k+7.
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::skip_plain;

    fn special(c: u8) -> bool {
        c == b'"' || c == b'\\' || c < 0x20
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Never skips a byte the scanner must see, and stops on the first one unless fewer
        /// than 8 bytes are left (the byte loop reads those), so it only shortens the loop.
        #[test]
        fn skips_only_plain_bytes(bytes in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff, Just(0x7f), Just(0x80)],
            0..40,
        ), from in 0usize..40) {
            let from = from.min(bytes.len());
            let end = skip_plain(&bytes, from);
            prop_assert!(end >= from && end <= bytes.len());
            prop_assert!(bytes[from..end].iter().all(|&c| !special(c)));
            let first = bytes[from..].iter().position(|&c| special(c)).map_or(bytes.len(), |p| from + p);
            // Exact whenever a whole word was left to read.
            prop_assert!(first == end || end + 8 > bytes.len());
        }
    }

    #[test]
    fn words_with_a_quote_a_backslash_or_a_control_are_not_skipped() {
        for at in 0..8 {
            for c in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut b = *b"abcdefghijklmnop";
                b[at] = c;
                assert_eq!(skip_plain(&b, 0), at, "{c:#x} at {at}");
            }
        }
        assert_eq!(skip_plain(b"abcdefghijklmnop", 0), 16);
        assert_eq!(skip_plain("é€abcdefgh\"".as_bytes(), 0), 8);
    }
}
