//! Offline checks of the end state: rights conservation and cross-actor consistency.

use super::{names, Finding, Monitor, Roster};
use crate::engine::Simulation;
use crate::proto::agent::Agent;
use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use std::collections::BTreeMap;

/// "No rights duplicated": a Device RO (issuer, RO ID) is usable on at most one Device, and
/// the rights units Devices hold from an RI never exceed what that RI issued.
#[derive(Debug, Default)]
pub struct RightsOnce;

impl Monitor for RightsOnce {
    fn name(&self) -> &'static str {
        names::NO_RIGHTS_DUPLICATED
    }

    fn at_end(&mut self, sim: &Simulation<SimMsg>, roster: &Roster, found: &mut Vec<Finding>) {
        let mut holders: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut units: BTreeMap<String, u64> = BTreeMap::new();
        for &a in &roster.agents {
            let Some(agent) = sim.actor::<Agent>(a) else {
                continue;
            };
            for ro in agent.ros.values() {
                *units.entry(ro.issuer.clone()).or_default() += ro.rights_units();
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
        for &r in &roster.ris {
            let Some(ri) = sim.actor::<Ri>(r) else {
                continue;
            };
            let held = units.get(&ri.me.name).copied().unwrap_or(0);
            if held > ri.stats.rights_units_issued {
                found.push(Finding {
                    detail: format!(
                        "devices hold {held} rights units from {} which issued {}",
                        ri.me.name, ri.stats.rights_units_issued
                    ),
                    tokens: Vec::new(),
                });
            }
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
