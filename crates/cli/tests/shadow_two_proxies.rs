//! Several proxies, one view: two `prodlike shadow` proxies in front of the same production,
//! each taking part of the traffic, scraped by a real Prometheus (Debian's package); the sum by
//! route and result of their comparison counters equals, series for series, what one proxy
//! given all the traffic counts. Staging has the demo's planted differences, so matches and
//! mismatches are both in the sums. Counts, not timings: the test waits until every proxy has
//! compared every copy and Prometheus has scraped the final values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prodlike_testkit::process::{free_port, http_get, terminate, wait_for_port};
use prodlike_testkit::prometheus::Prometheus;
use prodlike_testkit::require;
use prodlike_testkit::services::{Flavour, sample_api, serve};

const COUNTER: &str = "prodlike_shadow_comparisons_total";

struct Proxy {
    child: Child,
    port: u16,
    admin: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = terminate(&self.child);
        let _ = self.child.wait();
    }
}

fn proxy(production: &str, staging: &str) -> Proxy {
    let (port, admin) = (free_port().unwrap(), free_port().unwrap());
    let child = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(["shadow", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--admin", &format!("127.0.0.1:{admin}")])
        .args([
            "--production",
            production,
            "--staging",
            staging,
            "--sample",
            "1.0",
        ])
        .args(["--duration", "10m", "--workers", "1"])
        .env("PRODLIKE_MASK_KEY", "a test secret of 16+ bytes")
        .env("PRODLIKE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for_port(port) && wait_for_port(admin),
        "proxy did not start"
    );
    Proxy { child, port, admin }
}

/// `(route, result) → count` of the comparison counter in a `/metrics` text.
fn counts(metrics: &str) -> BTreeMap<(String, String), u64> {
    let label = |labels: &str, key: &str| {
        labels
            .split(',')
            .find_map(|kv| kv.trim().strip_prefix(&format!("{key}=\"")))
            .map(|v| v.trim_end_matches('"').to_owned())
            .unwrap_or_default()
    };
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{COUNTER}{{")))
        .filter_map(|rest| {
            let (labels, value) = rest.rsplit_once("} ")?;
            let n = value.trim().parse::<f64>().ok()? as u64;
            Some(((label(labels, "route"), label(labels, "result")), n))
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn scrape(admin: u16) -> BTreeMap<(String, String), u64> {
    let text = http_get(admin, "/metrics");
    counts(text.split_once("\r\n\r\n").map_or("", |(_, b)| b))
}

/// Polls `check` until it holds, failing with `what` after a generous deadline.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_proxies_summed_by_prometheus_count_what_one_proxy_would() {
    let Some(server) = require::program("prometheus", "prometheus") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let production = rt.block_on(serve(sample_api(Flavour::Production))).unwrap();
    let staging = rt
        .block_on(serve(sample_api(Flavour::StagingWithDifferences)))
        .unwrap();
    let (prod_url, staging_url) = (production.url(), staging.url());
    let a = proxy(&prod_url, &staging_url);
    let b = proxy(&prod_url, &staging_url);
    let one = proxy(&prod_url, &staging_url);

    // The same 60 requests: to A or B (two thirds to A), and all of them to the single proxy.
    let paths: Vec<String> = (0..60)
        .map(|i| match i % 4 {
            0 => "/api/items".to_owned(),
            1 => format!("/api/items/{}", i % 7),
            2 => format!("/api/users/{}", i % 5),
            _ => "/api/checkout".to_owned(),
        })
        .collect();
    for (i, p) in paths.iter().enumerate() {
        let split = if i % 3 == 0 { b.port } else { a.port };
        for port in [split, one.port] {
            let answer = http_get(port, p);
            assert!(answer.starts_with("HTTP/1.1 "), "{p}: {answer}");
        }
    }
    let total = |c: &BTreeMap<(String, String), u64>| c.values().sum::<u64>();
    eventually("every copy compared by the three proxies", || {
        total(&scrape(a.admin)) == 40
            && total(&scrape(b.admin)) == 20
            && total(&scrape(one.admin)) == 60
    });
    let single = scrape(one.admin);
    assert!(
        single.keys().any(|(_, r)| r == "match") && single.keys().any(|(_, r)| r == "mismatch"),
        "the planted differences make both results: {single:?}"
    );

    let prometheus = Prometheus::start_scraping(&server, &[a.admin, b.admin], &[]).unwrap();
    let query = format!("query?query=sum%20by%20(route%2C%20result)%20({COUNTER})");
    let mut summed = BTreeMap::new();
    eventually("Prometheus' sum reaches the single proxy's counts", || {
        summed = prometheus
            .api(&query)
            .and_then(|v| {
                let series = v["data"]["result"].as_array()?.clone();
                Some(
                    series
                        .iter()
                        .filter_map(|s| {
                            let route = s["metric"]["route"].as_str()?.to_owned();
                            let result = s["metric"]["result"].as_str()?.to_owned();
                            let n = s["value"][1].as_str()?.parse::<f64>().ok()? as u64;
                            Some(((route, result), n))
                        })
                        .filter(|(_, n)| *n > 0)
                        .collect::<BTreeMap<_, _>>(),
                )
            })
            .unwrap_or_default();
        summed == single
    });
    assert_eq!(summed, single, "{}", prometheus.log());
}
