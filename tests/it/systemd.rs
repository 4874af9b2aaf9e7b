//! The systemd unit as shipped, and the readiness protocol its `Type=notify`
//! relies on: the unit's environment is a valid configuration with nothing but
//! the credential files beside it (no optional overlay), and the real binary
//! sends READY=1 once its listener accepts and STOPPING=1 when a drain starts.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::net::UnixDatagram;

const BIN: &str = env!("CARGO_BIN_EXE_paycombat-gateway");
const UNIT: &str = include_str!("../../deploy/systemd/paycombat-gateway.service");

/// The unit's `Environment=` assignments, with `%d` (the credentials directory)
/// and `/etc/paycombat-gateway` pointed into `root`.
fn unit_environment(root: &Path) -> Vec<(String, String)> {
    let creds = root.join("credentials");
    UNIT.lines()
        .filter_map(|l| l.trim().strip_prefix("Environment="))
        .map(|assignment| {
            let (k, v) = assignment.split_once('=').expect("Environment=KEY=VALUE");
            let v = v
                .replace("%d", &creds.display().to_string())
                // %C: the cache root systemd creates CacheDirectory= under.
                .replace("%C", &root.join("cache").display().to_string())
                .replace("/etc/paycombat-gateway", &root.display().to_string());
            (k.to_owned(), v)
        })
        .collect()
}

fn install_files(root: &Path) {
    let creds = root.join("credentials");
    std::fs::create_dir_all(&creds).unwrap();
    for name in ["token", "signature_key", "mask_hmac_key", "admin_token"] {
        std::fs::write(creds.join(name), format!("{name}-value")).unwrap();
    }
    std::fs::write(root.join("clients.toml"), crate::common::clients_toml()).unwrap();
    // What CacheDirectory=paycombat-gateway makes before the unit starts.
    std::fs::create_dir_all(root.join("cache").join("paycombat-gateway")).unwrap();
}

#[tokio::test]
async fn the_unit_starts_without_the_optional_overlay() {
    let root = tempfile::tempdir().unwrap();
    install_files(root.path());
    let env = unit_environment(root.path());
    assert!(
        !env.iter().any(|(k, _)| k == "GATEWAY_ENV"),
        "the unit must not select a layer file it does not install: {env:?}"
    );
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(BIN);
        // The unit's WorkingDirectory, with no config/ directory in it.
        cmd.arg("check-config")
            .current_dir(root.path())
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied());
        cmd.output().unwrap()
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "check-config with the unit's environment: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Naming a layer that is not installed is still an error (a typo must not
    // run on defaults): that is why the unit leaves GATEWAY_ENV to the operator.
    let out = run(&[("GATEWAY_ENV", "production")]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("production.toml"));
}

/// The next datagram on `sock`, as text, within 20 s.
async fn next_message(sock: &UnixDatagram) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), sock.recv(&mut buf))
        .await
        .expect("a notification within 20 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn notify_socket_gets_ready_after_the_listener_accepts_and_stopping_on_sigterm() {
    let sandbox = crate::common::process::demo_sandbox().await;
    let cfg = paycombat_sandbox::SandboxConfig::demo();
    let dir = tempfile::tempdir().unwrap();
    let env = crate::common::process::gateway_env(&sandbox.base_url(), &cfg, dir.path());
    let socket_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&socket_path).unwrap();
    let log_path = dir.path().join("gateway.log");
    // A free port can be taken by a neighbouring test between the probe and
    // the gateway's bind: then the gateway exits 64 before READY=1, and the
    // test tries another port (a few times at most) instead of waiting out
    // its deadline.
    let mut attempt = 0;
    let (mut child, port, ready) = loop {
        attempt += 1;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut child = tokio::process::Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", "127.0.0.1:0"])
            .env_remove("GATEWAY_ENV")
            .env_remove("GATEWAY_CONFIG_DIR")
            .env("NOTIFY_SOCKET", &socket_path)
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        tokio::select! {
            ready = next_message(&sock) => break (child, port, ready),
            status = child.wait() => {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                assert!(
                    attempt < 3 && log.contains("in use"),
                    "the gateway exited before READY=1 ({status:?}): {log}"
                );
            }
        }
    };
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    // READY=1 means connections are accepted now, not eventually.
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the API listener accepts once READY=1 is sent");

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopping = next_message(&sock).await;
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping:?}");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the gateway exits after its drain")
        .unwrap();
    assert!(status.success(), "{status:?}");
}
