//! The Replayer: records request PDUs on the links it controls and re-sends each, unchanged,
//! to the same recipient after `replay_delay`, claiming the original sender. The replay
//! succeeds when the server accepts the same request a second time (two Success answers
//! bound to one request) — what RI nonce tracking exists to prevent (seed 003 §1).

use super::{score, AdversarySpec, Attack, AttackCx, AttackStats};
use crate::engine::{ActorId, SimTime, Verdict};
use crate::invariant::request_once::{request_key, response_key, RequestKey};
use crate::invariant::Observed;
use crate::pdu::Status;
use crate::proto::msg::SimMsg;
use crate::trace::TraceEvent;
use std::collections::BTreeMap;

/// The replay attacker.
#[derive(Debug)]
pub struct Replayer {
    spec: AdversarySpec,
    me: Option<ActorId>,
    judge: AnswerJudge,
}

impl Replayer {
    /// A replayer configured by `spec`.
    pub fn new(spec: AdversarySpec) -> Self {
        Replayer {
            spec,
            me: None,
            judge: AnswerJudge::default(),
        }
    }
}

impl Attack for Replayer {
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
        // Only requests are worth replaying; answers go to their requester anyway.
        let Some(key) = obs.pdu.and_then(request_key) else {
            return Verdict::Pass(msg);
        };
        if self.judge.full() {
            return Verdict::Pass(msg);
        }
        let delay = self.spec.replay_delay_ns;
        cx.attempt();
        // The original earns one Success; the replay succeeds if it earns a second.
        let label = format!(
            "{} of actor {} replayed after {delay} ns",
            msg_kind(&msg),
            obs.from.0
        );
        self.judge
            .open(obs.to, obs.from, key, obs.now.add_ns(delay), 2, label);
        cx.inject(obs.from, obs.to, msg.clone(), delay);
        Verdict::Pass(msg)
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        let Some(me) = self.me else { return };
        if let Some((success, detail)) = self.judge.observe(obs) {
            score(stats, out, me, "replay", Some(obs.from), success, detail);
        }
    }
}

/// Attempts waiting for a verdict, bounded.
pub const MAX_OPEN_ATTEMPTS: usize = 100_000;

#[derive(Debug, Clone)]
struct OpenAttempt {
    server: ActorId,
    client: ActorId,
    key: RequestKey,
    /// When the attacker's message enters the network.
    at: SimTime,
    /// Success answers seen so far, and how many make the attack a success.
    successes: u32,
    needed: u32,
    /// What was done (prefix of the verdict's detail).
    label: String,
    /// The latest Success answer (the same message re-sent is no new acceptance).
    last_success: Option<SimMsg>,
}

/// Scores attacks on requests by the server's answers: an attempt succeeds when the server
/// answers the request it is bound to with Success `needed` times, and is blocked when the
/// server answers it (after the attacker's message was sent) with any other status.
#[derive(Debug, Default)]
pub struct AnswerJudge {
    open: BTreeMap<u64, OpenAttempt>,
    next: u64,
}

impl AnswerJudge {
    /// Whether no more attempts can be tracked.
    pub fn full(&self) -> bool {
        self.open.len() >= MAX_OPEN_ATTEMPTS
    }

    /// Tracks an attempt on `server` answering `client`'s request `key`, sent at `at`.
    pub fn open(
        &mut self,
        server: ActorId,
        client: ActorId,
        key: RequestKey,
        at: SimTime,
        needed: u32,
        label: String,
    ) {
        if self.full() {
            return;
        }
        self.next += 1;
        self.open.insert(
            self.next,
            OpenAttempt {
                server,
                client,
                key,
                at,
                successes: 0,
                needed,
                label,
                last_success: None,
            },
        );
    }

    /// Attempts still waiting for a verdict (inconclusive at the end of a run).
    pub fn pending(&self) -> usize {
        self.open.len()
    }

    /// The verdict `obs` gives on an open attempt: `(succeeded, detail)`.
    pub fn observe(&mut self, obs: &Observed<'_>) -> Option<(bool, String)> {
        let (key, status) = obs.pdu.and_then(response_key)?;
        if !obs.authentic() {
            return None;
        }
        // Same server and client, same request key when the answer carries one, otherwise
        // the oldest attempt already sent (a status-only RO answer carries no nonce).
        let (&id, r) = self.open.iter_mut().find(|(_, r)| {
            r.server == obs.from
                && r.client == obs.to
                && match &key {
                    Some(k) => *k == r.key,
                    None => r.at <= obs.now,
                }
        })?;
        if status == Status::Success {
            // The server's stored answer re-sent (a repeat of an accepted Move request,
            // proto::move_ro `repeats`): the copy earned nothing new.
            let resent = matches!((&r.last_success, obs.msg),
                (Some(SimMsg::Pdu(a)), SimMsg::Pdu(b)) if a.same_message(b));
            if resent {
                let detail = format!("{}: answered with the stored Success again", r.label);
                self.open.remove(&id);
                return Some((false, detail));
            }
            r.last_success = Some(obs.msg.clone());
            r.successes += 1;
            if r.successes >= r.needed {
                let detail = format!("{}: answered Success x{}", r.label, r.needed);
                self.open.remove(&id);
                return Some((true, detail));
            }
            None
        } else if r.at <= obs.now {
            let detail = format!("{}: answered {}", r.label, status.as_str());
            self.open.remove(&id);
            Some((false, detail))
        } else {
            None
        }
    }
}

fn msg_kind(m: &SimMsg) -> &'static str {
    use crate::engine::Message;
    m.kind()
}
