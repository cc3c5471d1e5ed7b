//! What `drmsim explore` tries: attacker plans (moves of the programmable attacker plus
//! network faults), drawn at random over what the honest run showed (swarm testing: each
//! plan draws a few actions and targets, never all), mutated from plans that reached
//! something new, and rendered as ordinary `[[adversary]]` tables.

use crate::model::{ALL_ACTIONS, DEFAULT_ACTIONS};
use crate::validate::MESSAGE_KINDS;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One way a message kind travels: sender and receiver kinds and groups.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Route {
    /// Sender's actor kind (`agent`, `ri`, `dea`, `lrm`, `ocsp`).
    pub from_kind: String,
    /// Receiver's actor kind.
    pub to_kind: String,
    /// Sender's group.
    pub from_group: String,
    /// Receiver's group.
    pub to_group: String,
}

/// What the honest run showed: the message kinds on each route, and every field of them.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Kind → routes it travelled, with message counts.
    pub kinds: BTreeMap<String, BTreeMap<Route, u64>>,
    /// Kind → its field paths (docs/pdus.md "Field paths").
    pub fields: BTreeMap<String, Vec<String>>,
    /// Actor names by kind (`agent` → `agent/0`, …), for compromised endpoints.
    pub actors: BTreeMap<String, Vec<String>>,
}

impl Catalog {
    /// Records one message.
    pub fn add(&mut self, kind: &str, route: Route) {
        *self
            .kinds
            .entry(kind.to_string())
            .or_default()
            .entry(route)
            .or_insert(0) += 1;
        if !self.fields.contains_key(kind) {
            let f = sim_core::adversary::rules::field::kind_fields(kind).unwrap_or_default();
            self.fields.insert(kind.to_string(), f);
        }
    }

    /// Keeps only `kinds` (when not empty).
    pub fn restrict(&mut self, kinds: &[String]) {
        if !kinds.is_empty() {
            self.kinds.retain(|k, _| kinds.contains(k));
        }
    }
}

/// Where one move's attacker sits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Place {
    /// On the link of the target route.
    OnPath,
    /// Holding the keys of this endpoint (from `[explore] compromised`).
    Compromised(String),
}

/// One field edit: path and operation (`flip`, `remove`, `swap`, `add_extension`,
/// `add_critical_extension`, or `set:<text>`).
pub type FieldEdit = (String, String);

/// One attacker move: one `[[adversary]]` with one or two rules.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Move {
    /// Target message kind.
    pub kind: String,
    /// Route of the target the attacker sits on.
    pub route: Route,
    /// One of [`ALL_ACTIONS`].
    pub action: String,
    /// Position.
    pub place: Place,
    /// Most actions.
    pub budget: u64,
    /// Active from, ms.
    pub from_ms: Option<u64>,
    /// Only the n-th matching message.
    pub nth: Option<u64>,
    /// delay/reorder hold, ms.
    pub by_ms: Option<u64>,
    /// duplicate/replay/inject delay, ms.
    pub after_ms: Option<u64>,
    /// replay destination (`same`, `sender`, `other`).
    pub to: Option<String>,
    /// duplicate copies.
    pub copies: Option<u32>,
    /// modify edits.
    pub edits: Vec<FieldEdit>,
    /// skew: seconds added to a compromised Device's DRM clock.
    pub skew_s: Option<i64>,
}

/// Network faults added to a run (never loss).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Faults {
    /// Duplication, percent.
    pub duplicate_pct: u32,
    /// Uniform jitter upper bound, ms.
    pub jitter_ms: u64,
}

/// Everything an explored run adds to the scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Plan {
    /// Attacker moves.
    pub moves: Vec<Move>,
    /// Network faults.
    pub faults: Option<Faults>,
}

/// The search bounds a plan is drawn within (from `[explore]`, defaults applied).
#[derive(Clone, Debug)]
pub struct Bounds {
    /// Allowed actions.
    pub actions: Vec<String>,
    /// Compromised endpoints allowed.
    pub compromised: Vec<String>,
    /// Most moves per plan.
    pub moves_max: u32,
    /// Most actions per move.
    pub budget: u64,
    /// Network faults allowed.
    pub faults: bool,
    /// Horizon of a run, ms.
    pub horizon_ms: u64,
}

impl Bounds {
    /// Bounds from `[explore]`.
    pub fn from_spec(spec: &crate::model::ExploreSpec, horizon_ms: u64) -> Bounds {
        Bounds {
            actions: if spec.actions.is_empty() {
                DEFAULT_ACTIONS.iter().map(|s| s.to_string()).collect()
            } else {
                spec.actions.clone()
            },
            compromised: spec.compromised.clone(),
            moves_max: spec.moves_max.unwrap_or(3).clamp(1, 8),
            budget: spec.budget.unwrap_or(12).clamp(1, 1000),
            faults: spec.faults.unwrap_or(true),
            horizon_ms,
        }
    }
}

/// Coverage so far: how often each (kind, action) acted, for weighting draws toward what
/// has not been tried.
pub type Coverage = BTreeMap<(String, String), u64>;

/// The response kind a forged answer to `kind` takes, if the protocol has one.
pub fn answer_kind(kind: &str) -> Option<&'static str> {
    let want = if kind == "roap:deviceHello" {
        "roap:riHello".to_string()
    } else if let Some(p) = kind.strip_suffix("Request") {
        format!("{p}Response")
    } else if let Some(p) = kind.strip_suffix("Submit") {
        format!("{p}Response")
    } else if kind == "dom:rdpGetUserDomainAuthorization" {
        "dom:rdpGetUserDomainAuthorizationResponse".to_string()
    } else {
        return None;
    };
    MESSAGE_KINDS.iter().copied().find(|k| *k == want)
}

/// Edits that make a forged answer of kind `answer` match the request of kind `kind`: the
/// status set to Success and every identifier and nonce the request carries copied in
/// (`$field`), the request's `nonce` going to the answer's `deviceNonce` where it has one.
pub fn echo_edits(cat: &Catalog, kind: &str, answer: &str) -> Vec<FieldEdit> {
    let empty = Vec::new();
    let req = cat.fields.get(kind).unwrap_or(&empty);
    let ans = sim_core::adversary::rules::field::kind_fields(answer).unwrap_or_default();
    let mut out = Vec::new();
    if ans.iter().any(|f| f == "@status") {
        out.push(("@status".to_string(), "set:Success".to_string()));
    }
    const SKIP: &[&str] = &[
        "signature",
        "certificateChain",
        "ocspResponse",
        "extensions",
        "mac",
        "encKey",
    ];
    for f in &ans {
        if f.contains('/') || f.starts_with('@') || SKIP.contains(&f.as_str()) {
            continue;
        }
        if req.contains(f) {
            out.push((f.clone(), format!("set:${f}")));
        } else if f == "deviceNonce" && req.iter().any(|r| r == "nonce") {
            out.push((f.clone(), "set:$nonce".to_string()));
        }
    }
    out
}

fn pick_weighted<'a, R: Rng>(
    items: &'a [(String, String, u64)],
    rng: &mut R,
) -> &'a (String, String, u64) {
    // Weight 1/(1+acted)^2: a pair that never acted is four times as likely as one that
    // acted once.
    let w: Vec<f64> = items
        .iter()
        .map(|(_, _, c)| 1.0 / ((1 + c) * (1 + c)) as f64)
        .collect();
    let total: f64 = w.iter().sum();
    let mut x = rng.gen_range(0.0..total);
    for (i, wi) in w.iter().enumerate() {
        if x < *wi {
            return &items[i];
        }
        x -= wi;
    }
    &items[items.len() - 1]
}

/// The (kind, action) pairs a plan can use, with how often each acted so far.
fn candidates(cat: &Catalog, b: &Bounds, cov: &Coverage) -> Vec<(String, String, u64)> {
    let mut v = Vec::new();
    for kind in cat.kinds.keys() {
        for a in &b.actions {
            let ok = match a.as_str() {
                "forge" | "inject" => answer_kind(kind).is_some(),
                "skew" => b.compromised.iter().any(|c| c.starts_with("agent/")),
                _ => true,
            };
            if ok {
                let c = cov.get(&(kind.clone(), a.clone())).copied().unwrap_or(0);
                v.push((kind.clone(), a.clone(), c));
            }
        }
    }
    v
}

const DELAYS_MS: &[u64] = &[0, 100, 1_000, 10_000, 60_000, 100_000, 180_000];
const HOLDS_MS: &[u64] = &[200, 1_000, 5_000, 30_000];

/// A fresh move on `kind` doing `action`.
fn new_move<R: Rng>(cat: &Catalog, b: &Bounds, kind: &str, action: &str, rng: &mut R) -> Move {
    let routes: Vec<&Route> = cat
        .kinds
        .get(kind)
        .map(|r| r.keys().collect())
        .unwrap_or_default();
    let route = routes.choose(rng).map(|r| (*r).clone()).unwrap_or(Route {
        from_kind: String::new(),
        to_kind: String::new(),
        from_group: String::new(),
        to_group: String::new(),
    });
    let place = if action == "skew" {
        let agents: Vec<&String> = b
            .compromised
            .iter()
            .filter(|c| c.starts_with("agent/"))
            .collect();
        Place::Compromised(
            agents
                .choose(rng)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        )
    } else if !b.compromised.is_empty() && rng.gen_bool(0.3) {
        Place::Compromised(b.compromised.choose(rng).cloned().unwrap_or_default())
    } else {
        Place::OnPath
    };
    let within = |ms: u64| ms < b.horizon_ms;
    let delays: Vec<u64> = DELAYS_MS.iter().copied().filter(|d| within(*d)).collect();
    let mut m = Move {
        kind: kind.to_string(),
        route,
        action: action.to_string(),
        place,
        budget: rng.gen_range(1..=b.budget),
        from_ms: rng
            .gen_bool(0.3)
            .then(|| rng.gen_range(0..b.horizon_ms.max(2) / 2)),
        nth: rng.gen_bool(0.15).then(|| rng.gen_range(1..=4)),
        by_ms: None,
        after_ms: None,
        to: None,
        copies: None,
        edits: Vec::new(),
        skew_s: None,
    };
    match action {
        "delay" | "reorder" => m.by_ms = HOLDS_MS.choose(rng).copied(),
        "duplicate" => {
            m.copies = Some(rng.gen_range(1..=3));
            m.after_ms = delays.choose(rng).copied();
        }
        "replay" => {
            m.to = ["same", "sender", "other"]
                .choose(rng)
                .map(|s| s.to_string());
            m.after_ms = delays.choose(rng).copied();
        }
        "modify" => {
            let n = rng.gen_range(1..=2);
            for _ in 0..n {
                m.edits.push(field_edit(cat, kind, rng));
            }
        }
        "forge" | "inject" => {
            if let Some(ans) = answer_kind(kind) {
                m.edits = echo_edits(cat, kind, ans);
            }
            m.after_ms = Some(0);
        }
        "skew" => {
            m.skew_s = [-86_400 * 400, -3_600, 3_600, 86_400 * 400]
                .choose(rng)
                .copied();
        }
        _ => {}
    }
    m
}

fn field_edit<R: Rng>(cat: &Catalog, kind: &str, rng: &mut R) -> FieldEdit {
    let empty = Vec::new();
    let fields = cat.fields.get(kind).unwrap_or(&empty);
    let ops = [
        "flip",
        "flip",
        "remove",
        "swap",
        "add_extension",
        "add_critical_extension",
    ];
    let op = ops.choose(rng).copied().unwrap_or("flip");
    if op.starts_with("add_") {
        return (String::new(), op.to_string());
    }
    let f = fields
        .choose(rng)
        .cloned()
        .unwrap_or_else(|| "nonce".to_string());
    (f, op.to_string())
}

fn draw_faults<R: Rng>(b: &Bounds, rng: &mut R) -> Option<Faults> {
    (b.faults && rng.gen_bool(0.25)).then(|| Faults {
        duplicate_pct: *[0u32, 10, 30].choose(rng).unwrap_or(&0),
        jitter_ms: *[0u64, 50, 200].choose(rng).unwrap_or(&0),
    })
}

/// A fresh random plan: 1..=`moves_max` moves over (kind, action) pairs weighted toward
/// those that have acted least.
pub fn draw<R: Rng>(cat: &Catalog, b: &Bounds, cov: &Coverage, rng: &mut R) -> Plan {
    let cands = candidates(cat, b, cov);
    let mut plan = Plan {
        moves: Vec::new(),
        faults: draw_faults(b, rng),
    };
    if cands.is_empty() {
        return plan;
    }
    let n = rng.gen_range(1..=b.moves_max);
    for _ in 0..n {
        let (kind, action, _) = pick_weighted(&cands, rng);
        plan.moves.push(new_move(cat, b, kind, action, rng));
    }
    plan
}

/// A neighbour of `plan`: one move added, removed, retargeted or re-parametrised, or the
/// faults redrawn.
pub fn mutate<R: Rng>(plan: &Plan, cat: &Catalog, b: &Bounds, cov: &Coverage, rng: &mut R) -> Plan {
    let mut p = plan.clone();
    let cands = candidates(cat, b, cov);
    if cands.is_empty() {
        return p;
    }
    match rng.gen_range(0..5) {
        0 if (p.moves.len() as u32) < b.moves_max => {
            let (kind, action, _) = pick_weighted(&cands, rng);
            p.moves.push(new_move(cat, b, kind, action, rng));
        }
        1 if p.moves.len() > 1 => {
            let i = rng.gen_range(0..p.moves.len());
            p.moves.remove(i);
        }
        2 if !p.moves.is_empty() => {
            // Same action, another kind (or the same kind, another action).
            let i = rng.gen_range(0..p.moves.len());
            let (kind, action, _) = pick_weighted(&cands, rng);
            let keep_action = rng.gen_bool(0.5)
                && cands
                    .iter()
                    .any(|(k, a, _)| k == kind && *a == p.moves[i].action);
            let a = if keep_action {
                p.moves[i].action.clone()
            } else {
                action.clone()
            };
            p.moves[i] = new_move(cat, b, kind, &a, rng);
        }
        3 if !p.moves.is_empty() => {
            // Redraw the parameters, keep kind and action.
            let i = rng.gen_range(0..p.moves.len());
            let (k, a) = (p.moves[i].kind.clone(), p.moves[i].action.clone());
            p.moves[i] = new_move(cat, b, &k, &a, rng);
        }
        _ => p.faults = draw_faults(b, rng),
    }
    p
}

/// Whether `action` is a known action name.
pub fn known_action(a: &str) -> bool {
    ALL_ACTIONS.contains(&a)
}

fn dur(ms: u64) -> toml::Value {
    toml::Value::String(format!("{ms}ms"))
}

fn edit_table(f: &FieldEdit) -> toml::Value {
    let mut t = toml::Table::new();
    let (path, op) = f;
    match op.as_str() {
        "add_extension" | "add_critical_extension" => {
            t.insert("field".into(), toml::Value::String(path.clone()));
            t.insert("op".into(), toml::Value::String("add_extension".into()));
            if op == "add_critical_extension" {
                t.insert("critical".into(), toml::Value::Boolean(true));
            }
        }
        o if o.starts_with("set:") => {
            t.insert("field".into(), toml::Value::String(path.clone()));
            t.insert(
                "value".into(),
                toml::Value::String(o["set:".len()..].to_string()),
            );
        }
        o => {
            t.insert("field".into(), toml::Value::String(path.clone()));
            t.insert("op".into(), toml::Value::String(o.to_string()));
        }
    }
    toml::Value::Table(t)
}

/// The `[[adversary]]` table of move `i`.
pub fn adversary_table(m: &Move, i: usize) -> toml::Table {
    use toml::Value as V;
    let s = |x: &str| V::String(x.to_string());
    let mut a = toml::Table::new();
    a.insert("kind".into(), s("rules"));
    a.insert("name".into(), V::String(format!("move{i}-{}", m.action)));
    match &m.place {
        Place::OnPath => {
            a.insert("position".into(), s("on_path"));
            a.insert(
                "links".into(),
                V::Array(vec![V::Array(vec![
                    s(&m.route.from_group),
                    s(&m.route.to_group),
                ])]),
            );
        }
        Place::Compromised(e) => {
            a.insert("position".into(), s("compromised"));
            a.insert("endpoint".into(), s(e));
        }
    }
    let budget = V::Integer(m.budget as i64);
    a.insert("budget".into(), budget.clone());
    let mut when = toml::Table::new();
    if m.action != "skew" {
        when.insert("kind".into(), V::Array(vec![s(&m.kind)]));
        if !m.route.to_kind.is_empty() {
            when.insert(
                "to".into(),
                V::Array(vec![V::String(format!("{}/*", m.route.to_kind))]),
            );
        }
        if let Some(n) = m.nth {
            when.insert("nth".into(), V::Integer(n as i64));
        }
    }
    if let Some(f) = m.from_ms {
        when.insert("after".into(), dur(f));
    }
    let rule = |then: &str| {
        let mut r = toml::Table::new();
        r.insert("when".into(), V::Table(when.clone()));
        r.insert("then".into(), s(then));
        r.insert("budget".into(), budget.clone());
        r
    };
    let mut rules = Vec::new();
    match m.action.as_str() {
        "forge" | "inject" => {
            if m.action == "forge" {
                rules.push(rule("drop"));
            }
            let mut r = rule("inject");
            if let Some(k) = answer_kind(&m.kind) {
                r.insert("kind".into(), s(k));
            }
            r.insert("to".into(), s("sender"));
            r.insert(
                "edits".into(),
                V::Array(m.edits.iter().map(edit_table).collect()),
            );
            rules.push(r);
        }
        act => {
            let mut r = rule(act);
            if let Some(b) = m.by_ms {
                r.insert("by".into(), dur(b));
            }
            if let Some(a) = m.after_ms {
                r.insert("after".into(), dur(a));
            }
            if let Some(t) = &m.to {
                r.insert("to".into(), s(t));
            }
            if let Some(c) = m.copies {
                r.insert("copies".into(), V::Integer(c as i64));
            }
            if !m.edits.is_empty() {
                r.insert(
                    "edits".into(),
                    V::Array(m.edits.iter().map(edit_table).collect()),
                );
                if matches!(m.place, Place::Compromised(_))
                    && sim_core::adversary::rules::resignable(&m.kind)
                {
                    r.insert("resign".into(), V::Boolean(true));
                }
            }
            if let Some(k) = m.skew_s {
                r.insert("skew_s".into(), V::Integer(k));
            }
            rules.push(r);
        }
    }
    a.insert(
        "rules".into(),
        V::Array(rules.into_iter().map(V::Table).collect()),
    );
    a
}

/// One line per move, for reports: `drop roap:roRequest (agent → ri, home→core) ×4`.
pub fn describe(m: &Move) -> String {
    let place = match &m.place {
        Place::OnPath => format!("on {}→{}", m.route.from_group, m.route.to_group),
        Place::Compromised(e) => format!("as {e}"),
    };
    let mut extra = Vec::new();
    if let Some(v) = m.by_ms {
        extra.push(format!("by {v} ms"));
    }
    if let Some(v) = m.after_ms {
        extra.push(format!("after {v} ms"));
    }
    if let Some(v) = &m.to {
        extra.push(format!("to {v}"));
    }
    if let Some(v) = m.nth {
        extra.push(format!("only the #{v}"));
    }
    if let Some(v) = m.from_ms {
        extra.push(format!("from {v} ms"));
    }
    for (f, o) in &m.edits {
        extra.push(format!("{o} {f}"));
    }
    if let Some(v) = m.skew_s {
        extra.push(format!("skew {v} s"));
    }
    format!(
        "{} {} ({} → {}) {place}, budget {}{}",
        m.action,
        m.kind,
        m.route.from_kind,
        m.route.to_kind,
        m.budget,
        if extra.is_empty() {
            String::new()
        } else {
            format!(": {}", extra.join(", "))
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_pair_with_their_requests() {
        assert_eq!(answer_kind("roap:roRequest"), Some("roap:roResponse"));
        assert_eq!(
            answer_kind("roap:meteringReportSubmit"),
            Some("roap:meteringReportResponse")
        );
        assert_eq!(
            answer_kind("dom:rdpProxyJoinUserDomainRequest"),
            Some("dom:rdpProxyJoinUserDomainResponse")
        );
        assert_eq!(answer_kind("roap:deviceHello"), Some("roap:riHello"));
        assert_eq!(answer_kind("roap:roResponse"), None);
        assert_eq!(answer_kind("gen:trigger"), None);
    }

    #[test]
    fn a_forged_metering_answer_echoes_the_report() {
        let mut cat = Catalog::default();
        let r = Route {
            from_kind: "agent".into(),
            to_kind: "ri".into(),
            from_group: "home".into(),
            to_group: "core".into(),
        };
        cat.add("roap:meteringReportSubmit", r);
        let e = echo_edits(
            &cat,
            "roap:meteringReportSubmit",
            "roap:meteringReportResponse",
        );
        for want in [
            ("@status", "set:Success"),
            ("deviceID", "set:$deviceID"),
            ("riID", "set:$riID"),
            ("deviceNonce", "set:$nonce"),
        ] {
            assert!(
                e.contains(&(want.0.to_string(), want.1.to_string())),
                "{want:?} missing from {e:?}"
            );
        }
    }
}
