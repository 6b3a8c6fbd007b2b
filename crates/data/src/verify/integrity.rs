//! Integrity of a target against the source's constraints, checked with SQL.

use crate::error::Result;
use crate::schema::Schema;
use crate::source::Source;

pub use prodlike_results::data::verify::{Integrity, NotNullCheck, OrphanCheck, UniqueCheck};

/// Checks `target` against the constraints of `schema` (the source's).
pub async fn check(target: &Source, schema: &Schema, tschema: &Schema) -> Result<Integrity> {
    let mut out = Integrity::default();
    let q = |c: &str| target.ident(c);
    for t in &schema.tables {
        let Some(tt) = tschema.table(&t.name) else {
            continue;
        };
        let tref = target.table_ref(&t.name);
        for fk in &t.foreign_keys {
            if tschema.table(&fk.ref_table).is_none() {
                continue;
            }
            let not_null: Vec<String> = fk
                .columns
                .iter()
                .map(|c| format!("c.{} IS NOT NULL", q(c)))
                .collect();
            let join: Vec<String> = fk
                .columns
                .iter()
                .zip(&fk.ref_columns)
                .map(|(c, p)| format!("p.{} = c.{}", q(p), q(c)))
                .collect();
            let sql = format!(
                "SELECT count(*) FROM {tref} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})",
                not_null.join(" AND "),
                target.table_ref(&fk.ref_table),
                join.join(" AND ")
            );
            let n = target
                .scalar_count(&sql, &format!("checking orphans of {}", t.name))
                .await?;
            out.checks += 1;
            out.total_violations += n;
            out.orphans.push(OrphanCheck {
                table: t.name.clone(),
                columns: fk.columns.clone(),
                parent: fk.ref_table.clone(),
                orphans: n,
            });
        }
        for set in t.unique_sets() {
            let cols: Vec<String> = set.iter().map(|c| q(c)).collect();
            let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
            let sql = format!(
                "SELECT count(*) FROM (SELECT 1 AS x FROM {tref} WHERE {} GROUP BY {} HAVING count(*) > 1) d",
                not_null.join(" AND "),
                cols.join(", ")
            );
            let n = target
                .scalar_count(&sql, &format!("checking unique columns of {}", t.name))
                .await?;
            out.checks += 1;
            out.total_violations += n;
            out.unique.push(UniqueCheck {
                table: t.name.clone(),
                columns: set.to_vec(),
                duplicate_values: n,
            });
        }
        for c in t
            .columns
            .iter()
            .filter(|c| !c.nullable && c.generated.is_none())
        {
            if tt.column(&c.name).is_none() {
                continue;
            }
            let sql = format!("SELECT count(*) FROM {tref} WHERE {} IS NULL", q(&c.name));
            let n = target
                .scalar_count(&sql, &format!("checking NULLs in {}.{}", t.name, c.name))
                .await?;
            out.checks += 1;
            if n > 0 {
                out.total_violations += n;
                out.not_null_violations.push(NotNullCheck {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    nulls: n,
                });
            }
        }
    }
    Ok(out)
}
