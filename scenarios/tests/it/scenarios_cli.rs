//! The runner shell (output directory, trace file, summary.json, expectations) and the
//! `drmsim` binary's exit codes and help.

use scenarios::load_scenario;
use scenarios::model::Scenario;
use scenarios::runner::{
    self, check_expectations, reproduce_command, summarize, write_summary, AttackStats,
    EngineOutcome, ProtocolStats, RunError, RunOptions, RunSummary, StopReason,
};
use std::collections::BTreeMap;
use std::process::Command;

fn quickstart() -> Scenario {
    load_scenario(concat!(env!("CARGO_MANIFEST_DIR"), "/quickstart.toml")).unwrap()
}

fn outcome(reg: (u64, u64), acq: (u64, u64)) -> EngineOutcome {
    let mut protocols = BTreeMap::new();
    protocols.insert(
        "registration".to_string(),
        ProtocolStats {
            started: reg.0,
            completed: reg.1,
            failed: reg.0 - reg.1,
            latency: None,
        },
    );
    protocols.insert(
        "ro_acquisition".to_string(),
        ProtocolStats {
            started: acq.0,
            completed: acq.1,
            failed: acq.0 - acq.1,
            latency: None,
        },
    );
    EngineOutcome {
        end_time_ns: 30_000_000_000,
        events: 12_345,
        stop_reason: StopReason::Horizon,
        trace_records: 10_000,
        trace_digest: Some("ab".repeat(32)),
        protocols,
        invariants_checked: vec![],
        invariant_violations: BTreeMap::new(),
        attacks: BTreeMap::new(),
    }
}

#[test]
fn run_prepares_the_output_and_closes_the_trace_on_engine_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let s = quickstart();
    let opts = RunOptions {
        seed: Some(9),
        out_dir: Some(out.clone()),
        ..Default::default()
    };
    match runner::run(&s, &opts) {
        // Until the engine is wired the runner reports it and leaves a closed, empty trace.
        Err(RunError::EngineNotWired) => {
            assert_eq!(
                std::fs::read_to_string(out.join("trace.jsonl")).unwrap(),
                ""
            );
            assert!(!out.join("summary.json").exists());
        }
        Ok(summary) => {
            assert_eq!(summary.seed, 9);
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                    .unwrap();
            assert_eq!(json["interrupted"], serde_json::Value::Bool(false));
        }
        Err(e) => panic!("{e}"),
    }
    assert_eq!(
        std::fs::read_to_string(out.join("scenario.toml")).unwrap(),
        &*s.source.text
    );
}

#[test]
fn summary_json_and_expectations() {
    let s = quickstart();
    let dir = tempfile::tempdir().unwrap();
    // registration 48/50 = 0.96 >= 0.95 passes; ro_acquisition 80/100 = 0.8 < 0.9 fails.
    let o = outcome((50, 48), (100, 80));
    let sum = summarize(&s, "scenarios/quickstart.toml", dir.path(), &o, false);
    assert!(!sum.interrupted);
    assert!(!sum.expectations_met);
    let by_name: BTreeMap<&str, bool> = sum
        .expectations
        .iter()
        .map(|e| (e.what.as_str(), e.passed))
        .collect();
    assert_eq!(by_name.get("min_completion.registration"), Some(&true));
    assert_eq!(by_name.get("min_completion.ro_acquisition"), Some(&false));
    assert_eq!(
        sum.reproduce,
        "drmsim run scenarios/quickstart.toml --seed 1"
    );
    write_summary(dir.path(), &sum).unwrap();
    let text = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
    assert!(text.contains("\"interrupted\": false"));
    assert!(text.ends_with("}\n"));
    let back: RunSummary = serde_json::from_str(&text).unwrap();
    assert_eq!(back.events, 12_345);
    assert_eq!(back.trace_digest, Some("ab".repeat(32)));
    assert_eq!(back.stop_reason, StopReason::Horizon);

    let mut o2 = o.clone();
    o2.stop_reason = StopReason::Interrupted;
    assert!(summarize(&s, "q.toml", dir.path(), &o2, false).interrupted);
    assert!(summarize(&s, "q.toml", dir.path(), &o, true).interrupted);

    let table = runner::render_summary(&sum);
    assert!(table.contains(&"ab".repeat(32)));
    assert!(table.contains("reproduce  drmsim run scenarios/quickstart.toml --seed 1"));
    assert!(table.contains("[FAIL] min_completion.ro_acquisition: 80/100 = 0.8000 (min 0.9)"));
}

#[test]
fn vacuous_expectations_fail() {
    let s = load_scenario(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/metering-spoof.toml"
    ))
    .unwrap();
    let mut o = outcome((20, 20), (10, 10));
    o.protocols.insert(
        "metering_report".into(),
        ProtocolStats {
            started: 10,
            completed: 10,
            failed: 0,
            latency: None,
        },
    );
    // The spoofer never acted: "blocked" is not demonstrated.
    let r = check_expectations(&s, &o);
    assert!(r.iter().any(|e| e.what == "blocked.spoofer" && !e.passed));
    o.attacks.insert(
        "spoofer".into(),
        AttackStats {
            attempts: 5,
            succeeded: 0,
            blocked: 5,
        },
    );
    assert!(check_expectations(&s, &o).iter().all(|e| e.passed));
    o.attacks.insert(
        "spoofer".into(),
        AttackStats {
            attempts: 5,
            succeeded: 1,
            blocked: 4,
        },
    );
    assert!(check_expectations(&s, &o)
        .iter()
        .any(|e| e.what == "blocked.spoofer" && !e.passed));
}

#[test]
fn reproduce_command_quotes_paths() {
    assert_eq!(
        reproduce_command("a b.toml", 3, false),
        "drmsim run 'a b.toml' --seed 3"
    );
    assert_eq!(
        reproduce_command("x.toml", 3, true),
        "drmsim run x.toml --seed 3 --capture-pdus"
    );
    assert_eq!(
        reproduce_command("it's.toml", 0, false),
        r"drmsim run 'it'\''s.toml' --seed 0"
    );
}

fn drmsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_exit_codes() {
    let qs = concat!(env!("CARGO_MANIFEST_DIR"), "/quickstart.toml");
    let (code, out, _) = drmsim(&["validate", qs]);
    assert_eq!(code, 0);
    assert!(
        out.contains("actors     52 total: 1 ri @ core, 1 ocsp @ core, 50 agent @ home"),
        "{out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[scenario]\nname = \"t\"\nseed = 1\nhorizn = \"30s\"\n",
    )
    .unwrap();
    let (code, _, err) = drmsim(&["validate", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "error: {}:4:1: unknown field `horizn` in [scenario]; did you mean `horizon`?\n",
            bad.display()
        )
    );
    let (code, _, _) = drmsim(&["validate", "/nonexistent/none.toml"]);
    assert_eq!(code, 2);
    let (code, _, _) = drmsim(&["validate"]);
    assert_eq!(code, 2);
    let (code, _, _) = drmsim(&["run", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
}

#[test]
fn validate_lists_sweep_points() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/domain-key-mac.toml");
    let (code, out, _) = drmsim(&["validate", "--points", f]);
    assert_eq!(code, 0);
    assert!(out.contains("sweep      4 point(s)"), "{out}");
    assert!(out.contains(
        "  point      3  variants.domain_key_mac=\"substring\",variants.domain_key_qualified=false,seed=2\n"
    ));
}

#[test]
fn every_subcommand_has_long_help_with_examples() {
    for sub in [&["--help"][..], &["validate", "--help"], &["run", "--help"]] {
        let (code, out, _) = drmsim(sub);
        assert_eq!(code, 0);
        assert!(out.contains("Examples:"), "{sub:?}: {out}");
    }
    let (_, out, _) = drmsim(&["run", "--help"]);
    for flag in [
        "--seed <N>",
        "--out <DIR>",
        "--capture-pdus",
        "Exit status:",
        "130",
        "interrupted",
    ] {
        assert!(out.contains(flag), "{flag}");
    }
    let (_, out, _) = drmsim(&["validate", "--help"]);
    assert!(out.contains("Exit status:"));
}
