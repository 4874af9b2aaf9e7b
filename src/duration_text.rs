//! Durations in the configuration's own words: read as humantime reads them (`30s`, `24h`,
//! `1h 30m`), written in the one unit that states them exactly, as `config/default.toml`
//! writes them (`24h`, `90s`, `1500ms`). humantime's own writer splits into days and mixed
//! units (`24h` comes back as `1day`, which reads like a typo in `/admin/config` and in
//! problem messages). Used as `#[serde(with = "crate::duration_text")]`.

use std::time::Duration;

use serde::{Deserializer, Serializer};

/// `d` in the largest of h, s, ms, us, ns that divides it evenly (`0s` for zero). No minutes:
/// the defaults write `60s` and `90s`, and a reader compares like with like.
pub fn format(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    const UNITS: [(u128, &str); 5] = [
        (3_600_000_000_000, "h"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| nanos % size == 0)
        .map(|(size, unit)| format!("{}{unit}", nanos / size))
        .unwrap_or_default()
}

pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

/// The newtype name a duration is asked for under: the configuration's reader
/// (`problems::de`, which writes the same name: the two are leaves, neither
/// imports the other) checks the text is a duration before handing it on, so a
/// wrong one is named there and the read goes on. Any other deserializer passes
/// the text straight through.
const DURATION: &str = "$gateway::duration";

/// What a duration must be, in the words of the configuration's problems.
const A_DURATION: &str = "a duration like \"250ms\", \"10s\" or \"5m\"";

/// The longest duration a configuration may give: a year (see
/// `problems::de::LONGEST_DURATION`, the same bound where the configuration's
/// reader names it; a test checks the two agree).
pub const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// A duration as humantime reads it, asked for under [`DURATION`], at most [`LONGEST`].
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct Text;
    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Duration;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{A_DURATION}, at most {}", format(LONGEST))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
            humantime::parse_duration(v)
                .ok()
                .filter(|d| *d <= LONGEST)
                .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
        }
        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Duration, D::Error> {
            d.deserialize_str(self)
        }
    }
    d.deserialize_newtype_struct(DURATION, Text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_read_as_the_defaults_write_them() {
        for (d, text) in [
            (Duration::from_secs(24 * 3600), "24h"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(60), "60s"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_millis(250), "250ms"),
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(7), "7ns"),
        ] {
            assert_eq!(format(d), text);
        }
    }

    proptest! {
        /// What is written reads back as the same duration.
        #[test]
        fn written_durations_read_back(nanos in 0u64..u64::MAX) {
            let d = Duration::from_nanos(nanos);
            let read = humantime_serde::re::humantime::parse_duration(&format(d)).unwrap();
            prop_assert_eq!(read, d);
        }
    }
}
