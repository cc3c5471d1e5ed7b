//! Shrinking an explore finding. A reduction is kept only when its run still violates the
//! same invariant and, when the plan has moves, the attacker still acted: a reduction in
//! which the attack or the protocol no longer ran cannot show the violation, so it is never
//! accepted (issue 13 §1).

use super::gen::Plan;
use super::run::{self, Outcome, Seen};
use super::Setup;

/// The shrink state: plan, scaled base scenario, and the violation it shows.
struct State<'a> {
    st: &'a Setup,
    seed: u64,
    invariant: String,
    runs: u32,
    max_runs: u32,
}

impl State<'_> {
    /// Runs `plan` on `base`; the violation when it still shows the invariant.
    fn still(&mut self, plan: &Plan, base: &toml::Table) -> Option<Seen> {
        if self.runs >= self.max_runs {
            return None;
        }
        self.runs += 1;
        let text = run::render(base, plan, self.seed, &self.st.invariants);
        let o = run::run_text(&text, &self.st.file);
        shows(&o, plan, &self.invariant)
    }
}

/// The violation of `invariant` in `o`, if the attack (if any) acted.
fn shows(o: &Outcome, plan: &Plan, invariant: &str) -> Option<Seen> {
    if o.error.is_some() {
        return None;
    }
    let acted: u64 = o.attempts.values().sum();
    if !plan.moves.is_empty() && acted == 0 {
        return None;
    }
    o.violations
        .iter()
        .find(|v| v.invariant == invariant)
        .cloned()
}

fn agents(base: &toml::Table) -> u32 {
    base.get("population")
        .and_then(|p| p.get("agents"))
        .and_then(|a| a.as_integer())
        .unwrap_or(1) as u32
}

fn with_agents(base: &toml::Table, n: u32) -> toml::Table {
    let mut b = base.clone();
    if let Some(p) = b.get_mut("population").and_then(|p| p.as_table_mut()) {
        p.insert("agents".into(), toml::Value::Integer(n as i64));
    }
    b
}

fn with_horizon_ms(base: &toml::Table, ms: u64) -> toml::Table {
    let mut b = base.clone();
    if let Some(s) = b.get_mut("scenario").and_then(|p| p.as_table_mut()) {
        s.insert("horizon".into(), toml::Value::String(format!("{ms}ms")));
    }
    b
}

/// Shrinks `plan` (which showed `v` with scenario seed `seed`) within `max_runs` runs:
/// no faults, fewer moves, smaller budgets, simpler moves, fewer agents, shorter horizon.
/// Returns the plan, the base table, the violation the reproducer shows and runs spent.
pub fn shrink(
    st: &Setup,
    plan: &Plan,
    seed: u64,
    v: &Seen,
    max_runs: u32,
) -> (Plan, toml::Table, Seen, u32) {
    let mut s = State {
        st,
        seed,
        invariant: v.invariant.clone(),
        runs: 0,
        max_runs,
    };
    let mut plan = plan.clone();
    let mut base = st.base.clone();
    let mut seen = v.clone();
    let keep = |s: &mut State, p: &Plan, b: &toml::Table, seen: &mut Seen| -> bool {
        match s.still(p, b) {
            Some(x) => {
                *seen = x;
                true
            }
            None => false,
        }
    };
    // Faults.
    if plan.faults.is_some() {
        let p = Plan {
            faults: None,
            ..plan.clone()
        };
        if keep(&mut s, &p, &base, &mut seen) {
            plan = p;
        }
    }
    // Moves, one at a time.
    let mut i = 0;
    while plan.moves.len() > 1 && i < plan.moves.len() {
        let mut p = plan.clone();
        p.moves.remove(i);
        if keep(&mut s, &p, &base, &mut seen) {
            plan = p;
        } else {
            i += 1;
        }
    }
    // Simpler moves: no `nth`, no start time, one edit; then smaller budgets.
    for i in 0..plan.moves.len() {
        let mut p = plan.clone();
        let m = &mut p.moves[i];
        let before = m.clone();
        m.nth = None;
        m.from_ms = None;
        if m.action == "modify" {
            m.edits.truncate(1);
        }
        if *m != before && keep(&mut s, &p, &base, &mut seen) {
            plan = p;
        }
        while plan.moves[i].budget > 1 {
            let mut p = plan.clone();
            p.moves[i].budget = (p.moves[i].budget / 2).max(1);
            if keep(&mut s, &p, &base, &mut seen) {
                plan = p;
            } else {
                break;
            }
        }
    }
    // Fewer agents: halve, then one less.
    loop {
        let a = agents(&base);
        if a <= 1 {
            break;
        }
        let half = with_agents(&base, (a / 2).max(1));
        if keep(&mut s, &plan, &half, &mut seen) {
            base = half;
            continue;
        }
        let less = with_agents(&base, a - 1);
        if keep(&mut s, &plan, &less, &mut seen) {
            base = less;
            continue;
        }
        break;
    }
    // Shorter horizon: binary search, to the second, on the shortest that still shows it.
    let (mut lo, mut hi) = (0u64, st.bounds.horizon_ms);
    while hi - lo > 1_000 {
        let mid = lo + (hi - lo) / 2;
        let b = with_horizon_ms(&base, mid);
        if keep(&mut s, &plan, &b, &mut seen) {
            hi = mid;
            base = b;
        } else if s.runs >= s.max_runs {
            break;
        } else {
            lo = mid;
        }
    }
    (plan, base, seen, s.runs)
}
