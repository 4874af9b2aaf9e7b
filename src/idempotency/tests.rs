//! The component's rules over whole histories: whatever sequence of retries, request
//! variants, outcomes and store failures, a key reaches paycombat again only after every
//! earlier send of it was provably not executed, and a replay is the first answer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use http::{HeaderMap, StatusCode};
use proptest::prelude::*;

use super::*;

/// A store that fails when told to: claims, or writes after the send.
struct Flaky {
    inner: LocalStore,
    fail_claim: Arc<AtomicBool>,
    fail_write: Arc<AtomicBool>,
}

impl Store for Flaky {
    fn claim<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        if self.fail_claim.load(Ordering::SeqCst) {
            return async { Err(StoreError::Unavailable) }.boxed();
        }
        self.inner.claim(id, claim, ttl)
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        self.inner.get(id)
    }

    fn settle<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
        record: &'a Record,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        if self.fail_write.load(Ordering::SeqCst) {
            return async { Err(StoreError::Unavailable) }.boxed();
        }
        self.inner.settle(id, claim, record, ttl)
    }

    fn release<'a>(
        &'a self,
        id: &'a str,
        claim: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        if self.fail_write.load(Ordering::SeqCst) {
            return async { Err(StoreError::Unavailable) }.boxed();
        }
        self.inner.release(id, claim)
    }
}

struct Rig {
    idem: Idempotency,
    fail_claim: Arc<AtomicBool>,
    fail_write: Arc<AtomicBool>,
}

fn settings(on_store_error: OnStoreError) -> IdempotencySettings {
    let mut raw: RawIdempotency = crate::defaults::default_section("idempotency");
    raw.on_store_error = on_store_error;
    raw.validate().expect("valid")
}

/// A shared store that may fail, and a zero lease: a claim left behind (its outcome
/// never written) reads as expired at once.
fn rig(on_store_error: OnStoreError) -> Rig {
    let fail_claim = Arc::new(AtomicBool::new(false));
    let fail_write = Arc::new(AtomicBool::new(false));
    let s = settings(on_store_error);
    let shared = Flaky {
        inner: LocalStore::new(s.ttl, s.max_bytes),
        fail_claim: fail_claim.clone(),
        fail_write: fail_write.clone(),
    };
    let metrics = IdempotencyMetrics::register(&prometheus::Registry::new()).unwrap();
    Rig {
        idem: Idempotency::with_stores(&s, Duration::ZERO, Some(Arc::new(shared)), metrics),
        fail_claim,
        fail_write,
    }
}

fn caller() -> Caller {
    Caller {
        key: ShareKey::Client(Arc::from("svc")),
        label: crate::metrics::Configured::declared("svc"),
    }
}

fn fingerprint(variant: u8) -> Fingerprint {
    Fingerprint::of(
        &Method::POST,
        &"/api/v1/payin/create".parse().unwrap(),
        &[variant],
    )
}

fn answer(status: u16, body: &str) -> StoredAnswer {
    StoredAnswer::capture(
        StatusCode::from_u16(status).unwrap(),
        &HeaderMap::new(),
        Bytes::from(body.to_owned()),
    )
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    /// The shared store cannot be asked before the send.
    Claim,
    /// The outcome cannot be written after the send.
    Write,
}

#[derive(Debug, Clone)]
struct Step {
    key: u8,
    variant: u8,
    /// The status paycombat answers, or None: the send failed with `error`.
    status: Option<u16>,
    error: u8,
    fault: Fault,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0u8..2,
        prop_oneof![4 => Just(0u8), 1 => Just(1u8)],
        prop_oneof![
            Just(None),
            prop::sample::select(vec![200u16, 201, 400, 409, 429, 500, 502, 503, 504])
                .prop_map(Some)
        ],
        0u8..4,
        prop_oneof![6 => Just(Fault::None), 1 => Just(Fault::Claim), 1 => Just(Fault::Write)],
    )
        .prop_map(|(key, variant, status, error, fault)| Step {
            key,
            variant,
            status,
            error,
            fault,
        })
}

fn error(i: u8) -> GatewayError {
    match i {
        0 => GatewayError::UpstreamConnect,
        1 => GatewayError::UpstreamTimeout,
        2 => GatewayError::UpstreamProtocol,
        _ => GatewayError::Overloaded,
    }
}

/// What the model says a key's store holds.
#[derive(Debug, Clone, PartialEq)]
enum Held {
    Answered(Bytes),
    /// Outcome unknown, or a claim whose outcome was never written.
    Blocked,
}

async fn run(mode: OnStoreError, steps: Vec<Step>) {
    let local = mode == OnStoreError::Local;
    let rig = rig(mode);
    let route = rig.idem.settings.routes[0].clone();
    let mut model: [Option<(u8, Held)>; 2] = [None, None];
    for (i, s) in steps.into_iter().enumerate() {
        let key = Key(format!("key-{}", s.key));
        rig.fail_claim
            .store(matches!(s.fault, Fault::Claim), Ordering::SeqCst);
        rig.fail_write
            .store(matches!(s.fault, Fault::Write), Ordering::SeqCst);
        let begun = rig
            .idem
            .begin(&route, &caller(), &key, fingerprint(s.variant))
            .await;
        let held = &mut model[usize::from(s.key)];
        if matches!(s.fault, Fault::Claim) && !local {
            assert!(
                matches!(begun, Err(GatewayError::IdempotencyUnavailable)),
                "{i}"
            );
            continue;
        }
        match (held.clone(), begun) {
            (None, Ok(Begin::First(ticket))) => {
                // A send: allowed only because nothing executed was ever recorded.
                let body = format!("answer {i}");
                let (sent, stored) = match s.status {
                    Some(status) => (
                        Sent::of_status(StatusCode::from_u16(status).unwrap()),
                        Some(answer(status, &body)),
                    ),
                    None => (Sent::of_error(&error(s.error)), None),
                };
                let stored = if sent == Sent::Answered { stored } else { None };
                rig.idem.finish(ticket, sent, stored).await;
                *held = match (sent, s.fault) {
                    (Sent::NotExecuted, Fault::None) => None,
                    (Sent::Answered, Fault::None) => {
                        Some((s.variant, Held::Answered(Bytes::from(body))))
                    }
                    // This replica's own store holds what the shared one missed.
                    (Sent::NotExecuted, _) if local => None,
                    (Sent::Answered, _) if local => {
                        Some((s.variant, Held::Answered(Bytes::from(body))))
                    }
                    _ => Some((s.variant, Held::Blocked)),
                };
            }
            // The local fallback: what one replica knows it never sends again, and a
            // refusal is never a second send (a claim left in the shared store by a
            // release that failed still refuses, under the fingerprint it had).
            (_, Err(GatewayError::IdempotencyKeyReused)) if local => {}
            (
                _,
                Err(GatewayError::IdempotencyOutcomeUnknown | GatewayError::IdempotencyInFlight),
            ) if local => {}
            (Some((variant, _)), Err(GatewayError::IdempotencyKeyReused)) => {
                assert_ne!(variant, s.variant, "{i}");
            }
            (Some((variant, Held::Answered(body))), Ok(Begin::Replay(a))) => {
                assert_eq!(variant, s.variant, "{i}");
                assert_eq!(a.body, body, "{i}: the first answer, not another");
            }
            // A claim left behind reads "in flight" until its lease ends (here: within
            // the millisecond), "outcome unknown" after.
            (
                Some((variant, Held::Blocked)),
                Err(GatewayError::IdempotencyOutcomeUnknown | GatewayError::IdempotencyInFlight),
            ) => {
                assert_eq!(variant, s.variant, "{i}");
            }
            (held, Ok(Begin::First(_))) => panic!("{i}: sent again although {held:?}"),
            (held, Ok(Begin::Replay(_))) => panic!("{i}: replayed although {held:?}"),
            (held, Err(e)) => panic!("{i}: {e:?} although {held:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_key_is_sent_again_only_after_sends_that_were_not_executed(
        steps in prop::collection::vec(step(), 1..24)
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(OnStoreError::Refuse, steps));
    }

    /// The same history with `on_store_error = "local"` on one replica: whichever
    /// store fails when, a key this replica sent is never sent again unless paycombat
    /// did not execute it, and a replay is always its own answer.
    #[test]
    fn with_the_local_fallback_one_replica_never_sends_a_key_twice(
        steps in prop::collection::vec(step(), 1..24)
    ) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(OnStoreError::Local, steps));
    }
}

#[tokio::test]
async fn the_local_fallback_deduplicates_on_this_replica_while_the_shared_store_is_down() {
    let rig = rig(OnStoreError::Local);
    let route = rig.idem.settings.routes[0].clone();
    let key = Key("k".into());
    rig.fail_claim.store(true, Ordering::SeqCst);
    let Ok(Begin::First(ticket)) = rig
        .idem
        .begin(&route, &caller(), &key, fingerprint(0))
        .await
    else {
        panic!("claimed locally")
    };
    rig.idem
        .finish(ticket, Sent::Answered, Some(answer(200, "made")))
        .await;
    let Ok(Begin::Replay(a)) = rig
        .idem
        .begin(&route, &caller(), &key, fingerprint(0))
        .await
    else {
        panic!("replayed from the local store")
    };
    assert_eq!(a.body, "made");
}

#[tokio::test]
async fn waiting_for_a_claim_ends_in_its_answer_or_a_409() {
    let mut s = settings(OnStoreError::Refuse);
    s.on_in_flight = OnInFlight::Wait;
    s.in_flight_wait = Duration::from_millis(200);
    let metrics = IdempotencyMetrics::register(&prometheus::Registry::new()).unwrap();
    let idem = Arc::new(Idempotency::with_stores(
        &s,
        Duration::from_secs(60),
        None,
        metrics,
    ));
    let route = s.routes[0].clone();
    let key = Key("k".into());
    let Ok(Begin::First(ticket)) = idem.begin(&route, &caller(), &key, fingerprint(0)).await else {
        panic!()
    };
    // Still running after in_flight_wait: 409.
    let waited = idem.begin(&route, &caller(), &key, fingerprint(0)).await;
    assert!(matches!(waited, Err(GatewayError::IdempotencyInFlight)));
    let who = caller();
    let (second, ()) = tokio::join!(idem.begin(&route, &who, &key, fingerprint(0)), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        idem.finish(ticket, Sent::Answered, Some(answer(201, "made")))
            .await;
    });
    let Ok(Begin::Replay(a)) = second else {
        panic!("the waiting retry gets the first answer")
    };
    assert_eq!(a.status, 201);
}

#[tokio::test]
async fn another_caller_or_route_with_the_same_key_is_another_request() {
    let s = settings(OnStoreError::Refuse);
    let metrics = IdempotencyMetrics::register(&prometheus::Registry::new()).unwrap();
    let idem = Idempotency::with_stores(&s, Duration::from_secs(60), None, metrics);
    let key = Key("shared-key".into());
    let peer = Caller {
        key: ShareKey::Peer("10.0.0.1".parse().unwrap()),
        label: crate::metrics::Configured::anonymous(),
    };
    for (route, who) in [
        (&s.routes[0], caller()),
        (&s.routes[1], caller()),
        (&s.routes[0], peer),
    ] {
        let begun = idem.begin(route, &who, &key, fingerprint(0)).await;
        assert!(matches!(begun, Ok(Begin::First(_))), "{}", route.name);
    }
}
