//! Two plans of one query judged: the same plan, the same shape with its estimates scaled, a
//! different plan (and the first node where they part), from the nodes of tree.rs.
use super::tree::Node;

/// How far apart estimates may be and still be "the same": a factor of 2 either way, the
/// planner's own noise on a sample (`ANALYZE` reads 300 × statistics_target rows).
pub const SAME_ROWS_FACTOR: f64 = 2.0;

/// A verdict on two plans of the same shape or not.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Same shape, estimates within a factor of 2 at every node.
    SamePlan,
    /// Same shape; estimates apart, each node's ratio over the volume ratio in `ratios`.
    SameShapeScaled { ratios: Vec<f64> },
    /// The shapes part at pre-order node `node`.
    Different {
        node: usize,
        production: Option<String>,
        staging: Option<String>,
    },
}

/// Judges staging's plan against production's; `volume` is staging's size over production's.
pub fn judge(production: &[Node], staging: &[Node], volume: f64) -> Verdict {
    let n = production.len().max(staging.len());
    for i in 0..n {
        let (p, s) = (production.get(i), staging.get(i));
        let same = match (p, s) {
            (Some(p), Some(s)) => p.shape() == s.shape() && p.depth == s.depth,
            _ => false,
        };
        if !same {
            return Verdict::Different {
                node: i,
                production: p.map(indented),
                staging: s.map(indented),
            };
        }
    }
    // Rows +1 on both sides: a node estimated at 0 rows and one at 1 are the same estimate.
    let raw: Vec<f64> = production
        .iter()
        .zip(staging)
        .map(|(p, s)| (s.rows + 1.0) / (p.rows + 1.0))
        .collect();
    let within = |r: f64| (1.0 / SAME_ROWS_FACTOR..=SAME_ROWS_FACTOR).contains(&r);
    if raw.iter().all(|r| within(*r)) {
        return Verdict::SamePlan;
    }
    let volume = if volume > 0.0 && volume.is_finite() {
        volume
    } else {
        1.0
    };
    Verdict::SameShapeScaled {
        ratios: raw.iter().map(|r| r / volume).collect(),
    }
}

/// A node as a plan listing shows it: indented two spaces per level.
pub fn indented(n: &Node) -> String {
    format!("{}{}", "  ".repeat(n.depth), n.shape())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn node(t: &str, rel: Option<&str>, depth: usize, rows: f64) -> Node {
        Node {
            node_type: t.into(),
            join_type: None,
            relation: rel.map(Into::into),
            schema: None,
            index: None,
            strategy: None,
            parallel: false,
            depth,
            rows,
            total_cost: 1.0,
        }
    }

    #[test]
    fn shapes_and_estimates_decide() {
        let p = vec![
            node("Hash Join", None, 0, 1000.0),
            node("Seq Scan", Some("orders"), 1, 10_000.0),
        ];
        let close = vec![
            node("Hash Join", None, 0, 900.0),
            node("Seq Scan", Some("orders"), 1, 12_000.0),
        ];
        assert_eq!(judge(&p, &close, 1.0), Verdict::SamePlan);
        let tenth = vec![
            node("Hash Join", None, 0, 100.0),
            node("Seq Scan", Some("orders"), 1, 1000.0),
        ];
        let Verdict::SameShapeScaled { ratios } = judge(&p, &tenth, 0.1) else {
            panic!()
        };
        assert!(ratios.iter().all(|r| (r - 1.0).abs() < 0.02), "{ratios:?}");
        let other = vec![
            node("Nested Loop", None, 0, 10.0),
            node("Seq Scan", Some("orders"), 1, 10.0),
        ];
        assert_eq!(
            judge(&p, &other, 0.1),
            Verdict::Different {
                node: 0,
                production: Some("Hash Join".into()),
                staging: Some("Nested Loop".into())
            }
        );
        // A plan with one node fewer parts where the shorter one ends.
        assert!(matches!(
            judge(&p, &p[..1], 1.0),
            Verdict::Different {
                node: 1,
                staging: None,
                ..
            }
        ));
    }

    proptest! {
        /// A plan is the same plan as itself, whatever its estimates.
        #[test]
        fn a_plan_is_its_own(rows in prop::collection::vec(0.0f64..1e9, 1..10)) {
            let p: Vec<Node> = rows.iter().enumerate().map(|(i, r)| node("Seq Scan", Some("t"), i, *r)).collect();
            prop_assert_eq!(judge(&p, &p, 1.0), Verdict::SamePlan);
        }
    }
}
