//! HTTP content codings (`Content-Encoding`): gzip, deflate, br and zstd decoded in memory, with
//! the decoded size bounded so that a small compressed body (a decompression bomb) cannot make
//! the reader allocate without limit. Used on the mirror side of `prodlike shadow` to compare and
//! mask what production and staging send compressed.
use std::cell::RefCell;
use std::io::Read;

use flate2::{Crc, Decompress, FlushDecompress, Status};
use http::HeaderMap;

/// One content coding, as named in `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    /// zlib-wrapped deflate (RFC 9110), or raw deflate as some servers send it.
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    /// The name used in headers, metrics and reports.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }

    fn parse(token: &str) -> Result<Option<Self>, DecodeError> {
        match token.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(None),
            "gzip" | "x-gzip" => Ok(Some(Coding::Gzip)),
            "deflate" => Ok(Some(Coding::Deflate)),
            "br" => Ok(Some(Coding::Brotli)),
            "zstd" => Ok(Some(Coding::Zstd)),
            other => Err(DecodeError::Unsupported {
                coding: other.chars().take(32).collect(),
            }),
        }
    }
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("content coding `{coding}` is not supported (gzip, deflate, br and zstd are)")]
    Unsupported { coding: String },
    #[error("the {coding} body is corrupt or cut short")]
    Corrupt { coding: &'static str },
    /// The decoded body would exceed the limit: a decompression bomb, or just too large.
    #[error("the {coding} body decodes to more than {limit} bytes; decoding was cut off")]
    TooLarge { coding: &'static str, limit: usize },
}

/// The codings of `Content-Encoding`, in the order they were applied (decode in reverse).
/// Empty when the body is not encoded.
pub fn codings(headers: &HeaderMap) -> Result<Vec<Coding>, DecodeError> {
    let mut out = Vec::new();
    for value in headers.get_all(http::header::CONTENT_ENCODING) {
        let text = value.to_str().map_err(|_| DecodeError::Unsupported {
            coding: "(not text)".into(),
        })?;
        for token in text.split(',') {
            if let Some(c) = Coding::parse(token)? {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// Decodes `body`, encoded with `codings` in that order, into at most `limit` bytes.
pub fn decode(body: &[u8], codings: &[Coding], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut data = body.to_vec();
    for &coding in codings.iter().rev() {
        data = decode_one(&data, coding, limit)?;
    }
    Ok(data)
}

fn decode_one(body: &[u8], coding: Coding, limit: usize) -> Result<Vec<u8>, DecodeError> {
    match coding {
        Coding::Gzip => gunzip(body, limit),
        Coding::Deflate => {
            with_inflater(true, |d| inflate_all(d, body, limit, coding)).or_else(|e| match e {
                DecodeError::Corrupt { .. } => {
                    with_inflater(false, |d| inflate_all(d, body, limit, coding))
                }
                other => Err(other),
            })
        }
        Coding::Brotli => read_bounded(
            brotli_decompressor::Decompressor::new(body, 4096),
            coding,
            limit,
        ),
        Coding::Zstd => {
            let decoder = ruzstd::decoding::StreamingDecoder::new(body)
                .map_err(|_| DecodeError::Corrupt { coding: "zstd" })?;
            read_bounded(decoder, coding, limit)
        }
    }
}

thread_local! {
    // One inflater per thread and format, reset (with its window zeroed) between bodies:
    // making a new one costs more than decoding a small body does.
    static RAW_INFLATER: RefCell<Option<Decompress>> = const { RefCell::new(None) };
    static ZLIB_INFLATER: RefCell<Option<Decompress>> = const { RefCell::new(None) };
}

fn with_inflater<T>(zlib: bool, f: impl FnOnce(&mut Decompress) -> T) -> T {
    let cell = if zlib { &ZLIB_INFLATER } else { &RAW_INFLATER };
    cell.with(|c| {
        let mut slot = c.borrow_mut();
        let d = slot.get_or_insert_with(|| Decompress::new(zlib));
        d.reset(zlib);
        f(d)
    })
}

/// Inflates a whole zlib or raw deflate body.
fn inflate_all(
    d: &mut Decompress,
    input: &[u8],
    limit: usize,
    coding: Coding,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    inflate_into(d, input, &mut out, limit, coding)?;
    Ok(out)
}

/// Inflates one deflate stream at the start of `input`, appending to `out` without letting it
/// pass `limit`; returns the input bytes the stream took.
fn inflate_into(
    d: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    coding: Coding,
) -> Result<usize, DecodeError> {
    let corrupt = DecodeError::Corrupt {
        coding: coding.name(),
    };
    let start_in = d.total_in();
    loop {
        if out.len() > limit {
            return Err(DecodeError::TooLarge {
                coding: coding.name(),
                limit,
            });
        }
        // Room to grow, but never more than one byte past the limit.
        let room = out.capacity() - out.len();
        if room == 0 {
            let grow = out.len().clamp(4096, 1 << 20).min(limit + 1 - out.len());
            out.reserve_exact(grow.max(1));
        }
        let used = (d.total_in() - start_in) as usize;
        let (before_in, before_out) = (d.total_in(), d.total_out());
        let status = d
            .decompress_vec(&input[used..], out, FlushDecompress::None)
            .map_err(|_| corrupt.clone())?;
        if status == Status::StreamEnd {
            if out.len() > limit {
                return Err(DecodeError::TooLarge {
                    coding: coding.name(),
                    limit,
                });
            }
            return Ok((d.total_in() - start_in) as usize);
        }
        let progressed = d.total_in() != before_in || d.total_out() != before_out;
        if !progressed && out.len() < out.capacity() {
            // No output room was wanted and no input was taken: the stream is cut short.
            return Err(corrupt);
        }
    }
}

/// RFC 1952: one or more gzip members, each a header, a deflate stream and a trailer (CRC-32
/// and length) that is checked.
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let corrupt = DecodeError::Corrupt { coding: "gzip" };
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let header = gzip_header_len(&body[at..]).ok_or_else(|| corrupt.clone())?;
        let member_start = out.len();
        let stream = with_inflater(false, |d| {
            inflate_into(d, &body[at + header..], &mut out, limit, Coding::Gzip)
        })?;
        let trailer = at + header + stream;
        let t = body
            .get(trailer..trailer + 8)
            .ok_or_else(|| corrupt.clone())?;
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        let mut check = Crc::new();
        check.update(&out[member_start..]);
        if check.sum() != crc || size != (out.len() - member_start) as u32 {
            return Err(corrupt);
        }
        at = trailer + 8;
        if at == body.len() {
            return Ok(out);
        }
    }
}

/// The length of a gzip member's header, or `None` when it is not one.
fn gzip_header_len(b: &[u8]) -> Option<usize> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if b.len() < 10 || b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 {
        return None;
    }
    let flags = b[3];
    let mut i = 10;
    if flags & FEXTRA != 0 {
        let xlen = u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as usize;
        i += 2 + xlen;
    }
    for field in [FNAME, FCOMMENT] {
        if flags & field != 0 {
            i += b.get(i..)?.iter().position(|&c| c == 0)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        i += 2;
    }
    (i <= b.len()).then_some(i)
}

/// Reads at most `limit` bytes, and one more to tell "exactly the limit" from "over it".
fn read_bounded(reader: impl Read, coding: Coding, limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let mut bounded = reader.take(limit as u64 + 1);
    bounded
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::Corrupt {
            coding: coding.name(),
        })?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge {
            coding: coding.name(),
            limit,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_coding_round_trips() {
        let body = br#"{"price": 10, "items": [1, 2, 3]}"#.repeat(20);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&body).unwrap();
        let zlib = z.finish().unwrap();
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(&body).unwrap();
        let raw_deflate = r.finish().unwrap();
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(&body).unwrap();
        }
        let zstd = ruzstd::encoding::compress_to_vec(
            &body[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        for (coding, encoded) in [
            (Coding::Gzip, gzip(&body)),
            (Coding::Deflate, zlib),
            (Coding::Deflate, raw_deflate),
            (Coding::Brotli, br),
            (Coding::Zstd, zstd),
        ] {
            assert_eq!(
                decode(&encoded, &[coding], 1 << 20).unwrap(),
                body,
                "{coding:?}"
            );
        }
        // Two codings applied in order are undone in reverse.
        let twice = gzip(&gzip(&body));
        assert_eq!(
            decode(&twice, &[Coding::Gzip, Coding::Gzip], 1 << 20).unwrap(),
            body
        );
    }

    #[test]
    fn a_bomb_is_cut_off_at_the_limit() {
        let bomb = gzip(&vec![b'a'; 50 << 20]);
        assert!(bomb.len() < 100 << 10, "{} bytes", bomb.len());
        assert_eq!(
            decode(&bomb, &[Coding::Gzip], 1 << 20),
            Err(DecodeError::TooLarge {
                coding: "gzip",
                limit: 1 << 20
            })
        );
        // Exactly at the limit is fine.
        let exact = gzip(&vec![b'b'; 1024]);
        assert_eq!(decode(&exact, &[Coding::Gzip], 1024).unwrap().len(), 1024);
    }

    #[test]
    fn corrupt_and_unknown_codings_are_errors() {
        assert_eq!(
            decode(b"\x1f\x8b not gzip", &[Coding::Gzip], 1024),
            Err(DecodeError::Corrupt { coding: "gzip" })
        );
        // A cut trailer, a wrong checksum, a truncated stream.
        let good = gzip(b"some body text");
        for bad in [
            good[..good.len() - 3].to_vec(),
            {
                let mut b = good.clone();
                let n = b.len();
                b[n - 8] ^= 1;
                b
            },
            good[..good.len() / 2].to_vec(),
        ] {
            assert_eq!(
                decode(&bad, &[Coding::Gzip], 1024),
                Err(DecodeError::Corrupt { coding: "gzip" })
            );
        }
        let mut h = HeaderMap::new();
        h.insert(http::header::CONTENT_ENCODING, "gzip, br".parse().unwrap());
        assert_eq!(codings(&h).unwrap(), vec![Coding::Gzip, Coding::Brotli]);
        h.insert(http::header::CONTENT_ENCODING, "compress".parse().unwrap());
        assert!(matches!(codings(&h), Err(DecodeError::Unsupported { .. })));
        h.insert(http::header::CONTENT_ENCODING, "identity".parse().unwrap());
        assert!(codings(&h).unwrap().is_empty());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            for c in [Coding::Gzip, Coding::Deflate, Coding::Brotli, Coding::Zstd] {
                let _ = decode(&bytes, &[c], 4096);
            }
        }
    }
}
