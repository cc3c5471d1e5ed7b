//! The programmable attacker (`kind = "rules"`): rules written by hand reach the outcomes the
//! protocol text implies, wrong rules are validation errors at their field, `[expect]
//! blocked` needs a decided attempt, and `drmsim check --format json|junit` carries the
//! same verdicts.

use scenarios::check::{
    check, render, render_json, render_junit, run_seed, AttackOutcome, CheckOptions,
};
use std::path::PathBuf;

fn attacks_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("attacks")
}

fn opts(out: &str) -> CheckOptions {
    CheckOptions {
        seeds: 1,
        jobs: 2,
        shrink: false,
        shrink_budget: 0,
        out_dir: std::env::temp_dir().join(out),
    }
}

/// A small scenario with one `rules` attacker (`rules` is the TOML of its rules and
/// anything after them).
fn scenario(adversary: &str, rules: &str, variants: &str) -> String {
    format!(
        r#"[scenario]
name = "t"
seed = 1
horizon = "3m"
crypto = "symbolic"

[trace]
timers = false

[network]
latency = {{ dist = "uniform", min = "10ms", max = "30ms" }}

[population]
groups = ["home", "core"]
agents = 3
ris = 1
ocsp = 1

[population.placement]
agents = "home"
ris = "core"
ocsp = "core"

[workload]
ro_acquire_rate_per_min = 2.0
consume_rate_per_min = 6.0
metering_interval = "30s"
request_timeout = "2s"
max_retries = 3

{variants}

[[adversary]]
kind = "rules"
name = "a"
{adversary}

{rules}
"#
    )
}

fn load(text: &str) -> Result<scenarios::model::Scenario, String> {
    let f = std::env::temp_dir().join(format!(
        "drmsim-rules-{}-{}.toml",
        std::process::id(),
        text.len()
    ));
    std::fs::write(&f, text).unwrap();
    let r = scenarios::load_scenario(&f).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&f);
    r
}

const FORGE: &str = r#"
[[adversary.rules]]
when = { kind = ["roap:meteringReportSubmit"], after = "40s" }
then = "drop"
budget = 3

[[adversary.rules]]
when = { kind = ["roap:meteringReportSubmit"], after = "40s" }
then = "inject"
kind = "roap:meteringReportResponse"
to = "sender"
edits = [
  { field = "@status", value = "Success" },
  { field = "deviceID", value = "$deviceID" },
  { field = "riID", value = "$riID" },
  { field = "deviceNonce", value = "$nonce" },
]
budget = 3

[expect]
invariants = ["metering_deleted_only_after_authentic_success"]
"#;

const ON_PATH: &str = "position = \"on_path\"\nlinks = [[\"home\", \"core\"]]";

#[test]
fn forged_metering_success_is_refused_when_signed_and_deletes_data_when_not() {
    let signed = load(&scenario(ON_PATH, FORGE, "")).unwrap();
    let r = run_seed(&signed, 1);
    assert_eq!(r.attacks["a"], AttackOutcome::Blocked, "{r:?}");
    assert!(r.passed(), "{r:?}");
    assert!(r.violations.is_empty());
    let pre = load(&scenario(
        ON_PATH,
        FORGE,
        "[variants]\nmetering_response_signed = false",
    ))
    .unwrap();
    let r = run_seed(&pre, 1);
    assert_eq!(r.attacks["a"], AttackOutcome::Succeeded);
    assert!(
        !r.passed(),
        "the invariant must break without the signature"
    );
    assert_eq!(
        r.violations[0].invariant,
        "metering_deleted_only_after_authentic_success"
    );
}

#[test]
fn rule_runs_are_deterministic() {
    let s = load(&scenario(ON_PATH, FORGE, "")).unwrap();
    let (a, b) = (run_seed(&s, 7), run_seed(&s, 7));
    assert_eq!(a.events, b.events);
    assert_eq!(a.attacks, b.attacks);
    assert!(a.events > 0);
}

#[test]
fn field_names_are_checked_per_kind() {
    let bad = r#"
[[adversary.rules]]
when = { kind = ["roap:leaveDomainResponse"] }
then = "modify"
edits = [{ field = "signature", op = "flip" }]
"#;
    let e = load(&scenario(ON_PATH, bad, "")).unwrap_err();
    assert!(e.contains("rules[0].edits[0]"), "{e}");
    assert!(
        e.contains("roap:leaveDomainResponse has no field `signature`"),
        "{e}"
    );
    // The error lists the fields that exist.
    assert!(e.contains("domainID") && e.contains("nonce"), "{e}");
}

#[test]
fn rules_that_cannot_apply_are_validation_errors() {
    let cases = [
        // Re-signing needs a key: an on-path attacker has none.
        (
            r#"
[[adversary.rules]]
when = { kind = ["roap:roRequest"] }
then = "modify"
edits = [{ field = "nonce", op = "flip" }]
resign = true
"#,
            "only a compromised adversary holds one",
        ),
        // Fields are per kind: modify needs concrete kinds.
        (
            r#"
[[adversary.rules]]
when = { kind = ["roap:*"] }
then = "modify"
edits = [{ field = "nonce", op = "flip" }]
"#,
            "modify needs `when.kind`",
        ),
        (
            r#"
[[adversary.rules]]
then = "explode"
"#,
            "unknown action `explode`",
        ),
        (
            r#"
[[adversary.rules]]
then = "skew"
skew_s = 60
"#,
            "compromised Device's clock",
        ),
        (
            r#"
[[adversary.rules]]
then = "drop"
copies = 2
"#,
            "`copies` does not apply to `drop`",
        ),
    ];
    for (rules, want) in cases {
        let e = load(&scenario(ON_PATH, rules, "")).unwrap_err();
        assert!(e.contains(want), "want {want:?} in {e}");
    }
    // A transcript-signed message cannot be re-signed even by a compromised Device.
    let e = load(&scenario(
        "position = \"compromised\"\nendpoint = \"agent/0\"",
        r#"
[[adversary.rules]]
when = { kind = ["roap:registrationRequest"] }
then = "modify"
edits = [{ field = "nonce", op = "flip" }]
resign = true
"#,
        "",
    ))
    .unwrap_err();
    assert!(e.contains("cannot be re-signed"), "{e}");
}

#[test]
fn compromised_device_resigns_a_modified_request() {
    // The Device's own key re-signs an RO Request whose nonce it changed: the RI accepts
    // it (a fresh nonce under a valid signature), so the attempt succeeds — re-signing works.
    let rules = r#"
[[adversary.rules]]
when = { kind = ["roap:roRequest"], from = ["agent/0"] }
then = "modify"
edits = [{ field = "nonce", op = "flip" }]
resign = true
budget = 2
"#;
    let s = load(&scenario(
        "position = \"compromised\"\nendpoint = \"agent/0\"",
        rules,
        "",
    ))
    .unwrap();
    let r = run_seed(&s, 1);
    assert_eq!(r.attacks["a"], AttackOutcome::Succeeded, "{r:?}");
    // Without re-signing the same change is refused.
    let s = load(&scenario(
        "position = \"compromised\"\nendpoint = \"agent/0\"",
        &rules.replace("resign = true", ""),
        "",
    ))
    .unwrap();
    assert_eq!(run_seed(&s, 1).attacks["a"], AttackOutcome::Blocked);
}

#[test]
fn expect_blocked_fails_when_every_attempt_is_inconclusive() {
    // The only drop happens 2 s before the horizon: too late for the invariants to decide.
    let rules = r#"
[[adversary.rules]]
when = { kind = ["roap:roRequest"], after = "178s" }
then = "drop"
budget = 1

[expect]
blocked = ["a"]
"#;
    let mut text = scenario(ON_PATH, rules, "");
    text = text.replace(
        "ro_acquire_rate_per_min = 2.0",
        "ro_acquire_rate_per_min = 60.0",
    );
    let s = load(&text).unwrap();
    let r = run_seed(&s, 1);
    assert_eq!(r.attacks["a"], AttackOutcome::Inconclusive, "{r:?}");
    let e = r
        .expectations
        .iter()
        .find(|e| e.what == "blocked.a")
        .unwrap();
    assert!(!e.passed, "{e:?}");
    assert!(e.detail.contains("1 inconclusive"), "{e:?}");
}

#[test]
fn check_formats_carry_the_verdicts() {
    let d = attacks_dir();
    let files = vec![
        d.join("rules-metering-forge.toml"),
        d.join("rules-metering-forge-pre.toml"),
    ];
    let r = check(&files, &opts("drmsim-check-rules-fmt"));
    assert!(r.all_passed(), "{}", render(&r));
    let j: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
    assert_eq!(j["passed"], true);
    assert_eq!(
        j["scenarios"][0]["seeds"][0]["attacks"]["forger"],
        "blocked"
    );
    assert_eq!(
        j["scenarios"][1]["seeds"][0]["attacks"]["forger"],
        "succeeded"
    );
    assert_eq!(j["scenarios"][1]["expected"]["forger"], "succeeded");
    let x = render_junit(&r);
    assert!(
        x.contains("<testsuites name=\"drmsim check\" tests=\"2\" failures=\"0\" errors=\"0\">"),
        "{x}"
    );
    assert!(x.contains("forger=succeeded"));
    // A wrong expectation is a <failure> with the reproduce command.
    let bad = load(
        &std::fs::read_to_string(d.join("rules-metering-forge-pre.toml"))
            .unwrap()
            .replace("succeed = [\"forger\"]", "blocked = [\"forger\"]"),
    )
    .unwrap();
    let f = std::env::temp_dir().join(format!("drmsim-rules-bad-{}.toml", std::process::id()));
    std::fs::write(&f, &*bad.source.text).unwrap();
    let r = check(std::slice::from_ref(&f), &opts("drmsim-check-rules-bad"));
    let _ = std::fs::remove_file(&f);
    assert!(!r.all_passed());
    let x = render_junit(&r);
    assert!(x.contains("failures=\"1\""), "{x}");
    assert!(x.contains("<failure message=\"blocked.forger\""), "{x}");
    assert!(x.contains("drmsim run"), "{x}");
    let j: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
    assert_eq!(j["passed"], false);
}
