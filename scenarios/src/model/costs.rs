//! `[costs]`: virtual CPU cost of each cryptographic and XML operation, and the server
//! model (`[costs.ri]`, `[costs.dea]`, `[costs.lrm]`, `[costs.ocsp]`).
//!
//! Defaults are the medians measured on the reference machine
//! (`/work/shared/notes/dependencies.md`): RSA with rsa 0.10-rc figures for 2048-bit
//! verify, HMAC-SHA256 of 2 KB in 1.5 µs, SHA of 2 KB in 1.3 µs, quick-xml ~1.6 µs/KB to read
//! and ~1.3 µs/KB to write. They equal sim-core's `proto::costs::CostTable` defaults.

use crate::units::DurationNs;
use serde::{Deserialize, Serialize};

/// Per-operation virtual CPU costs and per-server-kind queueing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Costs {
    /// RSA-1024 PSS sign.
    pub rsa1024_sign: DurationNs,
    /// RSA-1024 PSS verify.
    pub rsa1024_verify: DurationNs,
    /// RSA-2048 PSS sign.
    pub rsa2048_sign: DurationNs,
    /// RSA-2048 PSS verify.
    pub rsa2048_verify: DurationNs,
    /// HMAC-SHA256 per KiB of input.
    pub hmac_per_kb: DurationNs,
    /// SHA-1/SHA-256 per KiB of input.
    pub sha_per_kb: DurationNs,
    /// AES key wrap of one 128/256-bit key.
    pub key_wrap: DurationNs,
    /// AES-128-CBC per KiB (content and RO encryption).
    pub aes_cbc_per_kb: DurationNs,
    /// XML parse per KiB of PDU.
    pub xml_parse_per_kb: DurationNs,
    /// XML serialise (canonical form) per KiB of PDU.
    pub xml_serialize_per_kb: DurationNs,
    /// Fixed cost of handling any request (dispatch, state lookup).
    pub request_base: DurationNs,
    /// Rights Issuer servers.
    pub ri: ServerCosts,
    /// Domain Enforcement Agent.
    pub dea: ServerCosts,
    /// Local Rights Managers.
    pub lrm: ServerCosts,
    /// OCSP responder.
    pub ocsp: ServerCosts,
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            rsa1024_sign: DurationNs::from_us(340),
            rsa1024_verify: DurationNs::from_us(68),
            rsa2048_sign: DurationNs::from_us(1_910),
            rsa2048_verify: DurationNs::from_us(78),
            // 1.5 µs for 2 KB.
            hmac_per_kb: DurationNs(750),
            // 1.3 µs for 2 KB.
            sha_per_kb: DurationNs(650),
            key_wrap: DurationNs(650),
            aes_cbc_per_kb: DurationNs::from_us(1),
            xml_parse_per_kb: DurationNs(1_600),
            // 2.8 µs to write a 2.2 KB PDU.
            xml_serialize_per_kb: DurationNs(1_300),
            request_base: DurationNs::from_us(2),
            ri: ServerCosts::default(),
            dea: ServerCosts::default(),
            lrm: ServerCosts::default(),
            ocsp: ServerCosts::default(),
        }
    }
}

impl Costs {
    /// RSA sign and verify cost for a modulus of `bits` (1024 or 2048).
    pub fn rsa(&self, bits: crate::units::RsaBits) -> (DurationNs, DurationNs) {
        match bits {
            crate::units::RsaBits::Rsa1024 => (self.rsa1024_sign, self.rsa1024_verify),
            crate::units::RsaBits::Rsa2048 => (self.rsa2048_sign, self.rsa2048_verify),
        }
    }
}

/// A server kind: `workers` parallel CPUs in front of a bounded FIFO queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerCosts {
    /// Requests processed in parallel (>= 1).
    pub workers: u32,
    /// Requests waiting beyond the busy workers (>= 1).
    pub queue_capacity: u32,
    /// What happens to a request arriving at a full queue.
    pub overflow: Overflow,
}

impl Default for ServerCosts {
    fn default() -> Self {
        ServerCosts {
            workers: 4,
            queue_capacity: 1024,
            overflow: Overflow::Reject,
        }
    }
}

/// Behaviour of a full server queue.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Silently discard the request (the client times out).
    Drop,
    /// Answer at once with an error status (the client may back off and retry).
    #[default]
    Reject,
}
