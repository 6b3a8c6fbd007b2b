//! `compare prometheus --watch`: prodlike-compare's watch loop over Prometheus, stopped by
//! Ctrl-C/SIGTERM or `--until diverged`, then the full comparison of the watched window.
use std::time::Duration;

use prodlike_compare::prometheus::{Prepared, PrometheusCounts};
use prodlike_compare::watch::{self, Snapshot, Stopped, Watcher};
use prodlike_results::compare::CompareReport;

/// Watches until stopped, then compares the watched window in full.
pub async fn watch(
    prepared: Prepared,
    interval: Duration,
    until_diverged: bool,
    looks_to_stderr: bool,
) -> anyhow::Result<CompareReport> {
    let mut watcher = Watcher::new(prepared.watch_spec())?;
    let (stopped, start) = {
        let mut source = PrometheusCounts::start(&prepared).await?;
        let start = source.started();
        eprintln!(
            "watching every {}s{}; Ctrl-C compares the watched window",
            interval.as_secs(),
            if until_diverged {
                ", until a route diverges"
            } else {
                ""
            }
        );
        let stopped = watch::run(
            &mut watcher,
            &mut source,
            interval,
            until_diverged,
            stop_signal(),
            |snapshots| {
                for line in changes(snapshots) {
                    if looks_to_stderr {
                        eprintln!("{line}");
                    } else {
                        println!("{line}");
                    }
                }
            },
        )
        .await?;
        (stopped, start)
    };
    match &stopped {
        Stopped::Signal => eprintln!("stopped; comparing the watched window"),
        Stopped::Diverged(route) => {
            eprintln!("{route} diverged; comparing the watched window")
        }
    }
    Ok(prodlike_compare::prometheus::compare(&prepared.watched(start)).await?)
}

/// One line per route whose verdict changed at this look.
fn changes(snapshots: &[Snapshot]) -> impl Iterator<Item = String> + '_ {
    snapshots.iter().filter(|s| s.changed).map(|s| {
        let (p, st) = (s.counts.production, s.counts.staging);
        format!(
            "look {}: {} {} (staging − production in [{:+.4}, {:+.4}]; production {}/{}, \
             staging {}/{} errors)",
            s.state.looks,
            s.route,
            s.state.verdict.as_str(),
            s.state.lower,
            s.state.upper,
            p.errors,
            p.requests,
            st.errors,
            st.requests
        )
    })
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
