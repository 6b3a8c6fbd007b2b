//! Applies the rules to raw differences: each becomes drift or an accepted difference, with the
//! rule and its reason, or a note on why a rule that looked relevant did not accept it.
use crate::diff::RawDiff;
use crate::path::{Path, Seg};
use crate::quantity;
use crate::report::{Change, Finding, Status};
use crate::rules::{Action, Rule, RuleSet};
use crate::tree::Node;

/// Counts, per rule, what it accepted or enforced.
pub struct Classifier<'a> {
    pub rules: &'a RuleSet,
    /// Indexed by rule position (0-based).
    pub matched: Vec<usize>,
}

/// Where a difference is.
pub struct Place<'a> {
    /// Relative file paths of both sides (rules match either).
    pub files: &'a [&'a str],
    /// Relative path reported for the finding.
    pub file: &'a str,
    pub object: &'a str,
}

enum Verdict {
    Accept(usize),
    Enforce(usize),
    Drift,
}

impl<'a> Classifier<'a> {
    pub fn new(rules: &'a RuleSet) -> Self {
        Classifier {
            rules,
            matched: vec![0; rules.rules.len()],
        }
    }

    pub fn classify(&mut self, raw: RawDiff, place: &Place<'_>) -> Finding {
        let path = raw.path.to_string();
        let mut notes = Vec::new();
        let verdict = self.verdict(&raw, &path, place, &mut notes);
        let (status, rule) = match verdict {
            Verdict::Accept(i) => (Status::Accepted, Some(i)),
            Verdict::Enforce(i) => (Status::Drift, Some(i)),
            Verdict::Drift => (Status::Drift, None),
        };
        if let Some(i) = rule {
            if let Some(m) = self.matched.get_mut(i - 1) {
                *m += 1;
            }
        }
        if status == Status::Drift {
            // A waiver that lapsed is worth naming next to the drift it no longer covers.
            for r in self.rules.rules.iter().filter(|r| r.expired) {
                if r.covers(place.files, place.object)
                    && r.matches_path(&path)
                    && self.accepts(r, &raw, &mut Vec::new())
                {
                    notes.push(format!(
                        "rule {} would accept this but expired on {}",
                        r.index,
                        r.expires.map(|d| d.to_string()).unwrap_or_default()
                    ));
                }
            }
        }
        let secret = [&raw.baseline, &raw.candidate]
            .iter()
            .any(|n| n.as_ref().is_some_and(contains_secret));
        Finding {
            file: place.file.to_string(),
            object: (!place.object.is_empty()).then(|| place.object.to_string()),
            path,
            change: raw.change,
            status,
            baseline: raw.baseline.as_ref().map(Node::to_json),
            candidate: raw.candidate.as_ref().map(Node::to_json),
            secret,
            rule,
            reason: rule
                .and_then(|i| self.rules.rules.get(i - 1))
                .map(|r| r.reason.clone()),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            line: None,
        }
    }

    fn verdict(
        &self,
        raw: &RawDiff,
        path: &str,
        place: &Place<'_>,
        notes: &mut Vec<String>,
    ) -> Verdict {
        let active = || {
            self.rules
                .rules
                .iter()
                .filter(|r| !r.expired && r.covers(place.files, place.object))
        };
        // must_equal holds even under a broader rule, including below an added or removed
        // subtree.
        for r in active().filter(|r| matches!(r.action, Action::MustEqual)) {
            if r.matches_path(path) || subtree_matches(r, &raw.path, raw) {
                notes.push(format!("must equal: rule {} ({})", r.index, r.reason));
                return Verdict::Enforce(r.index);
            }
        }
        if raw.change == Change::Renamed {
            if let Some(&i) = raw.renamed_by.first() {
                return Verdict::Accept(i);
            }
        }
        // Renames compose (prod → staging in the host and eu-prod → eu-staging in the
        // cluster name), so they are tried together before the rules one by one.
        if let (Some(Node::String(b)), Some(Node::String(c))) = (&raw.baseline, &raw.candidate) {
            let (renamed, by) = self.rules.rename(b, place.files, place.object, path);
            if !by.is_empty() && &renamed == c {
                return Verdict::Accept(by[0]);
            }
        }
        for r in active() {
            if matches!(r.action, Action::MustEqual | Action::Rename { .. })
                || !r.matches_path(path)
            {
                continue;
            }
            if self.accepts(r, raw, notes) {
                return Verdict::Accept(r.index);
            }
        }
        Verdict::Drift
    }

    /// Whether `r` (already known to cover the place and path) explains the difference; when it
    /// does not but was relevant, says why in `notes`.
    fn accepts(&self, r: &Rule, raw: &RawDiff, notes: &mut Vec<String>) -> bool {
        let (b, c) = (raw.baseline.as_ref(), raw.candidate.as_ref());
        match &r.action {
            Action::Ignore => true,
            Action::MustEqual => false,
            Action::Rename { .. } => false,
            Action::Scale { factor, tolerance } => {
                let (Some(b), Some(c)) = (b, c) else {
                    return false;
                };
                let (Some(qb), Some(qc)) = (quantity::parse(b), quantity::parse(c)) else {
                    notes.push(format!(
                        "scale rule {}: not a number with a known unit",
                        r.index
                    ));
                    return false;
                };
                if qb.dimension != qc.dimension {
                    notes.push(format!(
                        "scale rule {}: {} and {} are in different units",
                        r.index,
                        b.render_short(20),
                        c.render_short(20)
                    ));
                    return false;
                }
                let expected = qb.value * factor;
                let ok = if qb.integer && qc.integer {
                    // Counts round: half of 3 replicas is 1 or 2.
                    let lo = (expected * (1.0 - tolerance)).floor();
                    let hi = (expected * (1.0 + tolerance)).ceil();
                    (lo..=hi).contains(&qc.value)
                } else {
                    (qc.value - expected).abs()
                        <= expected.abs() * tolerance + expected.abs() * 1e-9
                };
                if !ok {
                    let tol = if *tolerance > 0.0 {
                        format!(" ±{}%", tolerance * 100.0)
                    } else {
                        String::new()
                    };
                    notes.push(format!(
                        "scale rule {} expects {}{tol} ({} × {factor}), found {}",
                        r.index,
                        quantity::describe(expected, qb.dimension),
                        b.render_short(20),
                        c.render_short(20)
                    ));
                }
                ok
            }
            Action::Map(values) => {
                let (Some(b), Some(c)) = (b, c) else {
                    return false;
                };
                let (Some(bt), Some(ct)) = (b.scalar_text(), c.scalar_text()) else {
                    return false;
                };
                match values.get(&bt) {
                    Some(allowed) if *allowed == ct => true,
                    Some(allowed) => {
                        notes.push(format!(
                            "map rule {} allows {bt} → {allowed}, found {ct}",
                            r.index
                        ));
                        false
                    }
                    None => {
                        notes.push(format!("map rule {} has no entry for {bt}", r.index));
                        false
                    }
                }
            }
            Action::Pattern(re) => {
                let Some(c) = c else {
                    return false;
                };
                let texts = leaf_texts(c);
                if texts.is_empty() {
                    return false;
                }
                let ok = texts.iter().all(|t| re.is_match(t));
                if !ok {
                    notes.push(format!(
                        "pattern rule {}: {} does not match /{}/",
                        r.index,
                        c.render_short(40),
                        re.as_str()
                    ));
                }
                ok
            }
        }
    }
}

/// Texts of every scalar in a value (a pattern applies to all of them); secrets have none.
fn leaf_texts(n: &Node) -> Vec<String> {
    match n {
        Node::List(items) => items.iter().flat_map(leaf_texts).collect(),
        Node::Map(m) => m.values().flat_map(leaf_texts).collect(),
        Node::Secret(_) => Vec::new(),
        other => other.scalar_text().into_iter().collect(),
    }
}

pub fn contains_secret(n: &Node) -> bool {
    match n {
        Node::Secret(_) => true,
        Node::List(items) => items.iter().any(contains_secret),
        Node::Map(m) => m.values().any(contains_secret),
        Node::String(s) => s.contains("<secret:"),
        _ => false,
    }
}

/// Whether a must_equal rule's path lies inside an added or removed subtree.
fn subtree_matches(rule: &Rule, base: &Path, raw: &RawDiff) -> bool {
    if !matches!(
        raw.change,
        Change::Added | Change::Removed | Change::TypeChanged
    ) {
        return false;
    }
    let mut path = base.clone();
    [&raw.baseline, &raw.candidate]
        .iter()
        .filter_map(|n| n.as_ref())
        .any(|n| any_path(n, &mut path, &|p: &str| rule.matches_path(p)))
}

/// Walks every path inside `n` (maps by key, lists by index).
pub fn any_path(n: &Node, path: &mut Path, pred: &dyn Fn(&str) -> bool) -> bool {
    match n {
        Node::Map(m) => m.iter().any(|(k, v)| {
            path.push(Seg::Key(k.clone()));
            let hit = pred(&path.to_string()) || any_path(v, path, pred);
            path.pop();
            hit
        }),
        Node::List(items) => items.iter().enumerate().any(|(i, v)| {
            path.push(Seg::Index(i));
            let hit = pred(&path.to_string()) || any_path(v, path, pred);
            path.pop();
            hit
        }),
        _ => false,
    }
}
