//! Records the git revision for the `gateway_build_info` metric.
fn main() {
    // An image build has no .git: the builder passes the revision in instead.
    let from_env = std::env::var("GATEWAY_GIT_REVISION")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let rev = from_env
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(git_revision);
    println!("cargo:rustc-env=GATEWAY_GIT_REVISION={rev}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    println!("cargo:rerun-if-env-changed=GATEWAY_GIT_REVISION");
    compress_release_debug_sections();
}

/// Release builds keep line tables (`debug = "line-tables-only"`), and with
/// split DWARF they stay in the executable: `.debug_line` belongs to the
/// skeleton units the `.dwp` beside it is found through, and the panic
/// backtrace reads it at run time to print file and line. Left as they are
/// they are about 40 MB of the binary; compressed (zlib, `SHF_COMPRESSED`,
/// which addr2line, gdb, llvm-symbolizer and std's backtrace all read) they
/// take a fraction of that and nothing is lost. `strip = "debuginfo"` would
/// drop them, and the `.dwp` alone holds no line table: addr2line then
/// answers `??`. Only the gateway's binaries are affected, only in release
/// builds on Linux (GNU ld and lld both take the flag).
fn compress_release_debug_sections() {
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if release && linux {
        println!("cargo:rustc-link-arg-bins=-Wl,--compress-debug-sections=zlib");
    }
}

fn git_revision() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
