//! One file per command: argument struct and the wiring from arguments to a capability crate,
//! plus the checks every command makes of its flags before it does anything.
pub mod alerts;
pub mod compare;
pub mod compare_results;
pub mod compare_watch;
pub mod data;
pub mod data_plans;
pub mod drift;
pub mod load;
pub mod load_merge;
pub mod report;
pub mod shadow;

use std::path::Path;

use anyhow::bail;

/// A file flag (`--out`, `--html`) must name a file whose folder exists: the file is written
/// after the work, so a bad path is refused before any of it.
pub(crate) fn check_output_file(flag: &str, p: &Path) -> anyhow::Result<()> {
    if p.is_dir() {
        bail!(
            "{flag} {} is a folder; give a file path such as {}",
            p.display(),
            p.join("result.json").display()
        );
    }
    if let Some(dir) = p.parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        bail!(
            "{flag} {}: folder {} does not exist; create it first",
            p.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Clap's parser for every duration flag: the one grammar of docs/units.md.
pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    prodlike_common::duration::parse(s).map_err(|e| e.to_string())
}
