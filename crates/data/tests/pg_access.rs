//! PostgreSQL → PostgreSQL: row-level security (enabled, forced), permissive and restrictive
//! policies (one for a role the `[grants] map` rule maps to a staging role), storage options,
//! view options and replica identity survive a sync (and its dry run); staging then refuses
//! the rows production refuses, to a role that is not the owner; verify compares them and names
//! what the target lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)

use prodlike_data::rules::Rules;
use prodlike_data::sync::{SyncOptions, sync};
use prodlike_data::verify::{VerifyOptions, verify};
use prodlike_testkit::pg::TempDatabase;

mod common;
use common::{Role, masker, one, run};

fn fixture(prod: &str) -> String {
    format!(
        "CREATE TABLE docs (id integer PRIMARY KEY, owner text NOT NULL, body text, \
           level integer NOT NULL) WITH (fillfactor = 70, autovacuum_enabled = false);
         CREATE UNIQUE INDEX docs_owner_id ON docs (owner, id);
         ALTER TABLE docs REPLICA IDENTITY USING INDEX docs_pkey;
         ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
         ALTER TABLE docs FORCE ROW LEVEL SECURITY;
         CREATE POLICY visible ON docs FOR SELECT USING (level < 3);
         CREATE POLICY not_secret ON docs AS RESTRICTIVE FOR SELECT TO {prod} USING (level <> 2);
         CREATE TABLE log (id integer, note text);
         ALTER TABLE log REPLICA IDENTITY FULL;
         CREATE VIEW public_docs WITH (security_barrier, check_option = local) AS
           SELECT id, body FROM docs WHERE level = 0;
         INSERT INTO docs SELECT g, 'o' || g, 'text ' || g, g % 4 FROM generate_series(1, 40) g;
         INSERT INTO log VALUES (1, 'a');
         GRANT SELECT ON docs TO {prod};"
    )
}

/// The settings as the catalog holds them, one line each, for comparing two databases.
const SETTINGS: &str = "SELECT string_agg(c.relname || ' ' || c.relkind::text || ' ' \
     || coalesce(array_to_string(c.reloptions, ','), '-') || ' ' || c.relreplident::text || ' ' \
     || c.relrowsecurity || ' ' || c.relforcerowsecurity, E'\\n' ORDER BY c.relname) \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v')";

const POLICIES: &str = "SELECT string_agg(tablename || ' ' || policyname || ' ' || permissive \
     || ' ' || cmd || ' ' || coalesce(qual, '-'), E'\\n' ORDER BY policyname) \
     FROM pg_policies WHERE schemaname = 'public'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// Long: one story (dry run, sync, catalogs alike, the staging role's view, verify, losses).
#[allow(clippy::too_many_lines)]
async fn row_level_security_policies_and_relation_settings_survive_a_sync() {
    let prod = Role::create("app_prod").await;
    let staging = Role::create("app_staging").await;
    let Some(src) = TempDatabase::create("access_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("access_dst").await else {
        return;
    };
    let (prod, staging) = (&prod.0, &staging.0);
    run(&src, &fixture(prod)).await;
    let rules = Rules::parse(
        &format!("[grants]\nmap = {{ {prod} = \"{staging}\" }}\n"),
        "data.toml",
    )
    .unwrap();
    let opts = |dry_run| SyncOptions {
        dry_run,
        rules: rules.clone(),
        rules_file: "data.toml".into(),
        ..common::sync_options(&src, &dst)
    };
    // The dry run runs every statement and lists nothing of these as lost.
    let report = sync(&opts(true), masker).await.unwrap();
    let lost_kinds = [
        "policy",
        "row-level security",
        "storage options",
        "view options",
        "replica identity",
    ];
    assert!(
        report
            .not_copied
            .iter()
            .all(|n| !lost_kinds.contains(&n.kind.as_str())),
        "{:?}",
        report.not_copied
    );
    let report = sync(&opts(false), masker).await.unwrap();
    assert!(
        report
            .not_copied
            .iter()
            .all(|n| !lost_kinds.contains(&n.kind.as_str())),
        "{:?}",
        report.not_copied
    );
    assert_eq!(
        one::<String>(&dst, SETTINGS).await,
        one::<String>(&src, SETTINGS).await
    );
    let policies = one::<String>(&dst, POLICIES).await;
    assert_eq!(policies, one::<String>(&src, POLICIES).await);
    // The restrictive policy is for the staging role now.
    assert_eq!(
        one::<Vec<String>>(
            &dst,
            "SELECT roles::text[] FROM pg_policies WHERE policyname = 'not_secret'"
        )
        .await,
        std::slice::from_ref(staging)
    );
    // Staging's application role sees what production's does: levels 0 and 1 (of 0–3).
    let as_staging =
        format!("SET ROLE {staging}; CREATE TEMP TABLE seen AS SELECT count(*) AS n FROM docs");
    let t = dst.connect().await.unwrap();
    t.batch_execute(&as_staging).await.unwrap();
    let seen: i64 = t.query_one("SELECT n FROM seen", &[]).await.unwrap().get(0);
    assert_eq!(seen, 20);

    let vopts = VerifyOptions {
        rules: rules.clone(),
        rules_file: "data.toml".into(),
        ..common::verify_options(&src, &dst)
    };
    let v = verify(&vopts).await.unwrap();
    assert!(
        v.schema_differences.is_empty(),
        "{:?}",
        v.schema_differences
    );

    // What staging loses afterwards, verify names.
    run(
        &dst,
        "DROP POLICY not_secret ON docs; ALTER TABLE docs NO FORCE ROW LEVEL SECURITY;
         ALTER TABLE docs RESET (fillfactor); ALTER TABLE log REPLICA IDENTITY DEFAULT;
         ALTER VIEW public_docs RESET (security_barrier)",
    )
    .await;
    let v = verify(&vopts).await.unwrap();
    assert!(!v.passed);
    let mut named: Vec<(String, String)> = v
        .schema_differences
        .iter()
        .map(|d| (d.kind.clone(), d.name.clone()))
        .collect();
    named.sort();
    let expected: Vec<(String, String)> = [
        ("policy", "docs.not_secret"),
        ("replica identity", "log"),
        ("row-level security", "docs"),
        ("storage options", "docs"),
        ("view options", "public_docs"),
    ]
    .iter()
    .map(|(k, n)| ((*k).to_owned(), (*n).to_owned()))
    .collect();
    assert_eq!(named, expected, "{:?}", v.schema_differences);
}
