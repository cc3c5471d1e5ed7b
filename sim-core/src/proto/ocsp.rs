//! The OCSP responder actor (RFC 6960 semantics): answers status queries on the
//! certificates the CA issued, signing each response; a server under the CPU model.

use super::msg::{OcspQuery, SimMsg};
use super::pki_wire::encode_ocsp;
use super::repeats::{RepeatKey, Seen};
use super::world::World;
use crate::crypto::OpCounter;
use crate::engine::{Actor, Ctx, Event};
use crate::pki::{Certificate, OcspResponder};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// The OCSP responder.
pub struct OcspActor {
    world: Rc<World>,
    responder: OcspResponder,
    known: BTreeMap<(String, u64), Certificate>,
    ops: OpCounter,
    /// Queries answered.
    pub answered: u64,
    /// Queries about certificates it does not know (answered `unknown`).
    pub unknown: u64,
    /// Processed queries and their responses, for verbatim repeats (repeats.rs).
    pub repeats: super::repeats::RepeatStore,
    /// Queries answered at once because the queue was full.
    pub busy_refusals: u64,
}

/// The octets that identify a query (issuer, serial, nonce), for the repeat store.
fn query_octets(q: &OcspQuery) -> Vec<u8> {
    let mut b = q.issuer.as_bytes().to_vec();
    b.push(0);
    b.extend_from_slice(&q.serial.to_be_bytes());
    if let Some(n) = &q.nonce {
        b.push(1);
        b.extend_from_slice(n);
    }
    b
}

impl OcspActor {
    /// A responder signing with `responder`, knowing the certificates in `known`.
    pub fn new(world: Rc<World>, responder: OcspResponder, known: Vec<Certificate>) -> Self {
        let repeats = super::repeats::RepeatStore::new(
            world.params.repeat_store_limit,
            super::repeats::window_ns(&world.params),
        );
        OcspActor {
            world,
            responder,
            known: known
                .into_iter()
                .map(|c| ((c.issuer().to_string(), c.serial()), c))
                .collect(),
            ops: OpCounter::new(),
            answered: 0,
            unknown: 0,
            repeats,
            busy_refusals: 0,
        }
    }
}

impl Actor<SimMsg> for OcspActor {
    fn on_event(&mut self, ev: Event<SimMsg>, ctx: &mut Ctx<'_, SimMsg>) {
        let (from, msg) = match ev {
            Event::Message { from, msg, .. } => (from, msg),
            // Reject overflow policy: answer at once, unsigned `tryLater` (RFC 6960 §2.3),
            // modelled as an OCSP response of no octets that no validator accepts.
            Event::Overloaded { from, msg, .. } => {
                if matches!(msg, SimMsg::OcspRequest(_)) {
                    self.busy_refusals += 1;
                    ctx.send(from, SimMsg::OcspResponse(Arc::new(Vec::new())));
                }
                return;
            }
            _ => return,
        };
        let SimMsg::OcspRequest(q) = msg else {
            return;
        };
        ctx.charge_ns(self.world.costs.request_base_ns);
        // A repeat of a query already answered gets the same response again (repeats.rs).
        let key = RepeatKey::of_bytes(from, &query_octets(&q));
        let seen = if self.repeats.limit() == 0 {
            Seen::New
        } else {
            self.repeats.begin(key, "ocsp:request", ctx.now())
        };
        match seen {
            Seen::New => {}
            Seen::InProgress => return,
            Seen::Answered(replies) => {
                for r in replies {
                    ctx.send(from, r);
                }
                return;
            }
        }
        // The CertID needs the issuer's key: every certificate the responder answers for is
        // issued by a trusted root. A query about another issuer cannot be answered with a
        // CertID at all (RFC 6960 `unauthorized`): answered with an empty response, which no
        // validator accepts, so the requester is not left waiting.
        let Some(issuer) = self.world.trust.root(&q.issuer) else {
            self.unknown += 1;
            let answer = SimMsg::OcspResponse(Arc::new(Vec::new()));
            self.repeats.record(from, &answer);
            ctx.send(from, answer);
            self.repeats.end();
            return;
        };
        let resp = match self.known.get(&(q.issuer.clone(), q.serial)) {
            Some(cert) => self.responder.respond(
                &self.world.crypto,
                &mut self.ops,
                &self.world.revocations,
                cert,
                issuer,
                ctx.now(),
                q.nonce.as_deref(),
            ),
            // A serial it never issued: a signed `unknown` (RFC 6960 §2.2), which a validator
            // refuses (`RevocationUnknown`) at once instead of timing out.
            None => {
                self.unknown += 1;
                self.responder.respond_unknown(
                    &self.world.crypto,
                    &mut self.ops,
                    &q.issuer,
                    issuer,
                    q.serial,
                    ctx.now(),
                    q.nonce.as_deref(),
                )
            }
        };
        let mut ops = std::mem::take(&mut self.ops);
        self.world.charge(ctx, &mut ops, 0);
        self.ops = ops;
        if let Some(der) = resp.ok().and_then(|r| encode_ocsp(&r).ok()) {
            self.answered += 1;
            let answer = SimMsg::OcspResponse(Arc::new(der));
            self.repeats.record(from, &answer);
            ctx.send(from, answer);
        }
        self.repeats.end();
    }
}
