//! Key rotation and reloads of the clients file and credentials, by file watch and by SIGHUP.

use std::process::Command;
use std::time::Duration;

use http::Method;
use paycombat_gateway::auth::hash_key;

use crate::common::*;

use super::*;

#[tokio::test]
async fn key_rotation_two_keys_then_one_via_file_reload() {
    let app = start("").await;
    let path = "/api/v1/anything/rotate";
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 200);
    assert_eq!(
        get_with(&app, path, SECOND_KEY).await.error_code(),
        "UNKNOWN_CLIENT_KEY"
    );
    let ok_before = reloads(&app.metrics().await, "ok");

    std::fs::write(
        app.path("clients.toml"),
        clients_file(&[CLIENT_KEY, SECOND_KEY]),
    )
    .unwrap();
    let picked_up = eventually(Duration::from_secs(5), || async {
        get_with(&app, path, SECOND_KEY).await.status == 200
    })
    .await;
    assert!(picked_up, "the second key works after the reload");
    assert_eq!(
        get_with(&app, path, CLIENT_KEY).await.status,
        200,
        "the first key still works"
    );
    let r = app
        .send(
            Method::GET,
            path,
            &[("authorization", &format!("Bearer {SECOND_KEY}"))],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);

    std::fs::write(app.path("clients.toml"), clients_file(&[SECOND_KEY])).unwrap();
    let retired = eventually(Duration::from_secs(5), || async {
        get_with(&app, path, CLIENT_KEY).await.status == 401
    })
    .await;
    assert!(retired, "the first key is refused once removed");
    assert_eq!(
        get_with(&app, path, CLIENT_KEY).await.error_code(),
        "UNKNOWN_CLIENT_KEY"
    );
    assert_eq!(get_with(&app, path, SECOND_KEY).await.status, 200);
    assert_eq!(
        get_with(&app, &detail(&customer_id(8)), READONLY_KEY)
            .await
            .status,
        200,
        "other clients unchanged"
    );

    let scrape = app.metrics().await;
    assert!(
        reloads(&scrape, "ok") >= ok_before + 2.0,
        "{}",
        reloads(&scrape, "ok")
    );
    assert_eq!(reloads(&scrape, "failed"), 0.0);
    app.stop().await;
}

#[tokio::test]
async fn a_broken_clients_file_keeps_the_previous_clients() {
    let _serial = RELOAD_COUNTING.lock().await;
    let app = start("").await;
    let path = "/api/v1/anything/broken";
    let failed = |n: f64| {
        let app = &app;
        move || async move { reloads(&app.metrics().await, "failed") == n }
    };

    // Serving, so the file watch is in place.
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 200);
    // Not TOML at all.
    std::fs::write(app.path("clients.toml"), "[[clients]\nname = ").unwrap();
    let ok = eventually(Duration::from_secs(5), failed(1.0)).await;
    assert!(
        ok,
        "syntax error counted as failed: {}",
        reloads(&app.metrics().await, "failed")
    );
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 200);
    assert_eq!(
        get_with(&app, &detail(&customer_id(9)), READONLY_KEY)
            .await
            .status,
        200
    );

    // Valid TOML, invalid clients: a raw key pasted where its hash belongs.
    let raw_key =
        clients_file(&[SECOND_KEY]).replace(&hash_key(SECOND_KEY), "pcgw_pasted_the_key_itself");
    std::fs::write(app.path("clients.toml"), raw_key).unwrap();
    assert!(
        eventually(Duration::from_secs(5), failed(2.0)).await,
        "invalid file counted as failed"
    );
    assert_eq!(
        get_with(&app, path, CLIENT_KEY).await.status,
        200,
        "previous keys still in force"
    );
    assert_eq!(get_with(&app, path, SECOND_KEY).await.status, 401);

    // A good file afterwards is taken.
    std::fs::write(app.path("clients.toml"), clients_file(&[SECOND_KEY])).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            get_with(&app, path, SECOND_KEY).await.status == 200
        })
        .await
    );
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 401);
    assert_eq!(reloads(&app.metrics().await, "failed"), 2.0);
    app.stop().await;
}

#[tokio::test]
async fn sighup_reloads_credentials() {
    let _serial = RELOAD_COUNTING.lock().await;
    // File watching off: only the signal can make the gateway see the new token.
    let app = spawn_app_overlay("[server]\nwatch_files = false").await;
    app.state().set_token("snd_after_hup");
    std::fs::write(app.path("token"), "snd_after_hup").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = app.get("/api/v1/anything/hup").await;
    assert_eq!(
        r.status,
        502,
        "not reloaded without the signal: {}",
        r.text()
    );
    assert_eq!(r.error_code(), "UPSTREAM_CREDENTIALS_REJECTED");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.get("/api/v1/anything/hup").await.status == 200
        })
        .await
    );
    app.stop().await;
}

#[tokio::test]
async fn sighup_reloads_the_clients_file() {
    let _serial = RELOAD_COUNTING.lock().await;
    // The configured path is a symlink into a directory the gateway does not watch, so only
    // SIGHUP can make it notice the change.
    let real = tempfile::tempdir().unwrap();
    let link_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        real.path().join("clients.toml"),
        clients_file(&[CLIENT_KEY]),
    )
    .unwrap();
    let link = link_dir.path().join("clients.toml");
    std::os::unix::fs::symlink(real.path().join("clients.toml"), &link).unwrap();
    let app = start(&format!(
        "[auth]\nclients_file = {:?}",
        link.display().to_string()
    ))
    .await;
    let path = "/api/v1/anything/hup";
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 200);
    let ok_before = reloads(&app.metrics().await, "ok");

    std::fs::write(
        real.path().join("clients.toml"),
        clients_file(&[SECOND_KEY]),
    )
    .unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let reloaded = eventually(Duration::from_secs(5), || async {
        get_with(&app, path, SECOND_KEY).await.status == 200
    })
    .await;
    assert!(reloaded, "SIGHUP reloaded the clients file");
    assert_eq!(get_with(&app, path, CLIENT_KEY).await.status, 401);
    assert!(reloads(&app.metrics().await, "ok") > ok_before);
    app.stop().await;
}
