//! Sweep runner: parallel runs, results table, resume, shards and merge, with a fake
//! single-run function that writes a real trace file, digest and summary.json
//! deterministically from the scenario.

use scenarios::load_str;
use scenarios::model::Scenario;
use scenarios::runner::{
    summarize, write_summary, EngineOutcome, ProtocolStats, RunError, RunOptions, RunSummary,
    StopReason,
};
use scenarios::sweep_run::{
    merge, run_sweep, ChartChoice, MergeOptions, Shard, SweepError, SweepOptions, SweepReport,
};
use scenarios::trace_file::TraceFile;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// 2 loss values x 3 population sizes x 2 seeds = 12 points.
pub(crate) const SWEEP: &str = r#"
[scenario]
name = "fake-capacity"
seed = 100
horizon = "30s"

[network]
loss = 0.0

[population]
groups = ["home", "core"]
agents = 4

[sweep]
seeds = 2
"population.agents" = [4, 8, 12]
"network.loss" = [0.0, 0.1]
"#;

pub(crate) fn base() -> Scenario {
    load_str(SWEEP, "fake.toml").unwrap()
}

/// The fake engine: agent `i` registers with latency `(i + 1 + seed)` ms; when the network
/// loses packets, every fourth agent (`i % 4 == 3`) times out instead. `salt` changes the
/// trace (a different "engine version"). `interrupt_after` simulates Ctrl-C during the
/// n-th run (1-based).
pub(crate) struct Fake {
    pub(crate) salt: u64,
    pub(crate) calls: AtomicU64,
    pub(crate) interrupt_after: Option<u64>,
}

impl Fake {
    pub(crate) fn new() -> Self {
        Fake {
            salt: 0,
            calls: AtomicU64::new(0),
            interrupt_after: None,
        }
    }

    pub(crate) fn run(&self, sc: &Scenario, opts: &RunOptions) -> Result<RunSummary, RunError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let interrupted = self.interrupt_after == Some(n);
        if interrupted {
            opts.interrupt.store(true, Ordering::SeqCst);
        }
        let out = opts.out_dir.clone().unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("scenario.toml"), sc.source.text.as_bytes()).unwrap();
        let (tf, sink) = TraceFile::create(&out.join("trace.jsonl")).unwrap();
        let mut rec = TraceRecorder::new(
            TraceConfig {
                enabled: true,
                timers: false,
            },
            Box::new(sink),
        );
        let seed = sc.scenario.seed;
        rec.record(
            0,
            TraceEvent::RunStart {
                schema: 1,
                seed,
                scenario: sc.scenario.name.clone(),
                crypto: "symbolic".into(),
            },
        );
        let agents = sc.population.agents;
        let lossy = sc.network.loss.map(|l| l.get()).unwrap_or(0.0) > 0.0;
        // An interrupted run stops half-way.
        let upto = if interrupted { agents / 2 } else { agents };
        let mut completed = 0;
        for i in 0..upto {
            let ok = !(lossy && i % 4 == 3);
            completed += ok as u64;
            rec.record(
                (i as u64 + 1) * 1_000_000,
                TraceEvent::Outcome {
                    actor: i,
                    peer: None,
                    protocol: "registration".into(),
                    status: if ok { "success" } else { "timeout" }.into(),
                    latency_ns: (i as u64 + 1 + seed + self.salt) * 1_000_000,
                    attempts: 1,
                },
            );
        }
        let horizon = sc.scenario.horizon.as_ns();
        let end = if interrupted { horizon / 2 } else { horizon };
        let reason = if interrupted {
            "interrupted"
        } else {
            "horizon"
        };
        rec.record(
            end,
            TraceEvent::RunEnd {
                reason: reason.into(),
                events: upto as u64 * 3,
            },
        );
        let digest = rec.digest_hex();
        let records = rec.records();
        drop(rec);
        tf.finish().unwrap();
        let mut protocols = BTreeMap::new();
        protocols.insert(
            "registration".to_string(),
            ProtocolStats {
                started: upto as u64,
                completed,
                failed: upto as u64 - completed,
                latency: None,
            },
        );
        let outcome = EngineOutcome {
            end_time_ns: end,
            events: upto as u64 * 3,
            stop_reason: if interrupted {
                StopReason::Interrupted
            } else {
                StopReason::Horizon
            },
            trace_records: records,
            trace_digest: Some(digest),
            protocols,
            invariants_checked: vec![],
            invariant_violations: BTreeMap::new(),
            attacks: BTreeMap::new(),
        };
        let file = opts.scenario_path.as_ref().unwrap().display().to_string();
        let summary = summarize(
            sc,
            &file,
            &out,
            &outcome,
            opts.interrupt.load(Ordering::SeqCst),
        );
        write_summary(&out, &summary)?;
        Ok(summary)
    }
}

/// Options without charts (drawing is slow in debug builds; two tests draw them).
pub(crate) fn opts(dir: &Path, jobs: usize, shard: Option<Shard>) -> SweepOptions {
    SweepOptions {
        out_dir: dir.to_path_buf(),
        jobs,
        shard,
        seeds: None,
        charts: None,
        interrupt: Arc::new(AtomicBool::new(false)),
        progress: false,
        reuse_from: vec![],
        remove_orphans: false,
        force: false,
    }
}

pub(crate) fn sweep(dir: &Path, jobs: usize, shard: Option<Shard>, fake: &Fake) -> SweepReport {
    run_sweep(&base(), &opts(dir, jobs, shard), |s, o| fake.run(s, o)).unwrap()
}

pub(crate) fn csv(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("results.csv")).unwrap()
}

pub(crate) fn read(p: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn full_sweep_writes_runs_results_and_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("out");
    let fake = Fake::new();
    let mut o = opts(&d, 2, None);
    o.charts = Some(ChartChoice::default());
    let r = run_sweep(&base(), &o, |s, o| fake.run(s, o)).unwrap();
    assert_eq!((r.total_points, r.shard_points), (12, 12));
    assert_eq!((r.ran, r.reused, r.failed), (12, 0, 0));
    assert!(r.complete() && !r.interrupted);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 12);

    // Axes in lexicographic order (network.loss slowest), seed fastest: point 7 is
    // loss 0.1 (7 / 6 = 1), agents 4 ((7 / 2) % 3 = 0), seed 101 (7 % 2 = 1).
    let run = d.join("runs/loss=0.1-agents=4-seed=101");
    for f in ["scenario.toml", "trace.jsonl", "summary.json"] {
        assert!(run.join(f).is_file(), "{f}");
    }
    // The run directory holds the concrete point, reproducible on its own.
    let concrete = load_str(
        &String::from_utf8(read(run.join("scenario.toml"))).unwrap(),
        "p7.toml",
    )
    .unwrap();
    assert!(concrete.sweep.is_none());
    assert_eq!(concrete.population.agents, 4);
    assert_eq!(concrete.scenario.seed, 101);
    assert_eq!(concrete.network.loss.unwrap().get(), 0.1);
    let summary: serde_json::Value =
        serde_json::from_slice(&read(run.join("summary.json"))).unwrap();
    assert_eq!(
        summary["reproduce"],
        "drmsim run runs/loss=0.1-agents=4-seed=101/scenario.toml --seed 101"
    );

    let text = csv(&d);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 13);
    assert_eq!(
        lines[0],
        "point_id,index,network.loss,population.agents,seed,repetition,digest,stop_reason,\
         interrupted,end_time_ns,events,trace_records,expectations_met,invariant_violations,\
         throughput_per_s,registration.started,registration.completed,registration.failed,\
         registration.completion_rate,registration.p50_latency_ms,registration.p99_latency_ms,\
         registration.p50_success_latency_ms,registration.p99_success_latency_ms,\
         drmsim_version,git_commit,scenario_sha256,cpu_count,started_at,finished_at,command_line"
    );
    // Point 7: agents 0..4 with latencies 102..105 ms; agent 3 times out. Successes
    // 102, 103, 104 ms: nearest-rank p50 = 2nd = 103, p99 = 3rd = 104; 3 / 30 s = 0.1/s.
    // Counting the failure (ranked above every success) over 4 outcomes: p50 = rank 2 =
    // 103, p99 = rank 4 = the timeout: `inf`.
    let digest = summary["trace_digest"].as_str().unwrap();
    let sha = summary["provenance"]["scenario_sha256"].as_str().unwrap();
    assert_eq!(
        sha,
        scenarios::provenance::sha256_hex(&read(run.join("scenario.toml")))
    );
    assert_eq!(
        lines[8],
        format!(
            "loss=0.1-agents=4-seed=101,7,0.1,4,101,1,{digest},horizon,false,\
             30000000000,12,6,true,0,0.1,4,3,1,0.75,103,inf,103,104,{},{},{sha},0,,,",
            scenarios::provenance::VERSION,
            scenarios::provenance::GIT_COMMIT
        )
    );
    // Rows are in point order.
    for (i, l) in lines[1..].iter().enumerate() {
        assert_eq!(l.split(',').nth(1), Some(i.to_string().as_str()), "{l}");
    }
    let jsonl = std::fs::read_to_string(d.join("results.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 12);
    let row7: serde_json::Value = serde_json::from_str(jsonl.lines().nth(7).unwrap()).unwrap();
    assert_eq!(row7["registration.p99_success_latency_ms"], 104.0);
    assert_eq!(row7["registration.p99_latency_ms"], serde_json::Value::Null);
    assert_eq!(row7["registration.p50_latency_ms"], 103.0);
    assert_eq!(row7["population.agents"], 4);

    let charts = r.charts.unwrap().unwrap();
    assert_eq!(charts.x_axis, "population.agents");
    assert_eq!(charts.protocol, "registration");
    assert_eq!(charts.configs, 2);
    for f in ["capacity.json", "capacity_p99.svg", "capacity_p50.png"] {
        assert!(d.join("charts").join(f).is_file(), "{f}");
    }
    let manifest: serde_json::Value = serde_json::from_slice(&read(d.join("sweep.json"))).unwrap();
    assert_eq!(manifest["total_points"], 12);
    assert_eq!(read(d.join("sweep.toml")), SWEEP.as_bytes());
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let four = tmp.path().join("four");
    sweep(&one, 1, None, &Fake::new());
    sweep(&four, 4, None, &Fake::new());
    assert_eq!(csv(&one), csv(&four));
    assert_eq!(
        read(one.join("results.jsonl")),
        read(four.join("results.jsonl"))
    );
}

#[test]
fn resumed_sweep_equals_uninterrupted_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    sweep(&whole, 2, None, &Fake::new());

    let resumed = tmp.path().join("resumed");
    let mut stopping = Fake::new();
    stopping.interrupt_after = Some(5);
    let o = opts(&resumed, 1, None);
    let r = run_sweep(&base(), &o, |s, o| stopping.run(s, o)).unwrap();
    assert!(r.interrupted && !r.complete());
    assert_eq!(
        r.ran, 4,
        "runs 1-4 complete, run 5 interrupted, nothing after"
    );
    assert!(!resumed.join("results.csv").exists());
    let s5: serde_json::Value = serde_json::from_slice(&read(
        resumed.join("runs/loss=0.0-agents=12-seed=100/summary.json"),
    ))
    .unwrap();
    assert_eq!(s5["interrupted"], true);

    let again = Fake::new();
    let r = sweep(&resumed, 2, None, &again);
    assert_eq!((r.reused, r.ran), (4, 8));
    assert_eq!(again.calls.load(Ordering::SeqCst), 8);
    assert_eq!(csv(&whole), csv(&resumed));
    assert_eq!(
        read(whole.join("results.jsonl")),
        read(resumed.join("results.jsonl"))
    );

    // A third pass runs nothing.
    let idle = Fake::new();
    let r = sweep(&resumed, 2, None, &idle);
    assert_eq!((r.reused, r.ran), (12, 0));
    assert_eq!(idle.calls.load(Ordering::SeqCst), 0);
    assert_eq!(csv(&whole), csv(&resumed));
}

#[test]
fn corrupt_or_stale_runs_are_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    sweep(&d, 2, None, &Fake::new());
    let want = csv(&d);
    // Flip one byte of one trace: its SHA-256 no longer matches summary.json.
    let trace = d.join("runs/loss=0.0-agents=8-seed=101/trace.jsonl");
    let mut bytes = read(&trace);
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    std::fs::write(&trace, bytes).unwrap();
    // Truncate another (as a crash mid-write would).
    let trace2 = d.join("runs/loss=0.1-agents=12-seed=100/trace.jsonl");
    let b2 = read(&trace2);
    std::fs::write(&trace2, &b2[..b2.len() / 2]).unwrap();
    // Delete a summary.
    std::fs::remove_file(d.join("runs/loss=0.0-agents=4-seed=100/summary.json")).unwrap();
    let fake = Fake::new();
    let r = sweep(&d, 2, None, &fake);
    assert_eq!((r.reused, r.ran), (9, 3));
    assert_eq!(csv(&d), want);

    // Editing the sweep file (here the horizon) makes every run stale.
    let edited = base_with_horizon("60s");
    let fake = Fake::new();
    let r = run_sweep(&edited, &opts(&d, 2, None), |s, o| fake.run(s, o)).unwrap();
    assert_eq!((r.reused, r.ran), (0, 12));
    assert!(csv(&d).contains(",60000000000,"));
}

fn base_with_horizon(h: &str) -> Scenario {
    load_str(&SWEEP.replace("\"30s\"", &format!("\"{h}\"")), "fake.toml").unwrap()
}

#[test]
fn merged_shards_equal_the_unsharded_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    sweep(&whole, 2, None, &Fake::new());
    let mut shard_dirs: Vec<PathBuf> = Vec::new();
    let mut counted = 0;
    for k in 1..=3 {
        let dir = tmp.path().join(format!("shard-{k}"));
        let fake = Fake::new();
        let r = sweep(&dir, k as usize, Some(Shard { k, n: 3 }), &fake);
        assert_eq!(r.shard_points, 4);
        assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
        // Shard k holds exactly the points with index % 3 == k - 1.
        let mut ids: Vec<String> = std::fs::read_dir(dir.join("runs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        ids.sort();
        let text = csv(&dir);
        let mut listed: Vec<String> = Vec::new();
        for row in text.lines().skip(1) {
            let mut cells = row.split(',');
            let id = cells.next().unwrap().to_string();
            let index: u64 = cells.next().unwrap().parse().unwrap();
            assert_eq!(index % 3, k - 1, "{row}");
            listed.push(id);
        }
        listed.sort();
        assert_eq!(ids, listed);
        counted += ids.len();
        shard_dirs.push(dir);
    }
    assert_eq!(counted, 12);
    let merged = tmp.path().join("merged");
    let m = merge(
        &shard_dirs,
        &MergeOptions {
            out_dir: merged.clone(),
            jobs: 2,
            charts: Some(ChartChoice::default()),
            progress: false,
            remove_orphans: false,
        },
    )
    .unwrap();
    assert_eq!((m.total_points, m.copied, m.already_present), (12, 12, 0));
    assert_eq!(csv(&whole), csv(&merged));
    assert_eq!(
        read(whole.join("results.jsonl")),
        read(merged.join("results.jsonl"))
    );
    assert!(merged.join("charts/capacity.json").is_file());
    let man: serde_json::Value = serde_json::from_slice(&read(merged.join("sweep.json"))).unwrap();
    assert_eq!(man["shard"], serde_json::Value::Null);

    // Merging again (output already complete) copies nothing; overlapping inputs are fine.
    let mut again = shard_dirs.clone();
    again.push(whole.clone());
    let m = merge(
        &again,
        &MergeOptions {
            out_dir: merged.clone(),
            jobs: 1,
            charts: None,
            progress: false,
            remove_orphans: false,
        },
    )
    .unwrap();
    assert_eq!((m.copied, m.already_present), (0, 12));
    assert_eq!(csv(&whole), csv(&merged));
}

pub(crate) fn merge_opts(out: &Path) -> MergeOptions {
    MergeOptions {
        out_dir: out.to_path_buf(),
        jobs: 2,
        charts: None,
        progress: false,
        remove_orphans: false,
    }
}

#[test]
fn merge_rejects_conflicts_missing_runs_and_foreign_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    sweep(&a, 2, Some(Shard { k: 1, n: 2 }), &Fake::new());

    // Missing: shard 2 of 2 never ran.
    let err = merge(
        std::slice::from_ref(&a),
        &merge_opts(&tmp.path().join("m1")),
    )
    .unwrap_err();
    match err {
        SweepError::MissingRuns { count, first } => {
            assert_eq!(count, 6);
            assert_eq!(first[0], "loss=0.0-agents=4-seed=101");
        }
        e => panic!("{e}"),
    }

    // Conflict: the same points from a different "engine" (other digests).
    let b = tmp.path().join("b");
    let mut other = Fake::new();
    other.salt = 1;
    sweep(&b, 2, None, &other);
    let err = merge(&[a.clone(), b.clone()], &merge_opts(&tmp.path().join("m2"))).unwrap_err();
    assert!(matches!(err, SweepError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("conflicting runs"));

    // Foreign: a shard of an edited sweep file.
    let c = tmp.path().join("c");
    let fake = Fake::new();
    run_sweep(
        &base_with_horizon("60s"),
        &opts(&c, 2, Some(Shard { k: 2, n: 2 })),
        |s, o| fake.run(s, o),
    )
    .unwrap();
    let err = merge(&[a.clone(), c], &merge_opts(&tmp.path().join("m3"))).unwrap_err();
    assert!(matches!(err, SweepError::ShardMismatch { .. }), "{err}");

    // Not a sweep directory at all.
    let err = merge(
        &[tmp.path().to_path_buf()],
        &merge_opts(&tmp.path().join("m4")),
    )
    .unwrap_err();
    assert!(matches!(err, SweepError::NotASweepDir { .. }), "{err}");
}

#[test]
fn failures_are_reported_and_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    let fake = Fake::new();
    let r = run_sweep(&base(), &opts(&d, 2, None), |s, o| {
        if s.population.agents == 8 && s.scenario.seed == 100 {
            Err(RunError::Engine("boom".into()))
        } else {
            fake.run(s, o)
        }
    })
    .unwrap();
    assert_eq!((r.ran, r.failed), (10, 2));
    assert_eq!(r.failures.len(), 2);
    assert_eq!(r.failures[0].point_id, "loss=0.0-agents=8-seed=100");
    assert_eq!(r.failures[0].message, "engine error: boom");
    assert!(!r.complete() && !r.interrupted);
    assert!(!d.join("results.csv").exists());
    let r = sweep(&d, 2, None, &Fake::new());
    assert_eq!((r.reused, r.ran, r.failed), (10, 2, 0));
    assert!(r.complete());
}

#[test]
fn seeds_override_and_bad_options() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    let mut o = opts(&d, 2, None);
    o.seeds = Some(1);
    let fake = Fake::new();
    let r = run_sweep(&base(), &o, |s, o| fake.run(s, o)).unwrap();
    assert_eq!(r.total_points, 6);
    assert!(csv(&d)
        .lines()
        .nth(6)
        .unwrap()
        .starts_with("loss=0.1-agents=12-seed=100,"));

    o.seeds = Some(0);
    assert!(matches!(
        run_sweep(&base(), &o, |s, o| fake.run(s, o)),
        Err(SweepError::Usage(_))
    ));
    let mut o = opts(&d, 2, None);
    o.charts = Some(ChartChoice {
        x_axis: Some("population.agentz".into()),
        protocol: None,
    });
    let err = run_sweep(&base(), &o, |s, o| fake.run(s, o)).unwrap_err();
    assert!(err.to_string().contains("not an axis"), "{err}");

    // Tracing off: refused before anything runs.
    let no_trace = load_str(&format!("{SWEEP}\n[trace]\nenabled = false\n"), "nt.toml").unwrap();
    let calls = AtomicU64::new(0);
    let err = run_sweep(&no_trace, &opts(&tmp.path().join("nt"), 1, None), |s, o| {
        calls.fetch_add(1, Ordering::SeqCst);
        fake.run(s, o)
    })
    .unwrap_err();
    assert!(matches!(err, SweepError::TraceDisabled { .. }), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_scenario_without_sweep_is_one_point() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SWEEP.split("[sweep]").next().unwrap();
    let s = load_str(text, "one.toml").unwrap();
    let fake = Fake::new();
    let mut o = opts(tmp.path(), 0, None);
    o.charts = Some(ChartChoice::default());
    let r = run_sweep(&s, &o, |s, o| fake.run(s, o)).unwrap();
    assert_eq!((r.total_points, r.ran), (1, 1));
    let c = csv(tmp.path());
    assert!(c.lines().nth(1).unwrap().starts_with("seed=100,0,100,0,"));
    // No numeric axis: no charts, and the report says why.
    assert!(r.charts.unwrap().is_err());
}

pub(crate) fn drmsim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_help_documents_sweep_and_merge() {
    let out = drmsim(&["sweep", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--shard <K/N>",
        "index % N == K-1",
        "K counts from 1",
        "--jobs <N>",
        "--seeds <N>",
        "results.csv",
        "Resuming",
        "130",
        "Examples:",
        "drmsim sweep scenarios/capacity.toml --out runs/capacity",
    ] {
        assert!(help.contains(needle), "sweep --help lacks {needle:?}");
    }
    let out = drmsim(&["merge", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in ["conflict", "--out <DIR>", "Examples:", "drmsim merge "] {
        assert!(help.contains(needle), "merge --help lacks {needle:?}");
    }
}

#[test]
fn cli_usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("o");
    let out = out_dir.to_str().unwrap();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/capacity.toml");
    for shard in ["0/4", "5/4", "1/0", "x"] {
        let o = drmsim(&["sweep", file, "--out", out, "--shard", shard]);
        assert_eq!(o.status.code(), Some(2), "--shard {shard}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--shard"));
    }
    let o = drmsim(&["sweep", file, "--out", out, "--x-axis", "nope.nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not an axis"));
    let o = drmsim(&["sweep", file, "--out", out, "--seeds", "0"]);
    assert_eq!(o.status.code(), Some(2));
    // A directory that is no sweep output.
    let o = drmsim(&["merge", tmp.path().to_str().unwrap(), "--out", out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a sweep directory"));
    // An invalid scenario file: exit 1.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[scenario]\nname = \"x\"\n").unwrap();
    let o = drmsim(&["sweep", bad.to_str().unwrap(), "--out", out]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn bundled_capacity_sweep_has_48_points() {
    let s =
        scenarios::load_scenario(concat!(env!("CARGO_MANIFEST_DIR"), "/capacity.toml")).unwrap();
    let pts = scenarios::sweep::expand(&s).unwrap();
    assert_eq!(pts.len(), 48);
    // workers slowest, then loss, then agents, seed fastest.
    let p = &pts[47];
    assert_eq!(p.scenario.costs.ri.workers, 4);
    assert_eq!(p.scenario.network.loss.unwrap().get(), 0.02);
    assert_eq!(p.scenario.population.agents, 2000);
    assert_eq!(p.scenario.scenario.seed, 1001);
    assert!(p.scenario.trace.enabled);
}

/// A tiny real scenario: 2 populations x 2 losses x 2 seeds, 5 s of virtual time.
pub(crate) const TINY: &str = r#"
[scenario]
name = "tiny-sweep"
seed = 7
horizon = "5s"
crypto = "symbolic"

[trace]
timers = false

[network]
latency = { dist = "constant", value = "10ms" }
loss = 0.0

[population]
groups = ["home", "core"]
agents = 3
ris = 1
ocsp = 1
arrival = { process = "ramp", over = "1s" }

[population.placement]
agents = "home"
ris = "core"
ocsp = "core"

[workload]
registration_at_arrival = true
ro_acquire_rate_per_min = 30.0
request_timeout = "1s"
max_retries = 2
backoff = "100ms"

[sweep]
seeds = 2
"population.agents" = [3, 6]
"network.loss" = [0.0, 0.05]
"#;

#[test]
fn end_to_end_with_the_real_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let s = load_str(TINY, "tiny.toml").unwrap();
    let run = |dir: &Path, jobs: usize, shard: Option<Shard>| {
        let r = run_sweep(&s, &opts(dir, jobs, shard), scenarios::runner::run).unwrap();
        assert_eq!(r.failed, 0, "{:?}", r.failures);
        r
    };
    let one = tmp.path().join("one");
    let r = run(&one, 1, None);
    assert_eq!((r.total_points, r.ran), (8, 8));
    assert!(r.complete());
    let two = tmp.path().join("two");
    run(&two, 2, None);
    // Everything but the wall-clock provenance (started_at, finished_at, command_line: the
    // last three columns) is a function of the points alone.
    let timeless = |t: String| -> String {
        t.lines()
            .map(|l| l.rsplitn(4, ',').nth(3).unwrap_or("").to_string() + "\n")
            .collect()
    };
    assert_eq!(
        timeless(csv(&one)),
        timeless(csv(&two)),
        "thread count changed the results"
    );

    let text = csv(&one);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9);
    let header: Vec<&str> = lines[0].split(',').collect();
    assert!(header.contains(&"registration.completion_rate"));
    assert!(header.contains(&"ro_acquisition.p99_latency_ms"));
    // Point 2: loss 0.0, agents 6, seed 7. Every agent registers once, at arrival.
    let row: Vec<&str> = lines[3].split(',').collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("point_id"), "loss=0.0-agents=6-seed=7");
    assert_eq!(col("stop_reason"), "horizon");
    let end_ns: u64 = col("end_time_ns").parse().unwrap();
    assert!(end_ns >= 5_000_000_000, "end {end_ns}");
    assert_eq!(col("registration.started"), "6");
    // Registration is 4 passes plus the RI's OCSP round trip: 6 one-way 10 ms messages,
    // plus a few ms of (virtual) RSA and XML work, without loss no retries.
    let p50: f64 = col("registration.p50_latency_ms").parse().unwrap();
    assert!((60.0..100.0).contains(&p50), "p50 {p50}");

    // Each run reproduces with `drmsim run` on its concrete scenario.toml.
    let id = "loss=0.0-agents=6-seed=7";
    let summary: serde_json::Value =
        serde_json::from_slice(&read(one.join("runs").join(id).join("summary.json"))).unwrap();
    let repro = tmp.path().join("repro");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .current_dir(&one)
        .args([
            "run",
            &format!("runs/{id}/scenario.toml"),
            "--seed",
            "7",
            "--out",
        ])
        .arg(&repro)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let again: serde_json::Value =
        serde_json::from_slice(&read(repro.join("summary.json"))).unwrap();
    assert_eq!(again["trace_digest"], summary["trace_digest"]);

    // Interrupted (the flag is raised once the third run has finished, as Ctrl-C would)
    // and resumed: the same results.
    let resumed = tmp.path().join("resumed");
    let done = AtomicU64::new(0);
    let r = run_sweep(&s, &opts(&resumed, 2, None), |sc, o| {
        let r = scenarios::runner::run(sc, o);
        if done.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
            o.interrupt.store(true, Ordering::SeqCst);
        }
        r
    })
    .unwrap();
    assert!(r.interrupted && !r.complete());
    assert!(r.ran >= 2 && r.ran < 8, "ran {}", r.ran);
    let r = run(&resumed, 2, None);
    assert_eq!(r.reused + r.ran, 8);
    assert!(r.reused >= 2);
    assert_eq!(timeless(csv(&one)), timeless(csv(&resumed)));

    // Shards 1/2 and 2/2 merged equal the whole sweep; a rerun reuses everything.
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    run(&a, 1, Some(Shard { k: 1, n: 2 }));
    run(&b, 1, Some(Shard { k: 2, n: 2 }));
    let merged = tmp.path().join("merged");
    merge(&[a, b], &merge_opts(&merged)).unwrap();
    assert_eq!(timeless(csv(&one)), timeless(csv(&merged)));
    let r = run(&one, 2, None);
    assert_eq!((r.reused, r.ran), (8, 0));
    assert_eq!(csv(&one), text);
}
