//! prodlike data: profile, subset, mask, synthesise and verify staging data
#![forbid(unsafe_code)]
