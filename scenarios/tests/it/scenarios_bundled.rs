//! Every bundled scenario loads and validates, and the loaded values are the ones written.

use scenarios::dist::Dist;
use scenarios::model::{ActorKind, AdversaryKind, Arrival, CryptoMode, DomainKeyMac, Position};
use scenarios::units::{DurationNs, Probability, RsaBits};
use scenarios::{load_scenario, load_str};
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// quickstart.toml plus every examples/*.toml, sorted.
pub fn bundled() -> Vec<PathBuf> {
    let mut v = vec![crate_dir().join("quickstart.toml")];
    let mut ex: Vec<PathBuf> = std::fs::read_dir(crate_dir().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    ex.sort();
    v.extend(ex);
    v
}

#[test]
fn every_bundled_scenario_validates() {
    let files = bundled();
    assert!(files.len() >= 7, "{files:?}");
    for f in files {
        let s = load_scenario(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        // Every sweep point of every bundled scenario is valid too.
        let points =
            scenarios::sweep::expand(&s).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!points.is_empty());
    }
}

#[test]
fn quickstart_values_are_as_written() {
    let s = load_scenario(crate_dir().join("quickstart.toml")).unwrap();
    assert_eq!(s.scenario.name, "quickstart");
    assert_eq!(s.scenario.seed, 1);
    assert_eq!(s.scenario.horizon, DurationNs::from_secs(30));
    assert_eq!(s.scenario.crypto, CryptoMode::Symbolic);
    assert_eq!(s.scenario.rsa_bits, RsaBits::Rsa1024);
    assert_eq!(s.population.agents, 50);
    assert_eq!(s.population.ris, 1);
    assert_eq!(s.population.ocsp, 1);
    assert_eq!(s.actor_count(), 52);
    assert_eq!(
        s.population.arrival,
        Arrival::Ramp {
            over: DurationNs::from_secs(5)
        }
    );
    assert_eq!(
        s.population.group_of(ActorKind::Agent, 49).as_deref(),
        Some("home")
    );
    assert_eq!(
        s.population.group_of(ActorKind::Ri, 0).as_deref(),
        Some("core")
    );
    assert_eq!(
        s.network.latency,
        Dist::Lognormal {
            median: DurationNs::from_ms(20),
            sigma: 0.3
        }
    );
    assert_eq!(s.network.loss, Some(Probability(0.001)));
    assert_eq!(s.network.link.len(), 1);
    assert!(s.network.link[0].symmetric);
    assert_eq!(s.workload.backoff, DurationNs::from_ms(500));
    assert_eq!(
        s.expect.min_completion.get("registration"),
        Some(&Probability(0.95))
    );
    assert!(s.sweep.is_none());
}

#[test]
fn defaults_of_a_minimal_scenario() {
    let s = load_str(
        "[scenario]\nname = \"m\"\nseed = 0\nhorizon = \"1s\"\n[population]\ngroups = [\"g\"]\n",
        "m.toml",
    )
    .unwrap();
    assert_eq!(s.scenario.crypto, CryptoMode::Symbolic);
    assert_eq!(s.scenario.event_budget, None);
    assert!(s.trace.enabled && s.trace.timers && !s.trace.pdus);
    assert_eq!(s.network.latency, Dist::constant(DurationNs::from_ms(20)));
    assert_eq!(s.population.ris, 1);
    assert_eq!(s.population.ocsp, 1);
    assert_eq!(s.population.agents, 0);
    // Defaults measured in dependencies.md.
    assert_eq!(s.costs.rsa1024_sign, DurationNs::from_us(340));
    assert_eq!(s.costs.rsa2048_sign, DurationNs(1_910_000));
    assert_eq!(s.costs.rsa2048_verify, DurationNs::from_us(78));
    assert_eq!(s.costs.key_wrap, DurationNs(650));
    assert_eq!(s.costs.xml_serialize_per_kb, DurationNs(1_300));
    assert_eq!(s.costs.request_base, DurationNs::from_us(2));
    assert_eq!(s.costs.ri.workers, 4);
    assert_eq!(s.workload.request_timeout, DurationNs::from_secs(5));
    assert!(
        s.variants.metering_response_signed
            && s.variants.ri_nonce_tracking
            && s.variants.dea_count_once
    );
    assert_eq!(s.variants.domain_key_mac, DomainKeyMac::Xc14n);
    assert_eq!(
        s.population.group_of(ActorKind::Ocsp, 0).as_deref(),
        Some("g")
    );
}

#[test]
fn adversaries_and_placement_lists() {
    let dir = crate_dir().join("examples");
    let s = load_scenario(dir.join("move-replay.toml")).unwrap();
    assert_eq!(s.adversaries.len(), 2);
    assert_eq!(s.adversaries[0].kind, AdversaryKind::Replayer);
    assert_eq!(s.adversaries[0].position, Position::OnPath);
    assert_eq!(
        s.adversaries[0].links,
        vec![["devices".to_string(), "core".to_string()]]
    );
    assert_eq!(
        s.adversaries[0].replay_delay,
        Some(DurationNs::from_secs(2))
    );
    assert_eq!(s.adversaries[1].endpoint.as_deref(), Some("agent/0"));
    assert_eq!(
        s.adversaries[1].window.from,
        Some(DurationNs::from_secs(30))
    );
    assert_eq!(s.adversaries[1].window.to, None);
    let w = load_scenario(dir.join("lossy-wan-sweep.toml")).unwrap();
    // Agents alternate between the two listed groups.
    assert_eq!(
        w.population.group_of(ActorKind::Agent, 0).as_deref(),
        Some("home")
    );
    assert_eq!(
        w.population.group_of(ActorKind::Agent, 1).as_deref(),
        Some("mobile")
    );
    let ge = w.network.burst_loss.unwrap();
    // Stationary bad share 0.01 / 0.21; loss = bad * 0.5 + (1 - bad) * 0.001.
    let bad = 0.01 / 0.21;
    assert!((ge.mean_loss() - (bad * 0.5 + (1.0 - bad) * 0.001)).abs() < 1e-12);
    assert_eq!(w.network.partition[0].heal, Some(DurationNs::from_secs(80)));
}

#[test]
fn load_scenario_reports_missing_files() {
    let e = load_scenario(Path::new("/nonexistent/x.toml")).unwrap_err();
    assert!(e.is_io());
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.toml: cannot read scenario: "),
        "{e}"
    );
}

#[test]
fn scenarios_round_trip_through_toml() {
    for f in bundled() {
        let s = load_scenario(&f).unwrap();
        let text = toml::to_string(&s).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let back = load_str(&text, "round.toml")
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", f.display()));
        assert_eq!(back.scenario, s.scenario);
        assert_eq!(back.network, s.network);
        assert_eq!(back.population, s.population);
        assert_eq!(back.costs, s.costs);
        assert_eq!(back.workload, s.workload);
        assert_eq!(back.variants, s.variants);
        assert_eq!(back.adversaries, s.adversaries);
        assert_eq!(back.expect, s.expect);
        assert_eq!(back.sweep, s.sweep);
    }
}
