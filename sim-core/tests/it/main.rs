//! sim-core integration tests: one binary, one module per area.

mod adversary;
mod crypto;
mod dea;
mod domain;
mod engine;
mod freshness;
mod impersonation;
mod invariant;
mod keys;
mod lifecycle;
mod metering;
mod move_attacks;
mod move_ro;
mod move_ud;
mod net;
mod pairing;
mod pdu;
mod pki;
mod replay_dea;
mod reregistration;
mod rights_invariants;
mod support;
mod tamper_replay;
mod trigger_target;
mod user_domain_ros;
mod xml;
