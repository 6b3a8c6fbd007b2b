//! A private PostgreSQL cluster for a test that needs server settings the shared server on
//! 127.0.0.1:5432 does not have (`shared_preload_libraries = 'pg_stat_statements'`): `initdb`
//! into a temporary folder, started with `pg_ctl` on a free loopback port, stopped and removed
//! when the value is dropped. PostgreSQL refuses to run as root, so when the tests run as root
//! its programs run as the `postgres` OS user (`runuser -u postgres --`), which owns the folder.
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster that is stopped and deleted on drop.
#[derive(Debug)]
pub struct PrivatePostgres {
    /// `postgres://postgres@127.0.0.1:<port>/` without a database name.
    base: String,
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    // Last: removed after the server is stopped.
    _dir: tempfile::TempDir,
}

#[derive(Debug, thiserror::Error)]
pub enum PrivatePgError {
    #[error("creating the cluster's folder")]
    Io(#[from] std::io::Error),
    #[error("{program} failed: {output}")]
    Program { program: String, output: String },
}

/// The newest PostgreSQL's `bin` folder under /usr/lib/postgresql (Debian's layout), or the
/// folder of `initdb` on PATH.
pub fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, b)| b)
        .or_else(|| crate::require::which("initdb").and_then(|p| p.parent().map(Path::to_path_buf)))
}

impl PrivatePostgres {
    /// Starts a cluster with `settings` (`name = value` lines for postgresql.conf). `None`
    /// after the guard's SKIP (a failure under CI) when `initdb` is not installed or the
    /// cluster does not start.
    pub fn start(settings: &[&str]) -> Option<PrivatePostgres> {
        let Some(bin) = bin_dir() else {
            crate::require::missing(
                "initdb (PostgreSQL's server programs)",
                "apt-get install postgresql",
            );
            return None;
        };
        match Self::try_start(bin, settings) {
            Ok(pg) => Some(pg),
            Err(e) => {
                crate::require::missing("a private PostgreSQL cluster", &e.to_string());
                None
            }
        }
    }

    fn try_start(bin: PathBuf, settings: &[&str]) -> Result<PrivatePostgres, PrivatePgError> {
        let dir = tempfile::Builder::new().prefix("prodlike-pg-").tempdir()?;
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let port = crate::process::free_port()?;
        let mut pg = PrivatePostgres {
            base: format!("postgres://postgres@127.0.0.1:{port}/"),
            port,
            bin,
            data,
            as_postgres,
            _dir: dir,
        };
        run(pg.program("initdb").arg("-D").arg(&pg.data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
        let mut conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\n",
            pg.socket_dir().display()
        );
        for s in settings {
            conf.push_str(s);
            conf.push('\n');
        }
        let conf_path = pg.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path)?;
        text.push_str(&conf);
        std::fs::write(&conf_path, text)?;
        let log = pg.socket_dir().join("server.log");
        let started = run(pg
            .program("pg_ctl")
            .arg("-D")
            .arg(&pg.data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "start"]));
        if let Err(e) = started {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            // Nothing to stop: keep Drop from trying.
            pg.as_postgres = false;
            pg.data = PathBuf::new();
            return Err(PrivatePgError::Program {
                program: "pg_ctl start".into(),
                output: format!("{e}\n{log}"),
            });
        }
        Ok(pg)
    }

    /// A URL to `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("{}{db}", self.base)
    }

    fn socket_dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    /// One of PostgreSQL's programs, run as `postgres` when the tests run as root.
    fn program(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.data.as_os_str().is_empty() {
            return;
        }
        let _ = self
            .program("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `c`; its output when it fails.
fn run(c: &mut Command) -> Result<(), PrivatePgError> {
    let o = c.output()?;
    if o.status.success() {
        Ok(())
    } else {
        Err(PrivatePgError::Program {
            program: format!("{c:?}"),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        })
    }
}
