//! Reading a source database: its schema, and rows of one table as a stream of batches. Every
//! PostgreSQL read joins one exported snapshot, so parallel reads of several tables see one
//! consistent state of the database (like `pg_dump -j`).

use std::collections::HashMap;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_postgres::Client;

use crate::error::{DataError, Result};
use crate::pg::{
    self, codec,
    copy::{CopyReader, FLUSH_AT},
};
use crate::row::{BATCH_ROWS, Batch, Field};
use crate::schema::{Kind, Schema, Table};
use crate::sqlite;
use crate::url::DbUrl;
use crate::value::Value;

/// The type of one scanned field, to decode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    pub oid: u32,
    pub kind: Kind,
}

impl FieldType {
    /// Decodes a field of this type (SQLite fields are already values).
    pub fn value(&self, f: &Field) -> Value {
        match f {
            Field::Null => Value::Null,
            Field::Val(v) => v.clone(),
            Field::Raw(b) => self.decode(b),
        }
    }

    /// Decodes the bytes of a non-NULL field of this type (NULL when they do not fit it).
    pub fn decode(&self, b: &[u8]) -> Value {
        codec::decode(self.oid, self.kind, b).unwrap_or(Value::Null)
    }
}

/// What a scan selects.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Columns, by name.
    pub columns: Vec<String>,
    /// Extra boolean expression appended as the last field (e.g. a sampling `where`).
    pub flag: Option<String>,
    /// Row filter in the engine's SQL.
    pub filter: Option<String>,
    /// Order rows by the table's identity (needed for deterministic shuffles).
    pub ordered: bool,
    /// Read columns of undecoded types as text (when the target is not PostgreSQL).
    pub other_as_text: bool,
    /// Read at most about this share of rows (profile sampling), in (0, 1).
    pub tablesample: Option<f64>,
    /// Read at most this many rows.
    pub limit: Option<u64>,
}

struct PgSource {
    conn: String,
    shown: String,
    ns: String,
    snapshot: Option<String>,
    _holder: Client,
    /// Tables that other tables inherit from, known once the schema is read: their own rows are
    /// read with `ONLY`, so no child's row is read twice.
    parents: std::sync::RwLock<std::collections::HashSet<String>>,
    /// Connections a finished scan gave back, still in the snapshot's transaction: the next
    /// scan reads on one instead of opening its own (detection's sample reads hand theirs to
    /// the copies).
    pool: Arc<crate::pg::pool::Pool>,
}

impl PgSource {
    /// Remembers the inheritance parents of `schema` (see `parents`).
    fn note_parents(&self, schema: &Schema) {
        *self
            .parents
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = schema
            .tables
            .iter()
            .filter(|t| t.layout.has_children)
            .map(|t| t.name.clone())
            .collect();
    }

    /// `"ns"."table"`, or `ONLY "ns"."table"` for an inheritance parent.
    fn from(&self, table: &str) -> String {
        let only = self
            .parents
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(table);
        let q = pg::qualified(&self.ns, table);
        if only { format!("ONLY {q}") } else { q }
    }
}

/// An open source database.
#[derive(Clone)]
pub struct Source {
    inner: Arc<Inner>,
}

enum Inner {
    Pg(Box<PgSource>),
    Sqlite(PathBuf),
    /// A MySQL or MariaDB database (`crate::mysql::read`): each read on a connection of its own.
    Mysql(Box<prodlike_catalog::mysql::url::MysqlUrl>),
}

impl Source {
    /// Opens `url`; for PostgreSQL, starts a repeatable-read transaction and exports its
    /// snapshot for every later read.
    pub async fn open(url: &DbUrl, ns: &str) -> Result<Self> {
        let inner = match url {
            DbUrl::Postgres { conn, shown } => {
                let client = pg::connect(conn, shown).await?;
                client
                    .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
                    .map_err(DataError::pg(format!("starting a snapshot on {shown}")))?;
                let snapshot = match client.query_one("SELECT pg_export_snapshot()", &[]).await {
                    Ok(r) => Some(r.get::<_, String>(0)),
                    Err(e) => {
                        tracing::warn!(
                            "could not export a snapshot ({}); tables are read in separate transactions",
                            prodlike_common::error::chain(&e)
                        );
                        None
                    }
                };
                Inner::Pg(Box::new(PgSource {
                    conn: conn.clone(),
                    shown: shown.clone(),
                    ns: ns.to_owned(),
                    snapshot,
                    _holder: client,
                    parents: Default::default(),
                    pool: Arc::new(crate::pg::pool::Pool::new(conn, shown)),
                }))
            }
            DbUrl::Sqlite { path } => {
                if !path.is_file() {
                    return Err(DataError::File {
                        path: path.display().to_string(),
                        reason: "no such SQLite database file".into(),
                    });
                }
                let p = path.clone();
                tokio::task::spawn_blocking(move || {
                    sqlite::read::open_read_only(&p).and_then(|c| {
                        c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                            r.get::<_, i64>(0)
                        })
                    })
                })
                .await
                .map_err(|source| DataError::Task {
                    what: "opening the SQLite source",
                    source,
                })?
                .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
                Inner::Sqlite(path.clone())
            }
            DbUrl::Mysql(m) => {
                // Connect now: an unreachable server or wrong credentials stop the command here.
                let conn = crate::mysql::connect(m).await?;
                let _ = conn.disconnect().await;
                Inner::Mysql(Box::new(m.clone()))
            }
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// `postgres` or `sqlite`.
    pub fn engine(&self) -> &'static str {
        match &*self.inner {
            Inner::Pg(_) => "postgres",
            Inner::Sqlite(_) => "sqlite",
            Inner::Mysql(_) => "mysql",
        }
    }

    /// The URL without password.
    pub fn shown(&self) -> String {
        match &*self.inner {
            Inner::Pg(p) => p.shown.clone(),
            Inner::Sqlite(p) => format!("sqlite://{}", p.display()),
            Inner::Mysql(m) => m.shown.clone(),
        }
    }

    /// Reads the schema.
    pub async fn schema(&self) -> Result<Schema> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                let schema = crate::catalog::read_postgres(&c, &p.ns).await?;
                p.note_parents(&schema);
                Ok(schema)
            }
            Inner::Sqlite(path) => {
                let path = path.clone();
                blocking(move || {
                    let c = sqlite::read::open_read_only(&path)
                        .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
                    crate::catalog::read_sqlite(&c)
                })
                .await
            }
            Inner::Mysql(m) => {
                let cat = crate::mysql::read::catalog(m).await?;
                crate::catalog::from_mysql(cat, &m.database)
            }
        }
    }

    /// The whole catalog of a MySQL source (`None` for the other engines): the views,
    /// triggers and routines a MySQL target recreates after its swap.
    pub async fn mysql_catalog(&self) -> Result<Option<prodlike_catalog::Catalog>> {
        match &*self.inner {
            Inner::Mysql(m) => crate::mysql::read::catalog(m).await.map(Some),
            Inner::Pg(_) | Inner::Sqlite(_) => Ok(None),
        }
    }

    /// [`Source::schema`] and [`Source::pg_catalog`] from one reading of the catalog.
    pub async fn schema_and_pg_catalog(
        &self,
    ) -> Result<(Schema, Option<prodlike_catalog::Catalog>)> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                let (schema, cat) = crate::catalog::read_postgres_with_catalog(&c, &p.ns).await?;
                p.note_parents(&schema);
                Ok((schema, Some(cat)))
            }
            Inner::Sqlite(_) | Inner::Mysql(_) => Ok((self.schema().await?, None)),
        }
    }

    /// The whole catalog of the copied schema, read in the snapshot (PostgreSQL; `None` for
    /// SQLite): what `pg/objects.rs` plans views, functions, triggers and comments from.
    pub async fn pg_catalog(&self) -> Result<Option<prodlike_catalog::Catalog>> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                pg::objects::read_catalog(&c, &p.ns).await.map(Some)
            }
            Inner::Sqlite(_) | Inner::Mysql(_) => Ok(None),
        }
    }

    /// The whole catalog of the copied schema, whatever the engine: PostgreSQL's
    /// ([`Source::pg_catalog`]), MySQL's ([`Source::mysql_catalog`]) or SQLite's (tables and
    /// views). What verify's schema check compares.
    pub async fn catalog(&self) -> Result<prodlike_catalog::Catalog> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                pg::objects::read_catalog(&c, &p.ns).await
            }
            Inner::Mysql(m) => crate::mysql::read::catalog(m).await,
            Inner::Sqlite(path) => {
                let path = path.clone();
                blocking(move || {
                    let c = sqlite::read::open_read_only(&path)
                        .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
                    let options =
                        prodlike_catalog::Options::schema(prodlike_catalog::sqlite::SCHEMA);
                    prodlike_catalog::sqlite::read(&c, &options).map_err(|e| {
                        DataError::Invalid(prodlike_common::error::chain(&e).to_string())
                    })
                })
                .await
            }
        }
    }

    /// The views of a SQLite source, which a sync does not copy (empty for PostgreSQL, whose
    /// views come with [`Source::pg_catalog`]).
    pub async fn sqlite_views(&self) -> Result<Vec<String>> {
        let Inner::Sqlite(path) = &*self.inner else {
            return Ok(Vec::new());
        };
        let path = path.clone();
        blocking(move || {
            let c = sqlite::read::open_read_only(&path)
                .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
            let options = prodlike_catalog::Options::schema(prodlike_catalog::sqlite::SCHEMA);
            prodlike_catalog::sqlite::read(&c, &options)
                .map(|cat| cat.views.into_iter().map(|v| v.name).collect())
                .map_err(|e| DataError::Invalid(prodlike_common::error::chain(&e).to_string()))
        })
        .await
    }

    /// A session in the snapshot with search_path set to the copied schema (PostgreSQL;
    /// `None` for SQLite).
    pub(crate) async fn pg_session(&self) -> Result<Option<Client>> {
        match &*self.inner {
            Inner::Pg(p) => self.pg_conn(p).await.map(Some),
            Inner::Sqlite(_) | Inner::Mysql(_) => Ok(None),
        }
    }

    async fn pg_conn(&self, p: &PgSource) -> Result<Client> {
        if let Some(c) = p.pool.take() {
            return Ok(c);
        }
        let c = pg::connect(&p.conn, &p.shown).await?;
        let mut sql = String::from("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;");
        if let Some(s) = &p.snapshot {
            sql.push_str(&format!("SET TRANSACTION SNAPSHOT {};", pg::literal(s)));
        }
        sql.push_str(&format!("SET search_path = {}", pg::ident(&p.ns)));
        c.batch_execute(&sql).await.map_err(DataError::pg(format!(
            "joining the snapshot on {}",
            p.shown
        )))?;
        Ok(c)
    }

    /// Exact row count of `table`.
    /// Each analyzed column's `pg_stats.correlation` (physical row order against the column's
    /// order), keyed by (table, column): a statistic, never a value. Empty for SQLite and MySQL,
    /// which keep none; a partitioned table's is its partitions' together (`inherited`).
    pub async fn physical_correlations(&self) -> Result<HashMap<(String, String), f64>> {
        let Inner::Pg(p) = &*self.inner else {
            return Ok(HashMap::new());
        };
        let c = self.pg_conn(p).await?;
        // A table's own statistics where it has them, else its inheritance tree's.
        let rows = c
            .query(
                "SELECT tablename::text, attname::text, correlation::float8 FROM pg_stats \
                 WHERE schemaname = $1 AND correlation IS NOT NULL ORDER BY inherited DESC",
                &[&p.ns],
            )
            .await
            .map_err(DataError::pg("reading column correlations (pg_stats)"))?;
        Ok(rows
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect())
    }

    /// On-disk size of each table with its indexes in bytes, from the catalog (no scan); empty where the engine
    /// keeps no such statistic (SQLite). Orders the copies of a full sync, which counts nothing.
    pub async fn estimated_bytes(&self) -> Result<HashMap<String, u64>> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                crate::catalog::table_sizes(&c, &p.ns).await
            }
            Inner::Sqlite(_) => Ok(HashMap::new()),
            Inner::Mysql(m) => {
                let mut conn = crate::mysql::connect(m).await?;
                let rows: Vec<(String, u64)> = mysql_async::prelude::Queryable::exec(
                    &mut conn,
                    "SELECT TABLE_NAME, COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) \
                     FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
                    (m.database.as_str(),),
                )
                .await
                .map_err(DataError::mysql("reading table sizes"))?;
                let _ = conn.disconnect().await;
                Ok(rows.into_iter().collect())
            }
        }
    }

    pub async fn count(&self, table: &str) -> Result<u64> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                let n: i64 = c
                    .query_one(&format!("SELECT count(*) FROM {}", p.from(table)), &[])
                    .await
                    .map_err(DataError::pg(format!("counting rows of {table}")))?
                    .get(0);
                Ok(n as u64)
            }
            Inner::Sqlite(path) => {
                let (path, t) = (path.clone(), table.to_owned());
                blocking(move || {
                    let c = sqlite::read::open_read_only(&path)
                        .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
                    c.query_row(
                        &format!("SELECT count(*) FROM {}", sqlite::ident(&t)),
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                    .map(|n| n as u64)
                    .map_err(DataError::sqlite(format!("counting rows of {t}")))
                })
                .await
            }
            Inner::Mysql(m) => {
                let sql = format!(
                    "SELECT count(*) FROM {}",
                    crate::mysql::qualified(&m.database, table)
                );
                crate::mysql::read::integer(m, &sql, &format!("counting rows of {table}")).await
            }
        }
    }

    /// The privileges held on the schema and its relations, the owners' own aside
    /// (PostgreSQL; `None` for SQLite, which has none), read in the source's snapshot.
    pub async fn privileges(&self) -> Result<Option<Vec<pg::grants::Privilege>>> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                pg::grants::privileges(&c, &p.ns).await.map(Some)
            }
            Inner::Sqlite(_) | Inner::Mysql(_) => Ok(None),
        }
    }

    /// Checks a boolean SQL expression against `table` (a `where` rule) without reading rows.
    pub async fn check_expression(&self, table: &str, expr: &str) -> Result<()> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                c.execute(
                    &format!("SELECT ({expr}) IS TRUE FROM {} LIMIT 0", p.from(table)),
                    &[],
                )
                .await
                .map(|_| ())
                .map_err(DataError::pg(format!("checking `where` of table {table}")))
            }
            Inner::Sqlite(path) => {
                let (path, t, e) = (path.clone(), table.to_owned(), expr.to_owned());
                blocking(move || {
                    let c = sqlite::read::open_read_only(&path)
                        .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
                    c.prepare(&format!("SELECT ({e}) FROM {} LIMIT 0", sqlite::ident(&t)))
                        .map(|_| ())
                        .map_err(DataError::sqlite(format!("checking `where` of table {t}")))
                })
                .await
            }
            Inner::Mysql(m) => {
                let sql = format!(
                    "SELECT ({expr}) IS TRUE FROM {} LIMIT 0",
                    crate::mysql::qualified(&m.database, table)
                );
                crate::mysql::read::check(m, &sql, format!("checking `where` of table {table}"))
                    .await
            }
        }
    }

    /// `columns` of a PostgreSQL table as its binary COPY stream, chunk by chunk as the server
    /// sends it, never parsed into rows: the byte-level pass-through of a table that is neither
    /// masked nor filtered (`sync.rs`). `None` for a SQLite source. Reads the same rows as
    /// [`Source::scan`] with no filter (an inheritance parent's own rows; a partitioned table's
    /// through a query, which COPY's table form refuses).
    pub async fn scan_raw(
        &self,
        table: &Table,
        columns: &[String],
    ) -> Result<Option<mpsc::Receiver<Result<bytes::Bytes>>>> {
        let Inner::Pg(p) = &*self.inner else {
            return Ok(None);
        };
        if columns.is_empty() {
            // A table of generated columns only: the row path's placeholder handles it.
            return Ok(None);
        }
        let cols: Vec<String> = columns.iter().map(|c| pg::ident(c)).collect();
        let copy = if table.layout.partition_key.is_none() {
            format!(
                "COPY {} ({}) TO STDOUT (FORMAT binary)",
                pg::qualified(&p.ns, &table.name),
                cols.join(", ")
            )
        } else {
            format!(
                "COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)",
                cols.join(", "),
                p.from(&table.name)
            )
        };
        let c = self.pg_conn(p).await?;
        let what = format!("reading table {}", table.name);
        let stream = c
            .copy_out(&copy)
            .await
            .map_err(DataError::pg(what.clone()))?;
        let (tx, rx) = mpsc::channel::<Result<bytes::Bytes>>(16);
        let pool = p.pool.clone();
        tokio::spawn(async move {
            use futures_util::StreamExt as _;
            let mut stream = std::pin::pin!(stream);
            // The server sends one message per row: gathered into chunks of the size the
            // writers send on, so a small row costs a copy, not a channel send and a write.
            let mut buf = bytes::BytesMut::with_capacity(FLUSH_AT + 64 * 1024);
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(c) => {
                        buf.extend_from_slice(&c);
                        if buf.len() >= FLUSH_AT {
                            if tx.send(Ok(buf.split().freeze())).await.is_err() {
                                return;
                            }
                            // The sent chunk still holds the buffer: one chunk-sized buffer
                            // now, not a small tail grown by doubling and copying.
                            buf.reserve(FLUSH_AT + 64 * 1024);
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(DataError::pg(what.clone())(e))).await;
                        return;
                    }
                }
            }
            if !buf.is_empty() {
                let _ = tx.send(Ok(buf.freeze())).await;
            }
            // Read to its end: the connection is free for the next scan.
            pool.put(c);
        });
        Ok(Some(rx))
    }

    /// Streams the rows of `table` as selected by `scan`; returns the field types and a
    /// receiver of batches (an `Err` item ends the stream).
    // Long: one scan per backend (PostgreSQL COPY, SQLite) behind one signature; a split is noted in issue 11.
    #[allow(clippy::too_many_lines)]
    pub async fn scan(
        &self,
        table: &Table,
        scan: &Scan,
    ) -> Result<(Vec<FieldType>, mpsc::Receiver<Result<Batch>>)> {
        let mut types = Vec::new();
        let mut exprs = Vec::new();
        for name in &scan.columns {
            let col = table.require_column(name).map(|i| &table.columns[i])?;
            match &*self.inner {
                Inner::Pg(_) if col.kind == Kind::Other && scan.other_as_text => {
                    exprs.push(format!("{}::text", pg::ident(name)));
                    types.push(FieldType {
                        oid: codec::oid::TEXT,
                        kind: Kind::Text,
                    });
                }
                Inner::Pg(_) => {
                    exprs.push(pg::ident(name));
                    types.push(FieldType {
                        oid: col.pg_oid,
                        kind: col.kind,
                    });
                }
                Inner::Sqlite(_) => {
                    exprs.push(sqlite::ident(name));
                    types.push(FieldType {
                        oid: 0,
                        kind: col.kind,
                    });
                }
                Inner::Mysql(_) => {
                    exprs.push(crate::mysql::ident(name));
                    types.push(FieldType {
                        oid: 0,
                        kind: col.kind,
                    });
                }
            }
        }
        if let Some(flag) = &scan.flag {
            exprs.push(format!("(({flag}) IS TRUE)"));
            types.push(FieldType {
                oid: codec::oid::BOOL,
                kind: Kind::Bool,
            });
        }
        if exprs.is_empty() {
            exprs.push("1".into());
            types.push(FieldType {
                oid: codec::oid::INT4,
                kind: Kind::Int,
            });
        }
        let order = if scan.ordered {
            table.identity().map(|cols| {
                cols.iter()
                    .map(|c| match &*self.inner {
                        Inner::Pg(_) => pg::ident(c),
                        Inner::Sqlite(_) => sqlite::ident(c),
                        Inner::Mysql(_) => crate::mysql::ident(c),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        } else {
            None
        };
        let (tx, rx) = mpsc::channel::<Result<Batch>>(8);
        match &*self.inner {
            Inner::Pg(p) => {
                let mut sql = format!("SELECT {} FROM {}", exprs.join(", "), p.from(&table.name));
                if let Some(f) = scan.tablesample {
                    sql.push_str(&format!(
                        " TABLESAMPLE BERNOULLI ({})",
                        (f * 100.0).clamp(0.0001, 100.0)
                    ));
                }
                if let Some(f) = &scan.filter {
                    sql.push_str(&format!(" WHERE {f}"));
                }
                if let Some(o) = &order {
                    sql.push_str(&format!(" ORDER BY {o}"));
                }
                if let Some(l) = scan.limit {
                    sql.push_str(&format!(" LIMIT {l}"));
                }
                let c = self.pg_conn(p).await?;
                let what = format!("table {}", table.name);
                // Plain column reads use COPY's table form (no executor in between), which
                // reads a table's own rows only (as `ONLY`) and refuses a partitioned table.
                let plain = table.layout.partition_key.is_none()
                    && scan.flag.is_none()
                    && scan.filter.is_none()
                    && order.is_none()
                    && scan.limit.is_none()
                    && scan.tablesample.is_none()
                    && !scan.columns.is_empty()
                    && exprs.iter().all(|e| !e.contains("::"));
                let copy = if plain {
                    format!(
                        "COPY {} ({}) TO STDOUT (FORMAT binary)",
                        pg::qualified(&p.ns, &table.name),
                        exprs.join(", ")
                    )
                } else {
                    format!("COPY ({sql}) TO STDOUT (FORMAT binary)")
                };
                let stream = c
                    .copy_out(&copy)
                    .await
                    .map_err(DataError::pg(format!("reading {what}")))?;
                let pool = p.pool.clone();
                tokio::spawn(async move {
                    let mut reader = CopyReader::new(stream, what);
                    let mut batch = Vec::with_capacity(BATCH_ROWS);
                    loop {
                        match reader.next().await {
                            Ok(Some(row)) => {
                                batch.push(row);
                                if batch.len() >= BATCH_ROWS {
                                    let full = std::mem::replace(
                                        &mut batch,
                                        Vec::with_capacity(BATCH_ROWS),
                                    );
                                    if tx.send(Ok(full)).await.is_err() {
                                        return;
                                    }
                                }
                            }
                            Ok(None) => {
                                if !batch.is_empty() {
                                    let _ = tx.send(Ok(batch)).await;
                                }
                                // Read to its end: the connection is free for the next scan.
                                pool.put(c);
                                return;
                            }
                            Err(e) => {
                                let _ = tx.send(Err(e)).await;
                                return;
                            }
                        }
                    }
                });
            }
            Inner::Mysql(m) => {
                let mut sql = format!(
                    "SELECT {} FROM {}",
                    exprs.join(", "),
                    crate::mysql::qualified(&m.database, &table.name)
                );
                let mut conds = Vec::new();
                if let Some(f) = scan.tablesample {
                    conds.push(format!("RAND() < {f}"));
                }
                if let Some(f) = &scan.filter {
                    conds.push(format!("({f})"));
                }
                if !conds.is_empty() {
                    sql.push_str(&format!(" WHERE {}", conds.join(" AND ")));
                }
                if let Some(o) = order {
                    sql.push_str(&format!(" ORDER BY {o}"));
                }
                if let Some(l) = scan.limit {
                    sql.push_str(&format!(" LIMIT {l}"));
                }
                let kinds: Vec<Kind> = types.iter().map(|t| t.kind).collect();
                let rx = crate::mysql::read::scan(m, sql, kinds, format!("table {}", table.name))
                    .await?;
                return Ok((types, rx));
            }
            Inner::Sqlite(path) => {
                let mut sql = format!(
                    "SELECT {} FROM {}",
                    exprs.join(", "),
                    sqlite::ident(&table.name)
                );
                let mut conds = Vec::new();
                if let Some(f) = scan.tablesample {
                    conds.push(format!("(abs(random()) % 1000000) < {}", (f * 1e6) as i64));
                }
                if let Some(f) = &scan.filter {
                    conds.push(format!("({f})"));
                }
                if !conds.is_empty() {
                    sql.push_str(&format!(" WHERE {}", conds.join(" AND ")));
                }
                if let Some(o) = order {
                    sql.push_str(&format!(" ORDER BY {o}"));
                }
                if let Some(l) = scan.limit {
                    sql.push_str(&format!(" LIMIT {l}"));
                }
                let path = path.clone();
                let kinds: Vec<Kind> = types.iter().map(|t| t.kind).collect();
                let tname = table.name.clone();
                tokio::task::spawn_blocking(move || {
                    let run = || -> Result<()> {
                        let c = sqlite::read::open_read_only(&path)
                            .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
                        let ctx = || DataError::sqlite(format!("reading table {tname}"));
                        let mut stmt = c.prepare(&sql).map_err(ctx())?;
                        let mut rows = stmt.query([]).map_err(ctx())?;
                        let mut batch = Vec::with_capacity(BATCH_ROWS);
                        while let Some(r) = rows.next().map_err(ctx())? {
                            let mut row = Vec::with_capacity(kinds.len());
                            for (i, k) in kinds.iter().enumerate() {
                                let v = r.get_ref(i).map_err(ctx())?;
                                let v = sqlite::read::value_of(v, *k);
                                row.push(if v.is_null() {
                                    Field::Null
                                } else {
                                    Field::Val(v)
                                });
                            }
                            batch.push(row);
                            if batch.len() >= BATCH_ROWS {
                                let full =
                                    std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                                if tx.blocking_send(Ok(full)).is_err() {
                                    return Ok(());
                                }
                            }
                        }
                        if !batch.is_empty() {
                            let _ = tx.blocking_send(Ok(batch));
                        }
                        Ok(())
                    };
                    if let Err(e) = run() {
                        let _ = tx.blocking_send(Err(e));
                    }
                });
            }
        }
        Ok((types, rx))
    }

    /// Runs a query returning one integer (integrity checks).
    pub async fn scalar_count(&self, sql: &str, what: &str) -> Result<u64> {
        match &*self.inner {
            Inner::Pg(p) => {
                let c = self.pg_conn(p).await?;
                let r = c
                    .query_one(sql, &[])
                    .await
                    .map_err(DataError::pg(what.to_owned()))?;
                Ok(r.get::<_, i64>(0) as u64)
            }
            Inner::Sqlite(path) => {
                let (path, sql, what) = (path.clone(), sql.to_owned(), what.to_owned());
                blocking(move || {
                    let c = sqlite::read::open_read_only(&path)
                        .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
                    c.query_row(&sql, [], |r| r.get::<_, i64>(0))
                        .map(|n| n as u64)
                        .map_err(DataError::sqlite(what))
                })
                .await
            }
            Inner::Mysql(m) => crate::mysql::read::integer(m, sql, what).await,
        }
    }

    /// `"table"` qualified for this engine.
    pub fn table_ref(&self, table: &str) -> String {
        match &*self.inner {
            Inner::Pg(p) => p.from(table),
            Inner::Sqlite(_) => sqlite::ident(table),
            Inner::Mysql(m) => crate::mysql::qualified(&m.database, table),
        }
    }

    /// Row counts of the groups of non-NULL `columns` values (foreign-key fan-out).
    pub async fn group_counts(&self, table: &Table, columns: &[String]) -> Result<Vec<u64>> {
        let cols: Vec<String> = columns.iter().map(|c| self.ident(c)).collect();
        let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        match &*self.inner {
            Inner::Pg(p) => {
                let sql = format!(
                    "SELECT count(*) FROM {} WHERE {} GROUP BY {}",
                    p.from(&table.name),
                    not_null.join(" AND "),
                    cols.join(", ")
                );
                let c = self.pg_conn(p).await?;
                let rows = c.query(&sql, &[]).await.map_err(DataError::pg(format!(
                    "counting children in {}",
                    table.name
                )))?;
                Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
            }
            Inner::Sqlite(path) => {
                let sql = format!(
                    "SELECT count(*) FROM {} WHERE {} GROUP BY {}",
                    sqlite::ident(&table.name),
                    not_null.join(" AND "),
                    cols.join(", ")
                );
                let (path, t) = (path.clone(), table.name.clone());
                blocking(move || {
                    let c = sqlite::read::open_read_only(&path)
                        .map_err(DataError::sqlite(format!("opening {}", path.display())))?;
                    let mut s = c
                        .prepare(&sql)
                        .map_err(DataError::sqlite(format!("counting children in {t}")))?;
                    let rows = s
                        .query_map([], |r| r.get::<_, i64>(0))
                        .map_err(DataError::sqlite(format!("counting children in {t}")))?;
                    rows.map(|r| r.map(|n| n as u64))
                        .collect::<Result<Vec<u64>, _>>()
                        .map_err(DataError::sqlite(format!("counting children in {t}")))
                })
                .await
            }
            Inner::Mysql(m) => {
                let sql = format!(
                    "SELECT count(*) FROM {} WHERE {} GROUP BY {}",
                    crate::mysql::qualified(&m.database, &table.name),
                    not_null.join(" AND "),
                    cols.join(", ")
                );
                crate::mysql::read::integers(
                    m,
                    &sql,
                    &format!("counting children in {}", table.name),
                )
                .await
            }
        }
    }

    /// SQL literal of `v` for a column of `sql_type` in this engine (key lookups).
    pub fn literal(&self, v: &Value, sql_type: &str) -> String {
        match (v, &*self.inner) {
            (Value::Null, _) => "NULL".into(),
            (Value::Int(i), _) => i.to_string(),
            (Value::Float(f), _) => format!("{f:?}"),
            (Value::Bool(b), Inner::Sqlite(_)) => i64::from(*b).to_string(),
            (Value::Bytes(b), Inner::Sqlite(_)) => {
                format!(
                    "X'{}'",
                    b.iter().map(|x| format!("{x:02x}")).collect::<String>()
                )
            }
            (other, Inner::Pg(_)) => {
                format!(
                    "{}::{sql_type}",
                    pg::literal(&other.to_text().unwrap_or_default())
                )
            }
            (other, Inner::Sqlite(_)) => pg::literal(&other.to_text().unwrap_or_default()),
            (Value::Bool(b), Inner::Mysql(_)) => i64::from(*b).to_string(),
            (Value::Bytes(b), Inner::Mysql(_)) => format!(
                "X'{}'",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ),
            (other, Inner::Mysql(_)) => {
                let text = other.to_text().unwrap_or_default();
                crate::mysql::literal(text.trim_end_matches("+00"))
            }
        }
    }

    /// Quotes an identifier for this engine.
    pub fn ident(&self, name: &str) -> String {
        match &*self.inner {
            Inner::Pg(_) => pg::ident(name),
            Inner::Sqlite(_) => sqlite::ident(name),
            Inner::Mysql(_) => crate::mysql::ident(name),
        }
    }
}

/// Runs blocking SQLite work off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|source| DataError::Task {
            what: "a SQLite worker thread",
            source,
        })?
}

/// Drains a scan into one vector (small scans only: samples, lookups).
pub async fn collect(mut rx: mpsc::Receiver<Result<Batch>>) -> Result<Batch> {
    let mut out = Vec::new();
    while let Some(b) = rx.recv().await {
        out.extend(b?);
    }
    Ok(out)
}
