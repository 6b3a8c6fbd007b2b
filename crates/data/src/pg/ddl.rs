//! DDL for a PostgreSQL target: tables first (no constraints, so COPY runs at full speed and
//! cycles need no deferral), then keys and indexes, then foreign keys, then sequences.

use super::codec::oid;
use super::{ident, literal, qualified};
use crate::schema::{Column, Kind, Schema, Table};

/// A target column's PostgreSQL type, for encoding values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgColumnType {
    pub oid: u32,
    pub kind: Kind,
}

/// The type a column gets in a PostgreSQL target.
pub fn target_type(schema: &Schema, col: &Column) -> (String, PgColumnType) {
    if schema.engine == "postgres" {
        return (
            col.sql_type.clone(),
            PgColumnType {
                oid: col.pg_oid,
                kind: col.kind,
            },
        );
    }
    let (name, o, kind) = match col.kind {
        Kind::Bool => ("boolean", oid::BOOL, Kind::Bool),
        Kind::Int => ("bigint", oid::INT8, Kind::Int),
        Kind::Float => ("double precision", oid::FLOAT8, Kind::Float),
        Kind::Decimal => ("numeric", oid::NUMERIC, Kind::Decimal),
        Kind::Bytes => ("bytea", oid::BYTEA, Kind::Bytes),
        Kind::Date => ("date", oid::DATE, Kind::Date),
        Kind::Timestamp => ("timestamp", oid::TIMESTAMP, Kind::Timestamp),
        Kind::TimestampTz => ("timestamptz", oid::TIMESTAMPTZ, Kind::TimestampTz),
        Kind::Time => ("time", oid::TIME, Kind::Time),
        Kind::Uuid => ("uuid", oid::UUID, Kind::Uuid),
        Kind::Json => ("jsonb", oid::JSONB, Kind::Json),
        Kind::Inet => ("inet", oid::INET, Kind::Inet),
        Kind::Text | Kind::Other => ("text", oid::TEXT, Kind::Text),
    };
    (name.to_owned(), PgColumnType { oid: o, kind })
}

/// Statements, in the order they run.
/// One foreign key of the target, added without checking (instant, so every key can be added in
/// one transaction) and then validated: `VALIDATE CONSTRAINT` locks only the child table against
/// other validations, so the checks of different child tables run at once, which a plain
/// `ADD CONSTRAINT` (locking both tables) cannot.
#[derive(Debug, Clone)]
pub struct PgForeignKey {
    pub child: String,
    pub parent: String,
    /// `ALTER TABLE … ADD CONSTRAINT … NOT VALID`.
    pub add: String,
    /// `ALTER TABLE … VALIDATE CONSTRAINT …`; `None` when the source's key is itself not valid.
    pub validate: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct PgDdl {
    /// Schema, types and sequences.
    pub create: Vec<String>,
    /// Bare tables, by name: each is created in the transaction that copies its rows (so the
    /// COPY can use FREEZE and skip later hint-bit writes).
    pub tables: Vec<(String, String)>,
    /// Per table: primary key, unique and check constraints, indexes (run in parallel by table).
    pub keys: Vec<(String, Vec<String>)>,
    /// Foreign keys, after every key exists.
    pub foreign_keys: Vec<PgForeignKey>,
    /// Sequence positions.
    pub sequences: Vec<String>,
}

fn fk_columns(cols: &[String]) -> String {
    cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// Rewrites `CREATE INDEX … ON ns.table …` to the load namespace.
pub(crate) fn retarget_index(def: &str, from_ns: &str, to_ns: &str) -> String {
    for pat in [
        format!(" ON {from_ns}."),
        format!(" ON {}.", ident(from_ns)),
        format!(" ON ONLY {from_ns}."),
    ] {
        if let Some(i) = def.find(&pat) {
            let only = if pat.starts_with(" ON ONLY") {
                " ON ONLY "
            } else {
                " ON "
            };
            return format!(
                "{}{only}{}.{}",
                &def[..i],
                ident(to_ns),
                &def[i + pat.len()..]
            );
        }
    }
    def.to_owned()
}

/// DDL creating `tables` (names from `schema`) in namespace `ns`.
// Long: one pass emitting a table's DDL in dependency order (types, columns, keys, indexes).
#[allow(clippy::too_many_lines)]
pub fn build(schema: &Schema, tables: &[&Table], ns: &str) -> PgDdl {
    let from_pg = schema.engine == "postgres";
    let mut ddl = PgDdl::default();
    ddl.create.push(format!("CREATE SCHEMA {}", ident(ns)));
    ddl.create.push(format!("SET search_path = {}", ident(ns)));
    if from_pg {
        for e in &schema.enums {
            let labels: Vec<String> = e.labels.iter().map(|l| literal(l)).collect();
            ddl.create.push(format!(
                "CREATE TYPE {} AS ENUM ({})",
                qualified(ns, &e.name),
                labels.join(", ")
            ));
        }
        for s in &schema.sequences {
            ddl.create
                .push(format!("CREATE SEQUENCE {}", qualified(ns, &s.name)));
        }
    }
    for t in tables {
        let mut cols = Vec::new();
        for c in &t.columns {
            let (ty, _) = target_type(schema, c);
            let mut def = format!("{} {ty}", ident(&c.name));
            if from_pg {
                if let Some(g) = &c.generated {
                    def.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED"));
                }
                match c.identity.as_deref() {
                    Some("always") => def.push_str(" GENERATED ALWAYS AS IDENTITY"),
                    Some(_) => def.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
                    None => {
                        if let Some(d) = &c.default {
                            def.push_str(&format!(" DEFAULT {d}"));
                        }
                    }
                }
            }
            if !c.nullable {
                def.push_str(" NOT NULL");
            }
            cols.push(def);
        }
        ddl.tables.push((
            t.name.clone(),
            format!(
                "CREATE TABLE {} ({})",
                qualified(ns, &t.name),
                cols.join(", ")
            ),
        ));

        let q = qualified(ns, &t.name);
        let mut keys = Vec::new();
        if let Some(pk) = &t.primary_key {
            let def = match (&pk.definition, from_pg) {
                (Some(d), true) => d.clone(),
                _ => format!("PRIMARY KEY ({})", fk_columns(&pk.columns)),
            };
            keys.push(format!(
                "ALTER TABLE {q} ADD CONSTRAINT {} {def}",
                ident(&pk.name)
            ));
        }
        for u in &t.uniques {
            let def = match (&u.definition, from_pg) {
                (Some(d), true) => d.clone(),
                _ => format!("UNIQUE ({})", fk_columns(&u.columns)),
            };
            keys.push(format!(
                "ALTER TABLE {q} ADD CONSTRAINT {} {def}",
                ident(&u.name)
            ));
        }
        if from_pg {
            for c in &t.checks {
                keys.push(format!(
                    "ALTER TABLE {q} ADD CONSTRAINT {} {}",
                    ident(&c.name),
                    c.definition
                ));
            }
        }
        for i in &t.indexes {
            match (&i.definition, from_pg) {
                (Some(d), true) => keys.push(retarget_index(d, &schema.namespace, ns)),
                _ if !i.columns.is_empty() => keys.push(format!(
                    "CREATE {}INDEX {} ON {q} ({})",
                    if i.unique { "UNIQUE " } else { "" },
                    ident(&i.name),
                    fk_columns(&i.columns)
                )),
                _ => {}
            }
        }
        ddl.keys.push((t.name.clone(), keys));

        for fk in &t.foreign_keys {
            if !tables.iter().any(|x| x.name == fk.ref_table) {
                continue;
            }
            let def = match (&fk.definition, from_pg) {
                (Some(d), true) => d.clone(),
                _ => format!(
                    "FOREIGN KEY ({}) REFERENCES {} ({}){}",
                    fk_columns(&fk.columns),
                    qualified(ns, &fk.ref_table),
                    fk_columns(&fk.ref_columns),
                    if fk.deferrable { " DEFERRABLE" } else { "" }
                ),
            };
            let name = ident(&fk.name);
            let already_not_valid = def.trim_end().ends_with("NOT VALID");
            ddl.foreign_keys.push(PgForeignKey {
                child: t.name.clone(),
                parent: fk.ref_table.clone(),
                add: if already_not_valid {
                    format!("ALTER TABLE {q} ADD CONSTRAINT {name} {def}")
                } else {
                    format!("ALTER TABLE {q} ADD CONSTRAINT {name} {def} NOT VALID")
                },
                validate: (!already_not_valid)
                    .then(|| format!("ALTER TABLE {q} VALIDATE CONSTRAINT {name}")),
            });
        }
        for c in &t.columns {
            if c.identity.is_some() && from_pg {
                ddl.sequences.push(format!(
                    "SELECT setval(pg_get_serial_sequence({}, {}), COALESCE((SELECT max({}) FROM {q}), 0) + 1, false)",
                    literal(&q),
                    literal(&c.name),
                    ident(&c.name)
                ));
            }
        }
    }
    if from_pg {
        for s in &schema.sequences {
            if let Some((t, c)) = &s.owned_by {
                if !tables.iter().any(|x| &x.name == t) {
                    continue;
                }
                let q = qualified(ns, t);
                ddl.sequences.push(format!(
                    "ALTER SEQUENCE {} OWNED BY {q}.{}",
                    qualified(ns, &s.name),
                    ident(c)
                ));
                ddl.sequences.push(format!(
                    "SELECT setval({}, COALESCE((SELECT max({}) FROM {q}), 0) + 1, false)",
                    literal(&qualified(ns, &s.name)),
                    ident(c)
                ));
            }
        }
    }
    ddl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_definitions_move_to_the_load_schema() {
        assert_eq!(
            retarget_index(
                "CREATE INDEX i ON public.orders USING btree (user_id)",
                "public",
                "load_1"
            ),
            "CREATE INDEX i ON \"load_1\".orders USING btree (user_id)"
        );
    }

    #[test]
    fn sqlite_schema_gets_mapped_types_and_generated_constraints() {
        let s = crate::schema::tests::shop();
        let tables: Vec<&Table> = s.tables.iter().collect();
        let ddl = build(&s, &tables, "l");
        let all = ddl
            .tables
            .iter()
            .map(|t| t.1.clone())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            all.contains("CREATE TABLE \"l\".\"orders\" (\"id\" bigint NOT NULL"),
            "{all}"
        );
        assert!(ddl.foreign_keys.iter().any(|f| {
            f.add.contains("REFERENCES \"l\".\"users\"")
                && f.add.ends_with("NOT VALID")
                && f.validate
                    .as_deref()
                    .is_some_and(|v| v.contains("VALIDATE CONSTRAINT"))
        }));
    }
}
