//! The Move attacker (seed 003 §9.1): an on-path attacker or a compromised Device trying to
//! end a Move with more rights than it started with. The scenario picks one attack
//! ([`MoveMode`]); `auto` (the default) keeps the original behaviour, chosen by the message
//! it intercepts:
//! - `replay_request`: replays a `moveDeviceRORequest` after `replay_delay` (succeeds when
//!   the RI accepts the same request twice: the moved rights are delivered twice);
//! - `drop_response`: drops a Success `moveDeviceROResponse`, so the Source times out and
//!   retries. With fresh-nonce retries (the CR) the RI recognises the retry and answers
//!   Success again; with a reused nonce the nonce-tracking RI refuses the "replay" and the
//!   Source restores rights the RI has already moved — duplicated rights. The drop succeeds
//!   when the RI's next answer to that Source is a refusal, or a second Success for the same
//!   nonce; it is blocked when a fresh-nonce retry is answered Success;
//! - `delay_response`, `replay_old_response` (on-path, [`stale`]) and `concurrent`,
//!   `rollback` (compromised Device, [`device`]).

mod device;
mod stale;

use super::replayer::AnswerJudge;
use super::{score, AdversarySpec, Attack, AttackCx, AttackStats, EndCheck};
use crate::crypto::PrivateKey;
use crate::engine::{ActorId, SimTime, Verdict};
use crate::invariant::request_once::RequestKey;
use crate::invariant::Observed;
use crate::pdu::{Pdu, Status};
use crate::proto::msg::SimMsg;
use crate::proto::world::World;
use crate::trace::TraceEvent;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Delay before a captured Move request is replayed when the spec gives none: long enough
/// for the original exchange to finish. (A replay racing the original — delay ~0 — can
/// overtake it; the RI then answers the original, a verbatim repeat, with the Success it
/// stored for the copy: `move-replay-race`, docs/attacks.md.)
pub const DEFAULT_MOVE_REPLAY_DELAY_NS: u64 = 5_000_000_000;

/// How long `delay_response` holds a Success response when the spec gives no delay: longer
/// than the default request timeout (10 s) plus the first back-off, so the Source has retried.
pub const DEFAULT_MOVE_HOLD_NS: u64 = 20_000_000_000;

/// Dropped or held responses waiting for a verdict, bounded.
pub const MAX_OPEN_DROPS: usize = 100_000;

/// Which attack a Move attacker runs (scenario field `move_attack`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum MoveMode {
    /// Inferred from each intercepted message: requests are replayed, Success responses
    /// dropped (the original Move attacker).
    #[default]
    Auto,
    /// Replay each `moveDeviceRORequest` after `replay_delay`.
    ReplayRequest,
    /// Drop each Success `moveDeviceROResponse`.
    DropResponse,
    /// Hold each Success `moveDeviceROResponse` beyond the Source's request timeout.
    DelayResponse,
    /// Answer a later Move request of the same Source with a recorded old Success.
    ReplayOldResponse,
    /// A compromised Source sends a second signed request for the same RO at once.
    Concurrent,
    /// A compromised Source restores its saved RO store after a Move and moves the RO again.
    Rollback,
}

impl MoveMode {
    /// Every mode, in scenario-file spelling.
    pub const NAMES: [&'static str; 7] = [
        "auto",
        "replay_request",
        "drop_response",
        "delay_response",
        "replay_old_response",
        "concurrent",
        "rollback",
    ];

    /// The mode named `s` (scenario spelling).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "auto" => MoveMode::Auto,
            "replay_request" => MoveMode::ReplayRequest,
            "drop_response" => MoveMode::DropResponse,
            "delay_response" => MoveMode::DelayResponse,
            "replay_old_response" => MoveMode::ReplayOldResponse,
            "concurrent" => MoveMode::Concurrent,
            "rollback" => MoveMode::Rollback,
            _ => return None,
        })
    }

    /// Name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether the mode acts as the compromised Source (needs its key).
    pub fn compromised(self) -> bool {
        matches!(self, MoveMode::Concurrent | MoveMode::Rollback)
    }
}

/// A response dropped or held, waiting for the RI's next answer to its Source.
#[derive(Debug, Clone)]
struct Dropped {
    ri: ActorId,
    source: ActorId,
    nonce: Vec<u8>,
    at: SimTime,
    attack: &'static str,
}

/// The Move attacker.
pub struct MoveAttacker {
    spec: AdversarySpec,
    me: Option<ActorId>,
    judge: AnswerJudge,
    dropped: BTreeMap<u64, Dropped>,
    next: u64,
    stale: stale::Stale,
    device: device::Device,
    hooked: bool,
}

impl std::fmt::Debug for MoveAttacker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MoveAttacker")
            .field("name", &self.spec.name)
            .field("mode", &self.spec.move_attack)
            .finish()
    }
}

impl MoveAttacker {
    /// A Move attacker configured by `spec` and its end-of-run scoring; `key` is the
    /// compromised Device's key (needed by `concurrent` and `rollback`).
    pub fn new(
        spec: AdversarySpec,
        world: Rc<World>,
        key: Option<PrivateKey>,
    ) -> Result<(Self, EndCheck), &'static str> {
        let mode = spec.move_attack;
        if mode.compromised() && key.is_none() {
            return Err(
                "the concurrent and rollback Move attacks need a compromised Device endpoint",
            );
        }
        let open: device::OpenRef = Rc::new(RefCell::new(Vec::new()));
        let stale_open: stale::OpenRef = Rc::new(RefCell::new(Vec::new()));
        let check = {
            let (open, stale_open) = (open.clone(), stale_open.clone());
            Box::new(move |sim: &crate::engine::Simulation<SimMsg>, _: &_| {
                let mut out = stale::end_check(&stale_open.borrow(), sim);
                out.extend(device::end_check(&open.borrow(), sim));
                open.borrow_mut().clear();
                stale_open.borrow_mut().clear();
                out
            }) as EndCheck
        };
        let hold_ns = match spec.replay_delay_ns {
            0 => DEFAULT_MOVE_HOLD_NS,
            d => d,
        };
        Ok((
            MoveAttacker {
                me: None,
                judge: AnswerJudge::default(),
                dropped: BTreeMap::new(),
                next: 0,
                stale: stale::Stale::new(hold_ns, stale_open),
                device: device::Device::new(world, key, open),
                spec,
                hooked: false,
            },
            check,
        ))
    }

    fn replay_request(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        let Some(Pdu::MoveDeviceRoRequest(r)) = obs.pdu else {
            return Verdict::Pass(msg);
        };
        if self.judge.full() {
            return Verdict::Pass(msg);
        }
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

    /// Opens the "next answer" verdict of a dropped or held Success response.
    fn open_drop(&mut self, obs: &Observed<'_>, nonce: &[u8], attack: &'static str) {
        self.next += 1;
        self.dropped.insert(
            self.next,
            Dropped {
                ri: obs.from,
                source: obs.to,
                nonce: nonce.to_vec(),
                at: obs.now,
                attack,
            },
        );
    }

    fn drop_response(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        match obs.pdu {
            Some(Pdu::MoveDeviceRoResponse(r))
                if r.status == Status::Success && self.dropped.len() < MAX_OPEN_DROPS =>
            {
                cx.attempt();
                self.open_drop(obs, &r.nonce, "move_drop_response");
                Verdict::Drop
            }
            _ => Verdict::Pass(msg),
        }
    }

    fn delay_response(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        let Some(Pdu::MoveDeviceRoResponse(r)) = obs.pdu else {
            return Verdict::Pass(msg);
        };
        if r.status != Status::Success || self.dropped.len() >= MAX_OPEN_DROPS {
            return Verdict::Pass(msg);
        }
        match self.stale.hold(obs) {
            Some(hold_ns) => {
                cx.attempt();
                self.open_drop(obs, &r.nonce, "move_delay_response");
                Verdict::Delay(msg, hold_ns)
            }
            None => Verdict::Pass(msg),
        }
    }

    /// Scores the open drops/holds on the RI's next answer to their Source.
    fn judge_next_answer(
        &mut self,
        obs: &Observed<'_>,
        me: ActorId,
        stats: &mut AttackStats,
        out: &mut Vec<TraceEvent>,
    ) {
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
        let attack = d.attack;
        self.dropped.remove(&id);
        score(
            stats,
            out,
            me,
            attack,
            Some(obs.from),
            success,
            format!("{why} ({})", r.status.as_str()),
        );
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
        match self.spec.move_attack {
            MoveMode::Auto => match obs.pdu {
                Some(Pdu::MoveDeviceRoRequest(_)) => self.replay_request(obs, msg, cx),
                _ => self.drop_response(obs, msg, cx),
            },
            MoveMode::ReplayRequest => self.replay_request(obs, msg, cx),
            MoveMode::DropResponse => self.drop_response(obs, msg, cx),
            MoveMode::DelayResponse => self.delay_response(obs, msg, cx),
            MoveMode::ReplayOldResponse => self.stale.replay_old(obs, msg, cx),
            MoveMode::Concurrent => self.device.concurrent(obs, msg, cx),
            MoveMode::Rollback => self.device.rollback(obs, msg, cx),
        }
    }

    fn after_event(&mut self) -> Option<crate::engine::AfterEvent<SimMsg>> {
        (self.spec.move_attack == MoveMode::Rollback && !self.hooked).then(|| {
            self.hooked = true;
            device::Rollbacks::hook(self.device.rollbacks.clone())
        })
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
        self.judge_next_answer(obs, me, stats, out);
        self.device.observe(obs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_names_round_trip() {
        for n in MoveMode::NAMES {
            assert_eq!(MoveMode::parse(n).unwrap().as_str(), n);
        }
        assert_eq!(MoveMode::parse("replay"), None);
        assert!(MoveMode::Rollback.compromised() && !MoveMode::DelayResponse.compromised());
    }
}
