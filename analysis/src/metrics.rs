//! The `metrics.json` document: what a run did, per protocol, actor kind, message type,
//! server and time bucket. Definitions are in `docs/analysis.md`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything computed from one trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Run header and end information.
    pub run: RunInfo,
    /// Number of actors per actor kind (from `actor` records).
    pub actors_by_kind: BTreeMap<String, u64>,
    /// Outcome statistics per protocol, all initiator kinds together.
    pub protocols: BTreeMap<String, ProtocolMetrics>,
    /// Outcome statistics per initiator actor kind, then per protocol.
    pub protocols_by_kind: BTreeMap<String, BTreeMap<String, ProtocolMetrics>>,
    /// Completions and failures per protocol over virtual time.
    pub throughput: Throughput,
    /// Server load: per server actor, and per server kind over time.
    pub servers: ServerMetrics,
    /// Message counts and bytes per message type.
    pub messages: BTreeMap<String, MessageMetrics>,
    /// Message counts and bytes over all types.
    pub message_totals: MessageMetrics,
    /// Dropped messages per drop cause (`loss`, `queue_full`, …).
    pub drops_by_cause: BTreeMap<String, u64>,
    /// Adversary attempts and successes per attack name.
    pub attacks: BTreeMap<String, AttackMetrics>,
    /// Invariant violations.
    pub violations: ViolationMetrics,
    /// Timer activity.
    pub timers: TimerMetrics,
    /// Number of `note` records.
    pub notes: u64,
    /// The run's provenance block from summary.json (drmsim version and git commit,
    /// scenario SHA-256, command line, wall-clock start and end, CPU count), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<serde_json::Value>,
}

/// Run header (`run_start`) and end (`run_end`) information plus reader facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Trace schema version from the header.
    pub schema: Option<u32>,
    /// Master seed.
    pub seed: Option<u64>,
    /// Scenario name.
    pub scenario: Option<String>,
    /// Crypto mode.
    pub crypto: Option<String>,
    /// Why the run stopped (`None` if the trace has no `run_end`).
    pub end_reason: Option<String>,
    /// Events processed, from `run_end`.
    pub events: Option<u64>,
    /// Virtual time of the last record, ns (the analysed duration, starting at 0).
    pub duration_ns: u64,
    /// Trace records read.
    pub records: u64,
    /// Trace bytes read.
    pub trace_bytes: u64,
    /// The trace ended in a partial, skipped line.
    pub truncated_tail: bool,
}

/// Outcome statistics of one protocol (optionally restricted to one initiator kind).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProtocolMetrics {
    /// `outcome` records.
    pub outcomes: u64,
    /// Outcomes with status `success`.
    pub completions: u64,
    /// Non-success outcomes per status (includes `timeout` and `abandoned`).
    pub failures_by_status: BTreeMap<String, u64>,
    /// Outcomes with status `timeout`.
    pub timeouts: u64,
    /// `completions / outcomes` (0 when there are no outcomes).
    pub completion_rate: f64,
    /// Outcomes that needed more than one attempt.
    pub retried: u64,
    /// Mean attempts per outcome.
    pub attempts_mean: f64,
    /// Latency of successful outcomes (first request to outcome), exact nearest-rank.
    pub latency: Option<LatencySummary>,
    /// Latency percentiles over **every** outcome, a failure (error status, `timeout`,
    /// `abandoned`) ranked above every success: it never completed. A percentile that falls
    /// on a failure is `null` ("failed"): more than 100 − p percent of the runs failed.
    /// Capacity charts use these, so failures never vanish from the tail.
    #[serde(default)]
    pub latency_with_failures: Option<FailureAwareLatency>,
}

/// Exact latency statistics (nearest-rank percentiles over all samples).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Minimum, ns.
    pub min_ns: u64,
    /// Arithmetic mean, ns.
    pub mean_ns: f64,
    /// Median, ns.
    pub p50_ns: u64,
    /// 90th percentile, ns.
    pub p90_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// 99.9th percentile, ns.
    pub p999_ns: u64,
    /// Maximum, ns.
    pub max_ns: u64,
}

/// Percentiles over every outcome with failures ranked above every success
/// ([`crate::stats::percentile_with_failures`]); `None` = the percentile is a failure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureAwareLatency {
    /// Outcomes counted.
    pub outcomes: u64,
    /// Of which failures.
    pub failures: u64,
    /// Median, ns.
    pub p50_ns: Option<u64>,
    /// 90th percentile, ns.
    pub p90_ns: Option<u64>,
    /// 99th percentile, ns.
    pub p99_ns: Option<u64>,
    /// 99.9th percentile, ns.
    pub p999_ns: Option<u64>,
}

/// Per-bucket completions and failures. Bucket `i` covers virtual time
/// `[i·bucket_ns, (i+1)·bucket_ns)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Bucket width, ns (a power of ten ≥ 1 ms, chosen so there are at most 1000 buckets).
    pub bucket_ns: u64,
    /// Number of buckets.
    pub buckets: usize,
    /// Successful outcomes per bucket, per protocol.
    pub completions: BTreeMap<String, Vec<u64>>,
    /// Non-success outcomes per bucket, per protocol.
    pub failures: BTreeMap<String, Vec<u64>>,
}

/// Server load figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerMetrics {
    /// Per server actor id (every actor with `enqueue`/`service_*` records).
    pub by_actor: BTreeMap<u32, ServerActorMetrics>,
    /// Per server kind, over time (same buckets as [`Throughput`]).
    pub by_kind: BTreeMap<String, ServerKindSeries>,
    /// Per server class (actor kind of servers: `ri`, `ocsp`, `dea`, `lrm`), whole run.
    #[serde(default)]
    pub by_class: BTreeMap<String, ServerClassMetrics>,
}

/// Whole-run load of all servers of one class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerClassMetrics {
    /// Servers of this class (actors declaring workers, or with service records).
    pub servers: u64,
    /// Sum of their worker counts.
    pub capacity_workers: u64,
    /// Σ busy worker·ns / (capacity_workers · duration_ns).
    pub utilisation: f64,
    /// Services started.
    pub services: u64,
    /// Median queueing delay of started services, ns (nearest rank; 0 without services).
    pub queue_delay_p50_ns: u64,
    /// 99th-percentile queueing delay, ns.
    pub queue_delay_p99_ns: u64,
    /// Largest queueing delay, ns.
    pub queue_delay_max_ns: u64,
    /// Largest queue length of any server of the class.
    pub queue_len_max: u32,
    /// Messages addressed to a server of this class that were dropped, per cause:
    /// `queue_full` (queue overflow, silent), `rejected` (overflow answered busy), and the
    /// network's causes (`loss`, `partition`, …).
    pub drops_by_cause: BTreeMap<String, u64>,
    /// Protocol runs with a server of this class as peer that did not succeed, per status
    /// (ROAP error statuses the server answered, `timeout`, …).
    pub failed_outcomes_by_status: BTreeMap<String, u64>,
}

/// Whole-run load of one server actor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerActorMetrics {
    /// Actor kind.
    pub kind: String,
    /// Actor name.
    pub name: String,
    /// Worker capacity estimate: the largest `busy` value observed (the trace does not carry
    /// the configured worker count).
    pub capacity_workers: u32,
    /// Services started.
    pub services: u64,
    /// Requests that had to queue (`enqueue` records).
    pub enqueued: u64,
    /// Integral of busy workers over time, worker·ns.
    pub busy_worker_ns: u128,
    /// `busy_worker_ns / (capacity_workers · duration_ns)`.
    pub utilisation: f64,
    /// Time-weighted mean queue length.
    pub queue_len_mean: f64,
    /// Largest queue length observed.
    pub queue_len_max: u32,
    /// Mean queueing delay of started services, ns.
    pub queue_delay_mean_ns: f64,
    /// Largest queueing delay, ns.
    pub queue_delay_max_ns: u64,
    /// Mean virtual CPU time per finished service, ns.
    pub service_mean_ns: f64,
}

/// Load of all servers of one kind over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerKindSeries {
    /// Servers of this kind.
    pub servers: u64,
    /// Sum of the servers' capacity estimates.
    pub capacity_workers: u64,
    /// Time-weighted mean busy workers per bucket (summed over servers).
    pub busy_workers_mean: Vec<f64>,
    /// `busy_workers_mean / capacity_workers` per bucket, in [0, 1].
    pub utilisation: Vec<f64>,
    /// Time-weighted mean queue length per bucket (summed over servers).
    pub queue_len_mean: Vec<f64>,
    /// Largest single-server queue length per bucket.
    pub queue_len_max: Vec<u32>,
}

/// Message statistics (per type or in total).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageMetrics {
    /// `send` records.
    pub sent: u64,
    /// Bytes sent.
    pub sent_bytes: u64,
    /// `deliver` records.
    pub delivered: u64,
    /// Bytes delivered.
    pub delivered_bytes: u64,
    /// `drop` records.
    pub dropped: u64,
    /// `duplicate` records.
    pub duplicated: u64,
    /// Mean network latency of deliveries, ns.
    pub net_latency_mean_ns: f64,
    /// Largest network latency, ns.
    pub net_latency_max_ns: u64,
}

/// Attempts and successes of one attack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackMetrics {
    /// `attack` records.
    pub attempts: u64,
    /// Records with `success: true`.
    pub successes: u64,
}

/// Invariant violations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationMetrics {
    /// Total `violation` records.
    pub total: u64,
    /// Count per invariant.
    pub by_invariant: BTreeMap<String, u64>,
    /// The first violations in file order (at most [`MAX_VIOLATIONS_KEPT`]).
    pub first: Vec<ViolationEntry>,
}

/// How many violations are kept verbatim.
pub const MAX_VIOLATIONS_KEPT: usize = 100;

/// One violation as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationEntry {
    /// Virtual time, ns.
    pub t_ns: u64,
    /// Invariant name.
    pub invariant: String,
    /// Detail text.
    pub detail: String,
    /// Causal message chain.
    pub chain: Vec<u64>,
}

/// Timer activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerMetrics {
    /// `timer_set` records.
    pub set: u64,
    /// `timer_fire` records.
    pub fired: u64,
    /// `timer_cancel` records.
    pub cancelled: u64,
}
