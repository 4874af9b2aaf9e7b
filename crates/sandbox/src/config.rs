use std::fmt;
use std::sync::Arc;

/// What the sandbox needs to start: the credentials it expects and, optionally, TLS.
#[derive(Clone)]
pub struct SandboxConfig {
    /// The merchant token every `/api/v1` request must carry in `X-token`.
    pub token: String,
    /// The key of the HMAC-SHA256 `signature` over request bodies.
    pub signature_key: Vec<u8>,
    /// Serve HTTPS with this configuration (ALPN `h2` and `http/1.1` are added when it lists none).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl SandboxConfig {
    /// The fixed credentials of the demo: plain HTTP, a sandbox-looking token and key.
    pub fn demo() -> Self {
        Self {
            token: "snd_ZGVtby1zYW5kYm94LXRva2Vu".to_owned(),
            signature_key: b"demo-signature-key".to_vec(),
            tls: None,
        }
    }
}

// Credentials must never reach logs, even in a test fixture's config.
impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("token", &"<redacted>")
            .field("signature_key", &"<redacted>")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_credentials() {
        let cfg = SandboxConfig::demo();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains(&cfg.token));
        assert!(!shown.contains("demo-signature-key"));
        assert!(shown.contains("<redacted>"));
    }
}
