//! Security invariants: online monitors with a global view of every message (fed by the
//! adversary tap, `crate::adversary::AdversaryTap`) and offline checks of the end state of
//! every actor. A violation becomes a `violation` trace record carrying the causal chain of
//! message ids that led to it.
//!
//! Each monitor must be able to fire: `sim-core/tests/it/invariant.rs` crafts a violation
//! for every one of them (`sim-core/tests/it/keys.rs` for the key-knowledge monitor).

pub mod keys;
pub mod metering;
pub mod request_once;
pub mod state;

use crate::engine::{ActorId, SimTime, Simulation};
use crate::pdu::Pdu;
use crate::proto::msg::SimMsg;
use crate::trace::TraceEvent;
use std::collections::BTreeMap;

/// Invariant names (as used in `[expect] invariants`).
pub mod names {
    /// No request is accepted (answered with Success) twice by a server.
    pub const NO_REQUEST_ACCEPTED_TWICE: &str = "no_request_accepted_twice";
    /// No Rights Object is held by two Devices, and no Device holds more rights units of an
    /// RO than were issued for it.
    pub const NO_RIGHTS_DUPLICATED: &str = "no_rights_duplicated";
    /// Completed protocols leave consistent state on both sides (a Device's RI Context
    /// implies the RI's Device Context; a Device's RO was issued by its RI).
    pub const CONSISTENT_STATE: &str = "consistent_state";
    /// No RI-managed domain and no DEA User Domain has more member Devices than its limit
    /// (seed 000: a Device counts once however many RIs it joins through).
    pub const DOMAIN_WITHIN_LIMIT: &str = "domain_within_limit";
    /// A Device deletes metering information only for uses an RI accepted (seed 004 §11.3).
    pub const METERING_DELETED_ONLY_AFTER_SUCCESS: &str =
        "metering_deleted_only_after_authentic_success";
    /// No UDK, Domain Key, Master Key, Pairing Key or K_REK (with its K_MAC) is in the
    /// adversaries' Dolev–Yao knowledge unless a compromised endpoint in good standing is
    /// entitled to it (see `invariant::keys`).
    pub const KEYS_NEVER_KNOWN_TO_ADVERSARY: &str = "keys_never_known_to_adversary";
}

/// The adversaries of a run as monitors see them: actor id and configuration of each, and
/// the network layout their positions refer to. Given once, when they are installed.
#[derive(Debug, Clone, Default)]
pub struct AdversaryView {
    /// Each adversary's actor and spec (position, window).
    pub adversaries: Vec<(ActorId, crate::adversary::AdversarySpec)>,
    /// Groups and names of the actors.
    pub layout: crate::adversary::Layout,
}

/// One message as every monitor (and the attack referee) sees it, at send time.
#[derive(Debug)]
pub struct Observed<'a> {
    /// Virtual time.
    pub now: SimTime,
    /// Transport source (claimed sender for injections).
    pub from: ActorId,
    /// Receiver.
    pub to: ActorId,
    /// The message as it travels (after any modification).
    pub msg: &'a SimMsg,
    /// The decoded PDU, when the message is one and decodes.
    pub pdu: Option<&'a Pdu>,
    /// The adversary actor that injected it, if any.
    pub injected_by: Option<ActorId>,
    /// The adversary actor that modified it in transit, if any.
    pub tampered_by: Option<ActorId>,
}

impl Observed<'_> {
    /// Whether the message is exactly what its honest sender sent.
    pub fn authentic(&self) -> bool {
        self.injected_by.is_none() && self.tampered_by.is_none()
    }
}

/// A monitor's finding: what was seen and the observation tokens of the messages behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was observed.
    pub detail: String,
    /// Observation tokens of the causal chain, oldest first.
    pub tokens: Vec<u64>,
}

/// The actors an end-of-run check looks at.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    /// Agent actors.
    pub agents: Vec<ActorId>,
    /// RI actors, by RI index.
    pub ris: Vec<ActorId>,
    /// The Domain Enforcement Agent, if the run has one.
    pub dea: Option<ActorId>,
}

/// A security invariant.
pub trait Monitor {
    /// Its name.
    fn name(&self) -> &'static str;
    /// Online check of one message.
    fn on_message(&mut self, _obs: &Observed<'_>, _token: u64, _found: &mut Vec<Finding>) {}
    /// Offline check of the end state.
    fn at_end(&mut self, _sim: &Simulation<SimMsg>, _roster: &Roster, _found: &mut Vec<Finding>) {}
    /// Learns the adversaries of the run (before the first message).
    fn on_adversaries(&mut self, _view: &AdversaryView) {}
    /// A message an adversary removed in transit (never delivered, not passed to
    /// `on_message`): what its sender believes it sent (lost issuance, `state.rs`).
    fn on_dropped(&mut self, _obs: &Observed<'_>, _token: u64) {}
}

/// A recorded violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Invariant name.
    pub invariant: String,
    /// What was observed.
    pub detail: String,
    /// Message ids, oldest first.
    pub chain: Vec<u64>,
    /// When it was detected, ns.
    pub t_ns: u64,
}

/// Most violations kept in memory for reports (counts keep going).
pub const MAX_KEPT_VIOLATIONS: usize = 1_000;

/// Every monitor of a run, their violation counts and the first violations.
#[derive(Default)]
pub struct MonitorSet {
    monitors: Vec<Box<dyn Monitor>>,
    /// Violations per invariant (every monitored invariant has an entry).
    pub counts: BTreeMap<String, u64>,
    /// The first [`MAX_KEPT_VIOLATIONS`] violations.
    pub violations: Vec<Violation>,
}

impl MonitorSet {
    /// The standard monitors for protocol runs.
    pub fn standard() -> Self {
        let mut s = MonitorSet::default();
        s.add(Box::new(request_once::RequestOnce::default()));
        s.add(Box::new(state::RightsOnce));
        s.add(Box::new(state::ConsistentState::default()));
        s.add(Box::new(state::DomainLimit));
        s.add(Box::new(
            metering::MeteringDeletedOnlyAfterSuccess::default(),
        ));
        s.add(Box::new(keys::KeysNeverKnown::default()));
        s
    }

    /// Tells every monitor who the adversaries are (called when they are installed).
    pub fn on_adversaries(&mut self, view: &AdversaryView) {
        for m in &mut self.monitors {
            m.on_adversaries(view);
        }
    }

    /// Adds a monitor.
    pub fn add(&mut self, m: Box<dyn Monitor>) {
        self.counts.entry(m.name().to_string()).or_insert(0);
        self.monitors.push(m);
    }

    /// Names of the monitored invariants.
    pub fn names(&self) -> Vec<String> {
        self.counts.keys().cloned().collect()
    }

    fn record(
        &mut self,
        name: &'static str,
        f: Finding,
        ids: &BTreeMap<u64, u64>,
        t_ns: u64,
    ) -> TraceEvent {
        *self.counts.entry(name.to_string()).or_insert(0) += 1;
        let mut chain: Vec<u64> = f
            .tokens
            .iter()
            .filter_map(|t| ids.get(t).copied())
            .collect();
        chain.sort_unstable();
        chain.dedup();
        if self.violations.len() < MAX_KEPT_VIOLATIONS {
            self.violations.push(Violation {
                invariant: name.to_string(),
                detail: f.detail.clone(),
                chain: chain.clone(),
                t_ns,
            });
        }
        TraceEvent::Violation {
            invariant: name.to_string(),
            detail: f.detail,
            chain,
        }
    }

    /// Runs the online monitors on one message; violation records go to `out`.
    pub fn on_message(
        &mut self,
        obs: &Observed<'_>,
        token: u64,
        ids: &BTreeMap<u64, u64>,
        out: &mut Vec<TraceEvent>,
    ) {
        let mut found = Vec::new();
        for i in 0..self.monitors.len() {
            self.monitors[i].on_message(obs, token, &mut found);
            let name = self.monitors[i].name();
            for f in found.drain(..) {
                out.push(self.record(name, f, ids, obs.now.as_ns()));
            }
        }
    }

    /// A message an adversary removed in transit, for the monitors that track what senders
    /// believe they sent.
    pub fn on_dropped(&mut self, obs: &Observed<'_>, token: u64) {
        for m in &mut self.monitors {
            m.on_dropped(obs, token);
        }
    }

    /// Runs the offline checks; returns the violation records for the caller to write to
    /// the trace (after releasing any borrow the trace observers need).
    pub fn at_end(
        &mut self,
        sim: &Simulation<SimMsg>,
        roster: &Roster,
        ids: &BTreeMap<u64, u64>,
    ) -> Vec<TraceEvent> {
        let mut found = Vec::new();
        let mut out = Vec::new();
        let t = sim.now().as_ns();
        for i in 0..self.monitors.len() {
            self.monitors[i].at_end(sim, roster, &mut found);
            let name = self.monitors[i].name();
            for f in found.drain(..) {
                out.push(self.record(name, f, ids, t));
            }
        }
        out
    }

    /// Total violations.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}
