//! analysis integration tests: one binary, one module per area.

mod capacity;
mod charts;
mod chrome;
mod fixtures;
mod metrics;
mod msc;
