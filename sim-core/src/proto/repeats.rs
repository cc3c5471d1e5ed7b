//! Repeats of requests a server already processed: every server (RI, DEA, LRM, OCSP
//! responder) answers a verbatim repeat of a request it has processed with the response it
//! already sent, and silently drops a repeat of a request it is still working on.
//!
//! Why (issue 11): the network duplicates, reorders and delays messages. A server that
//! processes the second copy of a request again answers it with an error (the nonce is a
//! replay, the registration session is used up…), and that error can reach the Device before
//! the real answer. Answering a repeat with the stored response makes the requester's outcome
//! the same whichever copy arrives first, and changes no server state.
//!
//! What is a repeat: the same sender (transport source) and the same message — SHA-256 of the
//! octets in real mode, of the structural digest in symbolic mode (the whole PDU, nonce and
//! signature included). A request with the same nonce and different content is not a repeat;
//! the protocol's replay check decides it. Seed 003 §1 names RI nonce tracking; answering
//! repeats from a store is drmsim's reading of what a server that tracks nonces does with a
//! copy of a request it accepted (see `move_ro/repeats.rs`, which predates this module and
//! still guards Move requests by Device ID and nonce).
//!
//! Bounds: at most `limit` entries (explicit, [`DEFAULT_LIMIT`] unless configured), each kept
//! for [`window_ns`] (the requester's retry span). Eviction, by age or by the limit, oldest
//! first, cannot reopen a replay: an evicted request that comes again is processed as new, and
//! the protocol's nonce store — which must remember every nonce at least as long as a stored
//! response (issue 11 part 2: freshness windows) — refuses it. Eviction can only turn a late duplicate's stored answer
//! into a refusal, never into a second acceptance.
//!
//! Responses sent later (an RI answering a registration after its OCSP query, a join proxied
//! to the DEA) are matched to the oldest pending request of that sender whose response kind
//! they carry (`response_kind`).

use crate::crypto::primitives::sha256;
use crate::engine::{ActorId, SimTime};
use crate::pdu::digest::Fnv1a;
use crate::proto::msg::{SimMsg, Wire};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::BuildHasherDefault;

/// How long a processed request is kept: the requester's whole retry span (every attempt's
/// response timeout, `max_retries + 1` of them, plus the longest back-off). Within it a
/// verbatim copy is a duplicate or a late delivery that the requester (or its retry loop)
/// may still be waiting on: it gets the stored answer, never an error that could overtake
/// the real one. After it the requester has finished or given up, so a later verbatim copy
/// is treated as what it then is — a replay, refused by the protocol's nonce check.
pub fn window_ns(p: &crate::proto::world::ProtoParams) -> u64 {
    p.request_timeout_ns
        .saturating_mul(u64::from(p.max_retries) + 1)
        .saturating_add(p.backoff_max_ns)
}

/// Entries a server keeps when the store is switched on (`ProtoParams::repeat_store_limit`).
pub const DEFAULT_LIMIT: usize = 20_000;
/// Responses stored per request (a request is answered by one message; two leave room for a
/// response plus a follow-up such as a trigger).
const MAX_REPLIES: usize = 2;

/// Identity of a request: transport source and message digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepeatKey {
    from: ActorId,
    digest: [u8; 32],
}

impl RepeatKey {
    /// The key of `wire` received from `from` ([`Wire::identity`]: its octets whenever it
    /// travels as octets — real mode, and an adversary's re-serialisation in symbolic mode —
    /// so a non-canonical re-encoding of a request (same nonce, same signature, other bytes)
    /// is not a repeat in either mode: the protocol's nonce check decides it).
    pub fn of_wire(from: ActorId, wire: &Wire) -> RepeatKey {
        RepeatKey {
            from,
            digest: wire.identity(),
        }
    }

    /// The key of any other request message (OCSP queries) from `from`, given its octets.
    pub fn of_bytes(from: ActorId, bytes: &[u8]) -> RepeatKey {
        RepeatKey {
            from,
            digest: sha256(bytes),
        }
    }
}

/// The response kind that answers a request kind; `None` for messages that are not
/// requests a server answers (responses, triggers, notifications) and for DeviceHello.
///
/// DeviceHello is not stored: it carries no nonce (ROAP §5.4.2.1.1), so a Device's retry
/// after a lost exchange is byte-for-byte the first attempt. Answering it with the stored
/// RIHello would hand the Device a session it already used; a fresh session costs the RI
/// one bounded entry (`MAX_REG_SESSIONS`) and changes nothing else.
pub fn response_kind(request_kind: &str) -> Option<&'static str> {
    Some(match request_kind {
        "roap:registrationRequest" => "roap:registrationResponse",
        "roap:roRequest" => "roap:roResponse",
        "roap:joinDomainRequest" => "roap:joinDomainResponse",
        "roap:leaveDomainRequest" => "roap:leaveDomainResponse",
        "roap:meteringReportSubmit" => "roap:meteringReportResponse",
        "sceroap:moveDeviceRORequest" => "sceroap:moveDeviceROResponse",
        "sceroap:moveUserDomainConstrainedRORequest" => {
            "sceroap:moveUserDomainConstrainedROResponse"
        }
        "dom:rdpGetUserDomainAuthorization" => "dom:rdpGetUserDomainAuthorizationResponse",
        "dom:rdpProxyJoinUserDomainRequest" => "dom:rdpProxyJoinUserDomainResponse",
        "dom:rdpProxyLeaveUserDomainRequest" => "dom:rdpProxyLeaveUserDomainResponse",
        "dmp:joinDomainRequest" => "dmp:joinDomainResponse",
        "dmp:pairingTicketRequest" => "dmp:pairingTicketResponse",
        "dmp:authenticationRequest" => "dmp:authenticationResponse",
        "dmp:importedRORequest" => "dmp:importedROResponse",
        "ocsp:request" => "ocsp:response",
        _ => return None,
    })
}

/// What the store says about an arriving request.
#[derive(Debug)]
pub enum Seen {
    /// Not seen (or forgotten): process it.
    New,
    /// Seen and not answered yet: drop this copy, the answer to the first is coming.
    InProgress,
    /// Seen and answered: send these stored responses again.
    Answered(Vec<SimMsg>),
}

/// Counters of a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepeatStats {
    /// Repeats answered with the stored response.
    pub answered: u64,
    /// Repeats dropped because the first copy was still being processed.
    pub in_progress: u64,
    /// Entries forgotten because the store was at its limit before their window ended.
    pub evicted_early: u64,
}

#[derive(Debug)]
struct Entry {
    at: SimTime,
    answer_kind: &'static str,
    replies: Vec<SimMsg>,
}

/// A server's bounded store of processed requests and the responses sent to them.
#[derive(Debug)]
pub struct RepeatStore {
    limit: usize,
    window_ns: u64,
    /// Looked up by key only, never iterated (the order of events comes from `order` and
    /// `pending`), so a hash map with a fixed hasher keeps runs deterministic.
    entries: HashMap<RepeatKey, Entry, BuildHasherDefault<Fnv1a>>,
    order: VecDeque<(SimTime, RepeatKey)>,
    /// Pending (unanswered) requests by (sender, response kind), oldest first.
    pending: BTreeMap<(ActorId, &'static str), VecDeque<RepeatKey>>,
    current: Option<RepeatKey>,
    /// Counters.
    pub stats: RepeatStats,
}

impl RepeatStore {
    /// A store of at most `limit` requests, each kept for `window_ns` (`limit` 0: off).
    pub fn new(limit: usize, window_ns: u64) -> Self {
        RepeatStore {
            limit,
            window_ns,
            entries: HashMap::default(),
            order: VecDeque::new(),
            pending: BTreeMap::new(),
            current: None,
            stats: RepeatStats::default(),
        }
    }

    /// Requests stored.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The explicit bound on stored requests.
    pub fn limit(&self) -> usize {
        self.limit
    }

    fn forget(&mut self, key: &RepeatKey) {
        if let Some(e) = self.entries.remove(key) {
            if e.replies.is_empty() {
                if let Some(q) = self.pending.get_mut(&(key.from, e.answer_kind)) {
                    q.retain(|k| k != key);
                    if q.is_empty() {
                        self.pending.remove(&(key.from, e.answer_kind));
                    }
                }
            }
        }
    }

    /// Forgets entries older than the window and, with `room`, the oldest until one more
    /// fits under the limit.
    fn expire(&mut self, now: SimTime, room: bool) {
        while let Some(&(at, key)) = self.order.front() {
            let old = now.since(at) >= self.window_ns;
            let full = room && self.entries.len() >= self.limit;
            if !old && !full {
                break;
            }
            self.order.pop_front();
            // The same key may be queued again after being forgotten: only the entry it was
            // queued for goes.
            if self.entries.get(&key).is_some_and(|e| e.at == at) {
                if !old {
                    self.stats.evicted_early += 1;
                }
                self.forget(&key);
            }
        }
    }

    /// Looks up request `key` of kind `request_kind` arriving at `now`. A new request is
    /// recorded as in progress and becomes the current one: responses sent to its sender
    /// until [`RepeatStore::end`] are stored for it.
    pub fn begin(&mut self, key: RepeatKey, request_kind: &str, now: SimTime) -> Seen {
        self.current = None;
        let Some(answer_kind) = response_kind(request_kind) else {
            return Seen::New;
        };
        self.expire(now, false);
        if let Some(e) = self.entries.get(&key) {
            if e.replies.is_empty() {
                self.stats.in_progress += 1;
                return Seen::InProgress;
            }
            self.stats.answered += 1;
            return Seen::Answered(e.replies.clone());
        }
        self.expire(now, true);
        self.entries.insert(
            key,
            Entry {
                at: now,
                answer_kind,
                replies: Vec::new(),
            },
        );
        self.order.push_back((now, key));
        self.pending
            .entry((key.from, answer_kind))
            .or_default()
            .push_back(key);
        self.current = Some(key);
        Seen::New
    }

    /// The synchronous processing of the current request is over.
    pub fn end(&mut self) {
        self.current = None;
    }

    /// Records a response `msg` the server sends to `to`: stored for the current request if
    /// it is `to`'s, else for `to`'s oldest pending request answered by this kind.
    pub fn record(&mut self, to: ActorId, msg: &SimMsg) {
        use crate::engine::Message;
        let kind = msg.kind();
        let key = match self.current {
            Some(k) if k.from == to => Some(k),
            _ => self
                .pending
                .get(&(to, kind))
                .and_then(|q| q.front().copied()),
        };
        let Some(key) = key else {
            return;
        };
        let Some(e) = self.entries.get_mut(&key) else {
            return;
        };
        if e.replies.is_empty() {
            let answer_kind = e.answer_kind;
            if let Some(q) = self.pending.get_mut(&(to, answer_kind)) {
                q.retain(|k| *k != key);
                if q.is_empty() {
                    self.pending.remove(&(to, answer_kind));
                }
            }
        }
        if e.replies.len() < MAX_REPLIES {
            e.replies.push(msg.clone());
        }
    }
}

/// What the gate needs of an arriving PDU, taken before the PDU is moved out of its message
/// ([`crate::proto::msg::Wire::take_struct`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival {
    from: ActorId,
    kind: &'static str,
    size_bytes: u32,
    /// `None` when the store is off or the message is not a request it answers.
    key: Option<RepeatKey>,
}

impl Arrival {
    /// `wire` arriving from `from` at a server with `store`: identified (once per message,
    /// [`Wire::identity`]) only when the store may have to look it up.
    pub(crate) fn of(store: &RepeatStore, from: ActorId, wire: &Wire) -> Arrival {
        let key = (store.limit > 0 && response_kind(wire.kind()).is_some())
            .then(|| RepeatKey::of_wire(from, wire));
        Arrival {
            from,
            kind: wire.kind(),
            size_bytes: wire.size_bytes(),
            key,
        }
    }
}

/// The gate a server runs on every decoded PDU before its protocol handler: `true` when the
/// handler must run (a new request, or a message that is not a request); `false` when this
/// copy was a repeat, already answered from the store or dropped while the first copy is in
/// progress. Hashing is charged like any SHA-256 of the message's size, the same in both
/// crypto modes.
pub(crate) fn gate(
    store: &mut RepeatStore,
    world: &crate::proto::world::World,
    ctx: &mut crate::engine::Ctx<'_, SimMsg>,
    arrival: &Arrival,
) -> bool {
    // A limit of 0 switches the store off (`repeat_store_limit = 0`).
    let Some(key) = arrival.key.filter(|_| store.limit > 0) else {
        store.end();
        return true;
    };
    let mut ops = crate::crypto::OpCounter::new();
    ops.record(crate::crypto::Op::sha256(arrival.size_bytes as usize));
    ctx.charge_ns(world.costs.drain_ns(&mut ops));
    match store.begin(key, arrival.kind, ctx.now()) {
        Seen::New => true,
        Seen::InProgress => false,
        Seen::Answered(replies) => {
            for r in replies {
                use crate::engine::Message;
                ctx.charge_ns(world.costs.serialize_ns(r.size_bytes()));
                ctx.send(arrival.from, r);
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CryptoMode;
    use crate::pdu::roap::RoResponse;
    use crate::pdu::Pdu;
    use crate::pdu::Status;

    fn key(from: u32, d: u8) -> RepeatKey {
        RepeatKey {
            from: ActorId(from),
            digest: [d; 32],
        }
    }

    fn answer() -> SimMsg {
        SimMsg::Pdu(Wire::new(
            CryptoMode::Symbolic,
            Pdu::RoResponse(RoResponse {
                status: Status::Success,
                body: None,
            }),
        ))
    }

    const RO: &str = "roap:roRequest";

    #[test]
    fn a_repeat_is_dropped_while_in_progress_and_answered_once_answered() {
        let mut s = RepeatStore::new(10, 1_000);
        let t = SimTime::from_ns(10);
        assert!(matches!(s.begin(key(1, 1), RO, t), Seen::New));
        s.end();
        assert!(matches!(s.begin(key(1, 1), RO, t), Seen::InProgress));
        s.end();
        // A later response of the right kind to that sender answers the pending request.
        s.record(ActorId(1), &answer());
        match s.begin(key(1, 1), RO, t) {
            Seen::Answered(r) => assert_eq!(r.len(), 1),
            other => panic!("expected the stored answer, got {other:?}"),
        }
        // Same digest from another sender, or another digest: new.
        assert!(matches!(s.begin(key(2, 1), RO, t), Seen::New));
        assert!(matches!(s.begin(key(1, 2), RO, t), Seen::New));
        assert_eq!(s.stats.answered, 1);
        assert_eq!(s.stats.in_progress, 1);
    }

    #[test]
    fn responses_are_stored_for_the_current_request_only_when_sent_to_its_sender() {
        let mut s = RepeatStore::new(10, 1_000);
        let t = SimTime::from_ns(0);
        assert!(matches!(s.begin(key(1, 1), RO, t), Seen::New));
        s.record(ActorId(9), &answer()); // to someone else (e.g. a proxied request): not stored
        s.end();
        assert!(matches!(s.begin(key(1, 1), RO, t), Seen::InProgress));
    }

    #[test]
    fn the_store_is_bounded_by_its_limit_and_its_window() {
        let mut s = RepeatStore::new(3, 100);
        for d in 0..5u8 {
            assert!(matches!(
                s.begin(key(1, d), RO, SimTime::from_ns(d as u64)),
                Seen::New
            ));
            s.record(ActorId(1), &answer());
            s.end();
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.stats.evicted_early, 2);
        // The two oldest were evicted: processed as new (the nonce store refuses them).
        assert!(matches!(
            s.begin(key(1, 0), RO, SimTime::from_ns(6)),
            Seen::New
        ));
        s.end();
        // After the window everything older is gone.
        assert!(matches!(
            s.begin(key(1, 4), RO, SimTime::from_ns(500)),
            Seen::New
        ));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn messages_that_are_not_requests_are_not_stored() {
        let mut s = RepeatStore::new(10, 1_000);
        let t = SimTime::from_ns(0);
        assert!(matches!(
            s.begin(key(1, 1), "roap:roResponse", t),
            Seen::New
        ));
        assert!(matches!(
            s.begin(key(1, 1), "roap:roResponse", t),
            Seen::New
        ));
        assert!(s.is_empty());
    }
}
