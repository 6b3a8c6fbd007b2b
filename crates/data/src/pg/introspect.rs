//! Reads a PostgreSQL schema from the catalogs.

use std::collections::HashMap;

use tokio_postgres::Client;

use super::codec::kind_of;
use crate::error::{DataError, Result};
use crate::schema::{
    Check, Column, EnumType, ForeignKey, Index, Schema, Sequence, Table, UniqueKey,
};

/// Reads every ordinary table of namespace `ns`. The session's search_path is set to `ns` first
/// so that type names, defaults and constraint definitions come out unqualified and can be
/// replayed in another schema.
pub async fn read_schema(client: &Client, ns: &str) -> Result<Schema> {
    let q = |what: &'static str| DataError::pg(format!("reading the schema ({what})"));
    client
        .batch_execute(&format!("SET search_path = {}", super::ident(ns)))
        .await
        .map_err(q("search_path"))?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&ns])
        .await
        .map_err(q("namespace"))?;
    if exists.is_none() {
        return Err(DataError::Invalid(format!(
            "schema `{ns}` does not exist in the source database; pass --schema with an existing one"
        )));
    }
    let rels = client
        .query(
            "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind = 'r' AND NOT c.relispartition ORDER BY c.relname",
            &[&ns],
        )
        .await
        .map_err(q("tables"))?;
    let oids: Vec<u32> = rels.iter().map(|r| r.get(0)).collect();
    let mut tables: Vec<Table> = rels
        .iter()
        .map(|r| Table {
            name: r.get(1),
            columns: vec![],
            primary_key: None,
            uniques: vec![],
            foreign_keys: vec![],
            indexes: vec![],
            checks: vec![],
            sqlite_sql: None,
        })
        .collect();
    let by_oid: HashMap<u32, usize> = oids.iter().enumerate().map(|(i, o)| (*o, i)).collect();
    let mut attnames: HashMap<(u32, i16), String> = HashMap::new();

    let cols = client
        .query(
            "SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, \
                    a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, \
                    (t.typtype = 'e' OR t.typname IN ('citext', 'ltree')) AS text_like, a.attgenerated::text \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attrelid, a.attnum",
            &[&oids],
        )
        .await
        .map_err(q("columns"))?;
    for r in cols {
        let rel: u32 = r.get(0);
        let Some(&ti) = by_oid.get(&rel) else {
            continue;
        };
        let name: String = r.get(2);
        attnames.insert((rel, r.get(1)), name.clone());
        let type_oid: u32 = r.get(4);
        let identity: String = r.get(7);
        let generated: String = r.get(9);
        let default: Option<String> = r.get(6);
        let is_generated = generated == "s";
        tables[ti].columns.push(Column {
            name,
            sql_type: r.get(3),
            kind: kind_of(type_oid, r.get(8)),
            nullable: !r.get::<_, bool>(5),
            default: if is_generated { None } else { default.clone() },
            identity: match identity.as_str() {
                "a" => Some("always".into()),
                "d" => Some("by_default".into()),
                _ => None,
            },
            pg_oid: type_oid,
            generated: if is_generated { default } else { None },
        });
    }

    let cons = client
        .query(
            "SELECT conrelid, conname, contype::text, pg_get_constraintdef(oid), conkey, \
                    confrelid, confkey, condeferrable \
             FROM pg_constraint WHERE conrelid = ANY($1) ORDER BY conrelid, conname",
            &[&oids],
        )
        .await
        .map_err(q("constraints"))?;
    let names_of = |rel: u32, keys: &Option<Vec<i16>>| -> Vec<String> {
        keys.iter()
            .flatten()
            .filter_map(|k| attnames.get(&(rel, *k)).cloned())
            .collect()
    };
    for r in cons {
        let rel: u32 = r.get(0);
        let Some(&ti) = by_oid.get(&rel) else {
            continue;
        };
        let name: String = r.get(1);
        let ctype: String = r.get(2);
        let def: String = r.get(3);
        let conkey: Option<Vec<i16>> = r.get(4);
        match ctype.as_str() {
            "p" => {
                tables[ti].primary_key = Some(UniqueKey {
                    name,
                    columns: names_of(rel, &conkey),
                    definition: Some(def),
                })
            }
            "u" => tables[ti].uniques.push(UniqueKey {
                name,
                columns: names_of(rel, &conkey),
                definition: Some(def),
            }),
            "f" => {
                let frel: u32 = r.get(5);
                let confkey: Option<Vec<i16>> = r.get(6);
                let Some(&pi) = by_oid.get(&frel) else {
                    tracing::warn!(
                        "foreign key {name} references a table outside schema {ns}; it is not copied"
                    );
                    continue;
                };
                let ref_table = tables[pi].name.clone();
                tables[ti].foreign_keys.push(ForeignKey {
                    name,
                    columns: names_of(rel, &conkey),
                    ref_table,
                    ref_columns: names_of(frel, &confkey),
                    deferrable: r.get(7),
                    definition: Some(def),
                });
            }
            "c" => tables[ti].checks.push(Check {
                name,
                definition: def,
            }),
            _ => {}
        }
    }

    let idx = client
        .query(
            "SELECT i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indkey::int2[] \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             WHERE i.indrelid = ANY($1) AND NOT EXISTS ( \
               SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid \
               AND c.contype IN ('p', 'u', 'x')) \
             ORDER BY ic.relname",
            &[&oids],
        )
        .await
        .map_err(q("indexes"))?;
    for r in idx {
        let rel: u32 = r.get(0);
        let Some(&ti) = by_oid.get(&rel) else {
            continue;
        };
        let keys: Vec<i16> = r.get(4);
        let columns = if keys.contains(&0) {
            vec![]
        } else {
            names_of(rel, &Some(keys))
        };
        tables[ti].indexes.push(Index {
            name: r.get(1),
            columns,
            unique: r.get(3),
            definition: Some(r.get(2)),
        });
    }

    let enums = client
        .query(
            "SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
             JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 \
             GROUP BY t.typname ORDER BY t.typname",
            &[&ns],
        )
        .await
        .map_err(q("enum types"))?
        .into_iter()
        .map(|r| EnumType {
            name: r.get(0),
            labels: r.get(1),
        })
        .collect();

    // Sequences not created implicitly by identity columns.
    let sequences = client
        .query(
            "SELECT s.relname, t.relname, a.attname::text FROM pg_class s \
             JOIN pg_namespace n ON n.oid = s.relnamespace \
             LEFT JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
             LEFT JOIN pg_class t ON t.oid = d.refobjid \
             LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
             WHERE s.relkind = 'S' AND n.nspname = $1 AND (d.deptype IS NULL OR d.deptype = 'a') \
             ORDER BY s.relname",
            &[&ns],
        )
        .await
        .map_err(q("sequences"))?
        .into_iter()
        .map(|r| {
            let t: Option<String> = r.get(1);
            let c: Option<String> = r.get(2);
            Sequence {
                name: r.get(0),
                owned_by: t.zip(c),
            }
        })
        .collect();

    Ok(Schema {
        engine: "postgres".into(),
        namespace: ns.to_owned(),
        tables,
        enums,
        sequences,
    })
}
