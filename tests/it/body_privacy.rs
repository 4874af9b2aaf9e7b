//! Privacy of response bodies against a hostile upstream on loopback: every body example of
//! issue 21 (keys a client folds onto a rule name, personal data outside the rule list, JSON
//! inside strings, the email strategy, numbers that must survive byte for byte), over
//! HTTP/1.1 and h2c, GET and HEAD, on a forwarded `report` route and on the cached `enforce`
//! route (miss, then hit). No seeded value may appear in any byte or header the client
//! receives, in any reading of them (content-codings undone, UTF-16 and UTF-32 tried).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::readings::{assert_no_seed_on_every_read, find, h2c_client};
use crate::common::*;

/// An upstream answering each path with the body registered for it, as JSON with a valid
/// Content-Length (the hostility is in the bodies).
struct Upstream {
    base: String,
    bodies: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    async fn start() -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let bodies: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let b = bodies.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let b = b.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 8192];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
                            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let target = head.split(' ').nth(1).unwrap_or("").to_owned();
                    let path = target.split('?').next().unwrap_or("").to_owned();
                    let body = b.lock().unwrap().get(&path).cloned().unwrap_or_default();
                    let mut out = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    if !head.starts_with("HEAD ") {
                        out.extend_from_slice(&body);
                    }
                    let _ = s.write_all(&out).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        Upstream { base, bodies, task }
    }

    fn serve(&self, path: &str, body: &str) {
        self.bodies
            .lock()
            .unwrap()
            .insert(path.to_owned(), body.as_bytes().to_vec());
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Case {
    name: &'static str,
    body: String,
    seeds: Vec<&'static str>,
}

fn cases() -> Vec<Case> {
    let inner = json!({"email": "seed.inner@example.com", "contact": {"phone": "081299990011"}})
        .to_string();
    vec![
        Case {
            name: "keys a client folds onto a rule name",
            body: json!({"status": true, "data": {
                "la\u{17f}t_name": "Seedlastname",
                "Addre\u{17f}\u{17f}Line1": "Seedstreet 42",
                "\u{ff45}\u{ff4d}\u{ff41}\u{ff49}\u{ff4c}": "seed.fullwidth@example.com",
                "email ": "seed.trailing@example.com",
                "\u{feff}email": "seed.bom@example.com",
                "email\u{0}": "seed.nul@example.com",
                "\u{17f}ort_code": "409988",
                "If\u{17f}c": "SBIN0009988",
            }})
            .to_string(),
            seeds: vec![
                "Seedlastname",
                "Seedstreet",
                "seed.fullwidth",
                "seed.trailing",
                "seed.bom",
                "seed.nul",
                "409988",
                "SBIN0009988",
            ],
        },
        Case {
            name: "personal data outside the rule list",
            body: json!({"status": false, "message": "customer seed.msg@example.com not found",
            "data": {
                "description": "call Alice Seedvictim on 081299990001",
                "metadata": {"note": "NIK 3173000099990001"},
                "contacts": [{"mobile": "081299990002"}, "seed.contact@example.com"],
                "phone": "081299990003",
                "msisdn": 6281299990004u64,
                "address": "Jalan Seedling 77",
                "date_of_birth": "1990-01-31",
                "by_owner": {"seed.key@example.com": {"n": 1}},
            }})
            .to_string(),
            seeds: vec![
                "seed.msg",
                "Seedvictim",
                "081299990001",
                "3173000099990001",
                "081299990002",
                "seed.contact",
                "081299990003",
                "6281299990004",
                "Seedling",
                "1990-01-31",
                "seed.key",
            ],
        },
        Case {
            name: "shapes of an independent attack",
            body: r#"{"status":true,"data":{
                "ref": 6.28129999000e12,
                "alt": "\u0660\u0668\u0661\u0662\u0669\u0669\u0669\u0669\u0660\u0660\u0660\u0666",
                "mail1": "seed.iplit@[192.0.2.7]",
                "mail2": "\"seed quoted\"@example.com",
                "mail3": "seed.pct%40example.com",
                "pan": "4111.1111.1111.1111",
                "tel": "+62/812/9999/0007",
                "tel2": "+62\u2013812\u20139999\u20130008",
                "blob": "eyJlbWFpbCI6InNlZWQuYjY0QGV4YW1wbGUuY29tIn0="
            }}"#
            .to_owned(),
            seeds: vec![
                "6.28129999",
                "\\u0660\\u0668\\u0661",
                "\u{660}\u{668}\u{661}\u{662}",
                "seed.iplit",
                "seed quoted",
                "seed.pct",
                "4111.1111",
                "9999/0007",
                "9999\\u2013",
                "eyJlbWFpbCI6InNlZWQuYjY0",
            ],
        },
        Case {
            name: "a bare top-level string",
            body: json!("seed.bare@example.com").to_string(),
            seeds: vec!["seed.bare"],
        },
        Case {
            name: "JSON inside strings",
            body: json!({"data": {
                "bom": format!("\u{feff}{}", inner.replace("inner", "bom1")),
                "nbsp": format!("\u{a0}{}", inner.replace("inner", "nbsp1")),
                "twice": serde_json::to_string(&inner.replace("inner", "twice1")).unwrap(),
                "junk": format!("{} trailing junk", inner.replace("inner", "junk1")),
            }})
            .to_string(),
            seeds: vec![
                "seed.bom1",
                "seed.nbsp1",
                "seed.twice1",
                "seed.junk1",
                "081299990011",
            ],
        },
        Case {
            name: "the email strategy",
            body: json!({"data": {
                "email": "x@ Alice Seedvictim, Jalan Rahasia 42, 081299990005",
                "customer_email": "someone@seed-company.example",
            }})
            .to_string(),
            seeds: vec!["Seedvictim", "Rahasia", "081299990005", "seed-company"],
        },
    ]
}

/// The raw text of numbers a payments client needs exactly.
const NUMBERS: &str = concat!(
    r#"{"status":true,"data":{"amount":123456789012345678901234567890,"rate":1.50,"fee":"1.50","#,
    r#""total":1500000.00,"round":150000000000.00,"neg":-9999999999.99,"e":1.5e12,"#,
    r#""grouped":"1,500,000.00","idr":"Rp 1.500.000,00","lakh":"12,50,00,000","#,
    r#""big":"1,500,000,000,000.00"}}"#
);

#[tokio::test]
async fn no_seeded_value_reaches_a_client_over_any_protocol_method_or_route() {
    let up = Upstream::start().await;
    let app = spawn_app_with(Options {
        upstream_override: Some(up.base.clone()),
        overlay:
            "[upstream.retry]\nmax_retries = 0\n[upstream.circuit_breaker]\nfailure_threshold = 0\n"
                .into(),
        ..Options::default()
    })
    .await;
    let h2 = h2c_client();
    let auth = [("x-token", CLIENT_KEY)];
    for (i, case) in cases().iter().enumerate() {
        // A forwarded `report`-mode route, and the cached `enforce`-mode customer read.
        let forward = format!("/api/v1/payin/privacy-case-{i}");
        let cached = format!("/api/v1/customer/customer/{}", customer_id(900 + i as u64));
        up.serve(&forward, &case.body);
        up.serve(&cached, &case.body);
        assert_no_seed_on_every_read(&app, &h2, &[&forward, &cached], &case.seeds, case.name).await;
    }
    let hit = app
        .get(&format!("/api/v1/customer/customer/{}", customer_id(900)))
        .await;
    assert!(
        hit.header("cache-status").contains("hit"),
        "the cached route was served from the cache: {}",
        hit.header("cache-status")
    );

    // Numbers come back byte for byte on a `report` route, over both protocols.
    up.serve("/api/v1/payin/privacy-numbers", NUMBERS);
    for client in [&app.client, &h2] {
        let url = format!("http://{}/api/v1/payin/privacy-numbers", app.addr);
        let r = request(client, Method::GET, &url, &auth, b"").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(&r.body[..], NUMBERS.as_bytes());
    }
    app.stop().await;
}

/// What `report` mode cannot catch by construction, documented as such: a bare name in free
/// text under a neutral key, with no detectable value beside it, passes on a `report` route
/// (and is masked on an `enforce` route, where the key is not declared).
#[tokio::test]
async fn report_mode_residual_class_a_bare_name_in_neutral_free_text() {
    let up = Upstream::start().await;
    let app = spawn_app_with(Options {
        upstream_override: Some(up.base.clone()),
        ..Options::default()
    })
    .await;
    let body = json!({"data": {"remark": "thanks, Alice Residualname"}}).to_string();
    up.serve("/api/v1/payin/residual", &body);
    let enforced = format!("/api/v1/customer/customer/{}", customer_id(999));
    up.serve(&enforced, &body);
    let r = app.get("/api/v1/payin/residual").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        find(&r.body, b"Residualname"),
        "the residual class of report mode: a bare name under a neutral key passes"
    );
    let r = app.get(&enforced).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!find(&r.body, b"Residualname"), "enforce mode masks it");
    // The same name next to a detectable value is masked with it.
    let body = json!({"data": {"remark": "thanks, Alice Residualname, 081299990099"}}).to_string();
    up.serve("/api/v1/payin/residual2", &body);
    let r = app.get("/api/v1/payin/residual2").await;
    assert!(!find(&r.body, b"Residualname"), "{}", r.text());
    app.stop().await;
}
