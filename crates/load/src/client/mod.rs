//! The HTTP/1.1 client: connections, request encoding and the response reader.
mod conn;
mod parse;

pub use conn::{Conn, Endpoint, ExchangeError, RequestError, Response};
pub use parse::{ProtocolError, ResponseParser};
