//! `check-config` on the real binary: every problem of a configuration — the
//! settings and the start-up checks — in one run, each once, then exit 64.

use std::process::Command;

fn check_config(dir: &std::path::Path, env: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .env_clear()
        .arg("check-config")
        .arg("--config-dir")
        .arg(dir)
        .arg("--env")
        .arg(env)
        .output()
        .expect("binary runs");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.code(), text)
}

#[test]
fn every_problem_is_listed_once_then_exit_64() {
    let dir = tempfile::tempdir().unwrap();
    let missing = |f: &str| dir.path().join("missing").join(f).display().to_string();
    std::fs::write(
        dir.path().join("bad.toml"),
        format!(
            r#"
[server]
listen = "nope"
[admin]
token_file = "{admin}"
[upstream]
token_file = "{token}"
ca_file = "{ca}"
[log]
format = "xml"
level = "info,["
[mask]
hmac_key_file = "{hmac}"
[cache.routes.customer_detail]
ttl = "0s"
[auth]
clients_file = "{clients}"
"#,
            admin = missing("admin_token"),
            token = missing("token"),
            ca = missing("ca.pem"),
            hmac = missing("hmac_key"),
            clients = missing("clients.toml"),
        ),
    )
    .unwrap();
    let (code, text) = check_config(dir.path(), "bad");
    assert_eq!(code, Some(64), "{text}");
    for key in [
        "server.listen",
        "log.format",
        "log.level",
        "cache.routes.customer_detail.ttl",
        "upstream.token_file",
        "upstream.ca_file",
        "mask.hmac_key_file",
        "auth.clients_file",
        "admin.token_file",
    ] {
        let listed = text
            .lines()
            .filter(|l| l.starts_with(&format!("  - `{key}`: ")))
            .count();
        assert_eq!(listed, 1, "{key} listed {listed} times:\n{text}");
    }
    for line in text.lines() {
        assert!(line.matches("(os error 2)").count() <= 1, "{line}");
    }
    assert!(!text.contains("enum "), "{text}");
}

#[test]
fn a_valid_configuration_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "snd_token").unwrap();
    let hmac = dir.path().join("hmac");
    std::fs::write(&hmac, "mask-key").unwrap();
    // auth.mode = "none" lets anyone write: the signature key is required.
    let sig = dir.path().join("sig");
    std::fs::write(&sig, "sig-key").unwrap();
    std::fs::write(
        dir.path().join("ok.toml"),
        format!(
            "[upstream]\ntoken_file = \"{}\"\nsignature_key_file = \"{}\"\n[mask]\nhmac_key_file = \"{}\"\n[auth]\nmode = \"none\"\n",
            token.display(),
            sig.display(),
            hmac.display()
        ),
    )
    .unwrap();
    let (code, text) = check_config(dir.path(), "ok");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("configuration is valid"), "{text}");
}

#[test]
fn tls_file_problems_are_each_named_by_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).display().to_string();
    std::fs::write(dir.path().join("token"), "snd_token").unwrap();
    std::fs::write(dir.path().join("hmac"), "mask-key").unwrap();
    std::fs::write(dir.path().join("cert.pem"), "not a certificate").unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["x".to_owned()]).unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        other.signing_key.serialize_pem(),
    )
    .unwrap();
    let base = format!(
        "[upstream]\ntoken_file = {token:?}\n[mask]\nhmac_key_file = {hmac:?}\n[auth]\nmode = \"none\"\n",
        token = p("token"),
        hmac = p("hmac"),
    );
    std::fs::write(
        dir.path().join("bad.toml"),
        format!(
            "{base}[server.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\nclient_ca_file = {ca:?}\nclient_auth = \"required\"\n",
            cert = p("cert.pem"),
            key = p("key.pem"),
            ca = p("missing-ca.pem"),
        ),
    )
    .unwrap();
    let (code, text) = check_config(dir.path(), "bad");
    assert_eq!(code, Some(64), "{text}");
    for (key, says) in [
        ("server.tls.cert_file", "no PEM certificate"),
        ("server.tls.client_ca_file", "cannot read"),
    ] {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("  - `{key}`: ")))
            .collect();
        assert_eq!(lines.len(), 1, "{key}:\n{text}");
        assert!(lines[0].contains(says), "{key}:\n{text}");
    }
    assert!(
        !text.contains("PRIVATE KEY-----\n"),
        "no key material: {text}"
    );

    // The same files, well-formed, but the key is another certificate's.
    std::fs::write(dir.path().join("cert.pem"), other.cert.pem()).unwrap();
    let mine = rcgen::generate_simple_self_signed(vec!["y".to_owned()]).unwrap();
    std::fs::write(dir.path().join("key.pem"), mine.signing_key.serialize_pem()).unwrap();
    std::fs::write(
        dir.path().join("mismatch.toml"),
        format!(
            "{base}[server.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n",
            cert = p("cert.pem"),
            key = p("key.pem"),
        ),
    )
    .unwrap();
    let (code, text) = check_config(dir.path(), "mismatch");
    assert_eq!(code, Some(64), "{text}");
    assert!(
        text.contains("`server.tls.key_file`: ") && text.contains("is not the private key"),
        "{text}"
    );

    // Valid files, but a client only a certificate names while none is asked for.
    std::fs::write(
        dir.path().join("key.pem"),
        other.signing_key.serialize_pem(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("clients.toml"),
        "[[clients]]\nname = \"billing\"\nsubjects = [\"dns:billing.internal\"]\nallow = [{ methods = [\"GET\"], path = \"/api/v1/**\" }]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("locked.toml"),
        format!(
            "{}[server.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n",
            base.replace(
                "mode = \"none\"",
                &format!("clients_file = {:?}", p("clients.toml"))
            ),
            cert = p("cert.pem"),
            key = p("key.pem"),
        ),
    )
    .unwrap();
    let (code, text) = check_config(dir.path(), "locked");
    assert_eq!(code, Some(64), "{text}");
    assert!(
        text.contains("`auth.clients_file`: ")
            && text.contains("billing has only certificate subjects"),
        "{text}"
    );
}

/// The binary with `args` in an empty environment: exit code and stderr.
fn run(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .env_clear()
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The problem lines (`  - `key`: reason`) of an answer.
fn problem_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("  - `")).collect()
}

/// `serve` runs the same pass as `check-config`: no token, no clients file,
/// no mask key and two bad clients are all listed by one start, the same
/// list `check-config` gives, before anything binds.
#[test]
fn serve_lists_every_start_up_problem_at_once_as_check_config_does() {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).display().to_string();
    std::fs::write(
        dir.path().join("clients.toml"),
        "[[clients]]\nname = \"Bad Name\"\nkeys_sha256 = [\"abc\"]\nallow = [{ methods = [\"GET\"], path = \"/api/v1/**\" }]\n\
         [[clients]]\nname = \"empty\"\nkeys_sha256 = []\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("gateway.toml"),
        format!(
            "[upstream]\ntoken_file = {token:?}\n[mask]\nhmac_key_file = {hmac:?}\n[auth]\nclients_file = {clients:?}\n",
            token = p("no-token"),
            hmac = p("no-hmac"),
            clients = p("clients.toml"),
        ),
    )
    .unwrap();
    let file = dir.path().join("gateway.toml");
    let (code, checked) = run(&[
        "check-config".as_ref(),
        "--config".as_ref(),
        file.as_os_str(),
    ]);
    assert_eq!(code, Some(64), "{checked}");
    let (code, served) = run(&[
        "serve".as_ref(),
        "--config".as_ref(),
        file.as_os_str(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--admin-listen".as_ref(),
        "127.0.0.1:0".as_ref(),
    ]);
    assert_eq!(code, Some(64), "{served}");
    let lines = problem_lines(&served);
    assert_eq!(
        lines,
        problem_lines(&checked),
        "serve:\n{served}\ncheck-config:\n{checked}"
    );
    for key in ["upstream.token_file", "mask.hmac_key_file"] {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with(&format!("  - `{key}`")))
                .count(),
            1,
            "{key}:\n{served}"
        );
    }
    // Each problem of the clients file on its own line: 2 + 2.
    let clients: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("  - `auth.clients_file`"))
        .collect();
    assert_eq!(clients.len(), 4, "{served}");
    assert!(
        clients[0].contains("clients[0]") && clients[3].contains("clients[1]"),
        "{served}"
    );
}

/// Command-line flags are the top layer, validated with the rest: a
/// `--listen` equal to `--admin-listen` is the same problem as in a file.
#[test]
fn flags_are_validated_like_any_other_layer() {
    let (code, text) = run(&[
        "serve".as_ref(),
        "--listen".as_ref(),
        "127.0.0.1:18089".as_ref(),
        "--admin-listen".as_ref(),
        "127.0.0.1:18089".as_ref(),
    ]);
    assert_eq!(code, Some(64), "{text}");
    assert!(
        text.contains("`admin.listen`: must differ from `server.listen`"),
        "{text}"
    );
}

/// `check-config` takes the flags `serve` layers, as the same top layer: what it
/// accepts, `serve` would start with.
#[test]
fn check_config_checks_the_flags_serve_layers() {
    let with_flags = |command: &str| {
        let flags = [
            "--listen",
            "127.0.0.1:18089",
            "--admin-listen",
            "127.0.0.1:18089",
        ];
        let args: Vec<&std::ffi::OsStr> = std::iter::once(command)
            .chain(flags)
            .map(std::ffi::OsStr::new)
            .collect();
        run(&args)
    };
    let (code, checked) = with_flags("check-config");
    assert_eq!(code, Some(64), "{checked}");
    let (code, served) = with_flags("serve");
    assert_eq!(code, Some(64), "{served}");
    assert!(
        checked.contains("`admin.listen`: must differ from `server.listen`"),
        "{checked}"
    );
    assert_eq!(problem_lines(&checked), problem_lines(&served));
}

/// `--config FILE` names the file layer; with `--env` as well it is refused
/// (each names the one file), and a missing file is named.
#[test]
fn config_flag_names_the_file_layer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, "[log]\nformat = \"xml\"\n").unwrap();
    let (code, text) = run(&[
        "check-config".as_ref(),
        "--config".as_ref(),
        file.as_os_str(),
    ]);
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("`log.format`"), "the file was read: {text}");
    let (code, text) = run(&[
        "check-config".as_ref(),
        "--config".as_ref(),
        file.as_os_str(),
        "--env".as_ref(),
        "production".as_ref(),
    ]);
    assert_eq!(code, Some(64), "{text}");
    assert!(
        text.contains("`--config`: give either --config FILE or --env"),
        "{text}"
    );
    let missing = dir.path().join("missing.toml");
    let (code, text) = run(&[
        "check-config".as_ref(),
        "--config".as_ref(),
        missing.as_os_str(),
    ]);
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("missing.toml does not exist"), "{text}");
}

/// An unknown section is answered with the sections there are.
#[test]
fn an_unknown_section_lists_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[upstrem]\nbase_url = \"https://x\"\n").unwrap();
    let (code, text) = run(&[
        "check-config".as_ref(),
        "--config".as_ref(),
        file.as_os_str(),
    ]);
    assert_eq!(code, Some(64), "{text}");
    assert!(
        text.contains("`upstrem`: unknown section: \"upstrem\" is not one of \"server\", \"admin\", \"upstream\""),
        "{text}"
    );
}

/// In cluster mode `check-config` connects to the Redis, and each way that fails
/// says which setting to fix: no password sent, the wrong one, nothing listening.
/// (redis-rs alone calls the first "extension error" and the last "I/O error".)
#[test]
fn check_config_names_the_redis_setting_to_fix() {
    use crate::common::redis::RedisServer;
    if !crate::common::require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start_with_password("the-redis-password");
    let dir = tempfile::tempdir().unwrap();
    let mask_key = dir.path().join("mask_key");
    std::fs::write(&mask_key, "a-mask-key-for-this-test-only-32b").unwrap();
    let wrong = dir.path().join("wrong_password");
    std::fs::write(&wrong, "not-the-password").unwrap();
    let right = dir.path().join("password");
    std::fs::write(&right, "the-redis-password").unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();

    let run = |url: &str, password_file: Option<&std::path::Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"));
        cmd.env_clear()
            .current_dir(dir.path())
            .arg("check-config")
            .env("GATEWAY__AUTH__MODE", "none")
            .env("GATEWAY__UPSTREAM__TOKEN", "a-token-for-this-test")
            .env(
                "GATEWAY__UPSTREAM__SIGNATURE_KEY",
                "a-signature-key-for-this-test",
            )
            .env("GATEWAY__MASK__HMAC_KEY_FILE", &mask_key)
            .env("GATEWAY__CLUSTER__REDIS_URL", url);
        if let Some(p) = password_file {
            cmd.env("GATEWAY__CLUSTER__REDIS_PASSWORD_FILE", p);
        }
        let out = cmd.output().expect("binary runs");
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        (out.status.code(), text)
    };

    let (code, text) = run(&redis.url(), Some(&right));
    assert_eq!(code, Some(0), "{text}");

    let (code, text) = run(&redis.url(), None);
    assert_eq!(code, Some(64), "{text}");
    assert!(
        text.contains("requires a password and none was sent: set `cluster.redis_password_file`"),
        "{text}"
    );

    let (code, text) = run(&redis.url(), Some(&wrong));
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("refused the password"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");

    let (code, text) = run(&format!("redis://127.0.0.1:{closed_port}/0"), None);
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("refused the connection"), "{text}");
}
