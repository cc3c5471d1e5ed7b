//! The Replayer: records PDUs on the links it controls and re-sends each, unchanged, after
//! `replay_delay`, claiming the original sender, to the original recipient or to another
//! ([`ReplayTo`]). With `reserialise` the copy is the same PDU re-encoded in an equivalent
//! non-canonical XML form (same nonce and signature, other octets): a verbatim copy is a
//! repeat a server answers from its response store (`proto::repeats`, issue 11), a
//! re-encoded one is not, so it tests the nonce check itself.
//!
//! What is replayed and how each replay is decided:
//! - **requests** (RO, Registration, Move, Join/Leave Domain, Authentication Requests, the
//!   pairing Join Domain and Pairing Ticket Requests to the DEA): by
//!   the recipient's answer. To the same recipient the replay succeeds when the server
//!   accepts the request a second time (two Success answers bound to it) — what RI nonce
//!   tracking exists to prevent (seed 003 §1). To another server it succeeds when that
//!   server answers Success at all; any other status blocks it, and so does no answer by the
//!   end of the run (for replays sent at least [`SILENCE_GRACE_NS`] before it). Requests name their RI
//!   (`<riID>`) and are signed by the Device, so another RI must refuse them.
//! - **RI → DEA requests** (Get User Domain Authorization, Proxy Join/Leave User Domain,
//!   seed 000) to the DEA again: by what the DEA's answer changes ([`dea`]) — the DEA's
//!   effects are set-like (a Device "counted once", §7.4.1), so a Success that changes
//!   nothing blocks the replay and one that re-admits a Device that left succeeds.
//! - **responses** (RO Responses carrying ROs), only to another Device: decided at the end of
//!   the run — succeeded if the other Device installed an RO of the replayed response (RO IDs
//!   are unique per issuance), blocked otherwise. Responses name the Device and echo its
//!   nonce, and ROs are wrapped to its key. A replay to the same Device is not attempted:
//!   its ROs are already installed, so acceptance could not be told from the original.
//! - **ROAP triggers** (roAcquisition, joinDomain, leaveDomain) to the same Device again, when
//!   `replay_delay` ≥ [`SAME_TRIGGER_MIN_DELAY_NS`]: succeeded when the Device then sends a
//!   request echoing the trigger nonce (it acted on an old trigger a second time, issue 11),
//!   blocked if it never does by the end of the run.
//! - **ROAP triggers** (roAcquisition, joinDomain, leaveDomain), to another Device: succeeded when that Device runs the
//!   triggered protocol (a request echoing the trigger nonce as `triggerNonce`, §5.2.1, or an
//!   RO Request for the RO IDs it names), blocked if it never does by the end of the run. DRM 2.0 triggers do not name the
//!   Device, so a validly signed trigger is accepted by any Device registered with the RI:
//!   the replay succeeds in every variant (the triggered protocol itself is authenticated,
//!   so the impact is a Device starting a protocol it was not asked to; docs/attacks.md).
//! - **DEA answers** (Get User Domain Authorization, Proxy Join responses), only to another
//!   RI, and **Pairing Ticket Responses**, only to another SCE agent: decided by what the
//!   recipient keeps or sends next ([`probe`]: `RiAuthorization`, `RiForward`, `Ticket`).

pub mod dea;
pub mod probe;

use super::{score, AdversarySpec, Attack, AttackCx, AttackStats, EndCheck};
use crate::engine::{ActorId, SimTime, Verdict};
use crate::invariant::request_once::{request_key, response_key, RequestKey};
use crate::invariant::Observed;
use crate::pdu::trigger::TriggerKind;
use crate::pdu::{Pdu, Status};
use crate::proto::msg::SimMsg;
use crate::trace::TraceEvent;
use probe::{Probe, Probes};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Where a replayer sends what it captured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ReplayTo {
    /// The original recipient.
    #[default]
    Same,
    /// Another actor of the original recipient's kind (`ri/0` → `ri/1`, `agent/3` →
    /// `agent/4`): the next one in index order, wrapping around.
    Other,
    /// Every actor matching one of these names or patterns (`ri/1`, `dea/0`, `agent/*`)
    /// other than the original sender and recipient.
    Actors(Vec<String>),
}

impl ReplayTo {
    /// Parses the scenario spelling: `same`, `other`, or comma-separated actor patterns.
    pub fn parse(s: &str) -> ReplayTo {
        match s.trim() {
            "" | "same" => ReplayTo::Same,
            "other" => ReplayTo::Other,
            list => ReplayTo::Actors(list.split(',').map(|p| p.trim().to_string()).collect()),
        }
    }
}

/// The actors a PDU captured on its way from `from` to `to` is replayed to.
pub fn recipients(
    to_spec: &ReplayTo,
    layout: &super::Layout,
    from: ActorId,
    to: ActorId,
) -> Vec<ActorId> {
    let n = layout.names.len() as u32;
    match to_spec {
        ReplayTo::Same => vec![to],
        ReplayTo::Other => {
            let kind = |a: ActorId| layout.name(a).split('/').next().unwrap_or("").to_string();
            let mine = kind(to);
            if mine.is_empty() || mine == "adversary" {
                return Vec::new();
            }
            (1..n)
                .map(|k| ActorId((to.0 + k) % n))
                .find(|&a| a != from && kind(a) == mine)
                .into_iter()
                .collect()
        }
        ReplayTo::Actors(pats) => (0..n)
            .map(ActorId)
            .filter(|&a| a != from && a != to)
            .filter(|&a| {
                let name = layout.name(a);
                !name.starts_with("adversary/")
                    && pats.iter().any(|p| super::pattern_matches(p, name, '/'))
            })
            .collect(),
    }
}

/// The replay attacker.
pub struct Replayer {
    spec: AdversarySpec,
    me: Option<ActorId>,
    judge: Rc<RefCell<AnswerJudge>>,
    probes: Probes,
    dea: dea::DeaJudge,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("name", &self.spec.name)
            .finish()
    }
}

impl Replayer {
    /// A replayer configured by `spec`, and its end-of-run scoring (replayed responses and
    /// triggers).
    pub fn new(spec: AdversarySpec) -> (Self, EndCheck) {
        let probes = Probes::default();
        let judge: Rc<RefCell<AnswerJudge>> = Rc::default();
        let mut probe_check = probe::end_check(probes.clone());
        let j = judge.clone();
        let check: EndCheck = Box::new(move |sim, roster| {
            let mut out = probe_check(sim, roster);
            out.extend(
                j.borrow_mut()
                    .expire(sim.now(), SILENCE_GRACE_NS)
                    .into_iter()
                    .map(|(s, d, t)| (s, d, Some(t))),
            );
            out
        });
        (
            Replayer {
                spec,
                me: None,
                judge,
                probes,
                dea: dea::DeaJudge::default(),
            },
            check,
        )
    }

    /// The actor verdicts are recorded for (the rule engine reuses this referee).
    pub(crate) fn set_me(&mut self, me: ActorId) {
        self.me = Some(me);
    }

    /// Opens the verdict of replaying `pdu` (captured `from` → `to`) to `dest`; `None` if this
    /// kind of PDU is not replayed there.
    pub(crate) fn open(
        &mut self,
        pdu: &Pdu,
        from: ActorId,
        to: ActorId,
        dest: ActorId,
        at: SimTime,
        label: String,
    ) -> Option<()> {
        let same = dest == to;
        // RI → DEA requests to the DEA again: decided by what the DEA's answer does
        // (dea.rs); redirected elsewhere they are scored like any redirected request.
        if let Some(key) = request_key(pdu).filter(|k| same && k.is_dea()) {
            if self.dea.full() {
                return None;
            }
            self.dea.open(dest, from, key, label);
            return Some(());
        }
        if let Some(key) = ask_key(pdu) {
            // The original earns one Success; a same-recipient replay succeeds if it earns
            // a second, a redirected one if it earns any.
            if same {
                self.judge
                    .borrow_mut()
                    .open_key(dest, from, key, at, 2, label, true);
            } else {
                self.judge
                    .borrow_mut()
                    .open_redirected(dest, from, key, at, label);
            }
            return Some(());
        }
        if self.probes.borrow().full() {
            return None;
        }
        if same {
            // A trigger copied to its own Device again (issue 11: an old trigger acted on a
            // second time): succeeded iff the Device then sends a request echoing its
            // nonce. Judged only when the copy arrives after every retry of the original
            // triggered request could have been sent ([`SAME_TRIGGER_MIN_DELAY_NS`]), so an
            // honest retry is never mistaken for the Device acting on the copy.
            let Pdu::RoapTrigger(t) = pdu else {
                return None;
            };
            let probed = matches!(
                t.kind,
                TriggerKind::RoAcquisition | TriggerKind::JoinDomain | TriggerKind::LeaveDomain
            );
            if !probed || self.spec.replay_delay_ns < SAME_TRIGGER_MIN_DELAY_NS {
                return None;
            }
            let probe = Probe::TriggerEcho {
                agent: dest,
                nonce: t.nonce.clone()?,
                ro_ids: Vec::new(),
                after: at,
            };
            self.probes.borrow_mut().push(probe, label, true);
            return Some(());
        }
        let probe = match pdu {
            Pdu::RoResponse(r) => {
                let ro_ids: Vec<String> = r
                    .body
                    .as_ref()?
                    .protected_ros
                    .iter()
                    .map(|p| p.ro.id.clone())
                    .collect();
                if ro_ids.is_empty() {
                    return None;
                }
                Probe::Ros {
                    agent: dest,
                    ro_ids,
                }
            }
            // Only kinds whose triggered request shows it: a registration trigger starts a
            // RegistrationRequest without the nonce, and metering/Move triggers wait in the
            // Device's inbox, so acting on those could not be told from refusing them.
            Pdu::RoapTrigger(t)
                if matches!(
                    t.kind,
                    TriggerKind::RoAcquisition | TriggerKind::JoinDomain | TriggerKind::LeaveDomain
                ) =>
            {
                Probe::TriggerEcho {
                    agent: dest,
                    nonce: t.nonce.clone()?,
                    ro_ids: t.ro_ids.clone(),
                    after: SimTime::ZERO,
                }
            }
            // DEA answers to another RI (seed 000): the RI acted on one if it keeps its
            // authorizations, or forwards its <domainInfo> to a Device.
            Pdu::GetUserDomainAuthorizationResponse(r) => Probe::RiAuthorization {
                ri: dest,
                signatures: r
                    .authorizations
                    .as_ref()?
                    .iter()
                    .map(|a| a.signature.clone())
                    .collect(),
            },
            Pdu::ProxyJoinUserDomainResponse(r) => Probe::RiForward {
                ri: dest,
                ciphers: r
                    .res_info
                    .as_ref()?
                    .domain_info
                    .as_ref()?
                    .domain_keys
                    .iter()
                    .map(|k| k.enc_key.cipher.clone())
                    .collect(),
            },
            // A Pairing Ticket Response to another SCE agent (seed 001 §7.2.1.3): it acted
            // on it if it keeps or presents the ticket.
            Pdu::PairingTicketResponse(r) => Probe::Ticket {
                agent: dest,
                mac: r.grant.as_ref()?.0.mac.clone(),
            },
            _ => return None,
        };
        self.probes.borrow_mut().push(probe, label, true);
        Some(())
    }
}

impl Replayer {
    /// What is replayed: the captured message itself (a verbatim copy, which a server
    /// answers from its repeat store, `proto::repeats`), or with `reserialise` the same PDU
    /// re-encoded in an equivalent non-canonical XML form — same nonce, same signature,
    /// other octets — which is no repeat, so the server's nonce check must refuse it.
    fn copy_of(&self, pdu: &Pdu, msg: &SimMsg) -> SimMsg {
        if self.spec.reserialise {
            let bytes = pdu
                .try_encode()
                .ok()
                .and_then(|c| super::tamperer::reserialise::reserialise(&c).ok());
            if let Some(b) = bytes {
                return SimMsg::Pdu(crate::proto::msg::Wire::from_xml(pdu.kind(), b));
            }
        }
        msg.clone()
    }
}

impl Attack for Replayer {
    fn spec(&self) -> &AdversarySpec {
        &self.spec
    }

    fn intercept(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        self.set_me(cx.me);
        let Some(pdu) = obs.pdu else {
            return Verdict::Pass(msg);
        };
        if self.judge.borrow().full() {
            return Verdict::Pass(msg);
        }
        let delay = self.spec.replay_delay_ns;
        let to_spec = self.spec.replay_to.clone();
        for dest in recipients(&to_spec, cx.layout, obs.from, obs.to) {
            if cx.stats.attempts >= self.spec.budget {
                break;
            }
            let label = format!(
                "{} of actor {} to actor {} replayed to actor {} after {delay} ns",
                pdu.kind(),
                obs.from.0,
                obs.to.0,
                dest.0
            );
            if self
                .open(pdu, obs.from, obs.to, dest, obs.now.add_ns(delay), label)
                .is_none()
            {
                continue;
            }
            cx.attempt();
            cx.inject(obs.from, dest, self.copy_of(pdu, &msg), delay);
        }
        Verdict::Pass(msg)
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        let Some(me) = self.me else { return };
        let verdict = self.judge.borrow_mut().observe(obs);
        if let Some((success, detail)) = verdict {
            score(stats, out, me, "replay", Some(obs.from), success, detail);
        }
        if let Some((success, detail)) = self.dea.observe(obs) {
            score(stats, out, me, "replay", Some(obs.from), success, detail);
        }
        for (success, detail, target) in self.probes.borrow_mut().observe(obs) {
            score(stats, out, me, "replay", Some(target), success, detail);
        }
    }
}

/// Shortest `replay_delay` at which a trigger copied to its own Device is judged: longer than
/// a Device's retry span for the triggered request with the bundled settings (request
/// timeout × (retries + 1) + the longest back-off: 10 s × 4 + 30 s), so every request the
/// original trigger caused was sent before the copy arrives.
pub const SAME_TRIGGER_MIN_DELAY_NS: u64 = 90_000_000_000;

/// How long before the end of the run a redirected request must have been replayed for "no
/// answer" to count as a refusal (longer than any server's queueing plus a round trip).
pub const SILENCE_GRACE_NS: u64 = 10_000_000_000;

/// Attempts waiting for a verdict, bounded.
pub const MAX_OPEN_ATTEMPTS: usize = 100_000;

/// What binds an answer to the request an attempt is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum AnswerKey {
    /// RO, Registration and Move requests (see [`request_key`]).
    Request(RequestKey),
    /// Join Domain: Device nonce (OMA-TS-DRM-DRM-V2_0 §5.4.4).
    JoinDomain(Vec<u8>),
    /// Leave Domain: Device nonce (§5.4.5).
    LeaveDomain(Vec<u8>),
    /// Authentication Request of pairing: requester nonce (seed 001 §7.2.1.2).
    Authentication(Vec<u8>),
    /// Join Domain for Pairing (SCE agent → DEA): Device nonce (seed 001 §7.2.1.1).
    PairingJoin(Vec<u8>),
    /// Pairing Ticket Request (SCE agent → DEA): requester nonce (seed 001 §7.2.1.2).
    PairingTicket(Vec<u8>),
}

/// The key of a request an [`AnswerJudge`] can decide.
pub fn ask_key(p: &Pdu) -> Option<AnswerKey> {
    if let Some(k) = request_key(p) {
        return Some(AnswerKey::Request(k));
    }
    match p {
        Pdu::JoinDomainRequest(r) => Some(AnswerKey::JoinDomain(r.0.nonce.clone())),
        Pdu::LeaveDomainRequest(r) => Some(AnswerKey::LeaveDomain(r.0.nonce.clone())),
        Pdu::AuthenticationRequest(r) => Some(AnswerKey::Authentication(r.nonce.clone())),
        Pdu::PairingJoinDomainRequest(r) => Some(AnswerKey::PairingJoin(r.nonce.clone())),
        Pdu::PairingTicketRequest(r) => Some(AnswerKey::PairingTicket(r.nonce.clone())),
        _ => None,
    }
}

/// The key (when the answer carries one) and status of an answer.
pub fn answer_key(p: &Pdu) -> Option<(Option<AnswerKey>, Status)> {
    if let Some((k, s)) = response_key(p) {
        return Some((k.map(AnswerKey::Request), s));
    }
    match p {
        Pdu::JoinDomainResponse(r) => Some((
            r.body
                .as_ref()
                .map(|b| AnswerKey::JoinDomain(b.nonce.clone())),
            r.status,
        )),
        Pdu::LeaveDomainResponse(r) => Some((
            r.body
                .as_ref()
                .map(|b| AnswerKey::LeaveDomain(b.nonce.clone())),
            r.status,
        )),
        Pdu::AuthenticationResponse(r) => {
            Some((Some(AnswerKey::Authentication(r.nonce.clone())), r.status))
        }
        Pdu::PairingJoinDomainResponse(r) => {
            Some((Some(AnswerKey::PairingJoin(r.nonce.clone())), r.status))
        }
        Pdu::PairingTicketResponse(r) => {
            Some((Some(AnswerKey::PairingTicket(r.nonce.clone())), r.status))
        }
        _ => None,
    }
}

#[derive(Debug, Clone)]
struct OpenAttempt {
    server: ActorId,
    client: ActorId,
    key: AnswerKey,
    /// When the attacker's message enters the network.
    at: SimTime,
    /// Success answers seen so far, and how many make the server "accept".
    successes: u32,
    needed: u32,
    /// Whether the server accepting is the attack succeeding (false: the attack is a
    /// refusal of an equivalent message, e.g. a non-canonical re-serialisation).
    accept_succeeds: bool,
    /// Whether no answer by the end of the run is a refusal ([`AnswerJudge::expire`]).
    silence_refuses: bool,
    /// What was done (prefix of the verdict's detail).
    label: String,
    /// The latest Success answer (the same message re-sent is no new acceptance).
    last_success: Option<SimMsg>,
}

/// Scores attacks on requests by the server's answers: the server "accepts" when it answers
/// the request the attempt is bound to with Success `needed` times, and "refuses" when it
/// answers it (after the attacker's message was sent) with any other status. Acceptance is
/// the attack succeeding unless the attempt was opened with `accept_succeeds = false`.
#[derive(Debug, Default)]
pub struct AnswerJudge {
    open: BTreeMap<u64, OpenAttempt>,
    next: u64,
}

impl AnswerJudge {
    /// Whether no more attempts can be tracked.
    pub fn full(&self) -> bool {
        self.open.len() >= MAX_OPEN_ATTEMPTS
    }

    /// Tracks an attempt on `server` answering `client`'s request `key`, sent at `at`, that
    /// succeeds when the server answers Success `needed` times.
    pub fn open(
        &mut self,
        server: ActorId,
        client: ActorId,
        key: RequestKey,
        at: SimTime,
        needed: u32,
        label: String,
    ) {
        self.open_key(
            server,
            client,
            AnswerKey::Request(key),
            at,
            needed,
            label,
            true,
        );
    }

    /// [`AnswerJudge::open`] for any [`AnswerKey`], choosing whether acceptance is the
    /// attack succeeding (`accept_succeeds`) or being blocked.
    #[allow(clippy::too_many_arguments)]
    pub fn open_key(
        &mut self,
        server: ActorId,
        client: ActorId,
        key: AnswerKey,
        at: SimTime,
        needed: u32,
        label: String,
        accept_succeeds: bool,
    ) {
        if self.full() {
            return;
        }
        self.next += 1;
        self.open.insert(
            self.next,
            OpenAttempt {
                server,
                client,
                key,
                at,
                successes: 0,
                needed,
                accept_succeeds,
                silence_refuses: false,
                label,
                last_success: None,
            },
        );
    }

    /// Tracks a request replayed to another server than its original recipient: accepted
    /// (the attack succeeding) on a Success answer, refused on any other answer — or on no
    /// answer at all by the end of the run (a server that drops a message it does not
    /// handle, e.g. the DEA given an RO Request, has not accepted it).
    pub fn open_redirected(
        &mut self,
        server: ActorId,
        client: ActorId,
        key: AnswerKey,
        at: SimTime,
        label: String,
    ) {
        self.open_key(server, client, key, at, 1, label, true);
        if let Some(a) = self.open.get_mut(&self.next) {
            a.silence_refuses = true;
        }
    }

    /// End of run at `now`: attempts opened with [`AnswerJudge::open_redirected`] whose
    /// message was sent at least `grace_ns` before `now` and never answered are refusals
    /// `(false, detail, server)`; younger ones stay open (inconclusive).
    pub fn expire(&mut self, now: SimTime, grace_ns: u64) -> Vec<(bool, String, ActorId)> {
        let due: Vec<u64> = self
            .open
            .iter()
            .filter(|(_, a)| a.silence_refuses && a.at.add_ns(grace_ns) <= now)
            .map(|(&id, _)| id)
            .collect();
        due.into_iter()
            .filter_map(|id| self.open.remove(&id))
            .map(|a| {
                (
                    !a.accept_succeeds,
                    format!("{}: no answer", a.label),
                    a.server,
                )
            })
            .collect()
    }

    /// Attempts still waiting for a verdict (inconclusive at the end of a run).
    pub fn pending(&self) -> usize {
        self.open.len()
    }

    /// The verdict `obs` gives on an open attempt: `(succeeded, detail)`.
    pub fn observe(&mut self, obs: &Observed<'_>) -> Option<(bool, String)> {
        let (key, status) = obs.pdu.and_then(answer_key)?;
        if !obs.authentic() {
            return None;
        }
        // Same server and client, same request key when the answer carries one, otherwise
        // the oldest attempt of that kind already sent (a status-only answer carries no
        // nonce).
        let (&id, r) = self.open.iter_mut().find(|(_, r)| {
            r.server == obs.from
                && r.client == obs.to
                && match &key {
                    Some(k) => *k == r.key,
                    None => r.at <= obs.now && same_protocol(&r.key, obs.pdu),
                }
        })?;
        if status == Status::Success {
            // The server's stored answer re-sent (a repeat of an accepted Move request,
            // proto::move_ro `repeats`): the copy earned nothing new.
            let resent = matches!((&r.last_success, obs.msg),
                (Some(SimMsg::Pdu(a)), SimMsg::Pdu(b)) if a.same_message(b));
            if resent {
                let detail = format!("{}: answered with the stored Success again", r.label);
                self.open.remove(&id);
                return Some((false, detail));
            }
            r.last_success = Some(obs.msg.clone());
            r.successes += 1;
            if r.successes >= r.needed {
                let detail = format!("{}: answered Success x{}", r.label, r.needed);
                let success = r.accept_succeeds;
                self.open.remove(&id);
                return Some((success, detail));
            }
            None
        } else if r.at <= obs.now {
            let detail = format!("{}: answered {}", r.label, status.as_str());
            let success = !r.accept_succeeds;
            self.open.remove(&id);
            Some((success, detail))
        } else {
            None
        }
    }
}

/// Whether a status-only answer `p` can answer a request of key `k`.
fn same_protocol(k: &AnswerKey, p: Option<&Pdu>) -> bool {
    matches!(
        (k, p),
        (
            AnswerKey::Request(RequestKey::Ro(_)),
            Some(Pdu::RoResponse(_))
        ) | (AnswerKey::JoinDomain(_), Some(Pdu::JoinDomainResponse(_)))
            | (AnswerKey::LeaveDomain(_), Some(Pdu::LeaveDomainResponse(_)))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adversary::Layout;
    use crate::net::GroupId;

    fn layout() -> Layout {
        let names = [
            "ocsp/0",
            "ri/0",
            "ri/1",
            "agent/0",
            "agent/1",
            "agent/2",
            "dea/0",
            "adversary/r",
        ];
        Layout {
            groups: vec![GroupId(0); names.len()],
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn replay_to_parses_keywords_and_patterns() {
        assert_eq!(ReplayTo::parse("same"), ReplayTo::Same);
        assert_eq!(ReplayTo::parse(""), ReplayTo::Same);
        assert_eq!(ReplayTo::parse("other"), ReplayTo::Other);
        assert_eq!(
            ReplayTo::parse("ri/1, dea/0"),
            ReplayTo::Actors(vec!["ri/1".into(), "dea/0".into()])
        );
    }

    #[test]
    fn recipients_by_kind_and_pattern() {
        let l = layout();
        let (a0, a1, a2) = (ActorId(3), ActorId(4), ActorId(5));
        let (ri0, ri1) = (ActorId(1), ActorId(2));
        assert_eq!(recipients(&ReplayTo::Same, &l, a0, ri0), vec![ri0]);
        // The next actor of the recipient's kind, wrapping around.
        assert_eq!(recipients(&ReplayTo::Other, &l, a0, ri0), vec![ri1]);
        assert_eq!(recipients(&ReplayTo::Other, &l, a0, ri1), vec![ri0]);
        assert_eq!(recipients(&ReplayTo::Other, &l, ri0, a2), vec![a0]);
        // Never back to the sender; nobody else of that kind: nothing.
        assert_eq!(recipients(&ReplayTo::Other, &l, a1, a0), vec![a2]);
        assert!(recipients(&ReplayTo::Other, &l, a0, ActorId(6)).is_empty());
        let all = ReplayTo::Actors(vec!["agent/*".into(), "dea/0".into()]);
        assert_eq!(recipients(&all, &l, ri0, a1), vec![a0, a2, ActorId(6)]);
        let adv = ReplayTo::Actors(vec!["adversary/*".into()]);
        assert!(recipients(&adv, &l, ri0, a1).is_empty());
    }
}
