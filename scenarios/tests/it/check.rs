//! `drmsim check`: the bundled attack suite meets its expectations; a wrong expectation is a
//! mismatch with a violation chain, a reproduce command and a smaller reproducer.

use scenarios::check::{check, collect_files, render, AttackOutcome, CheckOptions};
use std::path::PathBuf;

fn attacks_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("attacks")
}

fn opts(seeds: u64, out: &str) -> CheckOptions {
    CheckOptions {
        seeds,
        jobs: 2,
        shrink: true,
        shrink_budget: 30,
        out_dir: std::env::temp_dir().join(out),
    }
}

#[test]
fn every_bundled_attack_scenario_validates() {
    let files = collect_files(&[attacks_dir()]).unwrap();
    assert!(files.len() >= 4);
    for f in files {
        scenarios::load_scenario(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
}

#[test]
fn replay_blocked_with_tracking_and_succeeds_without() {
    let d = attacks_dir();
    let files = vec![d.join("replay-ro.toml"), d.join("replay-ro-pre.toml")];
    let r = check(&files, &opts(2, "drmsim-check-replay"));
    assert!(r.all_passed(), "{}", render(&r));
    let outcome = |i: usize| -> Vec<AttackOutcome> {
        r.scenarios[i]
            .seeds
            .iter()
            .map(|s| s.attacks["replayer"])
            .collect()
    };
    assert_eq!(outcome(0), vec![AttackOutcome::Blocked; 2]);
    assert_eq!(outcome(1), vec![AttackOutcome::Succeeded; 2]);
    assert_eq!(r.scenarios[0].expected["replayer"], "blocked");
    assert_eq!(r.scenarios[1].expected["replayer"], "succeeded");
}

#[test]
fn tamper_and_flood_are_blocked() {
    let d = attacks_dir();
    let files = vec![d.join("tamper-requests.toml"), d.join("flood-ri.toml")];
    let r = check(&files, &opts(1, "drmsim-check-tf"));
    assert!(r.all_passed(), "{}", render(&r));
    assert_eq!(
        r.scenarios[0].seeds[0].attacks["tamperer"],
        AttackOutcome::Blocked
    );
    assert_eq!(
        r.scenarios[1].seeds[0].attacks["flooder"],
        AttackOutcome::Blocked
    );
}

#[test]
fn wrong_expectation_is_a_mismatch_with_a_shrunk_reproducer() {
    let text = std::fs::read_to_string(attacks_dir().join("replay-ro-pre.toml"))
        .unwrap()
        .replace("succeed = [\"replayer\"]", "blocked = [\"replayer\"]")
        .replace(
            "invariants = [",
            "invariants = [\"no_request_accepted_twice\", ",
        );
    let dir = std::env::temp_dir().join("drmsim-check-mismatch");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, text).unwrap();
    let r = check(
        std::slice::from_ref(&file),
        &opts(1, "drmsim-check-mismatch/out"),
    );
    assert!(!r.all_passed());
    let s = &r.scenarios[0];
    let seed = &s.seeds[0];
    assert_eq!(seed.attacks["replayer"], AttackOutcome::Succeeded);
    let v = &seed.violations[0];
    assert_eq!(v.invariant, "no_request_accepted_twice");
    // request, answer, replayed request, second answer
    let types: Vec<&str> = v.messages.iter().map(|m| m.4.as_str()).collect();
    assert_eq!(
        types,
        [
            "roap:roRequest",
            "roap:roResponse",
            "roap:roRequest",
            "roap:roResponse"
        ]
    );
    let sh = s.shrunk.as_ref().expect("shrunk");
    assert_eq!(
        sh.agents, 1,
        "one agent suffices to show an accepted replay"
    );
    assert!(sh.horizon_ns < 120_000_000_000);
    // The reproducer still fails the same way.
    let again = scenarios::load_scenario(&sh.file).unwrap();
    let rr = scenarios::check::run_seed(&again, seed.seed);
    assert!(!rr.passed());
    assert_eq!(rr.attacks["replayer"], AttackOutcome::Succeeded);
    let out = render(&r);
    assert!(out.contains("MISMATCH"));
    assert!(out.contains(&format!("drmsim run {} --seed 1", file.display())));
}
