//! A Device re-registers when an RI answers NotRegistered (registration.rs `Rereg`): the RI
//! loses the Device Context between two requests; the Device drops its stale RI Context,
//! runs the 4-pass Registration again and resends the original request once.

use crate::support::{build_ideal, layout_and_roster};
use sim_core::adversary::{install, AdversaryKind, AdversarySpec, Installed, Position};
use sim_core::crypto::CryptoMode;
use sim_core::engine::{ActorId, RunLimits, SimTime, Tap, TapCtx, Verdict};
use sim_core::invariant::MonitorSet;
use sim_core::net::GroupId;
use sim_core::pdu::roap::RoResponse;
use sim_core::pdu::{Pdu, Status};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::rc::Rc;

const S: u64 = 1_000_000_000;
/// When the RI loses the Device Context: registration (4 passes + OCSP, 20 ms links) is
/// long over, and the workload's first acquisition has not happened yet.
const LOSS_S: u64 = 2;

/// Outcomes as (time ns, protocol, status), in trace order.
type Outcomes = Rc<RefCell<Vec<(u64, String, String)>>>;

/// One agent, one RI; the agent acquires ROs about every 10 s (Poisson), consumes nothing.
fn cfg(crypto: CryptoMode) -> WorldConfig {
    WorldConfig {
        agents: 1,
        ris: 1,
        crypto,
        workload: AgentWorkload {
            acquire_rate_per_min: 6.0,
            consume_rate_per_min: 0.0,
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    }
}

fn build(cfg: &WorldConfig, specs: &[AdversarySpec]) -> (Built, Outcomes, Option<Installed>) {
    let outcomes: Outcomes = Rc::default();
    let o2 = outcomes.clone();
    let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
    trace.observe(Box::new(move |rec| {
        if let TraceEvent::Outcome {
            protocol, status, ..
        } = &rec.ev
        {
            o2.borrow_mut()
                .push((rec.t, protocol.clone(), status.clone()));
        }
    }));
    let mut built = build_ideal(cfg, trace);
    let ins = (!specs.is_empty()).then(|| {
        let (layout, roster) = layout_and_roster(&built);
        let world = built.world.clone();
        install(
            &mut built.sim,
            &world,
            layout,
            roster,
            specs,
            MonitorSet::standard(),
        )
        .expect("installs")
    });
    (built, outcomes, ins)
}

fn run_to(built: &mut Built, secs: u64) {
    built.sim.run(
        &RunLimits {
            horizon: Some(SimTime::from_secs(secs)),
            ..Default::default()
        },
        &mut |_, _| {},
    );
}

/// The RI forgets agent 0's Device Context (as after an RI reset or expiry).
fn forget_device(built: &mut Built) {
    let (a, r) = (built.agents[0], built.ris[0]);
    let id = built.sim.actor::<Agent>(a).unwrap().identity().id.clone();
    let ri = built.sim.actor_mut::<Ri>(r).unwrap();
    assert!(
        ri.devices.remove(&id).is_some(),
        "registered before the loss"
    );
    ri.devices_by_actor.remove(&a);
}

fn count(o: &Outcomes, after_ns: u64, protocol: &str, status: &str) -> usize {
    o.borrow()
        .iter()
        .filter(|(t, p, s)| *t >= after_ns && p == protocol && s == status)
        .count()
}

/// Runs the loss scenario for `secs`: outcomes, the run, and the trace digest.
fn lose_and_acquire(crypto: CryptoMode, secs: u64) -> (Outcomes, Built, String) {
    let (mut built, o, _) = build(&cfg(crypto), &[]);
    run_to(&mut built, LOSS_S);
    assert_eq!(count(&o, 0, "registration", "success"), 1);
    assert_eq!(count(&o, 0, "ro_acquisition", "success"), 0, "{o:?}");
    forget_device(&mut built);
    run_to(&mut built, secs);
    let digest = built.sim.trace().digest_hex();
    (o, built, digest)
}

fn check_reregistered(o: &Outcomes, built: &Built) {
    let after = LOSS_S * S;
    // Exactly one extra registration, every acquisition succeeds, nothing fails.
    assert_eq!(count(o, after, "registration", "success"), 1, "{o:?}");
    assert!(count(o, after, "ro_acquisition", "success") >= 2, "{o:?}");
    assert!(o.borrow().iter().all(|(_, _, s)| s == "success"), "{o:?}");
    // The re-registration's outcome precedes the first acquisition's.
    let order: Vec<String> = o
        .borrow()
        .iter()
        .skip(1)
        .take(2)
        .map(|(_, p, _)| p.clone())
        .collect();
    assert_eq!(order, ["registration", "ro_acquisition"], "{o:?}");
    let agent = built.sim.actor::<Agent>(built.agents[0]).unwrap();
    assert_eq!(agent.stats.reregistrations, 1);
    assert!(agent.ri_contexts.contains_key(&0));
    let installed = agent.ros.len();
    assert_eq!(installed, count(o, 0, "ro_acquisition", "success"));
    let ri = built.sim.actor::<Ri>(built.ris[0]).unwrap();
    assert!(ri.devices.contains_key(&agent.identity().id));
    // The RI answered NotRegistered exactly once: the retry went out after registration.
    let not_reg = ri
        .stats
        .statuses
        .get(&("ro_acquisition".to_string(), "NotRegistered".to_string()))
        .copied();
    assert_eq!(not_reg, Some(1));
    assert_eq!(
        ri.stats
            .statuses
            .get(&("registration".to_string(), "Success".to_string()))
            .copied(),
        Some(2)
    );
}

#[test]
fn lost_device_context_is_restored_by_reregistration_symbolic() {
    let (o, built, _) = lose_and_acquire(CryptoMode::Symbolic, 60);
    check_reregistered(&o, &built);
}

#[test]
fn lost_device_context_is_restored_by_reregistration_real() {
    let (o, built, _) = lose_and_acquire(CryptoMode::Real, 60);
    check_reregistered(&o, &built);
    let (sym, _, _) = lose_and_acquire(CryptoMode::Symbolic, 60);
    let strip = |v: &Outcomes| -> Vec<(String, String)> {
        v.borrow()
            .iter()
            .map(|(_, p, s)| (p.clone(), s.clone()))
            .collect()
    };
    assert_eq!(strip(&o), strip(&sym));
}

#[test]
fn reregistration_is_deterministic() {
    let (_, _, d1) = lose_and_acquire(CryptoMode::Symbolic, 40);
    let (_, _, d2) = lose_and_acquire(CryptoMode::Symbolic, 40);
    assert_eq!(d1, d2);
}

/// The RI refuses the re-registration (every RegistrationRequest after the loss is tampered
/// with, so the RI answers with a failure status): the acquisition ends with exactly one
/// NotRegistered outcome, no second re-registration, no loop.
#[test]
fn refused_reregistration_ends_the_request_once() {
    let mut spec = AdversarySpec::new(
        AdversaryKind::Tamperer,
        "tamper-reg",
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    spec.messages = vec!["roap:registrationRequest".into()];
    spec.from_ns = LOSS_S * S;
    spec.budget = 100;
    let (mut built, o, _ins) = build(&cfg(CryptoMode::Symbolic), &[spec]);
    run_to(&mut built, LOSS_S);
    assert_eq!(count(&o, 0, "registration", "success"), 1);
    forget_device(&mut built);
    run_to(&mut built, 90);
    let after = LOSS_S * S;
    let all = o.borrow().clone();
    let later: Vec<(String, String)> = all
        .iter()
        .filter(|(t, _, _)| *t >= after)
        .map(|(_, p, s)| (p.clone(), s.clone()))
        .collect();
    // One failed registration, then the parked acquisition's single failure; no more
    // acquisitions (the Device holds no RI Context) and no further registration.
    assert_eq!(later.len(), 2, "{later:?}");
    assert_eq!(later[0].0, "registration");
    assert_ne!(later[0].1, "success");
    assert_eq!(
        later[1],
        ("ro_acquisition".to_string(), "NotRegistered".to_string())
    );
    let agent = built.sim.actor::<Agent>(built.agents[0]).unwrap();
    assert_eq!(agent.stats.reregistrations, 1);
    assert!(agent.ri_contexts.is_empty());
    assert!(agent.ros.is_empty());
}

/// An on-path attacker who replaces every ROResponse with a forged status-only
/// `NotRegistered` (status-only responses are unsigned, §5.3).
struct ForgeNotRegistered {
    mode: CryptoMode,
    forged: Rc<RefCell<u64>>,
}

impl Tap<SimMsg> for ForgeNotRegistered {
    fn on_send(
        &mut self,
        _from: ActorId,
        _to: ActorId,
        msg: SimMsg,
        _ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        if let SimMsg::Pdu(w) = &msg {
            if let Ok(Pdu::RoResponse(_)) = w.open() {
                *self.forged.borrow_mut() += 1;
                let forged = Pdu::RoResponse(RoResponse {
                    status: Status::NotRegistered,
                    body: None,
                });
                return Verdict::Pass(SimMsg::Pdu(Wire::new(self.mode, forged)));
            }
        }
        Verdict::Pass(msg)
    }
}

/// Forged NotRegistered answers cannot make a Device loop: each original request costs at
/// most one re-registration and ends in exactly one failure outcome.
#[test]
fn forged_not_registered_costs_one_reregistration_per_request() {
    let forged = Rc::new(RefCell::new(0));
    let (mut built, o, _) = build(&cfg(CryptoMode::Symbolic), &[]);
    built.sim.set_tap(Box::new(ForgeNotRegistered {
        mode: CryptoMode::Symbolic,
        forged: forged.clone(),
    }));
    run_to(&mut built, 120);
    let failed = count(&o, 0, "ro_acquisition", "NotRegistered");
    // ~6/min for 2 min: several requests, each answered twice (original and resend).
    assert!(failed >= 3, "{o:?}");
    assert_eq!(count(&o, 0, "ro_acquisition", "success"), 0);
    assert_eq!(*forged.borrow() as usize, 2 * failed);
    // One registration at arrival plus one per request, all successful.
    assert_eq!(count(&o, 0, "registration", "success"), 1 + failed, "{o:?}");
    assert_eq!(o.borrow().len(), 1 + 2 * failed, "{o:?}");
    let agent = built.sim.actor::<Agent>(built.agents[0]).unwrap();
    assert_eq!(agent.stats.reregistrations as usize, failed);
    assert!(agent.ros.is_empty());
    // Each outcome pair: the re-registration, then the request's single failure.
    let later: Vec<String> = o.borrow()[1..].iter().map(|(_, p, _)| p.clone()).collect();
    for pair in later.chunks(2) {
        assert_eq!(pair, ["registration", "ro_acquisition"], "{o:?}");
    }
}

/// Leave Domain takes the same path: the RI lost the Device Context while the Device was a
/// domain member; its workload Leave meets NotRegistered, the Device registers again and
/// resends the Leave, which succeeds and removes the membership at the RI.
#[test]
fn leave_domain_after_lost_device_context_reregisters() {
    let mut c = cfg(CryptoMode::Symbolic);
    c.workload.acquire_rate_per_min = 0.0;
    c.workload.join_domain_probability = 1.0;
    c.workload.leave_domain_probability = 1.0;
    c.domains.mean_membership_ns = 30 * S;
    let (mut built, o, _) = build(&c, &[]);
    run_to(&mut built, LOSS_S);
    assert_eq!(count(&o, 0, "join_domain", "success"), 1, "{o:?}");
    assert_eq!(o.borrow().len(), 2, "{o:?}");
    forget_device(&mut built);
    run_to(&mut built, 300);
    let later: Vec<(String, String)> = o.borrow()[2..]
        .iter()
        .map(|(_, p, s)| (p.clone(), s.clone()))
        .collect();
    let ok = |p: &str| (p.to_string(), "success".to_string());
    assert_eq!(later, [ok("registration"), ok("leave_domain")], "{o:?}");
    let agent = built.sim.actor::<Agent>(built.agents[0]).unwrap();
    assert_eq!(agent.stats.reregistrations, 1);
    assert!(agent.domain.contexts.is_empty());
    let id = agent.identity().id.clone();
    let ri = built.sim.actor::<Ri>(built.ris[0]).unwrap();
    assert!(ri.devices.contains_key(&id));
    assert!(ri
        .domains
        .domains
        .values()
        .all(|d| !d.members.contains(&id)));
    let leave_not_reg = ri
        .stats
        .statuses
        .get(&("leave_domain".to_string(), "NotRegistered".to_string()))
        .copied();
    assert_eq!(leave_not_reg, Some(1));
}
