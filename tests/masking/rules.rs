//! Configured rules (custom fields, dotted paths, invalid rules) and no personal value in metrics or logs.

use super::*;

#[tokio::test]
async fn custom_field_and_dotted_path_rules_apply() {
    // Rules given in a layer replace the whole shipped list, so a layer repeats it and adds.
    let overlay = format!(
        "{}\n[[mask.rules]]\npath = \"data.description\"\nstrategy = {{ keep_last = 6 }}\n\
         [[mask.rules]]\npath = \"data.individual.email\"\nstrategy = \"null\"\n\
         [[mask.rules]]\npath = \"data.items.description\"\nstrategy = \"redact\"\n\
         [[mask.rules]]\nfield = \"created_by\"\nstrategy = \"hmac\"\n\
         [mask.policy.families.customer_detail]\nmode = \"enforce\"\n\
         declared = [\"status:flag\", \"message:personal\", \"data:customer\"]\n",
        // A rule wins over a declaration (`description`, `created_by` are declared in the
        // shipped `customer` object): the layer only narrows the family to the object.
        paycombat_gateway::mask::default_rules_toml()
    );
    let app = spawn_app_overlay(&overlay).await;
    let r = app.get(&detail_path(FIXTURE_ID)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let d = r.json()["data"].clone();
    // `keep_last` keeps digits of a number only: free text is masked whole.
    assert_eq!(d["description"], "[REDACTED]");
    assert!(
        d["individual"]["email"].is_null(),
        "the path rule wins over the `email` field rule"
    );
    assert_eq!(
        d["individual"]["first_name"], "[REDACTED]",
        "the shipped rules still apply"
    );
    assert_eq!(
        d["created_by"],
        hmac_of("api_access_key:AK_FINMO_SBX_07C5090*******************CCBC7F").as_str()
    );
    // Arrays along a path are transparent.
    let list = app.get("/api/v1/customer/customer?limit=5").await.json();
    for item in list["data"]["items"].as_array().unwrap() {
        assert_eq!(item["description"], "[REDACTED]");
    }
    let scrape = app.metrics().await;
    assert_eq!(masked_total(&scrape, "data.individual.email"), 1.0);
    assert_eq!(masked_total(&scrape, "data.description"), 1.0);
    assert_eq!(masked_total(&scrape, "data.items.description"), 5.0);
    // In the list the path rule does not match (`data.items.individual.email`): the field rule does.
    let raw_list = personal_values(
        &upstream(&app, "/api/v1/customer/customer?limit=5")
            .await
            .json(),
    );
    assert_eq!(masked_total(&scrape, "email"), count_of(&raw_list, "email"));
    app.stop().await;
}

/// Everything the gateway writes to its logs, for this test binary.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other subscriber in this binary");
        buf
    })
    .clone()
}

#[tokio::test]
async fn personal_values_never_reach_metrics_or_logs() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let mut raw = Vec::new();
    for path in [
        detail_path(FIXTURE_ID),
        detail_path(&customer_id(11)),
        "/api/v1/customer/customer?limit=20".to_owned(),
        "/api/v1/payout/beneficiary?limit=10".to_owned(),
        "/api/v1/payin/retrieve-payin/plog".to_owned(),
    ] {
        raw.extend(personal_values(&upstream(&app, &path).await.json()));
        assert_eq!(
            fault_get(&app, &path, "truncated_json").await.status,
            502,
            "{path}"
        );
        assert_eq!(app.get(&path).await.status, 200, "{path}");
    }
    assert_eq!(
        fault_get(&app, "/api/v1/payin/retrieve-payin/plog", "malformed_json")
            .await
            .status,
        502
    );
    let scrape = app.metrics().await;
    assert!(value(&scrape, "gateway_masked_fields_total", &[]) > 0.0);
    assert_no_raw_values(&raw, scrape.as_bytes(), "/metrics");
    assert!(!contains(scrape.as_bytes(), b"broken@example.com"));

    let access_log = app.stop_and_read_access_log().await;
    assert!(
        access_log.contains("customer_detail"),
        "access lines were captured"
    );
    let mut logged = logs.lock().unwrap().clone();
    assert!(contains(&logged, b"parse_error"), "the refusal was logged");
    logged.extend_from_slice(access_log.as_bytes());
    assert_no_raw_values(&raw, &logged, "logs");
    assert!(!contains(&logged, b"broken@example.com"));
}

const BAD_RULE: &str =
    "[[mask.rules]]\nfield = \"email\"\npath = \"data.email\"\nstrategy = \"redact\"\n";

#[tokio::test]
async fn an_invalid_rule_stops_the_gateway_from_starting() {
    // Rules are checked in the config pass: `serve` exits before it binds.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), "k").unwrap();
    let layer = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
         [auth]\nmode = \"none\"\n[mask]\nhmac_key_file = \"{}\"\n{BAD_RULE}",
        dir.path().join("key").display()
    );
    std::fs::write(dir.path().join("production.toml"), layer).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["serve", "--config-dir"])
        .arg(dir.path())
        .env("GATEWAY_ENV", "production")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .unwrap_or_else(|_| panic!("a rule with both `field` and `path` was accepted"))
        .unwrap();
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut err)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(64), "{err}");
    assert!(err.contains("mask.rules[0]"), "{err}");
}

#[test]
fn check_config_rejects_an_invalid_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), "k").unwrap();
    let layer = format!(
        "[auth]\nmode = \"none\"\n[mask]\nhmac_key_file = \"{}\"\n{BAD_RULE}",
        dir.path().join("key").display()
    );
    std::fs::write(dir.path().join("production.toml"), layer).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["check-config", "--config-dir"])
        .arg(dir.path())
        .env("GATEWAY_ENV", "production")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mask.rules[0]"),
        "{out:?}"
    );
}
