//! Metering Report benchmarks (seed 004): sealing a report in real mode (RSA-KEM to the RI key,
//! AES-CBC, HMAC) and a whole symbolic run of Devices reporting every 60 s of virtual time.
//! Figures are recorded in the metering section of docs/protocols.md.
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sim_core::crypto::{CryptoMode, GeneratingKeySource, OpCounter};
use sim_core::engine::rng::stream;
use sim_core::engine::{RunLimits, SimTime};
use sim_core::net::{GroupId, IdealNetwork};
use sim_core::proto::acquisition::RoPolicy;
use sim_core::proto::build::{build, Built, WorldConfig};
use sim_core::proto::metering::{report_plaintext, seal_report};
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceRecorder, VecSink};

fn world(crypto: CryptoMode, agents: u32) -> Built {
    let cfg = WorldConfig {
        crypto,
        agents,
        workload: AgentWorkload {
            metering_interval_ns: Some(60_000_000_000),
            acquire_rate_per_min: 2.0,
            consume_rate_per_min: 12.0,
            ..Default::default()
        },
        ro_policy: RoPolicy {
            stateful_probability: 0.0,
            ..Default::default()
        },
        ..Default::default()
    };
    build(
        &cfg,
        Box::new(IdealNetwork {
            latency_ns: 20_000_000,
        }),
        TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default())),
        &GeneratingKeySource::new(),
        &|_, _| (GroupId(0), "all".into()),
        &mut |_, _| {},
    )
    .expect("builds")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("metering");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);

    let real = world(CryptoMode::Real, 1);
    let ri_key = real.sim.actor::<Ri>(real.ris[0]).unwrap().identity().chain[0]
        .public_key()
        .clone();
    let snapshot: Vec<(String, u64)> = (0..20).map(|i| (format!("ri/0-ro{i}"), 3)).collect();
    let plaintext = report_plaintext(&snapshot);
    let mut rng = stream(1, "bench", "metering");
    g.bench_function("real/rsa1024/seal-20-entries", |b| {
        b.iter(|| {
            let mut ops = OpCounter::new();
            seal_report(
                &real.world,
                &mut ops,
                &mut rng,
                &ri_key,
                black_box(&plaintext),
            )
            .unwrap()
        })
    });

    g.bench_function("symbolic/run-20-agents-600s", |b| {
        b.iter(|| {
            let mut w = world(CryptoMode::Symbolic, 20);
            w.sim.run(
                &RunLimits {
                    horizon: Some(SimTime::from_secs(600)),
                    ..Default::default()
                },
                &mut |_, _| {},
            );
            w.sim.events()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
