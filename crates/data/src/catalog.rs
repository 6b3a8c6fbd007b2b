//! The schema a copy works from, read through prodlike-catalog (the one reader of PostgreSQL's
//! and SQLite's catalogs) and cut down to data's model ([`crate::schema`]): the ordinary tables
//! and partitioned tables of one schema (partitions and inheritance parents in each table's
//! layout), their logical column kinds, the keys and indexes to rebuild on the target, the user
//! types (enums, domains, composites) and the sequences (options, position, users) to carry over.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use prodlike_catalog::{self as catalog, Catalog, CatalogError, IndexOrigin, Options, Scope};
use rusqlite::Connection;
use tokio_postgres::Client;

use crate::error::{DataError, Result};
use crate::pg::codec::kind_of;
use crate::schema::{
    Check, Column, EnumType, ForeignKey, Index, Kind, Layout, Partition, Schema, Sequence, Table,
    UniqueKey, UserType,
};

/// Reads every ordinary table of namespace `ns`, inside the session's current transaction. The
/// session's search_path is set to `ns` first so that type names, defaults and constraint
/// definitions come out unqualified and can be replayed in another schema.
pub async fn read_postgres(client: &Client, ns: &str) -> Result<Schema> {
    Ok(from_postgres(read_postgres_catalog(client, ns).await?, ns))
}

/// [`read_postgres`], with the whole catalog the tables were taken from (what `pg/objects.rs`
/// plans views, functions, triggers and comments from): one reading of the catalog where two
/// took about 25 ms each on the bench database.
pub async fn read_postgres_with_catalog(client: &Client, ns: &str) -> Result<(Schema, Catalog)> {
    let cat = read_postgres_catalog(client, ns).await?;
    Ok((from_postgres(cat.clone(), ns), cat))
}

async fn read_postgres_catalog(client: &Client, ns: &str) -> Result<Catalog> {
    client
        .batch_execute(&format!("SET search_path = {}", crate::pg::ident(ns)))
        .await
        .map_err(DataError::pg("reading the schema (search_path)"))?;
    catalog::postgres::read(client, &Options::schema(ns))
        .await
        .map_err(schema_error)
}

/// Reads the tables of a SQLite database.
pub fn read_sqlite(conn: &Connection) -> Result<Schema> {
    let cat = catalog::sqlite::read(conn, &Options::schema(catalog::sqlite::SCHEMA))
        .map_err(schema_error)?;
    Ok(from_sqlite(cat))
}

/// On-disk size of each table of namespace `ns` and its indexes in bytes, from the catalog (no
/// scan): a copy writes the one and builds the others again, and a table with large indexes
/// started late ended the load with its index builds alone (as MySQL's sizes count them too).
pub async fn table_sizes(client: &Client, ns: &str) -> Result<HashMap<String, u64>> {
    let sizes = catalog::postgres::table_sizes(client, &Scope::Schema(ns.to_string()))
        .await
        .map_err(|e| match e {
            CatalogError::Postgres { source, .. } => DataError::pg("reading table sizes")(source),
            other => schema_error(other),
        })?;
    Ok(sizes
        .into_iter()
        .map(|s| (s.name, s.bytes.saturating_add(s.index_bytes)))
        .collect())
}

fn schema_error(e: CatalogError) -> DataError {
    match e {
        CatalogError::Postgres { what, source } => {
            DataError::pg(format!("reading the schema ({what})"))(source)
        }
        CatalogError::Sqlite { what, source } => DataError::Sqlite {
            what: format!("reading the schema ({what})"),
            source,
        },
        CatalogError::NoSuchSchema { schema } => DataError::Invalid(format!(
            "schema `{schema}` does not exist in the source database; pass --schema with an existing one"
        )),
        CatalogError::Mysql { what, source } => DataError::Mysql {
            what: format!("reading the schema ({what})"),
            source,
        },
    }
}

/// Ordinary and partitioned tables (a partitioned table is one table here, its partitions part
/// of its [`Layout`]), inheritance children with their parents, and foreign keys only between
/// them. Foreign tables are not copied.
fn from_postgres(cat: Catalog, ns: &str) -> Schema {
    let partitions: Vec<catalog::Table> = cat
        .tables
        .iter()
        .filter(|t| t.is_partition)
        .cloned()
        .collect();
    let tables: Vec<catalog::Table> = cat
        .tables
        .into_iter()
        .filter(|t| {
            matches!(
                t.kind,
                catalog::TableKind::Ordinary | catalog::TableKind::Partitioned
            ) && !t.is_partition
        })
        .collect();
    let names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let partition_names: BTreeSet<&str> = partitions.iter().map(|p| p.name.as_str()).collect();
    let parents_of_children: BTreeSet<String> = tables
        .iter()
        .flat_map(|t| t.inherits.iter())
        .filter(|(s, p)| s == ns && names.contains(p))
        .map(|(_, p)| p.clone())
        .collect();
    let checks_of: HashMap<String, Vec<(String, String)>> = tables
        .iter()
        .map(|t| {
            let checks = t
                .checks
                .iter()
                .map(|c| (c.name.clone(), c.definition.clone()))
                .collect();
            (t.name.clone(), checks)
        })
        .collect();
    let tables = tables
        .into_iter()
        .map(|mut t| {
            t.foreign_keys.retain(|fk| {
                let inside = fk.ref_schema == ns && names.contains(&fk.ref_table);
                // PostgreSQL adds one key per partition of a referenced partitioned table; the
                // key on the partitioned table stands for them.
                let to_partition =
                    fk.ref_schema == ns && partition_names.contains(fk.ref_table.as_str());
                if !inside && !to_partition {
                    tracing::warn!(
                        "foreign key {} references a table outside schema {ns}; it is not copied",
                        fk.name.as_deref().unwrap_or_default()
                    );
                }
                inside
            });
            let layout = layout_of(&t, ns, &names, &partitions, &parents_of_children);
            // A child gets its parents' checks from them; adding one again would collide.
            t.checks.retain(|c| {
                !layout.inherits.iter().any(|p| {
                    checks_of.get(p).is_some_and(|pc| {
                        pc.iter().any(|(n, d)| *n == c.name && *d == c.definition)
                    })
                })
            });
            let mut table = convert_table(t, |c| {
                let (oid, text_like) = match &c.pg_type {
                    Some(ty) => (
                        ty.oid,
                        ty.kind == catalog::PgTypeKind::Enum
                            || matches!(ty.name.as_str(), "citext" | "ltree"),
                    ),
                    None => (0, false),
                };
                (kind_of(oid, text_like), oid)
            });
            table.layout = layout;
            table
        })
        .collect::<Vec<Table>>();
    let sequences = sequences_of(cat.sequences, &tables, ns);
    Schema {
        engine: "postgres".into(),
        namespace: ns.to_owned(),
        tables,
        enums: cat
            .enums
            .into_iter()
            .map(|e| EnumType {
                name: e.name,
                labels: e.labels,
            })
            .collect(),
        sequences,
        types: user_types(cat.domains, cat.composites),
    }
}

/// A table's partitions (every level, parents first) or inheritance parents.
fn layout_of(
    t: &catalog::Table,
    ns: &str,
    names: &BTreeSet<String>,
    partitions: &[catalog::Table],
    parents_of_children: &BTreeSet<String>,
) -> Layout {
    let mut layout = Layout {
        partition_key: t.partition_key.clone(),
        has_children: parents_of_children.contains(&t.name),
        ..Layout::default()
    };
    let mut level = vec![t.name.clone()];
    while !level.is_empty() {
        let mut next = Vec::new();
        for p in partitions {
            let Some(of) = &p.partition_of else { continue };
            if of.schema == t.schema && level.contains(&of.table) {
                layout
                    .partitions
                    .push(own_objects(p, &of.table, &of.bound, ns, names));
                next.push(p.name.clone());
            }
        }
        level = next;
    }
    for (schema, parent) in &t.inherits {
        if schema == ns && names.contains(parent) {
            layout.inherits.push(parent.clone());
        } else {
            tracing::warn!(
                "table {} inherits from {schema}.{parent}, outside the copied schema; it is copied as a table of its own",
                t.name
            );
        }
    }
    layout
}

/// A partition with its own keys, checks, indexes and foreign keys (to copied tables).
fn own_objects(
    p: &catalog::Table,
    parent: &str,
    bound: &str,
    ns: &str,
    names: &BTreeSet<String>,
) -> Partition {
    let own = |name: &str| !p.inherited.iter().any(|n| n == name);
    let t = convert_table(p.clone(), |_| (Kind::Other, 0));
    Partition {
        name: p.name.clone(),
        parent: parent.to_owned(),
        bound: bound.to_owned(),
        partition_key: p.partition_key.clone(),
        keys: t
            .primary_key
            .into_iter()
            .chain(t.uniques)
            .filter(|k| own(&k.name))
            .collect(),
        checks: t.checks.into_iter().filter(|c| own(&c.name)).collect(),
        indexes: t.indexes.into_iter().filter(|i| own(&i.name)).collect(),
        foreign_keys: p
            .foreign_keys
            .iter()
            .zip(t.foreign_keys)
            .filter(|(c, fk)| own(&fk.name) && c.ref_schema == ns && names.contains(&fk.ref_table))
            .map(|(_, fk)| fk)
            .collect(),
    }
}

/// Every sequence of the schema with its options, source position and the columns that draw
/// from it (an identity column's sequence included: its options go into the column).
fn sequences_of(seqs: Vec<catalog::Sequence>, tables: &[Table], ns: &str) -> Vec<Sequence> {
    seqs.into_iter()
        .map(|s| {
            let used_by = tables
                .iter()
                .flat_map(|t| {
                    t.columns
                        .iter()
                        .filter(|c| {
                            c.default
                                .as_deref()
                                .and_then(|d| nextval_of(d, ns))
                                .is_some_and(|n| n == s.name)
                        })
                        .map(|c| (t.name.clone(), c.name.clone()))
                })
                .collect();
            let as_type = if s.identity {
                String::new()
            } else {
                format!("AS {} ", s.data_type)
            };
            Sequence {
                options: Some(format!(
                    "{as_type}INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
                    s.increment,
                    s.min,
                    s.max,
                    s.start,
                    s.cache,
                    if s.cycle { "CYCLE" } else { "NO CYCLE" }
                )),
                last_value: s.last_value,
                descending: s.increment < 0,
                identity: s.identity,
                owned_by: s
                    .owned_by
                    .filter(|o| o.schema == ns)
                    .map(|o| (o.table, o.column)),
                used_by,
                name: s.name,
            }
        })
        .collect()
}

/// The sequence a default `nextval('name'::regclass)` draws from, when it is in schema `ns`
/// (printed unqualified, since the schema is read with `ns` as the search path).
fn nextval_of(default: &str, ns: &str) -> Option<String> {
    let inner = default
        .strip_prefix("nextval('")?
        .strip_suffix("'::regclass)")?
        .replace("''", "'");
    let parts = split_qualified(&inner);
    match parts.as_slice() {
        [name] => Some(name.clone()),
        [schema, name] if schema == ns => Some(name.clone()),
        _ => None,
    }
}

/// `a."B.c"` → `["a", "B.c"]`: a possibly quoted, possibly qualified name.
fn split_qualified(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// Domains and composite types as DDL, in creation order (a type after those it uses).
fn user_types(
    domains: Vec<catalog::DomainType>,
    composites: Vec<catalog::CompositeType>,
) -> Vec<UserType> {
    let mut out: Vec<(u32, UserType)> = domains
        .into_iter()
        .map(|d| {
            let mut body = format!("AS {}", d.base_type);
            if let Some(c) = &d.collation {
                body.push_str(&format!(" COLLATE {}", crate::pg::ident(c)));
            }
            if let Some(def) = &d.default {
                body.push_str(&format!(" DEFAULT {def}"));
            }
            if d.not_null {
                body.push_str(" NOT NULL");
            }
            for (name, check) in &d.checks {
                body.push_str(&format!(" CONSTRAINT {} {check}", crate::pg::ident(name)));
            }
            (
                d.oid,
                UserType {
                    name: d.name,
                    create: "CREATE DOMAIN".into(),
                    body,
                },
            )
        })
        .collect();
    out.extend(composites.into_iter().map(|c| {
        let attrs: Vec<String> = c
            .attributes
            .iter()
            .map(|(n, ty)| format!("{} {ty}", crate::pg::ident(n)))
            .collect();
        (
            c.oid,
            UserType {
                name: c.name,
                create: "CREATE TYPE".into(),
                body: format!("AS ({})", attrs.join(", ")),
            },
        )
    }));
    out.sort_by_key(|(oid, _)| *oid);
    out.into_iter().map(|(_, t)| t).collect()
}

/// A MySQL database's tables as data models them (`create_sql`: `SHOW CREATE TABLE`, which a
/// MySQL target replays). A column of a type data cannot copy is refused here, naming it.
pub fn from_mysql(cat: Catalog, database: &str) -> Result<Schema> {
    let mut tables = Vec::new();
    for t in cat.tables {
        let json_checked: BTreeSet<String> = t
            .checks
            .iter()
            .filter_map(|c| {
                let inner = c.definition.strip_prefix("CHECK (json_valid(")?;
                let col = inner.split(')').next()?.trim_matches('`');
                Some(col.to_string())
            })
            .collect();
        for c in &t.columns {
            if crate::mysql::kind_of(&c.sql_type, false).is_none() {
                return Err(DataError::UnsupportedType {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    sql_type: c.sql_type.clone(),
                });
            }
        }
        let mut t = t;
        t.foreign_keys.retain(|fk| {
            let inside = fk.ref_schema == database;
            if !inside {
                tracing::warn!(
                    "foreign key {} of {} references {}.{}, outside database {database}; it is not checked",
                    fk.name.as_deref().unwrap_or_default(),
                    t.name,
                    fk.ref_schema,
                    fk.ref_table
                );
            }
            inside
        });
        let table = convert_table(t, |c| {
            let json = json_checked.contains(&c.name);
            (
                crate::mysql::kind_of(&c.sql_type, json).unwrap_or(Kind::Other),
                0,
            )
        });
        tables.push(table);
    }
    Ok(Schema {
        engine: "mysql".into(),
        namespace: database.to_owned(),
        tables,
        enums: vec![],
        sequences: vec![],
        types: vec![],
    })
}

fn from_sqlite(cat: Catalog) -> Schema {
    let mut tables: Vec<Table> = cat
        .tables
        .into_iter()
        .filter(|t| !like_sqlite_underscore(&t.name))
        .map(|t| convert_table(t, |c| (kind_of_declared(&c.sql_type), 0)))
        .collect();
    // Foreign keys written `REFERENCES parent` (no column list) reference the parent's key.
    let pks: BTreeMap<String, Vec<String>> = tables
        .iter()
        .filter_map(|t| {
            t.primary_key
                .as_ref()
                .map(|p| (t.name.clone(), p.columns.clone()))
        })
        .collect();
    for t in &mut tables {
        for fk in &mut t.foreign_keys {
            if fk.ref_columns.is_empty() {
                fk.ref_columns = match pks.get(&fk.ref_table) {
                    Some(pk) => pk.clone(),
                    None => vec![String::new(); fk.columns.len()],
                };
            }
        }
    }
    Schema {
        engine: "sqlite".into(),
        namespace: "main".into(),
        tables,
        enums: vec![],
        sequences: vec![],
        types: vec![],
    }
}

/// Data has always skipped the tables whose names match SQL's `LIKE 'sqlite_%'`, where `_`
/// matches any one character (case-insensitively): `sqliteish` as well as SQLite's own
/// `sqlite_sequence`. The catalog leaves out only the latter; this keeps the copy's table set
/// as it was.
fn like_sqlite_underscore(name: &str) -> bool {
    name.chars().count() > "sqlite".len()
        && name
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("sqlite"))
}

/// A catalog table as data models it; `kind` gives a column's logical kind and PostgreSQL type
/// oid.
fn convert_table(t: catalog::Table, kind: impl Fn(&catalog::Column) -> (Kind, u32)) -> Table {
    let name = t.name;
    let key = |k: catalog::Key, fallback: String| UniqueKey {
        name: k.name.unwrap_or(fallback),
        columns: k.columns,
        definition: k.definition,
    };
    Table {
        columns: t
            .columns
            .into_iter()
            .map(|c| {
                let (kind, pg_oid) = kind(&c);
                Column {
                    kind,
                    pg_oid,
                    nullable: c.nullable,
                    default: c.default,
                    identity: c.identity.map(|i| match i {
                        catalog::Identity::Always => "always".into(),
                        catalog::Identity::ByDefault => "by_default".into(),
                        catalog::Identity::AutoIncrement => "auto_increment".into(),
                    }),
                    // SQLite does not give the expression; data only needs to know the column
                    // is computed (it is never copied).
                    generated: c
                        .generated
                        .map(|g| g.expression.unwrap_or_else(|| "generated".into())),
                    sql_type: c.sql_type,
                    name: c.name,
                }
            })
            .collect(),
        primary_key: t.primary_key.map(|k| key(k, format!("{name}_pkey"))),
        uniques: t
            .uniques
            .into_iter()
            .map(|k| key(k, format!("{name}_key")))
            .collect(),
        // SQLite's keys are unnamed; they are numbered as `PRAGMA foreign_key_list` does.
        foreign_keys: t
            .foreign_keys
            .into_iter()
            .enumerate()
            .map(|(i, fk)| ForeignKey {
                name: fk.name.unwrap_or_else(|| format!("{name}_fk{i}")),
                columns: fk.columns,
                ref_table: fk.ref_table,
                ref_columns: fk.ref_columns,
                deferrable: fk.deferrable,
                definition: fk.definition,
            })
            .collect(),
        // Indexes that back a key are made with the key.
        indexes: t
            .indexes
            .into_iter()
            .filter(|i| i.origin == IndexOrigin::Created)
            .map(|i| Index {
                columns: i.column_names().unwrap_or_default(),
                name: i.name,
                unique: i.unique,
                definition: i.definition,
            })
            .collect(),
        checks: t
            .checks
            .into_iter()
            .map(|c| Check {
                name: c.name,
                definition: c.definition,
            })
            .collect(),
        sqlite_sql: t.create_sql,
        layout: Layout::default(),
        name,
    }
}

/// Logical kind from a declared type, following SQLite's affinity rules plus the usual names
/// for dates, booleans, UUIDs and JSON.
pub fn kind_of_declared(decl: &str) -> Kind {
    let t = decl.to_ascii_uppercase();
    if t.contains("BOOL") {
        Kind::Bool
    } else if t.contains("DATETIME") || t.contains("TIMESTAMP") {
        Kind::Timestamp
    } else if t.contains("DATE") {
        Kind::Date
    } else if t.contains("UUID") {
        Kind::Uuid
    } else if t.contains("JSON") {
        Kind::Json
    } else if t.contains("INT") {
        Kind::Int
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") || t.is_empty() {
        Kind::Text
    } else if t.contains("BLOB") {
        Kind::Bytes
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        Kind::Float
    } else if t.contains("INET") {
        Kind::Inet
    } else if t == "TIME" {
        Kind::Time
    } else {
        Kind::Decimal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_cycles_and_implicit_references() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, address_id INT REFERENCES addresses, referred_by INTEGER REFERENCES users(id), born DATE);
             CREATE TABLE addresses (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), line TEXT);
             CREATE TABLE items (order_id INT, n INT, qty INT, PRIMARY KEY (order_id, n));
             CREATE INDEX addresses_user ON addresses(user_id);",
        )
        .unwrap();
        let s = read_sqlite(&c).unwrap();
        let users = s.table("users").unwrap();
        assert_eq!(users.primary_key.as_ref().unwrap().columns, vec!["id"]);
        assert_eq!(users.uniques[0].columns, vec!["email"]);
        assert_eq!(users.column("born").unwrap().kind, Kind::Date);
        let to_addr = users
            .foreign_keys
            .iter()
            .find(|f| f.ref_table == "addresses")
            .unwrap();
        assert_eq!(to_addr.ref_columns, vec!["id"]);
        assert!(users.foreign_keys.iter().any(|f| f.ref_table == "users"));
        assert_eq!(
            s.table("items").unwrap().identity().unwrap(),
            vec!["order_id", "n"]
        );
        assert_eq!(
            s.table("addresses").unwrap().indexes[0].columns,
            vec!["user_id"]
        );
        assert!(s.cyclic_tables().contains("addresses"));
    }

    #[test]
    fn nextval_defaults_name_their_sequence_in_the_schema_only() {
        assert_eq!(
            nextval_of("nextval('a_id_seq'::regclass)", "public").as_deref(),
            Some("a_id_seq")
        );
        assert_eq!(
            nextval_of("nextval('\"Odd.Name\"'::regclass)", "public").as_deref(),
            Some("Odd.Name")
        );
        assert_eq!(
            nextval_of("nextval('public.s'::regclass)", "public").as_deref(),
            Some("s")
        );
        assert_eq!(nextval_of("nextval('other.s'::regclass)", "public"), None);
        assert_eq!(nextval_of("now()", "public"), None);
    }

    #[test]
    fn sqlite_internal_names_are_skipped_as_before() {
        assert!(like_sqlite_underscore("sqlite_sequence"));
        assert!(like_sqlite_underscore("SQLiteish"));
        assert!(!like_sqlite_underscore("sqlite"));
        assert!(!like_sqlite_underscore("users"));
        assert!(!like_sqlite_underscore("sqlitë"));
    }
}
