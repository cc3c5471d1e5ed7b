//! "Metering information is deleted only after an authentic Success" (seed 004 §11.3): a
//! Device never deletes more metered uses than the RIs accepted from it. Online, the monitor
//! remembers Success MeteringReportResponses that did not come unmodified from the RI (the
//! likely cause); offline it compares each Device's deleted uses with the RI's accepted ones.

use super::{names, Finding, Monitor, Observed, Roster};
use crate::engine::{ActorId, Simulation};
use crate::pdu::{Pdu, Status};
use crate::proto::agent::Agent;
use crate::proto::msg::SimMsg;
use crate::proto::ri::Ri;
use std::collections::BTreeMap;

/// Forged responses remembered per Device (for the causal chain).
pub const MAX_FORGED_PER_DEVICE: usize = 16;

/// The monitor.
#[derive(Debug, Default)]
pub struct MeteringDeletedOnlyAfterSuccess {
    forged: BTreeMap<ActorId, Vec<u64>>,
}

impl Monitor for MeteringDeletedOnlyAfterSuccess {
    fn name(&self) -> &'static str {
        names::METERING_DELETED_ONLY_AFTER_SUCCESS
    }

    fn on_message(&mut self, obs: &Observed<'_>, token: u64, _found: &mut Vec<Finding>) {
        if let Some(Pdu::MeteringReportResponse(r)) = obs.pdu {
            if r.status == Status::Success && !obs.authentic() {
                let v = self.forged.entry(obs.to).or_default();
                if v.len() < MAX_FORGED_PER_DEVICE {
                    v.push(token);
                }
            }
        }
    }

    fn at_end(&mut self, sim: &Simulation<SimMsg>, roster: &Roster, found: &mut Vec<Finding>) {
        let ris: Vec<&Ri> = roster
            .ris
            .iter()
            .filter_map(|&r| sim.actor::<Ri>(r))
            .collect();
        for &a in &roster.agents {
            let Some(agent) = sim.actor::<Agent>(a) else {
                continue;
            };
            let deleted = agent.metering_reports.stats.uses_deleted;
            let accepted = accepted_uses(&ris, agent);
            if deleted > accepted {
                found.push(Finding {
                    detail: format!(
                        "{} deleted {deleted} metered uses; the RIs accepted {accepted}",
                        agent.me.name
                    ),
                    tokens: self.forged.get(&a).cloned().unwrap_or_default(),
                });
            }
        }
    }
}

/// Metered uses of `agent` the RIs accepted.
pub fn accepted_uses(ris: &[&Ri], agent: &Agent) -> u64 {
    let dev = hex::encode(&agent.me.id.hash);
    ris.iter()
        .flat_map(|r| r.stats.metered_uses.iter())
        .filter(|((d, _), _)| *d == dev)
        .map(|(_, n)| n)
        .sum()
}
