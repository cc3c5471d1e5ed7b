//! sim-core integration tests (one binary; each area in its own module).
mod crypto;
mod pki;
