//! `drmsim explore` throughput: a 32-run search of the bundled `move.toml` on one thread
//! (issue 13: report runs/s). Divide 33 runs (the honest one included) by the time per
//! iteration for runs/s per core.

use criterion::{criterion_group, criterion_main, Criterion};
use scenarios::explore::{explore, ExploreOptions};
use std::path::PathBuf;

fn bench_explore(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/move.toml");
    let sc = scenarios::load_scenario(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let out = std::env::temp_dir().join("drmsim-bench-explore");
    let mut g = c.benchmark_group("explore");
    g.sample_size(10);
    g.bench_function("move-32-runs-1-thread", |b| {
        b.iter(|| {
            let r = explore(
                &sc,
                &ExploreOptions {
                    runs: 32,
                    time: None,
                    jobs: 1,
                    seed: 1,
                    shard: (1, 1),
                    out: out.clone(),
                    shrink: false,
                    progress: false,
                },
            )
            .expect("search runs");
            r.runs
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_explore
}
criterion_main!(benches);
