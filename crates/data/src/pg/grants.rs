//! Keeping the target's access rules across the swap. The load schema is new, so it has no
//! grants, its owner is whoever runs the sync, and the target schema's default privileges
//! (`pg_default_acl`, tied to the schema's oid) would go with the old schema: staging's
//! application role would lose access at every refresh. Before the swap, [`carried_over`] reads
//! the target schema's owner, privileges and default privileges, and the owner and privileges of
//! each of its relations that has a namesake of the same kind in the load schema, and returns
//! the statements that give them to the new schema once it has taken the old one's name. They
//! run inside the swap's transaction, so no session ever sees the new schema without them.
//! What the syncing user may not do (act as a role it is not a member of) is left out rather than
//! failing the swap. Column privileges are not carried over.

use tokio_postgres::Client;

use super::{ident, qualified};
use crate::error::{DataError, Result};

/// Statements that give the schema named `load_ns` (once renamed to `ns`) the owner, privileges
/// and default privileges of the current `ns`, and give each of its relations those of the
/// same-named relation of `ns`.
pub async fn carried_over(admin: &Client, ns: &str, load_ns: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    schema_rules(admin, ns, &mut out).await?;
    default_privileges(admin, ns, &mut out).await?;
    relation_rules(admin, ns, load_ns, &mut out).await?;
    Ok(out)
}

/// `PUBLIC` for grantee 0, else the role's name quoted.
fn grantee(name: Option<String>) -> String {
    name.map_or_else(|| "PUBLIC".to_string(), |n| ident(&n))
}

fn grant(privilege: &str, on: &str, to: Option<String>, grantable: bool) -> String {
    format!(
        "GRANT {privilege} ON {on} TO {}{}",
        grantee(to),
        if grantable { " WITH GRANT OPTION" } else { "" }
    )
}

const EXPLODED: &str = "a.privilege_type, a.is_grantable, \
     CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee)::text END";

async fn schema_rules(admin: &Client, ns: &str, out: &mut Vec<String>) -> Result<()> {
    let what = "reading the target schema's owner and privileges";
    let Some(owner) = admin
        .query_opt(
            "SELECT pg_get_userbyid(nspowner)::text, pg_has_role(nspowner, 'MEMBER') \
             FROM pg_namespace WHERE nspname = $1",
            &[&ns],
        )
        .await
        .map_err(DataError::pg(what))?
    else {
        return Ok(());
    };
    // A role the sync's user may not act as cannot be given the schema; it stays the user's.
    if owner.get::<_, bool>(1) {
        let name: String = owner.get(0);
        out.push(format!(
            "ALTER SCHEMA {} OWNER TO {}",
            ident(ns),
            ident(&name)
        ));
    }
    let rows = admin
        .query(
            &format!(
                "SELECT {EXPLODED} FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = $1"
            ),
            &[&ns],
        )
        .await
        .map_err(DataError::pg(what))?;
    for r in rows {
        out.push(grant(
            r.get(0),
            &format!("SCHEMA {}", ident(ns)),
            r.get(2),
            r.get(1),
        ));
    }
    Ok(())
}

async fn default_privileges(admin: &Client, ns: &str, out: &mut Vec<String>) -> Result<()> {
    let rows = admin
        .query(
            &format!(
                "SELECT pg_get_userbyid(d.defaclrole)::text, d.defaclobjtype::text, {EXPLODED} \
                 FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace, \
                      aclexplode(d.defaclacl) a \
                 WHERE n.nspname = $1 AND pg_has_role(d.defaclrole, 'MEMBER')"
            ),
            &[&ns],
        )
        .await
        .map_err(DataError::pg(
            "reading the target schema's default privileges",
        ))?;
    for r in rows {
        let objects = match r.get::<_, String>(1).as_str() {
            "r" => "TABLES",
            "S" => "SEQUENCES",
            "f" => "FUNCTIONS",
            "T" => "TYPES",
            // Schemas' default privileges are not per schema.
            _ => continue,
        };
        out.push(format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} {}",
            ident(&r.get::<_, String>(0)),
            ident(ns),
            grant(r.get(2), objects, r.get(4), r.get(3))
        ));
    }
    Ok(())
}

/// `ALTER … OWNER TO` and `GRANT … ON` keywords of a relation kind.
fn keywords(relkind: &str) -> (&'static str, &'static str) {
    match relkind {
        "S" => ("SEQUENCE", "SEQUENCE"),
        "v" => ("VIEW", "TABLE"),
        "m" => ("MATERIALIZED VIEW", "TABLE"),
        "f" => ("FOREIGN TABLE", "TABLE"),
        _ => ("TABLE", "TABLE"),
    }
}

async fn relation_rules(
    admin: &Client,
    ns: &str,
    load_ns: &str,
    out: &mut Vec<String>,
) -> Result<()> {
    let what = "reading the target tables' owners and privileges";
    // Namesakes of the same kind (a table may have become partitioned). A sequence that belongs
    // to a column takes its table's owner with it, and may not be given another.
    let pairs = "WITH old AS (SELECT c.relname, c.relkind, c.relowner, c.relacl FROM pg_class c \
                   JOIN pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')), \
                 new AS (SELECT c.oid, c.relname, c.relkind FROM pg_class c \
                   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $2), \
                 pairs AS (SELECT o.*, nw.oid AS new_oid FROM old o JOIN new nw \
                   ON nw.relname = o.relname AND (nw.relkind = o.relkind \
                     OR (nw.relkind IN ('r', 'p') AND o.relkind IN ('r', 'p'))))";
    let owners = admin
        .query(
            &format!(
                "{pairs} SELECT p.relname::text, p.relkind::text, pg_get_userbyid(p.relowner)::text \
                 FROM pairs p WHERE pg_has_role(p.relowner, 'MEMBER') \
                   AND (p.relkind <> 'S' OR NOT EXISTS (SELECT 1 FROM pg_depend d \
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = p.new_oid \
                     AND d.deptype IN ('a', 'i'))) \
                 ORDER BY p.relkind <> 'S' DESC, p.relname"
            ),
            &[&ns, &load_ns],
        )
        .await
        .map_err(DataError::pg(what))?;
    for r in owners {
        let (alter, _) = keywords(r.get::<_, &str>(1));
        out.push(format!(
            "ALTER {alter} {} OWNER TO {}",
            qualified(ns, r.get(0)),
            ident(r.get(2))
        ));
    }
    let grants = admin
        .query(
            &format!(
                "{pairs} SELECT p.relname::text, p.relkind::text, {EXPLODED} \
                 FROM pairs p, aclexplode(p.relacl) a ORDER BY p.relname"
            ),
            &[&ns, &load_ns],
        )
        .await
        .map_err(DataError::pg(what))?;
    for r in grants {
        let (_, on) = keywords(r.get::<_, &str>(1));
        out.push(grant(
            r.get(2),
            &format!("{on} {}", qualified(ns, r.get(0))),
            r.get(4),
            r.get(3),
        ));
    }
    Ok(())
}

pub use prodlike_catalog::Privilege;

/// The `ON …` object of a `GRANT` of `p` on schema `ns`.
fn on(p: &Privilege, ns: &str) -> String {
    match &p.relation {
        None => format!("SCHEMA {}", ident(ns)),
        Some(rel) => format!("{} {}", keywords(&p.kind).1, qualified(ns, rel)),
    }
}

/// `SELECT` or, for a column privilege, `SELECT ("title")`.
fn privilege_sql(p: &Privilege) -> String {
    match &p.column {
        None => p.privilege.clone(),
        Some(c) => format!("{} ({})", p.privilege, ident(c)),
    }
}

/// `held` is `wanted` on the same object, with the same privilege, for `grantee` (the grant
/// option aside; a table may have become partitioned).
fn holds(held: &Privilege, wanted: &Privilege, grantee: Option<&str>) -> bool {
    held.relation == wanted.relation
        && held.column == wanted.column
        && held.privilege == wanted.privilege
        && held.grantee.as_deref() == grantee
        && (held.kind == wanted.kind
            || (matches!(held.kind.as_str(), "r" | "p")
                && matches!(wanted.kind.as_str(), "r" | "p")))
}

/// The privileges on schema `ns` and its relations, read through `c` (the source's snapshot,
/// or the target).
pub async fn privileges(c: &Client, ns: &str) -> Result<Vec<Privilege>> {
    prodlike_catalog::postgres::privileges(c, ns)
        .await
        .map_err(|e| match e {
            prodlike_catalog::CatalogError::Postgres { source, .. } => {
                DataError::pg(format!("reading the privileges on schema {ns}"))(source)
            }
            other => DataError::Invalid(prodlike_common::error::chain(&other).to_string()),
        })
}

/// A grant of the `[grants] map` rule, for the relation it is on (`None`: the schema). Grants
/// on a relation the sync did not create (a view it could not copy, listed as not copied) are
/// left out of the swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedGrant {
    pub relation: Option<String>,
    pub statement: String,
}

/// The source's privileges (`source`, read with [`privileges`]) of the roles named in `map`
/// (the `[grants] map` rule), as statements granting them to the mapped roles on the target's
/// `ns`.
pub fn mapped(
    source: &[Privilege],
    ns: &str,
    map: &std::collections::BTreeMap<String, String>,
) -> Vec<MappedGrant> {
    source
        .iter()
        .filter_map(|p| {
            let to = map.get(p.grantee.as_deref()?)?;
            Some(MappedGrant {
                relation: p.relation.clone(),
                statement: grant(&privilege_sql(p), &on(p, ns), Some(to.clone()), p.grantable),
            })
        })
        .collect()
}

/// How the source's privileges stand in the target: those of roles the `[grants] map` rule
/// maps that the target's mapped role lacks, and, per role the rule does not map (or PUBLIC),
/// those the target does not grant that role itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GrantGaps {
    pub mapped_missing: Vec<(Privilege, String)>,
    pub unmapped_missing: std::collections::BTreeMap<String, Vec<Privilege>>,
}

/// Compares the source's privileges with the target's, through the `[grants] map` rule.
pub fn gaps(
    source: &[Privilege],
    target: &[Privilege],
    map: &std::collections::BTreeMap<String, String>,
) -> GrantGaps {
    let mut out = GrantGaps::default();
    for p in source {
        let mapped = p.grantee.as_deref().and_then(|g| map.get(g));
        let want = mapped.map(String::as_str).or(p.grantee.as_deref());
        if target.iter().any(|t| holds(t, p, want)) {
            continue;
        }
        match mapped {
            Some(to) => out.mapped_missing.push((p.clone(), to.clone())),
            None => out
                .unmapped_missing
                .entry(p.grantee_name().to_owned())
                .or_default()
                .push(p.clone()),
        }
    }
    out
}

/// The `not_copied` entry of a role's privileges that the sync does not give anyone: kind
/// `grants`, named by the role.
/// `roles`: the target has roles (PostgreSQL) rather than none (SQLite).
pub fn unmapped_not_copied(
    ns: &str,
    grantee: &str,
    missing: &[Privilege],
    roles: bool,
) -> super::objects::NotCopied {
    let mut objects: Vec<String> = Vec::new();
    for p in missing {
        let o = format!("{} on {}", p.privilege, p.object(ns));
        if !objects.contains(&o) {
            objects.push(o);
        }
    }
    let mut shown = objects
        .iter()
        .take(6)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if objects.len() > 6 {
        shown.push_str(&format!(", and {} more", objects.len() - 6));
    }
    let reason = if !roles {
        format!("the source grants {grantee} {shown}; the target (SQLite) has no privileges")
    } else if grantee == "PUBLIC" {
        format!(
            "the target does not grant PUBLIC what the source does ({shown}); the target keeps its own grants"
        )
    } else {
        format!(
            "the source grants {grantee} {shown}; staging roles differ from production's, so \
             these are not copied: map the role to a staging role with `[grants] map`, or \
             grant it on the target (the target's own grants are kept)"
        )
    };
    super::objects::NotCopied {
        kind: "grants".into(),
        name: grantee.to_owned(),
        reason,
    }
}

/// The roles among `roles` that do not exist where `admin` is connected.
pub async fn missing_roles(admin: &Client, roles: &[&str]) -> Result<Vec<String>> {
    let rows = admin
        .query(
            "SELECT r FROM unnest($1::text[]) r WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)",
            &[&roles],
        )
        .await
        .map_err(DataError::pg("checking the roles of the grants rule"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
