//! Adversaries against registration and RO acquisition, in both spec variants.

use crate::support::{build_ideal, layout_and_roster};
use sim_core::adversary::{install, AdversaryKind, AdversarySpec, Installed, Position};
use sim_core::engine::{ActorId, RunLimits, SimTime};
use sim_core::invariant::{names, MonitorSet};
use sim_core::net::GroupId;
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::lrm::Lrm;
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Trace records of one kind, collected by an observer.
pub type Records = Rc<RefCell<Vec<TraceEvent>>>;

/// A built run of `agents` agents on one RI with adversaries `specs` and the standard
/// monitors installed; every actor sits in group 0.
pub fn setup(agents: u32, tracking: bool, specs: &[AdversarySpec]) -> (Built, Installed, Records) {
    setup_with(agents, tracking, true, 0.0, specs)
}

/// Like [`setup`], with fresh-nonce retries and the Move probability chosen.
pub fn setup_with(
    agents: u32,
    tracking: bool,
    fresh_nonce: bool,
    move_probability: f64,
    specs: &[AdversarySpec],
) -> (Built, Installed, Records) {
    let mut cfg = WorldConfig {
        agents,
        ris: 1,
        workload: AgentWorkload {
            acquire_rate_per_min: 6.0,
            move_probability,
            // Consumption would hide duplicated units from the conservation check.
            consume_rate_per_min: if move_probability > 0.0 { 0.0 } else { 2.0 },
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    cfg.variants.ri_nonce_tracking = tracking;
    cfg.variants.fresh_nonce_retries = fresh_nonce;
    setup_cfg(&cfg, specs)
}

/// A run of `cfg` with adversaries `specs` and the standard monitors.
pub fn setup_cfg(cfg: &WorldConfig, specs: &[AdversarySpec]) -> (Built, Installed, Records) {
    let records: Records = Rc::default();
    let r2 = records.clone();
    let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
    trace.observe(Box::new(move |rec| {
        if matches!(
            rec.ev,
            TraceEvent::Attack { .. } | TraceEvent::Violation { .. }
        ) {
            r2.borrow_mut().push(rec.ev.clone());
        }
    }));
    let mut built = build_ideal(cfg, trace);
    let (layout, roster) = layout_and_roster(&built);
    let world = built.world.clone();
    let ins = install(
        &mut built.sim,
        &world,
        layout,
        roster,
        specs,
        MonitorSet::standard(),
    )
    .expect("installs");
    (built, ins, records)
}

/// Runs for `secs` of virtual time, then the offline checks.
pub fn run(built: &mut Built, ins: &Installed, secs: u64) {
    built.sim.run(
        &RunLimits {
            horizon: Some(SimTime::from_secs(secs)),
            ..Default::default()
        },
        &mut |_, _| {},
    );
    ins.check_end(&mut built.sim);
}

fn replayer(delay_s: u64, budget: u64) -> AdversarySpec {
    let mut s = AdversarySpec::new(
        AdversaryKind::Replayer,
        "replayer",
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    s.messages = vec!["roap:roRequest".into()];
    s.actors = vec!["ri/*".into()];
    s.replay_delay_ns = delay_s * 1_000_000_000;
    s.budget = budget;
    s
}

#[test]
fn verbatim_copies_of_ro_requests_are_answered_from_the_store_and_issue_nothing_twice() {
    // Byte-identical copies 5 s later (what a duplicating network delivers): the RI re-sends
    // the RO Response it stored (proto::repeats); nothing is issued a second time, nothing
    // is refused. The same run without the replayer issues exactly as many rights units.
    let (mut b, ins, _) = setup(3, true, &[replayer(5, 6)]);
    run(&mut b, &ins, 120);
    let st = ins.shared.borrow().stats["replayer"];
    assert_eq!((st.attempts, st.succeeded, st.blocked), (6, 0, 6));
    let ri = b.sim.actor::<Ri>(b.ris[0]).unwrap();
    assert_eq!(ri.repeats.stats.answered, 6);
    assert_eq!(ri.stats.replays_rejected, 0);
    let issued = ri.stats.rights_units_issued;
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 0);
    assert_eq!(violations(&ins, names::NO_RIGHTS_DUPLICATED), 0);
    let (mut clean, cins, _) = setup(3, true, &[]);
    run(&mut clean, &cins, 120);
    let ri = clean.sim.actor::<Ri>(clean.ris[0]).unwrap();
    assert!(issued > 0);
    assert_eq!(ri.stats.rights_units_issued, issued);
}

fn violations(ins: &Installed, name: &str) -> u64 {
    ins.shared.borrow().monitors.counts[name]
}

#[test]
fn replayed_ro_requests_are_refused_with_nonce_tracking() {
    // The replays are re-encoded (same nonce and signature, other octets): not a repeat the
    // RI answers from its response store, so the nonce check decides them.
    let mut r = replayer(5, 6);
    r.reserialise = true;
    let (mut b, ins, recs) = setup(3, true, &[r]);
    run(&mut b, &ins, 120);
    let st = ins.shared.borrow().stats["replayer"];
    // Budget 6: six requests replayed, each answered AccessDenied (seed 003 replay check).
    assert_eq!(st.attempts, 6);
    assert_eq!(st.succeeded, 0);
    assert_eq!(st.blocked, 6);
    let ri = b.sim.actor::<Ri>(b.ris[0]).unwrap();
    assert_eq!(ri.stats.replays_rejected, 6);
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 0);
    let attacks = recs
        .borrow()
        .iter()
        .filter(|e| matches!(e, TraceEvent::Attack { success: false, .. }))
        .count();
    assert_eq!(attacks, 6, "one attack record per decided attempt");
}

#[test]
fn replayed_ro_requests_are_accepted_without_nonce_tracking() {
    let (mut b, ins, recs) = setup(3, false, &[replayer(5, 6)]);
    run(&mut b, &ins, 120);
    let st = ins.shared.borrow().stats["replayer"];
    assert_eq!((st.attempts, st.succeeded, st.blocked), (6, 6, 0));
    let ri = b.sim.actor::<Ri>(b.ris[0]).unwrap();
    assert_eq!(ri.stats.replays_rejected, 0);
    // Each accepted replay is one "accepted twice" violation with a 4-message chain:
    // request, answer, replayed request, second answer.
    assert_eq!(violations(&ins, names::NO_REQUEST_ACCEPTED_TWICE), 6);
    let recs = recs.borrow();
    let chains: Vec<&Vec<u64>> = recs
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Violation { chain, .. } => Some(chain),
            _ => None,
        })
        .collect();
    assert_eq!(chains.len(), 6);
    assert!(chains
        .iter()
        .all(|c| c.len() == 4 && c.windows(2).all(|w| w[0] < w[1])));
    // The Device never installs the second copy: rights are not duplicated.
    assert_eq!(violations(&ins, names::NO_RIGHTS_DUPLICATED), 0);
}

#[test]
fn replays_respect_window_and_budget() {
    let mut s = replayer(1, 1_000);
    s.from_ns = 1_000_000_000_000; // never active within the run
    let (mut b, ins, _) = setup(2, false, &[s]);
    run(&mut b, &ins, 60);
    assert_eq!(ins.shared.borrow().stats["replayer"].attempts, 0);
    let (mut b, ins, _) = setup(2, false, &[replayer(1, 2)]);
    run(&mut b, &ins, 60);
    assert_eq!(ins.shared.borrow().stats["replayer"].attempts, 2);
}

#[test]
fn registration_replays_are_refused_in_both_variants() {
    for tracking in [true, false] {
        let mut s = replayer(2, 3);
        s.messages = vec!["roap:registrationRequest".into()];
        let (mut b, ins, _) = setup(3, tracking, &[s]);
        run(&mut b, &ins, 60);
        let st = ins.shared.borrow().stats["replayer"];
        // The RI consumed the registration session: the replay gets Abort (§5.4.2.1).
        assert_eq!((st.attempts, st.succeeded, st.blocked), (3, 0, 3));
    }
}

#[test]
fn tampered_requests_are_all_refused() {
    let mut s = replayer(0, 8);
    s.kind = AdversaryKind::Tamperer;
    s.name = "tamperer".into();
    s.from_ns = 2_000_000_000; // after registration
    let (mut b, ins, _) = setup(3, true, &[s]);
    run(&mut b, &ins, 120);
    let st = ins.shared.borrow().stats["tamperer"];
    assert_eq!((st.attempts, st.succeeded, st.blocked), (8, 0, 8));
    let ri = b.sim.actor::<Ri>(b.ris[0]).unwrap();
    let refused: u64 = ri
        .stats
        .statuses
        .iter()
        .filter(|((p, s), _)| p == "ro_acquisition" && s != "Success")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(refused, 8);
}

#[test]
fn tamper_changes_each_field() {
    use sim_core::adversary::tamperer::{tamper, Field};
    use sim_core::pdu::roap::RoRequest;
    use sim_core::pdu::{DateTime, Identifier, Pdu};
    let req = Pdu::RoRequest(RoRequest {
        trigger_nonce: None,
        device_id: Identifier { hash: vec![7; 20] },
        domain_id: None,
        ri_id: Identifier { hash: vec![9; 20] },
        nonce: vec![1; 14],
        time: DateTime { unix_s: 100 },
        ro_ids: vec!["cid:a".into()],
        dcf_hash: None,
        certificate_chain: None,
        extensions: Vec::new(),
        signature: vec![3; 128],
    });
    for f in [
        Field::Signature,
        Field::Nonce,
        Field::DeviceId,
        Field::RoIds,
        Field::Time,
    ] {
        let t = tamper(&req, f).expect("RO Request has every field");
        assert_ne!(t, req, "{f:?}");
    }
    let Some(Pdu::RoRequest(t)) = tamper(&req, Field::Nonce) else {
        panic!()
    };
    assert_eq!(t.nonce[0], 0);
    assert_eq!(t.signature, vec![3; 128]);
}

#[test]
fn flood_is_refused_and_counted() {
    let mut s = AdversarySpec::new(
        AdversaryKind::Flooder,
        "flooder",
        Position::OffPath { group: GroupId(0) },
    );
    s.actors = vec!["ri/0".into()];
    s.rate_per_s = Some(100.0);
    s.from_ns = 5_000_000_000;
    s.to_ns = 10_000_000_000;
    s.budget = 10_000;
    let (mut b, ins, _) = setup(2, true, &[s]);
    run(&mut b, &ins, 30);
    let st = ins.shared.borrow().stats["flooder"];
    // 100/s for 5 s = 500 requests (first at 5 s, last before 10 s), all refused: a junk
    // signature under a registered Device ID is a SignatureError.
    assert_eq!(st.attempts, 500);
    assert_eq!((st.succeeded, st.blocked), (0, 500));
    let ri = b.sim.actor::<Ri>(b.ris[0]).unwrap();
    assert_eq!(
        ri.stats.statuses[&("ro_acquisition".to_string(), "SignatureError".to_string())],
        500
    );
    assert_eq!(ins.shared.borrow().monitors.total(), 0);
    let adv = ins.actors[0];
    assert_eq!(adv, ActorId(b.sim.actor_count() as u32 - 1));
}

#[test]
fn same_seed_same_attack_trace() {
    let digest = || {
        let (mut b, ins, _) = setup(3, false, &[replayer(3, 5)]);
        run(&mut b, &ins, 60);
        b.sim.trace().digest_hex()
    };
    assert_eq!(digest(), digest());
}

fn mover(kind: &str, budget: u64) -> AdversarySpec {
    let mut s = AdversarySpec::new(
        AdversaryKind::MoveAttacker,
        "mover",
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    s.messages = vec![kind.into()];
    s.budget = budget;
    s
}

fn mover_stats(tracking: bool, fresh: bool, kind: &str) -> (AttackStatsTuple, u64, u64) {
    let (mut b, ins, _) = setup_with(4, tracking, fresh, 1.0, &[mover(kind, 4)]);
    run(&mut b, &ins, 300);
    let sh = ins.shared.borrow();
    let st = sh.stats["mover"];
    (
        (st.attempts, st.succeeded, st.blocked),
        sh.monitors.counts[names::NO_RIGHTS_DUPLICATED],
        sh.monitors.counts[names::NO_REQUEST_ACCEPTED_TWICE],
    )
}

type AttackStatsTuple = (u64, u64, u64);

#[test]
fn replayed_move_requests_blocked_with_tracking_accepted_without() {
    let (st, dup, twice) = mover_stats(true, true, "sceroap:moveDeviceRORequest");
    assert_eq!(st, (4, 0, 4));
    assert_eq!((dup, twice), (0, 0));
    let (st, _, twice) = mover_stats(false, true, "sceroap:moveDeviceRORequest");
    assert_eq!(st.0, 4);
    assert!(
        st.1 >= 1,
        "a replayed Move is accepted twice without tracking: {st:?}"
    );
    assert_eq!(
        twice, st.1,
        "each accepted replay is an accepted-twice violation"
    );
}

#[test]
fn dropped_move_responses_conserve_rights_only_with_fresh_nonces() {
    let (st, dup, _) = mover_stats(true, true, "sceroap:moveDeviceROResponse");
    assert_eq!(st, (4, 0, 4), "fresh-nonce retries are answered Success");
    assert_eq!(dup, 0);
    let (st, dup, _) = mover_stats(true, false, "sceroap:moveDeviceROResponse");
    assert_eq!(st, (4, 4, 0), "reused nonces are refused as replays");
    assert_eq!(dup, 1, "the Sources restored rights the RI moved");
}

fn metering_run(signed: bool, kind: &str) -> (AttackStatsTuple, u64, u64) {
    let mut cfg = WorldConfig {
        agents: 3,
        ris: 1,
        workload: AgentWorkload {
            acquire_rate_per_min: 2.0,
            consume_rate_per_min: 6.0,
            metering_interval_ns: Some(30_000_000_000),
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    cfg.variants.metering_response_signed = signed;
    let mut s = mover(kind, 4);
    s.kind = AdversaryKind::MeteringSpoofer;
    s.name = "spoofer".into();
    s.from_ns = 40_000_000_000;
    let (mut b, ins, _) = setup_cfg(&cfg, &[s]);
    run(&mut b, &ins, 180);
    let sh = ins.shared.borrow();
    let st = sh.stats["spoofer"];
    let discarded: u64 = b
        .agents
        .iter()
        .map(|&a| {
            b.sim
                .actor::<sim_core::proto::agent::Agent>(a)
                .unwrap()
                .metering_reports
                .stats
                .responses_discarded
        })
        .sum();
    (
        (st.attempts, st.succeeded, st.blocked),
        sh.monitors.counts[names::METERING_DELETED_ONLY_AFTER_SUCCESS],
        discarded,
    )
}

#[test]
fn forged_metering_success_deletes_data_only_when_unsigned() {
    let (st, violations, discarded) = metering_run(true, "roap:meteringReportSubmit");
    assert_eq!(st, (4, 0, 4));
    assert_eq!(violations, 0);
    assert_eq!(discarded, 4, "every forgery fails the RI signature check");
    let (st, violations, _) = metering_run(false, "roap:meteringReportSubmit");
    assert_eq!(st, (4, 4, 0));
    assert!(violations >= 1, "a Device lost metered uses");
}

#[test]
fn dropped_metering_responses_lose_nothing() {
    for signed in [true, false] {
        let (st, violations, _) = metering_run(signed, "roap:meteringReportResponse");
        assert_eq!(st, (4, 0, 4));
        assert_eq!(violations, 0);
    }
}

#[test]
fn impersonation_with_a_compromised_key_is_refused() {
    let (b0, _, _) = setup(3, true, &[]);
    let endpoint = b0.agents[0];
    let mut s = AdversarySpec::new(
        AdversaryKind::Impersonator,
        "impersonator",
        Position::Compromised { endpoint },
    );
    s.messages = vec!["roap:roRequest".into()];
    s.budget = 5;
    let (mut b, ins, _) = setup(3, true, &[s]);
    run(&mut b, &ins, 120);
    let st = ins.shared.borrow().stats["impersonator"];
    // Five of agent 0's RO Requests claimed other Devices: five SignatureErrors.
    assert_eq!((st.attempts, st.succeeded, st.blocked), (5, 0, 5));
    let ri = b.sim.actor::<Ri>(b.ris[0]).unwrap();
    assert_eq!(
        ri.stats.statuses[&("ro_acquisition".to_string(), "SignatureError".to_string())],
        5
    );
}

/// Seed 000 §7.4.1: 6 Devices (homes alternate between 2 RIs) on the path of a domain
/// stuffer, one DEA User Domain of at most 2 Devices. Returns the stuffer's (attempts,
/// succeeded, blocked), the User Domain's distinct Devices and `domain_within_limit` findings.
fn stuff_run(count_once: bool) -> (AttackStatsTuple, usize, u64) {
    let mut cfg = WorldConfig {
        agents: 6,
        ris: 2,
        dea: true,
        workload: AgentWorkload {
            acquire_rate_per_min: 1.0,
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    cfg.user_domains.user_domains = 1;
    cfg.user_domains.max_devices = 2;
    cfg.variants.dea_count_once = count_once;
    let mut s = AdversarySpec::new(
        AdversaryKind::DomainStuffer,
        "stuffer",
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    s.messages = vec!["roap:deviceHello".into()];
    let (mut b, ins, _) = setup_cfg(&cfg, &[s]);
    run(&mut b, &ins, 120);
    let st = ins.shared.borrow().stats["stuffer"];
    let dea = b
        .sim
        .actor::<sim_core::proto::dea::Dea>(b.dea.unwrap())
        .unwrap();
    let devices = dea.user_domains.domains["userdomain0"].members.len();
    (
        (st.attempts, st.succeeded, st.blocked),
        devices,
        violations(&ins, names::DOMAIN_WITHIN_LIMIT),
    )
}

#[test]
fn domain_stuffing_is_counted_once_with_the_cr() {
    // Each Device is triggered once, through the RI it is not registered with: 6 attempts.
    // Counted once, the first 2 joins fill the User Domain and the other 4 get DomainFull;
    // the 2 accepted joins leave it at its maximum: all 6 blocked.
    let (st, devices, found) = stuff_run(true);
    assert_eq!(st, (6, 0, 6));
    assert_eq!(devices, 2);
    assert_eq!(found, 0);
}

#[test]
fn domain_stuffing_exceeds_the_limit_when_counted_per_ri() {
    // Pre-CR each RI's associations are counted separately: each RI admits 2 of the 3
    // Devices it relays (the third: DomainFull), so 4 distinct Devices share a User Domain
    // of at most 2 — 4 attempts succeed, 2 are blocked, and the monitor fires once.
    let (st, devices, found) = stuff_run(false);
    assert_eq!(st, (6, 4, 2));
    assert_eq!(devices, 4);
    assert_eq!(found, 1);
}

/// Seed 001: 3 SCE agents importing from one LRM (and, with `pair`, Moving/Copying to each
/// other), a ticket forger on every link with `budget` attempts during the first 120 s of a
/// 180 s run. Returns its stats and the refusals (status → count) over LRM and agents.
fn forge_run(pair: bool, budget: u64) -> (AttackStatsTuple, BTreeMap<String, u64>, u64) {
    let mut cfg = WorldConfig {
        agents: 3,
        sce_agents: 3,
        ris: 1,
        lrms: 1,
        dea: true,
        ..WorldConfig::default()
    };
    cfg.workload.acquire_rate_per_min = 0.0;
    cfg.workload.consume_rate_per_min = 0.0;
    cfg.workload.import_rate_per_min = 2.0;
    cfg.workload.pair_rate_per_min = if pair { 4.0 } else { 0.0 };
    cfg.workload.pair_copy_probability = 0.0;
    cfg.lrm_policy.import_rate_per_min = 2.0;
    let mut s = AdversarySpec::new(
        AdversaryKind::TicketForger,
        "forger",
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    s.messages = vec!["dmp:authenticationRequest".into()];
    s.budget = budget;
    s.to_ns = 120_000_000_000;
    let (mut b, ins, _) = setup_cfg(&cfg, &[s]);
    for a in b.agents.clone() {
        b.sim.actor_mut::<Agent>(a).unwrap().pairing.pair_random = pair;
    }
    run(&mut b, &ins, 180);
    let st = ins.shared.borrow().stats["forger"];
    let mut refused = BTreeMap::new();
    let lrm = b.sim.actor::<Lrm>(b.lrms[0]).unwrap();
    for (k, v) in &lrm.stats.pairing.auth_rejected {
        *refused.entry(k.clone()).or_default() += v;
    }
    let mut at_agents = 0;
    for &a in &b.agents {
        for (k, v) in &b.sim.actor::<Agent>(a).unwrap().pairing.stats.auth_rejected {
            *refused.entry(k.clone()).or_default() += v;
            at_agents += v;
        }
    }
    ((st.attempts, st.succeeded, st.blocked), refused, at_agents)
}

#[test]
fn forged_modified_and_replayed_tickets_are_refused_by_the_lrm() {
    // 9 attempts cycle forged, modified, replayed: 3 each. The forged and modified tickets
    // fail the ticket HMAC under the LRM's Master Key (InvalidPairingTicket, 6); the replays
    // pass the MACs and hit the nonce cache (AccessDenied, 3).
    let (st, refused, at_agents) = forge_run(false, 9);
    assert_eq!(st, (9, 0, 9));
    assert_eq!(refused["InvalidPairingTicket"], 6);
    assert_eq!(refused["AccessDenied"], 3);
    assert_eq!(refused.values().sum::<u64>(), 9, "{refused:?}");
    assert_eq!(at_agents, 0, "no dmpPair in this run");
}

#[test]
fn forged_tickets_are_refused_by_sce_agents_too() {
    // With dmpPair Moves the forger also attacks SCE agents as targets: every attempt is
    // refused, each refusal counted at the target that made it.
    let (st, refused, at_agents) = forge_run(true, 30);
    assert_eq!(st.1, 0, "nothing accepted");
    assert_eq!(st.0, st.2, "every attempt decided and blocked: {st:?}");
    assert_eq!(refused.values().sum::<u64>(), st.0, "{refused:?}");
    assert!(at_agents > 0, "an SCE agent was a target: {refused:?}");
}

#[test]
fn a_compromised_device_joining_through_every_ri_counts_once() {
    // Seed 000 §7.4.1 note: agent 0 (compromised) is made to join the User Domain through
    // the 2 RIs it is not registered with (3 RIs): 2 attempts, both accepted, and the DEA
    // holds 1 Device associated through those 2 RIs — within the limit of 2: both blocked.
    for count_once in [true, false] {
        let mut cfg = WorldConfig {
            agents: 3,
            ris: 3,
            dea: true,
            ..WorldConfig::default()
        };
        cfg.workload.acquire_rate_per_min = 1.0;
        cfg.user_domains.user_domains = 1;
        cfg.user_domains.max_devices = 2;
        cfg.variants.dea_count_once = count_once;
        let (b0, _, _) = setup_cfg(&cfg, &[]);
        let endpoint = b0.agents[0];
        let mut s = AdversarySpec::new(
            AdversaryKind::DomainStuffer,
            "stuffer",
            Position::Compromised { endpoint },
        );
        s.messages = vec!["roap:deviceHello".into()];
        let (mut b, ins, _) = setup_cfg(&cfg, &[s]);
        run(&mut b, &ins, 120);
        let st = ins.shared.borrow().stats["stuffer"];
        assert_eq!((st.attempts, st.succeeded, st.blocked), (2, 0, 2));
        let dea = b
            .sim
            .actor::<sim_core::proto::dea::Dea>(b.dea.unwrap())
            .unwrap();
        let members = &dea.user_domains.domains["userdomain0"].members;
        assert_eq!(members.len(), 1);
        assert_eq!(members.values().next().unwrap().len(), 2);
        assert_eq!(violations(&ins, names::DOMAIN_WITHIN_LIMIT), 0);
    }
}
