//! ROAP 2-pass RO Acquisition (OMA-TS-DRM-DRM-V2_0 §5.4.3): RORequest → ROResponse, both
//! sides, for Device ROs. The RI wraps KMAC‖KREK to the Device key with
//! RSAES-KEM-KDF2-KW-AES128 and MACs each `<roap:ro>` under KMAC; the Device unwraps, checks
//! the MAC and installs the rights.

use super::agent::{Agent, SessionKind};
use super::msg::SimMsg;
use super::ri::Ri;
use super::rights::{Binding, Constraint as RoConstraint, RightsObject};
use crate::crypto::SymKey;
use crate::engine::{ActorId, Ctx};
use crate::pdu::common::ALG_KEM;
use crate::pdu::ro::{Action, Asset, Constraint, Permission, ProtectedRo, Rights, Ro};
use crate::pdu::roap::{RoRequest, RoResponse, RoResponseBody};
use crate::pdu::{Encrypted, Ext, Extension, KeyInfo, Pdu, Status};
use rand::Rng;

/// What an RI grants in the ROs it issues.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoPolicy {
    /// Probability that an RO is count-constrained (stateful) rather than unlimited.
    pub stateful_probability: f64,
    /// Uses granted by a count-constrained RO.
    pub count: u32,
    /// Whether ROs carry a `<move>` permission (no `<system>` constraint).
    pub movable: bool,
}

impl Default for RoPolicy {
    fn default() -> Self {
        RoPolicy {
            stateful_probability: 0.5,
            count: 5,
            movable: true,
        }
    }
}

/// Device-side state: the content asked for.
#[derive(Debug, Clone)]
pub(crate) struct AgentAcq {
    content_ids: Vec<String>,
    /// `<domainID>` when Domain ROs are requested (domain.rs).
    pub(crate) domain_id: Option<String>,
    /// Nonce of the ROAP trigger that started the run, echoed as `triggerNonce` (trigger.rs).
    pub(crate) trigger_nonce: Option<Vec<u8>>,
    /// Nonce of every attempt sent (bounded by the retry budget).
    nonces: Vec<Vec<u8>>,
}

impl AgentAcq {
    /// Nonces of the attempts sent so far, oldest first.
    pub(crate) fn attempt_nonces(&self) -> &[Vec<u8>] {
        &self.nonces
    }
}

/// Starts acquiring ROs from RI `ri` (the Device must be registered with it).
pub(crate) fn agent_start(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize) {
    if !agent.ri_contexts.contains_key(&ri) {
        return;
    }
    let n = agent.workload.ros_per_request.max(1);
    let content_ids = (0..n)
        .map(|_| format!("cid:{:08x}", ctx.rng().gen::<u32>()))
        .collect();
    let domain_id = super::domain::workload_domain_for_acquisition(agent, ctx, ri);
    agent_start_with(agent, ctx, ri, content_ids, domain_id, None);
}

/// Starts acquiring the ROs for `content_ids` from RI `ri`, as Domain ROs of `domain_id` if
/// given, echoing `trigger_nonce` (ROAP trigger, §5.2.1).
pub(crate) fn agent_start_with(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    ri: usize,
    content_ids: Vec<String>,
    domain_id: Option<String>,
    trigger_nonce: Option<Vec<u8>>,
) {
    if !agent.ri_contexts.contains_key(&ri) {
        return;
    }
    let acq = AgentAcq {
        content_ids,
        domain_id,
        trigger_nonce,
        nonces: Vec::new(),
    };
    if let Some(id) = agent.open_session(ctx, ri, SessionKind::Acquisition(acq)) {
        agent_send(agent, ctx, id);
    }
}

/// Sends (or re-sends, with a fresh nonce) the RORequest of session `id`.
pub(crate) fn agent_send(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let world = agent.world.clone();
    let Some(s) = agent.sessions.get(&id) else {
        return;
    };
    let SessionKind::Acquisition(acq) = &s.kind else {
        return;
    };
    let ri = s.ri;
    let nonce = if world.variants.fresh_nonce_retries || s.nonce.is_empty() {
        world.nonce(ctx.rng())
    } else {
        s.nonce.clone()
    };
    let mut extensions = Vec::new();
    // No OCSP Response: we cache a valid OCSP response for this RI.
    if let Some(c) = agent.ri_contexts.get(&ri) {
        if c.ocsp
            .as_ref()
            .is_some_and(|o| ctx.now().since(o.produced_at) < world.params.ocsp_max_age_ns)
        {
            extensions.push(Ext::new(Extension::NoOcspResponse));
        }
    }
    let drm_now = agent.drm_now(ctx.now());
    let mut req = RoRequest {
        trigger_nonce: acq.trigger_nonce.clone(),
        device_id: agent.me.id.clone(),
        domain_id: acq.domain_id.clone(),
        ri_id: world.ris[ri].id.clone(),
        nonce: nonce.clone(),
        time: world.datetime(drm_now),
        ro_ids: acq.content_ids.clone(),
        dcf_hash: None,
        certificate_chain: None,
        extensions,
        signature: Vec::new(),
    };
    let unsigned = Pdu::RoRequest(req.clone());
    let Ok(sig) = world.crypto.sign(
        &mut agent.ops,
        &agent.me.key,
        world.params.sig_alg,
        &unsigned,
    ) else {
        agent.finish(ctx, id, "abandoned");
        return;
    };
    req.signature = sig;
    let s = agent.sessions.get_mut(&id).expect("exists");
    if let SessionKind::Acquisition(a) = &mut s.kind {
        if a.nonces.len() <= 2 * world.params.max_retries as usize + 2 {
            a.nonces.push(nonce.clone());
        }
    }
    s.nonce = nonce;
    let peer = s.peer;
    agent.send_pdu(ctx, peer, Pdu::RoRequest(req));
    agent.arm_timeout(ctx, id);
}

/// ROResponse at the Device: nonce, signature, then each RO's key and MAC.
pub(crate) fn agent_on_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    r: RoResponse,
) {
    let id = match &r.body {
        Some(b) => agent.session_by_nonce(&b.nonce),
        // A status-only response carries no nonce: it answers the oldest request to that RI
        // still waiting for its answer.
        None => agent.status_only_session(from, |k| matches!(k, SessionKind::Acquisition(_))),
    };
    let Some(id) = id.filter(|i| matches!(agent.sessions[i].kind, SessionKind::Acquisition(_)))
    else {
        return late_success(agent, ctx, from, r);
    };
    // §5.4.3.1 NotRegistered: the RI has no Device Context — register again, then resend
    // (at most once per request, registration.rs `Rereg`).
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
    let ri = agent.sessions[&id].ri;
    let Some(ri_ctx) = agent.ri_contexts.get(&ri) else {
        agent.finish_status(ctx, id, Status::NotRegistered);
        return;
    };
    if body.device_id != agent.me.id || body.ri_id != world.ris[ri].id {
        return agent.discard(ctx, "ROResponse IDs do not match the request");
    }
    let ri_key = ri_ctx.chain[0].public_key().clone();
    let sig = body.signature.clone();
    if world
        .crypto
        .verify(
            &mut agent.ops,
            &ri_key,
            world.params.sig_alg,
            &Pdu::RoResponse(r),
            &sig,
        )
        .is_err()
    {
        // An unverifiable response is discarded; the request will time out and be retried.
        return agent.discard(ctx, "ROResponse signature does not verify");
    }
    let mut installed = Vec::new();
    let drm_now = agent.drm_now(ctx.now());
    for pro in &body.protected_ros {
        let opened = if pro.ro.domain_ro {
            super::domain::ro::open_domain_ro(agent, drm_now, pro).map_err(|e| e.status())
        } else {
            open_ro(agent, pro).ok_or(Status::SignatureError)
        };
        match opened {
            Ok(ro) => installed.push(ro),
            Err(status) => {
                agent.finish_status(ctx, id, status);
                return;
            }
        }
    }
    let max = world.params.max_ros_per_device;
    for ro in installed {
        if agent.ros.len() < max {
            agent.ros.insert(ro.ro_id.clone(), ro);
        }
    }
    super::move_ro::agent_on_installed(agent, ctx, &body.protected_ros);
    agent.finish(ctx, id, "success");
}

/// A Success RO Response to a request whose session already ended without ROs (an
/// unauthenticated status-only error, which names no attempt, or a timeout took its place):
/// the RI issued these rights to this Device for a nonce it sent, so the Device installs them
/// — once: the nonce leaves `failed_acquisitions`, and ROs it already holds are not touched.
/// Without this the rights would be lost (issue 11, `consistent_state`). Anything else that
/// matches no request is discarded.
fn late_success(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, from: ActorId, r: RoResponse) {
    let world = agent.world.clone();
    let Some(body) = r.body.as_ref().filter(|_| r.status == Status::Success) else {
        return agent.discard(ctx, "ROResponse matches no request");
    };
    if !agent.failed_acquisitions.contains(&body.nonce) {
        return agent.discard(ctx, "ROResponse matches no request");
    }
    let Some(ri) = world.ris.iter().position(|x| x.actor == from) else {
        return agent.discard(ctx, "ROResponse from no RI");
    };
    let Some(ri_ctx) = agent.ri_contexts.get(&ri) else {
        return agent.discard(ctx, "ROResponse from an RI without RI Context");
    };
    if body.device_id != agent.me.id || body.ri_id != world.ris[ri].id {
        return agent.discard(ctx, "ROResponse IDs do not match the request");
    }
    let ri_key = ri_ctx.chain[0].public_key().clone();
    let sig = body.signature.clone();
    let nonce = body.nonce.clone();
    let pros = body.protected_ros.clone();
    if world
        .crypto
        .verify(
            &mut agent.ops,
            &ri_key,
            world.params.sig_alg,
            &Pdu::RoResponse(r),
            &sig,
        )
        .is_err()
    {
        return agent.discard(ctx, "ROResponse signature does not verify");
    }
    agent.failed_acquisitions.remove(&nonce);
    let drm_now = agent.drm_now(ctx.now());
    let mut installed = Vec::new();
    for pro in &pros {
        if agent.ros.contains_key(&pro.ro.id) {
            continue;
        }
        let opened = if pro.ro.domain_ro {
            super::domain::ro::open_domain_ro(agent, drm_now, pro).ok()
        } else {
            open_ro(agent, pro)
        };
        match opened {
            Some(ro) => installed.push(ro),
            None => return agent.discard(ctx, "late ROResponse with an RO that does not open"),
        }
    }
    let max = world.params.max_ros_per_device;
    for ro in installed {
        if agent.ros.len() < max {
            agent.ros.insert(ro.ro_id.clone(), ro);
        }
    }
    agent.stats.late_installs += 1;
    super::move_ro::agent_on_installed(agent, ctx, &pros);
}

/// Unwraps KMAC‖KREK, checks the RO MAC and converts the REL rights into Device state.
fn open_ro(agent: &mut Agent, pro: &ProtectedRo) -> Option<RightsObject> {
    let world = agent.world.clone();
    let keys = world
        .crypto
        .kem_unwrap(&mut agent.ops, &agent.me.key, &pro.ro.enc_key.cipher)
        .ok()?;
    if keys.len() != 32 {
        return None;
    }
    let kmac = SymKey::from_slice(&keys[..16]).ok()?;
    world
        .crypto
        .verify_mac(&mut agent.ops, &kmac, world.params.mac_alg, pro, &pro.mac)
        .ok()?;
    Some(rights_from_ro(
        &pro.ro,
        &world.ris.iter().find(|r| r.id == pro.ro.ri_id)?.name,
        agent.workload.metering_interval_ns.is_some(),
    ))
}

/// Device state for an installed RO.
pub(crate) fn rights_from_ro(ro: &Ro, issuer: &str, metered: bool) -> RightsObject {
    let play = ro
        .rights
        .permissions
        .iter()
        .find(|p| matches!(p.action, Action::Play | Action::Display));
    let constraint = play
        .and_then(|p| {
            p.constraints.iter().find_map(|c| match c {
                Constraint::Count(n) => Some(RoConstraint::Count { remaining: *n }),
                Constraint::Interval(s) => Some(RoConstraint::Interval {
                    duration_ns: s * 1_000_000_000,
                    started_at_ns: None,
                }),
                _ => None,
            })
        })
        .unwrap_or(RoConstraint::Unlimited);
    let move_permission = ro.rights.move_permission().map(|p| {
        p.constraints.iter().find_map(|c| match c {
            Constraint::System(s) if s.iter().any(|x| x == "moveDeviceROviaRI") => {
                Some(super::rights::MoveSystem::MoveDeviceRoViaRi)
            }
            Constraint::System(s) if s.iter().any(|x| x == "moveUserDomainROviaRI") => {
                Some(super::rights::MoveSystem::MoveUserDomainRoViaRi)
            }
            _ => None,
        })
    });
    let binding = match ro.binding() {
        crate::pdu::ro::Binding::Domain(d) => Binding::Domain(d),
        crate::pdu::ro::Binding::UserDomain(u) => Binding::UserDomain(u.join(",")),
        crate::pdu::ro::Binding::Device(h) => Binding::Device(hex::encode(h)),
        crate::pdu::ro::Binding::Unbound => Binding::Device(String::new()),
    };
    RightsObject {
        ro_id: ro.id.clone(),
        issuer: issuer.to_string(),
        content_id: ro
            .rights
            .assets
            .first()
            .map(|a| a.content_id.clone())
            .unwrap_or_default(),
        binding,
        constraint,
        move_permission,
        metered,
        unusable: false,
        unusable_count: 0,
    }
}

fn ro_failure(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, status: Status) {
    ri.count_status("ro_acquisition", status);
    ri.reply(ctx, to, Pdu::RoResponse(RoResponse { status, body: None }));
}

/// RORequest at the RI: Device Context, DRM time, replay, signature, then issue.
pub(crate) fn ri_on_request(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, from: ActorId, req: RoRequest) {
    let world = ri.world.clone();
    let Some(dc) = ri.devices.get(&req.device_id).cloned() else {
        return ro_failure(ri, ctx, from, Status::NotRegistered);
    };
    // §5.4.2.3.1: <riID> names the RI the request is for. A request for another RI (e.g.
    // replayed here by an attacker, valid signature and a nonce new to this RI) is refused;
    // ROAP has no dedicated status, AccessDenied is the chosen one.
    if req.ri_id != ri.me.id {
        return ro_failure(ri, ctx, from, Status::AccessDenied);
    }
    if !super::drm_time::time_acceptable(
        world.drm_ns(&req.time),
        ctx.now(),
        world.params.time_tolerance_ns,
    ) {
        return ro_failure(ri, ctx, from, Status::DeviceTimeError);
    }
    let device_key = dc.chain[0].public_key().clone();
    // Verified as the PDU it arrived as, moved in and out (no copy of the request).
    let signed = Pdu::RoRequest(req);
    let Pdu::RoRequest(r) = &signed else {
        unreachable!("just built")
    };
    let verified = world.crypto.verify(
        &mut ri.ops,
        &device_key,
        world.params.sig_alg,
        &signed,
        &r.signature,
    );
    let Pdu::RoRequest(req) = signed else {
        unreachable!("just built")
    };
    if verified.is_err() {
        return ro_failure(ri, ctx, from, Status::SignatureError);
    }
    // Seed 003: the RI tracks Device nonces for the DRM-time window; a seen one is a replay.
    let request_ns = world.drm_ns(&req.time);
    if let Err(status) = ri.admit_nonce(ctx, "roRequest", &req.device_id, &req.nonce, request_ns) {
        return ro_failure(ri, ctx, from, status);
    }
    ri.domains
        .note_trigger_nonce(req.trigger_nonce.as_deref(), ctx.now().as_ns());
    // Domain ROs (domain.rs): only for members of a domain this RI manages.
    let domain = match &req.domain_id {
        None => None,
        Some(d) => match super::domain::ro::ri_domain_key(ri, &req.device_id, d) {
            Ok(k) => Some(k),
            Err(status) => return ro_failure(ri, ctx, from, status),
        },
    };
    let mut protected_ros = Vec::new();
    for content_id in req.ro_ids.iter().take(crate::pdu::ro::MAX_RO_ITEMS) {
        // Moved rights waiting for this Device are delivered instead (seed 003 §9.1);
        // Domain RO requests never name moved Device ROs.
        let moved = match domain {
            None => super::move_ro::ri_deliver_moved(ri, ctx, &dc, content_id),
            Some(_) => None,
        };
        let issued = match moved {
            Some(moved) => moved,
            None => {
                let pro = issue_ro(ri, ctx, &dc.chain[0], content_id, domain.as_ref());
                if let Some(p) = pro
                    .as_ref()
                    .filter(|_| domain.is_none() && ri.policy.movable)
                {
                    ri.triggers.note_movable(&req.device_id, &p.ro.id);
                }
                pro
            }
        };
        match issued {
            Some(p) => protected_ros.push(p),
            None => return ro_failure(ri, ctx, from, Status::UnknownError),
        }
    }
    let no_ocsp = req
        .extensions
        .iter()
        .any(|e| matches!(e.ext, Extension::NoOcspResponse));
    let mut resp = RoResponse {
        status: Status::Success,
        body: Some(RoResponseBody {
            device_id: req.device_id.clone(),
            ri_id: ri.me.id.clone(),
            nonce: req.nonce.clone(),
            protected_ros,
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
    let unsigned = Pdu::RoResponse(resp.clone());
    let Ok(sig) = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &unsigned)
    else {
        return ro_failure(ri, ctx, from, Status::UnknownError);
    };
    if let Some(b) = resp.body.as_mut() {
        b.signature = sig;
    }
    ri.count_status("ro_acquisition", Status::Success);
    ri.reply(ctx, from, Pdu::RoResponse(resp));
}

/// Builds one Device RO for `content_id`, bound to the Device key in `device_cert`, or —
/// with `domain` (domain ID, Domain Key) — a signed Domain RO wrapped under the Domain Key.
fn issue_ro(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    device_cert: &crate::pki::Certificate,
    content_id: &str,
    domain: Option<&(String, SymKey)>,
) -> Option<ProtectedRo> {
    let world = ri.world.clone();
    let policy = ri.policy;
    let stateful = ctx
        .rng()
        .gen_bool(policy.stateful_probability.clamp(0.0, 1.0));
    let mut permissions = vec![Permission {
        action: Action::Play,
        constraints: if stateful {
            vec![Constraint::Count(policy.count)]
        } else {
            Vec::new()
        },
    }];
    if policy.movable {
        permissions.push(Permission {
            action: Action::Move,
            constraints: Vec::new(),
        });
    }
    ri.next_ro += 1;
    let ro_id = format!("{}-ro{}", ri.me.name, ri.next_ro);
    let kmac = SymKey::random(ctx.rng());
    let krek = SymKey::random(ctx.rng());
    let material = [kmac.as_bytes().as_slice(), krek.as_bytes().as_slice()].concat();
    let enc_key = match domain {
        Some((did, kd)) => super::domain::ro::wrap_under_domain_key(ri, did, kd, &material).ok()?,
        None => Encrypted {
            id: None,
            algorithm: ALG_KEM.to_string(),
            key_info: Some(KeyInfo::SpkiHash(device_cert.key_id().as_bytes().to_vec())),
            cipher: world
                .crypto
                .kem_wrap(&mut ri.ops, ctx.rng(), device_cert.public_key(), &material)
                .ok()?,
        },
    };
    let mut ro = Ro {
        id: ro_id.clone(),
        version: "2.0".into(),
        domain_ro: domain.is_some(),
        ri_id: ri.me.id.clone(),
        rights: Rights {
            uid: ro_id,
            assets: vec![Asset {
                content_id: content_id.to_string(),
                dcf_hash: None,
            }],
            permissions,
            user_domains: Vec::new(),
            move_indication: Vec::new(),
        },
        signature: None,
        time_stamp: Some(world.datetime(ctx.now().as_ns())),
        enc_key,
    };
    // Domain ROs are always signed (domain.rs); movable ROs carry the RI's signature too
    // (seed 003 §9.1.1 step 3 names it).
    let ro = if domain.is_some() {
        super::domain::ro::sign_ro(ri, &mut ro).ok()?;
        ro
    } else {
        super::move_ro::ri_sign_movable(ri, ro)?
    };
    let mut pro = ProtectedRo {
        ro,
        mac: Vec::new(),
    };
    pro.mac = world
        .crypto
        .mac(&mut ri.ops, &kmac, world.params.mac_alg, &pro);
    ri.stats.rights_units_issued += if stateful { policy.count as u64 } else { 1 };
    Some(pro)
}
