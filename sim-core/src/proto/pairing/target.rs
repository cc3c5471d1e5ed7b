//! The target side of Authentication (LRM and destination agent, seed 001 §7.2.1.2/§7.2.1.3),
//! the destination side of a dmpPair transfer, and Import Initiation at the agent.

use super::*;
use crate::proto::nonce_cache::Admit;

pub(super) fn put_sac(st: &mut AgentPairing, peer: Identifier, pk: SymKey, not_after_ns: u64) {
    st.sacs.remove(&peer);
    if st.sacs.len() >= MAX_TICKETS {
        if let Some(k) = st
            .sacs
            .iter()
            .min_by_key(|(_, (_, e))| *e)
            .map(|(k, _)| k.clone())
        {
            st.sacs.remove(&k);
        }
    }
    st.sacs.insert(peer, (pk, not_after_ns));
}

/// Destination side of a dmpPair transfer: MAC under the SAC key, LRM signature, install
/// (idempotently), confirm.
pub(super) fn dest_on_transfer(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    r: ImportedRoResponse,
) {
    let world = agent.world.clone();
    let now = agent.drm_now(ctx.now());
    let source = r.lrm_id.clone();
    let Some((pk, _)) = agent
        .pairing
        .sacs
        .get(&source)
        .copied()
        .filter(|(_, e)| *e > now)
    else {
        return agent.discard(ctx, "transfer from a peer without a SAC");
    };
    if world
        .crypto
        .verify_mac(
            &mut agent.ops,
            &pk,
            world.params.mac_alg,
            &Pdu::ImportedRoResponse(r.clone()),
            &r.mac,
        )
        .is_err()
        || r.device_id != agent.me.id
        || r.status != Status::Success
        || r.protected_ros.len() != 1
    {
        return agent.discard(ctx, "transfer MAC does not verify");
    }
    let pro = &r.protected_ros[0];
    let ro_id = pro.ro.id.clone();
    let key = (
        source.clone(),
        pro.ro.enc_key.id.clone().unwrap_or_default(),
    );
    let status = if agent.pairing.received.get(&key) == Some(&ro_id) {
        // A retried (or resumed) transfer whose confirmation was lost: confirm again,
        // install nothing — even if the RO has since moved on from here.
        agent.pairing.stats.duplicate_transfers += 1;
        Status::Success
    } else if agent.ros.contains_key(&ro_id) {
        Status::AccessDenied
    } else {
        match open_imported(&world.crypto, &mut agent.ops, &world, &pk, pro) {
            None => Status::SignatureError,
            Some((e, lrm)) => {
                if install(agent, &ro_id, e, lrm) {
                    let rec = &mut agent.pairing.received;
                    if rec.len() >= MAX_RECEIVED {
                        if let Some(k) = rec.keys().next().cloned() {
                            rec.remove(&k);
                        }
                    }
                    rec.insert(key, ro_id);
                    agent.pairing.stats.transfers_in += 1;
                    Status::Success
                } else {
                    Status::AccessDenied
                }
            }
        }
    };
    let mut conf = AuthenticationResponse {
        status,
        requester_id: source,
        target_id: agent.me.id.clone(),
        nonce: r.nonce,
        mac: Vec::new(),
    };
    conf.mac = world.crypto.mac(
        &mut agent.ops,
        &pk,
        world.params.mac_alg,
        &Pdu::AuthenticationResponse(conf.clone()),
    );
    agent.send_pdu(ctx, from, Pdu::AuthenticationResponse(conf));
}

/// Why a target refused an Authentication Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthReject {
    /// Ticket not for us, not from our DEA, bad MAC (forged/modified), expired, or its
    /// Pairing Key does not unwrap.
    #[error("invalid pairing ticket")]
    Ticket,
    /// The request's HMAC under the Pairing Key does not verify.
    #[error("request MAC does not verify")]
    Mac,
    /// The nonce was seen before (replay).
    #[error("replayed request")]
    Replay,
    /// The target's nonce store is full of nonces whose tickets are still valid.
    #[error("nonce store full")]
    StoreFull,
}

impl AuthReject {
    /// Status answered.
    pub fn status(self) -> Status {
        match self {
            AuthReject::Ticket => Status::InvalidPairingTicket,
            AuthReject::Mac => Status::SignatureError,
            AuthReject::Replay => Status::AccessDenied,
            AuthReject::StoreFull => Status::Abort,
        }
    }
    /// Always fatal for the request.
    pub fn is_fatal(self) -> bool {
        true
    }
}

/// Target checks of an Authentication Request (§7.2.1.2/§7.2.1.3): the ticket is for `me`,
/// from our DEA, HMAC'd under our Master Key, issued to the requester, unexpired at `now_ns`;
/// the Pairing Key unwraps; the request HMAC under it verifies; the nonce is fresh.
/// Returns the Pairing Key and the ticket expiry.
#[allow(clippy::too_many_arguments)]
pub fn target_verify_auth(
    world: &World,
    ops: &mut OpCounter,
    me: &Identifier,
    mk: Option<SymKey>,
    nonces: &mut NonceCache,
    now_ns: u64,
    req: &AuthenticationRequest,
) -> Result<(SymKey, u64), (AuthReject, Option<SymKey>)> {
    let t = &req.ticket;
    let bad = Err((AuthReject::Ticket, None));
    let Some(mk) = mk else {
        return bad;
    };
    if &req.target_id != me || &t.target_id != me || Some(&t.dea_id) != world.dea_id.as_ref() {
        return bad;
    }
    if t.requester_id != req.requester_id {
        return bad;
    }
    if world
        .crypto
        .verify_mac(ops, &mk, world.params.mac_alg, t, &t.mac)
        .is_err()
    {
        return bad;
    }
    let not_after = match t.not_after {
        Expiry::Infinite => u64::MAX,
        Expiry::At(d) => world.drm_ns(&d),
    };
    if not_after <= now_ns {
        return bad;
    }
    let Some(pk) = world
        .crypto
        .unwrap(ops, &mk, &t.enc_pairing_key.cipher)
        .ok()
        .and_then(|b| SymKey::from_slice(&b).ok())
    else {
        return bad;
    };
    if world
        .crypto
        .verify_mac(
            ops,
            &pk,
            world.params.mac_alg,
            &Pdu::AuthenticationRequest(req.clone()),
            &req.mac,
        )
        .is_err()
    {
        return Err((AuthReject::Mac, None));
    }
    // Checked after the MACs so forgeries cannot fill the store. The window is the ticket's
    // lifetime (seed 001 §7.2.1.2 "a valid Pairing Ticket"): a copy presented after
    // `not_after` fails the expiry check above, so the nonce is kept until then, and a full
    // store refuses rather than forgets (`nonce_cache`).
    match nonces.admit(&req.requester_id.hash, &req.nonce, now_ns, not_after) {
        Admit::Fresh => Ok((pk, not_after)),
        Admit::Replay => Err((AuthReject::Replay, Some(pk))),
        Admit::Full => Err((AuthReject::StoreFull, Some(pk))),
    }
}

/// The Authentication Response a target sends (HMAC under the Pairing Key when known).
pub fn auth_response(
    world: &World,
    ops: &mut OpCounter,
    req: &AuthenticationRequest,
    status: Status,
    pk: Option<SymKey>,
) -> AuthenticationResponse {
    let mut r = AuthenticationResponse {
        status,
        requester_id: req.requester_id.clone(),
        target_id: req.target_id.clone(),
        nonce: req.nonce.clone(),
        mac: Vec::new(),
    };
    if let Some(pk) = pk {
        r.mac = world.crypto.mac(
            ops,
            &pk,
            world.params.mac_alg,
            &Pdu::AuthenticationResponse(r.clone()),
        );
    }
    r
}

/// Authentication Request at a destination agent (§7.2.1.3).
pub(crate) fn agent_on_auth_request(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: AuthenticationRequest,
) {
    let world = agent.world.clone();
    let now = agent.drm_now(ctx.now());
    let mk = agent.pairing.mk(now);
    let res = target_verify_auth(
        &world,
        &mut agent.ops,
        &agent.me.id,
        mk,
        &mut agent.pairing.auth_nonces,
        now,
        &req,
    );
    let resp = match res {
        Ok((pk, exp)) => {
            agent.pairing.stats.auth_accepted += 1;
            put_sac(&mut agent.pairing, req.requester_id.clone(), pk, exp);
            auth_response(&world, &mut agent.ops, &req, Status::Success, Some(pk))
        }
        Err((why, pk)) => {
            *agent
                .pairing
                .stats
                .auth_rejected
                .entry(why.status().as_str().to_string())
                .or_default() += 1;
            auth_response(&world, &mut agent.ops, &req, why.status(), pk)
        }
    };
    agent.send_pdu(ctx, from, Pdu::AuthenticationResponse(resp));
}

/// Import Initiation from an LRM (§7.2.1.2): LRM signature, our ID, fresh nonce, then Import.
pub(crate) fn agent_on_import_initiation(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    m: ImportInitiation,
) {
    let world = agent.world.clone();
    if !agent.pairing.sce {
        return agent.discard(ctx, "importInitiation at a non-SCE agent");
    }
    let Some((lrm, info)) = world
        .lrms
        .iter()
        .enumerate()
        .find(|(_, l)| l.id == m.lrm_id)
    else {
        return agent.discard(ctx, "importInitiation from an unknown LRM");
    };
    let Some(key) = info.chain.first().map(|c| c.public_key().clone()) else {
        return;
    };
    if m.device_id != agent.me.id
        || world
            .crypto
            .verify(
                &mut agent.ops,
                &key,
                world.params.sig_alg,
                &Pdu::ImportInitiation(m.clone()),
                &m.signature,
            )
            .is_err()
    {
        return agent.discard(ctx, "importInitiation signature does not verify");
    }
    // An Import Initiation carries no time (seed 001 §7.2.1.2: IDs, NONCE, signature): its
    // nonce is kept with no window, bounded per LRM; when that is full the Device refuses
    // further initiations rather than forget one (`nonce_cache`). The Import itself is
    // authenticated afresh (ticket, Authentication Request), so a refusal costs a retry.
    let now = ctx.now().as_ns();
    match agent
        .pairing
        .init_nonces
        .admit(&m.lrm_id.hash, &m.nonce, now, u64::MAX)
    {
        Admit::Fresh => {}
        Admit::Replay => return agent.discard(ctx, "replayed importInitiation"),
        Admit::Full => return agent.discard(ctx, "importInitiation: nonce store full"),
    }
    agent_start_import(agent, ctx, lrm, m.ro_ids);
}
