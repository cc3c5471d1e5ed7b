//! The Impersonator: holds the keys of a compromised Device (`endpoint`) and uses them to act
//! as other Devices. Each RO Request the endpoint sends is rewritten to claim a victim's
//! Device ID (public: the hash of its certificate's key) and re-signed with the endpoint's
//! own key — the best it can do without the victim's key. The RI verifies the signature with
//! the key of the claimed Device's context (ROAP §5.4.2.3.1) and refuses. The attack
//! succeeds if an RO is issued to the claimed identity (the RI answers Success).

use super::replayer::AnswerJudge;
use super::{score, AdversarySpec, Attack, AttackCx, AttackStats};
use crate::crypto::{OpCounter, PrivateKey};
use crate::engine::{ActorId, Verdict};
use crate::invariant::request_once::request_key;
use crate::invariant::Observed;
use crate::pdu::{Identifier, Pdu};
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::world::World;
use crate::trace::TraceEvent;
use std::rc::Rc;

/// The impersonation attacker.
pub struct Impersonator {
    spec: AdversarySpec,
    world: Rc<World>,
    key: Option<PrivateKey>,
    victims: Vec<Identifier>,
    me: Option<ActorId>,
    judge: AnswerJudge,
    ops: OpCounter,
}

impl std::fmt::Debug for Impersonator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Impersonator")
            .field("name", &self.spec.name)
            .finish()
    }
}

impl Impersonator {
    /// An impersonator holding the endpoint's `key`, claiming `victims` in turn.
    pub fn new(
        spec: AdversarySpec,
        world: Rc<World>,
        key: Option<PrivateKey>,
        victims: Vec<Identifier>,
    ) -> Self {
        Impersonator {
            spec,
            world,
            key,
            victims,
            me: None,
            judge: AnswerJudge::default(),
            ops: OpCounter::new(),
        }
    }
}

impl Attack for Impersonator {
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
        let (Some(Pdu::RoRequest(r)), Some(key)) = (obs.pdu, &self.key) else {
            return Verdict::Pass(msg);
        };
        let victims: Vec<&Identifier> =
            self.victims.iter().filter(|v| **v != r.device_id).collect();
        if victims.is_empty() || self.judge.full() {
            return Verdict::Pass(msg);
        }
        let victim = victims[(cx.stats.attempts as usize) % victims.len()].clone();
        let mut forged = r.clone();
        forged.device_id = victim;
        forged.signature = Vec::new();
        let Ok(sig) = self.world.crypto.sign(
            &mut self.ops,
            key,
            self.world.params.sig_alg,
            &Pdu::RoRequest(forged.clone()),
        ) else {
            return Verdict::Pass(msg);
        };
        forged.signature = sig;
        let forged = Pdu::RoRequest(forged);
        let Some(k) = request_key(&forged) else {
            return Verdict::Pass(msg);
        };
        cx.attempt();
        let label = format!(
            "RO Request of actor {} re-signed as another Device",
            obs.from.0
        );
        self.judge.open(obs.to, obs.from, k, obs.now, 1, label);
        Verdict::Pass(SimMsg::Pdu(Wire::new(self.world.mode(), forged)))
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        let Some(me) = self.me else { return };
        if let Some((success, detail)) = self.judge.observe(obs) {
            score(
                stats,
                out,
                me,
                "impersonate",
                Some(obs.from),
                success,
                detail,
            );
        }
    }
}
