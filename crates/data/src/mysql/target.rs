//! Loading a MySQL or MariaDB target atomically.
//!
//! A staging database `prodlike_load_<tag>_<id>` (`<tag>`: a hash of the target's name, so runs
//! against other databases of the server keep their own) gets the source's tables
//! (`SHOW CREATE TABLE`, so types, keys, indexes, foreign keys, checks, collations and the
//! AUTO_INCREMENT position come as they are), then the rows, one `LOAD DATA LOCAL INFILE`
//! stream per table (measured faster than multi-row `INSERT`s: `bench/data-vs-mysqldump.sh`
//! and docs/data.md). Foreign keys are not checked while rows land (`foreign_key_checks = 0`);
//! before the swap every key is checked with one anti-join per key, and one orphan aborts the
//! load. Then one `RENAME TABLE` moves every table of the target into `prodlike_old_<tag>_<id>`
//! and every loaded table into the target, in one statement: a reader sees the old tables or
//! the new ones, never a mix.
//!
//! `RENAME TABLE` cannot move a table that has triggers to another database, nor move views or
//! routines at all: the target's triggers are dropped just before the swap, and the source's
//! views, triggers and routines are made in the target right after it (listed in the result's
//! `recreated_after_swap`; what the server refuses is listed as not copied, with its reason).
//! A `GET_LOCK` held from start to end keeps two loads of one target apart; leftovers of a
//! killed run are dropped by the next one.
use std::collections::HashMap;

use bytes::Bytes;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use prodlike_catalog::mysql::url::MysqlUrl;
use prodlike_catalog::{Catalog, FunctionKind};
use tokio::sync::mpsc;

use super::{connect, ident, literal, qualified, write_field};
use crate::error::{DataError, Result};
use crate::pg::objects::NotCopied;
use crate::row::{Batch, Field};
use crate::schema::{Schema, Table};

/// Bytes gathered before they are handed to the LOAD DATA stream.
const CHUNK: usize = 1 << 20;

/// A MySQL target being loaded.
pub struct MysqlTarget {
    url: MysqlUrl,
    admin: Conn,
    lock: String,
    load_db: String,
    old_db: String,
    /// Copy columns of each table, in order.
    columns: HashMap<String, Vec<String>>,
    /// Every foreign key between loaded tables, checked before the swap.
    foreign_keys: Vec<FkCheck>,
    /// The source's catalog: views, triggers and routines made after the swap.
    objects: Option<Catalog>,
    keep_previous: bool,
}

/// A foreign key to check over the loaded rows.
struct FkCheck {
    child: String,
    name: String,
    columns: Vec<String>,
    parent: String,
    parent_columns: Vec<String>,
}

/// A short stable tag of the target database's name.
fn tag(database: &str) -> String {
    blake3::hash(database.as_bytes()).to_hex()[..8].to_string()
}

impl MysqlTarget {
    /// Locks the target, clears leftovers of interrupted runs, creates the staging database
    /// and the tables in it.
    pub async fn prepare(
        url: &MysqlUrl,
        schema: &Schema,
        tables: &[&Table],
        keep_previous: bool,
    ) -> Result<MysqlTarget> {
        if schema.engine != "mysql" {
            return Err(DataError::MysqlUnsupported {
                what: format!(
                    "loading a MySQL target from a {} source (MySQL to MySQL only)",
                    schema.engine
                ),
            });
        }
        let mut admin = connect(url).await?;
        let tag = tag(&url.database);
        let lock = format!("prodlike-data-load-{tag}");
        let locked: Option<i64> = admin
            .query_first(format!("SELECT GET_LOCK({}, 0)", literal(&lock)))
            .await
            .map_err(DataError::mysql(format!("locking {}", url.shown)))?;
        if locked != Some(1) {
            return Err(DataError::Target {
                target: url.shown.clone(),
                reason: "another prodlike sync is loading this database; wait for it to finish"
                    .into(),
            });
        }
        let stale: Vec<String> = admin
            .exec(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA \
                 WHERE SCHEMA_NAME LIKE ? OR SCHEMA_NAME LIKE ?",
                (
                    format!("prodlike\\_load\\_{tag}\\_%"),
                    format!("prodlike\\_old\\_{tag}\\_%"),
                ),
            )
            .await
            .map_err(DataError::mysql(format!(
                "listing databases of {}",
                url.shown
            )))?;
        for db in stale {
            tracing::info!("dropping leftover database {db} of an interrupted run");
            admin
                .query_drop(format!("DROP DATABASE {}", ident(&db)))
                .await
                .map_err(DataError::mysql(format!("dropping leftover database {db}")))?;
        }
        let id = format!("{:08x}", fastrand::u32(..));
        let load_db = format!("prodlike_load_{tag}_{id}");
        let old_db = format!("prodlike_old_{tag}_{id}");
        let mut target = MysqlTarget {
            url: url.clone(),
            admin,
            lock,
            load_db,
            old_db,
            columns: HashMap::new(),
            foreign_keys: Vec::new(),
            objects: None,
            keep_previous,
        };
        if let Err(e) = target.create_tables(tables).await {
            target.abort().await;
            return Err(e);
        }
        Ok(target)
    }

    async fn create_tables(&mut self, tables: &[&Table]) -> Result<()> {
        self.admin
            .query_drop(format!(
                "CREATE DATABASE {}; USE {}; SET SESSION foreign_key_checks = 0",
                ident(&self.load_db),
                ident(&self.load_db)
            ))
            .await
            .map_err(DataError::mysql(format!(
                "creating the staging database in {}",
                self.url.shown
            )))?;
        for t in tables {
            let Some(create) = &t.sqlite_sql else {
                return Err(DataError::MysqlUnsupported {
                    what: format!("table {} without its CREATE TABLE statement", t.name),
                });
            };
            self.admin
                .query_drop(create.as_str())
                .await
                .map_err(DataError::mysql(format!("creating table {}", t.name)))?;
            self.columns
                .insert(t.name.clone(), crate::target::copy_columns(t));
            for fk in &t.foreign_keys {
                if tables.iter().any(|p| p.name == fk.ref_table) {
                    self.foreign_keys.push(FkCheck {
                        child: t.name.clone(),
                        name: fk.name.clone(),
                        columns: fk.columns.clone(),
                        parent: fk.ref_table.clone(),
                        parent_columns: fk.ref_columns.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The source's views, triggers and routines, made in the target after the swap.
    pub fn recreate_after_swap(&mut self, catalog: Option<Catalog>) {
        self.objects = catalog;
    }

    /// Opens `table`'s LOAD DATA stream on a connection of its own.
    pub async fn writer(&self, table: &str) -> Result<MysqlWriter> {
        let columns = self.columns.get(table).cloned().unwrap_or_default();
        let mut conn = connect(&self.url).await?;
        conn.query_drop("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            .await
            .map_err(DataError::mysql(format!("preparing the load of {table}")))?;
        let (tx, mut rx) = mpsc::channel::<Bytes>(8);
        conn.set_infile_handler(async move {
            let stream = futures_util::stream::poll_fn(move |cx| {
                rx.poll_recv(cx)
                    .map(|chunk| chunk.map(Ok::<Bytes, std::io::Error>))
            });
            Ok(Box::pin(stream) as mysql_async::InfileData)
        });
        let cols: Vec<String> = columns.iter().map(|c| ident(c)).collect();
        let sql = format!(
            "LOAD DATA LOCAL INFILE 'prodlike-stream' INTO TABLE {} CHARACTER SET binary \
             FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({})",
            qualified(&self.load_db, table),
            cols.join(", ")
        );
        let what = format!("loading table {table}");
        let task = tokio::spawn(async move {
            let result = conn
                .query_iter(sql)
                .await
                .map_err(DataError::mysql(what.clone()));
            let outcome = match result {
                Ok(r) => {
                    let rows = r.affected_rows();
                    let warnings = r.warnings();
                    drop(r);
                    match warnings {
                        0 => Ok(rows),
                        n => Err(warnings_error(&mut conn, n, &what).await),
                    }
                }
                Err(e) => Err(e),
            };
            let _ = conn.disconnect().await;
            outcome
        });
        Ok(MysqlWriter {
            tx: Some(tx),
            buf: Vec::with_capacity(CHUNK + 64 * 1024),
            task: Some(task),
            table: table.to_owned(),
        })
    }

    /// Checks every foreign key over the loaded rows, swaps the tables in, makes the views,
    /// triggers and routines; returns what could not be made and what was made after the swap.
    pub async fn finish(mut self) -> Result<(Vec<NotCopied>, Vec<String>)> {
        let outcome = self.check_and_swap().await;
        if outcome.is_err() {
            self.abort().await;
            return outcome.map(|_| (Vec::new(), Vec::new()));
        }
        let (lost, made) = self.recreate().await;
        if !self.keep_previous {
            self.admin
                .query_drop(format!("DROP DATABASE IF EXISTS {}", ident(&self.old_db)))
                .await
                .map_err(DataError::mysql("dropping the previous contents"))?;
        }
        let _ = self
            .admin
            .query_drop(format!(
                "DROP DATABASE IF EXISTS {}; DO RELEASE_LOCK({})",
                ident(&self.load_db),
                literal(&self.lock)
            ))
            .await;
        let _ = self.admin.disconnect().await;
        Ok((lost, made))
    }

    async fn check_and_swap(&mut self) -> Result<()> {
        self.check_foreign_keys().await?;
        self.swap().await
    }

    /// One anti-join per foreign key over the loaded rows; an orphan aborts the load.
    async fn check_foreign_keys(&mut self) -> Result<()> {
        for fk in &self.foreign_keys {
            let FkCheck {
                child,
                name,
                columns: cols,
                parent,
                parent_columns: pcols,
            } = fk;
            let not_null: Vec<String> = cols
                .iter()
                .map(|c| format!("c.{} IS NOT NULL", ident(c)))
                .collect();
            let join: Vec<String> = cols
                .iter()
                .zip(pcols)
                .map(|(c, p)| format!("p.{} = c.{}", ident(p), ident(c)))
                .collect();
            let sql = format!(
                "SELECT count(*) FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})",
                qualified(&self.load_db, child),
                not_null.join(" AND "),
                qualified(&self.load_db, parent),
                join.join(" AND ")
            );
            let orphans: Option<u64> =
                self.admin
                    .query_first(sql)
                    .await
                    .map_err(DataError::mysql(format!(
                        "checking foreign key {name} of {child}"
                    )))?;
            if let Some(n) = orphans.filter(|n| *n > 0) {
                return Err(DataError::Aborted(format!(
                    "{n} rows of {child} would break foreign key {name} to {parent}"
                )));
            }
        }
        Ok(())
    }

    /// The target's triggers dropped, then one RENAME TABLE of every table both ways.
    async fn swap(&mut self) -> Result<()> {
        let target = self.url.database.clone();
        let existing: Vec<(String, String)> = self
            .admin
            .exec(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
                (target.as_str(),),
            )
            .await
            .map_err(DataError::mysql("listing the target's tables"))?;
        let triggers: Vec<String> = self
            .admin
            .exec(
                "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?",
                (target.as_str(),),
            )
            .await
            .map_err(DataError::mysql("listing the target's triggers"))?;
        let mut sql = format!(
            "CREATE DATABASE IF NOT EXISTS {}; CREATE DATABASE {};",
            ident(&target),
            ident(&self.old_db)
        );
        // Tables with triggers cannot change database: the target's go now, the source's come
        // back after the swap.
        for t in &triggers {
            sql.push_str(&format!(
                "DROP TRIGGER IF EXISTS {};",
                qualified(&target, t)
            ));
        }
        self.admin
            .query_drop(sql)
            .await
            .map_err(DataError::mysql("preparing the swap"))?;
        let mut renames: Vec<String> = existing
            .iter()
            .filter(|(_, kind)| kind != "VIEW")
            .map(|(t, _)| {
                format!(
                    "{} TO {}",
                    qualified(&target, t),
                    qualified(&self.old_db, t)
                )
            })
            .collect();
        let mut loaded: Vec<&String> = self.columns.keys().collect();
        loaded.sort();
        renames.extend(loaded.into_iter().map(|t| {
            format!(
                "{} TO {}",
                qualified(&self.load_db, t),
                qualified(&target, t)
            )
        }));
        if renames.is_empty() {
            return Ok(());
        }
        let views: Vec<String> = existing
            .into_iter()
            .filter(|(_, kind)| kind == "VIEW")
            .map(|(t, _)| t)
            .collect();
        self.admin
            .query_drop(format!("RENAME TABLE {}", renames.join(", ")))
            .await
            .map_err(DataError::mysql(format!(
                "swapping the new tables into place in {}",
                self.url.shown
            )))?;
        // The target's own views named the old tables; the source's replace them.
        if !views.is_empty() {
            let drops: Vec<String> = views.iter().map(|v| qualified(&target, v)).collect();
            let _ = self
                .admin
                .query_drop(format!("DROP VIEW IF EXISTS {}", drops.join(", ")))
                .await;
        }
        Ok(())
    }

    /// Views (in as many passes as their dependencies need), triggers and routines of the
    /// source, made in the target. A statement the server refuses is reported, not fatal: the
    /// rows are in place already.
    async fn recreate(&mut self) -> (Vec<NotCopied>, Vec<String>) {
        let mut lost = Vec::new();
        let mut made = Vec::new();
        let Some(cat) = self.objects.take() else {
            return (lost, made);
        };
        let use_target = format!("USE {}", ident(&self.url.database));
        if let Err(e) = self.admin.query_drop(use_target).await {
            lost.push(not_copied("database", &self.url.database, &e));
            return (lost, made);
        }
        // Routines first: views and triggers may call them.
        let existing: Vec<(String, String)> = self
            .admin
            .exec(
                "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?",
                (self.url.database.as_str(),),
            )
            .await
            .unwrap_or_default();
        for (name, kind) in existing {
            let _ = self
                .admin
                .query_drop(format!("DROP {kind} IF EXISTS {}", ident(&name)))
                .await;
        }
        for f in &cat.objects.functions {
            let kind = match f.kind {
                FunctionKind::Procedure => "procedure",
                _ => "function",
            };
            let Some(def) = &f.definition else {
                lost.push(NotCopied {
                    kind: kind.into(),
                    name: f.name.clone(),
                    reason: f.unwritable.clone().unwrap_or_default(),
                });
                continue;
            };
            match self.admin.query_drop(def.as_str()).await {
                Ok(()) => made.push(format!("{kind} {}", f.name)),
                Err(e) => lost.push(not_copied(kind, &f.name, &e)),
            }
        }
        let mut pending: Vec<&prodlike_catalog::View> = cat.views.iter().collect();
        let mut last_errors = HashMap::new();
        while !pending.is_empty() {
            let before = pending.len();
            let mut next = Vec::new();
            for v in pending {
                let sql = format!(
                    "CREATE OR REPLACE VIEW {} AS {}",
                    ident(&v.name),
                    v.definition
                );
                match self.admin.query_drop(sql).await {
                    Ok(()) => made.push(format!("view {}", v.name)),
                    Err(e) => {
                        last_errors.insert(v.name.clone(), e);
                        next.push(v);
                    }
                }
            }
            if next.len() == before {
                for v in next {
                    if let Some(e) = last_errors.remove(&v.name) {
                        lost.push(not_copied("view", &v.name, &e));
                    }
                }
                break;
            }
            pending = next;
        }
        for t in &cat.objects.triggers {
            match self.admin.query_drop(t.definition.as_str()).await {
                Ok(()) => made.push(format!("trigger {}", t.name)),
                Err(e) => lost.push(not_copied("trigger", &t.name, &e)),
            }
        }
        (lost, made)
    }

    /// Drops the staging database; the target keeps what it had.
    pub async fn abort(mut self) {
        let _ = self
            .admin
            .query_drop(format!(
                "DROP DATABASE IF EXISTS {}; DO RELEASE_LOCK({})",
                ident(&self.load_db),
                literal(&self.lock)
            ))
            .await;
        let _ = self.admin.disconnect().await;
    }
}

fn not_copied(kind: &str, name: &str, e: &mysql_async::Error) -> NotCopied {
    NotCopied {
        kind: kind.into(),
        name: name.to_owned(),
        reason: prodlike_common::error::chain(e).to_string(),
    }
}

/// The codes of a load's warnings (never their text: it can quote a value).
async fn warnings_error(conn: &mut Conn, n: u16, what: &str) -> DataError {
    let codes: Vec<(String, u32)> = conn
        .query("SHOW WARNINGS LIMIT 5")
        .await
        .map(|rows: Vec<(String, u32, String)>| {
            rows.into_iter()
                .map(|(level, code, _)| (level, code))
                .collect()
        })
        .unwrap_or_default();
    let listed: Vec<String> = codes
        .iter()
        .map(|(level, code)| format!("{level} {code}"))
        .collect();
    DataError::Aborted(format!(
        "{what}: the server reported {n} warnings ({}); a value did not fit its column as read",
        listed.join(", ")
    ))
}

/// Writes one table's rows into its LOAD DATA stream.
pub struct MysqlWriter {
    tx: Option<mpsc::Sender<Bytes>>,
    buf: Vec<u8>,
    task: Option<tokio::task::JoinHandle<Result<u64>>>,
    table: String,
}

impl MysqlWriter {
    /// Encodes `batch` (tab-separated, escaped) and hands full chunks to the stream.
    pub async fn write(&mut self, batch: Batch) -> Result<()> {
        for row in batch {
            for (i, field) in row.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b'\t');
                }
                match field {
                    Field::Null => self.buf.extend_from_slice(b"\\N"),
                    Field::Val(v) => write_field(v, &mut self.buf),
                    Field::Raw(_) => {
                        return Err(DataError::MysqlUnsupported {
                            what: format!(
                                "writing PostgreSQL's binary fields into MySQL table {}",
                                self.table
                            ),
                        });
                    }
                }
            }
            self.buf.push(b'\n');
        }
        if self.buf.len() >= CHUNK {
            self.send().await?;
        }
        Ok(())
    }

    async fn send(&mut self) -> Result<()> {
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK + 64 * 1024),
        ));
        let sent = match &self.tx {
            Some(tx) => tx.send(chunk).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The load stopped: its own error says why.
        self.tx = None;
        match self.task.take() {
            Some(t) => match t.await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(_)) | Err(_) => Err(DataError::Aborted(format!(
                    "the load of {} stopped early",
                    self.table
                ))),
            },
            None => Err(DataError::Aborted(format!(
                "the load of {} stopped early",
                self.table
            ))),
        }
    }

    /// Ends the stream; returns the rows the server took.
    pub async fn finish(mut self) -> Result<u64> {
        if !self.buf.is_empty() {
            self.send().await?;
        }
        self.tx = None;
        match self.task.take() {
            Some(t) => t.await.map_err(|source| DataError::Task {
                what: "a MySQL load",
                source,
            })?,
            None => Ok(0),
        }
    }
}
