//! Build facts, for `gateway_build_info` and `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const REVISION: &str = env!("GATEWAY_GIT_REVISION");
