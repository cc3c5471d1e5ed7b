//! ROAP 4-pass Registration (OMA-TS-DRM-DRM-V2_0 §5.4.2): DeviceHello → RIHello →
//! RegistrationRequest → RegistrationResponse, both sides.
//!
//! Signatures cover the session transcript (DeviceHello ‖ RIHello ‖ request, and for the
//! response also the response minus its signature). The RI binds its OCSP response to the
//! Device's request nonce by querying the OCSP responder with it, so every registration costs
//! the responder one request — which is what makes the responder a capacity input.

use super::agent::{Agent, RiContext, Session, SessionKind};
use super::msg::{OcspQuery, SimMsg};
use super::pki_wire::decode_ocsp;
use super::ri::{DeviceContext, Ri};
use crate::engine::{ActorId, Ctx};
use crate::pdu::roap::{
    DeviceHello, RegistrationRequest, RegistrationResponse, RegistrationResponseBody, RiHello,
    RiHelloBody,
};
use crate::pdu::{Ext, Extension, Pdu, RegistrationTranscript, Status};
use crate::pki::{KeyPurpose, PurposeRule, Revocation};
use std::sync::Arc;

/// ROAP version spoken.
pub const ROAP_VERSION: &str = "1.0";
/// Algorithms a Device offers (OMA DRM 2 defaults).
pub const ALGORITHMS: [&str; 3] = [
    "http://www.w3.org/2000/09/xmldsig#sha1",
    "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
    "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-1#rsa-pss-default",
];

/// Device-side registration state.
#[derive(Debug, Clone, Default)]
pub(crate) struct AgentReg {
    device_hello: Option<DeviceHello>,
    ri_hello: Option<RiHello>,
    request: Option<RegistrationRequest>,
    /// Started because an RI answered NotRegistered: on success the parked requests are
    /// resumed, the workload is not started a second time.
    reregistration: bool,
    /// Session IDs of RIHellos this registration already answered with a request (bounded
    /// by the retry budget). DeviceHello carries no nonce, so an RIHello cannot name the
    /// attempt it answers; a late or duplicated RIHello of a session already used would
    /// only earn an `Abort` (the RI consumed that session), so it is ignored (issue 11).
    used_sessions: Vec<String>,
}

/// Starts registration with RI `ri`.
pub(crate) fn agent_start(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize) {
    if let Some(id) = agent.open_session(ctx, ri, SessionKind::Registration(Box::default())) {
        agent_send(agent, ctx, id);
    }
}

/// (Re)starts the exchange from a fresh DeviceHello.
pub(crate) fn agent_send(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let hello = DeviceHello {
        version: ROAP_VERSION.into(),
        device_ids: vec![agent.me.id.clone()],
        supported_algorithms: ALGORITHMS.iter().map(|s| s.to_string()).collect(),
        extensions: Vec::new(),
    };
    let Some(s) = agent.sessions.get_mut(&id) else {
        return;
    };
    let (reregistration, used_sessions) = match &s.kind {
        SessionKind::Registration(r) => (r.reregistration, r.used_sessions.clone()),
        _ => (false, Vec::new()),
    };
    s.kind = SessionKind::Registration(Box::new(AgentReg {
        device_hello: Some(hello.clone()),
        reregistration,
        used_sessions,
        ..Default::default()
    }));
    s.nonce.clear();
    let peer = s.peer;
    agent.send_pdu(ctx, peer, Pdu::DeviceHello(hello));
    agent.arm_timeout(ctx, id);
}

fn reg_session(agent: &Agent, from: ActorId, want_request: bool) -> Option<u64> {
    agent.sessions.values().find_map(|s| match &s.kind {
        SessionKind::Registration(r)
            if s.peer == from
                && r.device_hello.is_some()
                && r.request.is_some() == want_request =>
        {
            Some(s.id)
        }
        _ => None,
    })
}

/// RIHello received: send the signed RegistrationRequest.
pub(crate) fn agent_on_ri_hello(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    h: RiHello,
) {
    let Some(id) = reg_session(agent, from, false) else {
        return agent.discard(ctx, "RIHello without a registration in progress");
    };
    if let (SessionKind::Registration(r), Some(sid)) = (&agent.sessions[&id].kind, &h.session_id) {
        if r.used_sessions.contains(sid) {
            return agent.discard(ctx, "RIHello of a session this registration already used");
        }
    }
    if h.status != Status::Success {
        agent.finish_status(ctx, id, h.status);
        return;
    }
    let (Some(body), Some(session_id)) = (h.body.as_ref(), h.session_id.clone()) else {
        agent.finish_status(ctx, id, Status::MalformedRequest);
        return;
    };
    // Peer Key Identifier in RIHello: the RI already stores our certificate chain.
    let ri_has_chain = body
        .extensions
        .iter()
        .any(|e| matches!(&e.ext, Extension::PeerKeyIdentifier(Some(k)) if *k == agent.me.id));
    let nonce = agent.world.nonce(ctx.rng());
    let drm_now = agent.drm_now(ctx.now());
    let root = agent.me.chain.last().map(|c| c.issuer().to_string());
    let trusted = agent
        .world
        .trust
        .root(root.as_deref().unwrap_or_default())
        .map(|r| vec![super::world::World::id_of(r)])
        .unwrap_or_default();
    let mut req = RegistrationRequest {
        session_id,
        trigger_nonce: None,
        nonce: nonce.clone(),
        time: agent.world.datetime(drm_now),
        certificate_chain: (!ri_has_chain).then(|| agent.me.chain_wire.clone()),
        trusted_authorities: trusted,
        server_info: body.server_info.clone(),
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    let SessionKind::Registration(reg) = &agent.sessions[&id].kind else {
        return;
    };
    let dh = reg.device_hello.clone().expect("checked by reg_session");
    let reregistration = reg.reregistration;
    let mut used_sessions = reg.used_sessions.clone();
    if used_sessions.len() <= 2 * agent.world.params.max_retries as usize + 2 {
        used_sessions.push(req.session_id.clone());
    }
    let sig = {
        let t = RegistrationTranscript {
            device_hello: &dh,
            ri_hello: &h,
            request: &req,
            response: None,
        };
        agent.world.crypto.sign(
            &mut agent.ops,
            &agent.me.key,
            agent.world.params.sig_alg,
            &t,
        )
    };
    let Ok(sig) = sig else {
        agent.finish(ctx, id, "abandoned");
        return;
    };
    req.signature = sig;
    let s = agent.sessions.get_mut(&id).expect("exists");
    s.nonce = nonce;
    s.kind = SessionKind::Registration(Box::new(AgentReg {
        device_hello: Some(dh),
        ri_hello: Some(h),
        request: Some(req.clone()),
        reregistration,
        used_sessions,
    }));
    let peer = s.peer;
    agent.send_pdu(ctx, peer, Pdu::RegistrationRequest(req));
    agent.rearm_timeout(ctx, id);
}

/// RegistrationResponse received: verify the RI chain (with the OCSP response bound to our
/// nonce) and the transcript signature, then keep the RI Context.
pub(crate) fn agent_on_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    r: RegistrationResponse,
) {
    let Some(id) = reg_session(agent, from, true) else {
        return agent.discard(ctx, "RegistrationResponse without a request in progress");
    };
    let SessionKind::Registration(reg) = agent.sessions[&id].kind.clone() else {
        return;
    };
    let (dh, rh, req) = (
        reg.device_hello.expect("set"),
        reg.ri_hello.expect("set"),
        reg.request.expect("set"),
    );
    if r.session_id != req.session_id {
        return agent.discard(ctx, "RegistrationResponse for another session");
    }
    if r.status != Status::Success {
        agent.finish_status(ctx, id, r.status);
        return;
    }
    let Some(body) = r.body.as_ref() else {
        agent.finish_status(ctx, id, Status::MalformedRequest);
        return;
    };
    let world = agent.world.clone();
    let ri = agent.sessions[&id].ri;
    let Some(chain_wire) = body.certificate_chain.as_ref() else {
        agent.finish_status(ctx, id, Status::NoCertificateChain);
        return;
    };
    let Ok(chain) = world.certs.decode_chain(world.mode(), chain_wire) else {
        agent.finish_status(ctx, id, Status::InvalidCertificateChain);
        return;
    };
    let ocsp: Vec<_> = body
        .ocsp_responses
        .iter()
        .filter_map(|b| decode_ocsp(b).ok())
        .collect();
    let check = world.trust.validate(
        &world.crypto,
        &mut agent.ops,
        &chain,
        ctx.now(),
        PurposeRule::RIGHTS_ISSUER,
        Revocation::Ocsp {
            responses: &ocsp,
            max_age_ns: world.params.ocsp_max_age_ns,
            nonce: Some(&req.nonce),
        },
    );
    if let Err(e) = check {
        agent.finish(ctx, id, e.roap_status());
        return;
    }
    if super::world::World::id_of(&chain[0]) != body.ri_id || body.ri_id != world.ris[ri].id {
        agent.finish_status(ctx, id, Status::InvalidCertificateChain);
        return;
    }
    let t = RegistrationTranscript {
        device_hello: &dh,
        ri_hello: &rh,
        request: &req,
        response: Some(&r),
    };
    if world
        .crypto
        .verify(
            &mut agent.ops,
            chain[0].public_key(),
            world.params.sig_alg,
            &t,
            &body.signature,
        )
        .is_err()
    {
        agent.finish_status(ctx, id, Status::SignatureError);
        return;
    }
    let leaf_ocsp = ocsp.into_iter().find(|o| o.is_about(&chain[0]));
    agent.ri_contexts.insert(
        ri,
        RiContext {
            ri,
            chain,
            ocsp: leaf_ocsp,
            established_at: ctx.now(),
            ri_has_device_chain: true,
        },
    );
    // Finishing resumes the requests parked on this registration (agent_on_session_end).
    agent.finish(ctx, id, "success");
    if reg.reregistration {
        // The workload already runs: only triggers that waited for the RI Context go on.
        super::trigger::on_registered(agent, ctx, ri);
    } else {
        agent.on_registered(ctx, ri);
    }
}

// ------------------------------------------------------------------ re-registration

/// Re-registration state of a Device session.
///
/// OMA DRM 2 ROAP (OMA-TS-DRM-DRM-V2_0 §5.4.2 and the request checks of §5.4.3.1, §5.4.4.1,
/// §5.4.5.1, seed 004 §11.2): an RI answers `NotRegistered` when it holds no valid Device
/// Context for the requesting Device, and a Device must hold an RI Context — i.e. have
/// completed the 4-pass Registration protocol — before it may run the 2-pass protocols. Our
/// reading (the base spec text is not among the seeds): on `NotRegistered` the Device's RI
/// Context is stale; it drops it, registers again, then sends the original request again as
/// a new request (fresh nonce, new signature). To keep a forged or repeated `NotRegistered`
/// (status-only responses are unsigned, §5.3) from making a Device loop, each original
/// request may cause at most ONE re-registration; a second `NotRegistered` ends it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Rereg {
    /// No re-registration yet.
    #[default]
    Unused,
    /// Parked (no request in flight, no timer) until registration session `u64` ends.
    Waiting(u64),
    /// The one re-registration was used.
    Used,
}

impl Rereg {
    /// Whether the session waits for a re-registration (no response may match it).
    pub(crate) fn parked(self) -> bool {
        matches!(self, Rereg::Waiting(_))
    }
}

/// RI answered session `id` (RO acquisition, Join/Leave Domain, Metering Report) with
/// `NotRegistered`: drop the stale RI Context, register again (or wait for a registration with
/// that RI already in progress) and park the session until it ends. Returns `false` when the
/// session has already used its re-registration or none could be started — the caller then
/// ends it with `NotRegistered` as before.
pub(crate) fn agent_on_not_registered(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    id: u64,
) -> bool {
    let Some(s) = agent.sessions.get(&id) else {
        return false;
    };
    let resumable = matches!(
        s.kind,
        SessionKind::Acquisition(_)
            | SessionKind::JoinDomain(_)
            | SessionKind::LeaveDomain(_)
            | SessionKind::Metering(_)
    );
    if !resumable || s.rereg != Rereg::Unused {
        return false;
    }
    let ri = s.ri;
    agent.ri_contexts.remove(&ri);
    let running = agent
        .sessions
        .values()
        .find(|s| s.ri == ri && matches!(s.kind, SessionKind::Registration(_)))
        .map(|s| s.id);
    let (reg, fresh) = match running {
        Some(reg) => (reg, false),
        None => {
            let kind = SessionKind::Registration(Box::new(AgentReg {
                reregistration: true,
                ..Default::default()
            }));
            // At the session bound open_session records an `abandoned` registration.
            let Some(reg) = agent.open_session(ctx, ri, kind) else {
                return false;
            };
            agent.stats.reregistrations += 1;
            (reg, true)
        }
    };
    let s = agent.sessions.get_mut(&id).expect("checked above");
    if let Some(t) = s.timer.take() {
        ctx.cancel_timer(t);
    }
    // Cleared so the resumed request draws a fresh nonce in every variant.
    s.nonce.clear();
    s.rereg = Rereg::Waiting(reg);
    if fresh {
        agent_send(agent, ctx, reg);
    }
    true
}

/// Session `ended` just recorded its outcome `status`: if it was a registration, resume the
/// sessions parked on it (success) or end them with `NotRegistered` (any failure) — so every
/// parked request still ends in exactly one outcome of its own.
pub(crate) fn agent_on_session_end(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ended: &Session,
    status: &str,
) {
    if !matches!(ended.kind, SessionKind::Registration(_)) {
        return;
    }
    let parked: Vec<u64> = agent
        .sessions
        .values()
        .filter(|s| s.rereg == Rereg::Waiting(ended.id))
        .map(|s| s.id)
        .collect();
    let registered = status == "success" && agent.ri_contexts.contains_key(&ended.ri);
    for id in parked {
        let Some(s) = agent.sessions.get_mut(&id) else {
            continue;
        };
        s.rereg = Rereg::Used;
        if !registered {
            agent.finish_status(ctx, id, Status::NotRegistered);
            continue;
        }
        match &agent.sessions[&id].kind {
            SessionKind::Acquisition(_) => super::acquisition::agent_send(agent, ctx, id),
            SessionKind::JoinDomain(_) => super::domain::agent_send_join(agent, ctx, id),
            SessionKind::LeaveDomain(_) => super::domain::agent_send_leave(agent, ctx, id),
            SessionKind::Metering(_) => super::metering::agent_send(agent, ctx, id),
            _ => {
                agent.finish_status(ctx, id, Status::NotRegistered);
            }
        }
    }
}

/// RI-side state of a registration between RIHello and RegistrationRequest.
#[derive(Debug, Clone)]
pub(crate) struct RiRegSession {
    device_hello: DeviceHello,
    ri_hello: RiHello,
}

/// A registration waiting for the OCSP response that will be stapled to it.
#[derive(Debug, Clone)]
pub(crate) struct PendingReg {
    device: ActorId,
    device_hello: DeviceHello,
    ri_hello: RiHello,
    request: RegistrationRequest,
    context: DeviceContext,
    send_chain: bool,
}

/// DeviceHello at the RI: answer with RIHello and remember the session.
pub(crate) fn ri_on_device_hello(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    dh: DeviceHello,
) {
    let session_id = ri.new_session_id();
    let mut extensions = Vec::new();
    // Peer Key Identifier: tell a returning Device we still hold its certificate chain.
    if let Some(id) = dh.device_ids.first() {
        if ri.devices.contains_key(id) {
            extensions.push(Ext::new(Extension::PeerKeyIdentifier(Some(id.clone()))));
        }
    }
    let hello = RiHello {
        status: Status::Success,
        session_id: Some(session_id.clone()),
        body: Some(RiHelloBody {
            selected_version: ROAP_VERSION.into(),
            ri_id: ri.me.id.clone(),
            ri_nonce: ri.world.nonce(ctx.rng()),
            selected_algorithms: dh.supported_algorithms.clone(),
            server_info: None,
            extensions,
        }),
    };
    ri.reg_sessions.insert(
        session_id,
        RiRegSession {
            device_hello: dh,
            ri_hello: hello.clone(),
        },
    );
    ri.bound_reg_sessions();
    ri.reply(ctx, from, Pdu::RiHello(hello));
}

fn reg_failure(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    session_id: String,
    status: Status,
) {
    ri.count_status("registration", status);
    ri.reply(
        ctx,
        to,
        Pdu::RegistrationResponse(RegistrationResponse {
            status,
            session_id,
            body: None,
        }),
    );
}

/// RegistrationRequest at the RI: every check of §5.4.2.1.3 with its status, then an OCSP
/// query bound to the Device nonce.
pub(crate) fn ri_on_request(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: RegistrationRequest,
) {
    let Some(sess) = ri.reg_sessions.remove(&req.session_id) else {
        return reg_failure(ri, ctx, from, req.session_id, Status::Abort);
    };
    let world = ri.world.clone();
    let device_time = world.drm_ns(&req.time);
    if !super::drm_time::time_acceptable(device_time, ctx.now(), world.params.time_tolerance_ns) {
        return reg_failure(ri, ctx, from, req.session_id, Status::DeviceTimeError);
    }
    let claimed = sess
        .device_hello
        .device_ids
        .first()
        .cloned()
        .unwrap_or_default();
    let chain = match (&req.certificate_chain, ri.devices.get(&claimed)) {
        (Some(c), _) => match world.certs.decode_chain(world.mode(), c) {
            Ok(chain) => chain,
            Err(_) => {
                return reg_failure(
                    ri,
                    ctx,
                    from,
                    req.session_id,
                    Status::InvalidCertificateChain,
                )
            }
        },
        (None, Some(dc)) => dc.chain.clone(),
        (None, None) => {
            return reg_failure(ri, ctx, from, req.session_id, Status::NoCertificateChain)
        }
    };
    if let Err(e) = world.trust.validate(
        &world.crypto,
        &mut ri.ops,
        &chain,
        ctx.now(),
        PurposeRule::ANY,
        Revocation::List(&world.revocations),
    ) {
        let status = e
            .roap_status()
            .parse()
            .unwrap_or(Status::InvalidCertificateChain);
        return reg_failure(ri, ctx, from, req.session_id, status);
    }
    if !chain[0].has_purpose(KeyPurpose::DrmAgent) && !chain[0].has_purpose(KeyPurpose::SceDrmAgent)
    {
        return reg_failure(
            ri,
            ctx,
            from,
            req.session_id,
            Status::InvalidCertificateChain,
        );
    }
    let t = RegistrationTranscript {
        device_hello: &sess.device_hello,
        ri_hello: &sess.ri_hello,
        request: &req,
        response: None,
    };
    if world
        .crypto
        .verify(
            &mut ri.ops,
            chain[0].public_key(),
            world.params.sig_alg,
            &t,
            &req.signature,
        )
        .is_err()
    {
        return reg_failure(ri, ctx, from, req.session_id, Status::SignatureError);
    }
    let device_id = super::world::World::id_of(&chain[0]);
    if device_id != claimed {
        return reg_failure(ri, ctx, from, req.session_id, Status::AccessDenied);
    }
    let send_chain = !req
        .extensions
        .iter()
        .any(|e| matches!(&e.ext, Extension::PeerKeyIdentifier(Some(k)) if *k == ri.me.id));
    let pending = PendingReg {
        device: from,
        device_hello: sess.device_hello,
        ri_hello: sess.ri_hello,
        context: DeviceContext {
            device_id,
            actor: from,
            chain,
            registered_at: ctx.now(),
        },
        request: req,
        send_chain,
    };
    match world.ocsp {
        Some(responder) => {
            let (issuer, serial) = (ri.me.chain[0].issuer().to_string(), ri.me.chain[0].serial());
            let nonce = pending.request.nonce.clone();
            ri.pending_regs.insert(nonce.clone(), pending);
            ctx.send(
                responder,
                SimMsg::OcspRequest(Arc::new(OcspQuery {
                    issuer,
                    serial,
                    nonce: Some(nonce),
                })),
            );
        }
        None => complete(ri, ctx, pending, None),
    }
}

/// The OCSP response for a pending registration arrived: sign and send the response.
pub(crate) fn ri_on_ocsp_for_registration(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    nonce: &[u8],
    bytes: Vec<u8>,
) -> bool {
    let Some(pending) = ri.pending_regs.remove(nonce) else {
        return false;
    };
    complete(ri, ctx, pending, Some(bytes));
    true
}

fn complete(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, p: PendingReg, ocsp: Option<Vec<u8>>) {
    let world = ri.world.clone();
    let mut resp = RegistrationResponse {
        status: Status::Success,
        session_id: p.request.session_id.clone(),
        body: Some(RegistrationResponseBody {
            ri_id: ri.me.id.clone(),
            ri_url: world.ris[ri.index].url.clone(),
            certificate_chain: p.send_chain.then(|| ri.me.chain_wire.clone()),
            ocsp_responses: ocsp.into_iter().collect(),
            extensions: Vec::new(),
            signature: Vec::new(),
        }),
    };
    let sig = world.crypto.sign(
        &mut ri.ops,
        &ri.me.key,
        world.params.sig_alg,
        &RegistrationTranscript {
            device_hello: &p.device_hello,
            ri_hello: &p.ri_hello,
            request: &p.request,
            response: Some(&resp),
        },
    );
    let Ok(sig) = sig else {
        return reg_failure(
            ri,
            ctx,
            p.device,
            p.request.session_id,
            Status::UnknownError,
        );
    };
    if let Some(b) = resp.body.as_mut() {
        b.signature = sig;
    }
    ri.devices_by_actor
        .insert(p.context.actor, p.context.device_id.clone());
    ri.devices.insert(p.context.device_id.clone(), p.context);
    ri.count_status("registration", Status::Success);
    ri.reply(ctx, p.device, Pdu::RegistrationResponse(resp));
}
