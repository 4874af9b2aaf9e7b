//! Attacks on the live configuration reload: what a cached answer holds is shaped by
//! more keys than `mask.*` and `cache.*`; a reload changing any of them must not let an
//! answer built under the old value be served again.

use http::Method;
use paycombat_gateway::Reloaded;

use crate::common::*;

const NO_WATCH: &str = "[server]\nwatch_files = false\n";

fn rewrite(app: &TestApp, extra: &str) {
    let toml = test_config(app.dir.path(), &app.sandbox.base_url(), extra);
    std::fs::write(app.path("gateway.toml"), toml).unwrap();
}

/// The shipped `upstream.response_headers` without `name`, as a TOML layer.
fn allowlist_without(name: &str) -> String {
    let defaults: toml::Table = paycombat_gateway::defaults::DEFAULT_TOML.parse().unwrap();
    let list: Vec<toml::Value> = defaults["upstream"]["response_headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v.as_str() != Some(name))
        .cloned()
        .collect();
    let mut upstream = toml::Table::new();
    upstream.insert("response_headers".into(), list.into());
    let mut doc = toml::Table::new();
    doc.insert("upstream".into(), upstream.into());
    toml::to_string(&doc).unwrap()
}

#[tokio::test]
async fn a_header_taken_off_the_allowlist_is_not_served_from_the_cache() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let path = detail(FIXTURE_ID);
    let first = app.get(&path).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(!first.header("etag").is_empty(), "{:?}", first.headers);
    let hit = app.get(&path).await;
    assert!(hit.header("cache-status").contains("hit"));

    rewrite(&app, &format!("{NO_WATCH}{}", allowlist_without("etag")));
    match reload.reload().await {
        Reloaded::Applied { changed, .. } => assert_eq!(changed, ["upstream.response_headers"]),
        other => panic!("{other:?}"),
    }
    // Whether answered from the cache or refilled, the header no longer listed is gone.
    no_etag_twice(&app, &path).await;
    app.stop().await;
}

/// Two reads of `path` (whether answered from the cache or refilled), neither
/// carrying the `ETag` a reload took off the allowlist.
async fn no_etag_twice(app: &TestApp, path: &str) {
    for _ in 0..2 {
        let after = app.get(path).await;
        assert_eq!(after.status, 200, "{}", after.text());
        assert_eq!(
            after.header("etag"),
            "",
            "{}: {:?}",
            after.header("cache-status"),
            after.headers
        );
    }
}

async fn shown(app: &TestApp) -> serde_json::Value {
    app.admin(
        Method::GET,
        "/admin/config",
        &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
    )
    .await
    .json()["data"]
        .clone()
}

#[tokio::test]
async fn every_kind_of_invalid_reload_keeps_everything_and_a_valid_one_recovers() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let path = detail(FIXTURE_ID);
    // Each broken file also carries a valid live change: none of it may apply.
    let live = allowlist_without("etag");
    let broken = [
        // Appended raw below: the harness's merge would refuse to parse it.
        ("syntax", format!("{NO_WATCH}{live}")),
        ("type", format!("{NO_WATCH}{live}[log]\nlevel = 3\n")),
        (
            "unknown key",
            format!("{NO_WATCH}{live}[cache]\nno_such_key = 1\n"),
        ),
        (
            "missing file",
            format!("{NO_WATCH}{live}[mask]\nhmac_key_file = \"/nonexistent/paycombat/key\"\n"),
        ),
        (
            "contradiction",
            format!("{NO_WATCH}{live}[cache]\nmax_entry_bytes = 1099511627776\n"),
        ),
    ];
    for (n, (kind, file)) in broken.iter().enumerate() {
        rewrite(&app, file);
        if *kind == "syntax" {
            let mut text = std::fs::read_to_string(app.path("gateway.toml")).unwrap();
            text.push_str("\n[cache\nmax_entry_bytes = 1\n");
            std::fs::write(app.path("gateway.toml"), text).unwrap();
        }
        match reload.reload().await {
            Reloaded::Invalid { problems } => assert!(!problems.is_empty(), "{kind}"),
            other => panic!("{kind}: {other:?}"),
        }
        let r = app.get(&path).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        assert!(!r.header("etag").is_empty(), "{kind}: {:?}", r.headers);
        let scrape = app.metrics().await;
        assert_eq!(
            value(
                &scrape,
                "gateway_config_reloads_total",
                &[("result", "invalid")]
            ),
            (n + 1) as f64,
            "{kind}"
        );
        assert_eq!(
            value(&scrape, "gateway_config_last_reload_successful", &[]),
            0.0,
            "{kind}"
        );
        let list = shown(&app).await["upstream"]["response_headers"].clone();
        assert!(
            list.as_array().unwrap().iter().any(|v| v == "etag"),
            "{kind}: {list}"
        );
    }
    rewrite(&app, &format!("{NO_WATCH}{live}"));
    assert!(matches!(reload.reload().await, Reloaded::Applied { .. }));
    let r = app.get(&path).await;
    assert_eq!(r.header("etag"), "", "{:?}", r.headers);
    let scrape = app.metrics().await;
    assert_eq!(
        value(&scrape, "gateway_config_last_reload_successful", &[]),
        1.0
    );
    app.stop().await;
}

/// Many writers and reloads at once (torn files included): no reload hangs, and once the
/// last file is written and read, it is what runs.
#[tokio::test]
async fn a_reload_storm_ends_running_the_last_file_written() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..24u32 {
        let (writer, reload) = (app.clone(), reload.clone());
        tasks.push(tokio::spawn(async move {
            rewrite(
                &writer,
                &format!(
                    "[server]\nwatch_files = false\nmax_request_body_bytes = {}\n",
                    1000 + i
                ),
            );
            reload.reload().await
        }));
        let r = app.get("/api/v1/anything/storm").await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let storm = async {
        for t in tasks {
            t.await.unwrap();
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), storm)
        .await
        .expect("reloads finish");
    rewrite(
        &app,
        "[server]\nwatch_files = false\nmax_request_body_bytes = 64\n",
    );
    assert!(!matches!(reload.reload().await, Reloaded::Invalid { .. }));
    assert_eq!(shown(&app).await["server"]["max_request_body_bytes"], 64);
    let big = app
        .send(Method::POST, "/api/v1/anything/big", &[], &[b'x'; 100])
        .await;
    assert_eq!(big.status, 413, "{}", big.text());
    let scrape = app.metrics().await;
    let total: f64 = ["applied", "unchanged", "invalid"]
        .iter()
        .map(|r| value(&scrape, "gateway_config_reloads_total", &[("result", r)]))
        .sum();
    assert_eq!(total, 25.0);
    std::sync::Arc::try_unwrap(app).ok().unwrap().stop().await;
}

/// With the watcher on, writes only: the file as last written is what runs.
#[tokio::test]
async fn written_in_a_burst_the_watcher_settles_on_the_last_file() {
    let (app, _reload) = spawn_app_reloading("").await;
    for i in 0..30u32 {
        rewrite(
            &app,
            &format!("[server]\nmax_request_body_bytes = {}\n", 2000 + i),
        );
    }
    rewrite(&app, "[server]\nmax_request_body_bytes = 77\n");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if shown(&app).await["server"]["max_request_body_bytes"] == 77 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            shown(&app).await["server"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let big = app
        .send(Method::POST, "/api/v1/anything/big", &[], &[b'x'; 100])
        .await;
    assert_eq!(big.status, 413, "{}", big.text());
    app.stop().await;
}

/// A refused reload lists problems; none of them may echo a secret the file held.
#[tokio::test]
async fn a_refused_reload_never_quotes_a_secret() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    const SECRET: &str = "hunter2-Zq9secretValue";
    let files = [
        format!("{NO_WATCH}[upstream]\ntoken = [\"{SECRET}\"]\n"),
        format!("{NO_WATCH}[upstream]\nsignature_key = 7\ntoken = \"{SECRET}\\u0007\"\n"),
        format!("{NO_WATCH}[cluster]\nredis_url = \"redis://:{SECRET}@no such host:99999\"\n"),
        format!("{NO_WATCH}[upstream]\nbase_url = \"https://user:{SECRET}@\"\n"),
        format!("{NO_WATCH}[cluster]\nredis_url = \"{SECRET}\"\n"),
    ];
    // A file that is not TOML at all, the secret on the broken line: a parser's error
    // quoting the line would log it.
    let torn = |app: &TestApp, line: &str| {
        let mut text = std::fs::read_to_string(app.path("gateway.toml")).unwrap();
        text.push_str(line);
        std::fs::write(app.path("gateway.toml"), text).unwrap();
    };
    for line in [
        format!("\n[upstream]\ntoken = \"{SECRET}\n"),
        format!("\n[upstream]\ntoken = {SECRET}\n"),
        format!("\n{SECRET}\n"),
    ] {
        rewrite(&app, NO_WATCH);
        torn(&app, &line);
        match reload.reload().await {
            Reloaded::Invalid { problems } => {
                let text = paycombat_gateway::config::ConfigError::new(problems).to_string();
                assert!(!text.contains(SECRET), "{text}");
            }
            other => panic!("{line}: {other:?}"),
        }
    }
    for file in &files {
        rewrite(&app, file);
        match reload.reload().await {
            Reloaded::Invalid { problems } => {
                let text = paycombat_gateway::config::ConfigError::new(problems).to_string();
                assert!(!text.contains(SECRET), "{text}");
            }
            other => panic!("{file}: {other:?}"),
        }
    }
    app.stop().await;
}

/// The binary under a SIGHUP storm while its file is rewritten: it keeps answering, every
/// signal is at most one reload, and once the last file is written and signalled it is
/// what runs.
#[tokio::test]
async fn a_sighup_storm_on_the_binary_ends_on_the_last_file() {
    use crate::common::process::free_port;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let sandbox = crate::common::process::demo_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    let write = |extra: &str| {
        let toml = test_config(
            dir.path(),
            &sandbox.base_url(),
            &merge_toml(NO_WATCH, extra),
        );
        std::fs::write(&file, toml).unwrap();
    };
    write("");
    let (port, admin_port) = (free_port(), free_port());
    let gateway = Killed(
        Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
            .args(["serve", "--config"])
            .arg(&file)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin_port}")])
            .env_remove("GATEWAY_ENV")
            .env_remove("GATEWAY_CONFIG_DIR")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    assert!(
        crate::common::process::ready(admin_port).await,
        "the gateway came up"
    );
    let admin = format!("http://127.0.0.1:{admin_port}");
    let big = || async {
        request(
            &client,
            Method::POST,
            &format!("http://127.0.0.1:{port}/api/v1/anything/storm"),
            &[("x-token", CLIENT_KEY)],
            &[b'x'; 100],
        )
        .await
        .status
    };
    assert_eq!(big().await, 200);
    let hup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &gateway.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -HUP");
    };
    for i in 0..40u32 {
        write(&format!(
            "[server]\nmax_request_body_bytes = {}\n",
            1000 + i
        ));
        hup();
        if i % 8 == 0 {
            assert_eq!(big().await, 200, "answers during the storm");
        }
    }
    write("[server]\nmax_request_body_bytes = 64\n");
    hup();
    assert!(
        eventually(Duration::from_secs(20), || async { big().await == 413 }).await,
        "the last file runs"
    );
    let scrape = request(&client, Method::GET, &format!("{admin}/metrics"), &[], b"")
        .await
        .text();
    let total: f64 = ["applied", "unchanged", "invalid"]
        .iter()
        .map(|r| value(&scrape, "gateway_config_reloads_total", &[("result", r)]))
        .sum();
    assert!((1.0..=41.0).contains(&total), "{total}");
    assert_eq!(
        value(&scrape, "gateway_config_last_reload_successful", &[]),
        1.0
    );
    drop(gateway);
}

/// A cached route's fill started under the old allowlist and still running at the swap:
/// a request after the swap neither joins it nor, once it finished, is answered by what
/// it stored.
#[tokio::test]
async fn a_fill_running_across_the_swap_is_neither_joined_nor_served_after_it() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let client = app.client.clone();
    let url = format!("http://{}{}", app.addr, detail(FIXTURE_ID));
    let before = app.state().request_count("all");
    let slow = tokio::spawn(async move {
        request(
            &client,
            Method::GET,
            &url,
            &[("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=1500ms")],
            b"",
        )
        .await
    });
    assert!(app.upstream_received(before + 1).await);
    rewrite(&app, &format!("{NO_WATCH}{}", allowlist_without("etag")));
    assert!(matches!(reload.reload().await, Reloaded::Applied { .. }));
    let path = detail(FIXTURE_ID);
    let during = app.get(&path).await;
    assert_eq!(during.status, 200, "{}", during.text());
    assert_eq!(during.header("etag"), "", "{:?}", during.headers);
    // The old fill ends under its own rules (its request was admitted before).
    let old = slow.await.unwrap();
    assert_eq!(old.status, 200, "{}", old.text());
    assert!(!old.header("etag").is_empty(), "{:?}", old.headers);
    no_etag_twice(&app, &path).await;
    app.stop().await;
}

/// `log.format` is live for every line, the access log's included (it is carried across
/// generations, not rebuilt).
#[tokio::test]
async fn a_log_format_reload_changes_the_access_log_too() {
    let (app, reload) = spawn_app_reloading(NO_WATCH).await;
    let before = app.get("/api/v1/anything/json-line").await;
    assert_eq!(before.status, 200, "{}", before.text());
    rewrite(&app, &format!("{NO_WATCH}[log]\nformat = \"human\"\n"));
    match reload.reload().await {
        Reloaded::Applied { changed, .. } => assert_eq!(changed, ["log.format"]),
        other => panic!("{other:?}"),
    }
    let after = app.get("/api/v1/anything/human-line").await;
    assert_eq!(after.status, 200, "{}", after.text());
    let log = app.stop_and_read_access_log().await;
    // No paths in the access log: one line per request, in order.
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("access")).collect();
    let [json, human] = lines[..] else {
        panic!("{log}")
    };
    assert!(json.starts_with('{'), "{json}");
    assert!(!human.starts_with('{'), "{human}");
}
