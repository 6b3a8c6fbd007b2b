//! A query plan as `EXPLAIN (FORMAT JSON)` prints it, reduced to what decides its shape: each
//! node's type, join type, relation, index, whether it runs in parallel, and its estimates.
//! Nodes are walked in pre-order, so "the first differing node" is well defined.
use serde_json::Value;

/// One plan node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `Seq Scan`, `Index Scan`, `Hash Join`, `Nested Loop`, `Sort`, …
    pub node_type: String,
    /// `Inner`, `Left`, `Semi`, … for joins.
    pub join_type: Option<String>,
    /// The table or view scanned.
    pub relation: Option<String>,
    /// Its schema.
    pub schema: Option<String>,
    /// The index used.
    pub index: Option<String>,
    /// `Sorted`, `Hashed`, `Plain` for aggregates.
    pub strategy: Option<String>,
    pub parallel: bool,
    /// Depth below the root (0).
    pub depth: usize,
    /// The planner's estimates.
    pub rows: f64,
    pub total_cost: f64,
}

impl Node {
    /// The part of the node that makes the plan's shape, for comparison and messages:
    /// `Index Scan using orders_user_idx on orders`, `Hash Join (Inner)`, `Parallel Seq Scan on
    /// events`.
    pub fn shape(&self) -> String {
        let mut s = String::new();
        if self.parallel {
            s.push_str("Parallel ");
        }
        s.push_str(&self.node_type);
        if let Some(j) = &self.join_type {
            s.push_str(&format!(" ({j})"));
        }
        if let Some(st) = &self.strategy {
            s.push_str(&format!(" [{st}]"));
        }
        if let Some(i) = &self.index {
            s.push_str(&format!(" using {i}"));
        }
        if let Some(r) = &self.relation {
            s.push_str(&format!(" on {r}"));
        }
        s
    }
}

/// Plans nest by join and subquery; 200 levels is far beyond a real one, and keeps the walk's
/// recursion well inside a thread's stack.
const MAX_DEPTH: usize = 200;

/// Why a document is not a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an EXPLAIN (FORMAT JSON) document: {0}")]
pub struct NotAPlan(pub &'static str);

/// The nodes of `[{"Plan": {...}}]`, in pre-order.
pub fn nodes(doc: &Value) -> Result<Vec<Node>, NotAPlan> {
    let root = doc
        .as_array()
        .and_then(|a| a.first())
        .and_then(|o| o.get("Plan"))
        .ok_or(NotAPlan("no Plan at its top"))?;
    let mut out = Vec::new();
    walk(root, 0, &mut out)?;
    Ok(out)
}

fn walk(plan: &Value, depth: usize, out: &mut Vec<Node>) -> Result<(), NotAPlan> {
    // Deeper than any planner builds: a document made to exhaust the stack.
    if depth > MAX_DEPTH {
        return Err(NotAPlan("nested deeper than 200 nodes"));
    }
    let text = |k: &str| plan.get(k).and_then(Value::as_str).map(str::to_string);
    let num = |k: &str| plan.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let node_type = text("Node Type").ok_or(NotAPlan("a node without a Node Type"))?;
    out.push(Node {
        node_type,
        join_type: text("Join Type"),
        relation: text("Relation Name"),
        schema: text("Schema"),
        index: text("Index Name"),
        strategy: text("Strategy"),
        parallel: plan
            .get("Parallel Aware")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        depth,
        rows: num("Plan Rows"),
        total_cost: num("Total Cost"),
    });
    if let Some(children) = plan.get("Plans").and_then(Value::as_array) {
        for c in children {
            walk(c, depth + 1, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_join_reads_in_pre_order() {
        let doc = json!([{"Plan": {
            "Node Type": "Hash Join", "Join Type": "Inner", "Plan Rows": 100.0, "Total Cost": 50.5,
            "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public", "Plan Rows": 1000.0, "Total Cost": 20.0, "Parallel Aware": true},
                {"Node Type": "Hash", "Plan Rows": 10.0, "Total Cost": 5.0, "Plans": [
                    {"Node Type": "Index Scan", "Index Name": "users_pkey", "Relation Name": "users", "Plan Rows": 10.0, "Total Cost": 4.0}
                ]}
            ]
        }}]);
        let n = nodes(&doc).unwrap();
        let shapes: Vec<String> = n.iter().map(Node::shape).collect();
        assert_eq!(
            shapes,
            [
                "Hash Join (Inner)",
                "Parallel Seq Scan on orders",
                "Hash",
                "Index Scan using users_pkey on users"
            ]
        );
        assert_eq!(n[3].depth, 2);
        assert_eq!(n[1].rows, 1000.0);
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(nodes(&json!({"Plan": {}})).is_err());
        assert!(nodes(&json!([{"Plan": {"Plans": []}}])).is_err());
        let mut deep = json!({"Node Type": "Result"});
        for _ in 0..300 {
            deep = json!({"Node Type": "Result", "Plans": [deep]});
        }
        assert!(nodes(&json!([{"Plan": deep}])).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let _ = nodes(&v);
            }
        }
    }
}
