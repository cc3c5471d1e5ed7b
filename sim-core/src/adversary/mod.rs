//! Adversaries: attackers positioned on links (on-path), off the path (injectors) or inside a
//! compromised endpoint, each with a target set, an active window and a budget.
//!
//! Every adversary is an [`Attack`] inside one composite on-path [`Tap`] ([`AdversaryTap`]),
//! which also feeds the invariant monitors (`crate::invariant`) with a global view of every
//! message, including the ones adversaries inject. An attack has two faces:
//! - `intercept`: what the attacker *can* do — only for messages its position lets it see
//!   (controlled links, inside its window and target set, while budget lasts);
//! - `observe`: the referee's view of every message, used only to score the attack
//!   (attempt blocked or succeeded), never to act.
//!
//! Each adversary also exists as an actor (kind `adversary`) so trace records can name it and
//! so off-path attackers (the flooder) can generate traffic on timers.

pub mod actor;
pub mod flooder;
pub mod forger;
pub mod impersonator;
pub mod mover;
pub mod replayer;
pub mod rules;
pub mod spoofer;
pub mod stuffer;
pub mod tamperer;

use crate::engine::{ActorId, Message, SimTime, Simulation, Tap, TapCtx, Verdict};
use crate::invariant::{MonitorSet, Observed, Roster};
use crate::net::GroupId;
use crate::pdu::Pdu;
use crate::proto::msg::SimMsg;
use crate::trace::{TraceEvent, TraceRecord};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Attack behaviours (mirrors the scenario format's `kind`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AdversaryKind {
    /// Re-sends captured PDUs to their recipient later (seed 003 nonce tracking).
    Replayer,
    /// Attacks Move via RI (seed 003).
    MoveAttacker,
    /// Forges MeteringReportResponses (seed 004).
    MeteringSpoofer,
    /// Modifies PDU content in transit.
    Tamperer,
    /// Claims another actor's identity.
    Impersonator,
    /// Makes Devices join one DEA User Domain through several RIs (seed 000 §7.4.1).
    DomainStuffer,
    /// Forges, modifies and replays Pairing Tickets / Authentication Requests (seed 001).
    TicketForger,
    /// Floods a server with requests.
    Flooder,
    /// The programmable attacker: rules `when` … `then` … ([`rules`]).
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

/// Where an attacker sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// Sees and controls messages sent from the first group to the second (directed).
    OnPath {
        /// Controlled `(from_group, to_group)` links.
        links: Vec<(GroupId, GroupId)>,
    },
    /// Sees nothing; sends its own messages from `group`.
    OffPath {
        /// Network group it sends from.
        group: GroupId,
    },
    /// Holds the keys of `endpoint` and sees everything it sends and receives.
    Compromised {
        /// The compromised actor.
        endpoint: ActorId,
    },
}

impl Position {
    /// Whether an attacker here sees a message from `from` to `to` (what its position alone
    /// allows, before window, targets and budget).
    pub fn sees(&self, layout: &Layout, from: ActorId, to: ActorId) -> bool {
        match self {
            Position::OnPath { links } => links.contains(&(layout.group(from), layout.group(to))),
            Position::OffPath { .. } => false,
            Position::Compromised { endpoint } => from == *endpoint || to == *endpoint,
        }
    }
}

/// One configured adversary.
#[derive(Clone, Debug, PartialEq)]
pub struct AdversarySpec {
    /// Behaviour.
    pub kind: AdversaryKind,
    /// Name used in results (`[expect]`).
    pub name: String,
    /// Position.
    pub position: Position,
    /// Targeted message kinds (`roap:roRequest`, `roap:*`); empty = all.
    pub messages: Vec<String>,
    /// Targeted actor names (`ri/0`, `agent/*`); a message is targeted when its sender or
    /// receiver matches. Empty = all.
    pub actors: Vec<String>,
    /// Active from (inclusive), ns.
    pub from_ns: u64,
    /// Active until (exclusive), ns.
    pub to_ns: u64,
    /// Maximum attack actions.
    pub budget: u64,
    /// Requests per second (flooder).
    pub rate_per_s: Option<f64>,
    /// Capture-to-replay delay (replayer), ns.
    pub replay_delay_ns: u64,
    /// Tamperer: re-serialise each targeted PDU in an equivalent, non-canonical XML form
    /// instead of modifying a field (seed 002 §5.3.3).
    pub reserialise: bool,
    /// Replayer: where captured PDUs are replayed.
    pub replay_to: replayer::ReplayTo,
    /// Move attacker: which attack (default: inferred from the targeted messages).
    pub move_attack: mover::MoveMode,
    /// Impersonator: which impersonation (default: claim other Devices' IDs).
    pub impersonate: impersonator::ImpersonateMode,
    /// Rules of a programmable attacker (`kind = rules`).
    pub rules: Vec<rules::Rule>,
}

impl AdversarySpec {
    /// A spec with everything targeted, always active, budget 1000.
    pub fn new(kind: AdversaryKind, name: &str, position: Position) -> Self {
        AdversarySpec {
            kind,
            name: name.to_string(),
            position,
            messages: Vec::new(),
            actors: Vec::new(),
            from_ns: 0,
            to_ns: u64::MAX,
            budget: 1_000,
            rate_per_s: None,
            replay_delay_ns: 0,
            reserialise: false,
            replay_to: replayer::ReplayTo::Same,
            move_attack: mover::MoveMode::Auto,
            impersonate: impersonator::ImpersonateMode::ClaimId,
            rules: Vec::new(),
        }
    }

    /// Whether `t` is inside the active window.
    pub fn active(&self, t: SimTime) -> bool {
        let t = t.as_ns();
        t >= self.from_ns && t < self.to_ns
    }

    /// Whether message kind `kind` is targeted.
    pub fn targets_kind(&self, kind: &str) -> bool {
        self.messages.is_empty() || self.messages.iter().any(|p| pattern_matches(p, kind, ':'))
    }

    /// Whether the actor named `name` is targeted.
    pub fn targets_actor(&self, name: &str) -> bool {
        self.actors.is_empty() || self.actors.iter().any(|p| pattern_matches(p, name, '/'))
    }
}

/// `prefix<sep>*` matches everything with that prefix; otherwise exact match.
pub(crate) fn pattern_matches(pattern: &str, s: &str, sep: char) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) if prefix.ends_with(sep) || prefix.is_empty() => s.starts_with(prefix),
        _ => pattern == s,
    }
}

/// What one adversary achieved (each attempt ends as blocked, succeeded, or stays open:
/// inconclusive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttackStats {
    /// Attack actions taken.
    pub attempts: u64,
    /// Attempts that achieved their goal.
    pub succeeded: u64,
    /// Attempts the protocol rejected.
    pub blocked: u64,
}

/// The network layout adversaries need: every actor's group and name, by actor id.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Group of actor `i`.
    pub groups: Vec<GroupId>,
    /// Name of actor `i`.
    pub names: Vec<String>,
}

impl Layout {
    /// Group of `a` (group 0 if unknown).
    pub fn group(&self, a: ActorId) -> GroupId {
        self.groups.get(a.0 as usize).copied().unwrap_or(GroupId(0))
    }
    /// Name of `a` (empty if unknown).
    pub fn name(&self, a: ActorId) -> &str {
        self.names.get(a.0 as usize).map_or("", String::as_str)
    }
}

/// What an attack can do while it handles one intercepted message.
pub struct AttackCx<'a, 'b> {
    /// The engine's tap context (time, randomness, injections).
    pub tap: &'a mut TapCtx<'b, SimMsg>,
    /// This adversary's scoreboard.
    pub stats: &'a mut AttackStats,
    /// The adversary's own actor id (names it in trace records).
    pub me: ActorId,
    /// Network layout.
    pub layout: &'a Layout,
    /// Messages to inject, recorded so monitors and the referee see them.
    pub(crate) injected: Vec<(ActorId, ActorId, SimMsg, u64)>,
}

impl AttackCx<'_, '_> {
    /// Counts one attack action. Its `attack` trace record is written when the referee
    /// decides it (schema: one record per attempt with its verdict); attempts still open at
    /// the end of the run are inconclusive and have no record.
    pub fn attempt(&mut self) {
        self.stats.attempts += 1;
    }
    /// Sends `msg` to `to` claiming to be `from`, after `delay_ns`.
    pub fn inject(&mut self, from: ActorId, to: ActorId, msg: SimMsg, delay_ns: u64) {
        self.injected.push((from, to, msg, delay_ns));
    }
}

/// The referee's verdict on an attempt, recorded as an `attack` trace record.
pub(crate) fn score(
    stats: &mut AttackStats,
    records: &mut Vec<TraceEvent>,
    me: ActorId,
    attack: &str,
    target: Option<ActorId>,
    success: bool,
    detail: String,
) {
    if success {
        stats.succeeded += 1;
    } else {
        stats.blocked += 1;
    }
    records.push(TraceEvent::Attack {
        actor: me.0,
        attack: attack.to_string(),
        target: target.map(|t| t.0),
        success,
        detail,
    });
}

/// One adversary's behaviour.
pub trait Attack {
    /// The configuration.
    fn spec(&self) -> &AdversarySpec;
    /// Acts on a message its position lets it control (already inside window, targets and
    /// budget). Returns what happens to the message.
    fn intercept(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg>;
    /// Referee: sees every message (after interception) to score earlier attempts.
    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>);
    /// Whether this attack needs to see messages its position allows (false for pure
    /// injectors driven by their actor).
    fn taps(&self) -> bool {
        true
    }
    /// A hook to run after every event with the whole simulation, taken once at install
    /// (attacks that change a compromised endpoint's state; none by default).
    fn after_event(&mut self) -> Option<crate::engine::AfterEvent<SimMsg>> {
        None
    }
}

/// An end-of-run scoring of an adversary's attempts: `(succeeded, detail, target)` each.
pub type EndCheck =
    Box<dyn FnMut(&Simulation<SimMsg>, &Roster) -> Vec<(bool, String, Option<ActorId>)>>;

/// State shared between the tap, the id-tracking trace observer and the runner.
#[derive(Default)]
#[allow(clippy::type_complexity)]
pub struct Shared {
    /// Scoreboard per adversary name.
    pub stats: BTreeMap<String, AttackStats>,
    /// Online and offline invariant monitors.
    pub monitors: MonitorSet,
    /// End-of-run scorings: adversary name, its actor, the check.
    pub(crate) end_checks: Vec<(String, ActorId, EndCheck)>,
    /// Message id the engine will assign to the next message it sends.
    pub(crate) next_msg_id: u64,
    /// Observation token → message id, once known.
    pub(crate) ids: BTreeMap<u64, u64>,
    /// Held or injected messages waiting to be sent: (from, to, kind, due_ns, token).
    pub(crate) pending: Vec<(u32, u32, &'static str, u64, u64)>,
    /// Violations `(t_ns, invariant)` for end checks that score by the invariants.
    pub(crate) violation_log: rules::ViolationLog,
    next_token: u64,
}

impl Shared {
    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// The message ids of observation `tokens` that are known, in order.
    pub fn msg_ids(&self, tokens: &[u64]) -> Vec<u64> {
        tokens
            .iter()
            .filter_map(|t| self.ids.get(t).copied())
            .collect()
    }

    /// Trace observer: learns message ids from `send`/`duplicate` records.
    pub fn on_record(&mut self, rec: &TraceRecord) {
        match &rec.ev {
            TraceEvent::Send {
                msg,
                from,
                to,
                msg_type,
                ..
            } => {
                self.next_msg_id = self.next_msg_id.max(msg + 1);
                if let Some(i) = self
                    .pending
                    .iter()
                    .position(|p| p.0 == *from && p.1 == *to && p.2 == msg_type && p.3 == rec.t)
                {
                    let p = self.pending.remove(i);
                    self.ids.insert(p.4, *msg);
                }
            }
            TraceEvent::Duplicate { dup, .. } => self.next_msg_id = self.next_msg_id.max(dup + 1),
            _ => {}
        }
    }
}

/// Handle on the shared state (single-threaded run).
pub type SharedRef = Rc<RefCell<Shared>>;

/// The composite tap: every adversary plus the monitors' global view.
pub struct AdversaryTap {
    attacks: Vec<(Box<dyn Attack>, ActorId)>,
    layout: Layout,
    shared: SharedRef,
}

impl AdversaryTap {
    /// A tap running `attacks` (each with its actor id) and feeding `shared.monitors`.
    pub fn new(
        attacks: Vec<(Box<dyn Attack>, ActorId)>,
        layout: Layout,
        shared: SharedRef,
    ) -> Self {
        // Monitors that reason about adversary knowledge need the positions (keys.rs).
        let view = crate::invariant::AdversaryView {
            adversaries: attacks
                .iter()
                .map(|(a, me)| (*me, a.spec().clone()))
                .collect(),
            layout: layout.clone(),
        };
        shared.borrow_mut().monitors.on_adversaries(&view);
        AdversaryTap {
            attacks,
            layout,
            shared,
        }
    }

    fn controls(&self, i: usize, from: ActorId, to: ActorId, kind: &str, now: SimTime) -> bool {
        let (a, me) = (&self.attacks[i].0, self.attacks[i].1);
        let s = a.spec();
        if from == me || !a.taps() || !s.active(now) || !s.targets_kind(kind) {
            return false;
        }
        if !(s.targets_actor(self.layout.name(from)) || s.targets_actor(self.layout.name(to))) {
            return false;
        }
        let stats = self
            .shared
            .borrow()
            .stats
            .get(&s.name)
            .copied()
            .unwrap_or_default();
        if stats.attempts >= s.budget {
            return false;
        }
        s.position.sees(&self.layout, from, to)
    }

    /// Feeds one (possibly injected) message to the referee and the monitors.
    fn observe_all(&mut self, obs: &Observed<'_>, token: u64, records: &mut Vec<TraceEvent>) {
        let mut sh = self.shared.borrow_mut();
        for (a, _) in &mut self.attacks {
            let name = a.spec().name.clone();
            let st = sh.stats.entry(name).or_default();
            a.observe(obs, st, records);
        }
        let Shared { monitors, ids, .. } = &mut *sh;
        monitors.on_message(obs, token, ids, records);
    }
}

impl Tap<SimMsg> for AdversaryTap {
    fn on_send(
        &mut self,
        from: ActorId,
        to: ActorId,
        msg: SimMsg,
        ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        let now = ctx.now();
        let mut msg = msg;
        let mut verdict_kind = 0u8; // 0 pass, 1 drop, 2 delay
        let mut delay_ns = 0u64;
        let mut tampered_by: Option<usize> = None;
        let mut injections: Vec<(ActorId, ActorId, SimMsg, u64, usize)> = Vec::new();
        let original_pdu = decode(&msg);
        for i in 0..self.attacks.len() {
            if verdict_kind == 1 || !self.controls(i, from, to, msg.kind(), now) {
                continue;
            }
            let me = self.attacks[i].1;
            let name = self.attacks[i].0.spec().name.clone();
            let mut st = self
                .shared
                .borrow()
                .stats
                .get(&name)
                .copied()
                .unwrap_or_default();
            let pdu = decode(&msg);
            let obs = Observed {
                now,
                from,
                to,
                msg: &msg,
                pdu: pdu.as_ref(),
                injected_by: None,
                tampered_by: tampered_by.map(|j| self.attacks[j].1),
            };
            let mut cx = AttackCx {
                tap: ctx,
                stats: &mut st,
                me,
                layout: &self.layout,
                injected: Vec::new(),
            };
            let before = cx.stats.attempts;
            let v = self.attacks[i].0.intercept(&obs, msg.clone(), &mut cx);
            let acted = cx.stats.attempts > before;
            let injected = std::mem::take(&mut cx.injected);
            self.shared.borrow_mut().stats.insert(name, st);
            injections.extend(injected.into_iter().map(|(f, t, m, d)| (f, t, m, d, i)));
            match v {
                Verdict::Pass(m) => {
                    if acted && decode(&m) != pdu {
                        tampered_by = Some(i);
                    }
                    msg = m;
                }
                Verdict::Drop => verdict_kind = 1,
                Verdict::Delay(m, d) => {
                    if acted && decode(&m) != pdu {
                        tampered_by = Some(i);
                    }
                    msg = m;
                    verdict_kind = 2;
                    delay_ns = delay_ns.saturating_add(d);
                }
            }
        }
        let mut records = Vec::new();
        if verdict_kind == 1 {
            // Removed in transit: the monitors that track what a sender believes it sent
            // (lost issuance) still learn of it.
            let token = self.shared.borrow_mut().token();
            let obs = Observed {
                now,
                from,
                to,
                msg: &msg,
                pdu: original_pdu.as_ref(),
                injected_by: None,
                tampered_by: None,
            };
            self.shared.borrow_mut().monitors.on_dropped(&obs, token);
        }
        if verdict_kind != 1 {
            let token = self.shared.borrow_mut().token();
            {
                let mut sh = self.shared.borrow_mut();
                if verdict_kind == 0 {
                    let id = sh.next_msg_id;
                    sh.ids.insert(token, id);
                } else {
                    sh.pending
                        .push((from.0, to.0, msg.kind(), now.as_ns() + delay_ns, token));
                }
            }
            let pdu = if tampered_by.is_some() {
                decode(&msg)
            } else {
                original_pdu
            };
            let obs = Observed {
                now,
                from,
                to,
                msg: &msg,
                pdu: pdu.as_ref(),
                injected_by: None,
                tampered_by: tampered_by.map(|j| self.attacks[j].1),
            };
            self.observe_all(&obs, token, &mut records);
        }
        for (f, t, m, d, i) in injections {
            let token = {
                let mut sh = self.shared.borrow_mut();
                let token = sh.token();
                sh.pending
                    .push((f.0, t.0, m.kind(), now.as_ns() + d, token));
                token
            };
            let pdu = decode(&m);
            let obs = Observed {
                now,
                from: f,
                to: t,
                msg: &m,
                pdu: pdu.as_ref(),
                injected_by: Some(self.attacks[i].1),
                tampered_by: None,
            };
            self.observe_all(&obs, token, &mut records);
            ctx.inject(f, t, m, d);
        }
        for r in records {
            ctx.trace(r);
        }
        match verdict_kind {
            1 => Verdict::Drop,
            2 => Verdict::Delay(msg, delay_ns),
            _ => Verdict::Pass(msg),
        }
    }
}

/// The PDU inside `msg`, if it is one and decodes.
pub fn decode(msg: &SimMsg) -> Option<Pdu> {
    match msg {
        SimMsg::Pdu(w) => w.open().ok(),
        _ => None,
    }
}

/// What building an attack may look at.
pub struct BuildCx<'a> {
    /// The run (actors' state, e.g. a compromised endpoint's keys).
    pub sim: &'a Simulation<SimMsg>,
    /// The shared world.
    pub world: &'a std::rc::Rc<crate::proto::world::World>,
    /// Every Device ID (public information).
    pub device_ids: &'a [crate::pdu::Identifier],
    /// Violations, for end checks that score by the invariants.
    pub violation_log: rules::ViolationLog,
}

/// Builds the attack behaviour for `spec`, whose actor is `me`, and its end-of-run scoring
/// when it has one.
pub fn attack_for(
    spec: &AdversarySpec,
    me: ActorId,
    cx: &BuildCx<'_>,
) -> Result<(Box<dyn Attack>, Option<EndCheck>), AdversaryError> {
    let unsupported = |why| AdversaryError::Unsupported {
        name: spec.name.clone(),
        kind: spec.kind.as_str(),
        why,
    };
    Ok(match spec.kind {
        AdversaryKind::Replayer => {
            let (a, check) = replayer::Replayer::new(spec.clone());
            (Box::new(a), Some(check))
        }
        AdversaryKind::Tamperer => {
            let (a, check) = tamperer::Tamperer::new(spec.clone(), cx.world.clone());
            (Box::new(a), Some(check))
        }
        AdversaryKind::Flooder => (Box::new(flooder::FloodReferee::new(spec.clone(), me)), None),
        AdversaryKind::MoveAttacker => {
            // A compromised Device's attacks (concurrent, rollback) sign with its key.
            let key = match spec.position {
                Position::Compromised { endpoint } => cx
                    .sim
                    .actor::<crate::proto::agent::Agent>(endpoint)
                    .map(|a| a.identity().key.clone()),
                _ => None,
            };
            let (a, check) = mover::MoveAttacker::new(spec.clone(), cx.world.clone(), key)
                .map_err(unsupported)?;
            (Box::new(a), Some(check))
        }
        AdversaryKind::MeteringSpoofer => {
            let (a, check) = spoofer::MeteringSpoofer::new(spec.clone());
            (Box::new(a), Some(check))
        }
        AdversaryKind::Impersonator => {
            let Position::Compromised { endpoint } = spec.position else {
                return Err(unsupported(
                    "an impersonator must be a compromised endpoint",
                ));
            };
            let ident = cx
                .sim
                .actor::<crate::proto::agent::Agent>(endpoint)
                .map(|a| a.identity().clone());
            // wrong_purpose: the DEA's User Domains, as ROAP IDs (Proxy Join) and as pairing
            // User Domain IDs.
            let config = cx
                .world
                .dea
                .and_then(|d| cx.sim.actor::<crate::proto::dea::Dea>(d))
                .map(|d| d.user_domains.config);
            let user_domains = config
                .as_ref()
                .map(|c| c.roap_domain_ids())
                .unwrap_or_default();
            let pairing_domains = config
                .map(|c| {
                    (0..c
                        .user_domains
                        .min(crate::proto::dea_proxy::MAX_USER_DOMAINS))
                        .map(crate::proto::dea_proxy::UserDomainConfig::user_domain_id)
                        .collect()
                })
                .unwrap_or_default();
            (
                Box::new(impersonator::Impersonator::new(
                    spec.clone(),
                    cx.world.clone(),
                    ident,
                    cx.device_ids.to_vec(),
                    user_domains,
                    pairing_domains,
                )),
                None,
            )
        }
        AdversaryKind::DomainStuffer => {
            let user_domains = cx
                .world
                .dea
                .and_then(|d| cx.sim.actor::<crate::proto::dea::Dea>(d))
                .map(|d| d.user_domains.config.roap_domain_ids())
                .unwrap_or_default();
            let (a, check) =
                stuffer::DomainStuffer::new(spec.clone(), cx.world.clone(), user_domains);
            (Box::new(a), Some(check))
        }
        AdversaryKind::TicketForger => (
            Box::new(forger::TicketForger::new(spec.clone(), cx.world.clone())),
            None,
        ),
        AdversaryKind::Rules => {
            let key = match spec.position {
                Position::Compromised { endpoint } => compromised_key(cx.sim, endpoint),
                _ => None,
            };
            let (a, check) = rules::Programmable::new(
                spec.clone(),
                cx.world.clone(),
                me,
                key,
                cx.violation_log.clone(),
            );
            (Box::new(a), Some(check))
        }
    })
}

/// The private key of a compromised endpoint (Device, RI, DEA or LRM).
pub(crate) fn compromised_key(
    sim: &Simulation<SimMsg>,
    endpoint: ActorId,
) -> Option<crate::crypto::PrivateKey> {
    use crate::proto::{agent::Agent, dea::Dea, lrm::Lrm, ri::Ri};
    sim.actor::<Agent>(endpoint)
        .map(|a| a.identity().key.clone())
        .or_else(|| sim.actor::<Ri>(endpoint).map(|a| a.identity().key.clone()))
        .or_else(|| sim.actor::<Dea>(endpoint).map(|a| a.identity().key.clone()))
        .or_else(|| sim.actor::<Lrm>(endpoint).map(|a| a.identity().key.clone()))
}

pub use actor::{install, AdversaryActor, AdversaryError, Installed};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_patterns() {
        assert!(pattern_matches("roap:*", "roap:roRequest", ':'));
        assert!(!pattern_matches(
            "roap:*",
            "sceroap:moveDeviceRORequest",
            ':'
        ));
        assert!(pattern_matches("agent/*", "agent/12", '/'));
        assert!(!pattern_matches("agent/1", "agent/12", '/'));
        assert!(pattern_matches("ri/0", "ri/0", '/'));
        let mut s = AdversarySpec::new(
            AdversaryKind::Replayer,
            "r",
            Position::OffPath { group: GroupId(0) },
        );
        assert!(s.targets_kind("anything") && s.targets_actor("anyone"));
        s.from_ns = 10;
        s.to_ns = 20;
        assert!(!s.active(SimTime::from_ns(9)));
        assert!(s.active(SimTime::from_ns(10)));
        assert!(!s.active(SimTime::from_ns(20)));
    }

    #[test]
    fn shared_learns_ids_of_released_messages() {
        let mut sh = Shared::default();
        sh.pending.push((1, 2, "roap:roRequest", 500, 7));
        let rec = |t, msg| TraceRecord {
            t,
            seq: 0,
            ev: TraceEvent::Send {
                msg,
                from: 1,
                to: 2,
                msg_type: "roap:roRequest".into(),
                bytes: 10,
            },
        };
        sh.on_record(&rec(400, 3));
        assert!(sh.ids.is_empty(), "not due yet");
        sh.on_record(&rec(500, 4));
        assert_eq!(sh.ids[&7], 4);
        assert_eq!(sh.next_msg_id, 5);
        assert_eq!(sh.msg_ids(&[7, 8]), vec![4]);
    }
}
