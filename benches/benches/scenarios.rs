//! Whole-scenario runs with the trace written to disk (issue targets: `lifecycle-10k` and the
//! 10,000-agent user-domain scenario each ≤ 5 s wall and ≤ 1 GiB peak memory, symbolic
//! crypto). Peak memory is not measured by criterion: see the closing notes (`/usr/bin/time`).

use criterion::{criterion_group, criterion_main, Criterion};
use scenarios::runner::{run, RunOptions};
use std::path::PathBuf;

fn scenario(name: &str) -> scenarios::Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    scenarios::load_scenario(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bench_scenarios(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(40));
    for name in ["lifecycle-10k.toml", "user-domains-10k.toml"] {
        let sc = scenario(name);
        let out = std::env::temp_dir().join(format!("drmsim-bench-{name}"));
        g.bench_function(name.trim_end_matches(".toml"), |b| {
            b.iter(|| {
                let opts = RunOptions {
                    out_dir: Some(out.clone()),
                    force: true,
                    over_budget: true,
                    ..Default::default()
                };
                let summary = run(&sc, &opts).expect("scenario runs");
                assert!(summary.expectations_met, "{name}: expectations not met");
                summary.events
            })
        });
        let _ = std::fs::remove_dir_all(&out);
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Plots need a system font (plotters is built without font-kit); reports stay textual.
    config = Criterion::default().without_plots();
    targets = bench_scenarios
}
criterion_main!(benches);
