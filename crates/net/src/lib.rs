//! HTTP client and TLS plumbing shared by shadow and load
#![forbid(unsafe_code)]
