//! The catalog objects beyond tables, sequences and views, as drift compares them: partitions
//! (each its own object, named by its parent and bound), domains, enums, composite types,
//! functions (by signature, with a hash of their body), triggers (under their table), comments,
//! grants (roles mapped between environments by `[grants] map`) and, when asked, sequence
//! positions.
use std::collections::BTreeMap;

use prodlike_catalog::{Catalog, Privilege};

use crate::tree::Node;

use super::objects::{Objects, normalise_sql, put, s};

/// What a schema comparison reads besides the catalog, and how (from the rules file).
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Privileges per schema (PostgreSQL).
    pub privileges: Vec<(String, Vec<Privilege>)>,
    /// Compare `last_value` of sequences (off by default: it moves with every insert).
    pub sequence_positions: bool,
    /// Baseline role → candidate role, applied to the baseline's grants before comparing.
    pub grant_map: BTreeMap<String, String>,
}

/// Adds every object of this module to `objects`.
pub fn add(objects: &mut Objects, cat: &Catalog, extras: &Extras) {
    partitions(objects, cat);
    types(objects, cat);
    code(objects, cat);
    comments(objects, cat);
    grants(objects, extras);
    relation_options(objects, cat);
    if extras.sequence_positions {
        for q in &cat.sequences {
            let object = format!("sequence {}.{}", q.schema, q.name);
            let v = q.last_value.map_or(Node::Null, |v| Node::Int(v.into()));
            objects
                .entry(object)
                .or_default()
                .insert("last_value".into(), v);
        }
    }
}

/// Each partition is an object of its own (`table s.orders_2026_01`) saying what it is a
/// partition of and its bound; its parent lists its partitions by name.
fn partitions(objects: &mut Objects, cat: &Catalog) {
    for t in cat.tables.iter().filter(|t| !t.extension_member) {
        if let Some(p) = &t.partition_of {
            let object = format!("table {}.{}", t.schema, t.name);
            let parent = format!("{}.{}", p.schema, p.table);
            let entry = objects.entry(object).or_default();
            entry.insert("partition of".into(), s(&parent));
            entry.insert("bound".into(), s(&p.bound));
            put(
                objects,
                &format!("table {parent}"),
                "partitions",
                format!("{}.{}", t.schema, t.name),
                s(&p.bound),
            );
        }
        if let Some(key) = &t.partition_key {
            let object = format!("table {}.{}", t.schema, t.name);
            objects
                .entry(object)
                .or_default()
                .insert("partition key".into(), s(key));
        }
    }
}

/// Domains, enums and composite types.
fn types(objects: &mut Objects, cat: &Catalog) {
    for d in &cat.domains {
        let object = format!("domain {}.{}", d.schema, d.name);
        let entry = objects.entry(object.clone()).or_default();
        entry.insert("base type".into(), s(&d.base_type));
        entry.insert("not null".into(), Node::Bool(d.not_null));
        if let Some(v) = &d.default {
            entry.insert("default".into(), s(v));
        }
        if let Some(v) = &d.collation {
            entry.insert("collation".into(), s(v));
        }
        entry.insert("checks".into(), Node::Map(BTreeMap::new()));
        for (name, def) in &d.checks {
            put(
                objects,
                &object,
                "checks",
                name.clone(),
                s(normalise_sql(def)),
            );
        }
    }
    for e in &cat.enums {
        // One string: the labels' order is part of the type.
        let object = format!("enum {}.{}", e.schema, e.name);
        objects
            .entry(object)
            .or_default()
            .insert("labels".into(), s(e.labels.join(", ")));
    }
    for c in &cat.composites {
        let object = format!("type {}.{}", c.schema, c.name);
        objects.entry(object.clone()).or_default();
        for (name, ty) in &c.attributes {
            put(objects, &object, "attributes", name.clone(), s(ty));
        }
    }
}

/// Functions by signature, their body by hash (the body is compared, not printed); triggers
/// under their table.
fn code(objects: &mut Objects, cat: &Catalog) {
    for f in &cat.objects.functions {
        let object = format!("function {}.{}({})", f.schema, f.name, f.arguments);
        let entry = objects.entry(object).or_default();
        entry.insert("kind".into(), s(format!("{:?}", f.kind).to_lowercase()));
        entry.insert("language".into(), s(&f.language));
        let body = match &f.definition {
            Some(def) => s(format!(
                "blake3:{}",
                &blake3::hash(normalise_sql(def).as_bytes()).to_hex()[..16]
            )),
            None => s(f.unwritable.clone().unwrap_or_default()),
        };
        entry.insert("body".into(), body);
    }
    for t in &cat.objects.triggers {
        let object = format!("table {}.{}", t.schema, t.table);
        let value = BTreeMap::from([
            ("definition".to_string(), s(normalise_sql(&t.definition))),
            ("enabled".to_string(), s(&t.enabled)),
        ]);
        put(
            objects,
            &object,
            "triggers",
            t.name.clone(),
            Node::Map(value),
        );
    }
}

/// MySQL: each table's engine, collation and row format (`options` of the table).
fn relation_options(objects: &mut Objects, cat: &Catalog) {
    if cat.engine != prodlike_catalog::Engine::Mysql {
        return;
    }
    for r in &cat.objects.settings {
        let object = format!("table {}.{}", r.schema, r.name);
        for o in &r.options {
            if let Some((k, v)) = o.split_once('=') {
                put(objects, &object, "options", k.to_string(), s(v));
            }
        }
    }
}

/// Every comment under one object, keyed by what it is on.
fn comments(objects: &mut Objects, cat: &Catalog) {
    let entry = objects.entry("comments".to_string()).or_default();
    for c in &cat.objects.comments {
        let mut on = format!("{} {}.{}", c.on.sql().to_lowercase(), c.schema, c.name);
        if let Some(col) = &c.column {
            on = format!("column {}.{}.{col}", c.schema, c.name);
        }
        if let Some(args) = &c.arguments {
            on.push_str(&format!("({args})"));
        }
        entry.insert(on, s(&c.text));
    }
}

/// Grants per schema: `grants s` → object → role → privileges (`*`: with grant option).
fn grants(objects: &mut Objects, extras: &Extras) {
    for (ns, privileges) in &extras.privileges {
        let object = format!("grants {ns}");
        let mut by: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for p in privileges {
            let role = p.grantee_name();
            let role = extras.grant_map.get(role).map_or(role, String::as_str);
            let star = if p.grantable { "*" } else { "" };
            by.entry((p.object(ns), role.to_string()))
                .or_default()
                .push(format!("{}{star}", p.privilege));
        }
        let entry = objects.entry(object.clone()).or_default();
        for ((on, role), mut privs) in by {
            privs.sort();
            privs.dedup();
            let on_map = entry
                .entry(on)
                .or_insert_with(|| Node::Map(BTreeMap::new()));
            if let Node::Map(m) = on_map {
                m.insert(role, s(privs.join(", ")));
            }
        }
    }
}
