//! A time limit on a future that stays where it is pinned.
//!
//! `tokio::time::timeout` takes its future by value, so a large future is copied into the
//! wrapper and again wherever the wrapper is awaited. A proxied request's exchange is large,
//! and callgrind counted those copies among the largest costs of a request; here only a
//! pointer moves.
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

/// Polls `fut` until it finishes (`Some`) or `limit` has passed (`None`).
pub async fn within<F: Future>(limit: Duration, mut fut: Pin<&mut F>) -> Option<F::Output> {
    let mut sleep = std::pin::pin!(tokio::time::sleep(limit));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        sleep.as_mut().poll(cx).map(|()| None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    // Deadlines, not durations, decide these: the limit's is always the earlier one.
    #[tokio::test]
    async fn finishes_or_runs_out() {
        let quick = std::pin::pin!(async { 7 });
        assert_eq!(within(Duration::from_secs(3600), quick).await, Some(7));
        let never = std::pin::pin!(std::future::pending::<u8>());
        assert_eq!(within(Duration::from_millis(20), never).await, None);
        let late = std::pin::pin!(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            1
        });
        assert_eq!(within(Duration::from_millis(20), late).await, None);
    }
}
