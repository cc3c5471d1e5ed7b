//! Sweep expansion: the product of the axis values times the seeds, in documented order.

use scenarios::load_str;
use scenarios::model::DomainKeyMac;
use scenarios::sweep::{apply_path, expand};
use scenarios::units::Probability;

const BASE: &str = "[scenario]\nname = \"s\"\nseed = 100\nhorizon = \"30s\"\n\n[population]\ngroups = [\"home\", \"core\"]\nagents = 5\n";

#[test]
fn product_of_axes_and_seeds_in_order() {
    let text = format!(
        "{BASE}[network]\nloss = 0.0\n[sweep]\nseeds = 3\n\"population.agents\" = [1000, 5000]\n\"network.loss\" = [0.01, 0.1]\n"
    );
    let s = load_str(&text, "sw.toml").unwrap();
    let spec = s.sweep.as_ref().unwrap();
    assert_eq!(spec.seeds(), 3);
    assert_eq!(spec.point_count(), 12);
    let pts = expand(&s).unwrap();
    assert_eq!(pts.len(), 12);
    // Axes in lexicographic order: network.loss (slowest), population.agents; seed fastest.
    let got: Vec<(f64, u32, u64)> = pts
        .iter()
        .map(|p| {
            (
                p.scenario.network.loss.unwrap().get(),
                p.scenario.population.agents,
                p.scenario.scenario.seed,
            )
        })
        .collect();
    let mut want = Vec::new();
    for loss in [0.01, 0.1] {
        for agents in [1000, 5000] {
            for seed in [100, 101, 102] {
                want.push((loss, agents, seed));
            }
        }
    }
    assert_eq!(got, want);
    for (i, p) in pts.iter().enumerate() {
        assert_eq!(p.index, i as u64);
        assert_eq!(p.repetition, i as u64 % 3);
        assert!(p.scenario.sweep.is_none(), "points carry no [sweep]");
    }
    assert_eq!(
        pts[4].label(),
        "network.loss=0.01,population.agents=5000,seed=101"
    );
}

#[test]
fn no_sweep_is_one_point_and_seeds_alone_repeat() {
    let s = load_str(BASE, "a.toml").unwrap();
    let pts = expand(&s).unwrap();
    assert_eq!(pts.len(), 1);
    assert_eq!(pts[0].scenario.scenario.seed, 100);
    let s = load_str(&format!("{BASE}[sweep]\nseeds = 4\n"), "b.toml").unwrap();
    let seeds: Vec<u64> = expand(&s)
        .unwrap()
        .iter()
        .map(|p| p.scenario.scenario.seed)
        .collect();
    assert_eq!(seeds, vec![100, 101, 102, 103]);
}

#[test]
fn any_field_is_sweepable_including_array_elements_and_enums() {
    let text = format!(
        "{BASE}[[network.link]]\nfrom = \"home\"\nto = \"core\"\n\
         [sweep]\n\"network.link.0.loss\" = [0.2, 0.3]\n\"variants.domain_key_mac\" = [\"xc14n\", \"substring\"]\n\
         \"network.latency\" = [{{ dist = \"constant\", value = \"5ms\" }}]\n"
    );
    let s = load_str(&text, "c.toml").unwrap();
    let pts = expand(&s).unwrap();
    assert_eq!(pts.len(), 4);
    let link_loss: Vec<Option<Probability>> = pts
        .iter()
        .map(|p| p.scenario.network.link[0].loss)
        .collect();
    assert_eq!(
        link_loss,
        vec![
            Some(Probability(0.2)),
            Some(Probability(0.2)),
            Some(Probability(0.3)),
            Some(Probability(0.3))
        ]
    );
    let macs: Vec<DomainKeyMac> = pts
        .iter()
        .map(|p| p.scenario.variants.domain_key_mac)
        .collect();
    assert_eq!(
        macs,
        vec![
            DomainKeyMac::Xc14n,
            DomainKeyMac::Substring,
            DomainKeyMac::Xc14n,
            DomainKeyMac::Substring
        ]
    );
    assert!(pts
        .iter()
        .all(|p| p.scenario.network.latency.mean_ns() == Some(5e6)));
}

#[test]
fn bundled_sweep_example() {
    let s = scenarios::load_scenario(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/lossy-wan-sweep.toml"
    ))
    .unwrap();
    let pts = expand(&s).unwrap();
    assert_eq!(pts.len(), 12);
    assert_eq!(pts[11].scenario.population.agents, 5000);
    assert_eq!(
        pts[11].scenario.network.burst_loss.unwrap().loss_bad,
        Probability(0.5)
    );
    assert_eq!(pts[11].scenario.scenario.seed, 102);
}

#[test]
fn apply_path_edits_the_tree() {
    let mut t: toml::Table = "[a]\nb = 1\n[[c]]\nd = 2\n".parse().unwrap();
    apply_path(&mut t, "a.b", toml::Value::Integer(5)).unwrap();
    apply_path(&mut t, "a.new.x", toml::Value::Boolean(true)).unwrap();
    apply_path(&mut t, "c.0.d", toml::Value::Integer(7)).unwrap();
    assert_eq!(t["a"]["b"].as_integer(), Some(5));
    assert_eq!(t["a"]["new"]["x"].as_bool(), Some(true));
    assert_eq!(t["c"][0]["d"].as_integer(), Some(7));
    assert_eq!(
        apply_path(&mut t, "c.1.d", toml::Value::Integer(1))
            .unwrap_err()
            .0,
        "`c` has 1 element(s); index 1 is out of range"
    );
    assert_eq!(
        apply_path(&mut t, "a.b.z", toml::Value::Integer(1))
            .unwrap_err()
            .0,
        "`a.b` is not a table"
    );
    assert_eq!(
        apply_path(&mut t, "c.x", toml::Value::Integer(1))
            .unwrap_err()
            .0,
        "`c` is an array: the next segment must be an index, not `x`"
    );
    assert!(apply_path(&mut t, "a..b", toml::Value::Integer(1)).is_err());
}

#[test]
fn large_sweeps_are_lazy_and_bounded() {
    let vals: Vec<String> = (1..=100).map(|v| v.to_string()).collect();
    let list = vals.join(", ");
    let text = format!(
        "{BASE}[sweep]\n\"population.agents\" = [{list}]\n\"population.lrms\" = [{list}]\n\"population.sce_agents\" = [{list}]\n"
    );
    let s = load_str(&text, "big.toml").unwrap();
    let mut it = scenarios::sweep::points(&s).unwrap();
    assert_eq!(it.total(), 1_000_000);
    assert_eq!(it.size_hint(), (1_000_000, Some(1_000_000)));
    // Lexicographic axes: agents, lrms, sce_agents (fastest of the three).
    let p0 = it.next().unwrap().unwrap();
    let p1 = it.next().unwrap().unwrap();
    assert_eq!(
        (
            p0.scenario.population.agents,
            p0.scenario.population.lrms,
            p0.scenario.population.sce_agents
        ),
        (1, 1, 1)
    );
    assert_eq!(
        (
            p1.scenario.population.agents,
            p1.scenario.population.lrms,
            p1.scenario.population.sce_agents
        ),
        (1, 1, 2)
    );
    // Index 100 (the 101st point) is the first with lrms = 2; two points were taken already.
    assert_eq!(it.nth(98).unwrap().unwrap().scenario.population.lrms, 2);

    // One more seed would exceed the 1,000,000-point limit.
    let too_big = text.replace("[sweep]\n", "[sweep]\nseeds = 2\n");
    let e = load_str(&too_big, "big.toml").unwrap_err().to_string();
    assert_eq!(
        e,
        "big.toml:10:1: [sweep] seeds: the sweep has 2000000 points; the limit is 1000000"
    );
}
