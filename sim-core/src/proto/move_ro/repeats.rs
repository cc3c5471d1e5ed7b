//! Repeats of accepted Move requests at the RI (both Move protocols, seed 003 §9.1 and §9.2).
//!
//! Reading chosen (not stated by seed 003; worth raising with the CR authors): the RI keeps,
//! for each Move request it accepted, a digest of the request as received (the whole
//! canonical request, its signature included) and the signed Success response it sent, keyed
//! by (Device ID, nonce). A later request with the same Device ID and nonce and the same
//! digest is a verbatim repeat of the accepted request — a network or HTTP-level duplicate,
//! or an attacker's copy — and is answered with the stored response, verbatim: nothing is
//! recorded, nothing moved again. Only a same-nonce request with DIFFERENT content is a
//! replay in the sense of seed 003 §1 (refused, AccessDenied).
//!
//! Why: seed 003 §9.1.3 step 3b (and §9.2.3 step 3) has the Source mark the RO usable again
//! on any verified non-Success response bound to its nonce. If the RI refused the second
//! copy of an accepted request as a replay, a copy that overtakes the original (both reach
//! the RI within milliseconds) would be accepted and the original refused: the Source
//! restores rights the RI has moved. Answering a repeat with the stored Success makes the
//! Source's outcome the same whichever copy arrives first. Fresh-nonce retries (§9.1.1 last
//! paragraph) are a different request and are still recognised by the move ledger.
//!
//! The repeat check comes before the DRM time and signature checks: a verbatim copy is bytes
//! the RI already verified, and an attacker who holds the original back until its DRM time
//! is out of tolerance must not turn it into a refusal either.
//!
//! Bounds: at most [`MAX_STORED_REPLIES`] responses, oldest evicted first, and each kept for
//! the retry span (`retry_span_ns`): after that the Source has given up on the request, so a
//! repeat can only be a replay and the nonce cache refuses it. Only Success responses are
//! stored: a repeat of a refused request is refused again (as a replay), and the Source keeps
//! its rights either way.

use crate::crypto::primitives::sha256;
use crate::crypto::{CryptoMode, Op, Signable};
use crate::engine::{ActorId, Ctx, SimTime};
use crate::pdu::digest::fnv1a_of;
use crate::pdu::{Identifier, Pdu, Status};
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::ri::Ri;
use std::collections::{BTreeMap, VecDeque};

/// Most stored Success responses an RI keeps for repeats (oldest evicted first).
pub const MAX_STORED_REPLIES: usize = 10_000;

/// SHA-256 of a request as received: its canonical XML (signature included) in real mode,
/// of its structural digest (signature included) in symbolic mode. Hashing is charged the
/// same in both modes, so timings — and therefore outcomes — do not depend on the mode.
pub type RequestDigest = [u8; 32];

/// Digest of request `req`, the whole PDU (see [`RequestDigest`]).
pub(crate) fn request_digest(ri: &mut Ri, req: &Pdu) -> RequestDigest {
    ri.ops.record(Op::sha256(req.signed_len()));
    match ri.world.mode() {
        CryptoMode::Real => sha256(&req.encode()),
        CryptoMode::Symbolic => sha256(&fnv1a_of(req).to_be_bytes()),
    }
}

#[derive(Debug, Clone)]
struct Stored {
    digest: RequestDigest,
    reply: Wire,
    at: SimTime,
}

/// The stored Success responses of an RI's accepted Move requests.
#[derive(Debug, Clone, Default)]
pub struct ReplyStore {
    map: BTreeMap<(Identifier, Vec<u8>), Stored>,
    order: VecDeque<(Identifier, Vec<u8>)>,
}

/// What the store says about a request that passed the signature check.
#[derive(Debug, Clone)]
pub enum Repeat {
    /// Same Device, nonce and content as an accepted request: answer with this response.
    Same(Wire),
    /// Nothing stored for this Device and nonce, or different content: the ordinary nonce
    /// check decides.
    No,
}

impl ReplyStore {
    /// Stored responses.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Looks up a request of `device` with `nonce` and `digest` at `now`; entries older than
    /// `window_ns` do not count.
    pub fn lookup(
        &self,
        device: &Identifier,
        nonce: &[u8],
        digest: &RequestDigest,
        now: SimTime,
        window_ns: u64,
    ) -> Repeat {
        match self.map.get(&(device.clone(), nonce.to_vec())) {
            Some(s) if s.digest == *digest && now.since(s.at) < window_ns => {
                Repeat::Same(s.reply.clone())
            }
            _ => Repeat::No,
        }
    }

    /// Stores the Success response `reply` to the request of `device` with `nonce` and
    /// `digest`, sent at `now`; forgets entries older than `window_ns` and the oldest beyond
    /// [`MAX_STORED_REPLIES`].
    pub fn insert(
        &mut self,
        device: &Identifier,
        nonce: &[u8],
        digest: RequestDigest,
        reply: Wire,
        now: SimTime,
        window_ns: u64,
    ) {
        while let Some(k) = self.order.front() {
            let expired = self.map.get(k).is_none_or(|s| now.since(s.at) >= window_ns);
            if !expired && self.map.len() < MAX_STORED_REPLIES {
                break;
            }
            if let Some(k) = self.order.pop_front() {
                self.map.remove(&k);
            }
        }
        let key = (device.clone(), nonce.to_vec());
        if self
            .map
            .insert(
                key.clone(),
                Stored {
                    digest,
                    reply,
                    at: now,
                },
            )
            .is_none()
        {
            self.order.push_back(key);
        }
    }
}

/// Sends a stored response again, verbatim (the same message: same signature, same nonce),
/// counted as a Success of `protocol` and as a repeat.
pub(crate) fn resend(
    ri: &mut Ri,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    reply: Wire,
    protocol: &str,
) {
    ri.moves.stats.repeats += 1;
    ri.count_status(protocol, Status::Success);
    ctx.charge_ns(ri.world.costs.serialize_ns(reply.size_bytes()));
    let msg = SimMsg::Pdu(reply);
    ri.repeats.record(to, &msg);
    ctx.send(to, msg);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::roap::RoResponse;

    fn wire(n: u8) -> Wire {
        Wire::new(
            CryptoMode::Symbolic,
            Pdu::RoResponse(RoResponse {
                status: if n == 0 {
                    Status::Success
                } else {
                    Status::AccessDenied
                },
                body: None,
            }),
        )
    }

    fn dev(b: u8) -> Identifier {
        Identifier::new(vec![b; 20])
    }

    #[test]
    fn same_content_is_a_repeat_different_content_is_not() {
        let mut s = ReplyStore::default();
        let t0 = SimTime::from_secs(1);
        s.insert(&dev(1), &[7; 14], [1; 32], wire(0), t0, 100_000_000_000);
        let now = SimTime::from_secs(2);
        assert!(matches!(
            s.lookup(&dev(1), &[7; 14], &[1; 32], now, 100_000_000_000),
            Repeat::Same(_)
        ));
        // Same nonce, different content; another Device; another nonce.
        assert!(matches!(
            s.lookup(&dev(1), &[7; 14], &[2; 32], now, 100_000_000_000),
            Repeat::No
        ));
        assert!(matches!(
            s.lookup(&dev(2), &[7; 14], &[1; 32], now, 100_000_000_000),
            Repeat::No
        ));
        assert!(matches!(
            s.lookup(&dev(1), &[8; 14], &[1; 32], now, 100_000_000_000),
            Repeat::No
        ));
        // After the window the Source has given up: no longer a repeat.
        assert!(matches!(
            s.lookup(
                &dev(1),
                &[7; 14],
                &[1; 32],
                SimTime::from_secs(101),
                100_000_000_000
            ),
            Repeat::No
        ));
    }

    #[test]
    fn store_is_bounded_oldest_first_and_by_age() {
        let mut s = ReplyStore::default();
        let w = 1_000_000_000_000;
        for i in 0..(MAX_STORED_REPLIES as u32 + 5) {
            let nonce = i.to_be_bytes();
            s.insert(&dev(1), &nonce, [0; 32], wire(0), SimTime::from_secs(1), w);
        }
        assert_eq!(s.len(), MAX_STORED_REPLIES);
        let now = SimTime::from_secs(2);
        // The 5 oldest went first.
        for i in 0..5u32 {
            assert!(matches!(
                s.lookup(&dev(1), &i.to_be_bytes(), &[0; 32], now, w),
                Repeat::No
            ));
        }
        assert!(matches!(
            s.lookup(&dev(1), &5u32.to_be_bytes(), &[0; 32], now, w),
            Repeat::Same(_)
        ));
        // An insert after the window forgets every expired entry.
        s.insert(
            &dev(2),
            &[1],
            [0; 32],
            wire(0),
            SimTime::from_secs(2_000),
            w,
        );
        assert_eq!(s.len(), 1);
    }
}
