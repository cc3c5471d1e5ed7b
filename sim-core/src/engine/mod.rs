//! The discrete-event engine: virtual clock, event queue, seeded RNG streams, actors and
//! the server CPU model.

pub mod actor;
pub mod bench;
pub mod outcomes;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod tap;
pub mod time;

pub use actor::{Actor, ActorId, Ctx, Event, Message, MsgId, TimerId};
pub use outcomes::{LatencyHistogram, OutcomeTable, ProtocolOutcomes};
pub use rng::SimRng;
pub use sim::{
    ActorSpec, AfterEvent, CpuSpec, Overflow, RunLimits, RunReport, SendObserver, Simulation,
    StopReason,
};
pub use tap::{Injection, Tap, TapCtx, Verdict};
pub use time::SimTime;
