//! Operator tools on the real binary and the real admin listener: the `mask`
//! subcommand refuses exactly what `serve` refuses and masks exactly as it
//! does; `--version` names the revision; serve's flags work without `serve`.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::common::*;

const BIN: &str = env!("CARGO_BIN_EXE_paycombat-gateway");
const FIXTURE_DETAIL: &[u8] = include_bytes!("../../fixtures/customer-detail.json");

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs the binary with `args`, `body` on stdin and `env`, bounded in time;
/// the child is killed if the bound passes.
async fn run_bin(args: &[&str], env: &[(&str, &str)], body: &[u8]) -> Run {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env_remove("GATEWAY_ENV")
        .env_remove("GATEWAY_CONFIG_DIR")
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let mut stdin = child.stdin.take().unwrap();
    let body = body.to_vec();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the binary exits within 30 s")
        .unwrap();
    let _ = writer.await;
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A config layer naming the same secret files the test gateway uses.
fn write_env_layer(dir: &Path, extra: &str) {
    let p = |f: &str| dir.join(f).display().to_string();
    std::fs::write(
        dir.join("ops.toml"),
        format!(
            "[upstream]\ntoken_file = {:?}\nsignature_key_file = {:?}\n[mask]\nhmac_key_file = {:?}\n[auth]\nmode = \"none\"\n{extra}",
            p("token"),
            p("signature_key"),
            p("mask_hmac_key"),
        ),
    )
    .unwrap();
}

async fn mask_cli(dir: &Path, extra_args: &[&str], body: &[u8]) -> Run {
    let config_dir = dir.display().to_string();
    let mut args = vec!["mask", "--config-dir", &config_dir, "--env", "ops"];
    args.extend_from_slice(extra_args);
    run_bin(&args, &[], body).await
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(body).unwrap();
    e.finish().unwrap()
}

/// One canned upstream answer: a body and an optional `Content-Encoding`.
struct Case {
    name: &'static str,
    encoding: Option<&'static str>,
    body: Vec<u8>,
}

fn case(name: &'static str, encoding: Option<&'static str>, body: impl Into<Vec<u8>>) -> Case {
    Case {
        name,
        encoding,
        body: body.into(),
    }
}

/// An upstream answering `GET …/<i>` with case `i`; stopped by aborting it.
async fn canned(cases: Arc<Vec<Case>>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let cases = cases.clone();
            tokio::spawn(async move {
                let Some(target) = read_request_target(&mut s).await else {
                    return;
                };
                let i: usize = target.rsplit('/').next().unwrap_or("").parse().unwrap();
                let c = &cases[i];
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                    c.body.len()
                );
                if let Some(e) = c.encoding {
                    out.push_str(&format!("content-encoding: {e}\r\n"));
                }
                out.push_str("\r\n");
                let _ = s.write_all(out.as_bytes()).await;
                let _ = s.write_all(&c.body).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn mask_subcommand_refuses_and_masks_exactly_as_serve_does() {
    let token = SandboxConfigToken::get();
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let cases = Arc::new(vec![
        case("documented customer", None, FIXTURE_DETAIL),
        case("nested personal data", None, &br#"{"data":{"items":[{"email":"victim@example.com","iban":"DE89370400440532013000"}]}}"#[..]),
        case("BOM then JSON", None, &b"\xEF\xBB\xBF{\"phone_number\":\"98765432\"}"[..]),
        case("gzip", Some("gzip"), gzip(FIXTURE_DETAIL)),
        case("empty", None, &b""[..]),
        case("truncated", None, &br#"{"email":"victim@example.com""#[..]),
        case("trailing bytes", None, &b"{} x"[..]),
        case("two BOMs", None, &b"\xEF\xBB\xBF\xEF\xBB\xBF{}"[..]),
        case("form feed first", None, &b"\x0c{}"[..]),
        case("UTF-16", None, &b"\xff\xfe{\x00}\x00"[..]),
        case("JSONP", None, &b"cb({\"email\":\"victim@example.com\"})"[..]),
        case("XML", None, &b"<email>victim@example.com</email>"[..]),
        case("too deep", None, deep.into_bytes()),
        case("corrupt gzip", Some("gzip"), &b"\x1f\x8b\x08\x00garbage"[..]),
        case("stacked codings", Some("gzip, br"), gzip(b"{}")),
        case("unknown coding", Some("compress"), &b"{}"[..]),
        case("reflected token", None, format!("{{\"echo\":\"{token}\"}}").into_bytes()),
    ]);
    let (base, upstream) = canned(cases.clone()).await;
    let app = spawn_app_with(Options {
        upstream_override: Some(base),
        ..Options::default()
    })
    .await;
    write_env_layer(app.dir.path(), "");
    for (i, c) in cases.iter().enumerate() {
        let served = app.get(&format!("/api/v1/payin/retrieve-payin/{i}")).await;
        let mut args = Vec::new();
        if let Some(e) = c.encoding {
            args.extend(["--content-encoding", e]);
        }
        let cli = mask_cli(app.dir.path(), &args, &c.body).await;
        // The first five are bodies the gateway documents as served, the rest as refused.
        assert_eq!(
            served.status == 502,
            i >= 5,
            "{}: {}",
            c.name,
            served.text()
        );
        if served.status == 502 {
            let code = served.error_code();
            let message = served.json()["message"].as_str().unwrap().to_owned();
            assert_eq!(
                cli.code, 2,
                "{}: serve refused ({code}), mask did not: {}",
                c.name, cli.stderr
            );
            assert!(
                cli.stdout.is_empty(),
                "{}: a refused body is never printed",
                c.name
            );
            assert!(
                cli.stderr.contains(&code),
                "{}: {} lacks {code}",
                c.name,
                cli.stderr
            );
            assert!(
                cli.stderr.contains(&message),
                "{}: {} lacks {message}",
                c.name,
                cli.stderr
            );
        } else {
            assert_eq!(served.status, 200, "{}: {}", c.name, served.text());
            assert_eq!(
                cli.code, 0,
                "{}: serve accepted, mask refused: {}",
                c.name, cli.stderr
            );
            let printed = cli.stdout.strip_suffix(b"\n").unwrap_or(&cli.stdout);
            assert_eq!(printed, &served.body[..], "{}: same bytes as serve", c.name);
        }
    }
    app.stop().await;
    upstream.abort();
}

/// The sandbox's demo token, which the test gateway holds.
struct SandboxConfigToken;
impl SandboxConfigToken {
    fn get() -> String {
        paycombat_sandbox::SandboxConfig::demo().token
    }
}

#[tokio::test]
async fn mask_subcommand_reports_counts_reasons_and_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let _ = test_settings(dir.path(), "http://127.0.0.1:9", "");
    write_env_layer(dir.path(), "");

    let r = mask_cli(dir.path(), &[], FIXTURE_DETAIL).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["data"]["individual"]["first_name"], "[REDACTED]");
    assert!(!String::from_utf8_lossy(&r.stdout).contains("fatur4@paycombat.com"));
    assert!(r.stderr.contains("masked email: 1"), "{}", r.stderr);
    assert!(r.stderr.contains("masked first_name: 1"), "{}", r.stderr);
    assert!(
        r.stderr.lines().any(|l| l.starts_with("masked values: ")),
        "{}",
        r.stderr
    );

    // A file argument instead of stdin.
    let file = dir.path().join("body.json");
    std::fs::write(&file, FIXTURE_DETAIL).unwrap();
    let f = mask_cli(dir.path(), &[file.to_str().unwrap()], b"").await;
    assert_eq!((f.code, &f.stdout), (0, &r.stdout), "{}", f.stderr);

    let bad = mask_cli(dir.path(), &[], br#"{"email": "#).await;
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("502 UPSTREAM_UNMASKABLE (parse_error)"),
        "{}",
        bad.stderr
    );

    // The same layering as serve: an environment variable lowers the body limit.
    let big = format!("{{\"note\":\"{}\"}}", "x".repeat(200));
    let config_dir = dir.path().display().to_string();
    let r = run_bin(
        &["mask", "--config-dir", &config_dir],
        &[
            ("GATEWAY_ENV", "ops"),
            ("GATEWAY__UPSTREAM__MAX_RESPONSE_BODY_BYTES", "100"),
        ],
        big.as_bytes(),
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("UPSTREAM_UNMASKABLE (too_large)"),
        "{}",
        r.stderr
    );

    // A configuration serve would not start with: exit 64, nothing masked.
    write_env_layer(dir.path(), "[mask.other]\nx = 1\n");
    let r = mask_cli(dir.path(), &[], FIXTURE_DETAIL).await;
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    std::fs::remove_file(dir.path().join("mask_hmac_key")).unwrap();
    write_env_layer(dir.path(), "");
    let r = mask_cli(dir.path(), &[], FIXTURE_DETAIL).await;
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(r.stderr.contains("mask.hmac_key_file"), "{}", r.stderr);
}

#[tokio::test]
async fn version_names_the_revision_and_serve_flags_work_without_serve() {
    let r = run_bin(&["--version"], &[], b"").await;
    assert_eq!(r.code, 0);
    let out = String::from_utf8_lossy(&r.stdout).into_owned();
    assert_eq!(
        out.trim(),
        format!(
            "paycombat-gateway {} (rev {})",
            env!("CARGO_PKG_VERSION"),
            paycombat_gateway::build::REVISION
        )
    );

    // `--listen` without `serve` is serve's flag: accepted by the parser
    // (exit 2 would be a usage error), then start-up stops at the config.
    for args in [
        &["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"][..],
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ][..],
    ] {
        let r = run_bin(args, &[("GATEWAY_CONFIG_DIR", "/nonexistent")], b"").await;
        assert_eq!(r.code, 64, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("auth.clients_file"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let r = run_bin(&["hash-key", "--help"], &[], b"").await;
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("Generate a new random client key"),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
}

/// Every `docs/….md` the README, the code or the tests cite exists in the repository.
#[test]
fn cited_docs_exist_in_the_repository() {
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs" || x == "md") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = vec![root.join("README.md")];
    for d in ["src", "tests", "docs"] {
        files(&root.join(d), &mut all);
    }
    let cite = regex::Regex::new(r"docs/[a-z0-9_-]+\.md").unwrap();
    let mut cited = 0;
    for f in &all {
        let text = std::fs::read_to_string(f).unwrap();
        let outside = concat!("UPSTREAM", "-API.md");
        assert!(
            !text.contains(outside),
            "{} cites a file outside the repository",
            f.display()
        );
        for m in cite.find_iter(&text) {
            cited += 1;
            assert!(
                root.join(m.as_str()).is_file(),
                "{} cites missing {}",
                f.display(),
                m.as_str()
            );
        }
    }
    assert!(
        cited >= 4,
        "the upstream API page is cited from code, tests and the README"
    );
}

/// The demo says how the sandbox makes up customers, so nobody mistakes a
/// read of an invented id for paycombat's behaviour.
#[tokio::test]
async fn demo_banner_explains_the_invented_customers() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = String::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            banner.push_str(&line);
            banner.push('\n');
            if line.starts_with("Ctrl-C stops") {
                break;
            }
        }
    })
    .await;
    // SIGTERM stops it (gracefully once its handler is installed, which the
    // banner may precede); the credential directory goes either way.
    let pid = child.id().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let stopped = tokio::time::timeout(Duration::from_secs(20), child.wait()).await;
    let _ =
        std::fs::remove_dir_all(std::env::temp_dir().join(format!("paycombat-gateway-demo-{pid}")));
    assert!(stopped.is_ok(), "the demo stops on SIGTERM");
    assert!(read.is_ok(), "banner within 30 s: {banner}");
    assert!(
        banner.contains("The sandbox invents its customers: every well-formed id"),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("{FIXTURE_ID} is paycombat's documented example")),
        "{banner}"
    );
}

/// The `mask` subcommand applies typed declarations and chooses the policy by the path alone,
/// as `serve` does: a `DELETE` or `POST` of the detail's path is judged as the detail (a value
/// its declared kind cannot hold masked, an undeclared key the gateway's own), whatever
/// `--method` says.
#[tokio::test]
async fn mask_subcommand_applies_typed_declarations_by_path_whatever_the_method() {
    let dir = tempfile::tempdir().unwrap();
    let _ = test_settings(dir.path(), "http://127.0.0.1:9", "");
    write_env_layer(dir.path(), "");
    let body = br#"{"status":true,"data":{"customer_id":"Alice Typedname","type":"individual","AliceKeyname":1,"created_at":"2024-12-06T03:53:52.779Z"}}"#;
    for method in ["GET", "DELETE", "POST"] {
        let path = "/api/v1/customer/customer/customer_1";
        let r = mask_cli(dir.path(), &["--path", path, "--method", method], body).await;
        assert_eq!(r.code, 0, "{method}: {}", r.stderr);
        let out = String::from_utf8_lossy(&r.stdout);
        assert!(
            !out.contains("Typedname") && !out.contains("AliceKeyname"),
            "{method}: {out}"
        );
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        assert_eq!(v["data"]["customer_id"], "[REDACTED]", "{method}");
        assert_eq!(v["data"]["type"], "individual", "{method}");
        assert_eq!(
            v["data"]["created_at"], "2024-12-06T03:53:52.779Z",
            "{method}"
        );
    }
}
