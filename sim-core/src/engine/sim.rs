//! The simulation: actors, the event loop, message routing through the network model and
//! the server CPU model (N workers, bounded queue, drop or reject when full).

use super::actor::{Actor, ActorId, Ctx, Event, Message, MsgId, Outgoing, TimerId};
use super::outcomes::OutcomeTable;
use super::queue::{EntryId, EventQueue};
use super::rng::{stream, SimRng};
use super::tap::{Tap, TapCtx, Verdict};
use super::time::SimTime;
use crate::net::{Fate, GroupId, NetworkModel};
use crate::trace::{DropCause, TraceEvent, TraceRecorder};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What happens to a request that arrives when a server's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Silently dropped (traced as `queue_full`); the client times out.
    #[default]
    Drop,
    /// Refused: traced as `rejected` and handed to the actor as [`Event::Overloaded`] so it
    /// can answer with a cheap busy status at zero CPU cost.
    Reject,
}

/// The CPU model of one actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSpec {
    /// Parallel workers; 0 = no queueing (handlers run on arrival; charged time only delays
    /// the outputs). Devices use 0, servers ≥ 1.
    pub workers: u32,
    /// Requests that may wait when all workers are busy.
    pub queue_capacity: u32,
    /// What to do when the queue is full.
    pub overflow: Overflow,
}

impl CpuSpec {
    /// No CPU contention (clients).
    pub const UNLIMITED: CpuSpec = CpuSpec {
        workers: 0,
        queue_capacity: 0,
        overflow: Overflow::Drop,
    };

    /// A server with `workers` workers and a queue of `queue_capacity`.
    pub fn server(workers: u32, queue_capacity: u32, overflow: Overflow) -> Self {
        CpuSpec {
            workers: workers.max(1),
            queue_capacity,
            overflow,
        }
    }
}

/// How to register an actor.
#[derive(Debug, Clone)]
pub struct ActorSpec {
    /// Stable unique name (`agent/17`); seeds the actor's RNG stream.
    pub name: String,
    /// Kind for traces and metrics (`agent`, `ri`, …).
    pub kind: String,
    /// Network group.
    pub group: GroupId,
    /// Group name for the trace header.
    pub group_name: String,
    /// CPU model.
    pub cpu: CpuSpec,
    /// When the actor receives [`Event::Start`].
    pub start_at: SimTime,
}

/// Limits of one run; the first reached stops it.
#[derive(Debug, Clone, Default)]
pub struct RunLimits {
    /// Stop before processing any event later than this.
    pub horizon: Option<SimTime>,
    /// Stop after this many events.
    pub event_budget: Option<u64>,
    /// Stop (as interrupted) when this becomes true; polled every 4096 events.
    pub stop_flag: Option<Arc<AtomicBool>>,
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The next event lay beyond the horizon.
    Horizon,
    /// No event was left.
    Quiescent,
    /// The event budget was spent.
    EventBudget,
    /// The stop flag was raised (Ctrl-C).
    Interrupted,
}

impl StopReason {
    /// Name used in traces and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Horizon => "horizon",
            StopReason::Quiescent => "quiescent",
            StopReason::EventBudget => "event_budget",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// Result of [`Simulation::run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    /// Why it stopped.
    pub reason: StopReason,
    /// Events processed in this call.
    pub events: u64,
    /// Virtual time when it stopped.
    pub end: SimTime,
}

pub(crate) enum Pending<M> {
    Start {
        actor: ActorId,
    },
    Deliver {
        from: ActorId,
        to: ActorId,
        msg_id: MsgId,
        msg: M,
        sent_at: SimTime,
    },
    Timer {
        actor: ActorId,
        tag: u64,
    },
    /// A message held or injected by the tap enters the network now, bypassing the tap.
    Release {
        from: ActorId,
        to: ActorId,
        msg: M,
    },
    /// CPU work finished: release outputs, and free the worker when `worker` is set.
    Done {
        actor: ActorId,
        msg_id: MsgId,
        service_ns: u64,
        worker: bool,
        outgoing: Vec<Outgoing<M>>,
    },
}

struct Queued<M> {
    from: ActorId,
    msg_id: MsgId,
    msg: M,
    enqueued_at: SimTime,
}

struct Cpu<M> {
    spec: CpuSpec,
    busy: u32,
    queue: VecDeque<Queued<M>>,
}

struct Slot<M: Message> {
    actor: Option<Box<dyn Actor<M>>>,
    rng: SimRng,
    group: GroupId,
    cpu: Cpu<M>,
}

/// Engine state shared by all actors (everything but the actors themselves).
pub struct Core<M: Message> {
    pub(crate) now: SimTime,
    pub(crate) seed: u64,
    pub(crate) queue: EventQueue<Pending<M>>,
    pub(crate) trace: TraceRecorder,
    pub(crate) names: BTreeMap<String, ActorId>,
    pub(crate) outcomes: OutcomeTable,
    net: Box<dyn NetworkModel>,
    next_msg_id: MsgId,
    groups: Vec<GroupId>,
    events: u64,
    tap: Option<(Box<dyn Tap<M>>, SimRng)>,
    send_observer: Option<SendObserver<M>>,
    sent_observer: Option<SendObserver<M>>,
}

/// Sees every message as it enters the network: (virtual time, message id, from, to, message).
/// For capture and monitoring only; it cannot change anything.
pub type SendObserver<M> = Box<dyn FnMut(SimTime, MsgId, ActorId, ActorId, &M)>;

/// A hook run after every event with the whole simulation: lets an adversary act on a
/// compromised endpoint's state between events (a Device rolling back its RO store),
/// deterministically, without a message.
pub type AfterEvent<M> = Box<dyn FnMut(&mut Simulation<M>)>;

impl<M: Message> Core<M> {
    pub(crate) fn set_timer(&mut self, actor: ActorId, delay_ns: u64, tag: u64) -> TimerId {
        let at = self.now.add_ns(delay_ns);
        let id = TimerId(self.queue.push(at, Pending::Timer { actor, tag }));
        if self.trace.timers() {
            self.trace.record(
                self.now.0,
                TraceEvent::TimerSet {
                    actor: actor.0,
                    timer: id.as_u64(),
                    at: at.0,
                },
            );
        }
        id
    }

    pub(crate) fn cancel_timer(&mut self, actor: ActorId, timer: TimerId) -> bool {
        match self.queue.get(timer.0) {
            Some(Pending::Timer { actor: owner, .. }) if *owner == actor => {}
            _ => return false,
        }
        self.queue.cancel(timer.0);
        if self.trace.timers() {
            self.trace.record(
                self.now.0,
                TraceEvent::TimerCancel {
                    actor: actor.0,
                    timer: timer.as_u64(),
                },
            );
        }
        true
    }

    fn route(&mut self, from: ActorId, out: Outgoing<M>) {
        if let Some(obs) = self.sent_observer.as_mut() {
            // What the actor sent, before any adversary: the id is the one the message gets
            // if it passes the tap unchanged.
            obs(self.now, self.next_msg_id, from, out.to, &out.msg);
        }
        let Some((mut tap, mut rng)) = self.tap.take() else {
            self.route_untapped(from, out.to, out.msg);
            return;
        };
        let to = out.to;
        let (kind, bytes) = (out.msg.kind(), out.msg.size_bytes());
        let mut tctx = TapCtx {
            now: self.now,
            rng: &mut rng,
            injections: Vec::new(),
            records: Vec::new(),
        };
        let verdict = tap.on_send(from, to, out.msg, &mut tctx);
        let TapCtx {
            injections,
            records,
            ..
        } = tctx;
        self.tap = Some((tap, rng));
        for ev in records {
            self.trace.record(self.now.0, ev);
        }
        match verdict {
            Verdict::Pass(msg) => self.route_untapped(from, to, msg),
            Verdict::Drop => {
                // The sender did its part; the message was removed in transit.
                let msg_id = self.next_msg_id;
                self.next_msg_id += 1;
                self.trace_send(msg_id, from, to, kind, bytes);
                self.drop_msg(msg_id, from, to, kind, DropCause::Adversary);
            }
            Verdict::Delay(msg, delay_ns) => {
                let at = self.now.add_ns(delay_ns);
                self.queue.push(at, Pending::Release { from, to, msg });
            }
        }
        for inj in injections {
            let at = self.now.add_ns(inj.delay_ns);
            self.queue.push(
                at,
                Pending::Release {
                    from: inj.from,
                    to: inj.to,
                    msg: inj.msg,
                },
            );
        }
    }

    fn route_untapped(&mut self, from: ActorId, to: ActorId, msg: M) {
        let out = Outgoing { to, msg };
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        let kind = out.msg.kind();
        let bytes = out.msg.size_bytes();
        self.trace_send(msg_id, from, to, kind, bytes);
        if let Some(obs) = self.send_observer.as_mut() {
            obs(self.now, msg_id, from, to, &out.msg);
        }
        let (Some(&fg), Some(&tg)) = (
            self.groups.get(from.0 as usize),
            self.groups.get(to.0 as usize),
        ) else {
            self.drop_msg(msg_id, from, to, kind, DropCause::DeadActor);
            return;
        };
        match self.net.route(self.now, fg, tg, bytes) {
            Fate::Drop(cause) => self.drop_msg(msg_id, from, to, kind, cause),
            Fate::Deliver { at, duplicate_at } => {
                if let Some(dup_at) = duplicate_at {
                    let dup = self.next_msg_id;
                    self.next_msg_id += 1;
                    if self.trace.active() {
                        self.trace.record(
                            self.now.0,
                            TraceEvent::Duplicate {
                                msg: msg_id,
                                dup,
                                from: from.0,
                                to: to.0,
                                msg_type: kind.to_string(),
                            },
                        );
                    }
                    let sent_at = self.now;
                    self.queue.push(
                        dup_at,
                        Pending::Deliver {
                            from,
                            to,
                            msg_id: dup,
                            msg: out.msg.clone(),
                            sent_at,
                        },
                    );
                }
                let sent_at = self.now;
                self.queue.push(
                    at,
                    Pending::Deliver {
                        from,
                        to,
                        msg_id,
                        msg: out.msg,
                        sent_at,
                    },
                );
            }
        }
    }

    fn trace_send(&mut self, msg: MsgId, from: ActorId, to: ActorId, kind: &str, bytes: u32) {
        if self.trace.active() {
            self.trace.record(
                self.now.0,
                TraceEvent::Send {
                    msg,
                    from: from.0,
                    to: to.0,
                    msg_type: kind.to_string(),
                    bytes,
                },
            );
        }
    }

    fn drop_msg(&mut self, msg: MsgId, from: ActorId, to: ActorId, kind: &str, cause: DropCause) {
        if self.trace.active() {
            self.trace.record(
                self.now.0,
                TraceEvent::Drop {
                    msg,
                    from: from.0,
                    to: to.0,
                    msg_type: kind.to_string(),
                    cause,
                },
            );
        }
    }
}

/// A deterministic discrete-event simulation over messages of type `M`.
pub struct Simulation<M: Message> {
    core: Core<M>,
    slots: Vec<Slot<M>>,
    after_event: Option<AfterEvent<M>>,
}

impl<M: Message> Simulation<M> {
    /// A simulation with master seed `seed`, network model `net` and trace recorder `trace`.
    pub fn new(seed: u64, net: Box<dyn NetworkModel>, trace: TraceRecorder) -> Self {
        Simulation {
            core: Core {
                now: SimTime::ZERO,
                seed,
                queue: EventQueue::new(),
                trace,
                names: BTreeMap::new(),
                outcomes: OutcomeTable::default(),
                net,
                next_msg_id: 0,
                groups: Vec::new(),
                events: 0,
                tap: None,
                send_observer: None,
                sent_observer: None,
            },
            slots: Vec::new(),
            after_event: None,
        }
    }

    /// Records the run header; call once before adding actors.
    pub fn record_header(&mut self, scenario: &str, crypto: &str) {
        let seed = self.core.seed;
        self.core.trace.record(
            0,
            TraceEvent::RunStart {
                schema: 1,
                seed,
                scenario: scenario.to_string(),
                crypto: crypto.to_string(),
            },
        );
    }

    /// Registers an actor; it receives [`Event::Start`] at `spec.start_at`.
    ///
    /// # Panics
    /// If the name is already taken (a scenario-construction bug, not a runtime condition).
    pub fn add_actor(&mut self, spec: ActorSpec, actor: Box<dyn Actor<M>>) -> ActorId {
        let id = ActorId(self.slots.len() as u32);
        assert!(
            self.core.names.insert(spec.name.clone(), id).is_none(),
            "duplicate actor name {}",
            spec.name
        );
        if self.core.trace.active() {
            self.core.trace.record(
                self.core.now.0,
                TraceEvent::Actor {
                    id: id.0,
                    kind: spec.kind.clone(),
                    name: spec.name.clone(),
                    group: spec.group_name.clone(),
                    workers: spec.cpu.workers,
                },
            );
        }
        self.slots.push(Slot {
            actor: Some(actor),
            rng: stream(self.core.seed, &spec.name, "actor"),
            group: spec.group,
            cpu: Cpu {
                spec: spec.cpu,
                busy: 0,
                queue: VecDeque::new(),
            },
        });
        self.core.groups.push(spec.group);
        let at = spec.start_at.max(self.core.now);
        self.core.queue.push(at, Pending::Start { actor: id });
        id
    }

    /// The id of the actor named `name`.
    pub fn lookup(&self, name: &str) -> Option<ActorId> {
        self.core.names.get(name).copied()
    }

    /// Number of actors.
    pub fn actor_count(&self) -> usize {
        self.slots.len()
    }

    /// The actor `id` as its concrete type, for inspection after (or between) runs.
    pub fn actor<T: 'static>(&self, id: ActorId) -> Option<&T> {
        let a: &dyn Actor<M> = self.slots.get(id.0 as usize)?.actor.as_deref()?;
        (a as &dyn std::any::Any).downcast_ref::<T>()
    }

    /// The actor `id` as its concrete type, mutably (tests and adversary set-up).
    pub fn actor_mut<T: 'static>(&mut self, id: ActorId) -> Option<&mut T> {
        let a: &mut dyn Actor<M> = self.slots.get_mut(id.0 as usize)?.actor.as_deref_mut()?;
        (a as &mut dyn std::any::Any).downcast_mut::<T>()
    }

    /// Group of actor `id`.
    pub fn group_of(&self, id: ActorId) -> Option<GroupId> {
        self.slots.get(id.0 as usize).map(|s| s.group)
    }

    /// Current virtual time.
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.core.events
    }

    /// Live entries in the event queue.
    pub fn pending(&self) -> usize {
        self.core.queue.len()
    }

    /// Protocol outcomes counted online so far (independent of the trace).
    pub fn outcomes(&self) -> &OutcomeTable {
        &self.core.outcomes
    }

    /// The trace recorder (digest, record count).
    pub fn trace(&self) -> &TraceRecorder {
        &self.core.trace
    }

    /// The trace recorder, mutably (to attach observers).
    pub fn trace_mut(&mut self) -> &mut TraceRecorder {
        &mut self.core.trace
    }

    /// Records a trace event from outside any actor (runner, monitors).
    pub fn record(&mut self, ev: TraceEvent) {
        let now = self.core.now.0;
        self.core.trace.record(now, ev);
    }

    /// Installs the on-path tap (adversaries); it sees every message at send time. Its
    /// random stream is `(seed, "tap", "adversary")`.
    pub fn set_tap(&mut self, tap: Box<dyn Tap<M>>) {
        let rng = stream(self.core.seed, "tap", "adversary");
        self.core.tap = Some((tap, rng));
    }

    /// Installs an observer of every message entering the network (PDU capture).
    pub fn set_send_observer(&mut self, obs: SendObserver<M>) {
        self.core.send_observer = Some(obs);
    }

    /// Installs an observer of every message an actor sends, before the tap (an adversary) can
    /// drop, change or add anything: the honest endpoints' traffic (PDU capture for the
    /// independent cross-check).
    pub fn set_sent_observer(&mut self, obs: SendObserver<M>) {
        self.core.sent_observer = Some(obs);
    }

    /// Installs the hook run after every event (replacing any earlier one).
    pub fn set_after_event(&mut self, hook: AfterEvent<M>) {
        self.after_event = Some(hook);
    }

    /// Schedules a message from `from` to `to` as if `from` sent it now (tests, injectors).
    pub fn inject(&mut self, from: ActorId, to: ActorId, msg: M) {
        self.core.route(from, Outgoing { to, msg });
    }

    /// Runs until a limit is reached or nothing is left to do. `progress` is called every
    /// 65,536 events with the current virtual time.
    pub fn run(&mut self, limits: &RunLimits, progress: &mut dyn FnMut(SimTime, u64)) -> RunReport {
        let start_events = self.core.events;
        let reason = loop {
            let processed = self.core.events - start_events;
            if let Some(b) = limits.event_budget {
                if processed >= b {
                    break StopReason::EventBudget;
                }
            }
            if processed & 0xFFF == 0 {
                if let Some(f) = &limits.stop_flag {
                    if f.load(Ordering::Relaxed) {
                        break StopReason::Interrupted;
                    }
                }
                if processed & 0xFFFF == 0 && processed > 0 {
                    progress(self.core.now, self.core.events);
                }
            }
            let Some(next) = self.core.queue.peek_time() else {
                break StopReason::Quiescent;
            };
            if let Some(h) = limits.horizon {
                if next > h {
                    self.core.now = self.core.now.max(h);
                    break StopReason::Horizon;
                }
            }
            let Some((at, entry, pending)) = self.core.queue.pop() else {
                break StopReason::Quiescent;
            };
            self.core.now = at;
            self.core.events += 1;
            self.prefetch_next();
            self.dispatch(entry, pending);
            if let Some(mut hook) = self.after_event.take() {
                hook(self);
                self.after_event.get_or_insert(hook);
            }
        };
        RunReport {
            reason,
            events: self.core.events - start_events,
            end: self.core.now,
        }
    }

    /// Ends the run: in-flight messages are traced as dropped (`in_flight_at_end`), the
    /// `run_end` record is written, and the recorder is returned for flushing.
    pub fn finish(mut self, reason: StopReason) -> TraceRecorder {
        self.finish_in_place(reason)
    }

    /// [`Simulation::finish`] without giving up the simulation: the actors stay for
    /// inspection, and a caller about to exit may leak them instead of paying for their
    /// teardown. The simulation keeps a disabled recorder afterwards.
    pub fn finish_in_place(&mut self, reason: StopReason) -> TraceRecorder {
        let now = self.core.now;
        // With nobody to tell (trace off, no observer), the in-flight accounting below is
        // pure teardown: skip it, the queue goes with the simulation.
        let account = self.core.trace.active();
        for (_, p) in account
            .then(|| self.core.queue.drain_ordered())
            .into_iter()
            .flatten()
        {
            if let Pending::Deliver {
                from,
                to,
                msg_id,
                msg,
                ..
            } = p
            {
                self.core
                    .drop_msg(msg_id, from, to, msg.kind(), DropCause::InFlightAtEnd);
            }
        }
        // Requests still waiting in a server queue never got an answer: account for them.
        for (idx, slot) in self.slots.iter_mut().enumerate().filter(|_| account) {
            for q in slot.cpu.queue.drain(..) {
                self.core.drop_msg(
                    q.msg_id,
                    q.from,
                    ActorId(idx as u32),
                    q.msg.kind(),
                    DropCause::InFlightAtEnd,
                );
            }
        }
        let events = self.core.events;
        self.core.trace.record(
            now.0,
            TraceEvent::RunEnd {
                reason: reason.as_str().to_string(),
                events,
            },
        );
        std::mem::replace(&mut self.core.trace, TraceRecorder::disabled())
    }

    /// Asks the CPU to start loading the slot of the actor the next event goes to while this
    /// event runs: with actors spread over megabytes, that slot is otherwise a cache miss the
    /// event loop waits for. A hint only; it changes no state and no order.
    #[inline]
    fn prefetch_next(&self) {
        {
            let actor = match self.core.queue.next_ready() {
                Some(Pending::Timer { actor, .. })
                | Some(Pending::Start { actor })
                | Some(Pending::Done { actor, .. }) => *actor,
                Some(Pending::Deliver { to, .. }) => *to,
                _ => return,
            };
            if let Some(slot) = self.slots.get(actor.0 as usize) {
                // A load nothing waits for (no `unsafe` prefetch intrinsic: the crate forbids
                // unsafe code): the out-of-order core issues it and runs on.
                std::hint::black_box(slot.actor.is_some());
            }
        }
    }

    fn dispatch(&mut self, entry: EntryId, pending: Pending<M>) {
        match pending {
            Pending::Start { actor } => self.handle(actor, Event::Start, None),
            Pending::Timer { actor, tag } => {
                let timer = TimerId(entry);
                if self.core.trace.timers() {
                    self.core.trace.record(
                        self.core.now.0,
                        TraceEvent::TimerFire {
                            actor: actor.0,
                            timer: timer.as_u64(),
                        },
                    );
                }
                self.handle(actor, Event::Timer { timer, tag }, None)
            }
            Pending::Deliver {
                from,
                to,
                msg_id,
                msg,
                sent_at,
            } => self.deliver(from, to, msg_id, msg, sent_at),
            Pending::Release { from, to, msg } => self.core.route_untapped(from, to, msg),
            Pending::Done {
                actor,
                msg_id,
                service_ns,
                worker,
                outgoing,
            } => {
                if worker && self.core.trace.active() {
                    self.core.trace.record(
                        self.core.now.0,
                        TraceEvent::ServiceEnd {
                            actor: actor.0,
                            msg: msg_id,
                            service_ns,
                        },
                    );
                }
                for out in outgoing {
                    self.core.route(actor, out);
                }
                if worker {
                    self.worker_free(actor);
                }
            }
        }
    }

    fn deliver(&mut self, from: ActorId, to: ActorId, msg_id: MsgId, msg: M, sent_at: SimTime) {
        let Some(slot) = self.slots.get_mut(to.0 as usize) else {
            self.core
                .drop_msg(msg_id, from, to, msg.kind(), DropCause::DeadActor);
            return;
        };
        if self.core.trace.active() {
            self.core.trace.record(
                self.core.now.0,
                TraceEvent::Deliver {
                    msg: msg_id,
                    from: from.0,
                    to: to.0,
                    msg_type: msg.kind().to_string(),
                    bytes: msg.size_bytes(),
                    latency_ns: self.core.now.since(sent_at),
                },
            );
        }
        let cpu = &mut slot.cpu;
        if cpu.spec.workers == 0 {
            self.handle(to, Event::Message { from, msg_id, msg }, None);
        } else if cpu.busy < cpu.spec.workers {
            cpu.busy += 1;
            self.start_service(to, from, msg_id, msg, 0);
        } else if (cpu.queue.len() as u32) < cpu.spec.queue_capacity {
            cpu.queue.push_back(Queued {
                from,
                msg_id,
                msg,
                enqueued_at: self.core.now,
            });
            let queue_len = cpu.queue.len() as u32;
            if self.core.trace.active() {
                self.core.trace.record(
                    self.core.now.0,
                    TraceEvent::Enqueue {
                        actor: to.0,
                        msg: msg_id,
                        queue_len,
                    },
                );
            }
        } else {
            match cpu.spec.overflow {
                Overflow::Drop => {
                    self.core
                        .drop_msg(msg_id, from, to, msg.kind(), DropCause::QueueFull)
                }
                Overflow::Reject => {
                    self.core
                        .drop_msg(msg_id, from, to, msg.kind(), DropCause::Rejected);
                    self.handle(to, Event::Overloaded { from, msg_id, msg }, None);
                }
            }
        }
    }

    /// A worker (already counted busy) starts on a message.
    fn start_service(
        &mut self,
        actor: ActorId,
        from: ActorId,
        msg_id: MsgId,
        msg: M,
        queue_delay_ns: u64,
    ) {
        if self.core.trace.active() {
            let cpu = &self.slots[actor.0 as usize].cpu;
            let (busy, queue_len) = (cpu.busy, cpu.queue.len() as u32);
            self.core.trace.record(
                self.core.now.0,
                TraceEvent::ServiceStart {
                    actor: actor.0,
                    msg: msg_id,
                    queue_delay_ns,
                    busy,
                    queue_len,
                },
            );
        }
        self.handle(actor, Event::Message { from, msg_id, msg }, Some(msg_id));
    }

    fn worker_free(&mut self, actor: ActorId) {
        let slot = &mut self.slots[actor.0 as usize];
        slot.cpu.busy = slot.cpu.busy.saturating_sub(1);
        if slot.cpu.busy < slot.cpu.spec.workers {
            if let Some(q) = slot.cpu.queue.pop_front() {
                slot.cpu.busy += 1;
                let delay = self.core.now.since(q.enqueued_at);
                self.start_service(actor, q.from, q.msg_id, q.msg, delay);
            }
        }
    }

    /// Runs the actor's handler. `service` is the message id when a worker is occupied.
    fn handle(&mut self, id: ActorId, ev: Event<M>, service: Option<MsgId>) {
        let Some(slot) = self.slots.get_mut(id.0 as usize) else {
            return;
        };
        // Disjoint borrows: the actor and its RNG live in the slot, the rest in `core`.
        let Some(actor) = slot.actor.as_deref_mut() else {
            return;
        };
        let mut ctx = Ctx {
            core: &mut self.core,
            me: id,
            rng: &mut slot.rng,
            charged_ns: 0,
            outgoing: Vec::new(),
        };
        actor.on_event(ev, &mut ctx);
        let charged = ctx.charged_ns;
        let outgoing = std::mem::take(&mut ctx.outgoing);
        match service {
            Some(msg_id) => {
                let at = self.core.now.add_ns(charged);
                self.core.queue.push(
                    at,
                    Pending::Done {
                        actor: id,
                        msg_id,
                        service_ns: charged,
                        worker: true,
                        outgoing,
                    },
                );
            }
            None if charged == 0 => {
                for out in outgoing {
                    self.core.route(id, out);
                }
            }
            None => {
                if !outgoing.is_empty() {
                    let at = self.core.now.add_ns(charged);
                    self.core.queue.push(
                        at,
                        Pending::Done {
                            actor: id,
                            msg_id: 0,
                            service_ns: charged,
                            worker: false,
                            outgoing,
                        },
                    );
                }
            }
        }
    }
}
