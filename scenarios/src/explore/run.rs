//! One explored run: the scenario with a plan rendered into it, run in memory, and what the
//! search needs from its trace (violations with their message chains, the outcomes and
//! message kinds reached, the routes of every message).

use super::gen::{adversary_table, Catalog, Plan, Route};
use crate::model::Scenario;
use crate::runner::EngineOutcome;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// A violation as a finding shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Invariant name.
    pub invariant: String,
    /// Detail.
    pub detail: String,
    /// Its message chain, oldest first: `(t_ns, from name, to name, type)`.
    pub chain: Vec<(u64, String, String, String)>,
}

impl Seen {
    /// An availability violation (lost issuance) rather than a safety one.
    pub fn availability(&self) -> bool {
        self.invariant == sim_core::invariant::names::CONSISTENT_STATE
            && self
                .detail
                .contains(sim_core::invariant::state::LOST_ISSUANCE)
    }
}

impl Seen {
    /// Invariant plus the distinct message kinds of the chain in order of first appearance
    /// (a retried exchange is the same cause): what findings are deduplicated by.
    pub fn signature(&self) -> String {
        let mut kinds: Vec<&str> = Vec::new();
        for (_, _, _, k) in &self.chain {
            if !kinds.contains(&k.as_str()) {
                kinds.push(k);
            }
        }
        format!("{} <- {}", self.invariant, kinds.join(" > "))
    }

    /// The minimal message sequence chart of the violation, one line per message.
    pub fn msc(&self) -> Vec<String> {
        self.chain
            .iter()
            .map(|(t, f, to, k)| format!("{:>12.3} s  {f:>10} -> {to:<10} {k}", *t as f64 / 1e9))
            .collect()
    }
}

/// What one run showed.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Violations (first [`MAX_SEEN`]).
    pub violations: Vec<Seen>,
    /// Coverage features reached: `sent:<kind>`, `outcome:<protocol>:<status>`.
    pub features: BTreeSet<String>,
    /// Actions taken per adversary name.
    pub attempts: BTreeMap<String, u64>,
    /// The routes of every message (the honest run's catalog).
    pub catalog: Catalog,
    /// Load or engine error.
    pub error: Option<String>,
}

/// Most violations read back from one run.
pub const MAX_SEEN: usize = 8;

/// The scenario text of a plan: `base` (already scaled, without `[expect]`, `[sweep]`,
/// `[explore]` or adversaries) plus the plan's adversaries and faults, the seed, and an
/// `[expect] invariants` list naming `invariants` (empty: none).
pub fn render(base: &toml::Table, plan: &Plan, seed: u64, invariants: &[String]) -> String {
    let mut t = base.clone();
    if let Some(s) = t.get_mut("scenario").and_then(|v| v.as_table_mut()) {
        s.insert("seed".into(), toml::Value::Integer(seed as i64));
    }
    if let Some(f) = &plan.faults {
        let net = t
            .entry("network")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(n) = net.as_table_mut() {
            if f.duplicate_pct > 0 {
                n.insert(
                    "duplicate".into(),
                    toml::Value::Float(f.duplicate_pct as f64 / 100.0),
                );
            }
            if f.jitter_ms > 0 {
                let mut j = toml::Table::new();
                j.insert("dist".into(), toml::Value::String("uniform".into()));
                j.insert("min".into(), toml::Value::String("0ms".into()));
                j.insert(
                    "max".into(),
                    toml::Value::String(format!("{}ms", f.jitter_ms)),
                );
                n.insert("jitter".into(), toml::Value::Table(j));
            }
        }
    }
    if !plan.moves.is_empty() {
        t.insert(
            "adversary".into(),
            toml::Value::Array(
                plan.moves
                    .iter()
                    .enumerate()
                    .map(|(i, m)| toml::Value::Table(adversary_table(m, i)))
                    .collect(),
            ),
        );
    }
    if !invariants.is_empty() {
        let mut e = toml::Table::new();
        e.insert(
            "invariants".into(),
            toml::Value::Array(
                invariants
                    .iter()
                    .map(|s| toml::Value::String(s.clone()))
                    .collect(),
            ),
        );
        t.insert("expect".into(), toml::Value::Table(e));
    }
    toml::to_string(&t).unwrap_or_default()
}

/// Runs scenario text `text` in memory.
pub fn run_text(text: &str, name: &str) -> Outcome {
    let sc = match crate::loader::load_str(text, name) {
        Ok(s) => s,
        Err(e) => {
            return Outcome {
                error: Some(e.to_string()),
                ..Outcome::default()
            }
        }
    };
    run_scenario(&sc)
}

/// Runs `sc` in memory (trace kept, timers off; `check::run_in_memory`).
pub fn run_scenario(sc: &Scenario) -> Outcome {
    let (res, trace) = crate::check::run_in_memory(sc);
    match res {
        Ok(o) => {
            let mut out = scan(&trace);
            out.attempts = attempts(&o);
            out
        }
        Err(e) => Outcome {
            error: Some(e.to_string()),
            ..Outcome::default()
        },
    }
}

fn attempts(o: &EngineOutcome) -> BTreeMap<String, u64> {
    o.attacks
        .iter()
        .map(|(k, a)| (k.clone(), a.attempts))
        .collect()
}

#[derive(Deserialize)]
struct Line {
    t: u64,
    ev: String,
    id: Option<u32>,
    kind: Option<String>,
    name: Option<String>,
    group: Option<String>,
    msg: Option<u64>,
    from: Option<u32>,
    to: Option<u32>,
    #[serde(rename = "type")]
    msg_type: Option<String>,
    invariant: Option<String>,
    detail: Option<String>,
    chain: Option<Vec<u64>>,
    protocol: Option<String>,
    status: Option<String>,
}

/// Reads what the search needs from a trace.
fn scan(trace: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    // actor id → (name, kind, group)
    let mut actors: BTreeMap<u32, (String, String, String)> = BTreeMap::new();
    let mut sends: BTreeMap<u64, (u64, u32, u32, String)> = BTreeMap::new();
    let mut violations = Vec::new();
    for l in trace.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(l) = serde_json::from_slice::<Line>(l) else {
            continue;
        };
        match l.ev.as_str() {
            "actor" => {
                if let Some(id) = l.id {
                    actors.insert(
                        id,
                        (
                            l.name.unwrap_or_default(),
                            l.kind.unwrap_or_default(),
                            l.group.unwrap_or_default(),
                        ),
                    );
                }
            }
            "send" => {
                let (Some(m), Some(f), Some(t), Some(k)) = (l.msg, l.from, l.to, l.msg_type) else {
                    continue;
                };
                out.features.insert(format!("sent:{k}"));
                if let (Some(a), Some(b)) = (actors.get(&f), actors.get(&t)) {
                    // Adversary actors are not part of the honest catalog.
                    if a.1 != "adversary" && b.1 != "adversary" {
                        out.catalog.add(
                            &k,
                            Route {
                                from_kind: a.1.clone(),
                                to_kind: b.1.clone(),
                                from_group: a.2.clone(),
                                to_group: b.2.clone(),
                            },
                        );
                    }
                }
                sends.insert(m, (l.t, f, t, k));
            }
            "outcome" => {
                out.features.insert(format!(
                    "outcome:{}:{}",
                    l.protocol.unwrap_or_default(),
                    l.status.unwrap_or_default()
                ));
            }
            "violation" if violations.len() < MAX_SEEN => {
                violations.push((
                    l.invariant.unwrap_or_default(),
                    l.detail.unwrap_or_default(),
                    l.chain.unwrap_or_default(),
                ));
            }
            _ => {}
        }
    }
    let name = |id: u32| {
        actors
            .get(&id)
            .map(|a| a.0.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    for (actor_kind, list) in actors.values().fold(
        BTreeMap::<String, Vec<String>>::new(),
        |mut m, (n, k, _)| {
            m.entry(k.clone()).or_default().push(n.clone());
            m
        },
    ) {
        out.catalog.actors.insert(actor_kind, list);
    }
    for (inv, detail, chain) in violations {
        out.features.insert(format!("violation:{inv}"));
        out.violations.push(Seen {
            invariant: inv,
            detail,
            chain: chain
                .iter()
                .filter_map(|id| sends.get(id))
                .map(|(t, f, to, k)| (*t, name(*f), name(*to), k.clone()))
                .collect(),
        });
    }
    out
}
