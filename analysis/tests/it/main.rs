//! Integration tests of the analysis crate.

mod capacity;
mod charts;
mod chrome;
mod fixtures;
mod metrics;
mod msc;
