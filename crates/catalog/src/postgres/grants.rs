//! Privileges on a schema and its relations (`aclexplode` of `pg_namespace.nspacl` and
//! `pg_class.relacl`). The owners' own entries are left out: owning an object gives them, and
//! owners differ between production and staging by design. Read apart from [`super::read`]
//! because `data` needs them from two sessions (the source's snapshot and the target) and
//! `drift schema` compares them through a role map.
use tokio_postgres::Client;

use crate::error::CatalogError;
use crate::model::Privilege;

/// The privileges held on schema `ns`, on its tables, views, materialized views and sequences,
/// and on their columns, the owners' own aside, ordered by relation (the schema first), column
/// (the relation's own first), privilege and grantee.
pub async fn privileges(c: &Client, ns: &str) -> Result<Vec<Privilege>, CatalogError> {
    const EXPLODED: &str = "a.privilege_type, a.is_grantable, \
         CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee)::text END";
    let rows = c
        .query(
            &format!(
                "SELECT NULL::text, 'n'::text, {EXPLODED}, NULL::text \
                 FROM pg_namespace n, aclexplode(n.nspacl) a \
                 WHERE n.nspname = $1 AND a.grantee <> n.nspowner \
                 UNION ALL \
                 SELECT c.relname::text, c.relkind::text, {EXPLODED}, NULL::text \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, \
                      aclexplode(c.relacl) a \
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S') \
                   AND a.grantee <> c.relowner \
                 UNION ALL \
                 SELECT c.relname::text, c.relkind::text, {EXPLODED}, att.attname::text \
                 FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(att.attacl) a \
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') AND att.attnum > 0 \
                   AND NOT att.attisdropped AND a.grantee <> c.relowner \
                 ORDER BY 1 NULLS FIRST, 6 NULLS FIRST, 3, 5"
            ),
            &[&ns],
        )
        .await
        .map_err(CatalogError::pg("privileges"))?;
    Ok(rows
        .iter()
        .map(|r| Privilege {
            relation: r.get(0),
            kind: r.get(1),
            privilege: r.get(2),
            grantable: r.get(3),
            grantee: r.get(4),
            column: r.get(5),
        })
        .collect())
}
