//! `drmsim explore`: the command-line side of [`crate::explore`].

use crate::explore::{self, ExploreOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Long help of `drmsim explore`.
pub const EXPLORE_LONG: &str = "\
Search for attacks nobody scripted. Takes an ordinary scenario (its adversaries, [expect] and
[sweep] are ignored; an optional [explore] table bounds the search), scales it down (at most 6
agents and 4 minutes unless [explore] says otherwise), runs it once honestly to learn which
messages travel where, then runs attacker plans: each run draws a few moves of the programmable
attacker (drop, delay, reorder, duplicate, replay, modify a field, forge or inject an answer) on
a few message kinds, and sometimes network faults (duplication, jitter). Plans that reach
something new (a message kind, a protocol outcome, a violation) are mutated further. Every
invariant is checked in every run.

Each violation found is deduplicated by invariant and the message kinds of its causal chain,
shrunk (fewer moves, smaller budgets, fewer agents, shorter horizon; a reduction is kept only
while the same invariant is violated and the attack still acts), and written as a standalone
scenario file under OUT/findings/ (with its message sequence chart in the header and in
F<n>-<invariant>.msc.txt). OUT/explore.json records the runs, coverage and findings.

Deterministic: the same file, --seed, --runs and --shard give the same findings whatever
--jobs (plans of a batch of 16 runs depend only on earlier batches). --time stops after the
batch that passes it; explore.json records how many runs that was. Shards are independent
search streams; merge them with --merge.

Exit status:
  0  no violation found
  1  at least one finding
  2  the scenario or an output file could not be read, loaded or written";

/// Examples of `drmsim explore`.
pub const EXPLORE_EXAMPLES: &str = "\
Examples:
  drmsim explore scenarios/metering.toml --runs 500 --out runs/explore/metering
  drmsim explore scenarios/move.toml --time 10m --jobs 2
  drmsim explore scenarios/move.toml --runs 2000 --shard 1/4 --out runs/explore/s1
  drmsim explore scenarios/move.toml --merge runs/explore/s1 runs/explore/s2 --out runs/explore/all";

/// Runs of a search given neither `--runs` nor `--time`.
pub const DEFAULT_RUNS: u64 = 2_000;

/// Parsed `drmsim explore` arguments.
#[derive(Debug)]
pub struct ExploreArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Runs (default 2,000; unbounded with `time`).
    pub runs: Option<u64>,
    /// Wall-time budget.
    pub time: Option<String>,
    /// Threads.
    pub jobs: Option<usize>,
    /// Master seed.
    pub seed: u64,
    /// Output directory.
    pub out: Option<PathBuf>,
    /// `K/N`.
    pub shard: Option<crate::sweep_run::Shard>,
    /// Shard directories to merge instead of searching.
    pub merge: Vec<PathBuf>,
    /// Skip shrinking.
    pub no_shrink: bool,
    /// No progress bar.
    pub no_progress: bool,
}

/// Runs `drmsim explore`.
pub fn explore(a: ExploreArgs) -> ExitCode {
    let sc = match crate::loader::load_scenario(&a.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("runs/explore").join(&sc.scenario.name));
    let report = if !a.merge.is_empty() {
        explore::merge(&a.merge, &out)
    } else {
        let time = match a
            .time
            .as_deref()
            .map(sim_core::engine::time::parse_duration_ns)
        {
            None => None,
            Some(Ok(ns)) => Some(Duration::from_nanos(ns)),
            Some(Err(e)) => {
                eprintln!("error: --time: {e} (a duration such as \"90s\" or \"10m\")");
                return ExitCode::from(2);
            }
        };
        let opts = ExploreOptions {
            runs: match (a.runs, time) {
                (Some(r), _) => r,
                (None, Some(_)) => u64::MAX,
                (None, None) => DEFAULT_RUNS,
            },
            time,
            jobs: a
                .jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
                .max(1),
            seed: a.seed,
            shard: a.shard.map_or((1, 1), |s| (s.k, s.n)),
            out: out.clone(),
            shrink: !a.no_shrink,
            progress: !a.no_progress,
        };
        explore::explore(&sc, &opts)
    };
    match report {
        Ok(r) => {
            print!("{}", explore::render(&r));
            println!("results: {}", out.join("explore.json").display());
            if r.findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
