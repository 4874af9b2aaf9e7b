//! Closed sets stay closed: `log.level` takes level names only, and every
//! boolean takes `true`/`false` only, from whatever layer (unquoted in a TOML file).

use std::path::Path;

use super::super::{default_section, load_with};

const NO_AUTH: &str = "[auth]\nmode = \"none\"\n";

fn problem_keys(overlay: &str) -> Vec<String> {
    match load_with(
        Path::new("/nonexistent"),
        None,
        Some(&format!("{NO_AUTH}{overlay}")),
    ) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(|p| p.key.clone()).collect(),
    }
}

#[test]
fn log_level_is_a_level_name_alone_or_per_target() {
    for good in [
        "info",
        "DEBUG",
        "off",
        "warn,paycombat_gateway=debug",
        "error,hyper=warn",
    ] {
        assert_eq!(
            problem_keys(&format!("[log]\nlevel = {good:?}\n")),
            Vec::<String>::new(),
            "{good}"
        );
    }
    for bad in [
        "verbose",
        "info,paycombat_gateway=loud",
        "=debug",
        "",
        "inf",
    ] {
        let e = load_with(
            Path::new("/nonexistent"),
            None,
            Some(&format!("{NO_AUTH}[log]\nlevel = {bad:?}\n")),
        )
        .unwrap_err();
        let p = &e.problems()[0];
        assert_eq!(p.key, "log.level", "{bad}: {e}");
    }
    let e = load_with(
        Path::new("/nonexistent"),
        None,
        Some(&format!("{NO_AUTH}[log]\nlevel = \"verbose\"\n")),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(r#"`log.level`: "verbose" is not one of "trace", "debug", "info", "warn", "error", "off""#),
        "{e}"
    );
}

/// Every boolean key of config/default.toml, as (table path, key).
fn boolean_keys(prefix: &str, v: &config::Value, out: &mut Vec<(String, String)>) {
    if let config::ValueKind::Table(t) = &v.kind {
        for (k, v) in t {
            match &v.kind {
                config::ValueKind::Boolean(_) => out.push((prefix.to_owned(), k.clone())),
                config::ValueKind::Table(_) => {
                    let sub = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    boolean_keys(&sub, v, out)
                }
                _ => {}
            }
        }
    }
}

#[test]
fn every_boolean_refuses_yes_on_and_1_and_takes_true_and_false() {
    let mut keys = Vec::new();
    for section in [
        "server",
        "admin",
        "upstream",
        "log",
        "mask",
        "cache",
        "auth",
        "telemetry",
        "cluster",
        "idempotency",
    ] {
        boolean_keys(
            section,
            &default_section::<config::Value>(section),
            &mut keys,
        );
    }
    assert!(keys.len() >= 8, "the shipped booleans: {keys:?}");
    for (table, key) in &keys {
        let dotted = format!("{table}.{key}");
        for loose in ["\"yes\"", "\"on\"", "\"1\"", "1", "\"no\""] {
            let found = problem_keys(&format!("[{table}]\n{key} = {loose}\n"));
            assert!(found.contains(&dotted), "{dotted} = {loose}: {found:?}");
        }
        for strict in ["true", "false"] {
            let found = problem_keys(&format!("[{table}]\n{key} = {strict}\n"));
            assert!(!found.contains(&dotted), "{dotted} = {strict}: {found:?}");
        }
        // A TOML file says its type: a quoted boolean is a string, refused
        // there (`config::types`); the environment's values are all text, so
        // there "true" and "FALSE" are booleans.
        for quoted in ["\"true\"", "\"FALSE\""] {
            let found = problem_keys(&format!("[{table}]\n{key} = {quoted}\n"));
            assert!(found.contains(&dotted), "{dotted} = {quoted}: {found:?}");
        }
        let var = format!(
            "GATEWAY__{}__{}",
            table.to_uppercase().replace('.', "__"),
            key.to_uppercase()
        );
        for text in ["true", "FALSE"] {
            let found = env_problem_keys(&var, text);
            assert!(!found.contains(&dotted), "{var}={text}: {found:?}");
        }
    }
}

fn env_problem_keys(var: &str, value: &str) -> Vec<String> {
    let (_, problems) = super::super::check_with_vars(
        Path::new("/nonexistent"),
        None,
        Some(NO_AUTH),
        super::super::EnvLayer::from_vars([(var, value)]),
    );
    problems.into_vec().into_iter().map(|p| p.key).collect()
}

#[test]
fn a_loose_boolean_is_reported_with_every_other_problem() {
    let found = problem_keys("[cache]\nenabled = \"yes\"\n[log]\nlevel = \"verbose\"\n");
    assert_eq!(found, ["cache.enabled", "log.level"]);
}
