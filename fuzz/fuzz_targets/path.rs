//! `path::validate` and `Route::classify` on arbitrary strings: they must never panic, and a
//! path that validates has no dot segment, no empty segment, no backslash or control byte and
//! no escape that decodes to one or to '/', so whatever decodes it once sees the same segments.
#![no_main]

use http::Method;
use libfuzzer_sys::fuzz_target;
use paycombat_gateway::path::validate;
use paycombat_gateway::route::Route;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PATCH,
    Method::DELETE,
    Method::PUT,
];

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    for m in &METHODS {
        let _ = Route::classify(m, path).label();
    }
    if validate(path).is_err() {
        return;
    }
    assert!(path.starts_with('/'));
    assert!(!path.contains("//"));
    assert!(!path.bytes().any(|b| b == b'\\' || b < 0x20 || b == 0x7f));
    assert!(path[1..].split('/').all(|s| s != "." && s != ".."));
    let b = path.as_bytes();
    let mut decoded = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = &b[i + 1..i + 3];
            assert!(
                hex.iter().all(u8::is_ascii_hexdigit),
                "every '%' starts a full escape"
            );
            let v = u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap();
            decoded.push(v);
            i += 3;
        } else {
            decoded.push(b[i]);
            i += 1;
        }
    }
    let slashes = |x: &[u8]| x.iter().filter(|c| **c == b'/').count();
    assert_eq!(slashes(&decoded), slashes(b), "no encoded '/'");
    assert!(decoded[1..]
        .split(|c| *c == b'/')
        .all(|s| s != b"." && s != b".."));
    assert!(!decoded
        .iter()
        .any(|c| *c == b'\\' || *c < 0x20 || *c == 0x7f));
    if path.starts_with(paycombat_gateway::route::API_PREFIX) {
        for m in &METHODS {
            let route = Route::classify(m, path);
            if let Some(id) = route.written_customer() {
                assert!(!id.is_empty() && !id.contains('/'));
            }
        }
    }
});
