//! Replays on the RI ↔ DEA path (seed 000) and of pairing messages to another SCE agent
//! (seed 001 §7.2.1.3): what the DEA does with a repeated Get User Domain Authorization,
//! Proxy Join or Proxy Leave request, DEA answers replayed to another RI, Pairing Ticket
//! Responses replayed to another agent, and `no_request_accepted_twice` on DEA requests.

use super::adversary::{run, setup_cfg, Records};
use sim_core::adversary::replayer::ReplayTo;
use sim_core::adversary::{AdversaryKind, AdversarySpec, Installed, Position};
use sim_core::crypto::CryptoMode;
use sim_core::invariant::names;
use sim_core::net::GroupId;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::dea::Dea;
use sim_core::proto::dea_proxy::{PROXY_JOIN, PROXY_LEAVE};
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::TraceEvent;

const S: u64 = 1_000_000_000;

fn replayer(messages: &[&str], budget: u64, delay_s: u64) -> AdversarySpec {
    let mut s = AdversarySpec::new(
        AdversaryKind::Replayer,
        "r",
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    s.messages = messages.iter().map(|m| m.to_string()).collect();
    s.budget = budget;
    s.replay_delay_ns = delay_s * S;
    s
}

fn stats(ins: &Installed) -> (u64, u64, u64) {
    let st = ins.shared.borrow().stats["r"];
    (st.attempts, st.succeeded, st.blocked)
}

fn violations(ins: &Installed, name: &str) -> u64 {
    ins.shared.borrow().monitors.counts[name]
}

fn dea(b: &Built) -> &Dea {
    b.sim.actor::<Dea>(b.dea.unwrap()).unwrap()
}

fn dea_status(b: &Built, protocol: &str, status: &str) -> u64 {
    dea(b)
        .stats
        .statuses
        .get(&(protocol.to_string(), status.to_string()))
        .copied()
        .unwrap_or(0)
}

/// `cfg` with the seed 000 text taken literally: the DEA keeps no RI request nonces.
fn untracked(mut cfg: WorldConfig) -> WorldConfig {
    cfg.variants.dea_nonce_tracking = false;
    cfg
}

/// `agents` Devices (homes alternate over `ris` RIs) that register and join the one DEA
/// User Domain (max 10), leaving it after a while with probability `leave`.
fn joining(agents: u32, ris: u32, leave: f64) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents,
        ris,
        dea: true,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            join_domain_probability: 1.0,
            leave_domain_probability: leave,
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    // Only the DEA's User Domain: every join is a Proxy Join.
    cfg.domains.domains_per_ri = 0;
    cfg.user_domains.user_domains = 1;
    cfg.user_domains.max_devices = 10;
    cfg
}

#[test]
fn proxy_joins_replayed_to_the_dea_while_the_device_is_a_member_change_nothing() {
    // 4 Devices join once and stay. Each Proxy Join is replayed to the DEA 5 s later: a
    // DEA without a replay check answers Success again (fresh K_MAC, same UDK), but the
    // Device is already associated through that RI — counted once (seed 000 §7.4.1): no
    // state change, blocked; no_request_accepted_twice holds under that reading.
    let cfg = untracked(joining(4, 1, 0.0));
    let r = replayer(&["dom:rdpProxyJoinUserDomainRequest"], 4, 5);
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 60);
    assert_eq!(stats(&ins), (4, 0, 4));
    // 4 originals + 4 replays, all Success.
    assert_eq!(dea_status(&b, PROXY_JOIN, "Success"), 8);
    assert_eq!(dea(&b).user_domains.domains["userdomain0"].members.len(), 4);
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 0);
    // The RI finds no pending request for the replays' answers (nonce already answered).
    let ri = b.sim.actor::<Ri>(b.ris[0]).unwrap();
    assert_eq!(ri.dea_proxy.stats.unmatched_responses, 4);
}

#[test]
fn authorization_requests_replayed_to_the_dea_change_nothing() {
    // Each of 2 RIs asks the DEA for its User Domain Authorization once at start; the replay
    // 2 s later is granted again with the same mapping (§7.2.2): no change, blocked.
    let cfg = untracked(joining(2, 2, 0.0));
    let r = replayer(&["dom:rdpGetUserDomainAuthorization"], 10, 2);
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 30);
    assert_eq!(stats(&ins), (2, 0, 2));
    assert_eq!(
        dea_status(&b, sim_core::proto::dea_proxy::GET_AUTHZ, "Success"),
        4
    );
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 0);
}

/// Devices that join and leave (mean membership 60 s), Proxy Joins replayed `delay_s` later.
fn rejoin_run(delay_s: u64, tracking: bool) -> (Built, Installed) {
    let mut cfg = joining(4, 1, 1.0);
    cfg.variants.dea_nonce_tracking = tracking;
    let r = replayer(&["dom:rdpProxyJoinUserDomainRequest"], 4, delay_s);
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 400);
    (b, ins)
}

#[test]
fn a_proxy_join_replayed_after_the_device_left_re_admits_it() {
    // Finding, with the seed's text taken literally (`dea_nonce_tracking = false`): the DEA
    // keeps no record of the RI nonces it has answered (seed 000 gives its requests a
    // nonce, "Default, as specified in [SCE-GEN]", but no replay check), so a
    // Proxy Join replayed after the Device's Proxy Leave re-creates the association the
    // leave deleted (§7.5.1): the Device counts against the User Domain again without
    // holding its keys. Replayed 300 s later every Device (leaving after ~60 s) has left.
    let (b, ins) = rejoin_run(300, false);
    let (attempts, succeeded, blocked) = stats(&ins);
    assert_eq!(attempts, 4);
    // Each Device left once (Proxy Leave Success) before its join was replayed.
    assert_eq!(dea_status(&b, PROXY_LEAVE, "Success"), 4);
    assert_eq!((succeeded, blocked), (4, 0));
    // The replayed joins are the only associations left: all 4 Devices "members", none of
    // them holding a Domain Context.
    assert_eq!(dea(&b).user_domains.domains["userdomain0"].members.len(), 4);
    for &a in &b.agents {
        let ag = b.sim.actor::<sim_core::proto::agent::Agent>(a).unwrap();
        assert!(ag.domain.contexts.is_empty());
    }
    // no_request_accepted_twice: each replayed join changed the DEA's state a second time.
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 4);
}

#[test]
fn dea_replays_give_the_same_outcomes_in_both_crypto_modes() {
    // 3 Devices join and leave; their Proxy Joins replayed 300 s later re-admit each, in
    // real crypto (RSA-KEM, HMAC, real XML) exactly as in symbolic mode.
    let mut out = Vec::new();
    for mode in [CryptoMode::Symbolic, CryptoMode::Real] {
        let mut cfg = untracked(joining(3, 1, 1.0));
        cfg.crypto = mode;
        let r = replayer(&["dom:rdpProxyJoinUserDomainRequest"], 3, 300);
        let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
        run(&mut b, &ins, 400);
        out.push((
            stats(&ins),
            violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE),
            dea(&b).user_domains.domains["userdomain0"].members.len(),
        ));
    }
    assert_eq!(out[0], ((3, 3, 0), 3, 3));
    assert_eq!(out[0], out[1]);
}

#[test]
fn proxy_leaves_replayed_to_the_dea_while_the_device_is_gone_change_nothing() {
    // Devices leave once and never re-join: a replayed Proxy Leave finds no association to
    // delete and is answered Success without effect (blocked).
    let cfg = untracked(joining(4, 1, 1.0));
    let r = replayer(&["dom:rdpProxyLeaveUserDomainRequest"], 4, 5);
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 400);
    assert_eq!(stats(&ins), (4, 0, 4));
    assert_eq!(dea_status(&b, PROXY_LEAVE, "Success"), 8);
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 0);
}

#[test]
fn dea_answers_replayed_to_another_ri_are_not_acted_on() {
    // Proxy Join Responses and Get User Domain Authorization Responses for ri/0 replayed to
    // ri/1 (and vice versa): the other RI has no pending request with that nonce and the
    // MAC is under the other RI's Master Key — it neither keeps the authorizations nor
    // forwards the <domainInfo> to a Device (seed 000 §7.4.1.2).
    let cfg = joining(4, 2, 0.0);
    let mut r = replayer(
        &[
            "dom:rdpProxyJoinUserDomainResponse",
            "dom:rdpGetUserDomainAuthorizationResponse",
        ],
        20,
        2,
    );
    r.replay_to = ReplayTo::Other;
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 60);
    // 2 authorization responses + 4 join responses, each to the other RI.
    assert_eq!(stats(&ins), (6, 0, 6));
    let unmatched: u64 = b
        .ris
        .iter()
        .map(|&r| {
            b.sim
                .actor::<Ri>(r)
                .unwrap()
                .dea_proxy
                .stats
                .unmatched_responses
        })
        .sum();
    // Every replayed answer is unmatched: 4 join answers (no pending proxied request with
    // that nonce) and 2 authorization answers (not the nonce the RI is waiting for).
    assert_eq!(unmatched, 6);
    for &r in &b.ris {
        let ri = b.sim.actor::<Ri>(r).unwrap();
        assert!(ri
            .dea_proxy
            .authorizations
            .values()
            .all(|a| a.entity_id == ri.identity().id));
    }
}

// ------------------------------------------------------------------ pairing (seed 001)

/// 4 SCE agents that Import from the LRM and pair with each other (random Moves/Copies).
fn pairing_cfg() -> WorldConfig {
    let mut cfg = WorldConfig {
        agents: 4,
        sce_agents: 4,
        ris: 1,
        lrms: 1,
        dea: true,
        ..WorldConfig::default()
    };
    cfg.workload.acquire_rate_per_min = 0.0;
    cfg.workload.consume_rate_per_min = 0.0;
    cfg.workload.import_rate_per_min = 2.0;
    cfg.workload.pair_rate_per_min = 6.0;
    cfg.lrm_policy.import_rate_per_min = 2.0;
    cfg
}

fn pairing_run(messages: &[&str], budget: u64) -> (Built, Installed, Records) {
    let cfg = pairing_cfg();
    let mut r = replayer(messages, budget, 1);
    r.replay_to = ReplayTo::Actors(vec!["agent/*".into()]);
    let (mut b, ins, recs) = setup_cfg(&cfg, &[r]);
    for a in b.agents.clone() {
        b.sim
            .actor_mut::<sim_core::proto::agent::Agent>(a)
            .unwrap()
            .pairing
            .pair_random = true;
    }
    run(&mut b, &ins, 240);
    (b, ins, recs)
}

/// Attack details whose original recipient ("to actor N") is one of the agents.
fn to_agents(b: &Built, recs: &Records) -> usize {
    recs.borrow()
        .iter()
        .filter(|e| match e {
            TraceEvent::Attack { detail, .. } => b
                .agents
                .iter()
                .any(|a| detail.contains(&format!(" to actor {} replayed", a.0))),
            _ => false,
        })
        .count()
}

fn auth_rejected(b: &Built) -> u64 {
    b.agents
        .iter()
        .map(|&a| {
            b.sim
                .actor::<sim_core::proto::agent::Agent>(a)
                .unwrap()
                .pairing
                .stats
                .auth_rejected
                .values()
                .sum::<u64>()
        })
        .sum()
}

#[test]
fn pairing_ticket_responses_replayed_to_another_agent_are_not_acted_on() {
    // A Pairing Ticket Response (DEA → agent A) replayed to the other agents: each has no
    // ticket request with that nonce, and the response's HMAC is under A's Master Key
    // (seed 001 §7.2.1.3): none keeps or presents the ticket (decided from the agents'
    // state and their Authentication Requests).
    let (b, ins, _) = pairing_run(&["dmp:pairingTicketResponse"], 9);
    assert_eq!(stats(&ins), (9, 0, 9));
    // Nobody was sent a forged or replayed Authentication Request: no rejection at all.
    assert_eq!(auth_rejected(&b), 0);
}

#[test]
fn dmp_pair_and_import_authentication_requests_replayed_to_a_third_agent_are_refused() {
    // Authentication Requests of agent A (to the LRM for Imports, to agent B for dmpPair)
    // replayed 1 s later to every other agent C: the ticket is HMAC'd under the target's
    // Master Key and names the target (seed 001 §7.2.1.2/§7.2.1.3): every C refuses.
    let (b, ins, recs) = pairing_run(&["dmp:authenticationRequest"], 40);
    assert_eq!(stats(&ins), (40, 0, 40));
    assert_eq!(auth_rejected(&b), 40);
    // Both kinds were replayed: dmpPair requests (original target an agent) and Imports.
    let pair = to_agents(&b, &recs);
    assert!(pair > 0 && pair < 40, "{pair} of 40 were dmpPair requests");
}

// ------------------------------------------------------------------ the monitor

mod crafted {
    use sim_core::crypto::CryptoMode;
    use sim_core::engine::{ActorId, SimTime};
    use sim_core::invariant::request_once::RequestOnce;
    use sim_core::invariant::{Finding, Monitor, Observed};
    use sim_core::pdu::dea::{
        GenHeader, ProxyJoinResInfo, ProxyJoinUserDomainResponse, ProxyLeaveUserDomainResponse,
    };
    use sim_core::pdu::{DomainInfo, DomainKey, Encrypted, Expiry, Identifier, Pdu, Status};
    use sim_core::proto::msg::{SimMsg, Wire};

    fn id(b: u8) -> Identifier {
        Identifier { hash: vec![b; 20] }
    }

    fn header(nonce: u8) -> GenHeader {
        GenHeader {
            trigger_none: false,
            session_id: None,
            req_id: id(2),
            res_id: id(1),
            nonce: vec![nonce; 14],
            certificate_chain: None,
        }
    }

    fn join(nonce: u8, status: Status) -> Pdu {
        Pdu::ProxyJoinUserDomainResponse(ProxyJoinUserDomainResponse {
            status,
            header: header(nonce),
            res_info: (status == Status::Success).then(|| ProxyJoinResInfo {
                domain_info: Some(DomainInfo {
                    not_after: Expiry::Infinite,
                    domain_keys: vec![DomainKey {
                        qualified: true,
                        enc_key: Encrypted {
                            id: Some("ud0-000".into()),
                            algorithm: "kem".into(),
                            key_info: None,
                            cipher: vec![nonce; 32],
                        },
                        ri_id: id(2),
                        mac: vec![0; 20],
                    }],
                }),
                device_id: Some(id(7)),
                hash_chain_support: false,
            }),
            signature: vec![0; 20],
        })
    }

    fn leave(nonce: u8) -> Pdu {
        Pdu::ProxyLeaveUserDomainResponse(ProxyLeaveUserDomainResponse {
            status: Status::Success,
            header: header(nonce),
            res_info: Some(("ud0-000".into(), id(7))),
            signature: vec![0; 20],
        })
    }

    /// The DEA (actor 1) sends `pdu` to the RI (actor 2); findings so far.
    fn answer(m: &mut RequestOnce, pdu: &Pdu, token: u64, found: &mut Vec<Finding>) -> usize {
        let msg = SimMsg::Pdu(Wire::new(CryptoMode::Symbolic, pdu.clone()));
        let obs = Observed {
            now: SimTime::from_secs(token),
            from: ActorId(1),
            to: ActorId(2),
            msg: &msg,
            pdu: Some(pdu),
            injected_by: None,
            tampered_by: None,
        };
        m.on_message(&obs, token, found);
        found.len()
    }

    #[test]
    fn request_once_fires_when_a_proxy_join_re_admits_a_device_that_left() {
        let mut m = RequestOnce::default();
        let mut found = Vec::new();
        // Join (nonce 5) admits the Device; the same request answered Success again while
        // it is a member changes nothing (counted once, seed 000 §7.4.1): no finding.
        assert_eq!(answer(&mut m, &join(5, Status::Success), 1, &mut found), 0);
        assert_eq!(answer(&mut m, &join(5, Status::Success), 2, &mut found), 0);
        // A refusal is no acceptance.
        assert_eq!(
            answer(&mut m, &join(5, Status::DomainFull), 3, &mut found),
            0
        );
        // The Device leaves (nonce 6); a second leave answer deletes nothing: no finding.
        assert_eq!(answer(&mut m, &leave(6), 4, &mut found), 0);
        assert_eq!(answer(&mut m, &leave(6), 5, &mut found), 0);
        // Join nonce 5 answered Success again: it re-admits the Device — accepted twice.
        assert_eq!(answer(&mut m, &join(5, Status::Success), 6, &mut found), 1);
        assert!(found[0].detail.contains("Proxy Join User Domain Request"));
        assert!(found[0].detail.contains("changing the DEA's state again"));
        // Chain: the first Success (token 1) and the re-admitting one (token 6).
        assert_eq!(found[0].tokens, vec![1, 6]);
        // Leave nonce 6 answered again now deletes the association made since: fires too.
        assert_eq!(answer(&mut m, &leave(6), 7, &mut found), 2);
    }
}

#[test]
fn pairing_requests_replayed_to_the_dea_are_refused_by_its_nonce_cache() {
    // Join Domain for Pairing and Pairing Ticket Requests (SCE agent → DEA) replayed to the
    // DEA 1 s later: seed 001 §7.2.1.1/§7.2.1.2 ("To check against replays, this message
    // SHALL also contain a NONCE") — the DEA's per-Device nonce cache answers AccessDenied,
    // no second Master Key or ticket is issued.
    let cfg = pairing_cfg();
    let mut r = replayer(
        &["dmp:joinDomainRequest", "dmp:pairingTicketRequest"],
        10,
        1,
    );
    r.replay_to = ReplayTo::Same;
    // Re-encoded copies (same nonce, other octets): a byte-identical copy is a repeat the
    // DEA answers from its response store (proto::repeats).
    r.reserialise = true;
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    for a in b.agents.clone() {
        b.sim
            .actor_mut::<sim_core::proto::agent::Agent>(a)
            .unwrap()
            .pairing
            .pair_random = true;
    }
    run(&mut b, &ins, 240);
    assert_eq!(stats(&ins), (10, 0, 10));
    // The 4 pairing joins at start are replayed first, then 6 ticket requests.
    assert_eq!(dea_status(&b, "pairing_join", "AccessDenied"), 4);
    assert_eq!(dea_status(&b, "pairing_join", "Success"), 4);
    assert_eq!(dea_status(&b, "pairing_ticket", "AccessDenied"), 6);
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 0);
}

#[test]
fn a_proxy_leave_replayed_after_the_device_re_joined_deletes_its_association() {
    // The mirror image of the re-admission: one Device joins the User Domain (a joinDomain
    // trigger from its RI), leaves after a while (workload), and is triggered to join again
    // right after its Proxy Leave. Its Proxy Leave, replayed to the DEA 3 s after it was
    // sent, arrives after the re-join: the DEA deletes the association made since (§7.5.1)
    // — the Device holds a User Domain Context the DEA no longer counts.
    use sim_core::engine::{RunLimits, SimTime};
    use sim_core::pdu::trigger::TriggerKind;
    use sim_core::proto::msg::SimMsg;
    use sim_core::proto::trigger::{trigger_wire, TriggerOrder};
    let mut cfg = untracked(joining(1, 1, 1.0));
    cfg.workload.join_domain_probability = 0.0;
    let ud = cfg.user_domains.roap_domain_id(0);
    let r = replayer(&["dom:rdpProxyLeaveUserDomainRequest"], 1, 3);
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    let step = |b: &mut Built, secs_ns: u64| {
        b.sim.run(
            &RunLimits {
                horizon: Some(SimTime::from_ns(secs_ns)),
                ..Default::default()
            },
            &mut |_, _| {},
        )
    };
    let join = |b: &mut Built, seed: u64| {
        let device = b
            .sim
            .actor::<sim_core::proto::agent::Agent>(b.agents[0])
            .unwrap()
            .identity()
            .id
            .clone();
        let mut o = TriggerOrder::new(TriggerKind::JoinDomain);
        o.domain_id = Some(ud.clone());
        let mut rng = sim_core::engine::rng::stream(seed, "test", "trigger");
        let ri = b.ris[0];
        let now = b.sim.now();
        let t = b
            .sim
            .actor_mut::<Ri>(ri)
            .unwrap()
            .issue_trigger(&mut rng, now, &device, o)
            .unwrap();
        let wire = trigger_wire(b.sim.actor::<Ri>(ri).unwrap(), t);
        b.sim.inject(ri, b.agents[0], SimMsg::Pdu(wire));
    };
    step(&mut b, 5 * S);
    join(&mut b, 1);
    // Until the DEA deleted the association (the Device's leave), in 100 ms steps.
    let mut now = 5 * S;
    while dea(&b).user_domains.stats.associations_deleted == 0 && now < 600 * S {
        now += S / 10;
        step(&mut b, now);
    }
    assert_eq!(dea(&b).user_domains.stats.associations_deleted, 1);
    join(&mut b, 2);
    run(&mut b, &ins, now / S + 10);
    assert_eq!(stats(&ins), (1, 1, 0));
    assert_eq!(dea_status(&b, PROXY_LEAVE, "Success"), 2);
    assert_eq!(dea_status(&b, PROXY_JOIN, "Success"), 2);
    // The DEA no longer counts the Device, which still holds the User Domain Context.
    assert!(dea(&b).user_domains.domains["userdomain0"]
        .members
        .is_empty());
    let ag = b
        .sim
        .actor::<sim_core::proto::agent::Agent>(b.agents[0])
        .unwrap();
    assert_eq!(ag.domain.contexts.len(), 1);
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 1);
}

#[test]
fn with_nonce_tracking_the_dea_refuses_every_replayed_request() {
    // drmsim's reading of seed 000 (`dea_nonce_tracking`, the default): the DEA remembers
    // the nonces of the RI requests it answered and refuses a repeat with AccessDenied.
    // Proxy Joins replayed 5 s later while the Devices are members: 4 refused, 4 Success.
    // The replays are re-encoded (same nonce, other octets): byte-identical copies are
    // repeats answered from the response store (`verbatim_copies_to_the_dea_…` below).
    let cfg = joining(4, 1, 0.0);
    let mut r = replayer(&["dom:rdpProxyJoinUserDomainRequest"], 4, 5);
    r.reserialise = true;
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 60);
    assert_eq!(stats(&ins), (4, 0, 4));
    assert_eq!(dea_status(&b, PROXY_JOIN, "Success"), 4);
    assert_eq!(dea_status(&b, PROXY_JOIN, "AccessDenied"), 4);
    assert_eq!(dea(&b).user_domains.stats.replays_refused, 4);
    assert_eq!(dea(&b).user_domains.domains["userdomain0"].members.len(), 4);
    // Authorization requests replayed 2 s later: each RI's one request is refused again.
    let cfg = joining(2, 2, 0.0);
    let mut r = replayer(&["dom:rdpGetUserDomainAuthorization"], 10, 2);
    r.reserialise = true;
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 30);
    assert_eq!(stats(&ins), (2, 0, 2));
    let authz = sim_core::proto::dea_proxy::GET_AUTHZ;
    assert_eq!(dea_status(&b, authz, "Success"), 2);
    assert_eq!(dea_status(&b, authz, "AccessDenied"), 2);
}

#[test]
fn verbatim_copies_to_the_dea_are_answered_from_its_store_and_change_nothing() {
    // Byte-identical Proxy Joins 5 s later (what a duplicating network delivers): the DEA
    // re-sends the Success it stored (proto::repeats) — no refusal, no second processing,
    // the members counted once; the replayer scores each copy blocked.
    let cfg = joining(4, 1, 0.0);
    let r = replayer(&["dom:rdpProxyJoinUserDomainRequest"], 4, 5);
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 60);
    assert_eq!(stats(&ins), (4, 0, 4));
    assert_eq!(dea_status(&b, PROXY_JOIN, "Success"), 4);
    assert_eq!(dea_status(&b, PROXY_JOIN, "AccessDenied"), 0);
    assert_eq!(dea(&b).repeats.stats.answered, 4);
    assert_eq!(dea(&b).user_domains.stats.replays_refused, 0);
    assert_eq!(dea(&b).user_domains.domains["userdomain0"].members.len(), 4);
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 0);
}

#[test]
fn with_nonce_tracking_an_old_proxy_join_no_longer_re_admits_a_device() {
    // The re-admission finding with the DEA's replay check on: the 4 Proxy Joins replayed
    // 300 s later (every Device has left) are refused, the User Domain stays empty and no
    // request is accepted twice. 300 s is the whole DRM-time window (the default
    // tolerance): the embedded Device request's time is out of it, so the DEA refuses by
    // time (`DeviceTimeError`), whatever its nonce store still holds (issue 11 part 2).
    let (b, ins) = rejoin_run(300, true);
    assert_eq!(stats(&ins), (4, 0, 4));
    assert_eq!(dea_status(&b, PROXY_LEAVE, "Success"), 4);
    assert_eq!(dea_status(&b, PROXY_JOIN, "DeviceTimeError"), 4);
    assert!(dea(&b).user_domains.domains["userdomain0"]
        .members
        .is_empty());
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 0);
}
