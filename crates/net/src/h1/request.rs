//! Writing a request: the head in one buffer, the body as Content-Length or chunked frames, a
//! chunked body's trailer fields after its last chunk.
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, header};
use http_body::Body;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::H1Error;
use super::chunked::chunk_header;

/// Bodies up to this size are sent in the same write as the head.
const COALESCE: usize = 16 * 1024;

/// How the request body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
}

/// Serialises the request head. Framing headers from the caller are replaced: they describe
/// the client's hop, not ours.
pub fn write_head(
    parts: &Parts,
    default_host: &HeaderValue,
    framing: BodyFraming,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(parts.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .as_bytes(),
    );
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !parts.headers.contains_key(header::HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(default_host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in &parts.headers {
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::EXPECT
        {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match framing {
        BodyFraming::None => {}
        BodyFraming::Length(n) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(n.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        BodyFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// Chooses the framing from what the body says of itself.
pub fn framing_of<B: Body>(method: &Method, body: &B) -> BodyFraming {
    if body.is_end_stream() {
        // Methods that define a body get an explicit empty one; others none at all.
        if matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
            BodyFraming::Length(0)
        } else {
            BodyFraming::None
        }
    } else {
        match body.size_hint().exact() {
            Some(n) => BodyFraming::Length(n),
            None => BodyFraming::Chunked,
        }
    }
}

/// Writes head and body. Small known-length bodies go out with the head in one write (appended
/// to `head`); a bodyless request leaves `head` as it was, so it can be sent again.
pub async fn send<B>(
    io: &mut TcpStream,
    head: &mut Vec<u8>,
    framing: BodyFraming,
    mut body: B,
) -> Result<(), H1Error>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if framing == BodyFraming::None || framing == BodyFraming::Length(0) {
        return io.write_all(head).await.map_err(H1Error::Io);
    }
    let coalesce = matches!(framing, BodyFraming::Length(n) if n as usize <= COALESCE);
    let mut head_sent = false;
    let mut sent: u64 = 0;
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| H1Error::RequestBody(e.into()))?;
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                trailers = frame.into_trailers().ok();
                continue;
            }
        };
        if data.is_empty() {
            continue;
        }
        sent += data.len() as u64;
        if let BodyFraming::Length(n) = framing
            && sent > n
        {
            return Err(H1Error::RequestBodyTooLong { declared: n });
        }
        if coalesce && !head_sent {
            head.extend_from_slice(&data);
            continue;
        }
        if !head_sent {
            io.write_all(head).await.map_err(H1Error::Io)?;
            head_sent = true;
        }
        match framing {
            BodyFraming::Chunked => {
                let mut piece = chunk_header(data.len());
                piece.extend_from_slice(&data);
                piece.extend_from_slice(b"\r\n");
                io.write_all(&piece).await.map_err(H1Error::Io)?;
            }
            _ => io.write_all(&data).await.map_err(H1Error::Io)?,
        }
    }
    if let BodyFraming::Length(n) = framing
        && sent != n
    {
        return Err(H1Error::RequestBodyTooShort { sent, declared: n });
    }
    if !head_sent {
        io.write_all(head).await.map_err(H1Error::Io)?;
    }
    if framing == BodyFraming::Chunked {
        let mut end = b"0\r\n".to_vec();
        for (name, value) in trailers.iter().flatten() {
            end.extend_from_slice(name.as_str().as_bytes());
            end.extend_from_slice(b": ");
            end.extend_from_slice(value.as_bytes());
            end.extend_from_slice(b"\r\n");
        }
        end.extend_from_slice(b"\r\n");
        io.write_all(&end).await.map_err(H1Error::Io)?;
    }
    Ok(())
}
