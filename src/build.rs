//! Build facts, for `gateway_build_info` and `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const REVISION: &str = env!("GATEWAY_GIT_REVISION");
/// What `--version` prints after the program name: `0.1.0 (rev 1a2b3c4d5e6f)`.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (rev ",
    env!("GATEWAY_GIT_REVISION"),
    ")"
);
