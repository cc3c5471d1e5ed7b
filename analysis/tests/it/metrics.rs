//! Metrics of hand-crafted traces against hand-computed values.

use crate::fixtures::{trace_text, write_trace, SplitMix, TINY};
use analysis::{analyze_reader, compute_metrics, AnalysisError};

const MS: u64 = 1_000_000;

fn tiny() -> analysis::Metrics {
    analyze_reader(trace_text(TINY).as_bytes()).unwrap().metrics
}

#[test]
fn run_header_and_end() {
    let m = tiny();
    assert_eq!(m.run.seed, Some(7));
    assert_eq!(m.run.scenario.as_deref(), Some("tiny"));
    assert_eq!(m.run.crypto.as_deref(), Some("symbolic"));
    assert_eq!(m.run.schema, Some(1));
    assert_eq!(m.run.end_reason.as_deref(), Some("horizon"));
    assert_eq!(m.run.events, Some(42));
    assert_eq!(m.run.duration_ns, 10 * MS);
    assert_eq!(m.run.records, TINY.len() as u64);
    assert!(!m.run.truncated_tail);
    let kinds: Vec<(&str, u64)> = m
        .actors_by_kind
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    assert_eq!(
        kinds,
        vec![("adversary", 1), ("agent", 2), ("dea", 1), ("ri", 1)]
    );
}

#[test]
fn message_counts_bytes_and_drops_by_cause() {
    let m = tiny();
    // Sends: 100 (500 B), 101 (400), 102 (400), 200 (800), 201 (1000), 202 (1000), 300 (300).
    assert_eq!(m.message_totals.sent, 7);
    assert_eq!(m.message_totals.sent_bytes, 4400);
    // Deliveries: 100, 101, 102, 200, 202 = 500 + 400 + 400 + 800 + 1000.
    assert_eq!(m.message_totals.delivered, 5);
    assert_eq!(m.message_totals.delivered_bytes, 3100);
    assert_eq!(m.message_totals.dropped, 3);
    assert_eq!(m.message_totals.duplicated, 1);
    // Latencies 1, 1, 1, 1, 2 ms: mean 1.2 ms, max 2 ms.
    assert!((m.message_totals.net_latency_mean_ns - 1.2e6).abs() < 1e-6);
    assert_eq!(m.message_totals.net_latency_max_ns, 2 * MS);

    let ro = &m.messages["roap:roResponse"];
    assert_eq!(
        (ro.sent, ro.sent_bytes, ro.delivered, ro.delivered_bytes),
        (2, 2000, 1, 1000)
    );
    assert_eq!((ro.dropped, ro.duplicated), (2, 1));
    let req = &m.messages["roap:roRequest"];
    assert_eq!(
        (req.sent, req.sent_bytes, req.delivered, req.dropped),
        (2, 800, 2, 0)
    );
    let dea = &m.messages["dea:joinDomainRequest"];
    assert_eq!(
        (dea.sent, dea.sent_bytes, dea.delivered, dea.dropped),
        (1, 300, 0, 1)
    );
    assert_eq!(m.messages.len(), 5);

    let drops: Vec<(&str, u64)> = m
        .drops_by_cause
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    assert_eq!(drops, vec![("loss", 1), ("no_route", 1), ("partition", 1)]);
}

#[test]
fn outcomes_per_protocol_and_kind() {
    let m = tiny();
    let reg = &m.protocols["registration"];
    assert_eq!((reg.outcomes, reg.completions, reg.timeouts), (1, 1, 0));
    assert_eq!(reg.completion_rate, 1.0);
    assert_eq!(reg.latency.unwrap().p50_ns, 4 * MS);

    let ro = &m.protocols["ro_acquisition"];
    assert_eq!(
        (ro.outcomes, ro.completions, ro.timeouts, ro.retried),
        (2, 1, 1, 1)
    );
    assert_eq!(ro.completion_rate, 0.5);
    assert_eq!(ro.attempts_mean, 1.5);
    assert_eq!(ro.failures_by_status.get("timeout"), Some(&1));
    // Latency only over successes: the single 6 ms sample.
    let l = ro.latency.unwrap();
    assert_eq!(
        (l.count, l.p50_ns, l.p999_ns, l.max_ns),
        (1, 6 * MS, 6 * MS, 6 * MS)
    );

    let jd = &m.protocols["join_domain"];
    assert_eq!((jd.outcomes, jd.completions, jd.timeouts), (1, 0, 0));
    assert_eq!(jd.failures_by_status.get("abandoned"), Some(&1));
    assert!(jd.latency.is_none());

    assert_eq!(
        m.protocols_by_kind.keys().collect::<Vec<_>>(),
        vec!["agent"]
    );
    assert_eq!(m.protocols_by_kind["agent"]["ro_acquisition"], *ro);
}

#[test]
fn server_utilisation_and_queue() {
    let m = tiny();
    let s = &m.servers.by_actor[&10];
    assert_eq!((s.kind.as_str(), s.name.as_str()), ("ri", "ri/0"));
    // Busy: [2,2.5)=1, [2.5,4)=2, [4,5)=2, [5,6)=1 → 0.5+3+2+1 = 6.5 worker·ms.
    assert_eq!(s.busy_worker_ns, 6_500_000);
    assert_eq!(s.capacity_workers, 2);
    assert!((s.utilisation - 6.5 / 20.0).abs() < 1e-12);
    // Queue length 1 during [3,4) of 10 ms.
    assert!((s.queue_len_mean - 0.1).abs() < 1e-12);
    assert_eq!((s.queue_len_max, s.services, s.enqueued), (1, 3, 1));
    assert!((s.queue_delay_mean_ns - 1e6 / 3.0).abs() < 1e-6);
    assert_eq!(s.queue_delay_max_ns, MS);
    assert!((s.service_mean_ns - 6.5e6 / 3.0).abs() < 1e-6);

    // 1 ms buckets over 10 ms.
    assert_eq!(m.throughput.bucket_ns, MS);
    assert_eq!(m.throughput.buckets, 10);
    let ri = &m.servers.by_kind["ri"];
    assert_eq!((ri.servers, ri.capacity_workers), (1, 2));
    let busy: Vec<f64> = ri.busy_workers_mean.clone();
    assert_eq!(busy, vec![0.0, 0.0, 1.5, 2.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(ri.utilisation[2], 0.75);
    assert_eq!(ri.utilisation[3], 1.0);
    assert_eq!(ri.queue_len_mean[3], 1.0);
    assert_eq!(ri.queue_len_max, vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn throughput_buckets() {
    let m = tiny();
    let c = &m.throughput.completions;
    assert_eq!(c["registration"], vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(c["ro_acquisition"], vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    let f = &m.throughput.failures;
    assert_eq!(f["ro_acquisition"], vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(f["join_domain"], vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn attacks_violations_timers_notes() {
    let m = tiny();
    let r = &m.attacks["replay"];
    assert_eq!((r.attempts, r.successes), (2, 1));
    assert_eq!(m.violations.total, 1);
    assert_eq!(m.violations.by_invariant["ro_uniqueness"], 1);
    assert_eq!(m.violations.first[0].chain, vec![100, 202]);
    assert_eq!(m.violations.first[0].t_ns, 8 * MS);
    assert_eq!(
        (m.timers.set, m.timers.fired, m.timers.cancelled),
        (2, 1, 1)
    );
    assert_eq!(m.notes, 1);
}

#[test]
fn percentiles_equal_exact_sort() {
    // 1237 successful outcomes with pseudo-random latencies; expected values by an
    // independent nearest-rank computation on a sorted copy.
    let mut rng = SplitMix(99);
    let mut lines =
        vec![r#"{"t":0,"ev":"actor","id":1,"kind":"agent","name":"a","group":"g"}"#.to_string()];
    let mut lat = Vec::new();
    for i in 0..1237u64 {
        let l = rng.next() % 50_000_000 + 1;
        lat.push(l);
        lines.push(format!(
            r#"{{"t":{},"ev":"outcome","actor":1,"peer":null,"protocol":"p","status":"success","latency_ns":{l},"attempts":1}}"#,
            i * 1000
        ));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let m = analyze_reader(trace_text(&refs).as_bytes())
        .unwrap()
        .metrics;
    lat.sort();
    let n = lat.len();
    let rank = |num: usize, den: usize| lat[(num * n).div_ceil(den) - 1];
    let l = m.protocols["p"].latency.unwrap();
    assert_eq!(l.p50_ns, rank(50, 100));
    assert_eq!(l.p90_ns, rank(90, 100));
    assert_eq!(l.p99_ns, rank(99, 100));
    assert_eq!(l.p999_ns, rank(999, 1000));
    assert_eq!(
        (l.min_ns, l.max_ns, l.count),
        (lat[0], lat[n - 1], n as u64)
    );
}

#[test]
fn file_errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let e = compute_metrics(&dir.path().join("missing.jsonl")).unwrap_err();
    assert!(matches!(e, AnalysisError::Io { .. }) && e.is_fatal());
    let p = write_trace(dir.path(), &[r#"{"t":0,"ev":"actor","kind":"agent"}"#]);
    let e = compute_metrics(&p).unwrap_err();
    assert!(matches!(e, AnalysisError::Parse { line: 1, .. }), "{e}");
}

#[test]
fn metrics_json_roundtrips() {
    let m = tiny();
    let text = serde_json::to_string(&m).unwrap();
    let back: analysis::Metrics = serde_json::from_str(&text).unwrap();
    assert_eq!(back, m);
}

mod hostile {
    use analysis::analyze_reader;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes never panic the reader or the collector.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = analyze_reader(bytes.as_slice());
        }

        /// Well-formed records with hostile values (huge times, ids, unknown kinds) never panic.
        #[test]
        fn hostile_values_never_panic(
            t in any::<u64>(), id in any::<u32>(), busy in any::<u32>(), q in any::<u32>(),
            lat in any::<u64>(), ev in prop::sample::select(vec![
                "service_start", "service_end", "enqueue", "outcome", "deliver", "drop", "bogus"]),
        ) {
            let text = format!(
                "{{\"t\":{t},\"seq\":0,\"ev\":\"{ev}\",\"actor\":{id},\"msg\":1,\"busy\":{busy},\"queue_len\":{q},\"latency_ns\":{lat},\"status\":\"success\",\"protocol\":\"p\"}}\n{{\"t\":0,\"seq\":1,\"ev\":\"service_end\",\"actor\":{id},\"msg\":1}}\n"
            );
            let a = analyze_reader(text.as_bytes()).unwrap();
            prop_assert!(a.metrics.throughput.buckets <= 1000);
        }
    }
}

#[test]
fn declared_workers_are_the_server_capacity() {
    // The same tiny trace, but the RI declares 4 workers in its actor record: capacity is 4,
    // not the 2 busy workers seen, so utilisation is 6.5 worker·ms / (4 × 10 ms).
    let lines: Vec<String> = TINY
        .iter()
        .map(|l| {
            l.replace(
                r#""name":"ri/0","group":"core"}"#,
                r#""name":"ri/0","group":"core","workers":4}"#,
            )
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let m = analyze_reader(trace_text(&refs).as_bytes())
        .unwrap()
        .metrics;
    let s = &m.servers.by_actor[&10];
    assert_eq!(s.capacity_workers, 4);
    assert!((s.utilisation - 6.5 / 40.0).abs() < 1e-12);
    assert_eq!(m.servers.by_kind["ri"].capacity_workers, 4);
}

#[test]
fn failures_rank_above_successes_in_latency_with_failures() {
    let m = tiny();
    // ro_acquisition: a 6 ms success and a 7.5 ms timeout. p50 = rank 1 of 2 = 6 ms; p90
    // and p99 = rank 2 = the timeout: failed (None), not 7.5 ms and not 6 ms.
    let ro = m.protocols["ro_acquisition"].latency_with_failures.unwrap();
    assert_eq!((ro.outcomes, ro.failures), (2, 1));
    assert_eq!(ro.p50_ns, Some(6 * MS));
    assert_eq!((ro.p90_ns, ro.p99_ns, ro.p999_ns), (None, None, None));
    // join_domain: one abandoned run, so even the median is a failure.
    let jd = m.protocols["join_domain"].latency_with_failures.unwrap();
    assert_eq!((jd.outcomes, jd.failures, jd.p50_ns), (1, 1, None));
    // registration: no failure, so the same as the success latency.
    let reg = m.protocols["registration"].latency_with_failures.unwrap();
    assert_eq!(reg.p99_ns, Some(4 * MS));
}

#[test]
fn server_class_figures() {
    let m = tiny();
    assert_eq!(m.servers.by_class.keys().collect::<Vec<_>>(), vec!["ri"]);
    let ri = &m.servers.by_class["ri"];
    assert_eq!((ri.servers, ri.capacity_workers, ri.services), (1, 2, 3));
    assert!((ri.utilisation - 6.5 / 20.0).abs() < 1e-12);
    // Queue delays 0, 0, 1 ms: nearest-rank p50 = 2nd = 0, p99 = 3rd = 1 ms.
    assert_eq!((ri.queue_delay_p50_ns, ri.queue_delay_p99_ns), (0, MS));
    assert_eq!((ri.queue_delay_max_ns, ri.queue_len_max), (MS, 1));
    // No drop was addressed to the RI (201 and 203 went to agents, 300 to the DEA, which
    // is no server); its one failed run is agent/2's acquisition timeout.
    assert!(ri.drops_by_cause.is_empty());
    let failed: Vec<(&str, u64)> = ri
        .failed_outcomes_by_status
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    assert_eq!(failed, vec![("timeout", 1)]);
}
