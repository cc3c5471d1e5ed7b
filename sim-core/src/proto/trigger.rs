//! ROAP Triggers (OMA-TS-DRM-DRM-V2_0 §5.2.1): the RI tells a Device to run a protocol —
//! roAcquisition, joinDomain, leaveDomain, meteringReport, moveDeviceRO — and the Device
//! runs it, echoing the trigger `<nonce>` as the request's `triggerNonce`.
//!
//! Authentication (§5.2.1): a trigger for a Device that has an RI Context carries the RI's
//! `<signature>`; a leaveDomain trigger to a domain member instead carries an HMAC under a
//! fresh K_MAC that `<encKey>` AES-wraps under the Domain Key (so it proves knowledge of
//! K_D). A Device with an RI Context discards unsigned, wrongly signed, replayed or
//! malformed triggers. A Device without one cannot authenticate the trigger: it registers
//! first and then runs the triggered protocol (§5.2.1, "if no RI Context exists").
//!
//! Which Device a trigger is for: no ROAP §5.2.1 trigger names its Device, and a leaveDomain
//! trigger's MAC key (wrapped under K_D, or the UDK-holders' key for a DEA-triggered leave,
//! seed 000 §7.6.2/§7.7) is one every domain member holds, so as written any Device that can
//! authenticate a trigger acts on it (docs/attacks.md, "triggers name no Device"). drmsim's
//! default reading puts the target's `<deviceID>` (as DRM v2.1 extended triggers carry it)
//! inside the signed/MACed element of every kind, and the Device refuses a trigger that
//! names another Device or none (`Variants::trigger_names_device`; false = as written).
//!
//! When a trigger may be acted on: a ROAP §5.2.1 trigger carries no time, so a Device can
//! refuse a replayed trigger only while it remembers the nonce, and any fixed count of
//! nonces is pushed out by later triggers (then an old leaveDomain trigger makes the Device
//! leave again). Issue 11's rule needs a freshness window the Device can enforce. drmsim's
//! reading (`Variants::trigger_carries_time`): every trigger carries `<notAfter>` = the RI's
//! time at issue + `ProtoParams::trigger_lifetime_ns`, inside the signed/MACed element; a
//! Device refuses a trigger whose `<notAfter>` is past on its DRM clock by more than the
//! time tolerance (the same tolerance the RI grants the Device's own `<time>`, base ROAP
//! `DeviceTimeError`), or that claims to stay valid longer than a lifetime ahead; and it keeps
//! each nonce until `<notAfter>` + tolerance, refusing triggers while its store is full
//! (`nonces.rs`). As written (false) the Device keeps the newest
//! `trigger_nonces_per_device` nonces (docs/attacks.md, "triggers carry no time").

mod nonces;
pub use nonces::{IssuedTriggers, SeenAdmit, SeenTriggers};

use super::agent::{Agent, SessionKind};
use super::domain::state::MAX_PENDING_TRIGGERS;
use super::domain::{self, split_domain_id, DomainOwner};
use super::msg::{SimMsg, Wire};
use super::ri::Ri;
use super::{acquisition, registration};
use crate::crypto::{CryptoError, SymKey};
use crate::engine::{ActorId, Ctx, SimTime};
use crate::pdu::common::ALG_KW_AES128;
use crate::pdu::trigger::{RoapTrigger, TriggerKind, MAX_TRIGGER_ITEMS};
use crate::pdu::DateTime;
use crate::pdu::{Encrypted, Identifier, KeyInfo, Pdu};
use rand::RngCore;

/// ROAP trigger version spoken.
pub const TRIGGER_VERSION: &str = "1.0";

/// What an RI asks a Device to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerOrder {
    /// Protocol to run.
    pub kind: TriggerKind,
    /// Domain ID incl. generation (joinDomain, leaveDomain, Domain RO acquisition).
    pub domain_id: Option<String>,
    /// RO IDs (roAcquisition, Move).
    pub ro_ids: Vec<String>,
    /// Content IDs (roAcquisition).
    pub content_ids: Vec<String>,
}

impl TriggerOrder {
    /// An order of `kind` with nothing else set.
    pub fn new(kind: TriggerKind) -> Self {
        TriggerOrder {
            kind,
            domain_id: None,
            ro_ids: Vec::new(),
            content_ids: Vec::new(),
        }
    }
}

/// Why an RI could not issue a trigger (fatal for that trigger only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    /// The order lists more IDs than a trigger carries.
    #[error("too many IDs in the trigger ({0})")]
    TooManyItems(usize),
    /// A domain trigger without a domain ID.
    #[error("domain trigger without a domain ID")]
    NoDomain,
    /// Signing or wrapping failed.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The RI's store of issued trigger nonces is full of live ones (retry later).
    #[error("issued-trigger store full")]
    StoreFull,
}

impl TriggerError {
    /// Always fatal for the trigger being built.
    pub fn is_fatal(&self) -> bool {
        true
    }
}

impl Ri {
    /// Builds the trigger for Device `device` at virtual time `now` (signed when the
    /// Device is registered here; a leaveDomain trigger to a member of an RI-managed domain
    /// is MACed under K_D instead), remembering its nonce so a request echoing it is
    /// recognised.
    pub fn issue_trigger(
        &mut self,
        rng: &mut dyn RngCore,
        now: SimTime,
        device: &Identifier,
        order: TriggerOrder,
    ) -> Result<RoapTrigger, TriggerError> {
        let n = order.ro_ids.len().max(order.content_ids.len());
        if n > MAX_TRIGGER_ITEMS {
            return Err(TriggerError::TooManyItems(n));
        }
        let needs_domain = matches!(
            order.kind,
            TriggerKind::JoinDomain | TriggerKind::LeaveDomain
        );
        if needs_domain && order.domain_id.is_none() {
            return Err(TriggerError::NoDomain);
        }
        let world = self.world.clone();
        let mut nonce = vec![0u8; world.params.nonce_bytes];
        rng.fill_bytes(&mut nonce);
        if !self.record_trigger(now, &nonce) {
            return Err(TriggerError::StoreFull);
        }
        let mut t = RoapTrigger {
            version: TRIGGER_VERSION.into(),
            kind: order.kind,
            id: None,
            ri_id: self.me.id.clone(),
            ri_alias: None,
            device_id: target_device(&world, device),
            nonce: Some(nonce),
            not_after: trigger_not_after(&world, now),
            roap_url: world.ris[self.index].url.clone(),
            domain_id: order.domain_id.clone(),
            ro_ids: order.ro_ids,
            content_ids: order.content_ids,
            signature: None,
            enc_key: None,
        };
        if self.devices.contains_key(device) {
            let member_key = order
                .domain_id
                .as_deref()
                .filter(|_| order.kind == TriggerKind::LeaveDomain)
                .filter(|d| self.domain_owner(d) == DomainOwner::Ri)
                .and_then(split_domain_id)
                .and_then(|(b, _)| self.domains.domains.get(b))
                .filter(|d| d.members.contains(device))
                .map(|d| (d.current_id(), *d.current_key()));
            let sig = match member_key {
                Some((did, kd)) => {
                    let kmac = SymKey::random(rng);
                    t.enc_key = Some(Encrypted {
                        id: None,
                        algorithm: ALG_KW_AES128.to_string(),
                        key_info: Some(KeyInfo::DomainId(did)),
                        cipher: world.crypto.wrap(&mut self.ops, &kd, kmac.as_bytes())?,
                    });
                    world.crypto.mac(
                        &mut self.ops,
                        &kmac,
                        world.params.mac_alg,
                        &Pdu::RoapTrigger(t.clone()),
                    )
                }
                None => world.crypto.sign(
                    &mut self.ops,
                    &self.me.key,
                    world.params.sig_alg,
                    &Pdu::RoapTrigger(t.clone()),
                )?,
            };
            t.signature = Some(sig);
        }
        Ok(t)
    }

    /// Records a trigger nonce issued at `now` for as long as a request may echo it: the
    /// trigger's lifetime, the time tolerance a Device's clock may lag by, and the Device's
    /// retry span for the triggered request (`repeats::window_ns`). `false`: the store is
    /// full of live nonces, issue nothing.
    pub(crate) fn record_trigger(&mut self, now: SimTime, nonce: &[u8]) -> bool {
        let p = &self.world.params;
        let until = now
            .as_ns()
            .saturating_add(p.trigger_lifetime_ns)
            .saturating_add(p.time_tolerance_ns)
            .saturating_add(super::repeats::window_ns(p));
        self.domains.remember_trigger(nonce, now.as_ns(), until)
    }
}

/// The `<notAfter>` of a trigger an RI issues at `now` (`Variants::trigger_carries_time`;
/// none when the text is taken as written).
pub fn trigger_not_after(world: &super::world::World, now: SimTime) -> Option<DateTime> {
    world
        .variants
        .trigger_carries_time
        .then(|| world.datetime(now.as_ns().saturating_add(world.params.trigger_lifetime_ns)))
}

/// The `<deviceID>` a trigger for `device` carries: the Device itself under drmsim's reading
/// (`Variants::trigger_names_device`), none when the text is taken as written (ROAP §5.2.1
/// triggers name no Device).
pub fn target_device(world: &super::world::World, device: &Identifier) -> Option<Identifier> {
    world.variants.trigger_names_device.then(|| device.clone())
}

/// Sends a trigger for `device` to actor `to`; returns the trigger nonce.
pub fn ri_send_trigger(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    device: &Identifier,
    order: TriggerOrder,
) -> Result<Vec<u8>, TriggerError> {
    let now = ctx.now();
    let t = match ri.issue_trigger(ctx.rng(), now, device, order) {
        Err(TriggerError::StoreFull) => {
            super::nonce_cache::note_full(ctx, "trigger (issued-trigger store)");
            return Err(TriggerError::StoreFull);
        }
        r => r?,
    };
    let nonce = t.nonce.clone().unwrap_or_default();
    ri.reply(ctx, to, Pdu::RoapTrigger(t));
    Ok(nonce)
}

/// A trigger as a wire message of this run's mode (tests, adversaries).
pub fn trigger_wire(ri: &Ri, t: RoapTrigger) -> Wire {
    Wire::new(ri.world.mode(), Pdu::RoapTrigger(t))
}

// ------------------------------------------------------------------ Device side

fn discard(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, why: &str) {
    agent.domain.stats.triggers_discarded += 1;
    agent.discard(ctx, &format!("trigger: {why}"));
}

/// Whether the trigger's authenticator verifies for a Device holding an RI Context with
/// RI `ri`.
fn authentic(agent: &mut Agent, ri: usize, t: &RoapTrigger) -> bool {
    let world = agent.world.clone();
    let Some(sig) = t.signature.clone() else {
        return false;
    };
    let unsigned = Pdu::RoapTrigger(t.clone());
    match &t.enc_key {
        // leaveDomain: HMAC under K_MAC, which is wrapped under the Domain Key.
        Some(ek) if t.kind == TriggerKind::LeaveDomain => {
            let Some(KeyInfo::DomainId(did)) = &ek.key_info else {
                return false;
            };
            let Some(kd) = agent.domain.key_for(did).copied() else {
                return false;
            };
            let Ok(k) = world.crypto.unwrap(&mut agent.ops, &kd, &ek.cipher) else {
                return false;
            };
            let Ok(kmac) = SymKey::from_slice(&k) else {
                return false;
            };
            world
                .crypto
                .verify_mac(&mut agent.ops, &kmac, world.params.mac_alg, &unsigned, &sig)
                .is_ok()
        }
        Some(_) => false,
        None => {
            let key = agent.ri_contexts[&ri].chain[0].public_key().clone();
            world
                .crypto
                .verify(&mut agent.ops, &key, world.params.sig_alg, &unsigned, &sig)
                .is_ok()
        }
    }
}

/// A ROAP trigger arrived at the Device: validate, then run the protocol it names.
pub(crate) fn agent_on_trigger(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    t: RoapTrigger,
) {
    if t.version != TRIGGER_VERSION {
        return discard(agent, ctx, "unsupported version");
    }
    let Some((ri, _)) = agent.world.ri_by_id(&t.ri_id) else {
        return discard(agent, ctx, "unknown RI");
    };
    let drm_now = agent.drm_now(ctx.now());
    if let Some(n) = &t.nonce {
        if agent.domain.seen_trigger_nonces.contains(n, drm_now) {
            return discard(agent, ctx, "replayed nonce");
        }
    }
    // drmsim's reading (`Variants::trigger_names_device`): a trigger names the Device it is
    // for, inside what its signature or MAC covers; one naming another Device (a trigger
    // redirected here) or none is refused before anything else is done with it.
    if agent.world.variants.trigger_names_device && t.device_id.as_ref() != Some(&agent.me.id) {
        let why = if t.device_id.is_some() {
            "names another Device"
        } else {
            "names no Device"
        };
        return discard(agent, ctx, why);
    }
    let authenticated = agent.ri_contexts.contains_key(&ri);
    let keep_until = match window(agent, drm_now, &t, authenticated) {
        Ok(k) => k,
        Err(why) => return discard(agent, ctx, why),
    };
    if authenticated {
        if !authentic(agent, ri, &t) {
            return discard(agent, ctx, "missing or invalid signature");
        }
        if let Err(why) = remember(agent, &t, drm_now, keep_until) {
            return discard(agent, ctx, why);
        }
        dispatch(agent, ctx, from, ri, t);
        return;
    }
    // No RI Context: register first, then run the protocol (§5.2.1).
    if agent.domain.pending_triggers.len() >= MAX_PENDING_TRIGGERS {
        return discard(agent, ctx, "too many triggers waiting for registration");
    }
    if let Err(why) = remember(agent, &t, drm_now, keep_until) {
        return discard(agent, ctx, why);
    }
    agent.domain.pending_triggers.push((ri, t));
    let registering = agent
        .sessions
        .values()
        .any(|s| s.ri == ri && matches!(s.kind, SessionKind::Registration(_)));
    if !registering {
        registration::agent_start(agent, ctx, ri);
    }
}

/// The trigger's freshness window at a Device whose DRM time is `drm_now`: until when
/// (DRM time) its nonce must be kept, `None` when no window exists (the text as written), or
/// why the trigger is refused. Under `trigger_carries_time` an authenticated trigger must
/// carry `<notAfter>` (signed, so the RI vouches for it); the Device accepts it up to
/// `<notAfter>` + tolerance (its clock may lag the RI's by that much, base ROAP
/// `DeviceTimeError`) and refuses one claiming more than a lifetime (+ tolerance) ahead, which
/// bounds how long any nonce is kept. A trigger the Device cannot authenticate (no RI
/// Context yet, §5.2.1) proves nothing by its `<notAfter>`: its nonce is kept for one lifetime
/// + tolerance from now, as long as such a trigger waits for the registration.
pub(crate) fn window(
    agent: &Agent,
    drm_now: u64,
    t: &RoapTrigger,
    authenticated: bool,
) -> Result<Option<u64>, &'static str> {
    let world = &agent.world;
    if !world.variants.trigger_carries_time {
        return Ok(None);
    }
    let p = &world.params;
    let longest = drm_now
        .saturating_add(p.trigger_lifetime_ns)
        .saturating_add(p.time_tolerance_ns);
    let Some(na) = &t.not_after else {
        if authenticated {
            return Err("carries no notAfter");
        }
        return Ok(Some(longest));
    };
    // `<notAfter>` has whole seconds: the RI's instant lies within the second after it.
    let end = world
        .drm_ns(na)
        .saturating_add(crate::engine::time::NS_PER_S)
        .saturating_add(p.time_tolerance_ns);
    if drm_now > end {
        return Err("expired (notAfter passed)");
    }
    if end > longest.saturating_add(p.time_tolerance_ns + crate::engine::time::NS_PER_S) {
        return Err("notAfter further ahead than a trigger lifetime");
    }
    Ok(Some(if authenticated { end } else { end.min(longest) }))
}

/// Remembers the trigger's nonce until `keep_until` (DRM time; `None`: no window).
fn remember(
    agent: &mut Agent,
    t: &RoapTrigger,
    drm_now: u64,
    keep_until: Option<u64>,
) -> Result<(), &'static str> {
    let Some(n) = &t.nonce else { return Ok(()) };
    let limit = agent.world.params.trigger_nonces_per_device;
    match agent
        .domain
        .seen_trigger_nonces
        .admit(n, drm_now, keep_until, limit)
    {
        SeenAdmit::Fresh => Ok(()),
        SeenAdmit::Replay => Err("replayed nonce"),
        SeenAdmit::Full => Err("nonce store full (every nonce still inside its trigger's window)"),
    }
}

/// Registration with `ri` completed: run the triggers that were waiting for it.
pub(crate) fn on_registered(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize) {
    if agent.domain.pending_triggers.is_empty() {
        return;
    }
    let (ready, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut agent.domain.pending_triggers)
        .into_iter()
        .partition(|(r, _)| *r == ri);
    agent.domain.pending_triggers = rest;
    let from = agent.world.ris[ri].actor;
    for (_, t) in ready {
        dispatch(agent, ctx, from, ri, t);
    }
}

/// Starts the protocol a validated trigger names, with its nonce echoed.
fn dispatch(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    from: ActorId,
    ri: usize,
    t: RoapTrigger,
) {
    let nonce = t.nonce.clone();
    match t.kind {
        // RO IDs without a domain: the named (e.g. moved, seed 003 §9.1.3) ROs are fetched
        // once each by the move module, which de-duplicates re-sent triggers (it checks the
        // signature again: one extra verification per such trigger).
        TriggerKind::RoAcquisition if t.domain_id.is_none() && !t.ro_ids.is_empty() => {
            agent.domain.stats.triggers_accepted += 1;
            super::move_ro::agent_on_ro_trigger(agent, ctx, from, t);
        }
        TriggerKind::RoAcquisition => {
            let ids = if t.ro_ids.is_empty() {
                t.content_ids.clone()
            } else {
                t.ro_ids.clone()
            };
            if ids.is_empty() {
                return discard(agent, ctx, "roAcquisition names no RO");
            }
            agent.domain.stats.triggers_accepted += 1;
            acquisition::agent_start_with(agent, ctx, ri, ids, t.domain_id.clone(), nonce);
        }
        TriggerKind::JoinDomain | TriggerKind::LeaveDomain => {
            let Some(d) = t.domain_id.clone().filter(|d| split_domain_id(d).is_some()) else {
                return discard(agent, ctx, "domain trigger without a valid domain ID");
            };
            agent.domain.stats.triggers_accepted += 1;
            if t.kind == TriggerKind::JoinDomain {
                domain::agent_start_join(agent, ctx, ri, d, nonce);
            } else {
                domain::agent_start_leave(agent, ctx, ri, d, nonce);
            }
        }
        // The registration module starts afresh (its RegistrationRequest does not carry
        // the trigger nonce yet).
        TriggerKind::Registration => {
            agent.domain.stats.triggers_accepted += 1;
            registration::agent_start(agent, ctx, ri);
        }
        TriggerKind::MeteringReport
        | TriggerKind::MoveDeviceRo
        | TriggerKind::MoveUserDomainConstrainedRo => {
            agent.domain.stats.triggers_accepted += 1;
            start_other_protocol(agent, ctx, ri, t);
        }
    }
}

/// The protocols other modules own: meteringReport (seed 004 §11.3, metering module),
/// moveDeviceRO (seed 003 §9.1.1, move_ro) and moveUserDomainConstrainedRO (seed 003
/// §9.2.1, move_ud). The request goes to the trigger's `roapURL` (§9.1.1/§9.2.1 step 4;
/// the ROAP trigger's URL element is `roapURL`, which §9.2.1 calls `reqURL`). drmsim's
/// reading: that URL must be the triggering RI's own (the report is for the RI that signed
/// the trigger and a Move goes to the RO's issuer, §9.1.1 step 3); a trigger whose
/// roapURL names no RI or another RI is discarded.
fn start_other_protocol(agent: &mut Agent, ctx: &mut Ctx<'_, SimMsg>, ri: usize, t: RoapTrigger) {
    if agent.world.ri_by_url(&t.roap_url) != Some(ri) {
        return discard(agent, ctx, "roapURL is not the triggering RI's");
    }
    match t.kind {
        TriggerKind::MeteringReport => {
            super::metering::agent_on_trigger(agent, ctx, ri, t.nonce.clone())
        }
        TriggerKind::MoveDeviceRo => {
            super::move_ro::agent_on_move_trigger(agent, ctx, ri, &t.ro_ids)
        }
        TriggerKind::MoveUserDomainConstrainedRo => {
            super::move_ud::agent_on_move_trigger(agent, ctx, ri, &t.ro_ids)
        }
        _ => {}
    }
}
