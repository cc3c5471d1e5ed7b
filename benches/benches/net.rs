//! Network model cost per routed message, with every feature on.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim_core::engine::SimTime;
use sim_core::net::{
    GilbertElliott, LatencyDist, LinkDirection, LinkSpec, NetworkModel, Topology, TopologyConfig,
};

fn full_featured_link() -> LinkSpec {
    LinkSpec {
        latency: LatencyDist::LogNormal {
            median_ns: 20e6,
            sigma: 0.5,
        },
        jitter: LatencyDist::Exponential { mean_ns: 1e6 },
        loss_probability: 0.01,
        gilbert_elliott: Some(GilbertElliott {
            p_good_to_bad: 0.01,
            p_bad_to_good: 0.2,
            loss_good: 0.0,
            loss_bad: 0.5,
        }),
        duplicate_probability: 0.001,
        bandwidth_bps: Some(100_000_000),
        buffer_bytes: None,
    }
}

fn bench_route(c: &mut Criterion) {
    let mut topo = Topology::new(
        1,
        TopologyConfig {
            default_link: full_featured_link(),
            ..Default::default()
        },
    )
    .expect("valid config");
    let groups: Vec<_> = (0..4)
        .map(|i| topo.add_group(&format!("g{i}")).expect("group"))
        .collect();
    topo.add_link("g0", "g1", full_featured_link(), LinkDirection::Symmetric)
        .expect("link");
    let mut g = c.benchmark_group("net");
    g.throughput(Throughput::Elements(1));
    let mut t = 0u64;
    let mut i = 0usize;
    g.bench_function("route_full_featured", |b| {
        b.iter(|| {
            t += 1_000;
            i += 1;
            let from = groups[i % 4];
            let to = groups[(i / 4) % 4];
            topo.route(SimTime::from_ns(t), from, to, 2048)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // Plots need a system font (plotters is built without font-kit); reports stay textual.
    config = Criterion::default().without_plots();
    targets = bench_route
}
criterion_main!(benches);
