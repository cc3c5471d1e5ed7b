//! The runner shell: output directory, trace file, progress, interrupt flag, summary.json
//! and the reproduce command around the single call into the engine ([`execute`]).

use crate::model::Scenario;
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::trace_file::TraceFile;
use serde::{Deserialize, Serialize};
use sim_core::trace::{LineSink, NullSink, TraceConfig};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Version of the `summary.json` layout.
pub const SUMMARY_SCHEMA: u32 = 1;

/// How to run a scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides `[scenario] seed`.
    pub seed: Option<u64>,
    /// Output directory (default `runs/<name>/seed-<seed>`).
    pub out_dir: Option<PathBuf>,
    /// Capture PDU bytes in the trace (overrides `[trace] pdus = false`).
    pub capture_pdus: bool,
    /// The scenario file, for the reproduce command.
    pub scenario_path: Option<PathBuf>,
    /// Set (e.g. by a Ctrl-C handler) to stop the run at the next event.
    pub interrupt: Arc<AtomicBool>,
    /// Allow a progress bar on stderr.
    pub progress: bool,
    /// The process exits right after this run (`drmsim run`): leave the simulated world
    /// to the operating system instead of freeing millions of actors one by one.
    pub exit_after: bool,
    /// Run even when the resource estimate says the scenario does not fit (`--force`).
    pub over_budget: bool,
    /// Run into an explicit, non-empty `out_dir` anyway, removing the previous run's files
    /// ([`DERIVED_FILES`]) first (`--force`). The default output directory is always cleaned that way.
    pub force: bool,
}

/// Files and directories a run and its follow-up commands (`report`, `export`) write into
/// an output directory. Before a run they are removed, so nothing of an earlier run
/// survives next to the new one. `msc-*` exports match by prefix.
pub const DERIVED_FILES: &[&str] = &[
    "scenario.toml",
    "trace.jsonl",
    "trace.jsonl.gz",
    "summary.json",
    "metrics.json",
    "report.html",
    "charts",
    "timeseries.csv",
    "trace.chrome.json",
    "pki",
    "pdus",
];

/// Prefix of message-sequence-chart exports (`msc-ID.mmd`, `msc-ID.svg`).
const MSC_PREFIX: &str = "msc-";

/// Why the event loop stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Virtual time reached the horizon.
    Horizon,
    /// `event_budget` events were processed.
    EventBudget,
    /// The interrupt flag was set.
    Interrupted,
    /// No events were left.
    Quiescent,
}

/// Started/completed/failed runs of one protocol, counted online by the engine (the same
/// with the trace on or off).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolStats {
    /// Protocol runs begun.
    pub started: u64,
    /// Runs that completed successfully.
    pub completed: u64,
    /// Runs that ended in an error status, timeout or after the last retry.
    pub failed: u64,
    /// Latency of the successful runs (absent when none completed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyStats>,
}

/// Latency of a protocol's successful runs, first request to outcome, from the engine's
/// online histogram: count, min, max and mean are exact; percentiles are nearest-rank
/// within 0.8 % (`sim_core::engine::LatencyHistogram`; `drmsim report` gives exact ones
/// from a trace).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyStats {
    /// Successful runs.
    pub count: u64,
    /// Smallest, ns.
    pub min_ns: u64,
    /// Integer mean, ns.
    pub mean_ns: u64,
    /// Median, ns.
    pub p50_ns: u64,
    /// 90th percentile, ns.
    pub p90_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// 99.9th percentile, ns.
    pub p999_ns: u64,
    /// Largest, ns.
    pub max_ns: u64,
}

impl LatencyStats {
    /// The summary of `h`, `None` when it holds no sample.
    pub fn of(h: &sim_core::engine::LatencyHistogram) -> Option<Self> {
        let p = |q| h.percentile_ns(q).unwrap_or(0);
        Some(LatencyStats {
            count: h.count(),
            min_ns: h.min_ns()?,
            mean_ns: h.mean_ns()?,
            p50_ns: p(50.0),
            p90_ns: p(90.0),
            p99_ns: p(99.0),
            p999_ns: p(99.9),
            max_ns: h.max_ns()?,
        })
    }
}

/// The runner's per-protocol table from the engine's online outcome table.
pub fn protocol_stats(t: &sim_core::engine::OutcomeTable) -> BTreeMap<String, ProtocolStats> {
    t.iter()
        .map(|(name, o)| {
            (
                name.to_string(),
                ProtocolStats {
                    started: o.started,
                    completed: o.completed,
                    failed: o.failed,
                    latency: LatencyStats::of(&o.latency),
                },
            )
        })
        .collect()
}

impl ProtocolStats {
    /// completed / started, `None` when nothing started.
    pub fn completion_rate(&self) -> Option<f64> {
        (self.started > 0).then(|| self.completed as f64 / self.started as f64)
    }
}

/// What one adversary achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackStats {
    /// Attack actions taken.
    pub attempts: u64,
    /// Actions that achieved their goal (e.g. a replay accepted).
    pub succeeded: u64,
    /// Actions the protocol rejected.
    pub blocked: u64,
}

/// What the engine reports back to the runner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineOutcome {
    /// Virtual time when the loop stopped.
    pub end_time_ns: u64,
    /// Events processed.
    pub events: u64,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Trace records written.
    pub trace_records: u64,
    /// Hex SHA-256 of the trace (`TraceRecorder::digest`); `None` when no trace was kept.
    pub trace_digest: Option<String>,
    /// Per protocol name (`Protocol::as_str`).
    pub protocols: BTreeMap<String, ProtocolStats>,
    /// Invariants the engine monitored in this run.
    pub invariants_checked: Vec<String>,
    /// Violations per invariant name (absent = none).
    pub invariant_violations: BTreeMap<String, u64>,
    /// Per adversary display name.
    pub attacks: BTreeMap<String, AttackStats>,
}

/// One `[expect]` item and whether the run met it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// e.g. `min_completion.registration`, `blocked.replay`.
    pub what: String,
    /// Met or not (false when not evaluated).
    pub passed: bool,
    /// False for an interrupted run: the item was not evaluated.
    #[serde(default = "yes")]
    pub evaluated: bool,
    /// Measured value and threshold.
    pub detail: String,
}

fn yes() -> bool {
    true
}

/// `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Layout version ([`SUMMARY_SCHEMA`]).
    pub schema: u32,
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// `real` or `symbolic`.
    pub crypto: String,
    /// Configured horizon, ns.
    pub horizon_ns: u64,
    /// Virtual time at the end, ns.
    pub end_time_ns: u64,
    /// Why the run stopped.
    pub stop_reason: StopReason,
    /// The user interrupted the run (results are partial).
    pub interrupted: bool,
    /// Events processed.
    pub events: u64,
    /// Trace records.
    pub trace_records: u64,
    /// Trace digest (hex SHA-256), identifies the run; `null` when the trace was off.
    pub trace_digest: Option<String>,
    /// Trace file name inside the output directory, if a trace was written.
    pub trace_file: Option<String>,
    /// Per-protocol counts.
    pub protocols: BTreeMap<String, ProtocolStats>,
    /// Violations per invariant.
    pub invariant_violations: BTreeMap<String, u64>,
    /// Per-adversary counts.
    pub attacks: BTreeMap<String, AttackStats>,
    /// `[expect]` results.
    pub expectations: Vec<ExpectationResult>,
    /// All expectations met (false when they were not evaluated).
    pub expectations_met: bool,
    /// False when the run was interrupted: partial counts say nothing about `[expect]`.
    #[serde(default = "yes")]
    pub expectations_evaluated: bool,
    /// Command that reproduces this run.
    pub reproduce: String,
    /// Version, commit, scenario hash, command line, wall-clock times, CPUs.
    #[serde(default)]
    pub provenance: Provenance,
    /// Output directory.
    #[serde(skip)]
    pub out_dir: PathBuf,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Output directory or file IO failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The engine is not connected to the runner yet.
    #[error("engine not wired: the runner cannot execute scenarios yet")]
    EngineNotWired,
    /// The engine rejected the scenario or failed.
    #[error("engine error: {0}")]
    Engine(String),
    /// The scenario's resource estimate exceeds what this machine can run (`--force`
    /// overrides).
    #[error("{0}")]
    TooLarge(Box<crate::budget::Refusal>),
    /// An explicit output directory already holds files and `force` was not set.
    #[error(
        "{}: the output directory is not empty ({}); pass --force to replace the previous \
         run's files, or choose another --out",
        path.display(),
        entries.join(", ")
    )]
    OutDirNotEmpty {
        /// The directory.
        path: PathBuf,
        /// The first few entries found.
        entries: Vec<String>,
    },
}

impl RunError {
    /// Every run error ends the run.
    pub fn is_fatal(&self) -> bool {
        true
    }
}

/// Everything [`execute`] needs besides the scenario.
pub struct ExecContext<'a> {
    /// Seed of this run (already applied to the scenario).
    pub seed: u64,
    /// Trace recording switches.
    pub trace: TraceConfig,
    /// Write every PDU that crosses the network (XML) and the PKI (PEM) under `out_dir`.
    pub capture_pdus: bool,
    /// The run's output directory.
    pub out_dir: &'a Path,
    /// Where trace lines go (the trace file, or a null sink when tracing is off).
    pub sink: Box<dyn LineSink>,
    /// Poll this between events (e.g. as `RunLimits::stop_flag`); stop with
    /// [`StopReason::Interrupted`] when set.
    pub interrupt: Arc<AtomicBool>,
    /// Call `progress.update(now_ns, events)` every few thousand events (the engine's
    /// `run(limits, &mut |t, n| ctx.progress.update(t.as_ns(), n))` callback fits).
    pub progress: &'a Progress,
    /// Leak the simulation at the end instead of dropping it (the process is about to exit).
    pub leak_world: bool,
}

/// ENGINE ENTRY POINT — the single call from the runner into sim-core, to be wired by the
/// engine owner: build the actors from `scenario`, run the event loop with a
/// `TraceRecorder::new(ctx.trace, ctx.sink)`, poll `ctx.interrupt`, report progress, and
/// return the outcome.
fn execute(scenario: &Scenario, ctx: ExecContext<'_>) -> Result<EngineOutcome, RunError> {
    crate::assemble::execute(scenario, ctx)
}

/// The default output directory of a run.
pub fn default_out_dir(scenario: &Scenario, seed: u64) -> PathBuf {
    Path::new("runs")
        .join(&scenario.scenario.name)
        .join(format!("seed-{seed}"))
}

/// Quotes `s` for a POSIX shell when needed.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command line that reproduces a run (same trace digest).
pub fn reproduce_command(file: &str, seed: u64, capture_pdus: bool) -> String {
    let mut cmd = format!("drmsim run {} --seed {seed}", shell_quote(file));
    if capture_pdus {
        cmd.push_str(" --capture-pdus");
    }
    cmd
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io_err(path))?);
    f.write_all(bytes).map_err(io_err(path))?;
    f.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(io_err(path))
}

/// Runs `scenario`: prepares the output directory (`scenario.toml`, `trace.jsonl`), calls
/// the engine, closes the trace on every path, writes `summary.json`.
pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<RunSummary, RunError> {
    let seed = opts.seed.unwrap_or(scenario.scenario.seed);
    let mut sc = scenario.clone();
    sc.scenario.seed = seed;
    let capture_pdus = opts.capture_pdus || sc.trace.pdus;
    sc.trace.pdus = capture_pdus;
    if !opts.over_budget {
        crate::budget::admit(&sc, crate::budget::machine_memory_bytes())
            .map_err(|r| RunError::TooLarge(Box::new(r)))?;
    }

    let mut provenance = Provenance::start(&sc.source.text);
    let out_dir = match &opts.out_dir {
        Some(dir) => {
            if !opts.force {
                refuse_non_empty(dir)?;
            }
            dir.clone()
        }
        None => default_out_dir(&sc, seed),
    };
    std::fs::create_dir_all(&out_dir).map_err(io_err(&out_dir))?;
    remove_derived(&out_dir)?;
    write_file(&out_dir.join("scenario.toml"), sc.source.text.as_bytes())?;

    let trace_cfg = TraceConfig {
        enabled: sc.trace.enabled,
        timers: sc.trace.timers,
    };
    let trace_path = out_dir.join(sc.trace.format.file_name());
    let (trace_file, sink): (Option<TraceFile>, Box<dyn LineSink>) = if trace_cfg.enabled {
        let (f, s) =
            TraceFile::create_as(&trace_path, sc.trace.format).map_err(io_err(&trace_path))?;
        (Some(f), Box::new(s))
    } else {
        (None, Box::new(NullSink))
    };

    let progress = Progress::new(sc.scenario.horizon.as_ns(), opts.progress);
    let result = execute(
        &sc,
        ExecContext {
            seed,
            trace: trace_cfg,
            capture_pdus,
            out_dir: &out_dir,
            sink,
            interrupt: opts.interrupt.clone(),
            progress: &progress,
            leak_world: opts.exit_after,
        },
    );
    progress.finish();
    // Close the trace before looking at the result: every exit path flushes it.
    let closed = trace_file.map(|f| f.finish()).transpose();
    let outcome = result?;
    closed.map_err(io_err(&trace_path))?;

    let file = opts
        .scenario_path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| sc.source.file.clone());
    let interrupted = opts.interrupt.load(Ordering::SeqCst);
    let mut summary = summarize(&sc, &file, &out_dir, &outcome, interrupted);
    provenance.finish();
    summary.provenance = provenance;
    write_summary(&out_dir, &summary)?;
    Ok(summary)
}

/// Refuses `dir` when it exists and holds anything.
fn refuse_non_empty(dir: &Path) -> Result<(), RunError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort();
    if names.len() > 5 {
        let more = names.len() - 4;
        names.truncate(4);
        names.push(format!("and {more} more"));
    }
    Err(RunError::OutDirNotEmpty {
        path: dir.to_path_buf(),
        entries: names,
    })
}

/// Removes what an earlier run and its reports/exports wrote into `dir`
/// ([`DERIVED_FILES`], `msc-*`); other files are left alone.
pub fn remove_derived(dir: &Path) -> Result<(), RunError> {
    let entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(DERIVED_FILES.contains(&name.as_str()) || name.starts_with(MSC_PREFIX)) {
            continue;
        }
        let path = entry.path();
        let is_dir = entry.file_type().map_err(io_err(&path))?.is_dir();
        let removed = if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(io_err(&path))?;
    }
    Ok(())
}

/// Builds the summary of a finished run of `sc` (seed and PDU capture already applied).
/// `interrupt_seen` is the interrupt flag at the end of the run.
pub fn summarize(
    sc: &Scenario,
    file: &str,
    out_dir: &Path,
    outcome: &EngineOutcome,
    interrupt_seen: bool,
) -> RunSummary {
    let interrupted = outcome.stop_reason == StopReason::Interrupted || interrupt_seen;
    let mut expectations = check_expectations(sc, outcome);
    if interrupted {
        // Partial counts neither meet nor miss an expectation: say so instead of [pass].
        for e in &mut expectations {
            e.passed = false;
            e.evaluated = false;
            e.detail = format!(
                "the run was interrupted at {} of virtual time",
                crate::units::format_exact(outcome.end_time_ns)
            );
        }
    }
    RunSummary {
        schema: SUMMARY_SCHEMA,
        scenario: sc.scenario.name.clone(),
        seed: sc.scenario.seed,
        crypto: sc.scenario.crypto.as_str().to_string(),
        horizon_ns: sc.scenario.horizon.as_ns(),
        end_time_ns: outcome.end_time_ns,
        stop_reason: outcome.stop_reason,
        interrupted,
        events: outcome.events,
        trace_records: outcome.trace_records,
        trace_digest: outcome.trace_digest.clone(),
        trace_file: sc
            .trace
            .enabled
            .then(|| sc.trace.format.file_name().to_string()),
        protocols: outcome.protocols.clone(),
        invariant_violations: outcome.invariant_violations.clone(),
        attacks: outcome.attacks.clone(),
        expectations_met: expectations.iter().all(|e| e.passed),
        expectations_evaluated: !interrupted,
        expectations,
        reproduce: reproduce_command(file, sc.scenario.seed, sc.trace.pdus),
        // Build facts belong to every summary (a run is identified by scenario, seed and
        // version); the wall-clock and command-line facts are the runner's to add.
        provenance: Provenance {
            drmsim_version: crate::provenance::VERSION.to_string(),
            git_commit: crate::provenance::GIT_COMMIT.to_string(),
            scenario_sha256: crate::provenance::sha256_hex(sc.source.text.as_bytes()),
            ..Provenance::default()
        },
        out_dir: out_dir.to_path_buf(),
    }
}

/// Writes `summary.json` (pretty JSON, trailing newline) into `out_dir`.
pub fn write_summary(out_dir: &Path, summary: &RunSummary) -> Result<(), RunError> {
    let path = out_dir.join("summary.json");
    let mut bytes = serde_json::to_vec_pretty(summary).map_err(|e| RunError::Io {
        path: path.clone(),
        source: e.into(),
    })?;
    bytes.push(b'\n');
    write_file(&path, &bytes)
}

/// Evaluates `[expect]` against an outcome. A vacuous result fails: an invariant the
/// engine did not monitor, a protocol that never started, an adversary that never acted.
pub fn check_expectations(s: &Scenario, o: &EngineOutcome) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    for inv in &s.expect.invariants {
        let n = o.invariant_violations.get(inv).copied().unwrap_or(0);
        let monitored = o.invariants_checked.iter().any(|c| c == inv);
        out.push(ExpectationResult {
            what: format!("invariant.{inv}"),
            passed: monitored && n == 0,
            evaluated: true,
            detail: if monitored {
                format!("{n} violation(s)")
            } else {
                "not monitored by the engine".into()
            },
        });
    }
    for (proto, min) in &s.expect.min_completion {
        let stats = o.protocols.get(proto.as_str()).cloned().unwrap_or_default();
        let (passed, detail) = match stats.completion_rate() {
            Some(r) => (
                r >= min.get(),
                format!(
                    "{}/{} = {:.4} (min {})",
                    stats.completed,
                    stats.started,
                    r,
                    min.get()
                ),
            ),
            None => (false, format!("never started (min {})", min.get())),
        };
        out.push(ExpectationResult {
            what: format!("min_completion.{proto}"),
            passed,
            evaluated: true,
            detail,
        });
    }
    for (key, must_succeed) in [("blocked", false), ("succeed", true)] {
        let list = if must_succeed {
            &s.expect.succeed
        } else {
            &s.expect.blocked
        };
        for name in list {
            let a = o.attacks.get(name).cloned().unwrap_or_default();
            // `blocked` needs at least one attempt the referee decided: a run whose every
            // attempt stayed inconclusive proves nothing.
            let passed = a.attempts > 0
                && if must_succeed {
                    a.succeeded > 0
                } else {
                    a.succeeded == 0 && a.blocked > 0
                };
            let open = a.attempts.saturating_sub(a.succeeded + a.blocked);
            out.push(ExpectationResult {
                what: format!("{key}.{name}"),
                passed,
                evaluated: true,
                detail: format!(
                    "{} attempt(s), {} succeeded, {} blocked, {open} inconclusive",
                    a.attempts, a.succeeded, a.blocked
                ),
            });
        }
    }
    out
}

/// The human-readable summary printed after a run.
pub fn render_summary(s: &RunSummary) -> String {
    use crate::units::format_exact as format_duration_ns;
    let mut t = String::new();
    let stop = serde_json::to_value(s.stop_reason)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    t.push_str(&format!(
        "scenario   {} (seed {}, {} crypto)\n",
        s.scenario, s.seed, s.crypto
    ));
    t.push_str(&format!(
        "stopped    {} at {} of {}{}\n",
        stop,
        format_duration_ns(s.end_time_ns),
        format_duration_ns(s.horizon_ns),
        if s.interrupted {
            " (INTERRUPTED: partial results)"
        } else {
            ""
        }
    ));
    t.push_str(&format!(
        "events     {}\ntrace      {} records\n",
        s.events, s.trace_records
    ));
    if !s.protocols.is_empty() {
        t.push_str(&format!(
            "\n{:<20} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
            "protocol", "started", "completed", "failed", "rate", "p50", "p99"
        ));
        for (name, p) in &s.protocols {
            let rate = p
                .completion_rate()
                .map(|r| format!("{:.4}", r))
                .unwrap_or_else(|| "-".into());
            let ms = |ns: u64| format!("{:.1}ms", ns as f64 / 1e6);
            let (p50, p99) = p
                .latency
                .map(|l| (ms(l.p50_ns), ms(l.p99_ns)))
                .unwrap_or_else(|| ("-".into(), "-".into()));
            t.push_str(&format!(
                "{:<20} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
                name, p.started, p.completed, p.failed, rate, p50, p99
            ));
        }
    }
    if !s.attacks.is_empty() {
        t.push_str(&format!(
            "\n{:<20} {:>10} {:>10} {:>10}\n",
            "adversary", "attempts", "succeeded", "blocked"
        ));
        for (name, a) in &s.attacks {
            t.push_str(&format!(
                "{:<20} {:>10} {:>10} {:>10}\n",
                name, a.attempts, a.succeeded, a.blocked
            ));
        }
    }
    let violations: u64 = s.invariant_violations.values().sum();
    t.push_str(&format!("\ninvariant violations: {violations}\n"));
    for (name, n) in s.invariant_violations.iter().filter(|(_, n)| **n > 0) {
        t.push_str(&format!("  {name}: {n}\n"));
    }
    if !s.expectations.is_empty() {
        t.push_str("\nexpectations:\n");
        for e in &s.expectations {
            t.push_str(&format!(
                "  [{}] {}: {}\n",
                match (e.evaluated, e.passed) {
                    (false, _) => "not evaluated",
                    (true, true) => "pass",
                    (true, false) => "FAIL",
                },
                e.what,
                e.detail
            ));
        }
    }
    t.push_str(&format!(
        "\ndigest     {}\noutput     {}\nreproduce  {}\n",
        s.trace_digest.as_deref().unwrap_or("no trace"),
        s.out_dir.display(),
        s.reproduce
    ));
    t
}
