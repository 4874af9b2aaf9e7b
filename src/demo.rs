//! `demo`: the sandbox upstream on a loopback port and the gateway in front of
//! it, with demo credentials written as files (the same path as production:
//! rotate them by editing the files), and ready-to-paste curl lines.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::lifecycle::{serve_until_signal, shutdown_signal, EXIT_CONFIG};
use paycombat_sandbox::{Sandbox, SandboxConfig};

pub const DEMO_CLIENT_KEY: &str = "demo-client-key";
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token";
const FIXTURE_CUSTOMER: &str = "customer_67d84b19d50b490a8fa75ab20bbf275a";

/// Writes the demo's secret files into a fresh private directory.
fn write_demo_files(dir: &Path, cfg: &SandboxConfig) -> std::io::Result<()> {
    // Private, as the README asks of any directory of secrets (demo ones included).
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::write(dir.join("token"), &cfg.token)?;
    std::fs::write(dir.join("signature_key"), &cfg.signature_key)?;
    std::fs::write(dir.join("mask_hmac_key"), "demo-mask-hmac-key")?;
    std::fs::write(dir.join("admin_token"), DEMO_ADMIN_TOKEN)?;
    std::fs::write(
        dir.join("clients.toml"),
        format!(
            "# Demo client: key {DEMO_CLIENT_KEY:?}.\n[[clients]]\nname = \"demo\"\nkeys_sha256 = [\"{}\"]\nrate_limit = {{ per_second = 200, burst = 400 }}\nallow = [{{ methods = [\"*\"], path = \"/api/v1/**\" }}]\n",
            crate::auth::hash_key(DEMO_CLIENT_KEY)
        ),
    )
}

/// The settings the demo runs with, as a TOML layer over the defaults.
pub fn demo_overlay(dir: &Path, upstream: &str, listen: SocketAddr, admin: SocketAddr) -> String {
    let p = |f: &str| dir.join(f).display().to_string();
    format!(
        r#"
[server]
listen = "{listen}"
[admin]
listen = "{admin}"
token_file = "{admin_token}"
[upstream]
base_url = "{upstream}"
token_file = "{token}"
signature_key_file = "{sig}"
[mask]
hmac_key_file = "{hmac}"
[auth]
mode = "keys"
clients_file = "{clients}"
"#,
        admin_token = p("admin_token"),
        token = p("token"),
        sig = p("signature_key"),
        hmac = p("mask_hmac_key"),
        clients = p("clients.toml"),
    )
}

pub async fn run(listen: Option<SocketAddr>, admin: Option<SocketAddr>) -> ExitCode {
    let listen = listen.unwrap_or_else(|| "127.0.0.1:8080".parse().expect("literal address"));
    let admin = admin.unwrap_or_else(|| "127.0.0.1:9090".parse().expect("literal address"));
    let cfg = SandboxConfig::demo();
    let sandbox = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => match Sandbox::start(l, cfg.clone()).await {
            Ok(s) => s,
            Err(e) => return fail(format!("sandbox: {e}")),
        },
        Err(e) => return fail(format!("sandbox: {e}")),
    };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("paycombat-gateway-demo-{}", std::process::id()));
    if let Err(e) = write_demo_files(&dir, &cfg) {
        return fail(format!("writing demo files in {}: {e}", dir.display()));
    }
    let overlay = demo_overlay(&dir, &sandbox.base_url(), listen, admin);
    let settings = match crate::config::load_with(Path::new("config"), None, Some(&overlay)) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    crate::logging::init(&settings.log);
    // Bind first: a busy port fails here, before any curl line is printed,
    // and the banner shows the ports actually bound (port 0 included).
    let bound = match crate::app::App::build(settings).await {
        Ok(app) => app
            .local_addrs()
            .map(|addrs| (app, addrs))
            .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    let code = match bound {
        Ok((app, (listen, admin))) => {
            print_banner(listen, admin, &sandbox.base_url(), &dir);
            serve_until_signal(app).await
        }
        Err(e) => fail(crate::problems::causes(e.chain())),
    };
    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    code
}

fn fail(msg: String) -> ExitCode {
    eprintln!("demo cannot start: {msg}");
    ExitCode::from(EXIT_CONFIG)
}

fn print_banner(listen: SocketAddr, admin: SocketAddr, upstream: &str, dir: &Path) {
    let g = format!("http://{listen}");
    let k = format!("-H 'X-token: {DEMO_CLIENT_KEY}'");
    let id = FIXTURE_CUSTOMER;
    println!(
        "\npaycombat-gateway demo\n  gateway  {g}   (client key: {DEMO_CLIENT_KEY})\n  admin    http://{admin}   (admin token: {DEMO_ADMIN_TOKEN})\n  sandbox  {upstream}   (fake paycombat; credentials in {dir})\n\n\
The sandbox invents its customers: every well-formed id (customer_ + 32 lowercase hex digits)\nexists, generated from a hash of the id (the same on every run, made-up personal data);\n{id} is paycombat's documented example. Only written customers are stored.\n\n\
Try (run each twice: the second read is a cache hit — see Cache-Status):\n\n\
# customer detail (personal data masked)\ncurl -si {k} {g}/api/v1/customer/customer/{id}\n\n\
# wallet-ready\ncurl -si {k} {g}/api/v1/customer/customer-wallet-is-ready/{id}\n\n\
# update (the gateway signs the body and drops the cached customer: the next read is a miss with the new updated_at; description is free text, masked on reads)\ncurl -si -X PATCH {k} -H 'Content-Type: application/json' -d '{{\"customer_id\":\"{id}\",\"description\":\"updated through the gateway\"}}' {g}/api/v1/customer/update\n\n\
# disable\ncurl -si -X PATCH {k} {g}/api/v1/customer/disable/{id}\n\n\
# without a client key: 401\ncurl -si {g}/api/v1/customer/customer/{id}\n\n\
# metrics, readiness\ncurl -s http://{admin}/metrics | grep '^gateway_'\ncurl -si http://{admin}/readyz\n\n\
Ctrl-C stops (gracefully).\n",
        dir = dir.display()
    );
}

pub async fn sandbox_alone(listen: SocketAddr) -> ExitCode {
    crate::logging::init_with(crate::config::LogFormat::Human, "info", 1 << 20);
    let cfg = SandboxConfig::demo();
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => return fail(format!("binding {listen}: {e}")),
    };
    let sandbox = match Sandbox::start(listener, cfg.clone()).await {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    println!(
        "sandbox upstream on {} (X-token: {}, signature key: {})",
        sandbox.base_url(),
        cfg.token,
        String::from_utf8_lossy(&cfg.signature_key)
    );
    shutdown_signal().await;
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
