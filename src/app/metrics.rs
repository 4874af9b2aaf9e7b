//! Start-up's own families: the configuration reload (`reload.rs` decides
//! applied, unchanged or invalid), the build of the running binary and the
//! process collector. Every other family is its component's, registered by
//! `App::build` on the same registry.

use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::metrics::{counter, gauge, reg, Family, Vocabulary};

crate::label_enum! {
    /// `result` of `gateway_config_reloads_total`.
    pub enum ConfigReloadResult {
        Applied => "applied",
        Unchanged => "unchanged",
        Invalid => "invalid",
    }
}

#[derive(Clone)]
pub struct ReloadMetrics {
    pub reloads: Family<IntCounterVec, 1>,
    pub last_successful: IntGauge,
    pub last_success_timestamp: IntGauge,
}

impl ReloadMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<ReloadMetrics> {
        let m = ReloadMetrics {
            reloads: counter(r, "gateway_config_reloads_total", "Configuration reloads (SIGHUP or a change to the config file), by result: applied (valid, something changed), unchanged (valid, nothing changed), invalid (refused: the running settings stay).", &["result"])?,
            last_successful: gauge(r, "gateway_config_last_reload_successful", "1 when the last configuration reload was valid (or none was tried), 0 when it was refused.")?,
            last_success_timestamp: gauge(r, "gateway_config_last_reload_success_timestamp_seconds", "Unix time of the last valid configuration reload (of the start, until one).")?,
        };
        for result in ConfigReloadResult::ALL {
            m.reloads.with([&result]);
        }
        m.last_successful.set(1);
        m.last_success_timestamp.set(unix_now());
        Ok(m)
    }
}

/// `gateway_build_info{version, revision}` (always 1) and, on Linux, the
/// process collector (`process_*`).
pub fn register_process(r: &Registry) -> prometheus::Result<()> {
    let build: Family<IntGaugeVec, 2> = Family::new(reg(
        r,
        IntGaugeVec::new(
            Opts::new(
                "gateway_build_info",
                "Build of the running gateway; always 1.",
            ),
            &["version", "revision"],
        )?,
    )?);
    // The build's own constants, compiled in: words of the source, not values read at run time.
    build
        .with([
            &Vocabulary(env!("CARGO_PKG_VERSION")),
            &Vocabulary(crate::build::REVISION),
        ])
        .set(1);
    #[cfg(target_os = "linux")]
    r.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    Ok(())
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
