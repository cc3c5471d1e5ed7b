//! The RI's Move ledger and refusal reasons: which ROs have been moved, how much of each,
//! and how a repeated request is told apart from a new one (seed 003 §1, §9.1).

use super::request::Checked;
use super::MAX_LEDGER;
use crate::pdu::{Identifier, Status};
use crate::proto::ri::Ri;

/// What the RI's ledger keeps about an RO that has been moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The Source Device.
    pub source: Identifier,
    /// Units the RO was issued with (its count, or 1).
    pub issued_units: u64,
    /// Units moved out of it so far.
    pub moved_units: u64,
    /// Units of the latest accepted Move (retransmission recognition).
    pub last_units: u64,
}

/// Why the RI refused a Move (counted; sent as the status in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    /// No Device Context (NotRegistered).
    NotRegistered,
    /// DRM time too far off (DeviceTimeError).
    DeviceTime,
    /// Request signature (SignatureError).
    Signature,
    /// Nonce already seen: replay (AccessDenied; seed 003 §1).
    Replay,
    /// `<resID>` names another RI (AccessDenied).
    NotForThisRi,
    /// No RO in `<rightsInfo>`, or State Information inconsistent with the RO
    /// (MalformedRequest).
    BadRightsInfo,
    /// RO not issued (signed) by this RI (AccessDenied; §9.1.1 step 3).
    NotIssuedHere,
    /// RO not bound to the requesting Device (AccessDenied).
    NotBoundToSource,
    /// No `<move>` permission for this protocol (AccessDenied; §9.1.1 step 1).
    NotMovable,
    /// The RO's rights were already moved (AccessDenied; ledger).
    AlreadyMoved,
    /// No other registered Device to receive the rights (NotFound).
    NoDestination,
    /// In-transit store full or signing failed (UnknownError).
    Internal,
    /// The nonce store is full of nonces still inside their DRM-time windows (Abort; the
    /// Source retries later with a fresh nonce). See `nonce_cache`.
    NonceStoreFull,
    /// The ledger is full: an entry is never evicted (a forgotten entry would let the RO be
    /// moved again), so new Moves are refused (Abort) until the RI is given more room.
    LedgerFull,
}

impl Refusal {
    /// The status sent back.
    pub fn status(self) -> Status {
        match self {
            Refusal::NotRegistered => Status::NotRegistered,
            Refusal::DeviceTime => Status::DeviceTimeError,
            Refusal::Signature => Status::SignatureError,
            Refusal::BadRightsInfo => Status::MalformedRequest,
            Refusal::NoDestination => Status::NotFound,
            Refusal::Internal => Status::UnknownError,
            Refusal::NonceStoreFull | Refusal::LedgerFull => Status::Abort,
            _ => Status::AccessDenied,
        }
    }
}

/// What the ledger says about a request to move `units` of an RO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerDecision {
    /// A new Move within the RO's rights.
    New,
    /// A retransmission of the accepted Move (seed 003 fresh-nonce retry): answer Success,
    /// record nothing.
    Retransmission,
    /// More than is left of the RO's rights.
    AlreadyMoved,
}

/// The ledger rule. With nonce tracking (seed 003) a request that passed the nonce check is
/// a fresh request from the Device itself, so one repeating the accepted Move (same Device,
/// same amount) is its retry. Without it (pre-CR) the RI cannot tell a retry from a replay
/// and only bounds the total moved by what the RO was issued with.
pub fn ledger_decision(
    entry: Option<&LedgerEntry>,
    source: &Identifier,
    units: u64,
    nonce_tracking: bool,
) -> LedgerDecision {
    match entry {
        None => LedgerDecision::New,
        Some(e) if nonce_tracking && &e.source == source && e.last_units == units => {
            LedgerDecision::Retransmission
        }
        Some(e) if &e.source != source || e.moved_units.saturating_add(units) > e.issued_units => {
            LedgerDecision::AlreadyMoved
        }
        Some(_) => LedgerDecision::New,
    }
}

/// Whether the ledger can take the new entries `fresh` would add. Ledger entries have no
/// freshness window: a moved RO stays moved for as long as a copy of it could be presented
/// (a rolled-back Device, a replayed or re-signed request), so the ledger never evicts one
/// and is bounded by refusing new Moves ([`Refusal::LedgerFull`]) at [`MAX_LEDGER`].
pub(crate) fn ledger_has_room(ri: &Ri, fresh: &[Checked]) -> bool {
    let new = fresh
        .iter()
        .filter(|c| !ri.moves.ledger.contains_key(&c.ro_id))
        .count();
    ri.moves.ledger.len() + new <= MAX_LEDGER
}

/// Records an accepted Move of `c` from `source` (room checked by [`ledger_has_room`]).
pub(crate) fn record_ledger(ri: &mut Ri, source: &Identifier, c: &Checked) {
    let moves = &mut ri.moves;
    match moves.ledger.get_mut(&c.ro_id) {
        Some(e) => {
            e.moved_units += c.units;
            e.last_units = c.units;
        }
        None => {
            moves.ledger.insert(
                c.ro_id.clone(),
                LedgerEntry {
                    source: source.clone(),
                    issued_units: c.issued_units,
                    moved_units: c.units,
                    last_units: c.units,
                },
            );
            moves.ledger_order.push_back(c.ro_id.clone());
        }
    }
}
