//! Readiness and stopping notifications for a service manager (systemd's
//! `Type=notify`, through `$NOTIFY_SOCKET`). Without that variable, as under
//! Kubernetes or a shell, every call does nothing.

/// Tells the service manager the gateway is ready: called once both listeners
/// are bound and everything `App::build` checks has loaded, so `systemctl
/// start` returns only when the gateway can answer.
pub fn ready() {
    send(&[sd_notify::NotifyState::Ready], "READY=1");
}

/// Tells the service manager a drain has started (readiness is 503 from now).
pub fn stopping() {
    send(&[sd_notify::NotifyState::Stopping], "STOPPING=1");
}

fn send(state: &[sd_notify::NotifyState<'_>], what: &str) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    // A service manager that cannot be told is not a reason to stop serving:
    // systemd then times the start out and says so itself.
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!("cannot notify the service manager ({what}): {e}");
    }
}
