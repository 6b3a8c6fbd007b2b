//! Deterministic keyed masking and PII detection, shared by shadow and data
#![forbid(unsafe_code)]
