//! `[cluster]`: whether replicas share invalidations and rate limits through Redis, and how.
//! An empty `redis_url` is single-process mode: nothing below is used.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::problems::{self, positive, Problems};

/// What a rate-limit decision falls back to when Redis cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Each replica enforces the client's bucket on its own (up to replicas × the limit).
    Local,
    /// Every request passes (paycombat's own limits are the only ones left).
    Allow,
    /// Every limited client's request is refused with 429.
    Deny,
}

impl OnError {
    /// As written in the configuration.
    pub fn label(self) -> &'static str {
        self.source().as_str()
    }

    /// The `source` label of `gateway_cluster_rate_limit_decisions_total`.
    pub fn source(self) -> super::metrics::RateSource {
        use super::metrics::RateSource;
        match self {
            Self::Local => RateSource::Local,
            Self::Allow => RateSource::Allow,
            Self::Deny => RateSource::Deny,
        }
    }
}

/// What a customer write does while this replica cannot be sure its invalidation will
/// reach the others (it holds no lease: its subscription or its heartbeats do not come
/// back, so Redis may not be hearing it while the other replicas still are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnconfirmed {
    /// Send it and answer it; the invalidation is published as best it can be, a failure
    /// is counted and alerted on, and another replica may serve pre-write data for up to
    /// its TTL.
    Answer,
    /// Refuse it with 503 before it is sent upstream (never after: a payment write that
    /// reached paycombat is answered).
    Refuse,
}

impl OnUnconfirmed {
    pub fn label(self) -> &'static str {
        match self {
            Self::Answer => "answer",
            Self::Refuse => "refuse",
        }
    }
}

impl<'de> Deserialize<'de> for OnUnconfirmed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(d, &[("answer", Self::Answer), ("refuse", Self::Refuse)])
    }
}

impl Serialize for OnUnconfirmed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

impl<'de> Deserialize<'de> for OnError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(
            d,
            &[
                ("local", Self::Local),
                ("allow", Self::Allow),
                ("deny", Self::Deny),
            ],
        )
    }
}

impl Serialize for OnError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    /// Shown as host, port and database: which Redis this replica uses,
    /// never a user name (nor a password, which a URL may not hold).
    #[serde(serialize_with = "crate::redact::url")]
    pub redis_url: String,
    pub redis_password_file: String,
    pub ca_file: String,
    pub prefix: String,
    #[serde(with = "crate::duration_text")]
    pub connect_timeout: Duration,
    #[serde(with = "crate::duration_text")]
    pub command_timeout: Duration,
    #[serde(with = "crate::duration_text")]
    pub heartbeat_interval: Duration,
    #[serde(with = "crate::duration_text")]
    pub heartbeat_timeout: Duration,
    #[serde(with = "crate::duration_text")]
    pub subscribe_timeout: Duration,
    #[serde(with = "crate::duration_text")]
    pub lease: Duration,
    #[serde(with = "crate::duration_text")]
    pub publish_deadline: Duration,
    pub on_unconfirmed_write: OnUnconfirmed,
    pub rate_limit_on_error: OnError,
    pub rate_limit_breaker_failures: u32,
    #[serde(with = "crate::duration_text")]
    pub rate_limit_breaker_cooldown: Duration,
}

/// `[cluster]` on a configuration reload: the Redis connection, its subscription,
/// lease and breaker are set up once.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &[],
    restart: &[
        "redis_url",
        "redis_password_file",
        "ca_file",
        "prefix",
        "connect_timeout",
        "command_timeout",
        "heartbeat_interval",
        "heartbeat_timeout",
        "subscribe_timeout",
        "lease",
        "publish_deadline",
        "on_unconfirmed_write",
        "rate_limit_on_error",
        "rate_limit_breaker_failures",
        "rate_limit_breaker_cooldown",
    ],
};

/// Validated `[cluster]`; `redis` is `None` in single-process mode.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub redis: Option<RedisSettings>,
}

#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://` or `rediss://` (TLS); never printed, it may carry a password.
    pub url: secrecy::SecretString,
    pub password_file: Option<PathBuf>,
    /// PEM CA certificates trusted for `rediss://` instead of the Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// Namespace of the pub/sub channel (`<prefix>:invalidate`) and the rate-limit keys
    /// (`<prefix>:rl:<client>`), so several gateways can share one Redis.
    pub prefix: String,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub heartbeat_timeout: Duration,
    /// SUBSCRIBE's own bound, after the connection is made (a slow link needs longer
    /// than a connect).
    pub subscribe_timeout: Duration,
    /// How long one of this replica's heartbeats, back through its subscription, lets it
    /// answer from its cache (counted from when the heartbeat was sent).
    pub lease: Duration,
    /// How long an invalidation PUBLISH without a reply is retried before the write is
    /// answered unconfirmed.
    pub publish_deadline: Duration,
    pub on_unconfirmed_write: OnUnconfirmed,
    pub rate_limit_on_error: OnError,
    /// Consecutive failed (or timed-out) rate-limit calls that open the breaker.
    pub rate_limit_breaker_failures: u32,
    /// How long an open breaker sends limited requests to `rate_limit_on_error` before
    /// one probe (a PING, off the request path) may close it.
    pub rate_limit_breaker_cooldown: Duration,
}

impl RedisSettings {
    /// The clock-rate drift margin added to every lease wait: monotonic clocks of two
    /// hosts may run at slightly different rates over one lease (NTP keeps them within
    /// 500 ppm; this allows 2 %), plus one millisecond of timer granularity.
    pub fn drift_margin(&self) -> Duration {
        self.lease / 50 + Duration::from_millis(1)
    }

    /// Where the Redis is, for logs: host, port and database, never the password.
    pub fn describe(&self) -> String {
        use secrecy::ExposeSecret;
        match redis::IntoConnectionInfo::into_connection_info(self.url.expose_secret()) {
            Ok(info) => {
                let tls = self.url.expose_secret().starts_with("rediss://");
                let addr = match &info.addr {
                    redis::ConnectionAddr::Tcp(h, p) => format!("{h}:{p}"),
                    redis::ConnectionAddr::TcpTls { host, port, .. } => format!("{host}:{port}"),
                    redis::ConnectionAddr::Unix(p) => p.display().to_string(),
                };
                format!(
                    "{addr} db {}{}",
                    info.redis.db,
                    if tls { " (TLS)" } else { "" }
                )
            }
            Err(_) => "an invalid URL".to_owned(),
        }
    }

    pub fn channel(&self) -> String {
        format!("{}:invalidate", self.prefix)
    }

    pub fn rate_key(&self, client: &str) -> String {
        format!("{}:rl:{client}", self.prefix)
    }
}

/// The URL's scheme and host, checked without connecting.
fn redis_url(v: &str) -> Result<(), String> {
    // One URL rule for every setting: no password in it (it comes from
    // `cluster.redis_password_file`), a bare ACL user name allowed.
    crate::urls::parse(v, crate::urls::REDIS)?;
    redis::IntoConnectionInfo::into_connection_info(v)
        .map(drop)
        // The parser's message may quote the URL, password included.
        .map_err(|_| "is not a Redis URL like redis://redis:6379/0".to_owned())
}

fn prefix(v: &str) -> Result<(), &'static str> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err("must be 1 to 64 characters of letters, digits, '-', '_', ':' or '.'")
    }
}

impl RawCluster {
    /// Keys relative to `[cluster]`.
    pub fn check(self, p: &mut Problems) -> Option<ClusterSettings> {
        let url = self.redis_url.trim();
        if url.is_empty() {
            let mut alone = false;
            for (key, v) in [
                ("redis_password_file", &self.redis_password_file),
                ("ca_file", &self.ca_file),
            ] {
                if !v.trim().is_empty() {
                    p.add(key, "set only together with `cluster.redis_url`");
                    alone = true;
                }
            }
            return (!alone).then_some(ClusterSettings { redis: None });
        }
        let before = p.len();
        p.check("redis_url", redis_url(url));
        p.check("prefix", prefix(&self.prefix));
        let ca_file = self.ca_file.trim();
        if !ca_file.is_empty() && !url.starts_with("rediss://") {
            p.add("ca_file", "needs a rediss:// (TLS) `cluster.redis_url`");
        }
        p.check("connect_timeout", positive(self.connect_timeout));
        p.check("command_timeout", positive(self.command_timeout));
        let interval = p.check("heartbeat_interval", positive(self.heartbeat_interval));
        if let Some(interval) = interval {
            if self.heartbeat_timeout <= interval {
                p.add(
                    "heartbeat_timeout",
                    "must be longer than `cluster.heartbeat_interval` (two or three intervals)",
                );
            }
        }
        p.check("subscribe_timeout", positive(self.subscribe_timeout));
        if let Some(interval) = interval {
            // A lease is renewed once per heartbeat round trip: it must outlast one
            // interval plus one command's worth of delay, or it lapses between renewals.
            if self.lease <= interval + self.command_timeout {
                p.add(
                    "lease",
                    "must be longer than `cluster.heartbeat_interval` + `cluster.command_timeout` (three or four intervals)",
                );
            } else if self.publish_deadline < self.lease + interval + self.command_timeout * 2 {
                // Retrying that long guarantees that, when Redis itself stalls, every
                // other replica has seen one of its own heartbeats time out (and so drops
                // its cache before renewing its lease) — see the README's argument.
                p.add(
                    "publish_deadline",
                    "must be at least `cluster.lease` + `cluster.heartbeat_interval` + 2 × `cluster.command_timeout`",
                );
            }
        }
        if self.rate_limit_breaker_failures == 0 {
            p.add("rate_limit_breaker_failures", "must be at least 1");
        }
        p.check(
            "rate_limit_breaker_cooldown",
            positive(self.rate_limit_breaker_cooldown),
        );
        if p.len() > before {
            return None;
        }
        let password_file = self.redis_password_file.trim();
        Some(ClusterSettings {
            redis: Some(RedisSettings {
                url: url.to_owned().into(),
                password_file: (!password_file.is_empty()).then(|| PathBuf::from(password_file)),
                ca_file: (!ca_file.is_empty()).then(|| PathBuf::from(ca_file)),
                prefix: self.prefix,
                connect_timeout: self.connect_timeout,
                command_timeout: self.command_timeout,
                heartbeat_interval: self.heartbeat_interval,
                heartbeat_timeout: self.heartbeat_timeout,
                subscribe_timeout: self.subscribe_timeout,
                lease: self.lease,
                publish_deadline: self.publish_deadline,
                on_unconfirmed_write: self.on_unconfirmed_write,
                rate_limit_on_error: self.rate_limit_on_error,
                rate_limit_breaker_failures: self.rate_limit_breaker_failures,
                rate_limit_breaker_cooldown: self.rate_limit_breaker_cooldown,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As the config pass runs it: keys under `cluster.`.
    trait CheckAt {
        fn check_at(self, p: &mut Problems) -> Option<ClusterSettings>;
    }

    impl CheckAt for RawCluster {
        fn check_at(self, p: &mut Problems) -> Option<ClusterSettings> {
            p.within("cluster", |p| self.check(p))
        }
    }

    fn raw(url: &str) -> RawCluster {
        let mut raw: RawCluster = crate::defaults::default_section("cluster");
        raw.redis_url = url.to_owned();
        raw
    }

    #[test]
    fn empty_url_is_single_process_mode() {
        let mut p = Problems::default();
        let s = raw("").check_at(&mut p).expect("valid");
        assert!(s.redis.is_none() && p.is_empty());
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let mut r = raw("http://redis:6379");
        r.prefix = "has space".to_owned();
        r.command_timeout = Duration::ZERO;
        r.heartbeat_timeout = r.heartbeat_interval;
        let mut p = Problems::default();
        assert!(r.check_at(&mut p).is_none());
        let keys: Vec<String> = p.into_vec().into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "cluster.redis_url",
                "cluster.prefix",
                "cluster.command_timeout",
                "cluster.heartbeat_timeout"
            ]
        );
    }

    #[test]
    fn files_need_the_url_they_belong_to() {
        let mut r = raw("");
        r.redis_password_file = "/run/secrets/redis".to_owned();
        r.ca_file = "/etc/redis-ca.pem".to_owned();
        let mut p = Problems::default();
        assert!(r.check_at(&mut p).is_none());
        assert_eq!(p.len(), 2);
        let mut r = raw("redis://redis:6379");
        r.ca_file = "/etc/redis-ca.pem".to_owned();
        let mut p = Problems::default();
        assert!(
            r.check_at(&mut p).is_none(),
            "a CA file without TLS is a mistake"
        );
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_it() {
        let mut p = Problems::default();
        assert!(raw("redis://:s3cret@[bad").check_at(&mut p).is_none());
        let problems = p.into_vec();
        assert_eq!(problems.len(), 1);
        assert!(!problems[0].reason.contains("s3cret"), "{}", problems[0]);
    }

    #[test]
    fn redis_and_rediss_urls_are_accepted() {
        for url in ["redis://127.0.0.1:6379/0", "rediss://redis.internal:6380"] {
            let mut p = Problems::default();
            let s = raw(url).check_at(&mut p).expect(url);
            let r = s.redis.expect("cluster mode on");
            assert_eq!(r.channel(), "paycombat-gateway:invalidate");
            assert_eq!(r.rate_key("svc"), "paycombat-gateway:rl:svc");
        }
    }

    #[test]
    fn a_lease_shorter_than_a_renewal_or_a_deadline_shorter_than_a_lease_is_refused() {
        let mut r = raw("redis://127.0.0.1:6379");
        r.lease = r.heartbeat_interval;
        let mut p = Problems::default();
        assert!(r.check_at(&mut p).is_none());
        assert_eq!(p.into_vec()[0].key, "cluster.lease");
        let mut r = raw("redis://127.0.0.1:6379");
        r.publish_deadline = r.lease;
        let mut p = Problems::default();
        assert!(r.check_at(&mut p).is_none());
        assert_eq!(p.into_vec()[0].key, "cluster.publish_deadline");
    }

    #[test]
    fn the_redis_is_described_without_its_user() {
        // A password in the URL is refused (crate::urls); an ACL user name is
        // allowed and still left out of the description.
        let mut p = Problems::default();
        let s = raw("redis://gateway@redis.internal:6380/2")
            .check_at(&mut p)
            .expect("valid");
        let d = s.redis.expect("on").describe();
        assert_eq!(d, "redis.internal:6380 db 2");
    }
}
