//! Actors and the context they act through.
//!
//! An actor is a state machine with one handler, [`Actor::on_event`]. Everything it does to
//! the world — send, set or cancel a timer, draw randomness, charge CPU time, record an
//! outcome — goes through [`Ctx`], which is what keeps runs deterministic and traced.

use super::queue::EntryId;
use super::rng::SimRng;
use super::sim::Core;
use super::time::SimTime;
use crate::trace::TraceEvent;
use std::any::Any;

/// Identity of an actor within a run (its index; stable names live in the trace header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ActorId(pub u32);

/// Identity of a message within a run (network duplicates get their own id).
pub type MsgId = u64;

/// Handle of a pending timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub(crate) EntryId);

impl TimerId {
    /// A stable number for traces.
    pub fn as_u64(self) -> u64 {
        self.0.as_u64()
    }
}

/// What the engine needs to know about a message to move it.
pub trait Message: Clone + 'static {
    /// Message type for traces, e.g. `roap:roRequest`.
    fn kind(&self) -> &'static str;
    /// Size on the wire in bytes.
    fn size_bytes(&self) -> u32;
}

/// Something that happened to an actor.
#[derive(Debug)]
pub enum Event<M> {
    /// The actor arrived (its start time was reached).
    Start,
    /// A message was delivered (for servers: a worker picked it up).
    Message {
        /// Sender.
        from: ActorId,
        /// Message id.
        msg_id: MsgId,
        /// The message.
        msg: M,
    },
    /// A timer fired.
    Timer {
        /// Which timer.
        timer: TimerId,
        /// The tag given when it was set.
        tag: u64,
    },
    /// Reject policy: the server's queue was full; the handler may send a cheap refusal.
    Overloaded {
        /// Sender.
        from: ActorId,
        /// Message id.
        msg_id: MsgId,
        /// The refused message.
        msg: M,
    },
}

/// A simulated participant. Actors must be `'static` so tests and monitors can downcast.
pub trait Actor<M: Message>: Any {
    /// Handles one event. Runs in zero wall-clock-visible time; CPU cost is charged via
    /// [`Ctx::charge_ns`].
    fn on_event(&mut self, ev: Event<M>, ctx: &mut Ctx<'_, M>);
}

/// A message an actor asked to send; released when its CPU work completes.
#[derive(Debug)]
pub(crate) struct Outgoing<M> {
    pub(crate) to: ActorId,
    pub(crate) msg: M,
}

/// The actor's window on the world during one event.
pub struct Ctx<'a, M: Message> {
    pub(crate) core: &'a mut Core<M>,
    pub(crate) me: ActorId,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) charged_ns: u64,
    pub(crate) outgoing: Vec<Outgoing<M>>,
}

impl<'a, M: Message> Ctx<'a, M> {
    /// Current virtual time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// This actor's id.
    #[inline]
    pub fn me(&self) -> ActorId {
        self.me
    }

    /// This actor's private random stream.
    #[inline]
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// Charges `ns` of virtual CPU time to this event. For a server the worker stays busy
    /// that long; for any actor, messages sent during this event leave when the work is done.
    #[inline]
    pub fn charge_ns(&mut self, ns: u64) {
        self.charged_ns = self.charged_ns.saturating_add(ns);
    }

    /// CPU time charged so far in this event.
    pub fn charged_ns(&self) -> u64 {
        self.charged_ns
    }

    /// Sends `msg` to `to`. It leaves once this event's charged CPU time has elapsed.
    #[inline]
    pub fn send(&mut self, to: ActorId, msg: M) {
        self.outgoing.push(Outgoing { to, msg });
    }

    /// Sets a timer firing `delay_ns` from now, carrying `tag`.
    pub fn set_timer(&mut self, delay_ns: u64, tag: u64) -> TimerId {
        let me = self.me;
        self.core.set_timer(me, delay_ns, tag)
    }

    /// Cancels a timer; returns whether it was still pending.
    pub fn cancel_timer(&mut self, timer: TimerId) -> bool {
        let me = self.me;
        self.core.cancel_timer(me, timer)
    }

    /// Records a protocol outcome from this actor's point of view: counted online in the
    /// run's [`super::OutcomeTable`] (trace or not) and traced as an `outcome` record.
    pub fn outcome(
        &mut self,
        protocol: &str,
        peer: Option<ActorId>,
        status: &str,
        latency_ns: u64,
        attempts: u32,
    ) {
        self.core.outcomes.record(protocol, status, latency_ns);
        if !self.core.trace.active() {
            return;
        }
        let actor = self.me.0;
        self.trace(TraceEvent::Outcome {
            actor,
            peer: peer.map(|p| p.0),
            protocol: protocol.to_string(),
            status: status.to_string(),
            latency_ns,
            attempts,
        });
    }

    /// Records an arbitrary trace event at the current time.
    pub fn trace(&mut self, ev: TraceEvent) {
        let now = self.core.now.0;
        self.core.trace.record(now, ev);
    }

    /// Whether trace records are wanted, written or observed (skip building expensive
    /// records when not).
    pub fn tracing(&self) -> bool {
        self.core.trace.active()
    }

    /// The actor id registered under `name`, if any.
    pub fn lookup(&self, name: &str) -> Option<ActorId> {
        self.core.names.get(name).copied()
    }

    /// The master seed of the run (for deriving further named streams).
    pub fn master_seed(&self) -> u64 {
        self.core.seed
    }
}
