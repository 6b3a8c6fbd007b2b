//! The prodlike traffic capture format: written by shadow, read by load
#![forbid(unsafe_code)]
