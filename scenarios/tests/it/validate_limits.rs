//! `validate` checks every limit `run` checks: a scenario that validates builds, and one
//! that `run` would refuse while building (or for its resource estimate) is refused by
//! `validate` with the file, line, column and field.

use scenarios::load_str;
use std::process::Command;

/// A small valid scenario; `{groups}` and `{extra}` are filled in by each test.
fn scenario(groups: &str, population: &str, extra: &str) -> String {
    format!(
        r#"[scenario]
name = "limits"
seed = 1
horizon = "10s"
crypto = "symbolic"

[population]
groups = [{groups}]
{population}

{extra}
"#
    )
}

fn groups(n: usize) -> String {
    (0..n)
        .map(|i| format!("\"g{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn drmsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn more_groups_than_the_network_model_numbers_are_refused_by_validate() {
    // 65,536 groups: the network model's limit exactly. Validation builds the model as
    // the run does, so what validates also builds.
    let ok = scenario(&groups(65_536), "agents = 1\nris = 1", "");
    let s = load_str(&ok, "ok.toml").expect("65,536 groups are within the limit");
    assert!(scenarios::assemble::topology(&s, 1).is_ok());

    // 65,537 groups passed validation before and failed at run.
    let text = scenario(&groups(65_537), "agents = 1\nris = 1", "");
    let err = load_str(&text, "groups.toml").unwrap_err().to_string();
    assert!(
        err.starts_with("groups.toml:8:") && err.contains("population") && err.contains("groups"),
        "{err}"
    );
    assert!(
        err.contains("65537 groups exceed the limit of 65536"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("groups.toml");
    std::fs::write(&f, &text).unwrap();
    let o = drmsim(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("65537 groups"));
}

#[test]
fn the_engine_actor_limit_counts_adversaries() {
    // Exactly the limit of protocol actors validates; one adversary more does not (each
    // adversary is an engine actor too).
    let pop = "agents = 9999998\nris = 1\nocsp = 1";
    let s = load_str(&scenario("\"a\"", pop, ""), "a.toml");
    assert!(s.is_ok(), "{:?}", s.err().map(|e| e.to_string()));
    let adv = "[[adversary]]\nkind = \"replayer\"\nposition = \"off_path\"\ngroup = \"a\"\n";
    let err = load_str(&scenario("\"a\"", pop, adv), "a.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("10000001 actors (10000000 protocol actors and 1 adversaries) exceed the limit of 10000000"),
        "{err}"
    );
    assert!(err.starts_with("a.toml:7:"), "{err}");
}

#[test]
fn a_flooder_without_a_server_is_refused_by_validate() {
    // No agents, no Rights Issuer: the flooder finds nothing to flood when it is installed.
    let adv = r#"[[adversary]]
kind = "flooder"
position = "off_path"
group = "a"
rate_per_s = 10.0
"#;
    let err = load_str(&scenario("\"a\"", "agents = 0\nris = 0", adv), "f.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("adversary") && err.contains("kind"), "{err}");
    assert!(err.contains("a flooder needs a server to flood"), "{err}");
    assert!(err.starts_with("f.toml:13:"), "{err}");
    // With a Rights Issuer it validates and installs.
    assert!(load_str(&scenario("\"a\"", "agents = 0\nris = 1", adv), "f.toml").is_ok());
}

#[test]
fn validate_refuses_what_run_refuses_for_its_resource_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/quickstart.toml"))
        .unwrap()
        .replace(
            "ro_acquire_rate_per_min = ",
            "ro_acquire_rate_per_min = 1e300 #",
        );
    let f = dir.path().join("absurd.toml");
    std::fs::write(&f, text).unwrap();
    let run = drmsim(&[
        "run",
        f.to_str().unwrap(),
        "--out",
        dir.path().join("r").to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    let v = drmsim(&["validate", f.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(2), "validate and run agree");
    let err = String::from_utf8_lossy(&v.stderr);
    assert!(
        err.contains("`drmsim run` refuses this scenario") && err.contains("--force"),
        "{err}"
    );
    let forced = drmsim(&["validate", "--force", f.to_str().unwrap()]);
    assert_eq!(forced.status.code(), Some(0));
}

#[test]
fn every_bundled_scenario_that_validates_builds_its_network() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut n = 0;
    for dir in ["", "/examples", "/attacks"] {
        for e in std::fs::read_dir(format!("{root}{dir}")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") && p.file_name().unwrap() != "Cargo.toml"
            {
                let s = scenarios::load_scenario(&p).unwrap();
                assert!(
                    scenarios::assemble::topology(&s, 1).is_ok(),
                    "{}",
                    p.display()
                );
                n += 1;
            }
        }
    }
    assert!(n > 20, "{n}");
}
