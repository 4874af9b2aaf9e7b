//! `GET /admin/config`: the settings in force, after every layer, for an SRE
//! asking "what is this replica actually running with?".
//!
//! The answer is the validated configuration as its sections read it
//! ([`ConfigView`], built by the config pass): every key of
//! `config/default.toml` under the same dotted path, unset values as `""` or
//! `[]`, values in the configuration's words. Nothing here is kept by hand,
//! so a new key appears by construction. Secrets are redacted by their type
//! (`"[redacted]"`), URLs printed without userinfo or query; secret files are
//! named, never opened by this handler.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::body::GatewayBody;
use crate::redact::ConfigView;

/// The JSON document `GET /admin/config` returns, in paycombat's envelope.
pub fn response(view: &ConfigView) -> Response<GatewayBody> {
    #[derive(serde::Serialize)]
    struct Envelope<'a> {
        status: bool,
        message: &'static str,
        data: View<'a>,
    }
    let body = serde_json::to_vec(&Envelope {
        status: true,
        message: "OK",
        data: View { view },
    })
    .unwrap_or_default();
    let mut r = Response::new(GatewayBody::full(Bytes::from(body)));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // The document names secret files: no shared cache may keep it.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The build, then every section of the configuration in force.
pub struct View<'a> {
    view: &'a ConfigView,
}

impl Serialize for View<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("version", crate::build::VERSION)?;
        m.serialize_entry("revision", crate::build::REVISION)?;
        for (name, value) in self.view.sections() {
            m.serialize_entry(name, value)?;
        }
        m.end()
    }
}
