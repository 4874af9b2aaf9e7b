//! The gateway binary as a child process in front of its own sandbox, for
//! tests that measure the gateway's memory alone: in-process, the sandbox,
//! the clients and every other test running at the same time count too.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http::Method;

/// A port free when asked (the child binds it a moment later).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The demo sandbox on a free loopback port.
pub async fn demo_sandbox() -> paycombat_sandbox::Sandbox {
    paycombat_sandbox::Sandbox::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        paycombat_sandbox::SandboxConfig::demo(),
    )
    .await
    .unwrap()
}

/// Waits (15 s at most) until a gateway's admin listener on `admin_port`
/// answers `/readyz` with 200; false if it never does.
pub async fn ready(admin_port: u16) -> bool {
    let client: super::Client<super::HttpConnector, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let url = format!("http://127.0.0.1:{admin_port}/readyz");
    super::eventually(Duration::from_secs(15), || async {
        tokio::net::TcpStream::connect(("127.0.0.1", admin_port))
            .await
            .is_ok()
            && super::request(&client, Method::GET, &url, &[], b"")
                .await
                .status
                == 200
    })
    .await
}

/// Resident memory of process `pid` ("self" for this one), from /proc.
pub fn rss_of(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Writes the sandbox's credentials and a mask key into `dir`, and returns
/// the environment that points `serve` at `base_url` with them, client
/// authentication off: what every test running the binary starts from.
pub fn gateway_env(
    base_url: &str,
    cfg: &paycombat_sandbox::SandboxConfig,
    dir: &std::path::Path,
) -> Vec<(&'static str, std::ffi::OsString)> {
    std::fs::write(dir.join("token"), &cfg.token).unwrap();
    std::fs::write(dir.join("sig"), &cfg.signature_key).unwrap();
    std::fs::write(dir.join("hmac"), "k").unwrap();
    vec![
        ("GATEWAY__UPSTREAM__BASE_URL", base_url.into()),
        ("GATEWAY__UPSTREAM__TOKEN_FILE", dir.join("token").into()),
        (
            "GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE",
            dir.join("sig").into(),
        ),
        ("GATEWAY__MASK__HMAC_KEY_FILE", dir.join("hmac").into()),
        ("GATEWAY__AUTH__MODE", "none".into()),
    ]
}

/// `serve` as a child process, upstream the demo sandbox, client
/// authentication off. Killed when dropped.
pub struct GatewayProcess {
    child: Child,
    pub addr: std::net::SocketAddr,
    pub admin: std::net::SocketAddr,
    pub sandbox: paycombat_sandbox::Sandbox,
    /// Holds the credential files (and whatever the test puts beside them).
    pub dir: tempfile::TempDir,
    client: super::Client<super::HttpConnector, http_body_util::Full<bytes::Bytes>>,
}

impl GatewayProcess {
    /// Starts it with `env` (`GATEWAY__…` settings) on top of the defaults,
    /// and waits until it accepts connections.
    pub async fn start(env: &[(&str, String)]) -> GatewayProcess {
        let cfg = paycombat_sandbox::SandboxConfig::demo();
        let sandbox = paycombat_sandbox::Sandbox::start(
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            cfg.clone(),
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (port, admin) = (free_port(), free_port());
        let mut command = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"));
        command
            .args(["serve", "--config-dir", "/nonexistent"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .env_remove("GATEWAY_ENV")
            .envs(gateway_env(&sandbox.base_url(), &cfg, dir.path()))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().unwrap();
        let process = GatewayProcess {
            child,
            addr: ([127, 0, 0, 1], port).into(),
            admin: ([127, 0, 0, 1], admin).into(),
            sandbox,
            dir,
            client: hyper_util::client::legacy::Client::builder(
                hyper_util::rt::TokioExecutor::new(),
            )
            .build_http(),
        };
        let addr = process.addr;
        assert!(
            super::eventually(Duration::from_secs(10), || async {
                tokio::net::TcpStream::connect(addr).await.is_ok()
            })
            .await,
            "gateway started"
        );
        process
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// The gateway's resident memory.
    pub fn rss(&self) -> u64 {
        rss_of(&self.pid())
    }

    /// Its `/metrics`.
    pub async fn scrape(&self) -> String {
        super::request(
            &self.client,
            Method::GET,
            &format!("http://{}/metrics", self.admin),
            &[],
            b"",
        )
        .await
        .text()
    }

    /// A GET of `path` on the API listener, read whole.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> super::Resp {
        super::request(
            &self.client,
            Method::GET,
            &format!("http://{}{path}", self.addr),
            headers,
            b"",
        )
        .await
    }

    /// SIGKILL: whatever it still held is left as a crash would leave it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
