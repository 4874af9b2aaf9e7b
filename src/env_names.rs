//! Environment variables that look meant for the gateway but are not in the
//! form it reads (`GATEWAY__SECTION__KEY`: upper case, double underscores):
//! `GATEWAY_UPSTREAM_BASE_URL` is silently not read, and a lower-case name
//! depends on the reader's case folding. Each gets a warning naming the
//! variable it probably means, built from the keys of `config/default.toml`,
//! so the list can never drift from the settings.

use std::collections::BTreeMap;

/// The variables the gateway reads outside the `GATEWAY__` settings (and
/// the build's own revision, which an image build sets in its environment).
const PROCESS_VARS: [&str; 3] = ["GATEWAY_ENV", "GATEWAY_CONFIG_DIR", "GATEWAY_GIT_REVISION"];

/// One warning per suspicious name in `names` (in the order given).
pub fn warnings<I, S>(names: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let known = known_names();
    let mut out = Vec::new();
    for name in names {
        let name = name.as_ref();
        let upper = name.to_ascii_uppercase();
        if !upper.starts_with("GATEWAY_") || PROCESS_VARS.contains(&name) {
            continue;
        }
        let documented = name.starts_with("GATEWAY__") && name == upper;
        if documented {
            continue;
        }
        let meant = known.get(&squash(&upper)).cloned().or_else(|| {
            PROCESS_VARS
                .iter()
                .find(|v| squash(v) == squash(&upper))
                .map(|v| (*v).to_owned())
        });
        let form = "settings are GATEWAY__SECTION__KEY: upper case, two underscores between parts";
        out.push(match meant {
            Some(meant) => format!("environment variable `{name}` is not read as written ({form}): did you mean `{meant}`?"),
            None => format!(
                "environment variable `{name}` looks meant for the gateway but is not read ({form}; \
                 the sections are {}, the keys those of config/default.toml)",
                sections(&known)
            ),
        });
    }
    out
}

/// `GATEWAY__SERVER__…, GATEWAY__ADMIN__…`: the valid first parts, from the defaults.
fn sections(known: &BTreeMap<String, String>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for name in known.values() {
        let section = name.split("__").nth(1).unwrap_or("");
        if !seen.contains(&section) {
            seen.push(section);
        }
    }
    seen.sort_unstable();
    seen.iter()
        .map(|s| format!("GATEWAY__{s}__…"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The warnings for this process's environment.
pub fn in_environment() -> Vec<String> {
    warnings(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()))
}

/// Upper case, underscores removed: what every spelling of a name shares.
fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// `squash(name)` → `GATEWAY__SECTION__KEY`, for every key of the defaults.
fn known_names() -> BTreeMap<String, String> {
    let root = config::Config::builder()
        .add_source(config::File::from_str(
            crate::defaults::DEFAULT_TOML,
            config::FileFormat::Toml,
        ))
        .build()
        .and_then(|c| c.try_deserialize::<config::Map<String, config::Value>>())
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for (k, v) in root {
        collect(
            &format!("GATEWAY__{}", k.to_ascii_uppercase()),
            &v,
            &mut out,
        );
    }
    out
}

fn collect(name: &str, v: &config::Value, out: &mut BTreeMap<String, String>) {
    match &v.kind {
        config::ValueKind::Table(t) => {
            for (k, v) in t {
                collect(&format!("{name}__{}", k.to_ascii_uppercase()), v, out);
            }
        }
        _ => {
            out.insert(squash(name), name.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_meaning_nothing_known_is_told_the_sections() {
        let w = warnings(["GATEWAY_FROBNICATE"]);
        assert_eq!(w.len(), 1, "{w:#?}");
        for section in [
            "GATEWAY__SERVER__…",
            "GATEWAY__UPSTREAM__…",
            "GATEWAY__CLUSTER__…",
        ] {
            assert!(w[0].contains(section), "{}", w[0]);
        }
    }

    #[test]
    fn single_underscores_and_lower_case_name_the_variable_meant() {
        let w = warnings([
            "GATEWAY_UPSTREAM_BASE_URL",
            "gateway__upstream__base_url",
            "Gateway__Cache__Enabled",
            "GATEWAY_CACHE_ROUTES_CUSTOMER_DETAIL_TTL",
            "gateway_env",
        ]);
        assert_eq!(w.len(), 5, "{w:#?}");
        assert!(
            w[0].contains("did you mean `GATEWAY__UPSTREAM__BASE_URL`"),
            "{}",
            w[0]
        );
        assert!(
            w[1].contains("did you mean `GATEWAY__UPSTREAM__BASE_URL`"),
            "{}",
            w[1]
        );
        assert!(
            w[2].contains("did you mean `GATEWAY__CACHE__ENABLED`"),
            "{}",
            w[2]
        );
        assert!(
            w[3].contains("`GATEWAY__CACHE__ROUTES__CUSTOMER_DETAIL__TTL`"),
            "{}",
            w[3]
        );
        assert!(w[4].contains("did you mean `GATEWAY_ENV`"), "{}", w[4]);
    }

    #[test]
    fn documented_names_and_other_variables_pass_quietly() {
        let w = warnings([
            "GATEWAY__UPSTREAM__BASE_URL",
            "GATEWAY_ENV",
            "GATEWAY_CONFIG_DIR",
            "PATH",
            "RUST_LOG",
            "PAYCOMBAT_GATEWAY_BIN",
        ]);
        assert!(w.is_empty(), "{w:#?}");
        let unknown = warnings(["GATEWAY_NO_SUCH_THING"]);
        assert!(unknown[0].contains("is not read"), "{unknown:?}");
    }

    #[test]
    fn every_key_of_the_defaults_has_its_variable() {
        // The class: any key of config/default.toml, misspelt with single
        // underscores, points back to its documented name.
        let known = known_names();
        assert!(known.len() > 50, "{}", known.len());
        for documented in known.values() {
            let single = documented.replace("__", "_");
            let w = warnings([single.as_str()]);
            assert!(
                w.len() == 1 && w[0].contains(&format!("`{documented}`")),
                "{single}: {w:?}"
            );
        }
    }
}
