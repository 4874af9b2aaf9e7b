//! Issue 21's second attack on `report` routes, the classes it found beyond the stated
//! residual risk: a personal value split from its field name across sibling members
//! (`{"field": "first_name", "value": …}`, arrays of `{"label", "value"}`, tuples), key words
//! the vocabulary lacked (`mail`, `holder`, `owner`, `pan`, `cvv`, `bday`, …), keys whose
//! letters a combining mark, a dot, a space or other punctuation breaks (`e\u{301}mail`,
//! `first name`, `phone.number`), and values behind base32, quoted-printable, CSS escapes and
//! `0x…` hex numbers; and from the attack that ran beside it, keys below a personal key,
//! identifiers glued to a key word in a key, and emails with IDNA full stops. Against a hostile upstream on loopback, over HTTP/1.1 and h2c, GET
//! (miss, then hit) and HEAD, on a forwarded `report` route and on the cached customer read
//! switched to `report` (so the cache's fill and replay paths meet the same shapes).
//! Ordinary payment objects still come back byte for byte.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use crate::common::readings::{assert_no_seed_on_every_read, h2c_client};
use crate::common::*;

struct Case {
    name: &'static str,
    body: String,
    seeds: Vec<String>,
}

fn seeds(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn cases() -> Vec<Case> {
    let b32 = data_encoding::BASE32.encode(b"victim.b32@example.com");
    let b32hex = data_encoding::BASE32HEX_NOPAD
        .encode(b"mail victim.b32hex@example.com")
        .to_lowercase();
    let b32json = data_encoding::BASE32.encode(br#"{"first_name":"Alice B32name"}"#);
    let b64b32 = STANDARD.encode(data_encoding::BASE32.encode(b"victim.b64b32@example.com"));
    vec![
        Case {
            name: "values split from their field name across sibling members",
            body: json!({"status": true, "data": {
                "a": {"name": "first_name", "value": "Alice Splitname"},
                "b": {"value": "Revname Victimson", "field": "last_name"},
                "c": {"field": "phone", "val": "0812 9988"},
                "d": {"key": "email", "data": "victim.splitmail"},
                "e": [{"label": "Full Name", "value": "Budi Labelname"},
                      {"label": "Date of Birth", "value": "1990-05-17"}],
                "f": [["address", "Jalan Tuplestreet"]],
                "g": {"field": "first%5Fname", "value": "Pctname"},
                "h": {"name": "Full Name", "value": "Formname"},
                "i": {"attr": "dob", "v": 19900517},
                "j": {"field": "address", "value": {"line": "Nestedstreet", "no": 42}},
            }})
            .to_string(),
            seeds: seeds(&[
                "Splitname",
                "Revname",
                "0812 9988",
                "victim.splitmail",
                "Labelname",
                "1990-05-17",
                "Tuplestreet",
                "Pctname",
                "Formname",
                "19900517",
                "Nestedstreet",
            ]),
        },
        Case {
            name: "key words the vocabulary lacked",
            body: json!({"status": true, "data": {
                "mail": "Mailvalue", "card_holder": "Holdervalue", "owner": "Ownervalue",
                "pan": "Panvalue", "cvv": "Cvvvalue", "cvc": "Cvcvalue", "bday": "Bdayvalue",
                "tin": "Tinvalue", "given_name": "Givenvalue", "initials": "Initvalue",
                "maiden": "Maidenvalue", "gender": "Gendervalue", "accountHolder": "Acctvalue",
            }})
            .to_string(),
            seeds: seeds(&[
                "Mailvalue",
                "Holdervalue",
                "Ownervalue",
                "Panvalue",
                "Cvvvalue",
                "Cvcvalue",
                "Bdayvalue",
                "Tinvalue",
                "Givenvalue",
                "Initvalue",
                "Maidenvalue",
                "Gendervalue",
                "Acctvalue",
            ]),
        },
        Case {
            name: "keys broken by combining marks, dots, spaces and punctuation",
            body: json!({"status": true, "data": {
                "e\u{301}mail": "Markmail", "na\u{308}me": "Markname", "e.mail": "Dotmail",
                "first name": "Spacename", "phone.number": "Dotphone", "e mail": "Spacemail",
                "a-d.d r_e/s:s": "Mixaddr", "E\u{301}.MAIL": "Capmark",
            }})
            .to_string(),
            seeds: seeds(&[
                "Markmail",
                "Markname",
                "Dotmail",
                "Spacename",
                "Dotphone",
                "Spacemail",
                "Mixaddr",
                "Capmark",
            ]),
        },
        Case {
            name: "keys below a personal key, numbers glued to a key word, IDNA full stops",
            body: json!({"status": true, "data": {
                "contacts": {"Alice Keyname": "x", "BudiCamelkey": {"Deeperkey": null}},
                "address": {"Citra Keystreet": null},
                "phone_081299001122": true, "nik_3173000000009876": 1,
                "e4": "alice.ideo@example\u{3002}com", "e5": "alice.ideo2@example\u{ff61}com",
            }})
            .to_string(),
            seeds: seeds(&[
                "Keyname",
                "Camelkey",
                "Deeperkey",
                "Keystreet",
                "081299001122",
                "3173000000009876",
                "alice.ideo",
            ]),
        },
        Case {
            name: "keys naming a person by role, or the person themselves",
            body: json!({"status": true, "data": {
                "payer": "Alice Rolepayer", "recipients": ["Budi Rolerecipient"],
                "penerima": "Citra Rolepenerima", "religion": "Rolereligion",
                "marital_status": "Rolemarital", "occupation": "Roleoccupation",
                "tempat_tinggal": "Roletinggal", "middle_name": "Rolemiddle",
                "signature": "Rolesignature Victimson", "national_id": "Rolenational",
                "tax_id": "Roletax", "kitas": "Rolekitas",
            }})
            .to_string(),
            seeds: seeds(&[
                "Rolepayer",
                "Rolerecipient",
                "Rolepenerima",
                "Rolereligion",
                "Rolemarital",
                "Roleoccupation",
                "Roletinggal",
                "Rolemiddle",
                "Rolesignature",
                "Rolenational",
                "Roletax",
                "Rolekitas",
            ]),
        },
        Case {
            name: "base32, quoted-printable, CSS escapes, hex numbers, digits behind other punctuation",
            body: json!({"status": true, "data": {
                "b32": b32, "b32hex": b32hex, "b32json": b32json, "b64b32": b64b32,
                "qp": "victim.qp=40example.com",
                "qpsoft": "victim.qpsoft=\r\n=40example.com",
                "css": "victim.css\\40 example.com",
                "css6": "victim.csssix\\000040example.com",
                "hexnum": "0x12E9F522D2",
                "hexnote": "call 0x12e9f522d3 today",
                "pipes": "WA: 0812|3456|7001", "colons": "0812:3456:7002",
                "tildes": "0812~3456~7003", "stars": "0812*3456*7004",
                "dingbats": "\u{2780}\u{2787}\u{2780}\u{2781}\u{2782}\u{2783}\u{2784}\u{2785}\u{2786}",
                "braille": "0812\u{2800}3456\u{2800}7005",
                "comment": "victim.comment(work)@example.com",
                "markup": "victim.markup<span>@</span>example.com",
            }})
            .to_string(),
            seeds: vec![
                b32,
                b32hex,
                b32json,
                b64b32,
                "victim.qp".into(),
                "victim.css".into(),
                "victim.csssix".into(),
                "0x12E9F522D2".into(),
                "0x12e9f522d3".into(),
                "3456|7001".into(),
                "3456:7002".into(),
                "3456~7003".into(),
                "3456*7004".into(),
                "\u{2781}\u{2782}\u{2783}".into(),
                "7005".into(),
                "victim.comment".into(),
                "victim.markup".into(),
            ],
        },
    ]
}

/// The gateway in front of `h`, with the cached customer read in `report` mode and a `report`
/// family's declarations (the shipped ones type the documented customer: its `type` is
/// `individual` or `company`, its `message` personal), so it is a second, cached report route.
async fn gateway(h: &Hostile) -> TestApp {
    spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        overlay: "[upstream.retry]\nmax_retries = 0\n[upstream.circuit_breaker]\nfailure_threshold = 0\n[mask.policy.families.customer_detail]\nmode = \"report\"\ndeclared = [\"status:flag|code|count\"]\n"
            .into(),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn split_broken_and_encoded_values_never_reach_a_client_on_report_routes() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let h2 = h2c_client();
    for (i, case) in cases().into_iter().enumerate() {
        h.answer_json(case.body);
        let forward = format!("/api/v1/payin/split-{i}");
        let cached = detail(&customer_id(21_700 + i as u64));
        assert_no_seed_on_every_read(&app, &h2, &[&forward, &cached], &case.seeds, case.name).await;
    }
    app.stop().await;
}

/// Payment objects whose values look like field names or codings to a careless rule: codes
/// (`VIRTUAL_ACCOUNT`), a company called `PT Span`, a base32-looking cursor, statuses beside
/// amounts. Byte for byte, on both routes; an error message naming a field is masked, the
/// envelope around it kept.
#[tokio::test]
async fn ordinary_payment_objects_come_back_byte_for_byte() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let body = r#"{"status":true,"message":"OK","data":{"type":"payin","status":"success","amount":150000,"currency":"IDR","payment_method":"VIRTUAL_ACCOUNT","items":[{"type":"fee","amount":2500},{"type":"BANK_ACCOUNT","amount":"1500000.00"}],"company":"PT Span Company","cursor":"MFRGGZDFMZTWQ2LK","ref":"INV-2026-0042","note":"Refund approved","error_code":"NAME_MISMATCH","customer":"customer_67d84b19d50b490a8fa75ab20bbf275a","signature":"9f86d081884c7d659a2feaa0c55ad015","payer_id":null,"fee_borne_by":"merchant","created_at":"2026-12-06T10:00:00Z"}}"#;
    h.answer_json(body.to_owned());
    for path in [
        "/api/v1/payin/split-benign".to_owned(),
        detail(&customer_id(21_790)),
    ] {
        for round in ["miss", "hit"] {
            let r = app.get(&path).await;
            assert_eq!(r.status, 200, "{path} {round}: {}", r.text());
            assert_eq!(r.text(), body, "{path} {round}");
        }
    }
    let error = r#"{"status":false,"message":"Validation failed: email is required","data":null}"#;
    h.answer(move |_| {
        response(
            "400 Bad Request",
            &[("content-type", "application/json")],
            error.as_bytes(),
        )
    });
    let r = app.get("/api/v1/payin/split-error").await;
    assert_eq!(r.status, 400, "{}", r.text());
    // A message that mentions a personal field is masked whole on a `report` family (README,
    // "Text that mentions a personal field"); the status and the rest stay.
    assert_eq!(
        r.text(),
        r#"{"status":false,"message":"[REDACTED]","data":null}"#
    );
    app.stop().await;
}
