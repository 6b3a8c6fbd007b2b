//! Demo stage: data. Builds a small "production" SQLite shop with PII, then profile → sync (10%,
//! masked) → verify, and writes the three JSON results into the demo folder.
use anyhow::Context as _;
use prodlike_data::fixture::{ShopSize, write_shop_sqlite};
use prodlike_data::{DbUrl, profile, rules::Rules, sync, verify};
use prodlike_mask::{MaskKey, Masker};
use prodlike_report::{CommandResult, Outcome, now_rfc3339};

use super::Context;

// Long: the demo's data stage as the user reads it: profile, sync, verify, each printed.
#[allow(clippy::too_many_lines)]
pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    println!("\n== data: profile → sync 10% (masked) → verify, on SQLite ==");
    let dir = ctx.out_dir.join("data");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let prod = dir.join("production.db");
    let staging = dir.join("staging.db");
    let rows = write_shop_sqlite(
        &prod,
        ShopSize {
            users: 3000,
            seed: 7,
        },
    )
    .context("building the demo production database")?;
    let source = DbUrl::parse(&format!("sqlite://{}", prod.display()))?;
    let target = DbUrl::parse(&format!("sqlite://{}", staging.display()))?;

    let started = now_rfc3339();
    let p = profile::profile(
        &source,
        &profile::ProfileOptions {
            namespace: "public".into(),
            max_rows: None,
            seed: 0,
        },
    )
    .await
    .context("profile")?;
    CommandResult::new(
        prodlike_data::published::PROFILE_SCHEMA,
        "data profile",
        started,
        Outcome::Success,
        format!("{} tables", p.tables.len()),
        prodlike_data::published::profile(&p),
    )
    .write_to(&dir.join("profile.json"))?;

    let started = now_rfc3339();
    let opts = sync::SyncOptions {
        source: source.clone(),
        target: target.clone(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        sample: Some(0.1),
        seed: Some(7),
        strict: false,
        jobs: 2,
        namespace: "public".into(),
        keep_previous: false,
        max_rows_per_sec: None,
        progress: false,
        dry_run: false,
        fail_after_rows: None,
    };
    // A fixed demo key; real runs read PRODLIKE_MASK_KEY.
    let s = sync::sync(&opts, || {
        Ok(Masker::new(MaskKey::from_secret(
            b"prodlike demo key (not secret)",
        )?))
    })
    .await
    .context("sync")?;
    CommandResult::new(
        prodlike_data::published::SYNC_SCHEMA,
        "data sync",
        started,
        Outcome::Success,
        format!("{} rows", s.total_rows),
        &s,
    )
    .write_to(&dir.join("sync.json"))?;

    let started = now_rfc3339();
    let v = verify::verify(&verify::VerifyOptions {
        source,
        target,
        namespace: "public".into(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        expected: verify::Expected::Rows(
            s.tables.iter().map(|t| (t.table.clone(), t.rows)).collect(),
        ),
        min_score: 0.9,
        max_ks: 0.05,
        max_tvd: 0.02,
        max_rows: None,
        synthetic: false,
        not_copied: None,
    })
    .await
    .context("verify")?;
    let outcome = if v.passed {
        Outcome::Success
    } else {
        Outcome::Finding
    };
    CommandResult::new(
        prodlike_data::published::VERIFY_SCHEMA,
        "data verify",
        started,
        outcome,
        format!("score {:.3}", v.score),
        &v,
    )
    .write_to(&dir.join("verify.json"))?;

    let pii: Vec<String> = p
        .pii
        .columns
        .iter()
        .map(|d| format!("{}.{}", d.table, d.column))
        .collect();
    println!(
        "  production: {rows} rows in {} tables; PII found in {} columns ({})",
        p.tables.len(),
        pii.len(),
        pii.join(", ")
    );
    println!(
        "  staging:    {} rows copied in {:.2}s ({:.0} rows/s); {} columns masked",
        s.total_rows,
        s.seconds,
        s.rows_per_sec,
        s.masked.len()
    );
    for t in &s.selection {
        println!(
            "    {:<12} {:>6} of {:>6} rows ({:.1}%)",
            t.table,
            t.selected_rows,
            t.source_rows,
            100.0 * t.actual_fraction
        );
    }
    let orphans: u64 = v.integrity.orphans.iter().map(|o| o.orphans).sum();
    println!(
        "  verify:     fidelity score {:.3} (worst: {}); {orphans} orphans; leak check: {} leaked values → {}",
        v.score,
        v.worst.first().map_or("-", String::as_str),
        v.leaks.leaked_values,
        if v.passed { "PASSED" } else { "FAILED" }
    );
    Ok(())
}
