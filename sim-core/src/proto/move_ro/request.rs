//! The RI side of MoveDeviceRORequest (seed 003 §9.1): Device Context, DRM time, signature,
//! nonce tracking (seed 003 §1), RO checks, the ledger, then the moved rights are recorded
//! for a destination Device and the signed response is sent.

use super::repeats::{request_digest, resend, Repeat, RequestDigest};
use super::{
    arm_timer, ledger_decision, record_ledger, retry_span_ns, send_trigger, LedgerDecision,
    MovedRights, Refusal, MAX_IN_TRANSIT, MOVED_MARK, PROTOCOL, PR_PATH, SYSTEM_ID,
};
use crate::engine::{ActorId, Ctx, SimTime};
use crate::pdu::common::ALG_KEM;
use crate::pdu::moves::{MoveRequest, MoveResponse, MovedRo};
use crate::pdu::ro::{Action, Binding, Constraint, Ro};
use crate::pdu::{Encrypted, Ext, Extension, Identifier, Pdu, Status};
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::ri::Ri;
use rand::Rng;
use std::collections::BTreeSet;

/// One RO of a request that passed the checks.
pub(crate) struct Checked {
    pub(crate) ro_id: String,
    pub(crate) issued_units: u64,
    pub(crate) units: u64,
    pub(crate) rights: crate::pdu::ro::Rights,
}

/// The RI's RO checks for one `<roInfo>` (seed 003 §9.1.1 steps 1 and 3, seen from the RI).
fn check_ro(ri: &mut Ri, device: &Identifier, m: &MovedRo) -> Result<Checked, Refusal> {
    let world = ri.world.clone();
    let ro = &m.protected_ro.ro;
    // Issued by this RI: its ID and its signature.
    let sig = ro.signature.as_ref().ok_or(Refusal::NotIssuedHere)?;
    if ro.ri_id != ri.me.id {
        return Err(Refusal::NotIssuedHere);
    }
    let key = ri.me.chain[0].public_key().clone();
    world
        .crypto
        .verify(&mut ri.ops, &key, world.params.sig_alg, ro, sig)
        .map_err(|_| Refusal::NotIssuedHere)?;
    // A Device RO of the requester.
    if ro.binding() != Binding::Device(device.hash.clone()) {
        return Err(Refusal::NotBoundToSource);
    }
    // <move> with no <system>, or a <system> naming this protocol.
    let mv = ro.rights.move_permission().ok_or(Refusal::NotMovable)?;
    let allowed = mv.constraints.iter().all(|c| match c {
        Constraint::System(s) => s.iter().any(|x| x == SYSTEM_ID),
        _ => true,
    });
    if !allowed {
        return Err(Refusal::NotMovable);
    }
    // What is moved: for count ROs the State Information says how many counts.
    let mut rights = ro.rights.clone();
    let mut issued_units = 1;
    let mut units = 1;
    let mut seen_count = false;
    for p in rights
        .permissions
        .iter_mut()
        .filter(|p| matches!(p.action, Action::Play | Action::Display))
    {
        for c in p.constraints.iter_mut() {
            match c {
                Constraint::Count(n) => {
                    let moved = m
                        .state
                        .as_ref()
                        .and_then(|s| s.count)
                        .filter(|k| *k >= 1 && k <= n)
                        .ok_or(Refusal::BadRightsInfo)?;
                    if seen_count {
                        return Err(Refusal::BadRightsInfo);
                    }
                    seen_count = true;
                    issued_units = *n as u64;
                    units = moved as u64;
                    *n = moved;
                }
                Constraint::Interval(s) => {
                    if let Some(left) = m.state.as_ref().and_then(|s| s.interval_s) {
                        if left > *s || left == 0 {
                            return Err(Refusal::BadRightsInfo);
                        }
                        *s = left;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(Checked {
        ro_id: ro.id.clone(),
        issued_units,
        units,
        rights,
    })
}

fn ri_respond(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    req: &MoveRequest,
    status: Status,
) -> Option<Wire> {
    let world = ri.world.clone();
    let mut extensions = Vec::new();
    if status == Status::Success && ri.moves.post_response_url {
        let url = format!("{}{PR_PATH}", world.ris[ri.index].url);
        extensions.push(Ext::new(Extension::PostResponseUrl(url)));
    }
    let no_ocsp = req
        .extensions
        .iter()
        .any(|e| matches!(e.ext, Extension::NoOcspResponse));
    let resp = MoveResponse {
        status,
        req_id: req.req_id.clone(),
        res_id: ri.me.id.clone(),
        nonce: req.nonce.clone(),
        ri_authorizations: Vec::new(),
        certificate_chain: None,
        ocsp_responses: if no_ocsp {
            Vec::new()
        } else {
            ri.staple(ctx.now()).into_iter().collect()
        },
        extensions,
        signature: Vec::new(),
    };
    sign_and_reply(
        ri,
        ctx,
        to,
        resp,
        status,
        PROTOCOL,
        Pdu::MoveDeviceRoResponse,
    )
}

/// Signs a Move response of either protocol (`wrap` picks the PDU: §9.1 or §9.2), counts
/// `status` under `protocol` and sends it; returns the message sent (kept for repeats, see
/// `repeats`). A signing failure is counted as UnknownError and nothing is sent.
pub(crate) fn sign_and_reply(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    mut resp: MoveResponse,
    status: Status,
    protocol: &str,
    wrap: fn(MoveResponse) -> Pdu,
) -> Option<Wire> {
    let world = ri.world.clone();
    let unsigned = wrap(resp.clone());
    let Ok(sig) = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &unsigned)
    else {
        ri.count_status(protocol, Status::UnknownError);
        return None;
    };
    resp.signature = sig;
    ri.count_status(protocol, status);
    let wire = Wire::new(world.mode(), wrap(resp));
    ctx.charge_ns(world.costs.serialize_ns(wire.size_bytes()));
    let msg = SimMsg::Pdu(wire.clone());
    ri.repeats.record(to, &msg);
    ctx.send(to, msg);
    Some(wire)
}

fn refuse(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, req: &MoveRequest, why: Refusal) {
    *ri.moves.stats.refused.entry(why).or_default() += 1;
    ri_respond(ri, ctx, to, req, why.status());
}

/// Answers Success and stores the response for repeats of this request (see `repeats`).
fn accept(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    req: &MoveRequest,
    digest: Option<RequestDigest>,
) {
    let reply = ri_respond(ri, ctx, to, req, Status::Success);
    store_reply(ri, ctx.now(), req, digest, reply);
}

/// Keeps `reply`, the Success response to `req`, for repeats of `req` (both Move protocols;
/// `digest` is `None` without nonce tracking: the pre-CR RI remembers nothing).
pub(crate) fn store_reply(
    ri: &mut Ri,
    now: SimTime,
    req: &MoveRequest,
    digest: Option<RequestDigest>,
    reply: Option<Wire>,
) {
    if let (Some(digest), Some(reply)) = (digest, reply) {
        let window = retry_span_ns(&ri.world.params);
        ri.moves
            .replies
            .insert(&req.req_id, &req.nonce, digest, reply, now, window);
    }
}

/// What the header checks found: a request to process, or a repeat of an accepted one.
pub(crate) enum Header {
    /// A new request (nonce not seen before, or nonce tracking off): its Device Context and,
    /// with nonce tracking, its digest (to store with the Success response).
    Fresh(crate::proto::ri::DeviceContext, Option<RequestDigest>),
    /// A repeat of an accepted request (same Device, nonce and content): answer with this,
    /// the stored response (see `repeats`).
    Repeat(Wire),
}

/// The checks every Move request (§9.1 and §9.2; `signed` is the whole request PDU) gets at
/// the RI before its ROs, in this order: Device Context, a verbatim repeat of an accepted
/// request (answered with the stored response, see `repeats`), DRM time, the Device
/// signature, the nonce (seed 003 §1: a seen nonce is a replay), addressed to this RI, a
/// non-empty rightsInfo.
pub(crate) fn check_move_header(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    req: &MoveRequest,
    signed: &Pdu,
) -> Result<Header, Refusal> {
    let world = ri.world.clone();
    let now = ctx.now();
    let dc = ri
        .devices
        .get(&req.req_id)
        .cloned()
        .ok_or(Refusal::NotRegistered)?;
    // A verbatim copy of a request accepted within the retry span gets the stored answer
    // before anything else is checked: it is bytes the RI already verified and accepted
    // (even its DRM time, which may have aged since). See `repeats`.
    let window = retry_span_ns(&world.params);
    let digest = world
        .variants
        .ri_nonce_tracking
        .then(|| request_digest(ri, signed));
    if let Some(d) = &digest {
        let stored = ri
            .moves
            .replies
            .lookup(&req.req_id, &req.nonce, d, now, window);
        if let Repeat::Same(reply) = stored {
            return Ok(Header::Repeat(reply));
        }
    }
    if !crate::proto::drm_time::time_acceptable(
        world.drm_ns(&req.time),
        now,
        world.params.time_tolerance_ns,
    ) {
        return Err(Refusal::DeviceTime);
    }
    let key = dc.chain[0].public_key().clone();
    if world
        .crypto
        .verify(
            &mut ri.ops,
            &key,
            world.params.sig_alg,
            signed,
            &req.signature,
        )
        .is_err()
    {
        return Err(Refusal::Signature);
    }
    // Seed 003 §1: a seen nonce on a request that is not a verbatim repeat is a replay.
    match ri.admit_nonce(
        ctx,
        "move",
        &req.req_id,
        &req.nonce,
        world.drm_ns(&req.time),
    ) {
        Ok(()) => {}
        Err(Status::Abort) => return Err(Refusal::NonceStoreFull),
        Err(_) => return Err(Refusal::Replay),
    }
    if req.res_id != ri.me.id {
        return Err(Refusal::NotForThisRi);
    }
    if req.rights_info.ros.is_empty() {
        return Err(Refusal::BadRightsInfo);
    }
    Ok(Header::Fresh(dc, digest))
}

/// MoveDeviceRORequest at the RI: Device Context, DRM time, signature, nonce, RO checks,
/// ledger, then the rights are recorded for a destination Device.
pub(crate) fn ri_on_request(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: MoveRequest,
) {
    let world = ri.world.clone();
    let signed = Pdu::MoveDeviceRoRequest(req.clone());
    let (dc, digest) = match check_move_header(ri, ctx, &req, &signed) {
        Ok(Header::Fresh(dc, digest)) => (dc, digest),
        Ok(Header::Repeat(reply)) => return resend(ri, ctx, from, reply, PROTOCOL),
        Err(why) => return refuse(ri, ctx, from, &req, why),
    };
    let mut fresh = Vec::new();
    let mut seen = BTreeSet::new();
    for m in &req.rights_info.ros {
        let c = match check_ro(ri, &dc.device_id, m) {
            Ok(c) => c,
            Err(why) => return refuse(ri, ctx, from, &req, why),
        };
        if !seen.insert(c.ro_id.clone()) {
            return refuse(ri, ctx, from, &req, Refusal::BadRightsInfo);
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
    if fresh.is_empty() {
        ri.moves.stats.retransmissions += 1;
        return accept(ri, ctx, from, &req, digest);
    }
    if !super::ledger::ledger_has_room(ri, &fresh) {
        return refuse(ri, ctx, from, &req, Refusal::LedgerFull);
    }
    // The Sink: another Device registered with this RI (see module doc).
    // In actor order: Device IDs are key hashes, which differ between crypto modes.
    let source = dc.actor;
    let count = ri.devices_by_actor.len() - usize::from(ri.devices_by_actor.contains_key(&source));
    if count == 0 {
        return refuse(ri, ctx, from, &req, Refusal::NoDestination);
    }
    if ri.moves.in_transit.len() + ri.moves.delivered.len() + fresh.len() > MAX_IN_TRANSIT {
        return refuse(ri, ctx, from, &req, Refusal::Internal);
    }
    let seed = ctx.master_seed();
    let name = ri.me.name.clone();
    let rng = ri
        .moves
        .dest_rng
        .get_or_insert_with(|| crate::engine::rng::stream(seed, &name, "move-destination"));
    let pick = rng.gen_range(0..count);
    let dest_id = ri
        .devices_by_actor
        .nth_other_than(source, pick)
        .map(|(_, id)| id.clone())
        .expect("pick < count");
    let dest = ri.devices[&dest_id].clone();
    let mut minted = Vec::new();
    for c in fresh {
        record_ledger(ri, &dc.device_id, &c);
        ri.moves.next_moved += 1;
        let ro_id = format!("{}{MOVED_MARK}{}", ri.me.name, ri.moves.next_moved);
        let ro = Ro {
            id: ro_id.clone(),
            version: "2.0".into(),
            domain_ro: false,
            ri_id: ri.me.id.clone(),
            rights: crate::pdu::ro::Rights {
                uid: ro_id.clone(),
                ..c.rights
            },
            signature: None,
            time_stamp: None,
            enc_key: Encrypted {
                id: None,
                algorithm: ALG_KEM.to_string(),
                key_info: None,
                cipher: Vec::new(),
            },
        };
        ri.moves.in_transit.insert(
            ro_id.clone(),
            MovedRights {
                ro_id: ro_id.clone(),
                source_ro_id: c.ro_id,
                dest: dest.device_id.clone(),
                dest_actor: dest.actor,
                units: c.units,
                ro,
                triggers_sent: 1,
                at: ctx.now(),
            },
        );
        minted.push(ro_id);
    }
    ri.moves.stats.accepted += 1;
    accept(ri, ctx, from, &req, digest);
    send_trigger(ri, ctx, dest.actor, minted);
    arm_timer(ri, ctx);
}
