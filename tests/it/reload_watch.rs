//! The file watcher reloads for the watched files (and Kubernetes' `..data` swap) only: other
//! files written next to the secrets never cause a reload.

use std::path::Path;
use std::time::Duration;

use crate::common::*;

/// Credential and clients-file reloads so far, whatever their result.
async fn reloads(app: &TestApp) -> f64 {
    let s = app.metrics().await;
    value(&s, "gateway_credential_reloads_total", &[])
        + value(&s, "gateway_clients_reloads_total", &[])
}

/// Repeats `write` until a reload is seen (bounded): the watcher is then running.
async fn reload_seen_after(app: &TestApp, write: impl Fn()) -> bool {
    for _ in 0..20 {
        let before = reloads(app).await;
        write();
        if eventually(Duration::from_millis(750), || async {
            reloads(app).await > before
        })
        .await
        {
            return true;
        }
    }
    false
}

/// Writes, appends to, creates and deletes files other than the watched ones in `dir`, 20 times,
/// then lets the reload debounce settle; returns how many reloads that caused.
async fn reloads_caused_by_noise(app: &TestApp, dir: &Path) -> f64 {
    // Let any reload still in flight finish before counting.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = reloads(app).await;
    for i in 0..20 {
        std::fs::write(dir.join("gateway.log"), format!("line {i}\n")).unwrap();
        std::fs::write(dir.join(format!(".token.{i}.swp")), "x").unwrap();
        std::fs::remove_file(dir.join(format!(".token.{i}.swp"))).unwrap();
        std::fs::create_dir(dir.join(format!("..2026_noise_{i}"))).unwrap();
        std::fs::remove_dir(dir.join(format!("..2026_noise_{i}"))).unwrap();
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    reloads(app).await - before
}

#[tokio::test]
async fn unrelated_files_next_to_the_secrets_cause_no_reload() {
    let app = spawn_app().await;
    let token = app.sandbox_cfg.token.clone();
    let dir = app.dir.path().to_owned();
    assert!(
        reload_seen_after(&app, || std::fs::write(dir.join("token"), &token).unwrap()).await,
        "the watcher reloads on a token change"
    );
    assert_eq!(reloads_caused_by_noise(&app, &dir).await, 0.0);

    // The token file itself still takes effect.
    app.state().set_token("snd_rotated_in_place");
    std::fs::write(dir.join("token"), "snd_rotated_in_place\n").unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.get("/api/v1/anything/rotated").await.status == 200
        })
        .await,
        "the rewritten token is used"
    );
    let last = app.state().requests().pop().unwrap();
    assert_eq!(last.headers["x-token"], "snd_rotated_in_place");
    app.stop().await;
}

/// Points `..data` at a fresh `..<timestamp>` directory holding `token`, the way the kubelet
/// updates a mounted Secret, and removes the previous one.
fn kubernetes_swap(dir: &Path, stamp: &str, token: &str) {
    let fresh = format!("..{stamp}");
    std::fs::create_dir(dir.join(&fresh)).unwrap();
    std::fs::write(dir.join(&fresh).join("token"), token).unwrap();
    let old = std::fs::read_link(dir.join("..data")).ok();
    std::os::unix::fs::symlink(&fresh, dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(old)).unwrap();
    }
}

#[tokio::test]
async fn a_kubernetes_secret_swap_reloads_but_noise_beside_it_does_not() {
    let files = tempfile::tempdir().unwrap();
    let dir = files.path().join("secret");
    std::fs::create_dir(&dir).unwrap();
    let demo_token = paycombat_sandbox::SandboxConfig::demo().token;
    kubernetes_swap(&dir, "2026_01_01_00_00_00.000000001", &demo_token);
    std::os::unix::fs::symlink("..data/token", dir.join("token")).unwrap();
    let app = spawn_app_overlay(&format!(
        "[upstream]\ntoken_file = \"{}\"",
        dir.join("token").display()
    ))
    .await;
    assert_eq!(app.get("/api/v1/anything/k8s").await.status, 200);
    let n = std::cell::Cell::new(2);
    assert!(
        reload_seen_after(&app, || {
            kubernetes_swap(
                &dir,
                &format!("2026_01_01_00_00_00.{:09}", n.get()),
                &demo_token,
            );
            n.set(n.get() + 1);
        })
        .await,
        "the watcher reloads on a ..data swap"
    );
    assert_eq!(reloads_caused_by_noise(&app, &dir).await, 0.0);

    app.state().set_token("snd_rotated_by_swap");
    kubernetes_swap(&dir, "2026_02_01_00_00_00.000000001", "snd_rotated_by_swap");
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.get("/api/v1/anything/swapped").await.status == 200
        })
        .await,
        "the swapped-in token is used"
    );
    let last = app.state().requests().pop().unwrap();
    assert_eq!(last.headers["x-token"], "snd_rotated_by_swap");
    app.stop().await;
}
