//! The configuration the command line selects ([`ConfigArgs`]: a directory and an
//! environment, or a file) and the config pass over those layers ([`check`]), shared
//! by every subcommand that reads the config.
//!
//! `--config-dir DIR` (or `GATEWAY_CONFIG_DIR`) only says where
//! `<GATEWAY_ENV>.toml` is: with no environment selected nothing in DIR is
//! read. An operator who names a directory holding configuration files
//! expects them to be read, so that combination is refused, naming the
//! files and the flag that would read one.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::{self, Problem};

/// Where `<GATEWAY_ENV>.toml` is looked for when no config dir is given.
pub const DEFAULT_CONFIG_DIR: &str = "config";

#[derive(Args, Debug, Default)]
pub struct ConfigArgs {
    /// Directory holding `<GATEWAY_ENV>.toml` (default `./config`).
    #[arg(long, env = "GATEWAY_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// Selects `<config dir>/<env>.toml` on top of the embedded defaults.
    #[arg(long, env = "GATEWAY_ENV")]
    pub env: Option<String>,
    /// A configuration file layered on top of the embedded defaults (instead
    /// of `--env`'s `<config dir>/<env>.toml`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ConfigArgs {
    /// The layers these arguments select, with `flags` on top.
    pub fn layers(&self, flags: Vec<(String, String)>) -> config::Layers {
        let dir = self
            .config_dir
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_CONFIG_DIR));
        config::Layers {
            file: self.config.clone(),
            flags,
            ..config::Layers::dir(dir, self.env.as_deref())
        }
    }
}

/// The one config pass over the layers `args` select and `flags`, every
/// problem listed: the command line's own first (a config dir nothing is
/// read from), then every section's, then the files the settings name.
pub(crate) fn check(
    args: &ConfigArgs,
    flags: Vec<(String, String)>,
) -> (config::Partial, Vec<Problem>) {
    let (partial, problems) = config::check(&args.layers(flags));
    let mut all: Vec<Problem> = unread(args).into_iter().collect();
    all.extend(problems.into_vec());
    (partial, all)
}

/// As [`check`], only `sections` (and the files they name that `files`
/// checks), for a subcommand that uses no other.
pub(crate) fn check_sections(
    args: &ConfigArgs,
    sections: &[config::Section],
) -> (config::Partial, Vec<Problem>) {
    let (partial, problems) = config::sections(&args.layers(Vec::new()), sections);
    let mut all: Vec<Problem> = unread(args).into_iter().collect();
    all.extend(problems.into_vec());
    (partial, all)
}

/// The problem with `args`, if a config dir was given whose files would all
/// go unread.
pub fn unread(args: &ConfigArgs) -> Option<Problem> {
    let dir = args.config_dir.as_deref()?;
    if args.env.as_deref().is_some_and(|e| !e.is_empty()) {
        return None;
    }
    let layers = layer_files(dir);
    if layers.is_empty() {
        // Nothing there that could be meant (an empty or absent directory).
        return None;
    }
    let names: Vec<String> = layers.iter().map(|n| format!("{n}.toml")).collect();
    let example = layers
        .iter()
        .find(|n| n.as_str() != "default")
        .unwrap_or(&layers[0]);
    let mut reason = format!(
        "{} holds {}, but without --env (GATEWAY_ENV) nothing in it is read: add `--env {example}` \
         to layer {example}.toml over the built-in defaults",
        dir.display(),
        names.join(", "),
    );
    if layers.iter().any(|n| n == "default") {
        reason.push_str(
            " (the defaults are compiled in: a default.toml there is never read; \
             put changes in a layer file)",
        );
    }
    Some(Problem::new("--config-dir (GATEWAY_CONFIG_DIR)", reason))
}

/// The names `<name>.toml` in `dir` that could be layers (a clients file is not).
fn layer_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".toml")?;
            (!stem.starts_with("clients")).then(|| stem.to_owned())
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: Option<&Path>, env: Option<&str>) -> ConfigArgs {
        ConfigArgs {
            config_dir: dir.map(Path::to_path_buf),
            env: env.map(str::to_owned),
            config: None,
        }
    }

    #[test]
    fn a_config_dir_with_layers_and_no_env_is_refused_naming_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("production.toml"), "").unwrap();
        std::fs::write(dir.path().join("clients.toml"), "").unwrap();
        let p = unread(&args(Some(dir.path()), None)).expect("refused");
        assert!(p.reason.contains("production.toml"), "{p}");
        assert!(p.reason.contains("--env production"), "{p}");
        assert!(!p.reason.contains("clients.toml"), "{p}");
        // With an environment, its file is read: nothing to say.
        assert_eq!(unread(&args(Some(dir.path()), Some("production"))), None);
        // Only a clients file, an empty or a missing directory: nothing unread.
        std::fs::remove_file(dir.path().join("production.toml")).unwrap();
        assert_eq!(unread(&args(Some(dir.path()), None)), None);
        assert_eq!(unread(&args(Some(Path::new("/nonexistent")), None)), None);
        // The default directory, not named by the operator: not refused.
        assert_eq!(unread(&args(None, None)), None);
    }

    #[test]
    fn a_copied_default_toml_is_named_as_never_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("default.toml"), "").unwrap();
        let p = unread(&args(Some(dir.path()), None)).expect("refused");
        assert!(p.reason.contains("never read"), "{p}");
    }
}
