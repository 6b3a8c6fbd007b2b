//! prodlike catalog: one reader of database catalogs, for every command that needs to know what
//! a database holds. `data` copies from it, `drift schema` compares two of them.
//!
//! [`postgres::read`] queries `pg_catalog` through a connected tokio-postgres `Client`;
//! [`sqlite::read`] reads `sqlite_master` and the table pragmas through a rusqlite
//! `Connection`. Both take the connection rather than a URL, so the caller keeps control of the
//! session (a copy reads inside its snapshot transaction), and both give one model,
//! [`Catalog`]: tables (partition-aware) with columns (types, nullability, defaults, generated,
//! identity, collation), primary and unique keys, foreign keys, check and other constraints and
//! indexes; views; sequences; enum types; and on request ([`Options::server`]) the server's
//! version, settings and extensions. [`postgres::table_sizes`] reads statistics.
//!
//! PostgreSQL's functions, triggers, comments and extensions are in [`Catalog::objects`]
//! ([`routines`]).
//!
//! Partitions come with their parent and bound, partitioned tables with their key, inheritance
//! children with their parents; domains and composite types beside enums; sequences with their
//! position. Privileges on a schema and its relations are read on their own ([`postgres::privileges`]).
//! [`mysql::read`] queries a MySQL or MariaDB server's `information_schema` through a connected
//! mysql_async `Conn` (a schema is a database); [`mysql::url`] parses `mysql://` and
//! `mariadb://` URLs for every command.
//! Not read yet, with their places marked in [`model`]: range types.
#![forbid(unsafe_code)]
// Clean of unchecked indexing: keep it so (DEVELOPERS.md, Errors).
#![warn(clippy::indexing_slicing)]

pub mod error;
pub mod model;
pub mod mysql;
pub mod options;
pub mod postgres;
pub mod routines;
pub mod sqlite;

pub use error::CatalogError;
pub use model::{
    Catalog, Check, Column, CompositeType, Constraint, ConstraintKind, DomainType, Engine,
    EnumType, ForeignKey, Generated, Identity, Index, IndexKey, IndexOrigin, Key, OwnedBy,
    PartitionOf, PgType, PgTypeKind, Privilege, Sequence, Server, Table, TableKind, View,
};
pub use options::{Options, Scope};
pub use routines::{
    Comment, CommentOn, Extension, Function, FunctionKind, Policy, RelationSettings, SchemaObjects,
    Trigger, Undescribed,
};
