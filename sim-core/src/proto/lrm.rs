//! The Local Rights Manager actor (seed 001 §7.2.1.2): imports content into the SCE system
//! and issues Imported ROs to SCE DRM Agents over a SAC keyed by the Pairing Key. A server
//! under the engine's CPU model.
//!
//! Roles: sends Import Initiation (signed, nonce, RO IDs) at `LrmPolicy::import_rate_per_min`
//! to a random SCE agent; answers Authentication Requests as the ticket target; answers
//! Imported-RO Requests over the SAC with ROs whose `<rights>` it signs. Its Master Key is
//! provisioned at build time (`World::dea_master_key`, see `pairing_dea`).

use super::msg::{SimMsg, Wire};
use super::nonce_cache::{note_full, Admit, NonceCache};
use super::pairing::{
    auth_response, protect_imported, target_verify_auth, ImportedEntry, PairingStats, SignedRights,
    MAX_TICKETS, SYSTEM_DMP_PAIR_COPY,
};
use super::workload::next_poisson_ns;
use super::world::{Identity, World};
use crate::crypto::{OpCounter, SymKey};
use crate::engine::{Actor, ActorId, Ctx, Event};
use crate::pdu::pairing::*;
use crate::pdu::ro::{Action, Asset, Constraint, Permission, Rights, MAX_RO_ITEMS};
use crate::pdu::{Identifier, Pdu, Status};
use rand::Rng;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Timer tag of the import activity.
const TAG_IMPORT: u64 = 1;
/// Bound on issued-RO records (RO ID → Device), oldest evicted.
pub const MAX_ISSUED: usize = 100_000;

/// What an LRM imports and how often.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrmPolicy {
    /// Mean Import Initiations per minute (Poisson), each to a random SCE agent; 0 = none.
    pub import_rate_per_min: f64,
    /// RO IDs offered per Import Initiation.
    pub ros_per_import: u32,
    /// Probability that an Imported RO is count-constrained.
    pub stateful_probability: f64,
    /// Uses granted by a count-constrained Imported RO.
    pub count: u32,
    /// Probability that an Imported RO permits dmpPair Copy.
    pub copy_probability: f64,
}

impl Default for LrmPolicy {
    fn default() -> Self {
        LrmPolicy {
            import_rate_per_min: 0.0,
            ros_per_import: 1,
            stateful_probability: 0.5,
            count: 5,
            copy_probability: 0.5,
        }
    }
}

/// Counters an LRM keeps for tests and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LrmStats {
    /// Responses sent, by protocol and status.
    pub statuses: BTreeMap<(String, String), u64>,
    /// Import Initiations sent.
    pub initiations: u64,
    /// Imported ROs issued.
    pub ros_issued: u64,
    /// Target-side authentication counters.
    pub pairing: PairingStats,
}

/// A Local Rights Manager.
pub struct Lrm {
    pub(crate) world: Rc<World>,
    pub(crate) me: Identity,
    pub(crate) ops: OpCounter,
    /// Index in `World::lrms`.
    pub index: usize,
    /// Master Key shared with the DEA.
    pub master_key: SymKey,
    /// What it imports.
    pub policy: LrmPolicy,
    /// SACs by Device ID: Pairing Key and expiry (ns).
    pub sacs: BTreeMap<Identifier, (SymKey, u64)>,
    /// Authentication Request nonces seen per requester.
    pub auth_nonces: NonceCache,
    /// Imported-RO Request nonces seen per Device.
    pub request_nonces: NonceCache,
    /// Imported ROs issued: RO ID → Device (an RO ID is issued to one Device only).
    pub issued: BTreeMap<String, (Identifier, ImportedEntry)>,
    next_ro: u64,
    /// Counters.
    pub stats: LrmStats,
    /// Processed requests and their responses, for verbatim repeats (repeats.rs).
    pub repeats: super::repeats::RepeatStore,
    /// Requests answered at once with `Abort` because the queue was full.
    pub busy_refusals: u64,
}

impl std::fmt::Debug for Lrm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lrm").field("name", &self.me.name).finish()
    }
}

impl Lrm {
    /// An LRM with identity `me`, index `index`, Master Key `master_key`.
    pub fn new(
        world: Rc<World>,
        me: Identity,
        index: usize,
        master_key: SymKey,
        policy: LrmPolicy,
    ) -> Self {
        let p = world.params;
        Lrm {
            world,
            me,
            ops: OpCounter::new(),
            index,
            master_key,
            policy,
            sacs: BTreeMap::new(),
            auth_nonces: NonceCache::new(p.nonce_cache_per_device, p.nonce_cache_devices),
            request_nonces: NonceCache::new(p.nonce_cache_per_device, p.nonce_cache_devices),
            issued: BTreeMap::new(),
            next_ro: 0,
            stats: LrmStats::default(),
            repeats: super::repeats::RepeatStore::new(
                p.repeat_store_limit,
                super::repeats::window_ns(&p),
            ),
            busy_refusals: 0,
        }
    }

    /// The LRM's identity.
    pub fn identity(&self) -> &Identity {
        &self.me
    }

    fn reply(&mut self, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, pdu: Pdu) {
        let wire = Wire::new(self.world.mode(), pdu);
        ctx.charge_ns(self.world.costs.serialize_ns(wire.size_bytes()));
        let msg = SimMsg::Pdu(wire);
        self.repeats.record(to, &msg);
        ctx.send(to, msg);
    }

    fn count_status(&mut self, protocol: &str, status: Status) {
        *self
            .stats
            .statuses
            .entry((protocol.to_string(), status.as_str().to_string()))
            .or_default() += 1;
    }

    fn schedule(&mut self, ctx: &mut Ctx<'_, SimMsg>) {
        if let Some(d) = next_poisson_ns(ctx.rng(), self.policy.import_rate_per_min) {
            ctx.set_timer(d, TAG_IMPORT);
        }
    }

    /// Import Initiation (§7.2.1.2) to SCE agent `agent` (index in `World::sce_agents`).
    pub fn initiate(&mut self, ctx: &mut Ctx<'_, SimMsg>, agent: usize) {
        let world = self.world.clone();
        let Some(peer) = world.sce_agents.get(agent) else {
            return;
        };
        let n = self.policy.ros_per_import.clamp(1, MAX_IMPORT_ROS as u32);
        let ro_ids = (0..n).map(|_| self.fresh_ro_id()).collect();
        let mut m = ImportInitiation {
            lrm_id: self.me.id.clone(),
            device_id: peer.id.clone(),
            nonce: world.nonce(ctx.rng()),
            ro_ids,
            certificate_chain: Some(self.me.chain_wire.clone()),
            signature: Vec::new(),
        };
        let Ok(sig) = world.crypto.sign(
            &mut self.ops,
            &self.me.key,
            world.params.sig_alg,
            &Pdu::ImportInitiation(m.clone()),
        ) else {
            return;
        };
        m.signature = sig;
        self.stats.initiations += 1;
        self.reply(ctx, peer.actor, Pdu::ImportInitiation(m));
    }

    fn fresh_ro_id(&mut self) -> String {
        self.next_ro += 1;
        format!("{}-imp{}", self.me.name, self.next_ro)
    }

    fn on_auth_request(
        &mut self,
        ctx: &mut Ctx<'_, SimMsg>,
        from: ActorId,
        req: AuthenticationRequest,
    ) {
        let world = self.world.clone();
        let now = ctx.now().as_ns();
        let res = target_verify_auth(
            &world,
            &mut self.ops,
            &self.me.id,
            Some(self.master_key),
            &mut self.auth_nonces,
            now,
            &req,
        );
        let resp = match res {
            Ok((pk, exp)) => {
                self.stats.pairing.auth_accepted += 1;
                self.sacs.remove(&req.requester_id);
                if self.sacs.len() >= MAX_TICKETS * 1024 {
                    if let Some(k) = self
                        .sacs
                        .iter()
                        .min_by_key(|(_, (_, e))| *e)
                        .map(|(k, _)| k.clone())
                    {
                        self.sacs.remove(&k);
                    }
                }
                self.sacs.insert(req.requester_id.clone(), (pk, exp));
                auth_response(&world, &mut self.ops, &req, Status::Success, Some(pk))
            }
            Err((why, pk)) => {
                *self
                    .stats
                    .pairing
                    .auth_rejected
                    .entry(why.status().as_str().to_string())
                    .or_default() += 1;
                auth_response(&world, &mut self.ops, &req, why.status(), pk)
            }
        };
        self.count_status("pairing_auth", resp.status);
        self.reply(ctx, from, Pdu::AuthenticationResponse(resp));
    }

    fn ro_reply(
        &mut self,
        ctx: &mut Ctx<'_, SimMsg>,
        from: ActorId,
        req: &ImportedRoRequest,
        status: Status,
        protected_ros: Vec<crate::pdu::ro::ProtectedRo>,
        pk: Option<SymKey>,
    ) {
        let world = self.world.clone();
        let mut r = ImportedRoResponse {
            status,
            device_id: req.device_id.clone(),
            lrm_id: self.me.id.clone(),
            nonce: req.nonce.clone(),
            protected_ros,
            mac: Vec::new(),
        };
        if let Some(pk) = pk {
            r.mac = world.crypto.mac(
                &mut self.ops,
                &pk,
                world.params.mac_alg,
                &Pdu::ImportedRoResponse(r.clone()),
            );
        }
        self.count_status("import", status);
        self.reply(ctx, from, Pdu::ImportedRoResponse(r));
    }

    /// Imported-RO Request over the SAC (§7.2.1.2): SAC, MAC under the Pairing Key, replay,
    /// then one LRM-signed Imported RO per requested ID.
    fn on_ro_request(&mut self, ctx: &mut Ctx<'_, SimMsg>, from: ActorId, req: ImportedRoRequest) {
        let world = self.world.clone();
        let now = ctx.now().as_ns();
        let Some((pk, sac_until)) = self
            .sacs
            .get(&req.device_id)
            .copied()
            .filter(|(_, e)| *e > now)
        else {
            // No SAC: authenticate first (§7.2.1.2 "As long as the DRM Agent has a valid
            // Pairing Ticket and a valid SAC").
            return self.ro_reply(
                ctx,
                from,
                &req,
                Status::InvalidPairingTicket,
                Vec::new(),
                None,
            );
        };
        if req.lrm_id != self.me.id
            || world
                .crypto
                .verify_mac(
                    &mut self.ops,
                    &pk,
                    world.params.mac_alg,
                    &Pdu::ImportedRoRequest(req.clone()),
                    &req.mac,
                )
                .is_err()
        {
            return self.ro_reply(ctx, from, &req, Status::SignatureError, Vec::new(), None);
        }
        // The window is the SAC's life (its Pairing Key expires with the ticket, §7.2.1.2
        // "as long as the DRM Agent has a valid Pairing Ticket and a valid SAC"): a copy
        // after it finds no SAC, so the nonce is kept until then (`nonce_cache`).
        match self
            .request_nonces
            .admit(&req.device_id.hash, &req.nonce, now, sac_until)
        {
            Admit::Fresh => {}
            Admit::Replay => {
                return self.ro_reply(ctx, from, &req, Status::AccessDenied, Vec::new(), Some(pk))
            }
            Admit::Full => {
                note_full(ctx, "importedRORequest");
                return self.ro_reply(ctx, from, &req, Status::Abort, Vec::new(), Some(pk));
            }
        }
        let mut out = Vec::new();
        for ro_id in req.ro_ids.iter().take(MAX_IMPORT_ROS) {
            let entry = match self.issued.get(ro_id) {
                // Re-issue to the same Device (its response was lost); never to another.
                Some((dev, e)) if *dev == req.device_id => e.clone(),
                Some(_) => {
                    return self.ro_reply(
                        ctx,
                        from,
                        &req,
                        Status::AccessDenied,
                        Vec::new(),
                        Some(pk),
                    )
                }
                None => match self.new_entry(ctx, ro_id) {
                    Some(e) => {
                        if self.issued.len() >= MAX_ISSUED {
                            if let Some(k) = self.issued.keys().next().cloned() {
                                self.issued.remove(&k);
                            }
                        }
                        self.issued
                            .insert(ro_id.clone(), (req.device_id.clone(), e.clone()));
                        self.stats.ros_issued += 1;
                        e
                    }
                    None => {
                        return self.ro_reply(
                            ctx,
                            from,
                            &req,
                            Status::UnknownError,
                            Vec::new(),
                            Some(pk),
                        )
                    }
                },
            };
            let time = world.datetime(now);
            match protect_imported(
                &world.crypto,
                &mut self.ops,
                &world,
                ro_id,
                &entry,
                &pk,
                time,
                None,
            ) {
                Some(p) => out.push(p),
                None => {
                    return self.ro_reply(
                        ctx,
                        from,
                        &req,
                        Status::UnknownError,
                        Vec::new(),
                        Some(pk),
                    )
                }
            }
        }
        self.ro_reply(ctx, from, &req, Status::Success, out, Some(pk));
    }

    /// A new Imported RO: play (count or unlimited), move, optionally export-for-dmpPairCopy;
    /// `<rights>` signed by the LRM (§7.2.1.2), fresh K_MAC‖K_REK.
    fn new_entry(&mut self, ctx: &mut Ctx<'_, SimMsg>, ro_id: &str) -> Option<ImportedEntry> {
        let world = self.world.clone();
        let p = self.policy;
        let stateful = ctx.rng().gen_bool(p.stateful_probability.clamp(0.0, 1.0));
        let copy = ctx.rng().gen_bool(p.copy_probability.clamp(0.0, 1.0));
        let mut permissions = vec![
            Permission {
                action: Action::Play,
                constraints: if stateful {
                    vec![Constraint::Count(p.count)]
                } else {
                    Vec::new()
                },
            },
            Permission {
                action: Action::Move,
                constraints: Vec::new(),
            },
        ];
        if copy {
            permissions.push(Permission {
                action: Action::Export,
                constraints: vec![Constraint::System(vec![SYSTEM_DMP_PAIR_COPY.to_string()])],
            });
        }
        permissions.truncate(MAX_RO_ITEMS);
        let rights = Rights {
            uid: ro_id.to_string(),
            assets: vec![Asset {
                content_id: format!("cid:{}:{ro_id}", self.me.name),
                dcf_hash: None,
            }],
            permissions,
            user_domains: Vec::new(),
            move_indication: Vec::new(),
        };
        let sig = world
            .crypto
            .sign(
                &mut self.ops,
                &self.me.key,
                world.params.sig_alg,
                &SignedRights(&rights),
            )
            .ok()?;
        let kmac = SymKey::random(ctx.rng());
        let krek = SymKey::random(ctx.rng());
        Some(ImportedEntry {
            rights,
            lrm_signature: sig,
            issuer_id: self.me.id.clone(),
            keys: [kmac.as_bytes().as_slice(), krek.as_bytes().as_slice()].concat(),
        })
    }

    fn on_pdu(&mut self, ctx: &mut Ctx<'_, SimMsg>, from: ActorId, wire: Wire) {
        ctx.charge_ns(
            self.world.costs.parse_ns(wire.size_bytes()) + self.world.costs.request_base_ns,
        );
        let arrival = super::repeats::Arrival::of(&self.repeats, from, &wire);
        let pdu = match wire.into_pdu() {
            Ok((p, _)) => p,
            Err((wire, e)) => {
                // Answered at once, status-only (seed 001 §7.2.1.2/§7.2.1.3 responses; nothing
                // in the request can be trusted to echo).
                let world = self.world.clone();
                let status = super::status_answer::answer_undecodable(&world, ctx, from, &wire, &e);
                self.count_status("malformed", status.unwrap_or(e.status()));
                return;
            }
        };
        // Verbatim repeats are answered from the store (repeats.rs).
        let world = self.world.clone();
        if !super::repeats::gate(&mut self.repeats, &world, ctx, &arrival) {
            return;
        }
        match pdu {
            Pdu::AuthenticationRequest(r) => self.on_auth_request(ctx, from, r),
            Pdu::ImportedRoRequest(r) => self.on_ro_request(ctx, from, r),
            other => {
                // A request this server does not handle: answered `UnknownRequest`.
                self.count_status(other.kind(), Status::UnknownRequest);
                if let Some(m) = super::status_answer::unknown_request(&self.world, other.kind()) {
                    self.repeats.record(from, &m);
                    ctx.send(from, m);
                }
            }
        }
        self.repeats.end();
    }
}

impl Actor<SimMsg> for Lrm {
    fn on_event(&mut self, ev: Event<SimMsg>, ctx: &mut Ctx<'_, SimMsg>) {
        match ev {
            Event::Start => self.schedule(ctx),
            Event::Message { from, msg, .. } => {
                if let SimMsg::Pdu(w) = msg {
                    self.on_pdu(ctx, from, w);
                }
            }
            Event::Timer { tag, .. } => {
                if tag == TAG_IMPORT {
                    let n = self.world.sce_agents.len();
                    if n > 0 {
                        let a = ctx.rng().gen_range(0..n);
                        self.initiate(ctx, a);
                    }
                    self.schedule(ctx);
                }
            }
            Event::Overloaded { from, msg, .. } => {
                if super::status_answer::refuse_busy(&self.world, ctx, from, &msg) {
                    self.busy_refusals += 1;
                }
            }
        }
        let mut ops = std::mem::take(&mut self.ops);
        self.world.charge(ctx, &mut ops, 0);
        self.ops = ops;
    }
}
