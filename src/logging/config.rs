//! `[log]`: the log format and level, the queue each output holds while its
//! sink is slow, and where access-log lines go. Raw as written, checked into
//! [`LogSettings`]; problems are named relative to the section.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::problems::{self, optional_path, Problems};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

impl LogFormat {
    const NAMES: [(&'static str, LogFormat); 2] = [("human", Self::Human), ("json", Self::Json)];

    pub fn name(self) -> &'static str {
        problems::name_of(&Self::NAMES, self)
    }
}

impl<'de> Deserialize<'de> for LogFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        problems::choice(d, &Self::NAMES)
    }
}

impl Serialize for LogFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: LogFormat,
    pub level: String,
    pub queue_bytes: usize,
    pub access: RawAccessLog,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccessLog {
    pub output: String,
    pub file: String,
}

/// `[log]` on a configuration reload: level and format are live (`RUST_LOG`, when
/// set, still wins over `level`); the queues and the access-log writer are opened once.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &["level", "format"],
    restart: &["queue_bytes", "access"],
};

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive (checked to parse).
    pub level: String,
    /// Bytes of log lines each output stream holds while its sink is slow.
    pub queue_bytes: usize,
    pub access: AccessLogSettings,
}

#[derive(Debug, Clone)]
pub struct AccessLogSettings {
    pub output: AccessOutput,
}

/// Where access-log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessOutput {
    Off,
    Stdout,
    Stderr,
    File(PathBuf),
}

impl RawLog {
    /// Keys relative to `[log]`.
    pub fn check(self, p: &mut Problems) -> Option<LogSettings> {
        // What `logging::init` will parse; RUST_LOG, when set, is that process's own choice.
        p.check("level", log_level(&self.level))?;
        let queue_bytes = p.check("queue_bytes", queue_bytes(self.queue_bytes));
        let output = access_output(&self.access)
            .map_err(|(key, why)| p.add(key, why))
            .ok();
        Some(LogSettings {
            format: self.format,
            level: self.level,
            queue_bytes: queue_bytes?,
            access: AccessLogSettings { output: output? },
        })
    }
}

/// At least one long line; at most what a sidecar-less pod should hold in memory for logs.
fn queue_bytes(n: usize) -> Result<usize, String> {
    const MIN: usize = 4096;
    const MAX: usize = 256 << 20;
    if (MIN..=MAX).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is outside {MIN}..={MAX} bytes"))
    }
}

/// The output and, for "file", its path; a problem comes with the key it is about.
fn access_output(a: &RawAccessLog) -> Result<AccessOutput, (&'static str, String)> {
    let file = optional_path(&a.file);
    match (a.output.as_str(), file) {
        ("file", Some(path)) => Ok(AccessOutput::File(path)),
        ("file", None) => Err((
            "access.file",
            "required when `log.access.output = \"file\"`".into(),
        )),
        ("stdout" | "stderr" | "off", Some(_)) => Err((
            "access.file",
            format!(
                "only read when `log.access.output = \"file\"` (it is {:?})",
                a.output
            ),
        )),
        ("stdout", None) => Ok(AccessOutput::Stdout),
        ("stderr", None) => Ok(AccessOutput::Stderr),
        ("off", None) => Ok(AccessOutput::Off),
        (other, _) => Err((
            "access.output",
            format!("{other:?} is not one of \"stdout\", \"stderr\", \"file\", \"off\""),
        )),
    }
}

/// The level names `log.level` takes, alone or per target.
const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// `log.level`: a level name, or a comma list of a level and `target=level`
/// entries. Checked as a closed set like every other enum: the filter syntax
/// underneath would take a word such as "verbose" as a *target* name and
/// silence every other line.
fn log_level(v: &str) -> Result<(), String> {
    tracing_subscriber::EnvFilter::try_new(v)
        .map_err(|e| format!("{v:?} is not a log filter ({e})"))?;
    let is_level = |s: &str| LOG_LEVELS.iter().any(|l| l.eq_ignore_ascii_case(s.trim()));
    let wrong = v
        .split(',')
        .find(|directive| match directive.rsplit_once('=') {
            Some((target, level)) => target.trim().is_empty() || !is_level(level),
            None => !is_level(directive),
        });
    if let Some(directive) = wrong {
        return Err(format!(
            "{}{} (alone, or per target as in \"warn,paycombat_gateway=debug\")",
            if directive == v {
                String::new()
            } else {
                format!("in {v:?}: ")
            },
            problems::not_one_of(directive.trim(), &LOG_LEVELS),
        ));
    }
    Ok(())
}
