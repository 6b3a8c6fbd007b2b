//! PII detection (filled in below).
