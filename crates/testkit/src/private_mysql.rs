//! A MariaDB server of the test's own: `mariadb-install-db` into a temporary folder, then
//! `mysqld` on a free loopback port with the server options the test chooses. For what one
//! shared server cannot show: two servers whose global variables differ (drift between hosts).
//! Killed and removed when dropped.
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::process::free_port;
use crate::require;

/// A running private server; its root has no password.
pub struct PrivateMariadb {
    pub port: u16,
    /// `mysql://root@127.0.0.1:<port>`.
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl PrivateMariadb {
    /// Starts a server with `options` (`--innodb-buffer-pool-size=24M`, …) on top of a minimal
    /// set. None (after `require::missing`, which fails under CI=true) when MariaDB's binaries
    /// are missing or the server does not start.
    pub fn start(options: &[&str]) -> Option<PrivateMariadb> {
        let install = require::program("mariadb-install-db", "mariadb-server")?;
        let mysqld = require::which("mysqld")
            .or_else(|| Some(Path::new("/usr/sbin/mysqld").to_path_buf()))
            .filter(|p| p.is_file());
        let Some(mysqld) = mysqld else {
            require::missing("mysqld", "apt-get install mariadb-server");
            return None;
        };
        match Self::try_start(&install, &mysqld, options) {
            Ok(s) => Some(s),
            Err(why) => {
                require::missing("a private MariaDB server", &why);
                None
            }
        }
    }

    fn try_start(install: &Path, mysqld: &Path, options: &[&str]) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("a temporary folder: {e}"))?;
        let data = dir.path().join("data");
        // mysqld refuses to run as root: as root (CI), the folder goes to the `mysql` user.
        let as_root = std::fs::metadata(dir.path())
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        let mut user = Vec::new();
        if as_root {
            let ids = std::fs::metadata("/var/lib/mysql")
                .map(|m| (m.uid(), m.gid()))
                .map_err(|e| format!("finding the mysql user through /var/lib/mysql: {e}"))?;
            std::os::unix::fs::chown(dir.path(), Some(ids.0), Some(ids.1))
                .map_err(|e| format!("chown of the temporary folder: {e}"))?;
            user.push("--user=mysql".to_string());
        }
        // Its own tmpdir: a starting server deletes every `#sql…` file in its tmpdir as left
        // over, and in the shared /tmp those are the shared server's temporary tables in use
        // (the shared MariaDB then failed queries and once crashed in ha_maria::drop_table).
        let tmpdir = format!("--tmpdir={}", dir.path().display());
        let installed = Command::new(install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(&tmpdir)
            .args(&user)
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("running mariadb-install-db: {e}"))?;
        if !installed.status.success() {
            return Err(format!(
                "mariadb-install-db failed: {}",
                String::from_utf8_lossy(&installed.stderr)
            ));
        }
        let port = free_port().map_err(|e| format!("a free port: {e}"))?;
        let at = |name: &str| dir.path().join(name).display().to_string();
        let mut child = Command::new(mysqld)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(&tmpdir)
            .args(&user)
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", at("sock")))
            .arg(format!("--pid-file={}", at("pid")))
            .arg(format!("--log-error={}", at("error.log")))
            .args(["--skip-log-bin", "--skip-name-resolve"])
            .args(options)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting mysqld: {e}"))?;
        // Polling for the server to listen (InnoDB's start-up takes seconds on a busy machine).
        for _ in 0..1200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(PrivateMariadb {
                    port,
                    url: format!("mysql://root@127.0.0.1:{port}"),
                    child,
                    _dir: dir,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(at("error.log")).unwrap_or_default();
                return Err(format!("mysqld exited ({status}): {log}"));
            }
            #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err("mysqld did not listen within a minute".into())
    }

    /// Runs `sql` on the server (no default database; statements separated by `;`).
    pub async fn execute(&self, sql: &str) -> Result<(), mysql_async::Error> {
        use mysql_async::prelude::Queryable;
        let mut conn = mysql_async::Conn::from_url(&self.url).await?;
        conn.query_drop(sql).await?;
        let _ = conn.disconnect().await;
        Ok(())
    }
}

impl Drop for PrivateMariadb {
    fn drop(&mut self) {
        // A throwaway: SIGKILL, then the folder goes with the TempDir.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
