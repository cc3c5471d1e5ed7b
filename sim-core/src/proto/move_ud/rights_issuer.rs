//! The RI side of Move `<userDomain>`-constrained RO via RI (seed 003 §9.2): Device Context,
//! DRM time, signature, nonce (seed 003 §1), ROs, source authorizations, the move ledger,
//! then the RI's own User Domain Authorizations in the signed response.

use super::{in_validity, move_indication, MAX_HELD, PROTOCOL, SYSTEM_ID};
use crate::engine::{ActorId, Ctx};
use crate::pdu::moves::{MoveRequest, MoveResponse, MovedRo, UserDomainAuthorization};
use crate::pdu::ro::{Action, Binding, Constraint};
use crate::pdu::{Extension, Pdu, Status};
use crate::proto::move_ro::{
    check_move_header, ledger_decision, record_ledger, resend, sign_and_reply, store_reply,
    Checked, Header, LedgerDecision, Refusal,
};

use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use std::collections::{BTreeMap, BTreeSet};

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
) -> Option<crate::proto::msg::Wire> {
    let no_ocsp = req
        .extensions
        .iter()
        .any(|e| matches!(e.ext, Extension::NoOcspResponse));
    let resp = MoveResponse {
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
    sign_and_reply(
        ri,
        ctx,
        to,
        resp,
        status,
        PROTOCOL,
        Pdu::MoveUserDomainConstrainedRoResponse,
    )
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
    let signed = Pdu::MoveUserDomainConstrainedRoRequest(req.clone());
    // A repeat of an accepted request gets the stored response (shared with §9.1, see
    // move_ro `repeats`).
    let (dc, digest) = match check_move_header(ri, ctx, &req, &signed) {
        Ok(Header::Fresh(dc, digest)) => (dc, digest),
        Ok(Header::Repeat(reply)) => return resend(ri, ctx, from, reply, PROTOCOL),
        Err(why) => return refuse(ri, ctx, from, &req, why),
    };
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
    if !crate::proto::move_ro::ledger_has_room(ri, &fresh) {
        return refuse(ri, ctx, from, &req, Refusal::LedgerFull);
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
    let reply = respond(ri, ctx, from, &req, Status::Success, authz);
    store_reply(ri, ctx.now(), &req, digest, reply);
}
