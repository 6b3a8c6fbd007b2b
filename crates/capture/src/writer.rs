use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::record::{Header, Record};

/// Where encoded capture lines go. The file sink rotates by size; the JetStream sink
/// ([`crate::nats::JetStreamSink`]) receives the very same bytes, one record per call.
pub trait RecordSink: Send {
    /// Writes one encoded record, newline included.
    fn write_line(&mut self, line: &[u8]) -> Result<(), WriteError>;
    fn flush(&mut self) -> Result<(), WriteError>;
    /// Called once when the capture ends: everything handed over is stored or counted.
    fn close(&mut self) -> Result<(), WriteError> {
        self.flush()
    }
    /// True when the sink reports each record's outcome itself (through
    /// [`crate::SinkEvents`]); false when `write_line` returning `Ok` means stored.
    fn reports_outcomes(&self) -> bool {
        false
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("could not write the capture file {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not encode a capture record")]
    Encode(#[from] serde_json::Error),
}

/// Encodes a record as one JSON line.
pub fn encode_line(record: &Record) -> Result<Vec<u8>, WriteError> {
    let mut line = serde_json::to_vec(record)?;
    line.push(b'\n');
    Ok(line)
}

/// When to start a new file, and how many old ones to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Start a new file once the current one reaches this many bytes.
    pub max_bytes: u64,
    /// Rotated files to keep besides the active one; older ones are deleted. 0 keeps all.
    pub max_files: usize,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            max_files: 10,
        }
    }
}

/// Writes capture lines to `path`, rotating it to `stem.N.ext` (N increasing, the highest the
/// newest) when it grows past the policy's size. Every file starts with a header line.
pub struct FileSink {
    path: PathBuf,
    policy: RotationPolicy,
    header: Header,
    out: BufWriter<File>,
    written: u64,
    next_seq: u64,
}

impl FileSink {
    /// Opens `path`. An existing non-empty file is rotated away first, so each file holds one
    /// run's records under one header.
    pub fn create(path: &Path, policy: RotationPolicy, header: Header) -> Result<Self, WriteError> {
        let io = |source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        };
        let next_seq = existing_rotations(path)
            .last()
            .map(|(n, _)| n + 1)
            .unwrap_or(1);
        let mut sink = FileSink {
            path: path.to_path_buf(),
            policy,
            header,
            out: BufWriter::new(open_new(path).map_err(io)?),
            written: 0,
            next_seq,
        };
        if std::fs::metadata(path)
            .map(|m| m.len() > 0)
            .unwrap_or(false)
        {
            sink.rotate()?;
        } else {
            sink.write_header()?;
        }
        Ok(sink)
    }

    fn io_err(&self, source: std::io::Error) -> WriteError {
        WriteError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn write_header(&mut self) -> Result<(), WriteError> {
        self.header.created_at =
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let line = encode_line(&Record::Header(self.header.clone()))?;
        self.out.write_all(&line).map_err(|e| self.io_err(e))?;
        self.written += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), WriteError> {
        self.out.flush().map_err(|e| self.io_err(e))?;
        let target = rotated_name(&self.path, self.next_seq);
        std::fs::rename(&self.path, &target).map_err(|e| self.io_err(e))?;
        self.next_seq += 1;
        self.out = BufWriter::new(open_new(&self.path).map_err(|e| self.io_err(e))?);
        self.written = 0;
        self.write_header()?;
        if self.policy.max_files > 0 {
            let rotations = existing_rotations(&self.path);
            let excess = rotations.len().saturating_sub(self.policy.max_files);
            for (_, old) in rotations.into_iter().take(excess) {
                let _ = std::fs::remove_file(old);
            }
        }
        Ok(())
    }

    /// Bytes in the active file.
    pub fn active_len(&self) -> u64 {
        self.written
    }
}

impl RecordSink for FileSink {
    fn write_line(&mut self, line: &[u8]) -> Result<(), WriteError> {
        if self.written > 0 && self.written + line.len() as u64 > self.policy.max_bytes {
            self.rotate()?;
        }
        self.out.write_all(line).map_err(|e| self.io_err(e))?;
        self.written += line.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), WriteError> {
        self.out.flush().map_err(|e| self.io_err(e))?;
        self.out.get_ref().sync_data().map_err(|e| self.io_err(e))
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

fn open_new(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `traffic.jsonl` → `traffic.N.jsonl`; `traffic` → `traffic.N`.
pub(crate) fn rotated_name(base: &Path, seq: u64) -> PathBuf {
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}.{seq}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{seq}"),
    };
    base.with_file_name(name)
}

/// Rotated files of `base`, oldest first.
pub(crate) fn existing_rotations(base: &Path) -> Vec<(u64, PathBuf)> {
    let dir = match base.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = base.extension().map(|e| e.to_string_lossy().into_owned());
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&stem)?.strip_prefix('.')?;
            let seq = match &ext {
                Some(ext) => rest.strip_suffix(ext.as_str())?.strip_suffix('.')?,
                None => rest,
            };
            let n = seq.parse::<u64>().ok()?;
            Some((n, base.with_file_name(name)))
        })
        .collect();
    found.sort();
    found
}
