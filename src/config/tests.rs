//! The config pass: defaults, keys named, every problem at once.

use super::*;

const NO_AUTH: &str = "[auth]\nmode = \"none\"";

fn with(overlay: &str) -> Result<Settings, ConfigError> {
    load_with(Path::new("/nonexistent"), None, Some(overlay))
}

#[test]
fn defaults_are_valid_and_safe() {
    // Client authentication is on by default: without a clients file the
    // gateway refuses to start rather than let anyone act as the merchant.
    let e = with("").unwrap_err().to_string();
    assert!(e.contains("auth.clients_file"), "{e}");
    let s = with(NO_AUTH).unwrap();
    assert!(s.server.listen.ip().is_loopback());
    assert!(s.admin.listen.ip().is_loopback());
    assert_eq!(s.upstream.base_url.host(), Some("api.paycombat.com"));
    assert!(s.upstream.token.is_none());
}

#[test]
fn trusted_proxies_default_to_none_and_bad_entries_name_the_key() {
    let s = with(NO_AUTH).unwrap();
    assert!(s.pipeline.trusted_proxies.is_empty());
    let s = with(&format!(
        "{NO_AUTH}\n[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"127.0.0.1\"]"
    ))
    .unwrap();
    assert!(s
        .pipeline
        .trusted_proxies
        .contains("10.2.3.4".parse().unwrap()));
    let e = with(&format!(
        "{NO_AUTH}\n[server]\ntrusted_proxies = [\"10.0.0.0/40\"]"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("server.trusted_proxies"), "{e}");
}

#[test]
fn tls_is_off_by_default_and_its_files_must_go_together() {
    assert!(with(NO_AUTH).unwrap().server.tls.is_none());
    let s = with(&format!(
        "{NO_AUTH}\n[server.tls]\ncert_file = \"/c\"\nkey_file = \"/k\"\nclient_ca_file = \"/ca\"\nclient_auth = \"required\""
    ))
    .unwrap();
    let tls = s.server.tls.unwrap();
    assert_eq!(tls.client_auth, ClientAuth::Required);
    assert_eq!(tls.client_ca_file, Some(PathBuf::from("/ca")));

    let problems = |overlay: &str| -> Vec<String> {
        with(&format!("{NO_AUTH}\n[server.tls]\n{overlay}"))
            .unwrap_err()
            .problems()
            .iter()
            .map(|p| p.key.clone())
            .collect()
    };
    assert_eq!(problems("cert_file = \"/c\""), ["server.tls.key_file"]);
    assert_eq!(problems("key_file = \"/k\""), ["server.tls.cert_file"]);
    assert_eq!(
        problems("client_auth = \"optional\""),
        ["server.tls.client_auth", "server.tls.client_ca_file"],
        "client certificates without TLS and without a CA: both said at once"
    );
    assert_eq!(
        problems("cert_file = \"/c\"\nkey_file = \"/k\"\nclient_ca_file = \"/ca\""),
        ["server.tls.client_ca_file"],
        "a CA that would be ignored"
    );
    let e = with(&format!("{NO_AUTH}\n[server.tls]\nclient_auth = \"yes\""))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("server.tls.client_auth") && e.contains("\"required\""),
        "{e}"
    );
}

#[test]
fn errors_name_the_key() {
    let e = with("[server]\nlisten = \"nope\"").unwrap_err().to_string();
    assert!(e.contains("server.listen"), "{e}");
    let e = with("[upstream]\nbase_url = \"ftp://x\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("upstream.base_url"), "{e}");
    let e = with("[upstream]\ntoken_file = \"/a\"\ntoken = \"b\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("upstream.token"), "{e}");
    let e = with("[server]\nlisten_typo = \"x\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("listen_typo"), "{e}");
    let e = with("[server]\ndrain_timeout = \"soon\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("drain_timeout"), "{e}");
    for key in [
        "idle_timeout = \"0s\"",
        "max_connections = 0",
        "request_body_timeout = \"0s\"",
        "response_write_timeout = \"0s\"",
    ] {
        let e = with(&format!("{NO_AUTH}\n[server]\n{key}"))
            .unwrap_err()
            .to_string();
        let name = key.split(' ').next().unwrap();
        assert!(e.contains(&format!("server.{name}")), "{e}");
    }
}

#[test]
fn the_shipped_production_layer_loads() {
    let s = load_with(
        Path::new("config"),
        Some("production"),
        Some("[auth]\nmode = \"none\""),
    )
    .unwrap();
    assert_eq!(s.server.listen, "0.0.0.0:8080".parse().unwrap());
    assert_eq!(s.log.format, LogFormat::Json);
    assert!(
        load(Path::new("config"), Some("staging")).is_err(),
        "a missing layer is an error"
    );
}

#[test]
fn secrets_never_debug_print() {
    let s = with(&format!(
        "{NO_AUTH}\n[upstream]\ntoken = \"snd_supersecret\""
    ))
    .unwrap();
    assert!(!format!("{s:?}").contains("supersecret"));
}

/// The message of `overlay` (over the defaults, client auth off): it must be refused.
fn refused(overlay: &str) -> String {
    with(&format!("{NO_AUTH}\n{overlay}"))
        .unwrap_err()
        .to_string()
}

#[test]
fn a_closed_set_is_named_in_plain_words() {
    let e = refused("[log]\nformat = \"xml\"");
    assert!(
        e.contains(r#"`log.format`: "xml" is not one of "human", "json""#),
        "{e}"
    );
    let e = with("[auth]\nmode = \"maybe\"").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid configuration:\n  - `auth.mode`: \"maybe\" is not one of \"keys\", \"none\"",
        "the default standing in for the wrong mode adds no problem of its own"
    );
}

#[test]
fn a_cache_key_is_named_once() {
    let e = refused("[cache.routes.customer_detail]\nttl = \"0s\"");
    assert!(
        e.contains("`cache.routes.customer_detail.ttl`: must be greater than 0"),
        "{e}"
    );
    assert!(!e.contains("cache.cache"), "{e}");
    assert_eq!(
        e.matches("cache.routes.customer_detail.ttl").count(),
        1,
        "{e}"
    );
}

#[test]
fn an_element_field_gets_its_dot() {
    let e = refused("[[mask.rules]]\nfield = \"a\"\nstrategy = \"redcat\"");
    assert!(
        e.contains(r#"`mask.rules[0].strategy`: "redcat" is not one of "redact", "last4""#),
        "{e}"
    );
    let e = refused("[[mask.rules]]\nfield = \"a\"\nstrategy = \"redact\"\nextra = 1");
    assert!(e.contains("`mask.rules[0].extra`: unknown key"), "{e}");
}

#[test]
fn log_level_must_be_a_filter() {
    let e = refused("[log]\nlevel = \"info,[\"");
    assert!(
        e.contains(r#"`log.level`: "info,[" is not a log filter"#),
        "{e}"
    );
    for fine in [
        "info",
        "warn,paycombat_gateway=debug",
        "access=info,hyper=warn",
    ] {
        let s = with(&format!("{NO_AUTH}\n[log]\nlevel = {fine:?}")).unwrap();
        assert_eq!(s.log.level, fine);
    }
}

#[test]
fn unknown_keys_and_sections_are_named() {
    let e = refused("[server]\nlisten_typo = 1");
    assert!(e.contains("`server.listen_typo`: unknown key"), "{e}");
    let e = refused("[cache.routes.customer_list]\nttl = \"1s\"");
    assert!(
        e.contains("`cache.routes.customer_list`: unknown key"),
        "{e}"
    );
    let e = refused("[bogus]\nx = 1");
    assert!(e.contains("`bogus`: unknown section"), "{e}");
}

/// `[upstream]` has three owners (upstream, inspection, fair), each reading
/// only its own keys: every owner's key is read into its owner's settings, a
/// wrong value is named under the section whoever owns it, and a key no owner
/// reads is refused once, with every owner's keys as the ones expected.
#[test]
fn upstream_keys_are_read_by_their_owners_and_a_stray_key_is_refused_once() {
    let s = with(&format!(
        "{NO_AUTH}\n[upstream]\ntimeout = \"7s\"\nmax_response_body_bytes = 1000\n\
         max_buffered_bytes = 9000\n[upstream.per_client]\nslot_share = 0.25\n"
    ))
    .unwrap();
    assert_eq!(s.upstream.timeout, std::time::Duration::from_secs(7));
    assert_eq!(s.inspect.max_response_body_bytes, 1000);
    assert_eq!(s.inspect.max_buffered_bytes, 9000);
    assert_eq!(s.per_client.slot_share, 0.25);

    let e = with(&format!(
        "{NO_AUTH}\n[upstream]\ntimeout = \"soon\"\nmax_buffered_bytes = -1\n\
         max_bufered_bytes = 1\n[upstream.per_client]\nslot_share = 2.0\n"
    ))
    .unwrap_err();
    let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
    for key in [
        "upstream.timeout",
        "upstream.max_buffered_bytes",
        "upstream.per_client.slot_share",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    let stray: Vec<_> = e
        .problems()
        .iter()
        .filter(|p| p.key == "upstream.max_bufered_bytes")
        .collect();
    assert_eq!(stray.len(), 1, "{keys:?}");
    for owned in ["`base_url`", "`max_buffered_bytes`", "`per_client`"] {
        assert!(stray[0].reason.contains(owned), "{}", stray[0].reason);
    }
    assert!(stray[0].reason.starts_with("unknown key (expected one of"));
}

#[test]
fn wrong_types_are_said_without_rust_type_names() {
    for (overlay, expected) in [
        (
            "[server]\nmax_headers = \"many\"",
            r#"`server.max_headers`: "many" is not a whole number"#,
        ),
        (
            "[server]\nmax_headers = -1",
            "`server.max_headers`: -1 is not a whole number, 0 or more",
        ),
        (
            "[server]\nwatch_files = \"sometimes\"",
            r#"`server.watch_files`: "sometimes" is not true or false"#,
        ),
        (
            "[server]\ndrain_timeout = \"soon\"",
            r#"`server.drain_timeout`: "soon" is not a duration"#,
        ),
        (
            "[mask]\nmask_char = \"ab\"",
            r#"`mask.mask_char`: "ab" is not a single character"#,
        ),
        (
            "[upstream.retry]\nbudget_ratio = \"x\"",
            r#"`upstream.retry.budget_ratio`: "x" is not a number"#,
        ),
        (
            "[[mask.rules]]\nfield = \"a\"\nstrategy = { keep_last = -3 }",
            "`mask.rules[0].strategy.keep_last`: -3 is not a whole number, 0 or more",
        ),
    ] {
        let e = refused(overlay);
        assert!(e.contains(expected), "{overlay}: {e}");
        for rust in [
            "enum ",
            "variant",
            "u32",
            "usize",
            "u64",
            "64 bit",
            "f64",
            "LogFormat",
            "Strategy",
            "invalid type",
        ] {
            assert!(!e.contains(rust), "{overlay}: {e}");
        }
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let e = with(
        "[server]\nlisten = \"nope\"\nmax_connections = 0\n\
         [log]\nformat = \"xml\"\nlevel = \"info,[\"\n\
         [upstream]\nbase_url = \"ftp://x\"\n\
         [cache.routes.customer_detail]\nttl = \"0s\"\n\
         [[mask.rules]]\nfield = \"a\"\nstrategy = \"redact\"\n\
         [[mask.rules]]\nfield = \"a\"\nstrategy = \"null\"\n\
         [[mask.rules]]\nstrategy = \"null\"\n",
    )
    .unwrap_err();
    let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
    for key in [
        "server.listen",
        "server.max_connections",
        "log.format",
        "upstream.base_url",
        "cache.routes.customer_detail.ttl",
        "mask.rules[1]",
        "mask.rules[2]",
        "auth.clients_file",
    ] {
        assert_eq!(keys.iter().filter(|k| **k == key).count(), 1, "{key}: {e}");
    }
    let text = e.to_string();
    assert_eq!(text.lines().count(), e.problems().len() + 1, "{text}");
    assert!(
        text.contains(r#"`mask.rules[1]`: "a" is a duplicate of mask.rules[0]"#),
        "{text}"
    );
}

#[test]
fn a_cause_is_printed_once() {
    #[derive(Debug, thiserror::Error)]
    #[error("cannot read clients file /x: {0}")]
    struct Quoting(#[source] std::io::Error);
    let io = || std::io::Error::from(std::io::ErrorKind::NotFound);
    let e = anyhow::Error::new(Quoting(io())).context("loading clients");
    let text = crate::problems::causes(e.chain());
    assert_eq!(text.matches(&io().to_string()).count(), 1, "{text}");
    assert!(
        text.starts_with("loading clients: cannot read clients file /x: "),
        "{text}"
    );
}

#[test]
fn every_wrong_value_of_one_section_is_reported() {
    let e = refused(
        "[server]\nlisten_typo = 1\nmax_headers = \"many\"\nwatch_files = \"sometimes\"\n\
         listen = \"nope\"\nmax_connections = 0",
    );
    for key in [
        "server.listen_typo",
        "server.max_headers",
        "server.watch_files",
        "server.listen",
        "server.max_connections",
    ] {
        assert_eq!(e.matches(&format!("`{key}`:")).count(), 1, "{key}: {e}");
    }
}

#[test]
fn clients_file_problems_use_the_same_wording() {
    let Err(e) = crate::auth::ClientRegistry::from_toml_str(
        "[[clients]]\nname = \"a\"\nkeys_sha256 = []\nallow = []\nrate_limit = { per_second = \"x\" }\n",
    ) else {
        panic!("a rate given as text was accepted");
    };
    let e = e.to_string();
    // Named by key and type like the configuration's problems; the value is not quoted
    // (a mis-pasted key may be the wrong-typed part).
    assert!(
        e.contains(r#"`clients[0].rate_limit.per_second`: is not a whole number"#),
        "{e}"
    );
    assert!(!e.contains("u32") && !e.contains("invalid type"), "{e}");
    assert!(!e.contains("\"x\""), "{e}");
}

#[test]
fn the_access_log_output_and_queue_are_checked_together() {
    let s = with(NO_AUTH).unwrap();
    assert_eq!(
        s.log.access.output,
        AccessOutput::Stdout,
        "on by default, to stdout"
    );
    assert_eq!(s.log.queue_bytes, 1 << 20);
    let s = with(&format!(
        "{NO_AUTH}\n[log.access]\noutput = \"file\"\nfile = \"/var/log/gw/access.log\""
    ))
    .unwrap();
    assert_eq!(
        s.log.access.output,
        AccessOutput::File("/var/log/gw/access.log".into())
    );
    let off = with(&format!("{NO_AUTH}\n[log.access]\noutput = \"off\"")).unwrap();
    assert_eq!(off.log.access.output, AccessOutput::Off);

    let e = with(&format!(
        "{NO_AUTH}\n[log]\nqueue_bytes = 10\n[log.access]\noutput = \"file\""
    ))
    .unwrap_err();
    let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["log.queue_bytes", "log.access.file"], "{e}");
    let text = e.to_string();
    assert!(
        text.contains("`log.queue_bytes`: 10 is outside 4096..=268435456 bytes"),
        "{text}"
    );
    assert!(
        text.contains("`log.access.file`: required when `log.access.output = \"file\"`"),
        "{text}"
    );
    let e = refused("[log.access]\noutput = \"syslog\"");
    assert!(
        e.contains(
            r#"`log.access.output`: "syslog" is not one of "stdout", "stderr", "file", "off""#
        ),
        "{e}"
    );
    let e = refused("[log.access]\nfile = \"/tmp/a.log\"");
    assert!(
        e.contains(
            r#"`log.access.file`: only read when `log.access.output = "file"` (it is "stdout")"#
        ),
        "{e}"
    );
}

/// One URL rule for every URL-typed key: userinfo is refused (a bare Redis
/// user name aside), under the key, and the refused value is never quoted.
#[test]
fn every_url_setting_refuses_userinfo() {
    for (section, key, url) in [
        (
            "upstream",
            "base_url",
            "https://merchant:hunter2secret@api.example",
        ),
        (
            "telemetry",
            "otlp_endpoint",
            "http://otel:hunter2secret@otel:4318",
        ),
        (
            "cluster",
            "redis_url",
            "redis://:hunter2secret@redis:6379/0",
        ),
        (
            "cluster",
            "redis_url",
            "rediss://gw:hunter2secret@redis:6380",
        ),
    ] {
        let e = with(&format!("{NO_AUTH}\n[{section}]\n{key} = \"{url}\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("{section}.{key}")), "{e}");
        assert!(e.contains("credentials"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
    let s = with(&format!(
        "{NO_AUTH}\n[cluster]\nredis_url = \"redis://gateway@redis:6379/0\""
    ))
    .unwrap();
    let shown = crate::urls::shown_str(&{
        use secrecy::ExposeSecret;
        s.cluster
            .redis
            .expect("cluster on")
            .url
            .expose_secret()
            .to_owned()
    });
    assert_eq!(shown, "redis://redis:6379/0");
}
#[test]
fn the_layered_config_reports_telemetry_problems_with_the_others() {
    let overlay = "[telemetry]\notlp_endpoint = \"otel:4318\"\nsampling_ratio = 2.0\n[log]\nformat = \"xml\"\n";
    let err =
        load_with(std::path::Path::new("/nonexistent"), None, Some(overlay)).expect_err("refused");
    let keys: Vec<&str> = err.problems().iter().map(|p| p.key.as_str()).collect();
    for key in [
        "log.format",
        "telemetry.otlp_endpoint",
        "telemetry.sampling_ratio",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
}
