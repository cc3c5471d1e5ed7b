//! Pairing-Key management (seed 001 §7.2.1), DRM Agent side and the target checks shared
//! with the LRM: Join Domain for Pairing (§7.2.1.1), Pairing Ticket (§7.2.1.2/§7.2.1.3),
//! Authentication, Import (§7.2.1.2) and dmpPair Move/Copy (§7.2.1.3). The DEA side is in
//! `pairing_dea`, the LRM actor in `lrm`.
//!
//! An SCE agent runs each Import or dmpPair as ONE session whose step advances
//! Ticket → Authentication → Transfer (the ticket step is skipped while a valid ticket for the
//! target is held, §7.2.1.2 "if the DRM Agent does not have a valid Pairing Ticket"), so each
//! flow ends in exactly one outcome (`import`, `pairing` for a Move, `pairing_copy`); joining is
//! its own session (`pairing_join`). Retries re-send the current step with a fresh nonce.
//!
//! dmpPair transfer (§7.2.1.3 stops after the SAC; chosen, see docs/protocols.md): the
//! source pushes the Imported RO in a `dmp:importedROResponse` (deviceID = destination,
//! lrmID = source) with its keys wrapped under the Pairing Key, HMAC under the Pairing Key;
//! the destination confirms with a `dmp:authenticationResponse` echoing the transfer nonce,
//! HMAC under the Pairing Key — the only MAC'd status message of the `dmp` namespace that
//! echoes a nonce (a dedicated message would be a new PDU kind).

use super::agent::{Activity, Agent, SessionKind};
use super::msg::SimMsg;
use super::nonce_cache::NonceCache;
use super::rights::{Binding, Constraint as RoConstraint, RightsObject};
use super::world::World;
use crate::crypto::{Crypto, OpCounter, Signable, SymKey};
use crate::engine::time::NS_PER_S;
use crate::engine::{ActorId, Ctx};
use crate::pdu::common::ALG_KW_AES128;
use crate::pdu::pairing::*;
use crate::pdu::ro::{Action, Constraint, ProtectedRo, Rights, Ro};
use crate::pdu::{DateTime, Encrypted, Expiry, Identifier, Pdu, Status};
use crate::pki::{Certificate, PurposeRule, Revocation};
use rand::Rng;
use std::collections::BTreeMap;

mod imported;
mod target;
pub use imported::*;
use imported::{initial_constraint, install};
pub use target::*;
use target::{dest_on_transfer, put_sac};

/// The User Domain every SCE agent joins for pairing unless a test or scenario sets another
/// (`AgentPairing::user_domain`).
pub const DEFAULT_USER_DOMAIN: &str = "ud/0";
/// Validity of a Pairing Ticket from issue (seed 001 §7.2.1.2 "valid Pairing Ticket"; the
/// lifetime is not given, chosen: one hour).
pub const TICKET_LIFETIME_NS: u64 = 3_600 * NS_PER_S;
/// Validity of a Master Key from Join Domain (chosen: 30 days, `<notAfter>` of the grant).
pub const MASTER_KEY_LIFETIME_NS: u64 = 30 * 86_400 * NS_PER_S;
/// A held ticket is re-requested when less than this remains (avoids presenting a ticket
/// that expires in flight).
pub const TICKET_RENEW_MARGIN_NS: u64 = 60 * NS_PER_S;
/// Bound on tickets / SACs an agent keeps (oldest expiry evicted first).
pub const MAX_TICKETS: usize = 64;
/// Bound on the dmpPair transfers a destination remembers for idempotent confirmation.
pub const MAX_RECEIVED: usize = 1_024;
/// `<system>` value of an `oma-dd:export` permission that allows dmpPair Copy (chosen).
pub const SYSTEM_DMP_PAIR_COPY: &str = "dmpPairCopy";
/// `<system>` value of a `<move>` permission restricted to dmpPair (chosen).
pub const SYSTEM_DMP_PAIR: &str = "dmpPair";

/// An LRM or SCE agent as other pairing parties know it (configuration, like `RiInfo`).
#[derive(Debug, Clone)]
pub struct PeerInfo {
    /// Actor name, e.g. `lrm/0`.
    pub name: String,
    /// Actor id.
    pub actor: ActorId,
    /// Its ID (SHA-1 of its SPKI).
    pub id: Identifier,
    /// Its certificate chain (leaf first), provisioned at build time.
    pub chain: Vec<Certificate>,
}

/// A held Pairing Ticket and its Pairing Key.
#[derive(Debug, Clone)]
pub struct HeldTicket {
    /// The ticket to present.
    pub ticket: PairingTicket,
    /// The Pairing Key recovered from `E_MK-requester(PK)`.
    pub pairing_key: SymKey,
    /// Expiry, ns since virtual zero.
    pub not_after_ns: u64,
}

/// Counters of the pairing protocols at an agent or LRM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairingStats {
    /// Authentication Requests rejected, by status.
    pub auth_rejected: BTreeMap<String, u64>,
    /// Authentication Requests accepted.
    pub auth_accepted: u64,
    /// dmpPair transfers installed as destination.
    pub transfers_in: u64,
    /// Duplicate transfers confirmed again without installing.
    pub duplicate_transfers: u64,
}

/// Pairing state of a DRM Agent (appended to `Agent`).
#[derive(Debug, Clone)]
pub struct AgentPairing {
    /// The certificate carries `oma-kp-sceDrmAgent`: the agent takes part in pairing.
    pub sce: bool,
    /// User Domain joined for pairing.
    pub user_domain: String,
    /// Master Key from the DEA (§7.2.1.1) and its expiry (ns since virtual zero).
    pub master_key: Option<(SymKey, u64)>,
    /// Held tickets by target ID.
    pub tickets: BTreeMap<Identifier, HeldTicket>,
    /// Established SACs by peer ID: the Pairing Key and its expiry.
    pub sacs: BTreeMap<Identifier, (SymKey, u64)>,
    /// Imported ROs held, by RO ID.
    pub imported: BTreeMap<String, ImportedEntry>,
    /// Moves whose transfer was sent but never confirmed: RO ID → destination index. The RO
    /// stays unusable and the Move is resumed on the next pairing activity.
    pub parked: BTreeMap<String, (usize, String)>,
    /// dmpPair transfers installed here: (source ID, transfer ID) → RO ID. A retried or
    /// resumed transfer repeats its transfer ID and is confirmed again without installing.
    pub received: BTreeMap<(Identifier, String), String>,
    /// Transfer IDs issued by this agent as a dmpPair source.
    pub next_transfer: u64,
    /// Authentication Request nonces seen, per requester (replay check).
    pub auth_nonces: NonceCache,
    /// Import Initiation nonces seen, per LRM (replay check).
    pub init_nonces: NonceCache,
    /// Counters.
    pub stats: PairingStats,
    /// Planned dmpPair operations (destination index in `World::sce_agents`, RO ID, copy),
    /// run first by the pair activity (tests, scripted scenarios).
    pub pair_script: std::collections::VecDeque<(usize, String, bool)>,
    /// Whether the pair activity picks random Moves/Copies once the script is empty.
    pub pair_random: bool,
}

impl AgentPairing {
    /// Empty state with caches bounded by `params`.
    pub fn new(params: &super::world::ProtoParams) -> Self {
        AgentPairing {
            sce: false,
            user_domain: DEFAULT_USER_DOMAIN.to_string(),
            master_key: None,
            tickets: BTreeMap::new(),
            sacs: BTreeMap::new(),
            imported: BTreeMap::new(),
            parked: BTreeMap::new(),
            received: BTreeMap::new(),
            next_transfer: 0,
            auth_nonces: NonceCache::new(params.nonce_cache_per_device, MAX_TICKETS * 16),
            init_nonces: NonceCache::new(params.nonce_cache_per_device, MAX_TICKETS),
            stats: PairingStats::default(),
            pair_script: std::collections::VecDeque::new(),
            pair_random: true,
        }
    }

    /// A usable Master Key at `now_ns`.
    pub fn mk(&self, now_ns: u64) -> Option<SymKey> {
        self.master_key
            .filter(|(_, na)| *na > now_ns)
            .map(|(k, _)| k)
    }
}

/// What a pairing session does.
#[derive(Debug, Clone)]
pub(crate) enum Flow {
    /// Join Domain for Pairing (§7.2.1.1).
    Join,
    /// Import from LRM `lrm` (index in `World::lrms`).
    Import { lrm: usize, ro_ids: Vec<String> },
    /// dmpPair Move/Copy of `ro_id` to SCE agent `dest` (index in `World::sce_agents`).
    Pair {
        dest: usize,
        ro_id: String,
        copy: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Join,
    Ticket,
    Auth,
    Transfer,
}

/// Agent-side state of a pairing session.
#[derive(Debug, Clone)]
pub(crate) struct AgentPairSession {
    pub(crate) flow: Flow,
    step: Step,
    /// The Pairing Key of the ticket being presented.
    pk: Option<SymKey>,
    /// A Move's transfer has been sent at least once (the RO may be at the destination).
    transfer_sent: bool,
    /// dmpPair transfer ID (`<encKey Id>`), stable across retries and resumption.
    transfer_id: String,
}

impl AgentPairSession {
    /// Outcome protocol name.
    pub(crate) fn protocol(&self) -> &'static str {
        match &self.flow {
            Flow::Join => super::protocols::PAIRING_JOIN,
            Flow::Import { .. } => super::protocols::IMPORT,
            Flow::Pair { copy: false, .. } => super::protocols::PAIRING,
            Flow::Pair { copy: true, .. } => super::protocols::PAIRING_COPY,
        }
    }
}

fn session(agent: &Agent, id: u64) -> Option<&AgentPairSession> {
    match &agent.sessions.get(&id)?.kind {
        SessionKind::Pairing(p) => Some(p),
        _ => None,
    }
}

fn session_mut(agent: &mut Agent, id: u64) -> Option<&mut AgentPairSession> {
    match &mut agent.sessions.get_mut(&id)?.kind {
        SessionKind::Pairing(p) => Some(p),
        _ => None,
    }
}

/// The target (actor, ID) of a flow.
fn target_of(world: &World, flow: &Flow) -> Option<(ActorId, Identifier)> {
    match flow {
        Flow::Join => None,
        Flow::Import { lrm, .. } => world.lrms.get(*lrm).map(|p| (p.actor, p.id.clone())),
        Flow::Pair { dest, .. } => world.sce_agents.get(*dest).map(|p| (p.actor, p.id.clone())),
    }
}

fn open(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, flow: Flow, step: Step) -> Option<u64> {
    let world = agent.world.clone();
    let peer = match &flow {
        Flow::Join => world.dea?,
        f => target_of(&world, f)?.0,
    };
    let kind = SessionKind::Pairing(Box::new(AgentPairSession {
        flow,
        step,
        pk: None,
        transfer_sent: false,
        transfer_id: String::new(),
    }));
    let id = agent.open_session(ctx, agent.home_ri, kind)?;
    if let Some(s) = agent.sessions.get_mut(&id) {
        s.peer = peer;
    }
    Some(id)
}

/// At start: an SCE agent joins the DEA's User Domain for pairing (§7.2.1.1).
pub(crate) fn agent_on_start(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    if agent.pairing.sce && agent.world.dea.is_some() {
        agent_start_join(agent, ctx);
    }
}

/// Starts Join Domain for Pairing with the DEA.
pub fn agent_start_join(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    if let Some(id) = open(agent, ctx, Flow::Join, Step::Join) {
        agent_send(agent, ctx, id);
    }
}

/// Starts an Import of `ro_ids` from LRM `lrm` (§7.2.1.2).
pub fn agent_start_import(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    lrm: usize,
    ro_ids: Vec<String>,
) {
    start_flow(
        agent,
        ctx,
        Flow::Import { lrm, ro_ids },
        false,
        String::new(),
    );
}

/// Starts a dmpPair Move (`copy = false`) or Copy of Imported RO `ro_id` to SCE agent `dest`
/// (§7.2.1.3). Ends at once (outcome `NotAllowed`-like statuses) if the RO does not permit it.
pub fn agent_start_pair(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    dest: usize,
    ro_id: &str,
    copy: bool,
) {
    let flow = Flow::Pair {
        dest,
        ro_id: ro_id.to_string(),
        copy,
    };
    if agent.world.sce_agents.get(dest).map(|p| &p.id) == Some(&agent.me.id) {
        return;
    }
    let parked = agent.pairing.parked.get(ro_id).cloned();
    let resuming = !copy && parked.as_ref().is_some_and(|(d, _)| *d == dest);
    let transfer_id = match parked.filter(|_| resuming) {
        Some((_, t)) => t,
        None => {
            agent.pairing.next_transfer += 1;
            format!("t{}", agent.pairing.next_transfer)
        }
    };
    if !resuming {
        if let Err(status) = check_transfer_allowed(agent, ro_id, copy) {
            if let Some(id) = open(agent, ctx, flow, Step::Ticket) {
                agent.finish_status(ctx, id, status);
            }
            return;
        }
        if !copy {
            // Seed 003 §9.1.1 step 2 applied to dmpPair: the RO is unusable from before the
            // first message of the Move until it is restored or deleted.
            if let Some(ro) = agent.ros.get_mut(ro_id) {
                ro.unusable = true;
            }
        }
    }
    let id = start_flow(agent, ctx, flow, resuming, transfer_id);
    if id.is_none() && !copy && !resuming {
        // No session could be opened (bound reached): nothing was sent, undo the marking.
        if let Some(ro) = agent.ros.get_mut(ro_id) {
            ro.restore_after_failed_move();
        }
    }
}

/// Whether RO `ro_id` may be moved (`copy = false`) or copied by dmpPair now.
fn check_transfer_allowed(agent: &Agent, ro_id: &str, copy: bool) -> Result<(), Status> {
    let (Some(entry), Some(ro)) = (agent.pairing.imported.get(ro_id), agent.ros.get(ro_id)) else {
        return Err(Status::NotFound);
    };
    if ro.unusable || ro.unusable_count > 0 || agent.pairing.parked.contains_key(ro_id) {
        return Err(Status::AccessDenied);
    }
    let allowed = if copy {
        permits_copy(&entry.rights)
    } else {
        permits_move(&entry.rights)
    };
    if !allowed {
        return Err(Status::AccessDenied);
    }
    // Seed 001 defines no State Information transfer for dmpPair: only an RO whose state is
    // still the one its signed <rights> describe can travel without creating or losing uses.
    if ro.constraint != initial_constraint(&entry.rights) {
        return Err(Status::AccessDenied);
    }
    Ok(())
}

/// Opens and starts a flow; `resumed` marks a parked Move whose transfer may already be at
/// the destination (never restored on failure).
fn start_flow(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    flow: Flow,
    resumed: bool,
    transfer_id: String,
) -> Option<u64> {
    let now = agent.drm_now(ctx.now());
    let (_, target) = target_of(&agent.world, &flow)?;
    // §7.2.1.2: a valid ticket for the target is reused; otherwise one is requested first.
    let held = agent
        .pairing
        .tickets
        .get(&target)
        .filter(|t| t.not_after_ns > now.saturating_add(TICKET_RENEW_MARGIN_NS))
        .map(|t| t.pairing_key);
    let step = if held.is_some() {
        Step::Auth
    } else {
        Step::Ticket
    };
    let id = open(agent, ctx, flow, step)?;
    if let Some(p) = session_mut(agent, id) {
        p.pk = held;
        p.transfer_sent = resumed;
        p.transfer_id = transfer_id;
    }
    agent_send(agent, ctx, id);
    Some(id)
}

/// Sends (or re-sends, with a fresh nonce) the current step of pairing session `id`.
pub(crate) fn agent_send(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
    let world = agent.world.clone();
    let Some(s) = agent.sessions.get(&id) else {
        return;
    };
    let nonce = if world.variants.fresh_nonce_retries || s.nonce.is_empty() {
        world.nonce(ctx.rng())
    } else {
        s.nonce.clone()
    };
    let Some(p) = session(agent, id).cloned() else {
        return;
    };
    let now = agent.drm_now(ctx.now());
    let built: Result<(ActorId, Pdu), Status> = match p.step {
        Step::Join => build_join(agent, nonce.clone(), now),
        Step::Ticket => build_ticket_request(agent, &p, nonce.clone(), now),
        Step::Auth => build_auth_request(agent, &p, nonce.clone(), now),
        Step::Transfer => build_transfer(agent, ctx, &p, nonce.clone()),
    };
    let (to, pdu) = match built {
        Ok(x) => x,
        Err(status) => {
            finish_flow(agent, ctx, id, status);
            return;
        }
    };
    let Some(s) = agent.sessions.get_mut(&id) else {
        return;
    };
    s.nonce = nonce;
    s.peer = to;
    if p.step == Step::Transfer {
        if let Some(q) = session_mut(agent, id) {
            q.transfer_sent = true;
        }
    }
    agent.send_pdu(ctx, to, pdu);
    agent.arm_timeout(ctx, id);
}

fn build_join(agent: &mut Agent, nonce: Vec<u8>, now: u64) -> Result<(ActorId, Pdu), Status> {
    let world = agent.world.clone();
    let (Some(dea), Some(dea_id)) = (world.dea, world.dea_id.clone()) else {
        return Err(Status::NotFound);
    };
    let mut req = PairingJoinDomainRequest {
        device_id: agent.me.id.clone(),
        dea_id,
        user_domain_id: agent.pairing.user_domain.clone(),
        nonce,
        time: world.datetime(now),
        certificate_chain: Some(agent.me.chain_wire.clone()),
        signature: Vec::new(),
    };
    req.signature = world
        .crypto
        .sign(
            &mut agent.ops,
            &agent.me.key,
            world.params.sig_alg,
            &Pdu::PairingJoinDomainRequest(req.clone()),
        )
        .map_err(|_| Status::UnknownError)?;
    Ok((dea, Pdu::PairingJoinDomainRequest(req)))
}

fn build_ticket_request(
    agent: &mut Agent,
    p: &AgentPairSession,
    nonce: Vec<u8>,
    now: u64,
) -> Result<(ActorId, Pdu), Status> {
    let world = agent.world.clone();
    let dea = world.dea.ok_or(Status::NotFound)?;
    // §7.2.1.2: "if the DRM Agent does not have the symmetric Master Key, then the Device
    // cannot request a Pairing Ticket".
    let mk = agent.pairing.mk(now).ok_or(Status::NoMasterKey)?;
    let (_, target_id) = target_of(&world, &p.flow).ok_or(Status::NotFound)?;
    // §7.2.1.3: the dmpPair ticket request carries the Imported-RO <rights> and the LRM
    // <signature> so the DEA can check the RO is a genuine Imported RO.
    let imported_rights = match &p.flow {
        Flow::Pair { ro_id, .. } => {
            let e = agent.pairing.imported.get(ro_id).ok_or(Status::NotFound)?;
            Some(ImportedRights {
                rights: e.rights.clone(),
                lrm_signature: e.lrm_signature.clone(),
            })
        }
        _ => None,
    };
    let mut req = PairingTicketRequest {
        requester_id: agent.me.id.clone(),
        target_id,
        nonce,
        imported_rights,
        mac: Vec::new(),
    };
    req.mac = world.crypto.mac(
        &mut agent.ops,
        &mk,
        world.params.mac_alg,
        &Pdu::PairingTicketRequest(req.clone()),
    );
    Ok((dea, Pdu::PairingTicketRequest(req)))
}

fn build_auth_request(
    agent: &mut Agent,
    p: &AgentPairSession,
    nonce: Vec<u8>,
    now: u64,
) -> Result<(ActorId, Pdu), Status> {
    let world = agent.world.clone();
    let (to, target_id) = target_of(&world, &p.flow).ok_or(Status::NotFound)?;
    let held = agent
        .pairing
        .tickets
        .get(&target_id)
        .filter(|t| t.not_after_ns > now)
        .cloned()
        .ok_or(Status::InvalidPairingTicket)?;
    let mut req = AuthenticationRequest {
        requester_id: agent.me.id.clone(),
        target_id,
        nonce,
        ticket: held.ticket,
        mac: Vec::new(),
    };
    req.mac = world.crypto.mac(
        &mut agent.ops,
        &held.pairing_key,
        world.params.mac_alg,
        &Pdu::AuthenticationRequest(req.clone()),
    );
    Ok((to, Pdu::AuthenticationRequest(req)))
}

fn build_transfer(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    p: &AgentPairSession,
    nonce: Vec<u8>,
) -> Result<(ActorId, Pdu), Status> {
    let world = agent.world.clone();
    let (to, target_id) = target_of(&world, &p.flow).ok_or(Status::NotFound)?;
    let pk = p.pk.ok_or(Status::InvalidPairingTicket)?;
    match &p.flow {
        Flow::Import { ro_ids, .. } => {
            let mut req = ImportedRoRequest {
                device_id: agent.me.id.clone(),
                lrm_id: target_id,
                nonce,
                ro_ids: ro_ids.clone(),
                mac: Vec::new(),
            };
            req.mac = world.crypto.mac(
                &mut agent.ops,
                &pk,
                world.params.mac_alg,
                &Pdu::ImportedRoRequest(req.clone()),
            );
            Ok((to, Pdu::ImportedRoRequest(req)))
        }
        Flow::Pair { ro_id, .. } => {
            let e = agent
                .pairing
                .imported
                .get(ro_id)
                .cloned()
                .ok_or(Status::NotFound)?;
            let time = world.datetime(agent.drm_now(ctx.now()));
            let tid = Some(p.transfer_id.clone());
            let pro = protect_imported(
                &world.crypto,
                &mut agent.ops,
                &world,
                ro_id,
                &e,
                &pk,
                time,
                tid,
            )
            .ok_or(Status::UnknownError)?;
            let mut msg = ImportedRoResponse {
                status: Status::Success,
                device_id: target_id,
                lrm_id: agent.me.id.clone(),
                nonce,
                protected_ros: vec![pro],
                mac: Vec::new(),
            };
            msg.mac = world.crypto.mac(
                &mut agent.ops,
                &pk,
                world.params.mac_alg,
                &Pdu::ImportedRoResponse(msg.clone()),
            );
            Ok((to, Pdu::ImportedRoResponse(msg)))
        }
        Flow::Join => Err(Status::UnknownError),
    }
}

/// Ends a pairing session, undoing a Move's unusable marking when the RO was never sent.
fn finish_flow(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64, status: Status) {
    if let Some(s) = agent.finish_status(ctx, id, status) {
        if let SessionKind::Pairing(p) = s.kind {
            if status != Status::Success {
                undo_move(agent, &p);
            }
        }
    }
}

fn undo_move(agent: &mut Agent, p: &AgentPairSession) {
    if let Flow::Pair {
        ro_id,
        copy: false,
        dest,
    } = &p.flow
    {
        if p.transfer_sent {
            // The destination may hold it: keep it unusable, resume later (never duplicate).
            agent
                .pairing
                .parked
                .insert(ro_id.clone(), (*dest, p.transfer_id.clone()));
        } else if let Some(ro) = agent.ros.get_mut(ro_id) {
            ro.restore_after_failed_move();
        }
    }
}

/// A pairing session was abandoned after its last retry (the `timeout` outcome is recorded).
pub(crate) fn agent_on_abandon(agent: &mut Agent, p: &AgentPairSession) {
    undo_move(agent, p);
}

fn advance(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64, step: Step, pk: Option<SymKey>) {
    if let Some(s) = agent.sessions.get_mut(&id) {
        s.attempts = 0;
    }
    if let Some(p) = session_mut(agent, id) {
        p.step = step;
        if pk.is_some() {
            p.pk = pk;
        }
    }
    agent_send(agent, ctx, id);
}

/// The pairing session waiting at `step` whose latest request carried `nonce`.
fn waiting(agent: &Agent, nonce: &[u8], step: Step) -> Option<u64> {
    let id = agent.session_by_nonce(nonce)?;
    (session(agent, id)?.step == step).then_some(id)
}

/// Join Domain Response: nonce, DEA chain and signature, then the Master Key.
pub(crate) fn agent_on_join_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    r: PairingJoinDomainResponse,
) {
    let Some(id) = waiting(agent, &r.nonce, Step::Join) else {
        return agent.discard(ctx, "joinDomainResponse matches no request");
    };
    let world = agent.world.clone();
    // The response is signed by the DEA (docs/pdus.md): verify chain, ID and signature
    // before believing even a failure status.
    let Some(chain) = r
        .certificate_chain
        .as_ref()
        .and_then(|c| world.certs.decode_chain(world.mode(), c).ok())
    else {
        return agent.discard(ctx, "joinDomainResponse without a usable DEA chain");
    };
    // The seed gives this response no OCSP element: chain and purpose only.
    if world
        .trust
        .validate(
            &world.crypto,
            &mut agent.ops,
            &chain,
            ctx.now(),
            PurposeRule::DEA,
            Revocation::NotChecked,
        )
        .is_err()
        || Some(World::id_of(&chain[0])) != world.dea_id
        || r.device_id != agent.me.id
    {
        return agent.discard(ctx, "joinDomainResponse from a party that is not our DEA");
    }
    let sig = r.signature.clone();
    if world
        .crypto
        .verify(
            &mut agent.ops,
            chain[0].public_key(),
            world.params.sig_alg,
            &Pdu::PairingJoinDomainResponse(r.clone()),
            &sig,
        )
        .is_err()
    {
        return agent.discard(ctx, "joinDomainResponse signature does not verify");
    }
    if r.status != Status::Success {
        return finish_flow(agent, ctx, id, r.status);
    }
    let Some(grant) = r.grant else {
        return finish_flow(agent, ctx, id, Status::MalformedRequest);
    };
    let mk = world
        .crypto
        .kem_unwrap(&mut agent.ops, &agent.me.key, &grant.enc_master_key.cipher)
        .ok()
        .and_then(|b| SymKey::from_slice(&b).ok());
    let Some(mk) = mk else {
        return finish_flow(agent, ctx, id, Status::UnknownError);
    };
    let not_after = match grant.not_after {
        Expiry::Infinite => u64::MAX,
        Expiry::At(t) => world.drm_ns(&t),
    };
    let first_join = agent.pairing.master_key.is_none();
    agent.pairing.master_key = Some((mk, not_after));
    agent.pairing.user_domain = grant.user_domain_id;
    // A new Master Key invalidates every ticket issued under the old one.
    agent.pairing.tickets.clear();
    finish_flow(agent, ctx, id, Status::Success);
    if first_join {
        // The pairing workload starts once the agent can obtain tickets.
        agent.schedule(ctx, Activity::Import);
        agent.schedule(ctx, Activity::Pair);
    }
}

/// Pairing Ticket Response: nonce, HMAC under MK-requester, then the Pairing Key.
pub(crate) fn agent_on_ticket_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    r: PairingTicketResponse,
) {
    let Some(id) = waiting(agent, &r.nonce, Step::Ticket) else {
        return agent.discard(ctx, "pairingTicketResponse matches no request");
    };
    let world = agent.world.clone();
    let now = agent.drm_now(ctx.now());
    let Some(mk) = agent.pairing.mk(now) else {
        return finish_flow(agent, ctx, id, Status::NoMasterKey);
    };
    let mac_ok = world
        .crypto
        .verify_mac(
            &mut agent.ops,
            &mk,
            world.params.mac_alg,
            &Pdu::PairingTicketResponse(r.clone()),
            &r.mac,
        )
        .is_ok();
    if r.status != Status::Success {
        // A failure grants nothing; a DEA that lost our MK cannot MAC it (NoMasterKey).
        return finish_flow(agent, ctx, id, r.status);
    }
    if !mac_ok || r.requester_id != agent.me.id {
        return agent.discard(ctx, "pairingTicketResponse MAC does not verify");
    }
    let Some((ticket, enc_pk)) = r.grant else {
        return finish_flow(agent, ctx, id, Status::MalformedRequest);
    };
    let pk = world
        .crypto
        .unwrap(&mut agent.ops, &mk, &enc_pk.cipher)
        .ok()
        .and_then(|b| SymKey::from_slice(&b).ok());
    let Some(pk) = pk else {
        return finish_flow(agent, ctx, id, Status::InvalidPairingTicket);
    };
    let not_after_ns = match ticket.not_after {
        Expiry::Infinite => u64::MAX,
        Expiry::At(t) => world.drm_ns(&t),
    };
    let tickets = &mut agent.pairing.tickets;
    // §7.2.1.2: a new ticket for the same target replaces ("discards") the old one.
    tickets.remove(&r.target_id);
    if tickets.len() >= MAX_TICKETS {
        if let Some(k) = tickets
            .iter()
            .min_by_key(|(_, t)| t.not_after_ns)
            .map(|(k, _)| k.clone())
        {
            tickets.remove(&k);
        }
    }
    tickets.insert(
        r.target_id,
        HeldTicket {
            ticket,
            pairing_key: pk,
            not_after_ns,
        },
    );
    advance(agent, ctx, id, Step::Auth, Some(pk));
}

/// Authentication Response (or, for a dmpPair source, the destination's confirmation).
pub(crate) fn agent_on_auth_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    r: AuthenticationResponse,
) {
    let id =
        waiting(agent, &r.nonce, Step::Auth).or_else(|| waiting(agent, &r.nonce, Step::Transfer));
    let Some(id) = id else {
        return agent.discard(ctx, "authenticationResponse matches no request");
    };
    let world = agent.world.clone();
    let Some(p) = session(agent, id).cloned() else {
        return;
    };
    let Some((_, target_id)) = target_of(&world, &p.flow) else {
        return;
    };
    let Some(pk) = p.pk else {
        return finish_flow(agent, ctx, id, Status::InvalidPairingTicket);
    };
    let mac_ok = world
        .crypto
        .verify_mac(
            &mut agent.ops,
            &pk,
            world.params.mac_alg,
            &Pdu::AuthenticationResponse(r.clone()),
            &r.mac,
        )
        .is_ok();
    if r.status != Status::Success {
        if p.step == Step::Transfer && mac_ok {
            // A MAC'd refusal of the transfer is the destination's word that it did not
            // install the RO: a Move may restore it (an unauthenticated one may not).
            if let Some(q) = session_mut(agent, id) {
                q.transfer_sent = false;
            }
            if let Flow::Pair { ro_id, .. } = &p.flow {
                agent.pairing.parked.remove(ro_id);
            }
        }
        if p.step == Step::Auth && r.status == Status::InvalidPairingTicket {
            // The target refused our ticket: never present it again.
            agent.pairing.tickets.remove(&target_id);
        }
        return finish_flow(agent, ctx, id, r.status);
    }
    if !mac_ok || r.requester_id != agent.me.id || r.target_id != target_id {
        return agent.discard(ctx, "authenticationResponse MAC does not verify");
    }
    match p.step {
        Step::Auth => {
            // §7.2.1.2: the LRM/destination is authenticated; the SAC uses the Pairing Key.
            let exp = agent
                .pairing
                .tickets
                .get(&target_id)
                .map_or(0, |t| t.not_after_ns);
            put_sac(&mut agent.pairing, target_id, pk, exp);
            advance(agent, ctx, id, Step::Transfer, None);
        }
        Step::Transfer => {
            // The destination confirmed installation: only now does a Move delete the RO.
            if let Flow::Pair {
                ro_id, copy: false, ..
            } = &p.flow
            {
                agent.ros.remove(ro_id);
                agent.pairing.imported.remove(ro_id);
                agent.pairing.parked.remove(ro_id);
            }
            finish_flow(agent, ctx, id, Status::Success);
        }
        _ => {}
    }
}

/// Imported-RO Response: the LRM's answer to our request, or a dmpPair transfer pushed by a
/// source agent over its SAC with us.
pub(crate) fn agent_on_imported_ro_response(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    r: ImportedRoResponse,
) {
    if let Some(id) = waiting(agent, &r.nonce, Step::Transfer) {
        return import_response(agent, ctx, id, r);
    }
    dest_on_transfer(agent, ctx, from, r);
}

fn import_response(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, id: u64, r: ImportedRoResponse) {
    let world = agent.world.clone();
    let Some(p) = session(agent, id).cloned() else {
        return;
    };
    let Flow::Import { lrm, .. } = p.flow else {
        return agent.discard(ctx, "importedROResponse for a non-import session");
    };
    let Some(pk) = p.pk else {
        return;
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
        || r.lrm_id != world.lrms[lrm].id
    {
        if r.status != Status::Success {
            return finish_flow(agent, ctx, id, r.status);
        }
        return agent.discard(ctx, "importedROResponse MAC does not verify");
    }
    if r.status != Status::Success {
        return finish_flow(agent, ctx, id, r.status);
    }
    let mut opened = Vec::new();
    for pro in &r.protected_ros {
        // §7.2.1.2: the LRM signature over <rights> is verified before installing.
        match open_imported(&world.crypto, &mut agent.ops, &world, &pk, pro) {
            Some((e, l)) if l == lrm => opened.push((pro.ro.id.clone(), e)),
            _ => return finish_flow(agent, ctx, id, Status::SignatureError),
        }
    }
    for (ro_id, e) in opened {
        install(agent, &ro_id, e, lrm);
    }
    finish_flow(agent, ctx, id, Status::Success);
}

/// Workload: an agent-initiated Import of fresh content from a random LRM.
pub(crate) fn agent_import_activity(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    let n = agent.world.lrms.len();
    if !agent.pairing.sce || n == 0 {
        return;
    }
    let lrm = ctx.rng().gen_range(0..n);
    let k = agent.workload.ros_per_request.max(1);
    let ro_ids = (0..k)
        .map(|_| format!("imp:{:08x}", ctx.rng().gen::<u32>()))
        .collect();
    agent_start_import(agent, ctx, lrm, ro_ids);
}

/// Workload: resume a parked Move, else run the next scripted operation, else Move or Copy
/// a random Imported RO to a random other SCE agent.
pub(crate) fn agent_pair_activity(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>) {
    if !agent.pairing.sce {
        return;
    }
    if let Some((ro_id, dest)) = agent
        .pairing
        .parked
        .iter()
        .next()
        .map(|(r, d)| (r.clone(), d.0))
    {
        if !agent.sessions.values().any(|s| {
            matches!(&s.kind, SessionKind::Pairing(p) if matches!(&p.flow, Flow::Pair { ro_id: r, .. } if *r == ro_id))
        }) {
            agent_start_pair(agent, ctx, dest, &ro_id, false);
        }
        return;
    }
    if let Some((dest, ro_id, copy)) = agent.pairing.pair_script.pop_front() {
        agent_start_pair(agent, ctx, dest, &ro_id, copy);
        return;
    }
    if !agent.pairing.pair_random {
        return;
    }
    let peers: Vec<usize> = (0..agent.world.sce_agents.len())
        .filter(|i| agent.world.sce_agents[*i].id != agent.me.id)
        .collect();
    let candidates: Vec<String> = agent
        .pairing
        .imported
        .keys()
        .filter(|k| agent.ros.get(*k).is_some_and(|r| !r.unusable))
        .cloned()
        .collect();
    if peers.is_empty() || candidates.is_empty() {
        return;
    }
    let dest = peers[ctx.rng().gen_range(0..peers.len())];
    let ro_id = candidates[ctx.rng().gen_range(0..candidates.len())].clone();
    let copy = ctx
        .rng()
        .gen_bool(agent.workload.pair_copy_probability.clamp(0.0, 1.0));
    agent_start_pair(agent, ctx, dest, &ro_id, copy);
}
