//! Versioned readers: one envelope in, its payload typed by `schema` out, for every version
//! still supported (../shared/DECISIONS.md: readers accept the previous version for at least
//! one release; docs/results.md lists them).
use std::path::{Path, PathBuf};

use prodlike_report::{CommandResult, Outcome};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::data::{plans, profile, sync, synth, verify};
use crate::{alerts, compare, drift, load, load_v1, report, shadow, shadow_v1};

/// A result read back, its payload in the current version's types (older versions converted).
/// The envelope's `schema` still names the version the document was written in.
// One result is read at a time, so the size of the largest variant costs nothing; boxing would
// only make every reader dereference.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum AnyResult {
    Shadow(CommandResult<shadow::ShadowReport>),
    Load(CommandResult<load::LoadResult>),
    Drift(CommandResult<drift::DriftReport>),
    DataProfile(CommandResult<profile::Profile>),
    DataSync(CommandResult<sync::SyncReport>),
    DataSynth(CommandResult<synth::SynthReport>),
    DataVerify(CommandResult<verify::VerifyReport>),
    DataPlans(CommandResult<plans::PlansReport>),
    Compare(CommandResult<compare::CompareReport>),
    Alerts(CommandResult<alerts::AlertsReport>),
    Report(CommandResult<report::ScoreReport>),
}

impl AnyResult {
    /// The `schema` the document was written with, e.g. `prodlike.shadow/1`.
    pub fn schema(&self) -> &str {
        match self {
            AnyResult::Shadow(r) => &r.schema,
            AnyResult::Load(r) => &r.schema,
            AnyResult::Drift(r) => &r.schema,
            AnyResult::DataProfile(r) => &r.schema,
            AnyResult::DataSync(r) => &r.schema,
            AnyResult::DataSynth(r) => &r.schema,
            AnyResult::DataVerify(r) => &r.schema,
            AnyResult::DataPlans(r) => &r.schema,
            AnyResult::Compare(r) => &r.schema,
            AnyResult::Alerts(r) => &r.schema,
            AnyResult::Report(r) => &r.schema,
        }
    }

    /// How the command that wrote it ended.
    pub fn outcome(&self) -> Outcome {
        match self {
            AnyResult::Shadow(r) => r.outcome,
            AnyResult::Load(r) => r.outcome,
            AnyResult::Drift(r) => r.outcome,
            AnyResult::DataProfile(r) => r.outcome,
            AnyResult::DataSync(r) => r.outcome,
            AnyResult::DataSynth(r) => r.outcome,
            AnyResult::DataVerify(r) => r.outcome,
            AnyResult::DataPlans(r) => r.outcome,
            AnyResult::Compare(r) => r.outcome,
            AnyResult::Alerts(r) => r.outcome,
            AnyResult::Report(r) => r.outcome,
        }
    }
}

/// One family of schemas (`prodlike.shadow`) and the versions this build reads.
struct Family {
    name: &'static str,
    oldest: u32,
    newest: u32,
}

/// Every family with the versions read. Raise `oldest` one release after a new version
/// replaced it, never sooner.
const FAMILIES: [Family; 11] = [
    Family {
        name: "prodlike.shadow",
        oldest: 1,
        newest: 2,
    },
    Family {
        name: "prodlike.load",
        oldest: 1,
        newest: 2,
    },
    Family {
        name: "prodlike.drift",
        oldest: 1,
        newest: 1,
    },
    Family {
        name: "prodlike.data.profile",
        oldest: 1,
        newest: 1,
    },
    Family {
        name: "prodlike.data.sync",
        oldest: 1,
        newest: 1,
    },
    Family {
        name: "prodlike.data.synth",
        oldest: 1,
        newest: 1,
    },
    Family {
        name: "prodlike.data.verify",
        oldest: 1,
        newest: 1,
    },
    Family {
        name: "prodlike.data.plans",
        oldest: 1,
        newest: 1,
    },
    Family {
        name: "prodlike.compare",
        oldest: 1,
        newest: 1,
    },
    Family {
        name: "prodlike.alerts",
        oldest: 1,
        newest: 1,
    },
    Family {
        name: "prodlike.report",
        oldest: 1,
        newest: 1,
    },
];

/// What is wrong with a document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("not JSON")]
    NotJson(#[source] serde_json::Error),
    #[error("not a prodlike result: no `schema` string in a JSON object")]
    NoSchema,
    #[error("unknown result schema `{schema}` (known: {known})")]
    UnknownSchema { schema: String, known: String },
    #[error(
        "result schema `{schema}` is not read by this prodlike: it reads versions {oldest} to {newest}"
    )]
    UnsupportedVersion {
        schema: String,
        oldest: u32,
        newest: u32,
    },
    #[error("the document says `{schema}` but does not have that layout")]
    Layout {
        schema: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A result file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("could not read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}")]
    Document {
        path: PathBuf,
        #[source]
        source: DocumentError,
    },
}

/// Reads a result file written with `--out`.
pub fn read(path: impl AsRef<Path>) -> Result<AnyResult, ReadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    from_slice(&bytes).map_err(|source| ReadError::Document {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a result document from bytes.
pub fn from_slice(bytes: &[u8]) -> Result<AnyResult, DocumentError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(DocumentError::NotJson)?;
    let schema = doc
        .get("schema")
        .and_then(Value::as_str)
        .ok_or(DocumentError::NoSchema)?
        .to_owned();
    let (family, version) = split(&schema)?;
    if version < family.oldest || version > family.newest {
        return Err(DocumentError::UnsupportedVersion {
            schema,
            oldest: family.oldest,
            newest: family.newest,
        });
    }
    let r = match (family.name, version) {
        ("prodlike.shadow", 1) => {
            let v1: CommandResult<shadow_v1::ShadowReportV1> = typed(&schema, doc)?;
            AnyResult::Shadow(upgrade(v1, shadow::ShadowReport::from))
        }
        ("prodlike.shadow", _) => AnyResult::Shadow(typed(&schema, doc)?),
        ("prodlike.load", 1) => AnyResult::Load(load_version_1(&schema, doc)?),
        ("prodlike.load", _) => AnyResult::Load(typed(&schema, doc)?),
        ("prodlike.drift", _) => AnyResult::Drift(typed(&schema, doc)?),
        ("prodlike.data.profile", _) => AnyResult::DataProfile(typed(&schema, doc)?),
        ("prodlike.data.sync", _) => AnyResult::DataSync(typed(&schema, doc)?),
        ("prodlike.data.synth", _) => AnyResult::DataSynth(typed(&schema, doc)?),
        ("prodlike.data.verify", _) => AnyResult::DataVerify(typed(&schema, doc)?),
        ("prodlike.data.plans", _) => AnyResult::DataPlans(typed(&schema, doc)?),
        ("prodlike.compare", _) => AnyResult::Compare(typed(&schema, doc)?),
        ("prodlike.alerts", _) => AnyResult::Alerts(typed(&schema, doc)?),
        ("prodlike.report", _) => AnyResult::Report(typed(&schema, doc)?),
        // `split` only returns the families above.
        _ => return Err(unknown(&schema)),
    };
    Ok(r)
}

/// A `prodlike.load/1` document in version 2's types: its compare section read with version
/// 1's layout and converted (crate::load_v1), the rest read as it is (version 2 only added a
/// field that may be absent).
fn load_version_1(
    schema: &str,
    mut doc: Value,
) -> Result<CommandResult<load::LoadResult>, DocumentError> {
    let compare = doc
        .get_mut("data")
        .and_then(Value::as_object_mut)
        .and_then(|d| d.remove("compare"))
        .unwrap_or(Value::Null);
    let v1: Option<load_v1::CompareResultV1> = typed(schema, compare)?;
    let mut r: CommandResult<load::LoadResult> = typed(schema, doc)?;
    r.data.compare = v1.map(Into::into);
    Ok(r)
}

/// `prodlike.shadow/2` → its family and 2; a name this build does not know is an error.
fn split(schema: &str) -> Result<(&'static Family, u32), DocumentError> {
    let unknown = || unknown(schema);
    let (name, version) = schema.rsplit_once('/').ok_or_else(unknown)?;
    let family = FAMILIES
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(unknown)?;
    // Digits only: `+1` or ` 1` are not versions.
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unknown());
    }
    let version = version.parse::<u32>().map_err(|_| unknown())?;
    Ok((family, version))
}

fn unknown(schema: &str) -> DocumentError {
    DocumentError::UnknownSchema {
        schema: schema.to_owned(),
        known: FAMILIES
            .iter()
            .map(|f| format!("{}/{}", f.name, f.newest))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn typed<T: DeserializeOwned>(schema: &str, doc: Value) -> Result<T, DocumentError> {
    serde_json::from_value(doc).map_err(|source| DocumentError::Layout {
        schema: schema.to_owned(),
        source,
    })
}

/// The same envelope around a converted payload.
fn upgrade<A, B>(r: CommandResult<A>, f: impl FnOnce(A) -> B) -> CommandResult<B> {
    CommandResult {
        envelope_version: r.envelope_version,
        schema: r.schema,
        command: r.command,
        tool_version: r.tool_version,
        started_at: r.started_at,
        finished_at: r.finished_at,
        outcome: r.outcome,
        exit_code: r.exit_code,
        summary: r.summary,
        data: f(r.data),
    }
}
