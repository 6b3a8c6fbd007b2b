use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::Outcome;

/// Version of the envelope layout itself; each command versions its `data` separately through
/// its `schema` string (e.g. `prodlike.shadow/1`).
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON document every command writes (`--out FILE`): who ran what, when, with which outcome,
/// and the command's own payload under `data`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CommandResult<T> {
    /// Envelope layout version, [`SCHEMA_VERSION`].
    pub envelope_version: u32,
    /// Identifies the payload layout, e.g. `prodlike.shadow/1`; see docs/results.md.
    pub schema: String,
    /// The command that produced it: `shadow`, `load`, `data sync`, `drift`, ...
    pub command: String,
    /// prodlike's version.
    pub tool_version: String,
    /// When the command started: RFC 3339, UTC.
    pub started_at: String,
    /// When the result was written: RFC 3339, UTC.
    pub finished_at: String,
    /// How the command ended.
    pub outcome: Outcome,
    /// The exit code the command used, so a reader never has to re-derive it.
    pub exit_code: u8,
    /// One human sentence: what happened.
    pub summary: String,
    /// The command's payload, laid out as `schema` says.
    pub data: T,
}

impl<T: Serialize> CommandResult<T> {
    pub fn new(
        schema: impl Into<String>,
        command: impl Into<String>,
        started_at: String,
        outcome: Outcome,
        summary: impl Into<String>,
        data: T,
    ) -> Self {
        Self {
            envelope_version: SCHEMA_VERSION,
            schema: schema.into(),
            command: command.into(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at,
            finished_at: now_rfc3339(),
            outcome,
            exit_code: outcome.exit_code(),
            summary: summary.into(),
            data,
        }
    }

    /// Writes the envelope as pretty JSON, through a temporary file and a rename so a reader
    /// never sees half a document.
    pub fn write_to(&self, path: &Path) -> Result<(), ResultWriteError> {
        let json = serde_json::to_vec_pretty(self).map_err(ResultWriteError::Serialize)?;
        let tmp = tmp_path(path);
        std::fs::write(&tmp, json).map_err(|source| ResultWriteError::Io {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, path).map_err(|source| ResultWriteError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

#[derive(Debug, thiserror::Error)]
pub enum ResultWriteError {
    #[error("could not serialise the result")]
    Serialize(#[source] serde_json::Error),
    #[error("could not write the result to {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Current time as RFC 3339 UTC with second precision.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_through_a_file() {
        let dir = std::env::temp_dir().join(format!("prodlike-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.json");
        let r = CommandResult::new(
            "prodlike.test/1",
            "test",
            now_rfc3339(),
            Outcome::Finding,
            "one finding",
            serde_json::json!({"x": 1}),
        );
        r.write_to(&path).unwrap();
        let back: CommandResult<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back.exit_code, 1);
        assert_eq!(back.schema, "prodlike.test/1");
        assert_eq!(back.data["x"], 1);
        assert!(!dir.join("r.json.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
