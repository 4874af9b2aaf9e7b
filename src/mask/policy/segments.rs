//! Payment messages whose labels are positions, not words: the party segments of EDI and the
//! party fields of SWIFT MT. Their standards fix which segment or field holds a party's name,
//! so these are closed grammars, read whatever qualifier the party carries:
//! - X12: a `N1` segment's second element is a name (`N1*PE*ALICE VICTIMSON~`, any entity
//!   code), a `NM1` segment's third to fifth are last, first and middle name;
//! - EDIFACT: a `NAD` segment's third element on are name and address
//!   (`NAD+PE+++ALICE VICTIMSON'`);
//! - SWIFT MT: the ordering customer (`:50A:`, `:50F:`, `:50K:`) and the beneficiary
//!   customer (`:59:`, `:59A:`, `:59F:`) fields, each up to the next field tag.
//!
//! Such a segment or field with two letters or more in a name position is personal.

/// Whether `text` holds an EDI party segment or a SWIFT party field with a name (see the
/// module).
pub fn party_segment_personal(text: &str) -> bool {
    edi_segments(text) || swift_party_fields(text)
}

fn has_name(element: &str) -> bool {
    element.chars().filter(|c| c.is_alphabetic()).count() >= 2
}

/// X12 `N1`/`NM1` and EDIFACT `NAD` segments: a segment starts the text or follows a segment
/// terminator (`~`, `'`) or a line break; its element separator is the character after the
/// tag.
fn edi_segments(text: &str) -> bool {
    text.split(['~', '\'', '\n', '\r']).any(|segment| {
        let segment = segment.trim_start();
        let (tag, names) = if let Some(rest) = segment.strip_prefix("NM1") {
            (rest, 3..6)
        } else if let Some(rest) = segment.strip_prefix("N1") {
            (rest, 2..3)
        } else if let Some(rest) = segment.strip_prefix("NAD") {
            (rest, 3..9)
        } else {
            return false;
        };
        let Some(sep) = tag
            .chars()
            .next()
            .filter(|c| !c.is_alphanumeric() && *c != ' ')
        else {
            return false;
        };
        tag.split(sep)
            .enumerate()
            .any(|(i, element)| names.contains(&i) && has_name(element))
    })
}

/// SWIFT MT fields 50a and 59a: a line starting `:50A:`, `:50F:`, `:50K:`, `:59:`, `:59A:`
/// or `:59F:`, and the lines under it up to the next field tag.
fn swift_party_fields(text: &str) -> bool {
    let mut in_party = false;
    let mut content = String::new();
    for line in text.lines() {
        if let Some(field) = field_tag(line) {
            if in_party && has_name(&content) {
                return true;
            }
            in_party = matches!(field.0, "50A" | "50F" | "50K" | "59" | "59A" | "59F");
            content.clear();
            content.push_str(field.1);
        } else if in_party {
            content.push('\n');
            content.push_str(line);
        }
    }
    in_party && has_name(&content)
}

/// A SWIFT field tag at the start of `line` (`:59:`, `:50K:`): two digits and an optional
/// capital between colons, and the rest of the line.
fn field_tag(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let close = rest.find(':')?;
    let tag = &rest[..close];
    let b = tag.as_bytes();
    let well_formed = matches!(b.len(), 2 | 3)
        && b[..2].iter().all(u8::is_ascii_digit)
        && b.get(2).is_none_or(u8::is_ascii_uppercase);
    well_formed.then(|| (tag, &rest[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::party_segment_personal;

    #[test]
    fn party_segments_and_fields_with_a_name_are_personal() {
        for t in [
            "N1*PE*ALICE VICTIMSON~",
            "ISA*00~N1*PR*Budi Hartono*FI*12345~",
            "NM1*QC*1*VICTIMSON*ALICE~",
            "NAD+PE+++ALICE VICTIMSON'",
            "UNH+1'NAD+BY+5412345000013::9++Budi Hartono'",
            ":59:/0123\nALICE VICTIMSON",
            ":20:REF1\n:50K:/1234\nBUDI HARTONO\nJL MELATI 4\n:59:/5678\n",
            ":59F:/12\n1/ALICE",
        ] {
            assert!(party_segment_personal(t), "{t}");
        }
    }

    #[test]
    fn payment_text_holds_no_party_segment() {
        for t in [
            "N1",
            "N12345",
            "NADIA",
            "Nadia Victimson",
            "at 10:59:00",
            ":20:REF1\n:32A:241206IDR150000,\n:59:/0123456",
            "N1*PE*~",
            "2024-12-06T03:53:52.779Z",
            "payment settled",
        ] {
            assert!(!party_segment_personal(t), "{t}");
        }
    }
}
