//! Loading a target atomically. PostgreSQL: a new schema `prodlike_load_<id>` gets the tables,
//! the rows (binary COPY, several connections), then keys, indexes, foreign keys and sequence
//! positions; one transaction renames the old schema away and the new one into place. SQLite: a
//! new file renamed over the target. MySQL: a staging database, one `RENAME TABLE` of every
//! table (`crate::mysql::target`). Until the swap, the target's contents are untouched; a
//! failed or killed run leaves them as they were, and the next run clears its leftovers.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio_postgres::Client;

use crate::error::{DataError, Result};
use crate::pg::{
    self,
    copy::{CopyWriter, RawCopyWriter},
    ddl::{PgColumnType, PgDdl, PgForeignKey},
    fk_check,
    pool::Pool,
    rows::RowEncoder,
};
use crate::row::Batch;
use crate::schema::{Schema, Table};
use crate::snapshot::sink::{SnapshotSink, SnapshotTableWriter};
use crate::source::FieldType;
use crate::sqlite::{
    self,
    write::{SqliteLoad, SqliteSender, TableSpec},
};
use crate::url::DbUrl;

struct PgTarget {
    shown: String,
    ns: String,
    load_ns: String,
    admin: Client,
    ddl: PgDdl,
    types: HashMap<String, Vec<PgColumnType>>,
    keep_previous: bool,
    /// Grants of the `[grants] map` rule, given in the swap after the target's own.
    mapped_grants: Vec<pg::grants::MappedGrant>,
    /// Tables whose keys and indexes are built already (right after their rows landed).
    keyed: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Foreign keys (indexes into `ddl.foreign_keys`) already added while tables still load.
    fks_started: std::sync::Mutex<std::collections::HashSet<usize>>,
    /// Serialises `ADD CONSTRAINT … NOT VALID`: instant, but two at once across a cycle of keys
    /// (`users` ↔ `addresses`) could deadlock, each holding one table's lock.
    fk_add: tokio::sync::Mutex<()>,
    /// Key builds at once, as many as the tables copied at once: a copy gives its permit back
    /// when its rows are in (the next copy starts beside its key build), and many small tables
    /// that copy faster than they key would otherwise hold a connection each, without bound.
    keying: tokio::sync::Semaphore,
    /// Views, triggers, comments… planned by `pg/objects.rs` (see [`Target::add_objects`]).
    objects: pg::objects::ObjectsDdl,
    /// Several tables load at once: key builds and foreign key checks run without PostgreSQL's
    /// own parallel workers (`pg/fk_check.rs` has why and what it measured).
    serial: bool,
    /// Connections for copies, key builds and foreign key checks, reused (`pg/pool.rs`).
    pool: Arc<Pool>,
    /// Functions that could not be created before the tables (they wait for them).
    waiting: Vec<pg::objects::Stmt>,
}

struct SqliteTarget {
    load: SqliteLoad,
    index: HashMap<String, usize>,
    indexes: Vec<String>,
    shown: String,
}

/// A target being loaded.
pub struct Target {
    inner: Inner,
    jobs: usize,
}

enum Inner {
    Pg(Box<PgTarget>),
    Sqlite(SqliteTarget),
    /// A data snapshot's directory (`prodlike data dump`): the same rows, bytes on disk.
    Snapshot(Box<SnapshotSink>),
    /// A MySQL or MariaDB database (`crate::mysql::target`).
    Mysql(Box<crate::mysql::target::MysqlTarget>),
}

/// Copy columns of a table: every column except generated ones.
pub fn copy_columns(t: &Table) -> Vec<String> {
    t.columns
        .iter()
        .filter(|c| c.generated.is_none())
        .map(|c| c.name.clone())
        .collect()
}

const LOCK_KEY: &str = "prodlike data load";

/// Builds one table's keys and indexes on a connection of its own (so tables key in parallel).
async fn build_keys(
    pool: &Pool,
    load_ns: &str,
    table: &str,
    stmts: &[String],
    serial: bool,
) -> Result<()> {
    if stmts.is_empty() {
        return Ok(());
    }
    let c = pool.get().await?;
    c.batch_execute(&format!(
        "SET maintenance_work_mem = '256MB'; SET synchronous_commit = off; {}SET search_path = {}; {}",
        fk_check::serial_settings(serial),
        pg::ident(load_ns),
        stmts.join(";\n")
    ))
    .await
    .map_err(DataError::pg(format!("adding keys and indexes to {table}")))?;
    pool.put(c);
    Ok(())
}

impl PgTarget {
    /// A connection of its own, in a transaction that creates `table` and has started
    /// `COPY … FROM STDIN (FORMAT binary)` into it.
    async fn open_copy(
        &self,
        table: &str,
    ) -> Result<(Client, tokio_postgres::CopyInSink<bytes::Bytes>)> {
        let client = self.pool.get().await?;
        let q = pg::qualified(&self.load_ns, table);
        let create = self
            .ddl
            .tables
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, sql)| sql.clone())
            .unwrap_or_default();
        // One transaction creates the table and fills it: COPY FREEZE writes rows already
        // frozen, so index builds and foreign-key checks do not rewrite every page. A
        // table made beforehand (inheritance) or partitioned cannot be frozen.
        let freeze = if create.is_empty() || create.contains(" PARTITION BY ") {
            ""
        } else {
            ", FREEZE"
        };
        client
            .batch_execute(&format!(
                "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL search_path = {}; {create}",
                pg::ident(&self.load_ns)
            ))
            .await
            .map_err(DataError::pg(format!("creating table {table}")))?;
        let sink = client
            .copy_in(&format!("COPY {q} FROM STDIN (FORMAT binary{freeze})"))
            .await
            .map_err(DataError::pg(format!("starting COPY into {table}")))?;
        Ok((client, sink))
    }

    /// Views, materialized views, triggers (now that the rows are in) and comments, in one
    /// transaction; returns the comments that could not be made.
    async fn create_after_load(&self) -> Result<Vec<pg::objects::NotCopied>> {
        self.admin
            .batch_execute(&format!(
                "BEGIN; SET LOCAL search_path = {}; SET LOCAL check_function_bodies = off",
                pg::ident(&self.load_ns)
            ))
            .await
            .map_err(DataError::pg("creating views and triggers (starting)"))?;
        let lost = pg::objects::after_load(&self.admin, &self.objects, &self.waiting).await?;
        self.admin
            .batch_execute("COMMIT")
            .await
            .map_err(DataError::pg("creating views and triggers (committing)"))?;
        Ok(lost)
    }

    /// The `[grants] map` rule's statements on the schema and on the relations the load schema
    /// holds: a relation the sync could not create (listed as not copied) gets none.
    async fn mapped_grants_created(&self) -> Result<Vec<String>> {
        if self.mapped_grants.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .admin
            .query(
                "SELECT c.relname::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
                &[&self.load_ns],
            )
            .await
            .map_err(DataError::pg("listing the load schema's relations"))?;
        let created: std::collections::HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        Ok(self
            .mapped_grants
            .iter()
            .filter(|g| g.relation.as_ref().is_none_or(|r| created.contains(r)))
            .map(|g| g.statement.clone())
            .collect())
    }

    /// For the swap transaction, after the rename: function bodies pointed at the load schema
    /// get the source's own text back, which names the copied schema, this schema from now on.
    fn restore_sql(&self) -> String {
        if self.objects.restore.is_empty() {
            return String::new();
        }
        let mut sql = format!(
            "SET LOCAL search_path = {}; SET LOCAL check_function_bodies = off;",
            pg::ident(&self.ns)
        );
        for r in &self.objects.restore {
            sql.push_str(&r.sql);
            sql.push_str(";\n");
        }
        sql
    }

    /// Adds and checks every foreign key whose two tables are loaded and keyed and which is not
    /// started yet, so the checks overlap the copies of the remaining tables instead of
    /// following them all. The keys of different child tables are checked at once, each child's
    /// on a connection of its own: the last table to load (on the bench database `addresses`,
    /// which three keys name) otherwise left its checks one after another on one connection
    /// while the others stood idle at the load's end.
    async fn check_ready_foreign_keys(&self) -> Result<()> {
        let ready: Vec<&PgForeignKey> = {
            let keyed = self
                .keyed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut started = self
                .fks_started
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut ready = Vec::new();
            for (i, f) in self.ddl.foreign_keys.iter().enumerate() {
                if !started.contains(&i) && keyed.contains(&f.child) && keyed.contains(&f.parent) {
                    started.insert(i);
                    ready.push(f);
                }
            }
            ready
        };
        let groups = fk_check::by_child(ready);
        futures_util::future::try_join_all(groups.into_iter().map(|g| self.check_keys(g)))
            .await
            .map(|_| ())
    }

    /// Adds and checks `keys` (one child table's) in turn on one connection.
    async fn check_keys(&self, keys: Vec<&PgForeignKey>) -> Result<()> {
        let c = self.pool.get().await?;
        c.batch_execute(&format!(
            "SET synchronous_commit = off; {}SET search_path = {}",
            fk_check::serial_settings(self.serial),
            pg::ident(&self.load_ns)
        ))
        .await
        .map_err(DataError::pg("preparing a foreign key check"))?;
        for f in keys {
            {
                let _one_at_a_time = self.fk_add.lock().await;
                c.batch_execute(&f.add)
                    .await
                    .map_err(DataError::pg(format!(
                        "adding a foreign key of {}",
                        f.child
                    )))?;
            }
            if let Some(v) = &f.validate {
                c.batch_execute(&fk_check::check_statement(v, f.by_merge))
                    .await
                    .map_err(DataError::pg(format!(
                        "checking a foreign key of {} (the loaded rows would be orphans)",
                        f.child
                    )))?;
            }
        }
        self.pool.put(c);
        Ok(())
    }
}

impl Target {
    /// Prepares an empty copy of `tables` beside the target's current contents.
    // Long: each engine's preparation in turn (lock, leftovers, DDL, writer state; SQLite file).
    #[allow(clippy::too_many_lines)]
    pub async fn prepare(
        url: &DbUrl,
        schema: &Schema,
        tables: &[&Table],
        namespace: &str,
        jobs: usize,
        keep_previous: bool,
    ) -> Result<Self> {
        let inner = match url {
            DbUrl::Postgres { conn, shown } => {
                let admin = pg::connect(conn, shown).await?;
                let locked: bool = admin
                    .query_one(
                        "SELECT pg_try_advisory_lock(hashtext($1))",
                        &[&format!("{LOCK_KEY} {namespace}")],
                    )
                    .await
                    .map_err(DataError::pg(format!("locking {shown}")))?
                    .get(0);
                if !locked {
                    return Err(DataError::Target {
                        target: shown.clone(),
                        reason:
                            "another prodlike sync is loading this database; wait for it to finish"
                                .into(),
                    });
                }
                // Leftovers of killed runs (the lock proves no run is using them).
                let stale = admin
                    .query(
                        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'prodlike\\_load\\_%' OR nspname LIKE 'prodlike\\_old\\_%'",
                        &[],
                    )
                    .await
                    .map_err(DataError::pg(format!("listing schemas of {shown}")))?;
                for r in stale {
                    let n: String = r.get(0);
                    tracing::info!("dropping leftover schema {n} of an interrupted run");
                    admin
                        .batch_execute(&format!("DROP SCHEMA {} CASCADE", pg::ident(&n)))
                        .await
                        .map_err(DataError::pg(format!("dropping leftover schema {n}")))?;
                }
                let load_ns = format!("prodlike_load_{:08x}", fastrand::u32(..));
                let ddl = pg::ddl::build(schema, tables, &load_ns);
                let sql = format!("BEGIN; {}; COMMIT", ddl.create.join(";\n"));
                admin
                    .batch_execute(&sql)
                    .await
                    .map_err(DataError::pg(format!("creating the tables in {shown}")))?;
                let mut types = HashMap::new();
                for t in tables {
                    let v: Vec<PgColumnType> = t
                        .columns
                        .iter()
                        .filter(|c| c.generated.is_none())
                        .map(|c| pg::ddl::target_type(schema, c).1)
                        .collect();
                    types.insert(t.name.clone(), v);
                }
                Inner::Pg(Box::new(PgTarget {
                    shown: shown.clone(),
                    ns: namespace.to_owned(),
                    load_ns,
                    admin,
                    ddl,
                    types,
                    keep_previous,
                    mapped_grants: Vec::new(),
                    keyed: Default::default(),
                    fks_started: Default::default(),
                    fk_add: tokio::sync::Mutex::new(()),
                    keying: tokio::sync::Semaphore::new(jobs.max(1)),
                    objects: Default::default(),
                    waiting: Vec::new(),
                    serial: jobs > 1,
                    pool: Arc::new(Pool::new(conn, shown)),
                }))
            }
            DbUrl::Mysql(m) => Inner::Mysql(Box::new(
                crate::mysql::target::MysqlTarget::prepare(m, schema, tables, keep_previous)
                    .await?,
            )),
            DbUrl::Sqlite { path } => {
                if let Some(dir) = path.parent()
                    && !dir.as_os_str().is_empty()
                    && !dir.is_dir()
                {
                    return Err(DataError::File {
                        path: path.display().to_string(),
                        reason: format!("folder {} does not exist", dir.display()),
                    });
                }
                let mut create = Vec::new();
                let mut index = HashMap::new();
                let mut indexes = Vec::new();
                for (i, t) in tables.iter().enumerate() {
                    create.push(sqlite::ddl::create_table(schema, t, tables));
                    indexes.extend(sqlite::ddl::create_indexes(schema, t));
                    index.insert(t.name.clone(), i);
                }
                let load = SqliteLoad::start(path, create, specs_with_types(schema, tables))?;
                Inner::Sqlite(SqliteTarget {
                    load,
                    index,
                    indexes,
                    shown: url.shown(),
                })
            }
        };
        Ok(Self {
            inner,
            jobs: jobs.max(1),
        })
    }

    /// The schema's objects beyond tables (`cat`: the source's catalog, PostgreSQL only):
    /// extensions and functions are created now, before any table, the rest waits for
    /// [`Target::finish_reporting`]. Returns what will not be copied.
    pub async fn add_objects(
        &mut self,
        cat: Option<&prodlike_catalog::Catalog>,
        schema: &Schema,
        tables: &[&Table],
        roles: &std::collections::BTreeMap<String, String>,
    ) -> Result<Vec<pg::objects::NotCopied>> {
        let Some(cat) = cat else {
            return Ok(Vec::new());
        };
        let p = match &mut self.inner {
            Inner::Pg(p) => p,
            // The snapshot keeps the catalog; the restore plans the objects on its target.
            Inner::Snapshot(_) => return Ok(Vec::new()),
            // A MySQL target takes a MySQL catalog (`Target::recreate_after_swap`).
            Inner::Mysql(_) => return Ok(Vec::new()),
            Inner::Sqlite(_) => {
                let mut lost = pg::objects::static_not_copied(cat, schema, tables);
                lost.extend(pg::objects::not_copied_to_sqlite(cat));
                return Ok(lost);
            }
        };
        let target_ext = pg::objects::target_extensions(&p.admin).await?;
        let mut ddl = pg::objects::plan(cat, schema, tables, &p.load_ns, &target_ext, roles);
        p.admin
            .batch_execute(&format!(
                "BEGIN; SET LOCAL search_path = {}",
                pg::ident(&p.load_ns)
            ))
            .await
            .map_err(DataError::pg("creating functions (starting)"))?;
        let (waiting, lost) = match pg::objects::before_tables(&p.admin, &ddl).await {
            Ok(r) => r,
            Err(e) => {
                let _ = p.admin.batch_execute("ROLLBACK").await;
                return Err(e);
            }
        };
        p.admin
            .batch_execute("COMMIT")
            .await
            .map_err(DataError::pg("creating functions (committing)"))?;
        ddl.not_copied.extend(lost);
        let out = std::mem::take(&mut ddl.not_copied);
        p.objects = ddl;
        p.waiting = waiting;
        Ok(out)
    }

    /// Grants the new contents get in the swap, after the target's own (the `[grants] map`
    /// rule; PostgreSQL).
    pub fn grant_in_swap(&mut self, statements: Vec<pg::grants::MappedGrant>) {
        if let Inner::Pg(p) = &mut self.inner {
            p.mapped_grants = statements;
        }
    }

    /// True for PostgreSQL targets.
    pub fn is_postgres(&self) -> bool {
        matches!(self.inner, Inner::Pg(_))
    }

    /// The source's views, triggers and routines (its MySQL catalog), which a MySQL target
    /// makes after its swap; other targets take objects through [`Target::add_objects`].
    pub fn recreate_after_swap(&mut self, catalog: Option<prodlike_catalog::Catalog>) {
        if let Inner::Mysql(m) = &mut self.inner {
            m.recreate_after_swap(catalog);
        }
    }

    /// True when tables load in parallel as well as the source reads them (PostgreSQL,
    /// MySQL, snapshots); a SQLite file has one writer.
    pub fn loads_in_parallel(&self) -> bool {
        !matches!(self.inner, Inner::Sqlite(_))
    }

    /// True when the target takes PostgreSQL's binary fields as they are (a PostgreSQL
    /// database, or a snapshot that one will be restored from).
    pub fn takes_pg_binary(&self) -> bool {
        matches!(self.inner, Inner::Pg(_) | Inner::Snapshot(_))
    }

    /// What a snapshot target's tables wrote (`None` for a database).
    #[allow(clippy::type_complexity)] // Shared list of (table, file) entries, read once.
    pub fn snapshot_written(
        &self,
    ) -> Option<
        Arc<
            std::sync::Mutex<
                Vec<(
                    crate::snapshot::manifest::TableEntry,
                    crate::snapshot::manifest::FileEntry,
                )>,
            >,
        >,
    > {
        match &self.inner {
            Inner::Snapshot(s) => Some(s.written()),
            _ => None,
        }
    }

    /// A target that writes a data snapshot's table files into `sink`'s directory.
    pub fn snapshot(sink: SnapshotSink, jobs: usize) -> Self {
        Self {
            inner: Inner::Snapshot(Box::new(sink)),
            jobs: jobs.max(1),
        }
    }

    /// Opens the writer of one table; `source` are the types of the fields it will receive.
    pub async fn writer(&self, table: &str, source: &[FieldType]) -> Result<TableWriter> {
        match &self.inner {
            Inner::Pg(p) => {
                let types = p.types.get(table).cloned().unwrap_or_default();
                let (client, sink) = p.open_copy(table).await?;
                Ok(TableWriter::Pg(Box::new(PgWriter {
                    w: CopyWriter::new(sink, format!("table {table}")),
                    enc: RowEncoder::new(table, types, source),
                    table: table.to_owned(),
                    client,
                    pool: p.pool.clone(),
                })))
            }
            Inner::Snapshot(s) => Ok(TableWriter::Snapshot(Box::new(s.writer(table, source)?))),
            Inner::Sqlite(s) => Ok(TableWriter::Sqlite {
                tx: s.load.sender(),
                idx: s.index.get(table).copied().unwrap_or(0),
            }),
            Inner::Mysql(m) => Ok(TableWriter::Mysql(Box::new(m.writer(table).await?))),
        }
    }

    /// Opens a writer that takes `table`'s rows as a whole binary COPY stream, already encoded
    /// (a snapshot's table file, or an unmasked table passed through from a PostgreSQL source).
    /// PostgreSQL and snapshot targets only.
    pub async fn raw_writer(&self, table: &str) -> Result<RawWriter> {
        match &self.inner {
            Inner::Pg(p) => {
                let (client, sink) = p.open_copy(table).await?;
                Ok(RawWriter::Pg(Box::new(RawTableWriter {
                    w: RawCopyWriter::new(sink, format!("table {table}")),
                    table: table.to_owned(),
                    client,
                    pool: p.pool.clone(),
                })))
            }
            Inner::Snapshot(s) => Ok(RawWriter::Snapshot(Box::new(s.raw_writer(table)?))),
            Inner::Sqlite(_) => Err(DataError::Invalid(
                "a binary COPY stream cannot be written into SQLite".into(),
            )),
            Inner::Mysql(_) => Err(DataError::MysqlUnsupported {
                what: "a binary COPY stream (a PostgreSQL snapshot) as a MySQL target".into(),
            }),
        }
    }

    /// Builds `table`'s keys and indexes as soon as its rows are in, while other tables still
    /// load (PostgreSQL; SQLite builds indexes at the end).
    pub async fn table_loaded(&self, table: &str) -> Result<()> {
        let Inner::Pg(p) = &self.inner else {
            return Ok(());
        };
        let Some((_, stmts)) = p.ddl.keys.iter().find(|(t, _)| t == table) else {
            return Ok(());
        };
        let _keying = p
            .keying
            .acquire()
            .await
            .map_err(|source| DataError::PoolClosed {
                what: "building a table's keys",
                source,
            })?;
        let started = std::time::Instant::now();
        build_keys(&p.pool, &p.load_ns, table, stmts, p.serial).await?;
        tracing::debug!(
            "{table}: keys and indexes built in {:.2}s",
            started.elapsed().as_secs_f64()
        );
        p.keyed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(table.to_owned());
        p.check_ready_foreign_keys().await
    }

    /// Builds constraints and indexes, then swaps the new contents in.
    pub async fn finish(self) -> Result<()> {
        self.finish_reporting().await.map(|_| ())
    }

    /// [`Target::finish`], returning the objects that could not be recreated (comments whose
    /// object is missing), with PostgreSQL's reason.
    pub async fn finish_reporting(self) -> Result<Vec<pg::objects::NotCopied>> {
        self.finish_with_recreated().await.map(|(lost, _)| lost)
    }

    /// [`Target::finish_reporting`], with the objects made again after the swap (MySQL's views,
    /// triggers and routines) as `kind name`.
    pub async fn finish_with_recreated(self) -> Result<(Vec<pg::objects::NotCopied>, Vec<String>)> {
        if let Inner::Mysql(m) = self.inner {
            return m.finish().await;
        }
        self.finish_engines().await.map(|lost| (lost, Vec::new()))
    }

    // Long: the finishing steps in order (keys, foreign keys, sequences, objects, swap, clean-up).
    #[allow(clippy::too_many_lines)]
    async fn finish_engines(self) -> Result<Vec<pg::objects::NotCopied>> {
        match self.inner {
            Inner::Pg(p) => {
                let t0 = std::time::Instant::now();
                let sem = Arc::new(Semaphore::new(self.jobs));
                let mut tasks = Vec::new();
                let keyed = p
                    .keyed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                for (table, stmts) in p.ddl.keys.clone() {
                    if stmts.is_empty() || keyed.contains(&table) {
                        continue;
                    }
                    let (pool, sem, ns, serial) =
                        (p.pool.clone(), sem.clone(), p.load_ns.clone(), p.serial);
                    tasks.push(tokio::spawn(async move {
                        let _permit = sem.acquire_owned().await;
                        build_keys(&pool, &ns, &table, &stmts, serial).await
                    }));
                }
                for t in tasks {
                    t.await.map_err(|source| DataError::Task {
                        what: "building keys and indexes",
                        source,
                    })??;
                }
                tracing::debug!(
                    "keys and indexes built in {:.2}s",
                    t0.elapsed().as_secs_f64()
                );
                let t0 = std::time::Instant::now();
                // Foreign keys were added and checked as their two tables landed; any left (a
                // table keyed only just now) go the same way, now that every table is keyed.
                p.keyed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(p.ddl.keys.iter().map(|(t, _)| t.clone()));
                p.check_ready_foreign_keys().await?;
                if !p.ddl.sequences.is_empty() {
                    p.admin
                        .batch_execute(&p.ddl.sequences.join(";\n"))
                        .await
                        .map_err(DataError::pg("setting sequences"))?;
                }
                tracing::debug!(
                    "foreign keys and sequences in {:.2}s",
                    t0.elapsed().as_secs_f64()
                );
                let lost = p.create_after_load().await?;
                let old = format!("prodlike_old_{}", &p.load_ns["prodlike_load_".len()..]);
                let exists = p
                    .admin
                    .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&p.ns])
                    .await
                    .map_err(DataError::pg("checking the target schema"))?
                    .is_some();
                // The target's owner and grants, read just before the swap and given to the
                // new contents inside it.
                let mut grants = match exists {
                    true => pg::grants::carried_over(&p.admin, &p.ns, &p.load_ns).await?,
                    false => Vec::new(),
                };
                grants.extend(p.mapped_grants_created().await?);
                let mut swap = String::from("BEGIN;");
                if exists {
                    swap.push_str(&format!(
                        "ALTER SCHEMA {} RENAME TO {};",
                        pg::ident(&p.ns),
                        pg::ident(&old)
                    ));
                }
                swap.push_str(&format!(
                    "ALTER SCHEMA {} RENAME TO {};",
                    pg::ident(&p.load_ns),
                    pg::ident(&p.ns)
                ));
                swap.push_str(&p.restore_sql());
                for g in grants {
                    swap.push_str(&g);
                    swap.push(';');
                }
                swap.push_str("COMMIT");
                p.admin
                    .batch_execute(&swap)
                    .await
                    .map_err(DataError::pg(format!(
                        "swapping the new schema into place in {}",
                        p.shown
                    )))?;
                if exists && !p.keep_previous {
                    p.admin
                        .batch_execute(&format!("DROP SCHEMA {} CASCADE", pg::ident(&old)))
                        .await
                        .map_err(DataError::pg("dropping the previous contents"))?;
                }
                let _ = p
                    .admin
                    .batch_execute("SELECT pg_advisory_unlock_all()")
                    .await;
                Ok(lost)
            }
            Inner::Snapshot(s) => s.finish().map(|()| Vec::new()),
            Inner::Mysql(m) => m.finish().await.map(|(lost, _)| lost),
            Inner::Sqlite(s) => s
                .load
                .finish(s.indexes)
                .await
                .map(|()| Vec::new())
                .map_err(|e| match e {
                    DataError::Aborted(r) => DataError::Target {
                        target: s.shown.clone(),
                        reason: r,
                    },
                    other => other,
                }),
        }
    }

    /// Throws the new contents away; the target keeps what it had.
    pub async fn abort(self) {
        match self.inner {
            Inner::Pg(p) => {
                let _ = p
                    .admin
                    .batch_execute(&format!(
                        "DROP SCHEMA IF EXISTS {} CASCADE",
                        pg::ident(&p.load_ns)
                    ))
                    .await;
                let _ = p
                    .admin
                    .batch_execute("SELECT pg_advisory_unlock_all()")
                    .await;
            }
            Inner::Sqlite(s) => s.load.abort(),
            Inner::Snapshot(s) => s.abort(),
            Inner::Mysql(m) => m.abort().await,
        }
    }

    /// For SQLite: the writer's own error when it stopped early.
    pub fn writer_error(&mut self) -> Option<DataError> {
        match &mut self.inner {
            Inner::Sqlite(s) => s.load.writer_error(),
            Inner::Pg(_) | Inner::Snapshot(_) | Inner::Mysql(_) => None,
        }
    }
}

fn specs_with_types(schema: &Schema, tables: &[&Table]) -> Vec<TableSpec> {
    tables
        .iter()
        .map(|t| {
            let cols = copy_columns(t);
            let names: Vec<String> = cols.iter().map(|c| sqlite::ident(c)).collect();
            TableSpec {
                insert_sql: format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    sqlite::ident(&t.name),
                    names.join(", "),
                    vec!["?"; cols.len()].join(", ")
                ),
                source_types: t
                    .columns
                    .iter()
                    .filter(|c| c.generated.is_none())
                    .map(|c| sqlite::write::SourceType {
                        oid: if schema.engine == "postgres" {
                            c.pg_oid
                        } else {
                            0
                        },
                        kind: if schema.engine == "postgres" && c.kind == crate::schema::Kind::Other
                        {
                            crate::schema::Kind::Text
                        } else {
                            c.kind
                        },
                    })
                    .collect(),
            }
        })
        .collect()
}

pub struct PgWriter {
    w: CopyWriter,
    enc: RowEncoder,
    table: String,
    client: Client,
    /// Where the connection goes back once the table is committed.
    pool: Arc<Pool>,
}

/// Writes one table's rows.
pub enum TableWriter {
    Pg(Box<PgWriter>),
    Sqlite { tx: SqliteSender, idx: usize },
    Snapshot(Box<SnapshotTableWriter>),
    Mysql(Box<crate::mysql::target::MysqlWriter>),
}

impl TableWriter {
    pub async fn write(&mut self, batch: Batch) -> Result<()> {
        match self {
            TableWriter::Pg(p) => {
                p.enc.encode(batch, p.w.buf())?;
                p.w.maybe_flush().await
            }
            TableWriter::Sqlite { tx, idx } => tx.send(*idx, batch).await,
            TableWriter::Snapshot(s) => s.write(batch).await,
            TableWriter::Mysql(m) => m.write(batch).await,
        }
    }

    pub async fn finish(self) -> Result<()> {
        match self {
            TableWriter::Pg(p) => {
                let PgWriter {
                    w,
                    client,
                    table,
                    pool,
                    ..
                } = *p;
                w.finish().await?;
                client
                    .batch_execute("COMMIT")
                    .await
                    .map_err(DataError::pg(format!("committing table {table}")))?;
                pool.put(client);
                Ok(())
            }
            TableWriter::Sqlite { .. } => Ok(()),
            TableWriter::Snapshot(s) => s.finish().await.map(|_| ()),
            TableWriter::Mysql(m) => m.finish().await.map(|_| ()),
        }
    }
}

/// Writes one table's binary COPY stream as it is (see [`Target::raw_writer`]).
pub struct RawTableWriter {
    w: RawCopyWriter,
    table: String,
    client: Client,
    /// Where the connection goes back once the table is committed.
    pool: Arc<Pool>,
}

impl RawTableWriter {
    pub async fn send(&mut self, chunk: bytes::Bytes) -> Result<()> {
        self.w.send(chunk).await
    }

    /// Ends the stream and commits the table; returns the rows PostgreSQL took.
    pub async fn finish(self) -> Result<u64> {
        let rows = self.w.finish().await?;
        self.client
            .batch_execute("COMMIT")
            .await
            .map_err(DataError::pg(format!("committing table {}", self.table)))?;
        self.pool.put(self.client);
        Ok(rows)
    }
}

/// A table's binary COPY stream written as it is (see [`Target::raw_writer`]).
pub enum RawWriter {
    Pg(Box<RawTableWriter>),
    Snapshot(Box<SnapshotTableWriter>),
}

impl RawWriter {
    pub async fn send(&mut self, chunk: bytes::Bytes) -> Result<()> {
        match self {
            RawWriter::Pg(w) => w.send(chunk).await,
            RawWriter::Snapshot(w) => w.write_raw(chunk).await,
        }
    }

    /// Ends the stream; returns the rows written.
    pub async fn finish(self) -> Result<u64> {
        match self {
            RawWriter::Pg(w) => w.finish().await,
            RawWriter::Snapshot(w) => w.finish().await,
        }
    }
}
