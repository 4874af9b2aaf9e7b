//! The test configuration: the files the gateway reads (secrets, clients file), the TOML
//! document layered over the defaults, and the reload layers built from it.

use std::path::Path;

use paycombat_sandbox::SandboxConfig;

use super::{clients, ADMIN_TOKEN};

/// The harness's clients file ([`clients::harness_clients`]).
pub fn clients_toml() -> String {
    clients::clients_file(&clients::harness_clients())
}

/// Writes the secret files, the clients file and a config overlay in a
/// temporary directory, then builds the gateway with port 0 listeners.
pub fn test_settings(dir: &Path, upstream: &str, extra: &str) -> paycombat_gateway::Settings {
    let overlay = test_config(dir, upstream, extra);
    paycombat_gateway::config::load_with(Path::new("/nonexistent"), None, Some(&overlay))
        .unwrap_or_else(|e| panic!("test settings: {e}\n{overlay}"))
}

/// The files [`test_settings`] writes, and its configuration as one TOML document.
pub fn test_config(dir: &Path, upstream: &str, extra: &str) -> String {
    let cfg = SandboxConfig::demo();
    std::fs::write(dir.join("token"), &cfg.token).unwrap();
    std::fs::write(dir.join("signature_key"), &cfg.signature_key).unwrap();
    std::fs::write(dir.join("mask_hmac_key"), "test-mask-key").unwrap();
    std::fs::write(dir.join("admin_token"), ADMIN_TOKEN).unwrap();
    if !dir.join("clients.toml").exists() {
        std::fs::write(dir.join("clients.toml"), clients_toml()).unwrap();
    }
    // Each gateway its own spool directory, so a test can see what is left in it.
    std::fs::create_dir_all(dir.join("spool")).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    let base = format!(
        r#"
[server]
listen = "127.0.0.1:0"
drain_timeout = "5s"
[admin]
listen = "127.0.0.1:0"
token_file = "{admin}"
[upstream]
base_url = "{upstream}"
token_file = "{token}"
signature_key_file = "{sig}"
timeout = "5s"
connect_timeout = "1s"
[upstream.buffering]
spool_dir = "{spool}"
[mask]
hmac_key_file = "{hmac}"
# The shipped declarations plus `data.description` and `data.tenant` (on the detail and the
# other customer endpoints): the cache and write tests tell versions of a customer (and the
# client an answer was for) apart by them. The masking tests that need the shipped
# policy as it is (free text masked on this route) set it in their own overlay.
[mask.policy.families.customer_detail]
declared = [
  "status:flag", "message:personal", "data:customer",
  "data:write_envelope", "data.data:customer", "data.data.deleted:flag",
  "data.description:text", "data.tenant:text",
]
[mask.policy.families.customer]
declared = [
  "status:flag", "message:personal", "data:customer", "data.items[]:customer",
  "data.page:count", "data.limit:count", "data.total_items:count", "data.total_pages:count",
  "data:write_envelope", "data.data:customer", "data.data.deleted:flag",
  "data.description:text", "data.tenant:text",
]
[auth]
mode = "keys"
clients_file = "{clients}"
[log]
format = "json"
[log.access]
output = "file"
file = "{access}"
"#,
        admin = p("admin_token"),
        token = p("token"),
        sig = p("signature_key"),
        hmac = p("mask_hmac_key"),
        clients = p("clients.toml"),
        access = p("access.log"),
        spool = p("spool"),
    );
    merge_toml(&base, extra)
}

/// Merges two TOML documents (the second wins, table by table), so a test can override
/// one key of a section the base already names.
pub fn merge_toml(base: &str, extra: &str) -> String {
    fn merge(into: &mut toml::Table, from: toml::Table) {
        for (key, value) in from {
            match (into.get_mut(&key), value) {
                (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => merge(mine, theirs),
                (_, value) => {
                    into.insert(key, value);
                }
            }
        }
    }
    let parse = |doc: &str| {
        doc.parse::<toml::Table>()
            .unwrap_or_else(|e| panic!("overlay: {e}\n{doc}"))
    };
    let mut merged = parse(base);
    merge(&mut merged, parse(extra));
    toml::to_string(&merged).unwrap_or_else(|e| panic!("overlay: {e}"))
}

/// `file` as the only layer over the defaults (no environment variables).
pub fn reload_layers(file: &Path) -> paycombat_gateway::config::Layers {
    paycombat_gateway::config::Layers {
        file: Some(file.to_owned()),
        vars: Some(paycombat_gateway::config::EnvLayer::from_vars(Vec::<(
            String,
            String,
        )>::new(
        ))),
        ..paycombat_gateway::config::Layers::default()
    }
}
