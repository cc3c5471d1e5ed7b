//! The trace record schema (version 1). Field names are part of the file format: change
//! them only together with `docs/trace-schema.md` and the analysis crate.

use serde::{Deserialize, Serialize};

/// One line of `trace.jsonl`: virtual time, global sequence number and the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// Virtual time in nanoseconds.
    pub t: u64,
    /// Sequence number, strictly increasing from 0 in file order.
    pub seq: u64,
    /// What happened.
    #[serde(flatten)]
    pub ev: TraceEvent,
}

impl TraceRecord {
    /// Appends the record's JSON line body (no newline) to `out`: the same bytes as
    /// `serde_json::to_writer(out, self)`, without serde's `flatten` machinery (which buffers
    /// the event through a map serializer and was a measurable share of a traced run): `t`
    /// and `seq` are written by hand, then the event, whose own serialisation opens with the
    /// `{` the record has already opened.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        write!(out, "{{\"t\":{},\"seq\":{},", self.t, self.seq).expect("writing to a Vec");
        let mark = out.len();
        serde_json::to_writer(&mut *out, &self.ev).expect("trace records always serialise");
        debug_assert_eq!(out.get(mark), Some(&b'{'));
        out.remove(mark);
    }
}

/// Why a message never reached its destination's handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropCause {
    /// Independent (Bernoulli) loss on the link.
    Loss,
    /// Gilbert–Elliott loss while the link was in its bad state.
    BurstLoss,
    /// The two groups were partitioned at send time.
    Partition,
    /// No route between the two groups in the topology.
    NoRoute,
    /// A bounded queue was full: the receiving server's request queue (drop policy) or a
    /// link's transmit buffer (`buffer_bytes`).
    QueueFull,
    /// The receiving server's queue was full and it answered with a reject (reject policy).
    Rejected,
    /// Removed in transit by an adversary.
    Adversary,
    /// The destination actor does not exist or has stopped.
    DeadActor,
    /// The run ended (horizon, budget or interrupt) with the message in flight.
    InFlightAtEnd,
}

/// The event of a [`TraceRecord`]; serialised with an `"ev"` tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum TraceEvent {
    /// Run header: first record of every trace.
    RunStart {
        /// Trace schema version (1).
        schema: u32,
        /// Master seed.
        seed: u64,
        /// Scenario name.
        scenario: String,
        /// Crypto mode (`real` or `symbolic`).
        crypto: String,
    },
    /// An actor exists (emitted at t=0, or when it arrives).
    Actor {
        /// Actor id used by every other record.
        id: u32,
        /// Actor kind (`agent`, `ri`, `dea`, `lrm`, `ocsp`, `adversary`, …).
        kind: String,
        /// Stable name, e.g. `agent/17`.
        name: String,
        /// Network group.
        group: String,
        /// CPU workers (0 = no CPU model: handlers run on arrival).
        workers: u32,
    },
    /// A message left its sender.
    Send {
        /// Message id (unique per run; duplicates get their own id).
        msg: u64,
        /// Sender actor id.
        from: u32,
        /// Receiver actor id.
        to: u32,
        /// Message type, e.g. `roap:meteringReportSubmit`.
        #[serde(rename = "type")]
        msg_type: String,
        /// Size on the wire in bytes.
        bytes: u32,
    },
    /// The network created a duplicate of `msg` as `dup`.
    Duplicate {
        /// Original message id.
        msg: u64,
        /// Id of the copy (it gets its own deliver/drop record).
        dup: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// Message type.
        #[serde(rename = "type")]
        msg_type: String,
    },
    /// A message reached its receiver (before any server queueing).
    Deliver {
        /// Message id.
        msg: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// Message type.
        #[serde(rename = "type")]
        msg_type: String,
        /// Size in bytes.
        bytes: u32,
        /// Network latency from send to delivery, ns.
        latency_ns: u64,
    },
    /// A message was lost or refused.
    Drop {
        /// Message id.
        msg: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// Message type.
        #[serde(rename = "type")]
        msg_type: String,
        /// Why.
        cause: DropCause,
    },
    /// A server queued a request because all workers were busy.
    Enqueue {
        /// Server actor id.
        actor: u32,
        /// Message id.
        msg: u64,
        /// Queue length after enqueueing.
        queue_len: u32,
    },
    /// A server worker started handling a message.
    ServiceStart {
        /// Server actor id.
        actor: u32,
        /// Message id.
        msg: u64,
        /// Time spent waiting in the queue, ns.
        queue_delay_ns: u64,
        /// Busy workers after this start.
        busy: u32,
        /// Queue length after this start.
        queue_len: u32,
    },
    /// A server worker finished; its outputs leave now.
    ServiceEnd {
        /// Server actor id.
        actor: u32,
        /// Message id.
        msg: u64,
        /// Virtual CPU time charged, ns.
        service_ns: u64,
    },
    /// A timer was set.
    TimerSet {
        /// Owner.
        actor: u32,
        /// Timer id.
        timer: u64,
        /// When it fires, ns.
        at: u64,
    },
    /// A timer fired.
    TimerFire {
        /// Owner.
        actor: u32,
        /// Timer id.
        timer: u64,
    },
    /// A timer was cancelled before firing.
    TimerCancel {
        /// Owner.
        actor: u32,
        /// Timer id.
        timer: u64,
    },
    /// A protocol run ended (one per attempt-series, from the initiator's view).
    Outcome {
        /// Initiating actor.
        actor: u32,
        /// Peer (RI, DEA, LRM…), if any.
        peer: Option<u32>,
        /// Protocol name, e.g. `registration`, `ro_acquisition`, `metering_report`.
        protocol: String,
        /// `success`, a ROAP status name (e.g. `SignatureError`), `timeout` or `abandoned`.
        status: String,
        /// Time from the first request to the outcome, ns.
        latency_ns: u64,
        /// Number of attempts (1 = no retry).
        attempts: u32,
    },
    /// An adversary attempted an attack; `success` says whether it achieved its goal.
    Attack {
        /// Adversary actor id.
        actor: u32,
        /// Attack name.
        attack: String,
        /// Target actor, if any.
        target: Option<u32>,
        /// Whether the attack achieved its goal.
        success: bool,
        /// Free-form detail.
        detail: String,
    },
    /// An invariant was violated.
    Violation {
        /// Invariant name.
        invariant: String,
        /// What was observed.
        detail: String,
        /// Message ids, oldest first, that led to the violation.
        chain: Vec<u64>,
    },
    /// A free-form note from an actor (kept rare; not for per-message data).
    Note {
        /// Actor id.
        actor: u32,
        /// Text.
        text: String,
    },
    /// Last record: why the run stopped.
    RunEnd {
        /// `horizon`, `quiescent`, `event_budget` or `interrupted`.
        reason: String,
        /// Events processed.
        events: u64,
    },
}
