//! The Device side of Move `<userDomain>`-constrained RO via RI: sending (seed 003 §9.2.1)
//! and processing the response (§9.2.3).

use super::{in_validity, move_indication};
use crate::engine::{ActorId, Ctx};
use crate::pdu::moves::UserDomainAuthorization;
use crate::pdu::moves::{MoveRequest, MoveResponse, MovedRo, RightsInfo, StateInfo};
use crate::pdu::{Ext, Extension, Identifier, Pdu, Status};
use crate::proto::agent::{Activity, Agent, SessionKind};
use crate::proto::move_ro::{check_move_response, plan, sign_and_send_request, ResponseReject};
use crate::proto::msg::SimMsg;
use crate::proto::rights::MoveSystem;
use std::collections::BTreeSet;

/// One RO of a Move session.
#[derive(Debug, Clone)]
pub(crate) struct UdItem {
    ro_id: String,
    full: bool,
    state: Option<StateInfo>,
    domains: Vec<String>,
}

/// Device-side state of one Move session.
#[derive(Debug, Clone)]
pub(crate) struct AgentUdMove {
    items: Vec<UdItem>,
}

/// Registration done: arms the planned Move.
pub(crate) fn on_registered(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    if let Some((d, _)) = &agent.move_ud.planned {
        let d = (*d).max(1);
        agent.set_activity_timer(ctx, d, Activity::MoveUd);
    }
}

/// `Activity::MoveUd` timer: starts the planned Move.
pub(crate) fn agent_on_timer(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    if let Some((_, ros)) = agent.move_ud.planned.take() {
        agent_start(agent, ctx, &ros);
    }
}

fn undo(agent: &mut Agent, items: &[UdItem]) {
    for it in items {
        if let Some(ro) = agent.ros.get_mut(&it.ro_id) {
            ro.restore_after_failed_move();
        }
    }
}

/// A validated moveUserDomainConstrainedRO ROAP Trigger from RI `ri` (its URL names that
/// RI, seed 003 §9.2.1 step 4): the named ROs this Device holds are moved in full in one
/// request, when `ri` issued them (the request goes to the RO's RI); otherwise not started.
pub(crate) fn agent_on_move_trigger(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    ro_ids: &[String],
) {
    let world = agent.world.clone();
    let ros: Vec<(String, bool)> = ro_ids
        .iter()
        .filter(|id| {
            agent
                .move_ud
                .protected
                .get(*id)
                .is_some_and(|p| p.ro.ri_id == world.ris[ri].id)
        })
        .map(|id| (id.clone(), false))
        .collect();
    agent.move_ud.stats.triggered += 1;
    if ros.is_empty() {
        agent.move_ud.stats.not_started += 1;
        return;
    }
    agent_start(agent, ctx, &ros);
}

/// Starts moving `ros` (seed 003 §9.2.1 steps 1–4). All ROs go to one RI: the one named in
/// the first RO's `<riID>` that the Device has a context with.
pub(crate) fn agent_start(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ros: &[(String, bool)]) {
    let world = agent.world.clone();
    let Some(ri) = ros
        .first()
        .and_then(|(id, _)| agent.move_ud.protected.get(id))
        .and_then(|p| world.ri_by_id(&p.ro.ri_id))
        .map(|(i, _)| i)
        .filter(|i| agent.ri_contexts.contains_key(i))
    else {
        agent.move_ud.stats.not_started += 1;
        return;
    };
    let ri_hex = move_indication(&world.ris[ri].id);
    let drm_now = agent.drm_now(ctx.now());
    let mut items: Vec<UdItem> = Vec::new();
    for (ro_id, partial) in ros {
        let Some(pro) = agent.move_ud.protected.get(ro_id) else {
            undo(agent, &items);
            agent.move_ud.stats.not_started += 1;
            return;
        };
        let domains = pro.ro.rights.user_domains.clone();
        // Step 1: userDomain-constrained, same RI, <move> for this protocol, RI in
        // <moveIndication>; step 3 needs an authorization per User Domain.
        let ok = !domains.is_empty()
            && pro.ro.ri_id == world.ris[ri].id
            && pro.ro.rights.move_indication.contains(&ri_hex)
            && domains
                .iter()
                .all(|d| agent.move_ud.authorizations.contains_key(d))
            && !items.iter().any(|i| &i.ro_id == ro_id);
        let planned = agent
            .ros
            .get(ro_id)
            .filter(|r| ok && r.movable_by(MoveSystem::MoveUserDomainRoViaRi))
            .and_then(|r| plan(r, *partial, drm_now));
        // Step 2: mark the RO, or the portion moved, unusable.
        let marked = planned.and_then(|(portion, state, _, full)| {
            let ro = agent.ros.get_mut(ro_id)?;
            ro.mark_for_move(MoveSystem::MoveUserDomainRoViaRi, portion)
                .ok()
                .map(|_| (state, full))
        });
        let Some((state, full)) = marked else {
            undo(agent, &items);
            agent.move_ud.stats.not_started += 1;
            return;
        };
        items.push(UdItem {
            ro_id: ro_id.clone(),
            full,
            state,
            domains,
        });
    }
    if items.is_empty() {
        agent.move_ud.stats.not_started += 1;
        return;
    }
    let kind = SessionKind::MoveUserDomainRo(AgentUdMove {
        items: items.clone(),
    });
    let Some(id) = agent.open_session(ctx, ri, kind) else {
        return undo(agent, &items);
    };
    agent.move_ud.stats.started += 1;
    agent_send(agent, ctx, id);
}

/// Sends (or re-sends) the request of session `id`, with a fresh nonce on every attempt
/// (seed 003 §9.2.1, last paragraph; the pre-CR variant reuses it).
pub(crate) fn agent_send(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let world = agent.world.clone();
    let Some(s) = agent.sessions.get(&id) else {
        return;
    };
    let SessionKind::MoveUserDomainRo(m) = &s.kind else {
        return;
    };
    let (m, ri) = (m.clone(), s.ri);
    let nonce = if world.variants.fresh_nonce_retries || s.nonce.is_empty() {
        world.nonce(ctx.rng())
    } else {
        s.nonce.clone()
    };
    let mut ros = Vec::new();
    let mut domains = BTreeSet::new();
    for it in &m.items {
        let Some(pro) = agent.move_ud.protected.get(&it.ro_id) else {
            return give_up(agent, ctx, id);
        };
        ros.push(MovedRo {
            protected_ro: pro.clone(),
            state: it.state.clone(),
        });
        domains.extend(it.domains.iter().cloned());
    }
    // Step 3: one sourceDeviceUserDomainAuthorization per User Domain (sorted: BTreeSet).
    let Some(source_authorizations) = domains
        .iter()
        .map(|d| agent.move_ud.authorizations.get(d).cloned())
        .collect::<Option<Vec<_>>>()
    else {
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
        rights_info: RightsInfo { ros },
        source_authorizations,
        certificate_chain: chain,
        extensions,
        signature: Vec::new(),
    };
    if sign_and_send_request(
        agent,
        ctx,
        id,
        req,
        nonce,
        Pdu::MoveUserDomainConstrainedRoRequest,
    )
    .is_err()
    {
        give_up(agent, ctx, id);
    }
}

fn give_up(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let first = agent.sessions.get(&id).is_some_and(|s| s.attempts == 0);
    if let Some(s) = agent.finish(ctx, id, "abandoned") {
        if let SessionKind::MoveUserDomainRo(m) = s.kind {
            if first {
                undo(agent, &m.items);
            } else {
                agent_on_abandon(agent, m);
            }
        }
    }
}

/// Abandoned without a verified response: the RI may have accepted, so the ROs stay
/// unusable (rights may be lost, never duplicated; as move_ro).
pub(crate) fn agent_on_abandon(agent: &mut Agent, _m: AgentUdMove) {
    agent.move_ud.stats.abandoned += 1;
}
/// Why a `<RIUserDomainAuthorization>` is not accepted (seed 003 §9.2.3 step 4 a–c).
fn authz_valid(
    agent: &mut Agent,
    a: &UserDomainAuthorization,
    res_id: &Identifier,
    drm_now_ns: u64,
) -> bool {
    let world = agent.world.clone();
    // a. The DEA signature.
    let Some(key) = agent.move_ud.dea_key.clone() else {
        return false;
    };
    if world
        .crypto
        .verify(&mut agent.ops, &key, world.params.sig_alg, a, &a.signature)
        .is_err()
    {
        return false;
    }
    // b. entityId is the responding RI. c. notBefore ≤ now < notAfter (DRM time).
    &a.entity_id == res_id && in_validity(&world, a, drm_now_ns)
}

/// MoveUserDomainConstrainedROResponse at the Device (seed 003 §9.2.3, steps in order).
pub(crate) fn agent_on_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    _from: ActorId,
    r: MoveResponse,
) {
    // Steps 1 (reqID, resID, nonce as in the preceding request) and 2 (the RI's signature).
    let is_kind = |k: &SessionKind| matches!(k, SessionKind::MoveUserDomainRo(_));
    let as_pdu = Pdu::MoveUserDomainConstrainedRoResponse;
    let id = match check_move_response(agent, &r, is_kind, as_pdu) {
        Ok(id) => id,
        Err(ResponseReject::Mismatch) => {
            agent.move_ud.stats.discarded_mismatch += 1;
            return agent.discard(
                ctx,
                "MoveUserDomainConstrainedROResponse mismatch (§9.2.3 step 1)",
            );
        }
        Err(ResponseReject::NoRiContext) => {
            return agent.discard(
                ctx,
                "MoveUserDomainConstrainedROResponse without RI context",
            )
        }
        Err(ResponseReject::Signature) => {
            agent.move_ud.stats.discarded_signature += 1;
            return agent.discard(
                ctx,
                "MoveUserDomainConstrainedROResponse signature (§9.2.3 step 2)",
            );
        }
    };
    let Some(s) = agent.finish_status(ctx, id, r.status) else {
        return;
    };
    let SessionKind::MoveUserDomainRo(m) = s.kind else {
        return;
    };
    // Step 3: not Success → every RO usable again.
    if r.status != Status::Success {
        agent.move_ud.stats.failed += 1;
        agent.move_ud.stats.ros_restored += m.items.len() as u64;
        return undo(agent, &m.items);
    }
    // Step 4: the User Domains with a valid RIUserDomainAuthorization.
    let drm_now = agent.drm_now(ctx.now());
    let mut valid = BTreeSet::new();
    let mut invalid = BTreeSet::new();
    for a in &r.ri_authorizations {
        if authz_valid(agent, a, &r.res_id, drm_now) {
            valid.insert(a.user_domain_id.clone());
        } else {
            invalid.insert(a.user_domain_id.clone());
        }
    }
    // An RO bound to a User Domain whose authorization failed or is missing is usable.
    for it in m.items {
        let ok = it
            .domains
            .iter()
            .all(|d| valid.contains(d) && !invalid.contains(d));
        if !ok {
            agent.move_ud.stats.ros_restored += 1;
            undo(agent, std::slice::from_ref(&it));
            continue;
        }
        // Step 5: full Move removes, partial decrements.
        agent.move_ud.stats.ros_moved += 1;
        if it.full {
            agent.ros.remove(&it.ro_id);
            agent.move_ud.protected.remove(&it.ro_id);
        } else if let Some(ro) = agent.ros.get_mut(&it.ro_id) {
            ro.complete_partial_move();
        }
    }
}
