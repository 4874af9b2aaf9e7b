//! An independent attack on the privacy rule of issue 21, with shapes the other privacy
//! modules do not try: key-value data written *inside* a string in forms a client decodes
//! (a query string or form body, base64- or JWT-encoded JSON, JSON behind a prefix no JSON
//! reader skips, a Python repr, a `Customer name:` clause), an IBAN typed with dashes, base64 wrapped at line breaks
//! (MIME), an email or a label behind HTML character references or `\u` escapes, keys that
//! carry such a label (or hold a key word but are no field name), labels in leaves the
//! `enforce` policy declares, and seeded `Retry-After`, `Expires` and lifetimes on error
//! answers. Against a hostile upstream on loopback, over HTTP/1.1 and h2c, GET (miss, then
//! hit) and HEAD, on a forwarded `report` route and the cached `enforce` route; and the
//! `mask` subcommand must print what `serve` sends. Ordinary payment values of the same
//! shapes (a pagination cursor, a return URL with a reference and an amount) still come back
//! byte for byte.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use http::Method;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::common::readings::{assert_no_seed, assert_no_seed_on_every_read, h2c_client};
use crate::common::*;

struct Case {
    name: &'static str,
    body: String,
    seeds: Vec<String>,
}

fn cases() -> Vec<Case> {
    let b64_json = STANDARD.encode(r#"{"first_name":"Alice Basename"}"#);
    let jwt = format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"sub":"c1","name":"Alice Jwtname"}"#)
    );
    let jwt_payload = jwt.split('.').nth(1).unwrap_or_default().to_owned();
    let wrapped = STANDARD.encode("contact me: victim.wrapped@example.com");
    let wrapped_text = format!("{}\r\n{}", &wrapped[..12], &wrapped[12..]);
    vec![
        Case {
            name: "base64 and JWT-encoded JSON with a personal key",
            body: json!({"status": true, "data": {"blob": b64_json, "session": jwt}}).to_string(),
            seeds: vec![b64_json.clone(), jwt_payload],
        },
        Case {
            name: "query strings and form bodies with personal fields",
            body: json!({"status": true, "data": {
                "callback": "https://merchant.example/return?customer_name=Alice%20Queryname&ref=INV-1",
                "form": "first_name=Alice+Formname&amount=1000",
                "rails": "customer[last_name]=Formlast&x=1",
                "twice": "https%3A%2F%2Fm.example%2F%3Faddress%3DJalan%2520Pctstreet",
            }})
            .to_string(),
            seeds: ["Queryname", "Formname", "Formlast", "Pctstreet"]
                .map(String::from)
                .to_vec(),
        },
        Case {
            name: "JSON behind a prefix, a Python repr, YAML and a labelled clause",
            body: json!({"status": true, "data": {
                "log": "payload={\"first_name\":\"Alice Prefixname\"}",
                "xssi": ")]}',\n{\"address_line1\":\"Jalan Xssi 9\"}",
                "repr": "{'last_name': 'Reprname', 'id': 1}",
                "yaml": "first_name: Alice Yamlname",
                "prose": "Refund approved. Customer name: Alice Prosename",
            }})
            .to_string(),
            seeds: ["Prefixname", "Xssi", "Reprname", "Yamlname", "Prosename"]
                .map(String::from)
                .to_vec(),
        },
        Case {
            name: "keys that carry a personal label, and labels in declared leaves",
            body: json!({"status": "name=Alice Statusform", "data": {
                "customer_id": "first_name=Alice Declform",
                "type": STANDARD.encode(r#"{"last_name":"Decltype"}"#),
                "name=Alice Keyname": 1,
                "customer_name:Alice Keycolon": "x",
                STANDARD.encode(r#"{"email_address":"x"}"#): 1,
            }})
            .to_string(),
            seeds: vec![
                "Statusform".to_owned(),
                "Declform".to_owned(),
                STANDARD.encode(r#"{"last_name":"Decltype"}"#),
                "Keyname".to_owned(),
                "Keycolon".to_owned(),
                STANDARD.encode(r#"{"email_address":"x"}"#),
            ],
        },
        Case {
            name: "an email and a label behind HTML and literal escapes",
            body: json!({"status": true, "data": {
                "html": "write to victim.html&#64;example&#x2e;com",
                "named": "victim.named&commat;example&period;com",
                "literal": "victim.literal\\u0040example.com",
                "attr": "{&quot;first_name&quot;:&quot;Alice Htmlname&quot;}",
            }})
            .to_string(),
            seeds: ["victim.html", "victim.named", "victim.literal", "Htmlname"]
                .map(String::from)
                .to_vec(),
        },
        Case {
            name: "an IBAN typed with dashes",
            body: json!({"status": true, "data": {"note": "GB82-WEST-1234-5698-7654-32"}})
                .to_string(),
            seeds: vec!["5698-7654".to_owned()],
        },
        Case {
            name: "base64 wrapped at a line break",
            body: json!({"status": true, "data": {"attachment": wrapped_text}}).to_string(),
            seeds: vec![wrapped[..12].to_owned(), wrapped[12..24].to_owned()],
        },
        Case {
            name: "phone and ID numbers in amount spellings and digit groupings",
            body: r#"{"status":true,"data":{"ref":6281299990041.00,"neg":-6281299990042.000,
                "cents":6281299990043.57,"exp":6.28129999004400e12,
                "s1":"6,281,299,990,045","s2":"0812 9999 0046","s3":"0812.9999.0047",
                "s4":"Rp 6.281.299.990.048,00","s5":"6\u2019281\u2019299\u2019990\u2019049",
                "s6":"\uff16\uff12\uff18\uff11\uff12\uff19\uff19\uff19\uff19\uff10\uff10\uff15\uff10.00",
                "s7":"62,81,29,99,90,052","nested":"{\"ref\": 6281299990051.00}"}}"#
                .to_owned(),
            seeds: [
                "6281299990041",
                "6281299990042",
                "6281299990043",
                "6.281299990044",
                "281,299,990,045",
                "9999 0046",
                "9999.0047",
                "299.990.048",
                "299\\u2019990",
                "299\u{2019}990",
                "\\uff19\\uff19\\uff19\\uff19",
                "\u{ff19}\u{ff19}\u{ff19}\u{ff19}",
                "29,99,90,052",
                "6281299990051",
            ]
            .map(String::from)
            .to_vec(),
        },
        Case {
            name: "Indonesian keys",
            body: json!({"status": true, "data": {
                "nama": "Alice Namaseed",
                "NamaLengkap": "Lengkapseed",
                "alamat": "Jalan Alamatseed 5",
                "\u{ff21}\u{ff2c}\u{ff21}\u{ff2d}\u{ff21}\u{ff34}": "Fullwidthseed",
                "no_hp": "Hpseed",
                "nohp": "Nohpseed",
                "telp": "Telpseed",
                "surel": "Surelseed",
                "tanggal_lahir": "Lahirseed",
                "no_rekening": "Rekeningseed",
                "norek": "Norekseed",
                "ibu_kandung": "Ibuseed",
                "NIK": "Nikseed",
            }})
            .to_string(),
            seeds: [
                "Namaseed",
                "Lengkapseed",
                "Alamatseed",
                "Fullwidthseed",
                "Hpseed",
                "Nohpseed",
                "Telpseed",
                "Surelseed",
                "Lahirseed",
                "Rekeningseed",
                "Norekseed",
                "Ibuseed",
                "Nikseed",
            ]
            .map(String::from)
            .to_vec(),
        },
    ]
}

/// Payment values of the shapes above that carry nothing personal: copied byte for byte.
fn benign() -> String {
    json!({"status": true, "data": {
        "next_cursor": STANDARD.encode(r#"{"page":2,"limit":50}"#),
        "return_url": "https://merchant.example/return?ref=INV-2026-0042&amount=150000&customer_id=c1",
        "note": "Settlement: batch 12. Error: amount must be positive",
        "payin_id": "payin_67d84b19d50b490a8fa75ab20bbf275a",
    }})
    .to_string()
}

/// The hostile upstream answering each path with its registered JSON body.
fn serve_bodies(h: &Hostile) -> Arc<Mutex<HashMap<String, String>>> {
    let bodies: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let b = bodies.clone();
    h.answer(move |head| {
        let target = head.split(' ').nth(1).unwrap_or("");
        let path = target.split('?').next().unwrap_or("");
        let body = b.lock().unwrap().get(path).cloned().unwrap_or_default();
        response(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    });
    bodies
}

async fn gateway(h: &Hostile) -> TestApp {
    spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        overlay:
            "[upstream.retry]\nmax_retries = 0\n[upstream.circuit_breaker]\nfailure_threshold = 0\n"
                .into(),
        ..Options::default()
    })
    .await
}

/// What `paycombat-gateway mask --path PATH` prints for `body` (nothing configured).
async fn mask_subcommand(path: &str, body: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["mask", "--path", path])
        .current_dir(dir.path())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(body.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("mask exits within 30 s")
        .unwrap();
    assert!(
        out.status.success(),
        "mask: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[tokio::test]
async fn personal_fields_written_inside_strings_never_reach_a_client() {
    let h = Hostile::start().await;
    let bodies = serve_bodies(&h);
    let app = gateway(&h).await;
    let h2 = h2c_client();
    let auth = [("x-token", CLIENT_KEY)];
    for (i, case) in cases().iter().enumerate() {
        let forward = format!("/api/v1/payin/attack-case-{i}");
        let cached = format!(
            "/api/v1/customer/customer/{}",
            customer_id(21_000 + i as u64)
        );
        {
            let mut b = bodies.lock().unwrap();
            b.insert(forward.clone(), case.body.clone());
            b.insert(cached.clone(), case.body.clone());
        }
        let last =
            assert_no_seed_on_every_read(&app, &h2, &[&forward, &cached], &case.seeds, case.name)
                .await;
        let forwarded = last.into_iter().next();
        // The `mask` subcommand applies the same policy: it prints what `serve` sent.
        let offline = mask_subcommand(&forward, &case.body).await;
        assert_eq!(
            String::from_utf8_lossy(&offline).trim_end(),
            String::from_utf8_lossy(&forwarded.unwrap_or_default()),
            "{}: mask and serve agree",
            case.name
        );
    }
    let hit = app
        .get(&format!(
            "/api/v1/customer/customer/{}",
            customer_id(21_000)
        ))
        .await;
    assert!(
        hit.header("cache-status").contains("hit"),
        "{}",
        hit.header("cache-status")
    );

    // No false positive: the same shapes carrying payment values pass unchanged.
    let body = benign();
    bodies
        .lock()
        .unwrap()
        .insert("/api/v1/payin/attack-benign".into(), body.clone());
    for client in [&app.client, &h2] {
        let url = format!("http://{}/api/v1/payin/attack-benign", app.addr);
        let r = request(client, Method::GET, &url, &auth, b"").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.text(), body);
    }
    app.stop().await;
}

#[tokio::test]
async fn seeded_retry_after_expires_and_lifetimes_on_error_answers_never_pass() {
    const SEEDS: [&str; 3] = ["081234567890", "81234567", "3173000000001234"];
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let body = br#"{"status":false,"message":"try later"}"#;
    let mut n = 0u64;
    for (status, extra) in [
        (
            "503 Service Unavailable",
            [
                ("retry-after", "081234567890"),
                ("expires", "3173000000001234"),
                (
                    "cache-control",
                    "max-age=081234567890, stale-if-error=81234567",
                ),
            ],
        ),
        (
            "429 Too Many Requests",
            [
                ("retry-after", "Wed, 21 Oct 2099 07:28:00 GMT"),
                ("expires", "Wed, 21 Oct 2099 07:28:00 GMT"),
                ("x-ratelimit-reset", "3173000000001234"),
            ],
        ),
        (
            "200 OK",
            [
                ("retry-after", "  081234567890  "),
                ("expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
                ("cache-control", "max-age=\"081234567890\""),
            ],
        ),
    ] {
        let mut headers = vec![("content-type", "application/json")];
        headers.extend_from_slice(&extra);
        h.answer_bytes(response(status, &headers, body));
        for method in [Method::GET, Method::HEAD] {
            n += 1;
            let cached = format!("/api/v1/customer/customer/{}", customer_id(21_100 + n));
            for path in ["/api/v1/payin/attack-headers", cached.as_str()] {
                let url = format!("http://{}{path}", app.addr);
                let r = request(
                    &app.client,
                    method.clone(),
                    &url,
                    &[("x-token", CLIENT_KEY)],
                    b"",
                )
                .await;
                let what = format!("{status} {method} {path}");
                for (k, v) in &r.headers {
                    let v = String::from_utf8_lossy(v.as_bytes());
                    for s in SEEDS {
                        assert!(!v.contains(s), "{what}: {s} in {k}: {v}");
                    }
                }
                if let Some(ra) = r.headers.get("retry-after") {
                    let secs: u64 = ra.to_str().unwrap().parse().expect("seconds");
                    assert!(secs <= 999_999, "{what}: {secs}");
                }
            }
        }
    }
    app.stop().await;
}

/// paycombat's error envelope on an `enforce` route: its `message` is a leaf like any other, so
/// a message that echoes a personal value (even a bare name, which no detector sees) never
/// reaches a client, whatever the error status, over either protocol, GET or HEAD; on a
/// `report` route a message holding a detectable value is masked whole, name included.
#[tokio::test]
async fn error_envelope_messages_that_echo_personal_values_never_pass() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let h2 = h2c_client();
    let auth = [("x-token", CLIENT_KEY)];
    let body = json!({"status": false,
        "message": "customer victim.errmsg@example.com (081234509876, Alice Errname) not found"})
    .to_string();
    let seeds = ["victim.errmsg", "081234509876", "Errname"];
    let mut n = 0u64;
    for status in [
        "400 Bad Request",
        "404 Not Found",
        "409 Conflict",
        "422 Unprocessable Entity",
        "500 Internal Server Error",
        "503 Service Unavailable",
    ] {
        h.answer_bytes(response(
            status,
            &[("content-type", "application/json")],
            body.as_bytes(),
        ));
        for (proto, client) in [("h1", &app.client), ("h2", &h2)] {
            for method in [Method::GET, Method::HEAD] {
                n += 1;
                let enforced = detail(&customer_id(21_200 + n));
                let wallet_path = wallet(&customer_id(21_200 + n));
                for (path, route_seeds) in [
                    (enforced.as_str(), &seeds[..]),
                    (wallet_path.as_str(), &seeds[..]),
                    ("/api/v1/payin/attack-error", &seeds[..]),
                ] {
                    let url = format!("http://{}{path}", app.addr);
                    let r = request(client, method.clone(), &url, &auth, b"").await;
                    let what = format!("{status}: {proto} {method} {path}");
                    assert!(r.status.as_u16() >= 400, "{what}: {}", r.status);
                    assert_no_seed(&r, route_seeds, &what);
                    if method == Method::GET && !r.body.is_empty() {
                        let v: serde_json::Value =
                            serde_json::from_slice(&r.body).expect("an error answer is JSON");
                        assert_eq!(v["status"], false, "{what}: {}", r.text());
                    }
                }
            }
        }
    }
    app.stop().await;
}
