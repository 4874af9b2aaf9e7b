//! The `/admin/config` document the pass builds, and the exhaustive section list.

use super::*;

const NO_AUTH: &str = "[auth]\nmode = \"none\"";

fn with(overlay: &str) -> Result<Settings, ConfigError> {
    load_with(Path::new("/nonexistent"), None, Some(overlay))
}

/// The view `/admin/config` shows is configuration: read back as a layer it
/// validates and shows the same (no Rust debug text, durations and names as
/// the config takes them, nothing missing).
#[test]
fn the_view_reads_back_as_the_same_configuration() {
    let s = with(&format!(
        "{NO_AUTH}\n[server]\ntrusted_proxies = [\"10.0.0.0/8\"]\nidle_timeout = \"90s\"\n\
         [cluster]\nredis_url = \"redis://gateway@redis:6379/2\"\n\
         [[mask.rules]]\nfield = \"x_extra\"\nstrategy = {{ keep_last = 3 }}\n"
    ))
    .unwrap();
    let shown = |s: &Settings| -> serde_json::Value {
        s.view
            .sections()
            .map(|(n, v)| (n.to_owned(), v.clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let first = shown(&s);
    assert_eq!(first["cluster"]["redis_url"], "redis://redis:6379/2");
    assert_eq!(
        first["server"]["trusted_proxies"],
        serde_json::json!(["10.0.0.0/8"])
    );
    let rules = first["mask"]["rules"].as_array().unwrap();
    assert_eq!(
        rules.last().unwrap()["strategy"],
        serde_json::json!({"keep_last": 3})
    );
    let layer = toml::to_string(&first).expect("the view is a TOML document");
    let again = load_with(Path::new("/nonexistent"), None, Some(&layer))
        .unwrap_or_else(|e| panic!("{e}\n{layer}"));
    assert_eq!(shown(&again), first);
}

/// `Partial::forget` names every section: a section added to `Section`
/// without its arm does not compile, and forgetting one forgets only it.
#[test]
fn forgetting_a_section_forgets_only_that_section() {
    for s in Section::ALL {
        let mut p = Partial::from(with(NO_AUTH).unwrap());
        p.forget_for_tests(s);
        let present = [
            p.server.is_some(),
            p.admin.is_some(),
            p.upstream.is_some(),
            p.log.is_some(),
            p.mask.is_some(),
            p.cache.is_some(),
            p.auth.is_some(),
            p.telemetry.is_some(),
            p.cluster.is_some(),
            p.idempotency.is_some(),
        ];
        for (i, other) in Section::ALL.iter().enumerate() {
            assert_eq!(present[i], *other != s, "forgetting {s:?}");
        }
        assert!(p.view.sections().all(|(n, _)| n != s.name()));
    }
}

/// URLs are shown the one way every URL is printed: no userinfo (a Redis
/// ACL user name included), no query.
#[test]
fn urls_are_shown_without_userinfo() {
    let s = load_with(
        std::path::Path::new("/nonexistent"),
        None,
        Some(
            "[auth]\nmode = \"none\"\n[upstream]\nbase_url = \"https://api.example:8443\"\n\
             [cluster]\nredis_url = \"rediss://gateway-acl-user@redis:6380/0\"\n\
             [telemetry]\notlp_endpoint = \"http://otel:4318\"\n",
        ),
    )
    .expect("valid");
    let v: serde_json::Value = s
        .view
        .sections()
        .map(|(n, v)| (n.to_owned(), v.clone()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    assert_eq!(v["upstream"]["base_url"], "https://api.example:8443/");
    assert_eq!(v["cluster"]["redis_url"], "rediss://redis:6380/0");
    assert_eq!(
        v["telemetry"]["otlp_endpoint"],
        "http://otel:4318/v1/traces"
    );
    assert!(!v.to_string().contains("gateway-acl-user"));
}
