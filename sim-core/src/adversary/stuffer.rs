//! The Domain stuffer (seed 000 §7.4.1): makes Devices join the same DEA User Domain through
//! several RIs, to push the User Domain past its maximum number of Devices.
//!
//! Each targeted message a Device sends to an RI (e.g. its DeviceHello) shows the attacker a
//! Device. It then sends that Device, "as if from" every RI the Device has not been seen
//! talking to, an unsigned joinDomain ROAP Trigger for each DEA User Domain (their ROAP
//! domain IDs are public: every Device may be asked to join them; in a run without a DEA,
//! the domain of an intercepted JoinDomainRequest). A Device without an RI Context with that RI
//! cannot authenticate a trigger, so it registers there first and then joins (ROAP §5.2.1):
//! no key is needed, so the attacker may sit on the path or inside a compromised Device (whose
//! software does the same on its owner's behalf). Each trigger is one attempt.
//!
//! With the CR (seed 000 §7.4.1 note, `Variants::dea_count_once`) the DEA counts each Device
//! once per User Domain, whatever the RI: a member joining through another RI adds nothing,
//! and once the maximum is reached every other Device is refused `DomainFull`, through
//! whichever RI it comes. Before it the DEA counts the associations of the requesting RI only,
//! so every RI admits up to the maximum and the User Domain as a whole exceeds it.
//!
//! Scoring: an attempt whose join the RI refused is blocked when the refusal arrives; one the
//! RI accepted is decided at the end of the run — succeeded if the User Domain the Device
//! joined through that RI has more Devices than its maximum, blocked otherwise. A trigger
//! that led to no JoinDomainResponse (registration failed, run ended) stays inconclusive.

use super::{score, AdversarySpec, Attack, AttackCx, AttackStats, EndCheck};
use crate::engine::{ActorId, Verdict};
use crate::invariant::{Observed, Roster};
use crate::pdu::trigger::{RoapTrigger, TriggerKind};
use crate::pdu::{Pdu, Status};
use crate::proto::agent::Agent;
use crate::proto::dea::Dea;
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::trigger::TRIGGER_VERSION;
use crate::proto::world::World;
use crate::trace::TraceEvent;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Attempts remembered for scoring, bounded (further triggers are not sent).
pub const MAX_STUFF_ATTEMPTS: usize = 10_000;

/// One trigger sent: a Device told to join `domain_id` through RI `ri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuffAttempt {
    /// The Device actor.
    pub device: ActorId,
    /// Index of the RI the trigger claims to come from.
    pub ri: usize,
    /// The ROAP domain ID (with generation) to join.
    pub domain_id: String,
    /// The RI's answer to the resulting join, once seen.
    pub answer: Option<Status>,
}

type Attempts = Rc<RefCell<Vec<StuffAttempt>>>;

/// The domain stuffer.
pub struct DomainStuffer {
    spec: AdversarySpec,
    world: Rc<World>,
    attempts: Attempts,
    /// ROAP IDs of the DEA User Domains.
    user_domains: Vec<String>,
    /// (Device, RI) actor pairs seen talking: the Device holds an RI Context there.
    registered: BTreeSet<(ActorId, ActorId)>,
    /// (Device actor, RI index, domain ID) already stuffed (each once).
    done: BTreeSet<(ActorId, usize, String)>,
    me: Option<ActorId>,
}

impl std::fmt::Debug for DomainStuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainStuffer")
            .field("name", &self.spec.name)
            .finish()
    }
}

impl DomainStuffer {
    /// A stuffer configured by `spec` in `world` aiming at the DEA User Domains
    /// `user_domains` (ROAP domain IDs), and its end-of-run scoring.
    pub fn new(
        spec: AdversarySpec,
        world: Rc<World>,
        user_domains: Vec<String>,
    ) -> (Self, EndCheck) {
        let attempts: Attempts = Rc::default();
        let a2 = attempts.clone();
        let w2 = world.clone();
        let check: EndCheck = Box::new(move |sim, roster: &Roster| {
            let dea = roster.dea.and_then(|d| sim.actor::<Dea>(d));
            a2.borrow()
                .iter()
                .filter(|a| a.answer == Some(Status::Success))
                .map(|a| {
                    let ri_id = &w2.ris[a.ri].id;
                    let device_id = sim.actor::<Agent>(a.device).map(|d| d.me.id.clone());
                    let over = dea.and_then(|d| {
                        d.user_domains.domains.values().find(|ud| {
                            device_id
                                .as_ref()
                                .and_then(|id| ud.members.get(id))
                                .is_some_and(|ris| ris.contains(ri_id))
                        })
                    });
                    match over {
                        Some(ud) => (
                            ud.members.len() > ud.max_devices,
                            format!(
                                "joined {} through {}: {} Devices, limit {}",
                                ud.id,
                                w2.ris[a.ri].name,
                                ud.members.len(),
                                ud.max_devices
                            ),
                            Some(a.device),
                        ),
                        None => (
                            false,
                            format!(
                                "join of {} through {} left no User Domain association",
                                a.domain_id, w2.ris[a.ri].name
                            ),
                            Some(a.device),
                        ),
                    }
                })
                .collect()
        });
        (
            DomainStuffer {
                spec,
                world,
                attempts,
                user_domains,
                registered: BTreeSet::new(),
                done: BTreeSet::new(),
                me: None,
            },
            check,
        )
    }
}

impl Attack for DomainStuffer {
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
        // Only a Device talking to an RI shows the attacker a Device to stuff.
        let is_ri = self.world.ris.iter().any(|r| r.actor == obs.to);
        let name = cx.layout.name(obs.from);
        if !is_ri || !(name.starts_with("agent/") || name.starts_with("sce_agent/")) {
            return Verdict::Pass(msg);
        }
        // A Device sending a request to an RI holds an RI Context there: it would discard an
        // unsigned trigger claiming to come from that RI (ROAP §5.2.1).
        self.registered.insert((obs.from, obs.to));
        // The DEA User Domains (their ROAP IDs are public: every Device may join them), or,
        // in a run without any, the domain this Device asked for.
        let domains = match obs.pdu {
            _ if !self.user_domains.is_empty() => self.user_domains.clone(),
            Some(Pdu::JoinDomainRequest(r)) => vec![r.0.domain_id.clone()],
            _ => return Verdict::Pass(msg),
        };
        let device_id = obs.pdu.and_then(requester_id);
        let targets: Vec<(usize, String)> = (0..self.world.ris.len())
            .filter(|&i| {
                !self
                    .registered
                    .contains(&(obs.from, self.world.ris[i].actor))
            })
            .flat_map(|i| domains.iter().map(move |d| (i, d.clone())))
            .collect();
        for (i, domain_id) in targets {
            let ri = &self.world.ris[i];
            if cx.stats.attempts >= self.spec.budget
                || self.attempts.borrow().len() >= MAX_STUFF_ATTEMPTS
                || !self.done.insert((obs.from, i, domain_id.clone()))
            {
                continue;
            }
            // Unsigned and without a nonce: the Device holds no RI Context with this RI, so
            // it cannot authenticate the trigger and registers first (ROAP §5.2.1).
            let t = RoapTrigger {
                version: TRIGGER_VERSION.into(),
                kind: TriggerKind::JoinDomain,
                id: None,
                ri_id: ri.id.clone(),
                ri_alias: None,
                // The Device's own ID, read off the request it just sent: an unsigned
                // trigger's `<deviceID>` proves nothing, so naming the target costs nothing.
                device_id: device_id.clone(),
                nonce: None,
                not_after: None,
                roap_url: ri.url.clone(),
                domain_id: Some(domain_id.clone()),
                ro_ids: Vec::new(),
                content_ids: Vec::new(),
                signature: None,
                enc_key: None,
            };
            cx.attempt();
            self.attempts.borrow_mut().push(StuffAttempt {
                device: obs.from,
                ri: i,
                domain_id,
                answer: None,
            });
            let wire = Wire::new(self.world.mode(), Pdu::RoapTrigger(t));
            cx.inject(ri.actor, obs.from, SimMsg::Pdu(wire), 0);
        }
        Verdict::Pass(msg)
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        let Some(me) = self.me else { return };
        let Some(Pdu::JoinDomainResponse(r)) = obs.pdu else {
            return;
        };
        let mut attempts = self.attempts.borrow_mut();
        let Some(a) = attempts.iter_mut().find(|a| {
            a.answer.is_none() && a.device == obs.to && self.world.ris[a.ri].actor == obs.from
        }) else {
            return;
        };
        a.answer = Some(r.status);
        if r.status != Status::Success {
            let detail = format!(
                "join of {} through {} refused: {}",
                a.domain_id,
                self.world.ris[a.ri].name,
                r.status.as_str()
            );
            score(stats, out, me, "domain_stuff", Some(obs.to), false, detail);
        }
    }
}

/// The Device ID a Device's request names (what an observer learns of the sender).
fn requester_id(pdu: &Pdu) -> Option<crate::pdu::Identifier> {
    match pdu {
        Pdu::DeviceHello(h) => h.device_ids.first().cloned(),
        Pdu::RoRequest(r) => Some(r.device_id.clone()),
        Pdu::JoinDomainRequest(r) => Some(r.0.device_id.clone()),
        Pdu::LeaveDomainRequest(r) => Some(r.0.device_id.clone()),
        Pdu::MeteringReportSubmit(r) => Some(r.device_id.clone()),
        _ => None,
    }
}
