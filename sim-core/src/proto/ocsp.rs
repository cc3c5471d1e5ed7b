//! The OCSP responder actor (RFC 6960 semantics): answers status queries on the
//! certificates the CA issued, signing each response; a server under the CPU model.

use super::msg::SimMsg;
use super::pki_wire::encode_ocsp;
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
}

impl OcspActor {
    /// A responder signing with `responder`, knowing the certificates in `known`.
    pub fn new(world: Rc<World>, responder: OcspResponder, known: Vec<Certificate>) -> Self {
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
        }
    }
}

impl Actor<SimMsg> for OcspActor {
    fn on_event(&mut self, ev: Event<SimMsg>, ctx: &mut Ctx<'_, SimMsg>) {
        let Event::Message { from, msg, .. } = ev else {
            return;
        };
        let SimMsg::OcspRequest(q) = msg else {
            return;
        };
        ctx.charge_ns(self.world.costs.request_base_ns);
        let Some(cert) = self.known.get(&(q.issuer.clone(), q.serial)) else {
            self.unknown += 1;
            return;
        };
        // The CertID needs the issuer's key: every certificate the responder answers for is
        // issued by a trusted root.
        let Some(issuer) = self.world.trust.root(cert.issuer()) else {
            self.unknown += 1;
            return;
        };
        let resp = self.responder.respond(
            &self.world.crypto,
            &mut self.ops,
            &self.world.revocations,
            cert,
            issuer,
            ctx.now(),
            q.nonce.as_deref(),
        );
        let mut ops = std::mem::take(&mut self.ops);
        self.world.charge(ctx, &mut ops, 0);
        self.ops = ops;
        if let Some(der) = resp.ok().and_then(|r| encode_ocsp(&r).ok()) {
            self.answered += 1;
            ctx.send(from, SimMsg::OcspResponse(Arc::new(der)));
        }
    }
}
