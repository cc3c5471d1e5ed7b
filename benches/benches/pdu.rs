//! PDU benchmarks: encode (Exclusive C14N) + decode (parse + typed read) of every message
//! kind, plus the symbolic-mode paths (structural digest, size estimate) that avoid XML.
//! Figures are recorded in docs/pdus.md.
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sim_core::engine::rng::stream;
use sim_core::pdu::sample::random_pdu;
use sim_core::pdu::{Pdu, ALL_KINDS};

/// A sample of each kind whose encoding is closest to 2 KB among a few seeds, so kinds are
/// compared at a similar size where their structure allows.
fn samples() -> Vec<Pdu> {
    (0..ALL_KINDS.len())
        .map(|k| {
            let mut rng = stream(1, "bench-pdu", ALL_KINDS[k]);
            (0..16)
                .map(|_| random_pdu(k, &mut rng))
                .min_by_key(|p| p.encode().len().abs_diff(2048))
                .expect("16 samples")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pdu");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30);
    for pdu in samples() {
        let bytes = pdu.encode();
        let name = format!("{}/{}B", pdu.kind(), bytes.len());
        g.bench_function(format!("encode+decode/{name}"), |b| {
            b.iter(|| Pdu::decode(&black_box(&pdu).encode()).unwrap())
        });
        if matches!(
            pdu.kind(),
            "roap:meteringReportSubmit" | "roap:joinDomainResponse"
        ) {
            g.bench_function(format!("encode/{name}"), |b| {
                b.iter(|| black_box(&pdu).encode())
            });
            g.bench_function(format!("decode/{name}"), |b| {
                b.iter(|| Pdu::decode(black_box(&bytes)).unwrap())
            });
            let el = pdu.to_element();
            g.bench_function(format!("to_element/{name}"), |b| {
                b.iter(|| black_box(&pdu).to_element())
            });
            g.bench_function(format!("c14n/{name}"), |b| {
                b.iter(|| sim_core::pdu::canonicalize(black_box(&el)))
            });
            g.bench_function(format!("xml_parse/{name}"), |b| {
                b.iter(|| sim_core::pdu::parse_element(black_box(&bytes)).unwrap())
            });
            g.bench_function(format!("from_element/{name}"), |b| {
                b.iter(|| Pdu::from_element(black_box(&el)).unwrap())
            });
            g.bench_function(format!("symbolic_digest/{name}"), |b| {
                b.iter(|| black_box(&pdu).symbolic_digest())
            });
            g.bench_function(format!("estimated_size/{name}"), |b| {
                b.iter(|| black_box(&pdu).estimated_size_bytes())
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Plots need a font backend this machine lacks; the numbers are what docs/pdus.md uses.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
