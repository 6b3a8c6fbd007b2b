//! How the client behaves: timeouts, retries, churn, slow readers, think time, held connections.
use std::time::Duration;

use serde::Serialize;

use super::failure::{ErrorKind, RequestError};
use crate::schedule::exp1;

/// Which failures a client retries.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RetryOn {
    /// Any 5xx status.
    pub server_errors: bool,
    /// These statuses too (e.g. 429).
    pub statuses: Vec<u16>,
    pub timeout: bool,
    /// Refused or failed connections (including TLS).
    pub connect: bool,
    /// Connections that broke mid-request (resets, early close, garbage).
    pub io: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Backoff {
    None,
    Fixed {
        #[serde(with = "secs")]
        delay: Duration,
    },
    /// base × 2^(retry−1), capped at `max`; with jitter, a uniform draw in [0, that] ("full
    /// jitter", so a storm does not retry in lockstep).
    Exponential {
        #[serde(with = "secs")]
        base: Duration,
        #[serde(with = "secs")]
        max: Duration,
        jitter: bool,
    },
}

/// A client retry policy; `max_attempts` 1 means no retries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub on: RetryOn,
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 1,
            on: RetryOn::default(),
            backoff: Backoff::None,
        }
    }
}

impl RetryPolicy {
    pub fn retries_status(&self, status: u16) -> bool {
        (self.on.server_errors && (500..600).contains(&status))
            || self.on.statuses.contains(&status)
    }

    pub fn retries_error(&self, e: &RequestError) -> bool {
        match e.kind() {
            ErrorKind::Timeout => self.on.timeout,
            ErrorKind::Connect | ErrorKind::Tls => self.on.connect,
            ErrorKind::Io | ErrorKind::Protocol => self.on.io,
        }
    }

    /// Delay before retry number `retry` (1 = first retry).
    pub fn delay(&self, retry: u32, rng: &mut fastrand::Rng) -> Duration {
        match &self.backoff {
            Backoff::None => Duration::ZERO,
            Backoff::Fixed { delay } => *delay,
            Backoff::Exponential { base, max, jitter } => {
                let exp = retry.saturating_sub(1).min(30);
                let d = base.saturating_mul(1u32 << exp).min(*max);
                if *jitter { d.mul_f64(rng.f64()) } else { d }
            }
        }
    }
}

/// Pause between a response and the next request on the same slot.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ThinkTime {
    #[default]
    None,
    Fixed {
        #[serde(with = "secs")]
        delay: Duration,
    },
    Uniform {
        #[serde(with = "secs")]
        min: Duration,
        #[serde(with = "secs")]
        max: Duration,
    },
    Exponential {
        #[serde(with = "secs")]
        mean: Duration,
    },
}

impl ThinkTime {
    pub fn draw(&self, rng: &mut fastrand::Rng) -> Duration {
        match self {
            ThinkTime::None => Duration::ZERO,
            ThinkTime::Fixed { delay } => *delay,
            ThinkTime::Uniform { min, max } => {
                let span = max.saturating_sub(*min);
                *min + span.mul_f64(rng.f64())
            }
            ThinkTime::Exponential { mean } => mean.mul_f64(exp1(rng).min(50.0)),
        }
    }
}

/// Connections opened at the start and kept open, idle, for the whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HeldConnections {
    /// Idle keep-alive connections per target.
    pub idle: usize,
    /// Open a replacement when the server closes one.
    pub reopen: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientOptions {
    /// Whole request: connecting, sending, and reading the full response.
    #[serde(with = "secs")]
    pub timeout: Duration,
    #[serde(with = "secs")]
    pub connect_timeout: Duration,
    /// Share of requests sent on a fresh connection that is closed afterwards.
    pub churn: f64,
    /// Share of requests whose response is read slowly.
    pub slow_readers: f64,
    /// Read speed of slow readers, bytes per second.
    pub slow_read_bytes_per_second: u64,
    pub retry: RetryPolicy,
    pub think_time: ThinkTime,
    pub held: HeldConnections,
    /// Headers added to every request unless the template sets them.
    pub headers: Vec<(String, String)>,
    /// Extra CA certificate (PEM) for https targets.
    #[serde(skip)]
    pub ca_file: Option<std::path::PathBuf>,
    /// HTTP/2 (`--http2`): h2c to `http://` targets, h2 by ALPN to `https://` ones; each target
    /// gets one connection carrying every request as a stream.
    pub http2: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            churn: 0.0,
            slow_readers: 0.0,
            slow_read_bytes_per_second: 1024,
            retry: RetryPolicy::default(),
            think_time: ThinkTime::None,
            held: HeldConnections::default(),
            headers: vec![(
                "user-agent".into(),
                concat!("prodlike-load/", env!("CARGO_PKG_VERSION")).into(),
            )],
            ca_file: None,
            http2: false,
        }
    }
}

pub(crate) mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 5,
            on: RetryOn {
                server_errors: true,
                ..Default::default()
            },
            backoff: Backoff::Exponential {
                base: Duration::from_millis(100),
                max: Duration::from_millis(350),
                jitter: false,
            },
        };
        let mut rng = fastrand::Rng::with_seed(1);
        let d: Vec<u128> = (1..=4).map(|r| p.delay(r, &mut rng).as_millis()).collect();
        assert_eq!(d, vec![100, 200, 350, 350]);
        assert!(p.retries_status(503) && !p.retries_status(404));
        assert!(!p.retries_error(&RequestError::Timeout));
        let jitter = Backoff::Exponential {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            jitter: true,
        };
        let p = RetryPolicy {
            backoff: jitter,
            ..p
        };
        for r in 1..5 {
            assert!(p.delay(r, &mut rng) <= Duration::from_millis(100 << (r - 1)));
        }
    }

    #[test]
    fn think_times_stay_in_range() {
        let mut rng = fastrand::Rng::with_seed(2);
        let u = ThinkTime::Uniform {
            min: Duration::from_millis(10),
            max: Duration::from_millis(20),
        };
        for _ in 0..100 {
            let d = u.draw(&mut rng);
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
        }
        let e = ThinkTime::Exponential {
            mean: Duration::from_millis(10),
        };
        let mean: f64 = (0..20_000)
            .map(|_| e.draw(&mut rng).as_secs_f64())
            .sum::<f64>()
            / 20_000.0;
        assert!((mean - 0.010).abs() < 0.0006, "{mean}");
    }
}
