//! Configuration and schema: `prodlike drift`'s unexplained differences.
use prodlike_results::drift::{DriftReport, Mode, Status};
use prodlike_results::report::LossKind;

use super::{SourceScore, plural, sh};

/// Penalty of one difference no rule accepts.
pub const DRIFT_PENALTY: f64 = 10.0;
/// Penalty of a rule past its expiry date (it accepts nothing any more, and says so).
pub const EXPIRED_RULE_PENALTY: f64 = 2.0;

/// drift: every difference to resolve loses [`DRIFT_PENALTY`]; accepted ones lose nothing.
pub fn drift(r: &DriftReport, file: &str) -> SourceScore {
    let (source, cmd) = match r.mode {
        Mode::Files => (
            "drift.files",
            format!("prodlike drift {} {}", sh(&r.baseline), sh(&r.candidate)),
        ),
        Mode::Schema => (
            "drift.schema",
            format!(
                "prodlike drift schema --baseline {} --candidate {}",
                sh(&r.baseline),
                sh(&r.candidate)
            ),
        ),
    };
    let cmd = match &r.rules_file {
        Some(rules) => format!("{cmd} --rules {}", sh(rules)),
        None => cmd,
    };
    let mut s = SourceScore::new(source, file);
    s.decided = r.summary.files > 0 || r.summary.objects > 0;
    s.failed = r.summary.drift > 0;
    s.note = format!(
        "{} compared: {} to resolve, {} accepted by rules",
        plural(r.summary.files as u64, "file", "files"),
        r.summary.drift,
        r.summary.accepted
    );
    for f in r.findings.iter().filter(|f| f.status == Status::Drift) {
        let mut subject = f.file.clone();
        if let Some(o) = &f.object {
            subject.push_str(&format!(" {o}"));
        }
        if !f.path.is_empty() {
            subject.push_str(&format!(" {}", f.path));
        }
        let value = |v: &Option<serde_json::Value>| match v {
            Some(v) => v.to_string(),
            None => "absent".into(),
        };
        s.push(
            DRIFT_PENALTY,
            LossKind::Finding,
            subject,
            format!(
                "{}: {} in production, {} in staging",
                f.change.label(),
                value(&f.baseline),
                value(&f.candidate)
            ),
            cmd.clone(),
        );
    }
    for rule in r
        .rules
        .iter()
        .filter(|u| u.state == prodlike_results::drift::RuleState::Expired)
    {
        s.push(
            EXPIRED_RULE_PENALTY,
            LossKind::Finding,
            format!("rule {}", rule.index),
            format!(
                "expired on {}: {}",
                rule.expires.as_deref().unwrap_or("?"),
                rule.description
            ),
            cmd.clone(),
        );
    }
    s
}
