#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike demo`, the README's main job, run as a user would: it exits 0 with nothing but the
//! binary, writes every stage's result, and its compare stage finds what the demo planted in
//! staging (one route 40 ms slower, a failing checkout). The slow route is asserted by its
//! planted 40 ms sleep, a lower bound that no machine's slowness can hide.
use std::process::Command;

use prodlike_results::AnyResult;
use prodlike_results::compare::{CompareReport, Verdict};

fn compare_report(path: &std::path::Path) -> CompareReport {
    match prodlike_results::read(path).unwrap() {
        AnyResult::Compare(doc) => doc.data,
        _ => panic!("{} is not a compare result", path.display()),
    }
}

fn verdicts(r: &CompareReport, route: &str) -> Vec<(String, Verdict)> {
    r.routes
        .iter()
        .find(|c| c.route == route)
        .unwrap_or_else(|| panic!("no route {route} in {:?}", r.routes))
        .comparisons
        .iter()
        .map(|c| (c.metric.clone(), c.judgement.verdict))
        .collect()
}

/// The plans stage: SQLite plans the orders of one country's users by size (an index search
/// at 3,000 users, a scan at 10), and the table sizes are named as the cause.
fn plans_stage_found_its_difference(dir: &std::path::Path, stdout: &str) {
    assert!(
        stdout.contains("found: the plans differ")
            && stdout.contains("production  SEARCH using orders_user on orders")
            && stdout.contains("staging     SCAN on orders")
            && stdout.contains("cause (table_size): main.orders"),
        "{stdout}"
    );
    let plans = match prodlike_results::read(dir.join("plans/plans.json")).unwrap() {
        AnyResult::DataPlans(doc) => doc.data,
        _ => panic!("plans/plans.json is not a data plans result"),
    };
    assert_eq!(plans.queries[0].verdict, "different_plan");
}

#[test]
fn the_demo_runs_every_stage_and_finds_what_it_planted() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(["demo", "--out-dir"])
        .arg(dir.path())
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "shadow.json",
        "load.json",
        "load.html",
        "compare-shadow.json",
        "compare-load.json",
        "drift.json",
        "plans/plans.json",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} missing:\n{stdout}");
    }

    let shadow = compare_report(&dir.path().join("compare-shadow.json"));
    let slow = verdicts(&shadow, "/api/items/{id}");
    assert!(
        slow.iter()
            .any(|(m, v)| m == "latency_p50" && *v == Verdict::Diverged),
        "{slow:?}"
    );
    let checkout = verdicts(&shadow, "/api/checkout");
    assert!(
        checkout
            .iter()
            .any(|(m, v)| m == "error_ratio" && *v == Verdict::Diverged),
        "{checkout:?}"
    );
    // Routes the demo left alike serve no errors on either side: never an error divergence.
    // (Their latencies are not asserted: that would time the machine.)
    for route in ["/api/items", "/api/users/{id}", "/api/search"] {
        let v = verdicts(&shadow, route);
        assert!(
            v.iter()
                .all(|(m, v)| m != "error_ratio" || *v != Verdict::Diverged),
            "{route}: {v:?}"
        );
    }

    let load = compare_report(&dir.path().join("compare-load.json"));
    let route = &load.routes.first().unwrap().route;
    let v = verdicts(&load, route);
    assert!(
        v.iter()
            .any(|(m, v)| m == "latency_p50" && *v == Verdict::Diverged),
        "{v:?}"
    );
    assert!(
        stdout.contains("found: /api/items/{id} diverged"),
        "{stdout}"
    );
    plans_stage_found_its_difference(dir.path(), &stdout);
    // The Terraform stage: the halving accepted, the hard-coded timeout the one drift.
    assert!(
        stdout.contains(
            "module.staging_cluster connection_timeout: hard-coded var.connection_timeout → 45"
        ),
        "{stdout}"
    );

    // The report stage scored the other stages and started the history.
    let report = match prodlike_results::read(dir.path().join("report.json")).unwrap() {
        AnyResult::Report(doc) => doc.data,
        _ => panic!("report.json is not a report"),
    };
    assert_eq!(report.run, Some(1));
    assert!(
        report.score > 0.0 && report.score < 100.0,
        "{}",
        report.score
    );
    assert!(stdout.contains("Top losses:"), "{stdout}");
    assert!(
        stdout.contains("History of demo/staging: 1 runs"),
        "{stdout}"
    );
    assert!(dir.path().join("report.html").is_file());
    // A second run in the same folder grows the history and shows the delta.
    let again = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(["demo", "--out-dir"])
        .arg(dir.path())
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap();
    let second = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{second}");
    assert!(
        second.contains("History of demo/staging: 2 runs"),
        "{second}"
    );
    assert!(second.contains("since run 1"), "{second}");
}
