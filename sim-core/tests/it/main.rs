//! sim-core integration tests: one binary, one module per area.

mod crypto;
mod engine;
mod lifecycle;
mod net;
mod pairing;
mod pdu;
mod pki;
mod xml;
