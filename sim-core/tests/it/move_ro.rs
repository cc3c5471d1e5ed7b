//! Move Device RO via RI (seed 003 §9.1.1, §9.1.3): rights move from a Source Device through
//! the RI to a destination Device without being created or duplicated, under tampering,
//! replays, loss and retries; the pre-CR variants show the duplication the CR prevents.

use crate::support::build_ideal;
use rand::Rng;
use sim_core::crypto::CryptoMode;
use sim_core::engine::time::NS_PER_S;
use sim_core::engine::{ActorId, RunLimits, SimTime, Tap, TapCtx, Verdict};
use sim_core::pdu::{Pdu, Status};
use sim_core::proto::acquisition::RoPolicy;
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::move_ro::{self, Refusal, RightsAccounting};
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// What the on-path tap does to the run.
#[derive(Default)]
struct TapPlan {
    /// Users stop acquiring new content at this time (ordinary RORequests dropped), so the
    /// run reaches a state where every issued unit is installed somewhere.
    stop_acquire_s: u64,
    /// Loss probability of every Move-related message (requests, responses, triggers and
    /// the acquisitions of moved rights).
    loss: f64,
    /// Drop this many MoveDeviceROResponses (the first ones).
    drop_responses: u32,
    /// Rewrite the first MoveDeviceROResponses, one tamper each, without re-signing.
    tampers: Vec<fn(&mut sim_core::pdu::moves::MoveResponse)>,
    /// Inject a copy of the first MoveDeviceRORequest this long after it was sent.
    replay_after_s: Option<u64>,
    /// Race: inject a copy of the first MoveDeviceRORequest at once and hold the original
    /// 5 ms, so the copy reaches the RI first; the RI's answer to the copy (the next
    /// MoveDeviceROResponse) is dropped — it goes back on the attacker's connection.
    race_first: bool,
}

/// What the tap saw.
#[derive(Default, Debug)]
struct TapLog {
    /// (source actor, RO ID, nonce) of every MoveDeviceRORequest sent.
    requests: Vec<(u32, String, Vec<u8>)>,
    /// The first MoveDeviceRORequest, whole.
    first_request: Option<sim_core::pdu::moves::MoveRequest>,
    dropped: u64,
}

struct MoveTap {
    plan: TapPlan,
    mode: CryptoMode,
    replayed: bool,
    log: Rc<RefCell<TapLog>>,
}

fn is_moved_id(id: &str) -> bool {
    id.contains("-mv")
}

impl Tap<SimMsg> for MoveTap {
    fn on_send(
        &mut self,
        from: ActorId,
        to: ActorId,
        msg: SimMsg,
        ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        let SimMsg::Pdu(w) = &msg else {
            return Verdict::Pass(msg);
        };
        let Ok(pdu) = w.open() else {
            return Verdict::Pass(msg);
        };
        let move_related = match &pdu {
            Pdu::RoRequest(r) => {
                let moved = r.ro_ids.iter().any(|i| is_moved_id(i));
                if !moved && ctx.now() >= SimTime::from_secs(self.plan.stop_acquire_s) {
                    return Verdict::Drop;
                }
                moved
            }
            Pdu::RoResponse(r) => r
                .body
                .as_ref()
                .is_some_and(|b| b.protected_ros.iter().any(|p| is_moved_id(&p.ro.id))),
            Pdu::RoapTrigger(_) => true,
            Pdu::MoveDeviceRoRequest(r) => {
                let ro = r.rights_info.ros[0].protected_ro.ro.id.clone();
                let mut log = self.log.borrow_mut();
                log.requests.push((from.0, ro, r.nonce.clone()));
                log.first_request.get_or_insert_with(|| r.clone());
                drop(log);
                if let (Some(after), false) = (self.plan.replay_after_s, self.replayed) {
                    self.replayed = true;
                    ctx.inject(from, to, msg.clone(), after * NS_PER_S);
                }
                if self.plan.race_first && !self.replayed {
                    self.replayed = true;
                    ctx.inject(from, to, msg.clone(), 0);
                    self.plan.drop_responses = 1;
                    return Verdict::Delay(msg, 5_000_000);
                }
                true
            }
            Pdu::MoveDeviceRoResponse(r) => {
                if self.plan.drop_responses > 0 {
                    self.plan.drop_responses -= 1;
                    self.log.borrow_mut().dropped += 1;
                    return Verdict::Drop;
                }
                if !self.plan.tampers.is_empty() {
                    let f = self.plan.tampers.remove(0);
                    let mut r = r.clone();
                    f(&mut r);
                    return Verdict::Pass(SimMsg::Pdu(Wire::new(
                        self.mode,
                        Pdu::MoveDeviceRoResponse(r),
                    )));
                }
                true
            }
            _ => false,
        };
        if move_related && self.plan.loss > 0.0 && ctx.rng().gen_bool(self.plan.loss) {
            self.log.borrow_mut().dropped += 1;
            return Verdict::Drop;
        }
        Verdict::Pass(msg)
    }
}

type Outcomes = Rc<RefCell<BTreeMap<(String, String), u64>>>;

struct Run {
    built: Built,
    outcomes: Outcomes,
    /// Attempts of every move outcome.
    move_attempts: Rc<RefCell<Vec<u32>>>,
    log: Rc<RefCell<TapLog>>,
}

impl Run {
    fn agents(&self) -> Vec<&Agent> {
        self.built
            .agents
            .iter()
            .map(|a| self.built.sim.actor::<Agent>(*a).unwrap())
            .collect()
    }
    fn ris(&self) -> Vec<&Ri> {
        self.built
            .ris
            .iter()
            .map(|r| self.built.sim.actor::<Ri>(*r).unwrap())
            .collect()
    }
    fn ri(&self) -> &Ri {
        self.ris()[0]
    }
    fn issued(&self) -> u64 {
        self.ris().iter().map(|r| r.stats.rights_units_issued).sum()
    }
    fn accounting(&self) -> RightsAccounting {
        move_ro::rights_accounting(&self.agents(), &self.ris())
    }
    fn outcome(&self, p: &str, s: &str) -> u64 {
        self.outcomes
            .borrow()
            .get(&(p.to_string(), s.to_string()))
            .copied()
            .unwrap_or(0)
    }
    fn sum(&self, f: impl Fn(&move_ro::AgentMoveStats) -> u64) -> u64 {
        self.agents().iter().map(|a| f(&a.moves.stats)).sum()
    }
    fn refused(&self, why: Refusal) -> u64 {
        self.ri()
            .moves
            .stats
            .refused
            .get(&why)
            .copied()
            .unwrap_or(0)
    }
    fn run_to(&mut self, secs: u64) {
        self.built.sim.run(
            &RunLimits {
                horizon: Some(SimTime::from_secs(secs)),
                ..Default::default()
            },
            &mut |_, _| {},
        );
    }
}

/// Count ROs of `count` uses, always movable; every acquired RO is moved after ~20 s.
fn config(agents: u32, count: u32, partial: f64) -> WorldConfig {
    WorldConfig {
        agents,
        ris: 1,
        workload: AgentWorkload {
            acquire_rate_per_min: 3.0,
            consume_rate_per_min: 0.0,
            move_probability: 1.0,
            move_delay_mean_ns: 20 * NS_PER_S,
            move_partial_probability: partial,
            ..Default::default()
        },
        ro_policy: RoPolicy {
            stateful_probability: 1.0,
            count,
            movable: true,
        },
        ..Default::default()
    }
}

fn start(cfg: &WorldConfig, plan: TapPlan) -> Run {
    let outcomes: Outcomes = Rc::new(RefCell::new(BTreeMap::new()));
    let move_attempts = Rc::new(RefCell::new(Vec::new()));
    let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
    let (o2, a2) = (outcomes.clone(), move_attempts.clone());
    trace.observe(Box::new(move |rec| {
        if let TraceEvent::Outcome {
            protocol,
            status,
            attempts,
            ..
        } = &rec.ev
        {
            *o2.borrow_mut()
                .entry((protocol.clone(), status.clone()))
                .or_insert(0u64) += 1;
            if protocol == move_ro::PROTOCOL {
                a2.borrow_mut().push(*attempts);
            }
        }
    }));
    let mut built = build_ideal(cfg, trace);
    let log = Rc::new(RefCell::new(TapLog::default()));
    built.sim.set_tap(Box::new(MoveTap {
        plan,
        mode: cfg.crypto,
        replayed: false,
        log: log.clone(),
    }));
    Run {
        built,
        outcomes,
        move_attempts,
        log,
    }
}

fn plan_stop_at(secs: u64) -> TapPlan {
    TapPlan {
        stop_acquire_s: secs,
        ..Default::default()
    }
}

/// Settled: no Move pending, every moved unit collected, every unit accounted for.
fn assert_settled_and_conserved(r: &Run) {
    let acc = r.accounting();
    assert_eq!(acc.pending_source_units, 0, "{acc:?}");
    assert_eq!(acc.in_transit_units, 0, "{acc:?}");
    assert_eq!(acc.held_units, r.issued(), "{acc:?}");
}

#[test]
fn full_moves_conserve_rights() {
    let mut r = start(&config(3, 4, 0.0), plan_stop_at(120));
    r.run_to(900);
    let moved = r.sum(|s| s.succeeded);
    assert!(moved >= 5, "{:?}", r.outcomes.borrow());
    assert_eq!(r.outcome(move_ro::PROTOCOL, "success"), moved);
    let ri = r.ri();
    // Every accepted Move was answered, collected and installed exactly once.
    assert_eq!(ri.moves.stats.accepted, moved);
    assert_eq!(ri.moves.stats.delivered, moved);
    assert_eq!(ri.moves.stats.retransmissions, 0);
    // Each delivery was fetched by an RO Request echoing its trigger's nonce (ROAP §5.2.1):
    // one triggered request per accepted Move on this lossless network, none unknown.
    assert_eq!(ri.domains.triggered_requests, moved);
    assert_eq!(ri.domains.unknown_trigger_nonces, 0);
    let installed: usize = r
        .agents()
        .iter()
        .map(|a| a.moves.installed_moved.len())
        .sum();
    assert_eq!(installed as u64, moved);
    // Full Moves of count ROs move everything that was left: 4 of 4.
    for e in ri.moves.ledger.values() {
        assert_eq!((e.issued_units, e.moved_units), (4, 4), "{e:?}");
    }
    // A fully moved RO is gone from its Source.
    for a in r.agents() {
        for id in &a.moves.moved {
            if ri.moves.ledger.contains_key(id) {
                assert!(!a.ros.contains_key(id), "{id} still at its source");
            }
        }
    }
    assert_settled_and_conserved(&r);
}

#[test]
fn partial_moves_conserve_rights_and_leave_the_rest() {
    let mut r = start(&config(3, 6, 1.0), plan_stop_at(120));
    r.run_to(900);
    let moved = r.sum(|s| s.succeeded);
    assert!(moved >= 5, "{:?}", r.outcomes.borrow());
    let ri = r.ri();
    // Half the counts move: 6 → 3 stay, 3 move; a moved 3 → 1 moves on; a 1 moves fully.
    for (id, e) in &ri.moves.ledger {
        assert_eq!(e.moved_units, (e.issued_units / 2).max(1), "{id}: {e:?}");
    }
    for a in r.agents() {
        for (id, ro) in &a.ros {
            if !id.contains("-mv") && a.moves.moved.contains(id) {
                assert_eq!(ro.rights_units(), 3, "{id}");
                assert!(!ro.unusable && ro.unusable_count == 0);
            }
        }
    }
    assert_settled_and_conserved(&r);
}

#[test]
fn response_with_mismatching_nonce_or_req_id_is_ignored() {
    let plan = TapPlan {
        stop_acquire_s: 60,
        tampers: vec![|r| r.nonce[0] ^= 0xff, |r| {
            r.req_id = sim_core::pdu::Identifier::new(vec![7u8; 20])
        }],
        ..Default::default()
    };
    let mut r = start(&config(2, 4, 0.0), plan);
    r.run_to(900);
    // Both tampered responses were discarded at §9.1.3 step 1; the Move went on and the
    // retries (fresh nonces) were answered Success again without a second transfer.
    assert_eq!(r.sum(|s| s.discarded_mismatch), 2);
    assert_eq!(r.sum(|s| s.discarded_signature), 0);
    assert_eq!(r.ri().moves.stats.retransmissions, 2);
    assert_eq!(r.ri().moves.stats.accepted, r.sum(|s| s.succeeded));
    assert!(r.move_attempts.borrow().contains(&3));
    assert_settled_and_conserved(&r);
}

#[test]
fn response_with_bad_signature_is_ignored() {
    // A forged failure status would make the Source restore rights the RI already holds.
    let plan = TapPlan {
        stop_acquire_s: 60,
        tampers: vec![|r| r.status = Status::AccessDenied],
        ..Default::default()
    };
    let mut r = start(&config(2, 4, 0.0), plan);
    r.run_to(900);
    assert_eq!(r.sum(|s| s.discarded_signature), 1);
    assert_eq!(r.sum(|s| s.failed), 0);
    assert_eq!(r.outcome(move_ro::PROTOCOL, "AccessDenied"), 0);
    assert_eq!(r.ri().moves.stats.retransmissions, 1);
    assert_settled_and_conserved(&r);
}

#[test]
fn non_success_marks_the_rights_usable_again() {
    // A lone Device: the RI has nowhere to move the rights and answers NotFound.
    let mut r = start(&config(1, 4, 0.5), plan_stop_at(120));
    r.run_to(600);
    let started = r.sum(|s| s.started);
    assert!(started >= 2);
    assert_eq!(r.sum(|s| s.failed), started);
    assert_eq!(r.outcome(move_ro::PROTOCOL, "NotFound"), started);
    assert_eq!(r.refused(Refusal::NoDestination), started);
    let a = r.agents()[0];
    assert!(a
        .ros
        .values()
        .all(|ro| !ro.unusable && ro.unusable_count == 0 && ro.available_count() == 4));
    assert!(r.ri().moves.ledger.is_empty());
    assert_settled_and_conserved(&r);
}

#[test]
fn replayed_request_is_answered_with_the_stored_response() {
    // A copy of an accepted request (same Device, nonce and content) 2 s later is a repeat:
    // the RI re-sends the Success it stored and moves nothing again (the response store of
    // every server, proto::repeats, answers it before the Move module sees it).
    let plan = TapPlan {
        stop_acquire_s: 120,
        replay_after_s: Some(2),
        ..Default::default()
    };
    let mut r = start(&config(3, 6, 1.0), plan);
    r.run_to(900);
    assert_eq!(r.ri().repeats.stats.answered, 1);
    assert_eq!(r.ri().moves.stats.repeats, 0);
    assert_eq!(r.ri().stats.replays_rejected, 0);
    assert_eq!(r.refused(Refusal::Replay), 0);
    // The re-sent Success matches no open request at the Source: discarded.
    assert_eq!(r.sum(|s| s.discarded_mismatch), 1);
    assert_eq!(r.ri().moves.stats.accepted, r.sum(|s| s.succeeded));
    assert_settled_and_conserved(&r);
}

/// The content ID of the first moved RO and the index of its Source.
fn first_move(r: &Run) -> (String, String, usize) {
    let log = r.log.borrow();
    let req = log.first_request.clone().expect("a move happened");
    let ro = &req.rights_info.ros[0].protected_ro.ro;
    let source = r
        .built
        .agents
        .iter()
        .position(|a| a.0 == log.requests[0].0)
        .unwrap();
    (
        ro.id.clone(),
        ro.rights.assets[0].content_id.clone(),
        source,
    )
}

/// (agent index, RO ID, usable units) of every RO for `content_id`.
fn holders_of(r: &Run, content_id: &str) -> Vec<(usize, String, u64)> {
    let mut out = Vec::new();
    for (i, a) in r.agents().iter().enumerate() {
        for (id, ro) in &a.ros {
            if ro.content_id == content_id {
                out.push((i, id.clone(), ro.rights_units()));
            }
        }
    }
    out
}

#[test]
fn replay_overtaking_the_original_moves_the_rights_once() {
    // The finding of docs/attacks.md: an attacker's copy of a Move request reaches the RI
    // 5 ms before the original. The RI accepts the copy; the original is a repeat of it and
    // gets the same stored Success, not a replay refusal — so the Source deletes its RO
    // (§9.1.3 step 3a) instead of restoring it (step 3b).
    let plan = TapPlan {
        stop_acquire_s: 120,
        race_first: true,
        ..Default::default()
    };
    let mut r = start(&config(3, 4, 0.0), plan);
    r.run_to(900);
    let (ro_id, content, source) = first_move(&r);
    let ri = r.ri();
    assert_eq!(ri.repeats.stats.answered, 1);
    assert_eq!(
        (ri.stats.replays_rejected, r.refused(Refusal::Replay)),
        (0, 0)
    );
    assert_eq!(r.outcome(move_ro::PROTOCOL, "AccessDenied"), 0);
    assert_eq!(ri.moves.ledger[&ro_id].moved_units, 4);
    // The Source saw only the answer to its own request: Success, on the first attempt.
    assert_eq!(r.sum(|s| s.discarded_mismatch), 0);
    assert_eq!(r.move_attempts.borrow()[0], 1);
    assert!(
        !r.agents()[source].ros.contains_key(&ro_id),
        "source deleted it"
    );
    // The 4 counts now exist exactly once: at the destination, as the RI re-issued them.
    let held = holders_of(&r, &content);
    assert_eq!(held.len(), 1, "{held:?}");
    let (dest, moved_id, units) = held[0].clone();
    assert_ne!(dest, source);
    assert!(moved_id.contains("-mv") && units == 4, "{held:?}");
    assert!(r.agents()[dest].moves.installed_moved.contains(&moved_id));
    assert_settled_and_conserved(&r);
}

#[test]
fn racing_replay_duplicates_rights_without_nonce_tracking() {
    // Pre-CR (no RI nonce tracking, nothing stored): the copy is accepted, the original
    // moves all 4 counts again — refused by the ledger (AccessDenied) — and the Source
    // restores the RO the RI has moved (§9.1.3 step 3b): 4 units more than were issued.
    let mut cfg = config(3, 4, 0.0);
    cfg.variants.ri_nonce_tracking = false;
    let plan = TapPlan {
        stop_acquire_s: 120,
        race_first: true,
        ..Default::default()
    };
    let mut r = start(&cfg, plan);
    r.run_to(900);
    let (ro_id, content, source) = first_move(&r);
    assert_eq!(r.refused(Refusal::AlreadyMoved), 1);
    assert_eq!(r.ri().moves.stats.repeats, 0);
    assert!(r.agents()[source].ros.contains_key(&ro_id));
    assert_eq!(holders_of(&r, &content).len(), 2);
    assert_eq!(r.accounting().total_units(), r.issued() + 4);
}

#[test]
fn same_nonce_with_different_content_is_refused_as_a_replay() {
    let mut r = start(&config(2, 4, 0.0), plan_stop_at(60));
    r.run_to(100);
    let first = r
        .log
        .borrow()
        .first_request
        .clone()
        .expect("a move happened");
    let (_, _, source) = first_move(&r);
    let before = r.accounting().total_units();
    // The Source's own signature, the nonce of its accepted request, other content (the
    // DRM time, and 2 counts instead of 4): seed 003 §1 replay, AccessDenied.
    let mut other = first.clone();
    other.rights_info.ros[0].state = Some(sim_core::pdu::moves::StateInfo {
        count: Some(2),
        ..Default::default()
    });
    inject_signed(&mut r, source, other);
    r.run_to(102);
    assert_eq!(r.refused(Refusal::Replay), 1);
    assert_eq!(r.ri().stats.replays_rejected, 1);
    assert_eq!(r.ri().moves.stats.repeats, 0);
    // The accepted request itself, byte for byte: the stored Success again.
    let world = r.built.world.clone();
    let (a, ri) = (r.built.agents[source], r.built.ris[0]);
    r.built.sim.inject(
        a,
        ri,
        SimMsg::Pdu(Wire::new(world.mode(), Pdu::MoveDeviceRoRequest(first))),
    );
    r.run_to(104);
    assert_eq!(r.ri().moves.stats.repeats, 1);
    assert_eq!(r.refused(Refusal::Replay), 1);
    assert_eq!(r.accounting().total_units(), before);
}

#[test]
fn replayed_request_duplicates_rights_without_the_cr() {
    let mut cfg = config(3, 6, 1.0);
    cfg.variants.fresh_nonce_retries = false;
    cfg.variants.ri_nonce_tracking = false;
    let plan = TapPlan {
        stop_acquire_s: 120,
        replay_after_s: Some(2),
        ..Default::default()
    };
    let mut r = start(&cfg, plan);
    r.run_to(900);
    // The replay of the first partial Move (3 of 6 counts) is accepted a second time
    // (3 + 3 ≤ 6): 3 units now exist twice.
    assert_eq!(r.ri().stats.replays_rejected, 0);
    assert_eq!(r.ri().moves.stats.accepted, r.sum(|s| s.succeeded) + 1);
    let acc = r.accounting();
    assert_eq!(acc.pending_source_units, 0);
    assert_eq!(acc.total_units(), r.issued() + 3, "{acc:?}");
}

#[test]
fn lost_response_is_retried_with_a_fresh_nonce_and_succeeds() {
    let plan = TapPlan {
        stop_acquire_s: 60,
        drop_responses: 1,
        ..Default::default()
    };
    let mut r = start(&config(2, 4, 0.0), plan);
    r.run_to(900);
    // The first Move's request went out twice, with different nonces.
    let log = r.log.borrow();
    let (src, ro, n1) = log.requests[0].clone();
    let again: Vec<_> = log
        .requests
        .iter()
        .filter(|(s, id, _)| *s == src && *id == ro)
        .collect();
    assert_eq!(again.len(), 2, "{log:?}");
    assert_ne!(again[1].2, n1);
    drop(log);
    assert!(r.move_attempts.borrow().contains(&2));
    assert_eq!(r.outcome(move_ro::PROTOCOL, "timeout"), 0);
    assert_eq!(r.ri().moves.stats.retransmissions, 1);
    assert_eq!(r.ri().moves.stats.accepted, r.sum(|s| s.succeeded));
    assert_settled_and_conserved(&r);
}

#[test]
fn same_nonce_retry_against_a_nonce_tracking_ri_duplicates_rights() {
    // Why seed 003 makes retries use a fresh nonce: the RI tracking nonces takes a same-nonce
    // retry for a replay, the Source restores the rights the RI already accepted.
    let mut cfg = config(2, 4, 0.0);
    cfg.variants.fresh_nonce_retries = false;
    let plan = TapPlan {
        stop_acquire_s: 60,
        drop_responses: 1,
        ..Default::default()
    };
    let mut r = start(&cfg, plan);
    r.run_to(900);
    assert_eq!(r.ri().stats.replays_rejected, 1);
    assert_eq!(r.outcome(move_ro::PROTOCOL, "AccessDenied"), 1);
    let acc = r.accounting();
    assert_eq!(acc.total_units(), r.issued() + 4, "{acc:?}");
}

#[test]
fn lossy_network_with_retries_conserves_rights() {
    let mut cfg = config(4, 6, 0.5);
    cfg.params.max_retries = 6;
    let plan = TapPlan {
        stop_acquire_s: 180,
        loss: 0.2,
        ..Default::default()
    };
    let mut r = start(&cfg, plan);
    r.run_to(2_400);
    assert!(r.log.borrow().dropped >= 5, "{:?}", r.log.borrow());
    assert!(r.sum(|s| s.succeeded) >= 8);
    assert!(r.move_attempts.borrow().iter().any(|a| *a > 1));
    let acc = r.accounting();
    assert_eq!(acc.total_units(), r.issued(), "{acc:?}");
    // Nothing is counted twice once every Move has ended.
    assert_eq!(r.sum(|s| s.abandoned), 0);
    assert_eq!(acc.pending_source_units, 0);
}

#[test]
fn post_response_url_is_fetched_and_404_is_never_retried() {
    let fetch = |status: u16| {
        let mut r = start(&config(2, 4, 0.0), plan_stop_at(120));
        let ri = r.built.ris[0];
        let m = &mut r.built.sim.actor_mut::<Ri>(ri).unwrap().moves;
        m.post_response_url = true;
        m.http_status = status;
        r.run_to(900);
        r
    };
    let ok = fetch(200);
    assert!(ok.sum(|s| s.succeeded) >= 2);
    assert!(ok.sum(|s| s.http_gets) >= 1);
    assert_eq!(ok.ri().moves.stats.http_gets, ok.sum(|s| s.http_gets));
    assert_eq!(ok.sum(|s| s.http_errors), 0);

    let gone = fetch(404);
    // One GET per Device that completed a Move, however many it completed.
    let movers = gone
        .agents()
        .iter()
        .filter(|a| a.moves.stats.succeeded > 0)
        .count() as u64;
    assert!(gone.sum(|s| s.succeeded) > movers);
    assert_eq!(gone.sum(|s| s.http_gets), movers);
    assert_eq!(gone.sum(|s| s.http_404), movers);

    let failing = fetch(503);
    for a in failing.agents() {
        let s = &a.moves.stats;
        if s.succeeded > 0 {
            // Every GET failed and was retried up to the bound.
            assert!(s.http_gets >= move_ro::MAX_GET_ATTEMPTS as u64, "{s:?}");
            assert_eq!(s.http_errors, s.http_gets, "{s:?}");
        }
    }
}

#[test]
fn forged_rights_are_refused() {
    let mut r = start(&config(2, 4, 0.0), plan_stop_at(60));
    r.run_to(30);
    // Agent 0 makes up an RO of 1000 counts claiming the RI issued it, and moves it.
    let (a0, ri_actor) = (r.built.agents[0], r.built.ris[0]);
    let world = r.built.world.clone();
    let me = r.built.sim.actor::<Agent>(a0).unwrap().identity().clone();
    let ri_id = world.ris[0].id.clone();
    let ro_units_before = r.accounting();
    use sim_core::pdu::ro::{Action, Asset, Constraint, Permission, ProtectedRo, Rights, Ro};
    let pro = ProtectedRo {
        ro: Ro {
            id: "ri/0-ro999".into(),
            version: "2.0".into(),
            domain_ro: false,
            ri_id: ri_id.clone(),
            rights: Rights {
                uid: "ri/0-ro999".into(),
                assets: vec![Asset {
                    content_id: "cid:forged".into(),
                    dcf_hash: None,
                }],
                permissions: vec![
                    Permission {
                        action: Action::Play,
                        constraints: vec![Constraint::Count(1000)],
                    },
                    Permission {
                        action: Action::Move,
                        constraints: Vec::new(),
                    },
                ],
                user_domains: Vec::new(),
                move_indication: Vec::new(),
            },
            // No RI signature: the Device cannot produce one.
            signature: None,
            time_stamp: None,
            enc_key: sim_core::pdu::Encrypted {
                id: None,
                algorithm: sim_core::pdu::common::ALG_KEM.to_string(),
                key_info: Some(sim_core::pdu::KeyInfo::SpkiHash(me.id.hash.clone())),
                cipher: vec![1u8; 128],
            },
        },
        mac: vec![2u8; 20],
    };
    let mut req = sim_core::pdu::moves::MoveRequest {
        req_id: me.id.clone(),
        res_id: ri_id,
        nonce: vec![9u8; 14],
        time: world.datetime(30 * NS_PER_S),
        rights_info: sim_core::pdu::moves::RightsInfo {
            ros: vec![sim_core::pdu::moves::MovedRo {
                protected_ro: pro,
                state: Some(sim_core::pdu::moves::StateInfo {
                    count: Some(1000),
                    ..Default::default()
                }),
            }],
        },
        source_authorizations: Vec::new(),
        certificate_chain: None,
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    let mut ops = sim_core::crypto::OpCounter::new();
    req.signature = world
        .crypto
        .sign(
            &mut ops,
            &me.key,
            world.params.sig_alg,
            &Pdu::MoveDeviceRoRequest(req.clone()),
        )
        .unwrap();
    r.built.sim.inject(
        a0,
        ri_actor,
        SimMsg::Pdu(Wire::new(world.mode(), Pdu::MoveDeviceRoRequest(req))),
    );
    r.run_to(31);
    assert_eq!(r.refused(Refusal::NotIssuedHere), 1);
    assert!(!r.ri().moves.ledger.contains_key("ri/0-ro999"));
    assert_eq!(r.accounting().total_units(), ro_units_before.total_units());
}

#[test]
fn real_and_symbolic_modes_give_the_same_outcomes() {
    let mut cfg = config(3, 4, 0.5);
    let go = |cfg: &WorldConfig| {
        let mut r = start(cfg, plan_stop_at(90));
        r.run_to(400);
        let o = r.outcomes.borrow().clone();
        let acc = r.accounting();
        (o, acc, r.issued(), r.sum(|s| s.succeeded))
    };
    let sym = go(&cfg);
    cfg.crypto = CryptoMode::Real;
    let real = go(&cfg);
    assert!(sym.3 >= 1, "{:?}", sym.0);
    assert_eq!(sym, real);
    assert_eq!(sym.1.total_units(), sym.2);
}

#[test]
fn racing_replay_gives_the_same_outcome_in_real_mode() {
    // The repeat check digests the canonical XML in real mode and the structural digest in
    // symbolic mode; the RI's decisions must not depend on which.
    let mut cfg = config(2, 4, 0.0);
    let go = |cfg: &WorldConfig| {
        let plan = TapPlan {
            stop_acquire_s: 60,
            race_first: true,
            ..Default::default()
        };
        let mut r = start(cfg, plan);
        r.run_to(300);
        let st = (r.ri().moves.stats.clone(), r.ri().repeats.stats.answered);
        let o = r.outcomes.borrow().clone();
        (o, st, r.accounting(), r.issued())
    };
    let sym = go(&cfg);
    cfg.crypto = CryptoMode::Real;
    let real = go(&cfg);
    assert_eq!(sym.1 .1, 1);
    assert_eq!(sym, real);
    assert_eq!(sym.2.total_units(), sym.3);
}

#[test]
fn abandoned_move_keeps_the_rights_unusable() {
    // Every response is lost: the RI accepted the Move but the Source never learns it. The
    // Source must not restore the rights (they now exist at the destination).
    let mut cfg = config(2, 4, 0.0);
    cfg.params.max_retries = 1;
    let plan = TapPlan {
        stop_acquire_s: 40,
        drop_responses: u32::MAX,
        ..Default::default()
    };
    let mut r = start(&cfg, plan);
    r.run_to(900);
    let abandoned = r.sum(|s| s.abandoned);
    assert!(abandoned >= 1);
    assert_eq!(r.outcome(move_ro::PROTOCOL, "timeout"), abandoned);
    assert_eq!(r.sum(|s| s.succeeded), 0);
    for a in r.agents() {
        for id in a.moves.frozen.keys() {
            assert!(a.ros[id].unusable, "{id} usable again");
        }
    }
    // One acceptance and one retransmission per Move (2 attempts each).
    assert_eq!(r.ri().moves.stats.accepted, abandoned);
    assert_eq!(r.ri().moves.stats.retransmissions, abandoned);
    let acc = r.accounting();
    assert_eq!(acc.pending_source_units, 4 * abandoned, "{acc:?}");
    assert_eq!(acc.total_units(), r.issued(), "{acc:?}");
}

#[test]
fn same_seed_same_trace() {
    let digest = |seed: u64| {
        let mut cfg = config(3, 6, 0.5);
        cfg.seed = seed;
        let mut r = start(&cfg, plan_stop_at(60));
        r.run_to(300);
        assert!(r.sum(|s| s.succeeded) >= 1);
        r.built.sim.trace().digest_hex()
    };
    assert_eq!(digest(5), digest(5));
    assert_ne!(digest(5), digest(6));
}

/// Signs `req` as `agent` and sends it to the RI.
fn inject_signed(r: &mut Run, agent: usize, mut req: sim_core::pdu::moves::MoveRequest) {
    let world = r.built.world.clone();
    let a = r.built.agents[agent];
    let me = r.built.sim.actor::<Agent>(a).unwrap().identity().clone();
    req.req_id = me.id.clone();
    req.time = world.datetime(r.built.sim.now().as_ns());
    let mut ops = sim_core::crypto::OpCounter::new();
    req.signature = world
        .crypto
        .sign(
            &mut ops,
            &me.key,
            world.params.sig_alg,
            &Pdu::MoveDeviceRoRequest(req.clone()),
        )
        .unwrap();
    let ri = r.built.ris[0];
    r.built.sim.inject(
        a,
        ri,
        SimMsg::Pdu(Wire::new(world.mode(), Pdu::MoveDeviceRoRequest(req))),
    );
}

#[test]
fn moved_rights_cannot_be_moved_again_nor_by_another_device() {
    let mut r = start(&config(2, 4, 0.0), plan_stop_at(60));
    r.run_to(300);
    let first = r
        .log
        .borrow()
        .first_request
        .clone()
        .expect("a move happened");
    let source = r
        .built
        .agents
        .iter()
        .position(|a| a.0 == r.log.borrow().requests[0].0)
        .unwrap();
    let before = r.accounting().total_units();
    // The Source asks again, fresh nonce, for 2 more counts of the RO it moved fully (4 of 4).
    let mut again = first.clone();
    again.nonce = vec![0x55; 14];
    again.rights_info.ros[0].state = Some(sim_core::pdu::moves::StateInfo {
        count: Some(2),
        ..Default::default()
    });
    inject_signed(&mut r, source, again);
    // The other Device presents the Source's RO as its own.
    let mut stolen = first;
    stolen.nonce = vec![0x66; 14];
    inject_signed(&mut r, 1 - source, stolen);
    let t = r.built.sim.now().as_ns() / NS_PER_S;
    r.run_to(t + 2);
    assert_eq!(r.refused(Refusal::AlreadyMoved), 1);
    assert_eq!(r.refused(Refusal::NotBoundToSource), 1);
    assert_eq!(r.accounting().total_units(), before);
}
