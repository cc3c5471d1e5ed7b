//! The Flooder: an off-path actor sending RO Requests from Device IDs no RI knows, at
//! `rate_per_s`, to the targeted server. Its effect is on capacity (legitimate work waits or
//! is refused by the bounded queue); nothing it sends may be accepted, and no invariant may
//! break (ROAP §5.4.2.3.1: an RI answers an unknown Device with NotRegistered). Each flood
//! request is an attempt; it is blocked when refused, succeeds if answered with Success, and
//! stays inconclusive when the overloaded server drops it unanswered.

use super::{score, AdversarySpec, Attack, AttackCx, AttackStats};
use crate::engine::{ActorId, Verdict};
use crate::invariant::Observed;
use crate::pdu::{Pdu, Status};
use crate::proto::msg::SimMsg;
use crate::trace::TraceEvent;

/// Scores the flood: counts what the flooder actor sends and the answers it gets.
#[derive(Debug)]
pub struct FloodReferee {
    spec: AdversarySpec,
    me: ActorId,
}

impl FloodReferee {
    /// The referee of the flooder running as actor `me`.
    pub fn new(spec: AdversarySpec, me: ActorId) -> Self {
        FloodReferee { spec, me }
    }
}

impl Attack for FloodReferee {
    fn spec(&self) -> &AdversarySpec {
        &self.spec
    }

    fn taps(&self) -> bool {
        false
    }

    fn intercept(
        &mut self,
        _obs: &Observed<'_>,
        msg: SimMsg,
        _cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        Verdict::Pass(msg)
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        if obs.from == self.me {
            stats.attempts += 1;
            return;
        }
        if obs.to != self.me {
            return;
        }
        let status = match obs.pdu {
            Some(Pdu::RoResponse(r)) => r.status,
            Some(Pdu::RiHello(r)) => r.status,
            Some(Pdu::RegistrationResponse(r)) => r.status,
            _ => return,
        };
        score(
            stats,
            out,
            self.me,
            "flood",
            Some(obs.from),
            status == Status::Success,
            format!("answered {}", status.as_str()),
        );
    }
}
