//! The JSON Schemas of the current version of every result, each describing the whole `--out`
//! document: the envelope with the payload under `data` and `schema` fixed to its name.
//! tests/schemas_current.rs keeps docs/schemas/ equal to them.
use prodlike_report::CommandResult;
use schemars::JsonSchema;
use serde_json::Value;

use crate::data::{plans, profile, snapshot, sync, synth, verify};
use crate::{alerts, compare, drift, load, report, shadow};

/// A schema this build writes.
#[derive(Debug, Clone, Copy)]
pub struct Published {
    /// e.g. `prodlike.load/1`.
    pub schema: &'static str,
    /// The command (envelope `command`) that writes it.
    pub command: &'static str,
    generate: fn(&'static str) -> Value,
}

impl Published {
    /// Its JSON Schema (draft 2020-12).
    pub fn json_schema(&self) -> Value {
        (self.generate)(self.schema)
    }

    /// Its file in docs/schemas/.
    pub fn file_name(&self) -> String {
        schema_file_name(self.schema)
    }
}

/// Every schema written by this build, one per result family, current versions only.
pub fn published() -> [Published; 13] {
    [
        entry::<shadow::ShadowReport>(shadow::SCHEMA, "shadow"),
        entry::<load::LoadResult>(load::SCHEMA, "load"),
        entry::<drift::DriftReport>(drift::SCHEMA, "drift"),
        entry::<profile::Profile>(profile::SCHEMA, "data profile"),
        entry::<sync::SyncReport>(sync::SCHEMA, "data sync"),
        entry::<synth::SynthReport>(synth::SCHEMA, "data synth"),
        entry::<verify::VerifyReport>(verify::SCHEMA, "data verify"),
        entry::<plans::PlansReport>(plans::SCHEMA, "data plans"),
        entry::<snapshot::DumpReport>(snapshot::DUMP_SCHEMA, "data dump"),
        entry::<snapshot::RestoreReport>(snapshot::RESTORE_SCHEMA, "data restore"),
        entry::<compare::CompareReport>(compare::SCHEMA, "compare prometheus"),
        entry::<alerts::AlertsReport>(alerts::SCHEMA, "alerts"),
        entry::<report::ScoreReport>(report::SCHEMA, "report"),
    ]
}

/// The JSON Schema of one schema name, when this build writes it.
pub fn json_schema(schema: &str) -> Option<Value> {
    published()
        .iter()
        .find(|p| p.schema == schema)
        .map(Published::json_schema)
}

/// `prodlike.load/1` → `prodlike.load-1.schema.json`.
pub fn schema_file_name(schema: &str) -> String {
    format!("{}.schema.json", schema.replace('/', "-"))
}

fn entry<T: JsonSchema>(schema: &'static str, command: &'static str) -> Published {
    Published {
        schema,
        command,
        generate: envelope_schema::<T>,
    }
}

fn envelope_schema<T: JsonSchema>(name: &'static str) -> Value {
    let mut doc = schemars::schema_for!(CommandResult<T>).to_value();
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("title".into(), Value::from(name));
        obj.insert(
            "description".into(),
            Value::from(format!(
                "A `{name}` result as written with --out: the envelope, with the payload under \
                 `data`. Generated from crates/results; see docs/results.md."
            )),
        );
    }
    // Pin `schema` to this name, so a document of another layout fails validation.
    if let Some(p) = doc.pointer_mut("/properties/schema") {
        *p = serde_json::json!({
            "description": "Identifies the payload layout; see docs/results.md.",
            "type": "string",
            "const": name,
        });
    }
    doc
}
