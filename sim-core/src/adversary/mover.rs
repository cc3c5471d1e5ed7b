//! The Move attacker (seed 003 §9.1): on the path between Devices and the RI it
//! - replays a `moveDeviceRORequest` after `replay_delay` (succeeds when the RI accepts the
//!   same request twice: the moved rights are delivered twice), and
//! - drops a Success `moveDeviceROResponse`, so the Source times out and retries. With
//!   fresh-nonce retries (the CR) the RI recognises the retry and answers Success again;
//!   with a reused nonce the nonce-tracking RI refuses the "replay" and the Source restores
//!   rights the RI has already moved — duplicated rights. The drop succeeds when the RI's
//!   next answer to that Source is a refusal, or a second Success for the same nonce; it is
//!   blocked when a fresh-nonce retry is answered Success.

use super::replayer::AnswerJudge;
use super::{score, AdversarySpec, Attack, AttackCx, AttackStats};
use crate::engine::{ActorId, SimTime, Verdict};
use crate::invariant::request_once::RequestKey;
use crate::invariant::Observed;
use crate::pdu::{Pdu, Status};
use crate::proto::msg::SimMsg;
use crate::trace::TraceEvent;
use std::collections::BTreeMap;

/// Delay before a captured Move request is replayed when the spec gives none: long enough
/// for the original exchange to finish. (A replay racing the original — delay ~0 — can
/// overtake it; the RI then answers the original, a verbatim repeat, with the Success it
/// stored for the copy: `move-replay-race`, docs/attacks.md.)
pub const DEFAULT_MOVE_REPLAY_DELAY_NS: u64 = 5_000_000_000;

/// Dropped responses waiting for a verdict, bounded.
pub const MAX_OPEN_DROPS: usize = 100_000;

#[derive(Debug, Clone)]
struct Dropped {
    ri: ActorId,
    source: ActorId,
    nonce: Vec<u8>,
    at: SimTime,
}

/// The Move attacker.
#[derive(Debug)]
pub struct MoveAttacker {
    spec: AdversarySpec,
    me: Option<ActorId>,
    judge: AnswerJudge,
    dropped: BTreeMap<u64, Dropped>,
    next: u64,
}

impl MoveAttacker {
    /// A Move attacker configured by `spec`.
    pub fn new(spec: AdversarySpec) -> Self {
        MoveAttacker {
            spec,
            me: None,
            judge: AnswerJudge::default(),
            dropped: BTreeMap::new(),
            next: 0,
        }
    }
}

impl Attack for MoveAttacker {
    fn spec(&self) -> &AdversarySpec {
        &self.spec
    }

    fn intercept(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        self.me = Some(cx.me);
        match obs.pdu {
            Some(Pdu::MoveDeviceRoRequest(r)) if !self.judge.full() => {
                let delay = match self.spec.replay_delay_ns {
                    0 => DEFAULT_MOVE_REPLAY_DELAY_NS,
                    d => d,
                };
                cx.attempt();
                let label = format!("move request of actor {} replayed", obs.from.0);
                self.judge.open(
                    obs.to,
                    obs.from,
                    RequestKey::Move(r.nonce.clone()),
                    obs.now.add_ns(delay),
                    2,
                    label,
                );
                cx.inject(obs.from, obs.to, msg.clone(), delay);
                Verdict::Pass(msg)
            }
            Some(Pdu::MoveDeviceRoResponse(r))
                if r.status == Status::Success && self.dropped.len() < MAX_OPEN_DROPS =>
            {
                cx.attempt();
                self.next += 1;
                self.dropped.insert(
                    self.next,
                    Dropped {
                        ri: obs.from,
                        source: obs.to,
                        nonce: r.nonce.clone(),
                        at: obs.now,
                    },
                );
                Verdict::Drop
            }
            _ => Verdict::Pass(msg),
        }
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        let Some(me) = self.me else { return };
        if let Some((success, detail)) = self.judge.observe(obs) {
            score(
                stats,
                out,
                me,
                "move_replay",
                Some(obs.from),
                success,
                detail,
            );
        }
        let Some(Pdu::MoveDeviceRoResponse(r)) = obs.pdu else {
            return;
        };
        if !obs.authentic() {
            return;
        }
        let Some((&id, d)) = self
            .dropped
            .iter()
            .find(|(_, d)| d.ri == obs.from && d.source == obs.to && d.at < obs.now)
        else {
            return;
        };
        let same_nonce = d.nonce == r.nonce;
        let (success, why) = match (r.status, same_nonce) {
            (Status::Success, false) => (false, "fresh-nonce retry answered Success"),
            (Status::Success, true) => (true, "same request accepted twice"),
            (_, _) => (
                true,
                "retry refused: the Source restores rights the RI moved",
            ),
        };
        self.dropped.remove(&id);
        score(
            stats,
            out,
            me,
            "move_drop_response",
            Some(obs.from),
            success,
            format!("{why} ({})", r.status.as_str()),
        );
    }
}
