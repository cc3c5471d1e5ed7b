//! sim-core integration tests: one binary, one module per area.

mod crypto;
mod engine;
mod net;
mod pki;
mod xml;
