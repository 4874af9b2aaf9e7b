//! Findings on `report` routes about readings: other wrappings (deflate, Latin-1, Ascii85),
//! Unicode tag characters, JSON behind a prefix, values split across object members, digits
//! inside time, version, IPv4 and date shapes.

use serde_json::json;

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// Finding 6: encoded text is read when it is base64/base32/hex of UTF-8 or UTF-16, and a base64
/// token is inflated when it holds a gzip or zlib stream. Other common wrappings pass unread:
/// base64 of a **raw deflate** stream (what .NET's `DeflateStream` and Java's
/// `Inflater(nowrap)` write), a gzip or zlib stream written as **hex**, base64 or hex of
/// **8-bit legacy text** (Latin-1 / Windows-1252: one `ë` makes it invalid UTF-8, so the phone
/// and email beside it are never looked at), and Adobe **Ascii85** (`<~…~>`, Python's
/// `base64.a85decode`). Each token below decodes to an email and/or a phone number.
#[tokio::test]
async fn other_common_wrappings_are_read() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let tokens = [
        // raw deflate of "alice.victim@example.com 081234567890", base64
        "S8zJTE7VK8tMLsnMdUitSMwtyEnVS87PVTCwMDQyNjE1M7ewNAAA",
        // zlib, hex
        "789c4bccc94c4ed52bcb4c2ec9cc7548ad48cc2dc849d54bcecf5530b030343236313533b7b0340000ff080be7",
        // gzip, hex
        "1f8b08004db4156b02ff4bccc94c4ed52bcb4c2ec9cc7548ad48cc2dc849d54bcecf5530b030343236313533b7b03400003714aeb225000000",
        // cp1252 "Zoë Müller, Jalan Melati 42, 081234567890", base64
        "Wm/rIE38bGxlciwgSmFsYW4gTWVsYXRpIDQyLCAwODEyMzQ1Njc4OTA=",
        // latin-1 "Zoë Müller alice@example.com", hex
        "5a6feb204dfc6c6c657220616c696365406578616d706c652e636f6d",
        // Ascii85 (Adobe) of "alice.victim@example.com 081234567890"
        "<~@;KXfAM/.?@ruF%5\\51KD/a<&/n8g:+>>c01,CaE2E*TU0E~>",
        // MessagePack, o2Fub0FsaWNlIFZpY3RpbXNvbmFleBhhbGljZS52aWN0aW1AZXhhbXBsZS5jb21hcGwwODEyMzQ1Njc4OTA= (base64) and protobuf (hex) records of {name, email, phone}
        "g6Fur0FsaWNlIFZpY3RpbXNvbqFluGFsaWNlLnZpY3RpbUBleGFtcGxlLmNvbaFwrDA4MTIzNDU2Nzg5MA==",
        "o2Fub0FsaWNlIFZpY3RpbXNvbmFleBhhbGljZS52aWN0aW1AZXhhbXBsZS5jb21hcGwwODEyMzQ1Njc4OTA=",
        "0a0f416c6963652056696374696d736f6e1218616c6963652e76696374696d406578616d706c652e636f6d1a0c303831323334353637383930",
    ];
    let body = json!({"status": true, "data": {
        "blob": tokens[0], "trace": tokens[1], "ctx": tokens[2],
        "ref_data": tokens[3], "extra": tokens[4], "payload": tokens[5],
        "record": tokens[6], "cbor": tokens[7], "pb": tokens[8],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-wrappings",
        "200 OK",
        &body,
        &tokens,
        "other wrappings",
    )
    .await;
    app.stop().await;
}

/// Unicode tag characters (U+E0020..=U+E007E) mirror printable ASCII one to one (`tag('a')` is
/// U+E0061): "ASCII smuggling".
fn tags(s: &str) -> String {
    s.chars()
        .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
        .collect()
}

/// Finding 7: the masker removes invisible (default-ignorable, format) characters before it
/// reads a key or a value, instead of reading what they spell. Tag characters spell ASCII, so a
/// phone number, an email or a name written in them passes: appended to a string on a `report`
/// family (`"ok"` + tags), and inside a key a named rule matches — on the `enforce` detail too,
/// where such a key is copied in upstream's spelling with the tag characters in it (the README
/// says only upstream's case and separators are left).
#[tokio::test]
async fn text_spelled_in_tag_characters_never_passes() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let phone = tags("081234567890");
    let email = tags("alice.victim@example.com");
    let name = tags("Alice Tagvictim");
    let detail_body = json!({"status": true, "data": {
        "customer_id": customer_id(0x21f_007),
        format!("email{email}"): "x@gmail.com",
        format!("first_name{name}"): "x",
        format!("phone_number{phone}"): "x",
    }})
    .to_string();
    let seeds = [phone.as_str(), email.as_str(), name.as_str()];
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21f_007)),
        "200 OK",
        &detail_body,
        &seeds,
        "tag characters in rule-matched keys (enforce)",
    )
    .await;
    let payin_body = json!({"status": true, "data": {
        "note": format!("ok{email}"),
        "amount": format!("150000{phone}"),
        "status_text": format!("PAID{name}"),
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-tags",
        "200 OK",
        &payin_body,
        &seeds,
        "tag characters in values (report)",
    )
    .await;
    app.stop().await;
}

/// Finding 9: a string holding a JSON document is masked as a document only when the document
/// starts it (after white space and invisible characters). Behind the prefixes that clients
/// strip before parsing — Angular's `)]}',\n` (stripped by `$http` itself), `while(1);` and
/// `for(;;);` (anti-hijacking), a JSONP callback `cb(…)`, an SSE `data: ` line — the document
/// is only text, so the role rule (`{"payer": "Alice …"}`, masked when the same document
/// stands alone in the string) never applies.
#[tokio::test]
async fn json_behind_a_prefix_clients_strip_is_masked_as_json() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let doc = |n: &str| json!({"payer": format!("Alice {n}")}).to_string();
    let body = json!({"status": true, "data": {
        "alone": doc("Prefalone"),
        "angular": format!(")]}}',\n{}", doc("Prefangular")),
        "google": format!("while(1);{}", doc("Prefwhile")),
        "facebook": format!("for(;;);{}", doc("Preffor")),
        "jsonp": format!("cb({})", doc("Prefjsonp")),
        "sse": format!("data: {}", doc("Prefsse")),
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-prefixed-json",
        "200 OK",
        &body,
        &[
            "Prefalone",
            "Prefangular",
            "Prefwhile",
            "Preffor",
            "Prefjsonp",
            "Prefsse",
        ],
        "json behind prefixes",
    )
    .await;
    app.stop().await;
}

/// Finding 11: an undeclared array of scalars is read joined ("nothing tells a list of values
/// from one value split into pieces"), but an object of scalars is not: an email split into its
/// local part and domain, a phone number split into country code, area code and subscriber
/// number (how phone libraries serialise one), or into three bare groups, passes on a `report`
/// family.
#[tokio::test]
async fn values_split_across_object_members_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "contact_point": {"local": "alice.splitobj", "host": "example.com"},
        "route": {"local_part": "budi.splitobj2", "domain": "example.com"},
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-split-object",
        "200 OK",
        &body,
        &["splitobj"],
        "values split across object members",
    )
    .await;
    app.stop().await;
}

/// The numbers of finding 11: a phone split across an object's members as digit strings. An
/// object's short numbers side by side are also its amounts (`{"amount": "150000", "fee":
/// "2500"}` must come back whole), so they are joined in the number reading and judged by the
/// mobile-number and NIK grammars, not by the digit-run detector.
#[tokio::test]
async fn numbers_split_across_object_members_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "line": {"country_code": "62", "area_code": "812", "subscriber": "345678"},
        "parts": {"a": "0812", "b": "9988", "c": "7766"},
    }})
    .to_string();
    let out = read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-split-object-numbers",
        "200 OK",
        &body,
        &[],
        "numbers split across object members",
    )
    .await;
    for piece in ["\"345678\"", "\"9988\""] {
        assert!(!out.contains(piece), "a split phone passed: {out}");
    }
    app.stop().await;
}

/// Finding 13: digit detectors never fire on "dates and times", and a time's fraction of a
/// second is read as part of the time however long it is. On a `report` family a phone or NIK
/// written as the fraction (`03:53:52.081234567890`, `2024-12-06 03:53:52.3173000000001234`,
/// with a decimal comma too) passes. The same value in a declared `timestamp` on an `enforce`
/// route is masked (it does not fit the kind): the undeclared reading is the weaker one.
#[tokio::test]
async fn identifiers_in_a_time_fraction_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "settled_time": "03:53:52.081277665544",
        "created_at": "2024-12-06T03:53:52.3173000000004321Z",
        "posted": "2024-12-06 03:53:52,6281355667788",
        // Versions, IPv4 addresses and dates whose components are identifiers.
        "sdk": "v3.3173000000002468",
        "build": "10.0.3173000000003579",
        "client_ip": "192.168.081266554433",
        "valid_until": "17/05/081299001122",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-time-fraction",
        "200 OK",
        &body,
        &[
            "081277665544",
            "3173000000004321",
            "6281355667788",
            "3173000000002468",
            "3173000000003579",
            "081266554433",
            "081299001122",
        ],
        "identifiers in a time fraction",
    )
    .await;
    app.stop().await;
}
