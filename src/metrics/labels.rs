//! Closed sets of label values that are the metrics' own vocabulary (no
//! component has another use for them). Label enums a component also uses
//! for its own logic live with that component and implement [`Label`](super::Label) there.

crate::label_enum! {
    /// `result` of the reload counters (credentials, clients file, TLS files).
    pub enum ReloadResult {
        Ok => "ok",
        Failed => "failed",
    }
}

crate::label_enum! {
    /// `result` of `gateway_config_reloads_total`.
    pub enum ConfigReloadResult {
        Applied => "applied",
        Unchanged => "unchanged",
        Invalid => "invalid",
    }
}

crate::label_enum! {
    /// `reason` of `gateway_cache_invalidations_total`.
    pub enum InvalidationReason {
        Write => "write",
        WriteAll => "write_all",
        Admin => "admin",
        ConfigReload => "config_reload",
    }
}

crate::label_enum! {
    /// `resource` of `gateway_client_capacity_refusals_total`.
    pub enum Resource {
        UpstreamSlots => "upstream_slots",
        ResponseBuffer => "response_buffer",
        Spool => "spool",
    }
}

crate::label_enum! {
    /// `reason` of `gateway_client_rejections_total`.
    pub enum RejectReason {
        Unauthenticated => "unauthenticated",
        Forbidden => "forbidden",
        RateLimited => "rate_limited",
    }
}

crate::label_enum! {
    /// `stream` of `gateway_log_lines_dropped_total`.
    pub enum LogStream {
        Access => "access",
        Log => "log",
    }
}

/// A word of one of the gateway's own fixed tables (HTTP method names, status
/// classes, the response-header vocabulary): a `&'static str`, so it is
/// written in the source, never read from a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vocabulary(pub &'static str);

impl super::Label for Vocabulary {
    fn as_str(&self) -> &str {
        self.0
    }
}

crate::label_enum! {
    /// `reason` of `gateway_mask_failures_total`: why an upstream body could
    /// not be inspected (the README's tables are checked against it).
    pub enum MaskFailure {
        ParseError => "parse_error",
        TooLarge => "too_large",
        TooDeep => "too_deep",
        BadEncoding => "bad_encoding",
        AmbiguousHeaders => "ambiguous_headers",
        PassthroughMismatch => "passthrough_mismatch",
        ContentRange => "content_range",
    }
}

impl MaskFailure {
    /// The failure a refusal's reason names (the reasons are the gateway's
    /// own words, from the framing, decoding, masking and header code).
    pub fn named(reason: &str) -> Option<MaskFailure> {
        MaskFailure::ALL.into_iter().find(|f| f.as_str() == reason)
    }
}

crate::label_enum! {
    /// `location` of `gateway_secret_reflections_total`: where a gateway
    /// secret was found in an upstream answer.
    pub enum SecretLocation {
        Header => "header",
        Body => "body",
    }
}

impl SecretLocation {
    pub fn label(self) -> &'static str {
        self.as_str()
    }
}
