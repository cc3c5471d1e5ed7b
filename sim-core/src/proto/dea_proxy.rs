//! DEA-managed User Domains for v2.x DRM Agents (seed 000): Get User Domain Authorization
//! (§7.2.2), Proxy Join User Domain (§7.4.1/§7.4.2, RI side §7.4.1.2), Proxy Leave User
//! Domain (§7.5.1/§7.5.2, RI side §7.5.2.1) and the DEA-triggered leave (§7.7, §7.6.1,
//! §7.6.2). Both ends live here: the DEA side (`dea_on_…`) and the RI side (`ri_…`); the
//! DEA's replay check and its freshness windows are in `freshness`, the DEA-triggered leave
//! in `trigger`, UDK grants in `udk`.
//!
//! Readings chosen where seed 000 is silent or ambiguous (a standards engineer's choice,
//! written down here and in docs/protocols.md):
//! - SCE-GEN "default processing" of a DEA request: an unknown requester (no MK) is
//!   answered `NoMasterKey` (unMACed); a MAC that does not verify under the MK is answered
//!   `SignatureError` (MACed). These run before the §7.4.1 checks.
//! - §7.4.1 "unknown domain": the request's `<domainID>` base is mapped onto no User Domain
//!   by any RI (or names a generation the DEA has not reached) → `InvalidDomain`. A domain
//!   the DEA knows through another RI's mapping but this RI holds no authorization with a
//!   `domainID` mapping for (§7.2.2: "the DEA MUST not allow the Proxy Join") is "any other
//!   reason" → `DomainAccessDenied`, checked last as the text lists it.
//! - §7.4.1 note, pre-CR reading (`Variants::dea_count_once == false`): the DEA counts the
//!   Device ↔ User Domain ↔ RI associations of the requesting RI against the maximum, so
//!   each RI is checked separately and the User Domain as a whole can exceed its maximum.
//! - §7.5.2 `<userDomainId>` has type roap:DomainIdentifier and §7.5.2.1 copies it into the
//!   v2.x Device's LeaveDomainResponse `<domainID>`, which the Device matches against the
//!   domain it asked to leave: the DEA therefore echoes the leaveDomainRequest's
//!   `<domainID>` (the ROAP identifier mapped onto the User Domain).
//! - §7.5.2.1 is followed literally: a non-Success Proxy Leave response is forwarded as a
//!   status-only LeaveDomainResponse without verifying the DEA MAC; only a Success response
//!   is verified (failure → `DomainAccessDenied`). §7.4.1.2 verifies the MAC first.
//! - §7.6.1 marks the trigger `<signature>` optional; the RI requires it (an unauthenticated
//!   trigger would let anyone evict Devices) and discards triggers without a valid MAC.
//! - The Get User Domain Authorization Response is not spelled out (pdu/dea.rs): the DEA
//!   grants the known User Domains of the request, each as a DEA-signed
//!   [`UserDomainAuthorization`] the RI keeps for the §9.2 user-domain-constrained Move
//!   (seed 003 §9.2.3 step 4); no known User Domain → `InvalidDomain`.

mod freshness;
mod trigger;
pub mod udk;

pub use trigger::dea_trigger_leave;
pub(crate) use trigger::{dea_on_start, dea_on_timer, ri_on_leave_trigger};

use super::dea::Dea;
use super::domain::{domain_id, split_domain_id, DomainKeyMacInput, DomainKeyProfile, JOIN, LEAVE};
use super::msg::SimMsg;
use super::ri::Ri;
use super::world::World;
use crate::crypto::{OpCounter, SymKey};
use crate::engine::{ActorId, Ctx, SimTime};
use crate::pdu::common::ALG_KEM;
use crate::pdu::dea::{
    GenHeader, GetUserDomainAuthorizationRequest, GetUserDomainAuthorizationResponse,
    ProxyDomainRequest, ProxyJoinResInfo, ProxyJoinUserDomainResponse,
    ProxyLeaveUserDomainResponse, UserDomainRequest,
};
use crate::pdu::moves::{UdaHolder, UserDomainAuthorization};
use crate::pdu::roap::{
    DomainRequest, JoinDomainRequest, JoinDomainResponse, JoinDomainResponseBody,
    LeaveDomainRequest, LeaveDomainResponse, LeaveDomainResponseBody,
};
use crate::pdu::{
    DateTime, DomainInfo, DomainKey, Encrypted, Expiry, Ext, Extension, Identifier, KeyInfo, Pdu,
    Status,
};
use crate::pki::{Certificate, Revocation};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// DEA-side protocol name of Get User Domain Authorization (status counters).
pub const GET_AUTHZ: &str = "get_user_domain_authorization";
/// DEA-side protocol name of Proxy Join User Domain.
pub const PROXY_JOIN: &str = "proxy_join_user_domain";
/// DEA-side protocol name of Proxy Leave User Domain.
pub const PROXY_LEAVE: &str = "proxy_leave_user_domain";
/// Proxy requests an RI keeps waiting for the DEA's answer (oldest evicted).
pub const MAX_PENDING_PROXY: usize = 100_000;
/// Trigger nonces from the DEA an RI remembers (replayed triggers are discarded).
pub const MAX_SEEN_DEA_TRIGGERS: usize = 4096;
/// Bound on the User Domains a DEA manages.
pub const MAX_USER_DOMAINS: u32 = 10_000;
/// Timer tag of the RI's Get User Domain Authorization retry (outside the OCSP tag range).
pub const TAG_AUTHZ_RETRY: u64 = 0xDEA0_0001;
/// Timer tag of the DEA's triggered-leave workload.
pub const TAG_TRIGGER_LEAVE: u64 = 0xDEA0_0002;
/// The DEA's request URL written into its triggers (`<reqURL>`).
pub const DEA_URL: &str = "https://dea-0.example/sce";

// ------------------------------------------------------------------ configuration

/// How User Domains are provisioned at the DEA (part of the world configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserDomainConfig {
    /// User Domains the DEA manages (0 = none; every RI asks for all of them).
    pub user_domains: u32,
    /// Maximum number of Devices per User Domain (`DomainFull` beyond it).
    pub max_devices: usize,
    /// Newest generation at start (UDKs exist for 0..=generation).
    pub generation: u32,
    /// The DEA manages UDKs with the [DRM-DRM-v2.1] hash chain: it stores only the newest
    /// UDK and derives K(g−1) = KDF2-SHA1(K(g), 16).
    pub hash_chains: bool,
    /// User Domain lifetime from virtual zero (`None` = `Infinite`).
    pub lifetime_ns: Option<u64>,
    /// DEA-triggered leaves per minute over the whole DEA (Poisson; 0 = none).
    pub trigger_leave_rate_per_min: f64,
    /// Share of agents announcing Hash Chain Support in their JoinDomainRequests (spread
    /// evenly over agent indices).
    pub agents_hash_chain_fraction: f64,
    /// Share of Domain RO requests naming an older generation than the newest held.
    pub older_generation_ro_fraction: f64,
}

impl Default for UserDomainConfig {
    fn default() -> Self {
        UserDomainConfig {
            user_domains: 0,
            max_devices: 10,
            generation: 0,
            hash_chains: false,
            lifetime_ns: None,
            trigger_leave_rate_per_min: 0.0,
            agents_hash_chain_fraction: 0.0,
            older_generation_ro_fraction: 0.0,
        }
    }
}

impl UserDomainConfig {
    /// ID of the `k`-th User Domain.
    pub fn user_domain_id(k: u32) -> String {
        format!("userdomain{k}")
    }

    /// ROAP domain ID base every RI maps onto the `k`-th User Domain (§7.2.2 `domainID`).
    pub fn domain_base(k: u32) -> String {
        format!("ud{k}-")
    }

    /// The ROAP domain ID (base + current generation) of the `k`-th User Domain.
    pub fn roap_domain_id(&self, k: u32) -> String {
        domain_id(&Self::domain_base(k), self.generation)
    }

    /// ROAP domain IDs of every User Domain (what agents may join through any RI).
    pub fn roap_domain_ids(&self) -> Vec<String> {
        (0..self.user_domains.min(MAX_USER_DOMAINS))
            .map(|k| self.roap_domain_id(k))
            .collect()
    }

    fn expiry(&self, epoch_unix_s: u64) -> Expiry {
        match self.lifetime_ns {
            None => Expiry::Infinite,
            Some(ns) => Expiry::At(DateTime::from_unix_s(
                epoch_unix_s + ns / crate::engine::time::NS_PER_S,
            )),
        }
    }
}

// ------------------------------------------------------------------ DEA state

/// One User Domain at the DEA.
#[derive(Debug, Clone)]
pub struct UserDomain {
    /// User Domain ID.
    pub id: String,
    /// Maximum number of Devices.
    pub max_devices: usize,
    /// Newest generation.
    pub generation: u32,
    /// UDKs by generation (index = generation); with hash chains only the newest is kept.
    pub keys: Vec<SymKey>,
    /// UDKs are managed with the hash chain.
    pub hash_chain: bool,
    /// End of the User Domain Context.
    pub not_after: Expiry,
    /// Device → RIs (by ID) it is associated through (§7.4.1 "association of the DRM Agent
    /// and the User Domain and the RI").
    pub members: BTreeMap<Identifier, BTreeSet<Identifier>>,
}

impl UserDomain {
    /// A User Domain with UDKs for `0..=generation` from `rng` (hash chain: the newest is
    /// drawn, the older ones follow from it).
    pub fn new(
        id: String,
        cfg: &UserDomainConfig,
        not_after: Expiry,
        rng: &mut dyn rand::RngCore,
    ) -> Self {
        let generation = cfg.generation.min(super::domain::state::MAX_GENERATION);
        let keys = if cfg.hash_chains {
            vec![SymKey::random(rng)]
        } else {
            (0..=generation).map(|_| SymKey::random(rng)).collect()
        };
        UserDomain {
            id,
            max_devices: cfg.max_devices,
            generation,
            keys,
            hash_chain: cfg.hash_chains,
            not_after,
            members: BTreeMap::new(),
        }
    }

    /// The newest UDK.
    pub fn newest_key(&self) -> SymKey {
        *self.keys.last().expect("a User Domain always has a key")
    }

    /// The UDK of generation `g` (derived along the hash chain when the DEA uses one).
    pub fn key(&self, world: &World, ops: &mut OpCounter, g: u32) -> Option<SymKey> {
        if self.hash_chain {
            world
                .crypto
                .udk_for_generation(ops, &self.newest_key(), self.generation, g)
                .ok()
        } else {
            self.keys.get(g as usize).copied()
        }
    }

    /// Devices counted against the maximum for a join through `ri`: each Device once
    /// (seed 000 §7.4.1 note), or pre-CR the associations recorded for `ri` only.
    pub fn count(&self, count_once: bool, ri: &Identifier) -> usize {
        if count_once {
            self.members.len()
        } else {
            self.members.values().filter(|r| r.contains(ri)).count()
        }
    }

    /// Whether `device` already counts (joining again does not add to the count).
    pub fn counted(&self, count_once: bool, device: &Identifier, ri: &Identifier) -> bool {
        match self.members.get(device) {
            None => false,
            Some(r) => count_once || r.contains(ri),
        }
    }
}

/// Counters of the DEA side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeaProxyStats {
    /// Requests whose MK MAC did not verify.
    pub mac_failures: u64,
    /// Associations deleted by Proxy Leave (the Device left the User Domain).
    pub associations_deleted: u64,
    /// RI links removed while another RI kept the Device in the User Domain.
    pub ri_links_removed: u64,
    /// Proxy Leave User Domain Triggers sent.
    pub triggers_sent: u64,
    /// RI requests refused as replays: nonce already answered inside its window, or the
    /// embedded Device request's DRM time outside the window (`dea_proxy::freshness`).
    pub replays_refused: u64,
}

/// What a DEA keeps about User Domains.
#[derive(Debug, Clone)]
pub struct DeaUserDomains {
    /// Configuration.
    pub config: UserDomainConfig,
    /// The DEA's seed-002 reading used for the `<domainKey>` MACs it computes.
    pub profile: DomainKeyProfile,
    /// User Domains by ID.
    pub domains: BTreeMap<String, UserDomain>,
    /// Per RI/LRM ID: User Domain → the ROAP domain base mapped onto it (§7.2.2 `domainID`
    /// attribute; `None` = authorized without mapping, no Proxy Join).
    pub authorizations: BTreeMap<Identifier, BTreeMap<String, Option<String>>>,
    /// Master Keys of the RI/LRM contexts, by peer ID.
    pub master_keys: BTreeMap<Identifier, SymKey>,
    /// (User Domain, Device) pairs the DEA triggered to leave and still holds (the
    /// workload does not trigger them again; bounded by the members).
    pub evicting: BTreeSet<(String, Identifier)>,
    /// Counters.
    pub stats: DeaProxyStats,
}

impl Default for DeaUserDomains {
    fn default() -> Self {
        DeaUserDomains {
            config: UserDomainConfig::default(),
            profile: DomainKeyProfile::from_variants(&super::world::Variants::default()),
            domains: BTreeMap::new(),
            authorizations: BTreeMap::new(),
            master_keys: BTreeMap::new(),
            evicting: BTreeSet::new(),
            stats: DeaProxyStats::default(),
        }
    }
}

impl DeaUserDomains {
    /// The User Domains per `cfg` (keys from `rng`), the DEA's reading `profile`, and the
    /// Master Keys of every RI of `world` (derived from the run `seed`).
    pub fn provision(
        cfg: &UserDomainConfig,
        profile: DomainKeyProfile,
        world: &World,
        seed: u64,
        rng: &mut dyn rand::RngCore,
    ) -> Self {
        let not_after = cfg.expiry(world.epoch_unix_s);
        let domains = (0..cfg.user_domains.min(MAX_USER_DOMAINS))
            .map(|k| {
                let id = UserDomainConfig::user_domain_id(k);
                (id.clone(), UserDomain::new(id, cfg, not_after, rng))
            })
            .collect();
        DeaUserDomains {
            config: *cfg,
            profile,
            domains,
            authorizations: BTreeMap::new(),
            master_keys: world
                .ris
                .iter()
                .map(|r| (r.id.clone(), World::dea_master_key(seed, &r.name)))
                .collect(),
            evicting: BTreeSet::new(),
            stats: DeaProxyStats::default(),
        }
    }

    /// The User Domain the ROAP domain `base` maps to: through `ri`'s own mapping first,
    /// else through any RI's; with whether `ri` holds that mapping.
    fn resolve(&self, ri: &Identifier, base: &str) -> Option<(String, bool)> {
        let mapped = |m: &BTreeMap<String, Option<String>>| {
            m.iter()
                .find(|(_, b)| b.as_deref() == Some(base))
                .map(|(ud, _)| ud.clone())
        };
        if let Some(ud) = self.authorizations.get(ri).and_then(mapped) {
            return Some((ud, true));
        }
        self.authorizations
            .values()
            .find_map(mapped)
            .map(|ud| (ud, false))
    }
}

// ------------------------------------------------------------------ RI state

/// A Device request the RI proxied to the DEA.
#[derive(Debug, Clone)]
struct PendingProxy {
    device: ActorId,
    request: DomainRequest,
    join: bool,
}

/// Counters of the RI side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiDeaStats {
    /// Proxy Join/Leave requests sent to the DEA.
    pub proxied: u64,
    /// DEA responses whose MAC did not verify.
    pub dea_mac_failures: u64,
    /// DEA responses matching no pending request.
    pub unmatched_responses: u64,
    /// Proxy Leave User Domain Triggers accepted (ROAP leaveDomain triggers sent).
    pub triggers_accepted: u64,
    /// Triggers discarded (no/bad MAC, wrong DEA, replay, unknown Device or domain).
    pub triggers_discarded: u64,
}

/// What an RI keeps about the DEA.
#[derive(Debug, Clone, Default)]
pub struct RiDea {
    /// Master Key of this RI's context with the DEA (`None`: no DEA in the run).
    pub mk: Option<SymKey>,
    /// Generation of the ROAP domain IDs mapped onto User Domains (from the configuration).
    pub generation: u32,
    /// Authorizations granted by the DEA, by User Domain (kept for the §9.2 Move).
    pub authorizations: BTreeMap<String, UserDomainAuthorization>,
    /// User Domains this RI asks the DEA for, with the domain ID it maps onto each.
    pub wanted: Vec<UserDomainRequest>,
    authz_nonce: Option<Vec<u8>>,
    authz_attempts: u32,
    pending: BTreeMap<Vec<u8>, PendingProxy>,
    pending_order: VecDeque<Vec<u8>>,
    seen_triggers: VecDeque<Vec<u8>>,
    /// UDKs and the members joined through this RI, for User Domain ROs (`udk.rs`).
    pub udks: udk::RiUserDomains,
    /// Counters.
    pub stats: RiDeaStats,
}

impl RiDea {
    /// The RI named `ri_name`'s DEA context: its MK (from `seed`) and a request for every
    /// User Domain of `cfg`, each mapped onto its ROAP domain ID.
    pub fn provision(cfg: &UserDomainConfig, seed: u64, ri_name: &str) -> Self {
        RiDea {
            mk: Some(World::dea_master_key(seed, ri_name)),
            generation: cfg.generation,
            wanted: (0..cfg.user_domains.min(MAX_USER_DOMAINS))
                .map(|k| UserDomainRequest {
                    user_domain_id: UserDomainConfig::user_domain_id(k),
                    domain_id: Some(cfg.roap_domain_id(k)),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn remember(&mut self, nonce: Vec<u8>, p: PendingProxy) {
        if self.pending.len() >= MAX_PENDING_PROXY {
            while let Some(old) = self.pending_order.pop_front() {
                if self.pending.remove(&old).is_some() {
                    break;
                }
            }
        }
        self.pending_order.push_back(nonce.clone());
        self.pending.insert(nonce, p);
        if self.pending_order.len() > 2 * MAX_PENDING_PROXY {
            let live = &self.pending;
            self.pending_order.retain(|n| live.contains_key(n));
        }
    }

    /// Proxied requests still waiting for the DEA.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

// ------------------------------------------------------------------ shared helpers

fn header(
    world: &World,
    rng: &mut dyn rand::RngCore,
    req_id: Identifier,
    res_id: Identifier,
) -> GenHeader {
    let mut nonce = vec![0u8; world.params.nonce_bytes];
    rng.fill_bytes(&mut nonce);
    GenHeader {
        trigger_none: false,
        session_id: None,
        req_id,
        res_id,
        nonce,
        certificate_chain: None,
    }
}

/// Response header echoing the request's IDs and nonce (SCE-GEN).
fn echo(h: &GenHeader) -> GenHeader {
    GenHeader {
        trigger_none: false,
        session_id: h.session_id.clone(),
        req_id: h.req_id.clone(),
        res_id: h.res_id.clone(),
        nonce: h.nonce.clone(),
        certificate_chain: None,
    }
}

/// MAC of `pdu` (its `<signature>` excluded) under `mk`.
fn mk_mac(world: &World, ops: &mut OpCounter, mk: &SymKey, pdu: &Pdu) -> Vec<u8> {
    world.crypto.mac(ops, mk, world.params.mac_alg, pdu)
}

fn mk_verify(world: &World, ops: &mut OpCounter, mk: &SymKey, pdu: &Pdu, tag: &[u8]) -> bool {
    world
        .crypto
        .verify_mac(ops, mk, world.params.mac_alg, pdu, tag)
        .is_ok()
}

// ------------------------------------------------------------------ DEA side

impl Dea {
    fn mk_of(&self, peer: &Identifier) -> Option<SymKey> {
        self.user_domains.master_keys.get(peer).copied()
    }
}

/// Get User Domain Authorization Request at the DEA (§7.2.2).
pub(crate) fn dea_on_get_authorization(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: GetUserDomainAuthorizationRequest,
) {
    let world = dea.world.clone();
    let peer = req.header.req_id.clone();
    let mut resp = GetUserDomainAuthorizationResponse {
        status: Status::Success,
        header: echo(&req.header),
        authorizations: None,
        user_domain_keys: Vec::new(),
        signature: Vec::new(),
    };
    let Some(mk) = dea.mk_of(&peer) else {
        resp.status = Status::NoMasterKey;
        dea.count_status(GET_AUTHZ, resp.status);
        return dea.reply(ctx, from, Pdu::GetUserDomainAuthorizationResponse(resp));
    };
    let signed = Pdu::GetUserDomainAuthorizationRequest(req.clone());
    // A `<resID>` naming another DEA fails the SCE-GEN default processing exactly as in
    // Proxy Join/Leave (`default_processing`): the ResContext it names is not this DEA's,
    // so its MK cannot authenticate the request → SignatureError (one status for the same
    // check in all three DEA requests).
    if req.header.res_id != dea.me.id
        || !mk_verify(&world, &mut dea.ops, &mk, &signed, &req.signature)
    {
        dea.user_domains.stats.mac_failures += 1;
        resp.status = Status::SignatureError;
    } else if let Err(s) = freshness::admit(dea, ctx, &req.header, None) {
        resp.status = s;
    } else {
        let mut granted = Vec::new();
        let not_before = world.datetime(ctx.now().as_ns());
        for u in &req.user_domains {
            let Some(d) = dea.user_domains.domains.get(&u.user_domain_id).cloned() else {
                continue;
            };
            let not_after = d.not_after;
            // The mapping is kept by domain base: generations come and go under one ID.
            let base = u
                .domain_id
                .as_deref()
                .map(|d| split_domain_id(d).map_or(d, |(b, _)| b).to_string());
            dea.user_domains
                .authorizations
                .entry(peer.clone())
                .or_default()
                .insert(u.user_domain_id.clone(), base);
            let mut a = UserDomainAuthorization {
                holder: UdaHolder::Ri,
                user_domain_id: u.user_domain_id.clone(),
                domain_id: u.domain_id.clone(),
                entity_id: peer.clone(),
                dea_id: dea.me.id.clone(),
                not_before,
                not_after,
                signature: Vec::new(),
            };
            match world
                .crypto
                .sign(&mut dea.ops, &dea.me.key, world.params.sig_alg, &a)
            {
                Ok(s) => a.signature = s,
                Err(_) => continue,
            }
            granted.push(a);
            resp.user_domain_keys
                .extend(udk::grants(&world, &mut dea.ops, &mk, &d));
        }
        if granted.is_empty() {
            resp.status = Status::InvalidDomain;
            resp.user_domain_keys.clear();
        } else {
            resp.authorizations = Some(granted);
        }
    }
    resp.signature = mk_mac(
        &world,
        &mut dea.ops,
        &mk,
        &Pdu::GetUserDomainAuthorizationResponse(resp.clone()),
    );
    dea.count_status(GET_AUTHZ, resp.status);
    dea.reply(ctx, from, Pdu::GetUserDomainAuthorizationResponse(resp));
}

/// The checks §7.4.1 and §7.5.1 share, in the text's order: Device chain incl. revocation,
/// key purpose (drmAgent, not sceDrmAgent), the embedded request's signature. The Device's
/// leaf certificate on success.
fn check_device(
    dea: &mut Dea,
    now: SimTime,
    req: &ProxyDomainRequest,
    join: bool,
) -> Result<Certificate, Status> {
    let world = dea.world.clone();
    let wire = req
        .device_request
        .certificate_chain
        .as_ref()
        .or(req.device_certificate_chain.as_ref())
        .ok_or(Status::InvalidCertificateChain)?;
    let chain = world
        .certs
        .decode_chain(world.mode(), wire)
        .map_err(|_| Status::InvalidCertificateChain)?;
    // Seed 000 §7.4.1: any chain validation failure, revocation included, is
    // InvalidCertificateChain (no finer status is named for the DEA).
    world
        .trust
        .validate(
            &world.crypto,
            &mut dea.ops,
            &chain,
            now,
            crate::pki::PurposeRule::ANY,
            Revocation::List(&world.revocations),
        )
        .map_err(|_| Status::InvalidCertificateChain)?;
    let leaf = chain[0].clone();
    let rule = crate::pki::PurposeRule::V2_DRM_AGENT;
    if rule.require.iter().any(|p| !leaf.has_purpose(*p))
        || rule.forbid.iter().any(|p| leaf.has_purpose(*p))
    {
        return Err(Status::InvalidCertificateChain);
    }
    // The Device's signature over its own request, by the key its deviceID names.
    let signed = if join {
        Pdu::JoinDomainRequest(JoinDomainRequest(req.device_request.clone()))
    } else {
        Pdu::LeaveDomainRequest(LeaveDomainRequest(req.device_request.clone()))
    };
    if World::id_of(&leaf) != req.device_request.device_id
        || world
            .crypto
            .verify(
                &mut dea.ops,
                leaf.public_key(),
                world.params.sig_alg,
                &signed,
                &req.device_request.signature,
            )
            .is_err()
    {
        return Err(Status::SignatureError);
    }
    Ok(leaf)
}

/// SCE-GEN default processing of a proxy request: the MK of the requester and its MAC.
/// `Err(None)` = no MK (answer unMACed), `Err(Some(status))` = answer MACed.
fn default_processing(
    dea: &mut Dea,
    req: &ProxyDomainRequest,
    signed: &Pdu,
) -> Result<SymKey, Option<SymKey>> {
    let world = dea.world.clone();
    let Some(mk) = dea.mk_of(&req.header.req_id) else {
        return Err(None);
    };
    if req.header.res_id != dea.me.id
        || !mk_verify(&world, &mut dea.ops, &mk, signed, &req.signature)
    {
        dea.user_domains.stats.mac_failures += 1;
        return Err(Some(mk));
    }
    Ok(mk)
}

fn send_join_response(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    mut resp: ProxyJoinUserDomainResponse,
    mk: Option<SymKey>,
) {
    let world = dea.world.clone();
    if let Some(mk) = mk {
        resp.signature = mk_mac(
            &world,
            &mut dea.ops,
            &mk,
            &Pdu::ProxyJoinUserDomainResponse(resp.clone()),
        );
    }
    dea.count_status(PROXY_JOIN, resp.status);
    dea.reply(ctx, to, Pdu::ProxyJoinUserDomainResponse(resp));
}

/// Proxy Join User Domain Request at the DEA (§7.4.1), answered per §7.4.2.
pub(crate) fn dea_on_proxy_join(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: ProxyDomainRequest,
) {
    let mut resp = ProxyJoinUserDomainResponse {
        status: Status::Success,
        header: echo(&req.header),
        res_info: None,
        signature: Vec::new(),
    };
    let signed = Pdu::ProxyJoinUserDomainRequest(req.clone());
    let mk = match default_processing(dea, &req, &signed) {
        Ok(mk) => mk,
        Err(mk) => {
            resp.status = if mk.is_some() {
                Status::SignatureError
            } else {
                Status::NoMasterKey
            };
            return send_join_response(dea, ctx, from, resp, mk);
        }
    };
    if let Err(s) = freshness::admit(dea, ctx, &req.header, Some(&req.device_request)) {
        resp.status = s;
        return send_join_response(dea, ctx, from, resp, Some(mk));
    }
    match proxy_join_checks(dea, ctx, &req) {
        Ok(info) => resp.res_info = Some(info),
        Err(s) => resp.status = s,
    }
    send_join_response(dea, ctx, from, resp, Some(mk));
}

/// §7.4.1 checks in the text's order, then the §7.4.2 `<resInfo>`; records the association.
fn proxy_join_checks(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    req: &ProxyDomainRequest,
) -> Result<ProxyJoinResInfo, Status> {
    let world = dea.world.clone();
    let leaf = check_device(dea, ctx.now(), req, true)?;
    let dr = &req.device_request;
    let ri = req.header.req_id.clone();
    let (base, gen) = split_domain_id(&dr.domain_id).ok_or(Status::InvalidDomain)?;
    let (ud_id, authorized) = dea
        .user_domains
        .resolve(&ri, base)
        .ok_or(Status::InvalidDomain)?;
    let count_once = world.variants.dea_count_once;
    let ud = dea
        .user_domains
        .domains
        .get(&ud_id)
        .ok_or(Status::InvalidDomain)?;
    if gen > ud.generation {
        return Err(Status::InvalidDomain);
    }
    if !ud.counted(count_once, &dr.device_id, &ri) && ud.count(count_once, &ri) >= ud.max_devices {
        return Err(Status::DomainFull);
    }
    // "Any other reason" (listed last): no §7.2.2 mapping for this RI, an expired domain,
    // or a Device request addressed to another RI (relayed by this one).
    let expired = matches!(ud.not_after, Expiry::At(t) if world.drm_ns(&t) <= ctx.now().as_ns());
    if !authorized || expired || dr.ri_id != ri {
        return Err(Status::DomainAccessDenied);
    }
    let hash_chain = ud.hash_chain
        && dr
            .extensions
            .iter()
            .any(|e| matches!(e.ext, Extension::HashChainSupport));
    // §7.4.1.1: all generations, or only the newest when both sides use hash chains.
    let gens: Vec<u32> = if hash_chain {
        vec![ud.generation]
    } else {
        (0..=ud.generation).collect()
    };
    let ud = ud.clone();
    let mut kmacs = Vec::with_capacity(gens.len());
    let mut domain_keys = Vec::with_capacity(gens.len());
    for g in gens {
        let udk = ud
            .key(&world, &mut dea.ops, g)
            .ok_or(Status::UnknownError)?;
        let kmac = SymKey::random(ctx.rng());
        let material = [kmac.as_bytes().as_slice(), udk.as_bytes().as_slice()].concat();
        let cipher = world
            .crypto
            .kem_wrap(&mut dea.ops, ctx.rng(), leaf.public_key(), &material)
            .map_err(|_| Status::UnknownError)?;
        domain_keys.push(DomainKey {
            qualified: dea.user_domains.profile.qualified,
            enc_key: Encrypted {
                id: Some(domain_id(base, g)),
                algorithm: ALG_KEM.to_string(),
                key_info: Some(KeyInfo::SpkiHash(leaf.key_id().as_bytes().to_vec())),
                cipher,
            },
            ri_id: ri.clone(),
            mac: Vec::new(),
        });
        kmacs.push(kmac);
    }
    let mut info = DomainInfo {
        not_after: ud.not_after,
        domain_keys,
    };
    mac_domain_keys(dea, dr, &ri, &mut info, &kmacs)?;
    dea.user_domains
        .domains
        .get_mut(&ud_id)
        .expect("resolved above")
        .members
        .entry(dr.device_id.clone())
        .or_default()
        .insert(ri);
    Ok(ProxyJoinResInfo {
        domain_info: Some(info),
        device_id: Some(dr.device_id.clone()),
        hash_chain_support: hash_chain,
    })
}

/// Seed 002 / §7.4.1.1 `mac`: each `<domainKey>`'s MAC over its canonical form as the
/// v2.x Device will see it — inside the JoinDomainResponse the RI builds around this
/// `<domainInfo>` — under the DEA's own reading of seed 002.
fn mac_domain_keys(
    dea: &mut Dea,
    dr: &DomainRequest,
    ri: &Identifier,
    info: &mut DomainInfo,
    kmacs: &[SymKey],
) -> Result<(), Status> {
    let world = dea.world.clone();
    let draft = Pdu::JoinDomainResponse(JoinDomainResponse {
        status: Status::Success,
        body: Some(JoinDomainResponseBody {
            device_id: dr.device_id.clone(),
            ri_id: ri.clone(),
            nonce: dr.nonce.clone(),
            domain_info: info.clone(),
            certificate_chain: None,
            ocsp_responses: Vec::new(),
            extensions: Vec::new(),
            signature: Vec::new(),
        }),
    });
    let inputs = DomainKeyMacInput::all(
        world.mode(),
        &draft,
        &info.domain_keys,
        dea.user_domains.profile.mac,
    )
    .map_err(|_| Status::UnknownError)?;
    for ((dk, input), kmac) in info.domain_keys.iter_mut().zip(&inputs).zip(kmacs) {
        dk.mac = world
            .crypto
            .mac(&mut dea.ops, kmac, world.params.mac_alg, input);
    }
    Ok(())
}

/// Proxy Leave User Domain Request at the DEA (§7.5.1), answered per §7.5.2.
pub(crate) fn dea_on_proxy_leave(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: ProxyDomainRequest,
) {
    let world = dea.world.clone();
    let mut resp = ProxyLeaveUserDomainResponse {
        status: Status::Success,
        header: echo(&req.header),
        res_info: None,
        signature: Vec::new(),
    };
    let signed = Pdu::ProxyLeaveUserDomainRequest(req.clone());
    let mk = match default_processing(dea, &req, &signed) {
        Ok(mk) => Some(mk),
        Err(mk) => {
            resp.status = if mk.is_some() {
                Status::SignatureError
            } else {
                Status::NoMasterKey
            };
            mk
        }
    };
    if resp.status == Status::Success {
        if let Err(s) = freshness::admit(dea, ctx, &req.header, Some(&req.device_request)) {
            resp.status = s;
        }
    }
    if resp.status == Status::Success {
        match proxy_leave_checks(dea, ctx.now(), &req) {
            Ok(()) => {
                resp.res_info = Some((
                    req.device_request.domain_id.clone(),
                    req.device_request.device_id.clone(),
                ))
            }
            Err(s) => resp.status = s,
        }
    }
    if let Some(mk) = mk {
        resp.signature = mk_mac(
            &world,
            &mut dea.ops,
            &mk,
            &Pdu::ProxyLeaveUserDomainResponse(resp.clone()),
        );
    }
    dea.count_status(PROXY_LEAVE, resp.status);
    dea.reply(ctx, from, Pdu::ProxyLeaveUserDomainResponse(resp));
}

/// §7.5.1 checks; on success the RI link is removed, and the Device ↔ User Domain
/// association only when no other RI still associates the Device with the User Domain.
fn proxy_leave_checks(dea: &mut Dea, now: SimTime, req: &ProxyDomainRequest) -> Result<(), Status> {
    check_device(dea, now, req, false)?;
    let dr = &req.device_request;
    let ri = &req.header.req_id;
    let base = split_domain_id(&dr.domain_id)
        .map(|(b, _)| b)
        .ok_or(Status::InvalidDomain)?;
    let (ud_id, _) = dea
        .user_domains
        .resolve(ri, base)
        .ok_or(Status::InvalidDomain)?;
    let ud = dea
        .user_domains
        .domains
        .get_mut(&ud_id)
        .ok_or(Status::InvalidDomain)?;
    if let Some(ris) = ud.members.get_mut(&dr.device_id) {
        ris.remove(ri);
        if ris.is_empty() {
            ud.members.remove(&dr.device_id);
            dea.user_domains
                .evicting
                .remove(&(ud_id.clone(), dr.device_id.clone()));
            dea.user_domains.stats.associations_deleted += 1;
        } else {
            dea.user_domains.stats.ri_links_removed += 1;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ RI side

/// The RI starts: asks the DEA for its User Domain Authorizations (§7.2.2).
pub(crate) fn ri_on_start(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>) {
    if ri.dea_proxy.mk.is_some() && !ri.dea_proxy.wanted.is_empty() {
        ri_send_authorization_request(ri, ctx);
    }
}

/// Sends (or re-sends, with a fresh nonce) the Get User Domain Authorization Request and
/// arms its retry timer.
pub fn ri_send_authorization_request(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>) {
    let world = ri.world.clone();
    let (Some(dea), Some(dea_id), Some(mk)) = (world.dea, world.dea_id.clone(), ri.dea_proxy.mk)
    else {
        return;
    };
    let mut req = GetUserDomainAuthorizationRequest {
        header: header(&world, ctx.rng(), ri.me.id.clone(), dea_id),
        user_domains: ri.dea_proxy.wanted.clone(),
        signature: Vec::new(),
    };
    req.signature = mk_mac(
        &world,
        &mut ri.ops,
        &mk,
        &Pdu::GetUserDomainAuthorizationRequest(req.clone()),
    );
    ri.dea_proxy.authz_nonce = Some(req.header.nonce.clone());
    ri.dea_proxy.authz_attempts += 1;
    ri.reply(ctx, dea, Pdu::GetUserDomainAuthorizationRequest(req));
    ctx.set_timer(world.params.request_timeout_ns, TAG_AUTHZ_RETRY);
}

/// The authorization retry timer fired: retry while unanswered, up to the retry limit.
pub(crate) fn ri_on_authz_timer(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>) {
    if ri.dea_proxy.authz_nonce.is_some()
        && ri.dea_proxy.authz_attempts <= ri.world.params.max_retries
    {
        ri_send_authorization_request(ri, ctx);
    }
}

/// Get User Domain Authorization Response at the RI: on a verified Success, map each
/// granted User Domain's domain base onto it ([`Ri::user_domain_map`]).
pub(crate) fn ri_on_authorization_response(
    ri: &mut Ri,
    _ctx: &mut Ctx<'_, SimMsg>,
    resp: GetUserDomainAuthorizationResponse,
) {
    let world = ri.world.clone();
    let Some(mk) = ri.dea_proxy.mk else { return };
    if ri.dea_proxy.authz_nonce.as_deref() != Some(resp.header.nonce.as_slice())
        || resp.header.req_id != ri.me.id
    {
        ri.dea_proxy.stats.unmatched_responses += 1;
        return;
    }
    let signed = Pdu::GetUserDomainAuthorizationResponse(resp.clone());
    if !mk_verify(&world, &mut ri.ops, &mk, &signed, &resp.signature) {
        ri.dea_proxy.stats.dea_mac_failures += 1;
        return;
    }
    // Answered (whatever the status): no more retries.
    ri.dea_proxy.authz_nonce = None;
    if resp.status != Status::Success {
        return;
    }
    let granted: BTreeSet<String> = resp
        .authorizations
        .iter()
        .flatten()
        .filter(|a| a.entity_id == ri.me.id)
        .map(|a| a.user_domain_id.clone())
        .collect();
    udk::ri_accept_grants(ri, &mk, &granted, &resp.user_domain_keys);
    for a in resp.authorizations.unwrap_or_default() {
        if a.entity_id != ri.me.id {
            continue;
        }
        if let Some(d) = &a.domain_id {
            let base = split_domain_id(d)
                .map_or(d.as_str(), |(b, _)| b)
                .to_string();
            ri.user_domain_map.insert(base, a.user_domain_id.clone());
        }
        ri.dea_proxy
            .authorizations
            .insert(a.user_domain_id.clone(), a);
    }
}

fn join_status_only(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, status: Status) {
    ri.count_status(JOIN, status);
    ri.reply(
        ctx,
        to,
        Pdu::JoinDomainResponse(JoinDomainResponse { status, body: None }),
    );
}

fn leave_status_only(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, status: Status) {
    ri.count_status(LEAVE, status);
    ri.reply(
        ctx,
        to,
        Pdu::LeaveDomainResponse(LeaveDomainResponse { status, body: None }),
    );
}

/// Forwards a Device's Join/Leave DomainRequest for a DEA-mapped domain (§7.4.1, §7.5.1):
/// the request verbatim, the Device's chain from its Device Context when the request
/// omits it, MACed under the MK.
fn ri_forward(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: DomainRequest,
    join: bool,
) {
    let world = ri.world.clone();
    let (Some(dea), Some(dea_id), Some(mk)) = (world.dea, world.dea_id.clone(), ri.dea_proxy.mk)
    else {
        // No DEA context: the RI cannot obtain a verified answer (§7.4.1.2).
        return if join {
            join_status_only(ri, ctx, from, Status::DomainAccessDenied)
        } else {
            leave_status_only(ri, ctx, from, Status::DomainAccessDenied)
        };
    };
    let device_certificate_chain = match &req.certificate_chain {
        Some(_) => None,
        None => ri
            .devices
            .get(&req.device_id)
            .map(|dc| super::pki_wire::CertDirectory::encode_chain(world.mode(), &dc.chain)),
    };
    let mut p = ProxyDomainRequest {
        header: header(&world, ctx.rng(), ri.me.id.clone(), dea_id),
        device_request: req.clone(),
        device_certificate_chain,
        signature: Vec::new(),
    };
    let pdu = |p: ProxyDomainRequest| {
        if join {
            Pdu::ProxyJoinUserDomainRequest(p)
        } else {
            Pdu::ProxyLeaveUserDomainRequest(p)
        }
    };
    p.signature = mk_mac(&world, &mut ri.ops, &mk, &pdu(p.clone()));
    ri.dea_proxy.remember(
        p.header.nonce.clone(),
        PendingProxy {
            device: from,
            request: req,
            join,
        },
    );
    ri.dea_proxy.stats.proxied += 1;
    ri.reply(ctx, dea, pdu(p));
}

/// JoinDomainRequest for a DEA-mapped domain, already checked by the RI (§5.4.4.1):
/// proxied to the DEA (§7.4.1). Called from the domain module's extension point.
pub(crate) fn ri_forward_join(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: JoinDomainRequest,
) {
    ri_forward(ri, ctx, from, req.0, true);
}

/// LeaveDomainRequest for a DEA-mapped domain: proxied to the DEA (§7.5.1).
pub(crate) fn ri_forward_leave(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    req: LeaveDomainRequest,
) {
    ri_forward(ri, ctx, from, req.0, false);
}

/// Proxy Join User Domain Response at the RI (§7.4.1.2).
pub(crate) fn ri_on_proxy_join_response(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    resp: ProxyJoinUserDomainResponse,
) {
    let world = ri.world.clone();
    let Some(p) = ri
        .dea_proxy
        .pending
        .get(&resp.header.nonce)
        .filter(|p| p.join)
        .cloned()
    else {
        ri.dea_proxy.stats.unmatched_responses += 1;
        return;
    };
    ri.dea_proxy.pending.remove(&resp.header.nonce);
    let mk = ri.dea_proxy.mk.unwrap_or(SymKey([0; 16]));
    let signed = Pdu::ProxyJoinUserDomainResponse(resp.clone());
    if resp.header.req_id != ri.me.id
        || !mk_verify(&world, &mut ri.ops, &mk, &signed, &resp.signature)
    {
        ri.dea_proxy.stats.dea_mac_failures += 1;
        return join_status_only(ri, ctx, p.device, Status::DomainAccessDenied);
    }
    if resp.status != Status::Success {
        return join_status_only(ri, ctx, p.device, resp.status);
    }
    let Some(info) = resp
        .res_info
        .filter(|i| i.domain_info.is_some() && i.device_id.as_ref() == Some(&p.request.device_id))
    else {
        return join_status_only(ri, ctx, p.device, Status::DomainAccessDenied);
    };
    let domain_info = info.domain_info.expect("filtered above");
    match seal_join_response(ri, ctx, &p.request, domain_info, info.hash_chain_support) {
        Some(r) => {
            if let Some(ud) = mapped_user_domain(ri, &p.request.domain_id) {
                ri.dea_proxy.udks.note_join(&ud, &p.request.device_id);
            }
            ri.count_status(JOIN, Status::Success);
            ri.reply(ctx, p.device, Pdu::JoinDomainResponse(r));
        }
        None => join_status_only(ri, ctx, p.device, Status::UnknownError),
    }
}

/// The §7.4.1.2 ROAP-JoinDomainResponse around the DEA's `<domainInfo>`: certificateChain
/// unless the request's Peer Key Identifier names this RI's key, the stapled OCSP response
/// unless the Device sent No OCSP Response, Hash Chain Support when the DEA said
/// `<hashChainSupport/>`, the RI's signature. (The domain module's `ri_send_join_success`
/// carries neither the chain nor the extension, hence this builder.)
fn seal_join_response(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    req: &DomainRequest,
    domain_info: DomainInfo,
    hash_chain_support: bool,
) -> Option<JoinDomainResponse> {
    let world = ri.world.clone();
    let has = |f: &dyn Fn(&Extension) -> bool| req.extensions.iter().any(|e| f(&e.ext));
    let peer_key_known =
        has(&|e| matches!(e, Extension::PeerKeyIdentifier(Some(id)) if *id == ri.me.id));
    let no_ocsp = has(&|e| matches!(e, Extension::NoOcspResponse));
    let mut resp = JoinDomainResponse {
        status: Status::Success,
        body: Some(JoinDomainResponseBody {
            device_id: req.device_id.clone(),
            ri_id: ri.me.id.clone(),
            nonce: req.nonce.clone(),
            domain_info,
            certificate_chain: (!peer_key_known).then(|| ri.me.chain_wire.clone()),
            ocsp_responses: if no_ocsp {
                Vec::new()
            } else {
                ri.staple(ctx.now()).into_iter().collect()
            },
            extensions: if hash_chain_support {
                vec![Ext::new(Extension::HashChainSupport)]
            } else {
                Vec::new()
            },
            signature: Vec::new(),
        }),
    };
    let sig = world
        .crypto
        .sign(
            &mut ri.ops,
            &ri.me.key,
            world.params.sig_alg,
            &Pdu::JoinDomainResponse(resp.clone()),
        )
        .ok()?;
    resp.body.as_mut().expect("built above").signature = sig;
    Some(resp)
}

/// The User Domain this RI maps the ROAP domain ID `domain_id` onto.
fn mapped_user_domain(ri: &Ri, domain_id: &str) -> Option<String> {
    let base = split_domain_id(domain_id).map_or(domain_id, |(b, _)| b);
    ri.user_domain_map.get(base).cloned()
}

/// Proxy Leave User Domain Response at the RI (§7.5.2.1).
pub(crate) fn ri_on_proxy_leave_response(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    resp: ProxyLeaveUserDomainResponse,
) {
    let world = ri.world.clone();
    let Some(p) = ri
        .dea_proxy
        .pending
        .get(&resp.header.nonce)
        .filter(|p| !p.join)
        .cloned()
    else {
        ri.dea_proxy.stats.unmatched_responses += 1;
        return;
    };
    ri.dea_proxy.pending.remove(&resp.header.nonce);
    if resp.status != Status::Success {
        return leave_status_only(ri, ctx, p.device, resp.status);
    }
    let mk = ri.dea_proxy.mk.unwrap_or(SymKey([0; 16]));
    let signed = Pdu::ProxyLeaveUserDomainResponse(resp.clone());
    if resp.header.req_id != ri.me.id
        || !mk_verify(&world, &mut ri.ops, &mk, &signed, &resp.signature)
    {
        ri.dea_proxy.stats.dea_mac_failures += 1;
        return leave_status_only(ri, ctx, p.device, Status::DomainAccessDenied);
    }
    let domain_id = resp
        .res_info
        .map(|(d, _)| d)
        .unwrap_or_else(|| p.request.domain_id.clone());
    if let Some(ud) = mapped_user_domain(ri, &p.request.domain_id) {
        ri.dea_proxy.udks.note_leave(&ud, &p.request.device_id);
    }
    ri.count_status(LEAVE, Status::Success);
    ri.reply(
        ctx,
        p.device,
        Pdu::LeaveDomainResponse(LeaveDomainResponse {
            status: Status::Success,
            body: Some(LeaveDomainResponseBody {
                nonce: p.request.nonce.clone(),
                domain_id,
                extensions: Vec::new(),
            }),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> Identifier {
        Identifier::new(vec![b; 20])
    }

    fn domain(max: usize) -> UserDomain {
        let cfg = UserDomainConfig {
            max_devices: max,
            generation: 2,
            ..Default::default()
        };
        let mut rng = crate::engine::rng::stream(1, "t", "udk");
        UserDomain::new("ud".into(), &cfg, Expiry::Infinite, &mut rng)
    }

    /// Seed 000 §7.4.1 note: one Device through three RIs counts once; pre-CR only the
    /// requesting RI's associations count.
    #[test]
    fn count_once_and_per_ri() {
        let mut d = domain(2);
        d.members
            .insert(id(1), [id(10), id(11), id(12)].into_iter().collect());
        d.members.insert(id(2), [id(10)].into_iter().collect());
        assert_eq!(d.count(true, &id(11)), 2);
        assert_eq!(d.count(false, &id(10)), 2);
        assert_eq!(d.count(false, &id(11)), 1);
        assert!(d.counted(true, &id(1), &id(13)));
        assert!(!d.counted(false, &id(1), &id(13)));
        assert!(!d.counted(true, &id(3), &id(10)));
    }

    /// Without hash chains every generation has its own random UDK; with them only the
    /// newest is stored and K(g−1) = KDF2-SHA1(K(g), 16).
    #[test]
    fn udk_generations() {
        let world_crypto = crate::crypto::Crypto::new(crate::crypto::CryptoMode::Symbolic, 1);
        let d = domain(1);
        assert_eq!(d.keys.len(), 3);
        assert_ne!(d.keys[0], d.keys[1]);
        let cfg = UserDomainConfig {
            generation: 2,
            hash_chains: true,
            ..Default::default()
        };
        let mut rng = crate::engine::rng::stream(1, "t", "udk");
        let h = UserDomain::new("ud".into(), &cfg, Expiry::Infinite, &mut rng);
        assert_eq!(h.keys.len(), 1);
        let mut ops = OpCounter::new();
        let k1 = crate::crypto::primitives::kdf2_sha1(h.newest_key().as_bytes(), 16);
        let k0 = crate::crypto::primitives::kdf2_sha1(&k1, 16);
        let got = world_crypto
            .udk_for_generation(&mut ops, &h.newest_key(), 2, 0)
            .unwrap();
        assert_eq!(got.as_bytes().as_slice(), k0.as_slice());
    }

    #[test]
    fn resolve_prefers_the_requesting_ri() {
        let mut s = DeaUserDomains::default();
        s.authorizations.insert(
            id(10),
            BTreeMap::from([("u1".to_string(), Some("ud1-".to_string()))]),
        );
        s.authorizations
            .insert(id(11), BTreeMap::from([("u1".to_string(), None)]));
        assert_eq!(s.resolve(&id(10), "ud1-"), Some(("u1".into(), true)));
        // Known through RI 10's mapping, but RI 11 has none: DomainAccessDenied later.
        assert_eq!(s.resolve(&id(11), "ud1-"), Some(("u1".into(), false)));
        assert_eq!(s.resolve(&id(11), "other-"), None);
    }
}
