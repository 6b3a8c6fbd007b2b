#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `prodlike load merge` as a user runs it: two segments run for real against an in-process
//! server on 127.0.0.1 (one named as a Kubernetes Indexed Job numbers its pods), merged into
//! the whole run's requests with the segments' thresholds judged once on the whole (exit 1 for
//! a cap only the whole run breaches); a missing segment is inconclusive (exit 3); overlapping
//! segments and files that are not segments are refused (exit 2); the merged result is read by
//! `prodlike compare results` like any other.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use prodlike_testkit::pausing_server;
use prodlike_testkit::process::output_text;

fn prodlike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(args)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap()
}

/// A server on a thread of its own, alive while the returned runtime lives.
fn server() -> (tokio::runtime::Runtime, String) {
    pausing_server::in_background().unwrap()
}

/// Runs one segment (`--segment` or `--segment-index`) of 100/s for 2 s with the run's
/// thresholds; its result file.
fn run_segment(url: &str, dir: &Path, flag: &str, segment: &str, seed: &str) -> PathBuf {
    let out = dir.join(format!("{}.json", segment.replace(['/', ':'], "_")));
    let o = prodlike(&[
        "load",
        "--target",
        url,
        "--rate",
        "100",
        "--duration",
        "2s",
        flag,
        segment,
        "--seed",
        seed,
        // Each half sends 50/s: a cap at 80/s holds for each and breaks for the whole.
        "--threshold",
        "rps<80",
        "--threshold",
        "error_rate<1%",
        "--max-send-lag",
        "5s",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    out
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn segments_merge_into_the_whole_run_and_are_judged_on_it() {
    let (_rt, url) = server();
    let dir = tempfile::tempdir().unwrap();
    // Pod 0 of an Indexed Job, numbered from 0: the first half.
    let first = run_segment(&url, dir.path(), "--segment-index", "0/2", "3");
    let second = run_segment(&url, dir.path(), "--segment", "2/2", "3");
    let seg = json(&first);
    assert_eq!(seg["data"]["segment"]["segment"], "0/2:1/2");
    assert_eq!(
        seg["data"]["unjudged_thresholds"],
        serde_json::json!(["rps<80", "error_rate<1%"])
    );
    assert!(seg["data"]["timeline"][0]["latency_histogram"].is_string());

    let merged = dir.path().join("merged.json");
    let o = prodlike(&[
        "load",
        "merge",
        first.to_str().unwrap(),
        second.to_str().unwrap(),
        "--threshold",
        "p99<10s",
        "--out",
        merged.to_str().unwrap(),
    ]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let m = json(&merged);
    assert_eq!(m["schema"], "prodlike.load/2");
    assert_eq!(m["outcome"], "finding");
    let data = &m["data"];
    // Every arrival of the plan exactly once.
    assert_eq!(data["totals"]["requests"], 200);
    let sent: u64 = data["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sent"].as_u64().unwrap())
        .sum();
    assert_eq!(sent, 200);
    assert_eq!(data["merged"]["coverage"], 1.0);
    let judged = |t: &str| {
        data["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["threshold"] == t)
            .unwrap_or_else(|| panic!("{t} not judged: {data}"))
            .clone()
    };
    assert_eq!(judged("rps<80")["passed"], false, "{text}");
    assert_eq!(judged("error_rate<1%")["passed"], true);
    assert_eq!(judged("p99<10s")["passed"], true);
    assert!(text.contains("merged from 2 segment(s)"), "{text}");

    // The merged result is a load result like any other for compare.
    let o = prodlike(&[
        "compare",
        "results",
        merged.to_str().unwrap(),
        merged.to_str().unwrap(),
    ]);
    assert_ne!(o.status.code(), Some(2), "{}", output_text(&o));

    // Half the plan only: nothing breached, but the merge cannot speak for the whole.
    let o = prodlike(&["load", "merge", second.to_str().unwrap()]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(3), "{text}");
    assert!(text.contains("missing 0/1:1/2"), "{text}");

    // The same half twice would count its requests twice.
    let o = prodlike(&[
        "load",
        "merge",
        second.to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("overlaps"), "{text}");

    // Another seed is another arrival sequence.
    let other = run_segment(&url, &dir.path().join(""), "--segment", "1/2", "4");
    let o = prodlike(&[
        "load",
        "merge",
        other.to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("seed"), "{text}");

    // A whole run's result is not a segment's.
    let o = prodlike(&["load", "merge", merged.to_str().unwrap()]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("not a segment's result"), "{text}");
}

#[test]
fn a_bad_segment_index_exits_2() {
    for (index, says) in [
        ("2/2", "from 0 to 1"),
        ("x/2", "whole number"),
        ("1", "I/N"),
    ] {
        let o = prodlike(&[
            "load",
            "--target",
            "http://127.0.0.1:9",
            "--rate",
            "10",
            "--duration",
            "1s",
            "--segment-index",
            index,
            "--dry-run",
        ]);
        let t = output_text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains(says), "{index}: {t}");
    }
}

/// Replay splits too: two segments of a recorded log, at its gaps and at a rate curve, send
/// between them every recorded request once, and merge into the unsplit replay's count.
#[test]
fn replay_segments_together_send_the_recording_once() {
    let (_rt, url) = server();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut lines = String::new();
    for i in 0..60 {
        lines.push_str(&format!(
            "10.0.0.1 - - [23/Nov/2026:10:00:0{} +0000] \"GET /items/{i} HTTP/1.1\" 200 5 \"-\" \"ua\"\n",
            i / 20
        ));
    }
    std::fs::write(&log, lines).unwrap();
    for pace in [["--speed", "4"], ["--scale", "4"]] {
        let mut files = Vec::new();
        let mut counts = Vec::new();
        // The unsplit replay first: at a scaled rate curve it loops as long as the curve lasts.
        for half in ["1/1", "1/2", "2/2"] {
            let out = dir.path().join(format!(
                "{}-{}.json",
                pace[0].trim_start_matches('-'),
                &half[..1]
            ));
            let o = prodlike(&[
                "load",
                "--target",
                &url,
                "--replay",
                log.to_str().unwrap(),
                pace[0],
                pace[1],
                "--segment",
                half,
                "--max-send-lag",
                "5s",
                "--out",
                out.to_str().unwrap(),
                "-q",
            ]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{pace:?} {half}: {}",
                output_text(&o)
            );
            counts.push(json(&out)["data"]["totals"]["requests"].as_u64().unwrap());
            files.push(out);
        }
        let whole = counts.remove(0);
        files.remove(0);
        assert!(whole >= 60, "{pace:?}: {whole}");
        assert_eq!(counts.iter().sum::<u64>(), whole, "{pace:?}: {counts:?}");
        // Split evenly by the segment map, not one half taking all.
        assert!(
            counts.iter().all(|&c| c.abs_diff(whole / 2) <= 3),
            "{pace:?}: {counts:?}"
        );
        let merged = dir.path().join(format!("{}-merged.json", &pace[0][2..]));
        let o = prodlike(&[
            "load",
            "merge",
            files[0].to_str().unwrap(),
            files[1].to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{pace:?}: {}", output_text(&o));
        assert_eq!(json(&merged)["data"]["totals"]["requests"], whole);
    }
}

/// `load merge DIR --wait`: as the merge Job beside an Indexed Job runs it, on a shared folder
/// where a segment's result lands only later; it merges once the plan is covered.
#[test]
fn merge_waits_for_the_segments_in_a_folder() {
    let (_rt, url) = server();
    let dir = tempfile::tempdir().unwrap();
    let first = run_segment(&url, dir.path(), "--segment", "1/2", "3");
    let second = run_segment(&url, dir.path(), "--segment", "2/2", "3");
    let shared = dir.path().join("run-1");
    std::fs::create_dir(&shared).unwrap();
    std::fs::copy(&first, shared.join("segment-0.json")).unwrap();
    let merged = shared.join("merged.json");
    let merge = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(["load", "merge", shared.to_str().unwrap(), "--wait", "5m"])
        .args(["--out", merged.to_str().unwrap()])
        .env("PRODLIKE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The second segment's result arrives as `load --out` writes it: whole, by a rename.
    let tmp = shared.join("segment-1.json.tmp");
    std::fs::copy(&second, &tmp).unwrap();
    std::fs::rename(&tmp, shared.join("segment-1.json")).unwrap();
    let o = merge.wait_with_output().unwrap();
    let text = output_text(&o);
    // The cap only the whole run breaks: a finding, judged on both segments.
    assert_eq!(o.status.code(), Some(1), "{text}");
    let m = json(&merged);
    assert_eq!(m["data"]["totals"]["requests"], 200);
    assert_eq!(m["data"]["merged"]["inputs"].as_array().unwrap().len(), 2);

    // Re-run on the same folder: the merged result written there is not read as a segment.
    let o = prodlike(&[
        "load",
        "merge",
        shared.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
}
