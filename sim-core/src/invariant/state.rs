//! Offline checks of the end state: rights conservation (RI-issued and Imported ROs) and
//! cross-actor consistency.

use super::{names, Finding, Monitor, Roster};
use crate::engine::Simulation;
use crate::pdu::ro::{Action, Constraint as RoConstraint};
use crate::proto::agent::Agent;
use crate::proto::lrm::{Lrm, MAX_ISSUED};
use crate::proto::move_ro::{is_imported, rights_accounting};
use crate::proto::msg::SimMsg;
use crate::proto::pairing::{permits_copy, MAX_RECEIVED};
use crate::proto::ri::Ri;
use std::collections::BTreeMap;

/// "No rights duplicated".
///
/// RI-issued ROs: a Device RO (issuer, RO ID) is usable on at most one Device, and the rights
/// units in existence (held, in transit, minus those counted twice during a Move) never
/// exceed what the RIs issued.
///
/// Imported ROs (issuer an LRM, seed 001 §7.2.1.2) are issued rights too, with the LRM as
/// issuer: each is checked against the LRM's record of what it issued to which Device
/// (`Lrm::issued`), see [`imported_findings`].
#[derive(Debug, Default)]
pub struct RightsOnce;

impl Monitor for RightsOnce {
    fn name(&self) -> &'static str {
        names::NO_RIGHTS_DUPLICATED
    }

    fn at_end(&mut self, sim: &Simulation<SimMsg>, roster: &Roster, found: &mut Vec<Finding>) {
        let agents: Vec<&Agent> = roster
            .agents
            .iter()
            .filter_map(|&a| sim.actor::<Agent>(a))
            .collect();
        let mut holders: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for agent in &agents {
            for ro in agent.ros.values() {
                if !ro.unusable && !is_imported(agent, ro) {
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
        imported_findings(sim, &agents, found);
    }
}

/// Units an Imported RO grants as its LRM signed them: the play/display count, else 1 (the
/// unit `RightsObject::rights_units` counts).
fn signed_units(rights: &crate::pdu::ro::Rights) -> u64 {
    rights
        .permissions
        .iter()
        .filter(|p| matches!(p.action, Action::Play | Action::Display))
        .flat_map(|p| p.constraints.iter())
        .find_map(|c| match c {
            RoConstraint::Count(n) => Some(u64::from(*n)),
            _ => None,
        })
        .unwrap_or(1)
}

/// Imported ROs (seed 001). The LRM issues each RO ID to one Device (`Lrm::issued`); after
/// that it travels only by dmpPair (§7.2.1.3) between agents of the User Domain. Every usable
/// holder of an Imported RO must
/// - hold an RO its LRM issued, with no more units than the LRM signed;
/// - have it from the LRM (the Device it was issued to) or from a dmpPair transfer it
///   installed (`AgentPairing::received`) — not from anywhere else;
/// - be in the User Domain of the Device it was issued to;
///
/// and an RO whose LRM-signed rights do not permit dmpPair Copy (`permits_copy`) is usable
/// on at most one agent: a Move keeps the rights on exactly one (the source deletes on the
/// destination's confirmation, and until then holds it unusable). Seed 001 sets no limit on
/// the number of Copies of an RO that permits them (the LRM's export permission carries no
/// count), so any number of copies made that way are legitimate.
///
/// Records are bounded (`lrm::MAX_ISSUED`, `pairing::MAX_RECEIVED`): once one is full, the
/// provenance it would give is not checked (no false alarms from eviction).
pub fn imported_findings(sim: &Simulation<SimMsg>, agents: &[&Agent], found: &mut Vec<Finding>) {
    let Some(world) = agents.first().map(|a| a.world.clone()) else {
        return;
    };
    // (LRM index, RO ID) → usable holders.
    let mut holders: BTreeMap<(usize, String), Vec<(&Agent, u64)>> = BTreeMap::new();
    for agent in agents {
        for ro in agent.ros.values().filter(|r| !r.unusable) {
            if let Some(l) = world.lrms.iter().position(|l| l.name == ro.issuer) {
                holders
                    .entry((l, ro.ro_id.clone()))
                    .or_default()
                    .push((agent, ro.rights_units()));
            }
        }
    }
    let mut say = |detail: String| {
        found.push(Finding {
            detail,
            tokens: Vec::new(),
        })
    };
    for ((l, ro_id), who) in &holders {
        let info = &world.lrms[*l];
        let Some(lrm) = sim.actor::<Lrm>(info.actor) else {
            continue;
        };
        let Some((to, entry)) = lrm.issued.get(ro_id) else {
            if lrm.issued.len() < MAX_ISSUED {
                let names: Vec<&str> = who.iter().map(|(a, _)| a.me.name.as_str()).collect();
                say(format!(
                    "Imported RO {ro_id} of {} is usable on {} but {} never issued it",
                    info.name,
                    names.join(", "),
                    info.name
                ));
            }
            continue;
        };
        let signed = signed_units(&entry.rights);
        let first = agents.iter().find(|a| a.me.id == *to);
        for (a, units) in who {
            if *units > signed {
                say(format!(
                    "{} holds {units} units of Imported RO {ro_id} of {}, which signed {signed}",
                    a.me.name, info.name
                ));
            }
            let from_lrm = a.me.id == *to;
            let received = a.pairing.received.values().any(|r| r == ro_id)
                || a.pairing.received.len() >= MAX_RECEIVED;
            if !from_lrm && !received {
                say(format!(
                    "Imported RO {ro_id} of {} is usable on {}, which neither imported it nor received it by dmpPair",
                    info.name, a.me.name
                ));
            }
            if let Some(f) = first {
                if f.pairing.user_domain != a.pairing.user_domain {
                    say(format!(
                        "Imported RO {ro_id} of {} is usable on {} outside User Domain {}",
                        info.name, a.me.name, f.pairing.user_domain
                    ));
                }
            }
        }
        if who.len() > 1 && !permits_copy(&entry.rights) {
            let names: Vec<&str> = who.iter().map(|(a, _)| a.me.name.as_str()).collect();
            say(format!(
                "Imported RO {ro_id} of {} (no dmpPair Copy permission) is usable on {}",
                info.name,
                names.join(", ")
            ));
        }
    }
}

/// "Completed protocols leave consistent state on both sides": a Device that holds an RI
/// Context (registration completed, §5.4.2.1) is in that RI's Device Contexts, and every RO a
/// Device holds from an RI comes with an RI Context for it (§5.4.2.3 requires one).
///
/// Lost issuance (issue 11): an RI that sent a Success RO Response believes it delivered
/// those rights. If the Device ended the request that response answers without installing
/// them (an error or a timeout ended the attempt, a stale answer was taken for the current
/// one…) and so does not retry it, the rights are lost: a finding naming the RO IDs and the
/// response. Success responses are recorded as sent (at most [`MAX_ISSUED_RECORDS`]; beyond
/// that, later ones are not checked), Devices remember the nonces of their failed
/// acquisitions (`Agent::failed_acquisitions`).
#[derive(Debug, Default)]
pub struct ConsistentState {
    /// (Device actor, request nonce) → (RO IDs, observation token) of Success RO Responses.
    issued: BTreeMap<(crate::engine::ActorId, Vec<u8>), (Vec<String>, u64)>,
}

/// The words every lost-issuance finding's detail carries: the finding is about availability
/// (an attacker or the network can always make a Device give up), which `drmsim explore`
/// reports apart from safety violations.
pub const LOST_ISSUANCE: &str = "which ended that request without installing them";

/// Success RO Responses the lost-issuance check records.
pub const MAX_ISSUED_RECORDS: usize = 1_000_000;

impl ConsistentState {
    /// Records an authentic Success RO Response an RI sent (delivered or not).
    fn record_issued(&mut self, obs: &super::Observed<'_>, token: u64) {
        let Some(crate::pdu::Pdu::RoResponse(r)) = obs.pdu else {
            return;
        };
        let Some(body) = r.body.as_ref() else {
            return;
        };
        if r.status != crate::pdu::Status::Success
            || !obs.authentic()
            || self.issued.len() >= MAX_ISSUED_RECORDS
        {
            return;
        }
        let ids = body.protected_ros.iter().map(|p| p.ro.id.clone()).collect();
        self.issued
            .entry((obs.to, body.nonce.clone()))
            .or_insert((ids, token));
    }
}

impl Monitor for ConsistentState {
    fn name(&self) -> &'static str {
        names::CONSISTENT_STATE
    }

    fn on_message(&mut self, obs: &super::Observed<'_>, token: u64, _found: &mut Vec<Finding>) {
        self.record_issued(obs, token);
    }

    fn on_dropped(&mut self, obs: &super::Observed<'_>, token: u64) {
        self.record_issued(obs, token);
    }

    fn at_end(&mut self, sim: &Simulation<SimMsg>, roster: &Roster, found: &mut Vec<Finding>) {
        for &a in &roster.agents {
            let Some(agent) = sim.actor::<Agent>(a) else {
                continue;
            };
            for nonce in &agent.failed_acquisitions {
                let Some((ids, token)) = self.issued.get(&(a, nonce.clone())) else {
                    continue;
                };
                if ids.is_empty() || ids.iter().any(|id| agent.ros.contains_key(id)) {
                    continue;
                }
                found.push(Finding {
                    detail: format!(
                        "an RI issued {} to {} (request nonce {}), {LOST_ISSUANCE}",
                        ids.join(", "),
                        agent.me.name,
                        hex::encode(nonce)
                    ),
                    tokens: vec![*token],
                });
            }
        }
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
