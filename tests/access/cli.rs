//! The `hash-key` subcommand, and client keys as the default mode.

use std::io::Write;
use std::process::{Command, Stdio};

use paycombat_gateway::auth::hash_key;

#[test]
fn client_keys_are_the_default_and_need_a_clients_file() {
    use paycombat_gateway::config::{load_with, AuthModeSetting};
    let nowhere = std::path::Path::new("/nonexistent");
    // Nothing said about auth: keys mode, and without a clients file the gateway does not start.
    let err = load_with(nowhere, None, None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("auth.clients_file"), "{err}");
    let settings = load_with(nowhere, None, Some("[auth]\nmode = \"none\""))
        .expect("explicit none is accepted");
    assert_eq!(settings.auth.mode, AuthModeSetting::None);
}

fn hash_key_cmd(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .arg("hash-key")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn hash_key_subcommand_prints_the_library_hash() {
    for input in [&b"pcgw_some-service-key"[..], b"pcgw_some-service-key\n"] {
        let out = hash_key_cmd(&[], input);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("{}\n", hash_key("pcgw_some-service-key"))
        );
    }
    let out = hash_key_cmd(&[], b"");
    assert_eq!(out.status.code(), Some(64));
    assert!(out.stdout.is_empty());
}

#[test]
fn hash_key_generate_prints_a_key_and_its_hash() {
    let out = hash_key_cmd(&["--generate"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    let (key, hash) = (field("key:"), field("sha256:"));
    assert!(key.starts_with("pcgw_") && key.len() == 48, "{key}");
    assert_eq!(hash, hash_key(&key));
    assert_eq!(hash.len(), 64);
    let again = String::from_utf8(hash_key_cmd(&["--generate"], b"").stdout).unwrap();
    assert!(!again.contains(&key), "every run generates a new key");
}
