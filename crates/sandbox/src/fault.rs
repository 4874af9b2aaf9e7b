use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Longest delay, slow body or silence a spec may ask for: a runaway test must still end.
pub(crate) const MAX_FAULT_DURATION: Duration = Duration::from_secs(600);
/// Largest `oversized=` body (streamed, so only the client pays for it).
pub(crate) const MAX_OVERSIZED_BYTES: u64 = 1 << 30;
/// Deepest `deep=` body; the body is built in memory, about 6 bytes per level.
pub(crate) const MAX_DEPTH: u32 = 1_000_000;

/// A misbehaviour the sandbox applies to its answer.
///
/// Parsed from the `x-sandbox-fault` header syntax: `delay=200ms`, `status=503`, `reset`, … and
/// comma-separated lists of them (`delay=200ms,status=503`), which parse to [`Fault::Combined`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Wait this long before the response head.
    Delay(Duration),
    /// Answer with this status and an error envelope, without processing the request.
    Status(u16),
    /// Drop the connection without answering, without processing the request.
    Reset,
    /// Send the head and part of the body, then abort the connection.
    ResetMidBody,
    /// Read the request, never answer (until the client gives up, at most 10 minutes).
    Silence,
    /// Process the request (a create is made), then never answer: "created but timed
    /// out", as the client sees it.
    CreatedSilence,
    /// Process the request (a create is made), then drop the connection unanswered.
    CreatedReset,
    /// 200 with a JSON content type and a body that is not JSON.
    MalformedJson,
    /// The first half of the normal body, with a Content-Length matching the cut.
    TruncatedJson,
    /// The normal body gzip-encoded.
    Gzip,
    /// The normal body zlib-encoded (`Content-Encoding: deflate`).
    Deflate,
    /// The normal body brotli-encoded.
    Br,
    /// `Content-Encoding: x-unknown` on an unencoded body.
    BogusEncoding,
    /// The normal body labelled `text/plain`.
    WrongContentType,
    /// A valid JSON body of this many bytes, a list of customers with personal fields.
    Oversized(u64),
    /// A valid JSON body nested this many levels deep.
    Deep(u32),
    /// A JSON body with invalid UTF-8 inside a string.
    NonUtf8,
    /// `Cache-Control: no-store` on the response.
    NoStore,
    /// `Cache-Control: private` on the response.
    Private,
    /// Send the head at once, then trickle the body over this long.
    SlowBody(Duration),
    /// Several faults at once; later entries override earlier ones of the same kind.
    Combined(Vec<Fault>),
}

/// A fault spec the sandbox does not understand.
#[derive(Debug, thiserror::Error)]
#[error("invalid sandbox fault spec `{0}`")]
pub struct FaultParseError(String);

impl FaultParseError {
    fn new(spec: &str) -> Self {
        // Specs come from request headers: keep the echo short.
        Self(spec.chars().take(64).collect())
    }
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut faults = spec
            .split(',')
            .map(str::trim)
            .map(|one| parse_one(one).ok_or_else(|| FaultParseError::new(one)))
            .collect::<Result<Vec<_>, _>>()?;
        if faults.len() == 1 {
            Ok(faults.remove(0))
        } else {
            Ok(Fault::Combined(faults))
        }
    }
}

fn parse_one(spec: &str) -> Option<Fault> {
    let (name, arg) = match spec.split_once('=') {
        Some((name, arg)) => (name.trim(), Some(arg.trim())),
        None => (spec, None),
    };
    let fault = match (name, arg) {
        ("delay", Some(arg)) => Fault::Delay(parse_duration(arg)?),
        ("slow_body", Some(arg)) => Fault::SlowBody(parse_duration(arg)?),
        ("status", Some(arg)) => {
            let code: u16 = arg.parse().ok()?;
            // 1xx cannot be a final answer; anything above 599 is not HTTP.
            if !(200..=599).contains(&code) {
                return None;
            }
            Fault::Status(code)
        }
        ("oversized", Some(arg)) => {
            let size: u64 = arg.parse().ok()?;
            (size <= MAX_OVERSIZED_BYTES).then_some(Fault::Oversized(size))?
        }
        ("deep", Some(arg)) => {
            let depth: u32 = arg.parse().ok()?;
            (depth <= MAX_DEPTH).then_some(Fault::Deep(depth))?
        }
        ("reset", None) => Fault::Reset,
        ("reset_mid_body", None) => Fault::ResetMidBody,
        ("silence", None) => Fault::Silence,
        ("created_silence", None) => Fault::CreatedSilence,
        ("created_reset", None) => Fault::CreatedReset,
        ("malformed_json", None) => Fault::MalformedJson,
        ("truncated_json", None) => Fault::TruncatedJson,
        ("gzip", None) => Fault::Gzip,
        ("deflate", None) => Fault::Deflate,
        ("br", None) => Fault::Br,
        ("bogus_encoding", None) => Fault::BogusEncoding,
        ("wrong_content_type", None) => Fault::WrongContentType,
        ("non_utf8", None) => Fault::NonUtf8,
        ("no_store", None) => Fault::NoStore,
        ("private", None) => Fault::Private,
        _ => return None,
    };
    Some(fault)
}

/// Parses `250ms`, `2s`, `1.5s`, `1m`, `500us`; the unit is required.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let scale = match unit {
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        _ => return None,
    };
    let duration = Duration::try_from_secs_f64(value * scale).ok()?;
    (duration <= MAX_FAULT_DURATION).then_some(duration)
}

fn fmt_duration(d: Duration) -> String {
    if d.subsec_nanos() % 1_000_000 == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}us", d.as_micros())
    }
}

/// Renders the header syntax back, so `spec.parse::<Fault>()?.to_string()` round-trips.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Delay(d) => write!(f, "delay={}", fmt_duration(*d)),
            Fault::Status(code) => write!(f, "status={code}"),
            Fault::Reset => f.write_str("reset"),
            Fault::ResetMidBody => f.write_str("reset_mid_body"),
            Fault::Silence => f.write_str("silence"),
            Fault::CreatedSilence => f.write_str("created_silence"),
            Fault::CreatedReset => f.write_str("created_reset"),
            Fault::MalformedJson => f.write_str("malformed_json"),
            Fault::TruncatedJson => f.write_str("truncated_json"),
            Fault::Gzip => f.write_str("gzip"),
            Fault::Deflate => f.write_str("deflate"),
            Fault::Br => f.write_str("br"),
            Fault::BogusEncoding => f.write_str("bogus_encoding"),
            Fault::WrongContentType => f.write_str("wrong_content_type"),
            Fault::Oversized(size) => write!(f, "oversized={size}"),
            Fault::Deep(depth) => write!(f, "deep={depth}"),
            Fault::NonUtf8 => f.write_str("non_utf8"),
            Fault::NoStore => f.write_str("no_store"),
            Fault::Private => f.write_str("private"),
            Fault::SlowBody(d) => write!(f, "slow_body={}", fmt_duration(*d)),
            Fault::Combined(all) => {
                for (i, fault) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    fmt::Display::fmt(fault, f)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_combined_specs() {
        assert_eq!("reset".parse::<Fault>().ok(), Some(Fault::Reset));
        assert_eq!("status=503".parse::<Fault>().ok(), Some(Fault::Status(503)));
        assert_eq!(
            " delay=200ms , status=503 ".parse::<Fault>().ok(),
            Some(Fault::Combined(vec![
                Fault::Delay(Duration::from_millis(200)),
                Fault::Status(503)
            ]))
        );
        assert_eq!(
            "slow_body=1.5s".parse::<Fault>().ok(),
            Some(Fault::SlowBody(Duration::from_millis(1500)))
        );
        assert_eq!(
            "oversized=1048576".parse::<Fault>().ok(),
            Some(Fault::Oversized(1 << 20))
        );
        assert_eq!("deep=64".parse::<Fault>().ok(), Some(Fault::Deep(64)));
    }

    #[test]
    fn rejects_unknown_or_out_of_range_specs() {
        for bad in [
            "",
            "explode",
            "status=99",
            "status=600",
            "status=abc",
            "delay=5",
            "delay=1h",
            "delay=11m",
            "reset=1",
            "gzip,nope",
            "deep=1000001",
            "oversized=-1",
            "delay=ms",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn display_round_trips() {
        for spec in [
            "delay=200ms,status=503",
            "slow_body=2000ms",
            "delay=500us",
            "oversized=10,deep=3,non_utf8,no_store,private,gzip,deflate,br",
            "bogus_encoding,wrong_content_type,malformed_json,truncated_json",
            "reset,reset_mid_body,silence",
            "created_silence,created_reset",
        ] {
            let fault: Fault = spec.parse().expect("valid spec");
            assert_eq!(fault.to_string(), spec);
        }
    }

    /// One of every fault, listed through an exhaustive match: a new kind
    /// does not compile until it is here, and then the README must list it.
    fn one_of_each() -> Vec<Fault> {
        let all = vec![
            Fault::Delay(Duration::from_millis(1)),
            Fault::Status(503),
            Fault::Reset,
            Fault::ResetMidBody,
            Fault::Silence,
            Fault::CreatedSilence,
            Fault::CreatedReset,
            Fault::MalformedJson,
            Fault::TruncatedJson,
            Fault::Gzip,
            Fault::Deflate,
            Fault::Br,
            Fault::BogusEncoding,
            Fault::WrongContentType,
            Fault::Oversized(1),
            Fault::Deep(1),
            Fault::NonUtf8,
            Fault::NoStore,
            Fault::Private,
            Fault::SlowBody(Duration::from_millis(1)),
        ];
        for f in &all {
            match f {
                Fault::Delay(_)
                | Fault::Status(_)
                | Fault::Reset
                | Fault::ResetMidBody
                | Fault::Silence
                | Fault::CreatedSilence
                | Fault::CreatedReset
                | Fault::MalformedJson
                | Fault::TruncatedJson
                | Fault::Gzip
                | Fault::Deflate
                | Fault::Br
                | Fault::BogusEncoding
                | Fault::WrongContentType
                | Fault::Oversized(_)
                | Fault::Deep(_)
                | Fault::NonUtf8
                | Fault::NoStore
                | Fault::Private
                | Fault::SlowBody(_)
                | Fault::Combined(_) => {}
            }
        }
        all
    }

    #[test]
    fn the_readme_fault_table_lists_exactly_the_faults_the_sandbox_parses() {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find("| spec | the sandbox |")
            .expect("README has the sandbox fault table");
        let table: Vec<&str> = readme[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        let mut documented = Vec::new();
        for row in &table {
            let first = row.split('|').nth(1).unwrap_or("");
            for spec in first.split('`').skip(1).step_by(2) {
                documented.push(spec.split('=').next().unwrap_or("").to_owned());
                // Every documented spec parses (with a sample argument).
                let sample = spec.replace("<duration>", "10ms").replace("<code>", "503");
                let sample = sample.replace("<bytes>", "10").replace("<levels>", "3");
                assert!(
                    sample.parse::<Fault>().is_ok(),
                    "README spec {spec} does not parse"
                );
            }
        }
        for fault in one_of_each() {
            let text = fault.to_string();
            let name = text.split('=').next().unwrap_or("");
            assert!(
                documented.iter().any(|d| d == name),
                "the README's fault table lacks `{name}`"
            );
        }
        assert_eq!(documented.len(), one_of_each().len(), "{documented:?}");
    }

    #[test]
    fn error_message_is_bounded() {
        let long = "x".repeat(10_000);
        let err = long.parse::<Fault>().expect_err("not a fault");
        assert!(err.to_string().len() < 100);
    }
}
