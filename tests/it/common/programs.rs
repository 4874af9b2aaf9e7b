//! Tests that need a program outside Rust (a real `redis-server` today) find
//! it on PATH or are skipped with a loud notice naming the Debian package, so
//! the README's test command passes on a fresh machine. With `CI` set (as CI
//! sets it: `CI=true`) a missing program fails the test instead, so CI always
//! runs them.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Whether `program` is on PATH. When it is not: panics under CI; otherwise
/// writes a notice (once per program, straight to stderr so the test harness
/// does not capture it) and returns false: the test returns early.
pub fn require_program(program: &str, debian_package: &str) -> bool {
    if on_path(program) {
        return true;
    }
    if in_ci() {
        panic!(
            "`{program}` is not installed, and CI must run every test: \
             apt-get install -y {debian_package} (.ci/run installs it)"
        );
    }
    static TOLD: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let first = TOLD
        .lock()
        .map(|mut told| {
            told.get_or_insert_with(HashSet::new)
                .insert(program.to_owned())
        })
        .unwrap_or(true);
    if first {
        // One write, so the notice is not interleaved with the harness's lines.
        let notice = format!(
            "\n************************************************************************\n\
             SKIPPED: the tests that need `{program}` are NOT running (it is not on PATH).\n\
             Install it to run them: apt-get install -y {debian_package}\n\
             (With CI=true a missing `{program}` fails the run instead.)\n\
             ************************************************************************\n"
        );
        let _ = std::io::stderr().lock().write_all(notice.as_bytes());
    }
    false
}

/// `CI` set to anything but empty, "0" or "false".
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(program))))
}

#[test]
fn a_program_on_path_is_found_and_a_missing_one_is_not() {
    assert!(on_path("sh"));
    assert!(!on_path("no-such-program-paycombat-gateway"));
    if !in_ci() {
        assert!(!require_program(
            "no-such-program-paycombat-gateway",
            "no-such-package"
        ));
    }
}
