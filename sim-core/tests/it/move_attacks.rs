//! Move attacker modes (issue 6, seed 003 §9.1), each in the current protocol and, where one
//! exists, the pre-change variant (`ri_nonce_tracking`, `fresh_nonce_retries`).

use crate::adversary::{run, setup_cfg, setup_with};
use sim_core::adversary::mover::MoveMode;
use sim_core::adversary::{install, AdversaryKind, AdversarySpec, Layout, Position};
use sim_core::invariant::{names, MonitorSet, Roster};
use sim_core::net::GroupId;
use sim_core::proto::agent::Agent;
use sim_core::proto::build::WorldConfig;
use sim_core::proto::move_ro::{AgentMoveStats, Refusal, RiMoveStats};
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::TraceEvent;

/// (attempts, succeeded, blocked).
type Stats = (u64, u64, u64);

fn spec(mode: MoveMode, position: Position, budget: u64) -> AdversarySpec {
    let mut s = AdversarySpec::new(AdversaryKind::MoveAttacker, "mover", position);
    s.move_attack = mode;
    s.budget = budget;
    s
}

fn on_path() -> Position {
    Position::OnPath {
        links: vec![(GroupId(0), GroupId(0))],
    }
}

/// Config of [`setup_with`] (4 agents, every RO moved, no consumption).
fn cfg(tracking: bool, fresh: bool) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents: 4,
        ris: 1,
        workload: AgentWorkload {
            acquire_rate_per_min: 6.0,
            move_probability: 1.0,
            consume_rate_per_min: 0.0,
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    cfg.variants.ri_nonce_tracking = tracking;
    cfg.variants.fresh_nonce_retries = fresh;
    cfg
}

struct Outcome {
    st: Stats,
    duplicated: u64,
    /// The RI's Move counters.
    ri: RiMoveStats,
    /// Agent 0's Move counters.
    agent0: AgentMoveStats,
    /// ROs the RI's ledger shows moved out twice (the workload moves each RO once).
    twice_moved: u64,
}

fn outcome(b: &sim_core::proto::build::Built, ins: &sim_core::adversary::Installed) -> Outcome {
    let sh = ins.shared.borrow();
    let st = sh.stats["mover"];
    Outcome {
        st: (st.attempts, st.succeeded, st.blocked),
        duplicated: sh.monitors.counts[names::NO_RIGHTS_DUPLICATED],
        ri: b.sim.actor::<Ri>(b.ris[0]).unwrap().moves.stats.clone(),
        twice_moved: b
            .sim
            .actor::<Ri>(b.ris[0])
            .unwrap()
            .moves
            .ledger
            .values()
            .filter(|e| e.moved_units > e.last_units)
            .count() as u64,
        agent0: b
            .sim
            .actor::<Agent>(b.agents[0])
            .unwrap()
            .moves
            .stats
            .clone(),
    }
}

fn on_path_run(mode: MoveMode, tracking: bool, fresh: bool, budget: u64) -> Outcome {
    let (mut b, ins, _) = setup_with(4, tracking, fresh, 1.0, &[spec(mode, on_path(), budget)]);
    run(&mut b, &ins, 300);
    outcome(&b, &ins)
}

/// Agent 0 compromised (actor ids are fixed by the build, so a dry build names it).
fn compromised_run(mode: MoveMode, tracking: bool, partial: Option<f64>, budget: u64) -> Outcome {
    let mut c = cfg(tracking, true);
    if let Some(p) = partial {
        // Every RO count-limited (5 uses), Moves partial (2 counts) with probability p.
        c.workload.ro_stateful_probability = 1.0;
        c.workload.move_partial_probability = p;
    }
    let (b0, _, _) = setup_cfg(&c, &[]);
    let endpoint = b0.agents[0];
    let s = spec(mode, Position::Compromised { endpoint }, budget);
    let (mut b, ins, _) = setup_cfg(&c, &[s]);
    assert_eq!(b.agents[0], endpoint);
    run(&mut b, &ins, 300);
    outcome(&b, &ins)
}

#[test]
fn delayed_success_is_discarded_with_fresh_nonces_and_duplicates_with_reused_ones() {
    // Each Success is held 20 s, beyond the 10 s request timeout plus the first back-off:
    // the Source retries before the stale answer arrives. Fresh nonce: the RI's ledger
    // recognises the retry (same Device, RO, amount) and answers Success; the stale answer
    // then matches no pending nonce and is discarded.
    let o = on_path_run(MoveMode::DelayResponse, true, true, 4);
    assert_eq!(o.st, (4, 0, 4));
    assert_eq!(o.duplicated, 0);
    assert!(o.ri.retransmissions >= 4);
    // Pre-CR: the retry reuses its nonce with a new DRM time (not a verbatim repeat): the
    // nonce-tracking RI refuses it as a replay and the Source restores the moved rights.
    let o = on_path_run(MoveMode::DelayResponse, true, false, 4);
    assert_eq!(o.st, (4, 4, 0));
    assert!(o.duplicated >= 1);
    assert!(o.ri.refused[&Refusal::Replay] >= 4);
}

#[test]
fn old_success_for_a_later_move_is_discarded_in_both_variants() {
    // The Source checks the nonce of every response (§9.1.3 step 1) in both variants: the
    // old Success is discarded, the Source times out and retries, and the RI (which never
    // saw the dropped request) moves the RO.
    for (tracking, fresh) in [(true, true), (false, false)] {
        let o = on_path_run(MoveMode::ReplayOldResponse, tracking, fresh, 3);
        assert_eq!(o.st, (3, 0, 3), "tracking {tracking}");
        assert_eq!(o.duplicated, 0);
    }
}

#[test]
fn concurrent_move_of_one_ro_is_accepted_once_only_with_nonce_tracking() {
    // Every Move partial: 2 of the RO's 5 counts, twice at once.
    let o = compromised_run(MoveMode::Concurrent, true, Some(1.0), 3);
    assert_eq!(o.st, (3, 0, 3), "the second request is a retransmission");
    // Both requests of each attempt are answered Success, the second recording nothing.
    assert_eq!(o.ri.retransmissions, 3);
    assert_eq!(o.duplicated, 0);
    assert_eq!(o.twice_moved, 0);
    // Pre-CR: the second request is a new Move. For a count RO 2 + 2 counts fit in the 5
    // it was issued with: accepted again, 4 counts delivered for the 2 the Source gave up
    // (succeeded). A single-unit RO (unlimited) is moved in full: the ledger refuses the
    // second copy (blocked). Each success is one RO moved out twice in the RI's ledger.
    let o = compromised_run(MoveMode::Concurrent, false, Some(1.0), 3);
    assert_eq!(o.st.0, 3);
    assert_eq!(o.st.1 + o.st.2, 3);
    assert!(o.st.1 >= 1, "{:?}", o.st);
    assert_eq!(o.twice_moved, o.st.1);
    assert_eq!(
        o.ri.refused
            .get(&Refusal::AlreadyMoved)
            .copied()
            .unwrap_or(0),
        o.st.2
    );
    assert!(o.duplicated >= 1);
    assert_eq!(o.ri.retransmissions, 0);
    // Pre-CR, full Moves: the ledger refuses the copy that arrives second. On this ideal
    // network (fixed latency) the Source's own request always arrives first: blocked. (With
    // jitter the copy can win; the Source is then refused and restores the RO: the
    // `move-concurrent-pre` scenario.)
    let o = compromised_run(MoveMode::Concurrent, false, Some(0.0), 3);
    assert_eq!(o.st, (3, 0, 3));
    assert_eq!(o.ri.refused[&Refusal::AlreadyMoved], 3);
    assert_eq!(o.duplicated, 0);
    assert_eq!(o.twice_moved, 0);
}

#[test]
fn rolled_back_store_cannot_move_an_ro_twice() {
    for tracking in [true, false] {
        let c = cfg(tracking, true);
        let (b0, _, _) = setup_cfg(&c, &[]);
        let s = spec(
            MoveMode::Rollback,
            Position::Compromised {
                endpoint: b0.agents[0],
            },
            3,
        );
        let (mut b, ins, records) = setup_cfg(&c, &[s]);
        run(&mut b, &ins, 300);
        let o = outcome(&b, &ins);
        assert_eq!(o.st, (3, 0, 3), "tracking {tracking}");
        if tracking {
            // The second Move (same Device, RO, amount) is taken for a retry of the accepted
            // one: answered Success, nothing recorded.
            assert_eq!(o.ri.retransmissions, 3);
        } else {
            // Without nonce tracking the ledger refuses: the whole RO was already moved.
            assert_eq!(o.ri.refused[&Refusal::AlreadyMoved], 3);
        }
        assert_eq!(o.twice_moved, 0);
        // The rolled-back store holds each attacked RO again, usable: a local copy of moved
        // rights that no protocol can see, which the conservation monitor does see.
        let attacked: Vec<String> = records
            .borrow()
            .iter()
            .filter_map(|r| match r {
                TraceEvent::Attack { detail, .. } => detail
                    .split(" units of ")
                    .nth(1)
                    .and_then(|d| d.split(' ').next())
                    .map(str::to_string),
                _ => None,
            })
            .collect();
        assert_eq!(attacked.len(), 3);
        let agent = b.sim.actor::<Agent>(b.agents[0]).unwrap();
        for id in &attacked {
            assert!(agent.ros.get(id).is_some_and(|r| !r.unusable), "{id}");
        }
        assert!(o.agent0.succeeded >= 3);
        assert!(o.duplicated >= 1);
    }
}

#[test]
fn compromised_modes_need_a_compromised_endpoint() {
    let (mut b, _, _) = setup_with(2, true, true, 1.0, &[]);
    let world = b.world.clone();
    let layout = Layout {
        groups: vec![GroupId(0); b.sim.actor_count()],
        names: vec![String::new(); b.sim.actor_count()],
    };
    let roster = Roster {
        agents: b.agents.clone(),
        ris: b.ris.clone(),
        dea: None,
    };
    let r = install(
        &mut b.sim,
        &world,
        layout,
        roster,
        &[spec(MoveMode::Rollback, on_path(), 1)],
        MonitorSet::standard(),
    );
    let e = r.err().expect("refused").to_string();
    assert!(e.contains("compromised Device endpoint"), "{e}");
}

#[test]
fn store_rollback_is_deterministic() {
    let digest = || {
        let c = cfg(true, true);
        let (b0, _, _) = setup_cfg(&c, &[]);
        let endpoint = b0.agents[0];
        let s = spec(MoveMode::Rollback, Position::Compromised { endpoint }, 3);
        let (mut b, ins, _) = setup_cfg(&c, &[s]);
        run(&mut b, &ins, 200);
        b.sim.trace().digest_hex()
    };
    assert_eq!(digest(), digest());
}

#[test]
fn compromised_attacks_give_the_same_outcomes_in_real_mode() {
    // The second requests are re-signed with the Device key: RSA in real mode, symbolic
    // otherwise; the RI's decisions must not depend on which.
    let go = |mode: MoveMode, crypto: sim_core::crypto::CryptoMode| {
        let mut c = cfg(true, true);
        c.agents = 3;
        c.crypto = crypto;
        let (b0, _, _) = setup_cfg(&c, &[]);
        let endpoint = b0.agents[0];
        let (mut b, ins, _) = setup_cfg(&c, &[spec(mode, Position::Compromised { endpoint }, 2)]);
        run(&mut b, &ins, 150);
        let o = outcome(&b, &ins);
        (o.st, o.ri, o.agent0, o.twice_moved, o.duplicated)
    };
    for mode in [MoveMode::Concurrent, MoveMode::Rollback] {
        let sym = go(mode, sim_core::crypto::CryptoMode::Symbolic);
        assert_eq!(sym.0, (2, 0, 2), "{mode:?}");
        let real = go(mode, sim_core::crypto::CryptoMode::Real);
        assert_eq!(sym, real, "{mode:?}");
    }
}
