//! Calendar dates for rule expiry (`expires = 2026-12-31`): [`Date`] is `prodlike_common::date`'s,
//! the workspace's one civil-date implementation.
pub use prodlike_common::date::Date;
