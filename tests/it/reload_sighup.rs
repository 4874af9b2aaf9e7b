//! The configuration reload in the real binary: SIGHUP re-reads `--config FILE`; a refused
//! file is logged with every problem and changes nothing; a valid one changes the log
//! level (the reload's own INFO line is the proof, at a level that hid INFO before), the
//! mask rules, and names the restart-only keys it left as they are.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::process::free_port;
use crate::common::*;

/// The gateway process; killed when the test ends, whatever happens.
struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sighup(child: &Child) {
    let ok = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -HUP");
}

/// The shipped `mask.rules` plus a `redact` rule for `description`.
fn rules_with_description() -> String {
    let defaults: toml::Table = paycombat_gateway::defaults::DEFAULT_TOML.parse().unwrap();
    let mut rules = defaults["mask"]["rules"].as_array().unwrap().clone();
    let mut rule = toml::Table::new();
    rule.insert("field".into(), "description".into());
    rule.insert("strategy".into(), "redact".into());
    rules.push(rule.into());
    let mut mask = toml::Table::new();
    mask.insert("rules".into(), rules.into());
    let mut doc = toml::Table::new();
    doc.insert("mask".into(), mask.into());
    toml::to_string(&doc).unwrap()
}

/// The binary serving `--config file`, its stdout lines collected as they come.
fn start(
    file: &std::path::Path,
    port: u16,
    admin_port: u16,
    rust_log: Option<&str>,
) -> (Gateway, Arc<Mutex<Vec<String>>>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"));
    cmd.args(["serve", "--config"])
        .arg(file)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--admin-listen", &format!("127.0.0.1:{admin_port}")])
        .env_remove("GATEWAY_ENV")
        .env_remove("GATEWAY_CONFIG_DIR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(level) = rust_log {
        cmd.env("RUST_LOG", level);
    }
    let mut child = cmd.spawn().unwrap();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let stdout = child.stdout.take().unwrap();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            sink.lock().unwrap().push(line);
        }
    });
    (Gateway(child), lines)
}

/// Waits (at most 10 s) for a line containing `needle`; returns it.
async fn line_with(lines: &Arc<Mutex<Vec<String>>>, needle: &str) -> Option<String> {
    let find = || {
        lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(needle))
            .cloned()
    };
    eventually(Duration::from_secs(10), || {
        let found = find().is_some();
        async move { found }
    })
    .await;
    find()
}

#[tokio::test]
async fn a_level_change_shadowed_by_rust_log_says_so() {
    let sandbox = crate::common::process::demo_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    let base = "[server]\nwatch_files = false\n";
    let toml = test_config(dir.path(), &sandbox.base_url(), base);
    std::fs::write(&file, toml).unwrap();
    let (port, admin_port) = (free_port(), free_port());
    let (gateway, lines) = start(&file, port, admin_port, Some("info"));
    assert!(line_with(&lines, "paycombat-gateway listening")
        .await
        .is_some());
    let toml = test_config(
        dir.path(),
        &sandbox.base_url(),
        &format!("{base}[log]\nlevel = \"error\"\n"),
    );
    std::fs::write(&file, toml).unwrap();
    sighup(&gateway.0);
    let line = line_with(&lines, "configuration reloaded")
        .await
        .expect("RUST_LOG=info still shows the INFO line");
    assert!(line.contains("log.level is shadowed"), "{line}");
    drop(gateway);
}

#[tokio::test]
async fn sighup_reloads_the_config_file_in_the_running_process() {
    let sandbox = crate::common::process::demo_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    // SIGHUP only (no watcher), JSON lines on stdout, INFO hidden.
    let base = "[server]\nwatch_files = false\n[log]\nlevel = \"warn\"\n";
    let write = |extra: &str| {
        let toml = test_config(dir.path(), &sandbox.base_url(), &merge_toml(base, extra));
        std::fs::write(&file, toml).unwrap();
    };
    write("");
    let (port, admin_port) = (free_port(), free_port());
    let (gateway, lines) = start(&file, port, admin_port, None);
    let logged = |needle: &'static str| {
        let lines = lines.clone();
        async move {
            eventually(Duration::from_secs(10), || {
                let found = lines.lock().unwrap().iter().any(|l| l.contains(needle));
                async move { found }
            })
            .await
        }
    };
    let line_with = |needle: &str| -> String {
        lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(needle))
            .cloned()
            .unwrap_or_default()
    };

    let client = Client::builder(TokioExecutor::new()).build_http();
    assert!(
        crate::common::process::ready(admin_port).await,
        "the gateway came up"
    );
    let admin = format!("http://127.0.0.1:{admin_port}");
    let echo = || async {
        let r = request(
            &client,
            Method::GET,
            &format!("http://127.0.0.1:{port}/api/v1/anything/sighup"),
            &[("x-token", CLIENT_KEY), ("description", "plain words")],
            b"",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        crate::reload_config::echoed_line(&r.json()["data"]["headers"]["description"])
    };
    assert_eq!(echo().await, "plain words");
    assert!(
        line_with("paycombat-gateway listening").is_empty(),
        "INFO is hidden at level warn"
    );

    // Refused: every problem in the ERROR line, nothing applied.
    write(&format!(
        "[cache]\nmax_entry_bytes = 0\n[log]\nlevel = \"verbose\"\n{}",
        rules_with_description()
    ));
    sighup(&gateway.0);
    assert!(logged("configuration reload refused").await);
    let refused = line_with("configuration reload refused");
    assert!(refused.contains("cache.max_entry_bytes"), "{refused}");
    assert!(refused.contains("log.level"), "{refused}");
    assert_eq!(echo().await, "plain words");

    // Valid: level, rules and a restart-only key.
    write(&format!(
        "[log]\nlevel = \"info\"\n[cluster]\nprefix = \"renamed\"\n{}",
        rules_with_description()
    ));
    sighup(&gateway.0);
    assert!(
        logged("configuration reloaded").await,
        "the INFO line is written: the level changed"
    );
    let reloaded = line_with("configuration reloaded");
    assert!(reloaded.contains("mask.rules"), "{reloaded}");
    assert!(reloaded.contains("log.level"), "{reloaded}");
    assert!(reloaded.contains("cluster.prefix"), "{reloaded}");
    assert!(
        !reloaded.contains("renamed"),
        "names, never values: {reloaded}"
    );
    assert_eq!(echo().await, "[REDACTED]");

    let scrape = request(&client, Method::GET, &format!("{admin}/metrics"), &[], b"")
        .await
        .text();
    for (result, n) in [("applied", 1.0), ("invalid", 1.0), ("unchanged", 0.0)] {
        assert_eq!(
            value(
                &scrape,
                "gateway_config_reloads_total",
                &[("result", result)]
            ),
            n,
            "{result}"
        );
    }
    drop(gateway);
}
