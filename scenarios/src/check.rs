//! `drmsim check`: the security regression suite. Runs every scenario over a set of seeds in
//! parallel (std threads), tabulates scenario × attack × outcome × expected, and for every
//! run that misses an `[expect]` item prints the seed, the violated invariant, the message
//! sequence behind it, a shrunk reproducer and the `drmsim run` command.

use crate::model::Scenario;
use crate::progress::Progress;
use crate::runner::{check_expectations, EngineOutcome, ExecContext, ExpectationResult};
use serde::Deserialize;
use sim_core::trace::{LineSink, TraceConfig};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// How to run the suite.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Seeds per scenario: the scenario's seed and the next `seeds - 1`.
    pub seeds: u64,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Shrink failing runs.
    pub shrink: bool,
    /// Most runs spent shrinking one failure.
    pub shrink_budget: u32,
    /// Where shrunk reproducers are written.
    pub out_dir: PathBuf,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            seeds: 3,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            shrink: true,
            shrink_budget: 40,
            out_dir: PathBuf::from("runs/check"),
        }
    }
}

/// How an attack ended over one run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttackOutcome {
    /// Acted, never succeeded, at least one attempt refused.
    Blocked,
    /// Succeeded at least once.
    Succeeded,
    /// Never acted, or no attempt was decided.
    Inconclusive,
}

impl AttackOutcome {
    /// Table spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackOutcome::Blocked => "blocked",
            AttackOutcome::Succeeded => "succeeded",
            AttackOutcome::Inconclusive => "inconclusive",
        }
    }
}

/// A violation record read back from a run's trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViolationSeen {
    /// Invariant.
    pub invariant: String,
    /// Detail.
    pub detail: String,
    /// The messages of its causal chain: `(id, t_ns, from, to, type)`.
    pub messages: Vec<(u64, u64, u32, u32, String)>,
}

/// One (scenario, seed) run.
#[derive(Clone, Debug)]
pub struct SeedResult {
    /// Seed.
    pub seed: u64,
    /// Attack outcomes by adversary name.
    pub attacks: BTreeMap<String, AttackOutcome>,
    /// `[expect]` results.
    pub expectations: Vec<ExpectationResult>,
    /// Violations (first few) from the trace.
    pub violations: Vec<ViolationSeen>,
    /// Engine error, if the run failed.
    pub error: Option<String>,
    /// Events processed.
    pub events: u64,
}

impl SeedResult {
    /// Every expectation met and no engine error.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.expectations.iter().all(|e| e.passed)
    }

    fn failed_items(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .expectations
            .iter()
            .filter(|e| !e.passed)
            .map(|e| e.what.clone())
            .collect();
        if let Some(e) = &self.error {
            v.push(format!("error: {e}"));
        }
        v
    }
}

/// The smallest failing variant found by shrinking.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// Agents in the reproducer.
    pub agents: u32,
    /// Horizon, ns.
    pub horizon_ns: u64,
    /// Event budget, if one was needed.
    pub event_budget: Option<u64>,
    /// The reproducer scenario file.
    pub file: PathBuf,
    /// Runs spent.
    pub runs: u32,
}

/// One scenario over all seeds.
#[derive(Clone, Debug)]
pub struct ScenarioResult {
    /// File.
    pub file: String,
    /// Scenario name.
    pub name: String,
    /// Expected outcome by adversary name (`blocked`/`succeeded`/`-`).
    pub expected: BTreeMap<String, &'static str>,
    /// Per seed.
    pub seeds: Vec<SeedResult>,
    /// Shrunk reproducer of the first failing seed.
    pub shrunk: Option<Shrunk>,
}

/// The whole suite.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    /// Scenario results, in file order.
    pub scenarios: Vec<ScenarioResult>,
    /// Files that could not be loaded, with the error.
    pub load_errors: Vec<(String, String)>,
}

impl CheckReport {
    /// Everything loaded and every run met its expectations.
    pub fn all_passed(&self) -> bool {
        self.load_errors.is_empty()
            && self
                .scenarios
                .iter()
                .all(|s| s.seeds.iter().all(SeedResult::passed))
    }
}

/// Scenario files named by `paths` (directories: their `*.toml`, sorted).
pub fn collect_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// A trace sink that keeps the lines (one run, one thread).
struct SharedSink(Rc<RefCell<Vec<u8>>>);

impl LineSink for SharedSink {
    fn write_line(&mut self, line: &[u8]) {
        self.0.borrow_mut().extend_from_slice(line);
    }
}

#[derive(Deserialize)]
struct Line {
    t: u64,
    ev: String,
    msg: Option<u64>,
    from: Option<u32>,
    to: Option<u32>,
    #[serde(rename = "type")]
    msg_type: Option<String>,
    invariant: Option<String>,
    detail: Option<String>,
    chain: Option<Vec<u64>>,
}

/// Most violations read back per run.
const MAX_VIOLATIONS_READ: usize = 5;

fn violations_in(trace: &[u8]) -> Vec<ViolationSeen> {
    let lines: Vec<Line> = trace
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    let mut sends = BTreeMap::new();
    for l in &lines {
        if l.ev == "send" {
            if let Some(m) = l.msg {
                sends.insert(m, l);
            }
        }
    }
    lines
        .iter()
        .filter(|l| l.ev == "violation")
        .take(MAX_VIOLATIONS_READ)
        .map(|l| ViolationSeen {
            invariant: l.invariant.clone().unwrap_or_default(),
            detail: l.detail.clone().unwrap_or_default(),
            messages: l
                .chain
                .iter()
                .flatten()
                .filter_map(|id| sends.get(id))
                .map(|s| {
                    (
                        s.msg.unwrap_or(0),
                        s.t,
                        s.from.unwrap_or(0),
                        s.to.unwrap_or(0),
                        s.msg_type.clone().unwrap_or_default(),
                    )
                })
                .collect(),
        })
        .collect()
}

fn attack_outcomes(sc: &Scenario, o: &EngineOutcome) -> BTreeMap<String, AttackOutcome> {
    (0..sc.adversaries.len())
        .map(|i| {
            let name = sc.adversaries[i].display_name(i);
            let a = o.attacks.get(&name).cloned().unwrap_or_default();
            let out = if a.succeeded > 0 {
                AttackOutcome::Succeeded
            } else if a.blocked > 0 {
                AttackOutcome::Blocked
            } else {
                AttackOutcome::Inconclusive
            };
            (name, out)
        })
        .collect()
}

/// Runs `sc` with its own seed in memory, keeping the trace (timers off): the engine's
/// outcome and the trace's JSON Lines. `check` and `explore` both run this way.
pub fn run_in_memory(sc: &Scenario) -> (Result<EngineOutcome, crate::runner::RunError>, Vec<u8>) {
    let buf = Rc::new(RefCell::new(Vec::new()));
    let progress = Progress::new(sc.scenario.horizon.as_ns(), false);
    let res = crate::assemble::execute(
        sc,
        ExecContext {
            seed: sc.scenario.seed,
            trace: TraceConfig {
                enabled: true,
                timers: false,
            },
            capture_pdus: false,
            out_dir: Path::new("."),
            sink: Box::new(SharedSink(buf.clone())),
            interrupt: Arc::new(AtomicBool::new(false)),
            progress: &progress,
            leak_world: false,
        },
    );
    let trace = std::mem::take(&mut *buf.borrow_mut());
    (res, trace)
}

/// Runs `sc` with `seed` in memory (trace kept for violation chains, timers off).
pub fn run_seed(sc: &Scenario, seed: u64) -> SeedResult {
    let mut sc = sc.clone();
    sc.scenario.seed = seed;
    let (res, trace) = run_in_memory(&sc);
    match res {
        Ok(o) => SeedResult {
            seed,
            attacks: attack_outcomes(&sc, &o),
            expectations: check_expectations(&sc, &o),
            violations: violations_in(&trace),
            error: None,
            events: o.events,
        },
        Err(e) => SeedResult {
            seed,
            attacks: BTreeMap::new(),
            expectations: Vec::new(),
            violations: Vec::new(),
            error: Some(e.to_string()),
            events: 0,
        },
    }
}

fn expected(sc: &Scenario) -> BTreeMap<String, &'static str> {
    (0..sc.adversaries.len())
        .map(|i| {
            let n = sc.adversaries[i].display_name(i);
            let e = if sc.expect.blocked.contains(&n) {
                "blocked"
            } else if sc.expect.succeed.contains(&n) {
                "succeeded"
            } else {
                "-"
            };
            (n, e)
        })
        .collect()
}

/// Runs every (scenario, seed) pair on `opts.jobs` threads, then shrinks failures.
pub fn check(files: &[PathBuf], opts: &CheckOptions) -> CheckReport {
    let mut report = CheckReport::default();
    let mut loaded: Vec<(String, Scenario)> = Vec::new();
    for f in files {
        match crate::loader::load_scenario(f) {
            Ok(s) => loaded.push((f.display().to_string(), s)),
            Err(e) => report
                .load_errors
                .push((f.display().to_string(), e.to_string())),
        }
    }
    let jobs: Vec<(usize, u64)> = loaded
        .iter()
        .enumerate()
        .flat_map(|(i, (_, s))| (0..opts.seeds.max(1)).map(move |k| (i, s.scenario.seed + k)))
        .collect();
    let results: Mutex<BTreeMap<(usize, u64), SeedResult>> = Mutex::new(BTreeMap::new());
    let next = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1).min(jobs.len().max(1)) {
            scope.spawn(|| loop {
                let job = {
                    let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                    let j = jobs.get(*n).copied();
                    *n += 1;
                    j
                };
                let Some((i, seed)) = job else { break };
                let r = run_seed(&loaded[i].1, seed);
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert((i, seed), r);
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    for (i, (file, sc)) in loaded.iter().enumerate() {
        let seeds: Vec<SeedResult> = (0..opts.seeds.max(1))
            .filter_map(|k| results.remove(&(i, sc.scenario.seed + k)))
            .collect();
        let shrunk = if opts.shrink {
            seeds
                .iter()
                .find(|r| !r.passed() && r.error.is_none())
                .and_then(|r| shrink(sc, r, opts))
        } else {
            None
        };
        report.scenarios.push(ScenarioResult {
            file: file.clone(),
            name: sc.scenario.name.clone(),
            expected: expected(sc),
            seeds,
            shrunk,
        });
    }
    report
}

/// Whether `r` still shows the first failure of `orig`.
fn same_failure(orig: &SeedResult, r: &SeedResult) -> bool {
    let want = orig.failed_items();
    let got = r.failed_items();
    want.first().is_some_and(|w| got.contains(w))
}

fn with(sc: &Scenario, agents: u32, horizon_ns: u64, budget: Option<u64>) -> Scenario {
    let mut s = sc.clone();
    s.population.agents = agents;
    s.scenario.horizon = crate::units::DurationNs(horizon_ns);
    s.scenario.event_budget = budget;
    s
}

/// Shrinks a failing run: fewer agents, then a shorter horizon, then fewer events, each
/// kept only while the same expectation still fails with the same seed. Writes the
/// reproducer scenario to `opts.out_dir`.
pub fn shrink(sc: &Scenario, failing: &SeedResult, opts: &CheckOptions) -> Option<Shrunk> {
    let seed = failing.seed;
    let mut agents = sc.population.agents;
    let mut horizon = sc.scenario.horizon.as_ns();
    let mut budget = sc.scenario.event_budget;
    let mut runs = 0u32;
    let mut events = failing.events;
    let try_run = |a: u32, h: u64, b: Option<u64>, runs: &mut u32| -> Option<SeedResult> {
        if *runs >= opts.shrink_budget {
            return None;
        }
        *runs += 1;
        let r = run_seed(&with(sc, a, h, b), seed);
        same_failure(failing, &r).then_some(r)
    };
    // Fewer agents: halve, then step down by one.
    while agents > 1 {
        let half = (agents / 2).max(1);
        if let Some(r) = try_run(half, horizon, budget, &mut runs) {
            agents = half;
            events = r.events;
        } else if let Some(r) = try_run(agents - 1, horizon, budget, &mut runs) {
            agents -= 1;
            events = r.events;
        } else {
            break;
        }
    }
    // Shorter horizon: binary search on the smallest that still fails.
    let (mut lo, mut hi) = (0u64, horizon);
    while hi - lo > hi / 50 + 1_000_000 {
        let mid = lo + (hi - lo) / 2;
        match try_run(agents, mid, budget, &mut runs) {
            Some(r) => {
                hi = mid;
                events = r.events;
            }
            None if runs >= opts.shrink_budget => break,
            None => lo = mid,
        }
    }
    horizon = hi;
    // Fewer events: binary search on an event budget.
    let (mut lo, mut hi) = (0u64, events);
    while hi - lo > hi / 50 + 1 {
        let mid = lo + (hi - lo) / 2;
        match try_run(agents, horizon, Some(mid), &mut runs) {
            Some(_) => hi = mid,
            None if runs >= opts.shrink_budget => break,
            None => lo = mid,
        }
    }
    if hi < events {
        budget = Some(hi);
    }
    let file = write_reproducer(sc, seed, agents, horizon, budget, &opts.out_dir)?;
    Some(Shrunk {
        agents,
        horizon_ns: horizon,
        event_budget: budget,
        file,
        runs,
    })
}

/// Writes the scenario's TOML with the shrunk population, horizon and budget.
fn write_reproducer(
    sc: &Scenario,
    seed: u64,
    agents: u32,
    horizon_ns: u64,
    budget: Option<u64>,
    dir: &Path,
) -> Option<PathBuf> {
    let mut t: toml::Table = toml::from_str(&sc.source.text).ok()?;
    let scen = t.get_mut("scenario")?.as_table_mut()?;
    scen.insert(
        "horizon".into(),
        toml::Value::String(format!("{horizon_ns}ns")),
    );
    scen.insert("seed".into(), toml::Value::Integer(seed as i64));
    if let Some(b) = budget {
        scen.insert("event_budget".into(), toml::Value::Integer(b as i64));
    }
    if let Some(p) = t.get_mut("population").and_then(|p| p.as_table_mut()) {
        p.insert("agents".into(), toml::Value::Integer(agents as i64));
    }
    let text = format!(
        "# Shrunk reproducer of {} (seed {seed}) written by `drmsim check`.\n{}",
        sc.source.file,
        toml::to_string(&t).ok()?
    );
    std::fs::create_dir_all(dir).ok()?;
    let file = dir.join(format!("{}-seed{seed}-min.toml", sc.scenario.name));
    std::fs::write(&file, text).ok()?;
    Some(file)
}

/// The table and the failure details, as printed by `drmsim check`.
pub fn render(report: &CheckReport) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "{:<28} {:<18} {:<28} {:<10} {}\n",
        "scenario", "attack", "outcome (per seed)", "expected", "result"
    ));
    for s in &report.scenarios {
        let names: Vec<String> = if s.expected.is_empty() {
            vec!["-".into()]
        } else {
            s.expected.keys().cloned().collect()
        };
        for n in names {
            let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
            for r in &s.seeds {
                let o = r.attacks.get(&n).map_or("-", |o| o.as_str());
                *counts
                    .entry(if r.error.is_some() { "error" } else { o })
                    .or_default() += 1;
            }
            let outcome = counts
                .iter()
                .map(|(k, v)| format!("{k} {v}/{}", s.seeds.len()))
                .collect::<Vec<_>>()
                .join(", ");
            let ok = s.seeds.iter().all(SeedResult::passed);
            t.push_str(&format!(
                "{:<28} {:<18} {:<28} {:<10} {}\n",
                s.name,
                n,
                outcome,
                s.expected.get(&n).copied().unwrap_or("-"),
                if ok { "ok" } else { "MISMATCH" }
            ));
        }
    }
    for (f, e) in &report.load_errors {
        t.push_str(&format!("\n{f}: could not load: {e}\n"));
    }
    for s in &report.scenarios {
        for r in s.seeds.iter().filter(|r| !r.passed()) {
            t.push_str(&format!("\nFAIL {} seed {}\n", s.file, r.seed));
            if let Some(e) = &r.error {
                t.push_str(&format!("  engine error: {e}\n"));
            }
            for e in r.expectations.iter().filter(|e| !e.passed) {
                t.push_str(&format!("  {}: {}\n", e.what, e.detail));
            }
            for v in r.violations.iter().take(2) {
                t.push_str(&format!("  violated {}: {}\n", v.invariant, v.detail));
                for (id, at, from, to, ty) in &v.messages {
                    t.push_str(&format!(
                        "    msg {id:>6}  t={}  {from} -> {to}  {ty}\n",
                        crate::units::format_exact(*at)
                    ));
                }
            }
            t.push_str(&format!(
                "  reproduce: {}\n",
                crate::runner::reproduce_command(&s.file, r.seed, false)
            ));
        }
        if let Some(sh) = &s.shrunk {
            t.push_str(&format!(
                "  smallest reproducer ({} runs): {} agent(s), horizon {}, {}\n  reproduce: {}\n",
                sh.runs,
                sh.agents,
                crate::units::format_exact(sh.horizon_ns),
                sh.event_budget
                    .map_or("no event budget".into(), |b| format!("event budget {b}")),
                crate::runner::reproduce_command(
                    &sh.file.display().to_string(),
                    s.seeds.iter().find(|r| !r.passed()).map_or(0, |r| r.seed),
                    false
                )
            ));
        }
    }
    let runs: usize = report.scenarios.iter().map(|s| s.seeds.len()).sum();
    let failed: usize = report
        .scenarios
        .iter()
        .map(|s| s.seeds.iter().filter(|r| !r.passed()).count())
        .sum();
    t.push_str(&format!(
        "\n{} scenario(s), {runs} run(s), {failed} mismatch(es)\n",
        report.scenarios.len()
    ));
    t
}

/// Output format of `drmsim check`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// The human-readable table ([`render`]).
    #[default]
    Text,
    /// One JSON document ([`render_json`]).
    Json,
    /// JUnit XML for CI systems ([`render_junit`]).
    Junit,
}

impl Format {
    /// Parses `text`, `json` or `junit`.
    pub fn parse(s: &str) -> Result<Format, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            o => Err(format!("unknown format `{o}` (text, json, junit)")),
        }
    }
}

/// The report as one JSON document: per scenario its expected outcomes and, per seed, the
/// attack outcomes, failed expectations, violations and the reproducing command.
pub fn render_json(report: &CheckReport) -> String {
    use serde_json::{json, Value};
    let scenarios: Vec<Value> = report
        .scenarios
        .iter()
        .map(|s| {
            let seeds: Vec<Value> = s
                .seeds
                .iter()
                .map(|r| {
                    json!({
                        "seed": r.seed,
                        "passed": r.passed(),
                        "attacks": r.attacks.iter().map(|(k, v)| (k.clone(), json!(v.as_str()))).collect::<serde_json::Map<_, _>>(),
                        "expectations": r.expectations.iter().map(|e| json!({"what": e.what, "passed": e.passed, "detail": e.detail})).collect::<Vec<_>>(),
                        "violations": r.violations.iter().map(|v| json!({"invariant": v.invariant, "detail": v.detail, "messages": v.messages.iter().map(|(id, t, f, to, ty)| json!({"msg": id, "t_ns": t, "from": f, "to": to, "type": ty})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
                        "error": r.error,
                        "events": r.events,
                        "reproduce": crate::runner::reproduce_command(&s.file, r.seed, false),
                    })
                })
                .collect();
            json!({
                "file": s.file,
                "name": s.name,
                "expected": s.expected.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "passed": s.seeds.iter().all(SeedResult::passed),
                "seeds": seeds,
                "shrunk": s.shrunk.as_ref().map(|sh| json!({
                    "file": sh.file.display().to_string(),
                    "agents": sh.agents,
                    "horizon_ns": sh.horizon_ns,
                    "event_budget": sh.event_budget,
                    "runs": sh.runs,
                })),
            })
        })
        .collect();
    let doc = json!({
        "passed": report.all_passed(),
        "scenarios": scenarios,
        "load_errors": report.load_errors.iter().map(|(f, e)| json!({"file": f, "error": e})).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// The report as JUnit XML: one `<testsuite>` per scenario file, one `<testcase>` per seed
/// (a `<failure>` listing missed expectations, violations and the reproducing command), and
/// an `<error>` test case per file that could not be loaded.
pub fn render_junit(report: &CheckReport) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let tests: usize = report
        .scenarios
        .iter()
        .map(|s| s.seeds.len())
        .sum::<usize>()
        + report.load_errors.len();
    let failures: usize = report
        .scenarios
        .iter()
        .map(|s| {
            s.seeds
                .iter()
                .filter(|r| !r.passed() && r.error.is_none())
                .count()
        })
        .sum();
    let errors: usize = report
        .scenarios
        .iter()
        .map(|s| s.seeds.iter().filter(|r| r.error.is_some()).count())
        .sum::<usize>()
        + report.load_errors.len();
    x.push_str(&format!(
        "<testsuites name=\"drmsim check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n"
    ));
    for s in &report.scenarios {
        let f = s
            .seeds
            .iter()
            .filter(|r| !r.passed() && r.error.is_none())
            .count();
        let e = s.seeds.iter().filter(|r| r.error.is_some()).count();
        x.push_str(&format!(
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\">\n",
            xml_escape(&s.name),
            xml_escape(&s.file),
            s.seeds.len()
        ));
        for r in &s.seeds {
            let outcomes: Vec<String> = r
                .attacks
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str()))
                .collect();
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"seed {}\">\n",
                xml_escape(&s.name),
                r.seed
            ));
            let reproduce = crate::runner::reproduce_command(&s.file, r.seed, false);
            if let Some(err) = &r.error {
                x.push_str(&format!(
                    "      <error message=\"{}\">reproduce: {}</error>\n",
                    xml_escape(err),
                    xml_escape(&reproduce)
                ));
            } else if !r.passed() {
                let failed: Vec<&ExpectationResult> =
                    r.expectations.iter().filter(|e| !e.passed).collect();
                let msg = failed
                    .iter()
                    .map(|e| e.what.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut body = String::new();
                for e in &failed {
                    body.push_str(&format!("{}: {}\n", e.what, e.detail));
                }
                for v in &r.violations {
                    body.push_str(&format!("violated {}: {}\n", v.invariant, v.detail));
                }
                body.push_str(&format!("reproduce: {reproduce}\n"));
                x.push_str(&format!(
                    "      <failure message=\"{}\" type=\"expectation\">{}</failure>\n",
                    xml_escape(&msg),
                    xml_escape(&body)
                ));
            }
            x.push_str(&format!(
                "      <system-out>{}</system-out>\n    </testcase>\n",
                xml_escape(&outcomes.join(" "))
            ));
        }
        x.push_str("  </testsuite>\n");
    }
    if !report.load_errors.is_empty() {
        x.push_str(&format!(
            "  <testsuite name=\"load\" tests=\"{0}\" failures=\"0\" errors=\"{0}\">\n",
            report.load_errors.len()
        ));
        for (f, e) in &report.load_errors {
            x.push_str(&format!(
                "    <testcase classname=\"load\" name=\"{}\">\n      <error message=\"could not load\">{}</error>\n    </testcase>\n",
                xml_escape(f),
                xml_escape(e)
            ));
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}
