//! sim-core integration tests: one binary, one module per area.

mod engine;
mod net;
mod xml;
