//! The Tamperer: modifies one field of a PDU in transit and re-encodes it, or (with
//! `reserialise`) re-encodes it unchanged in an equivalent non-canonical XML form.
//!
//! **Modified requests** (signature, nonce, Device ID, requested RO IDs, DRM time, the moved
//! count of a Move request): requests are signed over every field (ROAP §5.4.2.1.3,
//! §5.4.2.3.1), so the server must refuse them. Succeeded when the server answers the
//! modified request with Success, blocked when it answers anything else.
//!
//! **Modified responses** (RO Response: signature, nonce, Device ID, RI ID, RO ID, a count
//! constraint, the RO MAC; JoinDomainResponse: signature, nonce, Device ID, RI ID, a Domain
//! Key MAC): the RI signs the whole response and the Device verifies it (§5.4.2.3.2,
//! §5.4.4.2), the RO MAC and the Domain Key MAC add key confirmation under K_MAC (seed 002).
//! The modified response replaces the original; succeeded when the Device acts on it, blocked
//! when it refuses or ignores it — decided from the Device's state ([`super::replayer::probe`]).
//! The status is not modified: ROAP failure answers are status-only and unsigned
//! (§5.4.2.3.2), so turning a Success into a failure is a denial of service no ROAP variant
//! prevents (an on-path attacker can as well drop the answer), and a failure turned into
//! Success carries no signed body to act on.
//!
//! **Non-canonical re-serialisation** ([`reserialise`]): the PDU is not changed, only its
//! octets (a re-encoding intermediary). Here the *attack* is on interoperability: it succeeds
//! when the receiver refuses a message equivalent to a valid one, and is blocked when the
//! receiver accepts it. A Device reading the Domain Key MAC per seed 002 interpretation 2
//! (XPath node set + Exclusive C14N) verifies the re-serialised JoinDomainResponse; one
//! reading interpretation 1 (the `<domainKey>` octets as received) computes a different MAC
//! input and rejects the key (`DomainKeyMacError`). Signatures are verified over the
//! canonical form in both variants (seed 002 only concerns the Domain Key MAC input).
//!
//! Crypto modes: a re-serialised PDU always travels as octets (`Wire::from_xml`), also in
//! symbolic mode, where the PDU struct is encoded first (symbolic signatures, MACs and
//! ciphertexts are ordinary octet strings). The receiver parses them as in real mode; a
//! Device computing a Domain Key MAC from received octets in symbolic mode compares its
//! input with the canonical one (see `proto::domain::mac`), so both modes give the same
//! outcome.

pub mod reserialise;

use super::replayer::probe::{Probe, Probes};
use super::replayer::{ask_key, AnswerJudge};
use super::{score, AdversarySpec, Attack, AttackCx, AttackStats, EndCheck};
use crate::engine::{ActorId, Message, SimTime, Verdict};
use crate::invariant::Observed;
use crate::pdu::ro::Constraint;
use crate::pdu::{Identifier, Pdu};
use crate::proto::domain::split_domain_id;
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::world::World;
use crate::trace::TraceEvent;
use rand::Rng;
use std::collections::VecDeque;
use std::rc::Rc;

/// Which field a tamperer changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// One bit of the signature.
    Signature,
    /// One bit of the nonce.
    Nonce,
    /// The Device ID (another, well-formed ID).
    DeviceId,
    /// Requests: the requested RO IDs (one more asked for). RO Responses: the first RO's ID.
    RoIds,
    /// The DRM time (one hour later).
    Time,
    /// Move requests: the moved count (doubled, or 2 when absent). RO Responses: the first
    /// count constraint of the first RO (doubled).
    Count,
    /// Responses: the RI ID (another, well-formed ID).
    RiId,
    /// RO Responses: one bit of the first RO's MAC.
    RoMac,
    /// JoinDomainResponses: one bit of the first Domain Key's MAC (seed 002).
    DomainKeyMac,
}

/// Flips the lowest bit of the first byte (or appends a byte to an empty field).
fn flip(b: &mut Vec<u8>) {
    match b.first_mut() {
        Some(x) => *x ^= 1,
        None => b.push(1),
    }
}

fn flip_id(id: &mut Identifier) {
    flip(&mut id.hash);
}

/// Applies `field` to `pdu`; `None` if the PDU has no such field.
pub fn tamper(pdu: &Pdu, field: Field) -> Option<Pdu> {
    let mut p = pdu.clone();
    match (&mut p, field) {
        (Pdu::RoRequest(r), Field::Signature) => flip(&mut r.signature),
        (Pdu::RoRequest(r), Field::Nonce) => flip(&mut r.nonce),
        (Pdu::RoRequest(r), Field::DeviceId) => flip_id(&mut r.device_id),
        (Pdu::RoRequest(r), Field::RoIds) => {
            let extra = r.ro_ids.first().cloned().unwrap_or_else(|| "cid:x".into());
            r.ro_ids.push(extra);
        }
        (Pdu::RoRequest(r), Field::Time) => r.time.unix_s += 3_600,
        (Pdu::RegistrationRequest(r), Field::Signature) => flip(&mut r.signature),
        (Pdu::RegistrationRequest(r), Field::Nonce) => flip(&mut r.nonce),
        (Pdu::RegistrationRequest(r), Field::Time) => r.time.unix_s += 3_600,
        (Pdu::MoveDeviceRoRequest(r), Field::Signature) => flip(&mut r.signature),
        (Pdu::MoveDeviceRoRequest(r), Field::Nonce) => flip(&mut r.nonce),
        (Pdu::MoveDeviceRoRequest(r), Field::Time) => r.time.unix_s += 3_600,
        (Pdu::MoveDeviceRoRequest(r), Field::Count) => {
            let moved = r.rights_info.ros.first_mut()?;
            let st = moved.state.get_or_insert_with(Default::default);
            st.count = Some(st.count.unwrap_or(1).saturating_mul(2));
        }
        (Pdu::RoResponse(r), f) => {
            let b = r.body.as_mut()?;
            match f {
                Field::Signature => flip(&mut b.signature),
                Field::Nonce => flip(&mut b.nonce),
                Field::DeviceId => flip_id(&mut b.device_id),
                Field::RiId => flip_id(&mut b.ri_id),
                Field::RoIds => b.protected_ros.first_mut()?.ro.id.push_str("-x"),
                Field::RoMac => flip(&mut b.protected_ros.first_mut()?.mac),
                Field::Count => {
                    let ro = &mut b.protected_ros.first_mut()?.ro;
                    let n = ro
                        .rights
                        .permissions
                        .iter_mut()
                        .flat_map(|p| p.constraints.iter_mut())
                        .find_map(|c| match c {
                            Constraint::Count(n) => Some(n),
                            _ => None,
                        })?;
                    *n = n.saturating_mul(2).max(*n + 1);
                }
                _ => return None,
            }
        }
        (Pdu::JoinDomainResponse(r), f) => {
            let b = r.body.as_mut()?;
            match f {
                Field::Signature => flip(&mut b.signature),
                Field::Nonce => flip(&mut b.nonce),
                Field::DeviceId => flip_id(&mut b.device_id),
                Field::RiId => flip_id(&mut b.ri_id),
                Field::DomainKeyMac => flip(&mut b.domain_info.domain_keys.first_mut()?.mac),
                _ => return None,
            }
        }
        _ => return None,
    }
    Some(p)
}

/// The fields tried, in the order a random draw indexes them.
pub const FIELDS: [Field; 9] = [
    Field::Signature,
    Field::Nonce,
    Field::DeviceId,
    Field::RoIds,
    Field::Time,
    Field::Count,
    Field::RiId,
    Field::RoMac,
    Field::DomainKeyMac,
];

/// JoinDomainRequests remembered to bound the Join probe window, bounded.
pub const MAX_JOIN_REQUESTS: usize = 4_096;

/// A JoinDomainRequest seen: Device, nonce, domain ID, send time.
type JoinSeen = (ActorId, Vec<u8>, String, SimTime);

/// The tampering attacker.
pub struct Tamperer {
    spec: AdversarySpec,
    world: Rc<World>,
    me: Option<ActorId>,
    judge: AnswerJudge,
    probes: Probes,
    joins: VecDeque<JoinSeen>,
}

impl std::fmt::Debug for Tamperer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tamperer")
            .field("name", &self.spec.name)
            .finish()
    }
}

impl Tamperer {
    /// A tamperer configured by `spec` in `world`, and its end-of-run scoring (responses).
    pub fn new(spec: AdversarySpec, world: Rc<World>) -> (Self, EndCheck) {
        let probes = Probes::default();
        let check = super::replayer::probe::end_check(probes.clone());
        (
            Tamperer {
                spec,
                world,
                me: None,
                judge: AnswerJudge::default(),
                probes,
                joins: VecDeque::new(),
            },
            check,
        )
    }

    /// How to tell whether the Device acted on response `sent` (the PDU it receives, `orig`
    /// the one the RI sent) to `to` at `now`; `None` if this response is not attacked.
    fn probe(&self, orig: &Pdu, sent: &Pdu, to: ActorId, now: SimTime) -> Option<Probe> {
        match (orig, sent) {
            (Pdu::RoResponse(a), Pdu::RoResponse(b)) => {
                let mut ro_ids = Vec::new();
                for r in [a, b] {
                    for p in &r.body.as_ref()?.protected_ros {
                        if !ro_ids.contains(&p.ro.id) {
                            ro_ids.push(p.ro.id.clone());
                        }
                    }
                }
                (!ro_ids.is_empty()).then_some(Probe::Ros { agent: to, ro_ids })
            }
            (Pdu::JoinDomainResponse(a), _) => {
                let nonce = &a.body.as_ref()?.nonce;
                let (_, _, domain, at) = self
                    .joins
                    .iter()
                    .rev()
                    .find(|(d, n, _, _)| *d == to && n == nonce)?;
                let base = split_domain_id(domain)?.0.to_string();
                Some(Probe::Join {
                    agent: to,
                    base,
                    from: now,
                    until: at.add_ns(self.world.params.request_timeout_ns),
                })
            }
            _ => None,
        }
    }

    /// The actor verdicts are recorded for (the rule engine reuses this referee).
    pub(crate) fn set_me(&mut self, me: ActorId) {
        self.me = Some(me);
    }

    /// Opens the verdict on `changed` (the receiver gets it instead of `pdu`, sent by
    /// `obs.from` to `obs.to`): a request succeeds when the server answers it with Success, a
    /// response when the Device acts on it. `false` when neither can be judged.
    pub(crate) fn open_changed(
        &mut self,
        obs: &Observed<'_>,
        pdu: &Pdu,
        changed: &Pdu,
        label: String,
    ) -> bool {
        if self.judge.full() || self.probes.borrow().full() {
            return false;
        }
        if let Some(key) = ask_key(changed) {
            self.judge
                .open_key(obs.to, obs.from, key, obs.now, 1, label, true);
            return true;
        }
        let Some(probe) = self.probe(pdu, changed, obs.to, obs.now) else {
            return false;
        };
        self.probes.borrow_mut().push(probe, label, true);
        true
    }

    fn reserialised(
        &mut self,
        obs: &Observed<'_>,
        pdu: &Pdu,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        let Ok(canonical) = pdu.try_encode() else {
            return Verdict::Pass(msg);
        };
        let Ok(bytes) = reserialise::reserialise(&canonical) else {
            return Verdict::Pass(msg);
        };
        let label = format!(
            "{} of actor {} to actor {} re-serialised non-canonically",
            pdu.kind(),
            obs.from.0,
            obs.to.0
        );
        if let Some(key) = ask_key(pdu) {
            self.judge
                .open_key(obs.to, obs.from, key, obs.now, 1, label, false);
        } else if let Some(probe) = self.probe(pdu, pdu, obs.to, obs.now) {
            if self.probes.borrow().full() {
                return Verdict::Pass(msg);
            }
            self.probes.borrow_mut().push(probe, label, false);
        } else {
            return Verdict::Pass(msg);
        }
        cx.attempt();
        Verdict::Pass(SimMsg::Pdu(Wire::from_xml(msg.kind(), bytes)))
    }
}

impl Attack for Tamperer {
    fn spec(&self) -> &AdversarySpec {
        &self.spec
    }

    fn intercept(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        self.me = Some(cx.me);
        let Some(pdu) = obs.pdu else {
            return Verdict::Pass(msg);
        };
        if self.judge.full() || self.probes.borrow().full() {
            return Verdict::Pass(msg);
        }
        if self.spec.reserialise {
            return self.reserialised(obs, pdu, msg, cx);
        }
        let request = ask_key(pdu).is_some();
        if !request && self.probe(pdu, pdu, obs.to, obs.now).is_none() {
            return Verdict::Pass(msg);
        }
        let start = cx.tap.rng().gen_range(0..FIELDS.len());
        let Some((field, changed)) = (0..FIELDS.len())
            .map(|i| FIELDS[(start + i) % FIELDS.len()])
            .find_map(|f| tamper(pdu, f).map(|p| (f, p)))
        else {
            return Verdict::Pass(msg);
        };
        let label = format!(
            "{} of actor {} to actor {} with {field:?} modified",
            pdu.kind(),
            obs.from.0,
            obs.to.0
        );
        if !self.open_changed(obs, pdu, &changed, label) {
            return Verdict::Pass(msg);
        }
        cx.attempt();
        Verdict::Pass(SimMsg::Pdu(Wire::new(self.world.mode(), changed)))
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        if let (Some(Pdu::JoinDomainRequest(r)), true) = (obs.pdu, obs.authentic()) {
            if self.joins.len() >= MAX_JOIN_REQUESTS {
                self.joins.pop_front();
            }
            self.joins
                .push_back((obs.from, r.0.nonce.clone(), r.0.domain_id.clone(), obs.now));
        }
        let Some(me) = self.me else { return };
        if let Some((success, detail)) = self.judge.observe(obs) {
            score(stats, out, me, "tamper", Some(obs.from), success, detail);
        }
        for (success, detail, target) in self.probes.borrow_mut().observe(obs) {
            score(stats, out, me, "tamper", Some(target), success, detail);
        }
    }
}
