//! The scenario document: one serde struct per TOML section, every one with
//! `deny_unknown_fields` (and no `flatten`, which breaks that attribute in serde).
//! The field-by-field reference is `docs/scenario-format.md`.

mod adversary;
mod costs;
mod expect;
mod explore;
mod network;
mod population;
mod workload;

pub use adversary::{Adversary, AdversaryKind, Edit, Position, Rule, Targets, When, Window};
pub use costs::{Costs, Overflow, ServerCosts};
pub use expect::{Expect, PROTOCOLS};
pub use explore::{
    ExploreSpec, ALL_ACTIONS, DEFAULT_ACTIONS, DEFAULT_AGENTS_MAX, DEFAULT_HORIZON_MAX_NS,
};
pub use network::{GilbertElliott, LinkOverride, Network, Partition};
pub use population::{ActorKind, Arrival, GroupList, Placement, Population};
pub use workload::{DomainKeyMac, UserDomains, Variants, Workload};

use crate::sweep::SweepSpec;
use crate::units::{DurationNs, RsaBits};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A complete, validated scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// `[scenario]`: identity, seed, horizon, crypto mode.
    pub scenario: Meta,
    /// `[trace]`: what the run records.
    #[serde(default)]
    pub trace: TraceOptions,
    /// `[network]`: latency, loss, duplication, per-link overrides, partitions.
    #[serde(default)]
    pub network: Network,
    /// `[population]`: actor groups and counts.
    pub population: Population,
    /// `[costs]`: virtual CPU costs and server queues.
    #[serde(default)]
    pub costs: Costs,
    /// `[workload]`: what agents do and how RIs are configured.
    #[serde(default)]
    pub workload: Workload,
    /// `[variants]`: switches between readings of the change requests.
    #[serde(default)]
    pub variants: Variants,
    /// `[[adversary]]`: attackers.
    #[serde(default, rename = "adversary")]
    pub adversaries: Vec<Adversary>,
    /// `[expect]`: what the run must show.
    #[serde(default)]
    pub expect: Expect,
    /// `[user_domains]`: User Domains at the DEA (seed 000).
    #[serde(default)]
    pub user_domains: UserDomains,
    /// `[sweep]`: parameter axes (ignored by a single run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSpec>,
    /// `[explore]`: bounds of `drmsim explore`'s search (ignored by every other command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explore: Option<ExploreSpec>,
    /// Where the scenario came from (file name and text), for sweeps and reports.
    #[serde(skip)]
    pub source: Source,
}

/// The file a scenario was loaded from.
#[derive(Clone, Debug, Default)]
pub struct Source {
    /// File name as given by the user (used in error messages).
    pub file: String,
    /// The full TOML text.
    pub text: Arc<str>,
}

/// `[scenario]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Short identifier (letters, digits, `-`, `_`, `.`); used in output directory names.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Master seed of every random stream.
    pub seed: u64,
    /// Virtual time at which the run stops.
    pub horizon: DurationNs,
    /// Maximum number of events processed before the run stops (none = unlimited).
    #[serde(default)]
    pub event_budget: Option<u64>,
    /// Real RSA/AES/HMAC or symbolic (cost-only) cryptography.
    #[serde(default)]
    pub crypto: CryptoMode,
    /// RSA modulus size: 1024 or 2048.
    #[serde(default)]
    pub rsa_bits: RsaBits,
}

/// How cryptographic operations are performed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CryptoMode {
    /// Real keys, signatures and MACs over the real PDU bytes.
    Real,
    /// Symbolic values with the same validity rules; only the virtual CPU cost is charged.
    #[default]
    Symbolic,
}

impl CryptoMode {
    /// The name written in scenario files and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            CryptoMode::Real => "real",
            CryptoMode::Symbolic => "symbolic",
        }
    }
}

/// `[trace]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceOptions {
    /// Record a trace at all (the digest is only computed when on).
    pub enabled: bool,
    /// Record timer set/fire/cancel events.
    pub timers: bool,
    /// Capture the PDU bytes of every message in the trace.
    pub pdus: bool,
    /// On-disk format of the trace file (the records and the digest are the same in both).
    #[serde(skip_serializing_if = "TraceFormat::is_jsonl")]
    pub format: TraceFormat,
}

/// `[trace] format`: how the trace's JSON-Lines records are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    /// Plain JSON Lines, `trace.jsonl`.
    #[default]
    Jsonl,
    /// The same lines in independent gzip members of about 1 MiB each, `trace.jsonl.gz`
    /// (zcat, pandas and DuckDB read it; `drmsim export jsonl` converts it back).
    Gzip,
}

impl TraceFormat {
    /// The trace file's name in a run directory.
    pub fn file_name(self) -> &'static str {
        match self {
            TraceFormat::Jsonl => "trace.jsonl",
            TraceFormat::Gzip => "trace.jsonl.gz",
        }
    }

    fn is_jsonl(&self) -> bool {
        *self == TraceFormat::Jsonl
    }
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            enabled: true,
            timers: true,
            pdus: false,
            format: TraceFormat::Jsonl,
        }
    }
}

impl Scenario {
    /// Total number of protocol actors (adversaries excluded).
    pub fn actor_count(&self) -> u64 {
        self.population.actor_count()
    }
}
