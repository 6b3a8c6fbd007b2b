//! Binary COPY streams: a parser for `COPY … TO STDOUT (FORMAT binary)` and a writer for
//! `COPY … FROM STDIN (FORMAT binary)`. Rows are parsed without copying field bytes (each field
//! is a slice of the received buffer), so unmasked columns pass through untouched.

use std::pin::Pin;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio_postgres::{CopyInSink, CopyOutStream};

use crate::error::{DataError, Result};
use crate::row::{Field, Row};

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Incremental parser of the binary COPY format.
///
/// PostgreSQL sends one tuple per CopyData message, so a received chunk is usually parsed where
/// it lies (`cur`): its fields are slices of the chunk, nothing is copied. Only bytes that end
/// mid-tuple are carried over (`buf`) and joined with the next chunk.
#[derive(Default)]
pub struct CopyParser {
    /// Bytes carried from earlier chunks (a tuple split across messages); empty while `cur` is not.
    buf: BytesMut,
    /// The chunk being parsed in place; empty while `buf` is not.
    cur: Bytes,
    header_done: bool,
    finished: bool,
}

/// What the bytes at hand hold next.
enum Next {
    /// Not enough bytes yet.
    More,
    /// The end-of-data marker.
    End,
    /// A tuple of `n` fields, `len` bytes long.
    Tuple { n: usize, len: usize },
}

impl CopyParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes (copied: use [`CopyParser::push_bytes`] for a received chunk).
    pub fn push(&mut self, chunk: &[u8]) {
        self.carry_cur();
        self.buf.extend_from_slice(chunk);
    }

    /// Adds a received chunk, parsed in place when no partial tuple is waiting for it.
    pub fn push_bytes(&mut self, chunk: Bytes) {
        if self.buf.is_empty() && self.cur.is_empty() {
            self.cur = chunk;
        } else {
            self.push(&chunk);
        }
    }

    /// Moves what is left of the in-place chunk into the carry buffer (it ends mid-tuple).
    fn carry_cur(&mut self) {
        if !self.cur.is_empty() {
            self.buf.extend_from_slice(&self.cur);
            self.cur = Bytes::new();
        }
    }

    /// The unparsed bytes, in order (only one of the two buffers holds any).
    fn data(&self) -> &[u8] {
        if self.cur.is_empty() {
            &self.buf
        } else {
            &self.cur
        }
    }

    /// Drops the first `n` unparsed bytes.
    fn advance(&mut self, n: usize) {
        if self.cur.is_empty() {
            self.buf.advance(n);
        } else {
            self.cur.advance(n);
        }
    }

    /// Takes the first `n` unparsed bytes (a whole in-place chunk is moved, not shared).
    fn take(&mut self, n: usize) -> Bytes {
        if self.cur.is_empty() {
            self.buf.split_to(n).freeze()
        } else if n == self.cur.len() {
            std::mem::take(&mut self.cur)
        } else {
            self.cur.split_to(n)
        }
    }

    /// True once the end-of-data marker was read.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Reads the header if it is still due; false when more bytes are needed.
    fn header(&mut self) -> std::result::Result<bool, String> {
        if self.header_done {
            return Ok(true);
        }
        let d = self.data();
        if d.len() < 19 {
            return Ok(false);
        }
        if &d[..11] != SIGNATURE {
            return Err("not a binary COPY stream (bad signature)".into());
        }
        let ext = u32::from_be_bytes([d[15], d[16], d[17], d[18]]) as usize;
        if d.len() < 19 + ext {
            return Ok(false);
        }
        self.advance(19 + ext);
        self.header_done = true;
        Ok(true)
    }

    /// Walks the next tuple's field lengths without building anything.
    fn peek(d: &[u8]) -> std::result::Result<Next, String> {
        if d.len() < 2 {
            return Ok(Next::More);
        }
        let n = i16::from_be_bytes([d[0], d[1]]);
        if n == -1 {
            return Ok(Next::End);
        }
        if n < 0 {
            return Err(format!("bad field count {n}"));
        }
        let mut at = 2usize;
        for _ in 0..n {
            let Some(l) = d.get(at..at + 4) else {
                return Ok(Next::More);
            };
            let len = i32::from_be_bytes([l[0], l[1], l[2], l[3]]);
            at += 4;
            if len >= 0 {
                at += len as usize;
                if d.len() < at {
                    return Ok(Next::More);
                }
            }
        }
        Ok(Next::Tuple {
            n: n as usize,
            len: at,
        })
    }

    /// The next complete tuple's bytes (its field count, then each field's length and bytes,
    /// lengths checked), `Ok(None)` when more bytes are needed or the data ended: a reader that
    /// needs few of the fields walks them with [`tuple_fields`] instead of building a row.
    pub fn next_tuple(&mut self) -> std::result::Result<Option<(usize, Bytes)>, String> {
        if self.finished || !self.header()? {
            return Ok(None);
        }
        match Self::peek(self.data())? {
            Next::More => Ok(None),
            Next::End => {
                self.finished = true;
                self.advance(2);
                Ok(None)
            }
            Next::Tuple { n, len } => Ok(Some((n, self.take(len)))),
        }
    }

    /// Hands every complete tuple at hand to `f` as a slice of the received bytes (nothing
    /// copied or counted per tuple, as [`CopyParser::next_tuple`] does); a tuple split across
    /// chunks waits for the next.
    pub fn for_each_tuple(&mut self, mut f: impl FnMut(&[u8])) -> std::result::Result<(), String> {
        while !self.finished && self.header()? {
            match Self::peek(self.data())? {
                Next::More => break,
                Next::End => {
                    self.finished = true;
                    self.advance(2);
                }
                Next::Tuple { len, .. } => {
                    f(&self.data()[..len]);
                    self.advance(len);
                }
            }
        }
        Ok(())
    }

    /// The next complete row, `Ok(None)` when more bytes are needed or the data ended.
    pub fn next_row(&mut self) -> std::result::Result<Option<Row>, String> {
        let Some((n, tuple)) = self.next_tuple()? else {
            return Ok(None);
        };
        // The lengths were checked by `peek`; the fields are slices of the tuple's bytes.
        let mut row = Vec::with_capacity(n);
        let mut at = 2usize;
        let mut last = None;
        for k in 0..n {
            let len = i32::from_be_bytes([tuple[at], tuple[at + 1], tuple[at + 2], tuple[at + 3]]);
            at += 4;
            if len < 0 {
                row.push(Field::Null);
            } else {
                let end = at + len as usize;
                if k + 1 == n {
                    last = Some((at, end));
                } else {
                    row.push(Field::Raw(tuple.slice(at..end)));
                }
                at = end;
            }
        }
        // The last field takes the tuple's handle itself: one reference count less per row.
        if let Some((a, b)) = last {
            let mut t = tuple;
            t.advance(a);
            t.truncate(b - a);
            row.push(Field::Raw(t));
        }
        Ok(Some(row))
    }
}

/// Reads rows from a `COPY … TO STDOUT (FORMAT binary)` stream.
pub struct CopyReader {
    stream: Pin<Box<CopyOutStream>>,
    parser: CopyParser,
    what: String,
}

impl CopyReader {
    pub fn new(stream: CopyOutStream, what: impl Into<String>) -> Self {
        Self {
            stream: Box::pin(stream),
            parser: CopyParser::new(),
            what: what.into(),
        }
    }

    /// The next row, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Row>> {
        loop {
            match self.parser.next_row() {
                Ok(Some(row)) => return Ok(Some(row)),
                Ok(None) if self.parser.finished() => return Ok(None),
                Ok(None) => {}
                // The parser's message is a leaf (no cause of its own), quoted with the table it came from.
                Err(e) => return Err(DataError::Invalid(format!("{}: {e}", self.what))),
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.parser.push_bytes(chunk),
                Some(Err(e)) => return Err(DataError::pg(format!("reading {}", self.what))(e)),
                None => return Ok(None),
            }
        }
    }
}

/// The fields of a tuple [`CopyParser::next_tuple`] returned, as byte ranges of it (`None`:
/// NULL). The lengths were checked when the tuple was cut; a shorter tuple ends the walk.
pub fn tuple_fields(tuple: &[u8]) -> impl Iterator<Item = Option<std::ops::Range<usize>>> + '_ {
    let mut at = 2usize;
    std::iter::from_fn(move || {
        let l = tuple.get(at..at + 4)?;
        let len = i32::from_be_bytes([l[0], l[1], l[2], l[3]]);
        at += 4;
        if len < 0 {
            return Some(None);
        }
        let start = at;
        at += len as usize;
        (at <= tuple.len()).then_some(Some(start..at))
    })
}

/// A binary COPY stream being built in memory: the header, then rows, then the trailer. The
/// PostgreSQL writer sends it in chunks; a data snapshot stores the same bytes (compressed).
pub struct CopyBuf {
    buf: BytesMut,
}

impl Default for CopyBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl CopyBuf {
    /// A stream with its header written.
    pub fn new() -> Self {
        let mut buf = BytesMut::with_capacity(FLUSH_AT + 64 * 1024);
        buf.put_slice(SIGNATURE);
        buf.put_u32(0);
        buf.put_u32(0);
        Self { buf }
    }

    /// Makes room for a whole chunk before rows are added. After [`CopyBuf::take`] only the
    /// first buffer's tail is left: the buffer is taken back if the sent chunk was dropped
    /// already (warm memory, no allocation), else one chunk-sized buffer is allocated at once,
    /// rather than growing by doubling and copying what was written.
    pub fn make_room(&mut self) {
        if self.buf.capacity() < FLUSH_AT {
            self.buf.reserve(FLUSH_AT + 64 * 1024 - self.buf.len());
        }
    }

    /// Starts a row of `n` fields.
    pub fn begin_row(&mut self, n: usize) {
        self.buf.put_i16(n as i16);
    }

    pub fn null(&mut self) {
        self.buf.put_i32(-1);
    }

    pub fn field(&mut self, bytes: &[u8]) {
        self.buf.put_i32(bytes.len() as i32);
        self.buf.put_slice(bytes);
    }

    /// True when a chunk is worth sending (about 256 KiB).
    pub fn full(&self) -> bool {
        self.buf.len() >= FLUSH_AT
    }

    /// Takes the bytes built so far.
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// Writes the end-of-data marker and takes the rest of the stream.
    pub fn end(&mut self) -> Bytes {
        self.buf.put_i16(-1);
        self.take()
    }
}

/// Writes rows into `COPY … FROM STDIN (FORMAT binary)`, in chunks of about 256 KiB.
pub struct CopyWriter {
    sink: Pin<Box<CopyInSink<Bytes>>>,
    buf: CopyBuf,
    what: String,
}

pub const FLUSH_AT: usize = 256 * 1024;

impl CopyWriter {
    pub fn new(sink: CopyInSink<Bytes>, what: impl Into<String>) -> Self {
        Self {
            sink: Box::pin(sink),
            buf: CopyBuf::new(),
            what: what.into(),
        }
    }

    /// The stream being built, to add rows to.
    pub fn buf(&mut self) -> &mut CopyBuf {
        &mut self.buf
    }

    /// Sends the buffer when it is large enough.
    pub async fn maybe_flush(&mut self) -> Result<()> {
        if self.buf.full() {
            let chunk = self.buf.take();
            self.sink
                .send(chunk)
                .await
                .map_err(DataError::pg(format!("writing {}", self.what)))?;
        }
        Ok(())
    }

    /// Ends the stream; returns the number of rows the server took.
    pub async fn finish(mut self) -> Result<u64> {
        let chunk = self.buf.end();
        self.sink
            .send(chunk)
            .await
            .map_err(DataError::pg(format!("writing {}", self.what)))?;
        self.sink
            .as_mut()
            .finish()
            .await
            .map_err(DataError::pg(format!("finishing {}", self.what)))
    }
}

/// Sends a whole binary COPY stream, already encoded (a data snapshot's table), into
/// `COPY … FROM STDIN (FORMAT binary)`, chunk by chunk as given.
pub struct RawCopyWriter {
    sink: Pin<Box<CopyInSink<Bytes>>>,
    what: String,
}

impl RawCopyWriter {
    pub fn new(sink: CopyInSink<Bytes>, what: impl Into<String>) -> Self {
        Self {
            sink: Box::pin(sink),
            what: what.into(),
        }
    }

    pub async fn send(&mut self, chunk: Bytes) -> Result<()> {
        self.sink
            .send(chunk)
            .await
            .map_err(DataError::pg(format!("writing {}", self.what)))
    }

    /// Ends the stream; returns the number of rows the server took.
    pub async fn finish(mut self) -> Result<u64> {
        self.sink
            .as_mut()
            .finish()
            .await
            .map_err(DataError::pg(format!("finishing {}", self.what)))
    }
}

/// Counts the rows of a binary COPY stream fed chunk by chunk, without building them: the
/// byte-level pass-through of unmasked tables (`sync.rs`) needs the row count a snapshot's
/// manifest records, and nothing else of the rows. Walks tuple and field lengths only.
#[derive(Debug, Default)]
pub struct TupleCounter {
    /// Bytes of a length being assembled across chunks.
    carry: Vec<u8>,
    state: CountState,
    /// Bytes of field data (or of the header extension) still to skip.
    skip: usize,
    fields_left: i16,
    rows: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum CountState {
    /// The 19-byte header (signature, flags, extension length).
    #[default]
    Header,
    Extension,
    TupleHeader,
    FieldLength,
    FieldData,
    Done,
}

impl TupleCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows seen so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// True once the end-of-data marker was seen.
    pub fn finished(&self) -> bool {
        self.state == CountState::Done
    }

    /// Takes `need` bytes into `carry` from `b[*at..]`; true when it holds them all.
    fn gather(&mut self, b: &[u8], at: &mut usize, need: usize) -> bool {
        let take = (need - self.carry.len()).min(b.len() - *at);
        self.carry.extend_from_slice(&b[*at..*at + take]);
        *at += take;
        self.carry.len() == need
    }

    fn field_done(&mut self) {
        self.fields_left -= 1;
        if self.fields_left == 0 {
            self.rows += 1;
            self.state = CountState::TupleHeader;
        } else {
            self.state = CountState::FieldLength;
        }
    }

    /// Feeds the next chunk; an error names what is malformed.
    pub fn push(&mut self, b: &[u8]) -> std::result::Result<(), String> {
        let mut at = 0usize;
        while at < b.len() {
            match self.state {
                CountState::Header => {
                    if self.gather(b, &mut at, 19) {
                        if &self.carry[..11] != SIGNATURE {
                            return Err("not a binary COPY stream (bad signature)".into());
                        }
                        let ext = u32::from_be_bytes([
                            self.carry[15],
                            self.carry[16],
                            self.carry[17],
                            self.carry[18],
                        ]);
                        self.carry.clear();
                        self.skip = ext as usize;
                        self.state = CountState::Extension;
                    }
                }
                CountState::Extension | CountState::FieldData => {
                    let n = self.skip.min(b.len() - at);
                    at += n;
                    self.skip -= n;
                    if self.skip == 0 {
                        if self.state == CountState::Extension {
                            self.state = CountState::TupleHeader;
                        } else {
                            self.field_done();
                        }
                    }
                }
                CountState::TupleHeader => {
                    if self.gather(b, &mut at, 2) {
                        let n = i16::from_be_bytes([self.carry[0], self.carry[1]]);
                        self.carry.clear();
                        match n {
                            -1 => self.state = CountState::Done,
                            0 => self.rows += 1,
                            n if n > 0 => {
                                self.fields_left = n;
                                self.state = CountState::FieldLength;
                            }
                            n => return Err(format!("bad field count {n}")),
                        }
                    }
                }
                CountState::FieldLength => {
                    if self.gather(b, &mut at, 4) {
                        let len = i32::from_be_bytes([
                            self.carry[0],
                            self.carry[1],
                            self.carry[2],
                            self.carry[3],
                        ]);
                        self.carry.clear();
                        if len <= 0 {
                            // NULL (-1) or empty: no data follows.
                            self.field_done();
                        } else {
                            self.skip = len as usize;
                            self.state = CountState::FieldData;
                        }
                    }
                }
                CountState::Done => return Err("bytes after the end-of-data marker".into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut b = SIGNATURE.to_vec();
        b.extend_from_slice(&[0; 8]);
        for r in rows {
            b.extend_from_slice(&(r.len() as i16).to_be_bytes());
            for f in r {
                match f {
                    None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(x) => {
                        b.extend_from_slice(&(x.len() as i32).to_be_bytes());
                        b.extend_from_slice(x);
                    }
                }
            }
        }
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b
    }

    fn want_rows(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<Row> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .map(|f| match f {
                        None => Field::Null,
                        Some(x) => Field::Raw(Bytes::copy_from_slice(x)),
                    })
                    .collect()
            })
            .collect()
    }

    proptest! {
        #[test]
        fn parses_rows_split_at_any_chunk_boundary(
            rows in proptest::collection::vec(proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12)), 1..5), 0..20),
            cut in 1usize..50,
        ) {
            let bytes = encode(&rows);
            let mut p = CopyParser::new();
            let mut got = Vec::new();
            for chunk in bytes.chunks(cut) {
                p.push(chunk);
                while let Some(r) = p.next_row().unwrap() {
                    got.push(r);
                }
            }
            prop_assert!(p.finished());
            let want: Vec<Row> = rows.iter().map(|r| r.iter().map(|f| match f {
                None => Field::Null,
                Some(x) => Field::Raw(Bytes::copy_from_slice(x)),
            }).collect()).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn parses_received_chunks_in_place_or_carried(
            rows in proptest::collection::vec(proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12)), 1..5), 0..20),
            cut in 1usize..50,
            copied_every in 1usize..4,
        ) {
            let bytes = encode(&rows);
            let mut p = CopyParser::new();
            let mut got = Vec::new();
            for (i, chunk) in bytes.chunks(cut).enumerate() {
                // Chunks given as received (parsed in place) and as slices (copied), mixed.
                if i % copied_every == 0 {
                    p.push(chunk);
                } else {
                    p.push_bytes(Bytes::copy_from_slice(chunk));
                }
                while let Some(r) = p.next_row().unwrap() {
                    got.push(r);
                }
            }
            prop_assert!(p.finished());
            prop_assert_eq!(got, want_rows(&rows));
        }

        #[test]
        fn parses_one_tuple_per_chunk_as_postgres_sends_them(
            rows in proptest::collection::vec(proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12)), 1..5), 0..20),
        ) {
            // PostgreSQL's messages: the header with the first tuple, then one tuple each, then
            // the trailer.
            let bytes = encode(&rows);
            let mut cuts = vec![0usize];
            let mut at = 19;
            for r in &rows {
                at += 2 + r.iter().map(|f| 4 + f.as_ref().map_or(0, Vec::len)).sum::<usize>();
                cuts.push(at);
            }
            cuts.push(bytes.len());
            let mut p = CopyParser::new();
            let mut got = Vec::new();
            for w in cuts.windows(2) {
                p.push_bytes(Bytes::copy_from_slice(&bytes[w[0]..w[1]]));
                while let Some(r) = p.next_row().unwrap() {
                    got.push(r);
                }
            }
            prop_assert!(p.finished());
            prop_assert_eq!(got, want_rows(&rows));
        }

        #[test]
        fn tuples_walked_in_place_are_the_tuples_taken(
            rows in proptest::collection::vec(proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12)), 0..5), 0..20),
            cut in 1usize..50,
            copied_every in 1usize..4,
        ) {
            let bytes = encode(&rows);
            let (mut walked, mut taken) = (Vec::new(), Vec::new());
            let (mut a, mut b) = (CopyParser::new(), CopyParser::new());
            for (i, chunk) in bytes.chunks(cut).enumerate() {
                if i % copied_every == 0 {
                    a.push(chunk);
                } else {
                    a.push_bytes(Bytes::copy_from_slice(chunk));
                }
                a.for_each_tuple(|t| walked.push(t.to_vec())).unwrap();
                b.push(chunk);
                while let Some((_, t)) = b.next_tuple().unwrap() {
                    taken.push(t.to_vec());
                }
            }
            prop_assert!(a.finished());
            prop_assert_eq!(walked.len(), rows.len());
            prop_assert_eq!(walked, taken);
        }

        #[test]
        fn walking_garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200), cut in 1usize..30) {
            let mut p = CopyParser::new();
            let mut data = SIGNATURE.to_vec();
            data.extend_from_slice(&[0; 8]);
            data.extend_from_slice(&b);
            for chunk in data.chunks(cut) {
                p.push_bytes(Bytes::copy_from_slice(chunk));
                if p.for_each_tuple(|t| { let _ = tuple_fields(t).count(); }).is_err() {
                    break;
                }
            }
        }

        #[test]
        fn the_counter_counts_what_the_parser_parses(
            rows in proptest::collection::vec(proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12)), 0..5), 0..20),
            cut in 1usize..50,
        ) {
            let bytes = encode(&rows);
            let mut c = TupleCounter::new();
            for chunk in bytes.chunks(cut) {
                c.push(chunk).unwrap();
            }
            prop_assert!(c.finished());
            prop_assert_eq!(c.rows(), rows.len() as u64);
        }

        #[test]
        fn the_counter_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200), cut in 1usize..30) {
            let mut c = TupleCounter::new();
            let mut data = SIGNATURE.to_vec();
            data.extend_from_slice(&[0; 8]);
            data.extend_from_slice(&b);
            for chunk in data.chunks(cut) {
                if c.push(chunk).is_err() {
                    break;
                }
            }
        }

        #[test]
        fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut p = CopyParser::new();
            let mut data = SIGNATURE.to_vec();
            data.extend_from_slice(&[0; 8]);
            data.extend_from_slice(&b);
            p.push(&data);
            for _ in 0..100 {
                match p.next_row() {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
            // The same bytes parsed in place, as received chunks.
            let mut p = CopyParser::new();
            for chunk in data.chunks(7) {
                p.push_bytes(Bytes::copy_from_slice(chunk));
                for _ in 0..100 {
                    match p.next_row() {
                        Ok(Some(_)) => {}
                        _ => break,
                    }
                }
            }
        }
    }
}
