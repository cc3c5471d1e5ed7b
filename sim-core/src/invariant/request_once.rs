//! "No request accepted twice": a server answers one request (identified by what binds a
//! response to it — the Device nonce for RO acquisition, seed 003 §1; the session ID for
//! registration, §5.4.2.1; the Device nonce for both Move protocols, seed 003 §9.1/§9.2)
//! with Success at most once.
//!
//! The same Success message sent again is not a second acceptance: an RI answers a repeat
//! of an accepted Move request (same Device, nonce and content) with the response it stored
//! (`proto::move_ro` `repeats`), and a network duplicate is the same message too. What counts
//! is a second Success the server *produced*: a Move response carries nothing specific to an
//! acceptance, so a pre-CR RI accepting a replay answers with equal bytes, yet it is a new
//! message (and a second Move) — compared by message identity (`Wire::same_message`), not
//! by content.

use super::{names, Finding, Monitor, Observed};
use crate::engine::ActorId;
use crate::pdu::{Pdu, Status};
use crate::proto::msg::{SimMsg, Wire};
use std::collections::BTreeMap;

/// What binds a response to its request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RequestKey {
    /// RO acquisition: Device nonce.
    Ro(Vec<u8>),
    /// Registration: session ID.
    Registration(String),
    /// Move Device RO via RI: Device nonce (seed 003 §9.1.1).
    Move(Vec<u8>),
    /// Move `<userDomain>`-constrained RO via RI: Device nonce (seed 003 §9.2.1).
    MoveUserDomain(Vec<u8>),
}

impl std::fmt::Display for RequestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestKey::Ro(n) => write!(f, "RO Request nonce {}", hex::encode(n)),
            RequestKey::Registration(s) => write!(f, "Registration session {s}"),
            RequestKey::Move(n) => write!(f, "Move request nonce {}", hex::encode(n)),
            RequestKey::MoveUserDomain(n) => {
                write!(f, "userDomain Move request nonce {}", hex::encode(n))
            }
        }
    }
}

/// The key of a request PDU, if it is one this monitor tracks.
pub fn request_key(p: &Pdu) -> Option<RequestKey> {
    match p {
        Pdu::RoRequest(r) => Some(RequestKey::Ro(r.nonce.clone())),
        Pdu::RegistrationRequest(r) => Some(RequestKey::Registration(r.session_id.clone())),
        Pdu::MoveDeviceRoRequest(r) => Some(RequestKey::Move(r.nonce.clone())),
        Pdu::MoveUserDomainConstrainedRoRequest(r) => {
            Some(RequestKey::MoveUserDomain(r.nonce.clone()))
        }
        _ => None,
    }
}

/// The key and status of a response PDU. A status-only RO response carries no nonce.
pub fn response_key(p: &Pdu) -> Option<(Option<RequestKey>, Status)> {
    match p {
        Pdu::RoResponse(r) => Some((
            r.body.as_ref().map(|b| RequestKey::Ro(b.nonce.clone())),
            r.status,
        )),
        Pdu::RegistrationResponse(r) => Some((
            Some(RequestKey::Registration(r.session_id.clone())),
            r.status,
        )),
        Pdu::MoveDeviceRoResponse(r) => Some((Some(RequestKey::Move(r.nonce.clone())), r.status)),
        Pdu::MoveUserDomainConstrainedRoResponse(r) => {
            Some((Some(RequestKey::MoveUserDomain(r.nonce.clone())), r.status))
        }
        _ => None,
    }
}

/// Bound on tracked requests and answers (oldest forgotten first).
pub const MAX_TRACKED: usize = 1_000_000;

/// The monitor.
#[derive(Debug, Default)]
pub struct RequestOnce {
    /// (server, client, key) → tokens of requests seen.
    requests: BTreeMap<(ActorId, ActorId, RequestKey), Vec<u64>>,
    /// (server, client, key) → token of the first Success answer and that message (a re-send
    /// of it is no second acceptance).
    accepted: BTreeMap<(ActorId, ActorId, RequestKey), (u64, Option<Wire>)>,
}

/// The PDU message `obs` carries, if any.
fn wire_of(obs: &Observed<'_>) -> Option<Wire> {
    match obs.msg {
        SimMsg::Pdu(w) => Some(w.clone()),
        _ => None,
    }
}

impl Monitor for RequestOnce {
    fn name(&self) -> &'static str {
        names::NO_REQUEST_ACCEPTED_TWICE
    }

    fn on_message(&mut self, obs: &Observed<'_>, token: u64, found: &mut Vec<Finding>) {
        let Some(p) = obs.pdu else { return };
        if let Some(k) = request_key(p) {
            if self.requests.len() < MAX_TRACKED {
                let v = self.requests.entry((obs.to, obs.from, k)).or_default();
                if v.len() < 16 {
                    v.push(token);
                }
            }
            return;
        }
        // Only what the server itself sent counts as acceptance (a forgery is not the
        // server accepting anything).
        let Some((Some(k), Status::Success)) = response_key(p) else {
            return;
        };
        if !obs.authentic() {
            return;
        }
        let key = (obs.from, obs.to, k);
        match self.accepted.get(&key) {
            Some((_, Some(w))) if wire_of(obs).is_some_and(|m| w.same_message(&m)) => {
                // The stored answer re-sent (or duplicated): nothing accepted again.
            }
            Some((first, _)) => {
                let mut tokens = self.requests.get(&key).cloned().unwrap_or_default();
                tokens.push(*first);
                tokens.push(token);
                tokens.sort_unstable();
                found.push(Finding {
                    detail: format!(
                        "actor {} answered {} from actor {} with Success twice",
                        obs.from.0, key.2, obs.to.0
                    ),
                    tokens,
                });
            }
            None => {
                if self.accepted.len() < MAX_TRACKED {
                    self.accepted.insert(key, (token, wire_of(obs)));
                }
            }
        }
    }
}
