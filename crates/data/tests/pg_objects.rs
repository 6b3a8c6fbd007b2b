//! PostgreSQL → PostgreSQL: the schema's objects beyond tables survive a sync — functions (one
//! used by a default, one by a check, one returning the table's rows, an aggregate), a trigger
//! that fills a NOT NULL column, views (one on a materialized view), a materialized view with
//! rows, comments — and what cannot be copied is listed in `not_copied`. `--dry-run` runs the
//! whole DDL on the target and rolls it back, failing where the sync would; verify fails on a
//! view dropped from the target; an extension in the copied schema is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)

use prodlike_data::sync::{SyncOptions, sync};
use prodlike_data::verify::{VerifyOptions, verify};
use prodlike_testkit::pg::TempDatabase;

mod common;
use common::{masker, one};

fn opts(src: &TempDatabase, dst: &TempDatabase, dry_run: bool) -> SyncOptions {
    SyncOptions {
        dry_run,
        ..common::sync_options(src, dst)
    }
}

fn vopts(src: &TempDatabase, dst: &TempDatabase) -> VerifyOptions {
    common::verify_options(src, dst)
}

/// Films with a default from a function that names `public.` in its body, a check calling a
/// function, a trigger filling the NOT NULL `fulltext`, views, a materialized view, comments,
/// an aggregate; and a foreign table (with its comment) that a sync cannot copy.
const FIXTURE: &str = r#"
CREATE TYPE mood AS ENUM ('happy', 'sad');
COMMENT ON TYPE mood IS 'how a film feels';
CREATE SEQUENCE code_seq;
CREATE FUNCTION next_code() RETURNS text LANGUAGE sql
  AS $$ SELECT 'C-' || nextval('public.code_seq')::text $$;
COMMENT ON FUNCTION next_code() IS 'film codes';
CREATE FUNCTION title_ok(t text) RETURNS boolean LANGUAGE sql IMMUTABLE
  AS $$ SELECT length(t) > 0 $$;
CREATE TABLE films (
  id serial PRIMARY KEY,
  title text NOT NULL CONSTRAINT title_ok CHECK (title_ok(title)),
  code text NOT NULL DEFAULT next_code(),
  fulltext tsvector NOT NULL,
  mood mood
);
COMMENT ON TABLE films IS 'the films';
COMMENT ON COLUMN films.title IS 'its title';
CREATE FUNCTION films_fulltext() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.fulltext := to_tsvector('simple', NEW.title);
  RETURN NEW;
END $$;
CREATE TRIGGER films_fulltext BEFORE INSERT OR UPDATE ON films
  FOR EACH ROW EXECUTE FUNCTION films_fulltext();
CREATE FUNCTION films_by_mood(m mood) RETURNS SETOF films LANGUAGE sql STABLE
  AS $$ SELECT * FROM public.films WHERE mood = m $$;
CREATE AGGREGATE concat_all(text) (SFUNC = textcat, STYPE = text, INITCOND = '');
INSERT INTO films (title, mood)
  SELECT 'film ' || g, CASE WHEN g % 2 = 0 THEN 'happy' ELSE 'sad' END::mood
  FROM generate_series(1, 50) g;
CREATE MATERIALIZED VIEW film_counts AS SELECT mood, count(*) AS n FROM films GROUP BY mood;
CREATE UNIQUE INDEX film_counts_mood ON film_counts (mood);
COMMENT ON MATERIALIZED VIEW film_counts IS 'films per mood';
CREATE VIEW happy_count AS SELECT n FROM film_counts WHERE mood = 'happy';
CREATE VIEW happy_films AS SELECT id, title FROM films WHERE mood = 'happy';
COMMENT ON VIEW happy_films IS 'the happy ones';
CREATE SCHEMA ext;
CREATE EXTENSION file_fdw SCHEMA ext;
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE imports (line text) SERVER files OPTIONS (filename '/dev/null');
COMMENT ON FOREIGN TABLE imports IS 'read from a file';
"#;

/// Every comment of the fixture is on the target's object.
async fn assert_comments(dst: &TempDatabase) {
    for (sql, want) in [
        (
            "SELECT obj_description('films'::regclass, 'pg_class')",
            "the films",
        ),
        ("SELECT col_description('films'::regclass, 2)", "its title"),
        (
            "SELECT obj_description('happy_films'::regclass, 'pg_class')",
            "the happy ones",
        ),
        (
            "SELECT obj_description('film_counts'::regclass, 'pg_class')",
            "films per mood",
        ),
        (
            "SELECT obj_description('next_code()'::regprocedure, 'pg_proc')",
            "film codes",
        ),
        (
            "SELECT obj_description('mood'::regtype, 'pg_type')",
            "how a film feels",
        ),
    ] {
        assert_eq!(
            one::<Option<String>>(dst, sql).await.as_deref(),
            Some(want),
            "{sql}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_triggers_views_and_comments_survive_a_sync() {
    let Some(src) = TempDatabase::create("objects_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("objects_dst").await else {
        return;
    };
    src.connect()
        .await
        .unwrap()
        .batch_execute(FIXTURE)
        .await
        .unwrap();

    let report = sync(&opts(&src, &dst, false), masker).await.unwrap();

    // The trigger exists after the sync and fills the NOT NULL column; the default calls a
    // function whose body names `public.code_seq`, which is the copied schema by now.
    let t = dst.connect().await.unwrap();
    t.batch_execute("INSERT INTO films (title, mood) VALUES ('a new film', 'happy')")
        .await
        .unwrap();
    let filled: bool = one(
        &dst,
        "SELECT fulltext IS NOT NULL AND code LIKE 'C-%' FROM films WHERE title = 'a new film'",
    )
    .await;
    assert!(filled);
    // The copied rows were not touched by the trigger (it did not exist during COPY): their
    // fulltext is the source's.
    assert_eq!(one::<i64>(&dst, "SELECT count(*) FROM films").await, 51);
    // Views, the view on the materialized view, and the refreshed materialized view.
    assert_eq!(
        one::<i64>(&dst, "SELECT count(*) FROM happy_films").await,
        26
    );
    assert_eq!(one::<i64>(&dst, "SELECT n FROM happy_count").await, 25);
    assert_eq!(
        one::<i64>(&dst, "SELECT count(*) FROM film_counts").await,
        2
    );
    assert_eq!(
        one::<i64>(
            &dst,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'film_counts_mood'"
        )
        .await,
        1
    );
    // A function returning the table's rows, and the aggregate.
    assert_eq!(
        one::<i64>(&dst, "SELECT count(*) FROM films_by_mood('sad')").await,
        25
    );
    assert_eq!(
        one::<String>(&dst, "SELECT concat_all(x) FROM (VALUES ('a'), ('b')) v(x)").await,
        "ab"
    );
    // Function bodies name `public.`, as the source's do (not the load schema).
    let body: String = one(
        &dst,
        "SELECT prosrc FROM pg_proc WHERE proname = 'next_code'",
    )
    .await;
    assert!(body.contains("public.code_seq"), "{body}");
    assert_comments(&dst).await;
    // What could not be copied is listed, with a reason.
    let listed = |kind: &str, name: &str| {
        report
            .not_copied
            .iter()
            .any(|n| n.kind == kind && n.name == name && !n.reason.is_empty())
    };
    assert!(
        listed("foreign table", "imports"),
        "{:?}",
        report.not_copied
    );
    assert!(
        listed("comment", "comment on foreign table imports"),
        "{:?}",
        report.not_copied
    );
    assert!(listed("extension", "file_fdw"), "{:?}", report.not_copied);
    assert_eq!(report.not_copied.len(), 3, "{:?}", report.not_copied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_compares_the_schemas_and_names_what_differs() {
    let Some(src) = TempDatabase::create("schema_verify_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("schema_verify_dst").await else {
        return;
    };
    src.connect()
        .await
        .unwrap()
        .batch_execute(FIXTURE)
        .await
        .unwrap();
    sync(&opts(&src, &dst, false), masker).await.unwrap();
    let t = dst.connect().await.unwrap();

    // Verify compares the schemas: identical now, but for what is listed.
    let v = verify(&vopts(&src, &dst)).await.unwrap();
    assert!(
        v.schema_differences.is_empty(),
        "{:?}",
        v.schema_differences
    );
    assert!(v.passed, "{:?}", v.failures);

    // A view dropped from the target fails verify, named.
    t.batch_execute("DROP VIEW happy_count").await.unwrap();
    let v = verify(&vopts(&src, &dst)).await.unwrap();
    assert!(!v.passed);
    assert!(
        v.schema_differences
            .iter()
            .any(|d| d.kind == "view" && d.name == "happy_count"),
        "{:?}",
        v.schema_differences
    );
    assert!(
        v.failures.iter().any(|f| f.contains("view happy_count")),
        "{:?}",
        v.failures
    );
    // A comment reworded, and one dropped, in the target: both named.
    t.batch_execute(
        "COMMENT ON TABLE films IS 'something else'; COMMENT ON COLUMN films.title IS NULL",
    )
    .await
    .unwrap();
    let v = verify(&vopts(&src, &dst)).await.unwrap();
    let comment = |name: &str, how: &str| {
        v.schema_differences
            .iter()
            .any(|d| d.kind == "comment" && d.name == name && d.difference == how)
    };
    assert!(
        comment("comment on table films", "text differs")
            && comment("comment on column films.title", "missing in the target"),
        "{:?}",
        v.schema_differences
    );
    // A sequence set back behind its keys fails verify too.
    t.batch_execute("SELECT setval('films_id_seq', 1)")
        .await
        .unwrap();
    let v = verify(&vopts(&src, &dst)).await.unwrap();
    assert!(
        v.schema_differences
            .iter()
            .any(|d| d.kind == "sequence" && d.name == "films_id_seq"),
        "{:?}",
        v.schema_differences
    );

    // A second sync over the first keeps it all working.
    sync(&opts(&src, &dst, false), masker).await.unwrap();
    dst.connect()
        .await
        .unwrap()
        .batch_execute("INSERT INTO films (title) VALUES ('another')")
        .await
        .unwrap();
    assert_eq!(
        one::<i64>(&dst, "SELECT count(*) FROM film_counts").await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_runs_the_whole_ddl_on_the_target_and_leaves_nothing() {
    let Some(src) = TempDatabase::create("dryrun_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("dryrun_dst").await else {
        return;
    };
    src.connect()
        .await
        .unwrap()
        .batch_execute(FIXTURE)
        .await
        .unwrap();
    // The fixture rehearses cleanly, listing what would not be copied; nothing stays.
    let report = sync(&opts(&src, &dst, true), masker).await.unwrap();
    assert!(report.dry_run);
    assert!(
        report.not_copied.iter().any(|n| n.name == "imports"),
        "{:?}",
        report.not_copied
    );
    let left: i64 = one(
        &dst,
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'prodlike%' OR nspname = 'ext'",
    )
    .await;
    assert_eq!(left, 0);
    assert_eq!(
        one::<i64>(
            &dst,
            "SELECT count(*) FROM pg_class WHERE relname = 'films'"
        )
        .await,
        0
    );

    // A view on a table of another schema, which the target does not have: the sync would
    // fail creating the view; the dry run says so, naming it, with PostgreSQL's message.
    src.connect()
        .await
        .unwrap()
        .batch_execute(
            "CREATE SCHEMA other; CREATE TABLE other.lookup (id int);
             CREATE VIEW uses_other AS SELECT f.id FROM films f JOIN other.lookup l ON l.id = f.id;",
        )
        .await
        .unwrap();
    let err = sync(&opts(&src, &dst, true), masker).await.unwrap_err();
    let text = prodlike_common::error::chain(&err).to_string();
    assert!(text.contains("view uses_other"), "{text}");
    assert!(text.contains("other"), "{text}");
    assert!(text.contains("dry run"), "{text}");
    // The real sync fails the same way, and the target keeps what it had (nothing).
    let err = sync(&opts(&src, &dst, false), masker).await.unwrap_err();
    let text = prodlike_common::error::chain(&err).to_string();
    assert!(text.contains("view uses_other"), "{text}");
    assert!(
        one::<Option<String>>(&dst, "SELECT to_regclass('public.films')::text")
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extension_in_the_copied_schema_is_refused_before_anything_is_written() {
    let Some(src) = TempDatabase::create("ext_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("ext_dst").await else {
        return;
    };
    src.connect()
        .await
        .unwrap()
        .batch_execute(
            "CREATE EXTENSION citext; CREATE TABLE people (id int PRIMARY KEY, email citext);
             INSERT INTO people VALUES (1, 'A@example.com');",
        )
        .await
        .unwrap();
    for dry_run in [true, false] {
        let err = sync(&opts(&src, &dst, dry_run), masker).await.unwrap_err();
        let text = prodlike_common::error::chain(&err).to_string();
        assert!(text.contains("extension citext"), "{text}");
        assert!(text.contains("ALTER EXTENSION"), "{text}");
    }
    assert_eq!(
        one::<i64>(
            &dst,
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'prodlike%'"
        )
        .await,
        0
    );
}
