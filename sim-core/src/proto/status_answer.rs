//! Unauthenticated error answers a server sends when it cannot, or must not, run a request's
//! protocol: its queue is full (`overflow = "reject"`) or the request cannot be decoded.
//!
//! ROAP (OMA-TS-DRM-DRM-V2_0 §5.3) lets an error response carry only its status: the
//! responder may have no key to sign with for this requester, and no trustworthy IDs to echo.
//! [`for_kind`] builds such a status-only answer from the request kind alone (what a server
//! knows of a request it cannot decode); [`for_request`] builds one for a decoded request,
//! echoing the IDs and nonce where the response type has fields for them (the SCE responses,
//! whose schemas make them mandatory) so the requester can match it to its attempt. Neither
//! is signed or MACed: a requester that needs an authenticated answer ignores it and keeps
//! waiting (its timeout and retry still apply), one that accepts status-only answers ends or
//! retries the attempt at once.

use crate::engine::{ActorId, Ctx};
use crate::pdu::dea::{
    GenHeader, GetUserDomainAuthorizationResponse, ProxyJoinUserDomainResponse,
    ProxyLeaveUserDomainResponse,
};
use crate::pdu::metering::MeteringReportResponse;
use crate::pdu::moves::MoveResponse;
use crate::pdu::pairing::{
    AuthenticationResponse, ImportedRoResponse, PairingJoinDomainResponse, PairingTicketResponse,
};
use crate::pdu::roap::{
    JoinDomainResponse, LeaveDomainResponse, RegistrationResponse, RiHello, RoResponse,
};
use crate::pdu::{Pdu, Status};
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::world::World;

/// A status-only answer to a request of `kind` (as the transport names it), for requests that
/// cannot be attributed (undecodable). `None` when `kind` is not a request ROAP answers with
/// a status-only response, or the response type needs fields only the request can give.
pub fn for_kind(kind: &str, status: Status) -> Option<Pdu> {
    Some(match kind {
        "roap:deviceHello" => Pdu::RiHello(RiHello {
            status,
            session_id: None,
            body: None,
        }),
        "roap:registrationRequest" => Pdu::RegistrationResponse(RegistrationResponse {
            status,
            session_id: String::new(),
            body: None,
        }),
        "roap:roRequest" => Pdu::RoResponse(RoResponse { status, body: None }),
        "roap:joinDomainRequest" => {
            Pdu::JoinDomainResponse(JoinDomainResponse { status, body: None })
        }
        "roap:leaveDomainRequest" => {
            Pdu::LeaveDomainResponse(LeaveDomainResponse { status, body: None })
        }
        "roap:meteringReportSubmit" => {
            Pdu::MeteringReportResponse(MeteringReportResponse { status, body: None })
        }
        other => return for_sce_kind(other, status),
    })
}

/// The SCE requests (seeds 000, 001, 003): their responses have mandatory IDs and a nonce;
/// for a request that cannot be decoded there is nothing to echo, so they are left empty —
/// the status-only form of these responses (the requester cannot match it to an attempt
/// and keeps waiting for its timeout, but the server has answered as the seeds require).
fn for_sce_kind(kind: &str, status: Status) -> Option<Pdu> {
    let header = GenHeader {
        trigger_none: false,
        session_id: None,
        req_id: Default::default(),
        res_id: Default::default(),
        nonce: Vec::new(),
        certificate_chain: None,
    };
    let mv = || MoveResponse {
        status,
        req_id: Default::default(),
        res_id: Default::default(),
        nonce: Vec::new(),
        ri_authorizations: Vec::new(),
        certificate_chain: None,
        ocsp_responses: Vec::new(),
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    Some(match kind {
        "sceroap:moveDeviceRORequest" => Pdu::MoveDeviceRoResponse(mv()),
        "sceroap:moveUserDomainConstrainedRORequest" => {
            Pdu::MoveUserDomainConstrainedRoResponse(mv())
        }
        "dom:rdpGetUserDomainAuthorization" => {
            Pdu::GetUserDomainAuthorizationResponse(GetUserDomainAuthorizationResponse {
                status,
                header,
                authorizations: None,
                user_domain_keys: Vec::new(),
                signature: Vec::new(),
            })
        }
        "dom:rdpProxyJoinUserDomainRequest" => {
            Pdu::ProxyJoinUserDomainResponse(ProxyJoinUserDomainResponse {
                status,
                header,
                res_info: None,
                signature: Vec::new(),
            })
        }
        "dom:rdpProxyLeaveUserDomainRequest" => {
            Pdu::ProxyLeaveUserDomainResponse(ProxyLeaveUserDomainResponse {
                status,
                header,
                res_info: None,
                signature: Vec::new(),
            })
        }
        "dmp:joinDomainRequest" => Pdu::PairingJoinDomainResponse(PairingJoinDomainResponse {
            status,
            device_id: Default::default(),
            dea_id: Default::default(),
            nonce: Vec::new(),
            grant: None,
            certificate_chain: None,
            signature: Vec::new(),
        }),
        "dmp:pairingTicketRequest" => Pdu::PairingTicketResponse(PairingTicketResponse {
            status,
            requester_id: Default::default(),
            target_id: Default::default(),
            nonce: Vec::new(),
            grant: None,
            mac: Vec::new(),
        }),
        "dmp:authenticationRequest" => Pdu::AuthenticationResponse(AuthenticationResponse {
            status,
            requester_id: Default::default(),
            target_id: Default::default(),
            nonce: Vec::new(),
            mac: Vec::new(),
        }),
        "dmp:importedRORequest" => Pdu::ImportedRoResponse(ImportedRoResponse {
            status,
            device_id: Default::default(),
            lrm_id: Default::default(),
            nonce: Vec::new(),
            protected_ros: Vec::new(),
            mac: Vec::new(),
        }),
        _ => return None,
    })
}

/// The status a server answers a request of `kind` with when it cannot decode it (`err`):
/// the decoder's status (`UnknownCriticalExtension`, `UnsupportedVersion`, `UnknownRequest`,
/// `MalformedRequest`, ROAP §5.3), except that a Metering Report Submit that is not correctly
/// formed is answered `MalformedMeteringReport` (seed 004 §11.2).
pub fn undecodable_status(kind: &str, err: &crate::pdu::PduError) -> Status {
    match (kind, err.status()) {
        ("roap:meteringReportSubmit", Status::MalformedRequest) => Status::MalformedMeteringReport,
        (_, s) => s,
    }
}

/// The status-only `UnknownRequest` answer (ROAP §5.3) to a decoded request of `kind` this
/// server does not handle (an RO Request sent to the DEA…); `None` when `kind` is not a
/// request (responses and triggers are not answered).
pub fn unknown_request(world: &World, kind: &str) -> Option<SimMsg> {
    let answer = for_kind(kind, Status::UnknownRequest)?;
    Some(SimMsg::Pdu(Wire::new(world.mode(), answer)))
}

/// Answers a request that could not be decoded (`wire` from `to`, decoder error `err`) with a
/// status-only response of the type its kind calls for — every request a server must answer
/// (seed 004 §11.2 "MUST respond", seed 000 §7.2.2/§7.4.2/§7.5.2, ROAP §5.3) is answered,
/// nothing is left to a timeout. Returns the status sent, `None` when `wire` is not a request
/// (a response or trigger that fails to decode is dropped: nobody waits for an answer to it).
pub(crate) fn answer_undecodable(
    world: &World,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    wire: &Wire,
    err: &crate::pdu::PduError,
) -> Option<Status> {
    let status = undecodable_status(wire.kind(), err);
    let answer = for_kind(wire.kind(), status)?;
    let answer = Wire::new(world.mode(), answer);
    ctx.charge_ns(world.costs.serialize_ns(answer.size_bytes()));
    ctx.send(to, SimMsg::Pdu(answer));
    Some(status)
}

fn echo(h: &GenHeader) -> GenHeader {
    GenHeader {
        trigger_none: false,
        session_id: h.session_id.clone(),
        req_id: h.req_id.clone(),
        res_id: h.res_id.clone(),
        nonce: h.nonce.clone(),
        certificate_chain: None,
    }
}

fn move_answer(req: &crate::pdu::moves::MoveRequest, status: Status) -> MoveResponse {
    MoveResponse {
        status,
        req_id: req.req_id.clone(),
        res_id: req.res_id.clone(),
        nonce: req.nonce.clone(),
        ri_authorizations: Vec::new(),
        certificate_chain: None,
        ocsp_responses: Vec::new(),
        extensions: Vec::new(),
        signature: Vec::new(),
    }
}

/// An unauthenticated `status` answer to the decoded request `req`, echoing its IDs and nonce
/// where the response has them; `None` when `req` is not a request.
pub fn for_request(req: &Pdu, status: Status) -> Option<Pdu> {
    Some(match req {
        Pdu::RegistrationRequest(r) => Pdu::RegistrationResponse(RegistrationResponse {
            status,
            session_id: r.session_id.clone(),
            body: None,
        }),
        Pdu::MoveDeviceRoRequest(r) => Pdu::MoveDeviceRoResponse(move_answer(r, status)),
        Pdu::MoveUserDomainConstrainedRoRequest(r) => {
            Pdu::MoveUserDomainConstrainedRoResponse(move_answer(r, status))
        }
        Pdu::GetUserDomainAuthorizationRequest(r) => {
            Pdu::GetUserDomainAuthorizationResponse(GetUserDomainAuthorizationResponse {
                status,
                header: echo(&r.header),
                authorizations: None,
                user_domain_keys: Vec::new(),
                signature: Vec::new(),
            })
        }
        Pdu::ProxyJoinUserDomainRequest(r) => {
            Pdu::ProxyJoinUserDomainResponse(ProxyJoinUserDomainResponse {
                status,
                header: echo(&r.header),
                res_info: None,
                signature: Vec::new(),
            })
        }
        Pdu::ProxyLeaveUserDomainRequest(r) => {
            Pdu::ProxyLeaveUserDomainResponse(ProxyLeaveUserDomainResponse {
                status,
                header: echo(&r.header),
                res_info: None,
                signature: Vec::new(),
            })
        }
        Pdu::PairingJoinDomainRequest(r) => {
            Pdu::PairingJoinDomainResponse(PairingJoinDomainResponse {
                status,
                device_id: r.device_id.clone(),
                dea_id: r.dea_id.clone(),
                nonce: r.nonce.clone(),
                grant: None,
                certificate_chain: None,
                signature: Vec::new(),
            })
        }
        Pdu::PairingTicketRequest(r) => Pdu::PairingTicketResponse(PairingTicketResponse {
            status,
            requester_id: r.requester_id.clone(),
            target_id: r.target_id.clone(),
            nonce: r.nonce.clone(),
            grant: None,
            mac: Vec::new(),
        }),
        Pdu::AuthenticationRequest(r) => Pdu::AuthenticationResponse(AuthenticationResponse {
            status,
            requester_id: r.requester_id.clone(),
            target_id: r.target_id.clone(),
            nonce: r.nonce.clone(),
            mac: Vec::new(),
        }),
        Pdu::ImportedRoRequest(r) => Pdu::ImportedRoResponse(ImportedRoResponse {
            status,
            device_id: r.device_id.clone(),
            lrm_id: r.lrm_id.clone(),
            nonce: r.nonce.clone(),
            protected_ros: Vec::new(),
            mac: Vec::new(),
        }),
        other => return for_kind(other.kind(), status),
    })
}

/// Reject overflow policy for servers that decode before answering (DEA, LRM): the queue
/// was full, so answer `msg` from `to` at once, at no CPU cost, with an unauthenticated
/// `Abort` of the matching response type. Returns whether an answer was sent.
pub(crate) fn refuse_busy(
    world: &World,
    ctx: &mut Ctx<'_, SimMsg>,
    to: ActorId,
    msg: &SimMsg,
) -> bool {
    let SimMsg::Pdu(w) = msg else {
        return false;
    };
    let answer = match w.open() {
        Ok(req) => for_request(&req, Status::Abort),
        Err(_) => for_kind(w.kind(), Status::Abort),
    };
    let Some(answer) = answer else {
        return false;
    };
    ctx.send(to, SimMsg::Pdu(Wire::new(world.mode(), answer)));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_roap_request_kind_has_a_status_only_answer_and_others_none() {
        for (req, resp) in [
            ("roap:deviceHello", "roap:riHello"),
            ("roap:registrationRequest", "roap:registrationResponse"),
            ("roap:roRequest", "roap:roResponse"),
            ("roap:joinDomainRequest", "roap:joinDomainResponse"),
            ("roap:leaveDomainRequest", "roap:leaveDomainResponse"),
            ("roap:meteringReportSubmit", "roap:meteringReportResponse"),
        ] {
            let a = for_kind(req, Status::MalformedRequest).expect(req);
            assert_eq!(a.kind(), resp);
            if req != "roap:deviceHello" {
                assert_eq!(crate::proto::repeats::response_kind(req), Some(resp));
            }
        }
        assert!(for_kind("roap:roResponse", Status::Abort).is_none());
        assert!(for_kind("roap:roapTrigger", Status::Abort).is_none());
    }
}
