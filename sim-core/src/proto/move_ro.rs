//! Move Device RO via RI (seed 003 §9.1.1 sending, §9.1.3 processing), both sides, plus the
//! delivery of the moved rights to the destination Device and the rights accounting that
//! shows Moves neither create nor duplicate rights.
//!
//! Flow: the Source Device marks the RO (or the moved count portion) unusable and sends a
//! signed MoveDeviceRORequest with the RO (as the RI issued and signed it) and the State
//! Information being moved. The RI checks Device Context, DRM time, signature, nonce
//! (seed 003 §1: a seen nonce is a replay), then the RO (issued and signed by this RI, bound
//! to the requester, `<move>` permission allowing this protocol, not already moved: a ledger
//! of moved counts per RO ID), records the moved rights for a destination Device and answers
//! Success. The destination gets a signed ROAP Trigger {roAcquisition} naming the moved RO;
//! its RO acquisition receives the rights re-issued and bound to its own key.
//!
//! Readings chosen where the seed is silent (see docs/protocols.md):
//! - §9.1.1 lists no destination element: as in SCE, the Sink is chosen at the RI ("user at
//!   the RI portal"); the RI picks it among its other registered Devices.
//! - §9.1.3 steps 1–2 "terminate": a response that fails them is discarded unprocessed; the
//!   session keeps waiting (an unauthenticated message must not abort a Move).
//! - §9.1.3 has no rule for a Move abandoned without any response: the RI may have accepted
//!   it, so the RO stays unusable (rights may be lost, never duplicated).
//! - §9.1.1 fresh-nonce retries: a retry of an accepted Move carries a fresh nonce the RI has
//!   not seen; with nonce tracking on, the RI recognises it (same Source Device, same RO,
//!   same moved amount) as a retransmission and answers Success again, recording nothing.
//! - Seed 003 §1 nonce tracking vs §9.1.3 step 3b: a request with the Device ID, nonce and
//!   content of an accepted one is a repeat of it (a duplicate, or an attacker's copy that
//!   may overtake the original), answered with the stored Success response; only a
//!   same-nonce request with different content is a replay (AccessDenied). See `repeats`.

use super::agent::{Activity, Agent, SessionKind};
use super::msg::SimMsg;
use super::ri::Ri;
use super::rights::{Constraint as RoConstraint, MoveSystem, RightsObject};
use super::world::ProtoParams;
use crate::engine::{ActorId, Ctx, SimTime};
use crate::pdu::moves::{MoveRequest, MoveResponse, MovedRo, RightsInfo, StateInfo};
use crate::pdu::ro::{ProtectedRo, Ro};
use crate::pdu::{Ext, Extension, Pdu, Status};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

mod accounting;
mod delivery;
mod ledger;
mod post_response;
mod repeats;
mod request;

pub use accounting::{agent_ri_rights_units, is_imported, rights_accounting, RightsAccounting};
pub use delivery::MovedRights;
pub(crate) use delivery::{agent_on_ro_trigger, ri_deliver_moved, ri_on_timer};
use delivery::{arm_timer, send_trigger};
pub use ledger::{ledger_decision, LedgerDecision, LedgerEntry, Refusal};
pub(crate) use ledger::{ledger_has_room, record_ledger};
pub(crate) use post_response::{agent_on_http_response, ri_on_http_get};
use post_response::{get_failed, http_get, GetState};
pub(crate) use repeats::resend;
pub use repeats::{Repeat, ReplyStore, RequestDigest, MAX_STORED_REPLIES};
pub(crate) use request::ri_on_request;
pub(crate) use request::{check_move_header, sign_and_reply, store_reply, Checked, Header};

/// Protocol name in outcome records and RI status counters.
pub const PROTOCOL: &str = "move_device_ro";
/// `<system>` value naming Move Device RO via RI (seed 003 §9.1.1 step 1).
pub const SYSTEM_ID: &str = "moveDeviceROviaRI";
/// GET attempts per Post Response URL (seed 003 §9.1.3 3.a: "MAY retry … later").
pub const MAX_GET_ATTEMPTS: u32 = 3;
/// Triggers an RI sends for one moved RO before it waits for the destination to ask.
pub const MAX_TRIGGERS: u32 = 5;
/// RO IDs the RI's move ledger remembers (oldest evicted).
pub const MAX_LEDGER: usize = 1_000_000;
/// Moved rights an RI holds for destinations (in transit + recently delivered).
pub const MAX_IN_TRANSIT: usize = 100_000;
/// Pending timed tasks of one Device (move starts, GET retries).
pub const MAX_TASKS: usize = 10_000;
/// Dead (404) Post Response URLs a Device remembers.
pub const MAX_DEAD_URLS: usize = 1_024;
/// Timer tag of the RI's re-trigger / pruning timer.
pub(crate) const RI_TAG_MOVE: u64 = 0x4d56_0000_0000_0001;
/// Path of the Post Response URL under the RI's URL.
const PR_PATH: &str = "/move-complete";
/// Marker of RO IDs the RI mints for moved rights.
const MOVED_MARK: &str = "-mv";

/// How long one request can stay unresolved: every attempt's timeout plus the longest
/// back-off between attempts. Windows for re-delivery and re-triggering use it.
pub fn retry_span_ns(p: &ProtoParams) -> u64 {
    (p.max_retries as u64 + 1).saturating_mul(p.request_timeout_ns.saturating_add(p.backoff_max_ns))
}

// ---------------------------------------------------------------------------------------
// Device side
// ---------------------------------------------------------------------------------------

/// Device-side state of one Move session.
#[derive(Debug, Clone)]
pub(crate) struct AgentMove {
    /// RO being moved.
    pub ro_id: String,
    /// Full Move (the RO is removed on success) or partial (counts decremented).
    pub full: bool,
    /// Rights units moved.
    pub units: u64,
    /// State Information sent.
    pub state: Option<StateInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Task {
    Start { ro_id: String, partial: bool },
    GetRetry { url: String },
    GetTimeout { url: String, get: u64 },
}

/// Counters of a Device's Moves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentMoveStats {
    /// Moves started (request sent).
    pub started: u64,
    /// Moves that ended in Success (rights removed / decremented).
    pub succeeded: u64,
    /// Moves answered with another status (RO usable again).
    pub failed: u64,
    /// Moves abandoned after the last retry (RO left unusable).
    pub abandoned: u64,
    /// Moves not started: RO gone, not movable, not signed by a known RI, exhausted.
    pub not_started: u64,
    /// RO IDs named by moveDeviceRO triggers (seed 003 §9.1.1).
    pub triggered: u64,
    /// Responses discarded at §9.1.3 step 1 (reqID/resID/nonce mismatch).
    pub discarded_mismatch: u64,
    /// Responses discarded at §9.1.3 step 2 (signature).
    pub discarded_signature: u64,
    /// Post Response URL GETs sent.
    pub http_gets: u64,
    /// GETs answered 404 (URL never asked again).
    pub http_404: u64,
    /// GETs failed otherwise (answered with an error or no answer).
    pub http_errors: u64,
    /// roAcquisition triggers for moved rights acted upon.
    pub triggers_accepted: u64,
}

/// A Device's Move state: the signed ROs as received (to put in `<rightsInfo>`), timed
/// tasks, Post Response URL GETs, and counters.
#[derive(Debug, Clone, Default)]
pub struct AgentMoves {
    protected: BTreeMap<String, ProtectedRo>,
    tasks: BTreeMap<(u64, u64), Task>,
    next_task: u64,
    /// ROs this Device has tried to move: each RO is moved at most once (the RI's
    /// retransmission rule keys on RO and amount, so a second equal Move would be ambiguous).
    pub moved: BTreeSet<String>,
    /// Abandoned Moves: RO ID → units left unusable (§9.1.3 gives no rule; see module doc).
    pub frozen: BTreeMap<String, u64>,
    gets: BTreeMap<String, GetState>,
    /// Post Response URLs answered 404: never requested again (§9.1.3 3.a).
    pub dead_urls: BTreeSet<String>,
    requested: BTreeMap<String, SimTime>,
    /// Moved ROs (minted by an RI for this Device) installed here.
    pub installed_moved: BTreeSet<String>,
    /// Counters.
    pub stats: AgentMoveStats,
}

/// Rights units an agent holds (unusable portions included).
pub fn agent_rights_units(agent: &Agent) -> u64 {
    agent.ros.values().map(RightsObject::rights_units).sum()
}

/// Move sessions open at `agent`: (RO ID, nonce of the latest request, attempts).
pub fn open_moves(agent: &Agent) -> Vec<(String, Vec<u8>, u32)> {
    agent
        .sessions
        .values()
        .filter_map(|s| match &s.kind {
            SessionKind::MoveDeviceRo(m) => Some((m.ro_id.clone(), s.nonce.clone(), s.attempts)),
            _ => None,
        })
        .collect()
}

fn push_task(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, delay_ns: u64, task: Task) {
    if agent.moves.tasks.len() >= MAX_TASKS {
        return;
    }
    let due = ctx.now().as_ns().saturating_add(delay_ns);
    agent.moves.next_task += 1;
    let seq = agent.moves.next_task;
    agent.moves.tasks.insert((due, seq), task);
    agent.set_activity_timer(ctx, delay_ns, Activity::Move);
}

/// `Activity::Move` timer: runs every task that is due.
pub(crate) fn agent_on_timer(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    let now = ctx.now().as_ns();
    while let Some((&(due, seq), _)) = agent.moves.tasks.first_key_value() {
        if due > now {
            break;
        }
        let Some(task) = agent.moves.tasks.remove(&(due, seq)) else {
            break;
        };
        match task {
            Task::Start { ro_id, partial } => agent_start(agent, ctx, &ro_id, partial),
            Task::GetRetry { url } => http_get(agent, ctx, &url),
            Task::GetTimeout { url, get } => {
                let timed_out = agent
                    .moves
                    .gets
                    .get(&url)
                    .is_some_and(|g| g.awaiting == Some(get));
                if timed_out {
                    get_failed(agent, ctx, &url);
                }
            }
        }
    }
}

/// ROs just installed by RO acquisition: keep the signed copies of movable ones and, per the
/// workload, schedule their Move.
pub(crate) fn agent_on_installed(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    pros: &[ProtectedRo],
) {
    for pro in pros {
        let id = &pro.ro.id;
        let Some(ro) = agent.ros.get(id) else {
            continue;
        };
        if id.contains(MOVED_MARK)
            && agent.moves.installed_moved.len() < agent.world.params.max_ros_per_device
        {
            agent.moves.installed_moved.insert(id.clone());
        }
        if !ro.movable_by(MoveSystem::MoveDeviceRoViaRi) {
            continue;
        }
        agent.moves.protected.insert(id.clone(), pro.clone());
        // Draw only when moves are configured, so runs without moves keep their streams.
        // Rights received by a Move are not moved on by the workload (no endless hops).
        let p = agent.workload.move_probability;
        if p > 0.0 && !id.contains(MOVED_MARK) && ctx.rng().gen_bool(p.clamp(0.0, 1.0)) {
            let u: f64 = ctx.rng().gen_range(f64::MIN_POSITIVE..1.0);
            let delay = ((-u.ln()) * agent.workload.move_delay_mean_ns as f64).min(1e18) as u64 + 1;
            let partial = ctx
                .rng()
                .gen_bool(agent.workload.move_partial_probability.clamp(0.0, 1.0));
            let ro_id = id.clone();
            push_task(agent, ctx, delay, Task::Start { ro_id, partial });
        }
    }
}

/// What a Move of `ro` moves: (portion to mark, State Information, units, full).
/// Partial Moves move half the available counts (at least 1, leaving at least 1).
pub(crate) fn plan(
    ro: &RightsObject,
    partial: bool,
    drm_now_ns: u64,
) -> Option<(Option<u32>, Option<StateInfo>, u64, bool)> {
    let count = |c: u32| StateInfo {
        count: Some(c),
        ..Default::default()
    };
    match ro.constraint {
        RoConstraint::Count { remaining } => {
            let avail = ro.available_count();
            if avail == 0 || avail != remaining {
                return None;
            }
            if partial && avail >= 2 {
                let p = avail / 2;
                Some((Some(p), Some(count(p)), p as u64, false))
            } else {
                Some((None, Some(count(remaining)), remaining as u64, true))
            }
        }
        RoConstraint::Interval {
            duration_ns,
            started_at_ns: Some(start),
        } => {
            let end = start.saturating_add(duration_ns);
            if drm_now_ns >= end {
                return None;
            }
            let left_s = (end - drm_now_ns) / 1_000_000_000;
            let st = StateInfo {
                interval_s: Some(left_s.max(1)),
                ..Default::default()
            };
            Some((None, Some(st), 1, true))
        }
        _ => Some((None, None, 1, true)),
    }
}

/// Seed 003 §9.1.1 step 3: the RO names and is signed by an RI this Device has a context
/// with; the request goes to that RI. Returns its index.
fn issuing_ri(agent: &mut Agent, pro: &ProtectedRo) -> Option<usize> {
    let world = agent.world.clone();
    let (ri, _) = world.ri_by_id(&pro.ro.ri_id)?;
    let key = agent.ri_contexts.get(&ri)?.chain[0].public_key().clone();
    let sig = pro.ro.signature.as_ref()?;
    world
        .crypto
        .verify(&mut agent.ops, &key, world.params.sig_alg, &pro.ro, sig)
        .ok()?;
    Some(ri)
}

/// A validated moveDeviceRO ROAP Trigger from RI `ri` whose `roapURL` names that RI (seed
/// 003 §9.1.1: "initiated … by receiving a ROAP-MoveDeviceRO Trigger"; step 4: the request
/// goes to the trigger's roapURL). Each named RO this Device holds is moved in full, if
/// step 3 holds: the RI at roapURL is the one that signed it (others: not started).
pub(crate) fn agent_on_move_trigger(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    ro_ids: &[String],
) {
    let world = agent.world.clone();
    for ro_id in ro_ids {
        agent.moves.stats.triggered += 1;
        let issuer = agent
            .moves
            .protected
            .get(ro_id)
            .and_then(|p| world.ri_by_id(&p.ro.ri_id))
            .map(|(i, _)| i);
        if issuer != Some(ri) {
            agent.moves.stats.not_started += 1;
            continue;
        }
        agent_start(agent, ctx, ro_id, false);
    }
}

/// Starts moving RO `ro_id` (seed 003 §9.1.1 steps 1–4).
pub(crate) fn agent_start(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ro_id: &str,
    partial: bool,
) {
    let not_started = |agent: &mut Agent| agent.moves.stats.not_started += 1;
    // Step 1: an RO with a <move> permission allowing this protocol.
    let movable = agent
        .ros
        .get(ro_id)
        .is_some_and(|r| r.movable_by(MoveSystem::MoveDeviceRoViaRi));
    if !movable || agent.moves.moved.contains(ro_id) {
        return not_started(agent);
    }
    let Some(pro) = agent.moves.protected.get(ro_id).cloned() else {
        return not_started(agent);
    };
    // Step 3 (checked before marking so nothing needs undoing).
    let Some(ri) = issuing_ri(agent, &pro) else {
        return not_started(agent);
    };
    let drm_now = agent.drm_now(ctx.now());
    let ro = agent.ros.get_mut(ro_id).expect("checked above");
    let Some((portion, state, units, full)) = plan(ro, partial, drm_now) else {
        return not_started(agent);
    };
    // Step 2: mark the RO, or the portion being moved, unusable.
    if ro
        .mark_for_move(MoveSystem::MoveDeviceRoViaRi, portion)
        .is_err()
    {
        return not_started(agent);
    }
    let kind = SessionKind::MoveDeviceRo(AgentMove {
        ro_id: ro_id.to_string(),
        full,
        units,
        state,
    });
    let Some(id) = agent.open_session(ctx, ri, kind) else {
        // Nothing was sent: the RO is usable again.
        if let Some(ro) = agent.ros.get_mut(ro_id) {
            ro.restore_after_failed_move();
        }
        return;
    };
    agent.moves.moved.insert(ro_id.to_string());
    agent.moves.stats.started += 1;
    agent_send(agent, ctx, id);
}

/// Sends (or re-sends) the MoveDeviceRORequest of session `id`: a fresh nonce on every
/// attempt (seed 003 §9.1.1, last paragraph), the same nonce in the pre-CR variant.
pub(crate) fn agent_send(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let world = agent.world.clone();
    let Some(s) = agent.sessions.get(&id) else {
        return;
    };
    let SessionKind::MoveDeviceRo(m) = &s.kind else {
        return;
    };
    let (m, ri) = (m.clone(), s.ri);
    let nonce = if world.variants.fresh_nonce_retries || s.nonce.is_empty() {
        world.nonce(ctx.rng())
    } else {
        s.nonce.clone()
    };
    let Some(pro) = agent.moves.protected.get(&m.ro_id).cloned() else {
        return give_up(agent, ctx, id);
    };
    let mut extensions = Vec::new();
    let mut chain = Some(agent.me.chain_wire.clone());
    if let Some(c) = agent.ri_contexts.get(&ri) {
        if c.ocsp
            .as_ref()
            .is_some_and(|o| ctx.now().since(o.produced_at) < world.params.ocsp_max_age_ns)
        {
            extensions.push(Ext::new(Extension::NoOcspResponse));
        }
        if c.ri_has_device_chain {
            chain = None;
        }
    }
    let req = MoveRequest {
        req_id: agent.me.id.clone(),
        res_id: world.ris[ri].id.clone(),
        nonce: nonce.clone(),
        time: world.datetime(agent.drm_now(ctx.now())),
        rights_info: RightsInfo {
            ros: vec![MovedRo {
                protected_ro: pro,
                state: m.state.clone(),
            }],
        },
        source_authorizations: Vec::new(),
        certificate_chain: chain,
        extensions,
        signature: Vec::new(),
    };
    if sign_and_send_request(agent, ctx, id, req, nonce, Pdu::MoveDeviceRoRequest).is_err() {
        give_up(agent, ctx, id);
    }
}

/// Signs a Move request of either protocol (`wrap` picks the PDU: §9.1 or §9.2), records its
/// nonce in session `id`, sends it and arms the response timeout. Fails only when signing does.
pub(crate) fn sign_and_send_request(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    id: u64,
    mut req: MoveRequest,
    nonce: Vec<u8>,
    wrap: fn(MoveRequest) -> Pdu,
) -> Result<(), crate::crypto::CryptoError> {
    let world = agent.world.clone();
    let unsigned = wrap(req.clone());
    req.signature = world.crypto.sign(
        &mut agent.ops,
        &agent.me.key,
        world.params.sig_alg,
        &unsigned,
    )?;
    let s = agent.sessions.get_mut(&id).expect("exists");
    s.nonce = nonce;
    let peer = s.peer;
    agent.send_pdu(ctx, peer, wrap(req));
    agent.arm_timeout(ctx, id);
    Ok(())
}

/// The request of session `id` cannot be built: the session ends `abandoned`. If no attempt
/// was sent the RO is usable again; otherwise an earlier attempt may have reached the RI and
/// the RO stays unusable, as for a Move abandoned after its retries.
fn give_up(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let first = agent.sessions.get(&id).is_some_and(|s| s.attempts == 0);
    if let Some(s) = agent.finish(ctx, id, "abandoned") {
        if let SessionKind::MoveDeviceRo(m) = s.kind {
            if first {
                restore(agent, &m.ro_id);
            } else {
                agent_on_abandon(agent, ctx, m);
            }
        }
    }
}

fn restore(agent: &mut Agent, ro_id: &str) {
    if let Some(ro) = agent.ros.get_mut(ro_id) {
        ro.restore_after_failed_move();
    }
}

/// Why a Move response is discarded at the Device before its status is read.
pub(crate) enum ResponseReject {
    /// No pending session of the protocol with that nonce, reqID and resID (step 1).
    Mismatch,
    /// The responding RI has no RI Context at the Device (its key is unknown).
    NoRiContext,
    /// The RI's signature does not verify (step 2).
    Signature,
}

/// Steps 1 and 2 of seed 003 §9.1.3 and §9.2.3, shared by both Move protocols: reqID,
/// resID and nonce are those of a pending session accepted by `is_kind`, and the RI's
/// signature over the response (as `as_pdu` wraps it) verifies. Returns the session id.
pub(crate) fn check_move_response(
    agent: &mut Agent,
    r: &MoveResponse,
    is_kind: fn(&SessionKind) -> bool,
    as_pdu: fn(MoveResponse) -> Pdu,
) -> Result<u64, ResponseReject> {
    let world = agent.world.clone();
    let id = agent
        .session_by_nonce(&r.nonce)
        .filter(|i| is_kind(&agent.sessions[i].kind));
    let ri = id.map(|i| agent.sessions[&i].ri);
    let Some((id, ri)) = id
        .zip(ri)
        .filter(|(_, ri)| r.req_id == agent.me.id && r.res_id == world.ris[*ri].id)
    else {
        return Err(ResponseReject::Mismatch);
    };
    let Some(key) = agent
        .ri_contexts
        .get(&ri)
        .map(|c| c.chain[0].public_key().clone())
    else {
        return Err(ResponseReject::NoRiContext);
    };
    let signed = as_pdu(r.clone());
    match world.crypto.verify(
        &mut agent.ops,
        &key,
        world.params.sig_alg,
        &signed,
        &r.signature,
    ) {
        Ok(_) => Ok(id),
        Err(_) => Err(ResponseReject::Signature),
    }
}

/// MoveDeviceROResponse at the Device (seed 003 §9.1.3, steps in order).
pub(crate) fn agent_on_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    _from: ActorId,
    r: MoveResponse,
) {
    // Steps 1 (reqID, resID and nonce as in the preceding request) and 2 (the RI's
    // signature); otherwise stop processing.
    let is_kind = |k: &SessionKind| matches!(k, SessionKind::MoveDeviceRo(_));
    let id = match check_move_response(agent, &r, is_kind, Pdu::MoveDeviceRoResponse) {
        Ok(id) => id,
        Err(ResponseReject::Mismatch) => {
            agent.moves.stats.discarded_mismatch += 1;
            return agent.discard(
                ctx,
                "MoveDeviceROResponse reqID/resID/nonce mismatch (§9.1.3 step 1)",
            );
        }
        Err(ResponseReject::NoRiContext) => {
            return agent.discard(ctx, "MoveDeviceROResponse from an RI without context")
        }
        Err(ResponseReject::Signature) => {
            agent.moves.stats.discarded_signature += 1;
            return agent.discard(
                ctx,
                "MoveDeviceROResponse signature does not verify (§9.1.3 step 2)",
            );
        }
    };
    let status = r.status;
    let pr_urls: Vec<String> = r
        .extensions
        .iter()
        .filter_map(|e| match &e.ext {
            Extension::PostResponseUrl(u) => Some(u.clone()),
            _ => None,
        })
        .collect();
    let Some(s) = agent.finish_status(ctx, id, status) else {
        return;
    };
    let SessionKind::MoveDeviceRo(m) = s.kind else {
        return;
    };
    if status != Status::Success {
        // Step 3.b: mark the RO usable again.
        restore(agent, &m.ro_id);
        agent.moves.stats.failed += 1;
        return;
    }
    // Step 3.a: full Move removes the RO and its state; partial decrements the state.
    if m.full {
        agent.ros.remove(&m.ro_id);
        agent.moves.protected.remove(&m.ro_id);
    } else if let Some(ro) = agent.ros.get_mut(&m.ro_id) {
        ro.complete_partial_move();
    }
    agent.moves.stats.succeeded += 1;
    for url in pr_urls {
        http_get(agent, ctx, &url);
    }
}

/// A Move abandoned after its last retry with no verified response: the RI may have
/// accepted it, so the RO (or portion) stays unusable — rights may be lost, never
/// duplicated (reading of seed 003 §9.1.3, which has no rule for this case).
pub(crate) fn agent_on_abandon(agent: &mut Agent, _ctx: &mut Ctx<'_, SimMsg>, m: AgentMove) {
    agent.moves.stats.abandoned += 1;
    agent.moves.frozen.insert(m.ro_id, m.units);
}

// ---------------------------------------------------------------------------------------
// RI side
// ---------------------------------------------------------------------------------------

/// Counters of an RI's Move service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiMoveStats {
    /// Moves accepted (rights recorded for a destination).
    pub accepted: u64,
    /// Retransmissions of accepted Moves answered Success again.
    pub retransmissions: u64,
    /// Repeats of accepted requests (same Device, nonce and content; either Move protocol)
    /// answered with the stored response (see `repeats`).
    pub repeats: u64,
    /// Refusals by reason.
    pub refused: BTreeMap<Refusal, u64>,
    /// roAcquisition triggers sent.
    pub triggers_sent: u64,
    /// Moved ROs delivered to their destination.
    pub delivered: u64,
    /// Moved ROs delivered again to a retried request.
    pub redelivered: u64,
    /// Post Response URL GETs served.
    pub http_gets: u64,
}

/// An RI's Move state.
#[derive(Debug, Clone)]
pub struct RiMoves {
    /// Moved RO IDs and counts (the same rights cannot be moved twice).
    pub ledger: BTreeMap<String, LedgerEntry>,
    ledger_order: VecDeque<String>,
    /// Moved rights not yet collected by their destination, by minted RO ID.
    pub in_transit: BTreeMap<String, MovedRights>,
    /// Moved rights delivered within the re-delivery window, by minted RO ID.
    pub delivered: BTreeMap<String, MovedRights>,
    /// Success responses of accepted requests, for repeats (both Move protocols).
    pub replies: ReplyStore,
    /// Whether Success responses carry a Post Response URL.
    pub post_response_url: bool,
    /// HTTP status the Post Response URL answers with (200 normally; tests set 404 / 503).
    pub http_status: u16,
    next_moved: u64,
    timer_armed: bool,
    /// Own stream for choosing destinations: real-mode key wrapping draws from the actor's
    /// stream and symbolic mode does not, so choices made there would differ between modes.
    dest_rng: Option<crate::engine::SimRng>,
    /// Counters.
    pub stats: RiMoveStats,
}

impl Default for RiMoves {
    fn default() -> Self {
        RiMoves {
            ledger: BTreeMap::new(),
            ledger_order: VecDeque::new(),
            in_transit: BTreeMap::new(),
            delivered: BTreeMap::new(),
            replies: ReplyStore::default(),
            post_response_url: false,
            http_status: 200,
            next_moved: 0,
            timer_armed: false,
            dest_rng: None,
            stats: RiMoveStats::default(),
        }
    }
}

impl RiMoves {
    /// Rights units moved to this RI and not yet collected by their destination.
    pub fn in_transit_units(&self) -> u64 {
        self.in_transit.values().map(|m| m.units).sum()
    }
}

/// Signs an RO that carries a `<move>` permission (the signature §9.1.1 step 3 refers to);
/// other ROs are returned unchanged. `None` if signing fails.
pub(crate) fn ri_sign_movable(ri: &mut Ri, mut ro: Ro) -> Option<Ro> {
    if ro.rights.move_permission().is_none() {
        return Some(ro);
    }
    let world = ri.world.clone();
    ro.signature = None;
    let sig = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &ro)
        .ok()?;
    ro.signature = Some(sig);
    Some(ro)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::Identifier;
    use crate::proto::rights::Binding as RoBinding;

    fn id(b: u8) -> Identifier {
        Identifier::new(vec![b; 20])
    }

    fn count_ro(n: u32) -> RightsObject {
        RightsObject {
            ro_id: "ri/0-ro1".into(),
            issuer: "ri/0".into(),
            content_id: "cid:1".into(),
            binding: RoBinding::Device("d".into()),
            constraint: RoConstraint::Count { remaining: n },
            move_permission: Some(None),
            metered: false,
            unusable: false,
            unusable_count: 0,
        }
    }

    #[test]
    fn partial_moves_half_the_counts_full_moves_all() {
        let (portion, state, units, full) = plan(&count_ro(6), true, 0).unwrap();
        assert_eq!((portion, units, full), (Some(3), 3, false));
        assert_eq!(state.unwrap().count, Some(3));
        let (portion, state, units, full) = plan(&count_ro(5), true, 0).unwrap();
        assert_eq!(
            (portion, units, full, state.unwrap().count),
            (Some(2), 2, false, Some(2))
        );
        // One count left: a partial Move is impossible, it becomes full.
        let (portion, _, units, full) = plan(&count_ro(1), true, 0).unwrap();
        assert_eq!((portion, units, full), (None, 1, true));
        assert!(plan(&count_ro(0), false, 0).is_none());
        let mut unlimited = count_ro(1);
        unlimited.constraint = RoConstraint::Unlimited;
        assert_eq!(plan(&unlimited, true, 0).unwrap(), (None, None, 1, true));
    }

    #[test]
    fn interval_moves_what_is_left_of_the_window() {
        let mut ro = count_ro(1);
        ro.constraint = RoConstraint::Interval {
            duration_ns: 100_000_000_000,
            started_at_ns: Some(10_000_000_000),
        };
        let (_, st, units, full) = plan(&ro, false, 40_000_000_000).unwrap();
        assert_eq!((st.unwrap().interval_s, units, full), (Some(70), 1, true));
        assert!(plan(&ro, false, 110_000_000_000).is_none());
    }

    #[test]
    fn ledger_recognises_retransmissions_only_with_nonce_tracking() {
        let e = LedgerEntry {
            source: id(1),
            issued_units: 6,
            moved_units: 3,
            last_units: 3,
        };
        assert_eq!(ledger_decision(None, &id(1), 3, true), LedgerDecision::New);
        assert_eq!(
            ledger_decision(Some(&e), &id(1), 3, true),
            LedgerDecision::Retransmission
        );
        // Pre-CR: the same request again is a new Move while counts are left (3 + 3 ≤ 6).
        assert_eq!(
            ledger_decision(Some(&e), &id(1), 3, false),
            LedgerDecision::New
        );
        assert_eq!(
            ledger_decision(Some(&e), &id(1), 4, false),
            LedgerDecision::AlreadyMoved
        );
        // Another Device can never move it.
        assert_eq!(
            ledger_decision(Some(&e), &id(2), 1, true),
            LedgerDecision::AlreadyMoved
        );
        let full = LedgerEntry {
            source: id(1),
            issued_units: 1,
            moved_units: 1,
            last_units: 1,
        };
        assert_eq!(
            ledger_decision(Some(&full), &id(1), 1, false),
            LedgerDecision::AlreadyMoved
        );
    }

    #[test]
    fn refusals_map_to_roap_statuses() {
        assert_eq!(Refusal::Replay.status(), Status::AccessDenied);
        assert_eq!(Refusal::NoDestination.status(), Status::NotFound);
        assert_eq!(Refusal::BadRightsInfo.status(), Status::MalformedRequest);
        assert_eq!(Refusal::Signature.status(), Status::SignatureError);
    }

    #[test]
    fn retry_span_covers_every_attempt() {
        let p = ProtoParams::default();
        // 4 attempts × (10 s timeout + 30 s longest back-off).
        assert_eq!(retry_span_ns(&p), 160_000_000_000);
    }
}
