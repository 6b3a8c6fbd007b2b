//! A real Prometheus (Debian's `prometheus` package) for tests: a metrics endpoint serving
//! counters that grow by a fixed amount per scrape, the server itself scraping it every second
//! (optionally evaluating rule files every second too), and a query helper. Shared by the CLI
//! tests of `compare prometheus --watch` and `alerts`.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Production's 500s per thousand requests on every route of [`MetricsServer`].
pub const PRODUCTION_PER_MILLE: u64 = 20;

/// Serves `/metrics`: each scrape adds 1,000 requests per environment and route to
/// `http_requests_total{environment, handler, code}`, of which production answers
/// [`PRODUCTION_PER_MILLE`] with 500 and staging the route's own share.
pub struct MetricsServer {
    /// The loopback port it listens on.
    pub port: u16,
    scrapes: Arc<AtomicU64>,
}

impl MetricsServer {
    /// Starts serving; `routes` gives each route's staging 500s per thousand.
    pub fn start(routes: &[(&str, u64)]) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let scrapes = Arc::new(AtomicU64::new(0));
        let counted = scrapes.clone();
        let routes: Vec<(String, u64)> = routes.iter().map(|(r, n)| (r.to_string(), *n)).collect();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(s) = stream else { continue };
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                let _ = answer(s, &body(&routes, n));
            }
        });
        Ok(MetricsServer { port, scrapes })
    }

    /// Scrapes so far.
    pub fn scrapes(&self) -> u64 {
        self.scrapes.load(Ordering::SeqCst)
    }

    /// Waits until the endpoint has been scraped `n` times. Panics past `deadline`, which only
    /// ends a hang; `log` says why (Prometheus' own log).
    #[allow(clippy::panic)] // a test helper: the panic is the test's failure
    pub fn wait_scrapes(&self, n: u64, deadline: Instant, log: impl Fn() -> String) {
        while self.scrapes() < n {
            if Instant::now() >= deadline {
                panic!("Prometheus never scraped the target:\n{}", log());
            }
            #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn body(routes: &[(String, u64)], n: u64) -> String {
    let mut body = String::from("# TYPE http_requests counter\n");
    for (route, staging) in routes {
        for (env, per_mille) in [("production", PRODUCTION_PER_MILLE), ("staging", *staging)] {
            let errors = n * per_mille;
            for (code, v) in [("200", n * 1000 - errors), ("500", errors)] {
                body.push_str(&format!(
                    "http_requests_total{{environment=\"{env}\",handler=\"{route}\",code=\"{code}\"}} {v}\n"
                ));
            }
        }
    }
    body
}

fn answer(s: TcpStream, body: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        line.clear();
    }
    let mut s = s;
    write!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A Prometheus process in a folder of its own, killed when dropped.
pub struct Prometheus {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Prometheus {
    /// Starts `server` scraping `127.0.0.1:target` every second (labels honoured), and
    /// evaluating `rule_files` (paths) every second.
    pub fn start(server: &Path, target: u16, rule_files: &[&Path]) -> std::io::Result<Prometheus> {
        Self::start_scraping(server, &[target], rule_files)
    }

    /// [`Prometheus::start`] scraping every port of `targets` (one job, labels honoured): a
    /// fleet of instances whose series Prometheus sums.
    pub fn start_scraping(
        server: &Path,
        targets: &[u16],
        rule_files: &[&Path],
    ) -> std::io::Result<Prometheus> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("prometheus.yml");
        let targets: Vec<String> = targets.iter().map(|t| format!("'127.0.0.1:{t}'")).collect();
        let targets = targets.join(", ");
        let rules: String = rule_files
            .iter()
            .map(|p| format!("  - '{}'\n", p.display()))
            .collect();
        let rules = if rules.is_empty() {
            String::new()
        } else {
            format!("rule_files:\n{rules}")
        };
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n{rules}\
                 scrape_configs:\n  - job_name: web\n    honor_labels: true\n    \
                 static_configs:\n      - targets: [{targets}]\n"
            ),
        )?;
        let port = crate::process::free_port()?;
        let log = std::fs::File::create(dir.path().join("prometheus.log"))?;
        let child = Command::new(server)
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--config.file={}", config.display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        Ok(Prometheus {
            child,
            dir,
            port,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Its folder (for files a test writes beside it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET /api/v1/<path_and_query>` (query already percent-encoded): the JSON answer, or
    /// `None` when the server does not answer (yet) or answers something else.
    pub fn api(&self, path_and_query: &str) -> Option<serde_json::Value> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        // HTTP/1.0, so that the answer is never chunked.
        write!(
            s,
            "GET /api/v1/{path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let (_, body) = out.split_once("\r\n\r\n")?;
        serde_json::from_str(body).ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
