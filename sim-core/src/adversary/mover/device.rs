//! Move attacks by a compromised Source Device (it holds the Device key, so its requests are
//! properly signed; seed 003 §9.1.1):
//! - `concurrent`: when the Source starts a Move of an RO, a second signed request for the
//!   same RO and amount (a fresh nonce) goes to the RI at the same time; the RI picks a
//!   destination for each request it accepts.
//! - `rollback`: after a full Move succeeds (Success received, RO deleted), the Device's RO
//!   store is restored from a snapshot taken before the Move and the same RO moved again.
//!   The store is rolled back through the engine's after-event hook ([`Rollbacks::hook`]):
//!   after the event in which the Device sent its Move request, the hook saves the RO as it
//!   was before the Move (marked usable again); after the Success has been processed (the
//!   RO gone), the hook puts the saved RO back. The second Move is then sent, 1 s after the
//!   Success, from what the request carried (the RI-signed RO and its State Information)
//!   with a fresh nonce, signed with the Device key: the Device's own Move logic never moves
//!   an RO twice. A rolled-back local copy is something no protocol can see or prevent
//!   (device robustness rules): only the second Move, which the RI sees, is scored; the
//!   `no_rights_duplicated` monitor does see the restored copy.
//!
//! Both are scored at the end of the run from the RI's move ledger: an attempt succeeds when
//! the RI moved more units out of the RO than the Source gave up (the units of its own
//! Move, or none if its own request was refused and it restored the RO, §9.1.3 step 3b).

use super::AttackCx;
use crate::crypto::{OpCounter, PrivateKey};
use crate::engine::{ActorId, AfterEvent, SimTime, Simulation, Verdict};
use crate::invariant::Observed;
use crate::pdu::moves::{MoveRequest, MovedRo};
use crate::pdu::ro::{Action, Constraint};
use crate::pdu::{Identifier, Pdu, Status};
use crate::proto::agent::Agent;
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::ri::Ri;
use crate::proto::rights::RightsObject;
use crate::proto::world::World;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Delay between the Success of a Move and the rolled-back Device's second Move.
pub const ROLLBACK_DELAY_NS: u64 = 1_000_000_000;
/// Requests a rolling-back Device keeps as snapshots, bounded.
pub const MAX_SNAPSHOTS: usize = 10_000;
/// Attacked ROs remembered, bounded.
pub const MAX_DEVICE_ATTEMPTS: usize = 100_000;

/// `(issued, moved)` units of one `<roInfo>`, as the RI counts them (seed 003 §9.1.1: the
/// State Information gives the moved count of a count-limited RO; other ROs are 1 unit).
pub(crate) fn whole_ro_units(m: &MovedRo) -> (u64, u64) {
    let ro = &m.protected_ro.ro;
    ro.rights
        .permissions
        .iter()
        .filter(|p| matches!(p.action, Action::Play | Action::Display))
        .flat_map(|p| p.constraints.iter())
        .find_map(|c| match c {
            Constraint::Count(n) => Some((
                *n as u64,
                m.state.as_ref().and_then(|s| s.count).unwrap_or(0) as u64,
            )),
            _ => None,
        })
        .unwrap_or((1, 1))
}

/// Bound on pending snapshot and restore work of the rollback hook.
pub const MAX_ROLLBACK_WORK: usize = 10_000;

/// The rollback work the tap hands to the after-event hook: RO store snapshots to take and
/// to restore, per compromised Device.
#[derive(Debug, Default)]
pub(super) struct Rollbacks {
    /// (Device, RO ID) to snapshot after the current event.
    to_snapshot: Vec<(ActorId, String)>,
    /// (Device, RO ID) to restore once the Device has deleted the RO.
    to_restore: Vec<(ActorId, String)>,
    /// Saved ROs, as before their Move.
    saved: BTreeMap<(ActorId, String), RightsObject>,
}

/// Shared between the tap-side attack and the hook.
pub(super) type RollbacksRef = Rc<RefCell<Rollbacks>>;

impl Rollbacks {
    /// The after-event hook: takes the requested snapshots and restores deleted ROs.
    pub(super) fn hook(this: RollbacksRef) -> AfterEvent<SimMsg> {
        Box::new(move |sim| {
            let mut rb = this.borrow_mut();
            if rb.to_snapshot.is_empty() && rb.to_restore.is_empty() {
                return;
            }
            for (dev, ro_id) in std::mem::take(&mut rb.to_snapshot) {
                let Some(ro) = sim.actor::<Agent>(dev).and_then(|a| a.ros.get(&ro_id)) else {
                    continue;
                };
                if rb.saved.len() >= MAX_ROLLBACK_WORK {
                    continue;
                }
                let mut before = ro.clone();
                before.restore_after_failed_move();
                rb.saved.entry((dev, ro_id)).or_insert(before);
            }
            let pending = std::mem::take(&mut rb.to_restore);
            for (dev, ro_id) in pending {
                let Some(agent) = sim.actor_mut::<Agent>(dev) else {
                    continue;
                };
                if agent.ros.contains_key(&ro_id) {
                    // The Success is still in flight: try after a later event.
                    rb.to_restore.push((dev, ro_id));
                    continue;
                }
                if let Some(ro) = rb.saved.remove(&(dev, ro_id.clone())) {
                    agent.ros.insert(ro_id, ro);
                }
            }
        })
    }
}

/// One attempt scored from the RI's ledger.
#[derive(Debug, Clone)]
pub(super) struct LedgerAttempt {
    attack: &'static str,
    ri: ActorId,
    source: ActorId,
    source_id: Identifier,
    ro_id: String,
    /// Units of the Source's own Move.
    units: u64,
    /// Whether the Source's own request was last answered with a refusal (it restored the RO).
    source_refused: bool,
}

/// The attempts, shared with the end-of-run scoring.
pub(super) type OpenRef = Rc<RefCell<Vec<LedgerAttempt>>>;

/// State of the compromised-Device attacks.
pub(super) struct Device {
    world: Rc<World>,
    key: Option<PrivateKey>,
    ops: OpCounter,
    open: OpenRef,
    attacked: BTreeSet<String>,
    /// Nonces of the Source's own requests → attempt index (concurrent).
    own: BTreeMap<Vec<u8>, usize>,
    /// Requests seen, by nonce, with when they were sent (rollback snapshots).
    snapshots: BTreeMap<Vec<u8>, (MoveRequest, SimTime)>,
    /// Store rollbacks done by the after-event hook.
    pub(super) rollbacks: RollbacksRef,
}

impl Device {
    pub(super) fn new(world: Rc<World>, key: Option<PrivateKey>, open: OpenRef) -> Self {
        Device {
            world,
            key,
            ops: OpCounter::new(),
            open,
            attacked: BTreeSet::new(),
            own: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            rollbacks: RollbacksRef::default(),
        }
    }

    /// `req` with a fresh nonce and DRM time `drm_ns`, signed with the Device key.
    fn resign(&mut self, req: &MoveRequest, nonce: Vec<u8>, drm_ns: u64) -> Option<SimMsg> {
        let key = self.key.as_ref()?;
        let mut r = req.clone();
        r.nonce = nonce;
        r.time = self.world.datetime(drm_ns);
        r.signature = Vec::new();
        let sig = self
            .world
            .crypto
            .sign(
                &mut self.ops,
                key,
                self.world.params.sig_alg,
                &Pdu::MoveDeviceRoRequest(r.clone()),
            )
            .ok()?;
        r.signature = sig;
        Some(SimMsg::Pdu(Wire::new(
            self.world.mode(),
            Pdu::MoveDeviceRoRequest(r),
        )))
    }

    fn push(&mut self, a: LedgerAttempt) -> usize {
        let mut open = self.open.borrow_mut();
        open.push(a);
        open.len() - 1
    }

    /// `concurrent`: the Source's first request for an RO is doubled.
    pub(super) fn concurrent(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        let Some(Pdu::MoveDeviceRoRequest(r)) = obs.pdu else {
            return Verdict::Pass(msg);
        };
        let Some(m) = r.rights_info.ros.first() else {
            return Verdict::Pass(msg);
        };
        let ro_id = m.protected_ro.ro.id.clone();
        if self.attacked.contains(&ro_id) {
            // A retry of the Source's own Move: its answer decides what the Source gave up.
            if let Some(i) = self.open.borrow().iter().rposition(|a| a.ro_id == ro_id) {
                self.own.insert(r.nonce.clone(), i);
            }
            return Verdict::Pass(msg);
        }
        if self.attacked.len() >= MAX_DEVICE_ATTEMPTS {
            return Verdict::Pass(msg);
        }
        let nonce = self.world.nonce(cx.tap.rng());
        let drm = self.world.drm_ns(&r.time);
        let Some(second) = self.resign(r, nonce, drm) else {
            return Verdict::Pass(msg);
        };
        cx.attempt();
        self.attacked.insert(ro_id.clone());
        let i = self.push(LedgerAttempt {
            attack: "move_concurrent",
            ri: obs.to,
            source: obs.from,
            source_id: r.req_id.clone(),
            ro_id,
            units: whole_ro_units(m).1,
            source_refused: false,
        });
        self.own.insert(r.nonce.clone(), i);
        cx.inject(obs.from, obs.to, second, 0);
        Verdict::Pass(msg)
    }

    /// `rollback`: snapshots each full-Move request; on its Success, moves the RO again.
    pub(super) fn rollback(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        match obs.pdu {
            Some(Pdu::MoveDeviceRoRequest(r)) => {
                let full = r
                    .rights_info
                    .ros
                    .first()
                    .is_some_and(|m| whole_ro_units(m).0 == whole_ro_units(m).1);
                if full && self.snapshots.len() < MAX_SNAPSHOTS {
                    self.snapshots.insert(r.nonce.clone(), (r.clone(), obs.now));
                    let mut rb = self.rollbacks.borrow_mut();
                    if rb.to_snapshot.len() < MAX_ROLLBACK_WORK {
                        let ro_id = r.rights_info.ros[0].protected_ro.ro.id.clone();
                        rb.to_snapshot.push((obs.from, ro_id));
                    }
                }
            }
            Some(Pdu::MoveDeviceRoResponse(resp)) if resp.status == Status::Success => {
                let Some((req, sent)) = self.snapshots.remove(&resp.nonce) else {
                    return Verdict::Pass(msg);
                };
                let Some(m) = req.rights_info.ros.first() else {
                    return Verdict::Pass(msg);
                };
                let ro_id = m.protected_ro.ro.id.clone();
                if self.attacked.contains(&ro_id) || self.attacked.len() >= MAX_DEVICE_ATTEMPTS {
                    return Verdict::Pass(msg);
                }
                let nonce = self.world.nonce(cx.tap.rng());
                // The Device's DRM clock has advanced as much as simulated time.
                let drm = self
                    .world
                    .drm_ns(&req.time)
                    .saturating_add(obs.now.since(sent) + ROLLBACK_DELAY_NS);
                let Some(again) = self.resign(&req, nonce, drm) else {
                    return Verdict::Pass(msg);
                };
                cx.attempt();
                self.attacked.insert(ro_id.clone());
                self.push(LedgerAttempt {
                    attack: "move_rollback",
                    ri: obs.from,
                    source: obs.to,
                    source_id: req.req_id.clone(),
                    ro_id,
                    units: whole_ro_units(m).1,
                    source_refused: false,
                });
                cx.inject(obs.to, obs.from, again, ROLLBACK_DELAY_NS);
                let mut rb = self.rollbacks.borrow_mut();
                if rb.to_restore.len() < MAX_ROLLBACK_WORK {
                    let ro_id = m.protected_ro.ro.id.clone();
                    rb.to_restore.push((obs.to, ro_id));
                }
            }
            _ => {}
        }
        Verdict::Pass(msg)
    }

    /// Referee: the RI's answers to the Source's own requests (concurrent).
    pub(super) fn observe(&mut self, obs: &Observed<'_>) {
        let Some(Pdu::MoveDeviceRoResponse(r)) = obs.pdu else {
            return;
        };
        if !obs.authentic() {
            return;
        }
        if let Some(&i) = self.own.get(&r.nonce) {
            if let Some(a) = self.open.borrow_mut().get_mut(i) {
                if a.ri == obs.from && a.source == obs.to {
                    a.source_refused = r.status != Status::Success;
                }
            }
        }
    }
}

/// End of run: an attempt succeeded when the RI moved more units out of the RO than the
/// Source gave up.
pub(super) fn end_check(
    open: &[LedgerAttempt],
    sim: &Simulation<SimMsg>,
) -> Vec<(bool, String, Option<ActorId>)> {
    open.iter()
        .map(|a| {
            let moved = sim
                .actor::<Ri>(a.ri)
                .and_then(|ri| ri.moves.ledger.get(&a.ro_id))
                .filter(|e| e.source == a.source_id)
                .map_or(0, |e| e.moved_units);
            let gave_up = if a.source_refused { 0 } else { a.units };
            let success = moved > gave_up;
            let detail = format!(
                "{}: the RI moved {moved} units of {} from actor {}, which gave up {gave_up}",
                a.attack, a.ro_id, a.source.0
            );
            (success, detail, Some(a.ri))
        })
        .collect()
}
