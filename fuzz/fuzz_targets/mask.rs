//! `Masker::mask` with the shipped rules on arbitrary bytes: it must never panic, and a body
//! it accepts must come out as JSON (a blank body passes unchanged).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use paycombat_gateway::mask::{default_settings, Masker};

fn masker() -> &'static Masker {
    static MASKER: OnceLock<Masker> = OnceLock::new();
    MASKER.get_or_init(|| {
        let cfg = default_settings();
        Masker::new(&cfg, Some(b"fuzz-hmac-key")).expect("shipped rules build")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(masked) = masker().mask(data) else {
        return;
    };
    let content = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if content
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        assert_eq!(&masked.body[..], content, "a blank body passes unchanged");
        return;
    }
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&masked.body) {
        panic!("masked output is not JSON: {e}");
    }
});
