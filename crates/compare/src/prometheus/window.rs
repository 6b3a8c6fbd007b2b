//! The window compared (`--window 1h`, or `--start`/`--end` as RFC 3339 or Unix seconds) and the
//! step of the request-rate curve, chosen so that no series needs more than Prometheus' 11,000
//! points per query.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prodlike_common::date;

use crate::error::CompareError;

/// Prometheus refuses a range query of more than 11,000 points per series.
pub const MAX_POINTS: u64 = 11_000;
/// The curve's interval when the spec sets none.
const DEFAULT_STEP: u64 = 60;

/// The compared window, in whole Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub end: u64,
}

impl Window {
    /// From the flags; `now` is the current Unix time in seconds.
    pub fn from_flags(
        window: Option<&str>,
        start: Option<&str>,
        end: Option<&str>,
        now: u64,
    ) -> Result<Window, CompareError> {
        let length = window
            .map(|w| {
                prodlike_common::duration::parse(w).map_err(|e| CompareError::Flag {
                    flag: "--window",
                    problem: e.to_string(),
                })
            })
            .transpose()?;
        let start = start.map(|s| instant("--start", s)).transpose()?;
        let end = end.map(|s| instant("--end", s)).transpose()?;
        let secs = |d: Duration| d.as_secs().max(1);
        let (start, end) = match (length, start, end) {
            (Some(_), Some(_), Some(_)) => {
                return Err(CompareError::Flag {
                    flag: "--window",
                    problem: "give --window, or --start and --end, not all three".into(),
                });
            }
            (Some(_), Some(_), None) => {
                return Err(CompareError::Flag {
                    flag: "--window",
                    problem: "give --window alone (ending now), with --end, or give --start \
                              and --end"
                        .into(),
                });
            }
            (Some(w), None, end) => {
                let end = end.unwrap_or(now);
                (end.saturating_sub(secs(w)), end)
            }
            (None, Some(s), end) => (s, end.unwrap_or(now)),
            (None, None, Some(_)) => {
                return Err(CompareError::Flag {
                    flag: "--end",
                    problem: "give --start or --window with --end".into(),
                });
            }
            (None, None, None) => (now.saturating_sub(3600), now),
        };
        if end <= start {
            return Err(CompareError::Flag {
                flag: "--end",
                problem: format!(
                    "the window ends ({}) at or before it starts ({})",
                    rfc3339(end),
                    rfc3339(start)
                ),
            });
        }
        Ok(Window { start, end })
    }

    /// Seconds in the window.
    pub fn seconds(&self) -> u64 {
        self.end - self.start
    }

    /// The window as a PromQL range, `[3600s]`.
    pub fn range(&self) -> String {
        format!("[{}s]", self.seconds())
    }

    /// The step of the request-rate curve: the spec's (or one minute), raised to at least two
    /// scrape intervals (a shorter `increase` window may hold a single sample and read 0) and
    /// to the least that keeps the curve under [`MAX_POINTS`]; never longer than the window.
    pub fn step(&self, requested: Option<Duration>, scrape_interval: Option<f64>) -> u64 {
        let mut step = requested
            .map(|d| d.as_secs().max(1))
            .unwrap_or(DEFAULT_STEP);
        if let Some(s) = scrape_interval.filter(|s| s.is_finite() && *s > 0.0) {
            step = step.max((2.0 * s).ceil() as u64);
        }
        let points_floor = self.seconds().div_ceil(MAX_POINTS - 1);
        step.max(points_floor).min(self.seconds()).max(1)
    }
}

/// The current Unix time in seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An instant as RFC 3339 (`2026-12-04T10:00:00Z`) or Unix seconds (`1764842400`).
fn instant(flag: &'static str, text: &str) -> Result<u64, CompareError> {
    date::parse_instant_micros(text)
        .map(|us| us / 1_000_000)
        .ok_or_else(|| CompareError::Flag {
            flag,
            problem: format!(
                "`{text}` is not a time; write RFC 3339 (2026-12-04T10:00:00Z) or Unix seconds"
            ),
        })
}

/// Unix seconds as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let mut out = String::with_capacity(20);
    date::write_ymd(days, &mut out);
    out.push_str(&format!(
        "T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_give_the_window() {
        let w = Window::from_flags(Some("1h"), None, None, 10_000).ok();
        assert_eq!(
            w,
            Some(Window {
                start: 6400,
                end: 10_000
            })
        );
        let w = Window::from_flags(None, Some("1970-01-01T01:00:00Z"), Some("7200"), 0).ok();
        assert_eq!(
            w,
            Some(Window {
                start: 3600,
                end: 7200
            })
        );
        assert!(Window::from_flags(None, Some("7200"), Some("3600"), 0).is_err());
        assert!(Window::from_flags(None, Some("yesterday"), None, 0).is_err());
        assert_eq!(rfc3339(86_400 + 3661), "1970-01-02T01:01:01Z");
    }

    #[test]
    fn the_step_keeps_a_series_under_the_point_limit() {
        let w = Window {
            start: 0,
            end: 30 * 86_400,
        };
        let step = w.step(Some(Duration::from_secs(15)), Some(15.0));
        assert!(w.seconds() / step < MAX_POINTS, "{step}");
        let short = Window {
            start: 0,
            end: 3600,
        };
        assert_eq!(short.step(None, Some(15.0)), 60);
        assert_eq!(short.step(Some(Duration::from_secs(10)), Some(30.0)), 60);
    }
}
