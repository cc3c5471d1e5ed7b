//! ROAP domains (OMA-TS-DRM-DRM-V2_0 §5.4.4 Join Domain, §5.4.5 Leave Domain), both sides,
//! plus Domain ROs (in [`ro`]) and each actor's reading of the Domain Key MAC (seed 002, in
//! [`mac`]).
//!
//! The RI manages domains identified by a base plus a 3-digit generation, holding one Domain
//! Key K_D per generation. A successful JoinDomainResponse carries one `<domainKey>` per
//! generation: `encKey` = RSAES-KEM-KDF2-KW-AES128 of K_MAC‖K_D to the Device key, `riID`,
//! and `mac` = HMAC(K_MAC) over the canonical `<domainKey>` minus `<mac>` (seed 002).
//!
//! Chosen outcome statuses (no ROAP status names these Device-side failures):
//! `DomainKeyMacError` — a Domain Key MAC does not verify under the Device's reading of
//! seed 002 (the Device rejects every key of the response); `DomainKeyFormError` — the
//! `<domainKey>` element has the form the Device's schema rejects (qualified for a pre-CR
//! parser, unqualified for a post-CR one, seed 002 §2).

pub mod mac;
pub mod ro;
pub mod state;

pub use mac::DomainKeyMacInput;
pub use ro::{install_domain_ro, DomainRoError};
pub use state::{
    domain_id, split_domain_id, AgentDomains, DomainConfig, DomainContext, DomainKeyProfile,
    DomainOwner, DomainStats, RiDomain, RiDomains,
};

use super::agent::{Activity, Agent, SessionKind};
use super::msg::SimMsg;
use super::ri::{DeviceContext, Ri};
use crate::crypto::SymKey;
use crate::engine::{ActorId, Ctx};
use crate::pdu::common::ALG_KEM;
use crate::pdu::roap::{
    DomainRequest, JoinDomainRequest, JoinDomainResponse, JoinDomainResponseBody,
    LeaveDomainRequest, LeaveDomainResponse, LeaveDomainResponseBody,
};
use crate::pdu::{DomainInfo, DomainKey, Encrypted, Ext, Extension, KeyInfo, Pdu, Status};
use rand::Rng;

/// Outcome protocol name of Join Domain.
pub const JOIN: &str = "join_domain";
/// Outcome protocol name of Leave Domain.
pub const LEAVE: &str = "leave_domain";
/// Outcome status: a Domain Key failed key confirmation — its MAC did not verify under the
/// Device's reading of seed 002 (the interop failure), or K_MAC‖K_D did not unwrap (chosen
/// name).
pub const DOMAIN_KEY_MAC_ERROR: &str = "DomainKeyMacError";
/// Outcome status: `<domainKey>` in the form the Device's schema rejects (chosen name).
pub const DOMAIN_KEY_FORM_ERROR: &str = "DomainKeyFormError";

/// Device-side state of a Join Domain run.
#[derive(Debug, Clone)]
pub(crate) struct AgentJoin {
    domain_id: String,
    trigger_nonce: Option<Vec<u8>>,
}

/// Device-side state of a Leave Domain run.
#[derive(Debug, Clone)]
pub(crate) struct AgentLeave {
    domain_id: String,
    trigger_nonce: Option<Vec<u8>>,
    not_member: bool,
}

// ------------------------------------------------------------------ Ri extension point

impl Ri {
    /// Who answers for `domain_id` here: a User Domain mapped in
    /// [`Ri::user_domain_map`] (by domain base) goes to the DEA (seed 000 §7.4.1); an
    /// RI-managed base is the RI's; anything else is unknown.
    pub fn domain_owner(&self, domain_id: &str) -> DomainOwner {
        let base = split_domain_id(domain_id).map_or(domain_id, |(b, _)| b);
        if let Some(ud) = self.user_domain_map.get(base) {
            return DomainOwner::Dea {
                user_domain: ud.clone(),
            };
        }
        if self.domains.domains.contains_key(base) {
            DomainOwner::Ri
        } else {
            DomainOwner::Unknown
        }
    }
}

/// Extension point for DEA-managed User Domains (seed 000 §7.4.1): the DEA helper replaces
/// this body with `super::dea_proxy::ri_forward_join(ri, ctx, from, req)`. Until then the RI
/// cannot obtain a verified ProxyJoinUserDomainResponse, which seed 000 §7.4.1.2 answers with
/// a status-only `DomainAccessDenied`.
fn ri_forward_join(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: JoinDomainRequest,
    _user_domain: String,
) {
    super::dea_proxy::ri_forward_join(ri, ctx, from, req);
}

/// Extension point for DEA-managed User Domains (seed 000 §7.5.1), see [`ri_forward_join`].
fn ri_forward_leave(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: LeaveDomainRequest,
    _user_domain: String,
) {
    super::dea_proxy::ri_forward_leave(ri, ctx, from, req);
}

// ------------------------------------------------------------------ Device side

/// Builds and signs a Join/Leave DomainRequest with a fresh nonce; `None` if signing fails.
fn build_request(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    domain_id: &str,
    trigger_nonce: Option<Vec<u8>>,
    not_member: bool,
    join: bool,
) -> Option<DomainRequest> {
    let world = agent.world.clone();
    let nonce = world.nonce(ctx.rng());
    let drm_now = agent.drm_now(ctx.now());
    let ri_ctx = agent.ri_contexts.get(&ri);
    let mut extensions = Vec::new();
    if ri_ctx.is_some_and(|c| {
        c.ocsp
            .as_ref()
            .is_some_and(|o| ctx.now().since(o.produced_at) < world.params.ocsp_max_age_ns)
    }) {
        extensions.push(Ext::new(Extension::NoOcspResponse));
    }
    // DRM v2.1 Hash Chain Support: a DEA using the hash chain then sends only the newest
    // UDK (seed 000 §7.4.1.1) and this Device derives the older ones.
    if join && agent.domain.hash_chain_support {
        extensions.push(Ext::new(Extension::HashChainSupport));
    }
    let mut req = DomainRequest {
        trigger_nonce,
        device_id: agent.me.id.clone(),
        ri_id: world.ris[ri].id.clone(),
        nonce,
        time: world.datetime(drm_now),
        domain_id: domain_id.to_string(),
        certificate_chain: (!ri_ctx.is_some_and(|c| c.ri_has_device_chain))
            .then(|| agent.me.chain_wire.clone()),
        not_member,
        extensions,
        signature: Vec::new(),
    };
    let unsigned = if join {
        Pdu::JoinDomainRequest(JoinDomainRequest(req.clone()))
    } else {
        Pdu::LeaveDomainRequest(LeaveDomainRequest(req.clone()))
    };
    req.signature = world
        .crypto
        .sign(
            &mut agent.ops,
            &agent.me.key,
            world.params.sig_alg,
            &unsigned,
        )
        .ok()?;
    Some(req)
}

/// Starts joining `domain_id` at RI `ri` (the Device must be registered with it).
pub(crate) fn agent_start_join(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    domain_id: String,
    trigger_nonce: Option<Vec<u8>>,
) {
    if !agent.ri_contexts.contains_key(&ri) {
        return;
    }
    let kind = SessionKind::JoinDomain(AgentJoin {
        domain_id,
        trigger_nonce,
    });
    if let Some(id) = agent.open_session(ctx, ri, kind) {
        agent_send_join(agent, ctx, id);
    }
}

/// Sends (or re-sends, with a fresh nonce) the JoinDomainRequest of session `id`.
pub(crate) fn agent_send_join(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let Some(s) = agent.sessions.get(&id) else {
        return;
    };
    let SessionKind::JoinDomain(j) = &s.kind else {
        return;
    };
    let (ri, j) = (s.ri, j.clone());
    let Some(req) = build_request(agent, ctx, ri, &j.domain_id, j.trigger_nonce, false, true)
    else {
        agent.finish(ctx, id, "abandoned");
        return;
    };
    let s = agent.sessions.get_mut(&id).expect("exists");
    s.nonce = req.nonce.clone();
    let peer = s.peer;
    agent.send_pdu(ctx, peer, Pdu::JoinDomainRequest(JoinDomainRequest(req)));
    agent.arm_timeout(ctx, id);
}

/// The session a response answers: by nonce, or (status-only) the oldest one of `kind`
/// to `from`.
fn response_session(
    agent: &Agent,
    from: ActorId,
    nonce: Option<&[u8]>,
    is_kind: fn(&SessionKind) -> bool,
) -> Option<u64> {
    let id = match nonce {
        Some(n) => agent.session_by_nonce(n),
        None => agent.status_only_session(from, is_kind),
    };
    id.filter(|i| is_kind(&agent.sessions[i].kind))
}

fn is_join(k: &SessionKind) -> bool {
    matches!(k, SessionKind::JoinDomain(_))
}

fn is_leave(k: &SessionKind) -> bool {
    matches!(k, SessionKind::LeaveDomain(_))
}

/// JoinDomainResponse at the Device: nonce, IDs, RI signature, then each Domain Key's form,
/// key transport and MAC (seed 002) under this Device's own reading, formed from the octets
/// `received` (`None` when the PDU travelled as a struct, symbolic mode).
pub(crate) fn agent_on_join_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    r: JoinDomainResponse,
    received: Option<&[u8]>,
) {
    let nonce = r.body.as_ref().map(|b| b.nonce.clone());
    let Some(id) = response_session(agent, from, nonce.as_deref(), is_join) else {
        return agent.discard(ctx, "JoinDomainResponse matches no request");
    };
    // §5.4.4.1 NotRegistered: register again, then resend once (registration.rs `Rereg`).
    if r.status == Status::NotRegistered
        && super::registration::agent_on_not_registered(agent, ctx, id)
    {
        return;
    }
    if r.status != Status::Success {
        agent.finish_status(ctx, id, r.status);
        return;
    }
    let Some(body) = r.body.clone() else {
        agent.finish_status(ctx, id, Status::MalformedRequest);
        return;
    };
    let world = agent.world.clone();
    let s = &agent.sessions[&id];
    let ri = s.ri;
    let SessionKind::JoinDomain(join) = &s.kind else {
        return;
    };
    let requested = join.domain_id.clone();
    let Some(ri_ctx) = agent.ri_contexts.get(&ri) else {
        agent.finish_status(ctx, id, Status::NotRegistered);
        return;
    };
    if body.device_id != agent.me.id || body.ri_id != world.ris[ri].id {
        return agent.discard(ctx, "JoinDomainResponse IDs do not match the request");
    }
    let ri_key = ri_ctx.chain[0].public_key().clone();
    let response = Pdu::JoinDomainResponse(r);
    if world
        .crypto
        .verify(
            &mut agent.ops,
            &ri_key,
            world.params.sig_alg,
            &response,
            &body.signature,
        )
        .is_err()
    {
        // Unverifiable: discarded, the request times out and is retried with a fresh nonce.
        return agent.discard(ctx, "JoinDomainResponse signature does not verify");
    }
    match open_domain_info(agent, &response, received, &body, &requested) {
        Ok(keys) => {
            let (base, _) = split_domain_id(&requested).expect("checked by open_domain_info");
            let base = base.to_string();
            if !agent.domain.contexts.contains_key(&base)
                && agent.domain.contexts.len() >= state::MAX_DOMAIN_CONTEXTS
            {
                agent.finish(ctx, id, "abandoned");
                return;
            }
            let hash_chain = agent.domain.hash_chain_support
                && body
                    .extensions
                    .iter()
                    .any(|e| matches!(e.ext, Extension::HashChainSupport));
            agent.domain.contexts.insert(
                base.clone(),
                DomainContext {
                    ri,
                    base,
                    keys,
                    not_after: body.domain_info.not_after,
                    joined_at: ctx.now(),
                    hash_chain,
                },
            );
            agent.finish(ctx, id, "success");
            schedule_workload_leave(agent, ctx);
        }
        Err(status) => {
            match status {
                DOMAIN_KEY_MAC_ERROR => agent.domain.stats.mac_failures += 1,
                DOMAIN_KEY_FORM_ERROR => agent.domain.stats.form_failures += 1,
                _ => {}
            }
            agent.finish(ctx, id, status);
        }
    }
}

/// Checks and unwraps every `<domainKey>`; the keys by generation, or the outcome status.
fn open_domain_info(
    agent: &mut Agent,
    response: &Pdu,
    received: Option<&[u8]>,
    body: &JoinDomainResponseBody,
    requested: &str,
) -> Result<std::collections::BTreeMap<u32, SymKey>, &'static str> {
    let world = agent.world.clone();
    let profile = agent.domain.profile;
    let Some((base, _)) = split_domain_id(requested) else {
        return Err(Status::InvalidDomain.as_str());
    };
    let mut keys = std::collections::BTreeMap::new();
    let dks = &body.domain_info.domain_keys;
    // Forms first: a key in the wrong form is invalid before any crypto is spent on it.
    if dks.iter().any(|dk| dk.qualified != profile.qualified) {
        return Err(DOMAIN_KEY_FORM_ERROR);
    }
    let inputs =
        DomainKeyMacInput::all_received(world.mode(), response, received, dks, profile.mac)
            .map_err(|_| Status::MalformedRequest.as_str())?;
    for (dk, input) in dks.iter().zip(&inputs) {
        let gen = match dk.enc_key.id.as_deref().and_then(split_domain_id) {
            Some((b, g)) if b == base => g,
            _ => return Err(Status::InvalidDomain.as_str()),
        };
        if dk.ri_id != body.ri_id {
            return Err(Status::SignatureError.as_str());
        }
        let material = world
            .crypto
            .kem_unwrap(&mut agent.ops, &agent.me.key, &dk.enc_key.cipher)
            .map_err(|_| DOMAIN_KEY_MAC_ERROR)?;
        if material.len() != 32 {
            return Err(DOMAIN_KEY_MAC_ERROR);
        }
        let kmac = SymKey::from_slice(&material[..16]).map_err(|_| DOMAIN_KEY_MAC_ERROR)?;
        let kd = SymKey::from_slice(&material[16..]).map_err(|_| DOMAIN_KEY_MAC_ERROR)?;
        world
            .crypto
            .verify_mac(&mut agent.ops, &kmac, world.params.mac_alg, input, &dk.mac)
            .map_err(|_| DOMAIN_KEY_MAC_ERROR)?;
        keys.insert(gen, kd);
    }
    if keys.is_empty() {
        return Err(Status::MalformedRequest.as_str());
    }
    Ok(keys)
}

/// Starts leaving `domain_id`: the Device first deletes its Domain Context and the Domain
/// ROs of that domain (§5.4.5.1: the request states the Device is no longer a member, so
/// it must be true when sent and a lost response cannot leave usable keys behind), then
/// sends a LeaveDomainRequest, with `<notMember/>` if it held no context.
pub(crate) fn agent_start_leave(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    domain_id: String,
    trigger_nonce: Option<Vec<u8>>,
) {
    if !agent.ri_contexts.contains_key(&ri) {
        return;
    }
    let not_member = !forget_domain(agent, &domain_id);
    let kind = SessionKind::LeaveDomain(AgentLeave {
        domain_id,
        trigger_nonce,
        not_member,
    });
    if let Some(id) = agent.open_session(ctx, ri, kind) {
        agent_send_leave(agent, ctx, id);
    }
}

/// Deletes the Domain Context of `domain_id`'s base and its Domain ROs; whether a context
/// existed.
pub fn forget_domain(agent: &mut Agent, domain_id: &str) -> bool {
    let base = split_domain_id(domain_id).map_or(domain_id, |(b, _)| b);
    let had = agent.domain.contexts.remove(base).is_some();
    let before = agent.ros.len();
    agent.ros.retain(
        |_, ro| !matches!(&ro.binding, super::rights::Binding::Domain(d) if d.as_str() == base),
    );
    agent.domain.stats.ros_deleted_on_leave += (before - agent.ros.len()) as u64;
    had
}

/// Sends (or re-sends) the LeaveDomainRequest of session `id`.
pub(crate) fn agent_send_leave(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let Some(s) = agent.sessions.get(&id) else {
        return;
    };
    let SessionKind::LeaveDomain(l) = &s.kind else {
        return;
    };
    let (ri, l) = (s.ri, l.clone());
    let Some(req) = build_request(
        agent,
        ctx,
        ri,
        &l.domain_id,
        l.trigger_nonce,
        l.not_member,
        false,
    ) else {
        agent.finish(ctx, id, "abandoned");
        return;
    };
    let s = agent.sessions.get_mut(&id).expect("exists");
    s.nonce = req.nonce.clone();
    let peer = s.peer;
    agent.send_pdu(ctx, peer, Pdu::LeaveDomainRequest(LeaveDomainRequest(req)));
    agent.arm_timeout(ctx, id);
}

/// LeaveDomainResponse at the Device (unsigned in ROAP 2.0: matched by nonce only).
pub(crate) fn agent_on_leave_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    r: LeaveDomainResponse,
) {
    let nonce = r.body.as_ref().map(|b| b.nonce.clone());
    let Some(id) = response_session(agent, from, nonce.as_deref(), is_leave) else {
        return agent.discard(ctx, "LeaveDomainResponse matches no request");
    };
    if let (Some(b), SessionKind::LeaveDomain(l)) = (&r.body, &agent.sessions[&id].kind) {
        if b.domain_id != l.domain_id {
            return agent.discard(ctx, "LeaveDomainResponse names another domain");
        }
    }
    // §5.4.5.1 NotRegistered: register again, then resend once (registration.rs `Rereg`).
    if r.status == Status::NotRegistered
        && super::registration::agent_on_not_registered(agent, ctx, id)
    {
        return;
    }
    agent.finish_status(ctx, id, r.status);
}

// ------------------------------------------------------------------ workload

/// Registration with `ri` succeeded: with the workload's join probability, join one of the
/// domains this Device's user may join there.
pub(crate) fn on_registered(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize) {
    let p = agent.workload.join_domain_probability;
    if ri != agent.home_ri || p <= 0.0 || agent.domain.known.is_empty() {
        return;
    }
    if !ctx.rng().gen_bool(p.clamp(0.0, 1.0)) {
        return;
    }
    let pick = ctx.rng().gen_range(0..agent.domain.known.len());
    let domain_id = agent.domain.known[pick].clone();
    agent_start_join(agent, ctx, ri, domain_id, None);
}

/// For a workload acquisition at `ri`: the domain to ask Domain ROs for, if this Device is
/// a member of one there (no random draw otherwise, so runs without domains are unchanged).
pub(crate) fn workload_domain_for_acquisition(
    agent: &Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
) -> Option<String> {
    let held: Vec<String> = agent
        .domain
        .contexts
        .values()
        .filter(|c| c.ri == ri)
        .filter_map(|c| c.keys.keys().last().map(|g| domain_id(&c.base, *g)))
        .collect();
    if held.is_empty() {
        return None;
    }
    if !ctx
        .rng()
        .gen_bool(agent.domain.domain_ro_fraction.clamp(0.0, 1.0))
    {
        return None;
    }
    let pick = ctx.rng().gen_range(0..held.len());
    let chosen = held.into_iter().nth(pick)?;
    // Content licensed under an older generation (hash-chain Devices open it with a
    // derived key). No draw when the share is zero, so other runs are unchanged.
    let older = agent.domain.older_generation_ro_fraction;
    if older > 0.0 {
        if let Some((base, newest)) = split_domain_id(&chosen) {
            if newest > 0 && ctx.rng().gen_bool(older.clamp(0.0, 1.0)) {
                let g = ctx.rng().gen_range(0..newest);
                return Some(domain_id(base, g));
            }
        }
    }
    Some(chosen)
}

/// After a join: with the workload's leave probability, leave after an exponential
/// membership time.
fn schedule_workload_leave(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    let q = agent.workload.leave_domain_probability;
    if q <= 0.0 || !ctx.rng().gen_bool(q.clamp(0.0, 1.0)) {
        return;
    }
    let rate_per_min = 60.0e9 / agent.domain.mean_membership_ns.max(1) as f64;
    if let Some(d) = super::workload::next_poisson_ns(ctx.rng(), rate_per_min) {
        agent.set_activity_timer(ctx, d, Activity::LeaveDomain);
    }
}

/// The workload's leave timer fired: leave the oldest-joined domain still held.
pub(crate) fn on_leave_activity(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    let Some(c) = agent.domain.contexts.values().min_by_key(|c| c.joined_at) else {
        return;
    };
    let (ri, id) = (
        c.ri,
        domain_id(&c.base, c.keys.keys().last().copied().unwrap_or(0)),
    );
    agent_start_leave(agent, ctx, ri, id, None);
}

// ------------------------------------------------------------------ RI side

fn join_failure(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, status: Status) {
    ri.count_status(JOIN, status);
    ri.reply(
        ctx,
        to,
        Pdu::JoinDomainResponse(JoinDomainResponse { status, body: None }),
    );
}

fn leave_failure(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, status: Status) {
    ri.count_status(LEAVE, status);
    ri.reply(
        ctx,
        to,
        Pdu::LeaveDomainResponse(LeaveDomainResponse { status, body: None }),
    );
}

/// The checks every domain request passes first (§5.4.4.1/§5.4.5.1): Device Context
/// (`NotRegistered`), `<riID>` naming this RI (`AccessDenied`), DRM time (`DeviceTimeError`), signature (`SignatureError`), replay
/// (seed 003: `AccessDenied`; a full nonce store: `Abort`).
fn check_request(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    req: &DomainRequest,
    signed: &Pdu,
) -> Result<DeviceContext, Status> {
    let world = ri.world.clone();
    let dc = ri
        .devices
        .get(&req.device_id)
        .cloned()
        .ok_or(Status::NotRegistered)?;
    // <riID> must name this RI (a request for another RI replayed here), chosen status.
    if req.ri_id != ri.me.id {
        return Err(Status::AccessDenied);
    }
    if !super::drm_time::time_acceptable(
        world.drm_ns(&req.time),
        ctx.now(),
        world.params.time_tolerance_ns,
    ) {
        return Err(Status::DeviceTimeError);
    }
    world
        .crypto
        .verify(
            &mut ri.ops,
            dc.chain[0].public_key(),
            world.params.sig_alg,
            signed,
            &req.signature,
        )
        .map_err(|_| Status::SignatureError)?;
    ri.admit_nonce(
        ctx,
        "domainRequest",
        &req.device_id,
        &req.nonce,
        world.drm_ns(&req.time),
    )?;
    ri.domains
        .note_trigger_nonce(req.trigger_nonce.as_deref(), ctx.now().as_ns());
    Ok(dc)
}

/// JoinDomainRequest at the RI (§5.4.4.1).
pub(crate) fn ri_on_join(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: JoinDomainRequest,
) {
    let signed = Pdu::JoinDomainRequest(req.clone());
    let dc = match check_request(ri, ctx, &req.0, &signed) {
        Ok(dc) => dc,
        Err(s) => return join_failure(ri, ctx, from, s),
    };
    match ri.domain_owner(&req.0.domain_id) {
        DomainOwner::Ri => {}
        DomainOwner::Dea { user_domain } => {
            return ri_forward_join(ri, ctx, from, req, user_domain)
        }
        DomainOwner::Unknown => return join_failure(ri, ctx, from, Status::InvalidDomain),
    }
    let Some((base, gen)) = split_domain_id(&req.0.domain_id) else {
        return join_failure(ri, ctx, from, Status::InvalidDomain);
    };
    let base = base.to_string();
    let Some(d) = ri.domains.domains.get(&base) else {
        return join_failure(ri, ctx, from, Status::InvalidDomain);
    };
    // A generation the RI has not reached yet does not exist.
    if gen > d.generation() {
        return join_failure(ri, ctx, from, Status::InvalidDomain);
    }
    if d.denied.contains(&req.0.device_id) {
        return join_failure(ri, ctx, from, Status::DomainAccessDenied);
    }
    // A Device counts once however often it joins (re-join refreshes its keys).
    if !d.members.contains(&req.0.device_id) && d.members.len() >= d.max_members {
        return join_failure(ri, ctx, from, Status::DomainFull);
    }
    let (keys, not_after) = (d.keys.clone(), d.not_after);
    let profile = ri.domains.profile;
    let Some(resp) = build_join_response(ri, ctx, &req.0, &dc, &base, &keys, not_after, profile)
    else {
        return join_failure(ri, ctx, from, Status::UnknownError);
    };
    if let Some(d) = ri.domains.domains.get_mut(&base) {
        d.members.insert(req.0.device_id.clone());
    }
    ri.count_status(JOIN, Status::Success);
    ri.reply(ctx, from, Pdu::JoinDomainResponse(resp));
}

/// The signed JoinDomainResponse carrying one `<domainKey>` per generation.
#[allow(clippy::too_many_arguments)]
fn build_join_response(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    req: &DomainRequest,
    dc: &DeviceContext,
    base: &str,
    keys: &[SymKey],
    not_after: crate::pdu::Expiry,
    profile: DomainKeyProfile,
) -> Option<JoinDomainResponse> {
    let world = ri.world.clone();
    let device_key = dc.chain[0].public_key();
    let mut kmacs = Vec::with_capacity(keys.len());
    let mut domain_keys = Vec::with_capacity(keys.len());
    for (g, kd) in keys.iter().enumerate() {
        let kmac = SymKey::random(ctx.rng());
        let material = [kmac.as_bytes().as_slice(), kd.as_bytes().as_slice()].concat();
        let cipher = world
            .crypto
            .kem_wrap(&mut ri.ops, ctx.rng(), device_key, &material)
            .ok()?;
        domain_keys.push(DomainKey {
            qualified: profile.qualified,
            enc_key: Encrypted {
                id: Some(domain_id(base, g as u32)),
                algorithm: ALG_KEM.to_string(),
                key_info: Some(KeyInfo::SpkiHash(dc.chain[0].key_id().as_bytes().to_vec())),
                cipher,
            },
            ri_id: ri.me.id.clone(),
            mac: Vec::new(),
        });
        kmacs.push(kmac);
    }
    let info = DomainInfo {
        not_after,
        domain_keys,
    };
    seal_join_response(ri, ctx, req, info, Some((&kmacs, profile)))
}

/// A DEA-supplied `<domainInfo>` (seed 000 §7.4.1.2) sent to the Device in a signed
/// JoinDomainResponse as is (its MACs are the DEA's); for the DEA proxy path.
pub fn ri_send_join_success(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    req: &DomainRequest,
    domain_info: DomainInfo,
) {
    match seal_join_response(ri, ctx, req, domain_info, None) {
        Some(resp) => {
            ri.count_status(JOIN, Status::Success);
            ri.reply(ctx, to, Pdu::JoinDomainResponse(resp));
        }
        None => join_failure(ri, ctx, to, Status::UnknownError),
    }
}

/// The JoinDomainResponse to `req` around `info`: with `macs` (one K_MAC per key and the
/// RI's seed-002 reading) the Domain Key MACs are computed on the final PDU first, then the
/// whole response is signed.
fn seal_join_response(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    req: &DomainRequest,
    info: DomainInfo,
    macs: Option<(&[SymKey], DomainKeyProfile)>,
) -> Option<JoinDomainResponse> {
    let world = ri.world.clone();
    let no_ocsp = req
        .extensions
        .iter()
        .any(|e| matches!(e.ext, Extension::NoOcspResponse));
    let mut resp = JoinDomainResponse {
        status: Status::Success,
        body: Some(JoinDomainResponseBody {
            device_id: req.device_id.clone(),
            ri_id: ri.me.id.clone(),
            nonce: req.nonce.clone(),
            domain_info: info,
            certificate_chain: ri.chain_unless_peer_key(&req.extensions),
            ocsp_responses: if no_ocsp {
                Vec::new()
            } else {
                ri.staple(ctx.now()).into_iter().collect()
            },
            extensions: Vec::new(),
            signature: Vec::new(),
        }),
    };
    // MACs first (each `<mac>` lies outside every other key's MAC input), then the
    // signature over the whole response.
    if let Some((kmacs, profile)) = macs {
        let draft = Pdu::JoinDomainResponse(resp.clone());
        let body = resp.body.as_mut().expect("built above");
        let inputs = DomainKeyMacInput::all(
            world.mode(),
            &draft,
            &body.domain_info.domain_keys,
            profile.mac,
        )
        .ok()?;
        for ((kmac, input), dk) in kmacs
            .iter()
            .zip(&inputs)
            .zip(body.domain_info.domain_keys.iter_mut())
        {
            dk.mac = world
                .crypto
                .mac(&mut ri.ops, kmac, world.params.mac_alg, input);
        }
    }
    let unsigned = Pdu::JoinDomainResponse(resp.clone());
    let sig = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &unsigned)
        .ok()?;
    resp.body.as_mut().expect("built above").signature = sig;
    Some(resp)
}

/// LeaveDomainRequest at the RI (§5.4.5.1): removes the membership; `notMember` requests
/// succeed whether or not the RI still counted the Device.
pub(crate) fn ri_on_leave(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: LeaveDomainRequest,
) {
    let signed = Pdu::LeaveDomainRequest(req.clone());
    if let Err(s) = check_request(ri, ctx, &req.0, &signed) {
        return leave_failure(ri, ctx, from, s);
    }
    match ri.domain_owner(&req.0.domain_id) {
        DomainOwner::Ri => {}
        DomainOwner::Dea { user_domain } => {
            return ri_forward_leave(ri, ctx, from, req, user_domain)
        }
        DomainOwner::Unknown => return leave_failure(ri, ctx, from, Status::InvalidDomain),
    }
    let Some((base, _)) = split_domain_id(&req.0.domain_id) else {
        return leave_failure(ri, ctx, from, Status::InvalidDomain);
    };
    if let Some(d) = ri.domains.domains.get_mut(base) {
        d.members.remove(&req.0.device_id);
    }
    ri.count_status(LEAVE, Status::Success);
    ri.reply(
        ctx,
        from,
        Pdu::LeaveDomainResponse(LeaveDomainResponse {
            status: Status::Success,
            body: Some(LeaveDomainResponseBody {
                nonce: req.0.nonce.clone(),
                domain_id: req.0.domain_id.clone(),
                extensions: Vec::new(),
            }),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CryptoMode;
    use crate::pdu::common::{DateTime, Expiry, Identifier};
    use crate::pdu::MacInterpretation;

    fn response(qualified: bool) -> (Pdu, DomainKey) {
        let dk = DomainKey {
            qualified,
            enc_key: Encrypted {
                id: Some("Domain-XYZ-001".into()),
                algorithm: ALG_KEM.into(),
                key_info: Some(KeyInfo::SpkiHash(vec![7; 20])),
                cipher: vec![1; 40],
            },
            ri_id: Identifier::new(vec![9; 20]),
            mac: vec![0; 20],
        };
        let pdu = Pdu::JoinDomainResponse(JoinDomainResponse {
            status: Status::Success,
            body: Some(JoinDomainResponseBody {
                device_id: Identifier::new(vec![7; 20]),
                ri_id: Identifier::new(vec![9; 20]),
                nonce: vec![3; 14],
                domain_info: DomainInfo {
                    not_after: Expiry::At(DateTime::from_unix_s(1_103_684_520)),
                    domain_keys: vec![dk.clone()],
                },
                certificate_chain: None,
                ocsp_responses: Vec::new(),
                extensions: Vec::new(),
                signature: vec![5; 128],
            }),
        });
        (pdu, dk)
    }

    /// Seed 002 §1: the two readings never give the same octets, in either form, and the
    /// symbolic digests differ in exactly the same way, so both modes disagree alike.
    #[test]
    fn interpretations_differ_in_both_forms_and_both_modes() {
        for qualified in [true, false] {
            let (pdu, dk) = response(qualified);
            let ns =
                DomainKeyMacInput::new(CryptoMode::Real, &pdu, &dk, 0, MacInterpretation::NodeSet)
                    .unwrap();
            let sub = DomainKeyMacInput::new(
                CryptoMode::Real,
                &pdu,
                &dk,
                0,
                MacInterpretation::Substring,
            )
            .unwrap();
            let (a, b) = (
                String::from_utf8(ns.bytes().to_vec()).unwrap(),
                String::from_utf8(sub.bytes().to_vec()).unwrap(),
            );
            assert_ne!(a, b, "qualified={qualified}");
            assert!(!a.contains("<mac>") && !b.contains("<mac>"));
            // Option 2 adds the roap namespace declaration the substring lacks.
            assert!(
                a.contains("xmlns:roap=\"urn:oma:bac:dldrm:roap-1.0\""),
                "{a}"
            );
            assert!(!b.contains("xmlns:roap="), "{b}");
            if qualified {
                assert!(a.starts_with("<roap:domainKey xmlns:roap="), "{a}");
                assert!(b.starts_with("<roap:domainKey>"), "{b}");
            } else {
                assert!(a.starts_with("<domainKey>"), "{a}");
                assert!(a.contains("<roap:X509SPKIHash xmlns:roap="), "{a}");
            }
            use crate::crypto::Signable;
            let sym = |how| {
                DomainKeyMacInput::new(CryptoMode::Symbolic, &pdu, &dk, 0, how)
                    .unwrap()
                    .symbolic_digest()
            };
            assert_ne!(
                sym(MacInterpretation::NodeSet),
                sym(MacInterpretation::Substring)
            );
            assert_eq!(ns.symbolic_digest(), sym(MacInterpretation::NodeSet));
        }
    }
}
