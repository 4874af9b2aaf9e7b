//! Characters no reader sees, for [`super::readings`].
//!
//! The readings remove default-ignorable, format and control characters before judging text
//! (NFKC and the key normalisation do), so what such characters spell is never read. Two
//! rules close that channel:
//!
//! - **Unicode tag characters** (U+E0020–U+E007E) mirror printable ASCII one to one
//!   ("ASCII smuggling": `tag('a')` is U+E0061, invisible, yet a model or a decoder reads it
//!   as `a`). They are one more reading, like NFKC: [`tags_in_place`] and [`tags_alone`].
//! - **A string holding any invisible character the readings remove** ([`hides`]) is masked
//!   whole, as a value a bound cut short is: what the characters encode (a tag text, bits as
//!   zero-width joiners and non-joiners) is never copied. The one exception is what makes an
//!   emoji (a zero-width joiner between pictographs, a variation selector after a visible
//!   character, a subdivision flag's tag letters): part of what the reader sees.

use icu_properties::props::ExtendedPictographic;
use icu_properties::CodePointSetData;

/// The tag characters that mirror printable ASCII.
const TAGS: std::ops::RangeInclusive<char> = '\u{e0020}'..='\u{e007e}';
/// The whole tag block (LANGUAGE TAG U+E0001 and CANCEL TAG U+E007F included).
const TAG_BLOCK: std::ops::RangeInclusive<char> = '\u{e0000}'..='\u{e007f}';

/// Whether `s` holds a tag character: its UTF-8 starts with `F3 A0 80` or `F3 A0 81`.
fn has_tags(s: &str) -> bool {
    memchr::memchr(0xf3, s.as_bytes()).is_some() && s.chars().any(|c| TAG_BLOCK.contains(&c))
}

/// The ASCII a tag character mirrors.
fn mirrored(c: char) -> Option<char> {
    TAGS.contains(&c)
        .then(|| char::from_u32(u32::from(c) - 0xe0000))
        .flatten()
}

/// `s` with its tag characters read as the ASCII they mirror, where they stand
/// (`al` + tags(`ice@ex`) + `ample.com` is `alice@example.com`), when it holds one.
pub(super) fn tags_in_place(s: &str) -> Option<String> {
    if !has_tags(s) {
        return None;
    }
    Some(
        s.chars()
            .filter_map(|c| {
                if TAG_BLOCK.contains(&c) {
                    mirrored(c)
                } else {
                    Some(c)
                }
            })
            .collect(),
    )
}

/// The text `s`'s tag characters spell alone, each run of them a piece (`ok` + tags(an
/// email) is the email, `150000` + tags(a phone number) the number), when it holds one.
pub(super) fn tags_alone(s: &str) -> Option<String> {
    if !has_tags(s) {
        return None;
    }
    let mut out = String::new();
    let mut in_run = false;
    for c in s.chars() {
        match mirrored(c) {
            Some(m) => {
                out.push(m);
                in_run = true;
            }
            None if in_run => {
                out.push(' ');
                in_run = false;
            }
            None => {}
        }
    }
    Some(out)
}

/// Whether `s` holds a character no reader sees that the readings remove (default-ignorable,
/// format, or control other than white space), outside an emoji (see the module).
pub(crate) fn hides(s: &str) -> bool {
    let pictographic = CodePointSetData::new::<ExtendedPictographic>();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p]);
        if c.is_whitespace() || !crate::mask::keynorm::is_invisible(c) {
            i += 1;
            continue;
        }
        let after_visible = prev.is_some_and(|p| !crate::mask::keynorm::is_invisible(p));
        match c {
            // VS15/VS16 choose text or emoji presentation of the character before it.
            '\u{fe0e}' | '\u{fe0f}' if after_visible => i += 1,
            // ZWJ joins two pictographs into one emoji (a variation selector may stand
            // between the first and the joiner).
            '\u{200d}' => {
                let before = chars[..i]
                    .iter()
                    .rev()
                    .find(|&&p| !matches!(p, '\u{fe0e}' | '\u{fe0f}'));
                let next = chars.get(i + 1);
                let joins = before.is_some_and(|&p| pictographic.contains(p))
                    && next.is_some_and(|&n| pictographic.contains(n));
                if !joins {
                    return true;
                }
                i += 1;
            }
            // A subdivision flag: WAVING BLACK FLAG, two to six tag letters or digits,
            // CANCEL TAG (`🏴` + `gbeng` + U+E007F is England's flag).
            _ if TAG_BLOCK.contains(&c) && prev == Some('\u{1f3f4}') => {
                let run = chars[i..]
                    .iter()
                    .take_while(|&&t| {
                        mirrored(t).is_some_and(|m| m.is_ascii_lowercase() || m.is_ascii_digit())
                    })
                    .count();
                if !(2..=6).contains(&run) || chars.get(i + run) != Some(&'\u{e007f}') {
                    return true;
                }
                i += run + 1;
            }
            _ => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> String {
        s.chars()
            .map(|c| char::from_u32(0xe0000 + c as u32).expect("tag"))
            .collect()
    }

    #[test]
    fn tag_characters_are_read_as_the_ascii_they_mirror() {
        let s = format!("ok{}", tags("alice@example.com"));
        assert_eq!(tags_alone(&s).as_deref(), Some("alice@example.com"));
        assert_eq!(tags_in_place(&s).as_deref(), Some("okalice@example.com"));
        assert!(hides(&s));
        assert_eq!(tags_alone("plain café"), None);
    }

    #[test]
    fn invisible_characters_hide_text_but_emoji_do_not() {
        for s in [
            "ok\u{200b}",
            "e\u{200d}mail",
            "a\u{200c}\u{200d}\u{200c}b",
            "\u{feff}PAID",
            "soft\u{ad}hyphen",
            "x\u{2060}y",
            "\u{fe0f}",
            "ok\u{9f}",
        ] {
            assert!(hides(s), "{s:?}");
        }
        for s in [
            "Thanks ❤️",
            "👨\u{200d}👩\u{200d}👧 family",
            "🏳️\u{200d}🌈",
            "🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}",
            "Zoë Müller\t\n",
            "日本語",
        ] {
            assert!(!hides(s), "{s:?}");
        }
    }
}
