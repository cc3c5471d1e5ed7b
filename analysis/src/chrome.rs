//! Chrome Trace Event / Perfetto JSON export (open with ui.perfetto.dev or chrome://tracing).
//!
//! Mapping: every actor is a process (`pid = actor id + 1`, named `name (kind, actor ID)` so
//! the actor id is on screen next to Perfetto's pid); pid 0 is the
//! run itself (start/end and invariant violations). Inside an actor:
//! - tid 0 `messages`: one tiny slice per send and per delivery, joined by flow events
//!   (`s` at the send, `f` with `bp:"e"` at the delivery; flow id = message id);
//! - tids 1‥[`MAX_WORKER_TRACKS`] `worker k`: server service spans, `service_start` →
//!   `service_end`, each on the lowest free worker track so spans never overlap on a track;
//! - tids 1000‥ `session k`: protocol sessions, `[t − latency_ns, t]` of each `outcome`,
//!   likewise on the lowest free session track.
//!
//! Timestamps are microseconds (the format's unit) with nanosecond precision.

use crate::error::{AnalysisError, Result};
use crate::reader::{for_each_record, RawRecord};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Most worker tracks per server (more concurrent services share the last track).
pub const MAX_WORKER_TRACKS: usize = 256;
/// Most session tracks per actor.
pub const MAX_SESSION_TRACKS: usize = 64;
/// First session track id.
const SESSION_TID_BASE: u64 = 1000;
/// Duration of the send/receive marker slices, µs (1 ns): non-zero so flow events bind.
const MARKER_DUR_US: f64 = 0.001;

/// Options of the Chrome export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChromeOptions {
    /// Only events at or after this virtual time, ns.
    pub from_ns: Option<u64>,
    /// Only events at or before this virtual time, ns.
    pub to_ns: Option<u64>,
    /// Leave out per-message slices and flows (much smaller files for big runs).
    pub no_messages: bool,
}

/// Counts of what was exported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChromeStats {
    /// Trace events written.
    pub events: u64,
    /// Flow arrows (send→deliver pairs started).
    pub flows: u64,
    /// Service spans.
    pub service_spans: u64,
    /// Protocol session spans.
    pub session_spans: u64,
}

/// Exports `run_dir/trace.jsonl` to `run_dir/trace.chrome.json`; returns the output path.
pub fn export_chrome(run_dir: &Path, opts: &ChromeOptions) -> Result<PathBuf> {
    let out = run_dir.join("trace.chrome.json");
    export_chrome_to(&crate::trace_io::run_trace(run_dir), &out, opts)?;
    Ok(out)
}

/// Exports the trace at `trace` to the Chrome JSON file `out`.
pub fn export_chrome_to(trace: &Path, out: &Path, opts: &ChromeOptions) -> Result<ChromeStats> {
    if let (Some(a), Some(b)) = (opts.from_ns, opts.to_ns) {
        if a > b {
            return Err(AnalysisError::InvalidOption(format!(
                "from {a} ns is after to {b} ns"
            )));
        }
    }
    let file = std::fs::File::create(out).map_err(|e| AnalysisError::io(out, e))?;
    let mut w = ChromeWriter {
        out: std::io::BufWriter::with_capacity(1 << 20, file),
        first: true,
        opts: opts.clone(),
        stats: ChromeStats::default(),
        open_services: HashMap::new(),
        worker_busy: HashMap::new(),
        session_ends: HashMap::new(),
        last_t: 0,
    };
    let res = (|| {
        w.raw(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        w.event(json!({"ph":"M","name":"process_name","pid":0,"tid":0,"args":{"name":"run"}}))?;
        for_each_record(trace, |_, r| w.record(r))?;
        w.finish()
    })();
    res.map_err(|e| match e {
        AnalysisError::Io { path, source } if path.as_os_str() == "<chrome>" => {
            AnalysisError::io(out, source)
        }
        other => other,
    })
}

fn us(t_ns: u64) -> f64 {
    t_ns as f64 / 1000.0
}

fn pid(actor: u32) -> u64 {
    u64::from(actor) + 1
}

struct ChromeWriter {
    out: std::io::BufWriter<std::fs::File>,
    first: bool,
    opts: ChromeOptions,
    stats: ChromeStats,
    /// (server, msg) → (start ns, worker slot).
    open_services: HashMap<(u32, u64), (u64, usize)>,
    /// server → busy flag per worker slot.
    worker_busy: HashMap<u32, Vec<bool>>,
    /// actor → end time of the last session on each session slot.
    session_ends: HashMap<u32, Vec<u64>>,
    last_t: u64,
}

impl ChromeWriter {
    fn raw(&mut self, b: &[u8]) -> Result<()> {
        self.out
            .write_all(b)
            .map_err(|e| AnalysisError::io("<chrome>", e))
    }

    fn event(&mut self, v: Value) -> Result<()> {
        if !self.first {
            self.raw(b",\n")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, &v).map_err(|e| AnalysisError::Json {
            path: PathBuf::from("<chrome>"),
            source: e,
        })?;
        self.stats.events += 1;
        Ok(())
    }

    fn in_window(&self, t: u64) -> bool {
        self.opts.from_ns.is_none_or(|f| t >= f) && self.opts.to_ns.is_none_or(|to| t <= to)
    }

    fn overlaps(&self, a: u64, b: u64) -> bool {
        self.opts.from_ns.is_none_or(|f| b >= f) && self.opts.to_ns.is_none_or(|to| a <= to)
    }

    fn record(&mut self, r: &RawRecord<'_>) -> Result<()> {
        let t = r.t;
        self.last_t = self.last_t.max(t);
        let ty = r.msg_type.as_deref().unwrap_or("?");
        match r.ev.as_ref() {
            "run_start" | "run_end" if self.in_window(t) => {
                let name = if r.ev == "run_start" {
                    "run start"
                } else {
                    "run end"
                };
                self.event(json!({"ph":"i","s":"g","name":name,"pid":0,"tid":0,"ts":us(t),
                    "args":{"scenario":r.scenario,"seed":r.seed,"reason":r.reason,"events":r.events}}))?;
            }
            "actor" => {
                let (Some(id), Some(kind)) = (r.id, r.kind.as_deref()) else {
                    return Ok(());
                };
                let name = r.name.as_deref().unwrap_or("");
                let p = pid(id);
                self.event(json!({"ph":"M","name":"process_name","pid":p,"tid":0,
                    "args":{"name":format!("{name} ({kind}, actor {id})")}}))?;
                self.event(json!({"ph":"M","name":"process_sort_index","pid":p,"tid":0,
                    "args":{"sort_index":id}}))?;
                self.event(json!({"ph":"M","name":"thread_name","pid":p,"tid":0,
                    "args":{"name":"messages"}}))?;
            }
            "send" if !self.opts.no_messages && self.in_window(t) => {
                let (Some(from), Some(msg)) = (r.from, r.msg) else {
                    return Ok(());
                };
                self.event(
                    json!({"ph":"X","name":format!("send {ty}"),"cat":"msg","pid":pid(from),"tid":0,
                    "ts":us(t),"dur":MARKER_DUR_US,"args":{"msg":msg,"to":r.to,"bytes":r.bytes}}),
                )?;
                self.event(json!({"ph":"s","name":ty,"cat":"msg","id":msg,"pid":pid(from),"tid":0,"ts":us(t)}))?;
                self.stats.flows += 1;
            }
            "deliver" if !self.opts.no_messages && self.in_window(t) => {
                let (Some(to), Some(msg)) = (r.to, r.msg) else {
                    return Ok(());
                };
                self.event(
                    json!({"ph":"X","name":format!("recv {ty}"),"cat":"msg","pid":pid(to),"tid":0,
                    "ts":us(t),"dur":MARKER_DUR_US,
                    "args":{"msg":msg,"from":r.from,"bytes":r.bytes,"latency_ns":r.latency_ns}}),
                )?;
                self.event(json!({"ph":"f","bp":"e","name":ty,"cat":"msg","id":msg,"pid":pid(to),"tid":0,"ts":us(t)}))?;
            }
            "drop" if !self.opts.no_messages && self.in_window(t) => {
                let Some(from) = r.from else { return Ok(()) };
                self.event(json!({"ph":"i","s":"t","name":format!("drop {ty}"),"cat":"drop","pid":pid(from),"tid":0,
                    "ts":us(t),"args":{"msg":r.msg,"to":r.to,"cause":r.cause}}))?;
            }
            "service_start" => {
                let (Some(a), Some(msg)) = (r.actor, r.msg) else {
                    return Ok(());
                };
                let slots = self.worker_busy.entry(a).or_default();
                let mut new_track = false;
                let slot = match slots.iter().position(|b| !b) {
                    Some(s) => s,
                    None if slots.len() < MAX_WORKER_TRACKS => {
                        slots.push(false);
                        new_track = true;
                        slots.len() - 1
                    }
                    None => MAX_WORKER_TRACKS - 1,
                };
                slots[slot] = true;
                if let Some((_, old)) = self.open_services.insert((a, msg), (t, slot)) {
                    // A repeated start for the same message: free the stale slot.
                    if let Some(s) = self.worker_busy.get_mut(&a).and_then(|v| v.get_mut(old)) {
                        *s = old == slot;
                    }
                }
                if new_track {
                    self.event(
                        json!({"ph":"M","name":"thread_name","pid":pid(a),"tid":slot + 1,
                        "args":{"name":format!("worker {slot}")}}),
                    )?;
                }
            }
            "service_end" => {
                let (Some(a), Some(msg)) = (r.actor, r.msg) else {
                    return Ok(());
                };
                if let Some((start, slot)) = self.open_services.remove(&(a, msg)) {
                    if let Some(s) = self.worker_busy.get_mut(&a).and_then(|v| v.get_mut(slot)) {
                        *s = false;
                    }
                    self.service_span(a, msg, start, t, slot, r.service_ns, false)?;
                }
            }
            "outcome" => {
                let Some(a) = r.actor else { return Ok(()) };
                let lat = r.latency_ns.unwrap_or(0);
                let start = t.saturating_sub(lat);
                if !self.overlaps(start, t) {
                    return Ok(());
                }
                let ends = self.session_ends.entry(a).or_default();
                let slot = match ends.iter().position(|&e| e <= start) {
                    Some(s) => s,
                    None if ends.len() < MAX_SESSION_TRACKS => {
                        ends.push(0);
                        let s = ends.len() - 1;
                        self.event(json!({"ph":"M","name":"thread_name","pid":pid(a),
                            "tid":SESSION_TID_BASE + s as u64,"args":{"name":format!("session {s}")}}))?;
                        s
                    }
                    None => MAX_SESSION_TRACKS - 1,
                };
                if let Some(e) = self.session_ends.get_mut(&a).and_then(|v| v.get_mut(slot)) {
                    *e = t;
                }
                let proto = r.protocol.as_deref().unwrap_or("?");
                self.event(json!({"ph":"X","name":proto,"cat":"session","pid":pid(a),
                    "tid":SESSION_TID_BASE + slot as u64,"ts":us(start),"dur":us(lat),
                    "args":{"status":r.status,"attempts":r.attempts,"peer":r.peer}}))?;
                self.stats.session_spans += 1;
            }
            "attack" if self.in_window(t) => {
                let Some(a) = r.actor else { return Ok(()) };
                self.event(json!({"ph":"i","s":"p","name":format!("attack {}", r.attack.as_deref().unwrap_or("?")),
                    "cat":"attack","pid":pid(a),"tid":0,"ts":us(t),
                    "args":{"target":r.target,"success":r.success,"detail":r.detail}}))?;
            }
            "violation" if self.in_window(t) => {
                self.event(json!({"ph":"i","s":"g","name":format!("violation {}", r.invariant.as_deref().unwrap_or("?")),
                    "cat":"violation","pid":0,"tid":0,"ts":us(t),
                    "args":{"detail":r.detail,"chain":r.chain}}))?;
            }
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn service_span(
        &mut self,
        a: u32,
        msg: u64,
        start: u64,
        end: u64,
        slot: usize,
        service_ns: Option<u64>,
        unfinished: bool,
    ) -> Result<()> {
        if !self.overlaps(start, end) {
            return Ok(());
        }
        self.event(
            json!({"ph":"X","name":"service","cat":"server","pid":pid(a),"tid":slot + 1,
            "ts":us(start),"dur":us(end - start),
            "args":{"msg":msg,"service_ns":service_ns,"unfinished":unfinished}}),
        )?;
        self.stats.service_spans += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<ChromeStats> {
        // Services still running at the end, in a deterministic order.
        let open: BTreeMap<(u32, u64), (u64, usize)> = self.open_services.drain().collect();
        let end = self.last_t;
        for ((a, msg), (start, slot)) in open {
            self.service_span(a, msg, start, end.max(start), slot, None, true)?;
        }
        self.raw(b"\n]}\n")?;
        self.out
            .flush()
            .map_err(|e| AnalysisError::io("<chrome>", e))?;
        Ok(self.stats)
    }
}
