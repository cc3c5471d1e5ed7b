//! Crypto facade benchmarks: RSA-PSS sign/verify (real 1024/2048 and symbolic), HMAC, AES key
//! wrap, RSA-KEM key transport. Figures are recorded in docs/crypto.md.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use sim_core::crypto::{
    generate_rsa, Crypto, CryptoMode, GeneratingKeySource, KeySpec, MacAlg, OpCounter, SigAlg,
    SymKey,
};
use sim_core::engine::rng::stream;

fn bench(c: &mut Criterion) {
    let msg = vec![0x3cu8; 2048];
    let real = Crypto::new(CryptoMode::Real, 1);
    let sym = Crypto::new(CryptoMode::Symbolic, 1);
    let src = GeneratingKeySource::new();
    let mut ops = OpCounter::new();

    for bits in [1024u32, 2048] {
        let key = generate_rsa(&KeySpec::new(1, "bench", bits)).unwrap();
        let sig = real.sign(&mut ops, &key, SigAlg::RsaPssSha1, &msg).unwrap();
        c.bench_function(&format!("real/rsa{bits}/pss-sha1/sign-2KB"), |b| {
            b.iter(|| {
                let mut o = OpCounter::new();
                real.sign(&mut o, &key, SigAlg::RsaPssSha1, black_box(&msg))
                    .unwrap()
            })
        });
        c.bench_function(&format!("real/rsa{bits}/pss-sha1/verify-2KB"), |b| {
            b.iter(|| {
                let mut o = OpCounter::new();
                real.verify(
                    &mut o,
                    key.public(),
                    SigAlg::RsaPssSha1,
                    black_box(&msg),
                    &sig,
                )
                .unwrap()
            })
        });
        let mut rng = stream(1, "bench", "kem");
        let ct = real
            .kem_wrap(&mut ops, &mut rng, key.public(), &[7u8; 32])
            .unwrap();
        c.bench_function(&format!("real/rsa{bits}/kem-wrap-32B"), |b| {
            b.iter(|| {
                let mut o = OpCounter::new();
                real.kem_wrap(&mut o, &mut rng, key.public(), black_box(&[7u8; 32]))
                    .unwrap()
            })
        });
        c.bench_function(&format!("real/rsa{bits}/kem-unwrap-32B"), |b| {
            b.iter(|| {
                let mut o = OpCounter::new();
                real.kem_unwrap(&mut o, &key, black_box(&ct)).unwrap()
            })
        });
    }

    let skey = sym.key_pair(&src, &KeySpec::new(1, "bench", 1024)).unwrap();
    c.bench_function("symbolic/sign+verify-2KB", |b| {
        b.iter(|| {
            let mut o = OpCounter::new();
            let s = sym
                .sign(&mut o, &skey, SigAlg::RsaPssSha1, black_box(&msg))
                .unwrap();
            sym.verify(&mut o, skey.public(), SigAlg::RsaPssSha1, &msg, &s)
                .unwrap()
        })
    });
    let small = [0x11u8; 64];
    c.bench_function("symbolic/sign+verify-64B", |b| {
        b.iter(|| {
            let mut o = OpCounter::new();
            let s = sym
                .sign(&mut o, &skey, SigAlg::RsaPssSha1, black_box(&small))
                .unwrap();
            sym.verify(&mut o, skey.public(), SigAlg::RsaPssSha1, &small, &s)
                .unwrap()
        })
    });

    let k = SymKey([9u8; 16]);
    for (mode, crypto) in [("real", &real), ("symbolic", &sym)] {
        for len in [256usize, 2048] {
            let m = vec![0x5au8; len];
            c.bench_function(&format!("{mode}/hmac-sha1-{len}B"), |b| {
                b.iter(|| {
                    let mut o = OpCounter::new();
                    crypto.mac(&mut o, &k, MacAlg::HmacSha1, black_box(&m))
                })
            });
        }
        let km = [0x42u8; 32];
        let w = crypto.wrap(&mut ops, &k, &km).unwrap();
        c.bench_function(&format!("{mode}/aes-kw-wrap-32B"), |b| {
            b.iter(|| {
                let mut o = OpCounter::new();
                crypto.wrap(&mut o, &k, black_box(&km)).unwrap()
            })
        });
        c.bench_function(&format!("{mode}/aes-kw-unwrap-32B"), |b| {
            b.iter(|| {
                let mut o = OpCounter::new();
                crypto.unwrap(&mut o, &k, black_box(&w)).unwrap()
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .without_plots()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
