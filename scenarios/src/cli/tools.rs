//! `drmsim bench engine`, `drmsim xml c14n`, `drmsim report`, `drmsim export chrome|msc`.

use sim_core::engine::bench::{engine_workload, run_engine_workload};
use sim_core::xml::{c14n_command, C14nVariant};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Runs the bare-engine workload and prints events per second (wall clock, one core).
pub fn bench_engine(actors: u32, events: u64, seed: u64) -> ExitCode {
    if actors == 0 || events == 0 {
        eprintln!("error: --actors and --events must be positive");
        return ExitCode::from(2);
    }
    let mut sim = engine_workload(actors, seed);
    let start = Instant::now();
    let done = run_engine_workload(&mut sim, events);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "engine: {actors} actors, {done} events in {secs:.3} s = {:.2} M events/s ({:.1} ns/event)",
        done as f64 / secs / 1e6,
        secs * 1e9 / done as f64
    );
    ExitCode::SUCCESS
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
    let trace = run_dir.join("trace.jsonl");
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
