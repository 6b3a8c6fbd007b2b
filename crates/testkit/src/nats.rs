//! NATS for tests: unique subject and stream names, a guard that deletes a test's stream from
//! the shared server when the test ends (passed or not), and a private `nats-server` of the
//! test's own, which a fault test may kill and restart on the same port and store folder (the
//! machine's shared server is never stopped: ../shared/DECISIONS.md).
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::process::{free_port, wait_for_port};
use crate::require;

/// The shared NATS server's address.
pub const SHARED: &str = "127.0.0.1:4222";

/// A name no other test run uses: `prefix`, the process id, the time and a counter, joined
/// with `sep` (`.` for subjects, `_` for stream names).
pub fn unique(prefix: &str, sep: char) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!(
        "{prefix}{sep}{}{sep}{nanos}{sep}{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `work` on a runtime of its own, on a thread of its own (callers may be inside a test's
/// runtime, where blocking on another is not allowed).
fn blocking<T: Send>(work: impl std::future::Future<Output = T> + Send) -> Option<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
                .map(|rt| rt.block_on(work))
        })
        .join()
        .ok()
        .flatten()
    })
}

/// A stored message: its payload, and its headers as (name, value) text pairs.
pub type RawMessage = (Vec<u8>, Vec<(String, String)>);

/// Deletes stream `name` on `server` when dropped.
pub struct StreamGuard {
    pub server: String,
    pub name: String,
}

impl StreamGuard {
    pub fn new(server: &str, name: &str) -> StreamGuard {
        StreamGuard {
            server: server.to_string(),
            name: name.to_string(),
        }
    }

    /// The number of messages the stream holds now (None: no such stream, or no server).
    pub fn messages(&self) -> Option<u64> {
        let (server, name) = (self.server.clone(), self.name.clone());
        blocking(async move {
            let client = async_nats::connect(server).await.ok()?;
            let js = async_nats::jetstream::new(client);
            let mut stream = js.get_stream(&name).await.ok()?;
            Some(stream.info().await.ok()?.state.messages)
        })
        .flatten()
    }

    /// The stream's raw messages: payload and headers as text pairs, in stream order.
    pub fn raw_messages(&self) -> Vec<RawMessage> {
        let (server, name) = (self.server.clone(), self.name.clone());
        blocking(async move {
            let client = async_nats::connect(server).await.ok()?;
            let js = async_nats::jetstream::new(client);
            let stream = js.get_stream(&name).await.ok()?;
            let mut out = Vec::new();
            let mut seq = 1u64;
            let last = stream.get_info().await.ok()?.state.last_sequence;
            while seq <= last {
                if let Ok(m) = stream.get_raw_message(seq).await {
                    let headers = m
                        .headers
                        .iter()
                        .flat_map(|(k, vs)| {
                            vs.iter()
                                .map(|v| (k.to_string(), v.to_string()))
                                .collect::<Vec<_>>()
                        })
                        .collect();
                    out.push((m.payload.to_vec(), headers));
                }
                seq += 1;
            }
            Some(out)
        })
        .flatten()
        .unwrap_or_default()
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        blocking(async move {
            if let Ok(client) = async_nats::connect(server).await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(&name)
                    .await;
            }
        });
    }
}

/// A `nats-server -js` of the test's own on a free port, storing into a temporary folder.
pub struct PrivateNats {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateNats {
    /// Starts one; None (after `require::missing`) when nats-server is not installed or does
    /// not start.
    pub fn start() -> Option<PrivateNats> {
        require::program("nats-server", "nats-server")?;
        let dir = tempfile::tempdir().ok()?;
        let port = free_port().ok()?;
        let mut n = PrivateNats {
            port,
            dir,
            child: None,
        };
        if !n.restart() {
            require::missing("a private nats-server", "nats-server -js did not start");
            return None;
        }
        Some(n)
    }

    /// `host:port`.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL: an outage, not a shutdown).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port and store folder; true once it listens.
    pub fn restart(&mut self) -> bool {
        self.kill();
        let child = Command::new("nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match child {
            Ok(c) => {
                self.child = Some(c);
                wait_for_port(self.port)
            }
            Err(_) => false,
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.kill();
    }
}
