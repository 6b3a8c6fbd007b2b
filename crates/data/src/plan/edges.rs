//! Which foreign keys a plan keeps whole per parent: along those, every kept parent row keeps
//! all its children, so the target's fan-out (children per parent, share of parents without
//! children) is the source's up to sampling noise, and `verify` compares them. Input: the
//! schema and the modes of step 1 (`modes.rs`); output: per foreign key, kept whole or why not.
//!
//! A key keeps its fan-out when both tables are whole, or when the child follows its parent on
//! that key and no parent row is kept for another reason. Parent rows pulled in for other kept
//! rows (`closure.rs`) bring none of their children, so a parent table that also receives
//! such rows (a track pulled in by an invoice line) is left out, and so is every key toward a
//! parent that is whole while its children are sampled (a lookup: each genre keeps a tenth of
//! its tracks at `--sample 0.1`, by design).

use std::collections::{BTreeMap, HashSet};

use super::Mode;
use crate::schema::{ForeignKey, Schema, Table};

/// How a plan treats the fan-out of one foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FanOutKept {
    /// Every kept parent keeps all its children: compared with the source.
    Whole,
    /// Why the fan-out is expected to differ (not compared).
    Diluted(String),
}

/// The fan-out expectation of every foreign key of `schema`, as `(child, key index)`.
pub fn fan_out_kept(
    schema: &Schema,
    modes: &BTreeMap<String, (Mode, bool)>,
) -> BTreeMap<(String, usize), FanOutKept> {
    let pulled = pulled_tables(schema, modes);
    let mut out = BTreeMap::new();
    for t in &schema.tables {
        for (i, fk) in t.foreign_keys.iter().enumerate() {
            let kept = expectation(t, fk, modes, &pulled);
            out.insert((t.name.clone(), i), kept);
        }
    }
    out
}

fn mode_of<'m>(modes: &'m BTreeMap<String, (Mode, bool)>, table: &str) -> &'m Mode {
    modes.get(table).map_or(&Mode::All, |(m, _)| m)
}

fn follows_on(mode: &Mode, fk: &ForeignKey) -> bool {
    matches!(mode, Mode::Follow { parent, columns } if *parent == fk.ref_table && *columns == fk.columns)
}

fn expectation(
    t: &Table,
    fk: &ForeignKey,
    modes: &BTreeMap<String, (Mode, bool)>,
    pulled: &HashSet<String>,
) -> FanOutKept {
    let child = mode_of(modes, &t.name);
    let parent = mode_of(modes, &fk.ref_table);
    let diluted = |why: String| FanOutKept::Diluted(why);
    match (child, parent) {
        (Mode::None, _) | (_, Mode::None) => {
            diluted("rows = \"none\": only rows needed as parents are kept".into())
        }
        (Mode::All, Mode::All) => FanOutKept::Whole,
        (_, Mode::All) => diluted(format!(
            "{} is copied whole (a lookup) while {} is a subset",
            fk.ref_table, t.name
        )),
        (Mode::All, _) => diluted(format!(
            "{} is whole, so {} keeps the parents of all its rows but only sampled childless ones",
            t.name, fk.ref_table
        )),
        _ if !follows_on(child, fk) => diluted(format!(
            "{} is not chosen by this key (it is sampled itself or follows another parent)",
            t.name
        )),
        _ if pulled.contains(&fk.ref_table) => diluted(format!(
            "{} also receives rows pulled in as parents of other kept rows, which bring none of their children",
            fk.ref_table
        )),
        _ => FanOutKept::Whole,
    }
}

/// Subset tables that receive parent rows beyond their sampled or followed ones: referenced on
/// a key their child does not follow, or followed by a table that itself receives such rows.
fn pulled_tables(schema: &Schema, modes: &BTreeMap<String, (Mode, bool)>) -> HashSet<String> {
    let subset = |name: &str| {
        matches!(
            mode_of(modes, name),
            Mode::Sample { .. } | Mode::Follow { .. }
        )
    };
    let mut pulled: HashSet<String> = HashSet::new();
    loop {
        let mut grew = false;
        for t in &schema.tables {
            let child = mode_of(modes, &t.name);
            if *child == Mode::None {
                continue;
            }
            for fk in &t.foreign_keys {
                if !subset(&fk.ref_table) || pulled.contains(&fk.ref_table) {
                    continue;
                }
                if !follows_on(child, fk) || pulled.contains(&t.name) {
                    pulled.insert(fk.ref_table.clone());
                    grew = true;
                }
            }
        }
        if !grew {
            return pulled;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::plan::{PlanOptions, modes};
    use crate::rules::Rules;
    use crate::schema::{Column, Kind, UniqueKey};

    /// A table `name` keyed by `id`, with one NOT NULL column per parent.
    fn table(name: &str, parents: &[&str]) -> Table {
        let col = |n: &str| Column {
            name: n.to_owned(),
            sql_type: "integer".into(),
            kind: Kind::Int,
            nullable: false,
            default: None,
            identity: None,
            pg_oid: 23,
            generated: None,
        };
        let mut columns = vec![col("id")];
        columns.extend(parents.iter().map(|p| col(&format!("{p}_id"))));
        Table {
            name: name.to_owned(),
            columns,
            primary_key: Some(UniqueKey {
                name: format!("{name}_pkey"),
                columns: vec!["id".into()],
                definition: None,
            }),
            uniques: vec![],
            foreign_keys: parents
                .iter()
                .map(|p| ForeignKey {
                    name: format!("{name}_{p}_fkey"),
                    columns: vec![format!("{p}_id")],
                    ref_table: (*p).to_owned(),
                    ref_columns: vec!["id".into()],
                    deferrable: false,
                    definition: None,
                })
                .collect(),
            indexes: vec![],
            checks: vec![],
            sqlite_sql: None,
            layout: Default::default(),
        }
    }

    /// Chinook's shape and sizes.
    fn chinook() -> (Schema, HashMap<String, u64>) {
        let tables = [
            ("artist", vec![], 275),
            ("genre", vec![], 25),
            ("media_type", vec![], 5),
            ("playlist", vec![], 18),
            ("employee", vec![], 8),
            ("album", vec!["artist"], 347),
            ("track", vec!["album", "genre", "media_type"], 3503),
            ("playlist_track", vec!["playlist", "track"], 8715),
            ("customer", vec!["employee"], 59),
            ("invoice", vec!["customer"], 412),
            ("invoice_line", vec!["invoice", "track"], 2240),
        ];
        let schema = Schema {
            engine: "postgres".into(),
            namespace: "public".into(),
            tables: tables.iter().map(|(n, p, _)| table(n, p)).collect(),
            enums: vec![],
            sequences: vec![],
            types: vec![],
        };
        let counts = tables
            .iter()
            .map(|(n, _, c)| ((*n).to_owned(), *c))
            .collect();
        (schema, counts)
    }

    fn opts(fraction: f64) -> PlanOptions {
        PlanOptions {
            fraction,
            seed: 0,
            rare_max_distinct: 32,
            lookup_max_rows: 1000,
        }
    }

    fn kind(m: &BTreeMap<String, (Mode, bool)>, t: &str) -> String {
        match m.get(t).map(|(m, _)| m) {
            Some(Mode::Follow { parent, .. }) => format!("follow {parent}"),
            Some(Mode::Sample { .. }) => "sample".into(),
            Some(Mode::All) => "all".into(),
            _ => "none".into(),
        }
    }

    #[test]
    fn lookups_are_pure_parents_and_lines_follow_their_owner() {
        let (schema, counts) = chinook();
        let m = modes(&schema, &Rules::default(), &opts(0.1), &counts).unwrap();
        for (t, want) in [
            ("genre", "all"),
            ("artist", "all"),
            ("employee", "all"),
            ("album", "sample"),
            ("customer", "sample"),
            ("track", "follow album"),
            ("invoice", "follow customer"),
            // An invoice owns its lines; a track, referenced by playlists too, does not.
            ("invoice_line", "follow invoice"),
            ("playlist_track", "follow track"),
        ] {
            assert_eq!(kind(&m, t), want, "{t}");
        }
    }

    #[test]
    fn a_sample_rule_roots_its_table_at_a_full_copy() {
        let (schema, counts) = chinook();
        let rules = Rules::parse("[tables.invoice]\nsample = 0.2\n", "data.toml").unwrap();
        let m = modes(&schema, &rules, &opts(1.0), &counts).unwrap();
        assert_eq!(kind(&m, "invoice"), "sample");
        assert_eq!(kind(&m, "invoice_line"), "follow invoice");
        assert_eq!(kind(&m, "customer"), "all");
        assert_eq!(kind(&m, "track"), "all");
    }

    #[test]
    fn only_keys_kept_whole_per_parent_are_compared() {
        let (schema, counts) = chinook();
        let m = modes(&schema, &Rules::default(), &opts(0.1), &counts).unwrap();
        let kept = fan_out_kept(&schema, &m);
        let whole: Vec<String> = schema
            .tables
            .iter()
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| kept.get(&(t.name.clone(), *i)) == Some(&FanOutKept::Whole))
                    .map(|(_, fk)| format!("{}→{}", t.name, fk.ref_table))
            })
            .collect();
        // Tracks are also pulled in by invoice lines, and albums by those tracks: their
        // children are not kept whole per parent.
        assert_eq!(whole, ["invoice→customer", "invoice_line→invoice"]);
        let full = modes(&schema, &Rules::default(), &opts(1.0), &counts).unwrap();
        assert!(
            fan_out_kept(&schema, &full)
                .values()
                .all(|k| *k == FanOutKept::Whole)
        );
    }
}
