//! The DEA-triggered leave (seed 000 §7.7): the DEA's Proxy Leave User Domain Trigger to
//! each RI the Device is associated through (§7.6.1), and the RI's ROAP Trigger{leaveDomain}
//! to the Device (§7.6.2). That ROAP trigger names its Device under drmsim's default reading
//! (`Variants::trigger_names_device`, proto/trigger.rs): as written it names none, and any
//! member of the User Domain it is replayed to would leave too (docs/attacks.md).

use super::{domain_id, mk_mac, mk_verify, DEA_URL, MAX_SEEN_DEA_TRIGGERS, TAG_TRIGGER_LEAVE};
use crate::engine::Ctx;
use crate::pdu::trigger::{ProxyLeaveUserDomainTrigger, TriggerKind};
use crate::pdu::{Identifier, Pdu};
use crate::proto::dea::Dea;
use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use crate::proto::trigger::{ri_send_trigger, TriggerOrder};
use rand::Rng;

/// The DEA starts: arms the triggered-leave workload.
pub(crate) fn dea_on_start(dea: &mut Dea, ctx: &mut Ctx<'_, SimMsg>) {
    arm_trigger_leave(dea, ctx);
}

fn arm_trigger_leave(dea: &mut Dea, ctx: &mut Ctx<'_, SimMsg>) {
    let rate = dea.user_domains.config.trigger_leave_rate_per_min;
    if let Some(d) = crate::proto::workload::next_poisson_ns(ctx.rng(), rate) {
        ctx.set_timer(d, TAG_TRIGGER_LEAVE);
    }
}

/// A DEA timer fired.
pub(crate) fn dea_on_timer(dea: &mut Dea, ctx: &mut Ctx<'_, SimMsg>, tag: u64) {
    if tag != TAG_TRIGGER_LEAVE {
        return;
    }
    // Workload: evict one random member of a random non-empty User Domain.
    let evicting = &dea.user_domains.evicting;
    let candidates: Vec<(String, Identifier)> = dea
        .user_domains
        .domains
        .values()
        .flat_map(|u| u.members.keys().map(move |d| (u.id.clone(), d.clone())))
        .filter(|k| !evicting.contains(k))
        .collect();
    if !candidates.is_empty() {
        let pick = ctx.rng().gen_range(0..candidates.len());
        let (ud, dev) = candidates[pick].clone();
        dea_trigger_leave(dea, ctx, &ud, &dev);
    }
    arm_trigger_leave(dea, ctx);
}

/// Sends a Proxy Leave User Domain Trigger (§7.6.1) for `device` to every RI it is
/// associated through in User Domain `ud`; returns how many were sent.
pub fn dea_trigger_leave(
    dea: &mut Dea,
    ctx: &mut Ctx<'_, SimMsg>,
    ud: &str,
    device: &Identifier,
) -> usize {
    let world = dea.world.clone();
    let Some(ris) = dea
        .user_domains
        .domains
        .get(ud)
        .and_then(|u| u.members.get(device))
        .cloned()
    else {
        return 0;
    };
    let mut sent = 0;
    for ri_id in ris {
        let (Some((_, info)), Some(mk)) = (world.ri_by_id(&ri_id), dea.mk_of(&ri_id)) else {
            continue;
        };
        let actor = info.actor;
        let mut t = ProxyLeaveUserDomainTrigger {
            id: None,
            res_id: dea.me.id.clone(),
            res_alias: None,
            nonce: world.nonce(ctx.rng()),
            req_url: DEA_URL.to_string(),
            domain_id: ud.to_string(),
            device_ids: vec![device.clone()],
            signature: None,
        };
        t.signature = Some(mk_mac(
            &world,
            &mut dea.ops,
            &mk,
            &Pdu::ProxyLeaveUserDomainTrigger(t.clone()),
        ));
        dea.reply(ctx, actor, Pdu::ProxyLeaveUserDomainTrigger(t));
        dea.user_domains.stats.triggers_sent += 1;
        sent += 1;
    }
    if sent > 0 {
        dea.user_domains
            .evicting
            .insert((ud.to_string(), device.clone()));
    }
    sent
}

// ------------------------------------------------------------------ RI side

/// Proxy Leave User Domain Trigger at the RI (§7.6.2): authenticated by the MK, then a
/// ROAP Trigger{leaveDomain} to each named Device registered here, for the ROAP domain
/// this RI maps onto the User Domain.
pub(crate) fn ri_on_leave_trigger(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    t: ProxyLeaveUserDomainTrigger,
) {
    let world = ri.world.clone();
    let ok = match (ri.dea_proxy.mk, &t.signature) {
        (Some(mk), Some(sig)) => {
            world.dea_id.as_ref() == Some(&t.res_id)
                && mk_verify(
                    &world,
                    &mut ri.ops,
                    &mk,
                    &Pdu::ProxyLeaveUserDomainTrigger(t.clone()),
                    sig,
                )
        }
        _ => false,
    };
    if !ok || ri.dea_proxy.seen_triggers.contains(&t.nonce) {
        ri.dea_proxy.stats.triggers_discarded += 1;
        return;
    }
    if ri.dea_proxy.seen_triggers.len() >= MAX_SEEN_DEA_TRIGGERS {
        ri.dea_proxy.seen_triggers.pop_front();
    }
    ri.dea_proxy.seen_triggers.push_back(t.nonce.clone());
    let Some(base) = ri
        .user_domain_map
        .iter()
        .find(|(_, ud)| **ud == t.domain_id)
        .map(|(b, _)| b.clone())
    else {
        ri.dea_proxy.stats.triggers_discarded += 1;
        return;
    };
    let roap_domain = domain_id(&base, ri.dea_proxy.generation);
    for dev in &t.device_ids {
        let Some(actor) = ri.devices.get(dev).map(|dc| dc.actor) else {
            ri.dea_proxy.stats.triggers_discarded += 1;
            continue;
        };
        let mut order = TriggerOrder::new(TriggerKind::LeaveDomain);
        order.domain_id = Some(roap_domain.clone());
        match ri_send_trigger(ri, ctx, actor, dev, order) {
            Ok(_) => ri.dea_proxy.stats.triggers_accepted += 1,
            Err(_) => ri.dea_proxy.stats.triggers_discarded += 1,
        }
    }
}
