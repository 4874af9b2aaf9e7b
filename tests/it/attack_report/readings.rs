//! Readings of a value: rendered text, UTF-16 in tokens, arrays of codes, one-digit groups, short encoded numbers.

use super::*;

/// the renderer readings are applied one at a time, never composed, though one
/// renderer applies them together: a browser or mail client drops tags *and* decodes
/// entities (`victim<b>&#64;</b>example.com`), a mail client undoes quoted-printable and then
/// renders HTML. A hex reference without `;` (`&#x40`, rendered by every HTML5 parser; the
/// decimal form is read), named references to invisible characters (`&zwj;`, `&shy;`,
/// `&ZeroWidthSpace;`) and markdown emphasis (`victim**@**example.com`) pass too.
#[tokio::test]
async fn rendered_text_never_passes() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "m1": "victim.tags<b>&#64;</b>example.com",
        "m2": "victim.qpentity=26#64;example.com",
        "m3": "<p>victim.qptags<span>=40</span>example.com</p>",
        "m4": "victim.hexnosemi&#x40example.com",
        "m5": "victim.zwj&zwj;@example.com",
        "m6": "victim.shy&shy;@example.com",
        "m7": "victim.bold**@**example.com",
        "m8": "call 0812&ZeroWidthSpace;3456&ZeroWidthSpace;7891",
        "m9": "0812**3456**7892",
        "m10": "0812<b>&#8203;</b>3456<b>&#8203;</b>7893",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-next-render",
        "200 OK",
        &body,
        &[
            "victim.tags",
            "victim.qpentity",
            "victim.qptags",
            "victim.hexnosemi",
            "victim.zwj",
            "victim.shy",
            "victim.bold",
            "0812&ZeroWidthSpace;3456",
            "0812**3456",
            "0812<b>&#8203;",
        ],
        "rendered text",
    )
    .await;
    app.stop().await;
}

/// base64 and hex tokens are read as text only when their bytes are UTF-8. Text in
/// UTF-16 (.NET's `Encoding.Unicode`, PowerShell's `-EncodedCommand`, Java's `UTF_16` with
/// its BOM) passes in both.
#[tokio::test]
async fn utf16_text_in_tokens_never_passes() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let utf16le = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let mut utf16be_bom = vec![0xfe, 0xff];
    utf16be_bom.extend(
        "contact victim.utf16be@example.com"
            .encode_utf16()
            .flat_map(u16::to_be_bytes),
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let le64 = b64.encode(utf16le("contact victim.utf16le@example.com"));
    let be64 = b64.encode(&utf16be_bom);
    let lehex: String = utf16le("contact victim.utf16hex@example.com")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Big-endian without a mark, in hex; a phone number in UTF-16LE base64.
    let behex: String = "contact victim.utf16behex@example.com"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .map(|b| format!("{b:02X}"))
        .collect();
    let phone64 = b64.encode(utf16le("WA 081234567893"));
    let body = json!({"status": true, "data": {
        "a": le64, "b": be64, "c": lehex, "d": behex, "e": phone64,
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/wallet/attack-next-utf16",
        "200 OK",
        &body,
        &[
            &le64[..24],
            &be64[..24],
            &lehex[..32],
            &behex[..32],
            &phone64[..20],
        ],
        "UTF-16 text in tokens",
    )
    .await;
    app.stop().await;
}

/// arrays are read as text only when they are eight or more integer codes. An email
/// as an array of one-character strings, a phone number as an array of its digits, or in
/// string chunks, passes.
#[tokio::test]
async fn values_spelled_across_array_elements_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let chars: Vec<String> = "victim.chars@example.com"
        .chars()
        .map(String::from)
        .collect();
    let body = json!({"status": true, "data": {
        "chars": chars,
        "digits": [0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 4],
        "parts": ["0812", "3456", "7895"],
        "chunks": ["vic", "tim.chunk", "@exa", "mple.com"],
        "mixed": ["+62", "812", 3, 4, 5, 6, "7897"],
        "amounts": [150000, 2500, 10, 20, 30, 40, 50, 60],
        "currencies": ["IDR", "SGD"],
        "statuses": ["PENDING", "SUCCESS"],
    }})
    .to_string();
    let out = read_everywhere(
        &app,
        &bodies,
        "/api/v1/transaction/attack-next-arrays",
        "200 OK",
        &body,
        &[
            r#""v","i","c","t","i","m",".""#,
            "0,8,1,2,3,4,5,6,7,8,9,4",
            r#""0812","3456","7895""#,
            "tim.chunk",
            "7897",
        ],
        "values spelled across array elements",
    )
    .await;
    // No false positive: arrays whose joined text holds no shape pass unchanged.
    assert!(
        out.contains(r#"["IDR","SGD"]"#)
            && out.contains(r#"["PENDING","SUCCESS"]"#)
            && out.contains("[150000,2500,10,20,30,40,50,60]"),
        "{out}"
    );
    app.stop().await;
}

/// digits whose NFKC form carries punctuation (parenthesized `⑴` → `(1)`, digit full
/// stops `⒏` → `8.`, `🄀` → `0.`) and one-digit groups (`0.8.1.2…`, `(0)(8)(1)…`) pass: the
/// group readers need groups of two or more digits.
#[tokio::test]
async fn one_digit_groups_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "a": "0.8.1.2.3.4.5.6.7.8.9.6",
        "b": "(0)(8)(1)(2)(3)(4)(5)(6)(7)(8)(9)(7)",
        "c": "\u{1F100}\u{248F}\u{2488}\u{2489}\u{248A}\u{248B}\u{248C}\u{248D}\u{248E}\u{248F}\u{2490}\u{2490}",
        "d": "\u{2474}\u{2475}\u{2476}\u{2477}\u{2478}\u{2479}\u{247A}\u{247B}\u{247C}\u{247D}\u{2474}",
        "e": "0/8/1/2/3/4/5/6/7/8/9/8",
        "f": "[0] [8] [1] [2] [3] [4] [5] [6] [7] [8] [9] [9]",
        "version": "10.0.19045.3693",
    }})
    .to_string();
    let out = read_everywhere(
        &app,
        &bodies,
        "/api/v1/beneficiary/attack-next-digits",
        "200 OK",
        &body,
        &[
            "0.8.1.2.3.4.5.6.7.8.9.6",
            "(0)(8)(1)(2)(3)",
            "\u{1F100}\u{248F}\u{2488}",
            "\u{2474}\u{2475}\u{2476}",
            "0/8/1/2/3/4",
            "[0] [8] [1] [2]",
        ],
        "one-digit groups",
    )
    .await;
    // No false positive: a version's one-digit group is no number spelled digit by digit.
    assert!(out.contains("10.0.19045.3693"), "{out}");
    app.stop().await;
}

/// base64 and base32 tokens are read only from 16 characters (padding not counted),
/// so a value of 7 to 11 bytes — an 11-digit mobile number (`08123456789`), a 10-digit one, a
/// US SSN as printed (`123-45-6789`), a 7-digit ID — passes base64-encoded (padded or
/// not), and such a short token is not a "reading cut at a bound" either.
#[tokio::test]
async fn short_encoded_numbers_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let hex = |s: &str| -> String { s.bytes().map(|b| format!("{b:02x}")).collect() };
    let tokens = [
        b64.encode("08123456789"),
        b64.encode("0812345678"),
        b64.encode("123-45-6789"),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode("1234567"),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("7654321"),
        data_encoding::BASE32_NOPAD.encode(b"2345678"),
        data_encoding::BASE32.encode(b"08123456780"),
        hex("3456789"),
    ];
    let items: Vec<_> = tokens.iter().map(|t| json!({"ref": t})).collect();
    let body = json!({"status": true, "data": {"items": items}}).to_string();
    let seeds: Vec<&str> = tokens.iter().map(|t| t.trim_end_matches('=')).collect();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-next-short-tokens",
        "200 OK",
        &body,
        &seeds,
        "short encoded numbers",
    )
    .await;
    app.stop().await;
}
