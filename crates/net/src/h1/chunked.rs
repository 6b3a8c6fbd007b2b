//! Incremental decoder of the chunked transfer coding (RFC 9112 §7.1): fed whatever bytes have
//! arrived, it says how many belong to chunk data and when the message ends. Trailer field lines
//! are handed to the caller one by one (`Step::Trailer`): the proxy passes them on, the load
//! generator drops them. Sizes are bounded so a hostile upstream cannot make us buffer without
//! limit.

/// Longest chunk-size line (size, extensions and CRLF) we accept.
const MAX_LINE: usize = 4096;
/// Longest trailer section we accept.
const MAX_TRAILERS: usize = 16 * 1024;

/// Why a chunked body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("invalid chunk size")]
    BadSize,
    #[error("chunk size line too long")]
    LineTooLong,
    #[error("chunk data not followed by CRLF")]
    BadChunkEnd,
    #[error("chunked trailers too long")]
    TrailersTooLong,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line.
    Size,
    /// `remaining` bytes of chunk data to go.
    Data,
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
    Done,
}

/// What the decoder found at the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The first `n` bytes are framing: drop them.
    Skip(usize),
    /// The first `n` bytes are body data.
    Data(usize),
    /// The first `n` bytes are one trailer field line, CRLF included.
    Trailer(usize),
    /// More bytes are needed.
    NeedMore,
    /// The message ended after dropping the first `n` bytes.
    Done(usize),
}

#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    remaining: u64,
    trailer_bytes: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self {
            state: State::Size,
            remaining: 0,
            trailer_bytes: 0,
        }
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

impl ChunkedDecoder {
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Looks at the front of `buf` (unconsumed bytes) and says what it is. The caller removes
    /// the bytes a `Skip`/`Data`/`Done` names, then calls again.
    pub fn step(&mut self, buf: &[u8]) -> Result<Step, ChunkError> {
        match self.state {
            State::Done => Ok(Step::Done(0)),
            State::Size => {
                let Some(end) = find_crlf(buf) else {
                    return if buf.len() > MAX_LINE {
                        Err(ChunkError::LineTooLong)
                    } else {
                        Ok(Step::NeedMore)
                    };
                };
                if end > MAX_LINE {
                    return Err(ChunkError::LineTooLong);
                }
                let line = &buf[..end];
                let size_part = line.split(|&b| b == b';').next().unwrap_or(b"");
                let size_text = trim_ows(size_part);
                if size_text.is_empty()
                    || size_text.len() > 16
                    || !size_text.iter().all(u8::is_ascii_hexdigit)
                {
                    return Err(ChunkError::BadSize);
                }
                let mut size: u64 = 0;
                for &d in size_text {
                    let v = (d as char).to_digit(16).unwrap_or(0) as u64;
                    size = size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(v))
                        .ok_or(ChunkError::BadSize)?;
                }
                if size == 0 {
                    self.state = State::Trailers;
                } else {
                    self.state = State::Data;
                    self.remaining = size;
                }
                Ok(Step::Skip(end + 2))
            }
            State::Data => {
                if buf.is_empty() {
                    return Ok(Step::NeedMore);
                }
                let n = (buf.len() as u64).min(self.remaining) as usize;
                self.remaining -= n as u64;
                if self.remaining == 0 {
                    self.state = State::DataEnd;
                }
                Ok(Step::Data(n))
            }
            State::DataEnd => {
                if buf.len() < 2 {
                    return Ok(Step::NeedMore);
                }
                if &buf[..2] != b"\r\n" {
                    return Err(ChunkError::BadChunkEnd);
                }
                self.state = State::Size;
                Ok(Step::Skip(2))
            }
            State::Trailers => {
                let Some(end) = find_crlf(buf) else {
                    return if self.trailer_bytes + buf.len() > MAX_TRAILERS {
                        Err(ChunkError::TrailersTooLong)
                    } else {
                        Ok(Step::NeedMore)
                    };
                };
                self.trailer_bytes += end + 2;
                if self.trailer_bytes > MAX_TRAILERS {
                    return Err(ChunkError::TrailersTooLong);
                }
                if end == 0 {
                    self.state = State::Done;
                    Ok(Step::Done(2))
                } else {
                    Ok(Step::Trailer(end + 2))
                }
            }
        }
    }
}

fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| *c != b' ' && *c != b'\t')
        .map(|i| i + 1)
        .unwrap_or(start);
    &b[start..end.max(start)]
}

/// Encodes one chunk's header (`size CRLF`).
pub fn chunk_header(len: usize) -> Vec<u8> {
    format!("{len:x}\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes a whole message fed in pieces of the given sizes.
    fn decode(input: &[u8], pieces: &[usize]) -> Result<(Vec<u8>, usize), ChunkError> {
        let mut d = ChunkedDecoder::default();
        let mut buf: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        let mut fed = 0;
        let mut sizes = pieces.iter().copied().cycle();
        loop {
            match d.step(&buf)? {
                Step::Skip(n) | Step::Trailer(n) => {
                    buf.drain(..n);
                }
                Step::Data(n) => {
                    out.extend(buf.drain(..n));
                }
                Step::Done(n) => {
                    buf.drain(..n);
                    return Ok((out, buf.len() + input.len() - fed));
                }
                Step::NeedMore => {
                    if fed == input.len() {
                        return Err(ChunkError::BadSize);
                    }
                    let take = sizes.next().unwrap_or(1).max(1).min(input.len() - fed);
                    buf.extend_from_slice(&input[fed..fed + take]);
                    fed += take;
                }
            }
        }
    }

    fn encode(chunks: &[Vec<u8>], trailers: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for c in chunks.iter().filter(|c| !c.is_empty()) {
            v.extend(chunk_header(c.len()));
            v.extend(c);
            v.extend(b"\r\n");
        }
        v.extend(b"0\r\n");
        v.extend(trailers.as_bytes());
        v.extend(b"\r\n");
        v
    }

    #[test]
    fn known_messages() {
        let msg = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let (body, left) = decode(msg, &[1000]).unwrap();
        assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.");
        assert_eq!(left, 4, "bytes after the message are not consumed");
        assert_eq!(decode(b"zz\r\n", &[10]), Err(ChunkError::BadSize));
        assert_eq!(
            decode(b"3\r\nabcX\r\n0\r\n\r\n", &[10]),
            Err(ChunkError::BadChunkEnd)
        );
        assert_eq!(
            decode(b"ffffffffffffffffff\r\n", &[100]),
            Err(ChunkError::BadSize)
        );
        assert!(decode(&vec![b'1'; 5000], &[5000]).is_err());
    }

    proptest! {
        #[test]
        fn round_trips_whatever_the_read_sizes(
            chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
            pieces in prop::collection::vec(1usize..64, 1..8),
            trailer in "(X-[a-z]{1,8}: [a-z0-9]{0,8}\r\n){0,2}",
        ) {
            let msg = encode(&chunks, &trailer);
            let (body, left) = decode(&msg, &pieces).unwrap();
            prop_assert_eq!(body, chunks.concat());
            prop_assert_eq!(left, 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..600), pieces in prop::collection::vec(1usize..50, 1..5)) {
            let _ = decode(&input, &pieces);
        }
    }
}
