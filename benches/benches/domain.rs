//! ROAP domains: the Domain Key MAC input under both seed-002 readings (real mode, a
//! JoinDomainResponse with three generations), and a symbolic Join Domain run of 1,000
//! agents end to end (registration + join), reported per agent.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim_core::crypto::{CryptoMode, GeneratingKeySource};
use sim_core::engine::{RunLimits, SimTime};
use sim_core::net::{GroupId, IdealNetwork};
use sim_core::pdu::common::ALG_KEM;
use sim_core::pdu::roap::{JoinDomainResponse, JoinDomainResponseBody};
use sim_core::pdu::{DomainInfo, DomainKey, Encrypted, Expiry, Identifier, KeyInfo};
use sim_core::pdu::{MacInterpretation, Pdu, Status};
use sim_core::proto::build::{build, WorldConfig};
use sim_core::proto::domain::DomainKeyMacInput;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceRecorder, VecSink};
use std::time::Duration;

fn response(generations: usize) -> (Pdu, Vec<DomainKey>) {
    let keys: Vec<DomainKey> = (0..generations)
        .map(|g| DomainKey {
            qualified: true,
            enc_key: Encrypted {
                id: Some(format!("ri0-dom0-{g:03}")),
                algorithm: ALG_KEM.into(),
                key_info: Some(KeyInfo::SpkiHash(vec![7; 20])),
                cipher: vec![0x5a; 128 + 40],
            },
            ri_id: Identifier::new(vec![9; 20]),
            mac: vec![0; 20],
        })
        .collect();
    let pdu = Pdu::JoinDomainResponse(JoinDomainResponse {
        status: Status::Success,
        body: Some(JoinDomainResponseBody {
            device_id: Identifier::new(vec![7; 20]),
            ri_id: Identifier::new(vec![9; 20]),
            nonce: vec![3; 14],
            domain_info: DomainInfo {
                not_after: Expiry::Infinite,
                domain_keys: keys.clone(),
            },
            certificate_chain: None,
            ocsp_responses: Vec::new(),
            extensions: Vec::new(),
            signature: vec![5; 128],
        }),
    });
    (pdu, keys)
}

fn bench(c: &mut Criterion) {
    // Plotters is built without system fonts; criterion's own plots need one.
    analysis::register_fonts();
    let (pdu, keys) = response(3);
    let mut g = c.benchmark_group("domain_key_mac_input");
    for (name, how) in [
        ("node_set_3_keys", MacInterpretation::NodeSet),
        ("substring_3_keys", MacInterpretation::Substring),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| DomainKeyMacInput::all(CryptoMode::Real, &pdu, &keys, how).unwrap())
        });
    }
    g.finish();

    let agents = 1_000u32;
    let cfg = WorldConfig {
        agents,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            join_domain_probability: 1.0,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut g = c.benchmark_group("join_domain_run");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(u64::from(agents)));
    g.bench_function("symbolic_1000_agents", |b| {
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
