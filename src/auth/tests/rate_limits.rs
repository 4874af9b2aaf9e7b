use super::*;

// per_second = 1 keeps refill negligible over the few milliseconds a test takes.
const SLOW: &str = "rate_limit = { per_second = 1, burst = 3 }";

#[test]
fn burst_passes_then_the_next_request_is_limited() {
    let reg = registry(&client_toml(
        "svc",
        &["k"],
        &format!("{SLOW}\n{ALLOW_ALL_GET}"),
    ));
    let client = reg.authenticate(&x_token("k")).expect("auth");
    for i in 0..3 {
        assert!(client.check_rate().is_ok(), "request {i} within burst");
    }
    let limited = client.check_rate().expect_err("burst exhausted");
    assert!(limited.retry_after >= Duration::from_secs(1));
    assert_eq!(limited.retry_after.subsec_nanos(), 0, "whole seconds");
    assert_eq!(limited.retry_after_secs(), 1);
    assert_eq!(limited.reason(), "rate_limited");
}

#[test]
fn retry_after_rounds_up_to_whole_seconds() {
    assert_eq!(RateLimited::from_wait(Duration::ZERO).retry_after_secs(), 1);
    assert_eq!(
        RateLimited::from_wait(Duration::from_millis(1)).retry_after_secs(),
        1
    );
    assert_eq!(
        RateLimited::from_wait(Duration::from_secs(2)).retry_after_secs(),
        2
    );
    assert_eq!(
        RateLimited::from_wait(Duration::from_millis(2001)).retry_after_secs(),
        3
    );
}

#[test]
fn clients_without_limit_or_default_are_unlimited() {
    let reg = registry(&client_toml("svc", &["k"], ALLOW_ALL_GET));
    let client = reg.authenticate(&x_token("k")).expect("auth");
    assert_eq!(client.rate_limit(), None);
    assert!((0..1000).all(|_| client.check_rate().is_ok()));
}

#[test]
fn burst_defaults_to_per_second() {
    let extra = format!("rate_limit = {{ per_second = 2 }}\n{ALLOW_ALL_GET}");
    let reg = registry(&client_toml("svc", &["k"], &extra));
    let client = reg.authenticate(&x_token("k")).expect("auth");
    assert!(client.check_rate().is_ok() && client.check_rate().is_ok());
    assert!(client.check_rate().is_err());
}

#[test]
fn buckets_are_per_client() {
    let extra = format!("{SLOW}\n{ALLOW_ALL_GET}");
    let reg = registry(&(client_toml("a", &["ka"], &extra) + &client_toml("b", &["kb"], &extra)));
    let a = reg.authenticate(&x_token("ka")).expect("a");
    let b = reg.authenticate(&x_token("kb")).expect("b");
    while a.check_rate().is_ok() {}
    assert!(b.check_rate().is_ok());
}

#[test]
fn a_reload_with_rotated_keys_keeps_an_exhausted_bucket_exhausted() {
    let extra = format!("{SLOW}\n{ALLOW_ALL_GET}");
    let before = registry(&client_toml("svc", &["old"], &extra));
    let client = before.authenticate(&x_token("old")).expect("auth");
    for _ in 0..3 {
        client.check_rate().expect("within burst");
    }
    assert!(client.check_rate().is_err());

    let mut after = registry(&client_toml("svc", &["old", "new"], &extra));
    after.inherit_limiters(&before);
    let reloaded = after.authenticate(&x_token("new")).expect("new key works");
    assert!(reloaded.check_rate().is_err(), "bucket must stay exhausted");

    // Without inheriting, the same reload would have handed out a full bucket.
    let fresh = registry(&client_toml("svc", &["old", "new"], &extra));
    assert!(fresh
        .authenticate(&x_token("new"))
        .expect("auth")
        .check_rate()
        .is_ok());
}

#[test]
fn a_changed_limit_or_a_new_client_gets_a_fresh_bucket() {
    let before = registry(&client_toml(
        "svc",
        &["k"],
        &format!("{SLOW}\n{ALLOW_ALL_GET}"),
    ));
    let client = before.authenticate(&x_token("k")).expect("auth");
    while client.check_rate().is_ok() {}

    let changed = format!("rate_limit = {{ per_second = 1, burst = 5 }}\n{ALLOW_ALL_GET}");
    let mut after = registry(
        &(client_toml("svc", &["k"], &changed)
            + &client_toml("other", &["o"], &format!("{SLOW}\n{ALLOW_ALL_GET}"))),
    );
    after.inherit_limiters(&before);
    let svc = after.authenticate(&x_token("k")).expect("svc");
    assert!(svc.check_rate().is_ok(), "limit changed: new bucket");
    assert_eq!(svc.rate_limit().map(|l| l.burst.get()), Some(5));
    let other = after.authenticate(&x_token("o")).expect("other");
    assert!(other.check_rate().is_ok());
}

#[test]
fn registry_and_clients_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ClientRegistry>();
    assert_send_sync::<Arc<Client>>();
}
