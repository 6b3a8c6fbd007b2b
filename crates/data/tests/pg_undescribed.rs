//! PostgreSQL objects the sync does not recreate yet — rules, range types, unlogged tables, extended statistics, comments on constraints and triggers, collations, operators,
//! text search configurations — are each listed in
//! the sync result's `not_copied`, with the reason, never dropped silently (a dry run lists
//! them too). Objects of a table the sync leaves out are not listed twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)

use prodlike_data::sync::{SyncOptions, sync};
use prodlike_testkit::pg::TempDatabase;

mod common;
use common::masker;

const FIXTURE: &str = r#"
CREATE TYPE price_range AS RANGE (subtype = numeric);
CREATE TABLE films (
  id integer PRIMARY KEY,
  title text NOT NULL CONSTRAINT title_set CHECK (title <> ''),
  price numeric,
  budget numeric
) WITH (fillfactor = 70);
COMMENT ON CONSTRAINT title_set ON films IS 'a title is required';
ALTER TABLE films ENABLE ROW LEVEL SECURITY;
CREATE POLICY films_visible ON films USING (id > 0);
ALTER TABLE films REPLICA IDENTITY FULL;
CREATE RULE films_no_delete AS ON DELETE TO films DO INSTEAD NOTHING;
CREATE STATISTICS films_stats (dependencies) ON price, budget FROM films;
CREATE UNLOGGED TABLE scratch (id integer PRIMARY KEY, note text);
CREATE VIEW cheap WITH (security_barrier) AS SELECT id, title FROM films WHERE price < 10;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER films_touch BEFORE UPDATE ON films FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON TRIGGER films_touch ON films IS 'keeps rows fresh';
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'prodlike_test_reader') THEN
    CREATE ROLE prodlike_test_reader;
  END IF;
END $$;
GRANT SELECT (title) ON films TO prodlike_test_reader;
CREATE COLLATION german_ci (provider = icu, locale = 'de-u-ks-level2', deterministic = false);
CREATE TEXT SEARCH CONFIGURATION films_search (COPY = simple);
CREATE FUNCTION same_title(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE
  AS $f$ SELECT lower($1) = lower($2) $f$;
CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = same_title);
INSERT INTO films VALUES (1, 'a film', 5, 100), (2, 'another', 20, 300);
INSERT INTO scratch VALUES (1, 'kept');
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_the_sync_does_not_recreate_are_listed_with_their_reason() {
    let Some(src) = TempDatabase::create("undescribed_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("undescribed_dst").await else {
        return;
    };
    src.connect()
        .await
        .unwrap()
        .batch_execute(FIXTURE)
        .await
        .unwrap();
    let opts = |dry_run| SyncOptions {
        dry_run,
        ..common::sync_options(&src, &dst)
    };
    let expected = [
        ("rule", "films.films_no_delete"),
        ("range type", "price_range"),
        ("unlogged table", "scratch"),
        ("extended statistics", "films_stats"),
        ("comment on constraint", "films.title_set"),
        ("comment on trigger", "films.films_touch"),
        ("collation", "german_ci"),
        ("text search configuration", "films_search"),
        ("operator", "===(text, text)"),
    ];
    for dry_run in [true, false] {
        let report = sync(&opts(dry_run), masker).await.unwrap();
        for (kind, name) in expected {
            let listed = report
                .not_copied
                .iter()
                .find(|n| n.kind == kind && n.name == name)
                .unwrap_or_else(|| {
                    panic!(
                        "dry run {dry_run}: {kind} {name} not in not_copied: {:?}",
                        report.not_copied
                    )
                });
            assert!(listed.reason.contains("not copied yet"), "{listed:?}");
        }
        // A column privilege of a role no `[grants] map` rule maps is listed with the role's.
        let grants = report
            .not_copied
            .iter()
            .find(|n| n.kind == "grants" && n.name == "prodlike_test_reader")
            .unwrap_or_else(|| panic!("{:?}", report.not_copied));
        assert!(
            grants.reason.contains("SELECT on column films.title"),
            "{grants:?}"
        );
        if !dry_run {
            // The rows themselves are copied: only the listed properties are lost.
            let t = dst.connect().await.unwrap();
            let n: i64 = t
                .query_one("SELECT count(*) FROM films", &[])
                .await
                .unwrap()
                .get(0);
            assert_eq!(n, 2);
        }
    }
}
