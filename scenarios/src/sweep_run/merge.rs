//! `drmsim merge`: the union of shard directories of one sweep, verified.
//!
//! The point list is rebuilt from the `sweep.toml` / `sweep.json` every shard carries (all
//! inputs must agree on both), so the merged `results.csv` is exactly what one unsharded
//! sweep would have written. Every run is verified (summary not interrupted, scenario text,
//! trace SHA-256) before it is copied; two complete runs of the same point with different
//! digests are a conflict.

use super::inspect::{inspect, CompleteRun, RunState};
use super::{
    axes_of, check_chart_choice, finish_outputs, manifest, mkdirs, pool, prepare, progress_bar,
    remove_if_exists, with_seeds, ChartChoice, ChartsOutcome, ResultFiles, Row, SweepError,
};
use crate::sweep_run::orphans;
use crate::sweep_run::point_id::PointNaming;
use crate::sweep_run::results::build_row;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Point ids listed in a missing-runs error.
const MISSING_LISTED: usize = 5;
/// Orphan ids listed in a report (the count is exact).
const MAX_ORPHANS_LISTED: usize = 1000;

/// How to merge.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// Output directory (may be one of the inputs).
    pub out_dir: PathBuf,
    /// Parallel verifications (0 = every available core).
    pub jobs: usize,
    /// What the capacity charts show (`None`: draw no charts).
    pub charts: Option<ChartChoice>,
    /// Allow the progress bar on stderr.
    pub progress: bool,
    /// Remove the run directories of the output that are no point of the sweep.
    pub remove_orphans: bool,
}

/// What a merge did.
#[derive(Clone, Debug)]
pub struct MergeReport {
    /// Points in the sweep.
    pub total_points: u64,
    /// Input directories.
    pub inputs: usize,
    /// Runs copied into the output.
    pub copied: u64,
    /// Runs already present (and verified) in the output.
    pub already_present: u64,
    /// Incomplete runs found in the inputs and ignored.
    pub ignored_incomplete: u64,
    /// Results files.
    pub results: ResultFiles,
    /// Charts drawn, or why not (`None` when charts are off).
    pub charts: Option<Result<ChartsOutcome, String>>,
    /// Run directories of the output that are no point of the sweep (sorted; at most 1000
    /// listed).
    pub orphans: Vec<String>,
    /// Orphan directories in total.
    pub orphan_count: u64,
    /// The orphans were removed (`remove_orphans`).
    pub orphans_removed: bool,
}

/// Merges the shard directories `inputs` into `opts.out_dir`.
pub fn merge(inputs: &[PathBuf], opts: &MergeOptions) -> Result<MergeReport, SweepError> {
    let first = inputs
        .first()
        .ok_or_else(|| SweepError::Usage("merge needs at least one input directory".into()))?;
    let (m0, text) = manifest::read(first)?;
    for dir in &inputs[1..] {
        let (m, _) = manifest::read(dir)?;
        let differs = |what: &str| SweepError::ShardMismatch {
            a: first.clone(),
            b: dir.clone(),
            what: what.to_string(),
        };
        if m.source_sha256 != m0.source_sha256 {
            return Err(differs("sweep.toml differs"));
        }
        if m.seeds != m0.seeds {
            return Err(differs(&format!("seeds {} vs {}", m0.seeds, m.seeds)));
        }
        if m.total_points != m0.total_points {
            return Err(differs("point counts differ"));
        }
    }
    let base = crate::load_str(&text, &m0.source_file)?;
    let base = with_seeds(&base, Some(m0.seeds))?;
    let points = crate::sweep::points(&base)?;
    let total = points.total();
    let axes = axes_of(&base);
    check_chart_choice(&axes, opts.charts.as_ref())?;
    let axis_paths: Vec<&str> = axes.iter().map(|(p, _)| p.as_str()).collect();
    let naming = PointNaming::new(&axis_paths);

    let out = &opts.out_dir;
    let runs_out = out.join("runs");
    mkdirs(&runs_out)?;
    let orphan_names = orphans::find(&runs_out, &points, &naming)?;
    remove_if_exists(&out.join("results.csv"))?;
    remove_if_exists(&out.join("results.jsonl"))?;
    remove_if_exists(&out.join("results_long.csv"))?;
    remove_if_exists(&out.join("report.html"))?;
    manifest::write(
        out,
        &manifest::Manifest {
            shard: None,
            ..m0.clone()
        },
        &text,
    )?;

    let workers = pool::worker_count(opts.jobs, total);
    let bar = progress_bar(total, opts.progress, "runs verified");
    let stop = AtomicBool::new(false);
    let fatal: Mutex<Option<SweepError>> = Mutex::new(None);
    let rows: Mutex<Vec<Row>> = Mutex::new(Vec::new());
    let missing: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
    let (copied, present, ignored) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let set_fatal = |e: SweepError| {
        fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(e);
        stop.store(true, Ordering::SeqCst);
    };
    pool::for_each(
        points,
        workers,
        || stop.load(Ordering::SeqCst),
        |item| {
            let p = match item
                .map_err(SweepError::from)
                .and_then(|p| prepare(&naming, p).map_err(SweepError::Usage))
            {
                Ok(p) => p,
                Err(e) => return set_fatal(e),
            };
            let target = runs_out.join(&p.id);
            let r = merge_point(inputs, &target, &p.id, &p.text, &ignored);
            match r {
                Ok(Some((run, was_present))) => {
                    let c = if was_present { &present } else { &copied };
                    c.fetch_add(1, Ordering::SeqCst);
                    let row = build_row(&p.point, &p.id, &run);
                    rows.lock().unwrap_or_else(|p| p.into_inner()).push(row);
                }
                Ok(None) => missing
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((p.point.index, p.id)),
                Err(e) => set_fatal(e),
            }
            bar.inc(1);
        },
    );
    bar.finish_and_clear();
    if let Some(e) = fatal.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let mut missing = missing.into_inner().unwrap_or_else(|p| p.into_inner());
    if !missing.is_empty() {
        missing.sort();
        return Err(SweepError::MissingRuns {
            count: missing.len() as u64,
            first: missing
                .into_iter()
                .take(MISSING_LISTED)
                .map(|(_, id)| id)
                .collect(),
        });
    }
    let mut rows = rows.into_inner().unwrap_or_else(|p| p.into_inner());
    if opts.remove_orphans {
        orphans::remove(&runs_out, &orphan_names)?;
    }
    let (results, charts) = finish_outputs(out, &axes, &mut rows, opts.charts.as_ref())?;
    Ok(MergeReport {
        total_points: total,
        inputs: inputs.len(),
        copied: copied.into_inner(),
        already_present: present.into_inner(),
        ignored_incomplete: ignored.into_inner(),
        results,
        charts,
        orphan_count: orphan_names.len() as u64,
        orphans: orphan_names.into_iter().take(MAX_ORPHANS_LISTED).collect(),
        orphans_removed: opts.remove_orphans,
    })
}

/// Finds the complete run of one point among the inputs, checks for conflicts, and makes
/// sure `target` holds it. `None` when no input has a complete run.
fn merge_point(
    inputs: &[PathBuf],
    target: &Path,
    id: &str,
    text: &str,
    ignored: &AtomicU64,
) -> Result<Option<(CompleteRun, bool)>, SweepError> {
    let existing = match inspect(target, Some(text))? {
        RunState::Complete(c) => Some(*c),
        _ => None,
    };
    let mut chosen: Option<(PathBuf, CompleteRun)> = None;
    for dir in inputs {
        let src = dir.join("runs").join(id);
        // The output directory may be one of the inputs: its own runs were checked above.
        if same_dir(&src, target) {
            continue;
        }
        let run = match inspect(&src, Some(text))? {
            RunState::Complete(c) => *c,
            RunState::Incomplete(_) => {
                ignored.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            RunState::Missing => continue,
        };
        let against = chosen
            .as_ref()
            .map(|(p, c)| (p.clone(), &c.summary.trace_digest))
            .or(existing
                .as_ref()
                .map(|c| (target.to_path_buf(), &c.summary.trace_digest)));
        if let Some((other, digest)) = against {
            if *digest != run.summary.trace_digest {
                return Err(SweepError::Conflict {
                    point_id: id.to_string(),
                    a: other,
                    digest_a: digest.clone().unwrap_or_default(),
                    b: src,
                    digest_b: run.summary.trace_digest.unwrap_or_default(),
                });
            }
        }
        if chosen.is_none() {
            chosen = Some((src, run));
        }
    }
    if let Some(c) = existing {
        return Ok(Some((c, true)));
    }
    let Some((src, run)) = chosen else {
        return Ok(None);
    };
    copy_run(&src, target)?;
    Ok(Some((run, false)))
}

/// Whether two paths name the same directory (both must exist to compare equal).
pub(crate) fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Copies the files of run directory `src` to `dst` through a temporary directory and a
/// rename. Copies, not hard links: a shard resumed later truncates its trace in place,
/// which would corrupt a linked merge.
pub(crate) fn copy_run(src: &Path, dst: &Path) -> Result<(), SweepError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SweepError::Io { path, source }
    };
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dst.with_file_name(format!(".partial-{name}"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let mut entries: Vec<_> = std::fs::read_dir(src)
        .map_err(io(src))?
        .collect::<Result<_, _>>()
        .map_err(io(src))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let ty = e.file_type().map_err(io(&e.path()))?;
        if ty.is_file() {
            let to = tmp.join(e.file_name());
            std::fs::copy(e.path(), &to).map_err(io(&to))?;
        }
    }
    if dst.exists() {
        std::fs::remove_dir_all(dst).map_err(io(dst))?;
    }
    std::fs::rename(&tmp, dst).map_err(io(dst))
}
