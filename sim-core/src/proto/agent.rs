//! The DRM Agent (Device) actor: identity, RI Contexts, installed Rights Objects, metering
//! information, DRM time, and the protocol sessions it runs. Each protocol's steps live in
//! its own module (`registration`, `acquisition`, …); this file holds what they share:
//! sessions, timeouts, retries with bounded back-off, outcomes, and the workload driver.

use super::drm_time::DrmClock;
use super::metering_store::MeteringStore;
use super::move_ro;
use super::msg::{SimMsg, Wire};
use super::rights::RightsObject;
use super::workload::{next_poisson_ns, AgentWorkload};
use super::world::{Identity, World};
use super::{acquisition, domain, metering, move_ud, pairing, registration, trigger};
use crate::crypto::OpCounter;
use crate::engine::{Actor, ActorId, Ctx, Event, SimTime, TimerId};
use crate::pdu::{Pdu, Status};
use crate::pki::{Certificate, OcspResponse};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Timer tag classes (top byte of the tag).
const TAG_TIMEOUT: u64 = 1 << 56;
const TAG_RETRY: u64 = 2 << 56;
const TAG_ACTIVITY: u64 = 3 << 56;
const TAG_MASK: u64 = 0xFF << 56;

/// Recurring activities of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Activity {
    Acquire = 0,
    Consume = 1,
    /// Move Device RO via RI work queue (seed 003 §9.1): move starts, Post Response URL GETs.
    Move = 2,
    /// Periodic Metering Report (seed 004 §5.4.6.1).
    Metering = 3,
    /// Workload-driven Leave Domain (domain.rs; one-shot, not recurring).
    LeaveDomain = 4,
    Import = 5,
    Pair = 6,
    /// Move `<userDomain>`-constrained RO via RI (seed 003 §9.2; move_ud.rs).
    MoveUd = 7,
}

impl Activity {
    fn from_tag(tag: u64) -> Option<Activity> {
        match tag & !TAG_MASK {
            0 => Some(Activity::Acquire),
            1 => Some(Activity::Consume),
            2 => Some(Activity::Move),
            3 => Some(Activity::Metering),
            4 => Some(Activity::LeaveDomain),
            5 => Some(Activity::Import),
            6 => Some(Activity::Pair),
            7 => Some(Activity::MoveUd),
            _ => None,
        }
    }
}

/// What the Device keeps about an RI after registration (the RI Context).
#[derive(Debug, Clone)]
pub struct RiContext {
    /// Index of the RI in the world's RI list.
    pub ri: usize,
    /// The RI's certificate chain, verified at registration.
    pub chain: Vec<Certificate>,
    /// Latest verified OCSP response for the RI certificate (cached for No OCSP Response).
    pub ocsp: Option<OcspResponse>,
    /// When the context was established (virtual time).
    pub established_at: SimTime,
    /// The RI has stored this Device's certificate chain (it may be omitted in requests).
    pub ri_has_device_chain: bool,
}

/// Protocol-specific state of a session.
#[derive(Debug, Clone)]
pub(crate) enum SessionKind {
    /// 4-pass registration.
    Registration(Box<registration::AgentReg>),
    /// 2-pass RO acquisition.
    Acquisition(acquisition::AgentAcq),
    /// 2-pass Join Domain.
    JoinDomain(domain::AgentJoin),
    /// 2-pass Leave Domain.
    LeaveDomain(domain::AgentLeave),
    /// Move Device RO via RI (seed 003 §9.1).
    MoveDeviceRo(move_ro::AgentMove),
    /// 2-pass Metering Report (seed 004).
    Metering(metering::AgentMeter),
    /// Seed 001 pairing: Join Domain for Pairing, Import, dmpPair.
    Pairing(Box<pairing::AgentPairSession>),
    /// Move `<userDomain>`-constrained RO via RI (seed 003 §9.2).
    MoveUserDomainRo(move_ud::AgentUdMove),
}

impl SessionKind {
    fn protocol(&self) -> &'static str {
        match self {
            SessionKind::Registration(_) => super::protocols::REGISTRATION,
            SessionKind::Acquisition(_) => super::protocols::RO_ACQUISITION,
            SessionKind::JoinDomain(_) => domain::JOIN,
            SessionKind::LeaveDomain(_) => domain::LEAVE,
            SessionKind::MoveDeviceRo(_) => move_ro::PROTOCOL,
            SessionKind::Metering(_) => metering::PROTOCOL,
            SessionKind::Pairing(p) => p.protocol(),
            SessionKind::MoveUserDomainRo(_) => move_ud::PROTOCOL,
        }
    }
}

/// One run of a protocol from this Device's side, across retries.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Session number (unique per Device).
    pub id: u64,
    /// Index of the RI (the peer's entry in the world's RI list).
    pub ri: usize,
    /// Actor the requests go to.
    pub peer: ActorId,
    /// When the first request was sent.
    pub started: SimTime,
    /// Requests sent so far.
    pub attempts: u32,
    /// The pending timeout or retry timer.
    pub timer: Option<TimerId>,
    /// Nonce of the latest request.
    pub nonce: Vec<u8>,
    /// Protocol state.
    pub kind: SessionKind,
    /// Re-registration after a NotRegistered answer (registration.rs).
    pub rereg: registration::Rereg,
    /// Attempts ended by an `Abort` answer and retried.
    pub retries_after_abort: u32,
    /// The latest attempt is waiting for its answer (false during a back-off): only then may
    /// a status-only answer, which names no attempt, end it (`status_only_session`).
    pub awaiting: bool,
}

/// Counters a Device keeps for tests and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// Content uses that succeeded.
    pub uses: u64,
    /// Content uses refused (no usable RO).
    pub uses_refused: u64,
    /// Responses discarded (no matching session, bad nonce, bad signature…).
    pub discarded: u64,
    /// Registrations run again because an RI answered NotRegistered (registration.rs).
    pub reregistrations: u64,
    /// Times the workload (acquire, consume, metering, domain and Move timers) was started:
    /// once, at the first registration with the home RI.
    pub workload_starts: u64,
    /// Attempts retried because the server answered `Abort`.
    pub retries_after_abort: u64,
    /// Success RO Responses installed after their session had ended without ROs
    /// (`acquisition::late_success`).
    pub late_installs: u64,
}

/// Most request nonces of failed RO acquisitions a Device remembers (`failed_acquisitions`).
pub const MAX_FAILED_ACQUISITIONS: usize = 256;

/// A DRM Agent.
pub struct Agent {
    pub(crate) world: Rc<World>,
    pub(crate) me: Identity,
    pub(crate) clock: DrmClock,
    pub(crate) home_ri: usize,
    pub(crate) workload: AgentWorkload,
    pub(crate) ops: OpCounter,
    pub(crate) sessions: BTreeMap<u64, Session>,
    next_session: u64,
    /// RI Contexts by RI index.
    pub ri_contexts: BTreeMap<usize, RiContext>,
    /// Installed Rights Objects by RO ID.
    pub ros: BTreeMap<String, RightsObject>,
    /// Metering information not yet reported successfully.
    pub metering: MeteringStore,
    /// Counters.
    pub stats: AgentStats,
    /// Domain Contexts, this Device's seed-002 reading, trigger state (domain.rs, trigger.rs).
    pub domain: domain::AgentDomains,
    /// Move Device RO via RI state (seed 003 §9.1).
    pub moves: move_ro::AgentMoves,
    /// Metering Report protocol state (outstanding reports, Post Response GETs).
    pub metering_reports: metering::AgentMetering,
    /// Seed 001 pairing state (Master Key, tickets, SACs, Imported ROs).
    pub pairing: pairing::AgentPairing,
    /// Move `<userDomain>`-constrained RO via RI state (seed 003 §9.2).
    pub move_ud: move_ud::AgentUdMoves,
    /// Nonces of every attempt of RO acquisitions that ended without installing ROs (at most
    /// [`MAX_FAILED_ACQUISITIONS`]): the `consistent_state` check compares them with what
    /// RIs issued, so rights an RI delivered and the Device dropped are visible.
    pub failed_acquisitions: std::collections::BTreeSet<Vec<u8>>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.me.name)
            .finish()
    }
}

impl Agent {
    /// A Device with identity `me`, home RI `home_ri`, clock and workload.
    pub fn new(
        world: Rc<World>,
        me: Identity,
        home_ri: usize,
        clock: DrmClock,
        workload: AgentWorkload,
    ) -> Self {
        let max_ros = world.params.max_ros_per_device;
        let world_params = world.params;
        Agent {
            world,
            me,
            clock,
            home_ri,
            workload,
            ops: OpCounter::new(),
            sessions: BTreeMap::new(),
            next_session: 0,
            ri_contexts: BTreeMap::new(),
            ros: BTreeMap::new(),
            metering: MeteringStore::new(max_ros),
            stats: AgentStats::default(),
            domain: domain::AgentDomains::default(),
            moves: move_ro::AgentMoves::default(),
            metering_reports: metering::AgentMetering::default(),
            pairing: pairing::AgentPairing::new(&world_params),
            move_ud: Default::default(),
            failed_acquisitions: Default::default(),
        }
    }

    /// The Device's identity.
    pub fn identity(&self) -> &Identity {
        &self.me
    }

    /// Current DRM time, ns.
    pub(crate) fn drm_now(&self, now: SimTime) -> u64 {
        self.clock.drm_time_ns(now)
    }

    /// Sends a PDU to `to`, charging the serialisation cost.
    pub(crate) fn send_pdu(&mut self, ctx: &mut Ctx<'_, SimMsg>, to: ActorId, pdu: Pdu) {
        let wire = Wire::new(self.world.mode(), pdu);
        ctx.charge_ns(self.world.costs.serialize_ns(wire.size_bytes()));
        ctx.send(to, SimMsg::Pdu(wire));
    }

    /// Opens a new session of `kind` with RI `ri`; `None` when the session bound is reached.
    pub(crate) fn open_session(
        &mut self,
        ctx: &mut Ctx<'_, SimMsg>,
        ri: usize,
        kind: SessionKind,
    ) -> Option<u64> {
        if self.sessions.len() >= self.world.params.max_sessions_per_device {
            ctx.outcome(kind.protocol(), None, "abandoned", 0, 0);
            return None;
        }
        let id = self.next_session;
        self.next_session += 1;
        let peer = self.world.ris.get(ri).map_or(ActorId(0), |r| r.actor);
        self.sessions.insert(
            id,
            Session {
                id,
                ri,
                peer,
                started: ctx.now(),
                attempts: 0,
                timer: None,
                nonce: Vec::new(),
                kind,
                rereg: Default::default(),
                retries_after_abort: 0,
                awaiting: false,
            },
        );
        Some(id)
    }

    /// Marks that a request of session `id` was just sent: counts the attempt and arms the
    /// response timeout.
    pub(crate) fn arm_timeout(&mut self, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
        let timeout = self.world.params.request_timeout_ns;
        if let Some(s) = self.sessions.get_mut(&id) {
            s.attempts += 1;
            s.awaiting = true;
            if let Some(t) = s.timer.take() {
                ctx.cancel_timer(t);
            }
            s.timer = Some(ctx.set_timer(timeout, TAG_TIMEOUT | id));
        }
    }

    /// Re-arms the response timeout of session `id` for the next message of the same attempt
    /// (registration's RegistrationRequest after RIHello): the attempt is not counted again,
    /// so a 4-pass registration gets as many tries as a 2-pass protocol.
    pub(crate) fn rearm_timeout(&mut self, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
        self.arm_timeout(ctx, id);
        if let Some(s) = self.sessions.get_mut(&id) {
            s.attempts = s.attempts.saturating_sub(1);
        }
    }

    /// Ends session `id` with `status` (`success`, a ROAP status name, `timeout`…), recording
    /// the outcome and its latency.
    pub(crate) fn finish(
        &mut self,
        ctx: &mut Ctx<'_, SimMsg>,
        id: u64,
        status: &str,
    ) -> Option<Session> {
        let mut s = self.sessions.remove(&id)?;
        if let Some(t) = s.timer.take() {
            ctx.cancel_timer(t);
        }
        let latency = ctx.now().since(s.started);
        ctx.outcome(s.kind.protocol(), Some(s.peer), status, latency, s.attempts);
        if let SessionKind::Acquisition(a) = &s.kind {
            if status != "success" {
                for n in a.attempt_nonces() {
                    if self.failed_acquisitions.len() < MAX_FAILED_ACQUISITIONS {
                        self.failed_acquisitions.insert(n.clone());
                    }
                }
            }
        }
        registration::agent_on_session_end(self, ctx, &s, status);
        Some(s)
    }

    /// Ends session `id` with a ROAP status.
    pub(crate) fn finish_status(
        &mut self,
        ctx: &mut Ctx<'_, SimMsg>,
        id: u64,
        status: Status,
    ) -> Option<Session> {
        // An `Abort` answering the current attempt ends it, not the session: retry after a
        // bounded back-off with a fresh request, as after a timeout (issue 11). `Abort` is
        // what a busy or interrupted server answers (ROAP §5.3.6: "unspecified error"); the
        // retry budget bounds the loop.
        if status == Status::Abort && self.schedule_retry(ctx, id) {
            return None;
        }
        let name = if status == Status::Success {
            "success"
        } else {
            status.as_str()
        };
        self.finish(ctx, id, name)
    }

    /// Schedules the next attempt of session `id` after the bounded exponential back-off;
    /// `false` (nothing scheduled) when its attempts are used up.
    fn schedule_retry(&mut self, ctx: &mut Ctx<'_, SimMsg>, id: u64) -> bool {
        let params = self.world.params;
        let Some(s) = self.sessions.get_mut(&id) else {
            return false;
        };
        if s.attempts > params.max_retries {
            return false;
        }
        if let Some(t) = s.timer.take() {
            ctx.cancel_timer(t);
        }
        let exp = params
            .backoff_multiplier
            .max(1.0)
            .powi(s.attempts.saturating_sub(1) as i32);
        let delay =
            ((params.backoff_base_ns as f64) * exp).min(params.backoff_max_ns as f64) as u64;
        s.timer = Some(ctx.set_timer(delay, TAG_RETRY | id));
        // No answer to the abandoned attempt may end the session any more.
        s.nonce.clear();
        s.awaiting = false;
        s.retries_after_abort += 1;
        self.stats.retries_after_abort += 1;
        true
    }

    /// The session a status-only answer (no nonce, ROAP §5.3) from `from` ends: the oldest
    /// session of a kind `is_kind` accepts to that peer whose latest attempt is waiting for
    /// its answer. A status-only answer arriving while no attempt waits (a back-off after a
    /// timeout or an `Abort`) is a late answer to an earlier attempt and matches nothing.
    pub(crate) fn status_only_session(
        &self,
        from: ActorId,
        is_kind: fn(&SessionKind) -> bool,
    ) -> Option<u64> {
        self.sessions
            .values()
            .find(|s| s.peer == from && s.awaiting && is_kind(&s.kind) && !s.rereg.parked())
            .map(|s| s.id)
    }

    /// The session whose latest request carried `nonce`.
    pub(crate) fn session_by_nonce(&self, nonce: &[u8]) -> Option<u64> {
        self.sessions
            .values()
            .find(|s| s.nonce == nonce && !s.rereg.parked())
            .map(|s| s.id)
    }

    /// A discarded response (no session, wrong nonce, bad signature): counted, not fatal.
    pub(crate) fn discard(&mut self, ctx: &mut Ctx<'_, SimMsg>, why: &str) {
        self.stats.discarded += 1;
        if ctx.tracing() {
            let actor = ctx.me().0;
            ctx.trace(crate::trace::TraceEvent::Note {
                actor,
                text: format!("discarded response: {why}"),
            });
        }
    }

    fn on_timeout(&mut self, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
        let params = self.world.params;
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        s.timer = None;
        // A late status-only answer to the timed-out attempt must not end the session (it
        // cannot be told from an answer to the next one); a late answer carrying the nonce
        // still matches until the next attempt replaces it.
        s.awaiting = false;
        if s.attempts > params.max_retries {
            let kind = s.kind.clone();
            self.finish(ctx, id, "timeout");
            self.on_abandon(ctx, kind);
            return;
        }
        // Bounded exponential back-off before the retry.
        let exp = params
            .backoff_multiplier
            .max(1.0)
            .powi(s.attempts.saturating_sub(1) as i32);
        let delay =
            ((params.backoff_base_ns as f64) * exp).min(params.backoff_max_ns as f64) as u64;
        s.timer = Some(ctx.set_timer(delay, TAG_RETRY | id));
    }

    fn on_retry(&mut self, ctx: &mut Ctx<'_, SimMsg>, id: u64) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        s.timer = None;
        match &s.kind {
            SessionKind::Registration(_) => registration::agent_send(self, ctx, id),
            SessionKind::Acquisition(_) => acquisition::agent_send(self, ctx, id),
            SessionKind::JoinDomain(_) => domain::agent_send_join(self, ctx, id),
            SessionKind::LeaveDomain(_) => domain::agent_send_leave(self, ctx, id),
            SessionKind::MoveDeviceRo(_) => move_ro::agent_send(self, ctx, id),
            SessionKind::Metering(_) => metering::agent_send(self, ctx, id),
            SessionKind::Pairing(_) => pairing::agent_send(self, ctx, id),
            SessionKind::MoveUserDomainRo(_) => move_ud::agent_send(self, ctx, id),
        }
    }

    /// A protocol was abandoned after its last retry.
    fn on_abandon(&mut self, _ctx: &mut Ctx<'_, SimMsg>, kind: SessionKind) {
        match kind {
            SessionKind::Registration(_) | SessionKind::Acquisition(_) => {}
            SessionKind::JoinDomain(_) | SessionKind::LeaveDomain(_) => {}
            SessionKind::MoveDeviceRo(m) => move_ro::agent_on_abandon(self, _ctx, m),
            // Seed 004 §11.3: no response, nothing deleted; the outstanding report is resent
            // at the next metering tick.
            SessionKind::Metering(_) => {}
            SessionKind::Pairing(p) => pairing::agent_on_abandon(self, &p),
            SessionKind::MoveUserDomainRo(m) => move_ud::agent_on_abandon(self, m),
        }
    }

    /// Registration with RI `ri` succeeded: the workload starts.
    pub(crate) fn on_registered(&mut self, ctx: &mut Ctx<'_, SimMsg>, ri: usize) {
        trigger::on_registered(self, ctx, ri);
        // A later registration with the home RI (a Registration trigger, ROAP §5.2.1) renews
        // the RI Context only: starting the workload again would double every Poisson clock.
        if ri != self.home_ri || self.stats.workload_starts > 0 {
            return;
        }
        self.stats.workload_starts += 1;
        self.schedule(ctx, Activity::Acquire);
        self.schedule(ctx, Activity::Consume);
        if metering::arm_once(self) {
            self.schedule(ctx, Activity::Metering);
        }
        domain::on_registered(self, ctx, ri);
        move_ud::on_registered(self, ctx);
    }

    /// Sets a one-off timer for activity `a` in `delay_ns`.
    pub(crate) fn set_activity_timer(&self, ctx: &mut Ctx<'_, SimMsg>, delay_ns: u64, a: Activity) {
        ctx.set_timer(delay_ns, TAG_ACTIVITY | a as u64);
    }

    pub(crate) fn schedule(&mut self, ctx: &mut Ctx<'_, SimMsg>, a: Activity) {
        let rate = match a {
            Activity::Acquire => self.workload.acquire_rate_per_min,
            Activity::Consume => self.workload.consume_rate_per_min,
            Activity::LeaveDomain => 0.0,
            // Move timers are set one by one by `move_ro`, never on a Poisson clock.
            Activity::Move => 0.0,
            Activity::Metering => {
                // Periodic, not Poisson (workload `metering_interval_ns`).
                if let Some(d) = self.workload.metering_interval_ns {
                    ctx.set_timer(d.max(1), TAG_ACTIVITY | a as u64);
                }
                return;
            }
            Activity::Import => self.workload.import_rate_per_min,
            Activity::Pair => self.workload.pair_rate_per_min,
            Activity::MoveUd => 0.0,
        };
        if let Some(d) = next_poisson_ns(ctx.rng(), rate) {
            ctx.set_timer(d, TAG_ACTIVITY | a as u64);
        }
    }

    fn on_activity(&mut self, ctx: &mut Ctx<'_, SimMsg>, a: Activity) {
        match a {
            Activity::Acquire => acquisition::agent_start(self, ctx, self.home_ri),
            Activity::Consume => self.consume(ctx),
            Activity::LeaveDomain => domain::on_leave_activity(self, ctx),
            Activity::Move => move_ro::agent_on_timer(self, ctx),
            Activity::Metering => metering::agent_tick(self, ctx),
            Activity::Import => pairing::agent_import_activity(self, ctx),
            Activity::Pair => pairing::agent_pair_activity(self, ctx),
            Activity::MoveUd => move_ud::agent_on_timer(self, ctx),
        }
        self.schedule(ctx, a);
    }

    /// Uses content under one usable RO (chosen at random), recording metering information
    /// for metered ROs.
    fn consume(&mut self, ctx: &mut Ctx<'_, SimMsg>) {
        let usable: Vec<String> = self
            .ros
            .iter()
            .filter(|(_, ro)| !ro.unusable && ro.available_count() > 0)
            .map(|(k, _)| k.clone())
            .collect();
        if usable.is_empty() {
            self.stats.uses_refused += 1;
            return;
        }
        use rand::Rng;
        let pick = ctx.rng().gen_range(0..usable.len());
        let drm_now = self.drm_now(ctx.now());
        let ro = self.ros.get_mut(&usable[pick]).expect("listed above");
        match ro.consume(drm_now) {
            Ok(()) => {
                self.stats.uses += 1;
                if ro.metered {
                    let (issuer, id) = (ro.issuer.clone(), ro.ro_id.clone());
                    self.metering.record_use(&issuer, &id);
                }
            }
            Err(_) => self.stats.uses_refused += 1,
        }
    }

    fn on_pdu(&mut self, ctx: &mut Ctx<'_, SimMsg>, from: ActorId, wire: Wire) {
        ctx.charge_ns(self.world.costs.parse_ns(wire.size_bytes()));
        let (pdu, octets) = match wire.into_pdu() {
            Ok(p) => p,
            Err((wire, e)) => {
                self.discard(ctx, &format!("undecodable {}: {e}", wire.kind()));
                return;
            }
        };
        match pdu {
            Pdu::RiHello(h) => registration::agent_on_ri_hello(self, ctx, from, h),
            Pdu::RegistrationResponse(r) => registration::agent_on_response(self, ctx, from, r),
            Pdu::RoResponse(r) => acquisition::agent_on_response(self, ctx, from, r),
            Pdu::JoinDomainResponse(r) => domain::agent_on_join_response(
                self,
                ctx,
                from,
                r,
                octets.as_ref().and_then(Wire::xml),
            ),
            Pdu::LeaveDomainResponse(r) => domain::agent_on_leave_response(self, ctx, from, r),
            // Every trigger is validated in trigger.rs, which hands roAcquisition triggers
            // naming RO IDs to move_ro::agent_on_ro_trigger.
            Pdu::RoapTrigger(t) => trigger::agent_on_trigger(self, ctx, from, t),
            Pdu::MoveDeviceRoResponse(r) => move_ro::agent_on_response(self, ctx, from, r),
            Pdu::MoveUserDomainConstrainedRoResponse(r) => {
                move_ud::agent_on_response(self, ctx, from, r)
            }
            Pdu::MeteringReportResponse(r) => metering::agent_on_response(self, ctx, from, r),
            Pdu::PairingJoinDomainResponse(r) => pairing::agent_on_join_response(self, ctx, r),
            Pdu::PairingTicketResponse(r) => pairing::agent_on_ticket_response(self, ctx, r),
            Pdu::AuthenticationRequest(r) => pairing::agent_on_auth_request(self, ctx, from, r),
            Pdu::AuthenticationResponse(r) => pairing::agent_on_auth_response(self, ctx, r),
            Pdu::ImportInitiation(m) => pairing::agent_on_import_initiation(self, ctx, m),
            Pdu::ImportedRoResponse(r) => {
                pairing::agent_on_imported_ro_response(self, ctx, from, r)
            }
            other => self.discard(ctx, &format!("unexpected {}", other.kind())),
        }
    }
}

impl Actor<SimMsg> for Agent {
    fn on_event(&mut self, ev: Event<SimMsg>, ctx: &mut Ctx<'_, SimMsg>) {
        match ev {
            Event::Start => {
                if self.workload.register_at_arrival {
                    registration::agent_start(self, ctx, self.home_ri);
                }
                pairing::agent_on_start(self, ctx);
            }
            Event::Message { from, msg, .. } => {
                if let SimMsg::Pdu(w) = msg {
                    self.on_pdu(ctx, from, w);
                } else if let SimMsg::HttpResponse {
                    url,
                    status,
                    trigger,
                } = &msg
                {
                    if metering::owns_url(url) {
                        metering::agent_on_http_response(self, ctx, url, *status, trigger.as_ref());
                    } else {
                        move_ro::agent_on_http_response(self, ctx, url, *status);
                    }
                }
            }
            Event::Timer { tag, .. } => match tag & TAG_MASK {
                TAG_TIMEOUT => self.on_timeout(ctx, tag & !TAG_MASK),
                TAG_RETRY => self.on_retry(ctx, tag & !TAG_MASK),
                TAG_ACTIVITY => {
                    if let Some(a) = Activity::from_tag(tag) {
                        self.on_activity(ctx, a);
                    }
                }
                _ => {}
            },
            Event::Overloaded { .. } => {}
        }
        let mut ops = std::mem::take(&mut self.ops);
        self.world.charge(ctx, &mut ops, 0);
        self.ops = ops;
    }
}
