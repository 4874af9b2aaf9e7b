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
