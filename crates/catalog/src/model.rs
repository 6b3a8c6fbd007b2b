//! The catalog model: what a database holds, engine-neutral where the engines agree and
//! explicit where they do not (a field says which engine fills it). Built to grow: range types
//! and grants are not read yet; each has a marked place below where it will go.
use std::collections::BTreeMap;

/// The database engine a catalog was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Engine {
    Postgres,
    Sqlite,
    /// MySQL or MariaDB ([`crate::mysql`]): a schema is a database.
    Mysql,
}

/// Everything read from one database.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Catalog {
    pub engine: Engine,
    /// Version, settings and extensions; `None` unless [`crate::Options::server`] asked for it.
    pub server: Option<Server>,
    /// Tables (ordinary, partitioned, foreign, and partitions), by schema then name (byte
    /// order).
    pub tables: Vec<Table>,
    /// Views and materialized views, by schema then name.
    pub views: Vec<View>,
    /// Sequences, by schema then name (PostgreSQL; SQLite has none in the file).
    pub sequences: Vec<Sequence>,
    /// Enum types, by schema then name (PostgreSQL).
    pub enums: Vec<EnumType>,
    /// Functions, triggers, comments and extensions (PostgreSQL; see [`crate::routines`]).
    pub objects: crate::routines::SchemaObjects,
    /// Domains, by schema then name (PostgreSQL).
    pub domains: Vec<DomainType>,
    /// Standalone composite types (`CREATE TYPE … AS (…)`, not tables' row types), by schema
    /// then name (PostgreSQL). Range types are not read yet.
    pub composites: Vec<CompositeType>,
    // Not read yet: grants (a list of its own, by schema then name).
}

/// The server and database-wide state.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Server {
    /// `15.4`, `3.45.1`: the first word of the server's version string.
    pub version: String,
    /// 15, 3.
    pub major: i64,
    /// Settings a new session of this database gets that differ from the built-in defaults,
    /// written as the server prints them (`128MB`, `30s`). PostgreSQL: `pg_settings` rows not at
    /// their default (nor set per connection: `client`, `session`, `interactive`, `override`),
    /// overridden by `ALTER DATABASE … SET`. SQLite: the pragmas stored in the file
    /// (application_id, auto_vacuum, encoding, journal_mode, page_size, user_version).
    pub settings: BTreeMap<String, String>,
    /// `ALTER ROLE … IN DATABASE … SET` values, by role then setting (PostgreSQL).
    pub role_settings: BTreeMap<String, BTreeMap<String, String>>,
    /// Installed extensions and their versions (PostgreSQL; always empty for SQLite).
    pub extensions: BTreeMap<String, String>,
}

/// What kind of table a relation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TableKind {
    /// Holds rows (a partition is one too, see [`Table::is_partition`]).
    Ordinary,
    /// PostgreSQL `PARTITION BY`: rows live in its partitions.
    Partitioned,
    /// PostgreSQL foreign table.
    Foreign,
}

/// One table.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Table {
    /// PostgreSQL schema; `main` for SQLite; the database for MySQL.
    pub schema: String,
    pub name: String,
    pub kind: TableKind,
    /// A partition of another table (see `partition_of`).
    pub is_partition: bool,
    /// A partition's parent and bound (PostgreSQL).
    pub partition_of: Option<PartitionOf>,
    /// A partitioned table's key as `pg_get_partkeydef` prints it (`RANGE (paid)`).
    pub partition_key: Option<String>,
    /// `INHERITS` parents in order, each `(schema, table)` (PostgreSQL; never a partition's
    /// parent).
    pub inherits: Vec<(String, String)>,
    /// Constraints and indexes this table has from its parent, by name (PostgreSQL): a
    /// partition's keys, foreign keys, checks and indexes made from its partitioned table's, an
    /// inheritance child's inherited checks. The others are the table's own.
    pub inherited: Vec<String>,
    /// Created by an extension (PostgreSQL), so not the application's own.
    pub extension_member: bool,
    /// In column order.
    pub columns: Vec<Column>,
    pub primary_key: Option<Key>,
    /// UNIQUE constraints, by name (PostgreSQL) or in index-list order (SQLite). A unique
    /// index that is not a constraint is an [`Index`] with `unique`.
    pub uniques: Vec<Key>,
    /// By name (PostgreSQL); SQLite: in `PRAGMA foreign_key_list` id order (0, 1, …).
    pub foreign_keys: Vec<ForeignKey>,
    /// CHECK constraints, by name (PostgreSQL; SQLite keeps them only in `create_sql`).
    pub checks: Vec<Check>,
    /// Constraints of other kinds (exclusion, not-null as a catalog entry, constraint
    /// triggers), by name (PostgreSQL).
    pub other_constraints: Vec<Constraint>,
    /// Every index on the table, those that back a constraint included (see
    /// [`Index::origin`]), by name.
    pub indexes: Vec<Index>,
    /// SQLite: the `CREATE TABLE` statement as stored. MySQL: `SHOW CREATE TABLE`, its
    /// `AUTO_INCREMENT=` clause included (the position when it was read).
    pub create_sql: Option<String>,
    /// MySQL: the next AUTO_INCREMENT value (`information_schema.TABLES.AUTO_INCREMENT`);
    /// `None` for a table without an AUTO_INCREMENT column and for other engines.
    #[serde(default)]
    pub auto_increment: Option<u64>,
}

/// Where a partition sits in its parent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartitionOf {
    pub schema: String,
    pub table: String,
    /// `pg_get_expr(relpartbound)`: `FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')`,
    /// `DEFAULT`.
    pub bound: String,
}

/// One column.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Column {
    pub name: String,
    /// The type as DDL writes it: PostgreSQL's `format_type` (`character varying(80)`,
    /// qualified when its schema is not on the session's search_path); SQLite's declared type
    /// (`INTEGER`, or empty).
    pub sql_type: String,
    /// PostgreSQL: the type's catalog entry.
    pub pg_type: Option<PgType>,
    /// NULL allowed. SQLite: a primary-key column is never nullable.
    pub nullable: bool,
    /// Default expression as the engine prints it; never a generation expression.
    pub default: Option<String>,
    pub generated: Option<Generated>,
    pub identity: Option<Identity>,
    /// A collation other than the type's default (PostgreSQL).
    pub collation: Option<String>,
    /// SQLite: a hidden column of a virtual table (`PRAGMA table_xinfo` hidden = 1).
    pub hidden: bool,
}

/// A PostgreSQL type as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PgType {
    pub oid: u32,
    /// `pg_type.typname`, unqualified (`int4`, `citext`, `mood`).
    pub name: String,
    pub kind: PgTypeKind,
}

/// `pg_type.typtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PgTypeKind {
    Base,
    Composite,
    Domain,
    Enum,
    Pseudo,
    Range,
    Multirange,
}

/// A generated column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Generated {
    /// The generation expression (PostgreSQL; SQLite's pragmas do not give it).
    pub expression: Option<String>,
    pub stored: bool,
}

/// An identity column (PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Identity {
    /// `GENERATED ALWAYS AS IDENTITY`.
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    ByDefault,
    /// MySQL `AUTO_INCREMENT` (the table's position is [`Table::auto_increment`]).
    AutoIncrement,
}

/// A primary key or a unique constraint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Key {
    /// The constraint's name; `None` where the engine does not report one (SQLite primary
    /// keys).
    pub name: Option<String>,
    pub columns: Vec<String>,
    /// The engine's own definition (PostgreSQL `pg_get_constraintdef`: `PRIMARY KEY (id)`).
    pub definition: Option<String>,
}

/// A foreign key `columns → ref_schema.ref_table(ref_columns)`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ForeignKey {
    /// The constraint's name (PostgreSQL); SQLite does not report one.
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub ref_schema: String,
    pub ref_table: String,
    /// Empty when the key names no columns (SQLite `REFERENCES parent`): the parent's primary
    /// key.
    pub ref_columns: Vec<String>,
    /// `NO ACTION`, `RESTRICT`, `CASCADE`, `SET NULL` or `SET DEFAULT`.
    pub on_update: String,
    /// Same words as `on_update`.
    pub on_delete: String,
    /// PostgreSQL `DEFERRABLE`.
    pub deferrable: bool,
    /// PostgreSQL's definition (`FOREIGN KEY (a) REFERENCES t(b) DEFERRABLE`).
    pub definition: Option<String>,
}

/// A CHECK constraint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Check {
    pub name: String,
    /// `CHECK ((total >= (0)::numeric))`.
    pub definition: String,
}

/// A constraint of a kind the model has no field of its own for.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    pub definition: String,
}

/// `pg_constraint.contype` for [`Constraint`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConstraintKind {
    Exclusion,
    /// PostgreSQL 18 records NOT NULL as a constraint too.
    NotNull,
    Trigger,
    /// A kind newer than this reader.
    Other,
}

/// An index.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Index {
    pub name: String,
    /// Key parts in order; PostgreSQL INCLUDE columns follow the keys.
    pub columns: Vec<IndexKey>,
    pub unique: bool,
    /// Why it exists.
    pub origin: IndexOrigin,
    /// The statement: PostgreSQL `pg_get_indexdef`; SQLite the stored `CREATE INDEX` (`None`
    /// for the indexes SQLite makes itself for keys).
    pub definition: Option<String>,
}

/// One key part of an index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IndexKey {
    Column(String),
    /// An expression (or SQLite's rowid).
    Expression,
}

/// Why an index exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IndexOrigin {
    /// `CREATE INDEX`.
    Created,
    /// Backs the primary key.
    PrimaryKey,
    /// Backs a UNIQUE constraint.
    Unique,
    /// Backs an exclusion constraint (PostgreSQL).
    Exclusion,
}

/// A view or materialized view.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct View {
    pub schema: String,
    pub name: String,
    pub materialized: bool,
    /// PostgreSQL: the query as `pg_get_viewdef` prints it; SQLite: the stored `CREATE VIEW`.
    pub definition: String,
    /// Indexes of a materialized view, by name.
    pub indexes: Vec<Index>,
    /// Created by an extension (PostgreSQL).
    pub extension_member: bool,
}

/// A sequence (PostgreSQL).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    /// `bigint`, `integer`, `smallint`.
    pub data_type: String,
    pub start: i64,
    pub min: i64,
    pub max: i64,
    pub increment: i64,
    pub cycle: bool,
    pub cache: i64,
    /// The column that owns it (`serial`, `OWNED BY`), or an identity column's.
    pub owned_by: Option<OwnedBy>,
    /// Made for an identity column (the column owns it; dropped with it).
    pub identity: bool,
    /// The value `nextval` returned last (`pg_sequences.last_value`); `None` before the first
    /// call, or when the reading role may not see it.
    pub last_value: Option<i64>,
}

/// A column that owns a sequence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OwnedBy {
    pub schema: String,
    pub table: String,
    pub column: String,
}

/// An enum type (PostgreSQL).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EnumType {
    pub schema: String,
    pub name: String,
    /// In sort order.
    pub labels: Vec<String>,
}

/// A domain (PostgreSQL).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DomainType {
    /// Creation order among the user types: a type is made after those it uses.
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// The underlying type as `format_type` prints it (`integer`, `character varying(20)`).
    pub base_type: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// A collation other than the base type's.
    pub collation: Option<String>,
    /// CHECK constraints by name: `(name, CHECK ((VALUE >= 1901)))`.
    pub checks: Vec<(String, String)>,
}

/// A standalone composite type (PostgreSQL).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CompositeType {
    /// Creation order among the user types.
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// Attributes in order: `(name, type as format_type prints it)`.
    pub attributes: Vec<(String, String)>,
}

impl Catalog {
    /// The table `schema.name`.
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.schema == schema && t.name == name)
    }
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl Index {
    /// The key columns' names when every key part is a plain column; `None` when one is an
    /// expression.
    pub fn column_names(&self) -> Option<Vec<String>> {
        self.columns
            .iter()
            .map(|k| match k {
                IndexKey::Column(c) => Some(c.clone()),
                IndexKey::Expression => None,
            })
            .collect()
    }
}

impl ForeignKey {
    /// `NO ACTION`… for PostgreSQL's one-letter `confupdtype`/`confdeltype`.
    pub(crate) fn action_words(code: &str) -> &'static str {
        match code {
            "r" => "RESTRICT",
            "c" => "CASCADE",
            "n" => "SET NULL",
            "d" => "SET DEFAULT",
            _ => "NO ACTION",
        }
    }
}

/// One privilege a role (or PUBLIC) holds on a schema or on one of its tables, views,
/// materialized views or sequences, beyond what owning the object gives
/// ([`crate::postgres::privileges`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Privilege {
    /// `None` for the schema itself.
    pub relation: Option<String>,
    /// The relation's `pg_class.relkind` (`r`, `p`, `v`, `m`, `S`); `n` for the schema.
    pub kind: String,
    /// `SELECT`, `INSERT`, `USAGE`, …
    pub privilege: String,
    /// `None` for PUBLIC.
    pub grantee: Option<String>,
    /// Held `WITH GRANT OPTION`.
    pub grantable: bool,
    /// A column privilege's column (`GRANT SELECT (title) ON films`); `None` for the
    /// relation's own.
    pub column: Option<String>,
}

impl Privilege {
    /// The object as a reader names it: `schema public`, `table orders`, `view v`,
    /// `materialized view m`, `sequence s`, `column orders.note` (`ns`: the schema's name).
    pub fn object(&self, ns: &str) -> String {
        let kind = match self.kind.as_str() {
            "S" => "sequence",
            "v" => "view",
            "m" => "materialized view",
            _ => "table",
        };
        match (&self.relation, &self.column) {
            (None, _) => format!("schema {ns}"),
            (Some(rel), None) => format!("{kind} {rel}"),
            (Some(rel), Some(col)) => format!("column {rel}.{col}"),
        }
    }

    /// `PUBLIC` or the role's name.
    pub fn grantee_name(&self) -> &str {
        self.grantee.as_deref().unwrap_or("PUBLIC")
    }
}
