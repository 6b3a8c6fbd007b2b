//! Throwaway MariaDB/MySQL databases on the local server (127.0.0.1:3306, root, empty password):
//! each test creates its own uniquely named database and drops it afterwards, so tests run in
//! parallel against the one server.
use mysql_async::prelude::Queryable;

/// The local server; tests never use another address.
pub const SERVER_URL: &str = "mysql://root@127.0.0.1:3306";

#[derive(Debug, thiserror::Error)]
#[error("MariaDB at {SERVER_URL}")]
pub struct MysqlError(#[from] mysql_async::Error);

/// A database that exists until this value is dropped.
#[derive(Debug)]
pub struct TempMysql {
    pub name: String,
    /// `mysql://root@127.0.0.1:3306/<name>`.
    pub url: String,
}

impl TempMysql {
    /// Creates `prodlike_<label>_<pid>_<n>`. Returns `None` (after the guard's SKIP, or a CI
    /// failure) when the server is not running.
    pub async fn create(label: &str) -> Option<TempMysql> {
        if !crate::require::mysql() {
            return None;
        }
        match Self::try_create(label).await {
            Ok(db) => Some(db),
            Err(e) => {
                crate::require::missing("a usable MariaDB", &e.to_string());
                None
            }
        }
    }

    async fn try_create(label: &str) -> Result<TempMysql, MysqlError> {
        let name = crate::unique_name::database_name(label, 24);
        let mut conn = server().await?;
        conn.query_drop(format!("CREATE DATABASE `{name}`")).await?;
        let _ = conn.disconnect().await;
        Ok(TempMysql {
            url: format!("{SERVER_URL}/{name}"),
            name,
        })
    }

    /// A connection to this database.
    pub async fn connect(&self) -> Result<mysql_async::Conn, MysqlError> {
        Ok(mysql_async::Conn::from_url(&self.url).await?)
    }

    /// Runs `sql` (statements separated by `;`) in this database.
    pub async fn execute(&self, sql: &str) -> Result<(), MysqlError> {
        let mut conn = self.connect().await?;
        conn.query_drop(sql).await?;
        let _ = conn.disconnect().await;
        Ok(())
    }
}

/// A connection to the server without a default database.
pub async fn server() -> Result<mysql_async::Conn, MysqlError> {
    Ok(mysql_async::Conn::from_url(SERVER_URL).await?)
}

impl Drop for TempMysql {
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
                if let Ok(mut conn) = server().await {
                    let _ = conn
                        .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                        .await;
                    let _ = conn.disconnect().await;
                }
            });
        })
        .join();
    }
}
