//! `drmsim bench engine`, `drmsim xml c14n`, `drmsim report`, `drmsim export chrome|msc`.

use sim_core::engine::bench::{binary_heap_baseline, engine_workload, run_engine_workload};
use sim_core::xml::{c14n_command, C14nVariant};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// The SimPy side of `--compare` (run with `python3 - ACTORS EVENTS SEED`).
const SIMPY_SCRIPT: &str = include_str!("../../../benches/simpy/engine.py");

/// Runs the bare-engine workload and prints events per second (wall clock, one core). With
/// `compare`, runs the same workload as a plain `BinaryHeap` loop and in SimPy (`python3`
/// with `simpy` installed; `simpy_events` events, fewer since it is ~30x slower) in the
/// same process run, and prints the ratios.
pub fn bench_engine(
    actors: u32,
    events: u64,
    seed: u64,
    compare: bool,
    simpy_events: u64,
) -> ExitCode {
    if actors == 0 || events == 0 || simpy_events == 0 {
        eprintln!("error: --actors, --events and --simpy-events must be positive");
        return ExitCode::from(2);
    }
    let mut sim = engine_workload(actors, seed);
    let (done, wall, cpu) = timed(|| run_engine_workload(&mut sim, events));
    // Rates are per CPU second when /proc tells it (wall clock otherwise).
    let secs = cpu.filter(|c| *c > 0.0).unwrap_or(wall);
    let engine_rate = done as f64 / secs;
    println!(
        "engine:      {actors} actors, {done} events, {wall:.3} s wall, {secs:.2} s CPU = {:.2} M events/CPU-s ({:.1} ns/event)",
        engine_rate / 1e6,
        secs * 1e9 / done as f64
    );
    if !compare {
        return ExitCode::SUCCESS;
    }
    let (end, wall, cpu) = timed(|| binary_heap_baseline(actors, seed, events));
    let secs = cpu.filter(|c| *c > 0.0).unwrap_or(wall);
    let heap_rate = events as f64 / secs;
    println!(
        "binary heap: {actors} actors, {events} events, {wall:.3} s wall, {secs:.2} s CPU = {:.2} M events/CPU-s ({:.1} ns/event); engine/heap = {:.2}x{}",
        heap_rate / 1e6,
        secs * 1e9 / events as f64,
        engine_rate / heap_rate,
        if end == sim.now().as_ns() { "" } else { " (WARNING: different end time)" }
    );
    match run_simpy(actors, simpy_events, seed) {
        Ok((n, secs)) => {
            let simpy_rate = n as f64 / secs;
            println!(
                "simpy:       {actors} processes, {n} events, {secs:.2} s CPU = {:.3} M events/CPU-s ({:.1} ns/event); engine/simpy = {:.1}x",
                simpy_rate / 1e6,
                secs * 1e9 / n as f64,
                engine_rate / simpy_rate
            );
        }
        Err(e) => println!("simpy:       not measured: {e} (pip install simpy)"),
    }
    ExitCode::SUCCESS
}

/// CPU time (user + system) of the calling thread, seconds, from /proc (Linux; `None`
/// elsewhere). On a shared machine wall clock measures the neighbours; CPU time does not.
fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Wall-clock and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, Option<f64>) {
    let cpu0 = thread_cpu_secs();
    let start = Instant::now();
    let out = f();
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu0.and_then(|c0| thread_cpu_secs().map(|c1| c1 - c0));
    (out, wall, cpu)
}

/// Runs the SimPy workload; returns (events, CPU seconds of `env.run`).
fn run_simpy(actors: u32, events: u64, seed: u64) -> Result<(u64, f64), String> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .arg("-")
        .args([actors.to_string(), events.to_string(), seed.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(SIMPY_SCRIPT.as_bytes())
            .map_err(|e| format!("python3: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("python3: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    match (it.next(), it.next(), it.next()) {
        (Some("simpy"), Some(n), Some(s)) => Ok((
            n.parse().map_err(|_| "bad output".to_string())?,
            s.parse().map_err(|_| "bad output".to_string())?,
        )),
        _ => Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("no output")
            .to_string()),
    }
}

/// Largest XML file `xml c14n` reads (PDUs are at most 256 KiB; captured documents with
/// certificates stay far below this).
pub const MAX_XML_FILE_BYTES: u64 = 16 << 20;

/// Prints the canonical octets of FILE (or of a selected element) to stdout.
pub fn xml_c14n(file: &Path, select: Option<&str>, exclude: &[String], variant: &str) -> ExitCode {
    let variant: C14nVariant = match variant.parse() {
        Ok(v) => v,
        Err(_) => {
            eprintln!("error: --variant must be `xpath` or `substring`, not {variant:?}");
            return ExitCode::from(2);
        }
    };
    let bytes = match crate::input::read_capped(file, MAX_XML_FILE_BYTES, "XML input") {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let ex: Vec<&str> = exclude.iter().map(String::as_str).collect();
    match c14n_command(&bytes, select, &ex, variant) {
        Ok(out) => {
            let mut so = std::io::stdout().lock();
            if so.write_all(&out).and_then(|_| so.flush()).is_err() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            ExitCode::from(1)
        }
    }
}

/// Exit status when the trace does not match summary.json (see `drmsim report --help`).
pub const EXIT_TRACE_MISMATCH: u8 = 3;

/// Checks RUN_DIR's trace against the digest in its summary.json. A mismatch is an error
/// (exit 3) unless `allow_unverified`, then a warning on stderr.
fn check_trace(run_dir: &Path, allow_unverified: bool) -> Result<(), ExitCode> {
    let v = match analysis::verify_run_trace(run_dir) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let Some(problem) = &v.problem else {
        return Ok(());
    };
    if allow_unverified {
        eprintln!(
            "warning: {} does not match summary.json: {problem}; analysing it anyway \
             (--allow-unverified)",
            v.trace.display()
        );
        return Ok(());
    }
    eprintln!(
        "error: {} does not match summary.json: {problem}\n\
         The trace is not the one the run recorded, so its figures would mislead. Run the \
         scenario again (the `reproduce` command in summary.json), or pass --allow-unverified \
         to analyse it anyway.",
        v.trace.display()
    );
    Err(ExitCode::from(EXIT_TRACE_MISMATCH))
}

/// Writes metrics.json, charts and report.html into RUN_DIR.
pub fn report(run_dir: &Path, allow_unverified: bool) -> ExitCode {
    if run_dir.join("sweep.json").is_file() {
        return sweep_report(run_dir);
    }
    if let Err(code) = check_trace(run_dir, allow_unverified) {
        return code;
    }
    match analysis::report(run_dir) {
        Ok(p) => {
            println!("metrics  {}", p.metrics_json.display());
            println!("report   {}", p.report_html.display());
            for c in &p.charts {
                println!("chart    {}  {}", c.svg.display(), c.png.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_fatal() { 2 } else { 1 })
        }
    }
}

/// Writes a sweep directory's one-page `report.html` from its results and charts.
fn sweep_report(dir: &Path) -> ExitCode {
    if !dir.join("results.csv").is_file() {
        eprintln!(
            "error: {}: the sweep is not complete (no results.csv); run the same \
             `drmsim sweep` again to finish it, then report",
            dir.display()
        );
        return ExitCode::from(2);
    }
    match analysis::write_sweep_report(dir) {
        Ok(p) => {
            println!("report   {}", p.path.display());
            println!(
                "         {} chart(s), {} of {} results row(s)",
                p.charts.len(),
                p.rows_shown,
                p.rows_total
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes a Chrome Trace Event / Perfetto JSON of RUN_DIR's trace.
pub fn export_chrome(
    run_dir: &Path,
    from_ns: Option<u64>,
    to_ns: Option<u64>,
    no_messages: bool,
    allow_unverified: bool,
) -> ExitCode {
    if let Err(code) = check_trace(run_dir, allow_unverified) {
        return code;
    }
    let opts = analysis::ChromeOptions {
        from_ns,
        to_ns,
        no_messages,
    };
    match analysis::export_chrome(run_dir, &opts) {
        Ok(p) => {
            println!("{}", p.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes RUN_DIR's trace as plain JSON Lines (decompressing a gzip trace) to `output`
/// (default `RUN_DIR/trace.jsonl`; `-` = stdout). The bytes are the ones the digest covers.
pub fn export_jsonl(run_dir: &Path, output: Option<&Path>, allow_unverified: bool) -> ExitCode {
    if let Err(code) = check_trace(run_dir, allow_unverified) {
        return code;
    }
    let src = analysis::trace_io::run_trace(run_dir);
    let dst = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| run_dir.join("trace.jsonl"));
    if dst == src {
        println!("{} (already JSON Lines)", src.display());
        return ExitCode::SUCCESS;
    }
    // A closed stdout (`drmsim export jsonl RUN -o - | head`) is the reader's choice, not
    // an error: it takes the CLI's quiet closed-pipe exit.
    let fail = |p: &Path, e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            None
        } else {
            Some(format!("{}: {e}", p.display()))
        }
    };
    let copied = (|| -> Result<(), Option<String>> {
        let mut r = analysis::trace_io::open_trace(&src).map_err(|e| Some(e.to_string()))?;
        if dst.as_os_str() == "-" {
            let out = std::io::stdout();
            let mut w = std::io::BufWriter::new(out.lock());
            std::io::copy(&mut r, &mut w)
                .and_then(|_| std::io::Write::flush(&mut w))
                .map_err(|e| fail(&src, e))?;
            return Ok(());
        }
        // Write beside the destination and rename, so an interrupted conversion never
        // leaves a truncated trace.jsonl that `report` would pick up.
        let tmp = dst.with_extension("jsonl.part");
        let f = std::fs::File::create(&tmp).map_err(|e| fail(&tmp, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        std::io::copy(&mut r, &mut w)
            .and_then(|_| std::io::Write::flush(&mut w))
            .map_err(|e| fail(&src, e))?;
        std::fs::rename(&tmp, &dst).map_err(|e| fail(&dst, e))
    })();
    match copied {
        Ok(()) => {
            if dst.as_os_str() != "-" {
                println!("{}", dst.display());
            }
            ExitCode::SUCCESS
        }
        Err(None) => ExitCode::from(super::CLOSED_PIPE_EXIT),
        Err(Some(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes a message sequence chart (Mermaid and SVG) of one actor's exchanges.
pub fn export_msc(
    run_dir: &Path,
    actor: &str,
    from_ns: Option<u64>,
    to_ns: Option<u64>,
    allow_unverified: bool,
) -> ExitCode {
    if let Err(code) = check_trace(run_dir, allow_unverified) {
        return code;
    }
    let actor = match resolve_actor(run_dir, actor) {
        Ok(id) => id,
        Err(msg) => {
            eprintln!("error: {msg}");
            return ExitCode::from(2);
        }
    };
    let mut opts = analysis::MscOptions::new(actor);
    opts.from_ns = from_ns;
    opts.to_ns = to_ns;
    match analysis::export_msc(run_dir, &opts) {
        Ok(p) => {
            println!("{}", p.mermaid.display());
            println!("{}", p.svg.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// An actor id from `--actor`: a whole number is an id; anything else is looked up by name
/// (`agent/3`) in the trace's `actor` records.
pub fn resolve_actor(run_dir: &Path, actor: &str) -> Result<u32, String> {
    if let Ok(id) = actor.trim().parse::<u32>() {
        return Ok(id);
    }
    let trace = analysis::trace_io::run_trace(run_dir);
    let mut found: Option<u32> = None;
    let mut kinds: std::collections::BTreeSet<String> = Default::default();
    analysis::reader::for_each_record(&trace, |_, r| {
        if found.is_none() && r.ev == "actor" {
            if r.name.as_deref() == Some(actor) {
                found = r.id;
            } else if let Some(k) = &r.kind {
                kinds.insert(k.to_string());
            }
        }
        Ok(())
    })
    .map_err(|e| format!("{}: {e}", trace.display()))?;
    found.ok_or_else(|| {
        format!(
            "--actor `{actor}`: no actor of that name in {} (names look like `agent/3`; kinds \
             in this run: {}); an actor id (a whole number) works too",
            trace.display(),
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}
