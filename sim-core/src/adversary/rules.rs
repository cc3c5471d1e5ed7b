//! The programmable attacker (`kind = "rules"`): a Dolev–Yao adversary at a position
//! (on-path links, off-path injector, compromised endpoint with its keys) running a list of
//! rules, each "`when` a message matches, `then` act", with a budget per rule and one for
//! the whole attacker.
//!
//! - **Match** ([`Match`]): message kinds, sender and receiver names (patterns as in
//!   `targets`), a time window, field predicates (a field's text equals a value) and `nth`
//!   (only the n-th matching message). Every rule that matches a message acts on it, in
//!   order: edits compose, drops and delays apply, injections and replays happen beside it.
//! - **Actions** ([`Action`]): drop, delay, reorder (hold so that later messages overtake),
//!   duplicate, replay (to the original receiver or any other, now or later: a response
//!   replayed to its own addressee is `to = "same"` with a delay), modify named fields
//!   ([`field`]: set, flip, remove, swap with the field of another message it saw, add an
//!   extension) and optionally re-sign with the compromised endpoint's key, inject a PDU
//!   built from its knowledge (the last message of that kind it saw, or one built from
//!   scratch with junk authenticators) with fields set (values `$path` copy the matched
//!   message's field, e.g. its nonce), flood a server with such PDUs, and skew a
//!   compromised Device's DRM clock.
//! - **Knowledge**: every message its position lets it see (bounded per kind), the private
//!   key of a compromised endpoint; what it learns about protected keys is computed by the
//!   key monitor (`invariant/keys.rs`), which sees exactly the same messages.
//! - **Scoring**: every attempt ends blocked or succeeded. A request the receiver gets
//!   (modified, replayed, duplicated, injected) is decided by the server's answer
//!   ([`super::replayer::AnswerJudge`]); a response or trigger by what the receiver does
//!   with it ([`super::replayer::probe`]); anything else (drops, delays, skews, unsigned
//!   responses without a probe) by the invariants: succeeded if an invariant is violated at
//!   or after the attempt, blocked if every invariant still holds [`INVARIANT_GRACE_NS`]
//!   after it. Attempts younger than that at the end of the run stay inconclusive, and a
//!   `[expect] blocked` needs at least one decided attempt.

pub mod field;

use super::replayer::{recipients, ReplayTo, Replayer};
use super::tamperer::Tamperer;
use super::{score, AdversarySpec, Attack, AttackCx, AttackStats, EndCheck, Layout, Position};
use crate::crypto::{OpCounter, PrivateKey};
use crate::engine::{ActorId, Message, SimTime, Simulation, Verdict};
use crate::invariant::Observed;
use crate::pdu::Pdu;
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::world::World;
use crate::trace::TraceEvent;
use crate::xml::Element;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use field::{EditValue, FieldPath};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

/// How long after an invariant-scored attempt every invariant must still hold for it to
/// count as blocked (longer than any request timeout plus retries in the bundled suite).
pub const INVARIANT_GRACE_NS: u64 = 10_000_000_000;
/// Messages remembered per kind (the attacker's knowledge of what it saw).
pub const MAX_SEEN_PER_KIND: usize = 16;
/// Invariant-scored attempts waiting for the end of the run, bounded.
pub const MAX_OPEN_INVARIANT_ATTEMPTS: usize = 100_000;

/// Which messages a rule acts on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Match {
    /// Message kinds (`roap:roResponse`, `roap:*`); empty = every kind.
    pub kinds: Vec<String>,
    /// Sender names or patterns (`ri/*`); empty = anyone.
    pub from: Vec<String>,
    /// Receiver names or patterns; empty = anyone.
    pub to: Vec<String>,
    /// Active from (inclusive), ns.
    pub from_ns: u64,
    /// Active until (exclusive), ns.
    pub to_ns: u64,
    /// Field predicates: the field's text equals the value.
    pub fields: Vec<(FieldPath, String)>,
    /// Only the n-th matching message (1-based); `None` = every one.
    pub nth: Option<u64>,
}

/// What a field edit does.
#[derive(Debug, Clone, PartialEq)]
pub enum EditOp {
    /// Set the text; a value `$path` copies that field of the matched message.
    Set(String),
    /// Flip one bit (octets) or change the last character (text).
    Flip,
    /// Remove the element or attribute.
    Remove,
    /// Replace the field by the same-named field (or `field`) of the last message of `kind`
    /// (default: the same kind) the attacker saw, other than this one.
    Swap {
        /// Kind of the message the value comes from.
        kind: Option<String>,
        /// Field of that message (default: the same path).
        field: Option<FieldPath>,
    },
    /// Add `<extension xsi:type=… critical=…>` under the field (its `<extensions>`).
    AddExtension {
        /// `xsi:type`.
        xsi_type: String,
        /// `critical`.
        critical: bool,
    },
}

/// One field edit.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The field.
    pub field: FieldPath,
    /// The change.
    pub op: EditOp,
}

/// Where a replayed or injected message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// The matched message's receiver (claimed sender: its sender).
    Same,
    /// The matched message's sender (claimed sender: its receiver: a forged answer).
    Sender,
    /// The next actor of the receiver's kind.
    Other,
    /// Every actor matching these patterns (claimed sender: the matched message's sender).
    Actors(Vec<String>),
}

impl Dest {
    /// Parses `same`, `sender`, `other` or comma-separated actor patterns.
    pub fn parse(s: &str) -> Dest {
        match s.trim() {
            "" | "same" => Dest::Same,
            "sender" => Dest::Sender,
            "other" => Dest::Other,
            l => Dest::Actors(l.split(',').map(|p| p.trim().to_string()).collect()),
        }
    }

    /// `(claimed sender, receiver)` pairs for a message matched on `from → to`.
    fn pairs(&self, layout: &Layout, from: ActorId, to: ActorId) -> Vec<(ActorId, ActorId)> {
        match self {
            Dest::Sender => vec![(to, from)],
            Dest::Same => vec![(from, to)],
            Dest::Other => recipients(&ReplayTo::Other, layout, from, to)
                .into_iter()
                .map(|d| (from, d))
                .collect(),
            Dest::Actors(p) => recipients(&ReplayTo::Actors(p.clone()), layout, from, to)
                .into_iter()
                .map(|d| (from, d))
                .collect(),
        }
    }
}

/// What a rule does to a matched message.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Remove it in transit.
    Drop,
    /// Deliver it `by_ns` later.
    Delay {
        /// Extra delay, ns.
        by_ns: u64,
    },
    /// Hold it `by_ns` so that messages sent meanwhile overtake it.
    Reorder {
        /// Hold time, ns.
        by_ns: u64,
    },
    /// Let it pass and send `copies` copies `after_ns` later.
    Duplicate {
        /// Copies.
        copies: u32,
        /// Delay of the copies, ns.
        after_ns: u64,
    },
    /// Let it pass and send it again to `to`, `after_ns` later.
    Replay {
        /// Receivers.
        to: Dest,
        /// Delay, ns.
        after_ns: u64,
    },
    /// Change fields in transit, optionally re-signing with the compromised endpoint's key.
    Modify {
        /// Edits, in order.
        edits: Vec<Edit>,
        /// Re-sign with the key the attacker holds.
        resign: bool,
    },
    /// Let it pass and send a PDU of `kind` built from knowledge to `to`.
    Inject {
        /// Kind built (default: the matched message's kind).
        kind: Option<String>,
        /// Receivers.
        to: Dest,
        /// Edits on the template.
        edits: Vec<Edit>,
        /// Re-sign with the key the attacker holds.
        resign: bool,
        /// Delay, ns.
        after_ns: u64,
    },
    /// From the attacker's own actor: PDUs of `kind` to `to` at `rate_per_s` (inside the
    /// rule's window, until its budget is spent).
    Flood {
        /// Kind sent.
        kind: String,
        /// Receiver name.
        to: String,
        /// Rate.
        rate_per_s: f64,
        /// Edits on each PDU.
        edits: Vec<Edit>,
    },
    /// Shift the compromised Device's DRM clock by `by_ns` at the start of the window.
    Skew {
        /// Offset added, ns (negative: back).
        by_ns: i64,
    },
}

impl Action {
    /// Name as written in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Delay { .. } => "delay",
            Action::Reorder { .. } => "reorder",
            Action::Duplicate { .. } => "duplicate",
            Action::Replay { .. } => "replay",
            Action::Modify { .. } => "modify",
            Action::Inject { .. } => "inject",
            Action::Flood { .. } => "flood",
            Action::Skew { .. } => "skew",
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Name in verdicts (`rule/<index>` by default).
    pub name: String,
    /// Which messages.
    pub when: Match,
    /// What to do.
    pub then: Action,
    /// Most actions of this rule.
    pub budget: u64,
}

/// Kinds whose signature covers a transcript or is a MAC under a session key, so a
/// compromised endpoint's private key cannot re-sign them as a message.
pub fn resignable(kind: &str) -> bool {
    (kind.starts_with("roap:") || kind.starts_with("sceroap:"))
        && !matches!(
            kind,
            "roap:registrationRequest"
                | "roap:registrationResponse"
                | "roap:deviceHello"
                | "roap:riHello"
                | "roap:leaveDomainResponse"
        )
}

/// Attempts decided by the invariants at the end: (time, label, target).
type InvariantAttempts = Rc<RefCell<Vec<(SimTime, String, Option<ActorId>)>>>;

/// The log of violations `(t_ns, invariant)` the end check reads (filled by
/// `Installed::check_end` before the end checks run).
pub type ViolationLog = Rc<RefCell<Vec<(u64, String)>>>;

/// The programmable attacker.
pub struct Programmable {
    spec: AdversarySpec,
    world: Rc<World>,
    key: Option<PrivateKey>,
    ops: OpCounter,
    matched: Vec<u64>,
    used: Vec<u64>,
    seen: BTreeMap<&'static str, VecDeque<SimMsg>>,
    replayer: Replayer,
    tamperer: Tamperer,
    by_invariant: InvariantAttempts,
    me: ActorId,
    /// Attempts made outside `intercept` (clock skews, flood sends) not yet counted.
    uncounted: Rc<Cell<u64>>,
    /// Flood PDUs sent and not answered yet (times).
    flood_open: Rc<RefCell<VecDeque<SimTime>>>,
}

impl std::fmt::Debug for Programmable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Programmable")
            .field("name", &self.spec.name)
            .finish()
    }
}

impl Programmable {
    /// The attacker of `spec` running as actor `me`; `key` is the compromised endpoint's
    /// private key; violations are read from `log` at the end.
    pub fn new(
        spec: AdversarySpec,
        world: Rc<World>,
        me: ActorId,
        key: Option<PrivateKey>,
        log: ViolationLog,
    ) -> (Self, EndCheck) {
        let (mut replayer, mut replay_check) = Replayer::new(spec.clone());
        let (mut tamperer, mut tamper_check) = Tamperer::new(spec.clone(), world.clone());
        replayer.set_me(me);
        tamperer.set_me(me);
        let by_invariant: InvariantAttempts = Rc::default();
        let flood_open: Rc<RefCell<VecDeque<SimTime>>> = Rc::default();
        let (inv, flood) = (by_invariant.clone(), flood_open.clone());
        let check: EndCheck = Box::new(move |sim, roster| {
            let mut out = replay_check(sim, roster);
            out.extend(tamper_check(sim, roster));
            let now = sim.now();
            let log = log.borrow();
            for (t, label, target) in inv.borrow_mut().drain(..) {
                if let Some((vt, inv)) = log.iter().find(|(vt, _)| *vt >= t.as_ns()) {
                    out.push((true, format!("{label}: {inv} violated at {vt} ns"), target));
                } else if t.add_ns(INVARIANT_GRACE_NS) <= now {
                    out.push((false, format!("{label}: every invariant held"), target));
                }
            }
            for t in flood.borrow_mut().drain(..) {
                if t.add_ns(INVARIANT_GRACE_NS) <= now {
                    out.push((
                        false,
                        "flood PDU: never answered, not accepted".into(),
                        None,
                    ));
                }
            }
            out
        });
        let n = spec.rules.len();
        (
            Programmable {
                spec,
                world,
                key,
                ops: OpCounter::new(),
                matched: vec![0; n],
                used: vec![0; n],
                seen: BTreeMap::new(),
                replayer,
                tamperer,
                by_invariant,
                me,
                uncounted: Rc::default(),
                flood_open,
            },
            check,
        )
    }

    /// Shares the attempt counter and flood bookkeeping with the attacker's actor.
    pub(crate) fn flood_handles(&self) -> (Rc<Cell<u64>>, Rc<RefCell<VecDeque<SimTime>>>) {
        (self.uncounted.clone(), self.flood_open.clone())
    }

    fn remember(&mut self, kind: &'static str, msg: &SimMsg) {
        let q = self.seen.entry(kind).or_default();
        if q.len() >= MAX_SEEN_PER_KIND {
            q.pop_front();
        }
        q.push_back(msg.clone());
    }

    /// The latest message of `kind` seen, other than `not`.
    fn known(&self, kind: &str, not: Option<&SimMsg>) -> Option<Element> {
        let q = self.seen.get(kind)?;
        q.iter()
            .rev()
            .find(|m| match (m, not) {
                (SimMsg::Pdu(a), Some(SimMsg::Pdu(b))) => !a.same_message(b),
                _ => true,
            })
            .and_then(super::decode)
            .map(|p| p.to_element())
    }

    fn matches(&self, r: &Match, obs: &Observed<'_>, layout: &Layout, el: &Element) -> bool {
        let now = obs.now.as_ns();
        let pat = |ps: &[String], s: &str, sep| {
            ps.is_empty() || ps.iter().any(|p| super::pattern_matches(p, s, sep))
        };
        now >= r.from_ns
            && now < r.to_ns
            && pat(&r.kinds, obs.msg.kind(), ':')
            && pat(&r.from, layout.name(obs.from), '/')
            && pat(&r.to, layout.name(obs.to), '/')
            && r.fields
                .iter()
                .all(|(f, v)| f.read(el).is_some_and(|x| x == *v))
    }

    /// Applies `edits` to `el` (`src` is the matched message, for `$path` values and
    /// swaps); `false` if an edit could not apply (field absent, nothing known to swap in).
    fn edit(&self, el: &mut Element, src: &Element, msg: &SimMsg, edits: &[Edit]) -> bool {
        for e in edits {
            let value = match &e.op {
                EditOp::Set(v) => match v.strip_prefix('$') {
                    Some(p) => match FieldPath::parse(p).ok().and_then(|p| p.read(src)) {
                        Some(x) => EditValue::Set(x),
                        None => return false,
                    },
                    None => EditValue::Set(v.clone()),
                },
                EditOp::Flip => EditValue::Flip,
                EditOp::Remove => EditValue::Remove,
                EditOp::Swap { kind, field } => {
                    let kind = kind.as_deref().unwrap_or(msg.kind());
                    let Some(other) = self.known(kind, Some(msg)) else {
                        return false;
                    };
                    let f = field.as_ref().unwrap_or(&e.field);
                    match f.subtree(&other) {
                        Some(s) => EditValue::Subtree(s),
                        None => return false,
                    }
                }
                EditOp::AddExtension { xsi_type, critical } => EditValue::AddExtension {
                    xsi_type: xsi_type.clone(),
                    critical: *critical,
                },
            };
            if !e.field.apply(el, &value) {
                return false;
            }
        }
        true
    }

    /// Re-signs `el` with the attacker's key; `false` without a key or a signable PDU.
    fn resign(&mut self, el: &mut Element) -> bool {
        let Some(key) = &self.key else { return false };
        let Ok(pdu) = Pdu::from_element(el) else {
            return false;
        };
        let Ok(sig) = self
            .world
            .crypto
            .sign(&mut self.ops, key, self.world.params.sig_alg, &pdu)
        else {
            return false;
        };
        self.ops.take();
        let f = FieldPath::parse("signature").expect("valid");
        f.apply(el, &EditValue::Set(B64.encode(sig)))
    }

    /// The message carrying `el` (a PDU when it still decodes, else its octets).
    fn pack(&self, kind: &'static str, el: &Element) -> (SimMsg, Option<Pdu>) {
        let decoded = Pdu::from_element(el).ok();
        let wire = match (&decoded, self.world.mode()) {
            (Some(p), crate::crypto::CryptoMode::Symbolic) => {
                Wire::new(self.world.mode(), p.clone())
            }
            _ => Wire::from_xml(
                kind,
                crate::xml::canonicalize_element(el).unwrap_or_default(),
            ),
        };
        (SimMsg::Pdu(wire), decoded)
    }

    fn by_invariants(&mut self, t: SimTime, label: String, target: ActorId) {
        let mut v = self.by_invariant.borrow_mut();
        if v.len() < MAX_OPEN_INVARIANT_ATTEMPTS {
            v.push((t, label, Some(target)));
        }
    }

    /// Opens the verdict on `sent` (what `to` receives from claimed `from` at `at`) for an
    /// attempt that modified or forged it: the server's answer, the receiver's action, or
    /// the invariants.
    fn judge_changed(
        &mut self,
        obs: &Observed<'_>,
        orig: Option<&Pdu>,
        sent: Option<&Pdu>,
        label: String,
    ) {
        if let (Some(o), Some(s)) = (orig.or(sent), sent) {
            if self.tamperer.open_changed(obs, o, s, label.clone()) {
                return;
            }
        }
        self.by_invariants(obs.now, label, obs.to);
    }

    /// Acts on one message with rule `i`; `None` if the rule cannot apply to it.
    fn act(
        &mut self,
        i: usize,
        obs: &Observed<'_>,
        el: &Element,
        msg: &SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Option<Verdict<SimMsg>> {
        let rule = self.spec.rules[i].clone();
        let desc = format!(
            "rule {} ({}) on {} of actor {} to actor {}",
            rule.name,
            rule.then.as_str(),
            msg.kind(),
            obs.from.0,
            obs.to.0
        );
        let v = match &rule.then {
            Action::Drop => {
                self.by_invariants(obs.now, desc, obs.to);
                Verdict::Drop
            }
            Action::Delay { by_ns } | Action::Reorder { by_ns } => {
                self.by_invariants(obs.now, desc, obs.to);
                Verdict::Delay(msg.clone(), *by_ns)
            }
            Action::Duplicate { copies, after_ns } => {
                for _ in 0..*copies {
                    self.replay_one(obs, obs.to, *after_ns, &desc, msg, cx);
                }
                Verdict::Pass(msg.clone())
            }
            Action::Replay { to, after_ns } => {
                let dests = to.pairs(cx.layout, obs.from, obs.to);
                if dests.is_empty() {
                    return None;
                }
                for (_, d) in dests {
                    self.replay_one(obs, d, *after_ns, &desc, msg, cx);
                }
                Verdict::Pass(msg.clone())
            }
            Action::Modify { edits, resign } => {
                let mut out = el.clone();
                if !self.edit(&mut out, el, msg, edits) || out == *el {
                    return None;
                }
                if *resign && !self.resign(&mut out) {
                    return None;
                }
                let (m, decoded) = self.pack(msg.kind(), &out);
                self.judge_changed(obs, obs.pdu, decoded.as_ref(), desc);
                Verdict::Pass(m)
            }
            Action::Inject {
                kind,
                to,
                edits,
                resign,
                after_ns,
            } => {
                let kind = kind.as_deref().unwrap_or(msg.kind());
                let &k = crate::pdu::ALL_KINDS.iter().find(|k| **k == kind)?;
                let template = if k == msg.kind() {
                    Some(el.clone())
                } else {
                    self.known(k, None)
                };
                let mut out = template.unwrap_or_else(|| {
                    let idx = crate::pdu::ALL_KINDS.iter().position(|x| *x == k);
                    crate::pdu::sample::random_pdu(idx.unwrap_or(0), cx.tap.rng()).to_element()
                });
                if !self.edit(&mut out, el, msg, edits) {
                    return None;
                }
                if *resign && !self.resign(&mut out) {
                    return None;
                }
                let (m, decoded) = self.pack(k, &out);
                let pairs = to.pairs(cx.layout, obs.from, obs.to);
                if pairs.is_empty() {
                    return None;
                }
                for (f, d) in pairs {
                    let fake = Observed {
                        now: obs.now.add_ns(*after_ns),
                        from: f,
                        to: d,
                        msg: &m,
                        pdu: decoded.as_ref(),
                        injected_by: Some(cx.me),
                        tampered_by: None,
                    };
                    let label = format!("{desc}: injected {k} to actor {}", d.0);
                    self.judge_changed(&fake, None, decoded.as_ref(), label);
                    cx.inject(f, d, m.clone(), *after_ns);
                }
                Verdict::Pass(msg.clone())
            }
            Action::Flood { .. } | Action::Skew { .. } => return None,
        };
        Some(v)
    }

    fn replay_one(
        &mut self,
        obs: &Observed<'_>,
        dest: ActorId,
        after_ns: u64,
        desc: &str,
        msg: &SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) {
        let label = format!("{desc}: re-sent to actor {} after {after_ns} ns", dest.0);
        let opened = obs.pdu.and_then(|p| {
            self.replayer.open(
                p,
                obs.from,
                obs.to,
                dest,
                obs.now.add_ns(after_ns),
                label.clone(),
            )
        });
        if opened.is_none() {
            self.by_invariants(obs.now.add_ns(after_ns), label, dest);
        }
        cx.inject(obs.from, dest, msg.clone(), after_ns);
    }

    /// The compromised Device's clock skews, run after every event.
    fn skew_hook(&self) -> Option<crate::engine::AfterEvent<SimMsg>> {
        let Position::Compromised { endpoint } = self.spec.position else {
            return None;
        };
        let mut skews: Vec<(u64, i64, String, bool)> = self
            .spec
            .rules
            .iter()
            .filter_map(|r| match r.then {
                Action::Skew { by_ns } => Some((r.when.from_ns, by_ns, r.name.clone(), false)),
                _ => None,
            })
            .collect();
        if skews.is_empty() {
            return None;
        }
        let (inv, count) = (self.by_invariant.clone(), self.uncounted.clone());
        Some(Box::new(move |sim: &mut Simulation<SimMsg>| {
            let now = sim.now();
            for s in skews.iter_mut().filter(|s| !s.3 && now.as_ns() >= s.0) {
                s.3 = true;
                if let Some(a) = sim.actor_mut::<crate::proto::agent::Agent>(endpoint) {
                    a.clock.offset_ns = a.clock.offset_ns.saturating_add(s.1);
                    count.set(count.get() + 1);
                    inv.borrow_mut().push((
                        now,
                        format!(
                            "rule {} (skew) of actor {}'s DRM clock by {} ns",
                            s.2, endpoint.0, s.1
                        ),
                        Some(endpoint),
                    ));
                }
            }
        }))
    }
}

impl Attack for Programmable {
    fn spec(&self) -> &AdversarySpec {
        &self.spec
    }

    fn intercept(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        let Some(pdu) = obs.pdu else {
            return Verdict::Pass(msg);
        };
        let kind = msg.kind();
        let orig_el = pdu.to_element();
        let mut el = orig_el.clone();
        let mut cur = msg.clone();
        let (mut dropped, mut delay_ns) = (false, 0u64);
        // Every matching rule acts, in order: edits compose, a drop or delay applies to the
        // message, injections and replays happen beside it (a dropped request answered by
        // a forged response is two rules).
        for i in 0..self.spec.rules.len() {
            if cx.stats.attempts >= self.spec.budget {
                break;
            }
            let r = &self.spec.rules[i];
            if matches!(r.then, Action::Flood { .. } | Action::Skew { .. })
                || !self.matches(&r.when, obs, cx.layout, &orig_el)
            {
                continue;
            }
            self.matched[i] += 1;
            if r.when.nth.is_some_and(|n| n != self.matched[i]) || self.used[i] >= r.budget {
                continue;
            }
            let on_message = matches!(
                r.then,
                Action::Drop
                    | Action::Delay { .. }
                    | Action::Reorder { .. }
                    | Action::Modify { .. }
            );
            if dropped && on_message {
                continue;
            }
            if let Some(v) = self.act(i, obs, &el, &cur, cx) {
                self.used[i] += 1;
                cx.attempt();
                match v {
                    Verdict::Drop => dropped = true,
                    Verdict::Delay(m, d) => {
                        cur = m;
                        delay_ns = delay_ns.saturating_add(d);
                    }
                    Verdict::Pass(m) => {
                        if let Some(p) = super::decode(&m) {
                            el = p.to_element();
                        }
                        cur = m;
                    }
                }
            }
        }
        self.remember(kind, &msg);
        if dropped {
            Verdict::Drop
        } else if delay_ns > 0 {
            Verdict::Delay(cur, delay_ns)
        } else {
            Verdict::Pass(cur)
        }
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        stats.attempts += self.uncounted.replace(0);
        self.replayer.observe(obs, stats, out);
        self.tamperer.observe(obs, stats, out);
        if obs.to == self.me {
            // An answer to a flood PDU: accepted only on Success.
            let status = obs
                .pdu
                .map(|p| p.to_element())
                .and_then(|e| e.attr("status").map(str::to_string));
            if let Some(s) = status {
                if self.flood_open.borrow_mut().pop_front().is_some() {
                    let ok = s == "Success";
                    score(
                        stats,
                        out,
                        self.me,
                        "flood",
                        Some(obs.from),
                        ok,
                        format!("flood PDU answered {s}"),
                    );
                }
            }
        }
    }

    fn after_event(&mut self) -> Option<crate::engine::AfterEvent<SimMsg>> {
        self.skew_hook()
    }
}

/// Builds the PDU a flood rule sends: a random instance of `kind` (junk authenticators)
/// with `edits` applied.
pub fn flood_pdu(
    world: &World,
    kind: &str,
    edits: &[Edit],
    rng: &mut crate::engine::SimRng,
) -> Option<SimMsg> {
    let idx = crate::pdu::ALL_KINDS.iter().position(|x| *x == kind)?;
    let mut el = crate::pdu::sample::random_pdu(idx, rng).to_element();
    for e in edits {
        let v = match &e.op {
            EditOp::Set(v) => EditValue::Set(v.clone()),
            EditOp::Flip => EditValue::Flip,
            EditOp::Remove => EditValue::Remove,
            EditOp::AddExtension { xsi_type, critical } => EditValue::AddExtension {
                xsi_type: xsi_type.clone(),
                critical: *critical,
            },
            EditOp::Swap { .. } => continue,
        };
        e.field.apply(&mut el, &v);
    }
    let k = crate::pdu::ALL_KINDS[idx];
    let wire = match (Pdu::from_element(&el), world.mode()) {
        (Ok(p), crate::crypto::CryptoMode::Symbolic) => Wire::new(world.mode(), p),
        _ => Wire::from_xml(k, crate::xml::canonicalize_element(&el).unwrap_or_default()),
    };
    Some(SimMsg::Pdu(wire))
}
