//! Protocol actors and their state: DRM Agents, Rights Issuers, OCSP responder, and the
//! data structures they keep.

pub mod acquisition;
pub mod agent;
pub mod build;
pub mod costs;
pub mod dea;
pub mod dea_proxy;
pub mod device_index;
pub mod domain;
pub mod drm_time;
pub mod lrm;
pub mod metering;
pub mod metering_store;
pub mod move_ro;
pub mod move_ud;
pub mod msg;
pub mod nonce_cache;
pub mod ocsp;
pub mod pairing;
pub mod pairing_dea;
pub mod pki_wire;
pub mod protocols;
pub mod registration;
pub mod repeats;
pub mod ri;
pub mod ri_triggers;
pub mod rights;
pub mod status_answer;
pub mod trigger;
pub mod workload;
pub mod world;
