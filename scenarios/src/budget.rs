//! What a scenario asks of the machine, estimated before it runs: events from population,
//! rates and horizon; peak memory from population and what each agent accumulates; live
//! event-queue entries. `drmsim run` refuses a scenario that cannot fit (the estimate in
//! the message, `--force` to run anyway); `drmsim validate` prints the estimate.
//!
//! The per-item constants are calibrated on the bundled lifecycle scenarios (symbolic
//! crypto, trace off; see README "Figures"): they are deliberately on the high side, so a
//! refusal means "clearly does not fit", never "might not fit".

use crate::model::Scenario;

/// Most events one run may be expected to process (about a day of CPU at ~1 M events/s).
pub const MAX_EVENTS: f64 = 1e11;
/// Live event-queue entries sim-core allows (`sim_core::engine::queue::MAX_LIVE_ENTRIES`).
pub const MAX_PENDING: f64 = sim_core::engine::queue::MAX_LIVE_ENTRIES as f64;

/// Engine events per request/response exchange: the request's delivery, the server's
/// service end, the response's delivery, and retries/timeouts on a lossy network.
const EVENTS_PER_EXCHANGE: f64 = 4.0;
/// Exchanges of one 4-pass registration including the RI's OCSP request.
const REGISTRATION_EXCHANGES: f64 = 3.0;
/// Resident bytes per agent at steady state, before Rights Objects (agent, its slot in the
/// engine, its Device Context at the RI, its pending timers).
const AGENT_BYTES: f64 = 5_000.0;
/// Resident bytes per installed Rights Object (agent side and RI records).
const RO_BYTES: f64 = 600.0;
/// Resident bytes per server actor (RI, OCSP, DEA, LRM) besides per-agent state.
const SERVER_BYTES: f64 = 1_000_000.0;
/// Resident bytes of a live queue entry (payload slot and heap word).
const PENDING_BYTES: f64 = 200.0;
/// Process baseline (code, allocator, buffers).
const BASE_BYTES: f64 = 64.0 * 1024.0 * 1024.0;
/// Canonical JSON bytes per trace record, and records per event (timers off).
const TRACE_RECORD_BYTES: f64 = 150.0;
const RECORDS_PER_EVENT: f64 = 1.6;

/// The estimate of one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Events the run will process (capped by `event_budget`).
    pub events: f64,
    /// Peak resident memory, bytes.
    pub memory_bytes: f64,
    /// Peak live event-queue entries.
    pub pending: f64,
    /// Trace size as JSON Lines, bytes (0 when the trace is off).
    pub trace_bytes: f64,
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "~{} events, ~{} peak memory, ~{} live queue entries",
            si(self.events),
            bytes(self.memory_bytes),
            si(self.pending)
        )?;
        if self.trace_bytes > 0.0 {
            write!(f, ", ~{} of JSONL trace", bytes(self.trace_bytes))?;
        }
        Ok(())
    }
}

fn si(x: f64) -> String {
    if !x.is_finite() || x >= 1e15 {
        return format!("{x:.1e}");
    }
    let (v, u) = match x {
        x if x >= 1e12 => (x / 1e12, "T"),
        x if x >= 1e9 => (x / 1e9, "G"),
        x if x >= 1e6 => (x / 1e6, "M"),
        x if x >= 1e3 => (x / 1e3, "k"),
        x => (x, ""),
    };
    format!("{v:.1}{u}")
}

fn bytes(x: f64) -> String {
    if !x.is_finite() || x >= 1e18 {
        return format!("{x:.1e} B");
    }
    let gib = x / (1u64 << 30) as f64;
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.0} MiB", x / (1u64 << 20) as f64)
    }
}

/// Estimates what `s` needs. Rates are per agent; the horizon bounds every rate's count.
pub fn estimate(s: &Scenario) -> Estimate {
    let w = &s.workload;
    let p = &s.population;
    let agents = f64::from(p.agents) + f64::from(p.sce_agents);
    let servers = f64::from(p.ris) + f64::from(p.ocsp) + f64::from(p.dea) + f64::from(p.lrms);
    let minutes = s.scenario.horizon.as_ns() as f64 / 60e9;
    let acquisitions = w.ro_acquire_rate_per_min * minutes;
    let metering = w
        .metering_interval
        .map_or(0.0, |i| minutes * 60e9 / (i.as_ns().max(1) as f64));
    // Each workload timer is one event; each protocol run is a few exchanges.
    let timers = (w.ro_acquire_rate_per_min
        + w.consume_rate_per_min
        + w.import_rate_per_min
        + w.pair_rate_per_min
        + w.dea_trigger_leave_rate_per_min)
        * minutes
        + metering;
    let exchanges = if w.registration_at_arrival {
        REGISTRATION_EXCHANGES
    } else {
        0.0
    } + acquisitions
        * (1.0
            + 2.0 * w.move_probability.get()
            + w.join_domain_probability.get()
            + w.leave_domain_probability.get())
        + metering
        + (w.import_rate_per_min + w.pair_rate_per_min) * minutes * 3.0;
    let per_lrm = w.lrm_import_rate_per_min * minutes * 2.0;
    let mut events =
        agents * (timers + exchanges * EVENTS_PER_EXCHANGE) + f64::from(p.lrms) * per_lrm;
    if let Some(b) = s.scenario.event_budget {
        events = events.min(b as f64);
    }
    let ros_held =
        acquisitions.min(sim_core::proto::world::ProtoParams::default().max_ros_per_device as f64);
    // Every agent holds a few timers (workload, request timeout) and a message in flight.
    let pending = agents * 3.0 + servers * 16.0;
    let memory_bytes = BASE_BYTES
        + agents * (AGENT_BYTES + ros_held * RO_BYTES)
        + servers * SERVER_BYTES
        + pending * PENDING_BYTES;
    let trace_bytes = if s.trace.enabled {
        events * RECORDS_PER_EVENT * TRACE_RECORD_BYTES
    } else {
        0.0
    };
    Estimate {
        events,
        memory_bytes,
        pending,
        trace_bytes,
    }
}

/// Physical memory of this machine (`MemTotal` in /proc/meminfo), or 16 GiB when unknown.
pub fn machine_memory_bytes() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(16.0 * (1u64 << 30) as f64, |kb| kb * 1024.0)
}

/// Why a scenario does not fit: the estimate and what it exceeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// The estimate.
    pub estimate: Estimate,
    /// Each limit it exceeds, with the fields that drive it.
    pub reasons: Vec<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "scenario does not fit this machine (estimate: {}): {}; \
             lower [population] or [workload] rates, shorten [scenario] horizon or set \
             [scenario] event_budget, or pass --force to run anyway",
            self.estimate,
            self.reasons.join("; ")
        )
    }
}

/// Refuses `s` when its estimate exceeds [`MAX_EVENTS`], [`MAX_PENDING`] or
/// `memory_limit_bytes`; returns the estimate otherwise.
pub fn admit(s: &Scenario, memory_limit_bytes: f64) -> Result<Estimate, Refusal> {
    let e = estimate(s);
    let mut reasons = Vec::new();
    if !(e.events.is_finite() && e.events <= MAX_EVENTS) {
        reasons.push(format!(
            "~{} events exceed the limit of {} (population × [workload] rates × horizon; \
             e.g. ro_acquire_rate_per_min = {})",
            si(e.events),
            si(MAX_EVENTS),
            s.workload.ro_acquire_rate_per_min
        ));
    }
    if !(e.memory_bytes.is_finite() && e.memory_bytes <= memory_limit_bytes) {
        reasons.push(format!(
            "~{} of memory exceed this machine's {} ({} agents)",
            bytes(e.memory_bytes),
            bytes(memory_limit_bytes),
            u64::from(s.population.agents) + u64::from(s.population.sce_agents)
        ));
    }
    if e.pending > MAX_PENDING {
        reasons.push(format!(
            "~{} live queue entries exceed the engine's {}",
            si(e.pending),
            si(MAX_PENDING)
        ));
    }
    if reasons.is_empty() {
        Ok(e)
    } else {
        Err(Refusal {
            estimate: e,
            reasons,
        })
    }
}
