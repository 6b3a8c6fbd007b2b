//! The mirror's threads run at a lower CPU priority than production's.
//!
//! Copies, comparisons, the admin server and its dashboard are best-effort; production is not.
//! When the host's cores are busy, the scheduler should run production's threads first and
//! the mirror in the gaps, so that a copy waits (or, once the queue is full, is dropped and
//! counted) rather than a production request. Measured on a 2-core host with
//! ../shared/bench/shadow-vs-nginx.sh's 5%-to-a-healthy-staging front: at nice 10 production
//! served more requests with a lower p99 than at nice 0, and every sampled copy was still
//! compared (docs/shadow.md, "CPU priority").

/// Raises the calling thread's nice value to `nice` (0 leaves it as it is). A failure is
/// logged, not fatal: the mirror then merely competes on equal terms.
pub fn lower_current_thread(nice: i32) {
    if nice == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // On Linux a thread id names one thread for setpriority(PRIO_PROCESS, …).
        let tid = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(tid), nice) {
            tracing::warn!(%error, nice, "could not lower the mirror thread's CPU priority");
        }
    }
    #[cfg(not(target_os = "linux"))]
    tracing::debug!(nice, "per-thread CPU priority is only set on Linux");
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn only_the_calling_thread_is_lowered() {
        let before = rustix::process::getpriority_process(None).unwrap_or(0);
        let lowered = std::thread::spawn(|| {
            lower_current_thread(7);
            rustix::process::getpriority_process(Some(rustix::thread::gettid()))
        })
        .join();
        assert!(matches!(lowered, Ok(Ok(7))), "{lowered:?}");
        let after = rustix::process::getpriority_process(Some(rustix::thread::gettid()));
        assert_eq!(
            after.ok(),
            Some(before),
            "the test's own thread is untouched"
        );
    }
}
