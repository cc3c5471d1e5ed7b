//! The bare-engine workload used by the criterion benchmark and `drmsim bench engine`:
//! N actors, each repeatedly scheduling its next event after a uniform random delay of
//! 1–1000 ticks (1 tick = 1 ns), with tracing off. Timing is the caller's business (no
//! wall clock in sim-core).

use super::{Actor, ActorSpec, CpuSpec, Ctx, Event, Message, RunLimits, Simulation, StopReason};
use crate::net::{GroupId, IdealNetwork};
use crate::trace::TraceRecorder;
use rand::Rng;

/// The benchmark's message type (never sent; the workload is timers only).
#[derive(Debug, Clone, Copy)]
pub struct TickMsg;

impl Message for TickMsg {
    fn kind(&self) -> &'static str {
        "tick"
    }
    fn size_bytes(&self) -> u32 {
        0
    }
}

/// An actor that reschedules itself after 1–1000 ticks forever.
#[derive(Debug, Default)]
pub struct TickActor {
    /// Events this actor handled.
    pub fired: u64,
}

impl Actor<TickMsg> for TickActor {
    fn on_event(&mut self, _ev: Event<TickMsg>, ctx: &mut Ctx<'_, TickMsg>) {
        self.fired += 1;
        let delay = ctx.rng().gen_range(1..=1000u64);
        ctx.set_timer(delay, 0);
    }
}

/// Builds the workload with `actors` actors, all starting at t=0.
pub fn engine_workload(actors: u32, seed: u64) -> Simulation<TickMsg> {
    let mut sim = Simulation::new(
        seed,
        Box::new(IdealNetwork { latency_ns: 1 }),
        TraceRecorder::disabled(),
    );
    for i in 0..actors {
        sim.add_actor(
            ActorSpec {
                name: format!("tick/{i}"),
                kind: "tick".into(),
                group: GroupId(0),
                group_name: "all".into(),
                cpu: CpuSpec::UNLIMITED,
                start_at: crate::engine::SimTime::ZERO,
            },
            Box::new(TickActor::default()),
        );
    }
    sim
}

/// Runs `events` events of the workload; returns the number processed (always `events`).
pub fn run_engine_workload(sim: &mut Simulation<TickMsg>, events: u64) -> u64 {
    let report = sim.run(
        &RunLimits {
            event_budget: Some(events),
            ..Default::default()
        },
        &mut |_, _| {},
    );
    debug_assert_eq!(report.reason, StopReason::EventBudget);
    report.events
}

/// The same workload as a plain `std::collections::BinaryHeap` loop, no engine: the events
/// are (time, scheduling sequence, actor), popped in that order (FIFO ties, as the engine
/// does), each drawing its next delay from the same per-actor stream the engine gives
/// `tick/<i>`. After `events` events it returns the virtual time reached, which equals the
/// engine's (`Simulation::now`) on the same workload: the two process the same events.
pub fn binary_heap_baseline(actors: u32, seed: u64, events: u64) -> u64 {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut rngs: Vec<_> = (0..actors)
        .map(|i| super::rng::stream(seed, &format!("tick/{i}"), "actor"))
        .collect();
    let mut heap = BinaryHeap::with_capacity(actors as usize);
    let mut seq = 0u64;
    for i in 0..actors {
        heap.push(Reverse((0u64, seq, i)));
        seq += 1;
    }
    let mut now = 0;
    for _ in 0..events {
        let Some(Reverse((t, _, a))) = heap.pop() else {
            break;
        };
        now = t;
        let delay = rngs[a as usize].gen_range(1..=1000u64);
        heap.push(Reverse((t + delay, seq, a)));
        seq += 1;
    }
    now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_processes_the_same_events_as_the_engine() {
        for (actors, events) in [(1, 50), (7, 1_000), (300, 20_000)] {
            let mut sim = engine_workload(actors, 5);
            assert_eq!(run_engine_workload(&mut sim, events), events);
            assert_eq!(
                sim.now().as_ns(),
                binary_heap_baseline(actors, 5, events),
                "{actors} actors"
            );
        }
    }
}
