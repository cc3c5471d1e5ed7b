//! On-path attacks with stale Move responses (seed 003 §9.1.3 step 1):
//! - `delay_response`: each Success `moveDeviceROResponse` is held for `replay_delay`
//!   (beyond the Source's request timeout), at most one per Source at a time, so the Source
//!   retries and then receives the stale answer. Scored on the RI's next answer to that
//!   Source, like a drop (see the parent module): a fresh-nonce retry answered Success is
//!   blocked (the stale answer no longer matches a pending nonce and is discarded); a refused
//!   reused-nonce retry makes the Source restore rights the RI moved — succeeded.
//! - `replay_old_response`: records Success responses, then drops a later full-Move request
//!   of the same Source and answers it with a recorded Success (signed by the RI, but for an
//!   older nonce). Succeeds when the Source acts on it — it deletes an RO the RI never moved;
//!   blocked when the Source discards it (nonce mismatch, §9.1.3 step 1), retries and the RI
//!   moves the RO. Scored at the end of the run from the Source's store and the RI's ledger.
//!   Only full Moves are attacked: a partial Move keeps the RO, so "deleted" would not show.

use super::{device::whole_ro_units, AttackCx};
use crate::engine::{ActorId, Simulation, Verdict};
use crate::invariant::Observed;
use crate::pdu::{Identifier, Pdu, Status};
use crate::proto::agent::Agent;
use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

/// Success responses recorded per (RI, Source) for `replay_old_response`.
pub const MAX_RECORDED_PER_SOURCE: usize = 8;
/// Attempts (ROs attacked) remembered, bounded.
pub const MAX_STALE_ATTEMPTS: usize = 100_000;

/// One `replay_old_response` attempt: the Source's request for `ro_id` was dropped and
/// answered with an old Success.
#[derive(Debug, Clone)]
pub(super) struct OldAnswer {
    source: ActorId,
    source_id: Identifier,
    ri: ActorId,
    ro_id: String,
}

/// The attempts, shared with the end-of-run scoring.
pub(super) type OpenRef = Rc<RefCell<Vec<OldAnswer>>>;

/// Recorded Success responses of one (RI, Source): nonce and message, oldest first.
type Recorded = VecDeque<(Vec<u8>, SimMsg)>;

/// State of the stale-response attacks.
pub(super) struct Stale {
    hold_ns: u64,
    /// Source → when its held response is released.
    holding: BTreeMap<ActorId, u64>,
    recorded: BTreeMap<(ActorId, ActorId), Recorded>,
    attacked: BTreeSet<(ActorId, String)>,
    open: OpenRef,
}

impl Stale {
    pub(super) fn new(hold_ns: u64, open: OpenRef) -> Self {
        Stale {
            hold_ns,
            holding: BTreeMap::new(),
            recorded: BTreeMap::new(),
            attacked: BTreeSet::new(),
            open,
        }
    }

    /// `delay_response`: how long to hold this Success response to `obs.to`, or `None` while
    /// an earlier one to the same Source is still held (its retry's answer must get through).
    pub(super) fn hold(&mut self, obs: &Observed<'_>) -> Option<u64> {
        let now = obs.now.as_ns();
        if self.holding.get(&obs.to).is_some_and(|&until| now < until) {
            return None;
        }
        self.holding
            .insert(obs.to, now.saturating_add(self.hold_ns));
        Some(self.hold_ns)
    }

    /// `replay_old_response`: records Success responses; answers a later full-Move request
    /// of the same Source with one of them instead of forwarding it.
    pub(super) fn replay_old(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        match obs.pdu {
            Some(Pdu::MoveDeviceRoResponse(r)) if r.status == Status::Success => {
                let q = self.recorded.entry((obs.from, obs.to)).or_default();
                if q.len() >= MAX_RECORDED_PER_SOURCE {
                    q.pop_front();
                }
                q.push_back((r.nonce.clone(), msg.clone()));
                Verdict::Pass(msg)
            }
            Some(Pdu::MoveDeviceRoRequest(r)) => {
                let Some(m) = r.rights_info.ros.first() else {
                    return Verdict::Pass(msg);
                };
                let (issued, units) = whole_ro_units(m);
                let key = (obs.from, m.protected_ro.ro.id.clone());
                if issued != units
                    || self.attacked.contains(&key)
                    || self.attacked.len() >= MAX_STALE_ATTEMPTS
                {
                    return Verdict::Pass(msg);
                }
                let Some((_, old)) = self
                    .recorded
                    .get(&(obs.to, obs.from))
                    .and_then(|q| q.iter().rev().find(|(n, _)| *n != r.nonce))
                    .cloned()
                else {
                    return Verdict::Pass(msg);
                };
                cx.attempt();
                self.attacked.insert(key.clone());
                self.open.borrow_mut().push(OldAnswer {
                    source: obs.from,
                    source_id: r.req_id.clone(),
                    ri: obs.to,
                    ro_id: key.1,
                });
                // The answer claims the RI; the request never reaches it.
                cx.inject(obs.to, obs.from, old, 0);
                Verdict::Drop
            }
            _ => Verdict::Pass(msg),
        }
    }
}

/// End of run: an attempt succeeded when its Source no longer holds the RO and the RI never
/// moved it (the Source acted on the old Success).
pub(super) fn end_check(
    open: &[OldAnswer],
    sim: &Simulation<SimMsg>,
) -> Vec<(bool, String, Option<ActorId>)> {
    open.iter()
        .map(|a| {
            let holds = sim
                .actor::<Agent>(a.source)
                .is_some_and(|ag| ag.ros.contains_key(&a.ro_id));
            let moved = sim.actor::<Ri>(a.ri).is_some_and(|ri| {
                ri.moves
                    .ledger
                    .get(&a.ro_id)
                    .is_some_and(|e| e.source == a.source_id)
            });
            let success = !holds && !moved;
            let detail = match (success, moved) {
                (true, _) => format!(
                    "actor {} deleted {} on an old Success; the RI never moved it",
                    a.source.0, a.ro_id
                ),
                (false, true) => format!(
                    "old Success discarded: actor {} retried and the RI moved {}",
                    a.source.0, a.ro_id
                ),
                (false, false) => format!(
                    "old Success discarded: actor {} still holds {}",
                    a.source.0, a.ro_id
                ),
            };
            (success, detail, Some(a.source))
        })
        .collect()
}
