//! A database's catalog (read by prodlike-catalog) as the objects drift compares: `server`,
//! `settings`, `role settings`, `extensions`, then `table s.t` (columns, indexes,
//! constraints), `sequence s.q`, `view s.v` and `materialized view s.v`, each a tree of
//! [`Node`]s, so that rules address them like configuration (`object = "settings"`,
//! `path = "columns.total.type"`).
use std::collections::BTreeMap;

use prodlike_catalog::{
    Catalog, ConstraintKind, Engine, Identity, Index, IndexKey, IndexOrigin, Table,
};

use crate::tree::Node;

/// Objects by name, each a map of sections.
pub(super) type Objects = BTreeMap<String, BTreeMap<String, Node>>;

/// The objects of one catalog, server state first.
pub fn objects(cat: &Catalog, extras: &super::more::Extras) -> Vec<(String, Node)> {
    let mut out = Vec::new();
    if let Some(server) = &cat.server {
        let engine = match cat.engine {
            Engine::Postgres => "postgresql",
            Engine::Sqlite => "sqlite",
            Engine::Mysql if server.version.contains("MariaDB") => "mariadb",
            Engine::Mysql => "mysql",
        };
        out.push((
            "server".to_string(),
            map([
                ("engine".to_string(), s(engine)),
                ("version".to_string(), s(&server.version)),
                ("major".to_string(), Node::Int(server.major.into())),
            ]),
        ));
        out.push(("settings".to_string(), texts(&server.settings)));
        if !server.role_settings.is_empty() {
            let roles = server
                .role_settings
                .iter()
                .map(|(role, settings)| (role.clone(), texts(settings)));
            out.push(("role settings".to_string(), map(roles)));
        }
        // SQLite keeps no extensions in the file: it has no such object.
        if cat.engine == Engine::Postgres {
            out.push(("extensions".to_string(), texts(&server.extensions)));
        }
    }
    let mut objects = Objects::new();
    for table in &cat.tables {
        match cat.engine {
            Engine::Postgres => postgres_table(&mut objects, table),
            Engine::Sqlite => sqlite_table(&mut objects, table),
            Engine::Mysql => mysql_table(&mut objects, table, extras.sequence_positions),
        }
    }
    for view in &cat.views {
        let kind = if view.materialized {
            "materialized view"
        } else {
            "view"
        };
        let definition = s(normalise_sql(&view.definition));
        let object = format!("{kind} {}.{}", view.schema, view.name);
        objects.insert(
            object.clone(),
            [("definition".to_string(), definition)].into(),
        );
        // A materialized view's indexes are its own: one object, listed once.
        if !view.extension_member {
            for index in &view.indexes {
                put_index(&mut objects, &object, index);
            }
        }
    }
    for q in &cat.sequences {
        let node = map([
            ("type".to_string(), s(&q.data_type)),
            ("start".to_string(), Node::Int(q.start.into())),
            ("min".to_string(), Node::Int(q.min.into())),
            ("max".to_string(), Node::Int(q.max.into())),
            ("increment".to_string(), Node::Int(q.increment.into())),
            ("cycle".to_string(), Node::Bool(q.cycle)),
            ("cache".to_string(), Node::Int(q.cache.into())),
        ]);
        if let Node::Map(m) = node {
            objects.insert(format!("sequence {}.{}", q.schema, q.name), m);
        }
    }
    super::more::add(&mut objects, cat, extras);
    if cat.engine == Engine::Mysql {
        objects = without_schema(objects, cat);
    }
    out.extend(objects.into_iter().map(|(k, v)| (k, Node::Map(v))));
    out
}

/// A MySQL URL names one database, which is the schema: objects are named without it
/// (`table orders`, not `table shop.orders`), so production's `shop` and staging's
/// `shop_staging` pair up.
fn without_schema(objects: Objects, cat: &Catalog) -> Objects {
    let schemas: std::collections::BTreeSet<&str> = cat
        .tables
        .iter()
        .map(|t| t.schema.as_str())
        .chain(cat.views.iter().map(|v| v.schema.as_str()))
        .chain(cat.objects.functions.iter().map(|f| f.schema.as_str()))
        .collect();
    objects
        .into_iter()
        .map(|(name, value)| {
            let renamed = name.split_once(' ').and_then(|(kind, rest)| {
                let (schema, object) = rest.split_once('.')?;
                schemas.contains(schema).then(|| format!("{kind} {object}"))
            });
            (renamed.unwrap_or(name), value)
        })
        .collect()
}

/// Columns as `information_schema.COLUMNS` gives them (`COLUMN_TYPE`: `int(10) unsigned`,
/// `enum('a','b')`), every index and constraint by name with its definition, and the table's
/// engine, collation and row format; the AUTO_INCREMENT position only when sequence positions
/// are compared (`[schema] sequence_positions`: it moves with every insert).
fn mysql_table(objects: &mut Objects, t: &Table, positions: bool) {
    let object = format!("table {}.{}", t.schema, t.name);
    objects.entry(object.clone()).or_default();
    for c in &t.columns {
        let mut col = BTreeMap::new();
        col.insert("type".to_string(), s(&c.sql_type));
        col.insert("nullable".to_string(), Node::Bool(c.nullable));
        let expression = c.generated.as_ref().and_then(|g| g.expression.as_ref());
        if let Some(default) = c.default.as_ref().or(expression) {
            col.insert("default".to_string(), s(default));
        }
        if c.identity == Some(Identity::AutoIncrement) {
            col.insert("auto_increment".to_string(), Node::Bool(true));
        }
        match &c.generated {
            Some(g) if g.stored => drop(col.insert("generated".to_string(), s("stored"))),
            Some(_) => drop(col.insert("generated".to_string(), s("virtual"))),
            None => {}
        }
        if let Some(coll) = &c.collation {
            col.insert("collation".to_string(), s(coll));
        }
        put(objects, &object, "columns", c.name.clone(), Node::Map(col));
    }
    for index in &t.indexes {
        put_index(objects, &object, index);
    }
    for fk in &t.foreign_keys {
        if let (Some(name), Some(def)) = (&fk.name, &fk.definition) {
            put_constraint(objects, &object, name, "foreign key", def);
        }
    }
    for check in &t.checks {
        put_constraint(objects, &object, &check.name, "check", &check.definition);
    }
    if positions {
        let v = t.auto_increment.map_or(Node::Null, |v| Node::Int(v.into()));
        objects
            .entry(object.clone())
            .or_default()
            .insert("auto_increment".into(), v);
    }
}

/// Columns as `format_type` prints them, every index by its definition and every constraint by
/// its kind and definition. Tables that belong to an extension are not the application's.
fn postgres_table(objects: &mut Objects, t: &Table) {
    if t.extension_member {
        return;
    }
    let object = format!("table {}.{}", t.schema, t.name);
    for c in &t.columns {
        let mut col = BTreeMap::new();
        col.insert("type".to_string(), s(&c.sql_type));
        col.insert("nullable".to_string(), Node::Bool(c.nullable));
        // pg_attrdef's expression: the default, or what a generated column computes.
        let expression = c.generated.as_ref().and_then(|g| g.expression.as_ref());
        if let Some(default) = c.default.as_ref().or(expression) {
            col.insert("default".to_string(), s(default));
        }
        match c.identity {
            Some(Identity::Always) => drop(col.insert("identity".to_string(), s("always"))),
            Some(Identity::ByDefault) => drop(col.insert("identity".to_string(), s("by default"))),
            Some(Identity::AutoIncrement) => {
                drop(col.insert("auto_increment".to_string(), Node::Bool(true)))
            }
            None => {}
        }
        match &c.generated {
            Some(g) if g.stored => drop(col.insert("generated".to_string(), s("stored"))),
            Some(_) => drop(col.insert("generated".to_string(), s("virtual"))),
            None => {}
        }
        if let Some(coll) = &c.collation {
            col.insert("collation".to_string(), s(coll));
        }
        let entry = objects.entry(object.clone()).or_default();
        match t.kind {
            prodlike_catalog::TableKind::Partitioned => {
                drop(entry.insert("kind".to_string(), s("partitioned table")))
            }
            prodlike_catalog::TableKind::Foreign => {
                drop(entry.insert("kind".to_string(), s("foreign table")))
            }
            prodlike_catalog::TableKind::Ordinary => {}
        }
        put(objects, &object, "columns", c.name.clone(), Node::Map(col));
    }
    for index in &t.indexes {
        put_index(objects, &object, index);
    }
    let keys = t.primary_key.iter().map(|k| ("primary key", k));
    let keys = keys.chain(t.uniques.iter().map(|k| ("unique", k)));
    for (kind, key) in keys {
        if let (Some(name), Some(def)) = (&key.name, &key.definition) {
            put_constraint(objects, &object, name, kind, def);
        }
    }
    for fk in &t.foreign_keys {
        if let (Some(name), Some(def)) = (&fk.name, &fk.definition) {
            put_constraint(objects, &object, name, "foreign key", def);
        }
    }
    for check in &t.checks {
        put_constraint(objects, &object, &check.name, "check", &check.definition);
    }
    for con in &t.other_constraints {
        let kind = match con.kind {
            ConstraintKind::Exclusion => "exclusion",
            ConstraintKind::NotNull => "not null",
            ConstraintKind::Trigger => "trigger",
            ConstraintKind::Other => "other",
        };
        put_constraint(objects, &object, &con.name, kind, &con.definition);
    }
}

fn put_index(objects: &mut Objects, object: &str, index: &Index) {
    let definition = index.definition.clone().unwrap_or_default();
    put(
        objects,
        object,
        "indexes",
        index.name.clone(),
        s(definition),
    );
}

fn put_constraint(objects: &mut Objects, object: &str, name: &str, kind: &str, def: &str) {
    let value = map([
        ("type".to_string(), s(kind)),
        ("definition".to_string(), s(def)),
    ]);
    put(objects, object, "constraints", name.to_string(), value);
}

/// Columns as `PRAGMA table_info` shows them (generated and hidden columns left out), the
/// primary key, indexes (automatic ones keyed by what they index, so their numbering does not
/// show as drift) and foreign keys (keyed by their columns: SQLite does not name them).
fn sqlite_table(objects: &mut Objects, t: &Table) {
    let object = format!("table {}.{}", t.schema, t.name);
    objects.entry(object.clone()).or_default();
    for c in t
        .columns
        .iter()
        .filter(|c| !c.hidden && c.generated.is_none())
    {
        let mut col = BTreeMap::new();
        col.insert("type".to_string(), s(&c.sql_type));
        col.insert("nullable".to_string(), Node::Bool(c.nullable));
        if let Some(d) = &c.default {
            col.insert("default".to_string(), s(d));
        }
        put(objects, &object, "columns", c.name.clone(), Node::Map(col));
    }
    if let Some(pk) = &t.primary_key {
        let def = format!("PRIMARY KEY ({})", pk.columns.join(", "));
        put_constraint(objects, &object, "primary key", "primary key", &def);
    }
    for index in &t.indexes {
        let cols: Vec<&str> = index
            .columns
            .iter()
            .map(|k| match k {
                IndexKey::Column(c) => c.as_str(),
                IndexKey::Expression => "<expr>",
            })
            .collect();
        let def = match &index.definition {
            Some(sql) => normalise_sql(sql),
            None => format!(
                "{}INDEX ON {} ({})",
                if index.unique { "UNIQUE " } else { "" },
                t.name,
                cols.join(", ")
            ),
        };
        let key = if index.name.starts_with("sqlite_autoindex_") {
            let origin = match index.origin {
                IndexOrigin::PrimaryKey => "pk",
                IndexOrigin::Unique => "u",
                IndexOrigin::Created | IndexOrigin::Exclusion => "c",
            };
            format!("{origin}({})", cols.join(", "))
        } else {
            index.name.clone()
        };
        put(objects, &object, "indexes", key, s(def));
    }
    for fk in &t.foreign_keys {
        // `REFERENCES parent` names no columns; print one empty name per column, as ever.
        let to = match fk.ref_columns.is_empty() {
            true => vec![String::new(); fk.columns.len()],
            false => fk.ref_columns.clone(),
        };
        let def = format!(
            "FOREIGN KEY ({}) REFERENCES {}({}) ON UPDATE {} ON DELETE {}",
            fk.columns.join(", "),
            fk.ref_table,
            to.join(", "),
            fk.on_update,
            fk.on_delete
        );
        let key = format!("foreign key ({})", fk.columns.join(", "));
        put_constraint(objects, &object, &key, "foreign key", &def);
    }
}

/// Whitespace-insensitive SQL.
pub(super) fn normalise_sql(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builder for nested maps.
fn map(entries: impl IntoIterator<Item = (String, Node)>) -> Node {
    Node::Map(entries.into_iter().collect::<BTreeMap<_, _>>())
}

/// A map of strings.
fn texts(values: &BTreeMap<String, String>) -> Node {
    map(values.iter().map(|(k, v)| (k.clone(), s(v))))
}

/// Inserts `value` at `object`/`section`/`name`.
pub(super) fn put(objects: &mut Objects, object: &str, section: &str, name: String, value: Node) {
    let obj = objects.entry(object.to_string()).or_default();
    let sec = obj
        .entry(section.to_string())
        .or_insert_with(|| Node::Map(BTreeMap::new()));
    if let Node::Map(m) = sec {
        m.insert(name, value);
    }
}

pub(super) fn s(v: impl Into<String>) -> Node {
    Node::String(v.into())
}
