//! `[expect]`: invariants that must hold, attacks that must fail or succeed, and minimum
//! completion rates per protocol.

use crate::units::Probability;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a run must show to pass.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// Invariant names (snake_case) that must never be violated.
    pub invariants: Vec<String>,
    /// Adversary names whose every attempt must be rejected.
    pub blocked: Vec<String>,
    /// Adversary names that must succeed at least once (demonstrates a weakness).
    pub succeed: Vec<String>,
    /// Minimum fraction of started protocol runs that complete, per protocol.
    pub min_completion: BTreeMap<Protocol, Probability>,
}

/// Protocols whose completion is measured.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// ROAP 4-pass Registration.
    Registration,
    /// ROAP 2-pass RO Acquisition.
    RoAcquisition,
    /// ROAP Join Domain.
    JoinDomain,
    /// ROAP Leave Domain.
    LeaveDomain,
    /// Metering Report submission (seed 004).
    MeteringReport,
    /// Move via RI (seed 003).
    Move,
    /// SCE User Domain join through the DEA (seed 000).
    UserDomainJoin,
    /// SCE Import through an LRM (seed 001).
    Import,
    /// SCE pairing (seed 001).
    Pairing,
}

impl Protocol {
    /// Name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Registration => "registration",
            Protocol::RoAcquisition => "ro_acquisition",
            Protocol::JoinDomain => "join_domain",
            Protocol::LeaveDomain => "leave_domain",
            Protocol::MeteringReport => "metering_report",
            Protocol::Move => "move",
            Protocol::UserDomainJoin => "user_domain_join",
            Protocol::Import => "import",
            Protocol::Pairing => "pairing",
        }
    }
}
