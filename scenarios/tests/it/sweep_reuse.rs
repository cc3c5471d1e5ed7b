//! Growing and shrinking a sweep: adding seeds or axis values reuses every completed run
//! (a run is identified by its concrete scenario, seed and drmsim version, not by its
//! position in the sweep); points no longer in the sweep are listed as orphans and
//! removed only on request; the same holds for shards and their merge.

use crate::sweep_run::{base, csv, merge_opts, opts, read, Fake, SWEEP};
use scenarios::load_str;
use scenarios::model::Scenario;
use scenarios::sweep_run::{merge, run_sweep, Shard, SweepReport};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::SystemTime;

/// `SWEEP` with another `population.agents` axis.
fn with_agents(values: &str) -> Scenario {
    let text = SWEEP.replace("[4, 8, 12]", values);
    assert_ne!(text, SWEEP);
    load_str(&text, "fake.toml").unwrap()
}

fn sweep_with(
    sc: &Scenario,
    dir: &Path,
    seeds: Option<u64>,
    shard: Option<Shard>,
    reuse_from: &[PathBuf],
    remove_orphans: bool,
    fake: &Fake,
) -> SweepReport {
    let mut o = opts(dir, 2, shard);
    o.seeds = seeds;
    o.reuse_from = reuse_from.to_vec();
    o.remove_orphans = remove_orphans;
    run_sweep(sc, &o, |s, o| fake.run(s, o)).unwrap()
}

/// Modification time of every run's trace, by run directory name.
fn trace_mtimes(dir: &Path) -> BTreeMap<String, SystemTime> {
    std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let t = std::fs::metadata(e.path().join("trace.jsonl"))
                .unwrap()
                .modified()
                .unwrap();
            (e.file_name().into_string().unwrap(), t)
        })
        .collect()
}

fn run_names(dir: &Path) -> Vec<String> {
    trace_mtimes(dir).into_keys().collect()
}

#[test]
fn adding_a_seed_runs_only_the_new_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    let first = Fake::new();
    let r = sweep_with(&base(), &d, Some(1), None, &[], false, &first);
    assert_eq!((r.total_points, r.ran, r.reused), (6, 6, 0));
    let before = trace_mtimes(&d);
    assert_eq!(before.len(), 6);
    // Coarse file systems keep mtimes in whole seconds or worse; make a rewrite visible.
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let second = Fake::new();
    let r = sweep_with(&base(), &d, Some(2), None, &[], false, &second);
    assert_eq!((r.total_points, r.ran, r.reused, r.imported), (12, 6, 6, 0));
    assert_eq!(second.calls.load(Ordering::SeqCst), 6, "only seed 101 runs");
    assert_eq!(r.orphan_count, 0);
    let after = trace_mtimes(&d);
    assert_eq!(after.len(), 12);
    for (name, t) in &before {
        assert_eq!(after[name], *t, "{name} was rewritten");
        assert!(name.ends_with("-seed=100"), "{name}");
    }
    // The grown sweep's results are those of a sweep run with 2 seeds from scratch.
    let fresh = tmp.path().join("fresh");
    sweep_with(&base(), &fresh, Some(2), None, &[], false, &Fake::new());
    assert_eq!(csv(&d), csv(&fresh));

    // Back to 1 seed: nothing runs; seed 101's runs are orphans, listed and kept.
    let third = Fake::new();
    let r = sweep_with(&base(), &d, Some(1), None, &[], false, &third);
    assert_eq!((r.ran, r.reused), (0, 6));
    assert_eq!(third.calls.load(Ordering::SeqCst), 0);
    assert_eq!(r.orphan_count, 6);
    assert!(
        r.orphans.iter().all(|n| n.ends_with("-seed=101")),
        "{:?}",
        r.orphans
    );
    assert!(!r.orphans_removed);
    assert_eq!(run_names(&d).len(), 12);
}

#[test]
fn adding_axis_values_reuses_and_removing_them_leaves_orphans() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    let r = sweep_with(
        &with_agents("[4, 12]"),
        &d,
        None,
        None,
        &[],
        false,
        &Fake::new(),
    );
    assert_eq!((r.total_points, r.ran), (8, 8));

    // A value added in the middle of the axis shifts every later point's index; only the
    // four runs of agents = 8 are new.
    let fake = Fake::new();
    let r = sweep_with(&base(), &d, None, None, &[], false, &fake);
    assert_eq!((r.total_points, r.ran, r.reused), (12, 4, 8));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
    let whole = tmp.path().join("whole");
    sweep_with(&base(), &whole, None, None, &[], false, &Fake::new());
    assert_eq!(csv(&d), csv(&whole));

    // Fewer values: the runs of agents = 4 and 8 belong to no point any more.
    let fake = Fake::new();
    let r = sweep_with(&with_agents("[12]"), &d, None, None, &[], false, &fake);
    assert_eq!((r.total_points, r.ran, r.reused), (4, 0, 4));
    assert_eq!(r.orphan_count, 8);
    let mut want: Vec<String> = Vec::new();
    for loss in ["0.0", "0.1"] {
        for agents in [4, 8] {
            for seed in [100, 101] {
                want.push(format!("loss={loss}-agents={agents}-seed={seed}"));
            }
        }
    }
    want.sort();
    assert_eq!(r.orphans, want);
    assert_eq!(run_names(&d).len(), 12, "orphans are kept without the flag");
    assert_eq!(
        csv(&d).lines().count(),
        5,
        "results hold the sweep's 4 points only"
    );

    // With the flag they are removed, and the sweep's own runs stay.
    let r = sweep_with(
        &with_agents("[12]"),
        &d,
        None,
        None,
        &[],
        true,
        &Fake::new(),
    );
    assert_eq!((r.ran, r.reused, r.orphan_count), (0, 4, 8));
    assert!(r.orphans_removed);
    let left = run_names(&d);
    assert_eq!(left.len(), 4);
    assert!(left.iter().all(|n| n.contains("-agents=12-")), "{left:?}");
    let r = sweep_with(
        &with_agents("[12]"),
        &d,
        None,
        None,
        &[],
        false,
        &Fake::new(),
    );
    assert_eq!((r.ran, r.orphan_count), (0, 0));
}

#[test]
fn runs_are_identified_by_content_and_version_not_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    sweep_with(&base(), &d, None, None, &[], false, &Fake::new());
    let want = csv(&d);
    let runs = d.join("runs");
    // A run directory under another name (e.g. the index-based ids of drmsim before
    // 0.1's stable ids) holding exactly a point's scenario is adopted, not rerun.
    std::fs::rename(
        runs.join("loss=0.1-agents=8-seed=100"),
        runs.join("p0006-loss=0.1-agents=8-seed=100"),
    )
    .unwrap();
    // A run recorded by another drmsim version is not this version's run.
    let summary = runs.join("loss=0.0-agents=4-seed=101/summary.json");
    let text = String::from_utf8(read(&summary)).unwrap();
    let version = format!("\"drmsim_version\": \"{}\"", scenarios::provenance::VERSION);
    assert!(text.contains(&version), "{text}");
    std::fs::write(
        &summary,
        text.replace(&version, "\"drmsim_version\": \"0.0.0-elsewhere\""),
    )
    .unwrap();
    // A stray directory that is no run at all is an orphan.
    std::fs::create_dir_all(runs.join("notes")).unwrap();

    let fake = Fake::new();
    let r = sweep_with(&base(), &d, None, None, &[], false, &fake);
    assert_eq!((r.ran, r.reused, r.imported), (1, 10, 1));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    assert_eq!(r.orphans, vec!["notes".to_string()]);
    assert!(runs
        .join("loss=0.1-agents=8-seed=100/trace.jsonl")
        .is_file());
    assert!(!runs.join("p0006-loss=0.1-agents=8-seed=100").exists());
    assert_eq!(csv(&d), want);
}

#[test]
fn shards_reuse_a_previous_merge_when_seeds_are_added() {
    let tmp = tempfile::tempdir().unwrap();
    let shard_dir = |k: u64| tmp.path().join(format!("shard-{k}"));
    let merged = tmp.path().join("merged");
    // 1 seed in 2 shards, merged (as scenarios/slurm/sweep.sbatch does).
    for k in 1..=2 {
        let s = Some(Shard { k, n: 2 });
        let r = sweep_with(&base(), &shard_dir(k), Some(1), s, &[], false, &Fake::new());
        assert_eq!(r.ran, 3);
    }
    merge(&[shard_dir(1), shard_dir(2)], &merge_opts(&merged)).unwrap();

    // 2 seeds: shard membership moves (indices change), so a shard finds some of its
    // points only in the merge or in the other shard; none of the 6 old runs reruns.
    let (mut ran, mut imported, mut calls) = (0, 0, 0);
    for k in 1..=2 {
        let others = vec![merged.clone(), shard_dir(3 - k)];
        let fake = Fake::new();
        let s = Some(Shard { k, n: 2 });
        let r = sweep_with(&base(), &shard_dir(k), Some(2), s, &others, false, &fake);
        assert!(r.complete());
        ran += r.ran;
        imported += r.imported;
        calls += fake.calls.load(Ordering::SeqCst);
    }
    assert_eq!((ran, calls), (6, 6), "only the new seed's runs execute");
    assert!(imported > 0, "some old runs moved shards");
    let m = merge(&[shard_dir(1), shard_dir(2)], &merge_opts(&merged)).unwrap();
    assert_eq!((m.total_points, m.already_present, m.copied), (12, 6, 6));
    assert_eq!(m.orphan_count, 0);
    let whole = tmp.path().join("whole");
    sweep_with(&base(), &whole, Some(2), None, &[], false, &Fake::new());
    assert_eq!(csv(&whole), csv(&merged));

    // Back to 1 seed: the merge lists seed 101's runs as orphans and removes them on request.
    for k in 1..=2 {
        let s = Some(Shard { k, n: 2 });
        sweep_with(&base(), &shard_dir(k), Some(1), s, &[], false, &Fake::new());
    }
    let m = merge(&[shard_dir(1), shard_dir(2)], &merge_opts(&merged)).unwrap();
    assert_eq!((m.orphan_count, m.orphans_removed), (6, false));
    let mut o = merge_opts(&merged);
    o.remove_orphans = true;
    let m = merge(&[shard_dir(1), shard_dir(2)], &o).unwrap();
    assert_eq!((m.orphan_count, m.orphans_removed), (6, true));
    assert_eq!(run_names(&merged).len(), 6);
}

#[test]
fn equal_axis_values_are_refused() {
    let err = load_str(&SWEEP.replace("[4, 8, 12]", "[4, 8, 4]"), "dup.toml").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("population.agents") && msg.contains("appears twice"),
        "{msg}"
    );
    assert!(msg.contains("dup.toml:"), "{msg}");
}

#[test]
fn cli_reports_reuse_and_orphans() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("tiny.toml");
    std::fs::write(&file, crate::sweep_run::TINY).unwrap();
    let out = tmp.path().join("out");
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(&["--no-charts", "--no-progress", "--jobs", "1"]);
        args.extend_from_slice(extra);
        let o = crate::sweep_run::drmsim(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let s = sweep(&["--seeds", "1"]);
    assert!(s.contains("runs       4 run, 0 reused, 0 failed"), "{s}");
    let s = sweep(&["--seeds", "2"]);
    assert!(s.contains("runs       4 run, 4 reused, 0 failed"), "{s}");
    assert!(!s.contains("orphans"), "{s}");
    let s = sweep(&["--seeds", "1"]);
    assert!(s.contains("runs       0 run, 4 reused, 0 failed"), "{s}");
    assert!(s.contains("orphans    4 run directories"), "{s}");
    assert!(s.contains("loss=0.0-agents=3-seed=8"), "{s}");
    assert!(s.contains("remove them with --remove-orphans"), "{s}");
    assert_eq!(std::fs::read_dir(out.join("runs")).unwrap().count(), 8);
    let s = sweep(&["--seeds", "1", "--remove-orphans"]);
    assert!(s.contains("(removed)"), "{s}");
    assert_eq!(std::fs::read_dir(out.join("runs")).unwrap().count(), 4);
}
