//! Semantic checks that serde cannot express: ranges that depend on other fields, group
//! and actor references, exclusive options, bounds on counts and queues. Each problem
//! names the field path; the loader turns paths into file:line:col.

use crate::dist::Dist;
use crate::model::{ActorKind, Adversary, AdversaryKind, Placement, Position, Scenario};
use crate::spans::Seg;
use crate::units::DurationNs;
use std::collections::BTreeSet;

/// Most protocol actors one scenario may create.
pub const MAX_ACTORS: u64 = 10_000_000;
/// Most server workers per server.
pub const MAX_WORKERS: u32 = 4_096;
/// Largest server queue or RI nonce cache.
pub const MAX_QUEUE: u32 = 10_000_000;
/// Most network groups (sim-core's topology limit, the same constant).
pub const MAX_GROUPS: usize = sim_core::net::MAX_GROUPS;
/// Most scheduled partitions (sim-core's limit, the same constant).
pub const MAX_PARTITIONS: usize = sim_core::net::MAX_PARTITIONS;
/// Most retries of one request.
pub const MAX_RETRIES: u32 = 100;

/// Every PDU kind an adversary may target, `prefix:localName` as in trace `type` fields.
/// Mirrors `sim_core::pdu::ALL_KINDS` (same order) because this crate is built against a
/// sim-core that predates the PDU module; once both are merged this should be that constant.
pub const MESSAGE_KINDS: &[&str] = &[
    "roap:deviceHello",
    "roap:riHello",
    "roap:registrationRequest",
    "roap:registrationResponse",
    "roap:roRequest",
    "roap:roResponse",
    "roap:joinDomainRequest",
    "roap:joinDomainResponse",
    "roap:leaveDomainRequest",
    "roap:leaveDomainResponse",
    "roap:meteringReportSubmit",
    "roap:meteringReportResponse",
    "roap:roapTrigger",
    "sceroap:moveDeviceRORequest",
    "sceroap:moveDeviceROResponse",
    "sceroap:moveUserDomainConstrainedRORequest",
    "sceroap:moveUserDomainConstrainedROResponse",
    "dom:rdpGetUserDomainAuthorization",
    "dom:rdpGetUserDomainAuthorizationResponse",
    "dom:rdpProxyJoinUserDomainRequest",
    "dom:rdpProxyJoinUserDomainResponse",
    "dom:rdpProxyLeaveUserDomainRequest",
    "dom:rdpProxyLeaveUserDomainResponse",
    "gen:trigger",
    "dmp:joinDomainRequest",
    "dmp:joinDomainResponse",
    "dmp:pairingTicketRequest",
    "dmp:pairingTicketResponse",
    "dmp:authenticationRequest",
    "dmp:authenticationResponse",
    "dmp:importInitiation",
    "dmp:importedRORequest",
    "dmp:importedROResponse",
];

/// Checks a message target: a kind of [`MESSAGE_KINDS`] or `prefix:*` for a known prefix.
fn message_kind(m: &str) -> Result<(), String> {
    if MESSAGE_KINDS.contains(&m) {
        return Ok(());
    }
    if let Some(prefix) = m.strip_suffix(":*") {
        if MESSAGE_KINDS
            .iter()
            .any(|k| k.split(':').next() == Some(prefix))
        {
            return Ok(());
        }
        return Err(format!("unknown message prefix \"{prefix}\" in \"{m}\" (prefixes: roap, sceroap, dom, gen, dmp)"));
    }
    let hint = crate::error::suggest(m, MESSAGE_KINDS.iter().copied())
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    Err(format!("unknown message type \"{m}\" (e.g. \"roap:roRequest\", or \"roap:*\" for a whole namespace){hint}"))
}

/// One semantic problem: the field path and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Path of the offending field.
    pub path: Vec<Seg>,
    /// What is wrong.
    pub message: String,
}

/// Collects problems with paths built from string and index segments.
struct Checker {
    problems: Vec<Problem>,
}

macro_rules! path {
    ($($seg:expr),* $(,)?) => { vec![$(Seg::from($seg)),*] };
}

impl Checker {
    fn bad(&mut self, path: Vec<Seg>, message: impl Into<String>) {
        self.problems.push(Problem {
            path,
            message: message.into(),
        });
    }

    fn dist(&mut self, base: Vec<Seg>, d: &Dist) {
        if let Err((param, msg)) = d.check() {
            let mut p = base;
            p.push(Seg::from(param));
            self.bad(p, msg);
        }
    }

    fn positive(&mut self, path: Vec<Seg>, d: DurationNs) {
        if d.0 == 0 {
            self.bad(path, "must be greater than zero");
        }
    }

    fn group(&mut self, groups: &BTreeSet<&str>, path: Vec<Seg>, name: &str) {
        if !groups.contains(name) {
            let known: Vec<&str> = groups.iter().copied().collect();
            let hint = crate::error::suggest(name, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            self.bad(
                path,
                format!(
                    "unknown group \"{name}\" (groups: {}){hint}",
                    known.join(", ")
                ),
            );
        }
    }
}

/// Checks `s` and returns every problem found (empty = valid).
pub fn check(s: &Scenario) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    meta(&mut c, s);
    let groups = population(&mut c, s);
    network(&mut c, s, &groups);
    costs_and_workload(&mut c, s);
    for (i, a) in s.adversaries.iter().enumerate() {
        adversary(&mut c, s, &groups, i, a);
    }
    expect(&mut c, s);
    c.problems.extend(crate::explore::spec_problems(s));
    // What `run` meets while building (sim-core's limits, adversary targets), once the
    // scenario is otherwise sound: validate and run agree.
    if c.problems.is_empty() {
        c.problems = crate::preflight::check(s);
    }
    c.problems
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 100
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn meta(c: &mut Checker, s: &Scenario) {
    let m = &s.scenario;
    if !valid_name(&m.name) {
        c.bad(
            path!["scenario", "name"],
            format!(
                "\"{}\" is not a valid name (1-100 characters from A-Z a-z 0-9 _ - .)",
                m.name
            ),
        );
    }
    c.positive(path!["scenario", "horizon"], m.horizon);
    if m.event_budget == Some(0) {
        c.bad(
            path!["scenario", "event_budget"],
            "must be at least 1 (omit it for no budget)",
        );
    }
}

fn population<'a>(c: &mut Checker, s: &'a Scenario) -> BTreeSet<&'a str> {
    let p = &s.population;
    let mut groups = BTreeSet::new();
    if p.groups.is_empty() {
        c.bad(
            path!["population", "groups"],
            "at least one group is required",
        );
    }
    if p.groups.len() > MAX_GROUPS {
        c.bad(
            path!["population", "groups"],
            format!(
                "{} groups exceed the limit of {MAX_GROUPS} (the network model numbers groups with 16 bits)",
                p.groups.len()
            ),
        );
    }
    for (i, g) in p.groups.iter().enumerate() {
        if !valid_name(g) {
            c.bad(
                path!["population", "groups", i],
                format!("\"{g}\" is not a valid group name"),
            );
        } else if !groups.insert(g.as_str()) {
            c.bad(
                path!["population", "groups", i],
                format!("group \"{g}\" is listed twice"),
            );
        }
    }
    for kind in ActorKind::ALL {
        if let Some(list) = p.placement.get(kind) {
            let key = Placement::key(kind);
            if list.0.is_empty() {
                c.bad(
                    path!["population", "placement", key],
                    "the list of groups is empty",
                );
            }
            for g in &list.0 {
                c.group(&groups, path!["population", "placement", key], g);
            }
        }
    }
    if p.dea > 1 {
        c.bad(
            path!["population", "dea"],
            format!("at most one DEA is supported, not {}", p.dea),
        );
    }
    if p.ocsp > 1 {
        c.bad(
            path!["population", "ocsp"],
            format!("at most one OCSP responder is supported, not {}", p.ocsp),
        );
    }
    if p.agents as u64 + p.sce_agents as u64 > 0 && p.ris == 0 {
        c.bad(
            path!["population", "ris"],
            "agents need at least one Rights Issuer",
        );
    }
    if p.revoked_agents as u64 > p.agents as u64 + p.sce_agents as u64 {
        c.bad(
            path!["population", "revoked_agents"],
            format!(
                "{} revoked agents but only {} agents",
                p.revoked_agents,
                p.agents as u64 + p.sce_agents as u64
            ),
        );
    }
    if p.actor_count() > MAX_ACTORS {
        c.bad(
            path!["population"],
            format!(
                "{} actors exceed the limit of {MAX_ACTORS}",
                p.actor_count()
            ),
        );
    }
    match p.arrival {
        crate::model::Arrival::AllAtStart {} => {}
        crate::model::Arrival::Poisson { rate_per_s } => {
            if !(rate_per_s.is_finite() && rate_per_s > 0.0) {
                c.bad(
                    path!["population", "arrival", "rate_per_s"],
                    format!("must be finite and > 0, not {rate_per_s}"),
                );
            }
        }
        crate::model::Arrival::Ramp { over } => {
            c.positive(path!["population", "arrival", "over"], over)
        }
    }
    groups
}

fn network(c: &mut Checker, s: &Scenario, groups: &BTreeSet<&str>) {
    let n = &s.network;
    c.dist(path!["network", "latency"], &n.latency);
    if let Some(j) = &n.jitter {
        c.dist(path!["network", "jitter"], j);
    }
    if n.loss.is_some() && n.burst_loss.is_some() {
        c.bad(
            path!["network", "burst_loss"],
            "`loss` and `burst_loss` are exclusive; keep one",
        );
    }
    if n.bandwidth_bps == Some(0) {
        c.bad(
            path!["network", "bandwidth_bps"],
            "must be greater than zero (omit it for unlimited)",
        );
    }
    if n.buffer_bytes.is_some() && n.bandwidth_bps.is_none() {
        c.bad(
            path!["network", "buffer_bytes"],
            "a buffer needs `bandwidth_bps` (without a bandwidth nothing queues)",
        );
    }
    if n.buffer_bytes == Some(0) {
        c.bad(
            path!["network", "buffer_bytes"],
            "must be greater than zero",
        );
    }
    if n.partition.len() > MAX_PARTITIONS {
        c.bad(
            path!["network", "partition"],
            format!(
                "{} partitions exceed the limit of {MAX_PARTITIONS}",
                n.partition.len()
            ),
        );
    }
    let mut pairs = BTreeSet::new();
    for (i, l) in n.link.iter().enumerate() {
        c.group(groups, path!["network", "link", i, "from"], &l.from);
        c.group(groups, path!["network", "link", i, "to"], &l.to);
        if let Some(d) = &l.latency {
            c.dist(path!["network", "link", i, "latency"], d);
        }
        if let Some(d) = &l.jitter {
            c.dist(path!["network", "link", i, "jitter"], d);
        }
        if l.loss.is_some() && l.burst_loss.is_some() {
            c.bad(
                path!["network", "link", i, "burst_loss"],
                "`loss` and `burst_loss` are exclusive; keep one",
            );
        }
        if l.bandwidth_bps == Some(0) {
            c.bad(
                path!["network", "link", i, "bandwidth_bps"],
                "must be greater than zero",
            );
        }
        if l.from == l.to {
            c.bad(
                path!["network", "link", i, "to"],
                "a link joins two different groups; traffic inside a group uses the [network] defaults",
            );
        }
        let bw = l.bandwidth_bps.or(n.bandwidth_bps);
        if l.buffer_bytes.is_some() && bw.is_none() {
            c.bad(
                path!["network", "link", i, "buffer_bytes"],
                "a buffer needs a bandwidth (here or in [network])",
            );
        }
        if l.buffer_bytes == Some(0) {
            c.bad(
                path!["network", "link", i, "buffer_bytes"],
                "must be greater than zero",
            );
        }
        let mut dirs = vec![(l.from.as_str(), l.to.as_str())];
        if l.symmetric && l.from != l.to {
            dirs.push((l.to.as_str(), l.from.as_str()));
        }
        for (f, t) in dirs {
            if !pairs.insert((f, t)) {
                c.bad(
                    path!["network", "link", i],
                    format!("a second override for {f} -> {t}"),
                );
            }
        }
    }
    for (i, p) in n.partition.iter().enumerate() {
        for (side, list) in [("a", &p.a), ("b", &p.b)] {
            if list.is_empty() {
                c.bad(
                    path!["network", "partition", i, side],
                    "at least one group is required",
                );
            }
            for g in list {
                c.group(groups, path!["network", "partition", i, side], g);
            }
        }
        if let Some(g) = p.a.iter().find(|g| p.b.contains(g)) {
            c.bad(
                path!["network", "partition", i, "b"],
                format!("group \"{g}\" is on both sides"),
            );
        }
        if let Some(heal) = p.heal {
            if heal <= p.at {
                c.bad(
                    path!["network", "partition", i, "heal"],
                    format!("heal ({heal}) must be after at ({})", p.at),
                );
            }
        }
    }
}

fn costs_and_workload(c: &mut Checker, s: &Scenario) {
    for (name, sc) in [
        ("ri", &s.costs.ri),
        ("dea", &s.costs.dea),
        ("lrm", &s.costs.lrm),
        ("ocsp", &s.costs.ocsp),
    ] {
        if sc.workers == 0 || sc.workers > MAX_WORKERS {
            c.bad(
                path!["costs", name, "workers"],
                format!(
                    "must be a whole number from 1 to {MAX_WORKERS}, not {}",
                    sc.workers
                ),
            );
        }
        if sc.queue_capacity == 0 || sc.queue_capacity > MAX_QUEUE {
            c.bad(
                path!["costs", name, "queue_capacity"],
                format!(
                    "must be a whole number from 1 to {MAX_QUEUE}, not {}",
                    sc.queue_capacity
                ),
            );
        }
    }
    let w = &s.workload;
    for (name, v) in [
        ("ro_acquire_rate_per_min", w.ro_acquire_rate_per_min),
        ("consume_rate_per_min", w.consume_rate_per_min),
        ("import_rate_per_min", w.import_rate_per_min),
        ("pair_rate_per_min", w.pair_rate_per_min),
        ("lrm_import_rate_per_min", w.lrm_import_rate_per_min),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            c.bad(
                path!["workload", name],
                format!("must be finite and >= 0, not {v}"),
            );
        }
    }
    if let Some(m) = w.metering_interval {
        c.positive(path!["workload", "metering_interval"], m);
    }
    c.positive(path!["workload", "request_timeout"], w.request_timeout);
    if w.max_retries > MAX_RETRIES {
        c.bad(
            path!["workload", "max_retries"],
            format!("at most {MAX_RETRIES}, not {}", w.max_retries),
        );
    }
    if !(w.backoff_multiplier.is_finite() && w.backoff_multiplier >= 1.0) {
        c.bad(
            path!["workload", "backoff_multiplier"],
            format!("must be finite and >= 1, not {}", w.backoff_multiplier),
        );
    }
    if w.backoff_max < w.backoff {
        c.bad(
            path!["workload", "backoff_max"],
            format!(
                "backoff_max ({}) is smaller than backoff ({})",
                w.backoff_max, w.backoff
            ),
        );
    }
    let r = w.dea_trigger_leave_rate_per_min;
    if !(r.is_finite() && r >= 0.0) {
        c.bad(
            path!["workload", "dea_trigger_leave_rate_per_min"],
            format!("must be finite and >= 0, not {r}"),
        );
    }
    let r = w.ri_metering_trigger_rate_per_min;
    if !(r.is_finite() && r >= 0.0) {
        c.bad(
            path!["workload", "ri_metering_trigger_rate_per_min"],
            format!("must be finite and >= 0, not {r}"),
        );
    }
    let r = w.ri_move_trigger_rate_per_min;
    if !(r.is_finite() && r >= 0.0) {
        c.bad(
            path!["workload", "ri_move_trigger_rate_per_min"],
            format!("must be finite and >= 0, not {r}"),
        );
    }
    let u = &s.user_domains;
    if u.count > 10_000 {
        c.bad(
            path!["user_domains", "count"],
            format!("at most 10000, not {}", u.count),
        );
    }
    if u.max_devices == 0 {
        c.bad(path!["user_domains", "max_devices"], "must be at least 1");
    }
    if u.generation > 999 {
        c.bad(
            path!["user_domains", "generation"],
            format!(
                "at most 999 (3-digit domain generation), not {}",
                u.generation
            ),
        );
    }
    if w.nonce_cache_size == 0 || w.nonce_cache_size > MAX_QUEUE {
        c.bad(
            path!["workload", "nonce_cache_size"],
            format!(
                "must be a whole number from 1 to {MAX_QUEUE}, not {}",
                w.nonce_cache_size
            ),
        );
    }
    if w.nonce_cache_devices == 0 || w.nonce_cache_devices > MAX_QUEUE {
        c.bad(
            path!["workload", "nonce_cache_devices"],
            format!(
                "must be a whole number from 1 to {MAX_QUEUE}, not {}",
                w.nonce_cache_devices
            ),
        );
    }
    let tol = w.time_tolerance.as_ns();
    if !(1_000_000_000..=86_400_000_000_000).contains(&tol) {
        c.bad(
            path!["workload", "time_tolerance"],
            "must be between 1s and 24h (DRM time has one-second resolution)".to_string(),
        );
    }
    let life = w.trigger_lifetime.as_ns();
    if !(1_000_000_000..=86_400_000_000_000).contains(&life) {
        c.bad(
            path!["workload", "trigger_lifetime"],
            "must be between 1s and 24h (a trigger's notAfter has one-second resolution)"
                .to_string(),
        );
    }
    if w.trigger_nonce_store == 0 || w.trigger_nonce_store > 65_536 {
        c.bad(
            path!["workload", "trigger_nonce_store"],
            format!("must be in 1..=65536, not {}", w.trigger_nonce_store),
        );
    }
}

/// Checks an actor name `kind/index` or `kind/*` against the population.
fn actor_name(s: &Scenario, name: &str, allow_wildcard: bool) -> Result<(), String> {
    let Some((kind, idx)) = name.split_once('/') else {
        return Err(format!(
            "\"{name}\" is not an actor name like \"agent/3\" or \"ri/0\""
        ));
    };
    let Some(k) = ActorKind::from_name(kind) else {
        let kinds: Vec<&str> = ActorKind::ALL.iter().map(|k| k.name()).collect();
        let hint = crate::error::suggest(kind, kinds.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        return Err(format!(
            "unknown actor kind \"{kind}\" in \"{name}\" (kinds: {}){hint}",
            kinds.join(", ")
        ));
    };
    let count = s.population.count(k);
    if idx == "*" {
        return if !allow_wildcard {
            Err(format!("\"{name}\": a wildcard is not allowed here"))
        } else if count == 0 {
            Err(format!(
                "\"{name}\" matches nothing: the population has no {kind}"
            ))
        } else {
            Ok(())
        };
    }
    match idx.parse::<u32>() {
        Ok(i) if i < count => Ok(()),
        Ok(i) => Err(format!("\"{name}\" does not exist: the population has {count} {kind} (indices 0..{count}), index {i}")),
        Err(_) => Err(format!("\"{name}\": the index must be a number or `*`")),
    }
}

/// `move_attack`: a known mode, on a move_attacker, at the position the mode needs
/// (`concurrent` and `rollback` act as a compromised Device, the others on the path).
fn move_attack(c: &mut Checker, i: usize, a: &Adversary) {
    use sim_core::adversary::mover::MoveMode;
    let p = |f: &str| path!["adversary", i, f];
    let Some(m) = &a.move_attack else { return };
    if a.kind != AdversaryKind::MoveAttacker {
        return c.bad(
            p("move_attack"),
            format!(
                "`move_attack` applies to move_attackers, not {}",
                a.kind.as_str()
            ),
        );
    }
    let Some(mode) = MoveMode::parse(m) else {
        let names: Vec<String> = MoveMode::NAMES.iter().map(|n| format!("\"{n}\"")).collect();
        return c.bad(
            p("move_attack"),
            format!("unknown Move attack \"{m}\" (one of {})", names.join(", ")),
        );
    };
    let timed = matches!(
        mode,
        MoveMode::Auto | MoveMode::ReplayRequest | MoveMode::DelayResponse
    );
    if a.replay_delay.is_some() && !timed {
        c.bad(
            p("replay_delay"),
            format!(
                "move_attack \"{}\" takes no `replay_delay` (only auto, replay_request, delay_response)",
                mode.as_str()
            ),
        );
    }
    match (mode, a.position) {
        (MoveMode::Auto, _) => {}
        (m, Position::Compromised) if m.compromised() => {
            let ep = a.endpoint.as_deref().unwrap_or("");
            if !ep.is_empty() && !ep.starts_with("agent/") && !ep.starts_with("sce_agent/") {
                c.bad(
                    p("endpoint"),
                    format!(
                        "move_attack \"{}\" needs a compromised Device (`agent/N`), not \"{ep}\"",
                        m.as_str()
                    ),
                );
            }
        }
        (m, pos) if m.compromised() => c.bad(
            p("move_attack"),
            format!(
                "move_attack \"{}\" acts as a compromised Device: needs position = \"compromised\", not {}",
                m.as_str(),
                pos.as_str()
            ),
        ),
        (_, Position::OnPath) => {}
        (m, pos) => c.bad(
            p("move_attack"),
            format!(
                "move_attack \"{}\" is an on-path attack: needs position = \"on_path\", not {}",
                m.as_str(),
                pos.as_str()
            ),
        ),
    }
}

/// `impersonate`: a known mode, on an impersonator. `revoked` needs its endpoint among the
/// revoked agents (else its Successes would be scored as the attack succeeding);
/// `wrong_purpose` needs a DEA with at least one User Domain to aim at.
fn impersonate(c: &mut Checker, s: &Scenario, i: usize, a: &Adversary) {
    use sim_core::adversary::impersonator::ImpersonateMode;
    let p = |f: &str| path!["adversary", i, f];
    let Some(m) = &a.impersonate else { return };
    if a.kind != AdversaryKind::Impersonator {
        return c.bad(
            p("impersonate"),
            format!(
                "`impersonate` applies to impersonators, not {}",
                a.kind.as_str()
            ),
        );
    }
    let Some(mode) = ImpersonateMode::parse(m) else {
        let names: Vec<String> = ImpersonateMode::NAMES
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect();
        return c.bad(
            p("impersonate"),
            format!(
                "unknown impersonation \"{m}\" (one of {})",
                names.join(", ")
            ),
        );
    };
    let pop = &s.population;
    match mode {
        ImpersonateMode::ClaimId => {}
        ImpersonateMode::Revoked => {
            // Actor order of WorldConfig: agent/0.., then sce_agent/0.. (assemble.rs).
            let ep = a.endpoint.as_deref().unwrap_or("");
            let index = if let Some(n) = ep.strip_prefix("sce_agent/") {
                n.parse::<u64>().ok().map(|n| n + u64::from(pop.agents))
            } else {
                ep.strip_prefix("agent/")
                    .and_then(|n| n.parse::<u64>().ok())
            };
            if index.is_none_or(|k| k >= u64::from(pop.revoked_agents)) {
                c.bad(
                    p("impersonate"),
                    format!(
                        "impersonate \"revoked\" needs its endpoint \"{ep}\" revoked: \
                         population.revoked_agents = {} revokes the first {} agents \
                         (agent/0.., then sce_agent/0..)",
                        pop.revoked_agents, pop.revoked_agents
                    ),
                );
            }
        }
        ImpersonateMode::WrongPurpose => {
            let ep = a.endpoint.as_deref().unwrap_or("");
            if !ep.is_empty() && !ep.starts_with("agent/") && !ep.starts_with("sce_agent/") {
                c.bad(
                    p("endpoint"),
                    format!(
                        "impersonate \"wrong_purpose\" needs a compromised Device (`agent/N` or \
                         `sce_agent/N`), not \"{ep}\""
                    ),
                );
            }
            if pop.dea == 0 || s.user_domains.count == 0 {
                c.bad(
                    p("impersonate"),
                    "impersonate \"wrong_purpose\" needs a DEA (population.dea = 1) \
                     with at least one User Domain (user_domains.count)",
                );
            }
        }
    }
}

fn adversary(c: &mut Checker, s: &Scenario, groups: &BTreeSet<&str>, i: usize, a: &Adversary) {
    let p = |f: &str| path!["adversary", i, f];
    if let Some(n) = &a.name {
        if !valid_name(&n.replace('/', "_")) {
            c.bad(p("name"), format!("\"{n}\" is not a valid name"));
        }
    }
    let names: Vec<String> = s
        .adversaries
        .iter()
        .enumerate()
        .map(|(j, a)| a.display_name(j))
        .collect();
    if names[..i].contains(&names[i]) {
        c.bad(
            p("name"),
            format!("adversary name \"{}\" is used twice", names[i]),
        );
    }
    match a.position {
        Position::OnPath => {
            if a.links.is_empty() {
                c.bad(
                    p("links"),
                    "an on_path adversary needs at least one [from, to] link",
                );
            }
            for (j, [f, t]) in a.links.iter().enumerate() {
                c.group(groups, path!["adversary", i, "links", j], f);
                c.group(groups, path!["adversary", i, "links", j], t);
            }
        }
        Position::OffPath | Position::Compromised => {
            if !a.links.is_empty() {
                c.bad(
                    p("links"),
                    format!(
                        "`links` applies to on_path adversaries, not {}",
                        a.position.as_str()
                    ),
                );
            }
        }
    }
    match (a.position, &a.group) {
        (Position::OffPath, Some(g)) => c.group(groups, p("group"), g),
        (_, Some(_)) => c.bad(
            p("group"),
            format!(
                "`group` applies to off_path adversaries, not {}",
                a.position.as_str()
            ),
        ),
        _ => {}
    }
    match (a.position, &a.endpoint) {
        (Position::Compromised, Some(e)) => {
            if let Err(m) = actor_name(s, e, false) {
                c.bad(p("endpoint"), m);
            }
        }
        (Position::Compromised, None) => c.bad(
            p("position"),
            "a compromised adversary needs `endpoint` (e.g. \"agent/0\")",
        ),
        (_, Some(_)) => c.bad(
            p("endpoint"),
            format!(
                "`endpoint` applies to compromised adversaries, not {}",
                a.position.as_str()
            ),
        ),
        _ => {}
    }
    match (a.kind, a.rate_per_s) {
        (AdversaryKind::Flooder, None) => c.bad(p("kind"), "a flooder needs `rate_per_s`"),
        (AdversaryKind::Flooder, Some(r)) if !(r.is_finite() && r > 0.0) => {
            c.bad(p("rate_per_s"), format!("must be finite and > 0, not {r}"))
        }
        (AdversaryKind::Flooder, Some(_)) => {}
        (k, Some(_)) => c.bad(
            p("rate_per_s"),
            format!("`rate_per_s` applies to flooders, not {}", k.as_str()),
        ),
        (_, None) => {}
    }
    if a.replay_delay.is_some()
        && !matches!(
            a.kind,
            AdversaryKind::Replayer | AdversaryKind::MoveAttacker
        )
    {
        c.bad(
            p("replay_delay"),
            format!(
                "`replay_delay` applies to replayers and move_attackers, not {}",
                a.kind.as_str()
            ),
        );
    }
    move_attack(c, i, a);
    impersonate(c, s, i, a);
    if let Some(to) = &a.replay_to {
        if a.kind != AdversaryKind::Replayer {
            c.bad(
                p("replay_to"),
                format!("`replay_to` applies to replayers, not {}", a.kind.as_str()),
            );
        } else if to != "same" && to != "other" {
            if let Err(m) = actor_name(s, to, true) {
                c.bad(
                    p("replay_to"),
                    format!("must be \"same\", \"other\" or an actor name or pattern: {m}"),
                );
            }
        }
    }
    if a.reserialise && !matches!(a.kind, AdversaryKind::Tamperer | AdversaryKind::Replayer) {
        c.bad(
            p("reserialise"),
            format!(
                "`reserialise` applies to tamperers and replayers, not {}",
                a.kind.as_str()
            ),
        );
    }
    for (j, m) in a.targets.messages.iter().enumerate() {
        if let Err(msg) = message_kind(m) {
            c.bad(path!["adversary", i, "targets", "messages", j], msg);
        }
    }
    for (j, n) in a.targets.actors.iter().enumerate() {
        if let Err(m) = actor_name(s, n, true) {
            c.bad(path!["adversary", i, "targets", "actors", j], m);
        }
    }
    if let (Some(from), Some(to)) = (a.window.from, a.window.to) {
        if to <= from {
            c.bad(
                path!["adversary", i, "window", "to"],
                format!("to ({to}) must be after from ({from})"),
            );
        }
    }
    if a.budget == 0 {
        c.bad(p("budget"), "must be at least 1");
    }
    rules(c, s, i, a);
}

/// `[[adversary.rules]]`: only for `kind = "rules"`, which needs at least one.
fn rules(c: &mut Checker, s: &Scenario, i: usize, a: &Adversary) {
    match (a.kind, a.rules.is_empty()) {
        (AdversaryKind::Rules, true) => {
            c.bad(
                path!["adversary", i, "kind"],
                "a `rules` adversary needs at least one [[adversary.rules]]",
            );
            return;
        }
        (AdversaryKind::Rules, false) => {}
        (k, false) => {
            c.bad(
                path!["adversary", i, "rules"],
                format!("`rules` apply to kind = \"rules\", not {}", k.as_str()),
            );
            return;
        }
        (_, true) => return,
    }
    let mut problems = Vec::new();
    crate::rules::convert(a, &mut problems);
    for (j, field, msg) in problems {
        let mut p = path!["adversary", i, "rules", j];
        for (k, f) in field.iter().enumerate() {
            // Edits are an array: `edits.N.field`.
            match f.parse::<usize>() {
                Ok(n) if k > 0 && field[k - 1] == "edits" => p.push(n.into()),
                _ => p.push(f.as_str().into()),
            }
        }
        c.bad(p, msg);
    }
    for (j, r) in a.rules.iter().enumerate() {
        for (k, m) in r.when.kind.iter().enumerate() {
            if let Err(msg) = message_kind(m) {
                c.bad(path!["adversary", i, "rules", j, "when", "kind", k], msg);
            }
        }
        for (name, list) in [("from", &r.when.from), ("to", &r.when.to)] {
            for (k, n) in list.iter().enumerate() {
                if let Err(m) = actor_name(s, n, true) {
                    c.bad(path!["adversary", i, "rules", j, "when", name, k], m);
                }
            }
        }
        if let (Some(f), Some(t)) = (r.when.after, r.when.before) {
            if t <= f {
                c.bad(
                    path!["adversary", i, "rules", j, "when", "before"],
                    format!("before ({t}) must be after after ({f})"),
                );
            }
        }
        if r.then == "flood" {
            if let Some(to) = &r.to {
                if let Err(m) = actor_name(s, to, false) {
                    c.bad(path!["adversary", i, "rules", j, "to"], m);
                }
            }
        }
    }
}

fn expect(c: &mut Checker, s: &Scenario) {
    let e = &s.expect;
    for name in e.min_completion.keys() {
        if !crate::model::PROTOCOLS.contains(&name.as_str()) {
            let protocols = crate::model::PROTOCOLS.iter().copied();
            // `move` → `move_device_ro`: a prefix is a likelier intent than an edit.
            let hint = crate::error::suggest(name, protocols.clone())
                .or_else(|| {
                    let mut starts = protocols.filter(|p| p.starts_with(name.as_str()));
                    starts.next().map(str::to_string)
                })
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            c.bad(
                path!["expect", "min_completion", name.as_str()],
                format!(
                    "unknown protocol \"{name}\" (protocols, as in the outcome table: {}){hint}",
                    crate::model::PROTOCOLS.join(", ")
                ),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for (i, inv) in e.invariants.iter().enumerate() {
        let ok = !inv.is_empty()
            && inv
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !ok {
            c.bad(
                path!["expect", "invariants", i],
                format!("\"{inv}\" is not a snake_case invariant name"),
            );
        } else if !seen.insert(inv.as_str()) {
            c.bad(
                path!["expect", "invariants", i],
                format!("\"{inv}\" is listed twice"),
            );
        }
    }
    let names: Vec<String> = s
        .adversaries
        .iter()
        .enumerate()
        .map(|(j, a)| a.display_name(j))
        .collect();
    for key in ["blocked", "succeed"] {
        let list = if key == "blocked" {
            &e.blocked
        } else {
            &e.succeed
        };
        for (i, n) in list.iter().enumerate() {
            if !names.contains(n) {
                let hint = crate::error::suggest(n, names.iter().map(|s| s.as_str()))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                let known = if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                };
                c.bad(
                    path!["expect", key, i],
                    format!("no adversary is named \"{n}\" (adversaries: {known}){hint}"),
                );
            }
        }
    }
    for (i, n) in e.succeed.iter().enumerate() {
        if e.blocked.contains(n) {
            c.bad(
                path!["expect", "succeed", i],
                format!("\"{n}\" cannot be both blocked and succeed"),
            );
        }
    }
}
