use super::*;

const TEXT: &str = "alice.victim@example.com 081234567890";

/// A base-85 encoder of `alphabet` with Python's padding (the last group's padding bytes
/// dropped), for the property test.
fn encode85(bytes: &[u8], alphabet: &[u8; 85]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(4) {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        let mut v = u32::from_be_bytes(word);
        let mut digits = [0u8; 5];
        for d in digits.iter_mut().rev() {
            *d = alphabet[(v % 85) as usize];
            v /= 85;
        }
        out.extend(digits[..chunk.len() + 1].iter().map(|&c| char::from(c)));
    }
    out
}

/// `binascii.b2a_uu` without its line end.
fn uuencode(bytes: &[u8]) -> String {
    let mut out = String::from(char::from(b' ' + bytes.len() as u8));
    for chunk in bytes.chunks(3) {
        let mut g = [0u8; 3];
        g[..chunk.len()].copy_from_slice(chunk);
        let v = u32::from(g[0]) << 16 | u32::from(g[1]) << 8 | u32::from(g[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(b' ' + ((v >> shift) & 63) as u8));
        }
    }
    out
}

const ASCII85: &[u8; 85] =
    b"!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstu";

#[test]
fn known_vectors_decode() {
    // Python's base64.a85encode / b85encode, binascii.b2a_uu, and the Z85 specification.
    assert_eq!(
        ascii85("9jqo^BlbD-BleB1DJ+*+F(f,q").as_deref(),
        Some(&b"Man is distinguished"[..])
    );
    assert_eq!(
        base85("Xk~0{Zy<MXa%^NF", &ALPHABETS.rfc1924).as_deref(),
        Some(&b"hello world!"[..])
    );
    assert_eq!(
        base85("HelloWorld", &ALPHABETS.z85).as_deref(),
        Some(&[0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B][..])
    );
    assert_eq!(
        uudecoded("E86QI8V4N=FEC=&EM0&5X86UP;&4N8V]M(# X,3(S-#4V-S@Y,   ").as_deref(),
        Some(TEXT.as_bytes())
    );
    // Trailing spaces trimmed by a transport.
    assert_eq!(
        uudecoded("E86QI8V4N=FEC=&EM0&5X86UP;&4N8V]M(# X,3(S-#4V-S@Y,").as_deref(),
        Some(TEXT.as_bytes())
    );
}

#[test]
fn each_coding_of_a_text_is_read_whole_or_in_a_sentence() {
    for token in [
        r"@;KXfAM/.?@ruF%5\51KD/a<&/n8g:+>>c01,CaE2E*TU0E".to_owned(),
        "VQgt*WiEDUV{~b4KxKGgZE$R5E@N+PATT&FGBY$aHa9pqFa".to_owned(),
        encode85(TEXT.as_bytes(), Z85),
        "E86QI8V4N=FEC=&EM0&5X86UP;&4N8V]M(# X,3(S-#4V-S@Y,   ".to_owned(),
    ] {
        assert!(texts(&token).any(|(t, _)| t == TEXT), "{token}");
        let sentence = format!("blob follows:\n{token}\nend");
        assert!(texts(&sentence).any(|(t, _)| t == TEXT), "{sentence}");
    }
}

#[test]
fn payment_values_have_no_85_or_uu_reading() {
    for v in [
        "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "2024-12-06T03:53:52.779Z",
        "INV-2024-000123",
        "Settlement batch 12 closed",
        "VIRTUAL_ACCOUNT",
        "https://hooks.example.com/paycombat/callback",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "pay_N2fr9XkQ1mZ",
        "150000.00 IDR",
        "BCA_VA_PENDING",
    ] {
        let read: Vec<String> = texts(v).map(|(t, _)| t).collect();
        assert!(read.is_empty(), "{v}: {read:?}");
    }
}

/// The class: any text, in any of the four codings, is read back as itself.
#[test]
fn every_text_in_every_coding_reads_back() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let len = 6 + (next() % 40) as usize;
        let text: String = (0..len)
            .map(|_| char::from(b' ' + (next() % 95) as u8))
            .chain("x@example.com".chars())
            .collect();
        let b = text.as_bytes();
        let mut tokens = vec![encode85(b, ASCII85), encode85(b, RFC1924), encode85(b, Z85)];
        // uuencode writes at most 45 bytes a line.
        tokens.push(b.chunks(45).map(uuencode).collect::<Vec<_>>().join("\n"));
        for (i, token) in tokens.iter().enumerate() {
            // A token with white space in it is split there by a reader of words; the
            // 85 codings' alphabets have none (uuencode's space is read per line).
            assert!(
                texts(token).any(|(t, _)| t == text),
                "coding {i}: {token:?}"
            );
        }
    }
}
