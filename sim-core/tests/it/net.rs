//! Network model: statistical properties against analytic values (5-sigma bounds),
//! partition and bandwidth timing, determinism and per-link stream isolation.

use sim_core::engine::SimTime;
use sim_core::net::{
    DefaultRoute, Fate, GilbertElliott, GroupId, LatencyDist, LinkDirection, LinkSpec, NetError,
    NetworkModel, Partition, PartitionScope, Topology, TopologyConfig,
};
use sim_core::trace::DropCause;

const N: usize = 100_000;
const MS: u64 = 1_000_000;

/// A topology with groups `a`, `b` whose default link is `spec`.
fn pair(seed: u64, spec: LinkSpec) -> (Topology, GroupId, GroupId) {
    let cfg = TopologyConfig {
        default_link: spec,
        ..TopologyConfig::default()
    };
    let mut t = Topology::new(seed, cfg).unwrap();
    let a = t.add_group("a").unwrap();
    let b = t.add_group("b").unwrap();
    (t, a, b)
}

/// Routes `n` messages `a -> b` one second apart (so no transmitter queueing), returning
/// (send time, fate).
fn run(t: &mut Topology, a: GroupId, b: GroupId, n: usize) -> Vec<(SimTime, Fate)> {
    (0..n)
        .map(|i| {
            let now = SimTime::from_secs(i as u64);
            (now, t.route(now, a, b, 500))
        })
        .collect()
}

fn count(fates: &[(SimTime, Fate)], cause: DropCause) -> usize {
    fates
        .iter()
        .filter(|(_, f)| *f == Fate::Drop(cause))
        .count()
}

/// Five standard deviations of a binomial proportion.
fn binomial_5sigma(p: f64, n: usize) -> f64 {
    5.0 * (p * (1.0 - p) / n as f64).sqrt()
}

/// Five standard deviations of the observed loss rate of a Gilbert–Elliott channel over `n`
/// messages: Bernoulli noise given the state, plus the (autocorrelated) state process,
/// whose indicator mean has asymptotic variance `π_b π_g (1+λ)/(1-λ) / n`, `λ = 1-p_gb-p_bg`.
fn ge_5sigma(ge: &GilbertElliott, n: usize) -> f64 {
    let pb = ge.stationary_bad();
    let pg = 1.0 - pb;
    let lambda = 1.0 - ge.p_good_to_bad - ge.p_bad_to_good;
    let noise = pb * ge.loss_bad * (1.0 - ge.loss_bad) + pg * ge.loss_good * (1.0 - ge.loss_good);
    let state = (ge.loss_bad - ge.loss_good).powi(2) * pb * pg * (1.0 + lambda) / (1.0 - lambda);
    5.0 * ((noise + state) / n as f64).sqrt()
}

#[test]
fn independent_loss_rate_matches_configuration() {
    let p = 0.1;
    let mut spec = LinkSpec::constant(MS);
    spec.loss_probability = p;
    let (mut t, a, b) = pair(11, spec);
    let fates = run(&mut t, a, b, N);
    let lost = count(&fates, DropCause::Loss);
    let rate = lost as f64 / N as f64;
    assert!(
        (rate - p).abs() < binomial_5sigma(p, N),
        "observed loss rate {rate}, configured {p}"
    );
    // Every message is either lost or delivered after exactly the constant latency.
    for (now, f) in &fates {
        match f {
            Fate::Deliver { at, duplicate_at } => {
                assert_eq!(*at, now.add_ns(MS));
                assert_eq!(*duplicate_at, None);
            }
            Fate::Drop(c) => assert_eq!(*c, DropCause::Loss),
        }
    }
    let st = t.link_stats(a, b).unwrap();
    assert_eq!(st.messages, N as u64);
    assert_eq!(st.dropped_loss, lost as u64);
    assert_eq!(st.delivered, (N - lost) as u64);
}

#[test]
fn gilbert_elliott_stationary_loss_rate() {
    let ge = GilbertElliott {
        p_good_to_bad: 0.02,
        p_bad_to_good: 0.2,
        loss_good: 0.01,
        loss_bad: 0.6,
    };
    // π_bad = 0.02 / 0.22 = 1/11; loss = 0.6/11 + 0.01·10/11 = 0.7/11.
    let expected = 0.7 / 11.0;
    assert!((ge.stationary_loss() - expected).abs() < 1e-12);
    let mut spec = LinkSpec::constant(MS);
    spec.gilbert_elliott = Some(ge);
    let (mut t, a, b) = pair(12, spec);
    let fates = run(&mut t, a, b, N);
    let burst = count(&fates, DropCause::BurstLoss);
    let good = count(&fates, DropCause::Loss);
    let rate = (burst + good) as f64 / N as f64;
    assert!(
        (rate - expected).abs() < ge_5sigma(&ge, N),
        "observed {rate}, expected {expected}"
    );
    // Bad-state losses alone: a channel with loss_good = 0.
    let bad_only = GilbertElliott {
        loss_good: 0.0,
        ..ge
    };
    let burst_rate = burst as f64 / N as f64;
    let burst_expected = 0.6 / 11.0;
    assert!(
        (burst_rate - burst_expected).abs() < ge_5sigma(&bad_only, N),
        "observed burst-loss rate {burst_rate}, expected {burst_expected}"
    );
}

#[test]
fn gilbert_elliott_losses_come_in_bursts() {
    let ge = GilbertElliott {
        p_good_to_bad: 0.01,
        p_bad_to_good: 0.1,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    let mut spec = LinkSpec::constant(MS);
    spec.gilbert_elliott = Some(ge);
    let (mut t, a, b) = pair(13, spec);
    let fates = run(&mut t, a, b, N);
    // With loss_bad = 1 and loss_good = 0 a loss run is exactly a bad-state sojourn:
    // geometric with mean 1/p_bad_to_good = 10 and sd sqrt(1-p)/p.
    let mut runs = Vec::new();
    let mut cur = 0u64;
    for (_, f) in &fates {
        match f {
            Fate::Drop(DropCause::BurstLoss) => cur += 1,
            Fate::Drop(c) => panic!("unexpected cause {c:?}"),
            Fate::Deliver { .. } => {
                if cur > 0 {
                    runs.push(cur);
                }
                cur = 0;
            }
        }
    }
    if cur > 0 {
        runs.push(cur);
    }
    let lost: u64 = runs.iter().sum();
    let rate = lost as f64 / N as f64;
    let expected = ge.stationary_loss(); // 1/11
    assert!((rate - expected).abs() < ge_5sigma(&ge, N), "rate {rate}");
    let mean_run = lost as f64 / runs.len() as f64;
    let sd_run = (1.0f64 - 0.1).sqrt() / 0.1;
    let tol = 5.0 * sd_run / (runs.len() as f64).sqrt();
    assert!(
        (mean_run - 10.0).abs() < tol,
        "mean burst {mean_run} over {} bursts, tolerance {tol}",
        runs.len()
    );
    // Independent loss at the same rate would give mean runs of 1/(1 - 1/11) = 1.1.
    assert!(mean_run > 5.0);
}

#[test]
fn duplication_rate_and_independent_copy_latency() {
    let p = 0.05;
    let mut spec = LinkSpec::constant(0);
    spec.latency = LatencyDist::Exponential { mean_ns: 1e6 };
    spec.duplicate_probability = p;
    let (mut t, a, b) = pair(14, spec);
    let fates = run(&mut t, a, b, N);
    let mut dups = 0usize;
    let mut same_time = 0usize;
    let mut dup_latency_sum = 0f64;
    for (now, f) in &fates {
        let Fate::Deliver { at, duplicate_at } = f else {
            panic!("lossless link dropped a message");
        };
        if let Some(d) = duplicate_at {
            dups += 1;
            dup_latency_sum += d.since(*now) as f64;
            if d == at {
                same_time += 1;
            }
        }
    }
    let rate = dups as f64 / N as f64;
    assert!((rate - p).abs() < binomial_5sigma(p, N), "dup rate {rate}");
    assert_eq!(t.link_stats(a, b).unwrap().duplicated, dups as u64);
    // The copy's latency is its own exponential sample: mean 1 ms, and practically never
    // identical to the original's.
    let mean = dup_latency_sum / dups as f64;
    assert!((mean - 1e6).abs() < 5.0 * 1e6 / (dups as f64).sqrt() + 1.0);
    assert!(
        same_time < dups / 100,
        "{same_time} copies arrived with the original"
    );
}

/// Sample mean of the delay of `n` messages on a link with latency `dist`.
fn mean_latency(dist: LatencyDist, seed: u64) -> f64 {
    let mut spec = LinkSpec::constant(0);
    spec.latency = dist;
    let (mut t, a, b) = pair(seed, spec);
    let fates = run(&mut t, a, b, N);
    let sum: f64 = fates
        .iter()
        .map(|(now, f)| match f {
            Fate::Deliver { at, .. } => at.since(*now) as f64,
            Fate::Drop(c) => panic!("dropped: {c:?}"),
        })
        .sum();
    sum / N as f64
}

fn assert_mean(dist: LatencyDist, mean: f64, sd: f64, seed: u64) {
    // 5 sigma of the sample mean, plus 1 ns for rounding samples to whole nanoseconds.
    let tol = 5.0 * sd / (N as f64).sqrt() + 1.0;
    let got = mean_latency(dist, seed);
    assert!(
        (got - mean).abs() < tol,
        "{dist:?}: mean {got}, expected {mean} ± {tol}"
    );
    assert!((dist.mean_ns().unwrap() - mean).abs() < 1e-6 * mean);
}

#[test]
fn latency_means_match_analytic_values() {
    // Uniform on the integers [1 ms, 3 ms]: mean (a+b)/2, sd ≈ (b-a)/√12.
    assert_mean(
        LatencyDist::Uniform {
            min_ns: MS,
            max_ns: 3 * MS,
        },
        2e6,
        2e6 / 12f64.sqrt(),
        21,
    );
    // Exponential: sd = mean.
    assert_mean(LatencyDist::Exponential { mean_ns: 5e6 }, 5e6, 5e6, 22);
    // Log-normal: mean median·exp(σ²/2), variance (exp(σ²)−1)·median²·exp(σ²).
    let (med, s) = (2e6f64, 0.5f64);
    let ln_var = ((s * s).exp() - 1.0) * med * med * (s * s).exp();
    assert_mean(
        LatencyDist::LogNormal {
            median_ns: med,
            sigma: s,
        },
        med * (s * s / 2.0).exp(),
        ln_var.sqrt(),
        23,
    );
    // Pareto: mean scale·α/(α−1), variance scale²·α/((α−1)²(α−2)).
    let (xm, al) = (1e6f64, 3.0f64);
    let p_var = xm * xm * al / ((al - 1.0).powi(2) * (al - 2.0));
    assert_mean(
        LatencyDist::Pareto {
            scale_ns: xm,
            shape: al,
        },
        xm * al / (al - 1.0),
        p_var.sqrt(),
        24,
    );
    // Constant: exact.
    assert_eq!(mean_latency(LatencyDist::constant(1234), 25), 1234.0);
}

#[test]
fn jitter_adds_delay_and_reorders() {
    let mut spec = LinkSpec::constant(10 * MS);
    spec.jitter = LatencyDist::Exponential { mean_ns: 1e6 };
    let (mut t, a, b) = pair(26, spec);
    let mut arrivals = Vec::new();
    let mut sum = 0f64;
    for i in 0..N as u64 {
        let now = SimTime::from_ns(i * 100_000); // every 100 µs
        let Fate::Deliver { at, .. } = t.route(now, a, b, 100) else {
            panic!("dropped");
        };
        sum += at.since(now) as f64;
        arrivals.push(at);
    }
    let mean = sum / N as f64;
    assert!((mean - 11e6).abs() < 5.0 * 1e6 / (N as f64).sqrt() + 1.0);
    let reordered = arrivals.windows(2).filter(|w| w[1] < w[0]).count();
    // P(next arrives first) = P(J2 + 0.1 ms < J1) = 0.5·exp(-0.1) ≈ 0.452 for iid Exp(1 ms).
    let p = 0.5 * (-0.1f64).exp();
    let rate = reordered as f64 / (N - 1) as f64;
    // Adjacent pairs are 1-dependent; 10 binomial sigmas covers the extra covariance.
    assert!((rate - p).abs() < 2.0 * binomial_5sigma(p, N), "{rate}");
}

#[test]
fn partition_drops_exactly_the_window_and_delivery_resumes() {
    let mut t = Topology::new(
        31,
        TopologyConfig {
            default_link: LinkSpec::constant(2 * MS),
            ..TopologyConfig::default()
        },
    )
    .unwrap();
    let a = t.add_group("a").unwrap();
    let b = t.add_group("b").unwrap();
    let c = t.add_group("c").unwrap();
    t.partition_pair("a", "b", SimTime::from_ms(30), SimTime::from_ms(60))
        .unwrap();
    for ms in 0..100u64 {
        let now = SimTime::from_ms(ms);
        let inside = (30..60).contains(&ms);
        for (from, to) in [(a, b), (b, a)] {
            let f = t.route(now, from, to, 100);
            if inside {
                assert_eq!(f, Fate::Drop(DropCause::Partition), "{ms} ms");
            } else {
                assert_eq!(
                    f,
                    Fate::Deliver {
                        at: now.add_ns(2 * MS),
                        duplicate_at: None
                    },
                    "{ms} ms"
                );
            }
        }
        // Other pairs are not affected.
        assert!(matches!(t.route(now, a, c, 100), Fate::Deliver { .. }));
        assert!(matches!(t.route(now, b, b, 100), Fate::Deliver { .. }));
    }
    // The instant before heal is cut, heal itself is not.
    assert_eq!(
        t.route(SimTime::from_ns(60 * MS - 1), a, b, 1),
        Fate::Drop(DropCause::Partition)
    );
    assert_eq!(
        t.route(SimTime::from_ms(60), a, b, 1),
        Fate::Deliver {
            at: SimTime::from_ms(62),
            duplicate_at: None
        }
    );
    assert_eq!(t.link_stats(a, b).unwrap().dropped_partition, 31);
}

#[test]
fn isolation_cuts_a_group_from_everyone_else() {
    let mut t = Topology::new(32, TopologyConfig::default()).unwrap();
    let a = t.add_group("a").unwrap();
    let b = t.add_group("b").unwrap();
    let c = t.add_group("c").unwrap();
    t.isolate("c", SimTime::from_ms(10), SimTime::from_ms(20))
        .unwrap();
    let now = SimTime::from_ms(15);
    for (from, to) in [(a, c), (c, a), (b, c), (c, b)] {
        assert_eq!(t.route(now, from, to, 1), Fate::Drop(DropCause::Partition));
    }
    for (from, to) in [(a, b), (b, a), (c, c)] {
        assert!(matches!(t.route(now, from, to, 1), Fate::Deliver { .. }));
    }
    assert!(matches!(
        t.route(SimTime::from_ms(20), c, a, 1),
        Fate::Deliver { .. }
    ));
}

#[test]
fn bandwidth_spaces_back_to_back_messages() {
    let mut spec = LinkSpec::constant(5 * MS);
    spec.bandwidth_bps = Some(8_000_000); // 1000 bytes take 1 ms
    let mut t = Topology::new(41, TopologyConfig::default()).unwrap();
    let a = t.add_group("a").unwrap();
    let b = t.add_group("b").unwrap();
    t.add_link("a", "b", spec, LinkDirection::Symmetric)
        .unwrap();
    let deliveries: Vec<SimTime> = (0..10)
        .map(|_| match t.route(SimTime::ZERO, a, b, 1000) {
            Fate::Deliver { at, .. } => at,
            f => panic!("{f:?}"),
        })
        .collect();
    for (k, at) in deliveries.iter().enumerate() {
        // k-th message finishes transmitting at (k+1) ms, then propagates 5 ms.
        assert_eq!(*at, SimTime::from_ns((k as u64 + 1) * MS + 5 * MS));
    }
    // The reverse direction has its own transmitter: idle, so 1 ms + 5 ms.
    assert_eq!(
        t.route(SimTime::ZERO, b, a, 1000),
        Fate::Deliver {
            at: SimTime::from_ms(6),
            duplicate_at: None
        }
    );
    // Sent while the queue still drains (until 10 ms): starts at 10 ms; 250 bytes = 0.25 ms.
    assert_eq!(
        t.route(SimTime::from_ms(4), a, b, 250),
        Fate::Deliver {
            at: SimTime::from_ns(10 * MS + 250_000 + 5 * MS),
            duplicate_at: None
        }
    );
    // After the link went idle a message starts at once.
    assert_eq!(
        t.route(SimTime::from_ms(100), a, b, 1000),
        Fate::Deliver {
            at: SimTime::from_ms(106),
            duplicate_at: None
        }
    );
}

fn noisy_spec() -> LinkSpec {
    LinkSpec {
        latency: LatencyDist::LogNormal {
            median_ns: 3e6,
            sigma: 0.7,
        },
        jitter: LatencyDist::Uniform {
            min_ns: 0,
            max_ns: MS,
        },
        loss_probability: 0.05,
        gilbert_elliott: Some(GilbertElliott {
            p_good_to_bad: 0.01,
            p_bad_to_good: 0.3,
            loss_good: 0.0,
            loss_bad: 0.8,
        }),
        duplicate_probability: 0.02,
        bandwidth_bps: Some(10_000_000),
        buffer_bytes: Some(64_000),
    }
}

fn fates_c_to_d(seed: u64, group_order: &[&str], traffic_on_ab: bool) -> Vec<Fate> {
    let mut t = Topology::new(
        seed,
        TopologyConfig {
            default_link: noisy_spec(),
            ..TopologyConfig::default()
        },
    )
    .unwrap();
    for g in group_order {
        t.add_group(g).unwrap();
    }
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|n| t.group(n).unwrap());
    if traffic_on_ab {
        // a -> b is used first, so its link state is created before c -> d's.
        t.route(SimTime::ZERO, a, b, 1200);
    }
    (0..2000u64)
        .map(|i| {
            let now = SimTime::from_ns(i * 700_000);
            if traffic_on_ab {
                for k in 0..3 {
                    t.route(now, a, b, 300 + k);
                    t.route(now, b, a, 300 + k);
                }
            }
            t.route(now, c, d, 900)
        })
        .collect()
}

#[test]
fn same_seed_same_fates_different_seed_different() {
    let order = ["a", "b", "c", "d"];
    let x = fates_c_to_d(7, &order, false);
    let y = fates_c_to_d(7, &order, false);
    let z = fates_c_to_d(8, &order, false);
    assert_eq!(x, y);
    assert_ne!(x, z);
    // Not degenerate: some of each outcome.
    for want in [DropCause::Loss, DropCause::BurstLoss] {
        assert!(x.contains(&Fate::Drop(want)), "{want:?}");
    }
    assert!(x.iter().any(|f| matches!(
        f,
        Fate::Deliver {
            duplicate_at: Some(_),
            ..
        }
    )));
}

#[test]
fn traffic_on_one_link_does_not_change_another() {
    let base = fates_c_to_d(9, &["a", "b", "c", "d"], false);
    let with_ab = fates_c_to_d(9, &["a", "b", "c", "d"], true);
    // Group ids differ (c is 0 here) but streams are named after groups, not ids.
    let reordered = fates_c_to_d(9, &["c", "d", "b", "a"], true);
    assert_eq!(base, with_ab);
    assert_eq!(base, reordered);
}

#[test]
fn changing_loss_keeps_latencies_of_surviving_messages() {
    // Common random numbers: each message consumes a fixed block of draws, so raising the
    // loss probability only removes messages; the survivors keep their delivery times.
    let mut lossless = noisy_spec();
    lossless.loss_probability = 0.0;
    lossless.gilbert_elliott = None;
    lossless.bandwidth_bps = None;
    lossless.buffer_bytes = None;
    let mut lossy = lossless;
    lossy.loss_probability = 0.3;
    let (mut t1, a1, b1) = pair(5, lossless);
    let (mut t2, a2, b2) = pair(5, lossy);
    let f1 = run(&mut t1, a1, b1, 5000);
    let f2 = run(&mut t2, a2, b2, 5000);
    let mut survivors = 0;
    for ((_, x), (_, y)) in f1.iter().zip(&f2) {
        if let Fate::Deliver { .. } = y {
            assert_eq!(x, y);
            survivors += 1;
        }
    }
    assert!(survivors > 3000 && survivors < 4000, "{survivors}");
}

#[test]
fn strict_routing_directed_links_and_intra_group_spec() {
    let mut t = Topology::new(
        51,
        TopologyConfig {
            default_link: LinkSpec::constant(MS),
            default_route: DefaultRoute::Strict,
            intra_group: Some(LinkSpec::constant(10_000)),
        },
    )
    .unwrap();
    let a = t.add_group("a").unwrap();
    let b = t.add_group("b").unwrap();
    let c = t.add_group("c").unwrap();
    t.add_link(
        "a",
        "b",
        LinkSpec::constant(3 * MS),
        LinkDirection::Directed,
    )
    .unwrap();
    let now = SimTime::from_ms(1);
    assert_eq!(
        t.route(now, a, b, 10),
        Fate::Deliver {
            at: SimTime::from_ms(4),
            duplicate_at: None
        }
    );
    assert_eq!(t.route(now, b, a, 10), Fate::Drop(DropCause::NoRoute));
    assert_eq!(t.route(now, a, c, 10), Fate::Drop(DropCause::NoRoute));
    assert_eq!(
        t.route(now, c, c, 10),
        Fate::Deliver {
            at: now.add_ns(10_000),
            duplicate_at: None
        }
    );
    assert_eq!(
        t.route(now, a, GroupId(99), 10),
        Fate::Drop(DropCause::NoRoute)
    );
    assert!(t.link_spec(b, a).is_none());
    assert_eq!(t.link_spec(a, b), Some(&LinkSpec::constant(3 * MS)));

    // Not strict: the reverse of a directed link and unlinked pairs use the default spec,
    // and same-group traffic falls back to it too when no intra spec is given.
    let mut t = Topology::new(
        52,
        TopologyConfig {
            default_link: LinkSpec::constant(MS),
            ..TopologyConfig::default()
        },
    )
    .unwrap();
    let a = t.add_group("a").unwrap();
    let b = t.add_group("b").unwrap();
    t.add_link(
        "a",
        "b",
        LinkSpec::constant(3 * MS),
        LinkDirection::Directed,
    )
    .unwrap();
    assert_eq!(t.link_spec(b, a), Some(&LinkSpec::constant(MS)));
    assert_eq!(t.link_spec(a, a), Some(&LinkSpec::constant(MS)));
    assert_eq!(
        t.route(SimTime::ZERO, b, a, 1),
        Fate::Deliver {
            at: SimTime::from_ms(1),
            duplicate_at: None
        }
    );
}

#[test]
fn configuration_errors_are_typed() {
    let mut bad = LinkSpec::constant(0);
    bad.loss_probability = -0.5;
    let err = Topology::new(
        1,
        TopologyConfig {
            default_link: bad,
            ..TopologyConfig::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, NetError::InvalidProbability { .. }));
    assert!(err.is_fatal());

    let mut t = Topology::new(1, TopologyConfig::default()).unwrap();
    let a = t.add_group("a").unwrap();
    assert_eq!(t.add_group("a"), Err(NetError::DuplicateGroup("a".into())));
    for name in ["", "x>y", "has space", "tab\t", &"n".repeat(129)] {
        assert!(
            matches!(t.add_group(name), Err(NetError::InvalidGroupName { .. })),
            "{name:?}"
        );
    }
    t.add_group("b").unwrap();
    assert_eq!(
        t.add_link("a", "zz", LinkSpec::constant(1), LinkDirection::Directed),
        Err(NetError::UnknownGroup("zz".into()))
    );
    assert_eq!(
        t.add_link("a", "a", LinkSpec::constant(1), LinkDirection::Directed),
        Err(NetError::SelfLink("a".into()))
    );
    let mut spec = LinkSpec::constant(1);
    spec.jitter = LatencyDist::Uniform {
        min_ns: 9,
        max_ns: 3,
    };
    assert!(matches!(
        t.add_link("a", "b", spec, LinkDirection::Directed),
        Err(NetError::InvalidLatency { what: "jitter", .. })
    ));
    t.add_link("b", "a", LinkSpec::constant(1), LinkDirection::Directed)
        .unwrap();
    // A symmetric link would duplicate b -> a: rejected, and a -> b was not added either.
    assert_eq!(
        t.add_link("a", "b", LinkSpec::constant(1), LinkDirection::Symmetric),
        Err(NetError::DuplicateLink {
            from: "b".into(),
            to: "a".into()
        })
    );
    assert_eq!(t.link_spec(a, GroupId(1)), Some(&LinkSpec::constant(0)));

    assert_eq!(
        t.partition_pair("a", "b", SimTime::from_ms(5), SimTime::from_ms(5)),
        Err(NetError::EmptyPartition {
            at_ns: 5 * MS,
            heal_ns: 5 * MS
        })
    );
    assert_eq!(
        t.partition_pair("a", "a", SimTime::ZERO, SimTime::from_ms(5)),
        Err(NetError::SelfPartition("a".into()))
    );
    assert_eq!(
        t.add_partition(Partition {
            scope: PartitionScope::Isolate(GroupId(7)),
            at: SimTime::ZERO,
            heal: SimTime::from_ms(1),
        }),
        Err(NetError::UnknownGroupId(7))
    );
    assert!(t.partitions().is_empty());
}
