//! sim-core integration tests: one binary, one module per area.

mod pdu;
mod xml;
