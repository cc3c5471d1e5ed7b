//! DEA User Domains (seed 000): a symbolic run of 1,000 v2.x agents registering with one of
//! 3 RIs and joining a User Domain through the DEA (Get User Domain Authorization at RI
//! start, ROAP Join → Proxy Join User Domain → JoinDomainResponse), reported per agent.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim_core::crypto::GeneratingKeySource;
use sim_core::engine::{RunLimits, SimTime};
use sim_core::net::{GroupId, IdealNetwork};
use sim_core::proto::build::{build, WorldConfig};
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceRecorder, VecSink};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    // Plotters is built without system fonts; criterion's own plots need one.
    analysis::register_fonts();
    let agents = 1_000u32;
    let mut cfg = WorldConfig {
        agents,
        ris: 3,
        dea: true,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            join_domain_probability: 1.0,
            ..Default::default()
        },
        ..Default::default()
    };
    cfg.domains.domains_per_ri = 0;
    cfg.user_domains.user_domains = 4;
    cfg.user_domains.max_devices = 1_000;
    cfg.user_domains.generation = 2;
    let mut g = c.benchmark_group("dea_proxy_join_run");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(u64::from(agents)));
    g.bench_function("symbolic_1000_agents_3_ris", |b| {
        b.iter(|| {
            let trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
            let mut built = build(
                &cfg,
                Box::new(IdealNetwork {
                    latency_ns: 20_000_000,
                }),
                trace,
                &GeneratingKeySource::new(),
                &|_, _| (GroupId(0), "all".into()),
                &mut |_, _| {},
            )
            .unwrap();
            built.sim.run(
                &RunLimits {
                    horizon: Some(SimTime::from_secs(30)),
                    ..Default::default()
                },
                &mut |_, _| {},
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
