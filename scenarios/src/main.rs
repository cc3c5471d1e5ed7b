//! `drmsim`: validate and run drmsim scenarios.

use clap::{Parser, Subcommand};
use scenarios::cli::tools;
use scenarios::runner::{self, RunError, RunOptions};
use scenarios::sweep_run::{self, ChartChoice, MergeOptions, Shard, SweepError, SweepOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use scenarios::cli::help::*;

/// mimalloc: the run allocates and frees millions of small messages and map nodes; glibc
/// malloc spent about a fifth of lifecycle-10k in malloc/free (ARCHITECTURE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "drmsim", version, about = ABOUT, long_about = LONG_ABOUT, after_long_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a scenario file and print a short summary of it
    #[command(long_about = VALIDATE_LONG, after_long_help = VALIDATE_EXAMPLES)]
    Validate {
        /// Scenario files (TOML)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Also build and list every point of the [sweep] (index, axis values, seed)
        #[arg(long)]
        points: bool,
        /// Accept a scenario whose resource estimate `drmsim run` refuses without --force
        #[arg(long)]
        force: bool,
    },
    /// Run a scenario and write trace.jsonl and summary.json
    #[command(long_about = RUN_LONG, after_long_help = RUN_EXAMPLES)]
    Run {
        /// Scenario file (TOML)
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Seed of this run (overrides [scenario] seed)
        #[arg(long, value_name = "N", value_parser = scenarios::wording::whole_number::<u64>, allow_negative_numbers = true)]
        seed: Option<u64>,
        /// Output directory (default: runs/<scenario name>/seed-<N>)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Capture the bytes of every PDU in the trace (larger trace, different digest)
        #[arg(long)]
        capture_pdus: bool,
        /// Never show a progress bar
        #[arg(long)]
        no_progress: bool,
        /// Run even when the resource estimate (events, memory) says it cannot fit, and run
        /// into a non-empty --out directory, removing the previous run's files first (trace,
        /// summary, metrics, report, charts, exports)
        #[arg(long)]
        force: bool,
    },
    /// Security regression suite: run scenarios over several seeds, tabulate attack outcomes
    #[command(long_about = CHECK_LONG, after_long_help = CHECK_EXAMPLES)]
    Check {
        /// Scenario files or directories of *.toml (e.g. scenarios/attacks)
        #[arg(required = true, value_name = "FILE_OR_DIR")]
        paths: Vec<PathBuf>,
        /// Seeds per scenario (its seed and the following ones)
        #[arg(long, default_value_t = 3, value_name = "N", value_parser = scenarios::wording::whole_number::<u64>, allow_negative_numbers = true)]
        seeds: u64,
        /// Worker threads (default: available cores)
        #[arg(long, value_name = "N", value_parser = scenarios::wording::whole_number::<usize>, allow_negative_numbers = true)]
        jobs: Option<usize>,
        /// Do not shrink failing runs
        #[arg(long)]
        no_shrink: bool,
        /// Where shrunk reproducers are written
        #[arg(long, default_value = "runs/check", value_name = "DIR")]
        out: PathBuf,
        /// Report format on stdout: text (table), json, or junit (JUnit XML for CI)
        #[arg(long, default_value = "text", value_name = "FORMAT", value_parser = scenarios::check::Format::parse)]
        format: scenarios::check::Format,
    },
    /// Search attacker plans and network faults for invariant violations
    #[command(long_about = scenarios::cli::explore::EXPLORE_LONG, after_long_help = scenarios::cli::explore::EXPLORE_EXAMPLES)]
    Explore {
        /// Scenario file (TOML); its [explore] table bounds the search
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Runs to make (default 2000, or unbounded with --time)
        #[arg(long, value_name = "N", value_parser = scenarios::wording::whole_number::<u64>, allow_negative_numbers = true)]
        runs: Option<u64>,
        /// Wall-time budget, e.g. 10m (stops after the batch that passes it)
        #[arg(long, value_name = "DURATION")]
        time: Option<String>,
        /// Worker threads (default: available cores)
        #[arg(long, short = 'j', value_name = "N", value_parser = scenarios::wording::whole_number::<usize>, allow_negative_numbers = true)]
        jobs: Option<usize>,
        /// Master seed of the search
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = scenarios::wording::whole_number::<u64>, allow_negative_numbers = true)]
        seed: u64,
        /// Output directory (default: runs/explore/<scenario name>)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Run only search stream K of N (1-based), for Slurm arrays; merge with --merge
        #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
        shard: Option<Shard>,
        /// Merge these shard directories into --out instead of searching
        #[arg(long, value_name = "DIR", num_args = 1..)]
        merge: Vec<PathBuf>,
        /// Do not shrink findings
        #[arg(long)]
        no_shrink: bool,
        /// Never show the progress bar
        #[arg(long)]
        no_progress: bool,
    },
    /// Run every point of a [sweep] in parallel; resumable and shardable
    #[command(long_about = SWEEP_LONG, after_long_help = SWEEP_EXAMPLES)]
    Sweep {
        /// Scenario file with a [sweep] section (without one: a single point)
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Output directory (created; reused when resuming)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Runs in parallel (default: every core)
        #[arg(long, short = 'j', value_name = "N", value_parser = scenarios::wording::whole_number::<usize>, allow_negative_numbers = true)]
        jobs: Option<usize>,
        /// Run only shard K of N: the points whose index % N == K-1 (K counts from 1)
        #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
        shard: Option<Shard>,
        /// Repetitions of every point (overrides [sweep] seeds)
        #[arg(long, value_name = "N", value_parser = scenarios::wording::whole_number::<u64>, allow_negative_numbers = true)]
        seeds: Option<u64>,
        /// Another directory of the same sweep (another shard, a merge): its complete runs
        /// are copied instead of run again (repeatable)
        #[arg(long, value_name = "DIR")]
        reuse_from: Vec<PathBuf>,
        /// Remove the run directories that are no point of the sweep (listed after every
        /// sweep)
        #[arg(long)]
        remove_orphans: bool,
        #[command(flatten)]
        charts: ChartArgs,
        /// Never show the progress bar
        #[arg(long)]
        no_progress: bool,
        /// Run points whose resource estimate `drmsim run` refuses without --force
        #[arg(long)]
        force: bool,
    },
    /// Combine the shard directories of one sweep into one directory
    #[command(long_about = MERGE_LONG, after_long_help = MERGE_EXAMPLES)]
    Merge {
        /// Shard output directories (of `drmsim sweep --shard K/N`)
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Output directory (may be one of the inputs)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Verifications in parallel (default: every core)
        #[arg(long, short = 'j', value_name = "N", value_parser = scenarios::wording::whole_number::<usize>, allow_negative_numbers = true)]
        jobs: Option<usize>,
        /// Remove the run directories of --out that are no point of the sweep (listed
        /// after every merge)
        #[arg(long)]
        remove_orphans: bool,
        #[command(flatten)]
        charts: ChartArgs,
        /// Never show the progress bar
        #[arg(long)]
        no_progress: bool,
    },
    /// Write metrics.json, timeseries.csv, charts (SVG and PNG) and a self-contained
    /// report.html for a run
    #[command(long_about = REPORT_LONG, after_long_help = REPORT_EXAMPLES)]
    Report {
        /// Output directory of `drmsim run` (holds trace.jsonl and summary.json), or of
        /// `drmsim sweep`/`merge` (holds sweep.json: writes its report.html)
        #[arg(value_name = "DIR")]
        run_dir: PathBuf,
        /// Analyse a trace that does not match summary.json's digest (warns instead of
        /// refusing)
        #[arg(long)]
        allow_unverified: bool,
    },
    /// Export a run's trace for viewers (Perfetto / Chrome, message sequence charts)
    #[command(subcommand, after_help = EXPORT_GROUP)]
    Export(ExportCommand),
    /// XML debugging aids
    #[command(subcommand, after_help = XML_GROUP)]
    Xml(XmlCommand),
    /// Micro-benchmarks runnable from the shell
    #[command(subcommand, after_help = BENCH_GROUP)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum ExportCommand {
    /// Chrome Trace Event / Perfetto JSON (open in ui.perfetto.dev): one track per actor,
    /// spans for protocol sessions and server service, flows for messages
    #[command(after_long_help = format!("{EXPORT_EXIT}\n\n{CHROME_EXAMPLES}"))]
    Chrome {
        /// Output directory of `drmsim run`
        #[arg(value_name = "RUN_DIR")]
        run_dir: PathBuf,
        /// Start of the window (virtual time, e.g. 1.5s)
        #[arg(long, value_name = "T", value_parser = parse_time)]
        from: Option<u64>,
        /// End of the window (virtual time)
        #[arg(long, value_name = "T", value_parser = parse_time)]
        to: Option<u64>,
        /// Leave out message flow arrows (smaller file)
        #[arg(long)]
        no_messages: bool,
        /// Export a trace that does not match summary.json's digest (warns instead of
        /// refusing)
        #[arg(long)]
        allow_unverified: bool,
    },
    /// Message sequence chart (SVG and Mermaid) of one actor's exchanges
    #[command(after_long_help = format!("{EXPORT_EXIT}\n\n{MSC_EXAMPLES}"))]
    Msc {
        /// Output directory of `drmsim run`
        #[arg(value_name = "RUN_DIR")]
        run_dir: PathBuf,
        /// Actor name (`agent/3`, `ri/0`) or id (the `actor` records of trace.jsonl)
        #[arg(long, value_name = "NAME_OR_ID")]
        actor: String,
        /// Start of the window (virtual time)
        #[arg(long, value_name = "T", value_parser = parse_time)]
        from: Option<u64>,
        /// End of the window (virtual time)
        #[arg(long, value_name = "T", value_parser = parse_time)]
        to: Option<u64>,
        /// Export a trace that does not match summary.json's digest (warns instead of
        /// refusing)
        #[arg(long)]
        allow_unverified: bool,
    },
    /// The run's trace as plain JSON Lines (converts a `trace.jsonl.gz` compact trace; the
    /// output has the digest summary.json records)
    #[command(after_long_help = format!("{EXPORT_EXIT}\n\n{JSONL_EXAMPLES}"))]
    Jsonl {
        /// Output directory of `drmsim run`
        #[arg(value_name = "RUN_DIR")]
        run_dir: PathBuf,
        /// Where to write (default RUN_DIR/trace.jsonl; `-` for stdout)
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Convert a trace that does not match summary.json's digest (warns instead of
        /// refusing)
        #[arg(long)]
        allow_unverified: bool,
    },
}

#[derive(Subcommand, Debug)]
enum XmlCommand {
    /// Print the Exclusive XML Canonical form of a document or of one element
    #[command(long_about = C14N_LONG, after_long_help = C14N_EXAMPLES)]
    C14n {
        /// XML file
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Element to canonicalise instead of the whole document
        #[arg(long, value_name = "NAME")]
        select: Option<String>,
        /// Element to leave out (repeatable)
        #[arg(long, value_name = "NAME")]
        exclude: Vec<String>,
        /// `xpath` (seed 002 interpretation 2, normative) or `substring` (interpretation 1)
        #[arg(long, default_value = "xpath")]
        variant: String,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// The bare-engine workload: N actors each rescheduling itself after a uniform 1–1000
    /// tick delay; prints events/s
    #[command(long_about = BENCH_LONG, after_long_help = BENCH_EXAMPLES)]
    Engine {
        /// Number of actors
        #[arg(long, default_value_t = 10_000, value_parser = scenarios::wording::whole_number::<u32>, allow_negative_numbers = true)]
        actors: u32,
        /// Events to process
        #[arg(long, default_value_t = 10_000_000, value_parser = scenarios::wording::whole_number::<u64>, allow_negative_numbers = true)]
        events: u64,
        /// Seed
        #[arg(long, default_value_t = 42, value_parser = scenarios::wording::whole_number::<u64>, allow_negative_numbers = true)]
        seed: u64,
        /// Also run the same workload as a plain BinaryHeap loop and in SimPy (python3 with
        /// simpy), side by side, and print the ratios
        #[arg(long)]
        compare: bool,
        /// Events for the SimPy run (it is much slower; rates are compared per event)
        #[arg(long, default_value_t = 1_000_000, value_parser = scenarios::wording::whole_number::<u64>, allow_negative_numbers = true)]
        simpy_events: u64,
    },
}

/// Parses a virtual time such as `1.5s` or `250ms` into nanoseconds.
fn parse_time(s: &str) -> Result<u64, String> {
    sim_core::engine::time::parse_duration_ns(s).map_err(|e| e.to_string())
}

/// Capacity chart options shared by `sweep` and `merge`.
#[derive(clap::Args, Debug)]
struct ChartArgs {
    /// Axis path on the charts' x axis (default: population.agents if swept, else the
    /// first numeric axis)
    #[arg(long, value_name = "PATH")]
    x_axis: Option<String>,
    /// Protocol whose latency and completion rate are charted (default: the one with the
    /// most started runs)
    #[arg(long, value_name = "NAME")]
    protocol: Option<String>,
    /// Do not draw the capacity charts (e.g. for shards)
    #[arg(long)]
    no_charts: bool,
}

impl ChartArgs {
    fn choice(self) -> Option<ChartChoice> {
        (!self.no_charts).then_some(ChartChoice {
            x_axis: self.x_axis,
            protocol: self.protocol,
        })
    }
}

fn print_load_error(e: &scenarios::ScenarioError) -> ExitCode {
    for err in e.errors() {
        eprintln!("error: {err}");
    }
    ExitCode::from(if e.is_io() { 2 } else { 1 })
}

fn validate(files: &[PathBuf], points: bool, force: bool) -> ExitCode {
    let mut worst = 0u8;
    for f in files {
        match scenarios::load_scenario(f) {
            Ok(s) => {
                println!("{}: valid", f.display());
                print!("{}", scenarios::describe::describe(&s));
                let limit = scenarios::budget::machine_memory_bytes();
                match scenarios::budget::admit(&s, limit) {
                    Ok(e) => println!("estimate   {e}"),
                    Err(r) => {
                        println!("estimate   REFUSED by `drmsim run` without --force: {r}");
                        // `run` refuses it with exit status 2; so does validate.
                        if !force {
                            eprintln!(
                                "error: {}: `drmsim run` refuses this scenario: {r} \
                                 (validate --force / run --force accept it)",
                                f.display()
                            );
                            worst = worst.max(2);
                        }
                    }
                }
                if points {
                    worst = worst.max(list_points(&s));
                }
            }
            Err(e) => {
                let code = if e.is_io() { 2 } else { 1 };
                for err in e.errors() {
                    eprintln!("error: {err}");
                }
                worst = worst.max(code);
            }
        }
    }
    ExitCode::from(worst)
}

/// Prints every sweep point; returns the exit code (1 if a point is invalid).
fn list_points(s: &scenarios::Scenario) -> u8 {
    let iter = match scenarios::sweep::points(s) {
        Ok(it) => it,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for p in iter {
        match p {
            Ok(p) => {
                // A closed pipe (`| head`) ends the listing quietly, with the CLI's
                // closed-pipe status, instead of panicking.
                if let Err(e) = writeln!(out, "  point {:>6}  {}", p.index, p.label()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return scenarios::cli::CLOSED_PIPE_EXIT;
                    }
                    eprintln!("error: stdout: {e}");
                    return 2;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        }
    }
    0
}

fn run(
    file: PathBuf,
    seed: Option<u64>,
    out: Option<PathBuf>,
    capture_pdus: bool,
    no_progress: bool,
    force: bool,
) -> ExitCode {
    let scenario = match scenarios::load_scenario(&file) {
        Ok(s) => s,
        Err(e) => return print_load_error(&e),
    };
    let interrupt = interrupt_flag("run");
    let opts = RunOptions {
        over_budget: force,
        seed,
        out_dir: out,
        capture_pdus,
        scenario_path: Some(file),
        interrupt,
        progress: !no_progress,
        exit_after: true,
        force,
    };
    match runner::run(&scenario, &opts) {
        Ok(summary) => {
            print!("{}", runner::render_summary(&summary));
            if summary.interrupted {
                ExitCode::from(130)
            } else if !summary.expectations_met {
                ExitCode::from(4)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                RunError::Io { .. } | RunError::OutDirNotEmpty { .. } => 2,
                RunError::EngineNotWired | RunError::Engine(_) => 3,
                RunError::TooLarge(_) => 2,
            })
        }
    }
}

const CHECK_LONG: &str = "\
Run every scenario over a set of seeds in parallel and print a table of scenario x attack x
outcome (blocked / succeeded / inconclusive, counted per seed) x expected. For every run that
misses an [expect] item: the seed, the failed items, the violated invariant with the messages
of its causal chain, and the `drmsim run FILE --seed N` command; the first failing seed of a
scenario is shrunk (fewer agents, shorter horizon, fewer events) to a reproducer file.

Exit status:
  0  every run met its expectations
  1  a run missed an expectation (mismatch)
  2  a file could not be read or loaded, or the command line is wrong";

fn check(
    paths: &[PathBuf],
    seeds: u64,
    jobs: Option<usize>,
    no_shrink: bool,
    out: PathBuf,
    format: scenarios::check::Format,
) -> ExitCode {
    use scenarios::check::{self, CheckOptions, Format};
    let files = match check::collect_files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut opts = CheckOptions {
        seeds,
        shrink: !no_shrink,
        out_dir: out,
        ..CheckOptions::default()
    };
    if let Some(j) = jobs {
        opts.jobs = j.max(1);
    }
    let report = check::check(&files, &opts);
    print!(
        "{}",
        match format {
            Format::Text => check::render(&report),
            Format::Json => check::render_json(&report),
            Format::Junit => check::render_junit(&report),
        }
    );
    if !report.load_errors.is_empty() {
        ExitCode::from(2)
    } else if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Installs the Ctrl-C / SIGTERM / SIGHUP handler: the first signal sets the returned flag
/// (the run stops at its next event, closes the trace and writes its summary), the second
/// exits at once.
fn interrupt_flag(what: &str) -> Arc<AtomicBool> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    let what = what.to_string();
    let handler = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted twice: aborting");
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping the {what} (Ctrl-C again to abort)");
    });
    if let Err(e) = handler {
        eprintln!("warning: cannot install the Ctrl-C/SIGTERM handler: {e}");
    }
    interrupt
}

fn sweep_error(e: &SweepError) -> ExitCode {
    match e {
        SweepError::Scenario(s) => {
            for err in s.errors() {
                eprintln!("error: {err}");
            }
        }
        other => eprintln!("error: {other}"),
    }
    ExitCode::from(e.exit_code())
}

fn print_charts(charts: &Option<Result<sweep_run::ChartsOutcome, String>>) {
    match charts {
        Some(Ok(c)) => {
            println!(
                "charts     {} (x = {}, protocol {}, {} configuration(s))",
                c.dir.display(),
                c.x_axis,
                c.protocol,
                c.configs
            );
            if c.rows_without_latency > 0 {
                println!(
                    "           {} run(s) left out: no successful {} outcome",
                    c.rows_without_latency, c.protocol
                );
            }
        }
        Some(Err(why)) => eprintln!("warning: capacity charts not drawn: {why}"),
        None => {}
    }
}

/// Options of `drmsim sweep` besides the file.
struct SweepArgs {
    out: PathBuf,
    jobs: Option<usize>,
    shard: Option<Shard>,
    seeds: Option<u64>,
    reuse_from: Vec<PathBuf>,
    remove_orphans: bool,
    charts: Option<ChartChoice>,
    no_progress: bool,
    force: bool,
}

/// Prints the orphan run directories of a sweep or merge output.
fn print_orphans(runs_dir: &std::path::Path, names: &[String], count: u64, removed: bool) {
    if count == 0 {
        return;
    }
    let verb = if removed { "removed" } else { "kept" };
    println!(
        "orphans    {count} run director{} under {} belong to no point of the sweep ({verb}):",
        if count == 1 { "y" } else { "ies" },
        runs_dir.display()
    );
    for n in names {
        println!("           {n}");
    }
    if count > names.len() as u64 {
        println!("           … and {} more", count - names.len() as u64);
    }
    if !removed {
        println!("           remove them with --remove-orphans");
    }
}

fn sweep(file: PathBuf, a: SweepArgs) -> ExitCode {
    let scenario = match scenarios::load_scenario(&file) {
        Ok(s) => s,
        Err(e) => return print_load_error(&e),
    };
    let shard = a.shard;
    let opts = SweepOptions {
        out_dir: a.out,
        jobs: a.jobs.unwrap_or(0),
        shard,
        seeds: a.seeds,
        charts: a.charts,
        interrupt: interrupt_flag("sweep"),
        progress: !a.no_progress,
        reuse_from: a.reuse_from,
        remove_orphans: a.remove_orphans,
        force: a.force,
    };
    let r = match sweep_run::run_sweep(&scenario, &opts, runner::run) {
        Ok(r) => r,
        Err(e) => return sweep_error(&e),
    };
    let shard_note = shard
        .map(|s| format!(" (shard {s}: {} point(s))", r.shard_points))
        .unwrap_or_default();
    println!(
        "sweep      {}: {} point(s){shard_note}, {} worker(s)",
        scenario.scenario.name, r.total_points, r.workers
    );
    if let Some(m) = &r.memory_note {
        println!("           {m}");
    }
    println!(
        "runs       {} run, {} reused, {} failed",
        r.ran,
        r.reused + r.imported,
        r.failed
    );
    if r.imported > 0 {
        println!(
            "           ({} of the reused runs copied from --reuse-from or adopted from a renamed directory)",
            r.imported
        );
    }
    print_orphans(
        &opts.out_dir.join("runs"),
        &r.orphans,
        r.orphan_count,
        r.orphans_removed,
    );
    for f in &r.failures {
        eprintln!("error: point {}: {}", f.point_id, f.message);
    }
    if r.failed > r.failures.len() as u64 {
        eprintln!(
            "error: … and {} more failed point(s)",
            r.failed - r.failures.len() as u64
        );
    }
    if let Some(files) = &r.results {
        println!(
            "results    {}, {}",
            files.csv.display(),
            files.jsonl.display()
        );
        print_charts(&r.charts);
        println!("report     {}", files.report_html.display());
        return ExitCode::SUCCESS;
    }
    let done = r.ran + r.reused;
    eprintln!(
        "sweep incomplete: {done} of {} point(s) complete; run the same command again to resume",
        r.shard_points
    );
    if r.failed > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::from(130)
    }
}

fn merge(
    dirs: Vec<PathBuf>,
    out: PathBuf,
    jobs: Option<usize>,
    remove_orphans: bool,
    charts: Option<ChartChoice>,
    no_progress: bool,
) -> ExitCode {
    let opts = MergeOptions {
        out_dir: out,
        jobs: jobs.unwrap_or(0),
        charts,
        progress: !no_progress,
        remove_orphans,
    };
    match sweep_run::merge(&dirs, &opts) {
        Ok(m) => {
            println!(
                "merge      {} input(s), {} points: {} copied, {} already present, {} incomplete run(s) ignored",
                m.inputs, m.total_points, m.copied, m.already_present, m.ignored_incomplete
            );
            print_orphans(
                &opts.out_dir.join("runs"),
                &m.orphans,
                m.orphan_count,
                m.orphans_removed,
            );
            println!(
                "results    {}, {}",
                m.results.csv.display(),
                m.results.jsonl.display()
            );
            print_charts(&m.charts);
            println!("report     {}", m.results.report_html.display());
            ExitCode::SUCCESS
        }
        Err(e) => sweep_error(&e),
    }
}

/// `drmsim … | head`: once the reader closes the pipe, printing fails with EPIPE and
/// `println!` panics. Exit quietly instead, with the status a shell reports for SIGPIPE.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(i32::from(scenarios::cli::CLOSED_PIPE_EXIT));
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    match cli.command {
        Command::Validate {
            files,
            points,
            force,
        } => validate(&files, points, force),
        Command::Run {
            file,
            seed,
            out,
            capture_pdus,
            no_progress,
            force,
        } => run(file, seed, out, capture_pdus, no_progress, force),
        Command::Check {
            paths,
            seeds,
            jobs,
            no_shrink,
            out,
            format,
        } => check(&paths, seeds, jobs, no_shrink, out, format),
        Command::Explore {
            file,
            runs,
            time,
            jobs,
            seed,
            out,
            shard,
            merge,
            no_shrink,
            no_progress,
        } => scenarios::cli::explore::explore(scenarios::cli::explore::ExploreArgs {
            file,
            runs,
            time,
            jobs,
            seed,
            out,
            shard,
            merge,
            no_shrink,
            no_progress,
        }),
        Command::Sweep {
            file,
            out,
            jobs,
            shard,
            seeds,
            reuse_from,
            remove_orphans,
            charts,
            no_progress,
            force,
        } => sweep(
            file,
            SweepArgs {
                out,
                jobs,
                shard,
                seeds,
                reuse_from,
                remove_orphans,
                charts: charts.choice(),
                no_progress,
                force,
            },
        ),
        Command::Merge {
            dirs,
            out,
            jobs,
            remove_orphans,
            charts,
            no_progress,
        } => merge(
            dirs,
            out,
            jobs,
            remove_orphans,
            charts.choice(),
            no_progress,
        ),
        Command::Report {
            run_dir,
            allow_unverified,
        } => tools::report(&run_dir, allow_unverified),
        Command::Export(ExportCommand::Chrome {
            run_dir,
            from,
            to,
            no_messages,
            allow_unverified,
        }) => tools::export_chrome(&run_dir, from, to, no_messages, allow_unverified),
        Command::Export(ExportCommand::Msc {
            run_dir,
            actor,
            from,
            to,
            allow_unverified,
        }) => tools::export_msc(&run_dir, &actor, from, to, allow_unverified),
        Command::Export(ExportCommand::Jsonl {
            run_dir,
            output,
            allow_unverified,
        }) => tools::export_jsonl(&run_dir, output.as_deref(), allow_unverified),
        Command::Xml(XmlCommand::C14n {
            file,
            select,
            exclude,
            variant,
        }) => tools::xml_c14n(&file, select.as_deref(), &exclude, &variant),
        Command::Bench(BenchCommand::Engine {
            actors,
            events,
            seed,
            compare,
            simpy_events,
        }) => tools::bench_engine(actors, events, seed, compare, simpy_events),
    }
}
