//! Masked bodies read by the clients that read keys most loosely: a real Go `encoding/json`
//! client (its field match folds case the way `EqualFold` does, so `ſ` is `s` and `K` is
//! `k`), and readers that apply NFKC and trim keys. None may recover a raw personal value.
//!
//! Needs `go` (Debian's golang-go). Without it the test prints a notice and passes, except
//! under `CI=true`, where a missing Go is a failure.

use std::path::Path;
use std::process::Command;

use crate::common::require_program;
use paycombat_gateway::mask::policy::PolicyFamily;
use paycombat_gateway::mask::{default_settings, Masker};

const GO_MAIN: &str = r#"package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type Person struct {
	LastName      string      `json:"last_name"`
	FirstName     string      `json:"first_name"`
	AddressLine1  string      `json:"address_line1"`
	Ifsc          string      `json:"ifsc"`
	Bsb           string      `json:"bsb"`
	SortCode      string      `json:"sort_code"`
	Email         string      `json:"email"`
	PhoneNumber   interface{} `json:"phone_number"`
	AccountNumber interface{} `json:"account_number"`
	Iban          string      `json:"iban"`
	Dob           string      `json:"dob"`
	AddressLine12 string `json:"AddressLine1"`
	SortCode2     string `json:"SortCode"`
}

type Doc struct {
	Person
	Data Person `json:"data"`
}

func main() {
	for _, path := range os.Args[1:] {
		raw, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var d Doc
		if err := json.Unmarshal(raw, &d); err != nil {
			fmt.Fprintln(os.Stderr, path, err)
			os.Exit(1)
		}
		out, _ := json.Marshal(d)
		fmt.Println(string(out))
	}
}
"#;

/// `(body, the raw value it hides, whether its key is a plain field name)`: each key a
/// spelling some client maps onto a rule name.
fn bodies() -> Vec<(String, &'static str, bool)> {
    let mut v = Vec::new();
    let mut add = |key: &str, value: &'static str| {
        let one = serde_json::json!({ key: value }).to_string();
        let nested = serde_json::json!({ "data": { key: value } }).to_string();
        let plain = key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        v.push((one, value, plain));
        v.push((nested, value, plain));
    };
    // U+017F LATIN SMALL LETTER LONG S: Go folds it to `s`.
    add("la\u{17f}t_name", "Victimson17F");
    add("LA\u{17f}T_NAME", "Victimson17G");
    add("address_line1", "Jalan Rahasia 42");
    add("Addre\u{17f}\u{17f}Line1", "Jalan Rahasia 43");
    add("Ifsc", "SBIN0001234");
    add("If\u{17f}c", "SBIN0005678");
    add("B\u{17f}b", "062000");
    add("\u{17f}ortCode", "401276");
    add("\u{17f}ort_code", "401277");
    // U+212A KELVIN SIGN folds to `k`... no rule name has one; full-width letters (NFKC).
    add(
        "\u{ff45}\u{ff4d}\u{ff41}\u{ff49}\u{ff4c}",
        "fullwidth.victim@example.com",
    );
    add(
        "\u{ff2c}\u{ff41}\u{ff53}\u{ff54}_name",
        "FullwidthVictimson",
    );
    // Trimming readers.
    add("email ", "trailing.victim@example.com");
    add("\u{feff}email", "bom.victim@example.com");
    add("email\u{0}", "nul.victim@example.com");
    add(" e\u{200d}mail\u{a0}", "zwj.victim@example.com");
    add("first\u{ad}name", "SoftHyphenAlice");
    v
}

fn maskers() -> Vec<(Masker, PolicyFamily)> {
    [
        PolicyFamily::CustomerDetail,
        PolicyFamily::Payin,
        PolicyFamily::Other,
    ]
    .into_iter()
    .map(|f| {
        let m = Masker::new(&default_settings(), Some(b"go-client-test-key")).expect("valid");
        (m, f)
    })
    .collect()
}

/// How an NFKC-and-trim reader names a key: NFKC, surrounding whitespace, NUL and BOMs
/// trimmed, lower case, `_` / `-` ignored.
fn lenient(key: &str) -> String {
    let n = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(key);
    n.trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '\u{feff}')
        .to_lowercase()
        .replace(['_', '-'], "")
}

const FIELDS: &[&str] = &[
    "lastname",
    "firstname",
    "addressline1",
    "ifsc",
    "bsb",
    "sortcode",
    "email",
];

#[test]
fn a_real_go_client_and_lenient_readers_recover_no_raw_value() {
    let masked: Vec<(String, &'static str, bool)> = maskers()
        .iter()
        .flat_map(|(m, family)| {
            bodies().into_iter().map(move |(body, raw, plain)| {
                let out = m.mask_for(body.as_bytes(), *family).expect("maskable");
                let text = String::from_utf8(out.body.to_vec()).expect("utf-8");
                (text, raw, plain)
            })
        })
        .collect();
    // Lenient readers: any key that reads as a personal field holds no raw value, and no
    // raw value is anywhere in the bytes.
    // How many keys the lenient reader maps onto a field (so the check can fail).
    let mut readable = 0;
    for (body, raw, _) in &masked {
        assert!(!body.contains(raw), "{raw} in {body}");
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        let mut stack = vec![&v];
        while let Some(v) = stack.pop() {
            if let Some(o) = v.as_object() {
                for (k, val) in o {
                    let name = lenient(k);
                    if FIELDS.contains(&name.as_str()) {
                        readable += 1;
                        assert!(
                            !val.as_str().is_some_and(|s| s.contains(raw)),
                            "{name}: {raw} recovered from {body}"
                        );
                    }
                    stack.push(val);
                }
            }
        }
    }
    // A key that is no plain field name (`"email "`, a BOM before `email`, full-width
    // letters, `ſ`) is written `<key>#N` wherever a rule or the family's key rule would
    // otherwise copy it: nothing there is left for a lenient reader to map. A plain field
    // name (`address_line1`, `Ifsc`) is copied with its value masked, so each such body
    // gives the reader at least one key to map: the checks above ran on something.
    let plain = masked.iter().filter(|(_, _, plain)| *plain).count();
    assert!(
        plain > 0 && readable >= plain,
        "{readable} readable keys in {plain} bodies with plain keys"
    );
    let Some(go) = go_binary() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = build_go_client(&go, dir.path());
    let mut files = Vec::new();
    for (i, (body, _, _)) in masked.iter().enumerate() {
        let f = dir.path().join(format!("body{i}.json"));
        std::fs::write(&f, body).expect("write body");
        files.push(f);
    }
    let out = Command::new(&bin)
        .args(&files)
        .output()
        .expect("run go client");
    assert!(
        out.status.success(),
        "go client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(decoded.lines().count(), masked.len(), "{decoded}");
    for ((_, raw, _), line) in masked.iter().zip(decoded.lines()) {
        assert!(!line.contains(raw), "Go decoded {raw}: {line}");
    }
    // The Go client does fill its fields from the odd spellings (so the test can fail):
    // the unmasked bodies give the raw values back.
    let raw_files: Vec<_> = bodies()
        .iter()
        .enumerate()
        .map(|(i, (body, _, _))| {
            let f = dir.path().join(format!("raw{i}.json"));
            std::fs::write(&f, body).expect("write");
            f
        })
        .collect();
    let out = Command::new(&bin).args(&raw_files).output().expect("run");
    let plain = String::from_utf8_lossy(&out.stdout);
    for raw in [
        "Victimson17F",
        "Victimson17G",
        "Jalan Rahasia 43",
        "SBIN0005678",
        "062000",
        "401276",
    ] {
        assert!(
            plain.contains(raw),
            "Go did not map the key holding {raw}: {plain}"
        );
    }
}

fn go_binary() -> Option<String> {
    // One rule for outside programs: found, or a loud skip (a failure under CI).
    require_program("go", "golang-go").then(|| "go".to_owned())
}

fn build_go_client(go: &str, dir: &Path) -> std::path::PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("main.go"), GO_MAIN).expect("write main.go");
    std::fs::write(src.join("go.mod"), "module maskedclient\n\ngo 1.19\n").expect("go.mod");
    let bin = dir.join("client");
    let out = Command::new(go)
        .current_dir(&src)
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .env("GOCACHE", dir.join("gocache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "go build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}
