//! Running sweeps: every point of a `[sweep]` (optionally one shard of them) in parallel,
//! each in `DIR/runs/<point-id>/`, resumable, then `results.csv`, `results.jsonl` and the
//! capacity charts. [`merge`] combines shard directories. Guide: `docs/sweeps.md`.
//!
//! The single-run function is a parameter ([`run_sweep`] takes any
//! `Fn(&Scenario, &RunOptions) -> Result<RunSummary, RunError>`); the CLI passes
//! [`crate::runner::run`].

pub mod budget;
pub mod capacity;
pub mod inspect;
pub mod manifest;
mod merge;
pub mod orphans;
pub mod point_id;
pub mod pool;
pub mod results;

pub use capacity::{ChartChoice, ChartsOutcome};
pub use merge::{merge, MergeOptions, MergeReport};
pub use results::{ResultFiles, Row};

use crate::error::ScenarioError;
use crate::model::{Scenario, Source};
use crate::runner::{RunError, RunOptions, RunSummary};
use crate::sweep::{SweepPoint, SweepSpec, MAX_SEEDS};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use inspect::RunState;
use point_id::PointNaming;
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Most failures kept in a report (the count is exact, the list is a sample).
const MAX_FAILURES_LISTED: usize = 1000;

/// One shard of a sweep: points with `index % n == k - 1` (`k` is 1-based).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, 1..=n.
    pub k: u64,
    /// Number of shards.
    pub n: u64,
}

impl Shard {
    /// Parses `K/N` with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: expected K/N, e.g. 2/8"))?;
        let num = |x: &str, what: &str| {
            x.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{s}`: {what} `{x}` is not a whole number"))
        };
        let (k, n) = (num(k, "K")?, num(n, "N")?);
        if n == 0 || k == 0 || k > n {
            return Err(format!("`{s}`: need 1 <= K <= N (K is 1-based)"));
        }
        Ok(Shard { k, n })
    }

    /// Whether point `index` belongs to this shard.
    pub fn contains(&self, index: u64) -> bool {
        index % self.n == self.k - 1
    }

    /// Points of a `total`-point sweep in this shard.
    pub fn count(&self, total: u64) -> u64 {
        let first = self.k - 1;
        if first >= total {
            0
        } else {
            (total - first).div_ceil(self.n)
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// Why a sweep or merge stopped. Every variant ends the command.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file or one of its points is invalid.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A bad option value.
    #[error("{0}")]
    Usage(String),
    /// A point has tracing switched off; sweeps verify and measure runs from their traces.
    #[error(
        "point {point_id}: [trace] enabled = false; sweeps need traces (latency metrics and \
         resume verification are computed from them)"
    )]
    TraceDisabled {
        /// The point.
        point_id: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A JSON file could not be written.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        source: serde_json::Error,
    },
    /// A verified trace could not be analysed.
    #[error("{}: {source}", path.display())]
    Analysis {
        /// The trace.
        path: PathBuf,
        /// The analysis error.
        source: analysis::AnalysisError,
    },
    /// A merge input is not a sweep output directory.
    #[error("{}: not a sweep directory: {message}", path.display())]
    NotASweepDir {
        /// The directory.
        path: PathBuf,
        /// What is missing or wrong.
        message: String,
    },
    /// Merge inputs come from different sweeps.
    #[error("{} and {}: different sweeps ({what})", a.display(), b.display())]
    ShardMismatch {
        /// First directory.
        a: PathBuf,
        /// Second directory.
        b: PathBuf,
        /// What differs.
        what: String,
    },
    /// The same point has two complete runs with different trace digests.
    #[error(
        "point {point_id}: conflicting runs: {} has digest {digest_a}, {} has digest {digest_b} \
         (different engine versions, or a non-deterministic run)",
        a.display(),
        b.display()
    )]
    Conflict {
        /// The point.
        point_id: String,
        /// First run directory.
        a: PathBuf,
        /// Its digest.
        digest_a: String,
        /// Second run directory.
        b: PathBuf,
        /// Its digest.
        digest_b: String,
    },
    /// A point's resource estimate is over what `drmsim run` accepts without `--force`.
    #[error("point {point_id}: `drmsim run` refuses it: {refusal} (sweep --force runs it)")]
    TooLarge {
        /// The point.
        point_id: String,
        /// The estimate and what it exceeds.
        refusal: Box<crate::budget::Refusal>,
    },
    /// Merge found no complete run for some points.
    #[error(
        "{count} point(s) have no complete run in any input (first: {}); run the missing \
         shards (or resume them) and merge again",
        first.join(", ")
    )]
    MissingRuns {
        /// How many points.
        count: u64,
        /// The first few point ids.
        first: Vec<String>,
    },
}

impl SweepError {
    /// Every sweep error ends the command.
    pub fn is_fatal(&self) -> bool {
        true
    }

    /// Process exit status for this error (see `drmsim sweep --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            SweepError::Scenario(e) if e.is_io() => 2,
            SweepError::Scenario(_) | SweepError::TraceDisabled { .. } => 1,
            SweepError::Analysis { .. } => 3,
            _ => 2,
        }
    }
}

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Output directory (`runs/`, `results.*`, `charts/`, `sweep.json`, `sweep.toml`).
    pub out_dir: PathBuf,
    /// Parallel runs (0 = every available core).
    pub jobs: usize,
    /// Run only this shard.
    pub shard: Option<Shard>,
    /// Overrides `[sweep] seeds`.
    pub seeds: Option<u64>,
    /// What the capacity charts show (`None`: draw no charts).
    pub charts: Option<ChartChoice>,
    /// Set (e.g. by Ctrl-C) to stop: no new runs start, running ones are interrupted.
    pub interrupt: Arc<AtomicBool>,
    /// Allow the overall progress bar on stderr (it is hidden when stderr is no terminal).
    pub progress: bool,
    /// Other sweep directories of the same sweep (other shards, a merge) whose complete
    /// runs are copied instead of run again.
    pub reuse_from: Vec<PathBuf>,
    /// Remove the orphan run directories (no point of the sweep) after the sweep.
    pub remove_orphans: bool,
    /// Run points whose resource estimate `drmsim run` refuses (`--force`).
    pub force: bool,
}

/// A point whose run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointFailure {
    /// Point index.
    pub index: u64,
    /// Point id.
    pub point_id: String,
    /// Why.
    pub message: String,
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct SweepReport {
    /// Points in the whole sweep.
    pub total_points: u64,
    /// Points in this shard (= total without `--shard`).
    pub shard_points: u64,
    /// Worker threads used.
    pub workers: usize,
    /// Complete runs found in place and reused.
    pub reused: u64,
    /// Complete runs reused from elsewhere: copied from a `reuse_from` directory, or an
    /// orphan directory holding exactly this point's scenario, renamed.
    pub imported: u64,
    /// Runs executed to completion now.
    pub ran: u64,
    /// Runs that failed (sorted by index; at most 1000 listed).
    pub failures: Vec<PointFailure>,
    /// Failed runs in total.
    pub failed: u64,
    /// The sweep was interrupted before every point was complete.
    pub interrupted: bool,
    /// Results files, written only when every point of the shard is complete.
    pub results: Option<ResultFiles>,
    /// Charts drawn, or why not (`None` when results were not written or charts are off).
    pub charts: Option<Result<ChartsOutcome, String>>,
    /// Run directories that are no point of the sweep (sorted; at most 1000 listed).
    pub orphans: Vec<String>,
    /// Orphan directories in total.
    pub orphan_count: u64,
    /// The orphans were removed (`remove_orphans`).
    pub orphans_removed: bool,
    /// Why fewer workers ran than asked for (the memory estimate of parallel runs).
    pub memory_note: Option<String>,
}

impl SweepReport {
    /// Every point of the shard has a complete run.
    pub fn complete(&self) -> bool {
        self.results.is_some()
    }
}

/// `base` with `[sweep] seeds` replaced by `seeds` (when given).
pub fn with_seeds(base: &Scenario, seeds: Option<u64>) -> Result<Scenario, SweepError> {
    let mut s = base.clone();
    if let Some(n) = seeds {
        if n == 0 || n > MAX_SEEDS {
            return Err(SweepError::Usage(format!(
                "--seeds {n}: must be between 1 and {MAX_SEEDS}"
            )));
        }
        let n = i64::try_from(n).map_err(|_| SweepError::Usage(format!("--seeds {n}")))?;
        s.sweep
            .get_or_insert_with(SweepSpec::default)
            .entries
            .insert("seeds".into(), toml::Value::Integer(n));
    }
    Ok(s)
}

/// The axes of `base`'s sweep: `(path, values)` in axis order.
pub fn axes_of(base: &Scenario) -> Vec<(String, Vec<toml::Value>)> {
    base.sweep
        .as_ref()
        .map(|s| {
            s.axes()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything about one point a worker needs: id, concrete text, run directory.
pub(crate) struct PreparedPoint {
    pub point: SweepPoint,
    pub id: String,
    pub text: String,
}

/// Computes the id and concrete scenario text of `point`.
pub(crate) fn prepare(naming: &PointNaming, point: SweepPoint) -> Result<PreparedPoint, String> {
    let values: Vec<&toml::Value> = point.overrides.iter().map(|(_, v)| v).collect();
    let id = naming.id(&values, point.scenario.scenario.seed);
    let text = toml::to_string(&point.scenario)
        .map_err(|e| format!("point {id}: cannot write its scenario as TOML: {e}"))?;
    Ok(PreparedPoint { point, id, text })
}

/// The overall progress bar: hidden unless allowed and stderr is a terminal.
pub(crate) fn progress_bar(len: u64, allowed: bool, what: &str) -> ProgressBar {
    let target = if allowed && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    let template = format!("{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {what} (eta {{eta}})  {{msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Writes results and charts for complete `rows` into `dir`.
pub(crate) fn finish_outputs(
    dir: &Path,
    axes: &[(String, Vec<toml::Value>)],
    rows: &mut [Row],
    charts: Option<&ChartChoice>,
) -> Result<(ResultFiles, Option<Result<ChartsOutcome, String>>), SweepError> {
    let paths: Vec<String> = axes.iter().map(|(p, _)| p.clone()).collect();
    let files = results::write_results(dir, &paths, rows)?;
    let drawn = charts.map(|c| {
        capacity::draw(&dir.join("charts"), &paths, axes, rows, c)
            .unwrap_or_else(|e| Err(format!("drawing failed: {e}")))
    });
    // The one-page report reads back what was just written: the table is results.csv.
    analysis::write_sweep_report(dir).map_err(|source| SweepError::Analysis {
        path: files.report_html.clone(),
        source,
    })?;
    Ok((files, drawn))
}

/// Removes `path` if it exists.
pub(crate) fn remove_if_exists(path: &Path) -> Result<(), SweepError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SweepError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

pub(crate) fn mkdirs(path: &Path) -> Result<(), SweepError> {
    std::fs::create_dir_all(path).map_err(|source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks the chart options against the sweep before any run starts.
pub(crate) fn check_chart_choice(
    axes: &[(String, Vec<toml::Value>)],
    charts: Option<&ChartChoice>,
) -> Result<(), SweepError> {
    if let Some(x) = charts.and_then(|c| c.x_axis.as_deref()) {
        capacity::pick_x_axis(axes, Some(x)).map_err(SweepError::Usage)?;
    }
    Ok(())
}

/// Where a point's complete run came from.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Origin {
    /// Found complete in its own run directory.
    Reused,
    /// Copied from a `reuse_from` directory or adopted from an orphan directory.
    Imported,
    /// Run now.
    Ran,
}

/// What became of one point.
enum Done {
    Row(Box<Row>, Origin),
    Failed(String),
    Interrupted,
}

/// Where complete runs may be found besides a point's own directory.
struct Elsewhere<'a> {
    /// SHA-256 of an orphan's `scenario.toml` → its directory name (taken when adopted).
    orphans: Mutex<std::collections::BTreeMap<String, String>>,
    /// Other directories of the same sweep.
    reuse_from: &'a [PathBuf],
}

/// Runs every point of `base`'s sweep (or of one shard) with `run_fn`, skipping points that
/// already have a complete run in `opts.out_dir`, then writes the results and charts.
pub fn run_sweep<F>(
    base: &Scenario,
    opts: &SweepOptions,
    run_fn: F,
) -> Result<SweepReport, SweepError>
where
    F: Fn(&Scenario, &RunOptions) -> Result<RunSummary, RunError> + Sync,
{
    let base = with_seeds(base, opts.seeds)?;
    let points = crate::sweep::points(&base)?;
    let total = points.total();
    let seeds = base.sweep.as_ref().map_or(1, |s| s.seeds().max(1));
    let axes = axes_of(&base);
    check_chart_choice(&axes, opts.charts.as_ref())?;
    let axis_paths: Vec<&str> = axes.iter().map(|(p, _)| p.as_str()).collect();
    let naming = PointNaming::new(&axis_paths);
    let shard_points = opts.shard.map_or(total, |s| s.count(total));
    // Before anything is written or run: every point must fit as `drmsim run` demands.
    let memory_limit = crate::budget::machine_memory_bytes();
    let largest = budget::precheck(&points, seeds, &naming, memory_limit, opts.force)?;

    let dir = &opts.out_dir;
    let runs_dir = dir.join("runs");
    mkdirs(&runs_dir)?;
    let orphans_at_start = orphans::find(&runs_dir, &points, &naming)?;
    let elsewhere = Elsewhere {
        orphans: Mutex::new(orphans::content_index(&runs_dir, &orphans_at_start)),
        reuse_from: &opts.reuse_from,
    };
    // Results exist only for a complete sweep: drop those of an earlier attempt first.
    remove_if_exists(&dir.join("results.csv"))?;
    remove_if_exists(&dir.join("results.jsonl"))?;
    remove_if_exists(&dir.join("results_long.csv"))?;
    remove_if_exists(&dir.join("report.html"))?;
    manifest::write(
        dir,
        &manifest::Manifest {
            schema: manifest::MANIFEST_SCHEMA,
            scenario: base.scenario.name.clone(),
            source_file: base.source.file.clone(),
            source_sha256: manifest::sha256_hex(&base.source.text),
            seeds,
            total_points: total,
            shard: opts.shard,
        },
        &base.source.text,
    )?;

    let asked = pool::worker_count(opts.jobs, shard_points);
    let (workers, memory_note) = budget::cap_workers(asked, largest, memory_limit);
    let bar = progress_bar(shard_points, opts.progress, "runs");
    let stop = AtomicBool::new(false);
    let fatal: Mutex<Option<SweepError>> = Mutex::new(None);
    let rows: Mutex<Vec<Row>> = Mutex::new(Vec::new());
    let failures: Mutex<Vec<PointFailure>> = Mutex::new(Vec::new());
    let (reused, ran, failed) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let imported = AtomicU64::new(0);
    let shard = opts.shard;
    let interrupt = &opts.interrupt;
    let set_fatal = |e: SweepError| {
        let mut f = fatal.lock().unwrap_or_else(|p| p.into_inner());
        f.get_or_insert(e);
        stop.store(true, Ordering::SeqCst);
    };
    let queue = points.filter(|p| match (p, shard) {
        (Ok(p), Some(s)) => s.contains(p.index),
        _ => true,
    });

    // Stop taking points on Ctrl-C as well as on a fatal error.
    let should_stop = || stop.load(Ordering::SeqCst) || interrupt.load(Ordering::SeqCst);
    pool::for_each(queue, workers, should_stop, |item| {
        let point = match item {
            Ok(p) => p,
            Err(e) => return set_fatal(e.into()),
        };
        if !point.scenario.trace.enabled {
            let values: Vec<&toml::Value> = point.overrides.iter().map(|(_, v)| v).collect();
            let point_id = naming.id(&values, point.scenario.scenario.seed);
            return set_fatal(SweepError::TraceDisabled { point_id });
        }
        let index = point.index;
        let prepared = match prepare(&naming, point) {
            Ok(p) => p,
            Err(m) => return set_fatal(SweepError::Usage(m)),
        };
        let id = prepared.id.clone();
        match run_point(&runs_dir, prepared, interrupt, &elsewhere, &run_fn) {
            Done::Row(row, origin) => {
                let counter = match origin {
                    Origin::Reused => &reused,
                    Origin::Imported => &imported,
                    Origin::Ran => &ran,
                };
                counter.fetch_add(1, Ordering::SeqCst);
                rows.lock().unwrap_or_else(|p| p.into_inner()).push(*row);
            }
            Done::Failed(message) => {
                failed.fetch_add(1, Ordering::SeqCst);
                let mut f = failures.lock().unwrap_or_else(|p| p.into_inner());
                f.push(PointFailure {
                    index,
                    point_id: id,
                    message,
                });
            }
            Done::Interrupted => {}
        }
        bar.inc(1);
        bar.set_message(format!(
            "{} reused, {} failed",
            reused.load(Ordering::SeqCst) + imported.load(Ordering::SeqCst),
            failed.load(Ordering::SeqCst)
        ));
    });
    bar.finish_and_clear();
    if let Some(e) = fatal.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let mut rows = rows.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by_key(|f| f.index);
    failures.truncate(MAX_FAILURES_LISTED);
    let complete = rows.len() as u64 == shard_points;
    // Adopted orphans were renamed to their point's id; whatever is left belongs to no point.
    drop(elsewhere);
    let orphan_names: Vec<String> = orphans_at_start
        .into_iter()
        .filter(|n| runs_dir.join(n).is_dir())
        .collect();
    if opts.remove_orphans {
        orphans::remove(&runs_dir, &orphan_names)?;
    }
    let mut report = SweepReport {
        total_points: total,
        shard_points,
        workers,
        reused: reused.into_inner(),
        imported: imported.into_inner(),
        ran: ran.into_inner(),
        failures,
        failed: failed.into_inner(),
        interrupted: !complete && interrupt.load(Ordering::SeqCst),
        results: None,
        charts: None,
        orphan_count: orphan_names.len() as u64,
        orphans: orphan_names.into_iter().take(MAX_FAILURES_LISTED).collect(),
        orphans_removed: opts.remove_orphans,
        memory_note,
    };
    if complete {
        let (files, charts) = finish_outputs(dir, &axes, &mut rows, opts.charts.as_ref())?;
        report.results = Some(files);
        report.charts = charts;
    }
    Ok(report)
}

/// Reuses or runs one point.
fn run_point<F>(
    runs_dir: &Path,
    p: PreparedPoint,
    interrupt: &Arc<AtomicBool>,
    elsewhere: &Elsewhere<'_>,
    run_fn: &F,
) -> Done
where
    F: Fn(&Scenario, &RunOptions) -> Result<RunSummary, RunError>,
{
    let run_dir = runs_dir.join(&p.id);
    match inspect::inspect(&run_dir, Some(&p.text)) {
        Ok(RunState::Complete(c)) => {
            return Done::Row(
                Box::new(results::build_row(&p.point, &p.id, &c)),
                Origin::Reused,
            )
        }
        Ok(RunState::Missing | RunState::Incomplete(_)) => {}
        Err(e) => return Done::Failed(e.to_string()),
    }
    match import(&run_dir, &p, elsewhere) {
        Ok(Some(c)) => {
            return Done::Row(
                Box::new(results::build_row(&p.point, &p.id, &c)),
                Origin::Imported,
            )
        }
        Ok(None) => {}
        Err(e) => return Done::Failed(e.to_string()),
    }
    if interrupt.load(Ordering::SeqCst) {
        return Done::Interrupted;
    }
    // A stale summary must not survive a run that fails half-way.
    if let Err(e) = remove_if_exists(&run_dir.join("summary.json")) {
        return Done::Failed(e.to_string());
    }
    // The run directory gets the concrete point as its scenario.toml, so
    // `drmsim run runs/<id>/scenario.toml` (run from DIR) reproduces it exactly.
    let rel = PathBuf::from("runs").join(&p.id).join("scenario.toml");
    let mut sc = p.point.scenario.clone();
    sc.source = Source {
        file: rel.display().to_string(),
        text: p.text.as_str().into(),
    };
    let ro = RunOptions {
        seed: Some(sc.scenario.seed),
        out_dir: Some(run_dir.clone()),
        capture_pdus: false,
        scenario_path: Some(rel),
        interrupt: interrupt.clone(),
        progress: false,
        exit_after: false,
        // The sweep checked every point's estimate before starting (`--force` skips that).
        over_budget: true,
        // The run directory belongs to the sweep: an earlier attempt's files are replaced.
        force: true,
    };
    match run_fn(&sc, &ro) {
        Err(e) => Done::Failed(e.to_string()),
        Ok(s) if s.interrupted => Done::Interrupted,
        Ok(_) => match inspect::inspect(&run_dir, Some(&p.text)) {
            Ok(RunState::Complete(c)) => Done::Row(
                Box::new(results::build_row(&p.point, &p.id, &c)),
                Origin::Ran,
            ),
            Ok(RunState::Incomplete(why)) => {
                Done::Failed(format!("the run finished but does not verify: {why}"))
            }
            Ok(RunState::Missing) => Done::Failed("the run wrote no summary.json".into()),
            Err(e) => Done::Failed(e.to_string()),
        },
    }
}

/// A complete run of point `p` found elsewhere, moved or copied into `run_dir`: an orphan
/// directory of this sweep holding exactly the point's scenario (renamed), else a complete
/// run with the point's id in a `reuse_from` directory (copied). `None`: run it.
fn import(
    run_dir: &Path,
    p: &PreparedPoint,
    elsewhere: &Elsewhere<'_>,
) -> Result<Option<inspect::CompleteRun>, SweepError> {
    let sha = crate::provenance::sha256_hex(p.text.as_bytes());
    let adopted = elsewhere
        .orphans
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&sha);
    if let Some(name) = adopted {
        let from = run_dir.with_file_name(&name);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SweepError::Io { path, source }
        };
        if run_dir.exists() {
            std::fs::remove_dir_all(run_dir).map_err(io(run_dir))?;
        }
        std::fs::rename(&from, run_dir).map_err(io(&from))?;
        if let RunState::Complete(c) = inspect::inspect(run_dir, Some(&p.text))? {
            return Ok(Some(*c));
        }
    }
    for dir in elsewhere.reuse_from {
        let src = dir.join("runs").join(&p.id);
        if merge::same_dir(&src, run_dir) {
            continue;
        }
        if let RunState::Complete(mut c) = inspect::inspect(&src, Some(&p.text))? {
            merge::copy_run(&src, run_dir)?;
            c.summary.out_dir = run_dir.to_path_buf();
            return Ok(Some(*c));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parse_and_membership() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { k: 2, n: 8 }));
        assert!(Shard::parse("0/8").is_err());
        assert!(Shard::parse("9/8").is_err());
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("x/2").is_err());
        assert!(Shard::parse("3").is_err());
        let s = Shard { k: 2, n: 3 };
        let mine: Vec<u64> = (0..10).filter(|&i| s.contains(i)).collect();
        assert_eq!(mine, vec![1, 4, 7]);
        assert_eq!(s.count(10), 3);
        assert_eq!(Shard { k: 1, n: 3 }.count(10), 4);
        assert_eq!(Shard { k: 3, n: 3 }.count(10), 3);
        assert_eq!(Shard { k: 5, n: 8 }.count(3), 0);
        assert_eq!(Shard { k: 1, n: 1 }.count(7), 7);
        assert_eq!(s.to_string(), "2/3");
    }

    #[test]
    fn shards_partition_the_points() {
        for n in 1..6u64 {
            for total in 0..20u64 {
                let sum: u64 = (1..=n).map(|k| Shard { k, n }.count(total)).sum();
                assert_eq!(sum, total, "n={n} total={total}");
            }
        }
    }
}
