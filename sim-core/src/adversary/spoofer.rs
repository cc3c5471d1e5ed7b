//! The Metering spoofer (seed 004): on the path from Devices to the RI it swallows each
//! `meteringReportSubmit` and answers the Device itself with a `Success`
//! `meteringReportResponse` echoing the Device nonce (it cannot sign as the RI). Before the CR
//! the response is unsigned and the Device checks only the nonce, so it deletes metering data
//! the RI never received; with the CR the Device verifies the RI signature and discards the
//! forgery. Targeting `meteringReportResponse` instead, it drops the RI's answers: the Device
//! must keep its data and retry (§11.3 forbids deleting without a Success).
//!
//! An attempt is scored at the end of the run on the Device it targeted: succeeded if that
//! Device deleted more metered uses than the RIs accepted from it, blocked otherwise.

use super::{AdversarySpec, Attack, AttackCx, AttackStats, EndCheck};
use crate::crypto::CryptoMode;
use crate::engine::{ActorId, Verdict};
use crate::invariant::metering::accepted_uses;
use crate::invariant::{Observed, Roster};
use crate::pdu::metering::{MeteringReportResponse, MeteringReportResponseBody};
use crate::pdu::{Pdu, Status};
use crate::proto::agent::Agent;
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::ri::Ri;
use crate::trace::TraceEvent;
use std::cell::RefCell;
use std::rc::Rc;

/// Delay of a forged answer after the swallowed submit (a plausible round trip).
pub const FORGED_ANSWER_DELAY_NS: u64 = 20_000_000;
/// Attempts remembered for scoring, bounded.
pub const MAX_SPOOF_ATTEMPTS: usize = 100_000;

/// Targeted Devices, one entry per attempt, shared with the end-of-run check.
type Targets = Rc<RefCell<Vec<ActorId>>>;

/// The metering spoofer.
#[derive(Debug)]
pub struct MeteringSpoofer {
    spec: AdversarySpec,
    targets: Targets,
}

impl MeteringSpoofer {
    /// A spoofer configured by `spec` and its end-of-run scoring.
    pub fn new(spec: AdversarySpec) -> (Self, EndCheck) {
        let targets: Targets = Rc::default();
        let t2 = targets.clone();
        let check: EndCheck = Box::new(move |sim, roster: &Roster| {
            let ris: Vec<&Ri> = roster
                .ris
                .iter()
                .filter_map(|&r| sim.actor::<Ri>(r))
                .collect();
            t2.borrow()
                .iter()
                .map(|&dev| {
                    let lost = sim.actor::<Agent>(dev).map_or(0, |a| {
                        a.metering_reports
                            .stats
                            .uses_deleted
                            .saturating_sub(accepted_uses(&ris, a))
                    });
                    (
                        lost > 0,
                        format!("actor {} lost {lost} metered uses", dev.0),
                        Some(dev),
                    )
                })
                .collect()
        });
        (MeteringSpoofer { spec, targets }, check)
    }
}

impl Attack for MeteringSpoofer {
    fn spec(&self) -> &AdversarySpec {
        &self.spec
    }

    fn intercept(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        if self.targets.borrow().len() >= MAX_SPOOF_ATTEMPTS {
            return Verdict::Pass(msg);
        }
        match obs.pdu {
            Some(Pdu::MeteringReportSubmit(s)) => {
                let mode = match &msg {
                    SimMsg::Pdu(w) if w.xml().is_some() => CryptoMode::Real,
                    _ => CryptoMode::Symbolic,
                };
                let forged = Pdu::MeteringReportResponse(MeteringReportResponse {
                    status: Status::Success,
                    body: Some(MeteringReportResponseBody {
                        device_id: s.device_id.clone(),
                        ri_id: s.ri_id.clone(),
                        device_nonce: s.nonce.clone(),
                        certificate_chain: None,
                        ocsp_responses: Vec::new(),
                        extensions: Vec::new(),
                        // Without the RI key: an arbitrary value of signature length.
                        signature: vec![0x5a; 128],
                    }),
                });
                cx.attempt();
                self.targets.borrow_mut().push(obs.from);
                cx.inject(
                    obs.to,
                    obs.from,
                    SimMsg::Pdu(Wire::new(mode, forged)),
                    FORGED_ANSWER_DELAY_NS,
                );
                Verdict::Drop
            }
            Some(Pdu::MeteringReportResponse(_)) => {
                cx.attempt();
                self.targets.borrow_mut().push(obs.to);
                Verdict::Drop
            }
            _ => Verdict::Pass(msg),
        }
    }

    fn observe(
        &mut self,
        _obs: &Observed<'_>,
        _stats: &mut AttackStats,
        _out: &mut Vec<TraceEvent>,
    ) {
    }
}
