use super::*;

#[test]
fn json_media_types() {
    assert!(is_json_media_type("application/json"));
    assert!(is_json_media_type("Application/JSON; charset=utf-8"));
    assert!(is_json_media_type("text/json"));
    assert!(is_json_media_type("application/problem+json"));
    assert!(is_json_media_type(
        "application/vnd.paycombat.v1+JSON ; q=1"
    ));
    assert!(!is_json_media_type("application/pdf"));
    assert!(!is_json_media_type(""));
    assert!(!is_json_media_type("text/html"));
    assert!(!is_json_media_type("application/jsonx"));
    assert!(!is_json_media_type("+json"));
}
