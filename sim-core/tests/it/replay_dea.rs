//! Replays on the RI ↔ DEA path (seed 000) and of pairing messages to another SCE agent
//! (seed 001 §7.2.1.3): what the DEA does with a repeated Get User Domain Authorization,
//! Proxy Join or Proxy Leave request, DEA answers replayed to another RI, Pairing Ticket
//! Responses replayed to another agent, and `no_request_accepted_twice` on DEA requests.

use super::adversary::{run, setup_cfg};
use sim_core::adversary::replayer::ReplayTo;
use sim_core::adversary::{AdversaryKind, AdversarySpec, Installed, Position};
use sim_core::invariant::names;
use sim_core::net::GroupId;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::dea::Dea;
use sim_core::proto::dea_proxy::{PROXY_JOIN, PROXY_LEAVE};
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;

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
    // 4 Devices join once and stay. Each Proxy Join is replayed to the DEA 5 s later: the
    // DEA has no replay check and answers Success again (fresh K_MAC, same UDK), but the
    // Device is already associated through that RI — counted once (seed 000 §7.4.1): no
    // state change, blocked; no_request_accepted_twice holds under that reading.
    let cfg = joining(4, 1, 0.0);
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
    let cfg = joining(2, 2, 0.0);
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
fn rejoin_run(delay_s: u64) -> (Built, Installed) {
    let cfg = joining(4, 1, 1.0);
    let r = replayer(&["dom:rdpProxyJoinUserDomainRequest"], 4, delay_s);
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 400);
    (b, ins)
}

#[test]
fn a_proxy_join_replayed_after_the_device_left_re_admits_it() {
    // Finding: the DEA keeps no record of the RI nonces it has answered (seed 000 gives its
    // requests a nonce, "Default, as specified in [SCE-GEN]", but no replay check), so a
    // Proxy Join replayed after the Device's Proxy Leave re-creates the association the
    // leave deleted (§7.5.1): the Device counts against the User Domain again without
    // holding its keys. Replayed 300 s later every Device (leaving after ~60 s) has left.
    let (b, ins) = rejoin_run(300);
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
fn proxy_leaves_replayed_to_the_dea_while_the_device_is_gone_change_nothing() {
    // Devices leave once and never re-join: a replayed Proxy Leave finds no association to
    // delete and is answered Success without effect (blocked).
    let cfg = joining(4, 1, 1.0);
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
