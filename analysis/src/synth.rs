//! A synthetic-but-consistent trace generator for benchmarks and chart checks: agents run
//! request/response sessions against multi-worker RI servers with bounded queues, lossy
//! links and retries-free timeouts. Records are serialised with `sim_core`'s own
//! [`TraceRecord`], so the bytes have exactly the production schema.

use crate::error::{AnalysisError, Result};
use rand::Rng;
use sim_core::engine::rng::{stream, SimRng};
use sim_core::trace::{DropCause, TraceEvent, TraceRecord};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::Write;
use std::path::Path;

/// Parameters of the synthetic workload.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Master seed.
    pub seed: u64,
    /// Agents.
    pub agents: u32,
    /// RI servers.
    pub ris: u32,
    /// Workers per RI.
    pub workers: u32,
    /// Queue bound per RI (beyond it requests are dropped with `queue_full`).
    pub queue_limit: usize,
    /// Session arrival rate over all agents, per second of virtual time.
    pub arrivals_per_s: f64,
    /// Mean RI service time, ns (exponential).
    pub mean_service_ns: f64,
    /// One-way network latency, ns (uniform in [½, 1½]× this).
    pub net_latency_ns: u64,
    /// Per-message loss probability.
    pub loss: f64,
    /// Session timeout, ns.
    pub timeout_ns: u64,
    /// Stop once this many bytes are written.
    pub target_bytes: u64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 1,
            agents: 1000,
            ris: 2,
            workers: 4,
            queue_limit: 64,
            arrivals_per_s: 2000.0,
            mean_service_ns: 3.0e6,
            net_latency_ns: 2_000_000,
            loss: 0.01,
            timeout_ns: 200_000_000,
            target_bytes: 1 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival,
    ReqArrive { session: u64 },
    ServiceEnd { session: u64 },
    RespArrive { session: u64 },
    Timeout { session: u64 },
}

struct Session {
    agent: u32,
    ri: u32,
    protocol: usize,
    start: u64,
    req: u64,
    timer: u64,
    resp: u64,
    resp_sent: u64,
}

struct Ri {
    busy: u32,
    queue: VecDeque<(u64, u64)>,
}

const PROTOCOLS: [(&str, &str, &str, u32, u32); 3] = [
    (
        "registration",
        "roap:registrationRequest",
        "roap:registrationResponse",
        2100,
        3400,
    ),
    (
        "ro_acquisition",
        "roap:roRequest",
        "roap:roResponse",
        1500,
        4200,
    ),
    (
        "metering_report",
        "roap:meteringReportSubmit",
        "roap:meteringReportResponse",
        1800,
        900,
    ),
];

/// Writes a synthetic trace of about `cfg.target_bytes` to `path`; returns bytes written.
pub fn write_synthetic_trace(path: &Path, cfg: &SynthConfig) -> Result<u64> {
    let file = std::fs::File::create(path).map_err(|e| AnalysisError::io(path, e))?;
    let mut g = Gen {
        out: std::io::BufWriter::with_capacity(1 << 20, file),
        buf: Vec::with_capacity(512),
        seq: 0,
        bytes: 0,
        rng: stream(cfg.seed, "synth", "workload"),
        heap: BinaryHeap::new(),
        order: 0,
        sessions: HashMap::new(),
        next_msg: 0,
        next_session: 0,
        next_timer: 0,
        ris: (0..cfg.ris.max(1))
            .map(|_| Ri {
                busy: 0,
                queue: VecDeque::new(),
            })
            .collect(),
        cfg: cfg.clone(),
    };
    g.run().map_err(|e| AnalysisError::io(path, e))?;
    Ok(g.bytes)
}

struct Gen {
    out: std::io::BufWriter<std::fs::File>,
    buf: Vec<u8>,
    seq: u64,
    bytes: u64,
    rng: SimRng,
    heap: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    order: u64,
    sessions: HashMap<u64, Session>,
    next_msg: u64,
    next_session: u64,
    next_timer: u64,
    ris: Vec<Ri>,
    cfg: SynthConfig,
}

impl Gen {
    fn emit(&mut self, t: u64, ev: TraceEvent) -> std::io::Result<()> {
        self.buf.clear();
        let rec = TraceRecord {
            t,
            seq: self.seq,
            ev,
        };
        serde_json::to_writer(&mut self.buf, &rec).map_err(std::io::Error::other)?;
        self.buf.push(b'\n');
        self.seq += 1;
        self.bytes += self.buf.len() as u64;
        self.out.write_all(&self.buf)
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.order += 1;
        self.heap.push(Reverse((t, self.order, ev)));
    }

    fn latency(&mut self) -> u64 {
        let l = self.cfg.net_latency_ns;
        self.rng.gen_range(l / 2..=l + l / 2)
    }

    fn exp(&mut self, mean: f64) -> u64 {
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        (-u.ln() * mean) as u64
    }

    fn ri_id(&self, ri: u32) -> u32 {
        self.cfg.agents + ri
    }

    fn run(&mut self) -> std::io::Result<()> {
        self.emit(
            0,
            TraceEvent::RunStart {
                schema: 1,
                seed: self.cfg.seed,
                scenario: "synthetic".into(),
                crypto: "symbolic".into(),
            },
        )?;
        for a in 0..self.cfg.agents {
            self.emit(
                0,
                TraceEvent::Actor {
                    id: a,
                    kind: "agent".into(),
                    name: format!("agent/{a}"),
                    group: "devices".into(),
                    workers: 0,
                },
            )?;
        }
        for r in 0..self.cfg.ris.max(1) {
            let id = self.ri_id(r);
            self.emit(
                0,
                TraceEvent::Actor {
                    id,
                    kind: "ri".into(),
                    name: format!("ri/{r}"),
                    group: "core".into(),
                    workers: self.cfg.workers,
                },
            )?;
        }
        self.at(0, Ev::Arrival);
        let mut now = 0;
        while let Some(Reverse((t, _, ev))) = self.heap.pop() {
            now = t;
            if self.bytes >= self.cfg.target_bytes {
                break;
            }
            self.step(t, ev)?;
        }
        self.emit(
            now,
            TraceEvent::RunEnd {
                reason: "event_budget".into(),
                events: self.seq,
            },
        )?;
        self.out.flush()
    }

    fn step(&mut self, t: u64, ev: Ev) -> std::io::Result<()> {
        match ev {
            Ev::Arrival => {
                let gap = self.exp(1e9 / self.cfg.arrivals_per_s.max(1e-9));
                self.at(t + gap.max(1), Ev::Arrival);
                let agent = self.rng.gen_range(0..self.cfg.agents.max(1));
                let ri = self.rng.gen_range(0..self.cfg.ris.max(1));
                let protocol = self.rng.gen_range(0..PROTOCOLS.len());
                let (s, req) = (self.next_session, self.next_msg);
                self.next_session += 1;
                self.next_msg += 1;
                let timer = self.next_timer;
                self.next_timer += 1;
                let (_, req_ty, _, req_b, _) = PROTOCOLS[protocol];
                let to = self.ri_id(ri);
                self.emit(
                    t,
                    TraceEvent::Send {
                        msg: req,
                        from: agent,
                        to,
                        msg_type: req_ty.into(),
                        bytes: req_b,
                    },
                )?;
                self.emit(
                    t,
                    TraceEvent::TimerSet {
                        actor: agent,
                        timer,
                        at: t + self.cfg.timeout_ns,
                    },
                )?;
                self.sessions.insert(
                    s,
                    Session {
                        agent,
                        ri,
                        protocol,
                        start: t,
                        req,
                        timer,
                        resp: 0,
                        resp_sent: 0,
                    },
                );
                self.at(t + self.cfg.timeout_ns, Ev::Timeout { session: s });
                let lat = self.latency();
                if self.rng.gen_bool(self.cfg.loss.clamp(0.0, 1.0)) {
                    self.emit(
                        t + lat,
                        TraceEvent::Drop {
                            msg: req,
                            from: agent,
                            to,
                            msg_type: req_ty.into(),
                            cause: DropCause::Loss,
                        },
                    )?;
                } else {
                    self.at(t + lat, Ev::ReqArrive { session: s });
                }
            }
            Ev::ReqArrive { session } => {
                let Some(s) = self.sessions.get(&session) else {
                    return Ok(());
                };
                let (agent, ri, req, p, start) = (s.agent, s.ri, s.req, s.protocol, s.start);
                let (_, ty, _, b, _) = PROTOCOLS[p];
                let id = self.ri_id(ri);
                self.emit(
                    t,
                    TraceEvent::Deliver {
                        msg: req,
                        from: agent,
                        to: id,
                        msg_type: ty.into(),
                        bytes: b,
                        latency_ns: t - start,
                    },
                )?;
                let server = &mut self.ris[ri as usize];
                if server.busy < self.cfg.workers {
                    server.busy += 1;
                    let (busy, q) = (server.busy, server.queue.len() as u32);
                    self.emit(
                        t,
                        TraceEvent::ServiceStart {
                            actor: id,
                            msg: req,
                            queue_delay_ns: 0,
                            busy,
                            queue_len: q,
                        },
                    )?;
                    let d = self.exp(self.cfg.mean_service_ns);
                    self.at(t + d, Ev::ServiceEnd { session });
                } else if server.queue.len() < self.cfg.queue_limit {
                    server.queue.push_back((session, t));
                    let q = server.queue.len() as u32;
                    self.emit(
                        t,
                        TraceEvent::Enqueue {
                            actor: id,
                            msg: req,
                            queue_len: q,
                        },
                    )?;
                } else {
                    self.emit(
                        t,
                        TraceEvent::Drop {
                            msg: req,
                            from: agent,
                            to: id,
                            msg_type: ty.into(),
                            cause: DropCause::QueueFull,
                        },
                    )?;
                }
            }
            Ev::ServiceEnd { session } => {
                let Some(s) = self.sessions.get(&session) else {
                    return Ok(());
                };
                let (agent, ri, req, p) = (s.agent, s.ri, s.req, s.protocol);
                let id = self.ri_id(ri);
                let (_, _, resp_ty, _, resp_b) = PROTOCOLS[p];
                self.emit(
                    t,
                    TraceEvent::ServiceEnd {
                        actor: id,
                        msg: req,
                        service_ns: 0,
                    },
                )?;
                let resp = self.next_msg;
                self.next_msg += 1;
                if let Some(s) = self.sessions.get_mut(&session) {
                    s.resp = resp;
                    s.resp_sent = t;
                }
                self.emit(
                    t,
                    TraceEvent::Send {
                        msg: resp,
                        from: id,
                        to: agent,
                        msg_type: resp_ty.into(),
                        bytes: resp_b,
                    },
                )?;
                let lat = self.latency();
                if self.rng.gen_bool(self.cfg.loss.clamp(0.0, 1.0)) {
                    self.emit(
                        t + lat,
                        TraceEvent::Drop {
                            msg: resp,
                            from: id,
                            to: agent,
                            msg_type: resp_ty.into(),
                            cause: DropCause::Loss,
                        },
                    )?;
                } else {
                    self.at(t + lat, Ev::RespArrive { session });
                }
                self.ris[ri as usize].busy -= 1;
                if let Some((next, since)) = self.ris[ri as usize].queue.pop_front() {
                    let server = &mut self.ris[ri as usize];
                    server.busy += 1;
                    let (busy, q) = (server.busy, server.queue.len() as u32);
                    let nreq = self.sessions.get(&next).map(|s| s.req).unwrap_or(0);
                    self.emit(
                        t,
                        TraceEvent::ServiceStart {
                            actor: id,
                            msg: nreq,
                            queue_delay_ns: t - since,
                            busy,
                            queue_len: q,
                        },
                    )?;
                    let d = self.exp(self.cfg.mean_service_ns);
                    self.at(t + d, Ev::ServiceEnd { session: next });
                }
            }
            Ev::RespArrive { session } => {
                let Some(s) = self.sessions.remove(&session) else {
                    return Ok(());
                };
                let id = self.ri_id(s.ri);
                let (proto, _, resp_ty, _, resp_b) = PROTOCOLS[s.protocol];
                self.emit(
                    t,
                    TraceEvent::Deliver {
                        msg: s.resp,
                        from: id,
                        to: s.agent,
                        msg_type: resp_ty.into(),
                        bytes: resp_b,
                        latency_ns: t - s.resp_sent,
                    },
                )?;
                self.emit(
                    t,
                    TraceEvent::TimerCancel {
                        actor: s.agent,
                        timer: s.timer,
                    },
                )?;
                let status = if self.rng.gen_bool(0.005) {
                    "SignatureError"
                } else {
                    "success"
                };
                self.emit(
                    t,
                    TraceEvent::Outcome {
                        actor: s.agent,
                        peer: Some(id),
                        protocol: proto.into(),
                        status: status.into(),
                        latency_ns: t - s.start,
                        attempts: 1,
                    },
                )?;
            }
            Ev::Timeout { session } => {
                let Some(s) = self.sessions.remove(&session) else {
                    return Ok(());
                };
                let (proto, ..) = PROTOCOLS[s.protocol];
                self.emit(
                    t,
                    TraceEvent::TimerFire {
                        actor: s.agent,
                        timer: s.timer,
                    },
                )?;
                let id = self.ri_id(s.ri);
                self.emit(
                    t,
                    TraceEvent::Outcome {
                        actor: s.agent,
                        peer: Some(id),
                        protocol: proto.into(),
                        status: "timeout".into(),
                        latency_ns: t - s.start,
                        attempts: 1,
                    },
                )?;
            }
        }
        Ok(())
    }
}
