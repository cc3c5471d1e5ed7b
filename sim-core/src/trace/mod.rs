//! Trace recording: every send, delivery, drop, duplicate, timer, queueing delay, protocol
//! outcome and invariant violation becomes one [`TraceRecord`]. Records are serialised as
//! JSON Lines (schema in `docs/trace-schema.md`) and digested with SHA-256; the digest of the
//! canonical byte stream identifies a run.

mod record;
mod recorder;

pub use record::{DropCause, TraceEvent, TraceRecord};
pub use recorder::{LineSink, NullSink, Observer, TraceConfig, TraceRecorder, VecSink};
