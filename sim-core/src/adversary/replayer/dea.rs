//! Scoring requests an RI sends the DEA (seed 000: Get User Domain Authorization §7.2.2,
//! Proxy Join §7.4.1, Proxy Leave §7.5.1) replayed to the DEA.
//!
//! The DEA answers every request it processes, and its effects are set-like (a Device is
//! "counted once", §7.4.1; a leave deletes the association, §7.5.1), so a second Success is
//! not in itself the attack succeeding. The replay succeeds when the DEA's Success answer to
//! it *changes the DEA's state* — re-admits a Device that left through that RI since, deletes
//! an association made since, changes an RI's mapping — as followed by
//! [`DeaLedger`](crate::invariant::request_once::dea::DeaLedger) from the DEA's authentic
//! answers. A Success without effect, or any refusal, blocks it.
//!
//! Which answer is the replay's: the DEA answers in arrival order, the original first
//! (replays are sent `replay_delay` later), so the replay of a request is decided by the
//! DEA's second answer bound to that request (same RI, same SCE-GEN nonce).

use crate::engine::ActorId;
use crate::invariant::request_once::dea::{dea_effect, DeaEffect, DeaLedger};
use crate::invariant::request_once::{response_key, RequestKey};
use crate::invariant::Observed;
use crate::pdu::Status;
use std::collections::BTreeMap;

/// Bound on attempts waiting for the DEA's answer and on requests whose answers are counted.
pub const MAX_DEA_ATTEMPTS: usize = 100_000;

#[derive(Debug, Clone)]
struct Attempt {
    dea: ActorId,
    ri: ActorId,
    key: RequestKey,
    /// Which answer bound to the request decides it (1 = the original's).
    nth: u32,
    label: String,
}

/// Open DEA replays and what the DEA's answers did.
#[derive(Debug, Default)]
pub struct DeaJudge {
    ledger: DeaLedger,
    answers: BTreeMap<(ActorId, ActorId, RequestKey), u32>,
    open: BTreeMap<u64, Attempt>,
    next: u64,
}

impl DeaJudge {
    /// Whether no more attempts can be tracked.
    pub fn full(&self) -> bool {
        self.open.len() >= MAX_DEA_ATTEMPTS || self.answers.len() >= MAX_DEA_ATTEMPTS
    }

    /// Tracks the replay to `dea` of `ri`'s request `key`: decided by the answer after the
    /// original's and those of earlier replays of it.
    pub fn open(&mut self, dea: ActorId, ri: ActorId, key: RequestKey, label: String) {
        if self.full() {
            return;
        }
        let seen = self
            .answers
            .get(&(dea, ri, key.clone()))
            .copied()
            .unwrap_or(0);
        let earlier = self
            .open
            .values()
            .filter(|a| a.dea == dea && a.ri == ri && a.key == key)
            .count() as u32;
        self.next += 1;
        self.open.insert(
            self.next,
            Attempt {
                dea,
                ri,
                key,
                nth: seen.max(1) + earlier + 1,
                label,
            },
        );
    }

    /// Attempts still waiting for the DEA's answer.
    pub fn pending(&self) -> usize {
        self.open.len()
    }

    /// Follows every authentic DEA answer; the verdict `(succeeded, detail)` when it decides
    /// an open attempt.
    pub fn observe(&mut self, obs: &Observed<'_>) -> Option<(bool, String)> {
        let p = obs.pdu?;
        let (Some(key), status) = response_key(p)? else {
            return None;
        };
        if !key.is_dea() || !obs.authentic() {
            return None;
        }
        let effect = dea_effect(p);
        let changed = effect
            .as_ref()
            .is_some_and(|e| self.ledger.apply(obs.from, obs.to, e));
        let k = (obs.from, obs.to, key);
        let n = match self.answers.get_mut(&k) {
            Some(n) => {
                *n += 1;
                *n
            }
            None if self
                .open
                .values()
                .any(|a| (a.dea, a.ri, &a.key) == (k.0, k.1, &k.2)) =>
            {
                self.answers.insert(k.clone(), 1);
                1
            }
            None => return None,
        };
        let (&id, a) = self
            .open
            .iter()
            .find(|(_, a)| a.dea == k.0 && a.ri == k.1 && a.key == k.2 && a.nth == n)?;
        let detail = match (status, changed) {
            (Status::Success, true) => format!(
                "{}: answered Success, {}",
                a.label,
                what_changed(effect.as_ref())
            ),
            (Status::Success, false) => format!(
                "{}: answered Success without effect (nothing in the DEA's state changes: a Device \
                 is counted once, seed 000 §7.4.1; one mapping per RI, §7.2.2)",
                a.label
            ),
            (s, _) => format!("{}: answered {}", a.label, s.as_str()),
        };
        self.open.remove(&id);
        if self
            .open
            .iter()
            .all(|(_, o)| (o.dea, o.ri, &o.key) != (k.0, k.1, &k.2))
        {
            self.answers.remove(&k);
        }
        Some((status == Status::Success && changed, detail))
    }
}

fn what_changed(e: Option<&DeaEffect>) -> &'static str {
    match e {
        Some(DeaEffect::Join { .. }) => "re-admitting a Device that had left the User Domain",
        Some(DeaEffect::Leave { .. }) => "deleting a Device's association made since",
        Some(DeaEffect::Authorize(_)) => "changing the RI's User Domain mapping",
        None => "changing its state",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CryptoMode;
    use crate::engine::SimTime;
    use crate::pdu::dea::{GenHeader, ProxyLeaveUserDomainResponse};
    use crate::pdu::{Identifier, Pdu};
    use crate::proto::msg::{SimMsg, Wire};

    const DEA: ActorId = ActorId(1);
    const RI: ActorId = ActorId(2);

    fn leave(nonce: u8, status: Status) -> Pdu {
        Pdu::ProxyLeaveUserDomainResponse(ProxyLeaveUserDomainResponse {
            status,
            header: GenHeader {
                trigger_none: false,
                session_id: None,
                req_id: Identifier { hash: vec![2; 20] },
                res_id: Identifier { hash: vec![1; 20] },
                nonce: vec![nonce; 14],
                certificate_chain: None,
            },
            res_info: (status == Status::Success)
                .then(|| ("ud0-000".to_string(), Identifier { hash: vec![7; 20] })),
            signature: vec![0; 20],
        })
    }

    fn answer(j: &mut DeaJudge, p: &Pdu, injected: bool) -> Option<(bool, String)> {
        let msg = SimMsg::Pdu(Wire::new(CryptoMode::Symbolic, p.clone()));
        j.observe(&Observed {
            now: SimTime::from_secs(1),
            from: DEA,
            to: RI,
            msg: &msg,
            pdu: Some(p),
            injected_by: injected.then_some(ActorId(9)),
            tampered_by: None,
        })
    }

    #[test]
    fn the_second_answer_decides_by_what_it_changes() {
        let key = RequestKey::ProxyLeave(vec![5; 14]);
        let mut j = DeaJudge::default();
        j.open(DEA, RI, key.clone(), "leave 5".into());
        // The original's answer decides nothing; an injected copy is not the DEA's.
        assert_eq!(answer(&mut j, &leave(5, Status::Success), false), None);
        assert_eq!(answer(&mut j, &leave(5, Status::Success), true), None);
        assert_eq!(j.pending(), 1);
        // The replay's answer: nothing left to delete, blocked.
        let (ok, detail) = answer(&mut j, &leave(5, Status::Success), false).unwrap();
        assert!(!ok && detail.contains("without effect"), "{detail}");
        assert_eq!(j.pending(), 0);
        // Answers to requests nobody replayed are only followed.
        assert_eq!(answer(&mut j, &leave(6, Status::Success), false), None);
        // A refusal of the replay blocks it.
        j.open(DEA, RI, key, "leave 5 again".into());
        assert_eq!(answer(&mut j, &leave(5, Status::Success), false), None);
        let (ok, detail) = answer(&mut j, &leave(5, Status::SignatureError), false).unwrap();
        assert!(
            !ok && detail.ends_with("answered SignatureError"),
            "{detail}"
        );
    }
}
