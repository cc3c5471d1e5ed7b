//! The Rights Issuer actor: Device Contexts, registration sessions, the OCSP response it
//! staples, the nonce cache for replay detection (seed 003), and dispatch of every request
//! to its protocol module. Runs under the engine's server CPU model.

use super::acquisition;
use super::acquisition::RoPolicy;
use super::metering;
use super::move_ro;
use super::msg::{OcspQuery, SimMsg, Wire};
use super::nonce_cache::NonceCache;
use super::pki_wire::decode_ocsp;
use super::registration::{self, PendingReg, RiRegSession};
use super::world::{Identity, World};
use crate::crypto::OpCounter;
use crate::engine::{Actor, ActorId, Ctx, Event, SimTime};
use crate::pdu::{Identifier, Pdu, Status};
use crate::pki::Certificate;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// Registration sessions an RI keeps between RIHello and RegistrationRequest.
pub const MAX_REG_SESSIONS: usize = 100_000;
const TAG_OCSP_REFRESH: u64 = 1;

/// What the RI keeps about a registered Device (the Device Context).
#[derive(Debug, Clone)]
pub struct DeviceContext {
    /// Device ID.
    pub device_id: Identifier,
    /// The Device actor (where responses go).
    pub actor: ActorId,
    /// Verified certificate chain.
    pub chain: Vec<Certificate>,
    /// When registration completed.
    pub registered_at: SimTime,
}

/// Counters an RI keeps for tests and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiStats {
    /// Responses sent, by protocol and status.
    pub statuses: BTreeMap<(String, String), u64>,
    /// Rights units issued (count ROs: their count; others: 1).
    pub rights_units_issued: u64,
    /// Requests rejected as replays (seed 003 nonce tracking).
    pub replays_rejected: u64,
    /// Accepted metered uses by (Device ID hex, RO ID) (seed 004 §11.2).
    pub metered_uses: BTreeMap<(String, String), u64>,
    /// Metering Reports received again after acceptance (answered Success, not counted).
    pub metering_duplicates: u64,
}

/// A Rights Issuer.
pub struct Ri {
    pub(crate) world: Rc<World>,
    pub(crate) me: Identity,
    pub(crate) index: usize,
    pub(crate) ops: OpCounter,
    pub(crate) reg_sessions: BTreeMap<String, RiRegSession>,
    reg_order: std::collections::VecDeque<String>,
    pub(crate) pending_regs: BTreeMap<Vec<u8>, PendingReg>,
    next_session: u64,
    /// Registered Devices by Device ID.
    pub devices: BTreeMap<Identifier, DeviceContext>,
    /// The same Devices by actor (an order independent of the crypto mode, for random picks
    /// without scanning and cloning every Device Context).
    pub devices_by_actor: super::device_index::DevicesByActor,
    /// The OCSP response on its own certificate it staples, with the time it was produced.
    pub stapled_ocsp: Option<(Vec<u8>, SimTime)>,
    /// Recently seen Device nonces (seed 003).
    pub nonces: NonceCache,
    /// What ROs it issues.
    pub policy: RoPolicy,
    pub(crate) next_ro: u64,
    /// Counters.
    pub stats: RiStats,
    /// RI-managed ROAP domains and this RI's seed-002 reading (domain.rs).
    pub domains: super::domain::RiDomains,
    /// Domain ID base → DEA User Domain it maps to (seed 000 §7.2.2); empty by default.
    pub user_domain_map: BTreeMap<String, String>,
    /// Move Device RO via RI: ledger, moved rights in transit (seed 003 §9.1).
    pub moves: move_ro::RiMoves,
    /// Metering Report protocol state (Post Response URL policy, accepted report IDs).
    pub metering: metering::RiMetering,
    /// The DEA context: MK, authorizations, proxied requests (dea_proxy.rs).
    pub dea_proxy: super::dea_proxy::RiDea,
    /// Move `<userDomain>`-constrained RO via RI state (seed 003 §9.2).
    pub move_ud: super::move_ud::RiUdMoves,
    /// RI-initiated meteringReport / moveDeviceRO triggers (ri_triggers.rs).
    pub triggers: super::ri_triggers::RiTriggers,
    /// Processed requests and their responses, for verbatim repeats (repeats.rs).
    pub repeats: super::repeats::RepeatStore,
}

impl std::fmt::Debug for Ri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ri").field("name", &self.me.name).finish()
    }
}

impl Ri {
    /// RI number `index` of the world, with identity `me` and RO policy `policy`.
    pub fn new(world: Rc<World>, me: Identity, index: usize, policy: RoPolicy) -> Self {
        let nonces = NonceCache::new(
            world.params.nonce_cache_per_device,
            world.params.nonce_cache_devices,
        );
        let repeats = super::repeats::RepeatStore::new(
            world.params.repeat_store_limit,
            super::repeats::window_ns(&world.params),
        );
        Ri {
            world,
            me,
            index,
            ops: OpCounter::new(),
            reg_sessions: BTreeMap::new(),
            reg_order: Default::default(),
            pending_regs: BTreeMap::new(),
            next_session: 0,
            devices: BTreeMap::new(),
            devices_by_actor: Default::default(),
            stapled_ocsp: None,
            nonces,
            policy,
            next_ro: 0,
            stats: RiStats::default(),
            domains: super::domain::RiDomains::default(),
            user_domain_map: BTreeMap::new(),
            moves: move_ro::RiMoves::default(),
            metering: metering::RiMetering::default(),
            dea_proxy: Default::default(),
            move_ud: Default::default(),
            triggers: Default::default(),
            repeats,
        }
    }

    /// The RI's identity.
    pub fn identity(&self) -> &Identity {
        &self.me
    }

    pub(crate) fn new_session_id(&mut self) -> String {
        self.next_session += 1;
        format!("{}-s{}", self.index, self.next_session)
    }

    /// Keeps at most [`MAX_REG_SESSIONS`] half-open registrations (oldest evicted).
    pub(crate) fn bound_reg_sessions(&mut self) {
        if let Some(last) = self.reg_sessions.keys().next_back().cloned() {
            self.reg_order.push_back(last);
        }
        while self.reg_sessions.len() > MAX_REG_SESSIONS {
            match self.reg_order.pop_front() {
                Some(old) => {
                    self.reg_sessions.remove(&old);
                }
                None => break,
            }
        }
        if self.reg_order.len() > 2 * MAX_REG_SESSIONS {
            let live = &self.reg_sessions;
            self.reg_order.retain(|k| live.contains_key(k));
        }
    }

    /// Sends a response PDU, charging its serialisation.
    pub(crate) fn reply(&mut self, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, pdu: Pdu) {
        let wire = Wire::new(self.world.mode(), pdu);
        ctx.charge_ns(self.world.costs.serialize_ns(wire.size_bytes()));
        let msg = SimMsg::Pdu(wire);
        self.repeats.record(to, &msg);
        ctx.send(to, msg);
    }

    /// Seed 003 §1 nonce tracking under the DRM-time window (docs/protocols.md, "Freshness
    /// windows"): a Device request whose `<time>` (DRM time `request_ns`) passed the
    /// `DeviceTimeError` check is admitted if its nonce is new, and the nonce is kept until
    /// `request_ns + time_tolerance_ns`, after which a copy fails the time check by itself.
    /// `Err(AccessDenied)` = replay; `Err(Abort)` = the store is full of nonces still inside
    /// their windows (refused with a trace cause; the Device retries later with a fresh
    /// nonce). Without `ri_nonce_tracking` (pre-seed-003) every nonce passes.
    pub(crate) fn admit_nonce(
        &mut self,
        ctx: &mut Ctx<'_, SimMsg>,
        protocol: &str,
        device: &Identifier,
        nonce: &[u8],
        request_ns: u64,
    ) -> Result<(), Status> {
        use super::nonce_cache::{drm_time_window_end, note_full, Admit};
        if !self.world.variants.ri_nonce_tracking {
            return Ok(());
        }
        let until = drm_time_window_end(request_ns, self.world.params.time_tolerance_ns);
        match self
            .nonces
            .admit(&device.hash, nonce, ctx.now().as_ns(), until)
        {
            Admit::Fresh => Ok(()),
            Admit::Replay => {
                self.stats.replays_rejected += 1;
                Err(Status::AccessDenied)
            }
            Admit::Full => {
                note_full(ctx, protocol);
                Err(Status::Abort)
            }
        }
    }

    /// Counts a response status.
    pub(crate) fn count_status(&mut self, protocol: &str, status: Status) {
        *self
            .stats
            .statuses
            .entry((protocol.to_string(), status.as_str().to_string()))
            .or_default() += 1;
    }

    /// Reject overflow policy: the queue was full, so answer at once, at no CPU cost, with a
    /// status-only `Abort` of the matching response type (ROAP has no "busy" status; §5.3.6
    /// status-only responses carry no nonce, so protocols that match responses by nonce —
    /// metering, move — simply keep waiting and retry, and the others end with `Abort`).
    fn refuse_busy(&mut self, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, msg: &SimMsg) {
        use crate::pdu::roap::{JoinDomainResponse, LeaveDomainResponse, RiHello, RoResponse};
        let SimMsg::Pdu(w) = msg else {
            return;
        };
        let status = Status::Abort;
        let pdu = match w.kind() {
            "roap:deviceHello" => Pdu::RiHello(RiHello {
                status,
                session_id: None,
                body: None,
            }),
            "roap:roRequest" => Pdu::RoResponse(RoResponse { status, body: None }),
            "roap:joinDomainRequest" => {
                Pdu::JoinDomainResponse(JoinDomainResponse { status, body: None })
            }
            "roap:leaveDomainRequest" => {
                Pdu::LeaveDomainResponse(LeaveDomainResponse { status, body: None })
            }
            _ => return,
        };
        self.count_status("busy", status);
        let wire = Wire::new(self.world.mode(), pdu);
        ctx.send(to, SimMsg::Pdu(wire));
    }

    /// The stapled OCSP response if it is fresh enough to hand out.
    pub(crate) fn staple(&self, now: SimTime) -> Option<Vec<u8>> {
        self.stapled_ocsp
            .as_ref()
            .filter(|(_, at)| now.since(*at) < self.world.params.ocsp_max_age_ns)
            .map(|(b, _)| b.clone())
    }

    /// The RI certificate chain for a successful response, unless the request's Peer Key
    /// Identifier extension names this RI's key (ROAP §5.4.2.3/§5.4.3.2 and the Join Domain
    /// response: the chain MUST be present when the Device did not say it holds the key).
    pub(crate) fn chain_unless_peer_key(
        &self,
        extensions: &[crate::pdu::Ext],
    ) -> Option<crate::pdu::CertificateChain> {
        let has_key = extensions.iter().any(|e| {
            matches!(&e.ext, crate::pdu::Extension::PeerKeyIdentifier(Some(k)) if *k == self.me.id)
        });
        (!has_key).then(|| self.me.chain_wire.clone())
    }

    fn refresh_ocsp(&mut self, ctx: &mut Ctx<'_, SimMsg>) {
        if let Some(responder) = self.world.ocsp {
            ctx.send(
                responder,
                SimMsg::OcspRequest(Arc::new(OcspQuery {
                    issuer: self.me.chain[0].issuer().to_string(),
                    serial: self.me.chain[0].serial(),
                    nonce: None,
                })),
            );
            ctx.set_timer(self.world.params.ocsp_refresh_ns, TAG_OCSP_REFRESH);
        }
    }

    fn on_ocsp(&mut self, ctx: &mut Ctx<'_, SimMsg>, bytes: &[u8]) {
        let Ok(resp) = decode_ocsp(bytes) else {
            return;
        };
        match &resp.nonce {
            Some(n) => {
                let n = n.clone();
                registration::ri_on_ocsp_for_registration(self, ctx, &n, bytes.to_vec());
            }
            None => self.stapled_ocsp = Some((bytes.to_vec(), resp.produced_at)),
        }
    }

    fn on_pdu(&mut self, ctx: &mut Ctx<'_, SimMsg>, from: ActorId, wire: Wire) {
        ctx.charge_ns(
            self.world.costs.parse_ns(wire.size_bytes()) + self.world.costs.request_base_ns,
        );
        let arrival = super::repeats::Arrival::of(&self.repeats, from, &wire);
        let pdu = match wire.into_pdu() {
            Ok((p, _)) => p,
            Err((wire, e)) => {
                // Hostile or malformed input: answered at once with a status-only response of
                // the type the request kind calls for, with the status the decoder maps to
                // (`MalformedMeteringReport` for a Metering Report Submit, seed 004 §11.2) —
                // the requester is never left to a timeout (issue 11 part 4).
                let world = self.world.clone();
                let status = super::status_answer::answer_undecodable(&world, ctx, from, &wire, &e);
                self.count_status("malformed", status.unwrap_or(e.status()));
                return;
            }
        };
        // Verbatim repeats of processed requests are answered from the store (repeats.rs);
        // a pre-CR RI (no nonce tracking, seed 003) processes every copy.
        if self.world.variants.ri_nonce_tracking {
            let world = self.world.clone();
            if !super::repeats::gate(&mut self.repeats, &world, ctx, &arrival) {
                return;
            }
        }
        self.dispatch(ctx, from, pdu);
        self.repeats.end();
    }

    fn dispatch(&mut self, ctx: &mut Ctx<'_, SimMsg>, from: ActorId, pdu: Pdu) {
        match pdu {
            Pdu::DeviceHello(h) => registration::ri_on_device_hello(self, ctx, from, h),
            Pdu::RegistrationRequest(r) => registration::ri_on_request(self, ctx, from, r),
            Pdu::RoRequest(r) => acquisition::ri_on_request(self, ctx, from, r),
            Pdu::JoinDomainRequest(r) => super::domain::ri_on_join(self, ctx, from, r),
            Pdu::LeaveDomainRequest(r) => super::domain::ri_on_leave(self, ctx, from, r),
            Pdu::MoveDeviceRoRequest(r) => move_ro::ri_on_request(self, ctx, from, r),
            Pdu::MoveUserDomainConstrainedRoRequest(r) => {
                super::move_ud::ri_on_request(self, ctx, from, r)
            }
            Pdu::MeteringReportSubmit(r) => metering::ri_on_request(self, ctx, from, r),
            Pdu::GetUserDomainAuthorizationResponse(r) => {
                super::dea_proxy::ri_on_authorization_response(self, ctx, r)
            }
            Pdu::ProxyJoinUserDomainResponse(r) => {
                super::dea_proxy::ri_on_proxy_join_response(self, ctx, r)
            }
            Pdu::ProxyLeaveUserDomainResponse(r) => {
                super::dea_proxy::ri_on_proxy_leave_response(self, ctx, r)
            }
            Pdu::ProxyLeaveUserDomainTrigger(t) => {
                super::dea_proxy::ri_on_leave_trigger(self, ctx, t)
            }
            other => {
                // A request this server does not handle: answered `UnknownRequest`.
                self.count_status(other.kind(), Status::UnknownRequest);
                if let Some(m) = super::status_answer::unknown_request(&self.world, other.kind()) {
                    self.repeats.record(from, &m);
                    ctx.send(from, m);
                }
            }
        }
    }
}

impl Actor<SimMsg> for Ri {
    fn on_event(&mut self, ev: Event<SimMsg>, ctx: &mut Ctx<'_, SimMsg>) {
        match ev {
            Event::Start => {
                self.refresh_ocsp(ctx);
                super::dea_proxy::ri_on_start(self, ctx);
                super::ri_triggers::ri_on_start(self, ctx);
            }
            Event::Timer { tag, .. } if super::ri_triggers::owns_tag(tag) => {
                super::ri_triggers::ri_on_timer(self, ctx, tag)
            }
            Event::Timer { tag, .. } if tag == TAG_OCSP_REFRESH => self.refresh_ocsp(ctx),
            Event::Timer { tag, .. } if tag == super::dea_proxy::TAG_AUTHZ_RETRY => {
                super::dea_proxy::ri_on_authz_timer(self, ctx)
            }
            Event::Timer { tag, .. } if tag == move_ro::RI_TAG_MOVE => {
                move_ro::ri_on_timer(self, ctx)
            }
            Event::Timer { .. } => {}
            Event::Message { from, msg, .. } => match msg {
                SimMsg::Pdu(w) => self.on_pdu(ctx, from, w),
                SimMsg::OcspResponse(b) => self.on_ocsp(ctx, &b),
                SimMsg::HttpGet(url) if metering::owns_url(&url) => {
                    ctx.charge_ns(self.world.costs.request_base_ns);
                    metering::ri_on_http_get(self, ctx, from, &url)
                }
                SimMsg::HttpGet(u) => move_ro::ri_on_http_get(self, ctx, from, &u),
                _ => {}
            },
            Event::Overloaded { from, msg, .. } => self.refuse_busy(ctx, from, &msg),
        }
        let mut ops = std::mem::take(&mut self.ops);
        self.world.charge(ctx, &mut ops, 0);
        self.ops = ops;
    }
}
