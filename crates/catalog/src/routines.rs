//! The catalog model's code and annotations (PostgreSQL): functions and procedures, triggers,
//! comments, and the extensions installed with the schema each lives in. Read by
//! `postgres/routines.rs` into [`crate::Catalog::objects`]; SQLite leaves it empty. Objects an
//! extension created (`pg_depend.deptype = 'e'`) are left out: they come back with the
//! extension, never one by one.

/// Functions, triggers, comments and extensions (PostgreSQL).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SchemaObjects {
    /// Functions, procedures and aggregates in scope, by schema, name, then arguments.
    pub functions: Vec<Function>,
    /// User triggers (not the internal ones behind foreign keys, nor clones on partitions), by
    /// schema, table, then name.
    pub triggers: Vec<Trigger>,
    /// Comments on objects in scope.
    pub comments: Vec<Comment>,
    /// Every extension of the database (extensions are database-wide), by name.
    pub extensions: Vec<Extension>,
    /// Tables, views and materialized views in scope with a setting beyond their definition
    /// (row-level security, storage or view options, replica identity), by schema then name.
    pub settings: Vec<RelationSettings>,
    /// Row-level security policies, by schema, table, then name.
    pub policies: Vec<Policy>,
    /// Objects and properties in scope that this model does not describe (rules, range types,
    /// unlogged tables, extended statistics, comments on constraints and
    /// triggers): read only so that a consumer can say what it leaves out, never silently.
    pub undescribed: Vec<Undescribed>,
}

/// A relation's settings beyond its definition: only relations with at least one are listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RelationSettings {
    pub schema: String,
    pub name: String,
    /// `pg_class.relkind`: `r`, `p`, `v` or `m`.
    pub relkind: String,
    /// `pg_class.reloptions` as stored (`fillfactor=70`, `security_barrier=true`,
    /// `check_option=local`).
    pub options: Vec<String>,
    /// `FULL`, `NOTHING` or `USING INDEX name`; `None` for the default.
    pub replica_identity: Option<String>,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub row_security: bool,
    /// `FORCE ROW LEVEL SECURITY` (the owner too is subject to the policies).
    pub force_row_security: bool,
}

/// A row-level security policy (`pg_policy`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `PERMISSIVE` or `RESTRICTIVE`.
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// The roles it applies to; empty for PUBLIC.
    pub roles: Vec<String>,
    /// `USING (…)`, as `pg_get_expr` prints it.
    pub using: Option<String>,
    /// `WITH CHECK (…)`.
    pub with_check: Option<String>,
}

/// An object or property the model does not describe (see [`SchemaObjects::undescribed`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Undescribed {
    /// `row-level security policy`, `rule`, `range type`, `unlogged table`…
    pub kind: String,
    /// `table.policy`, `table`, `type`…
    pub name: String,
    /// What it holds, when short (`fillfactor=70`, `FULL`); empty otherwise.
    pub detail: String,
}

/// `pg_proc.prokind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FunctionKind {
    Function,
    Procedure,
    Aggregate,
    Window,
}

/// A function, procedure or aggregate.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// `pg_get_function_identity_arguments`: `a integer, b text` (what `COMMENT ON FUNCTION`
    /// and `DROP FUNCTION` need).
    pub arguments: String,
    pub kind: FunctionKind,
    /// `plpgsql`, `sql`, `c`, `internal`.
    pub language: String,
    /// The statement that recreates it: `pg_get_functiondef` (`CREATE OR REPLACE FUNCTION
    /// schema.name(…)`, the name always qualified), or for a plain aggregate a `CREATE
    /// AGGREGATE` built from `pg_aggregate`. `None` when it cannot be written (ordered-set and
    /// moving aggregates): [`Function::unwritable`] says why.
    pub definition: Option<String>,
    /// Why [`Function::definition`] is `None`.
    pub unwritable: Option<String>,
    /// A SQL-standard body (`BEGIN ATOMIC … END`, `RETURN …`), parsed when it is created, so
    /// the names in it are bound then; other bodies are text resolved at each call.
    pub sql_body: bool,
}

/// A trigger.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Trigger {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `pg_get_triggerdef`: `CREATE TRIGGER … ON table … EXECUTE FUNCTION f()`.
    pub definition: String,
    /// `pg_trigger.tgenabled`: `O` (origin, the default), `D` disabled, `R` replica, `A`
    /// always.
    pub enabled: String,
}

/// What a comment is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CommentOn {
    Table,
    ForeignTable,
    Column,
    View,
    MaterializedView,
    Sequence,
    Index,
    Function,
    Procedure,
    Aggregate,
    Type,
    Domain,
}

impl CommentOn {
    /// The words after `COMMENT ON`.
    pub fn sql(self) -> &'static str {
        match self {
            CommentOn::Table => "TABLE",
            CommentOn::ForeignTable => "FOREIGN TABLE",
            CommentOn::Column => "COLUMN",
            CommentOn::View => "VIEW",
            CommentOn::MaterializedView => "MATERIALIZED VIEW",
            CommentOn::Sequence => "SEQUENCE",
            CommentOn::Index => "INDEX",
            CommentOn::Function => "FUNCTION",
            CommentOn::Procedure => "PROCEDURE",
            CommentOn::Aggregate => "AGGREGATE",
            CommentOn::Type => "TYPE",
            CommentOn::Domain => "DOMAIN",
        }
    }
}

/// A comment (`obj_description`, `col_description`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Comment {
    pub on: CommentOn,
    pub schema: String,
    /// The relation, function or type.
    pub name: String,
    /// A column's name ([`CommentOn::Column`]).
    pub column: Option<String>,
    /// A function's identity arguments (functions, procedures, aggregates).
    pub arguments: Option<String>,
    pub text: String,
}

/// An installed extension.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extension {
    pub name: String,
    pub version: String,
    /// The schema its objects are in (`public`, `extensions`, `pg_catalog`).
    pub schema: String,
    /// `ALTER EXTENSION … SET SCHEMA` can move it.
    pub relocatable: bool,
}
