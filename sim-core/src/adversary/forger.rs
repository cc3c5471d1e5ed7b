//! The Ticket forger (seed 001 §7.2.1.2/§7.2.1.3): attacks the Authentication step of
//! pairing, where a requester presents a DEA-issued Pairing Ticket to a target (an LRM, or
//! the destination SCE agent of a dmpPair). For each targeted Authentication Request it sees,
//! it lets the request pass and sends the target, claiming to be the requester, one of
//! (cycling with its attempt count):
//! 1. a **forged** ticket: a Pairing Key of its own wrapped and HMAC'd under a Master Key it
//!    made up (it does not hold the target's MK), with a request HMAC that is correct under
//!    that Pairing Key and a fresh nonce;
//! 2. a **modified** ticket: the genuine ticket with `<notAfter>` pushed a year later (to
//!    keep using it), the original request HMAC (it does not know the Pairing Key) and a
//!    fresh nonce;
//! 3. a **replay**: the same request (same ticket, nonce and HMAC) after `replay_delay`
//!    (1 s when unset), re-encoded as non-canonical XML: a byte-identical copy would be a
//!    repeat the target answers from its response store (`proto::repeats`), so only a copy
//!    that is not byte-identical tests its nonce check.
//!
//! The target must verify the ticket HMAC under its MK, unwrap the Pairing Key, verify the
//! request HMAC and refuse a nonce seen before. An attempt is decided by the target's answer
//! to it (an Authentication Response with its nonce; for a replay, the second answer with
//! that nonce): `Success` = succeeded, any refusal = blocked.

use super::{score, AdversarySpec, Attack, AttackCx, AttackStats};
use crate::crypto::{OpCounter, SymKey};
use crate::engine::{ActorId, Verdict};
use crate::invariant::Observed;
use crate::pdu::pairing::AuthenticationRequest;
use crate::pdu::{DateTime, Expiry, Pdu, Status};
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::world::World;
use crate::trace::TraceEvent;
use rand::RngCore;
use std::rc::Rc;

/// Open attempts remembered for scoring, bounded (no new attempt while full).
pub const MAX_OPEN_FORGERIES: usize = 10_000;
/// Replay delay when the spec sets none.
pub const DEFAULT_REPLAY_DELAY_NS: u64 = 1_000_000_000;
/// How far the modified ticket's `<notAfter>` is pushed, s.
const EXTEND_S: u64 = 365 * 86_400;

/// What one attempt sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// A ticket under a made-up Master Key.
    Forged,
    /// The genuine ticket with a later `<notAfter>`.
    Modified,
    /// An identical copy of the request.
    Replayed,
}

impl Forgery {
    fn as_str(self) -> &'static str {
        match self {
            Forgery::Forged => "forged ticket",
            Forgery::Modified => "modified ticket",
            Forgery::Replayed => "replayed request",
        }
    }
}

#[derive(Debug)]
struct Open {
    target: ActorId,
    requester: ActorId,
    nonce: Vec<u8>,
    what: Forgery,
    /// Answers with this nonce still to pass before the one that decides (the original's).
    skip: u32,
}

/// The ticket forger.
pub struct TicketForger {
    spec: AdversarySpec,
    world: Rc<World>,
    open: Vec<Open>,
    me: Option<ActorId>,
    ops: OpCounter,
}

impl std::fmt::Debug for TicketForger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketForger")
            .field("name", &self.spec.name)
            .finish()
    }
}

impl TicketForger {
    /// A forger configured by `spec` in `world`.
    pub fn new(spec: AdversarySpec, world: Rc<World>) -> Self {
        TicketForger {
            spec,
            world,
            open: Vec::new(),
            me: None,
            ops: OpCounter::new(),
        }
    }

    fn fresh_nonce(&self, rng: &mut dyn RngCore) -> Vec<u8> {
        let mut n = vec![0u8; self.world.params.nonce_bytes.max(1)];
        rng.fill_bytes(&mut n);
        n
    }

    /// The forged variant of `r`: a Pairing Key of the attacker's own under a made-up MK.
    fn forge(
        &mut self,
        r: &AuthenticationRequest,
        rng: &mut dyn RngCore,
    ) -> Option<AuthenticationRequest> {
        let world = self.world.clone();
        let fake_mk = SymKey::random(rng);
        let pk = SymKey::random(rng);
        let mut f = r.clone();
        f.nonce = self.fresh_nonce(rng);
        f.ticket.enc_pairing_key.cipher = world
            .crypto
            .wrap(&mut self.ops, &fake_mk, pk.as_bytes())
            .ok()?;
        f.ticket.mac = Vec::new();
        f.ticket.mac = world
            .crypto
            .mac(&mut self.ops, &fake_mk, world.params.mac_alg, &f.ticket);
        f.mac = Vec::new();
        f.mac = world.crypto.mac(
            &mut self.ops,
            &pk,
            world.params.mac_alg,
            &Pdu::AuthenticationRequest(f.clone()),
        );
        Some(f)
    }

    /// The modified variant of `r`: a later `<notAfter>`, everything else kept.
    fn modify(&self, r: &AuthenticationRequest, rng: &mut dyn RngCore) -> AuthenticationRequest {
        let mut m = r.clone();
        m.nonce = self.fresh_nonce(rng);
        let base = match m.ticket.not_after {
            Expiry::At(d) => d.unix_s,
            Expiry::Infinite => self.world.epoch_unix_s,
        };
        m.ticket.not_after = Expiry::At(DateTime::from_unix_s(base + EXTEND_S));
        m
    }
}

impl Attack for TicketForger {
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
        let Some(Pdu::AuthenticationRequest(r)) = obs.pdu else {
            return Verdict::Pass(msg);
        };
        if self.open.len() >= MAX_OPEN_FORGERIES {
            return Verdict::Pass(msg);
        }
        let what = match cx.stats.attempts % 3 {
            0 => Forgery::Forged,
            1 => Forgery::Modified,
            _ => Forgery::Replayed,
        };
        let (req, delay_ns, skip) = match what {
            Forgery::Forged => match self.forge(r, cx.tap.rng()) {
                Some(f) => (f, 0, 0),
                None => return Verdict::Pass(msg),
            },
            Forgery::Modified => (self.modify(r, cx.tap.rng()), 0, 0),
            Forgery::Replayed => {
                let d = if self.spec.replay_delay_ns == 0 {
                    DEFAULT_REPLAY_DELAY_NS
                } else {
                    self.spec.replay_delay_ns
                };
                (r.clone(), d, 1)
            }
        };
        cx.attempt();
        self.open.push(Open {
            target: obs.to,
            requester: obs.from,
            nonce: req.nonce.clone(),
            what,
            skip,
        });
        let pdu = Pdu::AuthenticationRequest(req);
        let reencoded = (what == Forgery::Replayed)
            .then(|| pdu.try_encode().ok())
            .flatten()
            .and_then(|c| super::tamperer::reserialise::reserialise(&c).ok());
        let wire = match reencoded {
            Some(b) => Wire::from_xml(pdu.kind(), b),
            None => Wire::new(self.world.mode(), pdu),
        };
        cx.inject(obs.from, obs.to, SimMsg::Pdu(wire), delay_ns);
        Verdict::Pass(msg)
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        let Some(me) = self.me else { return };
        let Some(Pdu::AuthenticationResponse(r)) = obs.pdu else {
            return;
        };
        let Some(i) = self
            .open
            .iter()
            .position(|o| o.target == obs.from && o.requester == obs.to && o.nonce == r.nonce)
        else {
            return;
        };
        if self.open[i].skip > 0 {
            self.open[i].skip -= 1;
            return;
        }
        let o = self.open.remove(i);
        score(
            stats,
            out,
            me,
            "ticket_forge",
            Some(o.target),
            r.status == Status::Success,
            format!("{} answered {}", o.what.as_str(), r.status.as_str()),
        );
    }
}
