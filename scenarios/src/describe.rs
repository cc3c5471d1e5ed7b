//! The short human-readable description `drmsim validate` prints.

use crate::model::{ActorKind, Arrival, Scenario};

/// A few lines describing `s`: identity, population, network, adversaries, checks, sweep.
pub fn describe(s: &Scenario) -> String {
    let m = &s.scenario;
    let mut t = format!("scenario   {}\n", m.name);
    if !m.description.is_empty() {
        t.push_str(&format!("           {}\n", m.description));
    }
    t.push_str(&format!(
        "seed       {}\nhorizon    {}{}\ncrypto     {}, RSA-{}\n",
        m.seed,
        m.horizon,
        m.event_budget
            .map(|b| format!(" (event budget {b})"))
            .unwrap_or_default(),
        m.crypto.as_str(),
        m.rsa_bits.bits()
    ));
    let p = &s.population;
    let actors: Vec<String> = ActorKind::ALL
        .iter()
        .filter(|k| p.count(**k) > 0)
        .map(|k| {
            format!(
                "{} {} @ {}",
                p.count(*k),
                k.name(),
                p.groups_of(*k).join("+")
            )
        })
        .collect();
    t.push_str(&format!(
        "actors     {} total: {}\n",
        p.actor_count(),
        actors.join(", ")
    ));
    let arrival = match &p.arrival {
        Arrival::AllAtStart {} => "all at start".to_string(),
        Arrival::Poisson { rate_per_s } => format!("poisson {rate_per_s}/s"),
        Arrival::Ramp { over } => format!("ramp over {over}"),
    };
    t.push_str(&format!("arrival    {arrival}\n"));
    let n = &s.network;
    let loss = match (&n.loss, &n.burst_loss) {
        (_, Some(ge)) => format!("burst loss (mean {:.4})", ge.mean_loss()),
        (Some(l), None) => format!("loss {}", l.get()),
        (None, None) => "no loss".to_string(),
    };
    t.push_str(&format!(
        "network    latency {}, {loss}, {} link override(s), {} partition(s)\n",
        n.latency,
        n.link.len(),
        n.partition.len()
    ));
    if !s.adversaries.is_empty() {
        let a: Vec<String> = s
            .adversaries
            .iter()
            .enumerate()
            .map(|(i, a)| {
                format!(
                    "{} ({}, {})",
                    a.display_name(i),
                    a.kind.as_str(),
                    a.position.as_str()
                )
            })
            .collect();
        t.push_str(&format!("adversary  {}\n", a.join(", ")));
    }
    let e = &s.expect;
    let checks = e.invariants.len() + e.blocked.len() + e.succeed.len() + e.min_completion.len();
    if checks > 0 {
        t.push_str(&format!("expect     {checks} check(s)\n"));
    }
    if let Some(sw) = &s.sweep {
        let axes: Vec<String> = sw
            .axes()
            .iter()
            .map(|(k, v)| format!("{k} x{}", v.len()))
            .collect();
        t.push_str(&format!(
            "sweep      {} point(s): {} x {} seed(s)\n",
            sw.point_count(),
            if axes.is_empty() {
                "no axes".to_string()
            } else {
                axes.join(", ")
            },
            sw.seeds()
        ));
    }
    t
}
