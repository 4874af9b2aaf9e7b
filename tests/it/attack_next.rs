//! Independent attack (round 21f) on issue 21's promise: every JSON leaf a client receives is
//! one the gateway wrote or verified. A hostile upstream on loopback, the shipped field policy,
//! HTTP/1.1 and h2c, GET (miss, hit) and HEAD (`read_everywhere`).
//!
//! Tests marked `#[ignore = "finding N: …"]` state a class that still reaches a client.

use serde_json::json;

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// Finding 1: on the `enforce` customer routes a **declared** leaf is checked only against its
/// kind's grammar and the `email`/`iban` detectors, and the shipped kinds admit identity
/// numbers: `id` takes a phone, NIK or card number behind one letter and an SSN behind a
/// letter prefix, `url` takes a phone or NIK
/// as a path segment, `count` takes 9 digits (a US SSN, a DOB as YYYYMMDD), `timestamp` a date
/// of birth. None of this is in the README's stated residual risk of a declaration (a name in
/// `code`/`field`/`url`).
#[tokio::test]
#[ignore = "finding 1: declared id/url/count/timestamp leaves on enforce routes carry ID, phone, card, SSN and DOB values"]
async fn enforce_declared_kinds_carry_identity_numbers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "customer_id": customer_id(0x21f_001),
        "org_id": "x081234567890",
        "created_by": "nik3173000000001234",
        "organization_reference_id": "4111111111111111x",
        "payin_sender_id_list": [
            "AB-123-45-6789", "alice_idvictim_17051990", "Budi-Idvictim-1", "jalan-idmelati-42-jakarta",
        ],
        "webhook_url": "https://hooks.example.com/6281299887766/3173000000005678",
        "created_at": "1990-05-17T00:00:00Z",
    }})
    .to_string();
    let seeds = [
        "081234567890",
        "3173000000001234",
        "4111111111111111",
        "123-45-6789",
        "6281299887766",
        "3173000000005678",
        "idvictim",
        "Idvictim",
        "idmelati",
    ];
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21f_001)),
        "200 OK",
        &body,
        &seeds,
        "declared kinds (detail)",
    )
    .await;
    app.stop().await;
}

/// Finding 2: the key-word vocabulary matches whole words, prefixes and suffixes of its
/// entries, but not the abbreviations payment and banking schemas write: `addr`
/// (`billing_addr1`), `nm` (`cust_nm`, `bene_nm`, `acc_nm`, `fullnm`), `brth`/`bdate` for a
/// birth date, `zipcd`. A full street address *with* numbers, a name and a date of birth pass
/// under them on a `report` family (the stated residual covers a neutral key only).
#[tokio::test]
#[ignore = "finding 2: abbreviated key words (addr, nm, bdate/brth, zipcd) are not key words on report routes"]
async fn abbreviated_key_words_are_key_words() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "addr": "Jl Abbraddr No 42 RT 03 RW 05 Jakarta 12345",
        "billing_addr1": "Jl Abbrbill 42",
        "cust_nm": "ALICE ABBRCUST",
        "bene_nm": "Budi Abbrbene",
        "acc_nm": "Citra Abbracc",
        "fullnm": "Dewi Abbrfull",
        "bdate": "1990-05-17",
        "brth_dt": "17/05/1991",
        "zipcd": "12345",
        "national_id_no": "B1234567",
        "id_card": "Abbridcard S123",
        "document_number": "Abbrdoc A12345",
        "id_num": "Abbridnum",
        "ic_no": "Abbric S123",
        "fin": "Abbrfin F123",
        "no_kp": "Abbrkp 900517",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-abbrev",
        "200 OK",
        &body,
        &[
            "Abbraddr",
            "Abbrbill",
            "ABBRCUST",
            "Abbrbene",
            "Abbracc",
            "Abbrfull",
            "1990-05-17",
            "17/05/1991",
            "B1234567",
            "Abbridcard",
            "Abbrdoc",
            "Abbridnum",
            "Abbric",
            "Abbrfin",
            "Abbrkp",
        ],
        "abbreviated key words",
    )
    .await;
    app.stop().await;
}

/// Finding 3: role words name the parties of a payment (`payer`, `sender`, `beneficiary`, …),
/// but not the ones ISO 20022 and SWIFT MT103 messages use — `debtor`, `creditor`,
/// `ultimate_debtor`, `remitter`, `orderer`/`ordering_customer` (field 50), `consignee`,
/// `bill_to`/`ship_to`, `signatory`, `applicant`, `principal`, `attn`. A person's name written
/// as a name (`Alice Victimson`, the shape the role-word check masks) passes under them.
#[tokio::test]
#[ignore = "finding 3: ISO 20022 / SWIFT party roles (debtor, creditor, remitter, orderer, consignee, bill_to…) are not role words"]
async fn payment_message_party_roles_are_role_words() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "debtor": "Alice Roledebtor",
        "creditor": {"nm": "Budi Rolecreditor"},
        "ultimate_debtor": "Citra Roleultimate",
        "remitter": "Dewi Roleremitter",
        "orderer": "Eka Roleorderer",
        "ordering_cust": "Fajar Roleordering",
        "consignee": "Gita Roleconsignee",
        "bill_to": "Hadi Rolebill, Jl Melati 42",
        "ship_to": "Jl Roleship 42",
        "signatory": "Indah Rolesign",
        "applicant": "Joko Roleapplicant",
        "attn": "Kiki Roleattn",
        // ISO 20022 as JSON: the creditor's `Nm` (the debtor's is masked).
        "Cdtr": {"Nm": "Lala Roleisocdtr"},
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-roles",
        "200 OK",
        &body,
        &[
            "Roledebtor",
            "Rolecreditor",
            "Roleultimate",
            "Roleremitter",
            "Roleorderer",
            "Roleordering",
            "Roleconsignee",
            "Rolebill",
            "Roleship",
            "Rolesign",
            "Roleapplicant",
            "Roleattn",
        ],
        "payment message party roles",
    )
    .await;
    app.stop().await;
}

/// Finding 4: on a `report` family a key that is no plain field name (a space, a comma: a
/// person's full name, an address) is copied to the client unless something *below* it was
/// masked — while `/admin/mask/undeclared` already lists the same key as `<key>`. A summary map
/// from payer to amount (`{"totals": {"Budi Hartono": 150000}}`) or to a flag passes whole.
/// The stated residual concedes only a *single-word* name used as a key.
#[tokio::test]
#[ignore = "finding 4: multi-word name and address keys with unmasked values pass on report routes"]
async fn name_keys_over_unmasked_values_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "totals": {"Budi Keytotals": 150000, "Citra Keyaddr, Jl Melati 42": 2},
        "notes": {"Alice Keynotes": 1},
        "by": {"DEWI KEYBY": "PAID"},
        "tags": {"eka.keytags": true},
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-name-keys",
        "200 OK",
        &body,
        &["Keytotals", "Keyaddr", "Keynotes", "KEYBY", "keytags"],
        "name keys over unmasked values",
    )
    .await;
    app.stop().await;
}

/// Finding 1 (counts): `count` admits 0..=999999999, so a 9-digit US SSN and an 8-digit date
/// of birth pass as `page`, `limit`, `total_items` on the `enforce` customer list.
#[tokio::test]
#[ignore = "finding 1: declared count leaves on enforce routes carry a 9-digit SSN and a YYYYMMDD date of birth"]
async fn enforce_declared_counts_carry_ssn_and_dob() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let list = json!({"status": true, "data": {
        "items": [], "page": 123456789, "limit": 19900517, "total_items": 78051120,
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/customer/customer",
        "200 OK",
        &list,
        &["123456789", "19900517", "78051120"],
        "declared counts (list)",
    )
    .await;
    app.stop().await;
}

/// Finding 5: arrays are transparent on declared paths, so a declared *scalar* (`page:count`,
/// `customer_id:id`, `status:flag`) also takes an array of values, each judged alone: a phone or
/// NIK spelled digit by digit or in groups across a declared count array, or across id tokens
/// (`"x0","x8",…`), reaches the client on the `enforce` routes. The `report` families read an
/// undeclared array of scalars as its joined text; a declared array is never joined.
#[tokio::test]
#[ignore = "finding 5: enforce declared scalars accept arrays whose elements spell a phone/NIK"]
async fn enforce_declared_scalars_spelled_across_arrays_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let list = json!({"status": true, "data": {
        "page": [0, 8, 1, 2, 9, 8, 7, 6, 5, 4, 3, 2],
        "limit": [812, 3456, 7890],
        "total_items": [3173, 0, 0, 4321],
        "items": [{
            "customer_id": customer_id(0x21f_005),
            "payin_sender_id_list": ["x0","x8","x1","x2","x5","x5","x5","x1","x2","x3","x4","x9"],
        }],
    }})
    .to_string();
    let body = read_everywhere(
        &app,
        &bodies,
        "/api/v1/customer/customer",
        "200 OK",
        &list,
        &[],
        "declared arrays (list)",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let joined = |x: &serde_json::Value| -> String {
        x.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| match e {
                        serde_json::Value::String(s) => s.trim_start_matches('x').to_owned(),
                        other => other.to_string(),
                    })
                    .collect::<String>()
            })
            .unwrap_or_default()
    };
    let d = &v["data"];
    for (what, got, seed) in [
        ("page", joined(&d["page"]), "081298765432"),
        ("limit", joined(&d["limit"]), "81234567890"),
        ("total_items", joined(&d["total_items"]), "3173004321"),
        (
            "payin_sender_id_list",
            joined(&d["items"][0]["payin_sender_id_list"]),
            "081255512349",
        ),
    ] {
        assert!(!got.contains(seed), "{what} spells {seed}: {body}");
    }
    app.stop().await;
}

/// Finding 6: encoded text is read when it is base64/base32/hex of UTF-8 or UTF-16, and a base64
/// token is inflated when it holds a gzip or zlib stream. Other common wrappings pass unread:
/// base64 of a **raw deflate** stream (what .NET's `DeflateStream` and Java's
/// `Inflater(nowrap)` write), a gzip or zlib stream written as **hex**, base64 or hex of
/// **8-bit legacy text** (Latin-1 / Windows-1252: one `ë` makes it invalid UTF-8, so the phone
/// and email beside it are never looked at), and Adobe **Ascii85** (`<~…~>`, Python's
/// `base64.a85decode`). Each token below decodes to an email and/or a phone number.
#[tokio::test]
#[ignore = "finding 6: raw-deflate base64, hex gzip/zlib, Latin-1 base64/hex and Ascii85 tokens are not read"]
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
#[ignore = "finding 7: Unicode tag characters (ASCII smuggling) in values and rule-matched keys pass, enforce included"]
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

/// Findings 1 and 5 on the `report` families: every one declares `status:flag|code|count`, and
/// a declared leaf skips the digit detectors, so `status` carries a 9-digit SSN as a count and
/// a phone spelled across an array (declared arrays are never read joined).
#[tokio::test]
#[ignore = "finding 1/5: the report families' declared status carries a 9-digit SSN or an array-spelled phone"]
async fn report_declared_status_carries_numbers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-status-count",
        "200 OK",
        &json!({"status": 123456789, "data": {}}).to_string(),
        &["123456789"],
        "declared status count (report)",
    )
    .await;
    let body = read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-status-array",
        "200 OK",
        &json!({"status": [0, 8, 1, 2, 9, 8, 7, 6, 5, 4, 3, 2], "data": {}}).to_string(),
        &[],
        "declared status array (report)",
    )
    .await;
    assert!(
        !body.contains("[0,8,1,2,9,8,7,6,5,4,3,2]"),
        "a phone spelled across the declared status: {body}"
    );
    app.stop().await;
}

/// Finding 8: under a role word the gateway masks "a string written as a person's name — two to
/// six words of letters, each starting with a capital". Names as payment systems write them
/// fall outside that grammar and pass inside a role's value: surname first with a comma (bank
/// statements), lower-case particles (`bin`, `binti`, `van der`: most Malay/Indonesian men's
/// names), academic titles after a comma (`S.H.`, Indonesia), words joined by NBSP, `+`,
/// `%20`, `_` or `.` (a form or URL encoder's spelling of the same name), and CJK names. The
/// stated residual concedes only a lower-case or one-word name.
#[tokio::test]
#[ignore = "finding 8: person names outside the capitalised-words grammar pass under role words"]
async fn names_as_payment_systems_write_them_never_pass_under_a_role() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let names = [
        "Rolename, Alice",
        "Muhammad bin Rolebin",
        "Siti binti Rolebinti",
        "Alice van der Rolevan",
        "Alice Roletitle, S.H.",
        "Alice\u{a0}Rolenbsp",
        "Alice+Roleplus",
        "Alice%20Rolepct",
        "Alice_Roleunder",
        "Alice.Roledot",
        "李小龍",
    ];
    let body = json!({"status": true, "data": {
        "payer": {"display": names},
        "sender_info": {"a": names[0], "b": names[1], "c": names[5], "d": names[7], "e": names[10]},
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-role-names",
        "200 OK",
        &body,
        &[
            "Rolename",
            "Rolebin",
            "Rolebinti",
            "Rolevan",
            "Roletitle",
            "Rolenbsp",
            "Roleplus",
            "Rolepct",
            "Roleunder",
            "Roledot",
            "李小龍",
        ],
        "names under role words",
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
#[ignore = "finding 9: JSON behind an anti-hijacking/JSONP/SSE prefix inside a string is not masked as JSON"]
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

/// Finding 10: in text, a role word labels a name only as a clause label (`Payer: Alice …`). The
/// same role as a key inside structured text — a query string (`payer=Alice+…`, the `+` and
/// `%20` spellings), `key=value`, XML (`<payer>…</payer>`), a CSV header, a Python repr
/// (`{'payer': '…'}`), SQL (`beneficiary='…'`) — is not read, while a key word in the same
/// shapes (`first_name=Alice`) is.
#[tokio::test]
#[ignore = "finding 10: role words as keys inside structured text (query, XML, CSV, repr, k=v) do not mark the name"]
async fn role_words_inside_structured_text_mark_their_value() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "q": "payer=Alice+Stqs&amount=100",
        "q2": "recipient=Alice%20Stpct",
        "kv": "payer=Alice Stkv",
        "xml": "<payer>Alice Stxml</payer>",
        "csv": "payer,amount\nAlice Stcsv,100",
        "repr": "{'payer': 'Alice Strepr'}",
        "sql": "beneficiary='Alice Stsql'",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-role-structured",
        "200 OK",
        &body,
        &["Stqs", "Stpct", "Stkv", "Stxml", "Stcsv", "Strepr", "Stsql"],
        "role words in structured text",
    )
    .await;
    app.stop().await;
}

/// Finding 1 (url): a declared `id` leaf holding a base64/hex/base32 token of an email or phone
/// is read and masked, but the declared `url` leaf (`webhook_url`) is not: a base64url path
/// segment spelling `alice.victim@example.com 081234567890` is copied on the `enforce` detail.
#[tokio::test]
#[ignore = "finding 1: tokens in a declared url's path are not read (email/phone in base64url pass in webhook_url)"]
async fn enforce_declared_url_path_tokens_are_read() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    // base64url of "alice.victim@example.com 081234567890", unpadded
    let token = "YWxpY2UudmljdGltQGV4YW1wbGUuY29tIDA4MTIzNDU2Nzg5MA";
    let body = json!({"status": true, "data": {
        "customer_id": customer_id(0x21f_011),
        "webhook_url": format!("https://hooks.example.com/{token}"),
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        &detail(&customer_id(0x21f_011)),
        "200 OK",
        &body,
        &[token],
        "encoded token in webhook_url",
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
#[ignore = "finding 11: values split across sibling members of an object pass (arrays are joined, objects not)"]
async fn values_split_across_object_members_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "contact_point": {"local": "alice.splitobj", "host": "example.com"},
        "route": {"local_part": "budi.splitobj2", "domain": "example.com"},
        "line": {"country_code": "62", "area_code": "812", "subscriber": "345678"},
        "parts": {"a": "0812", "b": "9988", "c": "7766"},
    }})
    .to_string();
    let out = read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-split-object",
        "200 OK",
        &body,
        &["splitobj"],
        "values split across object members",
    )
    .await;
    for piece in ["\"345678\"", "\"9988\""] {
        assert!(!out.contains(piece), "a split phone passed: {out}");
    }
    app.stop().await;
}

/// Finding 1 (field): `wallet_ready`'s declared `data.missing_field[]:field` takes any dotted
/// lower-case snake-case path, digits included: a phone and a NIK glued to a word by `_`
/// (`no_081234567890`, `nik_3173000000001234`) pass on the `enforce` route, although the same
/// strings under an undeclared key on a `report` route are masked.
#[tokio::test]
#[ignore = "finding 1: declared field-kind leaves (missing_field[]) carry phone and NIK numbers"]
async fn enforce_declared_field_paths_carry_numbers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "is_wallet_ready": false,
        "missing_field": ["no_081299112233", "individual.nik_3173000000009876"],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        &wallet(&customer_id(0x21f_012)),
        "200 OK",
        &body,
        &["081299112233", "3173000000009876"],
        "field-kind leaves (wallet_ready)",
    )
    .await;
    app.stop().await;
}

/// Finding 12: key words are found by splitting keys on case changes (`IBANNumber` → `iban`
/// `number`), but an upper-case acronym of three letters or fewer followed by a lower-case word
/// is split one letter too early (`KTPno` → `kt` `pno`), and short words match whole words
/// only, so `KTPno`, `NIKnum`, `NIKvalue`, `SSNno`, `DOBdate`, `HPnumber`, `TELnum`, `PANno`
/// are not personal keys (`NPWPno` and `IBANno`, four letters, are).
#[tokio::test]
#[ignore = "finding 12: short upper-case key words followed by a lower-case word (KTPno, DOBdate, HPnumber) are missed"]
async fn short_acronym_key_words_followed_by_lower_case_are_key_words() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "KTPno": "Acroktp 42",
        "NIKnum": "Acronik 42",
        "NIKvalue": "Acronikv",
        "SSNno": "Acrossn",
        "DOBdate": "17 Mei Acrodob",
        "HPnumber": "Acrohp",
        "TELnum": "Acrotel",
        "PANno": "Acropan",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-acronym-keys",
        "200 OK",
        &body,
        &[
            "Acroktp", "Acronik", "Acrossn", "Acrodob", "Acrohp", "Acrotel", "Acropan",
        ],
        "short acronym key words",
    )
    .await;
    app.stop().await;
}

/// Finding 13: digit detectors never fire on "dates and times", and a time's fraction of a
/// second is read as part of the time however long it is. On a `report` family a phone or NIK
/// written as the fraction (`03:53:52.081234567890`, `2024-12-06 03:53:52.3173000000001234`,
/// with a decimal comma too) passes. The same value in a declared `timestamp` on an `enforce`
/// route is masked (it does not fit the kind): the undeclared reading is the weaker one.
#[tokio::test]
#[ignore = "finding 13: phone/NIK digits as a component of a time, version, IPv4 or date pass on report routes"]
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

/// Finding 14: under a role word, "one token with a digit and no `.` or `@`" is kept as an
/// identifier (a reference to the person). Only the `.` separates a handle from an id in that
/// rule (`umar.digitson1990` is masked), so the same handle with `_` or `-`, a CamelCase name
/// with a digit, a name with a phone number, or a name with an address passes — and the
/// exception even wins over the digit detectors: `Budi_Hartono_081234567890` under `recipient`
/// passes, while `no_081234567890` under a neutral key is masked.
#[tokio::test]
#[ignore = "finding 14: role-word identifier exception keeps name/DOB/phone handles (umar_digitson1990, Budi_Hartono_0812…)"]
async fn handles_under_a_role_are_not_identifiers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    // One per answer: a masked value beside them would make their container personal.
    let cases = [
        ("recipient", "Budi_Handlebud_081234567890", "081234567890"),
        ("payee", "alice-handlekebab-17051990", "handlekebab"),
        ("sender", "AliceHandlecamel1", "Handlecamel"),
        ("user", "citra-handleaddr-jl-melati-42", "handleaddr"),
        ("payer", "umar_Handlesnake1990", "Handlesnake"),
    ];
    for (n, (role, value, seed)) in cases.into_iter().enumerate() {
        let body = json!({"status": true, "data": {role: value}}).to_string();
        read_everywhere(
            &app,
            &bodies,
            &format!("/api/v1/payin/attack-role-handle-{n}"),
            "200 OK",
            &body,
            &[seed],
            "handles under role words",
        )
        .await;
    }
    app.stop().await;
}
