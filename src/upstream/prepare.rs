//! The request paycombat will see: the client's credentials and hop-by-hop
//! headers gone, forwarding headers rebuilt, the gateway's token injected and
//! the body signed.

use std::net::IpAddr;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Uri};

use super::headers::{self as rules, SIGNATURE, X_TOKEN};
use super::sign::sign;
use super::{Outgoing, Upstream};
use crate::error::GatewayError;
use crate::http::headers::X_REQUEST_ID;

impl Upstream {
    /// The request paycombat will see: path and query unchanged, client
    /// credentials gone, the gateway's own injected.
    ///
    /// `ranges`: whether this route may ask for part of a body. A range of a
    /// JSON body is not JSON (and a multi-range answer is multipart): only
    /// passthrough routes that opt in keep `Range` and `If-Range`.
    /// `conditional`: whether conditional headers (`If-None-Match`, …) go
    /// upstream — only on passthrough routes: where the answer is masked its
    /// validators are the gateway's, and the gateway evaluates them.
    pub fn prepare(
        &self,
        parts: http::request::Parts,
        body: Bytes,
        peer: IpAddr,
        request_id: &HeaderValue,
        ranges: bool,
        conditional: bool,
    ) -> Result<Outgoing, GatewayError> {
        let method = parts.method;
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut headers = parts.headers;
        if !ranges {
            headers.remove(header::RANGE);
            headers.remove(header::IF_RANGE);
        }
        if !conditional {
            for name in crate::http::headers::CONDITIONAL {
                headers.remove(name);
            }
        }
        let creds = self
            .credentials
            .current()
            .ok_or(GatewayError::CredentialsUnavailable)?;
        rules::clean_request(&mut headers, &self.settings.strip_request_headers);
        let trusted = self.trusted.contains(peer);
        rules::add_forwarded(&mut headers, peer, trusted, "http");
        headers.insert(X_REQUEST_ID, request_id.clone());
        headers.insert(X_TOKEN, creds.token.clone());
        let has_body_method = matches!(method, Method::POST | Method::PUT | Method::PATCH);
        if has_body_method || !body.is_empty() {
            if let Some(key) = &creds.signature_key {
                use secrecy::ExposeSecret;
                let mut sig = HeaderValue::from_str(&sign(key.expose_secret(), &body))
                    .map_err(|_| GatewayError::UpstreamProtocol)?;
                sig.set_sensitive(true);
                headers.insert(SIGNATURE, sig);
            }
        }
        if body.is_empty() && !has_body_method {
            headers.remove(header::CONTENT_LENGTH);
        } else {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        let uri = Uri::builder()
            .scheme(self.base_scheme.clone())
            .authority(self.base_authority.clone())
            .path_and_query(path_and_query)
            .build()
            .map_err(|_| GatewayError::BadPath("the path cannot be forwarded"))?;
        Ok(Outgoing {
            method,
            uri,
            headers,
            body,
        })
    }
}
