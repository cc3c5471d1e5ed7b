//! `[explore]`: the bounds of `drmsim explore`'s attack search (docs/attacks.md, "`drmsim
//! explore`"). `run`, `check` and `sweep` ignore it.

use crate::units::DurationNs;
use serde::{Deserialize, Serialize};

/// Bounds of the search; every field has a default, so an empty table (or none) searches
/// on-path everywhere with every action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExploreSpec {
    /// Agents per run (default: the scenario's, at most [`DEFAULT_AGENTS_MAX`]).
    pub agents: Option<u32>,
    /// Horizon per run (default: the scenario's, at most [`DEFAULT_HORIZON_MAX_NS`]).
    pub horizon: Option<DurationNs>,
    /// Endpoints a compromised attacker may hold (`agent/0`, `ri/1`); none unless listed.
    pub compromised: Vec<String>,
    /// Rule actions drawn from (default [`DEFAULT_ACTIONS`]).
    pub actions: Vec<String>,
    /// Message kinds rules may target (default: every kind the honest run sent).
    pub kinds: Vec<String>,
    /// Most attacker moves per run (default 3).
    pub moves_max: Option<u32>,
    /// Most actions of one move (default 12).
    pub budget: Option<u64>,
    /// Invariants that make a finding (default: every one).
    pub invariants: Vec<String>,
    /// Whether availability violations count as findings (default false): a Device that gave
    /// up on rights an RI issued (`consistent_state`'s lost issuance) is something any
    /// attacker who can drop messages, or a lossy network, can cause; by default explore
    /// counts such runs in explore.json (`availability_runs`) but reports only safety
    /// violations as findings.
    pub availability: Option<bool>,
    /// Whether runs also draw network faults (duplication and jitter; never loss, which no
    /// protocol can be blamed for); default true.
    pub faults: Option<bool>,
}

/// Default cap on agents per explored run: small worlds search faster, and every bundled
/// finding needs at most a handful of Devices.
pub const DEFAULT_AGENTS_MAX: u32 = 6;
/// Default cap on the horizon of an explored run, ns (4 minutes: room for a replay after the
/// repeat store's 70 s window and a late Proxy Join replay).
pub const DEFAULT_HORIZON_MAX_NS: u64 = 240_000_000_000;
/// Actions drawn by default: every rule action but `flood` (a capacity question, not a
/// protocol flaw) and `skew` (needs a compromised Device).
pub const DEFAULT_ACTIONS: &[&str] = &[
    "drop",
    "delay",
    "reorder",
    "duplicate",
    "replay",
    "modify",
    "forge",
    "inject",
];
/// Every action `[explore] actions` accepts (`forge` = drop a request and answer it with a
/// forged Success built from it; `inject` = the same answer without the drop).
pub const ALL_ACTIONS: &[&str] = &[
    "drop",
    "delay",
    "reorder",
    "duplicate",
    "replay",
    "modify",
    "forge",
    "inject",
    "skew",
];
