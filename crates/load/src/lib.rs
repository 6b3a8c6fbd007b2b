//! prodlike load: open-model burst load with honest latency.
//!
//! Arrival schedules (constant, k6-style ramping stages, uniform or Poisson, or the gaps and
//! rate curve of recorded traffic) drive requests at their intended send times; latency is
//! measured from those times, so a stalled target shows in the percentiles instead of slowing
//! the generator (no coordinated omission). A closed model runs fixed connections flat out.
#![forbid(unsafe_code)]

pub mod compare;
mod error;
pub mod mix;
pub mod schedule;
pub mod segment;
pub mod stages;

pub use error::LoadError;
pub use prodlike_common::duration::{format as format_duration, parse as parse_duration};
pub mod engine;
pub mod html;
pub mod judge;
pub mod merge;
pub mod progress;
pub mod replay;
pub mod result;
pub mod run;
pub mod scenario;
pub mod summary;
pub mod thresholds;

pub use engine::StopHandle;
pub use result::{LoadResult, SCHEMA};
pub use run::{Prepared, RunOptions, prepare};
