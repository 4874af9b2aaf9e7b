//! Independent attack (round 21g) on the merged issue-21 work: closed grammars for declared
//! kinds, derived key vocabulary, pairs in structured text, the byte-reading table and objects
//! read joined. A hostile upstream on loopback, the shipped field policy, HTTP/1.1 and h2c, GET
//! (miss, hit) and HEAD (`read_everywhere`). Every test here is `#[ignore = "finding 21g-N: …"]`
//! and fails on the tree it was written against.

use serde_json::{json, Value};

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// Every digit of every string and number leaf below `v`, in document order: what a client that
/// joins a value's pieces reads, whatever containers and `null`s stand between them.
fn digits_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.chars().filter(char::is_ascii_digit).collect(),
        Value::Number(n) => n.to_string().chars().filter(char::is_ascii_digit).collect(),
        Value::Array(a) => a.iter().map(digits_of).collect(),
        Value::Object(o) => o.values().map(digits_of).collect(),
        _ => String::new(),
    }
}

/// Finding 21g-1 (enforce, and role words on report): the `id` grammar bounds digit *runs*
/// (≤ 6) and letter runs (≤ 3), not the number a body spells, so one letter between runs
/// carries a phone, NIK, card or SSN through a declared `id` on the enforced customer detail:
/// `cus_081234x567890`, `nik-317300X000000X1234`, `cus_4111x111111x1111x111`, `ssn_123x45x6789`;
/// a two-word lower-case prefix carries a full name beside a DOB or phone stub
/// (`budi-hartono_170590`, `budi:hartono:081234`), and a base62 body a mixed-case name with a
/// digit between syllables (`cus_Ali1Vic2Tim3Son4`). The README states "no phone, NIK, card or
/// SSN … glued to letters or not … no mixed-case name is an id". The same values are kept as
/// ids under a role word on a `report` family (`payer`, `sender_info.full`).
#[tokio::test]
async fn ids_spelling_a_number_between_letters_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let ids = [
        "cus_081234x567890",
        "nik-317300X000000X1234",
        "cus_4111x111111x1111x111",
        "ssn_123x45x6789",
        "budi-hartono_170590",
        "budi:hartono:081234",
        "cus_Ali1Vic2Tim3Son4",
    ];
    let body = json!({"status": true, "data": {
        "customer_id": customer_id(0x21a_001),
        "org_id": ids[0],
        "created_by": ids[1],
        "organization_reference_id": ids[2],
        "payin_sender_id_list": [ids[3], ids[4], ids[5], ids[6]],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21a_001)),
        "200 OK",
        &body,
        &ids,
        "declared ids (enforce detail)",
    )
    .await;
    for (i, id) in ids.iter().enumerate() {
        let body = json!({"status": true, "data": {
            "payer": id, "sender_info": {"full": id}, "amount": "150000.00",
        }})
        .to_string();
        read_everywhere(
            &app,
            &bodies,
            &format!("/api/v1/payin/attack-21g-role-id-{i}"),
            "200 OK",
            &body,
            &[id],
            "id shapes under a role word (report)",
        )
        .await;
    }
    app.stop().await;
}

/// Finding 21g-3 (report): a number is judged by each digit run of a numeral and by its
/// integer part, never by the digits across its decimal point. A Luhn-valid card
/// (`4111111111.111111`) and a NIK (`317300000.0001234`, `3173000000.001234`) written as
/// amounts — strings or JSON numbers — reach the client, under a neutral key and inside a
/// role's value (where an `amount` is kept by design). The card detector's row says it fires
/// on "a numeral one of whose digit runs they are" with no exception.
#[tokio::test]
async fn numbers_split_by_a_decimal_point_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let raw = r#"{"status": true, "data": {
        "amt": "4111111111.111111", "fx": 4111111111.111111,
        "ref_value": "317300000.0001234", "x": 3173000000.001234,
        "payer": {"amount": "4111111111.111111", "fee": 317300000.0001234}
    }}"#;
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-21g-decimal",
        "200 OK",
        raw,
        &[
            "4111111111.111111",
            "317300000.0001234",
            "3173000000.001234",
        ],
        "numbers split by a decimal point",
    )
    .await;
    app.stop().await;
}

/// Finding 21g-3, the part kept as stated residual: a phone (`81234567.890`, 11 digits) split
/// as an amount with a fraction of 2 to 4 digits. That is an amount's shape (two decimals, the
/// dinars' three, a four-place price or rate) after up to 10 integer digits, which the
/// detectors never read as a number (`amounts_with_short_fractions_never_fire`); the digits
/// across the point are read together from a fraction of five digits on (README, "Numbers
/// split by a decimal point").
#[tokio::test]
#[ignore = "stated residual (README): a fraction of 2 to 4 digits is an amount's shape, so an 11-digit phone written 81234567.890 passes"]
async fn phone_split_as_a_short_fraction_amount() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let raw = r#"{"status": true, "data": {"rate": "81234567.890"}}"#;
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-21g-decimal-short",
        "200 OK",
        raw,
        &["81234567.890"],
        "a phone split as a three-decimal amount",
    )
    .await;
    app.stop().await;
}

/// Finding 21g-4 (report): the joined reading of arrays and objects stops at every container
/// boundary and at `true`/`false`/`null`, so a phone or NIK split into pieces passes when a
/// `null` stands between the pieces, when each piece sits in its own one-member object or
/// array, or in the members of sibling objects, or when a decoy member that a detector masks
/// on its own (an email) stands between them (a declared member does the same). A client reassembles the pieces as easily as it
/// does `["0812","3456","7890"]` (which is masked).
#[tokio::test]
async fn values_split_across_containers_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let cases = [
        json!(["0812", null, "3456", null, "7890"]),
        json!(["0812", true, "3456", false, "7890"]),
        json!({"a": "0812", "b": {}, "c": "3456", "d": [], "e": "7890"}),
        json!([{"d": "0812"}, {"d": "3456"}, {"d": "7890"}]),
        json!([["0812"], ["3456"], ["7890"]]),
        json!({"a": {"x": "0812"}, "b": {"y": "3456"}, "c": {"z": "7890"}}),
        json!({"p1": {"v": "3173", "k": null}, "p2": {"v": "0000"}, "p3": {"v": "0000"}, "p4": {"v": "1234"}}),
        // A decoy member that a detector masks on its own breaks the join around it.
        json!({"a": "0812", "b": "decoy@example.com", "c": "3456", "d": "decoy@example.com", "e": "7890"}),
    ];
    for (i, case) in cases.iter().enumerate() {
        let body = json!({"status": true, "data": {"parts": case}}).to_string();
        let got = read_everywhere(
            &app,
            &bodies,
            &format!("/api/v1/payin/attack-21g-split-{i}"),
            "200 OK",
            &body,
            &[],
            "split across containers",
        )
        .await;
        let v: Value = serde_json::from_str(&got).unwrap();
        let joined = digits_of(&v["data"]["parts"]);
        assert!(
            !joined.contains("081234567890") && !joined.contains("3173000000001234"),
            "case {i}: the pieces reached the client: {got}"
        );
    }
    app.stop().await;
}

/// Finding 21g-5 (report): a role word labels the name beside it only in the forms the pair
/// reader lists (`payer=…`, `"payer": …`, `<payer>…</payer>`, CSV, `Payer: …`). Other ways text
/// pairs a label with its value pass: an HTML table row or definition list, a markdown table,
/// EDN/Clojure maps, Lisp pairs, `payer -> …`, `Payer - …`, a colon look-alike (`∶` U+2236), a
/// TOML section, the party segments of EDI (X12 `N1*PE*…`, EDIFACT `NAD+PE+++…`) and SWIFT
/// MT103's field tag `:59:`. The same forms with a key word (`Name`) are masked by the
/// mentions rule; role words were left out of it.
#[tokio::test]
async fn role_labels_in_other_text_forms_mark_their_value() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let texts = [
        "<tr><td>Payer</td><td>Alice Victimsona</td></tr>",
        "<dl><dt>Beneficiary</dt><dd>Alice Victimsonb</dd></dl>",
        "| Payer | Alice Victimsonc |",
        "{:payer \"Alice Victimsond\", :amount 100}",
        "(payer . \"Alice Victimsone\")",
        "payer -> Alice Victimsonf",
        "Recipient - Alice Victimsong",
        "Payer\u{2236} Alice Victimsonh",
        "[payer]\nfull = \"Alice Victimsoni\"",
        "N1*PE*ALICE VICTIMSONJ~",
        "NAD+PE+++ALICE VICTIMSONK'",
        ":59:/0123\nALICE VICTIMSONL",
        "Pengirim - Budi Hartonom",
        "payer|Alice Victimsonn",
        "ORDERING CUSTOMER ALICE VICTIMSONO",
        "BY ORDER OF ALICE VICTIMSONP",
    ];
    for (i, t) in texts.iter().enumerate() {
        let body = json!({"status": true, "data": {"note": t, "amount": "150000.00"}}).to_string();
        let seed = t
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| {
                w.len() >= 8
                    && (w.starts_with("Victimson")
                        || w.starts_with("VICTIMSON")
                        || w.starts_with("Hartono"))
            })
            .unwrap();
        read_everywhere(
            &app,
            &bodies,
            &format!("/api/v1/payin/attack-21g-label-{i}"),
            "200 OK",
            &body,
            &[seed],
            "role label in text",
        )
        .await;
    }
    app.stop().await;
}

/// Finding 21g-6 (report): the vocabulary is English and Indonesian, while paycombat's payers
/// write keys and labels in the languages of its markets. Malay `telefon`/`no_telefon` (the
/// `telepon` spelling is listed, Malaysia's is not), Spanish `nombre`, `apellido`,
/// `direccion`, `fecha_nacimiento`, `cedula`, `curp`; Vietnamese `ho_ten`, `dia_chi`,
/// `ngay_sinh`, `cccd`; Tagalog `pangalan`, `tirahan`, `kaarawan`; transliterated Thai
/// `chue`, `thi_yu`, `wan_koet` all copy a name, address or birth date. Keys in the market's own
/// script (`ชื่อ`, `họ_tên`, `địa_chỉ`) are recognised as data — written `<key>#N` — yet the value
/// under them is copied; and labels in text (`Nombre: …`, `Họ tên: …`, `ngày sinh: …`) pass.
#[tokio::test]
async fn market_language_keys_and_labels_are_key_words() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let pairs = [
        ("telefon", "Telefonsona Budi"),
        ("nombre", "Alice Nombresonb"),
        ("apellido", "Apellidosonc"),
        ("direccion", "Calle Direccionsond 12, Madrid"),
        ("fecha_nacimiento", "17/05/1990 Fechasone"),
        ("cedula", "Cedulasonf A"),
        ("ho_ten", "Nguyen Hotensong"),
        ("dia_chi", "12 Le Loi Diachisonh"),
        ("ngay_sinh", "1990 Ngaysinhsoni"),
        ("pangalan", "Juan Pangalansonj"),
        ("tirahan", "Blk 12 Tirahansonk"),
        ("kaarawan", "Kaarawansonl 1990"),
        ("chue", "Somchai Chuesonm"),
        ("thi_yu", "Soi Thiyusonn 11"),
        ("ชื่อ", "Somchai Thaiscripto"),
        ("họ_tên", "Nguyen Vietscriptp"),
        ("địa_chỉ", "Le Loi Vietscriptq"),
    ];
    let mut data = serde_json::Map::new();
    for (k, v) in pairs {
        data.insert(k.to_owned(), json!(v));
    }
    data.insert("note1".into(), json!("Nombre: Alice Labelsonr"));
    data.insert("note2".into(), json!("Họ tên: Nguyen Labelsons"));
    data.insert("note3".into(), json!("ngày sinh: 17/05/1990 Labelsont"));
    let seeds: Vec<String> = pairs
        .iter()
        .map(|(_, v)| {
            v.split(' ')
                .find(|w| w.contains("son") || w.contains("script"))
                .unwrap()
                .to_owned()
        })
        .chain(["Labelsonr", "Labelsons", "Labelsont"].map(str::to_owned))
        .collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    // One member per answer: a key word found in one member must not mask the others.
    for (i, (k, v)) in data.iter().enumerate() {
        let body = json!({"status": true, "data": {k: v}}).to_string();
        read_everywhere(
            &app,
            &bodies,
            &format!("/api/v1/payin/attack-21g-lang-{i}"),
            "200 OK",
            &body,
            &seeds,
            "market-language key or label",
        )
        .await;
    }
    app.stop().await;
}

/// Finding 21g-7 (report): the byte-reading table knows Adobe Ascii85 only between `<~ ~>`,
/// and token decodings do not run after NFKC (a full-width base64 token passes).
/// Python's `base64.a85encode` writes no delimiters by default, `b85encode` (RFC 1924, also
/// git's and Mercurial's) another alphabet, ZeroMQ's Z85 a third; uuencode (`binascii.b2a_uu`,
/// mail and Go's `encoding/ascii85` too writes no delimiters) is a fourth. Each token decodes
/// to `alice.victim@example.com 081234567890`.
#[tokio::test]
async fn other_85_and_uu_codings_are_read() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let tokens = [
        // base64.a85encode(b"alice.victim@example.com 081234567890")
        r"@;KXfAM/.?@ruF%5\51KD/a<&/n8g:+>>c01,CaE2E*TU0E",
        // base64.b85encode(…) (RFC 1924 alphabet)
        "VQgt*WiEDUV{~b4KxKGgZE$R5E@N+PATT&FGBY$aHa9pqFa",
        // binascii.b2a_uu(…)
        "E86QI8V4N=FEC=&EM0&5X86UP;&4N8V]M(# X,3(S-#4V-S@Y,   ",
        // base64 of the same, in full-width letters: NFKC (which the readings apply for
        // digits) gives the ASCII token, but no token decoding runs after it
        "ＹＷｘｐＹ２ＵｕｄｍｌｊｄＧｌｔＱＧＶ４ＹＷ１ｗｂＧＵｕＹ２９ｔＩＤＡ４ＭＴＩｚＮＤＵ２Ｎｚｇ５ＭＡ＝＝",
    ];
    let body = json!({"status": true, "data": {
        "blob": tokens[0], "payload": tokens[1], "record": tokens[2], "wide": tokens[3],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-21g-85",
        "200 OK",
        &body,
        // Prefixes without the backslash JSON would escape.
        &[
            &tokens[0][..14],
            &tokens[1][..14],
            &tokens[2][..14],
            tokens[3],
        ],
        "85 and uu codings",
    )
    .await;
    app.stop().await;
}

/// Finding 21g-1 (enforce, `url`): a declared `url` is judged piece by piece, and a piece
/// with 7+ digits glued to letters is a number — but a number split across pieces is not
/// joined: `/0812x3456x7890` (letters between runs), `/c/081234/567890` and
/// `/0812/a/3456/a/7890` (segments), `:8123/456789/0` (port and path), host labels
/// `a0812.b3456.c7890`, and a name with an address in the path (`/budi-hartono/jalan-melati-42`,
/// conceded for a *name* only) reach the client as the customer's `webhook_url`.
#[tokio::test]
async fn declared_url_spells_numbers_across_pieces() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let urls = [
        "https://hooks.example.com/0812x3456x7890",
        "https://hooks.example.com/c/081234/567890",
        "https://hooks.example.com/0812/a/3456/a/7890",
        "https://hooks.example.com:8123/456789/0",
        "https://a0812.b3456.c7890.example.com/",
        "https://hooks.example.com/budi-hartono/jalan-melati-42",
    ];
    for (i, url) in urls.iter().enumerate() {
        let id = customer_id(0x21a_100 + i as u64);
        let body =
            json!({"status": true, "data": {"customer_id": id, "webhook_url": url}}).to_string();
        read_everywhere(
            &app,
            &bodies,
            &detail(&id),
            "200 OK",
            &body,
            &[url],
            "declared url (enforce detail)",
        )
        .await;
    }
    app.stop().await;
}

/// Finding 21g-1 (enforce, `timestamp`): the `timestamp` grammar checks RFC 3339's form but
/// bounds neither the year nor the fraction, so a declared `created_at` carries free digits
/// paycombat never writes (its timestamps are this century, in milliseconds): a 9-digit
/// fraction holds an SSN (`….123456789Z`), the year a phone's or NIK's leading digits
/// (`0812-…`, `3173-…`), the offset more (`+08:12`). The header builder bounds its dates by the
/// gateway's clock; the body's declared dates are not.
#[tokio::test]
async fn declared_timestamps_carry_numbers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let stamps = [
        "2024-12-06T03:53:52.123456789Z",
        "0812-03-04T05:06:07.890Z",
        "3173-12-30T00:00:00.001234Z",
        "2024-12-06T03:53:52.779+08:12",
    ];
    let id = customer_id(0x21a_200);
    let body = json!({"status": true, "data": {
        "customer_id": id, "created_at": stamps[0], "updated_at": stamps[1],
        "gca_activated_at": stamps[2],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        &detail(&id),
        "200 OK",
        &body,
        &stamps[..3],
        "declared timestamps (enforce detail)",
    )
    .await;
    let id = customer_id(0x21a_201);
    let body =
        json!({"status": true, "data": {"customer_id": id, "created_at": stamps[3]}}).to_string();
    read_everywhere(
        &app,
        &bodies,
        &detail(&id),
        "200 OK",
        &body,
        &stamps[3..],
        "declared timestamp offset (enforce detail)",
    )
    .await;
    app.stop().await;
}

/// Finding 21g-8 (report): online identifiers and other personal data outside the vocabulary's
/// groups. An IP address (v4 or v6) is exempt from the digit detectors by shape and no key word
/// names it (`source_ip`, `remote_ip`, `x_forwarded_for`, `ip`; only `client_ip` is caught, by
/// the role word); device and advertising ids (`device_id`, `idfa`, `gaid`: UUIDs, kept as ids);
/// next of kin (`next_of_kin`, `nok`); year and place of birth (`yob`, `pob`).
#[tokio::test]
async fn online_identifiers_and_birth_details_are_personal() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let pairs = [
        ("source_ip", "203.0.113.45"),
        ("x_forwarded_for", "198.51.100.77"),
        ("ip", "2001:db8:85a3::8a2e:370:7334"),
        ("remote_ip", "2001:db8::7335"),
        ("idfa", "6D92078A-8246-4BA4-AE5B-76104861E7DC"),
        ("gaid", "38400000-8cf0-11bd-b23e-10b96e40000d"),
        ("next_of_kin", "Siti Kinaminah"),
        ("yob", "1990"),
        ("pob", "Surabaya"),
    ];
    for (i, (k, v)) in pairs.iter().enumerate() {
        let body = json!({"status": true, "data": {*k: v}}).to_string();
        read_everywhere(
            &app,
            &bodies,
            &format!("/api/v1/payin/attack-21g-online-{i}"),
            "200 OK",
            &body,
            &[v],
            "online identifier",
        )
        .await;
    }
    app.stop().await;
}

/// Finding 21g-9 (report): digits are read in every script and through every separator, but
/// not as words. A phone or NIK spelled out — how speech-to-text writes a call note, how an
/// IVR transcript or a "confirm your number" echo reads — passes in English, Indonesian and
/// Spanish, and in digits with words mixed in.
#[tokio::test]
async fn numbers_spelled_in_words_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let texts = [
        "zero eight one two three four five six seven eight nine zero",
        "nol delapan satu dua tiga empat lima enam tujuh delapan sembilan nol",
        "cero ocho uno dos tres cuatro cinco seis siete ocho nueve cero",
        "0812 three 456 seven 890",
    ];
    for (i, t) in texts.iter().enumerate() {
        let body = json!({"status": true, "data": {"note": t}}).to_string();
        read_everywhere(
            &app,
            &bodies,
            &format!("/api/v1/payin/attack-21g-words-{i}"),
            "200 OK",
            &body,
            &[t],
            "number words",
        )
        .await;
    }
    app.stop().await;
}
