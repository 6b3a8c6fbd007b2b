//! The order the planner (and synth) visit tables in: parents first, by the foreign-key
//! graph's strongly connected components; inside a cycle, the table the others depend on most
//! comes first, so that as few references as possible point to tables not planned yet.

use std::collections::HashSet;

use crate::schema::Schema;

/// Parents first; inside a cycle, the table the others depend on most comes first.
pub fn plan_order(schema: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for comp in schema.fk_components() {
        if comp.len() == 1 {
            out.extend(comp);
            continue;
        }
        let inside: HashSet<&String> = comp.iter().collect();
        let mut rest: Vec<String> = comp.clone();
        rest.sort();
        rest.sort_by(|a, b| {
            cycle_head_score(schema, &inside, b)
                .cmp(&cycle_head_score(schema, &inside, a))
                .then(a.cmp(b))
        });
        out.extend(rest);
    }
    out
}

/// How strongly `table` heads its cycle (the tables `inside`): the non-nullable references to
/// it from inside the cycle, then the references from outside it.
fn cycle_head_score(schema: &Schema, inside: &HashSet<&String>, table: &String) -> (usize, usize) {
    let mut into = 0;
    let mut outside = 0;
    for (c, fk) in schema.children_of(table) {
        if c.name == *table {
            continue;
        }
        if inside.contains(&c.name) {
            if !c.fk_nullable(fk) {
                into += 1;
            }
        } else {
            outside += 1;
        }
    }
    (into, outside)
}
