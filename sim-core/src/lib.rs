//! drmsim core: a deterministic discrete-event simulator of OMA DRM 2.x ROAP and its
//! Secure Content Exchange extensions.
//!
//! Nothing in this crate performs IO or reads the wall clock; see `ARCHITECTURE.md`.
#![forbid(unsafe_code)]

pub mod adversary;
pub mod crypto;
pub mod engine;
pub mod invariant;
pub mod net;
pub mod pdu;
pub mod pki;
pub mod proto;
pub mod trace;
pub mod xml;
