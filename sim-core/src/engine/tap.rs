//! The on-path interception hook: adversaries positioned on links see every message before
//! the network model does and may pass, drop, delay, replace it or inject others (replays).

use super::actor::{ActorId, Message};
use super::rng::SimRng;
use super::time::SimTime;
use crate::trace::TraceEvent;

/// What an on-path tap does with a message.
#[derive(Debug)]
pub enum Verdict<M> {
    /// Forward (possibly modified) to the network.
    Pass(M),
    /// Remove it (traced as a drop with cause `adversary`).
    Drop,
    /// Hold it for `delay_ns`, then hand it to the network.
    Delay(M, u64),
}

/// A message the tap wants to send (replay, forgery), as if from `from`.
#[derive(Debug)]
pub struct Injection<M> {
    /// Claimed sender (receivers see this as the transport source).
    pub from: ActorId,
    /// Receiver.
    pub to: ActorId,
    /// The message.
    pub msg: M,
    /// Delay before it enters the network.
    pub delay_ns: u64,
}

/// The tap's view of the world while it inspects one message.
pub struct TapCtx<'a, M> {
    pub(crate) now: SimTime,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) injections: Vec<Injection<M>>,
    pub(crate) records: Vec<TraceEvent>,
}

impl<'a, M: Message> TapCtx<'a, M> {
    /// Current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }
    /// The tap's own random stream.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }
    /// Sends `msg` to `to` claiming to be `from`, after `delay_ns`. Injected messages do not
    /// pass through the tap again.
    pub fn inject(&mut self, from: ActorId, to: ActorId, msg: M, delay_ns: u64) {
        self.injections.push(Injection {
            from,
            to,
            msg,
            delay_ns,
        });
    }
    /// Records a trace event (e.g. an `attack` record).
    pub fn trace(&mut self, ev: TraceEvent) {
        self.records.push(ev);
    }
}

/// An on-path adversary (or any message observer with the power to interfere).
pub trait Tap<M: Message> {
    /// Inspects a message sent from `from` to `to` at send time.
    fn on_send(
        &mut self,
        from: ActorId,
        to: ActorId,
        msg: M,
        ctx: &mut TapCtx<'_, M>,
    ) -> Verdict<M>;
}
