//! Compares two files or two directory trees (or two schema snapshots) into a [`DriftReport`]:
//! pairs files by relative path, objects by identity, then diffs and classifies.
use std::collections::BTreeMap;
use std::path::Path as FsPath;

use crate::classify::{Classifier, Place, any_path};
use crate::diff::{Differ, RawDiff};
use crate::error::DriftError;
use crate::locate::locate;
use crate::pairing;
use crate::path::Path;
use crate::position::RawSeg;
use crate::report::{Change, DriftReport, Finding, Location, Mode, RuleState, RuleUse, Summary};
use crate::rules::{Action, RuleSet};
use crate::source::{self, Object, Source};
use crate::tree::Node;

/// A file on both sides, or on one side only.
pub type SourcePair = (Option<Source>, Option<Source>);

/// Compares two files, or two directories paired by relative path.
pub fn compare_paths(
    baseline: &FsPath,
    candidate: &FsPath,
    rules: &RuleSet,
    rules_file: Option<String>,
) -> Result<DriftReport, DriftError> {
    for p in [baseline, candidate] {
        if !p.exists() {
            return Err(DriftError::Missing {
                path: p.to_path_buf(),
            });
        }
    }
    let pairs = match (baseline.is_dir(), candidate.is_dir()) {
        (true, true) => pair_directories(baseline, candidate, rules)?,
        (false, false) => {
            let name = |p: &FsPath| {
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.display().to_string())
            };
            vec![(
                Some(source::load_file(
                    baseline,
                    &name(baseline),
                    &rules.secrets,
                )?),
                Some(source::load_file(
                    candidate,
                    &name(candidate),
                    &rules.secrets,
                )?),
            )]
        }
        (true, false) => {
            return Err(DriftError::DirVersusFile {
                dir: baseline.to_path_buf(),
                file: candidate.to_path_buf(),
            });
        }
        (false, true) => {
            return Err(DriftError::DirVersusFile {
                dir: candidate.to_path_buf(),
                file: baseline.to_path_buf(),
            });
        }
    };
    Ok(compare_sources(
        pairs,
        Mode::Files,
        &baseline.display().to_string(),
        &candidate.display().to_string(),
        rules,
        rules_file,
    ))
}

/// Loads both trees and pairs their files; files only on one side pair with `None`. A
/// rename rule can pair `prod.env` with `staging.env`.
fn pair_directories(
    baseline: &FsPath,
    candidate: &FsPath,
    rules: &RuleSet,
) -> Result<Vec<SourcePair>, DriftError> {
    let keep = |files: Vec<(String, std::path::PathBuf)>| -> BTreeMap<String, std::path::PathBuf> {
        files
            .into_iter()
            .filter(|(rel, _)| !rules.is_excluded(rel))
            .collect()
    };
    let b_files = keep(source::walk(baseline)?);
    let mut c_files = keep(source::walk(candidate)?);
    let mut pairs = Vec::new();
    for (rel, bpath) in &b_files {
        let b = source::load_file(bpath, rel, &rules.secrets)?;
        let c_rel = if c_files.contains_key(rel) {
            Some(rel.clone())
        } else {
            let (renamed, by) = rules.rules.rename(rel, &[rel], "", "");
            (!by.is_empty() && c_files.contains_key(&renamed) && !b_files.contains_key(&renamed))
                .then_some(renamed)
        };
        let c = match c_rel.and_then(|r| c_files.remove_entry(&r)) {
            Some((crel, cpath)) => Some(source::load_file(&cpath, &crel, &rules.secrets)?),
            None => None,
        };
        pairs.push((Some(b), c));
    }
    for (rel, cpath) in c_files {
        pairs.push((None, Some(source::load_file(&cpath, &rel, &rules.secrets)?)));
    }
    Ok(pairs)
}

/// Diffs paired sources and applies the rules.
// Long: pairing, diffing and rule application in one pass over the sources; a split is noted in issue 11.
#[allow(clippy::too_many_lines)]
pub fn compare_sources(
    pairs: Vec<SourcePair>,
    mode: Mode,
    baseline_label: &str,
    candidate_label: &str,
    rules: &RuleSet,
    rules_file: Option<String>,
) -> DriftReport {
    let mut classifier = Classifier::new(rules);
    let mut findings = Vec::new();
    let mut summary = Summary::default();
    // Kept only to tell a must_equal rule that held from one whose path matches nothing.
    let want_trees = rules
        .rules
        .iter()
        .any(|r| matches!(r.action, Action::MustEqual));
    let mut trees: Vec<(Vec<String>, String, Node)> = Vec::new();
    for (b, c) in &pairs {
        summary.files += 1;
        let rels: Vec<&str> = [b, c]
            .iter()
            .filter_map(|s| s.as_ref().map(|s| s.rel.as_str()))
            .collect();
        let file = c
            .as_ref()
            .or(b.as_ref())
            .map(|s| s.rel.clone())
            .unwrap_or_default();
        let place = Place {
            files: &rels,
            file: &file,
            object: "",
        };
        match (b, c) {
            (Some(b), Some(c)) => {
                // Two files given by name pair whatever their names; in directories a pair
                // under different names comes from a rename rule, and is reported as such.
                let renamed_by = rules.rules.rename(&b.rel, &[&b.rel], "", "").1;
                if b.rel != c.rel
                    && !renamed_by.is_empty()
                    && mode == Mode::Files
                    && pairs.len() > 1
                {
                    let mut raw = RawDiff::whole(
                        Change::Renamed,
                        Some(Node::String(b.rel.clone())),
                        Some(Node::String(c.rel.clone())),
                    );
                    raw.renamed_by = renamed_by;
                    findings.push(classifier.classify(raw, &place));
                }
                compare_objects(
                    b,
                    c,
                    rules,
                    &mut classifier,
                    &rels,
                    &file,
                    &mut findings,
                    &mut summary,
                );
            }
            (Some(only), None) | (None, Some(only)) => {
                let change = if b.is_some() {
                    Change::Removed
                } else {
                    Change::Added
                };
                summary.objects += only.objects.len();
                let raw = RawDiff::whole(change, None, None);
                let mut f = classifier.classify(raw, &place);
                let at = Location {
                    file: only.rel.clone(),
                    line: 1,
                    column: None,
                };
                if b.is_some() {
                    f.baseline_at = Some(at);
                } else {
                    f.candidate_at = Some(at);
                }
                f.note = Some(match change {
                    Change::Removed => "file only in the baseline".to_string(),
                    _ => "file only in the candidate".to_string(),
                });
                findings.push(f);
            }
            (None, None) => {}
        }
        for s in [b, c].into_iter().flatten().filter(|_| want_trees) {
            for o in &s.objects {
                trees.push((
                    rels.iter().map(|r| r.to_string()).collect(),
                    o.display.clone(),
                    o.node.clone(),
                ));
            }
        }
    }
    let rule_uses = rule_uses(rules, &classifier, &trees);
    summary.drift = findings
        .iter()
        .filter(|f| f.status == crate::report::Status::Drift)
        .count();
    summary.accepted = findings.len() - summary.drift;
    summary.rules_expired = rule_uses
        .iter()
        .filter(|r| r.state == RuleState::Expired)
        .count();
    summary.rules_unused = rule_uses
        .iter()
        .filter(|r| r.state == RuleState::Unused)
        .count();
    DriftReport {
        mode,
        baseline: baseline_label.to_string(),
        candidate: candidate_label.to_string(),
        rules_file,
        summary,
        findings,
        rules: rule_uses,
    }
}

/// One file pair's objects being compared: where findings go and what judges them.
struct ObjectPass<'r, 'c> {
    rules: &'r RuleSet,
    classifier: &'c mut Classifier<'r>,
    rels: &'c [&'c str],
    file: &'c str,
    findings: &'c mut Vec<Finding>,
}

#[allow(clippy::too_many_arguments)]
fn compare_objects<'r>(
    b: &Source,
    c: &Source,
    rules: &'r RuleSet,
    classifier: &mut Classifier<'r>,
    rels: &[&str],
    file: &str,
    findings: &mut Vec<Finding>,
    summary: &mut Summary,
) {
    let mut pass = ObjectPass {
        rules,
        classifier,
        rels,
        file,
        findings,
    };
    let c_keys: BTreeMap<&str, usize> = c
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.key.as_str(), i))
        .collect();
    let mut paired = vec![false; c.objects.len()];
    let b_keys: std::collections::HashSet<&str> =
        b.objects.iter().map(|o| o.key.as_str()).collect();
    let mut unpaired_b = Vec::new();
    for (i, bo) in b.objects.iter().enumerate() {
        summary.objects += 1;
        let (j, renamed_by) = match c_keys.get(bo.key.as_str()) {
            Some(&j) => (Some(j), Vec::new()),
            None => {
                let (renamed, by) = rules.rules.rename(&bo.key, rels, &bo.display, "");
                match c_keys.get(renamed.as_str()) {
                    Some(&j)
                        if !by.is_empty() && !b_keys.contains(renamed.as_str()) && !paired[j] =>
                    {
                        (Some(j), by)
                    }
                    _ => (None, Vec::new()),
                }
            }
        };
        let Some(j) = j else {
            unpaired_b.push(i);
            continue;
        };
        paired[j] = true;
        pass.pair(b, bo, c, &c.objects[j], renamed_by, None);
    }
    // What no identity or rule paired may still be the same object under an environment's
    // name (`prod-web` in `prod`, `stg-web` in `staging`).
    let left_b: Vec<(usize, &str)> = unpaired_b
        .iter()
        .map(|&i| (i, b.objects[i].key.as_str()))
        .collect();
    let left_c: Vec<(usize, &str)> = c
        .objects
        .iter()
        .enumerate()
        .filter(|(j, _)| !paired[*j])
        .map(|(j, o)| (j, o.key.as_str()))
        .collect();
    let env_pairs = pairing::pair(&left_b, &left_c);
    for p in &env_pairs {
        paired[p.c] = true;
        let (bo, co) = (&b.objects[p.b], &c.objects[p.c]);
        pass.pair(b, bo, c, co, Vec::new(), Some(&p.by));
    }
    for &i in unpaired_b
        .iter()
        .filter(|i| !env_pairs.iter().any(|p| p.b == **i))
    {
        let bo = &b.objects[i];
        let place = Place {
            files: rels,
            file,
            object: &bo.display,
        };
        let raw = RawDiff::whole(Change::Removed, Some(bo.node.clone()), None);
        let f = pass.classifier.classify(raw.clone(), &place);
        pass.findings.push(located(f, &raw, (b, bo), (c, None)));
    }
    for (j, co) in c.objects.iter().enumerate() {
        if paired[j] {
            continue;
        }
        summary.objects += 1;
        let place = Place {
            files: rels,
            file,
            object: &co.display,
        };
        let raw = RawDiff::whole(Change::Added, None, Some(co.node.clone()));
        let f = pass.classifier.classify(raw.clone(), &place);
        pass.findings.push(located_one(f, &raw, c, co));
    }
}

impl ObjectPass<'_, '_> {
    /// Diffs a paired baseline and candidate object. `renamed_by`: the rename rules that
    /// paired them; `env`: why environment-aware pairing did, whose name and namespace
    /// differences are then reported as renames.
    fn pair(
        &mut self,
        b: &Source,
        bo: &Object,
        c: &Source,
        co: &Object,
        renamed_by: Vec<usize>,
        env: Option<&str>,
    ) {
        let place = Place {
            files: self.rels,
            file: self.file,
            object: &co.display,
        };
        if !renamed_by.is_empty() {
            let mut raw = RawDiff::whole(
                Change::Renamed,
                Some(Node::String(bo.display.clone())),
                Some(Node::String(co.display.clone())),
            );
            raw.renamed_by = renamed_by;
            let f = self.classifier.classify(raw.clone(), &place);
            self.findings.push(located(f, &raw, (b, bo), (c, Some(co))));
        }
        let mut differ = Differ::new(self.rules, self.rels, &co.display);
        differ.diff(&mut Path::default(), &bo.node, &co.node);
        // A Terraform block's name is its address, not a value inside it: the pairing is
        // told on every difference of the pair instead of as a rename finding.
        let label_pairing = crate::terraform::config::is_terraform_key(&bo.key);
        for mut raw in differ.out {
            let path = raw.path.to_string();
            let is_name = label_pairing || path == "metadata.name" || path == "metadata.namespace";
            if env.is_some() && is_name && !label_pairing {
                raw.change = Change::Renamed;
            }
            let mut f = self.classifier.classify(raw.clone(), &place);
            if let (Some(by), true) = (env, is_name) {
                let note = format!("{} paired with {} by {by}", bo.display, co.display);
                f.note = Some(match f.note.take() {
                    Some(n) => format!("{note}; {n}"),
                    None => note,
                });
            }
            self.findings.push(located(f, &raw, (b, bo), (c, Some(co))));
        }
    }
}

/// Adds where the value sits on each side: the baseline's place under the baseline's file,
/// the candidate's under the candidate's. `line` keeps the candidate's (the baseline's when
/// only the baseline has the value).
fn located(
    mut f: Finding,
    raw: &RawDiff,
    (b, bo): (&Source, &Object),
    (c, co): (&Source, Option<&Object>),
) -> Finding {
    f.baseline_at = raw
        .baseline_at
        .as_deref()
        .and_then(|at| side_location(b, bo, at, &raw.path));
    f.candidate_at = match (co, raw.candidate_at.as_deref()) {
        (Some(co), Some(at)) => side_location(c, co, at, &raw.path),
        _ => None,
    };
    if let (Some(Node::String(bs)), Some(Node::String(cs))) = (&raw.baseline, &raw.candidate) {
        if let Some(k) = first_differing_line(bs, cs) {
            to_line(&mut f.baseline_at, b, bs, k);
            to_line(&mut f.candidate_at, c, cs, k);
        }
    }
    f.line = f
        .candidate_at
        .as_ref()
        .or(f.baseline_at.as_ref())
        .map(|l| l.line);
    f
}

/// The index of the first line where two multi-line strings differ.
fn first_differing_line(b: &str, c: &str) -> Option<usize> {
    if !b.contains('\n') && !c.contains('\n') {
        return None;
    }
    let (bl, cl): (Vec<&str>, Vec<&str>) = (b.lines().collect(), c.lines().collect());
    let k = bl.iter().zip(&cl).take_while(|(x, y)| x == y).count();
    (k > 0).then_some(k)
}

/// Moves a location from the start of a block scalar down to its `k`th line, when the file
/// holds the string's lines one per line there (a `|` block); otherwise leaves it.
fn to_line(at: &mut Option<Location>, src: &Source, value: &str, k: usize) {
    let (Some(loc), Some(text)) = (at.as_mut(), src.text.as_deref()) else {
        return;
    };
    let file: Vec<&str> = text.lines().collect();
    let lines: Vec<&str> = value.lines().collect();
    let start = loc.line.saturating_sub(1);
    let holds = (0..=k.min(lines.len().saturating_sub(1))).all(|i| {
        file.get(start + i).is_some_and(|l| {
            l.trim_end().ends_with(lines[i].trim_end()) && l.contains(lines[i].trim())
        })
    });
    if holds && k < lines.len() {
        loc.line = start + k + 1;
        loc.column = None;
    }
}

/// [`located`] for an object only in the candidate.
fn located_one(mut f: Finding, raw: &RawDiff, c: &Source, co: &Object) -> Finding {
    f.candidate_at = raw
        .candidate_at
        .as_deref()
        .and_then(|at| side_location(c, co, at, &raw.path));
    f.line = f.candidate_at.as_ref().map(|l| l.line);
    f
}

/// The position of a value in one side's file: exact where the format keeps positions,
/// else found by walking the path's keys down the text.
fn side_location(src: &Source, o: &Object, at: &[RawSeg], path: &Path) -> Option<Location> {
    if let Some((p, file)) = o.pos.as_ref().and_then(|p| p.find_in_file(at)) {
        return Some(Location {
            file: file.map_or_else(|| src.rel.clone(), |f| f.to_string()),
            line: p.line,
            column: Some(p.column),
        });
    }
    let line = locate(src.text.as_deref()?, &o.display, path)?;
    Some(Location {
        file: src.rel.clone(),
        line,
        column: None,
    })
}

/// States every rule: used, held (must_equal whose paths exist and agree), unused, expired.
fn rule_uses(
    rules: &RuleSet,
    classifier: &Classifier<'_>,
    trees: &[(Vec<String>, String, Node)],
) -> Vec<RuleUse> {
    rules
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = classifier.matched.get(i).copied().unwrap_or(0);
            let (rejected, rejected_count) =
                classifier.rejected.get(i).cloned().unwrap_or_default();
            let shadowed = classifier.shadowed.get(i).copied().unwrap_or(0);
            let state = if r.expired {
                RuleState::Expired
            } else if n > 0 {
                RuleState::Used
            } else if rejected_count > 0 {
                RuleState::Rejected
            } else if shadowed > 0 {
                RuleState::Shadowed
            } else if matches!(r.action, Action::MustEqual)
                && trees.iter().any(|(files, object, node)| {
                    let files: Vec<&str> = files.iter().map(String::as_str).collect();
                    r.covers(&files, object)
                        && any_path(node, &mut Path::default(), &|p: &str| r.matches_path(p))
                })
            {
                RuleState::Held
            } else {
                RuleState::Unused
            };
            RuleUse {
                index: r.index,
                kind: r.kind.into(),
                description: r.describe(),
                reason: r.reason.clone(),
                owner: r.owner.clone(),
                expires: r.expires.map(|d| d.to_string()),
                state,
                matched: n,
                rejected,
                rejected_count,
                shadowed,
            }
        })
        .collect()
}
