//! The environment rule through the whole config pass: strings arrive byte for
//! byte, typed keys still parse, and every shipped key reads back from the
//! environment as it is written in `config/default.toml`.

use std::path::Path;

use secrecy::ExposeSecret;

use super::super::{check_with_vars, EnvLayer, Settings, DEFAULT_TOML};
use crate::config::{ConfigError, SecretSource};

fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let mut all = vec![("GATEWAY__AUTH__MODE", "none")];
    all.extend_from_slice(vars);
    load_layers(None, &all)
}

fn load_layers(overlay: Option<&str>, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let (partial, problems) = check_with_vars(
        Path::new("/nonexistent"),
        None,
        overlay,
        EnvLayer::from_vars(vars.iter().copied()),
    );
    problems.finish(partial.complete())
}

fn token(s: &Settings) -> String {
    match &s.upstream.token {
        Some(SecretSource::Value(v)) => v.expose_secret().to_owned(),
        other => panic!("no token value: {other:?}"),
    }
}

/// Values config-rs's `try_parsing` used to rewrite, and two it split or mangled.
const AWKWARD: [&str; 7] = [
    "00123",
    "TRUE",
    "1e3",
    "a value with spaces",
    "k=v=w",
    "1,2,3",
    "-0",
];

#[test]
fn strings_arrive_byte_for_byte() {
    for value in AWKWARD {
        let s = load(&[
            ("GATEWAY__UPSTREAM__TOKEN", value),
            ("GATEWAY__TELEMETRY__OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("GATEWAY__TELEMETRY__SERVICE_NAME", value),
        ])
        .unwrap_or_else(|e| panic!("{value:?}: {e}"));
        assert_eq!(token(&s), value, "the token");
        let exporter = s.telemetry.exporter.as_ref().expect("tracing on");
        assert_eq!(exporter.service_name, value, "a plain string setting");
    }
}

#[test]
fn typed_keys_still_parse_from_strings() {
    let s = load(&[
        ("GATEWAY__SERVER__MAX_CONNECTIONS", "77"),
        ("GATEWAY__SERVER__WATCH_FILES", "FALSE"),
        ("GATEWAY__SERVER__IDLE_TIMEOUT", "1500ms"),
        ("GATEWAY__SERVER__TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1"),
        ("GATEWAY__UPSTREAM__STRIP_REQUEST_HEADERS", "cookie,x-debug"),
        ("GATEWAY__UPSTREAM__RETRY__BUDGET_RATIO", "0.5"),
        ("GATEWAY__CACHE__ROUTES__CUSTOMER_DETAIL__TTL", "15s"),
    ])
    .unwrap();
    assert_eq!(s.server.max_connections, 77);
    assert!(!s.server.watch_files);
    assert_eq!(
        s.server.idle_timeout,
        std::time::Duration::from_millis(1500)
    );
    assert!(s
        .pipeline
        .trusted_proxies
        .contains("10.9.8.7".parse().unwrap()));
    assert!(s
        .pipeline
        .trusted_proxies
        .contains("127.0.0.1".parse().unwrap()));
    let stripped: Vec<&str> = s
        .upstream
        .strip_request_headers
        .iter()
        .map(|h| h.as_str())
        .collect();
    assert!(stripped.contains(&"x-debug"), "{stripped:?}");
    assert!((s.upstream.retry.budget_ratio - 0.5).abs() < f64::EPSILON);
}

#[test]
fn a_typed_key_with_a_wrong_string_is_named() {
    let e = load(&[("GATEWAY__SERVER__MAX_CONNECTIONS", "lots")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("server.max_connections"), "{e}");
    let e = load(&[("GATEWAY__SERVER__WATCH_FILES", "maybe")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("server.watch_files"), "{e}");
}

#[test]
fn an_empty_list_value_is_an_empty_list() {
    let s = load(&[("GATEWAY__UPSTREAM__STRIP_REQUEST_HEADERS", "")]).unwrap();
    assert!(s.upstream.strip_request_headers.is_empty());
}

/// Every scalar and list of scalars in `config/default.toml`: the dotted key,
/// the text an operator would put in the environment for it, and the same
/// value as a TOML literal.
fn shipped_keys() -> Vec<(String, String, String)> {
    use config::ValueKind;
    fn text(v: &config::Value) -> Option<String> {
        Some(match &v.kind {
            ValueKind::String(s) => s.clone(),
            ValueKind::Boolean(b) => b.to_string(),
            ValueKind::I64(n) => n.to_string(),
            ValueKind::U64(n) => n.to_string(),
            ValueKind::Float(f) => f.to_string(),
            _ => return None,
        })
    }
    fn literal(v: &config::Value) -> Option<String> {
        match &v.kind {
            ValueKind::String(s) => Some(serde_json::Value::from(s.as_str()).to_string()),
            _ => text(v),
        }
    }
    fn walk(prefix: &str, v: &config::Value, out: &mut Vec<(String, String, String)>) {
        match &v.kind {
            ValueKind::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            ValueKind::Array(items) => {
                // Lists of tables (mask rules) cannot be written in one variable.
                let texts: Option<Vec<String>> = items.iter().map(text).collect();
                let literals: Option<Vec<String>> = items.iter().map(literal).collect();
                if let (Some(t), Some(l)) = (texts, literals) {
                    out.push((
                        prefix.to_owned(),
                        t.join(","),
                        format!("[{}]", l.join(", ")),
                    ));
                }
            }
            _ => {
                if let (Some(t), Some(l)) = (text(v), literal(v)) {
                    out.push((prefix.to_owned(), t, l));
                }
            }
        }
    }
    let root = config::Config::builder()
        .add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ))
        .build()
        .unwrap()
        .cache;
    let mut out = Vec::new();
    walk("", &root, &mut out);
    out
}

/// The class: any shipped key, given in the environment as its default is
/// written, reads exactly as the same value written in a TOML layer (strings
/// unchanged, typed keys parsed, lists split) — so no key depends on a list
/// of exceptions, and every one still reads as its default.
#[test]
fn every_shipped_key_reads_from_the_environment_as_from_a_file() {
    let keys = shipped_keys();
    assert!(keys.len() > 60, "{} keys", keys.len());
    let clients = "auth.clients_file = \"/etc/gateway/clients.toml\"";
    let baseline = format!("{:?}", load_layers(Some(clients), &[]).unwrap());
    for (key, text, literal) in keys {
        // The one key the base sets is then left at its (empty) default.
        let base = if key == "auth.clients_file" {
            ""
        } else {
            clients
        };
        let var = format!("GATEWAY__{}", key.to_uppercase().replace('.', "__"));
        let from_env = format!("{:?}", load_layers(Some(base), &[(&var, &text)]));
        let from_file = format!(
            "{:?}",
            load_layers(Some(&format!("{base}\n{key} = {literal}")), &[])
        );
        assert_eq!(from_env, from_file, "{var}={text:?}");
        if key != "auth.clients_file" {
            assert_eq!(from_env, format!("Ok({baseline})"), "{var}={text:?}");
        }
    }
}

proptest::proptest! {
    /// Any printable token reaches the settings exactly as given.
    #[test]
    fn any_token_is_kept_exactly(value in "[!-~][ -~]{0,30}[!-~]") {
        let s = load(&[("GATEWAY__UPSTREAM__TOKEN", &value)]).unwrap();
        proptest::prop_assert_eq!(token(&s), value);
    }
}

/// A variable in the documented form naming a key or a section there is not
/// is refused, with the list of the ones there are.
#[test]
fn an_unknown_key_or_section_from_the_environment_lists_the_valid_ones() {
    let e = load(&[("GATEWAY__UPSTREAM__BASEURL", "https://x")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`upstream.baseurl`: unknown key (expected one of `base_url`, `token_file`"),
        "{e}"
    );
    let e = load(&[("GATEWAY__UPSTRAEM__BASE_URL", "https://x")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`upstraem`: unknown section: \"upstraem\" is not one of \"server\", \"admin\", \"upstream\""),
        "{e}"
    );
}
