//! `[[adversary]]`: attackers, where they sit, what they target, when and how much.

use crate::units::DurationNs;
use serde::{Deserialize, Serialize};

/// One attacker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adversary {
    /// What the attacker does.
    pub kind: AdversaryKind,
    /// Name used by `[expect]` (default `<kind>/<index>`).
    #[serde(default)]
    pub name: Option<String>,
    /// Where the attacker sits.
    #[serde(default)]
    pub position: Position,
    /// Links an on-path attacker controls, as `[from_group, to_group]` pairs.
    #[serde(default)]
    pub links: Vec<[String; 2]>,
    /// Group an off-path attacker injects from (default: the first group).
    #[serde(default)]
    pub group: Option<String>,
    /// Actor a compromised-endpoint attacker controls, e.g. `agent/3`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// What the attacker acts on.
    #[serde(default)]
    pub targets: Targets,
    /// When the attacker is active.
    #[serde(default)]
    pub window: Window,
    /// Maximum number of attack actions (injections, modifications, requests).
    #[serde(default = "default_budget")]
    pub budget: u64,
    /// Requests per second (flooder only).
    #[serde(default)]
    pub rate_per_s: Option<f64>,
    /// Delay between capture and replay (replayer: default immediate; move_attacker: how
    /// long `replay_request` waits, default 5 s, and how long `delay_response` holds a
    /// response, default 20 s).
    #[serde(default)]
    pub replay_delay: Option<DurationNs>,
    /// Where captured PDUs are replayed (replayer only): `same` (the original recipient,
    /// default), `other` (the next actor of the recipient's kind: `ri/0` → `ri/1`), or an
    /// actor name or pattern (`ri/1`, `dea/0`, `agent/*`).
    #[serde(default)]
    pub replay_to: Option<String>,
    /// Re-serialise targeted PDUs in an equivalent non-canonical XML form instead of
    /// modifying a field (tamperer only; seed 002).
    #[serde(default)]
    pub reserialise: bool,
    /// Which Move attack a `move_attacker` runs: `auto` (default: replay requests, drop
    /// Success responses, by the message targeted), `replay_request`, `drop_response`,
    /// `delay_response`, `replay_old_response` (on_path), `concurrent`, `rollback`
    /// (compromised Device).
    #[serde(default)]
    pub move_attack: Option<String>,
}

fn default_budget() -> u64 {
    1_000
}

impl Adversary {
    /// The name `[expect]` refers to: `name`, or `<kind>/<index>`.
    pub fn display_name(&self, index: usize) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}/{index}", self.kind.as_str()))
    }
}

/// Attack behaviours.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdversaryKind {
    /// Re-sends captured PDUs (tests nonce tracking, seed 003).
    Replayer,
    /// Attacks Move via RI (seed 003 §9.1); the attack is chosen by `move_attack`.
    MoveAttacker,
    /// Forges MeteringReportResponses to make devices delete reports (seed 004).
    MeteringSpoofer,
    /// Modifies PDU content in transit (signatures/MACs must catch it).
    Tamperer,
    /// Claims another actor's identity.
    Impersonator,
    /// Lists the same device repeatedly in Proxy Join requests (seed 000, count once).
    DomainStuffer,
    /// Forges tickets/tokens without the keys.
    TicketForger,
    /// Overloads a server with requests.
    Flooder,
}

impl AdversaryKind {
    /// Name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            AdversaryKind::Replayer => "replayer",
            AdversaryKind::MoveAttacker => "move_attacker",
            AdversaryKind::MeteringSpoofer => "metering_spoofer",
            AdversaryKind::Tamperer => "tamperer",
            AdversaryKind::Impersonator => "impersonator",
            AdversaryKind::DomainStuffer => "domain_stuffer",
            AdversaryKind::TicketForger => "ticket_forger",
            AdversaryKind::Flooder => "flooder",
        }
    }
}

/// Where an attacker sits in the network.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Sees, delays, drops and rewrites traffic on `links`.
    OnPath,
    /// Cannot see traffic; can only send its own messages from `group`.
    #[default]
    OffPath,
    /// Holds the keys of the actor `endpoint`.
    Compromised,
}

impl Position {
    /// Name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Position::OnPath => "on_path",
            Position::OffPath => "off_path",
            Position::Compromised => "compromised",
        }
    }
}

/// Message types and actors an attacker acts on (empty = all).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    /// Message types, e.g. `roap:meteringReportResponse`.
    pub messages: Vec<String>,
    /// Actor names, e.g. `ri/0`, or `agent/*` for every agent.
    pub actors: Vec<String>,
}

/// Active period of an attacker.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Window {
    /// Start (default: the beginning of the run).
    pub from: Option<DurationNs>,
    /// End (default: the horizon).
    pub to: Option<DurationNs>,
}
