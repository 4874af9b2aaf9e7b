//! The class as a property: random framings of personal data never leak.

use super::*;

// ---- the class, as a property ------------------------------------------------------------

/// How the seeded JSON is wrapped before the upstream sends it.
#[derive(Debug, Clone)]
enum Wrap {
    None,
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    Utf16 { be: bool, bom: bool },
    Utf32 { be: bool, bom: bool },
    Jsonp,
    Xml,
    Multipart,
}

/// Where the seeded values sit in the JSON document.
#[derive(Debug, Clone, Copy)]
enum Doc {
    /// Under the rule keys, as shipped.
    Plain,
    /// Under the rule keys spelled another way.
    Spellings,
    /// As keys of an object under a rule key.
    ObjectKeys,
    /// In a JSON document serialised inside a string value.
    InString,
}

fn doc_json(d: Doc) -> String {
    match d {
        Doc::Plain => personal_json(),
        Doc::Spellings => format!(
            r#"{{"status":true,"data":{{"Email":"{EMAIL}","identificationValue":"{ID_NUMBER}","PHONE-NUMBER":"{PHONE}"}}}}"#
        ),
        Doc::ObjectKeys => format!(
            r#"{{"status":true,"data":{{"email":{{"{EMAIL}":true,"{PHONE}":[1]}},"identification_value":{{"v":"{ID_NUMBER}"}}}}}}"#
        ),
        Doc::InString => {
            let inner = serde_json::to_string(&personal_json()).unwrap();
            format!(r#"{{"status":true,"data":{{"note":{inner}}}}}"#)
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    doc: Doc,
    route: usize,
    wraps: Vec<Wrap>,
    /// gzip layers applied, and how many of them are declared.
    gzips: usize,
    declared: usize,
    content_types: Vec<&'static str>,
    status: &'static str,
}

fn wrap() -> impl Strategy<Value = Wrap> {
    prop_oneof![
        Just(Wrap::None),
        prop::collection::vec(
            prop::sample::select(vec![
                0x0c_u8, 0x0b, 0x1e, 0xa0, 0xc2, 0xef, 0xbb, 0xbf, 0x00, b' ', b'\n', b'<', b'('
            ]),
            1..4
        )
        .prop_map(Wrap::Prefix),
        prop::collection::vec(
            prop::sample::select(vec![0x0c_u8, 0x00, b';', b')', b'x']),
            1..3
        )
        .prop_map(Wrap::Suffix),
        (any::<bool>(), any::<bool>()).prop_map(|(be, bom)| Wrap::Utf16 { be, bom }),
        (any::<bool>(), any::<bool>()).prop_map(|(be, bom)| Wrap::Utf32 { be, bom }),
        Just(Wrap::Jsonp),
        Just(Wrap::Xml),
        Just(Wrap::Multipart),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(vec![
            Doc::Plain,
            Doc::Spellings,
            Doc::ObjectKeys,
            Doc::InString,
        ]),
        0usize..3,
        prop::collection::vec(wrap(), 0..3),
        0usize..3,
        0usize..3,
        prop::collection::vec(
            prop::sample::select(vec![
                "application/json",
                "application/json; charset=utf-16",
                "text/plain",
                "text/html",
                "application/pdf",
                "application/xml",
                "application/octet-stream",
                "multipart/byteranges; boundary=b",
                "application/json, text/plain",
            ]),
            0..3,
        ),
        prop::sample::select(vec![
            "200 OK",
            "206 Partial Content",
            "404 Not Found",
            "500 Internal Server Error",
        ]),
    )
        .prop_map(
            |(doc, route, wraps, gzips, declared, content_types, status)| Case {
                doc,
                route,
                wraps,
                gzips,
                declared: declared.min(gzips),
                content_types,
                status,
            },
        )
}

fn build(c: &Case) -> Vec<u8> {
    let mut body = doc_json(c.doc).into_bytes();
    for w in &c.wraps {
        body = match w {
            Wrap::None => body,
            Wrap::Prefix(p) => [p.as_slice(), &body].concat(),
            Wrap::Suffix(s) => [body.as_slice(), s].concat(),
            Wrap::Utf16 { be, bom } => utf16(&String::from_utf8_lossy(&body), *be, *bom),
            Wrap::Utf32 { be, bom } => utf32(&String::from_utf8_lossy(&body), *be, *bom),
            Wrap::Jsonp => [b"cb(".as_slice(), &body, b")"].concat(),
            Wrap::Xml => [b"<r>".as_slice(), &body, b"</r>"].concat(),
            Wrap::Multipart => [b"--b\r\n\r\n".as_slice(), &body, b"\r\n--b--"].concat(),
        };
    }
    for _ in 0..c.gzips {
        body = gzip(&body);
    }
    let mut headers: Vec<(&str, &str)> = c
        .content_types
        .iter()
        .map(|t| ("content-type", *t))
        .collect();
    for _ in 0..c.declared {
        headers.push(("content-encoding", "gzip"));
    }
    response(c.status, &headers, &body)
}

#[test]
fn random_framings_of_personal_data_never_leak() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (h, app) = rt.block_on(async {
        let h = Hostile::start().await;
        let app = gateway(&h).await;
        (h, app)
    });
    let routes = [PASSTHROUGH.to_owned(), MEMO.to_owned(), String::new()];
    let n = std::sync::atomic::AtomicU64::new(0);
    let served = std::sync::atomic::AtomicU64::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&case(), |c| {
        let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        h.answer_bytes(build(&c));
        let path = match c.route {
            2 => format!("/api/v1/customer/customer/{}", customer_id(50_000 + n)),
            i => routes[i].clone(),
        };
        let r = rt.block_on(app.get(&path));
        let what = format!("{c:?} on {path}");
        assert_no_leak(&r, &what);
        if r.status == 502 {
            let code = r.error_code();
            prop_assert!(
                ["UPSTREAM_UNMASKABLE", "UPSTREAM_ERROR"].contains(&code.as_str()),
                "{what}: {code}"
            );
        } else {
            // Served: either masked JSON, or a declared passthrough (a PDF on
            // the memo route) — and no generated body starts with %PDF-.
            prop_assert!(r.status != 502);
            let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| {
                TestCaseError::fail(format!("{what}: served body is not JSON: {e}"))
            })?;
            served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if matches!(c.doc, Doc::Plain) {
                prop_assert_eq!(&v["data"]["email"], "v*****@*****", "{}", what);
            }
        }
        Ok(())
    });
    rt.block_on(app.stop());
    drop(h);
    result.unwrap();
    // Both outcomes occurred: the generator reaches bodies that are served
    // masked as well as ones that are refused.
    let (served, all) = (served.into_inner(), n.into_inner());
    assert!(served > 0 && served < all, "{served} of {all} served");
}
