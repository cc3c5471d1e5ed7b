//! Protocol actors and their state: DRM Agents, Rights Issuers, OCSP responder, and the
//! data structures they keep.

pub mod costs;
pub mod drm_time;
pub mod metering_store;
pub mod msg;
pub mod nonce_cache;
pub mod pki_wire;
pub mod rights;
pub mod world;
