use serde_json::{Value, json};

use crate::report::{Change, DriftReport, Finding, Mode, RuleState, Status};

const RULES: &[(&str, &str, &str)] = &[
    (
        "drift/changed",
        "ValueChanged",
        "A value differs between baseline and candidate.",
    ),
    (
        "drift/added",
        "OnlyInCandidate",
        "Present in the candidate only.",
    ),
    (
        "drift/removed",
        "OnlyInBaseline",
        "Present in the baseline only.",
    ),
    (
        "drift/type-changed",
        "TypeChanged",
        "The value has a different type.",
    ),
    (
        "drift/order-changed",
        "OrderChanged",
        "A list whose order matters is in another order.",
    ),
    (
        "drift/hard-coded",
        "HardCoded",
        "A literal on one side where the other has an expression (a variable, local or function call).",
    ),
    (
        "drift/renamed",
        "Renamed",
        "Paired under another name by a rename rule.",
    ),
    (
        "drift/rule-expired",
        "RuleExpired",
        "A rule in the rules file is past its expiry date.",
    ),
    (
        "drift/rule-unused",
        "RuleUnused",
        "A rule in the rules file matched nothing.",
    ),
];

fn rule_id(change: Change) -> &'static str {
    match change {
        Change::Changed => "drift/changed",
        Change::Added => "drift/added",
        Change::Removed => "drift/removed",
        Change::TypeChanged => "drift/type-changed",
        Change::OrderChanged => "drift/order-changed",
        Change::HardCoded => "drift/hard-coded",
        Change::Renamed => "drift/renamed",
    }
}

/// SARIF 2.1.0 for code scanning. Drift is `error`; accepted differences are results with an
/// external suppression carrying the rule's reason, so scanners show them as dismissed with a
/// justification; expired and unused rules are warnings on the rules file.
pub fn sarif(report: &DriftReport) -> Value {
    let candidate_dir =
        report.mode == Mode::Files && std::path::Path::new(&report.candidate).is_dir();
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(report, f, candidate_dir))
        .collect();
    for r in &report.rules {
        let (id, text) = match r.state {
            RuleState::Expired => (
                "drift/rule-expired",
                format!(
                    "rule {} ({}) expired on {}: {}",
                    r.index,
                    r.description,
                    r.expires.as_deref().unwrap_or("?"),
                    r.reason
                ),
            ),
            RuleState::Unused | RuleState::Rejected | RuleState::Shadowed => (
                "drift/rule-unused",
                format!(
                    "rule {} ({}) {}: {}{}",
                    r.index,
                    r.description,
                    super::rule_diagnosis(r),
                    r.reason,
                    r.rejected
                        .iter()
                        .map(|w| format!("\n{w}"))
                        .collect::<String>()
                ),
            ),
            _ => continue,
        };
        let mut res = json!({
            "ruleId": id,
            "level": "warning",
            "message": { "text": text },
        });
        if let Some(file) = &report.rules_file {
            res["locations"] =
                json!([{ "physicalLocation": { "artifactLocation": { "uri": uri(file) } } }]);
        }
        results.push(res);
    }
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, name, text)| {
            let level = if id.starts_with("drift/rule-") {
                "warning"
            } else {
                "error"
            };
            json!({
                "id": id,
                "name": name,
                "shortDescription": { "text": text },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "prodlike drift",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }]
    })
}

fn result(report: &DriftReport, f: &Finding, candidate_dir: bool) -> Value {
    let place = match (&f.object, f.path.is_empty()) {
        (Some(o), false) => format!("{o} {}", f.path),
        (Some(o), true) => o.clone(),
        (None, false) => f.path.clone(),
        (None, true) => f.file.clone(),
    };
    let mut text = format!("{place}: {}", f.change.label());
    let values = super::values_line(f, 80);
    if !values.is_empty() {
        text.push_str(&format!(" ({values})"));
    }
    if let Some(note) = &f.note {
        text.push_str(&format!(". {note}"));
    }
    if let Some(lines) = super::diff_lines(f) {
        text.push_str(&format!("\n{}", lines.join("\n")));
    }
    let mut location = json!({
        "logicalLocations": [{ "fullyQualifiedName": format!("{}:{place}", f.file) }],
    });
    if report.mode == Mode::Files {
        // A value only in the baseline is shown where it is: in the baseline's file.
        let (root, at) = match (&f.baseline_at, &f.candidate_at) {
            (Some(b), None) => (&report.baseline, Some(b)),
            (_, c) => (&report.candidate, c.as_ref()),
        };
        let rel = at.map(|a| a.file.as_str()).unwrap_or(&f.file);
        let removed_file = f.change == Change::Removed && f.path.is_empty() && f.object.is_none();
        let file = if candidate_dir {
            let base = if removed_file { &report.baseline } else { root };
            format!("{}/{}", base.trim_end_matches('/'), rel)
        } else if let Some(a) =
            at.filter(|a| a.file != f.file && std::path::Path::new(&a.file).is_file())
        {
            // A layer of a layered comparison: the file itself.
            a.file.clone()
        } else if at.is_some() {
            root.clone()
        } else {
            report.candidate.clone()
        };
        let mut physical = json!({ "artifactLocation": { "uri": uri(&file) } });
        if let Some(a) = at {
            physical["region"] = match a.column {
                Some(col) => json!({ "startLine": a.line, "startColumn": col }),
                None => json!({ "startLine": a.line }),
            };
        } else if let Some(line) = f.line {
            physical["region"] = json!({ "startLine": line });
        }
        location["physicalLocation"] = physical;
    }
    let mut res = json!({
        "ruleId": rule_id(f.change),
        "level": if f.status == Status::Drift { "error" } else { "note" },
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": { "driftPlace/v1": format!("{}|{}|{}", f.file, f.object.as_deref().unwrap_or(""), f.path) },
    });
    if f.status == Status::Accepted {
        res["suppressions"] = json!([{
            "kind": "external",
            "justification": format!("rule {}: {}", f.rule.unwrap_or(0), f.reason.as_deref().unwrap_or("")),
        }]);
    }
    res
}

/// A relative URI reference: `/` separators, spaces and other unsafe bytes percent-encoded.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
