//! The checks `drmsim run` used to meet only while building a run, made at validation time
//! so that `validate` and `run` agree on every scenario:
//!
//! - the network model is built exactly as the run builds it ([`crate::assemble::topology`]
//!   and this module share [`crate::assemble::topology_located`]), so sim-core's own limits
//!   (group count and names, links, partitions) are reported with the field that breaks
//!   them instead of as an engine error at run time;
//! - the engine's actor id space: protocol actors plus one actor per adversary;
//! - the server a flooder needs at installation exists (a flood rule's `to` is checked with
//!   the other actor references in `crate::validate`).
//!
//! The machine-dependent resource estimate (`crate::budget`) is not a property of the file;
//! `drmsim validate` applies it as `drmsim run` does (refused without `--force`).

use crate::model::{ActorKind, AdversaryKind, Scenario};
use crate::spans::Seg;
use crate::validate::{Problem, MAX_ACTORS};
use sim_core::net::NetError;

fn problem(path: Vec<Seg>, message: impl Into<String>) -> Problem {
    Problem {
        path,
        message: message.into(),
    }
}

/// Problems `run` would meet while building `s` (empty: it builds). Call it on a scenario
/// without structural problems (their messages are clearer and come first).
pub fn check(s: &Scenario) -> Vec<Problem> {
    let mut out = Vec::new();
    let actors = s.population.actor_count() + s.adversaries.len() as u64;
    if actors > MAX_ACTORS {
        out.push(problem(
            vec![Seg::from("population")],
            format!(
                "{actors} actors ({} protocol actors and {} adversaries) exceed the limit of {MAX_ACTORS}",
                s.population.actor_count(),
                s.adversaries.len()
            ),
        ));
    }
    if let Err((path, e)) = crate::assemble::topology_located(s, s.scenario.seed) {
        out.push(problem(path, net_message(&e)));
    }
    adversary_targets(s, &mut out);
    out
}

/// `e` in the words of the scenario format.
fn net_message(e: &NetError) -> String {
    match e {
        NetError::TooManyGroups { limit } => format!(
            "more than {limit} groups: the network model numbers groups with 16 bits \
             (group {limit} is the first one too many)"
        ),
        NetError::TooManyPartitions { limit } => {
            format!("more than {limit} partitions (the network model's limit)")
        }
        other => other.to_string(),
    }
}

/// Whether the actor pattern `p` (`kind/N`, `kind/*` or `*`, as adversaries match actor
/// names: `sim_core::adversary::AdversarySpec::targets_actor`) names at least one protocol
/// actor of `s`.
fn matches_an_actor(s: &Scenario, p: &str) -> bool {
    let count = |kind: &str| ActorKind::from_name(kind).map_or(0, |k| s.population.count(k) as u64);
    match p.strip_suffix('*') {
        Some("") => s.population.actor_count() > 0,
        Some(prefix) if prefix.ends_with('/') => count(&prefix[..prefix.len() - 1]) > 0,
        _ => match p.split_once('/') {
            Some((kind, i)) => i.parse::<u64>().is_ok_and(|i| i < count(kind)),
            None => false,
        },
    }
}

/// The servers flooders look up when they are installed.
fn adversary_targets(s: &Scenario, out: &mut Vec<Problem>) {
    for (i, a) in s.adversaries.iter().enumerate() {
        if a.kind == AdversaryKind::Flooder {
            // sim-core floods a targeted RI or DEA, else the first RI.
            let targeted_server = a.targets.actors.iter().any(|p| {
                (p.starts_with("ri/") || p.starts_with("dea/") || p == "*")
                    && matches_an_actor(s, p)
            });
            if s.population.ris == 0 && !(targeted_server && s.population.dea > 0) {
                out.push(problem(
                    vec![Seg::from("adversary"), Seg::from(i), Seg::from("kind")],
                    "a flooder needs a server to flood: the population has no Rights Issuer \
                     (and no targeted DEA)",
                ));
            }
        }
    }
}
