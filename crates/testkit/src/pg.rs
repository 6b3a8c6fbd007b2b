//! Throwaway PostgreSQL databases: each test creates its own uniquely named database and drops
//! it afterwards, so tests run in parallel against the one local server.
use tokio_postgres::NoTls;

/// Where the local server listens; tests never use another address.
pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("PostgreSQL at {ADMIN_URL}")]
    Postgres(#[from] tokio_postgres::Error),
    /// A script the test loads (`crate::realworld`).
    #[error("reading {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A database that exists until this value is dropped.
#[derive(Debug)]
pub struct TempDatabase {
    pub name: String,
    pub url: String,
}

impl TempDatabase {
    /// Creates `prodlike_<label>_<pid>_<n>`. Returns `None` (after the guard's SKIP, or a CI
    /// failure) when PostgreSQL is not running.
    pub async fn create(label: &str) -> Option<TempDatabase> {
        if !crate::require::postgres() {
            return None;
        }
        match Self::try_create(label).await {
            Ok(db) => Some(db),
            Err(e) => {
                crate::require::missing("a usable PostgreSQL", &e.to_string());
                None
            }
        }
    }

    async fn try_create(label: &str) -> Result<TempDatabase, PgError> {
        let name = crate::unique_name::database_name(label, 30);
        let client = admin_client().await?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        Ok(TempDatabase {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            name,
        })
    }

    /// A connected client to this database.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, PgError> {
        connect(&self.url).await
    }
}

/// Connects and drives the connection on the current runtime.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client, PgError> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

async fn admin_client() -> Result<tokio_postgres::Client, PgError> {
    connect(ADMIN_URL).await
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // Drop may run inside or outside a runtime; a private thread with its own runtime works
        // in both cases.
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(client) = admin_client().await {
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}
