//! A validated rule: where it applies (path, file and object globs), what it does (its
//! [`Action`]), why (reason, owner) and until when (expiry). [`Rule::accepts`] judges a
//! difference between two values at a path the rule covers.
use std::collections::BTreeMap;

use regex::Regex;

use crate::date::Date;
use crate::path::Glob;
use crate::quantity;
use crate::spec::RuleKind;
use crate::value::Value;

/// A validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 1-based position in the file, as reports name it: "rule 3".
    pub index: usize,
    /// What the rule does, as written.
    pub kind: RuleKind,
    /// What the rule does, with its checked parameters.
    pub action: Action,
    /// Where in a tree it applies; `None` only for rename rules (everywhere).
    pub path: Option<Glob>,
    /// Which files it applies to; `None`: every file.
    pub file: Option<Glob>,
    /// Which objects it applies to; `None`: every object.
    pub object: Option<Glob>,
    /// Why the difference is intended.
    pub reason: String,
    /// Who answers for it.
    pub owner: Option<String>,
    /// The last day it holds.
    pub expires: Option<Date>,
    /// The expiry date has passed: the rule accepts nothing.
    pub expired: bool,
}

/// What a rule does, with its parameters.
#[derive(Debug, Clone)]
pub enum Action {
    /// Any difference is intended.
    Ignore,
    /// candidate = baseline × `factor`, within ± `tolerance` (a fraction).
    Scale { factor: f64, tolerance: f64 },
    /// Baseline value → the one candidate value allowed for it.
    Map(BTreeMap<String, String>),
    /// Any difference is a finding, whatever another rule says.
    MustEqual,
    /// Every scalar of the candidate value matches.
    Pattern(Regex),
    /// `from` in the baseline stands for `to` in the candidate (see [`crate::Rules::rename`]).
    Rename { from: String, to: String },
}

impl Rule {
    /// Whether this rule's file and object selectors cover a place: `files` are the relative
    /// paths of both sides (either may match), `object` the object's name.
    pub fn covers(&self, files: &[&str], object: &str) -> bool {
        let file_ok = match &self.file {
            Some(g) => files.iter().any(|f| g.matches(f)),
            None => true,
        };
        let object_ok = match &self.object {
            Some(g) => g.matches(object),
            None => true,
        };
        file_ok && object_ok
    }

    /// Whether this rule applies at a printed path (rename rules without a path apply
    /// everywhere).
    pub fn matches_path(&self, path: &str) -> bool {
        match &self.path {
            Some(g) => g.matches(path),
            None => true,
        }
    }

    /// Short description for reports: `scale ×0.5 ±10% spec.replicas`.
    pub fn describe(&self) -> String {
        let what = match &self.action {
            Action::Ignore => "ignore".to_string(),
            Action::Scale { factor, tolerance } if *tolerance > 0.0 => {
                format!("scale ×{factor} ±{}%", tolerance * 100.0)
            }
            Action::Scale { factor, .. } => format!("scale ×{factor}"),
            Action::Map(values) => format!("map ({} values)", values.len()),
            Action::MustEqual => "must_equal".to_string(),
            Action::Pattern(re) => format!("pattern /{}/", re.as_str()),
            Action::Rename { from, to } => format!("rename {from} → {to}"),
        };
        match &self.path {
            Some(p) => format!("{what} {}", p.as_str()),
            None => what,
        }
    }

    /// Whether this rule (already known to cover the place and path) explains a difference
    /// between `baseline` and `candidate` (`None`: absent on that side). When it does not but
    /// was relevant, says why in `notes` ("scale rule 3 expects 512Mi ±2% …"). must_equal and
    /// rename rules accept nothing here: the first enforces, the second is applied to text by
    /// [`crate::Rules::rename`].
    pub fn accepts<V: Value + ?Sized>(
        &self,
        baseline: Option<&V>,
        candidate: Option<&V>,
        notes: &mut Vec<String>,
    ) -> bool {
        let (b, c) = (baseline, candidate);
        match &self.action {
            Action::Ignore => true,
            Action::MustEqual | Action::Rename { .. } => false,
            Action::Scale { factor, tolerance } => {
                let (Some(b), Some(c)) = (b, c) else {
                    return false;
                };
                self.scale_accepts(b, c, *factor, *tolerance, notes)
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
                            self.index
                        ));
                        false
                    }
                    None => {
                        notes.push(format!("map rule {} has no entry for {bt}", self.index));
                        false
                    }
                }
            }
            Action::Pattern(re) => {
                let Some(c) = c else {
                    return false;
                };
                let texts = c.leaf_texts();
                if texts.is_empty() {
                    return false;
                }
                let ok = texts.iter().all(|t| re.is_match(t));
                if !ok {
                    notes.push(format!(
                        "pattern rule {}: {} does not match /{}/",
                        self.index,
                        c.render_short(40),
                        re.as_str()
                    ));
                }
                ok
            }
        }
    }

    fn scale_accepts<V: Value + ?Sized>(
        &self,
        b: &V,
        c: &V,
        factor: f64,
        tolerance: f64,
        notes: &mut Vec<String>,
    ) -> bool {
        let (Some(qb), Some(qc)) = (b.quantity(), c.quantity()) else {
            notes.push(format!(
                "scale rule {}: not a number with a known unit",
                self.index
            ));
            return false;
        };
        if qb.dimension != qc.dimension {
            notes.push(format!(
                "scale rule {}: {} and {} are in different units",
                self.index,
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
            (qc.value - expected).abs() <= expected.abs() * tolerance + expected.abs() * 1e-9
        };
        if !ok {
            let tol = if tolerance > 0.0 {
                format!(" ±{}%", tolerance * 100.0)
            } else {
                String::new()
            };
            notes.push(format!(
                "scale rule {} expects {}{tol} ({} × {factor}), found {}",
                self.index,
                quantity::describe(expected, qb.dimension),
                b.render_short(20),
                c.render_short(20)
            ));
        }
        ok
    }
}
