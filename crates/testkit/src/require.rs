//! Guards for services a test needs. Under `CI=true` a missing service fails the test (a test
//! must never pass silently because its service is absent); elsewhere it prints `SKIP` loudly
//! and lets the test return early.
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

/// True when running in CI, where every service must be present.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "0" && v != "false")
        .unwrap_or(false)
}

/// Reports a missing service: panics in CI, prints SKIP otherwise. Returns `false` so callers can
/// write `if !require::service_missing(..) { return }` patterns through the helpers below.
// Failing the calling test is this function's job under CI: a missing service must not pass.
#[allow(clippy::panic)]
pub fn missing(what: &str, fix: &str) -> bool {
    if in_ci() {
        panic!("{what} is required in CI but missing: {fix}");
    }
    eprintln!("SKIP: {what} is missing ({fix}); this test did not run");
    false
}

fn tcp_up(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .ok()
        .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok())
        .is_some()
}

/// The local PostgreSQL on 127.0.0.1:5432.
pub fn postgres() -> bool {
    tcp_up("127.0.0.1:5432")
        || missing(
            "PostgreSQL on 127.0.0.1:5432",
            "start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        )
}

/// The local MariaDB (or MySQL) on 127.0.0.1:3306.
pub fn mysql() -> bool {
    tcp_up("127.0.0.1:3306")
        || missing(
            "MariaDB on 127.0.0.1:3306",
            "start it: service mariadb start (root with an empty password)",
        )
}

/// NATS with JetStream on 127.0.0.1:4222.
pub fn nats() -> bool {
    tcp_up("127.0.0.1:4222") || missing("NATS on 127.0.0.1:4222", "start nats-server -js")
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// An executable the test shells out to; `package` is the Debian package that provides it.
pub fn program(name: &str, package: &str) -> Option<PathBuf> {
    match which(name) {
        Some(p) => Some(p),
        None => {
            missing(name, &format!("apt-get install {package}"));
            None
        }
    }
}

/// Chromium for page tests.
pub fn chromium() -> Option<PathBuf> {
    program("chromium", "chromium")
}

/// promtool, Prometheus' own checker of the exposition format.
pub fn promtool() -> Option<PathBuf> {
    program("promtool", "prometheus")
}
