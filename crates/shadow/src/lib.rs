//! prodlike shadow: a reverse proxy in front of production that mirrors a sampled share of
//! requests to staging without ever slowing production, masks PII in the copies, compares the
//! two responses, records traffic, and exports divergence as Prometheus metrics, a JSON API
//! and a live dashboard.
//!
//! Data flow (ARCHITECTURE.md has the file map): `server` accepts → `proxy` routes
//! (`routes`/`route`), samples (`sampler`) and forwards to a production `upstream`, teeing
//! bodies (`body`) into a `mirror` job → on the mirror runtime the job is masked (`masking`),
//! sent to staging, compared (`compare`), recorded per route (`divergence`), captured
//! (`capture_writer`) → `admin` serves `metrics`, `report` and the dashboard. Requests that ask
//! to switch protocols (WebSocket) are spliced by `upgrade`, never mirrored.
#![forbid(unsafe_code)]

mod admin;
mod body;
mod capture_writer;
mod compare;
pub mod config;
mod deadline;
mod divergence;
mod error;
mod headers;
mod masking;
mod metrics;
mod mirror;
mod noise;
mod priority;
mod proxy;
mod report;
mod route;
mod routes;
mod runner;
mod sampler;
mod scrub;
mod server;
mod timeline;
mod units;
mod upgrade;
mod upstream;

pub use config::ShadowConfig;
pub use divergence::{DiffExample, RouteReport};
pub use error::{ConfigError, ShadowError};
pub use prodlike_common::duration::parse as parse_duration;
pub use report::{ReportText, SCHEMA, ShadowReport, Totals, UpstreamStatus};
pub use runner::{RunningShadow, StartOptions, run, shutdown_signal, start};
pub use units::parse_bytes;
