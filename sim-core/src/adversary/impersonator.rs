//! The Impersonator (issue 6): holds the keys of a compromised Device (`endpoint`) and uses
//! them where the protocol should not let it. Three modes ([`ImpersonateMode`]):
//!
//! - `claim_id` (stolen identity without the private key): each RO Request the endpoint
//!   sends is rewritten to claim a victim's Device ID (public: the hash of its certificate's
//!   key) and re-signed with the endpoint's own key — the best it can do without the
//!   victim's key. The RI verifies the signature with the key of the claimed Device's
//!   context (ROAP §5.4.2.3.1) and refuses (`SignatureError`). Succeeds if an RO is issued
//!   to the claimed identity (the RI answers Success).
//! - `revoked`: the endpoint's certificate is revoked (the scenario revokes it) and it keeps
//!   doing what its workload does. Every request it sends to a server (Registration, RO,
//!   Join/Leave Domain — which the RI proxies to the DEA for User Domains) is an attempt;
//!   the server answering Success is the attack succeeding, any other status is it blocked.
//!   The RI checks the Device chain, revocation included, at registration (ROAP §5.4.2.1,
//!   `InvalidCertificateChain`); later requests then meet no RI Context (`NotRegistered`).
//! - `wrong_purpose`: the endpoint drives a protocol its certificate's key purpose excludes.
//!   An SCE DRM Agent (`oma-kp-sceDrmAgent`) sends, through each RI it is registered with,
//!   a properly signed JoinDomainRequest for a DEA User Domain: the RI proxies it (Proxy
//!   Join User Domain) and the DEA must refuse an sceDrmAgent certificate (seed 000 §7.4.1,
//!   `InvalidCertificateChain`), the RI forwarding the status (§7.4.1.2). A drmAgent-only
//!   Device sends the DEA a Join Domain Request for Pairing, which only SCE DRM Agents may
//!   use (seed 001 §7.2.1.1, refused `AccessDenied`). Workload joins of User Domains by an
//!   SCE endpoint count as attempts too.

use super::replayer::{ask_key, AnswerJudge, AnswerKey};
use super::{score, AdversarySpec, Attack, AttackCx, AttackStats};
use crate::crypto::{OpCounter, PrivateKey};
use crate::engine::{ActorId, SimTime, Verdict};
use crate::invariant::request_once::request_key;
use crate::invariant::Observed;
use crate::pdu::pairing::PairingJoinDomainRequest;
use crate::pdu::roap::{DomainRequest, JoinDomainRequest};
use crate::pdu::{Identifier, Pdu, Status};
use crate::pki::KeyPurpose;
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::world::{Identity, World};
use crate::trace::TraceEvent;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Bound on the pairing joins awaiting the DEA's answer.
const MAX_OPEN_PAIRING: usize = 1_024;

/// Which impersonation the compromised endpoint attempts.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum ImpersonateMode {
    /// Claims other Devices' IDs in its RO Requests, signing with its own key.
    #[default]
    ClaimId,
    /// Acts with its own revoked certificate.
    Revoked,
    /// Uses a protocol its certificate's key purpose excludes (seed 000 §7.4.1, seed 001).
    WrongPurpose,
}

impl ImpersonateMode {
    /// Names as written in scenario files.
    pub const NAMES: [&'static str; 3] = ["claim_id", "revoked", "wrong_purpose"];

    /// The mode named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "claim_id" => Some(ImpersonateMode::ClaimId),
            "revoked" => Some(ImpersonateMode::Revoked),
            "wrong_purpose" => Some(ImpersonateMode::WrongPurpose),
            _ => None,
        }
    }

    /// Name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            ImpersonateMode::ClaimId => "claim_id",
            ImpersonateMode::Revoked => "revoked",
            ImpersonateMode::WrongPurpose => "wrong_purpose",
        }
    }
}

/// The impersonation attacker.
pub struct Impersonator {
    spec: AdversarySpec,
    world: Rc<World>,
    ident: Option<Identity>,
    victims: Vec<Identifier>,
    /// ROAP domain IDs of the DEA's User Domains (wrong_purpose).
    user_domains: Vec<String>,
    /// User Domain IDs for pairing (wrong_purpose, drmAgent-only endpoint).
    pairing_domains: Vec<String>,
    /// RIs the endpoint registered with (learnt from their Success answers).
    registered: BTreeSet<ActorId>,
    /// Pairing joins awaiting the DEA's answer: (nonce, sent at).
    open_pairing: Vec<(Vec<u8>, SimTime)>,
    me: Option<ActorId>,
    judge: AnswerJudge,
    ops: OpCounter,
}

impl std::fmt::Debug for Impersonator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Impersonator")
            .field("name", &self.spec.name)
            .field("mode", &self.spec.impersonate)
            .finish()
    }
}

impl Impersonator {
    /// An impersonator holding the endpoint's identity `ident` (key and chain), claiming
    /// `victims` in turn (claim_id) or joining `user_domains` (ROAP IDs) / pairing
    /// `pairing_domains` (wrong_purpose).
    pub fn new(
        spec: AdversarySpec,
        world: Rc<World>,
        ident: Option<Identity>,
        victims: Vec<Identifier>,
        user_domains: Vec<String>,
        pairing_domains: Vec<String>,
    ) -> Self {
        Impersonator {
            spec,
            world,
            ident,
            victims,
            user_domains,
            pairing_domains,
            registered: BTreeSet::new(),
            open_pairing: Vec::new(),
            me: None,
            judge: AnswerJudge::default(),
            ops: OpCounter::new(),
        }
    }

    fn key(&self) -> Option<&PrivateKey> {
        self.ident.as_ref().map(|i| &i.key)
    }

    fn endpoint(&self) -> Option<ActorId> {
        match self.spec.position {
            super::Position::Compromised { endpoint } => Some(endpoint),
            _ => None,
        }
    }

    /// Whether the endpoint's certificate carries `oma-kp-sceDrmAgent`.
    fn is_sce(&self) -> bool {
        self.ident
            .as_ref()
            .and_then(|i| i.chain.first())
            .is_some_and(|c| c.has_purpose(KeyPurpose::SceDrmAgent))
    }

    /// claim_id: the RO Request re-signed as another Device.
    fn claim_id(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        let (Some(Pdu::RoRequest(r)), Some(key)) = (obs.pdu, self.key().cloned()) else {
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
            &key,
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

    /// revoked: every request the endpoint sends to a server is an attempt, passed as is.
    fn revoked(&mut self, obs: &Observed<'_>, msg: &SimMsg, cx: &mut AttackCx<'_, '_>) {
        if Some(obs.from) != self.endpoint() || self.judge.full() {
            return;
        }
        // The Join Domain Request for Pairing (seed 001 §7.2.1.1) of a revoked SCE agent is
        // answered by the DEA, matched by its nonce.
        if let Some(Pdu::PairingJoinDomainRequest(p)) = obs.pdu {
            if self.open_pairing.len() < MAX_OPEN_PAIRING {
                cx.attempt();
                self.open_pairing.push((p.nonce.clone(), obs.now));
            }
            return;
        }
        let Some(key) = obs.pdu.and_then(ask_key) else {
            return;
        };
        cx.attempt();
        let label = format!(
            "{} of revoked actor {}",
            crate::engine::Message::kind(msg),
            obs.from.0
        );
        self.judge
            .open_key(obs.to, obs.from, key, obs.now, 1, label, true);
    }

    /// wrong_purpose: workload joins of User Domains count; Success answers to the
    /// endpoint's registrations and its RO Requests (it is registered there) drive one
    /// injected join each while the budget lasts.
    fn wrong_purpose(&mut self, obs: &Observed<'_>, cx: &mut AttackCx<'_, '_>) {
        let Some(endpoint) = self.endpoint() else {
            return;
        };
        if obs.from == endpoint {
            match obs.pdu {
                Some(Pdu::JoinDomainRequest(j))
                    if self.is_sce() && self.user_domains.contains(&j.0.domain_id) =>
                {
                    let label = format!(
                        "JoinDomainRequest of SCE DRM Agent {} for User Domain {}",
                        endpoint.0, j.0.domain_id
                    );
                    cx.attempt();
                    self.judge.open_key(
                        obs.to,
                        endpoint,
                        AnswerKey::JoinDomain(j.0.nonce.clone()),
                        obs.now,
                        1,
                        label,
                        true,
                    );
                }
                Some(Pdu::RoRequest(_)) if self.registered.contains(&obs.to) => {
                    self.inject(obs.to, cx)
                }
                _ => {}
            }
        } else if obs.to == endpoint {
            if let Some(Pdu::RegistrationResponse(r)) = obs.pdu {
                if r.status == Status::Success && self.registered.insert(obs.from) {
                    self.inject(obs.from, cx);
                }
            }
        }
    }

    /// Injects one properly signed wrong-purpose request from the endpoint, to RI `ri`
    /// (Proxy Join of a User Domain) or to the DEA (pairing join).
    fn inject(&mut self, ri: ActorId, cx: &mut AttackCx<'_, '_>) {
        let (Some(endpoint), Some(ident)) = (self.endpoint(), self.ident.clone()) else {
            return;
        };
        if self.judge.full() || self.open_pairing.len() >= MAX_OPEN_PAIRING {
            return;
        }
        let world = self.world.clone();
        let nonce = world.nonce(cx.tap.rng());
        let time = world.datetime(cx.tap.now().as_ns());
        let k = cx.stats.attempts as usize;
        let (to, pdu, label) = if self.is_sce() {
            let Some((_, info)) = world.ri_by_actor(ri) else {
                return;
            };
            if self.user_domains.is_empty() {
                return;
            }
            let domain_id = self.user_domains[k % self.user_domains.len()].clone();
            let req = DomainRequest {
                trigger_nonce: None,
                device_id: ident.id.clone(),
                ri_id: info.id.clone(),
                nonce,
                time,
                domain_id: domain_id.clone(),
                certificate_chain: Some(ident.chain_wire.clone()),
                not_member: false,
                extensions: Vec::new(),
                signature: Vec::new(),
            };
            let mut pdu = JoinDomainRequest(req);
            let Ok(sig) = world.crypto.sign(
                &mut self.ops,
                &ident.key,
                world.params.sig_alg,
                &Pdu::JoinDomainRequest(pdu.clone()),
            ) else {
                return;
            };
            pdu.0.signature = sig;
            let label = format!(
                "Proxy Join of SCE DRM Agent {} to User Domain {domain_id}",
                endpoint.0
            );
            (ri, Pdu::JoinDomainRequest(pdu), label)
        } else {
            let (Some(dea), Some(dea_id)) = (world.dea, world.dea_id.clone()) else {
                return;
            };
            if self.pairing_domains.is_empty() {
                return;
            }
            let user_domain_id = self.pairing_domains[k % self.pairing_domains.len()].clone();
            let mut req = PairingJoinDomainRequest {
                device_id: ident.id.clone(),
                dea_id,
                user_domain_id: user_domain_id.clone(),
                nonce,
                time,
                certificate_chain: Some(ident.chain_wire.clone()),
                signature: Vec::new(),
            };
            let Ok(sig) = world.crypto.sign(
                &mut self.ops,
                &ident.key,
                world.params.sig_alg,
                &Pdu::PairingJoinDomainRequest(req.clone()),
            ) else {
                return;
            };
            req.signature = sig;
            let label = format!(
                "pairing join of drmAgent-only Device {} to {user_domain_id}",
                endpoint.0
            );
            (dea, Pdu::PairingJoinDomainRequest(req), label)
        };
        cx.attempt();
        match &pdu {
            Pdu::JoinDomainRequest(j) => self.judge.open_key(
                to,
                endpoint,
                AnswerKey::JoinDomain(j.0.nonce.clone()),
                cx.tap.now(),
                1,
                label,
                true,
            ),
            Pdu::PairingJoinDomainRequest(p) => {
                self.open_pairing.push((p.nonce.clone(), cx.tap.now()))
            }
            _ => {}
        }
        cx.inject(endpoint, to, SimMsg::Pdu(Wire::new(world.mode(), pdu)), 0);
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
        match self.spec.impersonate {
            ImpersonateMode::ClaimId => self.claim_id(obs, msg, cx),
            ImpersonateMode::Revoked => {
                self.revoked(obs, &msg, cx);
                Verdict::Pass(msg)
            }
            ImpersonateMode::WrongPurpose => {
                self.wrong_purpose(obs, cx);
                Verdict::Pass(msg)
            }
        }
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
            return;
        }
        // The DEA's (signed) answer to an injected pairing join, matched by its nonce.
        if let Some(Pdu::PairingJoinDomainResponse(r)) = obs.pdu {
            if !obs.authentic() || Some(obs.to) != self.endpoint() {
                return;
            }
            let Some(i) = self
                .open_pairing
                .iter()
                .position(|(n, at)| *n == r.nonce && *at <= obs.now)
            else {
                return;
            };
            self.open_pairing.remove(i);
            let success = r.status == Status::Success;
            let detail = format!(
                "pairing join of {} Device {}: answered {}",
                self.spec.impersonate.as_str(),
                obs.to.0,
                r.status.as_str()
            );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip() {
        for n in ImpersonateMode::NAMES {
            assert_eq!(ImpersonateMode::parse(n).map(|m| m.as_str()), Some(n));
        }
        assert_eq!(ImpersonateMode::parse("stolen"), None);
        assert_eq!(ImpersonateMode::default(), ImpersonateMode::ClaimId);
    }
}
