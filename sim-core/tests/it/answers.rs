//! Every request that must be answered is answered (issue 11 part 4): a server that cannot
//! decode a request answers it at once with a status-only response of the type the request
//! kind calls for — `MalformedRequest`, `MalformedMeteringReport` (seed 004 §11.2),
//! `UnknownCriticalExtension`, `UnsupportedVersion` (ROAP §5.3) — and a decoded request it
//! does not handle with `UnknownRequest`. Crafted octets, both crypto modes, never a panic.

use crate::support::build_ideal;
use rand::SeedableRng;
use sim_core::crypto::CryptoMode;
use sim_core::engine::{ActorId, RunLimits, SimTime, Tap, TapCtx, Verdict};
use sim_core::pdu::common::{Ext, Extension};
use sim_core::pdu::roap::DeviceHello;
use sim_core::pdu::sample::random_pdu;
use sim_core::pdu::{Pdu, ALL_KINDS};
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::trace::{TraceConfig, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::rc::Rc;

/// (from, to, kind, status) of every PDU a server sends to the probing agent.
type Seen = Rc<RefCell<Vec<(ActorId, String, String)>>>;

struct Record {
    to: ActorId,
    seen: Seen,
}

impl Tap<SimMsg> for Record {
    fn on_send(
        &mut self,
        from: ActorId,
        to: ActorId,
        msg: SimMsg,
        _ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        if to == self.to {
            if let SimMsg::Pdu(w) = &msg {
                let status = w
                    .open()
                    .ok()
                    .and_then(|p| status_of(&p))
                    .unwrap_or_else(|| "?".into());
                self.seen
                    .borrow_mut()
                    .push((from, w.kind().to_string(), status));
            }
        }
        Verdict::Pass(msg)
    }
}

/// The `status` attribute of a response, from its XML form.
fn status_of(p: &Pdu) -> Option<String> {
    let xml = String::from_utf8(p.try_encode().ok()?).ok()?;
    let at = xml.find("status=\"")? + 8;
    Some(xml[at..].split('"').next()?.to_string())
}

fn world(mode: CryptoMode) -> (Built, Seen) {
    let mut cfg = WorldConfig {
        agents: 1,
        ris: 1,
        lrms: 1,
        dea: true,
        crypto: mode,
        ..WorldConfig::default()
    };
    // The probing agent sends nothing of its own: every answer it gets is to a probe.
    cfg.workload.register_at_arrival = false;
    cfg.workload.acquire_rate_per_min = 0.0;
    let mut b = build_ideal(
        &cfg,
        TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default())),
    );
    let seen: Seen = Rc::default();
    b.sim.set_tap(Box::new(Record {
        to: b.agents[0],
        seen: seen.clone(),
    }));
    (b, seen)
}

/// Sends `bytes` claimed to be a `kind` to `server` as the agent; the answers it got.
fn probe(
    b: &mut Built,
    seen: &Seen,
    server: ActorId,
    kind: &str,
    bytes: Vec<u8>,
) -> Vec<(String, String)> {
    let kind: &'static str = ALL_KINDS.iter().find(|k| **k == kind).expect("a kind");
    seen.borrow_mut().clear();
    let agent = b.agents[0];
    b.sim
        .inject(agent, server, SimMsg::Pdu(Wire::from_xml(kind, bytes)));
    let until = b.sim.now().as_ns() + 2_000_000_000;
    b.sim.run(
        &RunLimits {
            horizon: Some(SimTime::from_ns(until)),
            ..Default::default()
        },
        &mut |_, _| {},
    );
    seen.borrow()
        .iter()
        .filter(|(f, _, _)| *f == server)
        .map(|(_, k, s)| (k.clone(), s.clone()))
        .collect()
}

fn hello(version: &str, ext: Option<Extension>) -> Vec<u8> {
    Pdu::DeviceHello(DeviceHello {
        version: version.into(),
        device_ids: vec![Default::default()],
        supported_algorithms: Vec::new(),
        extensions: ext
            .map(|ext| {
                vec![Ext {
                    critical: true,
                    ext,
                }]
            })
            .unwrap_or_default(),
    })
    .encode()
}

fn one(kind: &str, status: &str) -> Vec<(String, String)> {
    vec![(kind.to_string(), status.to_string())]
}

fn every_undecodable_request_is_answered(mode: CryptoMode) {
    let (mut b, seen) = world(mode);
    let (ri, dea, lrm) = (b.ris[0], b.dea.expect("dea"), b.lrms[0]);
    let junk = b"<not-xml".to_vec();
    // RI: each ROAP request kind, not well-formed.
    for (req, resp) in [
        ("roap:deviceHello", "roap:riHello"),
        ("roap:registrationRequest", "roap:registrationResponse"),
        ("roap:roRequest", "roap:roResponse"),
        ("roap:joinDomainRequest", "roap:joinDomainResponse"),
        ("roap:leaveDomainRequest", "roap:leaveDomainResponse"),
        (
            "sceroap:moveDeviceRORequest",
            "sceroap:moveDeviceROResponse",
        ),
    ] {
        assert_eq!(
            probe(&mut b, &seen, ri, req, junk.clone()),
            one(resp, "MalformedRequest"),
            "{req}"
        );
    }
    // Seed 004 §11.2: a Metering Report Submit that is not correctly formed.
    assert_eq!(
        probe(&mut b, &seen, ri, "roap:meteringReportSubmit", junk.clone()),
        one("roap:meteringReportResponse", "MalformedMeteringReport")
    );
    // Well-formed, but a version this RI does not speak, or an unknown critical extension.
    assert_eq!(
        probe(&mut b, &seen, ri, "roap:deviceHello", hello("2.0", None)),
        one("roap:riHello", "UnsupportedVersion")
    );
    let ext = String::from_utf8(hello("1.0", Some(Extension::HashChainSupport)))
        .unwrap()
        .replace("roap:HashChainSupport", "roap:FutureThing");
    assert_eq!(
        probe(&mut b, &seen, ri, "roap:deviceHello", ext.into_bytes()),
        one("roap:riHello", "UnknownCriticalExtension")
    );
    // The DEA (seed 000 §7.2.2/§7.4.2/§7.5.2, seed 001) and the LRM (seed 001 §7.2.1).
    for (req, resp) in [
        (
            "dom:rdpGetUserDomainAuthorization",
            "dom:rdpGetUserDomainAuthorizationResponse",
        ),
        (
            "dom:rdpProxyJoinUserDomainRequest",
            "dom:rdpProxyJoinUserDomainResponse",
        ),
        (
            "dom:rdpProxyLeaveUserDomainRequest",
            "dom:rdpProxyLeaveUserDomainResponse",
        ),
        ("dmp:joinDomainRequest", "dmp:joinDomainResponse"),
        ("dmp:pairingTicketRequest", "dmp:pairingTicketResponse"),
    ] {
        assert_eq!(
            probe(&mut b, &seen, dea, req, junk.clone()),
            one(resp, "MalformedRequest"),
            "{req}"
        );
    }
    for (req, resp) in [
        ("dmp:authenticationRequest", "dmp:authenticationResponse"),
        ("dmp:importedRORequest", "dmp:importedROResponse"),
    ] {
        assert_eq!(
            probe(&mut b, &seen, lrm, req, junk.clone()),
            one(resp, "MalformedRequest"),
            "{req}"
        );
    }
    // A request the server does not handle, well-formed: UnknownRequest.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let ro_req = ALL_KINDS
        .iter()
        .position(|k| *k == "roap:roRequest")
        .unwrap();
    let pdu = random_pdu(ro_req, &mut rng);
    assert_eq!(
        probe(&mut b, &seen, dea, "roap:roRequest", pdu.encode()),
        one("roap:roResponse", "UnknownRequest")
    );
    // An undecodable *response* is not answered: nobody waits for an answer to it.
    assert_eq!(
        probe(&mut b, &seen, ri, "roap:roResponse", junk.clone()),
        vec![]
    );
    // The answers are status-only: no nonce, no signature the Device could check, so they
    // were counted under "malformed" at the RI.
    let ri_actor = b.sim.actor::<sim_core::proto::ri::Ri>(ri).unwrap();
    let malformed: u64 = ri_actor
        .stats
        .statuses
        .iter()
        .filter(|((p, _), _)| p == "malformed")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(malformed, 10);
}

#[test]
fn every_undecodable_request_is_answered_symbolic() {
    every_undecodable_request_is_answered(CryptoMode::Symbolic);
}

#[test]
fn every_undecodable_request_is_answered_real() {
    every_undecodable_request_is_answered(CryptoMode::Real);
}
