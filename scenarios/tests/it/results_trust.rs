//! Results that cannot mislead: `[expect]` protocol names, interrupted runs, stale output
//! directories, damaged traces, and the tidy results read by pandas.

use scenarios::model::PROTOCOLS;
use scenarios::runner::summarize;
use scenarios::{load_scenario, load_str};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn drmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A scenario with `[expect] min_completion = { <body> }`.
fn with_min_completion(body: &str) -> String {
    format!(
        "[scenario]\nname = \"m\"\nseed = 0\nhorizon = \"1s\"\n[population]\ngroups = [\"g\"]\n\
         [expect]\nmin_completion = {{ {body} }}\n"
    )
}

#[test]
fn min_completion_accepts_exactly_the_outcome_table_names() {
    for p in PROTOCOLS {
        let s = with_min_completion(&format!("{p} = 0.5"));
        assert!(load_str(&s, "m.toml").is_ok(), "{p} refused");
    }
    for (bad, hint) in [
        ("move", Some("move_device_ro")),
        ("registraton", Some("registration")),
        ("user_domain_join", None),
    ] {
        let e = load_str(&with_min_completion(&format!("{bad} = 0.5")), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("unknown protocol \"{bad}\"")), "{e}");
        assert!(e.contains("move_device_ro, move_user_domain_ro"), "{e}");
        if let Some(h) = hint {
            assert!(e.contains(&format!("did you mean `{h}`?")), "{e}");
        }
    }
}

#[test]
fn the_outcome_table_only_prints_names_min_completion_accepts() {
    // Every protocol a real run reports is a valid min_completion key.
    let dir = tempfile::tempdir().unwrap();
    for (file, out) in [("quickstart.toml", "q"), ("move.toml", "m")] {
        let out_dir = dir.path().join(out);
        let o = drmsim(&[
            "run",
            bundled(file).to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--no-progress",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
        let names: Vec<&String> = summary["protocols"].as_object().unwrap().keys().collect();
        assert!(!names.is_empty());
        for n in names {
            assert!(PROTOCOLS.contains(&n.as_str()), "{file}: {n}");
        }
    }
}

#[test]
fn an_interrupted_summary_evaluates_no_expectation() {
    let s = load_scenario(bundled("quickstart.toml")).unwrap();
    let o = scenarios::runner::EngineOutcome {
        end_time_ns: 7_000_000_000,
        events: 10,
        stop_reason: scenarios::runner::StopReason::Interrupted,
        trace_records: 5,
        trace_digest: Some("00".repeat(32)),
        // Counts that would pass every min_completion if they were evaluated.
        protocols: [("registration", 1u64), ("ro_acquisition", 1)]
            .into_iter()
            .map(|(p, n)| {
                (
                    p.to_string(),
                    scenarios::runner::ProtocolStats {
                        started: n,
                        completed: n,
                        failed: 0,
                        latency: None,
                    },
                )
            })
            .collect(),
        invariants_checked: vec![],
        invariant_violations: Default::default(),
        attacks: Default::default(),
    };
    let sum = summarize(&s, "q.toml", Path::new("."), &o, false);
    assert!(sum.interrupted && !sum.expectations_evaluated && !sum.expectations_met);
    assert_eq!(sum.expectations.len(), 2);
    for e in &sum.expectations {
        assert!(!e.evaluated && !e.passed, "{e:?}");
    }
    let table = scenarios::runner::render_summary(&sum);
    assert!(
        table
            .contains("[not evaluated] min_completion.registration: the run was interrupted at 7s"),
        "{table}"
    );
    assert!(!table.contains("[pass]"));
}

/// A scenario that runs far longer than the test waits: killed mid-run.
fn endless(dir: &Path) -> PathBuf {
    let q = std::fs::read_to_string(bundled("quickstart.toml")).unwrap();
    let q = q.replace("horizon = \"30s\"", "horizon = \"100000h\"");
    let p = dir.join("endless.toml");
    std::fs::write(&p, q).unwrap();
    p
}

#[test]
fn sigterm_and_sigint_stop_a_run_with_a_valid_trace_and_no_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let file = endless(dir.path());
    for signal in ["-TERM", "-INT"] {
        let out = dir.path().join(format!("run{signal}"));
        let child = Command::new(env!("CARGO_BIN_EXE_drmsim"))
            .args(["run", file.to_str().unwrap(), "--no-progress", "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the run is under way (its trace has grown), then signal it.
        let trace = out.join("trace.jsonl");
        let started = std::time::Instant::now();
        while std::fs::metadata(&trace).map(|m| m.len()).unwrap_or(0) < 4 << 20 {
            assert!(started.elapsed().as_secs() < 120, "the run never got going");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let killed = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{signal}: {}", text(&o.stderr));
        let stdout = text(&o.stdout);
        assert!(
            stdout.contains("(INTERRUPTED: partial results)"),
            "{stdout}"
        );
        assert!(stdout.contains("[not evaluated] min_completion.registration"));
        assert!(!stdout.contains("[pass]") && !stdout.contains("[FAIL]"));
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["interrupted"], true);
        assert_eq!(summary["expectations_evaluated"], false);
        assert_eq!(summary["expectations_met"], false);
        // The trace is closed with its run_end and matches the digest: report accepts it.
        let t = std::fs::read_to_string(&trace).unwrap();
        let last = t.lines().last().unwrap();
        assert!(
            last.contains("\"ev\":\"run_end\",\"reason\":\"interrupted\""),
            "{last}"
        );
        let r = drmsim(&["report", out.to_str().unwrap()]);
        assert!(r.status.success(), "{}", text(&r.stderr));
    }
}

#[test]
fn a_non_empty_out_is_refused_and_force_removes_the_previous_runs_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let q = bundled("quickstart.toml");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", q.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        drmsim(&args)
    };
    assert!(run(&["--seed", "1"]).status.success());
    assert!(drmsim(&["report", out.to_str().unwrap()]).status.success());
    assert!(
        drmsim(&["export", "msc", out.to_str().unwrap(), "--actor", "agent/3"])
            .status
            .success()
    );
    assert!(drmsim(&["export", "chrome", out.to_str().unwrap()])
        .status
        .success());
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let before = std::fs::read(out.join("summary.json")).unwrap();
    for f in [
        "metrics.json",
        "report.html",
        "timeseries.csv",
        "trace.chrome.json",
        "msc-5.svg",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }

    // Without --force: refused, nothing touched.
    let o = run(&["--seed", "2"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("the output directory is not empty") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);

    // With --force: the seed-1 report, charts and exports are gone; the user's file stays.
    let o = run(&["--seed", "2", "--force"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in [
        "metrics.json",
        "report.html",
        "timeseries.csv",
        "charts",
        "trace.chrome.json",
        "msc-5.svg",
        "msc-5.mmd",
    ] {
        assert!(!out.join(f).exists(), "{f} survived");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 2);
    // Provenance: version, commit, scenario hash, command line, times, CPUs.
    let p = &summary["provenance"];
    assert_eq!(p["drmsim_version"], env!("CARGO_PKG_VERSION"));
    assert!(!p["git_commit"].as_str().unwrap().is_empty());
    assert_eq!(
        p["scenario_sha256"].as_str().unwrap(),
        scenarios::provenance::sha256_hex(&std::fs::read(&q).unwrap())
    );
    assert!(p["command_line"]
        .as_str()
        .unwrap()
        .ends_with("--seed 2 --force"));
    assert!(p["started_at"].as_str().unwrap() <= p["finished_at"].as_str().unwrap());
    assert!(p["cpu_count"].as_u64().unwrap() >= 1);
}

#[test]
fn report_and_export_refuse_a_damaged_truncated_or_reordered_trace() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let o = drmsim(&[
        "run",
        bundled("quickstart.toml").to_str().unwrap(),
        "--out",
        good.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let trace = std::fs::read_to_string(good.join("trace.jsonl")).unwrap();
    let lines: Vec<&str> = trace.lines().collect();
    let join = |v: &[&str]| v.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut swapped = lines.clone();
    swapped.swap(10, 11);
    let cases = [
        (
            "truncated",
            join(&lines[..lines.len() - 1]),
            "truncated or lines removed",
        ),
        (
            "cut-mid-line",
            trace[..trace.len() - 7].to_string(),
            "truncated",
        ),
        ("reordered", join(&swapped), "damaged or reordered"),
        (
            "altered",
            trace.replacen("\"agent/3\"", "\"agent/9\"", 1),
            "damaged or reordered",
        ),
        ("appended", format!("{trace}{}\n", lines[5]), "appended to"),
    ];
    for (name, bytes, what) in cases {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(good.join("summary.json"), d.join("summary.json")).unwrap();
        std::fs::write(d.join("trace.jsonl"), bytes).unwrap();
        let ds = d.to_str().unwrap();
        let r = drmsim(&["report", ds]);
        assert_eq!(r.status.code(), Some(3), "{name}");
        let err = text(&r.stderr);
        assert!(
            err.contains("does not match summary.json") && err.contains(what),
            "{name}: {err}"
        );
        assert!(
            !d.join("metrics.json").exists(),
            "{name}: report written anyway"
        );
        for export in [
            vec!["export", "chrome", ds],
            vec!["export", "msc", ds, "--actor", "1"],
        ] {
            assert_eq!(drmsim(&export).status.code(), Some(3), "{name}: {export:?}");
        }
        // With the flag: a warning, and the report is written.
        let r = drmsim(&["report", ds, "--allow-unverified"]);
        assert!(r.status.success(), "{name}: {}", text(&r.stderr));
        assert!(text(&r.stderr).contains("warning:"));
    }
    // No summary.json: nothing to verify against.
    let bare = dir.path().join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    std::fs::copy(good.join("trace.jsonl"), bare.join("trace.jsonl")).unwrap();
    assert_eq!(
        drmsim(&["report", bare.to_str().unwrap()]).status.code(),
        Some(3)
    );
    // The intact run is accepted.
    let r = drmsim(&["report", good.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(good.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(
        metrics["provenance"]["scenario_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let reg = &metrics["protocols"]["registration"];
    assert_eq!(reg["latency_with_failures"]["outcomes"], reg["outcomes"]);
    assert!(
        metrics["servers"]["by_class"]["ri"]["utilisation"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let ts = std::fs::read_to_string(good.join("timeseries.csv")).unwrap();
    assert!(
        ts.starts_with("t_start_s,bucket_s,completions_per_s,failures_per_s,"),
        "{ts}"
    );
    assert!(ts.lines().next().unwrap().contains("ri.utilisation"));
}

#[test]
fn oversized_and_endless_inputs_fail_fast() {
    let o = drmsim(&["validate", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("larger than"),
        "{}",
        text(&o.stderr)
    );
    let o = drmsim(&["xml", "c14n", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("larger than"));
}

#[test]
fn every_subcommand_help_lists_exit_codes_and_an_example() {
    for cmd in [
        vec![],
        vec!["validate"],
        vec!["run"],
        vec!["check"],
        vec!["sweep"],
        vec!["merge"],
        vec!["report"],
        vec!["export", "chrome"],
        vec!["export", "msc"],
        vec!["export", "jsonl"],
        vec!["export"],
        vec!["xml", "c14n"],
        vec!["xml"],
        vec!["bench", "engine"],
        vec!["bench"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let o = drmsim(&args);
        assert!(o.status.success(), "{cmd:?}");
        let h = text(&o.stdout);
        assert!(
            h.contains("Exit status:") || h.contains("Exit status ("),
            "{cmd:?} lists no exit codes"
        );
        assert!(h.contains("Examples:"), "{cmd:?} has no example");
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    // 48 × 2,500 points: far more output than a pipe buffer holds.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let cap = std::fs::read_to_string(bundled("capacity.toml")).unwrap();
    std::fs::write(&big, cap.replace("seeds = 2", "seeds = 2500")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .args(["validate", "--points"])
        .arg(&big)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then close our end of the pipe (`| head -c 1`).
    let mut out = child.stdout.take().unwrap();
    let mut b = [0u8; 1];
    out.read_exact(&mut b).unwrap();
    drop(out);
    let o = child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(141), "{err}");

    // `drmsim export jsonl RUN -o - | head -c 1` of a compact trace: the same quiet exit.
    let run = dir.path().join("gz");
    let gz = dir.path().join("gz.toml");
    let q = std::fs::read_to_string(bundled("quickstart.toml")).unwrap();
    std::fs::write(&gz, q.replace("[trace]\n", "[trace]\nformat = \"gzip\"\n")).unwrap();
    let r = drmsim(&[
        "run",
        gz.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert!(run.join("trace.jsonl.gz").exists());
    let mut child = Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .args(["export", "jsonl", run.to_str().unwrap(), "-o", "-"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    out.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"{");
    drop(out);
    let o = child.wait_with_output().unwrap();
    assert_eq!(text(&o.stderr), "");
    assert_eq!(o.status.code(), Some(141));
}

/// The lines of docs/sweeps.md that start with `prefix` (the documented one-liners).
fn documented(prefix: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/sweeps.md"))
            .unwrap();
    doc.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("docs/sweeps.md has no line starting with {prefix}"))
        .to_string()
}

/// Whether `python3 -c "import MODULE"` works; in CI (`CI` set) it must.
fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide python3 with {module} (.ci/run installs it)"
        );
        eprintln!("skipped: python3 cannot import {module}");
    }
    ok
}

#[test]
fn the_documented_pandas_and_duckdb_reads_of_a_sweep_work() {
    // A small real sweep at runs/cap inside a temporary directory, then the one-liners of
    // docs/sweeps.md exactly as written, run from that directory.
    let dir = tempfile::tempdir().unwrap();
    let q = std::fs::read_to_string(bundled("quickstart.toml")).unwrap();
    let sweep = dir.path().join("small.toml");
    std::fs::write(
        &sweep,
        format!("{q}\n[sweep]\nseeds = 2\n\"population.agents\" = [10, 20]\n"),
    )
    .unwrap();
    let out = dir.path().join("runs/cap");
    let o = drmsim(&[
        "sweep",
        sweep.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-charts",
        "--no-progress",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let long = std::fs::read_to_string(out.join("results_long.csv")).unwrap();
    assert!(long.contains(",protocol,registration,p99_latency_ms,"));
    for (module, prefix) in [
        ("pandas", "python3 -c 'import pandas"),
        ("duckdb", "python3 -c 'import duckdb"),
    ] {
        if !python_has(module) {
            continue;
        }
        let line = documented(prefix);
        let o = Command::new("sh")
            .args(["-c", &line])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{line}\n{}", text(&o.stderr));
        let shown = text(&o.stdout);
        // Both group p99 latency by protocol and population: 10 and 20 agents appear.
        assert!(
            shown.contains("registration") && shown.contains("ro_acquisition"),
            "{shown}"
        );
        assert!(shown.contains("10") && shown.contains("20"), "{shown}");
    }
}

#[test]
fn the_readme_c14n_example_works_on_the_bundled_sample_pdu() {
    let sample = bundled("examples/pdus/joinDomainResponse.xml");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    assert!(readme.contains("drmsim xml c14n scenarios/examples/pdus/joinDomainResponse.xml"));
    let o = drmsim(&[
        "xml",
        "c14n",
        sample.to_str().unwrap(),
        "--select",
        "{urn:oma:bac:dldrm:roap-1.0}domainKey",
        "--exclude",
        "mac",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let c = text(&o.stdout);
    assert!(
        c.starts_with("<roap:domainKey xmlns:roap=\"urn:oma:bac:dldrm:roap-1.0\">"),
        "{c}"
    );
    assert!(
        c.ends_with("</roap:domainKey>") && !c.contains("<mac"),
        "{c}"
    );
}
