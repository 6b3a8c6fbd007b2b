//! How a loaded target's foreign keys are checked: which plan PostgreSQL is steered to.
//!
//! `VALIDATE CONSTRAINT` runs one anti-join of the child against the parent. By default the
//! planner hashes the parent, in parallel workers when the tables are large. On freshly loaded
//! tables that is the dearest way: COPY FREEZE set every page all-visible (PostgreSQL 14 and
//! later), so when both sides have a btree on the key columns, a merge of two index-only scans
//! reads each key once and builds nothing. Measured on the bench database (1.09M rows, nine
//! keys; PostgreSQL 15, 2 cores), CPU per check: `order_items.order_id` 91 → 47 ms,
//! `order_items.product_id` 37 → 21 ms, `orders.user_id` 35 → 16 ms. Where the child has no
//! such index the merge would sort both sides and is no cheaper (`payments.order_id` 56 → 70
//! ms), so those keys keep the hash join.

use crate::pg::ddl::PgForeignKey;
use crate::schema::{ForeignKey, Table};

/// Whether `fk` of `child` is checked by merging index scans: `child` has a plain btree index
/// (primary key, unique constraint or created index, no `WHERE`) whose leading columns are the
/// key's, and `parent` a primary key, unique constraint or unique index on exactly the
/// referenced columns, in the same order.
pub(crate) fn checks_by_merge(child: &Table, fk: &ForeignKey, parent: &Table) -> bool {
    if fk.columns.is_empty() || fk.columns.len() != fk.ref_columns.len() {
        return false;
    }
    btree_columns(child, false).any(|cols| cols.starts_with(&fk.columns))
        && btree_columns(parent, true).any(|cols| cols == fk.ref_columns.as_slice())
}

/// The column lists of `t`'s btree indexes a merge can scan: its primary key, its unique
/// constraints and its created indexes (only the unique ones with `unique_only`).
fn btree_columns(t: &Table, unique_only: bool) -> impl Iterator<Item = &[String]> {
    let keys = t
        .primary_key
        .iter()
        .chain(&t.uniques)
        .map(|k| k.columns.as_slice());
    let indexes = t
        .indexes
        .iter()
        .filter(move |i| (i.unique || !unique_only) && plain_btree(i.definition.as_deref()))
        .map(|i| i.columns.as_slice());
    keys.chain(indexes)
}

/// A created index the merge can scan whole: btree, not partial. An index of another engine
/// (no PostgreSQL definition) is made as a plain btree on its columns.
fn plain_btree(definition: Option<&str>) -> bool {
    match definition {
        None => true,
        Some(d) => d.contains(" USING btree (") && !d.contains(" WHERE "),
    }
}

/// The statement that checks a key: `validate` as it is, or steered to a merge join for this
/// one statement (`SET LOCAL` ends with its transaction, so later checks plan freely).
pub(crate) fn check_statement(validate: &str, by_merge: bool) -> String {
    if by_merge {
        format!("BEGIN; SET LOCAL enable_hashjoin = off; {validate}; COMMIT")
    } else {
        validate.to_owned()
    }
}

/// `keys` grouped by child table, in their order: each group is checked on a connection of its
/// own, its keys in turn (a check takes its child's `SHARE UPDATE EXCLUSIVE` lock, so two checks
/// of one child at once would only wait for each other), different groups at once.
pub(crate) fn by_child(keys: Vec<&PgForeignKey>) -> Vec<Vec<&PgForeignKey>> {
    let mut groups: Vec<Vec<&PgForeignKey>> = Vec::new();
    for f in keys {
        match groups.iter_mut().find(|g| g[0].child == f.child) {
            Some(g) => g.push(f),
            None => groups.push(vec![f]),
        }
    }
    groups
}

/// Session settings of the connections that build keys and check foreign keys. When several
/// tables load at once (`serial`), PostgreSQL's own parallel workers only add coordination to
/// cores the other tables already keep busy: on the bench database (2 cores) turning them off
/// cut the sync's CPU by about 0.2 s and its wall time by about 0.1 s; serial index builds took
/// 0.64 s of CPU where two workers took 0.84 s, in the same wall time.
pub(crate) fn serial_settings(serial: bool) -> &'static str {
    if serial {
        "SET max_parallel_maintenance_workers = 0; SET max_parallel_workers_per_gather = 0; "
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::schema::{Index, UniqueKey};

    fn table(name: &str, pk: &[&str], indexes: &[(&[&str], bool, &str)]) -> Table {
        let cols = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Table {
            name: name.into(),
            primary_key: (!pk.is_empty()).then(|| UniqueKey {
                name: format!("{name}_pkey"),
                columns: cols(pk),
                definition: None,
            }),
            indexes: indexes
                .iter()
                .map(|(c, unique, def)| Index {
                    name: format!("{name}_{}", c.join("_")),
                    columns: cols(c),
                    unique: *unique,
                    definition: (!def.is_empty()).then(|| (*def).to_owned()),
                })
                .collect(),
            columns: Vec::new(),
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            sqlite_sql: None,
            layout: crate::schema::Layout::default(),
        }
    }

    fn fk(cols: &[&str], parent: &str, refs: &[&str]) -> ForeignKey {
        ForeignKey {
            name: "fk".into(),
            columns: cols.iter().map(|s| (*s).to_owned()).collect(),
            ref_table: parent.into(),
            ref_columns: refs.iter().map(|s| (*s).to_owned()).collect(),
            deferrable: false,
            definition: None,
        }
    }

    #[test]
    fn a_key_led_by_the_childs_index_is_merged() {
        let orders = table("orders", &["id"], &[]);
        // The primary key (order_id, line_no) starts with the key column.
        let items = table("order_items", &["order_id", "line_no"], &[]);
        assert!(checks_by_merge(
            &items,
            &fk(&["order_id"], "orders", &["id"]),
            &orders
        ));
        let by_index = table(
            "orders",
            &["id"],
            &[(
                &["user_id"],
                false,
                "CREATE INDEX i ON public.orders USING btree (user_id)",
            )],
        );
        let users = table("users", &["id"], &[]);
        assert!(checks_by_merge(
            &by_index,
            &fk(&["user_id"], "users", &["id"]),
            &users
        ));
    }

    #[test]
    fn a_key_without_a_leading_btree_keeps_the_hash_join() {
        let orders = table("orders", &["id"], &[]);
        // No index at all.
        let payments = table("payments", &["id"], &[]);
        assert!(!checks_by_merge(
            &payments,
            &fk(&["order_id"], "orders", &["id"]),
            &orders
        ));
        // The key column second in the index.
        let second = table(
            "payments",
            &["id"],
            &[(
                &["paid_at", "order_id"],
                false,
                "CREATE INDEX i ON public.payments USING btree (paid_at, order_id)",
            )],
        );
        assert!(!checks_by_merge(
            &second,
            &fk(&["order_id"], "orders", &["id"]),
            &orders
        ));
        // A partial index, a hash index.
        for def in [
            "CREATE INDEX i ON public.payments USING btree (order_id) WHERE (order_id > 0)",
            "CREATE INDEX i ON public.payments USING hash (order_id)",
        ] {
            let t = table("payments", &["id"], &[(&["order_id"], false, def)]);
            assert!(
                !checks_by_merge(&t, &fk(&["order_id"], "orders", &["id"]), &orders),
                "{def}"
            );
        }
    }

    #[test]
    fn the_parent_needs_a_unique_btree_on_exactly_the_referenced_columns() {
        let child = table("c", &["a", "b"], &[]);
        let key = fk(&["a", "b"], "p", &["x", "y"]);
        assert!(checks_by_merge(&child, &key, &table("p", &["x", "y"], &[])));
        // The same columns in another order cannot be merged in step.
        assert!(!checks_by_merge(
            &child,
            &key,
            &table("p", &["y", "x"], &[])
        ));
        let unique_index = table(
            "p",
            &[],
            &[(
                &["x", "y"],
                true,
                "CREATE UNIQUE INDEX u ON public.p USING btree (x, y)",
            )],
        );
        assert!(checks_by_merge(&child, &key, &unique_index));
        let not_unique = table(
            "p",
            &[],
            &[(
                &["x", "y"],
                false,
                "CREATE INDEX u ON public.p USING btree (x, y)",
            )],
        );
        assert!(!checks_by_merge(&child, &key, &not_unique));
    }

    /// On the PostgreSQL the tests run against: the steering gives the merge of index scans the
    /// measurements were made with, and a merged check still refuses an orphan.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_merged_check_merges_index_scans_and_still_refuses_orphans() {
        let Some(db) = prodlike_testkit::pg::TempDatabase::create("fk_merge").await else {
            return;
        };
        let c = db.connect().await.unwrap();
        c.batch_execute(
            "CREATE TABLE p (id int PRIMARY KEY);
             CREATE TABLE c (id int PRIMARY KEY, p_id int);
             CREATE INDEX c_p_id ON c (p_id);
             INSERT INTO p SELECT g FROM generate_series(1, 20000) g;
             INSERT INTO c SELECT g, g FROM generate_series(1, 20000) g;
             ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id) NOT VALID",
        )
        .await
        .unwrap();
        // All-visible pages, as COPY FREEZE leaves them (VACUUM runs outside a transaction).
        c.batch_execute("VACUUM ANALYZE p").await.unwrap();
        c.batch_execute("VACUUM ANALYZE c").await.unwrap();
        // The anti-join PostgreSQL's `VALIDATE CONSTRAINT` runs (ri_triggers.c).
        let anti_join = "EXPLAIN SELECT fk.p_id FROM ONLY c fk LEFT OUTER JOIN ONLY p pk \
                         ON pk.id OPERATOR(pg_catalog.=) fk.p_id \
                         WHERE pk.id IS NULL AND (fk.p_id IS NOT NULL)";
        c.batch_execute(
            "BEGIN; SET LOCAL enable_hashjoin = off; SET LOCAL max_parallel_workers_per_gather = 0",
        )
        .await
        .unwrap();
        let steered: String = c
            .query(anti_join, &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n");
        c.batch_execute("COMMIT").await.unwrap();
        assert!(
            steered.contains("Merge") && steered.contains("Anti Join"),
            "{steered}"
        );
        assert!(!steered.contains("Hash"), "{steered}");
        assert_eq!(steered.matches("Index Only Scan").count(), 2, "{steered}");

        let validate = "ALTER TABLE c VALIDATE CONSTRAINT c_p";
        c.batch_execute(&check_statement(validate, true))
            .await
            .unwrap();
        // An orphan, under a key added unchecked again, is refused by the merged check.
        c.batch_execute(
            "ALTER TABLE c DROP CONSTRAINT c_p;
             INSERT INTO c VALUES (20001, 999999);
             ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id) NOT VALID",
        )
        .await
        .unwrap();
        let err = c
            .batch_execute(&check_statement(validate, true))
            .await
            .expect_err("an orphan passed the merged check");
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION),
            "{err}"
        );
    }

    #[test]
    fn only_a_merged_check_is_wrapped_in_its_own_transaction() {
        let v = "ALTER TABLE \"s\".\"t\" VALIDATE CONSTRAINT \"fk\"";
        assert_eq!(check_statement(v, false), v);
        assert_eq!(
            check_statement(v, true),
            format!("BEGIN; SET LOCAL enable_hashjoin = off; {v}; COMMIT")
        );
        assert_eq!(serial_settings(false), "");
        assert!(serial_settings(true).contains("max_parallel_maintenance_workers = 0"));
    }

    #[test]
    fn ready_keys_are_grouped_by_child_in_their_order() {
        let fk = |child: &str, parent: &str| PgForeignKey {
            child: child.into(),
            parent: parent.into(),
            add: format!("ADD {child}->{parent}"),
            validate: None,
            by_merge: false,
        };
        let keys = [
            fk("addresses", "users"),
            fk("orders", "addresses"),
            fk("users", "addresses"),
            fk("orders", "users"),
        ];
        let groups = by_child(keys.iter().collect());
        let shown: Vec<Vec<&str>> = groups
            .iter()
            .map(|g| g.iter().map(|f| f.add.as_str()).collect())
            .collect();
        assert_eq!(
            shown,
            [
                vec!["ADD addresses->users"],
                vec!["ADD orders->addresses", "ADD orders->users"],
                vec!["ADD users->addresses"],
            ]
        );
        assert!(by_child(Vec::new()).is_empty());
    }
}
