//! Applies the rules to raw differences: each becomes drift or an accepted difference, with the
//! rule and its reason, or a note on why a rule that looked relevant did not accept it.
use crate::diff::RawDiff;
use crate::path::{Path, Seg};
use crate::report::{Change, Finding, Status};
use crate::rules::{Action, Rule, RuleSet};
use crate::tree::Node;

/// Counts, per rule, what it accepted or enforced.
pub struct Classifier<'a> {
    pub rules: &'a RuleSet,
    /// Indexed by rule position (0-based).
    pub matched: Vec<usize>,
    /// Per rule: differences it matched but did not accept, with the reason (the first
    /// [`MAX_REASONS`] kept) and how many there were.
    pub rejected: Vec<(Vec<String>, usize)>,
    /// Per rule: differences it would have accepted, but an earlier rule (or a rename or
    /// must_equal rule) decided first.
    pub shadowed: Vec<usize>,
}

/// Rejection reasons kept per rule; the count goes on.
pub const MAX_REASONS: usize = 20;

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
            rejected: vec![(Vec::new(), 0); rules.rules.len()],
            shadowed: vec![0; rules.rules.len()],
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
        self.diagnose(&raw, &path, place, rule);
        if status == Status::Drift {
            // A waiver that lapsed is worth naming next to the drift it no longer covers.
            let (b, c) = (raw.baseline.as_ref(), raw.candidate.as_ref());
            for r in self
                .rules
                .rules
                .lapsed(place.files, place.object, &path, b, c)
            {
                notes.push(format!(
                    "rule {} would accept this but expired on {}",
                    r.index,
                    r.expires.map(|d| d.to_string()).unwrap_or_default()
                ));
            }
        }
        if raw.change == Change::HardCoded {
            notes.push(hard_coded_note(&raw));
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
            baseline_at: None,
            candidate_at: None,
        }
    }

    /// Counts, per rule, the rejections (with their reasons) and the shadowed acceptances of
    /// this difference. `decided` is the rule that accepted or enforced it.
    fn diagnose(&mut self, raw: &RawDiff, path: &str, place: &Place<'_>, decided: Option<usize>) {
        let (b, c) = (raw.baseline.as_ref(), raw.candidate.as_ref());
        let j = self
            .rules
            .rules
            .judge(place.files, place.object, path, b, c);
        let shadowed = j
            .accepted
            .filter(|&a| decided != Some(a))
            .into_iter()
            .chain(j.shadowed);
        for i in shadowed {
            if let Some(s) = self.shadowed.get_mut(i - 1) {
                *s += 1;
            }
        }
        let at = match (place.object, path) {
            ("", "") => place.file.to_string(),
            ("", p) => p.to_string(),
            (o, "") => o.to_string(),
            (o, p) => format!("{o} {p}"),
        };
        for (i, why) in j.rejected {
            if let Some((reasons, n)) = self.rejected.get_mut(i - 1) {
                *n += 1;
                if reasons.len() < MAX_REASONS {
                    reasons.push(format!("{at}: {why}"));
                }
            }
        }
    }

    fn verdict(
        &self,
        raw: &RawDiff,
        path: &str,
        place: &Place<'_>,
        notes: &mut Vec<String>,
    ) -> Verdict {
        // must_equal holds even under a broader rule, including below an added or removed
        // subtree.
        for r in self
            .rules
            .rules
            .active(place.files, place.object)
            .filter(|r| matches!(r.action, Action::MustEqual))
        {
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
            let (renamed, by) = self.rules.rules.rename(b, place.files, place.object, path);
            if !by.is_empty() && &renamed == c {
                return Verdict::Accept(by[0]);
            }
        }
        let (b, c) = (raw.baseline.as_ref(), raw.candidate.as_ref());
        match self
            .rules
            .rules
            .accepting(place.files, place.object, path, b, c, notes)
        {
            Some(r) => Verdict::Accept(r.index),
            None => Verdict::Drift,
        }
    }
}

/// Which side hard-codes what the other computes: `the candidate hard-codes 45 where the
/// baseline has var.connection_timeout`.
fn hard_coded_note(raw: &RawDiff) -> String {
    let show = |n: &Option<Node>| n.as_ref().map(|n| n.render_short(60)).unwrap_or_default();
    let (literal, literal_side, expr, expr_side) =
        if raw.candidate.as_ref().is_some_and(Node::is_expr) {
            (&raw.baseline, "baseline", &raw.candidate, "candidate")
        } else {
            (&raw.candidate, "candidate", &raw.baseline, "baseline")
        };
    format!(
        "the {literal_side} hard-codes {} where the {expr_side} has {}",
        show(literal),
        show(expr)
    )
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
