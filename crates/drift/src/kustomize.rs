//! `--render kustomize`: each side's overlay directory is rendered with `kubectl kustomize DIR`
//! (or `kustomize build DIR`) from PATH, and the two rendered streams are compared as one
//! multi-document file each. Objects then pair by identity, or by environment (`pairing.rs`)
//! when the overlays give them a `namePrefix` and a namespace per environment. Without either
//! program, render by hand and compare the files: `kubectl kustomize overlays/production >
//! prod.yaml` (docs/drift.md).
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::compare::compare_sources;
use crate::error::DriftError;
use crate::report::{DriftReport, Mode};
use crate::rules::RuleSet;
use crate::source::{self, Source};

/// The program that renders: `kubectl kustomize` first, else `kustomize build`.
fn renderer() -> Option<(PathBuf, &'static str)> {
    let path = std::env::var_os("PATH")?;
    for (name, sub) in [("kubectl", "kustomize"), ("kustomize", "build")] {
        if let Some(p) = std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
        {
            return Some((p, sub));
        }
    }
    None
}

/// Renders one overlay directory into a source named `DIR (rendered)`.
pub fn render(dir: &Path, rules: &RuleSet) -> Result<Source, DriftError> {
    if !dir.is_dir() {
        return Err(DriftError::Missing {
            path: dir.to_path_buf(),
        });
    }
    let (program, sub) = renderer().ok_or(DriftError::NoRenderer)?;
    let out = Command::new(&program)
        .arg(sub)
        .arg(dir)
        .output()
        .map_err(|source| DriftError::Render {
            dir: dir.to_path_buf(),
            source,
        })?;
    if !out.status.success() {
        return Err(DriftError::RenderFailed {
            dir: dir.to_path_buf(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rel = format!("{} (rendered)", dir.display());
    source::from_text(Path::new("rendered.yaml"), &rel, &text, &rules.secrets)
}

/// Renders both overlays and compares the output.
pub fn compare_rendered(
    baseline: &Path,
    candidate: &Path,
    rules: &RuleSet,
    rules_file: Option<String>,
) -> Result<DriftReport, DriftError> {
    let b = render(baseline, rules)?;
    let c = render(candidate, rules)?;
    let (bl, cl) = (b.rel.clone(), c.rel.clone());
    Ok(compare_sources(
        vec![(Some(b), Some(c))],
        Mode::Files,
        &bl,
        &cl,
        rules,
        rules_file,
    ))
}
