//! `drmsim explore`: searches attacker plans and network faults against an ordinary
//! scenario and reports every invariant violation it finds, shrunk, as a standalone
//! scenario file (docs/attacks.md, "`drmsim explore`").
//!
//! The search (swarm testing with coverage feedback):
//! 1. The scenario is scaled down (`[explore] agents`/`horizon`), its `[expect]`, `[sweep]`
//!    and adversaries removed, and run once honestly: that run's messages are the catalog of
//!    kinds and routes to attack (and a violation in it is itself a finding).
//! 2. Runs go in batches of [`BATCH`]. Each run `i` draws its plan from its own RNG stream
//!    (master seed, shard, `i`): either a fresh plan of a few moves over (kind, action) pairs
//!    weighted toward those that have acted least, or a mutation of a corpus plan that
//!    reached a feature (message kind, protocol outcome, violation) no earlier run had.
//!    Plans depend only on the state after the previous batch, and results are merged in
//!    run order, so findings do not depend on `--jobs`.
//! 3. A run with a violation of a chosen invariant is a finding, deduplicated by invariant
//!    and the message kinds of its causal chain, then shrunk (fewer moves, smaller budgets,
//!    no faults, fewer agents, shorter horizon), each step kept only while the same
//!    invariant is still violated and the attack still acted.

pub mod gen;
pub mod run;
pub mod shrink;

use crate::model::{Scenario, DEFAULT_AGENTS_MAX, DEFAULT_HORIZON_MAX_NS};
use gen::{Bounds, Catalog, Coverage, Plan};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use run::{Outcome, Seen};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Runs planned together; plans of a batch depend only on earlier batches.
pub const BATCH: u64 = 16;
/// Most plans kept in the corpus (oldest dropped first).
pub const MAX_CORPUS: usize = 256;
/// Most distinct findings kept.
pub const MAX_FINDINGS: usize = 100;
/// Most runs spent shrinking one finding.
pub const SHRINK_RUNS_MAX: u32 = 48;

/// How to search.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    /// Runs to make (with `time`, an upper bound).
    pub runs: u64,
    /// Wall-time budget: stop after the batch that passes it.
    pub time: Option<Duration>,
    /// Worker threads.
    pub jobs: usize,
    /// Master seed of the search (plans); each run's scenario seed derives from it too.
    pub seed: u64,
    /// This shard of `n`: an independent search stream (1-based `k`).
    pub shard: (u64, u64),
    /// Output directory.
    pub out: PathBuf,
    /// Shrink findings.
    pub shrink: bool,
    /// Show a progress bar (stderr terminal only).
    pub progress: bool,
}

/// One deduplicated finding.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// `F<n>-<invariant>`.
    pub id: String,
    /// Invariant violated.
    pub invariant: String,
    /// The violation's detail.
    pub detail: String,
    /// Invariant plus the message kinds of the causal chain.
    pub signature: String,
    /// Run index that found it (in its shard).
    pub run: u64,
    /// Shard `k/n`.
    pub shard: String,
    /// Seed of the reproducer.
    pub seed: u64,
    /// The shrunk plan, one line per move.
    pub moves: Vec<String>,
    /// Network faults of the plan, if any.
    pub faults: Option<String>,
    /// Message sequence chart of the violation in the reproducer.
    pub msc: Vec<String>,
    /// The reproducer file (relative to the output directory).
    pub file: String,
    /// Runs spent shrinking.
    pub shrink_runs: u32,
}

/// `explore.json`: what a search did and found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExploreReport {
    /// Scenario file.
    pub scenario: String,
    /// SHA-256 of the scenario text.
    pub scenario_sha256: String,
    /// Master seed.
    pub seed: u64,
    /// Shard `k/n`.
    pub shard: String,
    /// Runs made (the honest run included).
    pub runs: u64,
    /// Wall time, s.
    pub wall_s: f64,
    /// Runs per second of wall time.
    pub runs_per_s: f64,
    /// Coverage: features reached (message kinds, protocol outcomes, violations).
    pub features: Vec<String>,
    /// (kind, action) pairs that acted, with how often.
    pub acted: BTreeMap<String, u64>,
    /// Runs whose only violations were availability ones (lost issuance), not findings
    /// unless `[explore] availability = true`.
    pub availability_runs: u64,
    /// Findings, deduplicated.
    pub findings: Vec<Finding>,
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// The scenario does not load (fatal).
    #[error("{0}")]
    Scenario(#[from] crate::error::ScenarioError),
    /// The honest run failed to start (fatal).
    #[error("the honest run of {file} failed: {why}")]
    Baseline {
        /// File.
        file: String,
        /// Engine or load error.
        why: String,
    },
    /// Output directory not writable (fatal).
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Shards to merge do not belong to one search (fatal).
    #[error("{0}")]
    Merge(String),
}

impl ExploreError {
    /// Every explore error ends the command.
    pub fn is_fatal(&self) -> bool {
        true
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExploreError + '_ {
    move |source| ExploreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The search set-up derived from the scenario.
pub struct Setup {
    /// Scenario file name.
    pub file: String,
    /// The scaled-down scenario as a TOML table, without expect/sweep/explore/adversaries.
    pub base: toml::Table,
    /// Invariants that make a finding.
    pub invariants: Vec<String>,
    /// Availability violations count as findings.
    pub availability: bool,
    /// Search bounds.
    pub bounds: Bounds,
    /// Scenario seed of the honest run; run `i` uses `seed + 1 + i`.
    pub scenario_seed: u64,
    /// SHA-256 of the scenario text.
    pub sha256: String,
}

/// Every invariant name.
pub const ALL_INVARIANTS: &[&str] = &[
    sim_core::invariant::names::NO_REQUEST_ACCEPTED_TWICE,
    sim_core::invariant::names::NO_RIGHTS_DUPLICATED,
    sim_core::invariant::names::CONSISTENT_STATE,
    sim_core::invariant::names::DOMAIN_WITHIN_LIMIT,
    sim_core::invariant::names::METERING_DELETED_ONLY_AFTER_SUCCESS,
    sim_core::invariant::names::KEYS_NEVER_KNOWN_TO_ADVERSARY,
];

/// Builds the search set-up of `sc`.
pub fn setup(sc: &Scenario) -> Setup {
    let spec = sc.explore.clone().unwrap_or_default();
    let mut base: toml::Table = toml::from_str(&sc.source.text).unwrap_or_default();
    for k in ["expect", "sweep", "explore", "adversary"] {
        base.remove(k);
    }
    let agents = spec
        .agents
        .unwrap_or_else(|| sc.population.agents.min(DEFAULT_AGENTS_MAX));
    let horizon_ns = spec
        .horizon
        .map(|h| h.as_ns())
        .unwrap_or_else(|| sc.scenario.horizon.as_ns().min(DEFAULT_HORIZON_MAX_NS));
    // User Domains scale with the agents (each keeps its expected number of members and its
    // limit), or a 6-agent world would carry the DEA state of 500 domains.
    if let Some(u) = base.get_mut("user_domains").and_then(|v| v.as_table_mut()) {
        if let Some(c) = u.get("count").and_then(|c| c.as_integer()) {
            let full = u64::from(sc.population.agents.max(1));
            let scaled = (c as u64 * u64::from(agents)).div_ceil(full).max(1);
            u.insert(
                "count".into(),
                toml::Value::Integer(scaled.min(c as u64) as i64),
            );
        }
    }
    if let Some(p) = base.get_mut("population").and_then(|v| v.as_table_mut()) {
        p.insert("agents".into(), toml::Value::Integer(agents as i64));
        // Arrivals spread over a minute or more would leave a short run with few agents.
        p.remove("arrival");
    }
    if let Some(s) = base.get_mut("scenario").and_then(|v| v.as_table_mut()) {
        s.insert(
            "horizon".into(),
            toml::Value::String(format!("{}ms", horizon_ns / 1_000_000)),
        );
        s.remove("event_budget");
    }
    // A search needs no timer records and keeps the trace in memory.
    let mut tr = toml::Table::new();
    tr.insert("timers".into(), toml::Value::Boolean(false));
    base.insert("trace".into(), toml::Value::Table(tr));
    let invariants = if spec.invariants.is_empty() {
        ALL_INVARIANTS.iter().map(|s| s.to_string()).collect()
    } else {
        spec.invariants.clone()
    };
    use sha2::Digest;
    Setup {
        file: sc.source.file.clone(),
        base,
        invariants,
        availability: spec.availability.unwrap_or(false),
        bounds: Bounds::from_spec(&spec, horizon_ns / 1_000_000),
        scenario_seed: sc.scenario.seed,
        sha256: hex::encode(sha2::Sha256::digest(sc.source.text.as_bytes())),
    }
}

/// The RNG stream of run `i` of shard `k`: one stream per (seed, shard, run).
fn run_rng(seed: u64, shard: u64, i: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(shard);
    r.set_word_pos(u128::from(i) << 20);
    ChaCha8Rng::seed_from_u64(r.gen())
}

/// The state of a search between batches.
struct Search {
    catalog: Catalog,
    coverage: Coverage,
    features: BTreeSet<String>,
    corpus: Vec<Plan>,
    findings: Vec<Finding>,
    signatures: BTreeSet<String>,
    runs: u64,
    availability_runs: u64,
}

impl Search {
    /// Merges the outcome of run `i` (in run order).
    fn absorb(&mut self, plan: &Plan, o: &Outcome) -> bool {
        self.runs += 1;
        for (idx, m) in plan.moves.iter().enumerate() {
            let name = format!("move{idx}-{}", m.action);
            if o.attempts.get(&name).copied().unwrap_or(0) > 0 {
                *self
                    .coverage
                    .entry((m.kind.clone(), m.action.clone()))
                    .or_insert(0) += 1;
            }
        }
        let new: Vec<String> = o
            .features
            .iter()
            .filter(|f| !self.features.contains(*f))
            .cloned()
            .collect();
        let novel = !new.is_empty();
        self.features.extend(new);
        if novel && !plan.moves.is_empty() {
            if self.corpus.len() >= MAX_CORPUS {
                self.corpus.remove(0);
            }
            self.corpus.push(plan.clone());
        }
        novel
    }
}

/// The violation of `o` that counts as a finding: the first of a chosen invariant (an
/// availability violation only when `[explore] availability = true`).
fn first_violation<'a>(o: &'a Outcome, st: &Setup) -> Option<&'a Seen> {
    o.violations
        .iter()
        .find(|v| st.invariants.contains(&v.invariant) && (st.availability || !v.availability()))
}

/// Runs the search and writes `explore.json` and the findings under `opts.out`.
pub fn explore(sc: &Scenario, opts: &ExploreOptions) -> Result<ExploreReport, ExploreError> {
    let started = Instant::now();
    let st = setup(sc);
    let (k, n) = opts.shard;
    std::fs::create_dir_all(&opts.out).map_err(io_err(&opts.out))?;
    let findings_dir = opts.out.join("findings");
    // 1. The honest run: the catalog, and a finding when the protocol breaks by itself.
    let honest = run::render(&st.base, &Plan::default(), st.scenario_seed, &st.invariants);
    let o = run::run_text(&honest, &st.file);
    if let Some(why) = &o.error {
        return Err(ExploreError::Baseline {
            file: st.file.clone(),
            why: why.clone(),
        });
    }
    let mut catalog = o.catalog.clone();
    let spec = sc.explore.clone().unwrap_or_default();
    catalog.restrict(&spec.kinds);
    let mut s = Search {
        catalog,
        coverage: Coverage::new(),
        features: BTreeSet::new(),
        corpus: Vec::new(),
        findings: Vec::new(),
        signatures: BTreeSet::new(),
        runs: 0,
        availability_runs: 0,
    };
    s.absorb(&Plan::default(), &o);
    if let Some(v) = first_violation(&o, &st) {
        record(
            &mut s,
            &st,
            opts,
            &Plan::default(),
            st.scenario_seed,
            0,
            v,
            &findings_dir,
        )?;
    }
    let bar = progress_bar(opts);
    // 2. Batches.
    let mut next = 0u64;
    while next < opts.runs {
        if opts.time.is_some_and(|t| started.elapsed() >= t) {
            break;
        }
        let batch: Vec<(u64, Plan)> = (next..(next + BATCH).min(opts.runs))
            .map(|i| {
                let mut rng = run_rng(opts.seed, k, i);
                let plan = if !s.corpus.is_empty() && rng.gen_bool(0.5) {
                    let p = &s.corpus[rng.gen_range(0..s.corpus.len())];
                    gen::mutate(p, &s.catalog, &st.bounds, &s.coverage, &mut rng)
                } else {
                    gen::draw(&s.catalog, &st.bounds, &s.coverage, &mut rng)
                };
                (i, plan)
            })
            .collect();
        let results = run_batch(&st, &batch, opts.jobs);
        for ((i, plan), (seed, o)) in batch.iter().zip(results) {
            s.absorb(plan, &o);
            if !o.violations.is_empty() && o.violations.iter().all(Seen::availability) {
                s.availability_runs += 1;
            }
            if let Some(v) = first_violation(&o, &st) {
                if !s.signatures.contains(&v.signature()) && s.findings.len() < MAX_FINDINGS {
                    record(&mut s, &st, opts, plan, seed, i + 1, v, &findings_dir)?;
                }
            }
        }
        next += batch.len() as u64;
        if let Some(b) = &bar {
            b.set_position(next);
            let rate = s.runs as f64 / started.elapsed().as_secs_f64().max(1e-9);
            b.set_message(format!("{rate:.1} runs/s, {} findings", s.findings.len()));
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let wall_s = started.elapsed().as_secs_f64();
    let report = ExploreReport {
        scenario: st.file.clone(),
        scenario_sha256: st.sha256.clone(),
        seed: opts.seed,
        shard: format!("{k}/{n}"),
        runs: s.runs,
        wall_s,
        runs_per_s: s.runs as f64 / wall_s.max(1e-9),
        features: s.features.iter().cloned().collect(),
        acted: s
            .coverage
            .iter()
            .map(|((kind, a), c)| (format!("{a} {kind}"), *c))
            .collect(),
        availability_runs: s.availability_runs,
        findings: s.findings,
    };
    write_report(&opts.out, &report)?;
    Ok(report)
}

fn progress_bar(opts: &ExploreOptions) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !opts.progress || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(opts.runs);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(b)
}

/// Runs one batch on `jobs` threads; results in batch order, each with its scenario seed.
fn run_batch(st: &Setup, batch: &[(u64, Plan)], jobs: usize) -> Vec<(u64, Outcome)> {
    let results: Mutex<BTreeMap<usize, (u64, Outcome)>> = Mutex::new(BTreeMap::new());
    let next = Mutex::new(0usize);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(batch.len().max(1)) {
            scope.spawn(|| loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let j = {
                    let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                    let j = *n;
                    *n += 1;
                    j
                };
                let Some((i, plan)) = batch.get(j) else { break };
                let seed = st.scenario_seed.wrapping_add(1 + i);
                let text = run::render(&st.base, plan, seed, &st.invariants);
                let o = run::run_text(&text, &st.file);
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(j, (seed, o));
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_values()
        .collect()
}

/// Shrinks a new finding, writes its reproducer and records it.
#[allow(clippy::too_many_arguments)]
fn record(
    s: &mut Search,
    st: &Setup,
    opts: &ExploreOptions,
    plan: &Plan,
    seed: u64,
    run: u64,
    v: &Seen,
    dir: &Path,
) -> Result<(), ExploreError> {
    s.signatures.insert(v.signature());
    let (plan, base, seen, shrink_runs) = if opts.shrink {
        shrink::shrink(st, plan, seed, v, SHRINK_RUNS_MAX)
    } else {
        (plan.clone(), st.base.clone(), v.clone(), 0)
    };
    // A shrunk reproducer may show a violation already found through another chain: then
    // it is that finding again.
    if s.findings.iter().any(|f| f.signature == seen.signature()) {
        return Ok(());
    }
    s.signatures.insert(seen.signature());
    let id = format!("F{:03}-{}", s.findings.len() + 1, v.invariant);
    let file = format!("findings/{id}.toml");
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let text = finding_text(st, &plan, &base, seed, &seen, &id, opts, run);
    let path = opts.out.join(&file);
    std::fs::write(&path, text).map_err(io_err(&path))?;
    let msc_path = dir.join(format!("{id}.msc.txt"));
    std::fs::write(&msc_path, seen.msc().join("\n") + "\n").map_err(io_err(&msc_path))?;
    s.findings.push(Finding {
        id,
        invariant: seen.invariant.clone(),
        detail: seen.detail.clone(),
        signature: seen.signature(),
        run,
        shard: format!("{}/{}", opts.shard.0, opts.shard.1),
        seed,
        moves: plan.moves.iter().map(gen::describe).collect(),
        faults: plan.faults.as_ref().map(|f| {
            format!(
                "duplicate {} %, jitter ≤ {} ms",
                f.duplicate_pct, f.jitter_ms
            )
        }),
        msc: seen.msc(),
        file,
        shrink_runs,
    });
    Ok(())
}

/// The reproducer: a standalone scenario whose `[expect]` names the violated invariant (so
/// `drmsim run` and `drmsim check` fail on it), headed by how it was found and its chart.
#[allow(clippy::too_many_arguments)]
fn finding_text(
    st: &Setup,
    plan: &Plan,
    base: &toml::Table,
    seed: u64,
    v: &Seen,
    id: &str,
    opts: &ExploreOptions,
    run: u64,
) -> String {
    let mut head = vec![
        format!("# {id}: `drmsim explore` finding against {}", st.file),
        format!(
            "# Found by run {run} of shard {}/{} (search seed {}), shrunk; reproduce with:",
            opts.shard.0, opts.shard.1, opts.seed
        ),
        format!("#   drmsim run {}/findings/{id}.toml", opts.out.display()),
        format!(
            "# Violated: {} — {}",
            v.invariant,
            v.detail.replace('\n', " ")
        ),
        "# Attacker moves:".to_string(),
    ];
    for m in &plan.moves {
        head.push(format!("#   {}", gen::describe(m)));
    }
    if plan.moves.is_empty() {
        head.push("#   none: the honest run violates the invariant".to_string());
    }
    if let Some(f) = &plan.faults {
        head.push(format!(
            "# Network faults: duplicate {} %, jitter ≤ {} ms",
            f.duplicate_pct, f.jitter_ms
        ));
    }
    head.push("# Message sequence chart of the violation:".to_string());
    for l in v.msc() {
        head.push(format!("#   {l}"));
    }
    let mut t = base.clone();
    if let Some(s) = t.get_mut("scenario").and_then(|v| v.as_table_mut()) {
        s.insert(
            "name".into(),
            toml::Value::String(format!(
                "{}-{}",
                s.get("name").and_then(|n| n.as_str()).unwrap_or("explore"),
                id.to_lowercase()
            )),
        );
    }
    format!(
        "{}\n{}",
        head.join("\n"),
        run::render(&t, plan, seed, std::slice::from_ref(&v.invariant))
    )
}

fn write_report(out: &Path, r: &ExploreReport) -> Result<(), ExploreError> {
    let p = out.join("explore.json");
    let text = serde_json::to_string_pretty(r).unwrap_or_default();
    std::fs::write(&p, text + "\n").map_err(io_err(&p))
}

/// Merges the `explore.json` of shard directories into `out` (findings deduplicated by
/// signature, in shard order; reproducers copied).
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<ExploreReport, ExploreError> {
    let mut reports = Vec::new();
    for d in dirs {
        let p = d.join("explore.json");
        let text = std::fs::read_to_string(&p).map_err(io_err(&p))?;
        let r: ExploreReport = serde_json::from_str(&text)
            .map_err(|e| ExploreError::Merge(format!("{}: {e}", p.display())))?;
        reports.push((d.clone(), r));
    }
    reports.sort_by(|a, b| a.1.shard.cmp(&b.1.shard));
    let Some((_, first)) = reports.first() else {
        return Err(ExploreError::Merge("no shard directories given".into()));
    };
    let first = first.clone();
    let (sha, seed) = (first.scenario_sha256.clone(), first.seed);
    if let Some((d, _)) = reports
        .iter()
        .find(|(_, r)| r.scenario_sha256 != sha || r.seed != seed)
    {
        return Err(ExploreError::Merge(format!(
            "{} is a search of another scenario or seed than {}",
            d.display(),
            dirs[0].display()
        )));
    }
    let fdir = out.join("findings");
    std::fs::create_dir_all(&fdir).map_err(io_err(&fdir))?;
    let mut merged = ExploreReport {
        scenario: first.scenario.clone(),
        scenario_sha256: sha,
        seed,
        shard: "merged".into(),
        runs: 0,
        wall_s: 0.0,
        runs_per_s: 0.0,
        features: Vec::new(),
        acted: BTreeMap::new(),
        availability_runs: 0,
        findings: Vec::new(),
    };
    let mut feats = BTreeSet::new();
    let mut sigs = BTreeSet::new();
    for (d, r) in &reports {
        merged.runs += r.runs;
        merged.availability_runs += r.availability_runs;
        merged.wall_s = merged.wall_s.max(r.wall_s);
        feats.extend(r.features.iter().cloned());
        for (k, v) in &r.acted {
            *merged.acted.entry(k.clone()).or_insert(0) += v;
        }
        for f in &r.findings {
            if !sigs.insert(f.signature.clone()) {
                continue;
            }
            let mut f = f.clone();
            let src = d.join(&f.file);
            let new_id = format!("F{:03}-{}", merged.findings.len() + 1, f.invariant);
            let file = format!("findings/{new_id}.toml");
            let dst = out.join(&file);
            if src != dst {
                let text = std::fs::read_to_string(&src).map_err(io_err(&src))?;
                std::fs::write(&dst, text.replace(&f.id, &new_id)).map_err(io_err(&dst))?;
                let msc = fdir.join(format!("{new_id}.msc.txt"));
                std::fs::write(&msc, f.msc.join("\n") + "\n").map_err(io_err(&msc))?;
            }
            f.id = new_id;
            f.file = file;
            merged.findings.push(f);
        }
    }
    merged.features = feats.into_iter().collect();
    merged.runs_per_s = merged.runs as f64 / merged.wall_s.max(1e-9);
    write_report(out, &merged)?;
    Ok(merged)
}

/// The text summary printed after a search.
pub fn render(r: &ExploreReport) -> String {
    let mut s = format!(
        "explored {} runs of {} (seed {}, shard {}) in {:.1} s ({:.1} runs/s); {} features reached; {} run(s) with only availability violations; {} finding(s)\n",
        r.runs,
        r.scenario,
        r.seed,
        r.shard,
        r.wall_s,
        r.runs_per_s,
        r.features.len(),
        r.availability_runs,
        r.findings.len()
    );
    for f in &r.findings {
        s.push_str(&format!(
            "\n{}  {}\n  {}\n  found by run {} (shard {}), shrunk in {} runs\n",
            f.id, f.invariant, f.detail, f.run, f.shard, f.shrink_runs
        ));
        for m in &f.moves {
            s.push_str(&format!("  move: {m}\n"));
        }
        if let Some(x) = &f.faults {
            s.push_str(&format!("  faults: {x}\n"));
        }
        for l in &f.msc {
            s.push_str(&format!("    {l}\n"));
        }
        s.push_str(&format!("  reproducer: {}\n", f.file));
    }
    s
}

/// Problems of the `[explore]` table (names of actions, kinds, invariants, endpoints), at
/// their fields.
pub fn spec_problems(s: &Scenario) -> Vec<crate::validate::Problem> {
    use crate::spans::Seg;
    let mut out = Vec::new();
    let Some(e) = &s.explore else {
        return out;
    };
    let mut bad = |field: &str, i: usize, msg: String| {
        out.push(crate::validate::Problem {
            path: vec![Seg::from("explore"), Seg::from(field), Seg::from(i)],
            message: msg,
        })
    };
    let known = |list: &[&str], what: &str, x: &str| -> Result<(), String> {
        if list.contains(&x) {
            return Ok(());
        }
        let hint = crate::error::suggest(x, list.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        Err(format!(
            "unknown {what} \"{x}\" (one of: {}){hint}",
            list.join(", ")
        ))
    };
    for (i, a) in e.actions.iter().enumerate() {
        if let Err(m) = known(crate::model::ALL_ACTIONS, "action", a) {
            bad("actions", i, m);
        } else if a == "skew" && !e.compromised.iter().any(|c| c.starts_with("agent/")) {
            bad(
                "actions",
                i,
                "`skew` needs a compromised agent in `compromised` (e.g. \"agent/0\")".into(),
            );
        }
    }
    for (i, k) in e.kinds.iter().enumerate() {
        if let Err(m) = known(crate::validate::MESSAGE_KINDS, "message type", k) {
            bad("kinds", i, m);
        }
    }
    for (i, v) in e.invariants.iter().enumerate() {
        if let Err(m) = known(ALL_INVARIANTS, "invariant", v) {
            bad("invariants", i, m);
        }
    }
    for (i, c) in e.compromised.iter().enumerate() {
        let ok = c.split_once('/').is_some_and(|(k, n)| {
            matches!(k, "agent" | "ri" | "dea" | "lrm") && n.parse::<u32>().is_ok()
        });
        if !ok {
            bad(
                "compromised",
                i,
                format!("\"{c}\" is not an endpoint name (e.g. \"agent/0\", \"ri/1\", \"dea/0\")"),
            );
        }
    }
    if e.agents == Some(0) {
        out.push(crate::validate::Problem {
            path: vec![Seg::from("explore"), Seg::from("agents")],
            message: "must be at least 1".into(),
        });
    }
    out
}
