//! Live progress: an indicatif bar on a terminal; on anything else, a plain line every 10 s.
use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::Live;

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    last_plain: Instant,
}

impl Progress {
    /// `enabled` false: silent (e.g. `--quiet`, JSON on stdout).
    pub fn new(enabled: bool) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (enabled && tty).then(|| {
            let b =
                ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr_with_hz(4));
            let style = ProgressStyle::with_template("{spinner} [{bar:30}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            b.set_style(style);
            b
        });
        Progress {
            bar,
            plain: enabled && !tty,
            last_plain: Instant::now(),
        }
    }

    fn line(l: &Live) -> String {
        let target = l
            .target_rate
            .map(|t| format!("/{t:.0}"))
            .unwrap_or_default();
        let p99 = l
            .p99_ms
            .map(|p| format!("{p:.1}ms"))
            .unwrap_or_else(|| "-".into());
        format!(
            "{:>6.1}s{}  rate {}{target}/s  p99 {p99}  done {}  errors {}  drops {}  retries {}  in flight {}",
            l.elapsed_s.max(0.0),
            l.total_s.map(|t| format!("/{t:.0}s")).unwrap_or_default(),
            l.rate,
            l.completed,
            l.failed,
            l.dropped,
            l.retries,
            l.in_flight
        )
    }

    pub fn update(&mut self, l: &Live) {
        if let Some(b) = &self.bar {
            if let Some(total) = l.total_s.filter(|t| *t > 0.0) {
                b.set_position(((l.elapsed_s / total).clamp(0.0, 1.0) * 1000.0) as u64);
            }
            b.set_message(Self::line(l));
        } else if self.plain && self.last_plain.elapsed().as_secs() >= 10 {
            self.last_plain = Instant::now();
            eprintln!("{}", Self::line(l));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
