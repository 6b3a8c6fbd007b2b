use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::record::{Exchange, FORMAT, Record, VERSION};
use crate::writer::existing_rotations;

/// Lines longer than this are skipped rather than buffered: a capture is untrusted input.
const MAX_LINE: usize = 64 * 1024 * 1024;
/// Skipped lines remembered for the report; the rest are only counted.
const KEEP_SKIPPED: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("could not read the capture {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} line {line}: capture format version {found} is newer than this prodlike reads ({VERSION}); upgrade prodlike"
    )]
    UnsupportedVersion { path: String, line: u64, found: u32 },
    #[error("{path} line {line}: not a prodlike capture (format `{found}`, expected `{FORMAT}`)")]
    WrongFormat {
        path: String,
        line: u64,
        found: String,
    },
}

/// A line the reader could not use.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedLine {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadStats {
    pub lines: u64,
    pub exchanges: u64,
    pub skipped: u64,
    /// The first skipped lines with their reasons.
    pub skipped_examples: Vec<SkippedLine>,
}

/// Streams exchanges out of a capture, one line at a time. Malformed lines are skipped and
/// counted (see [`CaptureReader::stats`]); only I/O errors and a file of another format or a
/// newer version stop the reader.
pub struct CaptureReader<R> {
    input: R,
    label: String,
    line_no: u64,
    stats: ReadStats,
    buf: Vec<u8>,
    failed: bool,
}

impl CaptureReader<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        let file = File::open(path).map_err(|source| ReadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self::new(
            BufReader::with_capacity(256 * 1024, file),
            path.display().to_string(),
        ))
    }
}

impl<R: BufRead> CaptureReader<R> {
    pub fn new(input: R, label: impl Into<String>) -> Self {
        Self {
            input,
            label: label.into(),
            line_no: 0,
            stats: ReadStats::default(),
            buf: Vec::new(),
            failed: false,
        }
    }

    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    fn skip(&mut self, reason: String) {
        self.stats.skipped += 1;
        if self.stats.skipped_examples.len() < KEEP_SKIPPED {
            self.stats.skipped_examples.push(SkippedLine {
                line: self.line_no,
                reason,
            });
        }
    }

    /// Reads the next line into `buf`, up to MAX_LINE bytes. Returns Ok(None) at end of input,
    /// Ok(Some(false)) for an over-long line (consumed and dropped).
    fn next_line(&mut self) -> std::io::Result<Option<bool>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(if any { Some(!too_long) } else { None });
            }
            any = true;
            let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (available.get(..i).unwrap_or(available), Some(i + 1)),
                None => (available, None),
            };
            if !too_long && self.buf.len() + chunk.len() <= MAX_LINE {
                self.buf.extend_from_slice(chunk);
            } else {
                too_long = true;
                self.buf.clear();
            }
            let consumed = done.unwrap_or(available.len());
            self.input.consume(consumed);
            if done.is_some() {
                return Ok(Some(!too_long));
            }
        }
    }
}

impl<R: BufRead> Iterator for CaptureReader<R> {
    type Item = Result<Exchange, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let ok = match self.next_line() {
                Ok(None) => return None,
                Ok(Some(ok)) => ok,
                Err(source) => {
                    self.failed = true;
                    return Some(Err(ReadError::Io {
                        path: self.label.clone(),
                        source,
                    }));
                }
            };
            self.line_no += 1;
            self.stats.lines += 1;
            if !ok {
                self.skip(format!("line longer than {MAX_LINE} bytes"));
                continue;
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match decode(&self.buf) {
                Decoded::Exchange(ex) => {
                    self.stats.exchanges += 1;
                    return Some(Ok(*ex));
                }
                Decoded::Header => {}
                Decoded::Skip(reason) => self.skip(reason),
                Decoded::Stop(problem) => {
                    self.failed = true;
                    return Some(Err(problem.at(&self.label, self.line_no)));
                }
            }
        }
    }
}

/// One record decoded from its encoded line (a file's line, or a JetStream message's payload).
pub(crate) enum Decoded {
    Exchange(Box<Exchange>),
    /// A header of this format and a version this crate reads.
    Header,
    /// Malformed: skipped and counted, with the reason.
    Skip(String),
    /// A header that stops the reader.
    Stop(StopReading),
}

/// Why a header stops the reader.
pub(crate) enum StopReading {
    WrongFormat(String),
    NewerVersion(u32),
}

impl StopReading {
    /// The error, at `line` of `label` (a file, or a stream with the message's sequence).
    pub(crate) fn at(self, label: &str, line: u64) -> ReadError {
        match self {
            StopReading::WrongFormat(found) => ReadError::WrongFormat {
                path: label.to_string(),
                line,
                found,
            },
            StopReading::NewerVersion(found) => ReadError::UnsupportedVersion {
                path: label.to_string(),
                line,
                found,
            },
        }
    }
}

/// Decodes one encoded record.
pub(crate) fn decode(line: &[u8]) -> Decoded {
    match serde_json::from_slice::<Record>(line) {
        Ok(Record::Exchange(ex)) => Decoded::Exchange(ex),
        Ok(Record::Header(h)) if h.format != FORMAT => {
            Decoded::Stop(StopReading::WrongFormat(h.format))
        }
        Ok(Record::Header(h)) if h.version > VERSION => {
            Decoded::Stop(StopReading::NewerVersion(h.version))
        }
        Ok(Record::Header(_)) => Decoded::Header,
        Err(e) => Decoded::Skip(e.to_string()),
    }
}

/// The files of a rotated capture in chronological order: `stem.1.ext`, `stem.2.ext`, …, then
/// the active `base` itself when it exists.
pub fn rotated_files(base: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = existing_rotations(base)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if base.exists() {
        files.push(base.to_path_buf());
    }
    files
}
