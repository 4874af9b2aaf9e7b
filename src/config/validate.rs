//! The config pass: each raw section handed to its component, which checks
//! it into its settings naming keys relative to its section; the prefix is
//! added here. A section with a problem yields `None`; the other sections
//! are still checked. What needs two sections (the two listeners) is checked
//! here, the one place that knows every section.

use super::*;
use crate::problems::Problems;

#[cfg(test)]
#[path = "strict_tests.rs"]
mod strict_tests;

/// The sections that validated. Complete, it is [`Settings`].
#[derive(Debug, Default)]
pub struct Partial {
    pub server: Option<ServerSettings>,
    pub pipeline: Option<crate::proxy::ProxySettings>,
    pub admin: Option<AdminSettings>,
    pub upstream: Option<UpstreamSettings>,
    pub inspect: Option<crate::inspect::InspectLimits>,
    pub per_client: Option<crate::fair::PerClientSettings>,
    pub log: Option<LogSettings>,
    pub mask: Option<crate::mask::MaskSettings>,
    pub passthrough: Option<crate::inspect::Passthrough>,
    pub cache: Option<crate::cache::CacheSettings>,
    pub auth: Option<AuthSettings>,
    pub telemetry: Option<crate::telemetry::TelemetrySettings>,
    pub cluster: Option<crate::cluster::ClusterSettings>,
    /// Each section that was read, as read, redacted (see [`ConfigView`]).
    pub view: ConfigView,
    pub idempotency: Option<crate::idempotency::IdempotencySettings>,
}

impl Partial {
    pub fn complete(self) -> Option<Settings> {
        Some(Settings {
            server: self.server?,
            pipeline: self.pipeline?,
            admin: self.admin?,
            upstream: self.upstream?,
            inspect: self.inspect?,
            per_client: self.per_client?,
            log: self.log?,
            mask: self.mask?,
            passthrough: self.passthrough?,
            cache: self.cache?,
            auth: self.auth?,
            telemetry: self.telemetry?,
            cluster: self.cluster?,
            view: self.view,
            idempotency: self.idempotency?,
        })
    }

    #[cfg(test)]
    pub(super) fn forget_for_tests(&mut self, s: Section) {
        self.forget(s);
    }

    /// Drops section `s` (and what is derived from it).
    fn forget(&mut self, s: Section) {
        match s {
            Section::Server => (self.server, self.pipeline) = (None, None),
            Section::Admin => self.admin = None,
            Section::Upstream => {
                (self.upstream, self.inspect, self.per_client) = (None, None, None)
            }
            Section::Log => self.log = None,
            Section::Mask => (self.mask, self.passthrough) = (None, None),
            Section::Cache => self.cache = None,
            Section::Auth => self.auth = None,
            Section::Telemetry => self.telemetry = None,
            Section::Cluster => self.cluster = None,
            Section::Idempotency => self.idempotency = None,
        }
        self.view.forget(s.name());
    }
}

impl From<Settings> for Partial {
    fn from(s: Settings) -> Partial {
        Partial {
            server: Some(s.server),
            pipeline: Some(s.pipeline),
            admin: Some(s.admin),
            upstream: Some(s.upstream),
            inspect: Some(s.inspect),
            per_client: Some(s.per_client),
            log: Some(s.log),
            mask: Some(s.mask),
            passthrough: Some(s.passthrough),
            cache: Some(s.cache),
            auth: Some(s.auth),
            telemetry: Some(s.telemetry),
            cluster: Some(s.cluster),
            view: s.view,
            idempotency: Some(s.idempotency),
        }
    }
}

/// Section `s` checked by its component's `check`, its keys prefixed, and
/// shown in the view as read.
fn checked<R: serde::Serialize, T>(
    s: Section,
    raw: Option<R>,
    view: &mut ConfigView,
    p: &mut Problems,
    check: impl FnOnce(R, &mut Problems) -> Option<T>,
) -> Option<T> {
    let raw = raw?;
    view.show_part(s.name(), &raw);
    p.within(s.name(), |p| check(raw, p))
}

impl RawSettings {
    /// Sections in the order of `config/default.toml`, so problems are listed that way.
    pub fn validate(mut self, p: &mut Problems) -> Partial {
        let patched = std::mem::take(&mut self.patched);
        let from = p.len();
        let mut partial = self.validate_sections(p);
        // A patched section holds defaults where the operator's values were
        // wrong: a problem it shows only because of a default is not theirs.
        p.retain_since(from, |problem| {
            !patched.iter().any(|(s, written)| {
                let Some(key) = problem.key.strip_prefix(s.name()) else {
                    return false;
                };
                let key = key.trim_start_matches('.');
                let shipped = super::default_section::<config::Value>(s.name());
                key.is_empty() || patch::value_at(written, key) == patch::value_at(&shipped, key)
            })
        });
        for (s, _) in &patched {
            partial.forget(*s);
        }
        partial
    }

    fn validate_sections(self, p: &mut Problems) -> Partial {
        let mut view = ConfigView::default();
        let v = &mut view;
        // `[server]` has two owners: each checks its own keys.
        let server = checked(Section::Server, self.server, v, p, RawServer::check);
        let pipeline = checked(Section::Server, self.pipeline, v, p, |r, p| r.check(p));
        let admin = checked(Section::Admin, self.admin, v, p, RawAdmin::check);
        if let (Some(s), Some(a)) = (&server, &admin) {
            if a.listen == s.listen && s.listen.port() != 0 {
                p.add("admin.listen", "must differ from `server.listen`");
            }
        }
        // `[upstream]` has three owners: each checks its own keys.
        let upstream = checked(Section::Upstream, self.upstream, v, p, RawUpstream::check);
        let inspect = checked(Section::Upstream, self.inspect, v, p, |i, p| i.check(p));
        let per_client = checked(Section::Upstream, self.fair, v, p, |f, p| f.check(p));
        if let (Some(limits), Some(share)) = (&inspect, &per_client) {
            if !limits.fits_share(share.buffer_share) {
                p.add(
                    "upstream.per_client.buffer_share",
                    "its share of `upstream.max_buffered_bytes` must hold 3 × `upstream.max_response_body_bytes`",
                );
            }
        }
        let log = checked(Section::Log, self.log, v, p, RawLog::check);
        // `[mask]` has two owners: the masker's keys, and inspection's `passthrough`.
        let mask = checked(Section::Mask, self.mask, v, p, |m, p| mask(&m, p));
        let passthrough = checked(Section::Mask, self.relay, v, p, |r, p| r.check(p));
        let cache = checked(Section::Cache, self.cache, v, p, |c, p| c.check(p));
        let auth = checked(Section::Auth, self.auth, v, p, RawAuth::check);
        let telemetry = checked(Section::Telemetry, self.telemetry, v, p, |t, p| t.check(p));
        let cluster = checked(Section::Cluster, self.cluster, v, p, |c, p| c.check(p));
        let idempotency = checked(Section::Idempotency, self.idempotency, v, p, |i, p| {
            i.check(p)
        });
        Partial {
            server,
            pipeline,
            admin,
            upstream,
            inspect,
            per_client,
            log,
            mask,
            passthrough,
            cache,
            auth,
            telemetry,
            cluster,
            view,
            idempotency,
        }
    }
}

/// The masker's keys of `[mask]`, relative to the section.
fn mask(m: &crate::mask::MaskConfig, p: &mut Problems) -> Option<crate::mask::MaskSettings> {
    m.validate()
        .map_err(|errors| {
            for e in errors {
                p.add(e.key(), e.reason());
            }
        })
        .ok()
}
