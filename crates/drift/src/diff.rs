//! Structural diff of two trees: changed, added, removed, type changed, order changed, hard-coded
//! (a literal against an expression).
//! Map keys and list items are paired first (by name, by identity key, by rename rule), then
//! compared; rules decide afterwards which differences are intended (see `classify`).
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::path::{Path, Seg};
use crate::position::RawSeg;
use crate::report::Change;
use crate::rules::RuleSet;
use crate::tree::Node;

/// A difference before rules are applied.
#[derive(Debug, Clone)]
pub struct RawDiff {
    pub path: Path,
    pub change: Change,
    pub baseline: Option<Node>,
    pub candidate: Option<Node>,
    /// For [`Change::Renamed`]: the rename rules that paired the two names.
    pub renamed_by: Vec<usize>,
    /// Where the value sits in the baseline document, as keys and indices (absent when added).
    pub baseline_at: Option<Vec<RawSeg>>,
    /// Where it sits in the candidate document (absent when removed).
    pub candidate_at: Option<Vec<RawSeg>>,
}

impl RawDiff {
    /// A difference of a whole file or object (no position inside it).
    pub fn whole(change: Change, baseline: Option<Node>, candidate: Option<Node>) -> RawDiff {
        RawDiff {
            path: Path::default(),
            change,
            baseline_at: baseline.as_ref().map(|_| Vec::new()),
            candidate_at: candidate.as_ref().map(|_| Vec::new()),
            baseline,
            candidate,
            renamed_by: Vec::new(),
        }
    }
}

/// Where a diff happens, for rename rules scoped to a file or object.
pub struct Differ<'a> {
    pub rules: &'a RuleSet,
    pub files: &'a [&'a str],
    pub object: &'a str,
    pub out: Vec<RawDiff>,
    /// The positional path of the baseline value being compared.
    b_at: Vec<RawSeg>,
    /// The positional path of the candidate value being compared.
    c_at: Vec<RawSeg>,
}

impl<'a> Differ<'a> {
    pub fn new(rules: &'a RuleSet, files: &'a [&'a str], object: &'a str) -> Self {
        Differ {
            rules,
            files,
            object,
            out: Vec::new(),
            b_at: Vec::new(),
            c_at: Vec::new(),
        }
    }

    fn emit(&mut self, path: &Path, change: Change, b: Option<&Node>, c: Option<&Node>) {
        self.out.push(RawDiff {
            path: path.clone(),
            change,
            baseline: b.cloned(),
            candidate: c.cloned(),
            renamed_by: Vec::new(),
            baseline_at: b.map(|_| self.b_at.clone()),
            candidate_at: c.map(|_| self.c_at.clone()),
        });
    }

    /// Emits with the positions one step further down on either side (`None`: that side
    /// stays where it is).
    fn emit_at(
        &mut self,
        path: &Path,
        change: Change,
        (b, b_seg): (Option<&Node>, Option<RawSeg>),
        (c, c_seg): (Option<&Node>, Option<RawSeg>),
    ) {
        let (nb, nc) = (b_seg.is_some(), c_seg.is_some());
        self.b_at.extend(b_seg);
        self.c_at.extend(c_seg);
        self.emit(path, change, b, c);
        if nb {
            self.b_at.pop();
        }
        if nc {
            self.c_at.pop();
        }
    }

    fn emit_rename(&mut self, path: &Path, from: &str, to: &str, rules: Vec<usize>) {
        self.out.push(RawDiff {
            path: path.clone(),
            change: Change::Renamed,
            baseline: Some(Node::String(from.to_string())),
            candidate: Some(Node::String(to.to_string())),
            renamed_by: rules,
            baseline_at: Some(self.b_at.clone()),
            candidate_at: Some(self.c_at.clone()),
        });
    }

    /// Compares `b` and `c` one step down: `b_seg` and `c_seg` are their places in the files.
    fn diff_at(
        &mut self,
        path: &mut Path,
        (b, b_seg): (&Node, RawSeg),
        (c, c_seg): (&Node, RawSeg),
    ) {
        self.b_at.push(b_seg);
        self.c_at.push(c_seg);
        self.diff(path, b, c);
        self.b_at.pop();
        self.c_at.pop();
    }

    fn rename(&self, text: &str, path: &Path) -> (String, Vec<usize>) {
        self.rules
            .rules
            .rename(text, self.files, self.object, &path.to_string())
    }

    /// Compares two values at `path`.
    pub fn diff(&mut self, path: &mut Path, b: &Node, c: &Node) {
        if b.same(c) {
            return;
        }
        // A literal against an expression (`45` against `var.connection_timeout`) is its own
        // kind: one side stopped following what the other computes or shares.
        if b.is_expr() != c.is_expr() {
            self.emit(path, Change::HardCoded, Some(b), Some(c));
            return;
        }
        match (b, c) {
            (Node::Map(bm), Node::Map(cm)) => self.diff_maps(path, bm, cm),
            (Node::List(bl), Node::List(cl)) => self.diff_lists(path, bl, cl),
            _ if b.kind() != c.kind() => self.emit(path, Change::TypeChanged, Some(b), Some(c)),
            _ => self.emit(path, Change::Changed, Some(b), Some(c)),
        }
    }

    fn diff_maps(
        &mut self,
        path: &mut Path,
        bm: &BTreeMap<String, Node>,
        cm: &BTreeMap<String, Node>,
    ) {
        let mut consumed: HashSet<&str> = HashSet::new();
        for (k, bv) in bm {
            if let Some(cv) = cm.get(k) {
                consumed.insert(k);
                path.push(Seg::Key(k.clone()));
                self.diff_at(
                    path,
                    (bv, RawSeg::Key(k.clone())),
                    (cv, RawSeg::Key(k.clone())),
                );
                path.pop();
                continue;
            }
            path.push(Seg::Key(k.clone()));
            let (renamed, by) = self.rename(k, path);
            path.pop();
            if !by.is_empty() && !bm.contains_key(&renamed) {
                if let Some((ck, cv)) = cm.get_key_value(&renamed) {
                    if consumed.insert(ck.as_str()) {
                        path.push(Seg::Key(ck.clone()));
                        self.b_at.push(RawSeg::Key(k.clone()));
                        self.c_at.push(RawSeg::Key(ck.clone()));
                        self.emit_rename(path, k, ck, by);
                        self.b_at.pop();
                        self.c_at.pop();
                        self.diff_at(
                            path,
                            (bv, RawSeg::Key(k.clone())),
                            (cv, RawSeg::Key(ck.clone())),
                        );
                        path.pop();
                        continue;
                    }
                }
            }
            path.push(Seg::Key(k.clone()));
            self.emit_at(
                path,
                Change::Removed,
                (Some(bv), Some(RawSeg::Key(k.clone()))),
                (None, None),
            );
            path.pop();
        }
        for (k, cv) in cm {
            if !bm.contains_key(k) && !consumed.contains(k.as_str()) {
                path.push(Seg::Key(k.clone()));
                self.emit_at(
                    path,
                    Change::Added,
                    (None, None),
                    (Some(cv), Some(RawSeg::Key(k.clone()))),
                );
                path.pop();
            }
        }
    }

    fn diff_lists(&mut self, path: &mut Path, bl: &[Node], cl: &[Node]) {
        let ordered = self.rules.is_ordered(&path.to_string());
        let all_maps = bl.iter().chain(cl).all(|n| matches!(n, Node::Map(_)));
        if all_maps && !(bl.is_empty() && cl.is_empty()) {
            if let Some(key) = identity_key(&self.rules.identity_keys, bl, cl) {
                self.diff_by_identity(path, &key, bl, cl, ordered);
                return;
            }
        }
        let all_scalars = bl.iter().chain(cl).all(Node::is_scalar);
        if ordered || !all_scalars {
            self.diff_by_position(path, bl, cl);
        } else {
            self.diff_as_multiset(path, bl, cl);
        }
    }

    fn diff_by_position(&mut self, path: &mut Path, bl: &[Node], cl: &[Node]) {
        for i in 0..bl.len().max(cl.len()) {
            path.push(Seg::Index(i));
            let at = || Some(RawSeg::Index(i));
            match (bl.get(i), cl.get(i)) {
                (Some(b), Some(c)) => {
                    self.diff_at(path, (b, RawSeg::Index(i)), (c, RawSeg::Index(i)));
                }
                (Some(b), None) => {
                    self.emit_at(path, Change::Removed, (Some(b), at()), (None, None));
                }
                (None, Some(c)) => {
                    self.emit_at(path, Change::Added, (None, None), (Some(c), at()));
                }
                (None, None) => {}
            }
            path.pop();
        }
    }

    /// Lists of scalars whose order means nothing (hosts, ports, zones): items are matched by
    /// value; what is left over is reported as removed or added items.
    fn diff_as_multiset(&mut self, path: &mut Path, bl: &[Node], cl: &[Node]) {
        let mut used = vec![false; cl.len()];
        let mut left_b = Vec::new();
        for (i, b) in bl.iter().enumerate() {
            match (0..cl.len()).find(|&j| !used[j] && cl[j].same(b)) {
                Some(j) => used[j] = true,
                None => left_b.push(i),
            }
        }
        let mut left_c: Vec<usize> = (0..cl.len()).filter(|&j| !used[j]).collect();
        let mut unpaired_b = Vec::new();
        for i in left_b {
            // A leftover pair that a rename explains is one changed item.
            let renamed = bl[i].as_str().map(|s| self.rename(s, path));
            let pair = renamed.as_ref().and_then(|(r, by)| {
                if by.is_empty() {
                    return None;
                }
                left_c
                    .iter()
                    .position(|&j| cl[j].as_str() == Some(r.as_str()))
            });
            match pair {
                Some(k) => {
                    let j = left_c.remove(k);
                    self.emit_item(path, Change::Changed, Some((bl, i)), Some((cl, j)));
                }
                None => unpaired_b.push(i),
            }
        }
        if unpaired_b.len() == left_c.len() {
            // As many items went as came (`hosts: [shop.example.com]` against
            // `[shop.staging.example.com]`): report them as changed values, in order, so map,
            // pattern and scale rules can judge them.
            for (i, j) in unpaired_b.into_iter().zip(left_c) {
                self.emit_item(path, Change::Changed, Some((bl, i)), Some((cl, j)));
            }
            return;
        }
        for i in unpaired_b {
            self.emit_item(path, Change::Removed, Some((bl, i)), None);
        }
        for j in left_c {
            self.emit_item(path, Change::Added, None, Some((cl, j)));
        }
    }

    /// Emits a difference of list items `b.1` and `c.1`, reported at the list's path.
    fn emit_item(
        &mut self,
        path: &Path,
        change: Change,
        b: Option<(&[Node], usize)>,
        c: Option<(&[Node], usize)>,
    ) {
        self.emit_at(path, change, item_side(b), item_side(c));
    }

    fn diff_by_identity(
        &mut self,
        path: &mut Path,
        key: &str,
        bl: &[Node],
        cl: &[Node],
        ordered: bool,
    ) {
        let id = |n: &Node| {
            lookup(n, key)
                .and_then(Node::scalar_text)
                .unwrap_or_default()
        };
        let c_index: HashMap<String, usize> =
            cl.iter().enumerate().map(|(i, n)| (id(n), i)).collect();
        let b_ids: HashSet<String> = bl.iter().map(id).collect();
        let mut paired = vec![false; cl.len()];
        let mut b_order = Vec::new();
        for (i, b) in bl.iter().enumerate() {
            let bid = id(b);
            let item = |v: &str| Seg::Item {
                key: key.to_string(),
                value: v.to_string(),
            };
            if let Some(&j) = c_index.get(&bid) {
                paired[j] = true;
                b_order.push(j);
                path.push(item(&bid));
                self.diff_at(path, (b, RawSeg::Index(i)), (&cl[j], RawSeg::Index(j)));
                path.pop();
                continue;
            }
            path.push(item(&bid));
            let (renamed, by) = self.rename(&bid, path);
            path.pop();
            if !by.is_empty() && !b_ids.contains(&renamed) {
                if let Some(&j) = c_index.get(&renamed) {
                    if !paired[j] {
                        paired[j] = true;
                        b_order.push(j);
                        path.push(item(&renamed));
                        self.b_at.push(RawSeg::Index(i));
                        self.c_at.push(RawSeg::Index(j));
                        self.emit_rename(path, &bid, &renamed, by);
                        self.b_at.pop();
                        self.c_at.pop();
                        self.diff_at(path, (b, RawSeg::Index(i)), (&cl[j], RawSeg::Index(j)));
                        path.pop();
                        continue;
                    }
                }
            }
            path.push(item(&bid));
            self.emit_item(path, Change::Removed, Some((bl, i)), None);
            path.pop();
        }
        for (j, c) in cl.iter().enumerate() {
            if !paired[j] {
                path.push(Seg::Item {
                    key: key.to_string(),
                    value: id(c),
                });
                self.emit_item(path, Change::Added, None, Some((cl, j)));
                path.pop();
            }
        }
        if ordered && b_order.windows(2).any(|w| w[0] > w[1]) {
            let names = |l: &[Node]| Node::List(l.iter().map(|n| Node::String(id(n))).collect());
            self.emit(
                path,
                Change::OrderChanged,
                Some(&names(bl)),
                Some(&names(cl)),
            );
        }
    }
}

/// One side of a list item difference: the item and its index.
fn item_side(s: Option<(&[Node], usize)>) -> (Option<&Node>, Option<RawSeg>) {
    match s {
        Some((l, i)) => (l.get(i), Some(RawSeg::Index(i))),
        None => (None, None),
    }
}

/// Looks up an identity key, which may be a dotted path (`metadata.name`).
fn lookup<'n>(item: &'n Node, key: &str) -> Option<&'n Node> {
    if let Some(v) = item.get(key) {
        return Some(v);
    }
    key.split('.').try_fold(item, |n, part| n.get(part))
}

/// The first identity key present, scalar and unique in every item of both lists.
fn identity_key(keys: &[String], bl: &[Node], cl: &[Node]) -> Option<String> {
    keys.iter()
        .find(|key| {
            [bl, cl].iter().all(|list| {
                let mut seen = HashSet::new();
                list.iter().all(|item| match lookup(item, key) {
                    Some(v @ (Node::String(_) | Node::Int(_) | Node::Bool(_) | Node::Float(_))) => {
                        seen.insert(v.scalar_text().unwrap_or_default())
                    }
                    _ => false,
                })
            })
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Node {
        serde_saphyr::from_str(s).unwrap()
    }

    fn run(rules: &RuleSet, b: &str, c: &str) -> Vec<(String, Change)> {
        let files = ["f.yaml"];
        let mut d = Differ::new(rules, &files, "");
        d.diff(&mut Path::default(), &yaml(b), &yaml(c));
        d.out
            .into_iter()
            .map(|r| (r.path.to_string(), r.change))
            .collect()
    }

    #[test]
    fn lists_of_objects_match_by_identity_not_index() {
        let rules = RuleSet::default();
        let found = run(
            &rules,
            "containers:\n- name: web\n  image: web:1\n- name: sidecar\n  image: envoy:1\n",
            "containers:\n- name: sidecar\n  image: envoy:1\n- name: web\n  image: web:2\n",
        );
        assert_eq!(
            found,
            vec![("containers[name=web].image".to_string(), Change::Changed)]
        );
        let found = run(
            &rules,
            "ports:\n- containerPort: 80\n  protocol: TCP\n",
            "ports:\n- containerPort: 8080\n  protocol: TCP\n",
        );
        assert_eq!(
            found,
            vec![
                ("ports[containerPort=80]".to_string(), Change::Removed),
                ("ports[containerPort=8080]".to_string(), Change::Added)
            ]
        );
    }

    #[test]
    fn scalar_lists_ignore_order_unless_ordered() {
        let rules = RuleSet::default();
        assert!(run(&rules, "hosts: [a, b, c]\n", "hosts: [c, a, b]\n").is_empty());
        assert_eq!(
            run(&rules, "hosts: [a, b]\n", "hosts: [a, d]\n"),
            vec![("hosts".to_string(), Change::Changed)]
        );
        assert_eq!(
            run(&rules, "hosts: [a, b]\n", "hosts: [a]\n"),
            vec![("hosts".to_string(), Change::Removed)]
        );
        assert_eq!(
            run(&rules, "args: [--a, --b]\n", "args: [--b, --a]\n"),
            vec![
                ("args[0]".to_string(), Change::Changed),
                ("args[1]".to_string(), Change::Changed)
            ]
        );
        let found = run(
            &rules,
            "initContainers:\n- name: migrate\n- name: warm\n",
            "initContainers:\n- name: warm\n- name: migrate\n",
        );
        assert_eq!(
            found,
            vec![("initContainers".to_string(), Change::OrderChanged)]
        );
        let found = run(
            &rules,
            "volumeClaimTemplates:\n- metadata: {name: data}\n  size: 2\n- metadata: {name: wal}\n  size: 1\n",
            "volumeClaimTemplates:\n- metadata: {name: wal}\n  size: 1\n- metadata: {name: data}\n  size: 1\n",
        );
        assert_eq!(
            found,
            vec![(
                "volumeClaimTemplates[metadata.name=data].size".to_string(),
                Change::Changed
            )]
        );
    }

    #[test]
    fn types_and_keys() {
        let rules = RuleSet::default();
        assert_eq!(
            run(&rules, "port: \"8080\"\nold: 1\n", "port: 8080\nnew: 1\n"),
            vec![
                ("old".to_string(), Change::Removed),
                ("port".to_string(), Change::TypeChanged),
                ("new".to_string(), Change::Added)
            ]
        );
    }

    #[test]
    fn renames_pair_keys_and_identities() {
        let rules = RuleSet::parse(
            "[[rule]]\nkind = \"rename\"\nfrom = \"prod\"\nto = \"staging\"\nreason = \"env name\"\n",
            crate::date::Date::today(),
        )
        .unwrap();
        let found = run(
            &rules,
            "databases:\n  prod-main: {size: 10}\nclusters:\n- name: prod-eu\n  nodes: 3\n",
            "databases:\n  staging-main: {size: 10}\nclusters:\n- name: staging-eu\n  nodes: 2\n",
        );
        assert_eq!(
            found,
            vec![
                ("clusters[name=staging-eu]".to_string(), Change::Renamed),
                (
                    "clusters[name=staging-eu].name".to_string(),
                    Change::Changed
                ),
                (
                    "clusters[name=staging-eu].nodes".to_string(),
                    Change::Changed
                ),
                ("databases.staging-main".to_string(), Change::Renamed),
            ]
        );
    }
}
