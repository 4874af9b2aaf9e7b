//! The gateway as a process: build the app, serve until SIGTERM or SIGINT,
//! and the exit codes that tell a supervisor why it stopped.

use std::process::ExitCode;

use crate::config::{Layers, Settings};

/// Exit code for a bad configuration (sysexits EX_USAGE): retrying cannot help,
/// so the systemd unit does not restart on it.
pub const EXIT_CONFIG: u8 = 64;

/// Exit code for a start-up failure that may pass on its own, a listen address
/// in use (sysexits EX_TEMPFAIL): the unit restarts on it.
pub const EXIT_TEMPFAIL: u8 = 75;

/// Builds and runs the app until SIGTERM or SIGINT, reloading its configuration
/// from `layers` (the ones `settings` were read from) on SIGHUP and when the
/// config file changes. A start-up failure exits with the reason: 75 when a
/// listen address is in use (worth retrying), 64 for anything else
/// (unreadable credentials, a bad clients file: retrying cannot help).
pub async fn run_until_signal(settings: Settings, layers: Layers) -> ExitCode {
    let app = match crate::app::App::build(settings).await {
        Ok(app) => app.reloading(layers),
        Err(e) => Err(e),
    };
    match app {
        Ok(app) => serve_until_signal(app).await,
        Err(e) => {
            let reason = crate::problems::causes(e.chain());
            tracing::error!("cannot start: {reason}");
            eprintln!("cannot start: {reason}");
            crate::logging::flush();
            if e.downcast_ref::<crate::app::BindFailed>().is_some() {
                ExitCode::from(EXIT_TEMPFAIL)
            } else {
                ExitCode::from(EXIT_CONFIG)
            }
        }
    }
}

/// Runs a built app (its listeners already bound) until SIGTERM or SIGINT.
pub async fn serve_until_signal(app: crate::app::App) -> ExitCode {
    let code = match app.run(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    };
    // The last lines ("stopped", the final requests) are still queued.
    crate::logging::flush();
    code
}

/// Resolves on the first SIGTERM or SIGINT. Both handlers are installed when this is
/// called, not when the future is first polled: the service manager may send SIGTERM as
/// soon as READY=1 is out (before the server polls its shutdown future), and a handler
/// not yet installed would let that signal kill the process without a drain.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => tracing::info!("SIGTERM received"),
                        _ = int.recv() => tracing::info!("SIGINT received"),
                    }
                }
                // No signal handling to be had: Ctrl-C at least.
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
