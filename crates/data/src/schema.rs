//! The engine-neutral schema model: tables, columns, keys, constraints, indexes; and the
//! foreign-key graph algorithms the planner and synthesiser need (cycles, orders).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use prodlike_mask::ValueKind;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result, did_you_mean};

/// Logical type of a column, shared by both engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl Kind {
    /// The mask crate's view of the kind, for `Transform::check_kind`.
    pub fn value_kind(self) -> ValueKind {
        match self {
            Kind::Bool => ValueKind::Bool,
            Kind::Int => ValueKind::Integer,
            Kind::Float => ValueKind::Float,
            Kind::Decimal => ValueKind::Decimal,
            Kind::Text => ValueKind::Text,
            Kind::Bytes | Kind::Other | Kind::Time => ValueKind::Bytes,
            Kind::Date => ValueKind::Date,
            Kind::Timestamp | Kind::TimestampTz => ValueKind::Timestamp,
            Kind::Uuid => ValueKind::Uuid,
            Kind::Json => ValueKind::Json,
            Kind::Inet => ValueKind::Inet,
        }
    }

    /// Numeric-like kinds compared with KS and summarised by quantiles.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Kind::Int
                | Kind::Float
                | Kind::Decimal
                | Kind::Date
                | Kind::Timestamp
                | Kind::TimestampTz
        )
    }

    /// Text-like kinds whose values can carry PII.
    pub fn is_textual(self) -> bool {
        matches!(self, Kind::Text | Kind::Json | Kind::Inet)
    }
}

/// One column.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UniqueKey {
    pub name: String,
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// An index that backs no constraint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// Full `CREATE INDEX` statement as the source engine gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// A CHECK constraint (PostgreSQL; copied PostgreSQL to PostgreSQL only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub definition: String,
}

/// One table.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// The source engine's own `CREATE TABLE`: SQLite's as stored, MySQL's `SHOW CREATE TABLE`
    /// (with its `AUTO_INCREMENT=` position), which a target of the same engine replays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite_sql: Option<String>,
    /// PostgreSQL partitioning and inheritance.
    #[serde(default, skip_serializing_if = "Layout::is_plain")]
    pub layout: Layout,
}

/// How a PostgreSQL table is laid out beyond its columns: a partitioned table (copied as one
/// table: its rows are read from the parent and written into the parent, which routes them)
/// with its partitions, or an inheritance child (its own rows only, `ONLY`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Layout {
    /// `RANGE (paid)`: the table is partitioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// Every partition below the table, each after its own parent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<Partition>,
    /// `INHERITS` parents (tables of the same schema), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<String>,
    /// Some table inherits from this one: its own rows are read with `ONLY`.
    #[serde(default)]
    pub has_children: bool,
}

impl Layout {
    /// Neither partitioned nor in an inheritance tree.
    pub fn is_plain(&self) -> bool {
        self.partition_key.is_none() && self.inherits.is_empty() && !self.has_children
    }
}

/// One partition of a partitioned table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partition {
    pub name: String,
    /// The table it is a partition of (the partitioned table or a partition of it).
    pub parent: String,
    /// `FOR VALUES FROM (…) TO (…)`, `DEFAULT`.
    pub bound: String,
    /// Set when the partition is itself partitioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// The partition's own keys (primary and unique), checks, indexes and foreign keys: those
    /// not made from its parent's (which come with the parent's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<UniqueKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
}

/// A PostgreSQL domain or composite type, created before the tables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserType {
    pub name: String,
    /// `CREATE DOMAIN` or `CREATE TYPE`.
    pub create: String,
    /// What follows the name: `AS integer NOT NULL CONSTRAINT c CHECK (…)`, `AS (a text, …)`.
    pub body: String,
}

/// A PostgreSQL enum type used by a column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnumType {
    pub name: String,
    pub labels: Vec<String>,
}

/// A PostgreSQL sequence owned by or used in a column default.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sequence {
    pub name: String,
    /// `table.column` whose maximum the sequence is set past after a load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<(String, String)>,
    /// `AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE … START WITH 1 CACHE 1 NO CYCLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
    /// The source's position (`last_value`; `None` before its first `nextval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_value: Option<i64>,
    /// Whether it counts down (its position is then the source's, not past the keys).
    #[serde(default)]
    pub descending: bool,
    /// An identity column's sequence (created with the column, not on its own).
    #[serde(default)]
    pub identity: bool,
    /// `table.column`s whose default takes `nextval` of this sequence (owned or not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used_by: Vec<(String, String)>,
}

/// A database schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Schema {
    /// `postgres`, `sqlite` or `mysql`.
    pub engine: String,
    /// PostgreSQL schema name (`public`); `main` for SQLite; the database for MySQL.
    pub namespace: String,
    pub tables: Vec<Table>,
    #[serde(default)]
    pub enums: Vec<EnumType>,
    #[serde(default)]
    pub sequences: Vec<Sequence>,
    /// PostgreSQL domains and composite types, in creation order.
    #[serde(default)]
    pub types: Vec<UserType>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Checks `name` is a column, with a suggestion otherwise.
    pub fn require_column(&self, name: &str) -> Result<usize> {
        self.column_index(name)
            .ok_or_else(|| DataError::MissingColumn {
                table: self.name.clone(),
                column: name.to_owned(),
                hint: did_you_mean(name, self.columns.iter().map(|c| c.name.as_str())),
            })
    }

    /// The columns that identify a row: the primary key, else the first unique key whose
    /// columns are all NOT NULL.
    pub fn identity(&self) -> Option<Vec<String>> {
        if let Some(pk) = &self.primary_key {
            return Some(pk.columns.clone());
        }
        self.uniques
            .iter()
            .find(|u| {
                u.columns
                    .iter()
                    .all(|c| self.column(c).is_some_and(|c| !c.nullable))
            })
            .map(|u| u.columns.clone())
    }

    /// Every unique column set (primary key first).
    pub fn unique_sets(&self) -> Vec<&[String]> {
        self.primary_key
            .iter()
            .chain(self.uniques.iter())
            .map(|u| u.columns.as_slice())
            .chain(
                self.indexes
                    .iter()
                    .filter(|i| i.unique && !i.columns.is_empty())
                    .map(|i| i.columns.as_slice()),
            )
            .collect()
    }

    /// True when `column` alone or with others is under a unique constraint.
    pub fn is_unique_member(&self, column: &str) -> bool {
        self.unique_sets()
            .iter()
            .any(|s| s.iter().any(|c| c == column))
    }

    /// True when `column` alone is unique (single-column key).
    pub fn is_single_unique(&self, column: &str) -> bool {
        self.unique_sets()
            .iter()
            .any(|s| s.len() == 1 && s[0] == column)
    }

    /// True when `column` belongs to a primary key or a foreign key.
    pub fn is_key_column(&self, column: &str) -> bool {
        self.primary_key
            .as_ref()
            .is_some_and(|pk| pk.columns.iter().any(|c| c == column))
            || self
                .foreign_keys
                .iter()
                .any(|fk| fk.columns.iter().any(|c| c == column))
    }

    /// True when any column of `fk` is nullable.
    pub fn fk_nullable(&self, fk: &ForeignKey) -> bool {
        fk.columns
            .iter()
            .any(|c| self.column(c).is_none_or(|c| c.nullable))
    }
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The table, or an error naming it with a suggestion.
    pub fn require_table(&self, name: &str, url: &str) -> Result<&Table> {
        self.table(name).ok_or_else(|| DataError::MissingTable {
            table: name.to_owned(),
            url: url.to_owned(),
            hint: did_you_mean(name, self.tables.iter().map(|t| t.name.as_str())),
        })
    }

    /// Foreign keys referencing `table`: (child table, fk).
    pub fn children_of<'a>(
        &'a self,
        table: &'a str,
    ) -> impl Iterator<Item = (&'a Table, &'a ForeignKey)> + 'a {
        self.tables.iter().flat_map(move |t| {
            t.foreign_keys
                .iter()
                .filter(move |fk| fk.ref_table == table)
                .map(move |fk| (t, fk))
        })
    }

    /// Strongly connected components of the foreign-key graph (self-references ignored), as
    /// table-name lists; each table is in exactly one.
    pub fn fk_components(&self) -> Vec<Vec<String>> {
        let names: Vec<&str> = self.tables.iter().map(|t| t.name.as_str()).collect();
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let adj: Vec<Vec<usize>> = self
            .tables
            .iter()
            .map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|fk| fk.ref_table != t.name)
                    .filter_map(|fk| index.get(fk.ref_table.as_str()).copied())
                    .collect()
            })
            .collect();
        tarjan(&adj)
            .into_iter()
            .map(|c| c.into_iter().map(|i| names[i].to_owned()).collect())
            .collect()
    }

    /// Tables ordered parents before children (referenced before referencing); tables in one
    /// cycle are adjacent, in name order.
    pub fn parents_first(&self) -> Vec<String> {
        // Tarjan yields components in reverse topological order of the "references" edges,
        // i.e. referenced components first.
        let mut out = Vec::new();
        for mut comp in self.fk_components() {
            comp.sort();
            out.extend(comp);
        }
        out
    }

    /// Tables that take part in a foreign-key cycle (including self-references).
    pub fn cyclic_tables(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for comp in self.fk_components() {
            if comp.len() > 1 {
                out.extend(comp);
            }
        }
        for t in &self.tables {
            if t.foreign_keys.iter().any(|fk| fk.ref_table == t.name) {
                out.insert(t.name.clone());
            }
        }
        out
    }

    /// Column sets of `table` referenced by some foreign key (besides its identity).
    pub fn referenced_keys(&self, table: &str) -> Vec<Vec<String>> {
        let mut set: BTreeMap<Vec<String>, ()> = BTreeMap::new();
        for (_, fk) in self.children_of(table) {
            set.insert(fk.ref_columns.clone(), ());
        }
        set.into_keys().collect()
    }
}

/// Tarjan's strongly connected components; components come out in reverse topological order
/// (a component before any component that has an edge into it).
fn tarjan(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct St<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut St<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on[v] = true;
        for i in 0..s.adj[v].len() {
            let w = s.adj[v][i];
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let n = adj.len();
    let mut s = St {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn col(name: &str, kind: Kind, nullable: bool) -> Column {
        Column {
            name: name.into(),
            sql_type: format!("{kind:?}"),
            kind,
            nullable,
            default: None,
            identity: None,
            pg_oid: 0,
            generated: None,
        }
    }

    pub(crate) fn fk(cols: &[&str], t: &str, refs: &[&str]) -> ForeignKey {
        ForeignKey {
            name: format!("fk_{}_{t}", cols.join("_")),
            columns: cols.iter().map(|s| s.to_string()).collect(),
            ref_table: t.into(),
            ref_columns: refs.iter().map(|s| s.to_string()).collect(),
            deferrable: false,
            definition: None,
        }
    }

    pub(crate) fn table(name: &str, cols: Vec<Column>, pk: &[&str], fks: Vec<ForeignKey>) -> Table {
        Table {
            name: name.into(),
            columns: cols,
            primary_key: (!pk.is_empty()).then(|| UniqueKey {
                name: format!("{name}_pkey"),
                columns: pk.iter().map(|s| s.to_string()).collect(),
                definition: None,
            }),
            uniques: vec![],
            foreign_keys: fks,
            indexes: vec![],
            checks: vec![],
            sqlite_sql: None,
            layout: Layout::default(),
        }
    }

    pub(crate) fn shop() -> Schema {
        use Kind::*;
        Schema {
            engine: "sqlite".into(),
            namespace: "main".into(),
            tables: vec![
                table(
                    "order_items",
                    vec![col("id", Int, false), col("order_id", Int, false)],
                    &["id"],
                    vec![fk(&["order_id"], "orders", &["id"])],
                ),
                table(
                    "orders",
                    vec![col("id", Int, false), col("user_id", Int, false)],
                    &["id"],
                    vec![fk(&["user_id"], "users", &["id"])],
                ),
                table(
                    "users",
                    vec![
                        col("id", Int, false),
                        col("address_id", Int, false),
                        col("referred_by", Int, true),
                    ],
                    &["id"],
                    vec![
                        fk(&["address_id"], "addresses", &["id"]),
                        fk(&["referred_by"], "users", &["id"]),
                    ],
                ),
                table(
                    "addresses",
                    vec![col("id", Int, false), col("user_id", Int, false)],
                    &["id"],
                    vec![fk(&["user_id"], "users", &["id"])],
                ),
            ],
            enums: vec![],
            sequences: vec![],
            types: vec![],
        }
    }

    #[test]
    fn parents_come_first_and_cycles_are_found() {
        let s = shop();
        let order = s.parents_first();
        let pos = |n: &str| order.iter().position(|x| x == n).unwrap();
        assert!(pos("users") < pos("orders"));
        assert!(pos("addresses") < pos("orders"));
        assert!(pos("orders") < pos("order_items"));
        let cyc = s.cyclic_tables();
        assert!(cyc.contains("users") && cyc.contains("addresses"));
        assert!(!cyc.contains("orders"));
    }

    #[test]
    fn missing_names_get_suggestions() {
        let s = shop();
        let e = s
            .require_table("user", "sqlite://x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `users`"), "{e}");
        let t = s.table("users").unwrap();
        let e = t.require_column("refered_by").unwrap_err().to_string();
        assert!(e.contains("referred_by"), "{e}");
    }
}
