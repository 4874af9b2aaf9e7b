//! Registry-level tests: the clients file, authentication, authorization and rate limits.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};

use super::*;

mod authentication;
mod certificates;
mod example_file;
mod rate_limits;
mod shape;
mod validation;

const EXAMPLE: &str = include_str!("../../../config/clients.example.toml");

fn x_token(key: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(X_TOKEN, HeaderValue::from_str(key).expect("header value"));
    h
}

fn bearer(key: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {key}")).expect("header value"),
    );
    h
}

/// One client named `name` with the given keys and extra TOML lines.
fn client_toml(name: &str, keys: &[&str], extra: &str) -> String {
    let hashes: Vec<String> = keys.iter().map(|k| format!("{:?}", hash_key(k))).collect();
    format!(
        "[[clients]]\nname = {name:?}\nkeys_sha256 = [{}]\n{extra}\n",
        hashes.join(", ")
    )
}

const ALLOW_ALL_GET: &str = r#"allow = [{ methods = ["GET"], path = "/api/**" }]"#;

fn registry(toml: &str) -> ClientRegistry {
    match ClientRegistry::from_toml_str(toml) {
        Ok(r) => r,
        Err(e) => panic!("valid file rejected: {e}"),
    }
}

fn config_error(toml: &str) -> AuthConfigError {
    match ClientRegistry::from_toml_str(toml) {
        Ok(r) => panic!("invalid file accepted: {r:?}"),
        Err(e) => e,
    }
}

fn problem(toml: &str) -> (usize, String, ClientProblem) {
    match config_error(toml) {
        AuthConfigError::Client {
            index,
            name,
            problem,
        } => (index, name, problem),
        other => panic!("expected a client problem, got {other}"),
    }
}
