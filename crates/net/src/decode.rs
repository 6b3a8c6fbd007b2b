//! HTTP content codings (`Content-Encoding`): gzip, deflate, br and zstd decoded in memory, with
//! the decoded size bounded so that a small compressed body (a decompression bomb) cannot make
//! the reader allocate without limit. Used on the mirror side of `prodlike shadow` to compare and
//! mask what production and staging send compressed.
use std::io::Read;

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
        Coding::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(body), coding, limit),
        Coding::Deflate => read_bounded(flate2::read::ZlibDecoder::new(body), coding, limit)
            .or_else(|e| match e {
                DecodeError::Corrupt { .. } => {
                    read_bounded(flate2::read::DeflateDecoder::new(body), coding, limit)
                }
                other => Err(other),
            }),
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
