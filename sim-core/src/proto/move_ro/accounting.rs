//! Rights conservation accounting across Devices and RIs (Moves must neither create nor
//! duplicate rights). Imported ROs (issued by an LRM, seed 001 §7.2.1.2) are not RI rights:
//! they are left out here and checked against their LRM's issuance by the
//! `no_rights_duplicated` monitor (`invariant::state`).

use super::open_moves;
use crate::pdu::Identifier;
use crate::proto::agent::{Agent, SessionKind};
use crate::proto::ri::Ri;
use crate::proto::rights::RightsObject;
use std::collections::BTreeMap;

/// Whether `ro`, held by `agent`, is an Imported RO: its issuer is one of the world's LRMs.
pub fn is_imported(agent: &Agent, ro: &RightsObject) -> bool {
    agent.world.lrms.iter().any(|l| l.name == ro.issuer)
}

/// Rights units `agent` holds under RI-issued ROs (unusable portions included; Imported ROs
/// left out).
pub fn agent_ri_rights_units(agent: &Agent) -> u64 {
    agent
        .ros
        .values()
        .filter(|r| !is_imported(agent, r))
        .map(RightsObject::rights_units)
        .sum()
}

// ---------------------------------------------------------------------------------------
// Rights conservation accounting
// ---------------------------------------------------------------------------------------

/// Rights units across a run, for the conservation check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RightsAccounting {
    /// Units held by Devices under RI-issued ROs (unusable portions included).
    pub held_units: u64,
    /// Units moved to RIs not yet installed at their destination (uncollected, or delivered
    /// in a response the destination has not received).
    pub in_transit_units: u64,
    /// Units counted twice right now: Moves the RI accepted whose Source still holds the
    /// (unusable) rights because it has not processed the response (in flight or abandoned).
    pub pending_source_units: u64,
}

impl RightsAccounting {
    /// Units in existence: held + in transit − counted twice.
    pub fn total_units(&self) -> u64 {
        (self.held_units + self.in_transit_units).saturating_sub(self.pending_source_units)
    }
}

/// Adds up the units of RI-issued rights over `agents` and `ris`.
pub fn rights_accounting(agents: &[&Agent], ris: &[&Ri]) -> RightsAccounting {
    let mut acc = RightsAccounting {
        held_units: agents.iter().map(|a| agent_ri_rights_units(a)).sum(),
        ..Default::default()
    };
    let by_id: BTreeMap<&Identifier, &Agent> = agents.iter().map(|a| (&a.me.id, *a)).collect();
    for ri in ris {
        acc.in_transit_units += ri.moves.in_transit_units();
        for m in ri.moves.delivered.values() {
            let installed = by_id
                .get(&m.dest)
                .is_some_and(|a| a.moves.installed_moved.contains(&m.ro_id));
            if !installed {
                acc.in_transit_units += m.units;
            }
        }
    }
    for a in agents {
        let pending = open_moves(a)
            .into_iter()
            .filter_map(|(id, _, _)| {
                a.sessions.values().find_map(|s| match &s.kind {
                    SessionKind::MoveDeviceRo(m) if m.ro_id == id => Some((id.clone(), m.units)),
                    _ => None,
                })
            })
            .chain(a.moves.frozen.iter().map(|(k, v)| (k.clone(), *v)));
        for (ro_id, units) in pending {
            let accepted = ris.iter().any(|ri| {
                ri.moves
                    .ledger
                    .get(&ro_id)
                    .is_some_and(|e| e.source == a.me.id)
            });
            if accepted {
                acc.pending_source_units += units;
            }
        }
    }
    acc
}
