//! The one NATS connection setup, shared by the capture sink (shadow) and the replay reader
//! (load): credentials file read before anything connects, a client name, reconnecting forever
//! with a short capped backoff, and connection events passed to the caller.
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};

use super::NatsError;

/// Longest wait between two reconnect attempts: an outage's end is noticed within it.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// How to reach a server.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// `host:port`.
    pub server: String,
    /// A `.creds` file (JWT and nkey seed); none connects without credentials.
    pub credentials: Option<PathBuf>,
    /// The name the server shows for this connection (`prodlike shadow capture`).
    pub name: String,
}

/// The connect options, credentials read now so that a missing or malformed file is an error
/// at start-up, before any side effect.
pub fn options(settings: &ConnectSettings) -> Result<ConnectOptions, NatsError> {
    let base = match &settings.credentials {
        Some(path) => credentials(path)?,
        None => ConnectOptions::new(),
    };
    Ok(base
        .name(settings.name.clone())
        .connection_timeout(Duration::from_secs(2))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            // Immediately, then 100 ms steps up to the cap: a restarted server is found fast,
            // and a server that stays down costs one connect attempt a second.
            MAX_RECONNECT_DELAY.min(Duration::from_millis(
                100 * attempts.saturating_sub(1) as u64,
            ))
        }))
}

fn credentials(path: &Path) -> Result<ConnectOptions, NatsError> {
    let text = std::fs::read_to_string(path).map_err(|source| NatsError::Credentials {
        path: path.to_path_buf(),
        source,
    })?;
    ConnectOptions::with_credentials(&text).map_err(|source| NatsError::Credentials {
        path: path.to_path_buf(),
        source,
    })
}

/// Connects now; fails when the server cannot be reached (the replay reader: there is nothing
/// to replay without it).
pub async fn connect(settings: &ConnectSettings) -> Result<Client, NatsError> {
    options(settings)?
        .connect(settings.server.as_str())
        .await
        .map_err(|source| NatsError::Connect {
            server: settings.server.clone(),
            source,
        })
}

/// Returns at once and connects in the background, reconnecting forever; `on_event` hears of
/// every connect and disconnect (the capture sink: production must not wait for NATS, at
/// start-up or later).
pub async fn connect_in_background(
    settings: &ConnectSettings,
    on_event: impl Fn(Event) + Send + Sync + 'static,
) -> Result<Client, NatsError> {
    let on_event = std::sync::Arc::new(on_event);
    options(settings)?
        .retry_on_initial_connect()
        .event_callback(move |event| {
            let on_event = on_event.clone();
            async move { on_event(event) }
        })
        .connect(settings.server.as_str())
        .await
        .map_err(|source| NatsError::Connect {
            server: settings.server.clone(),
            source,
        })
}
