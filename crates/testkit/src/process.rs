//! Helpers for tests that run the `prodlike` binary as a process: a free loopback port, waiting
//! for a port to listen (polling a condition, never timing), a plain HTTP/1.1 GET, SIGTERM, and
//! an output's text. One copy here instead of one per CLI test file.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Output};
use std::time::Duration;

/// A loopback port free at the time of asking (the OS picks it).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Polls until something accepts connections on `port`; false if nothing did within about ten
/// seconds of polling (the caller fails its test with its own message).
pub fn wait_for_port(port: u16) -> bool {
    for _ in 0..1000 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// One HTTP/1.1 GET on loopback with `connection: close`: the whole answer, head and body, or
/// an empty string when nothing listens or the exchange fails.
pub fn http_get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let request = format!("GET {path} HTTP/1.1\r\nhost: shop.test\r\nconnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Sends SIGTERM to `child` (a graceful stop, as an operator's `kill` would).
pub fn terminate(child: &Child) -> std::io::Result<ExitStatus> {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
}

/// A finished process's stdout then stderr, as text.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
