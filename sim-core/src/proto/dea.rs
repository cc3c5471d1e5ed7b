//! The Domain Enforcement Agent actor (SCE): holds User Domains and serves RIs and LRMs
//! (seed 000) and SCE DRM Agents (seed 001). A server under the engine's CPU model. The
//! protocol steps live in their own modules; this file holds identity, dispatch and the
//! Master Keys shared with RIs/LRMs.
//!
//! The Master Key (MK) of each RI/LRM Req/Res Context (seed 000 §7.2.2: "MK of the
//! ResContext for the DEA") is established by SCE-GEN registration, which no seed specifies;
//! drmsim provisions it at build time from the run seed (`World::dea_master_key`).

use super::msg::{SimMsg, Wire};
use super::world::{Identity, World};
use crate::crypto::OpCounter;
use crate::engine::{Actor, ActorId, Ctx, Event};
use crate::pdu::{Pdu, Status};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Counters a DEA keeps for tests and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeaStats {
    /// Responses sent, by protocol and status.
    pub statuses: BTreeMap<(String, String), u64>,
}

/// The Domain Enforcement Agent.
pub struct Dea {
    pub(crate) world: Rc<World>,
    pub(crate) me: Identity,
    pub(crate) ops: OpCounter,
    /// Counters.
    pub stats: DeaStats,
    /// User Domains, authorizations and Master Keys (dea_proxy.rs).
    pub user_domains: super::dea_proxy::DeaUserDomains,
    /// Seed 001 pairing state (Master Keys of SCE agents and LRMs).
    pub pairing: super::pairing_dea::DeaPairing,
    /// Nonces of answered RI requests per RI (`Variants::dea_nonce_tracking`), bounded.
    pub(crate) ri_nonces: super::nonce_cache::NonceCache,
    /// Processed requests and their responses, for verbatim repeats (repeats.rs).
    pub repeats: super::repeats::RepeatStore,
    /// Requests answered at once with `Abort` because the queue was full.
    pub busy_refusals: u64,
}

impl std::fmt::Debug for Dea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dea").field("name", &self.me.name).finish()
    }
}

impl Dea {
    /// A DEA with identity `me`.
    pub fn new(world: Rc<World>, me: Identity) -> Self {
        let ri_nonces = super::nonce_cache::NonceCache::new(
            world.params.nonce_cache_per_device,
            world.params.nonce_cache_devices,
        );
        let repeats = super::repeats::RepeatStore::new(
            world.params.repeat_store_limit,
            super::repeats::window_ns(&world.params),
        );
        Dea {
            world,
            me,
            ops: OpCounter::new(),
            stats: DeaStats::default(),
            user_domains: Default::default(),
            pairing: super::pairing_dea::DeaPairing::default(),
            ri_nonces,
            repeats,
            busy_refusals: 0,
        }
    }

    /// The DEA's identity.
    pub fn identity(&self) -> &Identity {
        &self.me
    }

    /// Sends a PDU to `to`, charging its serialisation.
    pub fn reply(&mut self, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, pdu: Pdu) {
        let wire = Wire::new(self.world.mode(), pdu);
        ctx.charge_ns(self.world.costs.serialize_ns(wire.size_bytes()));
        let msg = SimMsg::Pdu(wire);
        self.repeats.record(to, &msg);
        ctx.send(to, msg);
    }

    /// Counts a response status.
    pub(crate) fn count_status(&mut self, protocol: &str, status: Status) {
        *self
            .stats
            .statuses
            .entry((protocol.to_string(), status.as_str().to_string()))
            .or_default() += 1;
    }

    fn on_pdu(&mut self, ctx: &mut Ctx<'_, SimMsg>, _from: ActorId, wire: Wire) {
        ctx.charge_ns(
            self.world.costs.parse_ns(wire.size_bytes()) + self.world.costs.request_base_ns,
        );
        let arrival = super::repeats::Arrival::of(&self.repeats, _from, &wire);
        let pdu = match wire.into_pdu() {
            Ok((p, _)) => p,
            Err((wire, e)) => {
                // Answered at once, status-only (seed 000 §7.2.2/§7.4.2/§7.5.2: the DEA MUST
                // send a response; nothing in the request can be trusted to echo).
                let world = self.world.clone();
                let status =
                    super::status_answer::answer_undecodable(&world, ctx, _from, &wire, &e);
                self.count_status("malformed", status.unwrap_or(e.status()));
                return;
            }
        };
        // Verbatim repeats are answered from the store (repeats.rs); the literal seed-000
        // DEA (no nonce tracking) processes every copy.
        if self.world.variants.dea_nonce_tracking {
            let world = self.world.clone();
            if !super::repeats::gate(&mut self.repeats, &world, ctx, &arrival) {
                return;
            }
        }
        self.dispatch(ctx, _from, pdu);
        self.repeats.end();
    }

    fn dispatch(&mut self, ctx: &mut Ctx<'_, SimMsg>, _from: ActorId, pdu: Pdu) {
        // Protocol modules (dea_proxy, pairing) add their arms here.
        match pdu {
            Pdu::GetUserDomainAuthorizationRequest(r) => {
                super::dea_proxy::dea_on_get_authorization(self, ctx, _from, r)
            }
            Pdu::ProxyJoinUserDomainRequest(r) => {
                super::dea_proxy::dea_on_proxy_join(self, ctx, _from, r)
            }
            Pdu::ProxyLeaveUserDomainRequest(r) => {
                super::dea_proxy::dea_on_proxy_leave(self, ctx, _from, r)
            }
            Pdu::PairingJoinDomainRequest(r) => {
                super::pairing_dea::dea_on_join(self, ctx, _from, r)
            }
            Pdu::PairingTicketRequest(r) => {
                super::pairing_dea::dea_on_ticket_request(self, ctx, _from, r)
            }
            other => {
                // A request this server does not handle: answered `UnknownRequest`.
                self.count_status(other.kind(), Status::UnknownRequest);
                if let Some(m) = super::status_answer::unknown_request(&self.world, other.kind()) {
                    self.repeats.record(_from, &m);
                    ctx.send(_from, m);
                }
            }
        }
    }
}

impl Actor<SimMsg> for Dea {
    fn on_event(&mut self, ev: Event<SimMsg>, ctx: &mut Ctx<'_, SimMsg>) {
        match ev {
            Event::Message { from, msg, .. } => {
                if let SimMsg::Pdu(w) = msg {
                    self.on_pdu(ctx, from, w);
                }
            }
            Event::Start => super::dea_proxy::dea_on_start(self, ctx),
            Event::Timer { tag, .. } => super::dea_proxy::dea_on_timer(self, ctx, tag),
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
