//! DEA side of Pairing-Key management (seed 001 §7.2.1): Join Domain for Pairing (issues a
//! per-Device Master Key, §7.2.1.1) and Pairing Ticket Request (issues a Pairing Key and a
//! ticket for the target, §7.2.1.2/§7.2.1.3). LRM Master Keys are provisioned at build time
//! (`World::dea_master_key`, the same SCE-GEN stand-in RIs use, see `dea.rs`): seed 001
//! never has an LRM join.

use super::dea::Dea;
use super::msg::SimMsg;
use super::nonce_cache::{Admit, NonceCache};
use super::pairing::{SignedRights, MASTER_KEY_LIFETIME_NS, TICKET_LIFETIME_NS};
use super::world::World;
use crate::crypto::SymKey;
use crate::engine::{ActorId, Ctx};
use crate::pdu::common::{ALG_KEM, ALG_KW_AES128};
use crate::pdu::pairing::*;
use crate::pdu::{Encrypted, Expiry, Identifier, KeyInfo, Pdu, Status};
use crate::pki::{KeyPurpose, PurposeRule, Revocation};
use std::collections::BTreeMap;

/// Bound on the Master Keys a DEA stores (Devices beyond it are refused with `DomainFull`).
pub const MAX_MASTER_KEYS: usize = 1_000_000;

/// A Master Key the DEA holds.
#[derive(Debug, Clone)]
pub struct MasterEntry {
    /// The key.
    pub key: SymKey,
    /// User Domain of a Device (`None` for an LRM, associated with the DEA itself).
    pub user_domain: Option<String>,
    /// Expiry, ns since virtual zero.
    pub not_after_ns: u64,
}

/// The DEA's pairing state (appended to `Dea`).
#[derive(Debug, Clone)]
pub struct DeaPairing {
    /// Master Keys by Device/LRM ID.
    pub masters: BTreeMap<Identifier, MasterEntry>,
    /// Nonces seen per requester (join and ticket requests).
    pub nonces: NonceCache,
    /// Tickets issued.
    pub tickets_issued: u64,
}

impl DeaPairing {
    /// Empty state; `lrm_keys` are the provisioned LRM Master Keys.
    pub fn new(params: &super::world::ProtoParams, lrm_keys: Vec<(Identifier, SymKey)>) -> Self {
        let masters = lrm_keys
            .into_iter()
            .map(|(id, key)| {
                (
                    id,
                    MasterEntry {
                        key,
                        user_domain: None,
                        not_after_ns: u64::MAX,
                    },
                )
            })
            .collect();
        DeaPairing {
            masters,
            nonces: NonceCache::new(params.nonce_cache_per_device, params.nonce_cache_devices),
            tickets_issued: 0,
        }
    }
}

impl Default for DeaPairing {
    fn default() -> Self {
        DeaPairing::new(&super::world::ProtoParams::default(), Vec::new())
    }
}

fn join_reply(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    req: &PairingJoinDomainRequest,
    status: Status,
    grant: Option<PairingJoinGrant>,
) {
    let world = dea.world.clone();
    let mut r = PairingJoinDomainResponse {
        status,
        device_id: req.device_id.clone(),
        dea_id: dea.me.id.clone(),
        nonce: req.nonce.clone(),
        grant,
        certificate_chain: Some(dea.me.chain_wire.clone()),
        signature: Vec::new(),
    };
    // Signed whatever the status (docs/pdus.md): the Device believes only its DEA.
    if let Ok(sig) = world.crypto.sign(
        &mut dea.ops,
        &dea.me.key,
        world.params.sig_alg,
        &Pdu::PairingJoinDomainResponse(r.clone()),
    ) {
        r.signature = sig;
    }
    dea.count_status("pairing_join", status);
    dea.reply(ctx, to, Pdu::PairingJoinDomainResponse(r));
}

/// Join Domain Request for Pairing (§7.2.1.1): chain (SCE DRM Agent), claimed ID, DEA ID,
/// time, signature, replay; then a fresh Master Key under RSA-KEM to the Device key.
pub(crate) fn dea_on_join(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: PairingJoinDomainRequest,
) {
    let world = dea.world.clone();
    let fail =
        |dea: &mut Dea, ctx: &mut Ctx<'_, SimMsg>, s| join_reply(dea, ctx, from, &req, s, None);
    if req.dea_id != dea.me.id {
        return fail(dea, ctx, Status::AccessDenied);
    }
    let Some(chain) = req
        .certificate_chain
        .as_ref()
        .map(|c| world.certs.decode_chain(world.mode(), c))
    else {
        return fail(dea, ctx, Status::NoCertificateChain);
    };
    let Ok(chain) = chain else {
        return fail(dea, ctx, Status::InvalidCertificateChain);
    };
    if let Err(e) = world.trust.validate(
        &world.crypto,
        &mut dea.ops,
        &chain,
        ctx.now(),
        PurposeRule::ANY,
        Revocation::List(&world.revocations),
    ) {
        let s = e
            .roap_status()
            .parse()
            .unwrap_or(Status::InvalidCertificateChain);
        return fail(dea, ctx, s);
    }
    // Only SCE DRM Agents take part in pairing (seed 000 §7.4.1 distinguishes the purpose).
    if !chain[0].has_purpose(KeyPurpose::SceDrmAgent) {
        return fail(dea, ctx, Status::AccessDenied);
    }
    if World::id_of(&chain[0]) != req.device_id {
        return fail(dea, ctx, Status::AccessDenied);
    }
    if !super::drm_time::time_acceptable(
        world.drm_ns(&req.time),
        ctx.now(),
        world.params.time_tolerance_ns,
    ) {
        return fail(dea, ctx, Status::DeviceTimeError);
    }
    if world
        .crypto
        .verify(
            &mut dea.ops,
            chain[0].public_key(),
            world.params.sig_alg,
            &Pdu::PairingJoinDomainRequest(req.clone()),
            &req.signature,
        )
        .is_err()
    {
        return fail(dea, ctx, Status::SignatureError);
    }
    // Window: the request's DRM time + tolerance (checked above), after which a copy is
    // refused DeviceTimeError by itself (`nonce_cache`).
    let until = super::nonce_cache::drm_time_window_end(
        world.drm_ns(&req.time),
        world.params.time_tolerance_ns,
    );
    match dea
        .pairing
        .nonces
        .admit(&req.device_id.hash, &req.nonce, ctx.now().as_ns(), until)
    {
        Admit::Fresh => {}
        Admit::Replay => return fail(dea, ctx, Status::AccessDenied),
        Admit::Full => {
            super::nonce_cache::note_full(ctx, "pairing joinDomainRequest");
            return fail(dea, ctx, Status::Abort);
        }
    }
    if dea.pairing.masters.len() >= MAX_MASTER_KEYS
        && !dea.pairing.masters.contains_key(&req.device_id)
    {
        return fail(dea, ctx, Status::DomainFull);
    }
    // §7.2.1.1: "the DEA SHALL randomly generate a symmetric Master Key, store it".
    let mk = SymKey::random(ctx.rng());
    let Ok(cipher) = world.crypto.kem_wrap(
        &mut dea.ops,
        ctx.rng(),
        chain[0].public_key(),
        mk.as_bytes(),
    ) else {
        return fail(dea, ctx, Status::UnknownError);
    };
    let not_after_ns = ctx.now().as_ns().saturating_add(MASTER_KEY_LIFETIME_NS);
    dea.pairing.masters.insert(
        req.device_id.clone(),
        MasterEntry {
            key: mk,
            user_domain: Some(req.user_domain_id.clone()),
            not_after_ns,
        },
    );
    let grant = PairingJoinGrant {
        user_domain_id: req.user_domain_id.clone(),
        enc_master_key: Encrypted {
            id: None,
            algorithm: ALG_KEM.to_string(),
            key_info: Some(KeyInfo::SpkiHash(chain[0].key_id().as_bytes().to_vec())),
            cipher,
        },
        not_after: Expiry::At(world.datetime(not_after_ns)),
    };
    join_reply(dea, ctx, from, &req, Status::Success, Some(grant));
}

fn ticket_reply(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    req: &PairingTicketRequest,
    status: Status,
    grant: Option<(PairingTicket, Encrypted)>,
    mk: Option<SymKey>,
) {
    let world = dea.world.clone();
    let mut r = PairingTicketResponse {
        status,
        requester_id: req.requester_id.clone(),
        target_id: req.target_id.clone(),
        nonce: req.nonce.clone(),
        grant,
        mac: Vec::new(),
    };
    if let Some(mk) = mk {
        r.mac = world.crypto.mac(
            &mut dea.ops,
            &mk,
            world.params.mac_alg,
            &Pdu::PairingTicketResponse(r.clone()),
        );
    }
    dea.count_status("pairing_ticket", status);
    dea.reply(ctx, to, Pdu::PairingTicketResponse(r));
}

/// Pairing Ticket Request (§7.2.1.2/§7.2.1.3): requester MK and HMAC, replay, target MK,
/// same User Domain for agent targets, LRM signature over the Imported-RO rights (dmpPair);
/// then a fresh Pairing Key, the ticket under MK-target and the key under MK-requester.
pub(crate) fn dea_on_ticket_request(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: PairingTicketRequest,
) {
    let world = dea.world.clone();
    let now = ctx.now().as_ns();
    let Some(requester) = dea
        .pairing
        .masters
        .get(&req.requester_id)
        .filter(|m| m.not_after_ns > now && m.user_domain.is_some())
        .cloned()
    else {
        // §7.2.1.2: without a Master Key there is no ticket (and nothing to MAC with).
        return ticket_reply(dea, ctx, from, &req, Status::NoMasterKey, None, None);
    };
    let mk_r = Some(requester.key);
    if world
        .crypto
        .verify_mac(
            &mut dea.ops,
            &requester.key,
            world.params.mac_alg,
            &Pdu::PairingTicketRequest(req.clone()),
            &req.mac,
        )
        .is_err()
    {
        // Not MAC'd: the claimed requester may not have sent it.
        return ticket_reply(dea, ctx, from, &req, Status::SignatureError, None, None);
    }
    // A Pairing Ticket Request carries no time (seed 001 §7.2.1.2: IDs, NONCE, HMAC). What
    // bounds its window is the requester's Master Key, which the HMAC is under: once that MK
    // expires (or is replaced by a new join) a copy no longer verifies, so the nonce is kept
    // until the MK's expiry (`nonce_cache`). Stored per (Device, MK): a re-join's new MK
    // starts a new window, and the old MK's nonces no longer count against the Device.
    let mut peer = req.requester_id.hash.clone();
    peer.extend_from_slice(requester.key.as_bytes());
    match dea
        .pairing
        .nonces
        .admit(&peer, &req.nonce, now, requester.not_after_ns)
    {
        Admit::Fresh => {}
        Admit::Replay => {
            return ticket_reply(dea, ctx, from, &req, Status::AccessDenied, None, mk_r)
        }
        Admit::Full => {
            super::nonce_cache::note_full(ctx, "pairingTicketRequest");
            return ticket_reply(dea, ctx, from, &req, Status::Abort, None, mk_r);
        }
    }
    let Some(target) = dea
        .pairing
        .masters
        .get(&req.target_id)
        .filter(|m| m.not_after_ns > now)
        .cloned()
    else {
        return ticket_reply(dea, ctx, from, &req, Status::NoMasterKey, None, mk_r);
    };
    if req.target_id == req.requester_id {
        return ticket_reply(dea, ctx, from, &req, Status::AccessDenied, None, mk_r);
    }
    if let Some(ud) = &target.user_domain {
        // §7.2.1.3: both agents must have joined the User Domain of a common DEA.
        if Some(ud) != requester.user_domain.as_ref() {
            return ticket_reply(dea, ctx, from, &req, Status::DomainAccessDenied, None, mk_r);
        }
        // §7.2.1.3: the request "SHALL also contain the Imported-RO <rights> element and
        // <signature> element of the LRM": the DEA checks it is a genuine Imported RO.
        let Some(ir) = &req.imported_rights else {
            return ticket_reply(dea, ctx, from, &req, Status::AccessDenied, None, mk_r);
        };
        let genuine = world.lrms.iter().any(|l| {
            l.chain.first().is_some_and(|c| {
                world
                    .crypto
                    .verify(
                        &mut dea.ops,
                        c.public_key(),
                        world.params.sig_alg,
                        &SignedRights(&ir.rights),
                        &ir.lrm_signature,
                    )
                    .is_ok()
            })
        });
        if !genuine {
            return ticket_reply(dea, ctx, from, &req, Status::SignatureError, None, mk_r);
        }
    }
    let pk = SymKey::random(ctx.rng());
    let (Ok(for_target), Ok(for_requester)) = (
        world.crypto.wrap(&mut dea.ops, &target.key, pk.as_bytes()),
        world
            .crypto
            .wrap(&mut dea.ops, &requester.key, pk.as_bytes()),
    ) else {
        return ticket_reply(dea, ctx, from, &req, Status::UnknownError, None, mk_r);
    };
    let kw = |cipher| Encrypted {
        id: None,
        algorithm: ALG_KW_AES128.to_string(),
        key_info: None,
        cipher,
    };
    let mut ticket = PairingTicket {
        dea_id: dea.me.id.clone(),
        requester_id: req.requester_id.clone(),
        target_id: req.target_id.clone(),
        not_after: Expiry::At(world.datetime(now.saturating_add(TICKET_LIFETIME_NS))),
        enc_pairing_key: kw(for_target),
        mac: Vec::new(),
    };
    ticket.mac = world
        .crypto
        .mac(&mut dea.ops, &target.key, world.params.mac_alg, &ticket);
    dea.pairing.tickets_issued += 1;
    ticket_reply(
        dea,
        ctx,
        from,
        &req,
        Status::Success,
        Some((ticket, kw(for_requester))),
        mk_r,
    );
}
