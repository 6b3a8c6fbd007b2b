//! `prodlike.data.profile/1`: what `prodlike data profile` found in a database — its schema,
//! row counts, per-column distributions, foreign-key fan-out and PII detections (never a value
//! of a PII column). `data synth --profile` reads it back.
//!
//! `crates/data` works on its own model (schema.rs, profile/) and converts it into these types
//! when it writes a result (data/src/published.rs): its schema model carries the foreign-key
//! graph algorithms the planner and synthesiser use, which are no part of the document.
use std::net::IpAddr;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::shared::{Evidence, PiiKind};

pub const SCHEMA: &str = "prodlike.data.profile/1";

/// Layout version of profile files (`version`).
pub const PROFILE_VERSION: u32 = 1;

/// A value and how often it occurs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Frequency {
    pub value: String,
    pub count: u64,
}

/// One column's profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ColumnProfile {
    pub name: String,
    pub kind: Kind,
    pub null_fraction: f64,
    pub distinct: u64,
    /// Detected PII kind; such columns hold no values here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii: Option<PiiKind>,
    /// All values with their counts when the column is categorical (at most 200 values), else
    /// the most frequent values seen at least 5 times; never for PII columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frequencies: Vec<Frequency>,
    /// True when `frequencies` lists every value.
    #[serde(default)]
    pub frequencies_complete: bool,
    /// 0th..100th percentiles (numbers, dates as days, timestamps as seconds since 1970).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percentiles: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<Bucket>,
    /// Whether every number is whole.
    #[serde(default)]
    pub integral: bool,
    /// 0th..100th percentiles of text length (every 10%).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub length_percentiles: Vec<f64>,
    /// Most common shapes (`Aa+ Aa+`) with counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shapes: Vec<Frequency>,
    /// Most common JSON skeletons (strings replaced by shapes) with counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_skeletons: Vec<Frequency>,
    /// How closely the rows' physical order follows this column's order, from -1 to 1, as
    /// PostgreSQL's `pg_stats.correlation` has it (a statistic, no value): `data synth` lays
    /// keys out in the same order, since the planner prices index scans by it. Absent for
    /// other engines, columns never analyzed, and profiles made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<f64>,
}

/// One table's profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TableProfile {
    pub name: String,
    pub rows: u64,
    /// Share of rows read to build the column profiles (1 = all).
    pub profiled_fraction: f64,
    pub columns: Vec<ColumnProfile>,
}

/// How many children parent rows have along one foreign key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FanOut {
    pub child: String,
    pub columns: Vec<String>,
    pub parent: String,
    pub ref_columns: Vec<String>,
    pub parent_rows: u64,
    /// Parents with at least one child.
    pub parents_referenced: u64,
    /// Children with a NULL key.
    pub null_children: u64,
    pub mean: f64,
    pub max: u64,
    /// 0th..100th percentiles of children per parent (zeros included).
    pub percentiles: Vec<f64>,
}

/// A whole profile (`prodlike.data.profile/1`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Profile {
    pub version: u32,
    pub source: String,
    pub schema: Schema,
    pub tables: Vec<TableProfile>,
    pub fan_out: Vec<FanOut>,
    pub pii: Detections,
    /// Which database was profiled (system identifier and OID, or file), so that `data synth`
    /// refuses to write into it. Absent in profiles made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<DbIdentity>,
}

/// Equal-width histogram of a sample.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Bucket {
    pub lo: f64,
    pub hi: f64,
    pub count: u64,
}

/// Logical type of a column, shared by both engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bool,
    Int,
    Float,
    Decimal,
    Text,
    Bytes,
    Date,
    Timestamp,
    TimestampTz,
    Time,
    Uuid,
    Json,
    Inet,
    /// Anything else (arrays, intervals, ranges, geometry…): copied as is, never masked except
    /// by `null` or `keep`.
    Other,
}

/// One column.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Column {
    pub name: String,
    /// The engine's type as written in DDL (`character varying(80)`, `INTEGER`).
    pub sql_type: String,
    pub kind: Kind,
    pub nullable: bool,
    /// Default expression (PostgreSQL and SQLite syntax as read from the source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// PostgreSQL identity: `always` or `by_default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// PostgreSQL type oid (0 for SQLite); enum types are recorded as text-like.
    #[serde(default)]
    pub pg_oid: u32,
    /// Generation expression of a stored generated column (never copied; recomputed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
}

/// A foreign key `columns → ref_table(ref_columns)`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    /// Whether the constraint is deferrable (PostgreSQL).
    #[serde(default)]
    pub deferrable: bool,
    /// PostgreSQL's own definition (`FOREIGN KEY (a) REFERENCES t(b) DEFERRABLE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UniqueKey {
    pub name: String,
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// An index that backs no constraint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// Full `CREATE INDEX` statement as the source engine gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// A CHECK constraint (PostgreSQL; copied PostgreSQL to PostgreSQL only).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Check {
    pub name: String,
    pub definition: String,
}

/// One table.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<UniqueKey>,
    #[serde(default)]
    pub uniques: Vec<UniqueKey>,
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    #[serde(default)]
    pub indexes: Vec<Index>,
    #[serde(default)]
    pub checks: Vec<Check>,
    /// SQLite's original `CREATE TABLE` statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite_sql: Option<String>,
}

/// A PostgreSQL enum type used by a column.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EnumType {
    pub name: String,
    pub labels: Vec<String>,
}

/// A PostgreSQL sequence owned by or used in a column default.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Sequence {
    pub name: String,
    /// `table.column` whose maximum the sequence is set past after a load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<(String, String)>,
}

/// A database schema.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Schema {
    /// `postgres` or `sqlite`.
    pub engine: String,
    /// PostgreSQL schema name (`public`); `main` for SQLite.
    pub namespace: String,
    pub tables: Vec<Table>,
    #[serde(default)]
    pub enums: Vec<EnumType>,
    #[serde(default)]
    pub sequences: Vec<Sequence>,
}

/// A column detected as PII. Holds kinds and counts, never values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct DetectedColumn {
    pub table: String,
    pub column: String,
    pub kind: PiiKind,
    pub confidence: f64,
    pub evidence: Evidence,
    /// `free_text` or `name_list` when the people are inside the values, which are then masked
    /// span by span. Absent for whole values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Sampled values matching each class (`person_name`, `person_list`, `prose`,
    /// `prose_with_pii`, `known_person_name`): the evidence, as counts, never values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<ClassShare>,
}

/// `matched` of `sampled` values belong to `class`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ClassShare {
    pub class: String,
    pub matched: u64,
    pub sampled: u64,
}

/// A column named like a person (a bare `name`) whose values are not people: not masked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct VetoedColumn {
    pub table: String,
    pub column: String,
    /// The name pattern that matched.
    pub pattern: String,
    /// Sampled values matching each class.
    #[serde(default)]
    pub shares: Vec<ClassShare>,
    pub sampled: u64,
}

/// PII found inside a JSON column, by path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct DetectedJson {
    pub table: String,
    pub column: String,
    pub path: String,
    pub kind: PiiKind,
    pub confidence: f64,
}

/// Everything detection found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Detections {
    pub columns: Vec<DetectedColumn>,
    pub json: Vec<DetectedJson>,
    /// Columns named like people whose values are not (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vetoed: Vec<VetoedColumn>,
}

/// What identifies one database, independent of how its URL is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "engine", rename_all = "snake_case")]
pub enum DbIdentity {
    Postgres(PgIdentity),
    Sqlite(SqliteIdentity),
    /// MySQL or MariaDB (added in a later release of the data schemas).
    Mysql(MysqlIdentity),
}

/// A MySQL or MariaDB database as the server describes itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MysqlIdentity {
    /// `@@server_uuid` (MySQL); `None` on MariaDB, which has none.
    pub server_uuid: Option<String>,
    /// `@@hostname`.
    pub hostname: String,
    /// `@@port`.
    pub port: u16,
    /// `DATABASE()`: the schema.
    pub database: String,
    /// `@@lower_case_table_names` is not 0: database names compare without case.
    pub names_ignore_case: bool,
}

/// A PostgreSQL database as the server describes itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PgIdentity {
    /// `pg_control_system().system_identifier`: fixed when the cluster was made by `initdb`, kept
    /// by its physical replicas and base-backup clones. `None` when the function was refused.
    pub system_identifier: Option<u64>,
    /// `pg_database.oid` of `current_database()`.
    pub database_oid: u32,
    /// `current_database()`.
    pub database: String,
    /// `pg_postmaster_start_time()` in microseconds since 1970: tells server instances apart
    /// when the system identifier cannot be read.
    pub started_micros: i64,
    /// `inet_server_addr()`; `None` over a Unix socket.
    pub server_addr: Option<IpAddr>,
    /// `inet_server_port()`; `None` over a Unix socket.
    pub server_port: Option<i32>,
}

/// A SQLite file as the file system names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SqliteIdentity {
    /// The path with every symlink, `.` and `..` resolved; for a file not made yet, its folder's
    /// canonical path joined with its name.
    pub path: PathBuf,
    /// Device and inode of the file, when it exists (catches hard links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileId>,
}

/// Device and inode of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileId {
    pub device: u64,
    pub inode: u64,
}
