//! Move `<userDomain>`-constrained RO via RI (seed 003 §9.2.1 sending, §9.2.3 processing),
//! both sides. Reuses Move Device RO's machinery (move_ro.rs): the State Information plan,
//! the RI's move ledger and refusal reasons, `rights_from_ro`, the generic agent retries.
//!
//! Readings chosen where the seed is silent (see docs/protocols.md):
//! - §9.2.1 step 3: the `<sourceDeviceUserDomainAuthorization>` for a User Domain is the
//!   DEA-signed [`UserDomainAuthorization`] naming this Device (`entityId`), which the Device
//!   obtained with the DEA's certificate when it joined the User Domain ([`join_user_domain`]).
//!   A Device holding none for a User Domain its ROs are bound to cannot form the request:
//!   the Move is not started.
//! - §9.2.1 step 1 `<moveIndication>` carries RI IDs as the lowercase hex of the RI ID hash.
//! - §9.2.3 steps 1–2 "terminate": as in move_ro, a response failing them is discarded and
//!   the session keeps waiting (an unauthenticated message must not abort a Move).
//! - §9.2.3 step 4 checks each `<RIUserDomainAuthorization>` with the DEA key the Device
//!   learned at its join; validity is checked against the Device's DRM time.
//! - The RI keeps the moved rights (the seeds do not say how an RI re-issues a User Domain
//!   RO): they are recorded in the move ledger (no second Move of the same rights) and in
//!   [`RiUdMoves::held`], so rights are conserved: Device units + RI-held units = issued.
//! - The RI attaches every RIUserDomainAuthorization it holds for the request's User
//!   Domains (the Device judges them, §9.2.3 step 4), but takes over only the ROs whose
//!   User Domains have one that passes those same checks at the RI; the others stay with
//!   the Device, so the rights are neither lost nor duplicated.
//! - A Move abandoned without a verified response leaves the ROs unusable (as move_ro).

use super::acquisition::rights_from_ro;
use super::agent::{Activity, Agent, SessionKind};
use super::dea::Dea;
use super::move_ro::{ledger_decision, plan, record_ledger, Checked, LedgerDecision, Refusal};
use super::msg::SimMsg;
use super::ri::Ri;
use super::rights::MoveSystem;
use crate::crypto::PublicKey;
use crate::engine::{ActorId, Ctx};
use crate::pdu::moves::UserDomainAuthorization;
use crate::pdu::moves::{MoveRequest, MoveResponse, MovedRo, RightsInfo, StateInfo};
use crate::pdu::ro::{Action, Binding, Constraint, ProtectedRo};
use crate::pdu::{DateTime, Expiry, Ext, Extension, Identifier, Pdu, Status};
use std::collections::{BTreeMap, BTreeSet};

/// Protocol name in outcome records and RI status counters.
pub const PROTOCOL: &str = "move_user_domain_ro";
/// `<system>` value naming Move `<userDomain>`-constrained RO via RI (seed 003 §9.2.1).
pub const SYSTEM_ID: &str = "moveUserDomainROviaRI";
/// Most moved ROs an RI keeps in [`RiUdMoves::held`].
pub const MAX_HELD: usize = 100_000;

/// The `<moveIndication>` form of an RI ID (hex of the ID hash; see module doc).
pub fn move_indication(ri: &Identifier) -> String {
    hex::encode(&ri.hash)
}

// ---------------------------------------------------------------------------------------
// Device side
// ---------------------------------------------------------------------------------------

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

/// Counters of a Device's user-domain Moves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentUdStats {
    /// Moves started (request sent).
    pub started: u64,
    /// Moves not started (RO missing / not movable / no source authorization).
    pub not_started: u64,
    /// ROs removed or decremented after Success (§9.2.3 step 5).
    pub ros_moved: u64,
    /// ROs marked usable again (§9.2.3 steps 3–4).
    pub ros_restored: u64,
    /// Responses with a non-Success status.
    pub failed: u64,
    /// Responses discarded at §9.2.3 step 1.
    pub discarded_mismatch: u64,
    /// Responses discarded at §9.2.3 step 2.
    pub discarded_signature: u64,
    /// Moves abandoned after the last retry.
    pub abandoned: u64,
}

/// A Device's user-domain Move state.
#[derive(Debug, Clone, Default)]
pub struct AgentUdMoves {
    /// The signed ROs as received, by RO ID.
    pub protected: BTreeMap<String, ProtectedRo>,
    /// This Device's DEA-signed User Domain Authorizations, by User Domain ID.
    pub authorizations: BTreeMap<String, UserDomainAuthorization>,
    /// The DEA's public key, learned at the User Domain join.
    pub dea_key: Option<PublicKey>,
    /// Planned Move: (delay after registration, [(RO ID, partial)]).
    pub planned: Option<(u64, Vec<(String, bool)>)>,
    /// Counters.
    pub stats: AgentUdStats,
}

/// The Device ID of `agent`.
pub fn device_id(agent: &Agent) -> Identifier {
    agent.me.id.clone()
}

/// Records a User Domain join: the Device's DEA-signed authorization and the DEA key.
pub fn join_user_domain(agent: &mut Agent, authz: UserDomainAuthorization, dea_key: PublicKey) {
    agent.move_ud.dea_key = Some(dea_key);
    agent
        .move_ud
        .authorizations
        .insert(authz.user_domain_id.clone(), authz);
}

/// Installs a `<userDomain>`-constrained RO at the Device (as received from its issuer).
pub fn install_ro(agent: &mut Agent, pro: ProtectedRo) {
    let world = agent.world.clone();
    let issuer = world
        .ris
        .iter()
        .find(|r| r.id == pro.ro.ri_id)
        .map_or_else(String::new, |r| r.name.clone());
    let ro = rights_from_ro(&pro.ro, &issuer, false);
    agent.ros.insert(pro.ro.id.clone(), ro);
    agent.move_ud.protected.insert(pro.ro.id.clone(), pro);
}

/// Plans a Move of `ros` (RO ID, partial) `delay_ns` after registration with the home RI.
pub fn plan_move(agent: &mut Agent, delay_ns: u64, ros: Vec<(String, bool)>) {
    agent.move_ud.planned = Some((delay_ns, ros));
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
    let mut req = MoveRequest {
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
    let unsigned = Pdu::MoveUserDomainConstrainedRoRequest(req.clone());
    let Ok(sig) = world.crypto.sign(
        &mut agent.ops,
        &agent.me.key,
        world.params.sig_alg,
        &unsigned,
    ) else {
        return give_up(agent, ctx, id);
    };
    req.signature = sig;
    let s = agent.sessions.get_mut(&id).expect("exists");
    s.nonce = nonce;
    let peer = s.peer;
    agent.send_pdu(ctx, peer, Pdu::MoveUserDomainConstrainedRoRequest(req));
    agent.arm_timeout(ctx, id);
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

/// `notBefore ≤ now < notAfter` in DRM ns (`None` = `Infinite`; seed 003 §9.2.3 step 4.c).
fn valid_at(not_before_ns: u64, not_after_ns: Option<u64>, now_ns: u64) -> bool {
    not_before_ns <= now_ns && not_after_ns.is_none_or(|end| now_ns < end)
}

/// [`valid_at`] for an authorization's `<notBefore>`/`<notAfter>`.
fn in_validity(world: &super::world::World, a: &UserDomainAuthorization, now_ns: u64) -> bool {
    let end = match &a.not_after {
        Expiry::Infinite => None,
        Expiry::At(t) => Some(world.drm_ns(t)),
    };
    valid_at(world.drm_ns(&a.not_before), end, now_ns)
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
    let world = agent.world.clone();
    // Step 1: reqID, resID, nonce as in the preceding request.
    let id = agent
        .session_by_nonce(&r.nonce)
        .filter(|i| matches!(agent.sessions[i].kind, SessionKind::MoveUserDomainRo(_)));
    let ri = id.map(|i| agent.sessions[&i].ri);
    let Some((id, ri)) = id
        .zip(ri)
        .filter(|(_, ri)| r.req_id == agent.me.id && r.res_id == world.ris[*ri].id)
    else {
        agent.move_ud.stats.discarded_mismatch += 1;
        return agent.discard(
            ctx,
            "MoveUserDomainConstrainedROResponse mismatch (§9.2.3 step 1)",
        );
    };
    // Step 2: the RI's signature.
    let Some(key) = agent
        .ri_contexts
        .get(&ri)
        .map(|c| c.chain[0].public_key().clone())
    else {
        return agent.discard(
            ctx,
            "MoveUserDomainConstrainedROResponse without RI context",
        );
    };
    let sig = r.signature.clone();
    let signed = Pdu::MoveUserDomainConstrainedRoResponse(r.clone());
    if world
        .crypto
        .verify(&mut agent.ops, &key, world.params.sig_alg, &signed, &sig)
        .is_err()
    {
        agent.move_ud.stats.discarded_signature += 1;
        return agent.discard(
            ctx,
            "MoveUserDomainConstrainedROResponse signature (§9.2.3 step 2)",
        );
    }
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

// ---------------------------------------------------------------------------------------
// RI side
// ---------------------------------------------------------------------------------------

/// Counters of an RI's user-domain Move service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiUdStats {
    /// Moves accepted.
    pub accepted: u64,
    /// Retransmissions answered Success again.
    pub retransmissions: u64,
    /// Refusals by reason.
    pub refused: BTreeMap<Refusal, u64>,
    /// ROs of accepted requests not taken over: their User Domain has no valid
    /// RIUserDomainAuthorization at this RI, so the Device keeps them (§9.2.3 step 4).
    pub kept_by_source: u64,
}

/// An RI's user-domain Move state.
#[derive(Debug, Clone, Default)]
pub struct RiUdMoves {
    /// The DEA's public key (to check sourceDeviceUserDomainAuthorizations); `None` = the
    /// RI checks them structurally only.
    pub dea_key: Option<PublicKey>,
    /// Rights units moved to this RI, by source RO ID.
    pub held: BTreeMap<String, u64>,
    /// Counters.
    pub stats: RiUdStats,
}

impl RiUdMoves {
    /// Rights units held after user-domain Moves.
    pub fn held_units(&self) -> u64 {
        self.held.values().sum()
    }
}

/// Signs a `<userDomain>`-constrained RO as RI `ri` (the seeds do not model RI-side
/// issuance of these ROs: tests and scenarios install them with [`install_ro`]).
pub fn ri_sign_ro(ri: &mut Ri, mut pro: ProtectedRo) -> Option<ProtectedRo> {
    let world = ri.world.clone();
    pro.ro.ri_id = ri.me.id.clone();
    pro.ro.signature = None;
    let sig = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &pro.ro)
        .ok()?;
    pro.ro.signature = Some(sig);
    Some(pro)
}

/// The ID of RI `ri`.
pub fn ri_id(ri: &Ri) -> Identifier {
    ri.me.id.clone()
}

/// A DEA-signed User Domain Authorization for `entity` (the DEA's signing, as in
/// dea_proxy's Get User Domain Authorization).
pub fn dea_authorize(
    dea: &mut Dea,
    user_domain_id: &str,
    entity: &Identifier,
    not_before: DateTime,
    not_after: Expiry,
) -> Option<UserDomainAuthorization> {
    let world = dea.world.clone();
    let mut a = UserDomainAuthorization {
        user_domain_id: user_domain_id.to_string(),
        domain_id: None,
        entity_id: entity.clone(),
        dea_id: dea.me.id.clone(),
        not_before,
        not_after,
        signature: Vec::new(),
    };
    a.signature = world
        .crypto
        .sign(&mut dea.ops, &dea.me.key, world.params.sig_alg, &a)
        .ok()?;
    Some(a)
}

/// The RI's checks of one RO (seed 003 §9.2.1 step 1 seen from the RI).
fn check_ro(ri: &mut Ri, m: &MovedRo) -> Result<(Checked, Vec<String>), Refusal> {
    let world = ri.world.clone();
    let ro = &m.protected_ro.ro;
    let sig = ro.signature.as_ref().ok_or(Refusal::NotIssuedHere)?;
    if ro.ri_id != ri.me.id {
        return Err(Refusal::NotIssuedHere);
    }
    let key = ri.me.chain[0].public_key().clone();
    world
        .crypto
        .verify(&mut ri.ops, &key, world.params.sig_alg, ro, sig)
        .map_err(|_| Refusal::NotIssuedHere)?;
    let Binding::UserDomain(domains) = ro.binding() else {
        return Err(Refusal::NotBoundToSource);
    };
    let mv = ro.rights.move_permission().ok_or(Refusal::NotMovable)?;
    let allowed = mv.constraints.iter().all(|c| match c {
        Constraint::System(s) => s.iter().any(|x| x == SYSTEM_ID),
        _ => true,
    });
    if !allowed
        || !ro
            .rights
            .move_indication
            .contains(&move_indication(&ri.me.id))
    {
        return Err(Refusal::NotMovable);
    }
    let mut issued_units = 1;
    let mut units = 1;
    for p in ro
        .rights
        .permissions
        .iter()
        .filter(|p| matches!(p.action, Action::Play | Action::Display))
    {
        for c in &p.constraints {
            if let Constraint::Count(n) = c {
                let moved = m
                    .state
                    .as_ref()
                    .and_then(|s| s.count)
                    .filter(|k| *k >= 1 && k <= n)
                    .ok_or(Refusal::BadRightsInfo)?;
                issued_units = u64::from(*n);
                units = u64::from(moved);
            }
        }
    }
    Ok((
        Checked {
            ro_id: ro.id.clone(),
            issued_units,
            units,
            rights: ro.rights.clone(),
        },
        domains,
    ))
}

fn respond(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    req: &MoveRequest,
    status: Status,
    ri_authorizations: Vec<UserDomainAuthorization>,
) {
    let world = ri.world.clone();
    let no_ocsp = req
        .extensions
        .iter()
        .any(|e| matches!(e.ext, Extension::NoOcspResponse));
    let mut resp = MoveResponse {
        status,
        req_id: req.req_id.clone(),
        res_id: ri.me.id.clone(),
        nonce: req.nonce.clone(),
        ri_authorizations,
        certificate_chain: None,
        ocsp_responses: if no_ocsp {
            Vec::new()
        } else {
            ri.staple(ctx.now()).into_iter().collect()
        },
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    let unsigned = Pdu::MoveUserDomainConstrainedRoResponse(resp.clone());
    let Ok(sig) = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &unsigned)
    else {
        ri.count_status(PROTOCOL, Status::UnknownError);
        return;
    };
    resp.signature = sig;
    ri.count_status(PROTOCOL, status);
    ri.reply(ctx, to, Pdu::MoveUserDomainConstrainedRoResponse(resp));
}

fn refuse(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, req: &MoveRequest, why: Refusal) {
    *ri.move_ud.stats.refused.entry(why).or_default() += 1;
    respond(ri, ctx, to, req, why.status(), Vec::new());
}

/// The source authorization of `domain` is DEA-signed, names the requester and is valid.
fn source_ok(ri: &mut Ri, req: &MoveRequest, domain: &str, now_ns: u64) -> bool {
    let world = ri.world.clone();
    let Some(a) = req
        .source_authorizations
        .iter()
        .find(|a| a.user_domain_id == domain)
    else {
        return false;
    };
    if let Some(key) = ri.move_ud.dea_key.clone() {
        if world
            .crypto
            .verify(&mut ri.ops, &key, world.params.sig_alg, a, &a.signature)
            .is_err()
        {
            return false;
        }
    }
    a.entity_id == req.req_id && in_validity(&world, a, now_ns)
}

/// The RI's own authorization for `domain` will pass the Device's §9.2.3 step 4 checks:
/// held, naming this RI, valid now, and (when the DEA key is known) DEA-signed.
fn own_authz_ok(ri: &mut Ri, domain: &str, now_ns: u64) -> bool {
    let world = ri.world.clone();
    let Some(a) = ri.dea_proxy.authorizations.get(domain).cloned() else {
        return false;
    };
    if let Some(key) = ri.move_ud.dea_key.clone() {
        if world
            .crypto
            .verify(&mut ri.ops, &key, world.params.sig_alg, &a, &a.signature)
            .is_err()
        {
            return false;
        }
    }
    a.entity_id == ri.me.id && in_validity(&world, &a, now_ns)
}

/// MoveUserDomainConstrainedRORequest at the RI: Device Context, DRM time, signature, nonce
/// (seed 003 §1), ROs, source authorizations, ledger; then the RI's authorizations.
pub(crate) fn ri_on_request(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: MoveRequest,
) {
    let world = ri.world.clone();
    let Some(dc) = ri.devices.get(&req.req_id).cloned() else {
        return refuse(ri, ctx, from, &req, Refusal::NotRegistered);
    };
    if !super::drm_time::time_acceptable(
        world.drm_ns(&req.time),
        ctx.now(),
        world.params.time_tolerance_ns,
    ) {
        return refuse(ri, ctx, from, &req, Refusal::DeviceTime);
    }
    let key = dc.chain[0].public_key().clone();
    let signed = Pdu::MoveUserDomainConstrainedRoRequest(req.clone());
    if world
        .crypto
        .verify(
            &mut ri.ops,
            &key,
            world.params.sig_alg,
            &signed,
            &req.signature,
        )
        .is_err()
    {
        return refuse(ri, ctx, from, &req, Refusal::Signature);
    }
    if world.variants.ri_nonce_tracking
        && !ri
            .nonces
            .check_and_insert(&hex::encode(&req.req_id.hash), &req.nonce)
    {
        ri.stats.replays_rejected += 1;
        return refuse(ri, ctx, from, &req, Refusal::Replay);
    }
    if req.res_id != ri.me.id {
        return refuse(ri, ctx, from, &req, Refusal::NotForThisRi);
    }
    if req.rights_info.ros.is_empty() {
        return refuse(ri, ctx, from, &req, Refusal::BadRightsInfo);
    }
    let now_ns = ctx.now().as_ns();
    let mut fresh = Vec::new();
    let mut seen = BTreeSet::new();
    let mut domains = BTreeSet::new();
    let mut ok_domains = BTreeMap::new();
    let mut kept_here = 0u32;
    for m in &req.rights_info.ros {
        let (c, ds) = match check_ro(ri, m) {
            Ok(x) => x,
            Err(why) => return refuse(ri, ctx, from, &req, why),
        };
        if !seen.insert(c.ro_id.clone()) {
            return refuse(ri, ctx, from, &req, Refusal::BadRightsInfo);
        }
        let mut kept = true;
        for d in ds {
            // The Source Device is authorized for every User Domain its ROs are bound to.
            if !domains.contains(&d) && !source_ok(ri, &req, &d, now_ns) {
                return refuse(ri, ctx, from, &req, Refusal::NotBoundToSource);
            }
            if !ok_domains.contains_key(&d) {
                let ok = own_authz_ok(ri, &d, now_ns);
                ok_domains.insert(d.clone(), ok);
            }
            kept &= ok_domains[&d];
            domains.insert(d);
        }
        // The Device keeps ROs of a User Domain whose RIUserDomainAuthorization it will
        // reject (§9.2.3 step 4): the RI takes over only the others (conservation).
        if !kept {
            ri.move_ud.stats.kept_by_source += 1;
            kept_here += 1;
            continue;
        }
        let entry = ri.moves.ledger.get(&c.ro_id);
        match ledger_decision(
            entry,
            &dc.device_id,
            c.units,
            world.variants.ri_nonce_tracking,
        ) {
            LedgerDecision::New => fresh.push(c),
            LedgerDecision::Retransmission => {}
            LedgerDecision::AlreadyMoved => {
                return refuse(ri, ctx, from, &req, Refusal::AlreadyMoved)
            }
        }
    }
    if ri.move_ud.held.len() + fresh.len() > MAX_HELD {
        return refuse(ri, ctx, from, &req, Refusal::Internal);
    }
    if fresh.is_empty() && kept_here == 0 {
        ri.move_ud.stats.retransmissions += 1;
    } else {
        ri.move_ud.stats.accepted += 1;
    }
    for c in fresh {
        record_ledger(ri, &dc.device_id, &c);
        *ri.move_ud.held.entry(c.ro_id.clone()).or_default() += c.units;
    }
    // Seed 003 §9.2.3 step 4: the RI's DEA-issued authorization for each User Domain.
    let authz = domains
        .iter()
        .filter_map(|d| ri.dea_proxy.authorizations.get(d).cloned())
        .collect();
    respond(ri, ctx, from, &req, Status::Success, authz);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_window_is_half_open() {
        assert!(valid_at(10, Some(20), 10));
        assert!(valid_at(10, Some(20), 19));
        assert!(!valid_at(10, Some(20), 20));
        assert!(!valid_at(10, Some(20), 9));
        assert!(valid_at(10, None, u64::MAX));
    }

    #[test]
    fn move_indication_is_the_hex_of_the_ri_id() {
        let id = Identifier::new(vec![0xab, 0x01]);
        assert_eq!(move_indication(&id), "ab01");
    }
}
