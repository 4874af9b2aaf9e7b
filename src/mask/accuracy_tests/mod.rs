//! Accuracy of the field policy's heuristics (key words and value-shape detectors), as the
//! shipped `[mask.policy]` configures them:
//!
//! - **zero false positives** on what a payments client needs: every leaf of the documented
//!   API's answers and of the sandbox's (ids, references, amounts, currency codes, timestamps,
//!   statuses, flags) that no named rule covers, and every key on the way to it;
//! - **zero misses** on every shape a detector claims: the personal values the sandbox
//!   generates and the seeded values, put into free text (`message`, `description`,
//!   `metadata`) and under keys no rule or key word names.
//!
//! The sandbox runs on a real socket, so its answers are exactly what the gateway meets.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use paycombat_sandbox::{Sandbox, SandboxConfig, FIXTURE_CUSTOMER_ID};
use serde_json::Value;

use super::detect::Detector;
use super::keynorm::{fold_key, folds_to};
use super::policy::{DeclaredPaths, Leaf, Mode, Policies, PolicyFamily};
use super::RuleConfig;

mod masker_walk;

/// Keys whose values are free text: neither declared nor checked for false positives by
/// shape (their text is the operator's or the customer's), but where seeded values must be found.
const FREE_TEXT: [&str; 3] = ["message", "description", "metadata"];

/// Every leaf of `v` with the keys leading to it.
fn leaves<'a>(v: &'a Value, path: &mut Vec<&'a str>, out: &mut Vec<(Vec<&'a str>, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                path.push(k);
                leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(a) => a.iter().for_each(|v| leaves(v, path, out)),
        _ => out.push((path.clone(), v)),
    }
}

/// Every array of scalars of `v` (the walk reads one as a value: its elements' texts joined)
/// with the keys leading to it and its elements' texts.
fn scalar_arrays<'a>(
    v: &'a Value,
    path: &mut Vec<&'a str>,
    out: &mut Vec<(Vec<&'a str>, Vec<String>)>,
) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                path.push(k);
                scalar_arrays(v, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            let texts: Option<Vec<String>> = a
                .iter()
                .map(|e| match e {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    Value::Null => Some(String::new()),
                    _ => None,
                })
                .collect();
            match texts {
                Some(t) if t.len() >= 2 => out.push((path.clone(), t)),
                Some(_) => {}
                None => a.iter().for_each(|v| scalar_arrays(v, path, out)),
            }
        }
        _ => {}
    }
}

/// Whether a named rule covers a leaf at `path` (a field rule on any key of it, or a path rule
/// that is a prefix of it).
fn rule_covers(rules: &[RuleConfig], path: &[&str]) -> bool {
    rules.iter().any(|r| match (&r.field, &r.path) {
        (Some(f), _) => {
            let f = fold_key(f);
            path.iter().any(|k| folds_to(k, &f))
        }
        (None, Some(p)) => {
            let rp: Vec<&str> = p.split('.').collect();
            rp.len() <= path.len() && rp.iter().zip(path).all(|(a, b)| folds_to(b, &fold_key(a)))
        }
        _ => false,
    })
}

fn declared(d: &DeclaredPaths, path: &[&str]) -> bool {
    let mut node = d.root();
    for k in path {
        match d.child(node, k) {
            Some(n) => node = n,
            None => return false,
        }
    }
    d.is_declared(node)
}

/// Whether the leaf at `path` is declared with a kind its value fits (`null` fits any).
fn fits_declared(d: &DeclaredPaths, path: &[&str], value: &Value) -> bool {
    let mut node = d.root();
    for k in path {
        match d.child(node, k) {
            Some(n) => node = n,
            None => return false,
        }
    }
    let text;
    let leaf = match value {
        Value::Null => return d.is_declared(node),
        Value::Bool(_) => Leaf::Bool,
        Value::Number(n) => {
            text = n.to_string();
            Leaf::Number(&text)
        }
        Value::String(s) => Leaf::Str(s),
        _ => return false,
    };
    d.kind(node).is_some_and(|k| k.fits(leaf))
}

/// What the shipped detectors must find wherever a value of this shape stands, decided
/// independently of the detectors' own code: an `@` between word characters, a `+` and 8+
/// digits, 7+ digits with only spaces and dashes between them (not a date; Unix
/// milliseconds too: a clock only where declared), a valid IBAN.
fn claimed(value: &str) -> bool {
    let digits = value.bytes().filter(u8::is_ascii_digit).count();
    let only_digits = value
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-');
    let date = value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    value.contains('@')
        || (value.starts_with('+') && digits >= 8)
        || (only_digits && digits >= 7 && !date)
        || value.parse::<iban::Iban>().is_ok()
}

/// The contexts a personal value is seeded into: free text around it, punctuation glued to it.
fn in_free_text(v: &str) -> Vec<String> {
    vec![
        v.to_owned(),
        format!("Please contact {v} today"),
        format!("({v})"),
        format!("{v}."),
        format!("{v},"),
        format!("name: Alice Victimson; id: {v};"),
        format!("\n{v}\n"),
        format!("<{v}>"),
        format!("\"{v}\""),
        format!("Refund for {v}: 150000.00 IDR"),
    ]
}

struct Ctx<'a> {
    policies: &'a Policies,
    rules: &'a [RuleConfig],
    declared: &'a DeclaredPaths,
}

impl Ctx<'_> {
    /// The leaf at `path` is masked whatever the field-name rule says: a rule or a key word
    /// covers it, or it is free text.
    fn masked_anyway(&self, path: &[&str]) -> bool {
        rule_covers(self.rules, path)
            || path.iter().any(|k| self.policies.is_personal_key(k))
            || path.iter().any(|k| FREE_TEXT.contains(k))
    }

    /// Every container of `v` with a direct string member that names a personal field,
    /// reported with each payment leaf in it that the rule would mask.
    fn named_containers<'v>(&self, v: &'v Value, path: &mut Vec<&'v str>, out: &mut Vec<String>) {
        let members: Vec<(Option<&'v str>, &'v Value)> = match v {
            Value::Object(m) => m.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
            Value::Array(a) => a.iter().map(|v| (None, v)).collect(),
            _ => return,
        };
        let names = members.iter().any(|(k, m)| {
            let Value::String(s) = m else { return false };
            let mut p = path.clone();
            p.extend(*k);
            !declared(self.declared, &p)
                && self
                    .policies
                    .key_words()
                    .names_field(s, self.masked_anyway(&p))
        });
        if names {
            let mut all = Vec::new();
            leaves(v, &mut path.clone(), &mut all);
            for (p, leaf) in all {
                if !self.masked_anyway(&p) && !declared(self.declared, &p) {
                    out.push(format!(
                        "{}: {leaf} is masked by a field name beside it",
                        p.join(".")
                    ));
                }
            }
        }
        for (k, m) in members {
            path.extend(k);
            self.named_containers(m, path, out);
            if k.is_some() {
                path.pop();
            }
        }
    }
}

async fn sandbox_bodies() -> Vec<(PolicyFamily, Value)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let cfg = SandboxConfig::demo();
    let token = cfg.token.clone();
    let sandbox = Sandbox::start(listener, cfg).await.expect("sandbox");
    let base = sandbox.base_url();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut paths = vec![
        format!("/api/v1/customer/customer/{FIXTURE_CUSTOMER_ID}"),
        format!("/api/v1/customer/customer-wallet-is-ready/{FIXTURE_CUSTOMER_ID}"),
        "/api/v1/customer/customer?page=1&limit=50".to_owned(),
        "/api/v1/customer/customer?page=2&limit=50".to_owned(),
        "/api/v1/payout/beneficiary?page=1&limit=25".to_owned(),
    ];
    for i in 0..40u32 {
        let hex = format!(
            "{:032x}",
            u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        );
        paths.push(format!("/api/v1/customer/customer/customer_{hex}"));
        paths.push(format!(
            "/api/v1/customer/customer-wallet-is-ready/customer_{hex}"
        ));
        paths.push(format!("/api/v1/payin/retrieve-payin/payin_{hex}"));
    }
    let mut out = Vec::new();
    for path in paths {
        let req = http::Request::get(format!("{base}{path}"))
            .header("x-token", &token)
            .body(Full::new(Bytes::new()))
            .expect("request");
        let resp = client.request(req).await.expect("sandbox answers");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        let v: Value = serde_json::from_slice(&body).expect("JSON");
        out.push((
            PolicyFamily::of_path(path.split('?').next().unwrap_or("")),
            v,
        ));
    }
    sandbox.shutdown().await;
    out
}

fn shipped() -> (Policies, Vec<RuleConfig>) {
    let cfg = super::default_config();
    let rules = cfg.rules.clone();
    let settings = cfg.validate().expect("shipped [mask] is valid");
    (settings.policies, rules)
}

#[tokio::test]
async fn no_false_positive_on_payment_fields_and_no_miss_on_personal_values() {
    let (policies, rules) = shipped();
    let detectors = policies.detectors();
    let bodies = sandbox_bodies().await;
    let mut false_positives = Vec::new();
    let mut misses = Vec::new();
    let mut checked = (0usize, 0usize);
    for (family, body) in &bodies {
        let declared_paths = &policies.for_family(*family).declared;
        // An undeclared array of scalars is also one value, its elements joined.
        let mut arrays = Vec::new();
        scalar_arrays(body, &mut Vec::new(), &mut arrays);
        for (path, texts) in arrays {
            if rule_covers(&rules, &path)
                || path.iter().any(|k| FREE_TEXT.contains(k))
                || declared(declared_paths, &path)
            {
                continue;
            }
            for joined in [texts.concat(), texts.join(" ")] {
                if let Some(d) = detectors.scan(&joined) {
                    false_positives.push(format!(
                        "{}: array joined as {joined:?} fires {}",
                        path.join("."),
                        d.label()
                    ));
                }
            }
        }
        let mut all = Vec::new();
        leaves(body, &mut Vec::new(), &mut all);
        for (path, value) in all {
            let text = match value {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            if rule_covers(&rules, &path) {
                // Personal: a value of a claimed shape must be found anywhere.
                if let Some(t) = text.filter(|t| claimed(t)) {
                    checked.1 += 1;
                    for s in in_free_text(&t) {
                        if detectors.scan(&s).is_none() {
                            misses.push(format!("{}: {s:?}", path.join(".")));
                        }
                    }
                }
                continue;
            }
            if path.iter().any(|k| FREE_TEXT.contains(k)) {
                continue;
            }
            checked.0 += 1;
            let joined = path.join(".");
            // `enforce`: every payment leaf is declared, with a kind its value fits; on any
            // family a declared one fits its kind (`payin_method_name`: `SG_PAYNOW`).
            if (policies.for_family(*family).mode == Mode::Enforce
                || declared(declared_paths, &path))
                && !fits_declared(declared_paths, &path, value)
            {
                false_positives.push(format!(
                    "{} {joined}: {value} is not declared with a kind it fits",
                    family.label()
                ));
            }
            for k in &path {
                if let Some(d) = detectors.scan(k) {
                    false_positives.push(format!("{joined}: key {k:?} fires {}", d.label()));
                }
            }
            // A role key alone (`payer`) masks a name under it, never an id or a code.
            if let (Some(k), Value::String(s)) = (path.last(), value) {
                let id = !s.contains(char::is_whitespace) && s.contains(|c: char| c.is_numeric());
                if policies.key_words().is_role_key(k) && !id && !declared(declared_paths, &path) {
                    false_positives.push(format!("{joined}: {s:?} under the role key {k:?}"));
                }
            }
            if !declared(declared_paths, &path) {
                if let Some(k) = path.iter().find(|k| policies.is_personal_key(k)) {
                    false_positives.push(format!(
                        "{} {joined}: key {k:?} is a key word and the path is not declared",
                        family.label()
                    ));
                }
            }
            if let Value::String(s) = value {
                if detectors.scan_bounded(s).1 {
                    false_positives.push(format!("{joined}: {s:?} stops a reading at a bound"));
                }
            }
            let fired = match value {
                Value::String(s) => detectors.scan(s),
                Value::Number(n) => detectors.scan_number(&n.to_string()),
                _ => None,
            };
            if let Some(d) = fired {
                false_positives.push(format!("{joined}: {value} fires {}", d.label()));
            }
        }
    }
    // A string that names a personal field masks its container's undeclared leaves on
    // `report` families: no container of a sandbox answer may hold one beside a payment value.
    for (family, body) in &bodies {
        if policies.for_family(*family).mode == Mode::Report {
            let ctx = Ctx {
                policies: &policies,
                rules: &rules,
                declared: &policies.for_family(*family).declared,
            };
            ctx.named_containers(body, &mut Vec::new(), &mut false_positives);
        }
    }
    false_positives.sort();
    false_positives.dedup();
    assert!(
        false_positives.is_empty(),
        "false positives:\n{}",
        false_positives.join("\n")
    );
    assert!(misses.is_empty(), "misses:\n{}", misses.join("\n"));
    // The walk really covered both kinds (and the sandbox's personal data has claimed shapes).
    assert!(checked.0 > 500 && checked.1 > 100, "{checked:?}");
}

/// Payment values as paycombat's documentation and common payments APIs write them.
#[test]
fn documented_payment_values_never_fire() {
    let (policies, _) = shipped();
    let d = policies.detectors();
    for s in [
        "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "org_59b8fb2f52254f95ac54d0e140f4e429",
        "api_access_key:AK_FINMO_SBX_07C5090*******************CCBC7F",
        "2024-12-06T03:53:52.779Z",
        "2024-12-19T10:55:31.771Z",
        "2024-12-06T03:53:52+07:00",
        "2024-12-06 03:53:52",
        "2024-12-06",
        "06-12-2024",
        "03:53:52",
        "150000.00",
        "1500000.00",
        "25000000.00",
        "1,500,000.00",
        "1.500.000,00",
        "0.50",
        "IDR",
        "SGD",
        "NOT_STARTED",
        "PENDING",
        "SUCCESS",
        "individual",
        "SG_PAYNOW",
        "BANK_TRANSFER",
        "REF-123456",
        "payin_67d84b19d50b490a8fa75ab20bbf275a",
        "beneficiary_0f9e2d1c3b4a59687766554433221100",
        "67d84b19-d50b-490a-8fa7-5ab20bbf275a",
        "https://hooks.example.com/paycombat/1a2b3c4d",
        "OK",
        "Test New Customer 2",
        "v1",
        "",
    ] {
        assert_eq!(d.scan(s), None, "{s:?}");
    }
    for n in [
        "150000",
        "150000.00",
        "1500000000",
        "1733457232",
        "0",
        "-25",
        "1e21",
    ] {
        assert_eq!(d.scan_number(n), None, "{n}");
    }
    // Unix milliseconds are a clock where a declaration says so (a declared timestamp).
    assert_eq!(d.scan_number_at("1733457232779", true), None);
}

/// The seeded values: in free text, under unlisted keys, and as keys, every one is
/// found, by the detector that claims its shape.
#[test]
fn seeded_personal_values_are_found_everywhere() {
    let (policies, _) = shipped();
    let d = policies.detectors();
    for (value, want) in [
        ("victim.person@example.com", Detector::Email),
        ("fatur4@paycombat.com", Detector::Email),
        ("+62 812-3456-7890", Detector::Phone),
        ("+6285156781124", Detector::Phone),
        ("+44 20 7946 0958", Detector::Phone),
        ("081234567890", Detector::Phone),
        ("0812-3456-7890", Detector::Phone),
        ("(021) 555-1234", Detector::Phone),
        ("85156781124", Detector::DigitRun),
        ("3173000000001234", Detector::DigitRun),
        ("3173 0000 0000 1234", Detector::DigitRun),
        ("123-45-6789", Detector::DigitRun),
        ("S1234567D", Detector::DigitRun),
        ("DE44500105175407324931", Detector::Iban),
        ("GB82 WEST 1234 5698 7654 32", Detector::Iban),
        ("4111 1111 1111 1111", Detector::Card),
        ("5500-0000-0000-0004", Detector::Card),
    ] {
        for s in in_free_text(value) {
            let got = d.scan(&s);
            assert!(got.is_some(), "{s:?} missed");
            if s == value {
                assert_eq!(got, Some(want), "{s:?}");
            }
        }
        // Used as an object key, the value is listed as a placeholder, never as itself.
        let mut path = String::new();
        super::policy::push_segment(&mut path, d, value);
        assert!(!path.contains(value), "{path}");
    }
    for n in [
        "6281234567890",
        "85156781124",
        "3173000000001234",
        "4111111111111111",
    ] {
        assert!(d.scan_number(n).is_some(), "{n} as a number missed");
    }
    for k in [
        "contacts",
        "msisdn",
        "mobile",
        "address",
        "date_of_birth",
        "phone",
        "Email",
        "ktp",
        // attack21d F6: the person themselves and the special categories.
        "religion",
        "marital_status",
        "occupation",
        "tempat_tinggal",
        "umur",
        "national_identity",
        "selfie_url",
        "middle_name",
    ] {
        assert!(policies.is_personal_key(k), "{k}");
    }
    let words = policies.key_words();
    for k in [
        "payer",
        "Recipient",
        "penerima",
        "recipients",
        "Beneficiary",
    ] {
        assert!(words.is_role_key(k), "{k}");
    }
    for k in [
        "payer_id",
        "customer_id",
        "beneficiary_type",
        "fee_borne_by",
        "international",
    ] {
        assert!(!words.is_role_key(k) && !policies.is_personal_key(k), "{k}");
    }
}
