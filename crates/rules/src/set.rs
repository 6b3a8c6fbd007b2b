//! The rules of one file, in file order, and the questions a comparison asks of them all:
//! which rules are active at a place, which one accepts a difference, which lapsed ones would
//! have, and what a text becomes under the rename rules.
use crate::date::Date;
use crate::error::RuleError;
use crate::rule::{Action, Rule};
use crate::spec::RuleSpec;
use crate::value::Value;

/// Validated rules in file order (rule `n` is at position `n - 1`).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// Validates every rule, numbering them from 1 in order; the error names the first bad
    /// field (`rule[3].factor`). `today` decides which rules have expired.
    pub fn from_specs(
        specs: impl IntoIterator<Item = RuleSpec>,
        today: Date,
    ) -> Result<Rules, RuleError> {
        let rules = specs
            .into_iter()
            .enumerate()
            .map(|(i, spec)| spec.validate(i + 1, today))
            .collect::<Result<_, _>>()?;
        Ok(Rules { rules })
    }

    /// Every rule, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Rule> {
        self.rules.iter()
    }

    /// The rule at 0-based position `i` (rule `i + 1` in reports).
    pub fn get(&self, i: usize) -> Option<&Rule> {
        self.rules.get(i)
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rules that have not expired and whose file and object selectors cover the place.
    pub fn active<'a>(
        &'a self,
        files: &'a [&'a str],
        object: &'a str,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules
            .iter()
            .filter(move |r| !r.expired && r.covers(files, object))
    }

    /// The first active rule at this place and path that accepts the difference (ignore,
    /// scale, map, pattern; not must_equal nor rename), with notes on relevant rules that did
    /// not.
    pub fn accepting<V: Value + ?Sized>(
        &self,
        files: &[&str],
        object: &str,
        path: &str,
        baseline: Option<&V>,
        candidate: Option<&V>,
        notes: &mut Vec<String>,
    ) -> Option<&Rule> {
        self.rules.iter().find(|r| {
            !r.expired
                && !matches!(r.action, Action::MustEqual | Action::Rename { .. })
                && r.covers(files, object)
                && r.matches_path(path)
                && r.accepts(baseline, candidate, notes)
        })
    }

    /// Every active accepting rule (ignore, scale, map, pattern) that covers this place and
    /// path, judged in file order: the first that accepts, the later ones that would also have
    /// accepted (shadowed by it), and the ones that did not, each with its reason. Reports use
    /// it to say, per rule, what it accepted, rejected and lost to an earlier rule.
    pub fn judge<V: Value + ?Sized>(
        &self,
        files: &[&str],
        object: &str,
        path: &str,
        baseline: Option<&V>,
        candidate: Option<&V>,
    ) -> Judgement {
        let mut out = Judgement::default();
        for r in self.rules.iter().filter(|r| {
            !r.expired
                && !matches!(r.action, Action::MustEqual | Action::Rename { .. })
                && r.covers(files, object)
                && r.matches_path(path)
        }) {
            let mut notes = Vec::new();
            if r.accepts(baseline, candidate, &mut notes) {
                match out.accepted {
                    None => out.accepted = Some(r.index),
                    Some(_) => out.shadowed.push(r.index),
                }
            } else {
                let why = match notes.pop() {
                    Some(n) => n,
                    None => format!(
                        "{} rule {} does not judge a value {}",
                        r.kind.name(),
                        r.index,
                        match (baseline.is_some(), candidate.is_some()) {
                            (true, false) => "only in the baseline",
                            (false, true) => "only in the candidate",
                            _ => "of this kind",
                        }
                    ),
                };
                out.rejected.push((r.index, why));
            }
        }
        out
    }

    /// Expired rules that cover the place and path and would accept the difference: waivers
    /// that lapsed, worth naming next to the finding they no longer cover.
    pub fn lapsed<'a, V: Value + ?Sized>(
        &'a self,
        files: &'a [&'a str],
        object: &'a str,
        path: &'a str,
        baseline: Option<&'a V>,
        candidate: Option<&'a V>,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules.iter().filter(move |r| {
            r.expired
                && r.covers(files, object)
                && r.matches_path(path)
                && r.accepts(baseline, candidate, &mut Vec::new())
        })
    }

    /// Applies the active rename rules that cover this place and path to `text`, in file order
    /// (renames compose: prod → staging in a host and eu-prod → eu-staging in a cluster name).
    /// Returns the renamed text and the numbers of the rules that changed it.
    pub fn rename(
        &self,
        text: &str,
        files: &[&str],
        object: &str,
        path: &str,
    ) -> (String, Vec<usize>) {
        let mut out = text.to_string();
        let mut used = Vec::new();
        for rule in &self.rules {
            if rule.expired {
                continue;
            }
            if let Action::Rename { from, to } = &rule.action
                && out.contains(from.as_str())
                && rule.covers(files, object)
                && rule.matches_path(path)
            {
                out = out.replace(from.as_str(), to);
                used.push(rule.index);
            }
        }
        (out, used)
    }
}

/// What the rules made of one difference (see [`Rules::judge`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// The first rule (1-based) that accepted it.
    pub accepted: Option<usize>,
    /// Later rules that would also have accepted it.
    pub shadowed: Vec<usize>,
    /// Rules that matched its place and path but did not accept it, with the reason.
    pub rejected: Vec<(usize, String)>,
}

impl<'a> IntoIterator for &'a Rules {
    type Item = &'a Rule;
    type IntoIter = std::slice::Iter<'a, Rule>;

    fn into_iter(self) -> Self::IntoIter {
        self.rules.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantity::{self, Quantity};

    /// A scalar for the tests: text, or a whole number.
    enum V {
        Text(&'static str),
        Int(i128),
    }

    impl Value for V {
        fn scalar_text(&self) -> Option<String> {
            Some(match self {
                V::Text(t) => t.to_string(),
                V::Int(i) => i.to_string(),
            })
        }
        fn quantity(&self) -> Option<Quantity> {
            match self {
                V::Text(t) => quantity::parse_text(t),
                V::Int(i) => Some(Quantity::integer(*i)),
            }
        }
        fn leaf_texts(&self) -> Vec<String> {
            self.scalar_text().into_iter().collect()
        }
        fn render_short(&self, _max: usize) -> String {
            match self {
                V::Text(t) => format!("{t:?}"),
                V::Int(i) => i.to_string(),
            }
        }
    }

    fn spec(kind: crate::RuleKind, path: &str) -> RuleSpec {
        RuleSpec {
            kind: Some(kind),
            path: Some(path.into()),
            reason: Some("r".into()),
            ..RuleSpec::default()
        }
    }

    fn today() -> Date {
        Date::parse("2026-06-01").unwrap()
    }

    #[test]
    fn scale_rules_understand_units_and_round_counts() {
        use crate::RuleKind::Scale;
        let rules = Rules::from_specs(
            [RuleSpec {
                factor: Some(0.5),
                tolerance: Some(0.1),
                ..spec(Scale, "*")
            }],
            today(),
        )
        .unwrap();
        let mut notes = Vec::new();
        let ok = |b: V, c: V, notes: &mut Vec<String>| {
            rules
                .accepting(&["f"], "", "x", Some(&b), Some(&c), notes)
                .is_some()
        };
        assert!(ok(V::Text("1Gi"), V::Text("512Mi"), &mut notes));
        // 4 × 0.5 = 2, ±10% rounds out to 2..=3.
        assert!(ok(V::Int(4), V::Int(3), &mut notes));
        assert!(!ok(V::Int(4), V::Int(4), &mut notes));
        assert!(!ok(V::Text("1"), V::Text("600m"), &mut notes));
        assert!(
            notes
                .last()
                .unwrap()
                .starts_with("scale rule 1 expects 0.5 ±10% (\"1\" × 0.5), found \"600m\""),
            "{notes:?}"
        );
        assert!(!ok(V::Text("1Gi"), V::Text("1s"), &mut notes));
        assert!(notes.last().unwrap().contains("different units"));
        assert!(!ok(V::Text("big"), V::Text("small"), &mut notes));
        assert!(notes.last().unwrap().contains("not a number"));
    }

    #[test]
    fn map_pattern_must_equal_and_expiry() {
        use crate::RuleKind::{Ignore, Map, MustEqual, Pattern};
        let rules = Rules::from_specs(
            [
                spec(MustEqual, "image"),
                RuleSpec {
                    values: Some([("a".to_string(), "b".to_string())].into()),
                    ..spec(Map, "size")
                },
                RuleSpec {
                    regex: Some("^stg-".into()),
                    ..spec(Pattern, "host")
                },
                RuleSpec {
                    expires: Some(crate::ExpiryText("2026-01-01".into())),
                    ..spec(Ignore, "**")
                },
            ],
            today(),
        )
        .unwrap();
        let mut notes = Vec::new();
        let at = |path: &str, b: V, c: V, notes: &mut Vec<String>| {
            rules
                .accepting(&["f"], "", path, Some(&b), Some(&c), notes)
                .map(|r| r.index)
        };
        assert_eq!(at("image", V::Text("a"), V::Text("b"), &mut notes), None);
        assert_eq!(at("size", V::Text("a"), V::Text("b"), &mut notes), Some(2));
        assert_eq!(at("size", V::Text("a"), V::Text("c"), &mut notes), None);
        assert_eq!(notes.last().unwrap(), "map rule 2 allows a → b, found c");
        assert_eq!(
            at("host", V::Text("p"), V::Text("stg-1"), &mut notes),
            Some(3)
        );
        assert_eq!(at("host", V::Text("p"), V::Text("prd-1"), &mut notes), None);
        // The expired ignore accepts nothing, but is named as the waiver that lapsed.
        let (b, c) = (V::Text("x"), V::Text("y"));
        let lapsed: Vec<usize> = rules
            .lapsed(&["f"], "", "other", Some(&b), Some(&c))
            .map(|r| r.index)
            .collect();
        assert_eq!(lapsed, vec![4]);
        assert_eq!(rules.active(&["f"], "").count(), 3);
    }

    #[test]
    fn renames_compose_in_file_order_where_they_apply() {
        use crate::RuleKind::Rename;
        let rename = |from: &str, to: &str, object: Option<&str>| RuleSpec {
            kind: Some(Rename),
            from: Some(from.into()),
            to: Some(to.into()),
            object: object.map(str::to_string),
            reason: Some("r".into()),
            ..RuleSpec::default()
        };
        let rules = Rules::from_specs(
            [
                rename("prod", "staging", None),
                rename("eu-", "us-", Some("Deployment/*")),
            ],
            today(),
        )
        .unwrap();
        assert_eq!(
            rules.rename("eu-prod-db", &["f"], "Deployment/shop/web", "host"),
            ("us-staging-db".to_string(), vec![1, 2])
        );
        assert_eq!(
            rules.rename("eu-prod-db", &["f"], "Service/shop/web", "host"),
            ("eu-staging-db".to_string(), vec![1])
        );
    }
}
