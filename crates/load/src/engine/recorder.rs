//! Everything measured during a run, in fixed memory per stage, per request name and per
//! second: HDR histograms (latency from the intended send time), counts of errors by kind,
//! statuses, bytes, retries and drops, and a per-second timeline.
use std::collections::{BTreeMap, HashMap, VecDeque};

use prodlike_stats::LatencyHistogram;

/// Distinct request names kept apart; the rest are counted under `{other}`.
pub const MAX_NAMES: usize = 50;
/// Seconds kept open for per-second percentiles (responses land up to this late).
const OPEN_SECONDS: u64 = 4;

/// One finished logical request (all its attempts).
#[derive(Debug, Clone)]
pub struct Completed {
    pub target: usize,
    pub name: NameKey,
    pub stage: usize,
    /// Seconds from the run's start: intended send, first actual send, completion.
    pub intended_s: f64,
    pub sent_s: f64,
    pub done_s: f64,
    /// From the intended send time to the end of the response.
    pub latency_us: u64,
    pub status: Option<u16>,
    /// Error kind for failed requests: `connect`, `timeout`, `io`, `tls`, `protocol`,
    /// `http_4xx`, `http_5xx`.
    pub error: Option<&'static str>,
    pub attempts: u32,
    /// Send times of the retries (seconds from the start).
    pub retry_at: Vec<f64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

#[derive(Debug, Clone)]
pub enum NameKey {
    Index(usize),
    Text(String),
}

/// Counters and a histogram for one slice of the run (whole run, a stage, a name).
#[derive(Debug, Clone, Default)]
pub struct Acc {
    pub hist: LatencyHistogram,
    pub sent: u64,
    pub completed: u64,
    pub failed: u64,
    pub attempts: u64,
    pub retries: u64,
    pub dropped: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Acc {
    fn add(&mut self, c: &Completed) {
        self.hist.record_us(c.latency_us);
        self.sent += 1;
        self.completed += 1;
        self.failed += c.error.is_some() as u64;
        self.attempts += c.attempts as u64;
        self.retries += c.attempts.saturating_sub(1) as u64;
        self.bytes_in += c.bytes_in;
        self.bytes_out += c.bytes_out;
    }
}

/// One second of the run.
#[derive(Debug, Clone, Default)]
pub struct Second {
    /// First attempts sent in this second (the achieved rate).
    pub sent: u64,
    pub completed: u64,
    pub failed: u64,
    pub dropped: u64,
    pub retries: u64,
    pub bytes_in: u64,
    /// Percentiles of requests completed in this second (ms); `None` when none completed.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// The second's latencies, encoded (`LatencyHistogram::to_base64`), when the recorder
    /// keeps them (segment runs, so that `load merge` sums seconds exactly).
    pub latency_histogram: Option<String>,
}

/// Per target.
#[derive(Debug, Clone, Default)]
pub struct TargetAcc {
    pub overall: Acc,
    pub stages: Vec<Acc>,
    pub names: Vec<Acc>,
    /// Compare mode: latency of the successful requests per name, what the latency judge
    /// compares (failures are judged by their ratio, and their latency is a timeout's or a
    /// refusal's, not the service's).
    pub succeeded: Vec<LatencyHistogram>,
    pub errors: BTreeMap<&'static str, u64>,
    pub statuses: BTreeMap<u16, u64>,
    pub error_examples: BTreeMap<&'static str, String>,
}

#[derive(Debug)]
pub struct Recorder {
    pub names: Vec<String>,
    name_index: HashMap<String, usize>,
    pub targets: Vec<TargetAcc>,
    pub send_lag: LatencyHistogram,
    pub timeline: Vec<Second>,
    open: VecDeque<(u64, LatencyHistogram)>,
    keep_samples: bool,
    /// Keep each second's histogram in the timeline (segment runs).
    pub second_histograms: bool,
    pub dropped: u64,
    pub dropped_by_stage: Vec<u64>,
}

impl Recorder {
    pub fn new(names: Vec<String>, stages: usize, targets: usize, keep_samples: bool) -> Recorder {
        let name_index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let per_target = TargetAcc {
            stages: vec![Acc::default(); stages.max(1)],
            names: vec![Acc::default(); names.len()],
            ..Default::default()
        };
        Recorder {
            names,
            name_index,
            targets: vec![per_target; targets.max(1)],
            send_lag: LatencyHistogram::new(),
            timeline: Vec::new(),
            open: VecDeque::new(),
            keep_samples,
            second_histograms: false,
            dropped: 0,
            dropped_by_stage: vec![0; stages.max(1)],
        }
    }

    fn second(&mut self, s: f64) -> &mut Second {
        let i = s.max(0.0) as usize;
        if self.timeline.len() <= i {
            self.timeline.resize(i + 1, Second::default());
        }
        &mut self.timeline[i]
    }

    fn name_id(&mut self, key: &NameKey) -> usize {
        match key {
            NameKey::Index(i) => *i,
            NameKey::Text(t) => {
                if let Some(&i) = self.name_index.get(t) {
                    return i;
                }
                let name = if self.names.len() < MAX_NAMES {
                    t.clone()
                } else {
                    "{other}".to_string()
                };
                if let Some(&i) = self.name_index.get(&name) {
                    return i;
                }
                let i = self.names.len();
                self.names.push(name.clone());
                self.name_index.insert(name, i);
                for t in &mut self.targets {
                    t.names.push(Acc::default());
                }
                i
            }
        }
    }

    /// The generator's own delay in starting a request (actual start − intended time).
    pub fn lag(&mut self, lag_us: u64) {
        self.send_lag.record_us(lag_us.max(1));
    }

    /// An arrival dropped over the in-flight cap; `name` is the request it would have sent.
    pub fn drop_arrival(&mut self, intended_s: f64, stage: usize, name: &NameKey) {
        self.dropped += 1;
        if let Some(d) = self.dropped_by_stage.get_mut(stage) {
            *d += 1;
        }
        self.second(intended_s).dropped += 1;
        let name = self.name_id(name);
        for t in &mut self.targets {
            if let Some(n) = t.names.get_mut(name) {
                n.dropped += 1;
            }
        }
    }

    pub fn record(&mut self, c: &Completed) {
        let name = self.name_id(&c.name);
        let keep = self.keep_samples;
        {
            let t = match self.targets.get_mut(c.target) {
                Some(t) => t,
                None => return,
            };
            t.overall.add(c);
            if let Some(s) = t.stages.get_mut(c.stage) {
                s.add(c);
            }
            if let Some(n) = t.names.get_mut(name) {
                n.add(c);
            }
            if let Some(e) = c.error {
                *t.errors.entry(e).or_insert(0) += 1;
            }
            if let Some(s) = c.status {
                *t.statuses.entry(s).or_insert(0) += 1;
            }
            if keep && c.error.is_none() {
                if t.succeeded.len() <= name {
                    t.succeeded.resize_with(name + 1, LatencyHistogram::new);
                }
                t.succeeded[name].record_us(c.latency_us);
            }
        }
        if c.target != 0 {
            return;
        }
        self.second(c.sent_s).sent += 1;
        for &r in &c.retry_at {
            self.second(r).retries += 1;
        }
        let sec = self.second(c.done_s);
        sec.completed += 1;
        sec.failed += c.error.is_some() as u64;
        sec.bytes_in += c.bytes_in;
        let done = c.done_s.max(0.0) as u64;
        if let Some(h) = self.percentile_window(done) {
            h.record_us(c.latency_us);
        }
    }

    /// Notes the error message of a kind once, for the report.
    pub fn error_example(&mut self, target: usize, kind: &'static str, msg: &str) {
        if let Some(t) = self.targets.get_mut(target) {
            t.error_examples
                .entry(kind)
                .or_insert_with(|| msg.chars().take(200).collect());
        }
    }

    fn percentile_window(&mut self, s: u64) -> Option<&mut LatencyHistogram> {
        let newest = self.open.back().map(|(n, _)| *n);
        match newest {
            Some(n) if s > n => {
                for k in n + 1..=s {
                    self.open.push_back((k, LatencyHistogram::new()));
                }
                while self
                    .open
                    .front()
                    .is_some_and(|(k, _)| *k + OPEN_SECONDS <= s)
                {
                    self.close_front();
                }
            }
            None => self.open.push_back((s, LatencyHistogram::new())),
            _ => {}
        }
        self.open.iter_mut().find(|(k, _)| *k == s).map(|(_, h)| h)
    }

    fn close_front(&mut self) {
        if let Some((k, h)) = self.open.pop_front()
            && !h.is_empty()
        {
            let sum = h.summary();
            // An encoding failure (a count past i64::MAX) leaves it out: no raw data, never
            // a wrong one.
            let encoded = if self.second_histograms {
                h.to_base64().ok()
            } else {
                None
            };
            let sec = self.second(k as f64);
            sec.latency_histogram = encoded;
            sec.p50_ms = Some(sum.p50_ms);
            sec.p90_ms = Some(sum.p90_ms);
            sec.p99_ms = Some(sum.p99_ms);
            sec.max_ms = Some(sum.max_ms);
        }
    }

    /// Closes every per-second window (end of run).
    pub fn finish(&mut self) {
        while !self.open.is_empty() {
            self.close_front();
        }
    }

    /// p99 of the newest closed second, for live progress.
    pub fn recent_p99(&self) -> Option<f64> {
        self.timeline.iter().rev().find_map(|s| s.p99_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(target: usize, at: f64, lat_ms: u64, error: Option<&'static str>) -> Completed {
        Completed {
            target,
            name: NameKey::Text(format!("GET /{}", lat_ms % 3)),
            stage: 0,
            intended_s: at,
            sent_s: at,
            done_s: at + lat_ms as f64 / 1000.0,
            latency_us: lat_ms * 1000,
            status: Some(if error.is_some() { 500 } else { 200 }),
            error,
            attempts: 1 + error.is_some() as u32,
            retry_at: if error.is_some() {
                vec![at + 0.1]
            } else {
                vec![]
            },
            bytes_in: 10,
            bytes_out: 5,
        }
    }

    #[test]
    fn counts_by_second_stage_and_name() {
        let mut r = Recorder::new(vec![], 1, 2, true);
        for i in 0..1000u64 {
            r.record(&done(
                0,
                i as f64 / 100.0,
                1 + i % 10,
                (i % 100 == 0).then_some("http_5xx"),
            ));
        }
        r.record(&done(1, 0.5, 3, None));
        r.drop_arrival(2.5, 0, &NameKey::Text("GET /1".into()));
        r.finish();
        let t = &r.targets[0];
        assert_eq!(t.overall.completed, 1000);
        assert_eq!(t.overall.failed, 10);
        assert_eq!(t.overall.retries, 10);
        assert_eq!(t.errors["http_5xx"], 10);
        assert_eq!(r.names.len(), 3);
        // Sent by send second; the last responses complete in second 10.
        assert_eq!(r.timeline.len(), 11);
        assert!(
            r.timeline[..10].iter().all(|s| s.sent == 100),
            "{:?}",
            r.timeline
        );
        assert_eq!(r.timeline[2].dropped, 1);
        let dropped_by_name: Vec<(&str, u64)> = r
            .names
            .iter()
            .zip(&t.names)
            .map(|(name, n)| (name.as_str(), n.dropped))
            .collect();
        assert_eq!(
            dropped_by_name,
            [("GET /1", 1), ("GET /2", 0), ("GET /0", 0)]
        );
        assert!(r.timeline[5].p99_ms.unwrap() >= 9.0);
        assert_eq!(r.targets[1].overall.completed, 1);
        assert_eq!(t.succeeded.iter().map(|h| h.count()).sum::<u64>(), 990);
    }

    #[test]
    fn names_are_capped() {
        let mut r = Recorder::new(vec![], 1, 1, false);
        for i in 0..(MAX_NAMES + 50) {
            let mut c = done(0, 0.0, 1, None);
            c.name = NameKey::Text(format!("/r{i}"));
            r.record(&c);
        }
        assert_eq!(r.names.len(), MAX_NAMES + 1);
        assert_eq!(r.names.last().unwrap(), "{other}");
        assert_eq!(r.targets[0].names.last().unwrap().completed, 50);
    }
}
