//! Headless Chromium for page tests: the dashboard and HTML reports are checked in a real
//! browser, after their scripts ran, not only by string matching.
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("could not start chromium")]
    Spawn(#[source] std::io::Error),
    #[error("chromium failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("could not create a profile directory")]
    Profile(#[source] std::io::Error),
}

/// A Chromium executable, found by `require::chromium()`.
pub struct Chromium {
    exe: PathBuf,
}

impl Chromium {
    /// `None` after the guard's SKIP (or a CI failure) when Chromium is not installed.
    pub fn find() -> Option<Chromium> {
        crate::require::chromium().map(|exe| Chromium { exe })
    }

    fn command(&self, profile: &Path) -> Command {
        let mut cmd = Command::new(&self.exe);
        // Without the networking flags the closed network floods Chromium with refused
        // connections; a fresh profile keeps runs independent.
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
        cmd
    }

    /// Loads `url`, lets its scripts run for up to `budget_ms` of virtual time, and returns the
    /// DOM as serialised HTML.
    pub fn dump_dom(&self, url: &str, budget_ms: u32) -> Result<String, BrowserError> {
        let profile = tempfile::tempdir().map_err(BrowserError::Profile)?;
        let out = self
            .command(profile.path())
            .arg(format!("--virtual-time-budget={budget_ms}"))
            .arg("--dump-dom")
            .arg(url)
            .output()
            .map_err(BrowserError::Spawn)?;
        if !out.status.success() {
            return Err(BrowserError::Failed {
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Loads `url` and writes a PNG screenshot of `width`×`height` to `png`.
    pub fn screenshot(
        &self,
        url: &str,
        png: &Path,
        width: u32,
        height: u32,
        budget_ms: u32,
    ) -> Result<(), BrowserError> {
        let profile = tempfile::tempdir().map_err(BrowserError::Profile)?;
        let out = self
            .command(profile.path())
            .arg(format!("--virtual-time-budget={budget_ms}"))
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--screenshot={}", png.display()))
            .arg(url)
            .output()
            .map_err(BrowserError::Spawn)?;
        if !out.status.success() || !png.exists() {
            return Err(BrowserError::Failed {
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(())
    }
}
