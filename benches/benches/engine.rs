//! Bare-engine throughput (issue target: ≥ 8 M events/s on one core): 10,000 actors, each
//! rescheduling itself after a uniform 1–1000 tick delay.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim_core::engine::bench::{engine_workload, run_engine_workload};

const ACTORS: u32 = 10_000;
const EVENTS: u64 = 10_000_000;

fn bench_engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(EVENTS));
    g.sample_size(10);
    g.bench_function("10k_actors_10M_events", |b| {
        b.iter_batched(
            || engine_workload(ACTORS, 42),
            |mut sim| run_engine_workload(&mut sim, EVENTS),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // Plots need a system font (plotters is built without font-kit); reports stay textual.
    config = Criterion::default().without_plots();
    targets = bench_engine
}
criterion_main!(benches);
