//! RI-initiated protocols by ROAP Trigger (ROAP §5.2.1): the workload that makes RIs send
//! meteringReport triggers (seed 004 §11.3: a Device keeps its metering information until
//! it has reported after such a trigger) and moveDeviceRO triggers (seed 003 §9.1.1: "can
//! be initiated … by receiving a ROAP-MoveDeviceRO Trigger"). The Device side is in the
//! modules owning those protocols (`metering::agent_on_trigger`,
//! `move_ro::agent_on_move_trigger`), reached from `trigger.rs` once the trigger verified;
//! the request goes to the trigger's `roapURL` (seed 003 §9.1.1 step 4).
//!
//! Each RI runs one Poisson clock per trigger kind (`RiTriggerPolicy`, per RI). A
//! meteringReport trigger goes to a registered Device picked at random; a moveDeviceRO
//! trigger names one movable Device RO this RI issued recently (a bounded record of the
//! last `MAX_RECENT_MOVABLE` issued), sent to the Device it was issued to.

use super::msg::SimMsg;
use super::ri::Ri;
use super::trigger::{ri_send_trigger, TriggerOrder};
use crate::engine::Ctx;
use crate::pdu::trigger::TriggerKind;
use crate::pdu::Identifier;
use rand::Rng;
use std::collections::VecDeque;

/// Timer tag of the meteringReport trigger clock.
pub const TAG_METERING_TRIGGER: u64 = 0x7716_0001;
/// Timer tag of the moveDeviceRO trigger clock.
pub const TAG_MOVE_TRIGGER: u64 = 0x7716_0002;
/// Recently issued movable Device ROs an RI remembers as moveDeviceRO trigger targets.
pub const MAX_RECENT_MOVABLE: usize = 4096;

/// How often an RI sends triggers (per RI; 0 = never).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RiTriggerPolicy {
    /// meteringReport triggers per minute.
    pub metering_rate_per_min: f64,
    /// moveDeviceRO triggers per minute.
    pub move_rate_per_min: f64,
}

/// Counters of RI-sent triggers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiTriggerStats {
    /// meteringReport triggers sent.
    pub metering_sent: u64,
    /// moveDeviceRO triggers sent.
    pub move_sent: u64,
    /// Clock ticks with no eligible Device or RO.
    pub no_target: u64,
}

/// An RI's trigger workload state.
#[derive(Debug, Clone, Default)]
pub struct RiTriggers {
    /// Rates.
    pub policy: RiTriggerPolicy,
    /// (Device, RO ID) of movable Device ROs issued recently (oldest dropped).
    recent_movable: VecDeque<(Identifier, String)>,
    /// Counters.
    pub stats: RiTriggerStats,
}

impl RiTriggers {
    /// Notes a movable Device RO issued to `device` (only when move triggers are on).
    pub fn note_movable(&mut self, device: &Identifier, ro_id: &str) {
        if self.policy.move_rate_per_min <= 0.0 {
            return;
        }
        if self.recent_movable.len() >= MAX_RECENT_MOVABLE {
            self.recent_movable.pop_front();
        }
        self.recent_movable
            .push_back((device.clone(), ro_id.to_string()));
    }
}

fn arm(ctx: &mut Ctx<'_, SimMsg>, rate_per_min: f64, tag: u64) {
    if let Some(d) = super::workload::next_poisson_ns(ctx.rng(), rate_per_min) {
        ctx.set_timer(d, tag);
    }
}

/// The RI starts: arms its trigger clocks.
pub(crate) fn ri_on_start(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>) {
    let p = ri.triggers.policy;
    arm(ctx, p.metering_rate_per_min, TAG_METERING_TRIGGER);
    arm(ctx, p.move_rate_per_min, TAG_MOVE_TRIGGER);
}

/// Whether `tag` is one of this module's timers.
pub(crate) fn owns_tag(tag: u64) -> bool {
    tag == TAG_METERING_TRIGGER || tag == TAG_MOVE_TRIGGER
}

/// A trigger clock fired: send one trigger and re-arm.
pub(crate) fn ri_on_timer(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>, tag: u64) {
    let p = ri.triggers.policy;
    if tag == TAG_METERING_TRIGGER {
        send_metering_trigger(ri, ctx);
        arm(ctx, p.metering_rate_per_min, TAG_METERING_TRIGGER);
    } else if tag == TAG_MOVE_TRIGGER {
        send_move_trigger(ri, ctx);
        arm(ctx, p.move_rate_per_min, TAG_MOVE_TRIGGER);
    }
}

fn send_metering_trigger(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>) {
    if ri.devices_by_actor.is_empty() {
        ri.triggers.stats.no_target += 1;
        return;
    }
    let pick = ctx.rng().gen_range(0..ri.devices_by_actor.len());
    let (actor, device) = ri
        .devices_by_actor
        .nth(pick)
        .map(|(a, d)| (a, d.clone()))
        .expect("index in range");
    let order = TriggerOrder::new(TriggerKind::MeteringReport);
    if ri_send_trigger(ri, ctx, actor, &device, order).is_ok() {
        ri.triggers.stats.metering_sent += 1;
    }
}

fn send_move_trigger(ri: &mut Ri, ctx: &mut Ctx<'_, SimMsg>) {
    // Drop entries whose Device is no longer registered here, then pick one at random.
    let devices = &ri.devices;
    ri.triggers
        .recent_movable
        .retain(|(d, _)| devices.contains_key(d));
    if ri.triggers.recent_movable.is_empty() {
        ri.triggers.stats.no_target += 1;
        return;
    }
    let pick = ctx.rng().gen_range(0..ri.triggers.recent_movable.len());
    let (device, ro_id) = ri
        .triggers
        .recent_movable
        .remove(pick)
        .expect("index in range");
    let actor = ri.devices[&device].actor;
    let mut order = TriggerOrder::new(TriggerKind::MoveDeviceRo);
    order.ro_ids = vec![ro_id];
    if ri_send_trigger(ri, ctx, actor, &device, order).is_ok() {
        ri.triggers.stats.move_sent += 1;
    }
}
