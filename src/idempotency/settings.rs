//! `[idempotency]`: which writes an `Idempotency-Key` makes safe to retry, how long
//! their answers are kept, and what happens when the store cannot be used.
//!
//! Validation reports problems under keys relative to the section (`ttl`,
//! `routes[2].path`); the config pass puts them under `idempotency.`.

use std::time::Duration;

use http::Method;
use serde::{Deserialize, Serialize};

use crate::problems::{self, Problems};

/// What a keyed write meets while another request with its key is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInFlight {
    /// 409 `IDEMPOTENCY_IN_FLIGHT` at once (with `Retry-After: 1`).
    Reject,
    /// Wait up to `in_flight_wait` for the first request's outcome and answer with it;
    /// 409 if it is still running then.
    Wait,
}

impl Serialize for OnInFlight {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Self::Reject => "reject",
            Self::Wait => "wait",
        })
    }
}

impl<'de> Deserialize<'de> for OnInFlight {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(d, &[("reject", Self::Reject), ("wait", Self::Wait)])
    }
}

/// What a keyed write does when the shared (Redis) store cannot be asked before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStoreError {
    /// 503 `IDEMPOTENCY_UNAVAILABLE`: nothing is sent, the client retries later.
    Refuse,
    /// Deduplicate on this replica only: a retry sent to another replica while Redis is
    /// down may reach paycombat a second time.
    Local,
}

impl OnStoreError {
    pub fn label(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Local => "local",
        }
    }
}

impl Serialize for OnStoreError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

impl<'de> Deserialize<'de> for OnStoreError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(d, &[("refuse", Self::Refuse), ("local", Self::Local)])
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub name: String,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub require: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdempotency {
    pub enabled: bool,
    #[serde(with = "crate::duration_text")]
    pub ttl: Duration,
    pub max_key_bytes: usize,
    pub max_bytes: u64,
    pub max_answer_bytes: usize,
    pub on_in_flight: OnInFlight,
    #[serde(with = "crate::duration_text")]
    pub in_flight_wait: Duration,
    #[serde(with = "crate::duration_text")]
    pub lease_margin: Duration,
    pub on_store_error: OnStoreError,
    pub routes: Vec<RawRoute>,
}

/// `[idempotency]` on a configuration reload: the record store (in-process or on
/// the cluster's Redis) keeps the records of writes in flight, so it is built once.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[],
    restart: &[
        "enabled",
        "ttl",
        "max_key_bytes",
        "max_bytes",
        "max_answer_bytes",
        "on_in_flight",
        "in_flight_wait",
        "lease_margin",
        "on_store_error",
        "routes",
    ],
};

/// One write route keys apply to: matched on method and exact path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRoute {
    /// Scopes keys: the same key on two routes is two keys.
    pub name: String,
    pub method: Method,
    pub path: String,
    /// The gateway's route template for it (`crate::route::RouteLabel`): its `route`
    /// label in metrics, from the same closed set as every other metric's.
    pub label: crate::route::RouteLabel,
    /// A write on this route without a key is refused with 400.
    pub require: bool,
}

#[derive(Debug, Clone)]
pub struct IdempotencySettings {
    pub enabled: bool,
    pub ttl: Duration,
    pub max_key_bytes: usize,
    /// The in-process store's bound: when records inside their TTL fill it, new keyed
    /// writes are refused (503) instead of evicting one (an evicted record would let
    /// its retry pay twice).
    pub max_bytes: u64,
    /// Answers larger than this are not kept for replay: their retries get 409
    /// `IDEMPOTENCY_OUTCOME_UNKNOWN` (reconcile) instead.
    pub max_answer_bytes: usize,
    pub on_in_flight: OnInFlight,
    pub in_flight_wait: Duration,
    /// Added to `upstream.timeout` for how long an in-flight claim is trusted: a claim
    /// older than that belongs to a replica that stopped mid-request, and its key's
    /// outcome is unknown.
    pub lease_margin: Duration,
    pub on_store_error: OnStoreError,
    pub routes: Vec<KeyedRoute>,
}

/// Route names are short, lower-case words (they appear in configuration and logs).
fn route_name(name: &str) -> Result<(), &'static str> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("must be 1 to 40 of a-z, 0-9 and _")
    }
}

fn write_method(method: &str) -> Result<Method, String> {
    match method {
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "PATCH" => Ok(Method::PATCH),
        "DELETE" => Ok(Method::DELETE),
        other => Err(problems::not_one_of(
            other,
            &["POST", "PUT", "PATCH", "DELETE"],
        )),
    }
}

fn api_path(path: &str) -> Result<(), String> {
    if !path.starts_with(crate::route::API_PREFIX) {
        return Err(format!("must start with {}", crate::route::API_PREFIX));
    }
    crate::path::ValidPath::check(path)
        .map(|_| ())
        .map_err(|why| format!("is not a path the gateway forwards ({why})"))
}

impl RawIdempotency {
    /// Every value is checked, also when `enabled = false`, so turning it on later
    /// reveals no mistake made now. Keys are relative to `[idempotency]`.
    pub fn check(self, p: &mut Problems) -> Option<IdempotencySettings> {
        let before = p.len();
        let mut positive = |key: &str, ok: bool| {
            if !ok {
                p.add(key, "must be greater than zero");
            }
        };
        positive("ttl", !self.ttl.is_zero());
        positive("max_key_bytes", self.max_key_bytes > 0);
        positive("max_bytes", self.max_bytes > 0);
        positive("max_answer_bytes", self.max_answer_bytes > 0);
        positive("lease_margin", !self.lease_margin.is_zero());
        if self.on_in_flight == OnInFlight::Wait && self.in_flight_wait.is_zero() {
            p.add(
                "in_flight_wait",
                "must be greater than zero when `on_in_flight = \"wait\"`",
            );
        }
        if self.max_key_bytes > 255 {
            p.add(
                "max_key_bytes",
                "must be at most 255 (keys are identifiers, not payloads)",
            );
        }
        let mut routes = Vec::with_capacity(self.routes.len());
        for (i, r) in self.routes.into_iter().enumerate() {
            let at = |k: &str| format!("routes[{i}].{k}");
            let name = route_name(&r.name).map_err(|e| p.add(at("name"), e));
            let method = write_method(&r.method).map_err(|e| p.add(at("method"), e));
            let path = api_path(&r.path).map_err(|e| p.add(at("path"), e));
            if let (Ok(()), Ok(method), Ok(())) = (name, method, path) {
                let label = crate::route::Route::classify(&method, &r.path).label_kind();
                let route = KeyedRoute {
                    name: r.name,
                    method,
                    path: r.path,
                    label,
                    require: r.require,
                };
                if routes.iter().any(|o: &KeyedRoute| o.name == route.name) {
                    p.add(at("name"), "names another route too");
                } else if routes
                    .iter()
                    .any(|o: &KeyedRoute| o.method == route.method && o.path == route.path)
                {
                    p.add(at("path"), "is listed twice with this method");
                } else {
                    routes.push(route);
                }
            }
        }
        if p.len() > before {
            return None;
        }
        Some(IdempotencySettings {
            enabled: self.enabled,
            ttl: self.ttl,
            max_key_bytes: self.max_key_bytes,
            max_bytes: self.max_bytes,
            max_answer_bytes: self.max_answer_bytes,
            on_in_flight: self.on_in_flight,
            in_flight_wait: self.in_flight_wait,
            lease_margin: self.lease_margin,
            on_store_error: self.on_store_error,
            routes,
        })
    }

    /// [`Self::check`] on its own, for tests.
    #[cfg(test)]
    pub fn validate(self) -> Result<IdempotencySettings, Vec<crate::problems::Problem>> {
        let mut p = Problems::default();
        let settings = self.check(&mut p);
        settings.ok_or_else(|| p.into_vec())
    }
}

impl IdempotencySettings {
    /// The configured route `method` + `path` is, if any.
    pub fn route(&self, method: &Method, path: &str) -> Option<&KeyedRoute> {
        self.routes
            .iter()
            .find(|r| r.method == *method && r.path == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> RawIdempotency {
        crate::defaults::default_section("idempotency")
    }

    #[test]
    fn the_shipped_section_validates_with_the_six_create_routes() {
        let s = shipped().validate().expect("shipped defaults are valid");
        assert!(s.enabled);
        assert_eq!(s.ttl, Duration::from_secs(24 * 3600));
        let names: Vec<&str> = s.routes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "payin_create",
                "payout_create",
                "beneficiary_create",
                "checkout_create",
                "wallet_create",
                "customer_create"
            ]
        );
        assert!(s.routes.iter().all(|r| !r.require));
        let labels: Vec<&str> = s.routes.iter().map(|r| r.label.name()).collect();
        assert_eq!(
            labels,
            [
                "payin",
                "payout",
                "beneficiary",
                "checkout",
                "wallet",
                "customer_create"
            ]
        );
        assert!(s.route(&Method::POST, "/api/v1/payin/create").is_some());
        assert!(s.route(&Method::GET, "/api/v1/payin/create").is_none());
    }

    #[test]
    fn problems_are_named_relative_to_the_section() {
        let mut raw = shipped();
        raw.ttl = Duration::ZERO;
        raw.max_key_bytes = 1000;
        raw.on_in_flight = OnInFlight::Wait;
        raw.in_flight_wait = Duration::ZERO;
        raw.routes[0].method = "GET".into();
        raw.routes[1].path = "/elsewhere".into();
        raw.routes[2].name = "Payout Beneficiary".into();
        raw.routes[5].name = "wallet_create".into();
        let keys: Vec<String> = raw
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(
            keys,
            [
                "ttl",
                "in_flight_wait",
                "max_key_bytes",
                "routes[0].method",
                "routes[1].path",
                "routes[2].name",
                "routes[5].name"
            ]
        );
    }
}
