//! Did a Device act on a PDU an attacker handed it? Responses leave no answer on the wire to
//! judge by, so these attempts are decided from what the Device keeps (at the end of the
//! run) or does next (a request echoing a trigger nonce), never from trace records, so the
//! verdict does not depend on tracing being on.
//!
//! - [`Probe::Ros`]: an RO Response — the Device acted on it iff it installed one of its ROs.
//!   RO IDs are unique per issuance (`ri/0-ro17`), so an RO the Device obtained honestly
//!   afterwards (a retry is answered with newly issued ROs) never carries them.
//! - [`Probe::Join`]: a JoinDomainResponse answering request nonce N, sent at `from` — the
//!   Device acted on it iff it holds a Domain Context for the domain created in
//!   `[from, until)`, `until` being N's send time plus the request timeout: the attacker's
//!   copy replaced the only answer to N, and any other join can only complete after the
//!   session timed out and was retried. A Device seen leaving the domain afterwards with
//!   no such context is inconclusive (it may have joined and left).
//! - [`Probe::TriggerEcho`]: a ROAP trigger — acted on iff the Device sends a request with
//!   the trigger's nonce as `triggerNonce` (§5.2.1), or an RO Request naming one of the RO IDs
//!   the trigger names (how the Move delivery path fetches moved ROs); not by the end of the
//!   run = refused. Only roAcquisition, joinDomain and leaveDomain triggers are probed: their
//!   requests do one of the two (a registration trigger's request carries no nonce, metering
//!   and Move triggers wait in the Device's inbox).
//! - [`Probe::Ticket`]: a Pairing Ticket Response (seed 001 §7.2.1.3) — the SCE agent acted
//!   on it iff it presents the ticket (an Authentication Request carrying a ticket with that
//!   HMAC; tickets are unique per issuance: a fresh Pairing Key under the target's MK) or
//!   holds it at the end of the run.
//! - [`Probe::RiAuthorization`]: a Get User Domain Authorization Response (seed 000 §7.2.2)
//!   — the RI acted on it iff it keeps one of its DEA-signed authorizations at the end.
//! - [`Probe::RiForward`]: a Proxy Join User Domain Response — the RI acted on it iff it
//!   forwards its `<domainInfo>` (§7.4.1.2) in a JoinDomainResponse (an `<encKey>` of the
//!   replayed response; RSA-KEM ciphertexts are unique per wrap).

use super::super::EndCheck;
use crate::engine::{ActorId, SimTime, Simulation};
use crate::invariant::{Observed, Roster};
use crate::pdu::Pdu;
use crate::proto::agent::Agent;
use crate::proto::domain::split_domain_id;
use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use std::cell::RefCell;
use std::rc::Rc;

/// Probes waiting for a verdict, bounded (no new attempt while full).
pub const MAX_OPEN_PROBES: usize = 100_000;

/// What shows that a Device acted on a delivered PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The Device installed one of these ROs.
    Ros {
        /// The Device actor.
        agent: ActorId,
        /// RO IDs carried by the delivered response.
        ro_ids: Vec<String>,
    },
    /// The Device joined domain `base` in `[from, until)`.
    Join {
        /// The Device actor.
        agent: ActorId,
        /// Domain ID without generation.
        base: String,
        /// When the attacker's response was sent.
        from: SimTime,
        /// The earliest time an honest retry of the request could complete.
        until: SimTime,
    },
    /// The Device sent a request echoing this trigger nonce, or an RO Request naming one of
    /// the trigger's RO IDs (either shows it ran the triggered acquisition).
    TriggerEcho {
        /// The Device actor.
        agent: ActorId,
        /// The trigger's nonce.
        nonce: Vec<u8>,
        /// The RO IDs the trigger names (unique per issuance).
        ro_ids: Vec<String>,
        /// Only requests sent from then on count (a copy to the trigger's own Device: its
        /// requests for the original came earlier).
        after: SimTime,
    },
    /// The SCE agent presents or holds the Pairing Ticket with this HMAC.
    Ticket {
        /// The SCE agent actor.
        agent: ActorId,
        /// The ticket's `<mac>`.
        mac: Vec<u8>,
    },
    /// The RI keeps an authorization with one of these DEA signatures.
    RiAuthorization {
        /// The RI actor.
        ri: ActorId,
        /// Signatures of the replayed authorizations.
        signatures: Vec<Vec<u8>>,
    },
    /// The RI sends a JoinDomainResponse carrying one of these `<encKey>` ciphertexts.
    RiForward {
        /// The RI actor.
        ri: ActorId,
        /// `<encKey>` ciphertexts of the replayed `<domainInfo>`.
        ciphers: Vec<Vec<u8>>,
    },
}

impl Probe {
    /// The Device probed.
    pub fn agent(&self) -> ActorId {
        match self {
            Probe::Ros { agent, .. }
            | Probe::Join { agent, .. }
            | Probe::TriggerEcho { agent, .. }
            | Probe::Ticket { agent, .. } => *agent,
            Probe::RiAuthorization { ri, .. } | Probe::RiForward { ri, .. } => *ri,
        }
    }

    /// Whether the probed actor's state in `sim` shows it acted (end of run); `None` if it
    /// cannot be read.
    pub fn acted_in(&self, sim: &Simulation<SimMsg>) -> Option<bool> {
        match self {
            Probe::RiAuthorization { ri, signatures } => sim.actor::<Ri>(*ri).map(|r| {
                r.dea_proxy
                    .authorizations
                    .values()
                    .any(|a| signatures.contains(&a.signature))
            }),
            // Decided online only: not forwarded by the end = refused.
            Probe::RiForward { ri, .. } => sim.actor::<Ri>(*ri).map(|_| false),
            _ => sim.actor::<Agent>(self.agent()).map(|a| self.acted(a)),
        }
    }

    /// Whether `a`'s state shows it acted (end of run).
    pub fn acted(&self, a: &Agent) -> bool {
        match self {
            Probe::Ros { ro_ids, .. } => ro_ids.iter().any(|id| a.ros.contains_key(id)),
            Probe::Join {
                base, from, until, ..
            } => a
                .domain
                .contexts
                .get(base)
                .is_some_and(|c| c.joined_at >= *from && c.joined_at < *until),
            Probe::Ticket { mac, .. } => a.pairing.tickets.values().any(|t| &t.ticket.mac == mac),
            Probe::TriggerEcho { .. } | Probe::RiAuthorization { .. } | Probe::RiForward { .. } => {
                false
            }
        }
    }
}

#[derive(Debug)]
struct Pending {
    probe: Probe,
    label: String,
    /// Whether the Device acting on it is the attack succeeding (false: the attack is the
    /// Device refusing an equivalent message).
    accept_succeeds: bool,
    /// The Device was seen leaving the probed domain afterwards.
    left: bool,
}

/// Open probes of one adversary.
#[derive(Debug, Default)]
pub struct ProbeSet {
    pending: Vec<Pending>,
}

/// Shared between an attack and its end-of-run check.
pub type Probes = Rc<RefCell<ProbeSet>>;

/// `(succeeded, detail, target)` of one decided attempt.
pub type ProbeVerdict = (bool, String, ActorId);

impl ProbeSet {
    /// Whether no more probes can be tracked.
    pub fn full(&self) -> bool {
        self.pending.len() >= MAX_OPEN_PROBES
    }

    /// Probes still open.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no probe is open.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Tracks `probe`; the Device acting on it is the attack succeeding iff
    /// `accept_succeeds`.
    pub fn push(&mut self, probe: Probe, label: String, accept_succeeds: bool) {
        if !self.full() {
            self.pending.push(Pending {
                probe,
                label,
                accept_succeeds,
                left: false,
            });
        }
    }

    /// Online part: decides trigger probes whose Device echoes the nonce and notes Devices
    /// leaving a probed domain. Only what the Device itself sent counts.
    pub fn observe(&mut self, obs: &Observed<'_>) -> Vec<ProbeVerdict> {
        let Some(p) = obs.pdu else { return Vec::new() };
        if !obs.authentic() || self.pending.is_empty() {
            return Vec::new();
        }
        let echoed = match p {
            Pdu::RoRequest(r) => r.trigger_nonce.as_ref(),
            Pdu::RegistrationRequest(r) => r.trigger_nonce.as_ref(),
            Pdu::JoinDomainRequest(r) => r.0.trigger_nonce.as_ref(),
            Pdu::LeaveDomainRequest(r) => r.0.trigger_nonce.as_ref(),
            Pdu::MeteringReportSubmit(r) => r.trigger_nonce.as_ref(),
            _ => None,
        };
        let leaving = match p {
            Pdu::LeaveDomainRequest(r) => split_domain_id(&r.0.domain_id).map(|(b, _)| b),
            _ => None,
        };
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            let q = &mut self.pending[i];
            if q.probe.agent() != obs.from {
                i += 1;
                continue;
            }
            match &q.probe {
                Probe::TriggerEcho {
                    nonce,
                    ro_ids,
                    after,
                    ..
                } if obs.now >= *after && (echoed == Some(nonce) || names_any(p, ro_ids)) => {
                    let q = self.pending.remove(i);
                    out.push((
                        q.accept_succeeds,
                        format!("{}: the Device ran the triggered {}", q.label, p.kind()),
                        obs.from,
                    ));
                    continue;
                }
                Probe::Ticket { mac, .. } if presents(p, mac) => {
                    let q = self.pending.remove(i);
                    out.push((
                        q.accept_succeeds,
                        format!("{}: the agent presented the ticket", q.label),
                        obs.from,
                    ));
                    continue;
                }
                Probe::RiForward { ciphers, .. } if forwards(p, ciphers) => {
                    let q = self.pending.remove(i);
                    out.push((
                        q.accept_succeeds,
                        format!("{}: the RI forwarded its domainInfo to a Device", q.label),
                        obs.from,
                    ));
                    continue;
                }
                Probe::Join { base, from, .. } if leaving == Some(base) && obs.now >= *from => {
                    q.left = true;
                }
                _ => {}
            }
            i += 1;
        }
        out
    }

    /// End of run: decides every open probe from its Device's state (open trigger probes
    /// are refusals). Probes whose Device cannot be read, or that are inconclusive, are
    /// dropped without a verdict.
    pub fn decide_all(&mut self, acted: impl Fn(&Probe) -> Option<bool>) -> Vec<ProbeVerdict> {
        let mut out = Vec::new();
        for q in std::mem::take(&mut self.pending) {
            let who = q.probe.agent();
            let Some(acted) = acted(&q.probe) else {
                continue;
            };
            if !acted && q.left {
                continue;
            }
            let whom = match q.probe {
                Probe::RiAuthorization { .. } | Probe::RiForward { .. } => "the RI",
                Probe::Ticket { .. } => "the agent",
                _ => "the Device",
            };
            let what = if acted { "acted on it" } else { "refused it" };
            out.push((
                acted == q.accept_succeeds,
                format!("{}: {whom} {what}", q.label),
                who,
            ));
        }
        out
    }
}

/// Whether `p` is an RO Request asking for one of `ro_ids`.
fn names_any(p: &Pdu, ro_ids: &[String]) -> bool {
    matches!(p, Pdu::RoRequest(r) if r.ro_ids.iter().any(|id| ro_ids.contains(id)))
}

/// Whether `p` is an Authentication Request presenting the ticket with HMAC `mac`.
fn presents(p: &Pdu, mac: &[u8]) -> bool {
    matches!(p, Pdu::AuthenticationRequest(r) if r.ticket.mac == mac)
}

/// Whether `p` is a JoinDomainResponse carrying one of `ciphers` as an `<encKey>`.
fn forwards(p: &Pdu, ciphers: &[Vec<u8>]) -> bool {
    matches!(p, Pdu::JoinDomainResponse(r) if r.body.as_ref().is_some_and(|b| b
        .domain_info
        .domain_keys
        .iter()
        .any(|k| ciphers.contains(&k.enc_key.cipher))))
}

/// The end-of-run scoring of `probes`.
pub fn end_check(probes: Probes) -> EndCheck {
    Box::new(move |sim, _roster: &Roster| {
        probes
            .borrow_mut()
            .decide_all(|p| p.acted_in(sim))
            .into_iter()
            .map(|(s, d, t)| (s, d, Some(t)))
            .collect()
    })
}
