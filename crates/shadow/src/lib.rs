//! prodlike shadow: a mirroring reverse proxy that never slows production
#![forbid(unsafe_code)]
