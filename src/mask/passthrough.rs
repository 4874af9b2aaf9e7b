//! The raw `[[mask.passthrough]]` entry: part of the `[mask]` section it is read with.
//! What it means at run time (which answers pass uninspected) is `crate::inspect`'s
//! `PassthroughRule`, built from it.

/// The raw `[[mask.passthrough]]` entry.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PassthroughConfig {
    #[serde(default = "get_only")]
    pub methods: Vec<String>,
    pub path: String,
    pub content_types: Vec<String>,
    #[serde(default)]
    pub magic: String,
    /// Forward `Range`/`If-Range` and pass `206` answers. A part of a body
    /// does not start with `magic`, so partial answers pass unverified: off
    /// unless said.
    #[serde(default)]
    pub ranges: bool,
}

fn get_only() -> Vec<String> {
    vec!["GET".to_owned()]
}
