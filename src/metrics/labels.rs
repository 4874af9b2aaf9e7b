//! Label values several components' families share. Label enums one
//! component decides live with that component and implement [`Label`](super::Label)
//! there (`label_enum!` in its `metrics.rs`).

crate::label_enum! {
    /// `result` of the reload counters (credentials, clients file, TLS files):
    /// what the reload mechanism (`crate::reload`) reports for each.
    pub enum ReloadResult {
        Ok => "ok",
        Failed => "failed",
    }
}

/// A word of one of the gateway's own fixed tables (the response-header
/// vocabulary, the build's version): a `&'static str`, so it is written in
/// the source, never read from a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vocabulary(pub &'static str);

impl super::Label for Vocabulary {
    fn as_str(&self) -> &str {
        self.0
    }
}
