//! One streaming pass over a trace that accumulates everything [`Metrics`] needs.

use crate::buckets::TimeBuckets;
use crate::error::Result;
use crate::metrics::*;
use crate::reader::{for_each_record, RawRecord, ReadStats};
use crate::stats::percentile_sorted;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Metrics plus the raw latency samples the charts need.
#[derive(Debug, Clone)]
pub struct TraceAnalysis {
    /// The `metrics.json` document.
    pub metrics: Metrics,
    /// Sorted latencies (ns) of successful outcomes, per protocol.
    pub latencies_by_protocol: BTreeMap<String, Vec<u64>>,
}

/// Computes the metrics of the trace at `path` in one streaming pass.
pub fn compute_metrics(path: &Path) -> Result<Metrics> {
    Ok(analyze_trace(path)?.metrics)
}

/// Computes metrics and keeps the latency samples (for CDF charts).
pub fn analyze_trace(path: &Path) -> Result<TraceAnalysis> {
    let mut c = Collector::default();
    let stats = for_each_record(path, |line, r| c.record(line, r))?;
    Ok(c.finish(stats))
}

/// Same as [`analyze_trace`] over an in-memory or custom reader.
pub fn analyze_reader<R: std::io::BufRead>(reader: R) -> Result<TraceAnalysis> {
    let mut c = Collector::default();
    let stats = crate::reader::for_each_record_in(reader, |line, r| c.record(line, r))?;
    Ok(c.finish(stats))
}

/// String → dense index.
#[derive(Debug, Default)]
struct Interner {
    map: HashMap<String, usize>,
    names: Vec<String>,
}

impl Interner {
    fn get(&mut self, s: &str) -> usize {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.names.len();
        self.names.push(s.to_string());
        self.map.insert(s.to_string(), i);
        i
    }
}

#[derive(Debug, Default)]
struct OutcomeAcc {
    outcomes: u64,
    completions: u64,
    failures: BTreeMap<String, u64>,
    timeouts: u64,
    retried: u64,
    attempts_sum: u64,
    latencies: Vec<u64>,
}

#[derive(Debug, Default, Clone)]
struct MsgAcc {
    m: MessageMetrics,
    latency_sum: u128,
}

#[derive(Debug, Default)]
struct ServerState {
    kind: usize,
    last_t: u64,
    busy: u32,
    queue: u32,
    max_busy: u32,
    /// Workers declared in the `actor` record (0 = unknown: fall back to `max_busy`).
    workers: u32,
    services: u64,
    ended: u64,
    enqueued: u64,
    busy_ns: u128,
    queue_ns: u128,
    queue_max: u32,
    queue_delay_sum: u128,
    queue_delay_max: u64,
    service_ns_sum: u128,
}

#[derive(Debug, Default)]
struct Collector {
    run: RunInfo,
    last_t: u64,
    kinds: Interner,
    actors: HashMap<u32, (usize, String)>,
    workers: HashMap<u32, u32>,
    actor_count_by_kind: BTreeMap<String, u64>,
    protocols: Interner,
    outcomes: BTreeMap<(usize, usize), OutcomeAcc>,
    msg_types: Interner,
    messages: Vec<MsgAcc>,
    drops_by_cause: BTreeMap<String, u64>,
    attacks: BTreeMap<String, AttackMetrics>,
    violations: ViolationMetrics,
    timers: TimerMetrics,
    notes: u64,
    server_kinds: Interner,
    servers: HashMap<u32, ServerState>,
    buckets: TimeBuckets,
    /// Per server class: queueing delays of started services (for percentiles).
    class_delays: BTreeMap<String, Vec<u64>>,
    /// Per server class: drops of messages addressed to it, per cause.
    class_drops: BTreeMap<String, BTreeMap<String, u64>>,
    /// Per server class: non-success outcomes with a peer of that class, per status.
    class_failures: BTreeMap<String, BTreeMap<String, u64>>,
}

const UNKNOWN: &str = "unknown";

/// Adds one to `map[key]` without allocating the key when it is present.
fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

impl Collector {
    /// The server class (kind) of `actor` if it declared workers (a server), else `None`.
    fn server_class(&self, actor: u32) -> Option<&str> {
        if !self.workers.contains_key(&actor) && !self.servers.contains_key(&actor) {
            return None;
        }
        self.actors
            .get(&actor)
            .map(|(k, _)| self.kinds.names[*k].as_str())
    }

    fn kind_of(&mut self, actor: u32) -> usize {
        match self.actors.get(&actor) {
            Some((k, _)) => *k,
            None => self.kinds.get(UNKNOWN),
        }
    }

    fn msg(&mut self, ty: Option<&str>) -> &mut MsgAcc {
        let i = self.msg_types.get(ty.unwrap_or(UNKNOWN));
        if self.messages.len() <= i {
            self.messages.resize(i + 1, MsgAcc::default());
        }
        &mut self.messages[i]
    }

    /// The server's state, advanced (integrated) to `t`.
    fn server_at(&mut self, actor: u32, t: u64) -> &mut ServerState {
        if !self.servers.contains_key(&actor) {
            let kind_name = match self.actors.get(&actor) {
                Some((k, _)) => self.kinds.names[*k].clone(),
                None => UNKNOWN.to_string(),
            };
            let kind = self.server_kinds.get(&kind_name);
            let workers = self.workers.get(&actor).copied().unwrap_or(0);
            self.servers.insert(
                actor,
                ServerState {
                    kind,
                    last_t: t,
                    workers,
                    ..ServerState::default()
                },
            );
        }
        let s = self.servers.get_mut(&actor).expect("inserted above");
        advance(s, &mut self.buckets, t);
        s
    }

    fn record(&mut self, line: u64, r: &RawRecord<'_>) -> Result<()> {
        self.last_t = self.last_t.max(r.t);
        let t = r.t;
        match r.ev.as_ref() {
            "run_start" => {
                self.run.schema = r.schema;
                self.run.seed = r.seed;
                self.run.scenario = r.scenario.as_deref().map(str::to_string);
                self.run.crypto = r.crypto.as_deref().map(str::to_string);
            }
            "actor" => {
                let id = r.need(r.id, "id", line)?;
                let kind = r.kind.as_deref().unwrap_or(UNKNOWN);
                let k = self.kinds.get(kind);
                let name = r.name.as_deref().unwrap_or("").to_string();
                if let Some(w) = r.workers.filter(|w| *w > 0) {
                    self.workers.insert(id, w);
                }
                if self.actors.insert(id, (k, name)).is_none() {
                    *self
                        .actor_count_by_kind
                        .entry(kind.to_string())
                        .or_default() += 1;
                }
            }
            "send" => {
                let bytes = u64::from(r.bytes.unwrap_or(0));
                let m = &mut self.msg(r.msg_type.as_deref()).m;
                m.sent += 1;
                m.sent_bytes += bytes;
            }
            "duplicate" => self.msg(r.msg_type.as_deref()).m.duplicated += 1,
            "deliver" => {
                let bytes = u64::from(r.bytes.unwrap_or(0));
                let lat = r.latency_ns.unwrap_or(0);
                let a = self.msg(r.msg_type.as_deref());
                a.m.delivered += 1;
                a.m.delivered_bytes += bytes;
                a.latency_sum += u128::from(lat);
                a.m.net_latency_max_ns = a.m.net_latency_max_ns.max(lat);
            }
            "drop" => {
                self.msg(r.msg_type.as_deref()).m.dropped += 1;
                let cause = r.cause.as_deref().unwrap_or(UNKNOWN);
                if let Some(class) = r.to.and_then(|to| self.server_class(to)) {
                    let class = class.to_string();
                    bump(self.class_drops.entry(class).or_default(), cause);
                }
                match self.drops_by_cause.get_mut(cause) {
                    Some(n) => *n += 1,
                    None => {
                        self.drops_by_cause.insert(cause.to_string(), 1);
                    }
                }
            }
            "enqueue" => {
                let actor = r.need(r.actor, "actor", line)?;
                let q = r.queue_len.unwrap_or(0);
                let s = self.server_at(actor, t);
                s.queue = q;
                s.queue_max = s.queue_max.max(q);
                s.enqueued += 1;
                let kind = s.kind;
                self.buckets.queue_point(t, kind, q);
            }
            "service_start" => {
                let actor = r.need(r.actor, "actor", line)?;
                let q = r.queue_len.unwrap_or(0);
                let busy = r.busy.unwrap_or(0);
                let delay = r.queue_delay_ns.unwrap_or(0);
                let s = self.server_at(actor, t);
                s.busy = busy;
                s.max_busy = s.max_busy.max(busy);
                s.queue = q;
                s.queue_max = s.queue_max.max(q);
                s.services += 1;
                s.queue_delay_sum += u128::from(delay);
                s.queue_delay_max = s.queue_delay_max.max(delay);
                let kind = s.kind;
                self.buckets.queue_point(t, kind, q);
                let class = self.server_kinds.names[kind].clone();
                self.class_delays.entry(class).or_default().push(delay);
            }
            "service_end" => {
                let actor = r.need(r.actor, "actor", line)?;
                let sv = r.service_ns.unwrap_or(0);
                let s = self.server_at(actor, t);
                s.busy = s.busy.saturating_sub(1);
                s.ended += 1;
                s.service_ns_sum += u128::from(sv);
            }
            "timer_set" => self.timers.set += 1,
            "timer_fire" => self.timers.fired += 1,
            "timer_cancel" => self.timers.cancelled += 1,
            "outcome" => {
                let actor = r.need(r.actor, "actor", line)?;
                let proto = self.protocols.get(r.protocol.as_deref().unwrap_or(UNKNOWN));
                let kind = self.kind_of(actor);
                let status = r.status.as_deref().unwrap_or(UNKNOWN);
                let success = status == "success";
                let attempts = r.attempts.unwrap_or(1);
                if !success {
                    if let Some(class) = r.peer.and_then(|p| self.server_class(p)) {
                        let class = class.to_string();
                        bump(self.class_failures.entry(class).or_default(), status);
                    }
                }
                let acc = self.outcomes.entry((proto, kind)).or_default();
                acc.outcomes += 1;

                acc.attempts_sum += u64::from(attempts);
                if attempts > 1 {
                    acc.retried += 1;
                }
                if success {
                    acc.completions += 1;
                    acc.latencies.push(r.latency_ns.unwrap_or(0));
                } else {
                    if status == "timeout" {
                        acc.timeouts += 1;
                    }
                    match acc.failures.get_mut(status) {
                        Some(n) => *n += 1,
                        None => {
                            acc.failures.insert(status.to_string(), 1);
                        }
                    }
                }
                self.buckets.outcome(t, proto, success);
            }
            "attack" => {
                let a = self
                    .attacks
                    .entry(r.attack.as_deref().unwrap_or(UNKNOWN).to_string())
                    .or_default();
                a.attempts += 1;
                if r.success == Some(true) {
                    a.successes += 1;
                }
            }
            "violation" => {
                let inv = r.invariant.as_deref().unwrap_or(UNKNOWN).to_string();
                self.violations.total += 1;
                *self.violations.by_invariant.entry(inv.clone()).or_default() += 1;
                if self.violations.first.len() < MAX_VIOLATIONS_KEPT {
                    self.violations.first.push(ViolationEntry {
                        t_ns: t,
                        invariant: inv,
                        detail: r.detail.as_deref().unwrap_or("").to_string(),
                        chain: r.chain.clone().unwrap_or_default(),
                    });
                }
            }
            "note" => self.notes += 1,
            "run_end" => {
                self.run.end_reason = r.reason.as_deref().map(str::to_string);
                self.run.events = r.events;
            }
            // Unknown event kinds from a newer schema are skipped, not fatal.
            _ => {}
        }
        Ok(())
    }

    fn finish(mut self, stats: ReadStats) -> TraceAnalysis {
        let end = self.last_t;
        self.run.duration_ns = end;
        self.run.records = stats.records;
        self.run.trace_bytes = stats.bytes;
        self.run.truncated_tail = stats.truncated_tail;

        // Servers: integrate to the end, in id order.
        let mut ids: Vec<u32> = self.servers.keys().copied().collect();
        ids.sort_unstable();
        let mut by_actor = BTreeMap::new();
        let n_server_kinds = self.server_kinds.names.len();
        let mut kind_capacity = vec![0u64; n_server_kinds];
        let mut kind_servers = vec![0u64; n_server_kinds];
        for id in ids {
            let s = self.servers.get_mut(&id).expect("key from map");
            advance(s, &mut self.buckets, end);
            // Capacity is the declared worker count; traces without it fall back to the
            // largest number of busy workers seen (which over-reports utilisation).
            let capacity = if s.workers > 0 { s.workers } else { s.max_busy };
            kind_capacity[s.kind] += u64::from(capacity);
            kind_servers[s.kind] += 1;
            let (kind, name) = match self.actors.get(&id) {
                Some((k, n)) => (self.kinds.names[*k].clone(), n.clone()),
                None => (UNKNOWN.to_string(), String::new()),
            };
            let denom = f64::from(capacity) * end as f64;
            by_actor.insert(
                id,
                ServerActorMetrics {
                    kind,
                    name,
                    capacity_workers: capacity,
                    services: s.services,
                    enqueued: s.enqueued,
                    busy_worker_ns: s.busy_ns,
                    utilisation: ratio(s.busy_ns as f64, denom),
                    queue_len_mean: ratio(s.queue_ns as f64, end as f64),
                    queue_len_max: s.queue_max,
                    queue_delay_mean_ns: ratio(s.queue_delay_sum as f64, s.services as f64),
                    queue_delay_max_ns: s.queue_delay_max,
                    service_mean_ns: ratio(s.service_ns_sum as f64, s.ended as f64),
                },
            );
        }

        let by_class = self.server_classes(&by_actor, end);
        let nb = self.buckets.count(end);
        let widths: Vec<f64> = (0..nb)
            .map(|i| self.buckets.effective_width(i, end) as f64)
            .collect();
        let bucket = |i: usize| self.buckets.buckets.get(i);
        let mut by_kind = BTreeMap::new();
        for (k, kname) in self.server_kinds.names.iter().enumerate() {
            let mut series = ServerKindSeries {
                servers: kind_servers[k],
                capacity_workers: kind_capacity[k],
                ..ServerKindSeries::default()
            };
            for (i, w) in widths.iter().enumerate() {
                let b = bucket(i);
                let busy = b.and_then(|b| b.busy.get(k)).copied().unwrap_or(0) as f64 / w;
                let queue = b.and_then(|b| b.queue.get(k)).copied().unwrap_or(0) as f64 / w;
                series.busy_workers_mean.push(busy);
                series
                    .utilisation
                    .push(ratio(busy, kind_capacity[k] as f64).min(1.0));
                series.queue_len_mean.push(queue);
                series
                    .queue_len_max
                    .push(b.and_then(|b| b.queue_max.get(k)).copied().unwrap_or(0));
            }
            by_kind.insert(kname.clone(), series);
        }

        let mut throughput = Throughput {
            bucket_ns: self.buckets.width_ns,
            buckets: nb,
            ..Throughput::default()
        };
        for (p, pname) in self.protocols.names.iter().enumerate() {
            let get = |f: fn(&crate::buckets::Bucket) -> &Vec<u64>| -> Vec<u64> {
                (0..nb)
                    .map(|i| bucket(i).and_then(|b| f(b).get(p)).copied().unwrap_or(0))
                    .collect()
            };
            throughput
                .completions
                .insert(pname.clone(), get(|b| &b.completions));
            throughput
                .failures
                .insert(pname.clone(), get(|b| &b.failures));
        }

        // Outcomes: per (kind, protocol), then per protocol by merging.
        let mut protocols_by_kind: BTreeMap<String, BTreeMap<String, ProtocolMetrics>> =
            BTreeMap::new();
        let mut merged: BTreeMap<String, OutcomeAcc> = BTreeMap::new();
        for ((p, k), mut acc) in std::mem::take(&mut self.outcomes) {
            let pname = self.protocols.names[p].clone();
            let kname = self.kinds.names[k].clone();
            acc.latencies.sort_unstable();
            protocols_by_kind
                .entry(kname)
                .or_default()
                .insert(pname.clone(), summarise(&acc));
            let m = merged.entry(pname).or_default();
            m.outcomes += acc.outcomes;
            m.completions += acc.completions;
            m.timeouts += acc.timeouts;
            m.retried += acc.retried;
            m.attempts_sum += acc.attempts_sum;
            for (s, n) in acc.failures {
                *m.failures.entry(s).or_default() += n;
            }
            m.latencies.extend_from_slice(&acc.latencies);
        }
        let mut protocols = BTreeMap::new();
        let mut latencies_by_protocol = BTreeMap::new();
        for (pname, mut acc) in merged {
            acc.latencies.sort_unstable();
            protocols.insert(pname.clone(), summarise(&acc));
            latencies_by_protocol.insert(pname, std::mem::take(&mut acc.latencies));
        }

        let mut messages = BTreeMap::new();
        let mut total = MsgAcc::default();
        for (i, name) in self.msg_types.names.iter().enumerate() {
            let mut a = self.messages.get(i).cloned().unwrap_or_default();
            a.m.net_latency_mean_ns = ratio(a.latency_sum as f64, a.m.delivered as f64);
            total.m.sent += a.m.sent;
            total.m.sent_bytes += a.m.sent_bytes;
            total.m.delivered += a.m.delivered;
            total.m.delivered_bytes += a.m.delivered_bytes;
            total.m.dropped += a.m.dropped;
            total.m.duplicated += a.m.duplicated;
            total.m.net_latency_max_ns = total.m.net_latency_max_ns.max(a.m.net_latency_max_ns);
            total.latency_sum += a.latency_sum;
            messages.insert(name.clone(), a.m);
        }
        total.m.net_latency_mean_ns = ratio(total.latency_sum as f64, total.m.delivered as f64);

        TraceAnalysis {
            metrics: Metrics {
                run: self.run,
                actors_by_kind: self.actor_count_by_kind,
                protocols,
                protocols_by_kind,
                throughput,
                servers: ServerMetrics {
                    by_actor,
                    by_kind,
                    by_class,
                },
                messages,
                message_totals: total.m,
                drops_by_cause: self.drops_by_cause,
                attacks: self.attacks,
                violations: self.violations,
                timers: self.timers,
                notes: self.notes,
                provenance: None,
            },
            latencies_by_protocol,
        }
    }
}

impl Collector {
    /// Whole-run figures per server class from the per-actor figures and the per-class
    /// samples and counters.
    fn server_classes(
        &mut self,
        by_actor: &BTreeMap<u32, ServerActorMetrics>,
        end: u64,
    ) -> BTreeMap<String, ServerClassMetrics> {
        let mut out: BTreeMap<String, ServerClassMetrics> = BTreeMap::new();
        let mut busy: BTreeMap<String, u128> = BTreeMap::new();
        for a in by_actor.values() {
            let c = out.entry(a.kind.clone()).or_default();
            c.servers += 1;
            c.capacity_workers += u64::from(a.capacity_workers);
            c.services += a.services;
            c.queue_len_max = c.queue_len_max.max(a.queue_len_max);
            c.queue_delay_max_ns = c.queue_delay_max_ns.max(a.queue_delay_max_ns);
            *busy.entry(a.kind.clone()).or_default() += a.busy_worker_ns;
        }
        // Servers that declared workers but never served anything still count as capacity.
        let mut idle: Vec<(u32, u32)> = self
            .workers
            .iter()
            .filter(|(id, _)| !by_actor.contains_key(id))
            .map(|(&id, &w)| (id, w))
            .collect();
        idle.sort_unstable();
        for (id, w) in idle {
            if let Some((k, _)) = self.actors.get(&id) {
                let c = out.entry(self.kinds.names[*k].clone()).or_default();
                c.servers += 1;
                c.capacity_workers += u64::from(w);
            }
        }
        for (class, c) in out.iter_mut() {
            let b = busy.get(class).copied().unwrap_or(0);
            c.utilisation = ratio(b as f64, c.capacity_workers as f64 * end as f64);
            if let Some(d) = self.class_delays.get_mut(class) {
                d.sort_unstable();
                c.queue_delay_p50_ns = percentile_sorted(d, 50.0).unwrap_or(0);
                c.queue_delay_p99_ns = percentile_sorted(d, 99.0).unwrap_or(0);
            }
            c.drops_by_cause = self.class_drops.remove(class).unwrap_or_default();
            c.failed_outcomes_by_status = self.class_failures.remove(class).unwrap_or_default();
        }
        out
    }
}

/// Integrates the server's current (busy, queue) state from its last event to `t`.
fn advance(s: &mut ServerState, buckets: &mut TimeBuckets, t: u64) {
    if t > s.last_t {
        let span = u128::from(t - s.last_t);
        s.busy_ns += u128::from(s.busy) * span;
        s.queue_ns += u128::from(s.queue) * span;
        buckets.interval(s.kind, s.last_t, t, s.busy, s.queue);
        s.last_t = t;
    }
}

/// `a / b`, or 0 when `b` is 0.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// Exact summary of sorted samples; `None` when there are none.
fn latency_summary(lat: &[u64]) -> Option<LatencySummary> {
    if lat.is_empty() {
        None
    } else {
        let sum: u128 = lat.iter().map(|&x| u128::from(x)).sum();
        let p = |q| percentile_sorted(lat, q).unwrap_or(0);
        Some(LatencySummary {
            count: lat.len() as u64,
            min_ns: lat[0],
            mean_ns: sum as f64 / lat.len() as f64,
            p50_ns: p(50.0),
            p90_ns: p(90.0),
            p99_ns: p(99.0),
            p999_ns: p(99.9),
            max_ns: lat[lat.len() - 1],
        })
    }
}

fn summarise(acc: &OutcomeAcc) -> ProtocolMetrics {
    let latency = latency_summary(&acc.latencies);
    ProtocolMetrics {
        outcomes: acc.outcomes,
        completions: acc.completions,
        failures_by_status: acc.failures.clone(),
        timeouts: acc.timeouts,
        completion_rate: ratio(acc.completions as f64, acc.outcomes as f64),
        retried: acc.retried,
        attempts_mean: ratio(acc.attempts_sum as f64, acc.outcomes as f64),
        latency,
        latency_with_failures: (acc.outcomes > 0).then(|| {
            let p = |q| crate::stats::percentile_with_failures(&acc.latencies, acc.outcomes, q);
            FailureAwareLatency {
                outcomes: acc.outcomes,
                failures: acc.outcomes - acc.completions,
                p50_ns: p(50.0),
                p90_ns: p(90.0),
                p99_ns: p(99.0),
                p999_ns: p(99.9),
            }
        }),
    }
}
