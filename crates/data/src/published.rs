//! data's working types as the published results (prodlike-results, docs/results.md).
//!
//! verify's and sync's reports are the published types themselves. The profile and synth's
//! report are built here from data's own types: the profile's schema model carries the
//! foreign-key graph algorithms the planner and synthesiser use (schema.rs), which are no part
//! of the document, and synth's and the planner's report types stay in their modules
//! (synth/mod.rs, plan/selection.rs). Each conversion destructures what it copies, so a field
//! added on either side fails to compile here instead of silently missing from the result.
use prodlike_results::data::{profile as out, sync as sync_out, synth as synth_out};

use crate::identity::{DbIdentity, FileId, PgIdentity, SqliteIdentity};
use crate::maskplan::{
    DetectedColumn, DetectedJson, Detections, MaskedColumn, Origin, VetoedColumn,
};
use crate::plan::TableSelection;
use crate::profile::column::Bucket;
use crate::profile::{ColumnProfile, FanOut, Frequency, Profile, TableProfile};
use crate::schema::{
    Check, Column, EnumType, ForeignKey, Index, Kind, Schema, Sequence, Table, UniqueKey,
};
use crate::synth::{SynthReport, SynthTable};

pub use prodlike_results::data::profile::SCHEMA as PROFILE_SCHEMA;
pub use prodlike_results::data::snapshot::{DUMP_SCHEMA, RESTORE_SCHEMA};
pub use prodlike_results::data::sync::SCHEMA as SYNC_SCHEMA;
pub use prodlike_results::data::synth::SCHEMA as SYNTH_SCHEMA;
pub use prodlike_results::data::verify::SCHEMA as VERIFY_SCHEMA;

/// A profile as `prodlike.data.profile/1` publishes it.
pub fn profile(p: &Profile) -> out::Profile {
    let Profile {
        version,
        source,
        schema,
        tables,
        fan_out,
        pii,
        source_identity,
    } = p;
    out::Profile {
        version: *version,
        source: source.clone(),
        schema: schema_of(schema),
        tables: tables.iter().map(table_profile).collect(),
        fan_out: fan_out.iter().map(fan_out_of).collect(),
        pii: detections(pii),
        source_identity: source_identity.as_ref().map(identity),
    }
}

/// A synth report as `prodlike.data.synth/1` publishes it.
pub fn synth(r: &SynthReport) -> synth_out::SynthReport {
    let SynthReport {
        target,
        scale,
        seed,
        tables,
        total_rows,
        seconds,
        rows_per_sec,
    } = r;
    synth_out::SynthReport {
        target: target.clone(),
        scale: *scale,
        seed: *seed,
        tables: tables.iter().map(synth_table).collect(),
        total_rows: *total_rows,
        seconds: *seconds,
        rows_per_sec: *rows_per_sec,
    }
}

fn synth_table(t: &SynthTable) -> synth_out::SynthTable {
    let SynthTable {
        table,
        profiled_rows,
        rows,
        seconds,
        rows_per_sec,
    } = t;
    synth_out::SynthTable {
        table: table.clone(),
        profiled_rows: *profiled_rows,
        rows: *rows,
        seconds: *seconds,
        rows_per_sec: *rows_per_sec,
    }
}

/// The planner's bias report of one table, for sync's result.
pub(crate) fn selection(s: &TableSelection) -> sync_out::TableSelection {
    let TableSelection {
        table,
        mode_json,
        source_rows,
        selected_rows,
        sampled,
        followed,
        pulled_as_parents,
        rare_values_added,
        intended_fraction,
        actual_fraction,
        oversampling,
        pulled_by,
        source_orphans,
        rare_columns,
    } = s;
    sync_out::TableSelection {
        table: table.clone(),
        mode_json: mode_json.clone(),
        source_rows: *source_rows,
        selected_rows: *selected_rows,
        sampled: *sampled,
        followed: *followed,
        pulled_as_parents: *pulled_as_parents,
        rare_values_added: *rare_values_added,
        intended_fraction: *intended_fraction,
        actual_fraction: *actual_fraction,
        oversampling: *oversampling,
        pulled_by: pulled_by.clone(),
        source_orphans: *source_orphans,
        rare_columns: rare_columns.clone(),
    }
}

/// One masked column of the mask plan, for sync's result.
pub(crate) fn masked(m: &MaskedColumn) -> sync_out::MaskedColumn {
    let MaskedColumn {
        table,
        column,
        transform,
        origin,
        unique,
        json_paths,
    } = m;
    sync_out::MaskedColumn {
        table: table.clone(),
        column: column.clone(),
        transform: transform.clone(),
        origin: match origin {
            Origin::Rule => sync_out::Origin::Rule,
            Origin::Detected { kind } => sync_out::Origin::Detected {
                kind: (*kind).into(),
            },
            Origin::ForeignKey { linked_to } => sync_out::Origin::ForeignKey {
                linked_to: linked_to.clone(),
            },
        },
        unique: *unique,
        json_paths: json_paths.clone(),
    }
}

pub(crate) fn detected_column(d: &DetectedColumn) -> out::DetectedColumn {
    let DetectedColumn {
        table,
        column,
        kind,
        confidence,
        evidence,
        content,
        shares,
    } = d;
    out::DetectedColumn {
        table: table.clone(),
        column: column.clone(),
        kind: (*kind).into(),
        confidence: *confidence,
        evidence: evidence.clone().into(),
        content: content.map(|c| c.transform_name().to_owned()),
        shares: shares.iter().map(class_share).collect(),
    }
}

fn class_share(s: &prodlike_mask::detect::ClassShare) -> out::ClassShare {
    let prodlike_mask::detect::ClassShare {
        class,
        matched,
        sampled,
    } = s;
    out::ClassShare {
        class: class.clone(),
        matched: *matched,
        sampled: *sampled,
    }
}

pub(crate) fn vetoed_column(v: &VetoedColumn) -> out::VetoedColumn {
    let VetoedColumn {
        table,
        column,
        pattern,
        shares,
        sampled,
    } = v;
    out::VetoedColumn {
        table: table.clone(),
        column: column.clone(),
        pattern: pattern.clone(),
        shares: shares.iter().map(class_share).collect(),
        sampled: *sampled,
    }
}

pub(crate) fn detected_json(d: &DetectedJson) -> out::DetectedJson {
    let DetectedJson {
        table,
        column,
        path,
        kind,
        confidence,
    } = d;
    out::DetectedJson {
        table: table.clone(),
        column: column.clone(),
        path: path.clone(),
        kind: (*kind).into(),
        confidence: *confidence,
    }
}

fn detections(d: &Detections) -> out::Detections {
    // `names` is the in-memory dictionary of real names: never published.
    let Detections {
        columns,
        json,
        vetoed,
        names: _,
    } = d;
    out::Detections {
        columns: columns.iter().map(detected_column).collect(),
        json: json.iter().map(detected_json).collect(),
        vetoed: vetoed.iter().map(vetoed_column).collect(),
    }
}

fn table_profile(t: &TableProfile) -> out::TableProfile {
    let TableProfile {
        name,
        rows,
        profiled_fraction,
        columns,
    } = t;
    out::TableProfile {
        name: name.clone(),
        rows: *rows,
        profiled_fraction: *profiled_fraction,
        columns: columns.iter().map(column_profile).collect(),
    }
}

fn column_profile(c: &ColumnProfile) -> out::ColumnProfile {
    let ColumnProfile {
        name,
        kind,
        null_fraction,
        distinct,
        pii,
        frequencies,
        frequencies_complete,
        percentiles,
        histogram,
        integral,
        length_percentiles,
        shapes,
        json_skeletons,
        correlation,
    } = c;
    out::ColumnProfile {
        name: name.clone(),
        kind: kind_of(*kind),
        null_fraction: *null_fraction,
        distinct: *distinct,
        pii: pii.map(Into::into),
        frequencies: frequencies.iter().map(frequency).collect(),
        frequencies_complete: *frequencies_complete,
        percentiles: percentiles.clone(),
        histogram: histogram.iter().map(bucket).collect(),
        integral: *integral,
        length_percentiles: length_percentiles.clone(),
        shapes: shapes.iter().map(frequency).collect(),
        json_skeletons: json_skeletons.iter().map(frequency).collect(),
        correlation: *correlation,
    }
}

fn frequency(f: &Frequency) -> out::Frequency {
    let Frequency { value, count } = f;
    out::Frequency {
        value: value.clone(),
        count: *count,
    }
}

fn bucket(b: &Bucket) -> out::Bucket {
    let Bucket { lo, hi, count } = b;
    out::Bucket {
        lo: *lo,
        hi: *hi,
        count: *count,
    }
}

fn fan_out_of(f: &FanOut) -> out::FanOut {
    let FanOut {
        child,
        columns,
        parent,
        ref_columns,
        parent_rows,
        parents_referenced,
        null_children,
        mean,
        max,
        percentiles,
    } = f;
    out::FanOut {
        child: child.clone(),
        columns: columns.clone(),
        parent: parent.clone(),
        ref_columns: ref_columns.clone(),
        parent_rows: *parent_rows,
        parents_referenced: *parents_referenced,
        null_children: *null_children,
        mean: *mean,
        max: *max,
        percentiles: percentiles.clone(),
    }
}

fn kind_of(k: Kind) -> out::Kind {
    match k {
        Kind::Bool => out::Kind::Bool,
        Kind::Int => out::Kind::Int,
        Kind::Float => out::Kind::Float,
        Kind::Decimal => out::Kind::Decimal,
        Kind::Text => out::Kind::Text,
        Kind::Bytes => out::Kind::Bytes,
        Kind::Date => out::Kind::Date,
        Kind::Timestamp => out::Kind::Timestamp,
        Kind::TimestampTz => out::Kind::TimestampTz,
        Kind::Time => out::Kind::Time,
        Kind::Uuid => out::Kind::Uuid,
        Kind::Json => out::Kind::Json,
        Kind::Inet => out::Kind::Inet,
        Kind::Other => out::Kind::Other,
    }
}

fn schema_of(s: &Schema) -> out::Schema {
    let Schema {
        engine,
        namespace,
        tables,
        enums,
        sequences,
        // Domains and composite types are recreated by a sync; a profile does not list them.
        types: _,
    } = s;
    out::Schema {
        engine: engine.clone(),
        namespace: namespace.clone(),
        tables: tables.iter().map(table_of).collect(),
        enums: enums.iter().map(enum_of).collect(),
        // An identity column's sequence goes with its column, as it always has in a profile.
        sequences: sequences
            .iter()
            .filter(|s| !s.identity)
            .map(sequence_of)
            .collect(),
    }
}

fn table_of(t: &Table) -> out::Table {
    let Table {
        name,
        columns,
        primary_key,
        uniques,
        foreign_keys,
        indexes,
        checks,
        sqlite_sql,
        // A profile lists a partitioned table as one table (its rows are all its partitions').
        layout: _,
    } = t;
    out::Table {
        name: name.clone(),
        columns: columns.iter().map(column_of).collect(),
        primary_key: primary_key.as_ref().map(unique_of),
        uniques: uniques.iter().map(unique_of).collect(),
        foreign_keys: foreign_keys.iter().map(foreign_key_of).collect(),
        indexes: indexes.iter().map(index_of).collect(),
        checks: checks.iter().map(check_of).collect(),
        sqlite_sql: sqlite_sql.clone(),
    }
}

fn column_of(c: &Column) -> out::Column {
    let Column {
        name,
        sql_type,
        kind,
        nullable,
        default,
        identity,
        pg_oid,
        generated,
    } = c;
    out::Column {
        name: name.clone(),
        sql_type: sql_type.clone(),
        kind: kind_of(*kind),
        nullable: *nullable,
        default: default.clone(),
        identity: identity.clone(),
        pg_oid: *pg_oid,
        generated: generated.clone(),
    }
}

fn foreign_key_of(f: &ForeignKey) -> out::ForeignKey {
    let ForeignKey {
        name,
        columns,
        ref_table,
        ref_columns,
        deferrable,
        definition,
    } = f;
    out::ForeignKey {
        name: name.clone(),
        columns: columns.clone(),
        ref_table: ref_table.clone(),
        ref_columns: ref_columns.clone(),
        deferrable: *deferrable,
        definition: definition.clone(),
    }
}

fn unique_of(u: &UniqueKey) -> out::UniqueKey {
    let UniqueKey {
        name,
        columns,
        definition,
    } = u;
    out::UniqueKey {
        name: name.clone(),
        columns: columns.clone(),
        definition: definition.clone(),
    }
}

fn index_of(i: &Index) -> out::Index {
    let Index {
        name,
        columns,
        unique,
        definition,
    } = i;
    out::Index {
        name: name.clone(),
        columns: columns.clone(),
        unique: *unique,
        definition: definition.clone(),
    }
}

fn check_of(c: &Check) -> out::Check {
    let Check { name, definition } = c;
    out::Check {
        name: name.clone(),
        definition: definition.clone(),
    }
}

fn enum_of(e: &EnumType) -> out::EnumType {
    let EnumType { name, labels } = e;
    out::EnumType {
        name: name.clone(),
        labels: labels.clone(),
    }
}

fn sequence_of(s: &Sequence) -> out::Sequence {
    let Sequence {
        name,
        owned_by,
        // Positions and options are a sync's business; a profile lists sequences by name.
        options: _,
        last_value: _,
        descending: _,
        identity: _,
        used_by: _,
    } = s;
    out::Sequence {
        name: name.clone(),
        owned_by: owned_by.clone(),
    }
}

fn identity(i: &DbIdentity) -> out::DbIdentity {
    match i {
        DbIdentity::Postgres(p) => {
            let PgIdentity {
                system_identifier,
                database_oid,
                database,
                started_micros,
                server_addr,
                server_port,
            } = p;
            out::DbIdentity::Postgres(out::PgIdentity {
                system_identifier: *system_identifier,
                database_oid: *database_oid,
                database: database.clone(),
                started_micros: *started_micros,
                server_addr: *server_addr,
                server_port: *server_port,
            })
        }
        DbIdentity::Mysql(m) => out::DbIdentity::Mysql(out::MysqlIdentity {
            server_uuid: m.server_uuid.clone(),
            hostname: m.hostname.clone(),
            port: m.port,
            database: m.database.clone(),
            names_ignore_case: m.names_ignore_case,
        }),
        DbIdentity::Sqlite(s) => {
            let SqliteIdentity { path, file } = s;
            out::DbIdentity::Sqlite(out::SqliteIdentity {
                path: path.clone(),
                file: file.map(|f| {
                    let FileId { device, inode } = f;
                    out::FileId { device, inode }
                }),
            })
        }
    }
}
