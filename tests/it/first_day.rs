//! What a new operator runs into on the first day, each on the real binary or
//! the real listeners: a wrong method on an admin endpoint is 405 naming the
//! right one; HEAD goes where GET may; values outside a closed set, loose
//! booleans, a missing signature key where writes are possible and
//! misspelt environment names are caught at start; the demo binds before it
//! prints anything.

use std::process::{Output, Stdio};
use std::time::Duration;

use http::Method;

use crate::common::*;

const BIN: &str = env!("CARGO_BIN_EXE_paycombat-gateway");

#[tokio::test]
async fn admin_endpoints_answer_a_wrong_method_with_405_and_allow() {
    let app = spawn_app().await;
    let endpoints = [
        ("/healthz", Method::GET),
        ("/readyz", Method::GET),
        ("/metrics", Method::GET),
        ("/admin/cache/purge", Method::POST),
        ("/admin/config", Method::GET),
    ];
    let auth = format!("Bearer {ADMIN_TOKEN}");
    for (path, right) in &endpoints {
        for wrong in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            if wrong == *right {
                continue;
            }
            let r = app
                .admin(wrong.clone(), path, &[("authorization", &auth)])
                .await;
            assert_eq!(r.status, 405, "{wrong} {path}: {}", r.text());
            let allow = if *right == Method::GET {
                "GET, HEAD"
            } else {
                "POST"
            };
            assert_eq!(r.header("allow"), allow, "{wrong} {path}");
            assert_eq!(r.error_code(), "METHOD_NOT_ALLOWED");
            let message = r.json()["message"].as_str().unwrap_or("").to_owned();
            assert!(message.contains(right.as_str()), "{message}");
        }
    }
    // HEAD goes where GET does, without the body.
    let r = app.admin(Method::HEAD, "/healthz", &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let r = app.admin(Method::GET, "/admin/nothing", &[]).await;
    assert_eq!(
        (r.status.as_u16(), r.error_code()),
        (404, "NOT_FOUND".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn head_is_allowed_to_a_client_allowed_get() {
    let app = spawn_app().await;
    let path = format!("/api/v1/customer/customer/{FIXTURE_ID}");
    let head = app
        .send(Method::HEAD, &path, &[("x-token", READONLY_KEY)], b"")
        .await;
    assert_eq!(head.status, 200, "{}", head.text());
    assert!(head.body.is_empty());
    // GET still answers with the body; a method the client lacks is still 403.
    let get = app
        .send(Method::GET, &path, &[("x-token", READONLY_KEY)], b"")
        .await;
    assert_eq!(get.status, 200);
    assert!(!get.body.is_empty());
    let post = app
        .send(Method::POST, &path, &[("x-token", READONLY_KEY)], b"{}")
        .await;
    assert_eq!(post.status, 403);
    app.stop().await;
}

/// The binary with `args` and `env` on a clean environment (in a directory
/// with no `config/`), bounded in time.
async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .current_dir(dir.path())
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("exits within 30 s")
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Secret files for a configuration that is valid but for what a test changes.
fn valid_env(dir: &std::path::Path) -> Vec<(String, String)> {
    for (name, value) in [("token", "t"), ("sig", "s"), ("hmac", "k")] {
        std::fs::write(dir.join(name), value).unwrap();
    }
    let f = |n: &str| dir.join(n).display().to_string();
    vec![
        ("GATEWAY__AUTH__MODE".into(), "none".into()),
        ("GATEWAY__UPSTREAM__TOKEN_FILE".into(), f("token")),
        ("GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE".into(), f("sig")),
        ("GATEWAY__MASK__HMAC_KEY_FILE".into(), f("hmac")),
        ("GATEWAY__SERVER__LISTEN".into(), "127.0.0.1:0".into()),
        ("GATEWAY__ADMIN__LISTEN".into(), "127.0.0.1:0".into()),
    ]
}

fn with<'a>(base: &'a [(String, String)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all: Vec<(&str, &str)> = base
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .collect();
    all.extend(extra.iter().copied());
    all
}

#[tokio::test]
async fn an_unknown_log_level_and_a_loose_boolean_stop_check_config_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let base = valid_env(dir.path());
    let ok = run(&["check-config"], &with(&base, &[])).await;
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let bad = with(
        &base,
        &[
            ("GATEWAY__LOG__LEVEL", "verbose"),
            ("GATEWAY__CACHE__ENABLED", "yes"),
        ],
    );
    for cmd in ["check-config", "serve"] {
        let out = run(&[cmd], &bad).await;
        let e = stderr(&out);
        assert_eq!(out.status.code(), Some(64), "{cmd}: {e}");
        assert!(
            e.contains(r#"`log.level`: "verbose" is not one of"#),
            "{cmd}: {e}"
        );
        assert!(
            e.contains(r#"`cache.enabled`: "yes" is not true or false"#),
            "{cmd}: {e}"
        );
    }
}

#[tokio::test]
async fn a_missing_signature_key_stops_start_when_writes_are_possible() {
    let dir = tempfile::tempdir().unwrap();
    let base = valid_env(dir.path());
    let unsigned = with(&base, &[("GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE", "")]);
    // auth.mode = "none": anyone may write.
    for cmd in ["check-config", "serve"] {
        let out = run(&[cmd], &unsigned).await;
        let e = stderr(&out);
        assert_eq!(out.status.code(), Some(64), "{cmd}: {e}");
        assert!(e.contains("upstream.signature_key_file"), "{cmd}: {e}");
    }
    // Clients allowed only GET cannot write: no key needed.
    let clients = dir.path().join("clients.toml");
    std::fs::write(
        &clients,
        format!(
            "[[clients]]\nname = \"ro\"\nkeys_sha256 = [\"{}\"]\nallow = [{{ methods = [\"GET\"], path = \"/api/v1/**\" }}]\n",
            paycombat_gateway::auth::hash_key("k")
        ),
    )
    .unwrap();
    let clients = clients.display().to_string();
    let read_only = with(
        &base,
        &[
            ("GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE", ""),
            ("GATEWAY__AUTH__MODE", "keys"),
            ("GATEWAY__AUTH__CLIENTS_FILE", &clients),
        ],
    );
    let out = run(&["check-config"], &read_only).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test]
async fn misspelt_environment_names_are_named_with_the_one_meant() {
    let dir = tempfile::tempdir().unwrap();
    let base = valid_env(dir.path());
    let out = run(
        &["check-config"],
        &with(
            &base,
            &[
                ("GATEWAY_UPSTREAM_BASE_URL", "https://example.invalid"),
                ("gateway__cache__max_bytes", "1000"),
            ],
        ),
    )
    .await;
    let e = stderr(&out);
    assert!(
        e.contains("`GATEWAY_UPSTREAM_BASE_URL` is not read as written")
            && e.contains("did you mean `GATEWAY__UPSTREAM__BASE_URL`"),
        "{e}"
    );
    assert!(
        e.contains("did you mean `GATEWAY__CACHE__MAX_BYTES`"),
        "{e}"
    );
}

#[tokio::test]
async fn a_config_dir_whose_files_would_go_unread_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = valid_env(dir.path());
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(conf.join("site.toml"), "[log]\nformat = \"json\"\n").unwrap();
    let conf = conf.display().to_string();
    let out = run(&["check-config", "--config-dir", &conf], &with(&base, &[])).await;
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(64), "{e}");
    assert!(e.contains("site.toml") && e.contains("--env site"), "{e}");
    let out = run(
        &["check-config", "--config-dir", &conf, "--env", "site"],
        &with(&base, &[]),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test]
async fn mask_needs_no_clients_file_and_no_key_for_a_dry_run() {
    // The defaults as shipped: auth.mode = "keys" without a clients file, no key.
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/customer-detail.json");
    let out = run(&["mask", fixture.to_str().unwrap()], &[]).await;
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{e}");
    assert!(e.contains("random throwaway key"), "{e}");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.contains(r#""first_name":"[REDACTED]""#), "{body}");
    // A key file that is named but missing is still refused.
    let out = run(
        &["mask", fixture.to_str().unwrap()],
        &[("GATEWAY__MASK__HMAC_KEY_FILE", "/nonexistent/key")],
    )
    .await;
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
}

#[tokio::test]
async fn the_demo_binds_before_it_prints_and_shows_the_ports_it_got() {
    // A busy port: a clear message, exit 64, and no banner.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let out = run(
        &[
            "demo",
            "--listen",
            &busy_addr,
            "--admin-listen",
            "127.0.0.1:0",
        ],
        &[("RUST_LOG", "off")],
    )
    .await;
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr(&out).contains(&busy_addr), "{}", stderr(&out));
    drop(busy);

    // Port 0: the banner names the real ports, and the gateway answers there.
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .current_dir(dir.path())
        .env_clear()
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let gateway_line = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.trim_start().starts_with("gateway ") {
                return line;
            }
        }
        panic!("no gateway line in the banner");
    })
    .await
    .expect("banner within 30 s");
    let addr = gateway_line
        .split_whitespace()
        .nth(1)
        .and_then(|u| u.strip_prefix("http://"))
        .expect("gateway http://ADDR")
        .to_owned();
    assert!(!addr.ends_with(":0"), "{gateway_line}");
    tokio::net::TcpStream::connect(&addr)
        .await
        .expect("the banner's port accepts");
    // Killed, it cannot remove its credential directory itself: the test does.
    let pid = child.id().expect("running");
    child.kill().await.unwrap();
    let _ =
        std::fs::remove_dir_all(std::env::temp_dir().join(format!("paycombat-gateway-demo-{pid}")));
}

/// A listen address in use is worth retrying (the previous instance may still be
/// draining): exit 75, which the systemd unit restarts on; a configuration
/// problem exits 64, which it does not.
#[tokio::test]
async fn a_listen_address_in_use_exits_75_and_a_bad_config_64() {
    let dir = tempfile::tempdir().unwrap();
    let env = valid_env(dir.path());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let busy = run(
        &["serve"],
        &with(&env, &[("GATEWAY__SERVER__LISTEN", &addr)]),
    )
    .await;
    assert_eq!(busy.status.code(), Some(75), "{}", stderr(&busy));
    assert!(
        stderr(&busy).contains("`server.listen`"),
        "{}",
        stderr(&busy)
    );
    let admin = run(
        &["serve"],
        &with(&env, &[("GATEWAY__ADMIN__LISTEN", &addr)]),
    )
    .await;
    assert_eq!(admin.status.code(), Some(75), "{}", stderr(&admin));
    assert!(
        stderr(&admin).contains("`admin.listen`"),
        "{}",
        stderr(&admin)
    );
    drop(taken);
    let bad = run(
        &["serve"],
        &with(&env, &[("GATEWAY__SERVER__LISTEN", "nowhere")]),
    )
    .await;
    assert_eq!(bad.status.code(), Some(64), "{}", stderr(&bad));
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/systemd/paycombat-gateway.service"
    ))
    .unwrap();
    let prevent: Vec<&str> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("RestartPreventExitStatus="))
        .flat_map(|v| v.split_whitespace())
        .collect();
    assert_eq!(prevent, ["64"], "the unit stops on 64 only, restarts on 75");
    assert!(unit.contains("\nRestart=on-failure\n"), "{unit}");
}
