//! The trace id an access line carries: from a valid incoming W3C
//! `traceparent` header (<https://www.w3.org/TR/trace-context/#traceparent-header>).
//! Anything that is not exactly that format is ignored, so a client cannot put
//! arbitrary text into the log through it.

use http::HeaderValue;

/// 32 lowercase hex digits, never all zero.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceId([u8; 32]);

impl TraceId {
    /// The trace id of `traceparent`: `version-traceid-parentid-flags`, each
    /// field lowercase hex of fixed width. Version `ff` is invalid; an unknown
    /// future version may add fields after a `-`; version `00` may not.
    pub fn from_traceparent(value: &HeaderValue) -> Option<TraceId> {
        let b = value.as_bytes();
        if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let hex = |s: &[u8]| s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        let (version, trace, parent, flags) = (&b[..2], &b[3..35], &b[36..52], &b[53..55]);
        if !hex(version) || !hex(trace) || !hex(parent) || !hex(flags) || version == b"ff" {
            return None;
        }
        if b.len() > 55 && (version == b"00" || b[55] != b'-') {
            return None;
        }
        let zero = |s: &[u8]| s.iter().all(|&c| c == b'0');
        if zero(trace) || zero(parent) {
            return None;
        }
        let mut id = [0; 32];
        id.copy_from_slice(trace);
        Some(TraceId(id))
    }

    /// The id of the gateway's own span's trace, in the same form.
    pub fn from_otel(id: opentelemetry::trace::TraceId) -> TraceId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0; 32];
        for (i, b) in id.to_bytes().iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0xf)];
        }
        TraceId(out)
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from checked hex digits.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl std::fmt::Debug for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Option<String> {
        TraceId::from_traceparent(&HeaderValue::from_str(s).ok()?).map(|t| t.as_str().to_owned())
    }

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn an_otel_trace_id_reads_as_its_traceparent_form() {
        let id =
            opentelemetry::trace::TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        assert_eq!(
            TraceId::from_otel(id).as_str(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(parse(GOOD).unwrap(), TraceId::from_otel(id).as_str());
    }

    #[test]
    fn the_spec_example_and_its_near_misses() {
        assert_eq!(
            parse(GOOD).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // A later version may append fields.
        assert!(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz").is_some());
    }

    proptest! {
        /// Whatever a client sends, a trace id that comes out is 32 lowercase
        /// hex digits taken verbatim from the header.
        #[test]
        fn only_hex_ids_from_the_header_come_out(s in "[ -~]{0,80}") {
            if let Some(id) = parse(&s) {
                prop_assert_eq!(id.len(), 32);
                prop_assert!(id.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
                prop_assert_eq!(&s[3..35], id.as_str());
            }
        }

        #[test]
        fn every_well_formed_version_00_header_parses(
            trace in "[0-9a-f]{32}", parent in "[0-9a-f]{16}", flags in "[0-9a-f]{2}",
        ) {
            let header = format!("00-{trace}-{parent}-{flags}");
            let zero = |s: &str| s.bytes().all(|c| c == b'0');
            let expected = (!zero(&trace) && !zero(&parent)).then(|| trace.clone());
            prop_assert_eq!(parse(&header), expected);
        }
    }
}
