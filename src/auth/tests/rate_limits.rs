use super::*;

/// One request's verdict (a client without a limit always passes).
fn take(client: &Client) -> Result<(), RateLimited> {
    client.check_rate().map_or(Ok(()), |d| d.verdict)
}

#[test]
fn each_decision_says_what_is_left_and_when_the_bucket_is_full() {
    let reg = registry(&client_toml(
        "svc",
        &["k"],
        &format!("{SLOW}\n{ALLOW_ALL_GET}"),
    ));
    let client = reg.authenticate(&x_token("k")).expect("auth");
    let left = |d: RateDecision| d.state.left.expect("a local bucket is always read");
    let remaining: Vec<u32> = (0..3)
        .map(|_| left(client.check_rate().expect("limited client")).remaining)
        .collect();
    assert_eq!(remaining, [2, 1, 0]);
    let refused = client.check_rate().expect("limited client");
    assert!(refused.verdict.is_err());
    let after = left(refused);
    assert_eq!(after.remaining, 0);
    // Three tokens to come back at one a second: a little under 3 s.
    assert!(after.full_in > Duration::from_secs(2) && after.full_in <= Duration::from_secs(3));
    assert_eq!(refused.state.limit.window_secs(), 3);
}

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
        assert!(take(&client).is_ok(), "request {i} within burst");
    }
    let limited = take(&client).expect_err("burst exhausted");
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
    assert!((0..1000).all(|_| take(&client).is_ok()));
}

#[test]
fn burst_defaults_to_per_second() {
    let extra = format!("rate_limit = {{ per_second = 2 }}\n{ALLOW_ALL_GET}");
    let reg = registry(&client_toml("svc", &["k"], &extra));
    let client = reg.authenticate(&x_token("k")).expect("auth");
    assert!(take(&client).is_ok() && take(&client).is_ok());
    assert!(take(&client).is_err());
}

#[test]
fn buckets_are_per_client() {
    let extra = format!("{SLOW}\n{ALLOW_ALL_GET}");
    let reg = registry(&(client_toml("a", &["ka"], &extra) + &client_toml("b", &["kb"], &extra)));
    let a = reg.authenticate(&x_token("ka")).expect("a");
    let b = reg.authenticate(&x_token("kb")).expect("b");
    while take(&a).is_ok() {}
    assert!(take(&b).is_ok());
}

#[test]
fn a_reload_with_rotated_keys_keeps_an_exhausted_bucket_exhausted() {
    let extra = format!("{SLOW}\n{ALLOW_ALL_GET}");
    let before = registry(&client_toml("svc", &["old"], &extra));
    let client = before.authenticate(&x_token("old")).expect("auth");
    for _ in 0..3 {
        take(&client).expect("within burst");
    }
    assert!(take(&client).is_err());

    let mut after = registry(&client_toml("svc", &["old", "new"], &extra));
    after.inherit_limiters(&before);
    let reloaded = after.authenticate(&x_token("new")).expect("new key works");
    assert!(take(&reloaded).is_err(), "bucket must stay exhausted");

    // Without inheriting, the same reload would have handed out a full bucket.
    let fresh = registry(&client_toml("svc", &["old", "new"], &extra));
    assert!(take(&fresh.authenticate(&x_token("new")).expect("auth")).is_ok());
}

#[test]
fn a_changed_limit_or_a_new_client_gets_a_fresh_bucket() {
    let before = registry(&client_toml(
        "svc",
        &["k"],
        &format!("{SLOW}\n{ALLOW_ALL_GET}"),
    ));
    let client = before.authenticate(&x_token("k")).expect("auth");
    while take(&client).is_ok() {}

    let changed = format!("rate_limit = {{ per_second = 1, burst = 5 }}\n{ALLOW_ALL_GET}");
    let mut after = registry(
        &(client_toml("svc", &["k"], &changed)
            + &client_toml("other", &["o"], &format!("{SLOW}\n{ALLOW_ALL_GET}"))),
    );
    after.inherit_limiters(&before);
    let svc = after.authenticate(&x_token("k")).expect("svc");
    assert!(take(&svc).is_ok(), "limit changed: new bucket");
    assert_eq!(svc.rate_limit().map(|l| l.burst.get()), Some(5));
    let other = after.authenticate(&x_token("o")).expect("other");
    assert!(take(&other).is_ok());
}

#[test]
fn registry_and_clients_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ClientRegistry>();
    assert_send_sync::<Arc<Client>>();
}
