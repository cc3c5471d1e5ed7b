//! Trace-metrics throughput: one streaming pass over a 50 MB synthetic trace (production
//! schema, written with sim-core's `TraceRecord`). Criterion reports bytes/s; the 1 GB
//! figure is 1 GB divided by that rate (the pass is linear and memory-bounded).
use analysis::synth::{write_synthetic_trace, SynthConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

const TRACE_BYTES: u64 = 50 << 20;

fn bench(c: &mut Criterion) {
    // Plotters is built without system fonts; criterion's own plots need one too.
    analysis::register_fonts();
    let path = std::env::temp_dir().join(format!(
        "drmsim-bench-analysis-{}.jsonl",
        std::process::id()
    ));
    let cfg = SynthConfig {
        target_bytes: TRACE_BYTES,
        agents: 100_000,
        ris: 8,
        workers: 8,
        arrivals_per_s: 20_000.0,
        ..SynthConfig::default()
    };
    let written = write_synthetic_trace(&path, &cfg).expect("write synthetic trace");
    let mut g = c.benchmark_group("analysis");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Bytes(written));
    g.bench_function("compute_metrics_50MB", |b| {
        b.iter(|| analysis::compute_metrics(&path).expect("metrics"))
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
