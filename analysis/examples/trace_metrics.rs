//! Measures metrics of a trace: `trace_metrics PATH [--generate MB]`.
//! With `--generate`, first writes a synthetic trace of that size to PATH.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::PathBuf::from(
        args.get(1)
            .ok_or("usage: trace_metrics PATH [--generate MB]")?,
    );
    if args.get(2).map(String::as_str) == Some("--generate") {
        let mb: u64 = args.get(3).ok_or("--generate needs MB")?.parse()?;
        let cfg = analysis::synth::SynthConfig {
            target_bytes: mb << 20,
            agents: 100_000,
            ris: 8,
            workers: 8,
            arrivals_per_s: 20_000.0,
            ..Default::default()
        };
        let n = analysis::synth::write_synthetic_trace(&path, &cfg)?;
        eprintln!("wrote {n} bytes");
    }
    let bytes = std::fs::metadata(&path)?.len();
    let t0 = Instant::now();
    let m = analysis::compute_metrics(&path)?;
    let s = t0.elapsed().as_secs_f64();
    println!(
        "{} records, {:.1} MB in {:.2} s = {:.3} GB/s; protocols {}",
        m.run.records,
        bytes as f64 / 1e6,
        s,
        bytes as f64 / 1e9 / s,
        m.protocols.len()
    );
    Ok(())
}
