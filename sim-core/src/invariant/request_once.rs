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
//!
//! DEA requests (seed 000; RI → DEA) are bound to their answers by the SCE-GEN nonce the
//! response echoes (§7.2.2, §7.4.1/§7.4.2, §7.5.1/§7.5.2 tables: `Nonce` M). Their effects
//! are set-like by design (a Device "counted once", §7.4.1), so for them a Success is an
//! acceptance only when it changes the DEA's state ([`dea`]): a second Success to the same
//! request that re-admits a Device that left, deletes an association made since, or changes
//! a mapping is the request accepted twice; one that changes nothing is not.

pub mod dea;

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
    /// Get User Domain Authorization (RI → DEA): SCE-GEN nonce (seed 000 §7.2.2).
    UserDomainAuthorization(Vec<u8>),
    /// Proxy Join User Domain (RI → DEA): SCE-GEN nonce (seed 000 §7.4.1/§7.4.2).
    ProxyJoin(Vec<u8>),
    /// Proxy Leave User Domain (RI → DEA): SCE-GEN nonce (seed 000 §7.5.1/§7.5.2).
    ProxyLeave(Vec<u8>),
}

impl RequestKey {
    /// Whether a repeated Success is an acceptance only when it changes the DEA's state
    /// ([`dea`]).
    pub fn is_dea(&self) -> bool {
        matches!(
            self,
            RequestKey::UserDomainAuthorization(_)
                | RequestKey::ProxyJoin(_)
                | RequestKey::ProxyLeave(_)
        )
    }
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
            RequestKey::UserDomainAuthorization(n) => write!(
                f,
                "Get User Domain Authorization Request nonce {}",
                hex::encode(n)
            ),
            RequestKey::ProxyJoin(n) => {
                write!(f, "Proxy Join User Domain Request nonce {}", hex::encode(n))
            }
            RequestKey::ProxyLeave(n) => {
                write!(
                    f,
                    "Proxy Leave User Domain Request nonce {}",
                    hex::encode(n)
                )
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
        Pdu::GetUserDomainAuthorizationRequest(r) => {
            Some(RequestKey::UserDomainAuthorization(r.header.nonce.clone()))
        }
        Pdu::ProxyJoinUserDomainRequest(r) => Some(RequestKey::ProxyJoin(r.header.nonce.clone())),
        Pdu::ProxyLeaveUserDomainRequest(r) => Some(RequestKey::ProxyLeave(r.header.nonce.clone())),
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
        Pdu::GetUserDomainAuthorizationResponse(r) => Some((
            Some(RequestKey::UserDomainAuthorization(r.header.nonce.clone())),
            r.status,
        )),
        Pdu::ProxyJoinUserDomainResponse(r) => Some((
            Some(RequestKey::ProxyJoin(r.header.nonce.clone())),
            r.status,
        )),
        Pdu::ProxyLeaveUserDomainResponse(r) => Some((
            Some(RequestKey::ProxyLeave(r.header.nonce.clone())),
            r.status,
        )),
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
    /// The DEA state its Success answers built ([`dea`]).
    dea: dea::DeaLedger,
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
        // A DEA answer counts only when it changes the DEA's state; the ledger follows every
        // authentic Success DEA answer, first or not.
        let changed = match obs.pdu.and_then(dea::dea_effect) {
            Some(e) if k.is_dea() => self.dea.apply(obs.from, obs.to, &e),
            _ => true,
        };
        let key = (obs.from, obs.to, k);
        match self.accepted.get(&key) {
            Some((_, Some(w))) if wire_of(obs).is_some_and(|m| w.same_message(&m)) => {
                // The stored answer re-sent (or duplicated): nothing accepted again.
            }
            Some(_) if !changed => {
                // Accepted again without effect (a Device counted once, seed 000 §7.4.1).
            }
            Some((first, _)) => {
                let mut tokens = self.requests.get(&key).cloned().unwrap_or_default();
                tokens.push(*first);
                tokens.push(token);
                tokens.sort_unstable();
                found.push(Finding {
                    detail: format!(
                        "actor {} answered {} from actor {} with Success twice{}",
                        obs.from.0,
                        key.2,
                        obs.to.0,
                        if key.2.is_dea() {
                            ", changing the DEA's state again"
                        } else {
                            ""
                        }
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
