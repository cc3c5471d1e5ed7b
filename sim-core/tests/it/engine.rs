//! Engine scenarios: determinism, RNG stream independence, timers, stop conditions and the
//! server CPU model checked against queueing theory.

use rand::Rng;
use rand_distr::{Distribution, Exp};
use sim_core::engine::{
    Actor, ActorId, ActorSpec, CpuSpec, Ctx, Event, Message, Overflow, RunLimits, SimTime,
    Simulation, StopReason,
};
use sim_core::net::{GroupId, IdealNetwork};
use sim_core::trace::{DropCause, TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Debug, Clone)]
struct Ping(u32);

impl Message for Ping {
    fn kind(&self) -> &'static str {
        "ping"
    }
    fn size_bytes(&self) -> u32 {
        64
    }
}

fn spec(name: &str, cpu: CpuSpec) -> ActorSpec {
    ActorSpec {
        name: name.into(),
        kind: "test".into(),
        group: GroupId(0),
        group_name: "g".into(),
        cpu,
        start_at: SimTime::ZERO,
    }
}

/// Bounces a counter to a peer after a random think time, `rounds` times.
struct Bouncer {
    peer: Option<ActorId>,
    rounds: u32,
    draws: Vec<u64>,
}

impl Actor<Ping> for Bouncer {
    fn on_event(&mut self, ev: Event<Ping>, ctx: &mut Ctx<'_, Ping>) {
        let n = match ev {
            Event::Start => 0,
            Event::Message { msg, .. } => msg.0 + 1,
            _ => return,
        };
        let draw = ctx.rng().gen_range(0..1_000_000u64);
        self.draws.push(draw);
        if n < self.rounds {
            if let Some(p) = self.peer {
                ctx.charge_ns(draw);
                ctx.send(p, Ping(n));
            }
        }
    }
}

fn ping_pong(seed: u64, extra_actor: bool) -> (String, Vec<u64>) {
    let mut sim = Simulation::new(
        seed,
        Box::new(IdealNetwork { latency_ns: 1_000 }),
        TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default())),
    );
    sim.record_header("ping-pong", "symbolic");
    let a = sim.add_actor(
        spec("a", CpuSpec::UNLIMITED),
        Box::new(Bouncer {
            peer: Some(ActorId(1)),
            rounds: 50,
            draws: vec![],
        }),
    );
    sim.add_actor(
        spec("b", CpuSpec::UNLIMITED),
        Box::new(Bouncer {
            peer: Some(a),
            rounds: 50,
            draws: vec![],
        }),
    );
    if extra_actor {
        // Unrelated actor that draws a lot of randomness.
        sim.add_actor(
            spec("zz-unrelated", CpuSpec::UNLIMITED),
            Box::new(Bouncer {
                peer: None,
                rounds: 0,
                draws: vec![],
            }),
        );
    }
    let r = sim.run(&RunLimits::default(), &mut |_, _| {});
    assert_eq!(r.reason, StopReason::Quiescent);
    let draws = sim.actor::<Bouncer>(a).unwrap().draws.clone();
    let digest = sim.finish(r.reason).digest_hex();
    (digest, draws)
}

#[test]
fn same_seed_same_digest_different_seed_different_digest() {
    let (d1, _) = ping_pong(7, false);
    let (d2, _) = ping_pong(7, false);
    let (d3, _) = ping_pong(8, false);
    assert_eq!(d1, d2);
    assert_ne!(d1, d3);
}

#[test]
fn adding_an_unrelated_actor_leaves_other_draws_unchanged() {
    let (_, without) = ping_pong(11, false);
    let (_, with) = ping_pong(11, true);
    // Start + 25 receipts in each of the two interleaved 50-round chains.
    assert_eq!(without.len(), 51);
    assert_eq!(without, with);
}

/// Sets two timers, cancels one; records what fired.
struct TimerUser {
    fired: Vec<(u64, u64)>,
}

impl Actor<Ping> for TimerUser {
    fn on_event(&mut self, ev: Event<Ping>, ctx: &mut Ctx<'_, Ping>) {
        match ev {
            Event::Start => {
                ctx.set_timer(100, 1);
                let t2 = ctx.set_timer(50, 2);
                ctx.set_timer(100, 3);
                assert!(ctx.cancel_timer(t2));
                assert!(!ctx.cancel_timer(t2));
            }
            Event::Timer { tag, .. } => self.fired.push((ctx.now().as_ns(), tag)),
            _ => {}
        }
    }
}

#[test]
fn timers_fire_in_time_then_fifo_order_and_cancel_works() {
    let mut sim = Simulation::new(
        1,
        Box::new(IdealNetwork { latency_ns: 1 }),
        TraceRecorder::disabled(),
    );
    let id = sim.add_actor(
        spec("t", CpuSpec::UNLIMITED),
        Box::new(TimerUser { fired: vec![] }),
    );
    sim.run(&RunLimits::default(), &mut |_, _| {});
    assert_eq!(
        sim.actor::<TimerUser>(id).unwrap().fired,
        vec![(100, 1), (100, 3)]
    );
}

#[test]
fn stop_conditions_horizon_budget_and_interrupt() {
    let mk = || sim_core::engine::bench::engine_workload(10, 3);
    let mut sim = mk();
    let r = sim.run(
        &RunLimits {
            horizon: Some(SimTime::from_ns(5_000)),
            ..Default::default()
        },
        &mut |_, _| {},
    );
    assert_eq!(r.reason, StopReason::Horizon);
    assert_eq!(r.end, SimTime::from_ns(5_000));
    let mut sim = mk();
    let r = sim.run(
        &RunLimits {
            event_budget: Some(1234),
            ..Default::default()
        },
        &mut |_, _| {},
    );
    assert_eq!((r.reason, r.events), (StopReason::EventBudget, 1234));
    let flag = Arc::new(AtomicBool::new(true));
    let mut sim = mk();
    let r = sim.run(
        &RunLimits {
            stop_flag: Some(flag),
            ..Default::default()
        },
        &mut |_, _| {},
    );
    assert_eq!((r.reason, r.events), (StopReason::Interrupted, 0));
}

/// Poisson source: sends a request at exponential intervals with rate `rate_per_s`.
struct Source {
    server: ActorId,
    rate_per_s: f64,
    left: u32,
}

impl Actor<Ping> for Source {
    fn on_event(&mut self, ev: Event<Ping>, ctx: &mut Ctx<'_, Ping>) {
        if matches!(ev, Event::Start | Event::Timer { .. }) && self.left > 0 {
            if matches!(ev, Event::Timer { .. }) {
                ctx.send(self.server, Ping(0));
                self.left -= 1;
            }
            let gap_s: f64 = Exp::new(self.rate_per_s).unwrap().sample(ctx.rng());
            ctx.set_timer((gap_s * 1e9) as u64, 0);
        }
    }
}

/// Server with deterministic or exponential service time.
struct Server {
    service_ns: u64,
    exponential: bool,
}

impl Actor<Ping> for Server {
    fn on_event(&mut self, ev: Event<Ping>, ctx: &mut Ctx<'_, Ping>) {
        if let Event::Message { .. } = ev {
            let s = if self.exponential {
                let mu = 1e9 / self.service_ns as f64;
                (Exp::new(mu).unwrap().sample(ctx.rng()) * 1e9) as u64
            } else {
                self.service_ns
            };
            ctx.charge_ns(s);
        }
    }
}

/// Mean queueing delay (ns) and service count at a single-worker server.
fn queue_experiment(exponential: bool, rho: f64, n: u32) -> (f64, u64) {
    let service_ns = 1_000_000; // 1 ms ⇒ μ = 1000/s
    let lambda = rho * 1000.0;
    let delays = Rc::new(RefCell::new((0f64, 0u64)));
    let mut trace = TraceRecorder::new(
        TraceConfig {
            enabled: true,
            timers: false,
        },
        Box::new(sim_core::trace::NullSink),
    );
    let d2 = delays.clone();
    trace.observe(Box::new(move |rec| {
        if let TraceEvent::ServiceStart { queue_delay_ns, .. } = rec.ev {
            let mut d = d2.borrow_mut();
            d.0 += queue_delay_ns as f64;
            d.1 += 1;
        }
    }));
    let mut sim = Simulation::new(99, Box::new(IdealNetwork { latency_ns: 10_000 }), trace);
    let server = sim.add_actor(
        spec("server", CpuSpec::server(1, 1_000_000, Overflow::Drop)),
        Box::new(Server {
            service_ns,
            exponential,
        }),
    );
    sim.add_actor(
        spec("source", CpuSpec::UNLIMITED),
        Box::new(Source {
            server,
            rate_per_s: lambda,
            left: n,
        }),
    );
    sim.run(&RunLimits::default(), &mut |_, _| {});
    let d = delays.borrow();
    (d.0 / d.1 as f64, d.1)
}

#[test]
fn md1_mean_wait_matches_pollaczek_khinchine() {
    // M/D/1: Wq = ρ·D / (2(1−ρ)). With D = 1 ms, ρ = 0.7: Wq = 0.7/(0.6) ms = 1.1667 ms.
    let (wq_ns, served) = queue_experiment(false, 0.7, 200_000);
    assert_eq!(served, 200_000);
    let expected = 0.7 * 1e6 / (2.0 * 0.3);
    let err = (wq_ns - expected).abs() / expected;
    assert!(
        err < 0.05,
        "M/D/1 Wq {wq_ns:.0} ns vs {expected:.0} ns ({:.1}%)",
        err * 100.0
    );
}

#[test]
fn mm1_mean_wait_matches_theory() {
    // M/M/1: Wq = ρ/(μ−λ) = ρ²/(λ(1−ρ)). ρ = 0.5, μ = 1000/s: Wq = 0.5/(1000−500) s = 1 ms.
    let (wq_ns, _) = queue_experiment(true, 0.5, 200_000);
    let expected = 1e6;
    let err = (wq_ns - expected).abs() / expected;
    assert!(
        err < 0.07,
        "M/M/1 Wq {wq_ns:.0} ns vs {expected:.0} ns ({:.1}%)",
        err * 100.0
    );
}

/// Counts what it handled and what was refused.
#[derive(Default)]
struct Counting {
    handled: u32,
    overloaded: u32,
}

impl Actor<Ping> for Counting {
    fn on_event(&mut self, ev: Event<Ping>, ctx: &mut Ctx<'_, Ping>) {
        match ev {
            Event::Message { .. } => {
                self.handled += 1;
                ctx.charge_ns(1_000_000);
            }
            Event::Overloaded { .. } => self.overloaded += 1,
            _ => {}
        }
    }
}

fn burst_into(overflow: Overflow) -> (u32, u32, Vec<DropCause>) {
    let drops = Rc::new(RefCell::new(Vec::new()));
    let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(sim_core::trace::NullSink));
    let d2 = drops.clone();
    trace.observe(Box::new(move |rec| {
        if let TraceEvent::Drop { cause, .. } = rec.ev {
            d2.borrow_mut().push(cause);
        }
    }));
    let mut sim = Simulation::new(5, Box::new(IdealNetwork { latency_ns: 1 }), trace);
    let server = sim.add_actor(
        spec("server", CpuSpec::server(2, 3, overflow)),
        Box::new(Counting::default()),
    );
    let client = sim.add_actor(
        spec("client", CpuSpec::UNLIMITED),
        Box::new(Counting::default()),
    );
    for i in 0..10 {
        sim.inject(client, server, Ping(i));
    }
    sim.run(&RunLimits::default(), &mut |_, _| {});
    let s = sim.actor::<Counting>(server).unwrap();
    let out = (s.handled, s.overloaded, drops.borrow().clone());
    out
}

#[test]
fn full_server_queue_drops_or_rejects_the_excess() {
    // 2 workers + 3 queue slots: 5 of a simultaneous burst of 10 are served.
    let (handled, overloaded, drops) = burst_into(Overflow::Drop);
    assert_eq!((handled, overloaded), (5, 0));
    assert_eq!(drops, vec![DropCause::QueueFull; 5]);
    let (handled, overloaded, drops) = burst_into(Overflow::Reject);
    assert_eq!((handled, overloaded), (5, 5));
    assert_eq!(drops, vec![DropCause::Rejected; 5]);
}

#[test]
fn interrupted_run_trace_ends_with_run_end_and_in_flight_drops() {
    let mut sim = Simulation::new(
        2,
        Box::new(IdealNetwork {
            latency_ns: 1_000_000,
        }),
        TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default())),
    );
    sim.record_header("t", "symbolic");
    let a = sim.add_actor(spec("a", CpuSpec::UNLIMITED), Box::new(Counting::default()));
    let b = sim.add_actor(spec("b", CpuSpec::UNLIMITED), Box::new(Counting::default()));
    sim.inject(a, b, Ping(1));
    let r = sim.run(
        &RunLimits {
            horizon: Some(SimTime::from_ns(10)),
            ..Default::default()
        },
        &mut |_, _| {},
    );
    assert_eq!(r.reason, StopReason::Horizon);
    let rec = sim.finish(r.reason);
    assert_eq!(rec.records(), 6); // run_start, 2 actors, send, drop(in_flight), run_end
}

/// Drops the first message, delays the second by 1 ms and replays the third twice.
struct TestTap {
    seen: u32,
}

impl sim_core::engine::Tap<Ping> for TestTap {
    fn on_send(
        &mut self,
        from: ActorId,
        to: ActorId,
        msg: Ping,
        ctx: &mut sim_core::engine::TapCtx<'_, Ping>,
    ) -> sim_core::engine::Verdict<Ping> {
        use sim_core::engine::Verdict;
        self.seen += 1;
        match self.seen {
            1 => Verdict::Drop,
            2 => Verdict::Delay(msg, 1_000_000),
            3 => {
                ctx.inject(from, to, msg.clone(), 5);
                Verdict::Pass(msg)
            }
            _ => Verdict::Pass(msg),
        }
    }
}

/// Records the time and payload of every message it receives.
#[derive(Default)]
struct Recorder {
    got: Vec<(u64, u32)>,
}

impl Actor<Ping> for Recorder {
    fn on_event(&mut self, ev: Event<Ping>, ctx: &mut Ctx<'_, Ping>) {
        if let Event::Message { msg, .. } = ev {
            self.got.push((ctx.now().as_ns(), msg.0));
        }
    }
}

#[test]
fn on_path_tap_drops_delays_and_replays() {
    let drops = Rc::new(RefCell::new(Vec::new()));
    let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(sim_core::trace::NullSink));
    let d2 = drops.clone();
    trace.observe(Box::new(move |rec| {
        if let TraceEvent::Drop { cause, .. } = rec.ev {
            d2.borrow_mut().push(cause);
        }
    }));
    let mut sim = Simulation::new(1, Box::new(IdealNetwork { latency_ns: 10 }), trace);
    let a = sim.add_actor(spec("a", CpuSpec::UNLIMITED), Box::new(Recorder::default()));
    let b = sim.add_actor(spec("b", CpuSpec::UNLIMITED), Box::new(Recorder::default()));
    sim.set_tap(Box::new(TestTap { seen: 0 }));
    for i in 1..=3 {
        sim.inject(a, b, Ping(i));
    }
    sim.run(&RunLimits::default(), &mut |_, _| {});
    // 1 dropped; 3 delivered at 10 ns, its replay at 5+10; 2 delayed 1 ms then 10 ns.
    assert_eq!(
        sim.actor::<Recorder>(b).unwrap().got,
        vec![(10, 3), (15, 3), (1_000_010, 2)]
    );
    assert_eq!(*drops.borrow(), vec![DropCause::Adversary]);
}

/// Sets a timer at 5 ns and one at 100 ns, cancels the first at start.
struct CancelFirst;

impl Actor<Ping> for CancelFirst {
    fn on_event(&mut self, ev: Event<Ping>, ctx: &mut Ctx<'_, Ping>) {
        if let Event::Start = ev {
            let t = ctx.set_timer(5, 0);
            ctx.set_timer(100, 1);
            ctx.cancel_timer(t);
        }
    }
}

#[test]
fn horizon_holds_when_the_earliest_entry_is_a_cancelled_timer() {
    let mut sim = Simulation::new(
        1,
        Box::new(IdealNetwork { latency_ns: 1 }),
        TraceRecorder::disabled(),
    );
    sim.add_actor(spec("c", CpuSpec::UNLIMITED), Box::new(CancelFirst));
    let r = sim.run(
        &RunLimits {
            horizon: Some(SimTime::from_ns(50)),
            ..Default::default()
        },
        &mut |_, _| {},
    );
    assert_eq!(
        (r.reason, r.end, r.events),
        (StopReason::Horizon, SimTime::from_ns(50), 1)
    );
}
