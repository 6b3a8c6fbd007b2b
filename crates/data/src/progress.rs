//! Progress bars on stderr (hidden when stderr is not a terminal or when turned off).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One bar per table under a shared multi-bar.
#[derive(Clone)]
pub struct Progress {
    multi: MultiProgress,
}

impl Progress {
    pub fn new(visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
        }
    }

    /// A bar for `label` expecting about `total` rows.
    pub fn bar(&self, label: &str, total: u64) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(total));
        let style = ProgressStyle::with_template(
            "{prefix:>18} [{bar:30}] {human_pos:>10}/{human_len:10} {per_sec:>12} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.chars().take(18).collect::<String>());
        bar
    }
}
