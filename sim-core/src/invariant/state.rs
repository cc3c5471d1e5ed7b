//! Offline checks of the end state: rights conservation and cross-actor consistency.

use super::{names, Finding, Monitor, Roster};
use crate::engine::Simulation;
use crate::proto::agent::Agent;
use crate::proto::move_ro::rights_accounting;
use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use std::collections::BTreeMap;

/// "No rights duplicated": a Device RO (issuer, RO ID) is usable on at most one Device, and
/// the rights units in existence (held, in transit, minus those counted twice during a
/// Move) never exceed what the RIs issued.
#[derive(Debug, Default)]
pub struct RightsOnce;

impl Monitor for RightsOnce {
    fn name(&self) -> &'static str {
        names::NO_RIGHTS_DUPLICATED
    }

    fn at_end(&mut self, sim: &Simulation<SimMsg>, roster: &Roster, found: &mut Vec<Finding>) {
        let mut holders: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for &a in &roster.agents {
            let Some(agent) = sim.actor::<Agent>(a) else {
                continue;
            };
            for ro in agent.ros.values() {
                if !ro.unusable {
                    holders
                        .entry((ro.issuer.clone(), ro.ro_id.clone()))
                        .or_default()
                        .push(agent.me.name.clone());
                }
            }
        }
        for ((issuer, ro), who) in holders.iter().filter(|(_, w)| w.len() > 1) {
            found.push(Finding {
                detail: format!("RO {ro} of {issuer} is usable on {}", who.join(", ")),
                tokens: Vec::new(),
            });
        }
        // Conservation (seed 003 §9.1): units held + in transit − counted twice never exceed
        // what the RIs issued.
        let agents: Vec<&Agent> = roster
            .agents
            .iter()
            .filter_map(|&a| sim.actor::<Agent>(a))
            .collect();
        let ris: Vec<&Ri> = roster
            .ris
            .iter()
            .filter_map(|&r| sim.actor::<Ri>(r))
            .collect();
        let acc = rights_accounting(&agents, &ris);
        let issued: u64 = ris.iter().map(|r| r.stats.rights_units_issued).sum();
        if acc.total_units() > issued {
            found.push(Finding {
                detail: format!(
                    "{} rights units exist (held {}, in transit {}, counted twice {}) but RIs issued {issued}",
                    acc.total_units(),
                    acc.held_units,
                    acc.in_transit_units,
                    acc.pending_source_units
                ),
                tokens: Vec::new(),
            });
        }
    }
}

/// "Completed protocols leave consistent state on both sides": a Device that holds an RI
/// Context (registration completed, §5.4.2.1) is in that RI's Device Contexts, and every RO a
/// Device holds from an RI comes with an RI Context for it (§5.4.2.3 requires one).
#[derive(Debug, Default)]
pub struct ConsistentState;

impl Monitor for ConsistentState {
    fn name(&self) -> &'static str {
        names::CONSISTENT_STATE
    }

    fn at_end(&mut self, sim: &Simulation<SimMsg>, roster: &Roster, found: &mut Vec<Finding>) {
        let ris: Vec<Option<&Ri>> = roster.ris.iter().map(|&r| sim.actor::<Ri>(r)).collect();
        for &a in &roster.agents {
            let Some(agent) = sim.actor::<Agent>(a) else {
                continue;
            };
            for &r in agent.ri_contexts.keys() {
                if let Some(Some(ri)) = ris.get(r) {
                    if !ri.devices.contains_key(&agent.me.id) {
                        found.push(Finding {
                            detail: format!(
                                "{} holds an RI Context for {} which has no Device Context for it",
                                agent.me.name, ri.me.name
                            ),
                            tokens: Vec::new(),
                        });
                    }
                }
            }
            for ro in agent.ros.values() {
                let Some(r) = ris
                    .iter()
                    .position(|ri| ri.is_some_and(|ri| ri.me.name == ro.issuer))
                else {
                    continue;
                };
                if !agent.ri_contexts.contains_key(&r) {
                    found.push(Finding {
                        detail: format!(
                            "{} holds RO {} from {} without an RI Context",
                            agent.me.name, ro.ro_id, ro.issuer
                        ),
                        tokens: Vec::new(),
                    });
                }
            }
        }
    }
}

/// "No domain above its limit": an RI-managed ROAP domain never has more member Devices than
/// its maximum (§5.4.3.1 join; members are a set, so a Device joining repeatedly counts once),
/// and neither does a DEA User Domain (seed 000 §7.4.2).
#[derive(Debug, Default)]
pub struct DomainLimit;

impl Monitor for DomainLimit {
    fn name(&self) -> &'static str {
        names::DOMAIN_WITHIN_LIMIT
    }

    fn at_end(&mut self, sim: &Simulation<SimMsg>, roster: &Roster, found: &mut Vec<Finding>) {
        for &r in &roster.ris {
            let Some(ri) = sim.actor::<Ri>(r) else {
                continue;
            };
            for (base, d) in &ri.domains.domains {
                if d.members.len() > d.max_members {
                    found.push(Finding {
                        detail: format!(
                            "domain {base} of {} has {} members, limit {}",
                            ri.me.name,
                            d.members.len(),
                            d.max_members
                        ),
                        tokens: Vec::new(),
                    });
                }
            }
        }
        // Seed 000 §7.4.2: the User Domain limit counts distinct Devices.
        if let Some(dea) = roster
            .dea
            .and_then(|d| sim.actor::<crate::proto::dea::Dea>(d))
        {
            for (id, ud) in &dea.user_domains.domains {
                if ud.members.len() > ud.max_devices {
                    found.push(Finding {
                        detail: format!(
                            "User Domain {id} has {} Devices, limit {}",
                            ud.members.len(),
                            ud.max_devices
                        ),
                        tokens: Vec::new(),
                    });
                }
            }
        }
    }
}
