//! Delivery of moved rights to the destination Device (seed 003 §9.1; the seed leaves how the
//! Sink obtains them open): the RI keeps them in transit, sends the destination a signed ROAP
//! Trigger {roAcquisition} (re-sent a bounded number of times), and its RO acquisition
//! receives them re-issued and bound to its own key; retried requests get the same RO ID.

use super::{retry_span_ns, ri_sign_movable, MAX_TASKS, MAX_TRIGGERS, MOVED_MARK, RI_TAG_MOVE};
use crate::crypto::SymKey;
use crate::engine::{ActorId, Ctx, SimTime};
use crate::pdu::common::ALG_KEM;
use crate::pdu::ro::{ProtectedRo, Ro};
use crate::pdu::trigger::{RoapTrigger, TriggerKind};
use crate::pdu::{Encrypted, Identifier, KeyInfo, Pdu};
use crate::pki::Certificate;
use crate::proto::acquisition;
use crate::proto::agent::Agent;
use crate::proto::msg::SimMsg;
use crate::proto::ri::{DeviceContext, Ri};
use std::collections::BTreeMap;

/// Rights moved to the RI and held for a destination Device.
#[derive(Debug, Clone)]
pub struct MovedRights {
    /// RO ID minted for the destination.
    pub ro_id: String,
    /// The Source Device's RO.
    pub source_ro_id: String,
    /// Destination Device.
    pub dest: Identifier,
    /// Destination actor (triggers go there).
    pub dest_actor: ActorId,
    /// Rights units held.
    pub units: u64,
    /// The RO to issue (encKey filled in at delivery).
    pub(super) ro: Ro,
    /// Triggers sent so far.
    pub triggers_sent: u32,
    /// When it was accepted, or delivered (for the re-delivery window).
    pub at: SimTime,
}

/// A ROAP Trigger {roAcquisition} at a Device: verified against the RI Context, then the
/// named ROs this Device does not hold (nor is already fetching) are acquired.
pub(crate) fn agent_on_ro_trigger(
    agent: &mut Agent,
    ctx: &mut Ctx<'_, SimMsg>,
    _from: ActorId,
    t: RoapTrigger,
) {
    let world = agent.world.clone();
    let Some((ri, _)) = world.ri_by_id(&t.ri_id) else {
        return agent.discard(ctx, "trigger from an unknown RI");
    };
    let Some(key) = agent
        .ri_contexts
        .get(&ri)
        .map(|c| c.chain[0].public_key().clone())
    else {
        return agent.discard(ctx, "trigger from an RI without context");
    };
    let Some(sig) = t.signature.clone() else {
        return agent.discard(ctx, "unsigned trigger for a registered RI context");
    };
    if world
        .crypto
        .verify(
            &mut agent.ops,
            &key,
            world.params.sig_alg,
            &Pdu::RoapTrigger(t.clone()),
            &sig,
        )
        .is_err()
    {
        return agent.discard(ctx, "trigger signature does not verify");
    }
    let now = ctx.now();
    let span = retry_span_ns(&world.params);
    agent.moves.requested.retain(|_, at| now.since(*at) < span);
    let wanted: Vec<String> = t
        .ro_ids
        .iter()
        .filter(|id| !agent.ros.contains_key(*id) && !agent.moves.requested.contains_key(*id))
        .take(crate::pdu::ro::MAX_RO_ITEMS)
        .cloned()
        .collect();
    if wanted.is_empty() || agent.moves.requested.len() >= MAX_TASKS {
        return;
    }
    for w in &wanted {
        agent.moves.requested.insert(w.clone(), now);
    }
    agent.moves.stats.triggers_accepted += 1;
    // The RO Request echoes the trigger's nonce as `triggerNonce` (ROAP §5.2.1: a request
    // made in response to a trigger carries its nonce), so the RI can tell it was triggered.
    acquisition::agent_start_with(agent, ctx, ri, wanted, None, t.nonce.clone());
}

/// A signed ROAP Trigger {roAcquisition} naming moved ROs, to their destination.
pub(super) fn send_trigger(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    ro_ids: Vec<String>,
) {
    let world = ri.world.clone();
    let nonce = world.nonce(ctx.rng());
    // Remembered like every trigger nonce the RI issues, so the echo in the Device's RO
    // Request counts as a triggered request (`RiDomains::note_trigger_nonce`); a full store
    // sends nothing now (the moved rights stay in transit and the trigger is re-sent).
    if !ri.record_trigger(ctx.now(), &nonce) {
        crate::proto::nonce_cache::note_full(ctx, "moved-RO trigger (issued-trigger store)");
        return;
    }
    let mut t = RoapTrigger {
        version: "1.0".into(),
        kind: TriggerKind::RoAcquisition,
        id: None,
        ri_id: ri.me.id.clone(),
        ri_alias: None,
        // The destination's Device ID (drmsim's reading: every trigger names its Device).
        device_id: ri
            .devices_by_actor
            .get(&to)
            .and_then(|d| crate::proto::trigger::target_device(&world, d)),
        nonce: Some(nonce),
        not_after: crate::proto::trigger::trigger_not_after(&world, ctx.now()),
        roap_url: world.ris[ri.index].url.clone(),
        domain_id: None,
        ro_ids,
        content_ids: Vec::new(),
        signature: None,
        enc_key: None,
    };
    let unsigned = Pdu::RoapTrigger(t.clone());
    let Ok(sig) = world
        .crypto
        .sign(&mut ri.ops, &ri.me.key, world.params.sig_alg, &unsigned)
    else {
        return;
    };
    t.signature = Some(sig);
    ri.moves.stats.triggers_sent += 1;
    ri.reply(ctx, to, Pdu::RoapTrigger(t));
}

pub(super) fn arm_timer(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>) {
    if !ri.moves.timer_armed {
        ri.moves.timer_armed = true;
        ctx.set_timer(retry_span_ns(&ri.world.params), RI_TAG_MOVE);
    }
}

/// RI move timer: re-triggers uncollected moved rights (bounded) and forgets deliveries
/// older than the re-delivery window.
pub(crate) fn ri_on_timer(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>) {
    ri.moves.timer_armed = false;
    let now = ctx.now();
    let span = retry_span_ns(&ri.world.params);
    ri.moves.delivered.retain(|_, m| now.since(m.at) < span);
    let mut due: BTreeMap<ActorId, Vec<String>> = BTreeMap::new();
    for m in ri.moves.in_transit.values_mut() {
        if m.triggers_sent < MAX_TRIGGERS {
            m.triggers_sent += 1;
            due.entry(m.dest_actor).or_default().push(m.ro_id.clone());
        }
    }
    for (to, ids) in due {
        for chunk in ids.chunks(crate::pdu::trigger::MAX_TRIGGER_ITEMS) {
            send_trigger(ri, ctx, to, chunk.to_vec());
        }
    }
    let more = ri
        .moves
        .in_transit
        .values()
        .any(|m| m.triggers_sent < MAX_TRIGGERS)
        || !ri.moves.delivered.is_empty();
    if more {
        arm_timer(ri, ctx);
    }
}

/// RO acquisition hook: if `id` names moved rights held for the requesting Device, they are
/// issued to it (bound to its key, seed 003 §9.1) — `Some(Some(ro))`; `Some(None)` refuses
/// (moved rights of another Device, or expired); `None` means `id` is not a moved RO.
pub(crate) fn ri_deliver_moved(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    dc: &DeviceContext,
    id: &str,
) -> Option<Option<ProtectedRo>> {
    let now = ctx.now();
    if let Some(m) = ri.moves.in_transit.get(id) {
        if m.dest != dc.device_id {
            return Some(None);
        }
        let ro = m.ro.clone();
        let Some(pro) = protect(ri, ctx, &dc.chain[0], ro) else {
            return Some(None);
        };
        let mut m = ri.moves.in_transit.remove(id).expect("present");
        m.at = now;
        ri.moves.delivered.insert(id.to_string(), m);
        ri.moves.stats.delivered += 1;
        arm_timer(ri, ctx);
        return Some(Some(pro));
    }
    let span = retry_span_ns(&ri.world.params);
    if let Some(m) = ri.moves.delivered.get(id) {
        // A retried RORequest (its response was lost): the same RO ID again, so the Device
        // installs it once whichever response arrives.
        if m.dest != dc.device_id || now.since(m.at) >= span {
            return Some(None);
        }
        let ro = m.ro.clone();
        ri.moves.stats.redelivered += 1;
        return Some(protect(ri, ctx, &dc.chain[0], ro));
    }
    if id.starts_with(&format!("{}{MOVED_MARK}", ri.me.name)) {
        return Some(None);
    }
    None
}

/// Wraps fresh KMAC‖KREK to `cert`'s key, signs and MACs the RO (as RO acquisition does).
fn protect(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    cert: &Certificate,
    mut ro: Ro,
) -> Option<ProtectedRo> {
    let world = ri.world.clone();
    let kmac = SymKey::random(ctx.rng());
    let krek = SymKey::random(ctx.rng());
    let material = [kmac.as_bytes().as_slice(), krek.as_bytes().as_slice()].concat();
    let cipher = world
        .crypto
        .kem_wrap(&mut ri.ops, ctx.rng(), cert.public_key(), &material)
        .ok()?;
    ro.enc_key = Encrypted {
        id: None,
        algorithm: ALG_KEM.to_string(),
        key_info: Some(KeyInfo::SpkiHash(cert.key_id().as_bytes().to_vec())),
        cipher,
    };
    ro.time_stamp = Some(world.datetime(ctx.now().as_ns()));
    let ro = ri_sign_movable(ri, ro)?;
    let mut pro = ProtectedRo {
        ro,
        mac: Vec::new(),
    };
    pro.mac = world
        .crypto
        .mac(&mut ri.ops, &kmac, world.params.mac_alg, &pro);
    Some(pro)
}
