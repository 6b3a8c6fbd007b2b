//! DDL for a PostgreSQL target: tables first (no constraints, so COPY runs at full speed and
//! cycles need no deferral), then keys and indexes, then foreign keys, then sequences.

use super::codec::oid;
use super::{ident, literal, qualified};
use crate::schema::{Column, Kind, Schema, Sequence, Table};

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
    /// Whether the check is steered to a merge of index scans (`pg/fk_check.rs`).
    pub by_merge: bool,
}

#[derive(Debug, Default, Clone)]
pub struct PgDdl {
    /// Schema, types, sequences, and the tables of inheritance trees (a child needs its
    /// parents to exist).
    pub create: Vec<String>,
    /// Bare tables, by name: each is created in the transaction that copies its rows (so the
    /// COPY can use FREEZE and skip later hint-bit writes). Empty for a table made in `create`
    /// (it gets no FREEZE); a partitioned table comes with its partitions (COPY into it routes
    /// each row to its partition, and PostgreSQL refuses FREEZE there).
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
        for t in &schema.types {
            ddl.create.push(format!(
                "{} {} {}",
                t.create,
                qualified(ns, &t.name),
                t.body
            ));
        }
        for s in schema.sequences.iter().filter(|s| !s.identity) {
            ddl.create.push(format!(
                "CREATE SEQUENCE {} {}",
                qualified(ns, &s.name),
                s.options.as_deref().unwrap_or_default()
            ));
        }
    }
    let mut up_front = Vec::new();
    for t in tables {
        let create = create_table(schema, t, tables, ns);
        if from_pg && (t.layout.has_children || !t.layout.inherits.is_empty()) {
            up_front.push((t.name.clone(), t.layout.inherits.clone(), create));
            ddl.tables.push((t.name.clone(), String::new()));
        } else {
            ddl.tables.push((t.name.clone(), create));
        }

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
                // A partitioned table's index is made on every partition too (`ON ONLY` would
                // leave it invalid until each partition's index is attached).
                (Some(d), true) if t.layout.partition_key.is_some() => keys.push(
                    retarget_index(d, &schema.namespace, ns).replacen(" ON ONLY ", " ON ", 1),
                ),
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
        let mut partition_fks = Vec::new();
        partition_objects(schema, t, tables, ns, &mut keys, &mut partition_fks);
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
            // PostgreSQL refuses NOT VALID keys on a partitioned table: add it checked.
            let already_not_valid =
                def.trim_end().ends_with("NOT VALID") || t.layout.partition_key.is_some();
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
                by_merge: tables
                    .iter()
                    .find(|x| x.name == fk.ref_table)
                    .is_some_and(|parent| super::fk_check::checks_by_merge(t, fk, parent)),
            });
        }
        // After the partitioned table's own: PostgreSQL would take a partition's key that is
        // already there for the one the partitioned table makes, and the partition's would vanish.
        ddl.foreign_keys.extend(partition_fks);
        for c in &t.columns {
            // A profile (synth) lists no identity sequences: the column's own, past its keys.
            if c.identity.is_some() && from_pg && identity_sequence(schema, t, c).is_none() {
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
        create_up_front(&mut ddl, up_front);
        for s in &schema.sequences {
            if let Some((t, c)) = &s.owned_by
                && !s.identity
                && tables.iter().any(|x| &x.name == t)
            {
                ddl.sequences.push(format!(
                    "ALTER SEQUENCE {} OWNED BY {}.{}",
                    qualified(ns, &s.name),
                    qualified(ns, t),
                    ident(c)
                ));
            }
            if let Some(sql) = position(s, tables, ns) {
                ddl.sequences.push(sql);
            }
        }
    }
    ddl
}

/// `CREATE TABLE` of one table: columns with defaults, identity (with its sequence's options)
/// and generation; a partitioned table's key and partitions; an inheritance child's parents.
fn create_table(schema: &Schema, t: &Table, tables: &[&Table], ns: &str) -> String {
    let from_pg = schema.engine == "postgres";
    let mut cols = Vec::new();
    for c in &t.columns {
        let (ty, _) = target_type(schema, c);
        let mut def = format!("{} {ty}", ident(&c.name));
        if from_pg {
            // A child inherits its parent's generation expression; stating it again is refused.
            let inherited = t.layout.inherits.iter().any(|p| {
                tables
                    .iter()
                    .find(|x| x.name == *p)
                    .and_then(|x| x.column(&c.name))
                    .is_some_and(|pc| pc.generated.is_some())
            });
            if let Some(g) = c.generated.as_ref().filter(|_| !inherited) {
                def.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED"));
            }
            let options = identity_sequence(schema, t, c)
                .map(|s| {
                    format!(
                        " (SEQUENCE NAME {} {})",
                        qualified(ns, &s.name),
                        s.options.as_deref().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            match c.identity.as_deref() {
                Some("always") => {
                    def.push_str(&format!(" GENERATED ALWAYS AS IDENTITY{options}"));
                }
                Some(_) => def.push_str(&format!(" GENERATED BY DEFAULT AS IDENTITY{options}")),
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
    let mut sql = format!(
        "CREATE TABLE {} ({})",
        qualified(ns, &t.name),
        cols.join(", ")
    );
    if !from_pg {
        return sql;
    }
    if !t.layout.inherits.is_empty() {
        let parents: Vec<String> = t.layout.inherits.iter().map(|p| qualified(ns, p)).collect();
        sql.push_str(&format!(" INHERITS ({})", parents.join(", ")));
    }
    if let Some(key) = &t.layout.partition_key {
        sql.push_str(&format!(" PARTITION BY {key}"));
        for p in &t.layout.partitions {
            sql.push_str(&format!(
                ";\nCREATE TABLE {} PARTITION OF {} {}",
                qualified(ns, &p.name),
                qualified(ns, &p.parent),
                p.bound
            ));
            if let Some(key) = &p.partition_key {
                sql.push_str(&format!(" PARTITION BY {key}"));
            }
        }
    }
    sql
}

/// The partitions' own keys, checks and indexes (after the partitioned table's, in its batch:
/// made first, one would stand in for the partitioned table's equivalent and stop being the
/// partition's own), and their own foreign keys (ready when the partitioned table is keyed).
fn partition_objects(
    schema: &Schema,
    t: &Table,
    tables: &[&Table],
    ns: &str,
    keys: &mut Vec<String>,
    fks: &mut Vec<PgForeignKey>,
) {
    for p in &t.layout.partitions {
        let q = qualified(ns, &p.name);
        for k in &p.keys {
            if let Some(d) = &k.definition {
                keys.push(format!(
                    "ALTER TABLE {q} ADD CONSTRAINT {} {d}",
                    ident(&k.name)
                ));
            }
        }
        for c in &p.checks {
            keys.push(format!(
                "ALTER TABLE {q} ADD CONSTRAINT {} {}",
                ident(&c.name),
                c.definition
            ));
        }
        for i in &p.indexes {
            if let Some(d) = &i.definition {
                keys.push(retarget_index(d, &schema.namespace, ns));
            }
        }
        for fk in &p.foreign_keys {
            let Some(def) = fk
                .definition
                .as_ref()
                .filter(|_| tables.iter().any(|x| x.name == fk.ref_table))
            else {
                continue;
            };
            let name = ident(&fk.name);
            // A sub-partitioned partition refuses NOT VALID, as its root does.
            let checked = def.trim_end().ends_with("NOT VALID") || p.partition_key.is_some();
            fks.push(PgForeignKey {
                child: t.name.clone(),
                parent: fk.ref_table.clone(),
                add: match checked {
                    true => format!("ALTER TABLE {q} ADD CONSTRAINT {name} {def}"),
                    false => format!("ALTER TABLE {q} ADD CONSTRAINT {name} {def} NOT VALID"),
                },
                validate: (!checked).then(|| format!("ALTER TABLE {q} VALIDATE CONSTRAINT {name}")),
                // A partition's keys keep PostgreSQL's own plan.
                by_merge: false,
            });
        }
    }
}

/// The tables of inheritance trees, parents before children, into `ddl.create`.
fn create_up_front(ddl: &mut PgDdl, mut pending: Vec<(String, Vec<String>, String)>) {
    let mut made: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        let mut i = 0;
        while let Some((name, parents, _)) = pending.get(i) {
            // A parent outside the copy (not pending) is not waited for.
            if parents
                .iter()
                .all(|p| made.contains(p) || !pending.iter().any(|(n, _, _)| n == p))
            {
                let name = name.clone();
                let (_, _, sql) = pending.remove(i);
                ddl.create.push(sql);
                made.push(name);
            } else {
                i += 1;
            }
        }
        if pending.len() == before {
            // A cycle cannot exist in INHERITS; keep the rest in order rather than loop.
            ddl.create.extend(pending.drain(..).map(|(_, _, sql)| sql));
        }
    }
}

/// The sequence of identity column `c` of `t`, when the schema lists it.
fn identity_sequence<'a>(schema: &'a Schema, t: &Table, c: &Column) -> Option<&'a Sequence> {
    c.identity.as_ref()?;
    schema.sequences.iter().find(|s| {
        s.identity
            && s.owned_by
                .as_ref()
                .is_some_and(|(st, sc)| *st == t.name && *sc == c.name)
    })
}

/// Sets `s` to the source's position or past every copied key that draws from it, whichever is
/// further, so that the next value collides neither with a copied row nor with what the source
/// has handed out. A descending sequence keeps the source's position.
fn position(s: &Sequence, tables: &[&Table], ns: &str) -> Option<String> {
    let mut users: Vec<&(String, String)> = s.used_by.iter().collect();
    if let Some(o) = &s.owned_by
        && !users.contains(&o)
    {
        users.push(o);
    }
    let keys: Vec<String> = users
        .into_iter()
        .filter(|_| !s.descending)
        .filter(|(t, c)| {
            tables
                .iter()
                .find(|x| x.name == *t)
                .and_then(|x| x.column(c))
                .is_some_and(|col| col.kind == Kind::Int)
        })
        .map(|(t, c)| {
            format!(
                "(SELECT max({})::bigint FROM {})",
                ident(c),
                qualified(ns, t)
            )
        })
        .collect();
    if keys.is_empty() && s.last_value.is_none() {
        return None;
    }
    let source = s
        .last_value
        .map_or_else(|| "NULL::bigint".to_string(), |v| v.to_string());
    let seq = literal(&qualified(ns, &s.name));
    // Keys outside the sequence's range (a 0 key, say) cannot be a position.
    Some(format!(
        "SELECT setval({seq}, v, true) FROM (SELECT GREATEST({source}{}) AS v) p \
         JOIN pg_sequence q ON q.seqrelid = {seq}::regclass \
         WHERE v BETWEEN q.seqmin AND q.seqmax",
        keys.iter().map(|k| format!(", {k}")).collect::<String>()
    ))
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
