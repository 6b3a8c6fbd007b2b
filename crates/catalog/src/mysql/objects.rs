//! Views, triggers and routines (procedures and functions) of one MySQL database, each with the
//! statement that recreates it elsewhere ([`super::portable`]: no definer, no own database name).
use mysql_async::Conn;

use super::tables::cells;
use super::{ident, portable, rows};
use crate::error::CatalogError;
use crate::model::{Catalog, View};
use crate::routines::{Function, FunctionKind, Trigger};

/// Adds the views, triggers and routines of `schema` to `catalog`.
pub(super) async fn read(
    conn: &mut Conn,
    schema: &str,
    catalog: &mut Catalog,
) -> Result<(), CatalogError> {
    views(conn, schema, catalog).await?;
    triggers(conn, schema, catalog).await?;
    routines(conn, schema, catalog).await
}

async fn views(conn: &mut Conn, schema: &str, catalog: &mut Catalog) -> Result<(), CatalogError> {
    let found = rows(
        conn,
        "views",
        "SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION FROM information_schema.VIEWS \
         WHERE TABLE_SCHEMA = ? ORDER BY BINARY TABLE_NAME",
        vec![schema.into()],
    )
    .await?;
    for row in found {
        let [name, definition, check] = cells::<3>(row);
        let Some(name) = name else { continue };
        let mut definition = portable(&definition.unwrap_or_default(), schema);
        if let Some(check) = check.filter(|c| c != "NONE") {
            definition.push_str(&format!(" WITH {check} CHECK OPTION"));
        }
        catalog.views.push(View {
            schema: schema.to_string(),
            name,
            materialized: false,
            definition,
            indexes: Vec::new(),
            extension_member: false,
        });
    }
    Ok(())
}

/// Triggers by table, then in firing order (`ACTION_ORDER`), so recreating them in this order
/// keeps the order they fire in.
async fn triggers(
    conn: &mut Conn,
    schema: &str,
    catalog: &mut Catalog,
) -> Result<(), CatalogError> {
    let found = rows(
        conn,
        "triggers",
        "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, \
                ACTION_STATEMENT \
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? \
         ORDER BY BINARY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
        vec![schema.into()],
    )
    .await?;
    for row in found {
        let [table, name, timing, event, statement] = cells::<5>(row);
        let (Some(table), Some(name)) = (table, name) else {
            continue;
        };
        let definition = format!(
            "CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}",
            ident(&name),
            timing.unwrap_or_default(),
            event.unwrap_or_default(),
            ident(&table),
            portable(&statement.unwrap_or_default(), schema)
        );
        catalog.objects.triggers.push(Trigger {
            schema: schema.to_string(),
            table,
            name,
            definition,
            enabled: "O".into(),
        });
    }
    Ok(())
}

async fn routines(
    conn: &mut Conn,
    schema: &str,
    catalog: &mut Catalog,
) -> Result<(), CatalogError> {
    let found = rows(
        conn,
        "routines",
        "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = ? ORDER BY BINARY ROUTINE_NAME, ROUTINE_TYPE",
        vec![schema.into()],
    )
    .await?;
    for row in found {
        let [name, kind] = cells::<2>(row);
        let (Some(name), Some(kind)) = (name, kind) else {
            continue;
        };
        let (kind, word) = match kind.as_str() {
            "PROCEDURE" => (FunctionKind::Procedure, "PROCEDURE"),
            "PACKAGE" | "PACKAGE BODY" => continue,
            _ => (FunctionKind::Function, "FUNCTION"),
        };
        let arguments = rows(
            conn,
            "routines",
            "SELECT PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER FROM information_schema.PARAMETERS \
             WHERE SPECIFIC_SCHEMA = ? AND SPECIFIC_NAME = ? AND ROUTINE_TYPE = ? \
               AND ORDINAL_POSITION > 0 ORDER BY ORDINAL_POSITION",
            vec![schema.into(), name.as_str().into(), word.into()],
        )
        .await?
        .into_iter()
        .map(|r| {
            let [mode, pname, ty] = cells::<3>(r);
            // A function's parameters are all IN (MariaDB says so, MySQL leaves it NULL).
            let mode = mode.filter(|_| word == "PROCEDURE");
            let parts: Vec<String> = [mode, pname, ty].into_iter().flatten().collect();
            parts.join(" ")
        })
        .collect::<Vec<_>>()
        .join(", ");
        let sql = format!("SHOW CREATE {word} {}.{}", ident(schema), ident(&name));
        let definition = rows(conn, "routines", &sql, Vec::new())
            .await?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().nth(2).flatten());
        let unwritable = definition
            .is_none()
            .then(|| "its body is not readable by this user (SHOW CREATE gave none)".to_string());
        catalog.objects.functions.push(Function {
            schema: schema.to_string(),
            name,
            arguments,
            kind,
            language: "sql".into(),
            definition: definition.map(|d| portable(&d, schema)),
            unwritable,
            sql_body: false,
        });
    }
    Ok(())
}
