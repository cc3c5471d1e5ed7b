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
    /// Keys are checked by `validate` against [`PROTOCOLS`].
    pub min_completion: BTreeMap<String, Probability>,
}

/// Protocol names `min_completion` accepts: exactly the names of the outcome table
/// (`sim_core::proto::protocols::ALL`).
pub const PROTOCOLS: &[&str] = &sim_core::proto::protocols::ALL;
