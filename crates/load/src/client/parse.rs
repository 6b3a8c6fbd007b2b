//! An incremental HTTP/1.1 response reader: fed whatever bytes arrived, it finds the head, then
//! counts (and discards) the body framed by Content-Length, chunked encoding or the connection's
//! end. Responses are untrusted input: nothing here panics, whatever the bytes.
use std::fmt;

/// Longest response head we accept.
pub const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 96;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn perr(msg: impl Into<String>) -> ProtocolError {
    ProtocolError(msg.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading the size line.
    Size,
    /// Inside chunk data with this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Reading trailer lines after the last chunk.
    Trailer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    Chunked(Chunk),
    UntilClose,
    Done,
}

/// Reads one response. `feed` consumes what it can and says how much; call it again with more
/// bytes until [`ResponseParser::is_done`], and call [`ResponseParser::eof`] when the peer closes.
#[derive(Debug, Clone)]
pub struct ResponseParser {
    state: State,
    head_request: bool,
    pub status: u16,
    pub keep_alive: bool,
    pub body_bytes: u64,
    pub head_bytes: u64,
}

impl ResponseParser {
    /// `head_request`: the request was HEAD, so the response has no body whatever it says.
    pub fn new(head_request: bool) -> Self {
        ResponseParser {
            state: State::Head,
            head_request,
            status: 0,
            keep_alive: false,
            body_bytes: 0,
            head_bytes: 0,
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// True once the head was read (status known).
    pub fn has_head(&self) -> bool {
        self.state != State::Head
    }

    /// The peer closed the connection: fine only for a body read until close.
    pub fn eof(&mut self) -> Result<(), ProtocolError> {
        match self.state {
            State::Done => Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                self.keep_alive = false;
                Ok(())
            }
            State::Head if self.head_bytes == 0 => Err(perr("connection closed before a response")),
            _ => Err(perr("connection closed in the middle of the response")),
        }
    }

    /// Consumes bytes from `buf`; returns how many were used. Returns 0 when the head is not
    /// complete yet (the caller must keep the bytes and add more).
    pub fn feed(&mut self, buf: &[u8]) -> Result<usize, ProtocolError> {
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            match self.state {
                State::Done => return Ok(used),
                State::Head => {
                    let n = self.parse_head(rest)?;
                    if n == 0 {
                        return Ok(used);
                    }
                    used += n;
                }
                State::Length(left) => {
                    let take = (rest.len() as u64).min(left);
                    self.body_bytes += take;
                    used += take as usize;
                    self.state = if take == left {
                        State::Done
                    } else {
                        State::Length(left - take)
                    };
                    if self.state != State::Done {
                        return Ok(used);
                    }
                }
                State::UntilClose => {
                    self.body_bytes += rest.len() as u64;
                    return Ok(used + rest.len());
                }
                State::Chunked(c) => {
                    let n = self.chunked(c, rest)?;
                    if n == 0 {
                        return Ok(used);
                    }
                    used += n;
                }
            }
        }
    }

    fn parse_head(&mut self, buf: &[u8]) -> Result<usize, ProtocolError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_HEAD {
                    return Err(perr(format!("response head longer than {MAX_HEAD} bytes")));
                }
                return Ok(0);
            }
            Err(e) => return Err(perr(format!("malformed response head: {e}"))),
        };
        let status = resp.code.unwrap_or(0);
        let version = resp.version.unwrap_or(1);
        self.head_bytes += n as u64;
        if (100..200).contains(&status) && status != 101 {
            // Informational (100 Continue, 103 Early Hints): the real response follows.
            return Ok(n);
        }
        if status == 101 {
            return Err(perr(
                "server switched protocols (101); load only speaks HTTP/1.1",
            ));
        }
        self.status = status;
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut conn_close = version == 0;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let v = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or_else(|| perr("malformed Content-Length"))?;
                if length.is_some_and(|l| l != v) {
                    return Err(perr("conflicting Content-Length headers"));
                }
                length = Some(v);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                let v = String::from_utf8_lossy(h.value).to_ascii_lowercase();
                chunked = v
                    .rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim() == "chunked");
            } else if h.name.eq_ignore_ascii_case("connection") {
                let v = String::from_utf8_lossy(h.value).to_ascii_lowercase();
                if v.split(',').any(|t| t.trim() == "close") {
                    conn_close = true;
                } else if v.split(',').any(|t| t.trim() == "keep-alive") && version == 0 {
                    conn_close = false;
                }
            }
        }
        self.keep_alive = !conn_close;
        let no_body = self.head_request || status == 204 || status == 304;
        self.state = if no_body {
            State::Done
        } else if chunked {
            State::Chunked(Chunk::Size)
        } else if let Some(l) = length {
            if l == 0 {
                State::Done
            } else {
                State::Length(l)
            }
        } else {
            self.keep_alive = false;
            State::UntilClose
        };
        Ok(n)
    }

    /// One step of chunked decoding; returns bytes used (0 = need more input).
    fn chunked(&mut self, c: Chunk, buf: &[u8]) -> Result<usize, ProtocolError> {
        match c {
            Chunk::Size => {
                let Some(end) = find_crlf(buf) else {
                    return if buf.len() > 4096 {
                        Err(perr("chunk size line too long"))
                    } else {
                        Ok(0)
                    };
                };
                let line = &buf[..end];
                let hex = line.split(|&b| b == b';').next().unwrap_or(&[]);
                let hex = std::str::from_utf8(hex)
                    .map_err(|_| perr("malformed chunk size"))?
                    .trim();
                let size = u64::from_str_radix(hex, 16)
                    .map_err(|_| perr(format!("malformed chunk size `{hex}`")))?;
                self.body_bytes += 0;
                self.state = State::Chunked(if size == 0 {
                    Chunk::Trailer
                } else {
                    Chunk::Data(size)
                });
                Ok(end + 2)
            }
            Chunk::Data(left) => {
                if buf.is_empty() {
                    return Ok(0);
                }
                let take = (buf.len() as u64).min(left);
                self.body_bytes += take;
                self.state = State::Chunked(if take == left {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(left - take)
                });
                Ok(take as usize)
            }
            Chunk::DataEnd => {
                if buf.len() < 2 {
                    return Ok(0);
                }
                if &buf[..2] != b"\r\n" {
                    return Err(perr("chunk data not followed by CRLF"));
                }
                self.state = State::Chunked(Chunk::Size);
                Ok(2)
            }
            Chunk::Trailer => {
                let Some(end) = find_crlf(buf) else {
                    return if buf.len() > MAX_HEAD {
                        Err(perr("chunked trailer too long"))
                    } else {
                        Ok(0)
                    };
                };
                if end == 0 {
                    self.state = State::Done;
                }
                Ok(end + 2)
            }
        }
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `bytes` split at `cuts`, as a socket would deliver them, keeping unconsumed bytes.
    fn run(p: &mut ResponseParser, bytes: &[u8], cuts: &[usize]) -> Result<usize, ProtocolError> {
        let mut pending: Vec<u8> = Vec::new();
        let mut last = 0;
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.push(bytes.len());
        points.sort_unstable();
        for &cut in &points {
            pending.extend_from_slice(&bytes[last..cut]);
            last = cut;
            loop {
                let n = p.feed(&pending)?;
                pending.drain(..n);
                if n == 0 || p.is_done() || pending.is_empty() {
                    break;
                }
            }
            if p.is_done() {
                break;
            }
        }
        Ok(pending.len())
    }

    #[test]
    fn content_length_and_keep_alive() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let mut p = ResponseParser::new(false);
        assert_eq!(run(&mut p, r, &[3, 20]).unwrap(), 0);
        assert!(p.is_done() && p.keep_alive);
        assert_eq!((p.status, p.body_bytes), (200, 5));
    }

    #[test]
    fn chunked_with_trailers_and_informational() {
        let r = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;x=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n";
        let mut p = ResponseParser::new(false);
        run(&mut p, r, &[7, 30, 31, 60, 90]).unwrap();
        assert!(p.is_done());
        assert!(!p.keep_alive);
        assert_eq!((p.status, p.body_bytes), (201, 15));
    }

    #[test]
    fn no_body_cases_and_read_until_close() {
        let mut p = ResponseParser::new(true);
        run(
            &mut p,
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
            &[],
        )
        .unwrap();
        assert!(p.is_done());
        let mut p = ResponseParser::new(false);
        run(&mut p, b"HTTP/1.1 204 No Content\r\n\r\n", &[]).unwrap();
        assert!(p.is_done());
        let mut p = ResponseParser::new(false);
        run(&mut p, b"HTTP/1.0 200 OK\r\n\r\nabc", &[]).unwrap();
        assert!(!p.is_done());
        p.eof().unwrap();
        assert_eq!(p.body_bytes, 3);
        assert!(!p.keep_alive);
    }

    #[test]
    fn truncated_and_malformed_responses_are_errors() {
        let mut p = ResponseParser::new(false);
        run(
            &mut p,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            &[],
        )
        .unwrap();
        assert!(p.eof().unwrap_err().0.contains("middle"));
        let mut p = ResponseParser::new(false);
        assert!(p.eof().unwrap_err().0.contains("before a response"));
        let mut p = ResponseParser::new(false);
        assert!(p.feed(b"garbage garbage\r\n\r\n").is_err());
        let mut p = ResponseParser::new(false);
        assert!(
            p.feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
                .is_err()
        );
        let mut p = ResponseParser::new(false);
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(run(&mut p, r, &[]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600),
                                       cuts in prop::collection::vec(any::<usize>(), 0..6),
                                       head in any::<bool>()) {
            let mut p = ResponseParser::new(head);
            let _ = run(&mut p, &bytes, &cuts);
            let _ = p.eof();
        }

        #[test]
        fn mangled_responses_never_panic(body in prop::collection::vec(any::<u8>(), 0..300),
                                         flip in any::<usize>(), byte in any::<u8>(),
                                         cuts in prop::collection::vec(any::<usize>(), 0..6)) {
            let mut r = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n", body.len()).into_bytes();
            r.extend_from_slice(&body);
            r.extend_from_slice(b"\r\n0\r\n\r\n");
            let i = flip % r.len();
            r[i] = byte;
            let mut p = ResponseParser::new(false);
            let _ = run(&mut p, &r, &cuts);
        }

        #[test]
        fn chunked_bodies_decode_to_their_length(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 0..8),
                                                 cuts in prop::collection::vec(any::<usize>(), 0..10)) {
            let mut r = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            let mut total = 0;
            for c in &chunks {
                r.extend_from_slice(format!("{:X}\r\n", c.len()).as_bytes());
                r.extend_from_slice(c);
                r.extend_from_slice(b"\r\n");
                total += c.len();
            }
            r.extend_from_slice(b"0\r\n\r\n");
            let mut p = ResponseParser::new(false);
            let left = run(&mut p, &r, &cuts).unwrap();
            prop_assert!(p.is_done());
            prop_assert_eq!(left, 0);
            prop_assert_eq!(p.body_bytes, total as u64);
        }
    }
}
