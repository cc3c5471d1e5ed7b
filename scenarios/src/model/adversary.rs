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
    /// Re-serialise targeted PDUs in an equivalent non-canonical XML form: a tamperer sends
    /// that instead of modifying a field (seed 002); a replayer replays that instead of a
    /// byte-identical copy (same nonce, not a repeat: tests the nonce check, issue 11).
    #[serde(default)]
    pub reserialise: bool,
    /// Which Move attack a `move_attacker` runs: `auto` (default: replay requests, drop
    /// Success responses, by the message targeted), `replay_request`, `drop_response`,
    /// `delay_response`, `replay_old_response` (on_path), `concurrent`, `rollback`
    /// (compromised Device).
    #[serde(default)]
    pub move_attack: Option<String>,
    /// Which impersonation an `impersonator` (a compromised Device) attempts: `claim_id`
    /// (default: claim other Devices' IDs, signing with its own key), `revoked` (act with
    /// its own revoked certificate: the endpoint must be among `population.revoked_agents`),
    /// `wrong_purpose` (use a protocol its certificate's key purpose excludes: an SCE agent
    /// proxy-joining a DEA User Domain, seed 000 §7.4.1, or a plain agent pairing with the
    /// DEA, seed 001 §7.2.1.1).
    #[serde(default)]
    pub impersonate: Option<String>,
    /// The rules of a programmable attacker (`kind = "rules"`), tried in order; the first
    /// that matches a message acts on it. See docs/attacks.md.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One rule of a programmable attacker: `when` a message matches, `then` act.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Name in verdicts (default `rule/<index>`).
    #[serde(default)]
    pub name: Option<String>,
    /// Which messages (default: every message the position lets it see).
    #[serde(default)]
    pub when: When,
    /// `drop`, `delay`, `reorder`, `duplicate`, `replay`, `modify`, `inject`, `flood` or
    /// `skew`.
    pub then: String,
    /// delay/reorder: how long the message is held (default 1 s).
    #[serde(default)]
    pub by: Option<DurationNs>,
    /// duplicate/replay/inject: delay before the copy or forgery is sent (default 0).
    #[serde(default)]
    pub after: Option<DurationNs>,
    /// replay/inject: `same` (the receiver), `sender` (back to the sender, claiming to be
    /// the receiver), `other` (next actor of the receiver's kind) or actor patterns.
    #[serde(default)]
    pub to: Option<String>,
    /// duplicate: number of copies (default 1).
    #[serde(default)]
    pub copies: Option<u32>,
    /// inject/flood: the kind built (inject default: the matched message's kind).
    #[serde(default)]
    pub kind: Option<String>,
    /// flood: PDUs per second.
    #[serde(default)]
    pub rate_per_s: Option<f64>,
    /// skew: seconds added to the compromised Device's DRM clock (negative: back).
    #[serde(default)]
    pub skew_s: Option<i64>,
    /// modify/inject/flood: field edits, in order.
    #[serde(default)]
    pub edits: Vec<Edit>,
    /// modify/inject: re-sign with the compromised endpoint's private key.
    #[serde(default)]
    pub resign: bool,
    /// Most actions of this rule (default 1000).
    #[serde(default = "default_budget")]
    pub budget: u64,
}

/// What a rule matches.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct When {
    /// Message kinds (`roap:roResponse`, `roap:*`).
    pub kind: Vec<String>,
    /// Sender names or patterns.
    pub from: Vec<String>,
    /// Receiver names or patterns.
    pub to: Vec<String>,
    /// Active from (and, for skew, when the clock is changed).
    pub after: Option<DurationNs>,
    /// Active until.
    pub before: Option<DurationNs>,
    /// Field predicates: field path = text.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Only the n-th matching message (1-based).
    pub nth: Option<u64>,
}

/// One field edit of `modify`, `inject` or `flood`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    /// Field path (docs/pdus.md), e.g. `nonce`, `domainInfo/domainKey/mac`, `@status`; empty
    /// = the root (where `add_extension` appends).
    #[serde(default)]
    pub field: String,
    /// `set` (default when `value` is given), `flip`, `remove`, `swap`, `add_extension`.
    #[serde(default)]
    pub op: Option<String>,
    /// set: the text; `$path` copies that field of the matched message.
    #[serde(default)]
    pub value: Option<String>,
    /// swap: kind of the message the field comes from (default: the same kind).
    #[serde(default)]
    pub from: Option<String>,
    /// swap: field of that message (default: the same path).
    #[serde(default)]
    pub from_field: Option<String>,
    /// add_extension: `xsi:type` (default `roap:Unknown`).
    #[serde(default, rename = "type")]
    pub xsi_type: Option<String>,
    /// add_extension: the `critical` flag.
    #[serde(default)]
    pub critical: bool,
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
    /// The programmable attacker: `[[adversary.rules]]`.
    Rules,
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
            AdversaryKind::Rules => "rules",
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
