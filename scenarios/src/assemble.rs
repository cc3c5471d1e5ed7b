//! From a validated [`Scenario`] to a running simulation: the network topology, the
//! protocol world configuration, the key source, and the engine outcome the runner reports.

use crate::keycache::DiskKeyCache;
use crate::model::{self, ActorKind, Scenario};
use crate::runner::{EngineOutcome, ExecContext, RunError, StopReason};
use crate::spans::Seg;
use sim_core::crypto::{CryptoMode, GeneratingKeySource, KeySource};
use sim_core::engine::{CpuSpec, Overflow, RunLimits, SimTime};
use sim_core::net::{
    GilbertElliott, GroupId, LatencyDist, LinkDirection, LinkSpec, NetError, Partition,
    PartitionScope, Topology, TopologyConfig,
};
use sim_core::proto::acquisition::RoPolicy;
use sim_core::proto::build::{build, Arrival, Kind, WorldConfig};
use sim_core::proto::costs::CostTable;
use sim_core::proto::workload::AgentWorkload;
use sim_core::proto::world::{ProtoParams, Variants};
use sim_core::trace::TraceRecorder;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

fn latency(d: &crate::dist::Dist) -> LatencyDist {
    use crate::dist::Dist;
    match *d {
        Dist::Constant { value } => LatencyDist::Constant {
            latency_ns: value.as_ns(),
        },
        Dist::Uniform { min, max } => LatencyDist::Uniform {
            min_ns: min.as_ns(),
            max_ns: max.as_ns(),
        },
        Dist::Exponential { mean } => LatencyDist::Exponential {
            mean_ns: mean.as_ns() as f64,
        },
        Dist::Lognormal { median, sigma } => LatencyDist::LogNormal {
            median_ns: median.as_ns() as f64,
            sigma,
        },
        Dist::Pareto { scale, shape } => LatencyDist::Pareto {
            scale_ns: scale.as_ns() as f64,
            shape,
        },
    }
}

fn burst(g: &model::GilbertElliott) -> GilbertElliott {
    GilbertElliott {
        p_good_to_bad: g.p_good_to_bad.get(),
        p_bad_to_good: g.p_bad_to_good.get(),
        loss_good: g.loss_good.get(),
        loss_bad: g.loss_bad.get(),
    }
}

fn default_link(n: &model::Network) -> LinkSpec {
    LinkSpec {
        latency: latency(&n.latency),
        jitter: n.jitter.as_ref().map(latency).unwrap_or_default(),
        loss_probability: n.loss.map_or(0.0, |p| p.get()),
        gilbert_elliott: n.burst_loss.as_ref().map(burst),
        duplicate_probability: n.duplicate.get(),
        bandwidth_bps: n.bandwidth_bps,
        buffer_bytes: n.buffer_bytes,
    }
}

/// The network model of `sc`.
pub fn topology(sc: &Scenario, seed: u64) -> Result<Topology, RunError> {
    topology_located(sc, seed).map_err(|(_, e)| RunError::Engine(format!("network: {e}")))
}

/// The network model of `sc`, or the field whose value sim-core refused and why. Validation
/// (`crate::preflight`) builds the model through this very function, so `validate` refuses
/// exactly what `run` would.
pub fn topology_located(sc: &Scenario, seed: u64) -> Result<Topology, (Vec<Seg>, NetError)> {
    let at = |path: &[Seg]| {
        let path = path.to_vec();
        move |e: NetError| (path, e)
    };
    let base = default_link(&sc.network);
    let mut t = Topology::new(
        seed,
        TopologyConfig {
            default_link: base,
            ..Default::default()
        },
    )
    .map_err(at(&[Seg::from("network")]))?;
    for (i, g) in sc.population.groups.iter().enumerate() {
        t.add_group(g).map_err(at(&[
            Seg::from("population"),
            Seg::from("groups"),
            Seg::from(i),
        ]))?;
    }
    for (i, l) in sc.network.link.iter().enumerate() {
        let spec = LinkSpec {
            latency: l.latency.as_ref().map_or(base.latency, latency),
            jitter: l.jitter.as_ref().map_or(base.jitter, latency),
            loss_probability: l.loss.map_or(base.loss_probability, |p| p.get()),
            gilbert_elliott: l.burst_loss.as_ref().map(burst).or(base.gilbert_elliott),
            duplicate_probability: l.duplicate.map_or(base.duplicate_probability, |p| p.get()),
            bandwidth_bps: l.bandwidth_bps.or(base.bandwidth_bps),
            buffer_bytes: l.buffer_bytes.or(base.buffer_bytes),
        };
        let dir = if l.symmetric {
            LinkDirection::Symmetric
        } else {
            LinkDirection::Directed
        };
        t.add_link(&l.from, &l.to, spec, dir).map_err(at(&[
            Seg::from("network"),
            Seg::from("link"),
            Seg::from(i),
        ]))?;
    }
    for (i, p) in sc.network.partition.iter().enumerate() {
        let here = [Seg::from("network"), Seg::from("partition"), Seg::from(i)];
        let heal = p.heal.map_or(SimTime::MAX, |h| SimTime::from_ns(h.as_ns()));
        for a in &p.a {
            for b in &p.b {
                let ga = t
                    .group(a)
                    .ok_or_else(|| (here.to_vec(), NetError::UnknownGroup(a.clone())))?;
                let gb = t
                    .group(b)
                    .ok_or_else(|| (here.to_vec(), NetError::UnknownGroup(b.clone())))?;
                t.add_partition(Partition {
                    scope: PartitionScope::Pair(ga, gb),
                    at: SimTime::from_ns(p.at.as_ns()),
                    heal,
                })
                .map_err(at(&here))?;
            }
        }
    }
    Ok(t)
}

fn cpu(s: &model::ServerCosts) -> CpuSpec {
    CpuSpec::server(
        s.workers,
        s.queue_capacity,
        match s.overflow {
            model::Overflow::Drop => Overflow::Drop,
            model::Overflow::Reject => Overflow::Reject,
        },
    )
}

/// The protocol world configuration of `sc` with `seed`.
pub fn world_config(sc: &Scenario, seed: u64) -> WorldConfig {
    let c = &sc.costs;
    let w = &sc.workload;
    let v = &sc.variants;
    WorldConfig {
        seed,
        scenario: sc.scenario.name.clone(),
        crypto: match sc.scenario.crypto {
            model::CryptoMode::Real => CryptoMode::Real,
            model::CryptoMode::Symbolic => CryptoMode::Symbolic,
        },
        rsa_bits: sc.scenario.rsa_bits.bits(),
        agents: sc.population.agents + sc.population.sce_agents,
        ris: sc.population.ris,
        ocsp: sc.population.ocsp > 0,
        dea: sc.population.dea > 0,
        arrival: match sc.population.arrival {
            model::Arrival::AllAtStart {} => Arrival::AllAtStart,
            model::Arrival::Poisson { rate_per_s } => Arrival::Poisson { rate_per_s },
            model::Arrival::Ramp { over } => Arrival::Ramp {
                over_ns: over.as_ns(),
            },
        },
        ri_cpu: cpu(&c.ri),
        ocsp_cpu: cpu(&c.ocsp),
        dea_cpu: cpu(&c.dea),
        costs: CostTable {
            rsa1024_sign_ns: c.rsa1024_sign.as_ns(),
            rsa1024_verify_ns: c.rsa1024_verify.as_ns(),
            rsa2048_sign_ns: c.rsa2048_sign.as_ns(),
            rsa2048_verify_ns: c.rsa2048_verify.as_ns(),
            hmac_per_kb_ns: c.hmac_per_kb.as_ns(),
            sha_per_kb_ns: c.sha_per_kb.as_ns(),
            key_wrap_ns: c.key_wrap.as_ns(),
            xml_parse_per_kb_ns: c.xml_parse_per_kb.as_ns(),
            xml_serialize_per_kb_ns: c.xml_serialize_per_kb.as_ns(),
            ..CostTable::default()
        },
        params: ProtoParams {
            request_timeout_ns: w.request_timeout.as_ns(),
            max_retries: w.max_retries,
            backoff_base_ns: w.backoff.as_ns(),
            backoff_multiplier: w.backoff_multiplier,
            backoff_max_ns: w.backoff_max.as_ns(),
            nonce_cache_per_device: w.nonce_cache_size as usize,
            nonce_cache_devices: w.nonce_cache_devices as usize,
            time_tolerance_ns: w.time_tolerance.as_ns(),
            trigger_lifetime_ns: w.trigger_lifetime.as_ns(),
            trigger_nonces_per_device: w.trigger_nonce_store as usize,
            ..ProtoParams::default()
        },
        variants: Variants {
            metering_response_signed: v.metering_response_signed,
            fresh_nonce_retries: v.move_fresh_nonce_retries,
            ri_nonce_tracking: v.ri_nonce_tracking,
            domain_key_mac: match v.domain_key_mac {
                model::DomainKeyMac::Xc14n => sim_core::pdu::MacInterpretation::NodeSet,
                model::DomainKeyMac::Substring => sim_core::pdu::MacInterpretation::Substring,
            },
            domain_key_qualified: v.domain_key_qualified,
            dea_count_once: v.dea_count_once,
            dea_nonce_tracking: v.dea_nonce_tracking,
            trigger_names_device: v.trigger_names_device,
            trigger_carries_time: v.trigger_carries_time,
        },
        workload: AgentWorkload {
            register_at_arrival: w.registration_at_arrival,
            acquire_rate_per_min: w.ro_acquire_rate_per_min,
            consume_rate_per_min: w.consume_rate_per_min,
            move_probability: w.move_probability.get(),
            metering_interval_ns: w.metering_interval.map(|d| d.as_ns()),
            join_domain_probability: w.join_domain_probability.get(),
            leave_domain_probability: w.leave_domain_probability.get(),
            import_rate_per_min: w.import_rate_per_min,
            pair_rate_per_min: w.pair_rate_per_min,
            pair_copy_probability: w.pair_copy_probability.get(),
            ..AgentWorkload::default()
        },
        ro_policy: RoPolicy::default(),
        ri_triggers: sim_core::proto::ri_triggers::RiTriggerPolicy {
            metering_rate_per_min: w.ri_metering_trigger_rate_per_min,
            move_rate_per_min: w.ri_move_trigger_rate_per_min,
        },
        domains: sim_core::proto::domain::DomainConfig {
            agents_other_mac_fraction: v.domain_key_mac_other_fraction.get(),
            ..Default::default()
        },
        user_domains: sim_core::proto::dea_proxy::UserDomainConfig {
            user_domains: sc.user_domains.count,
            max_devices: sc.user_domains.max_devices as usize,
            generation: sc.user_domains.generation,
            hash_chains: sc.user_domains.hash_chains,
            trigger_leave_rate_per_min: w.dea_trigger_leave_rate_per_min,
            agents_hash_chain_fraction: sc.user_domains.agents_hash_chain_share.get(),
            older_generation_ro_fraction: sc.user_domains.older_generation_ro_share.get(),
            ..Default::default()
        },
        lrms: sc.population.lrms,
        sce_agents: sc.population.sce_agents,
        revoked_agents: sc.population.revoked_agents,
        lrm_policy: sim_core::proto::lrm::LrmPolicy {
            import_rate_per_min: w.lrm_import_rate_per_min,
            copy_probability: w.lrm_copy_probability.get(),
            ..Default::default()
        },
        ..WorldConfig::default()
    }
}

/// Keys: the on-disk cache for real crypto (falls back to in-memory generation when no
/// cache directory is usable); symbolic runs need no RSA keys at all.
fn key_source(sc: &Scenario) -> Box<dyn KeySource> {
    if sc.scenario.crypto == model::CryptoMode::Real {
        if let Ok(c) = DiskKeyCache::open_default() {
            // A damaged or swapped key file is regenerated, never used; say so.
            return Box::new(c.with_progress(|e| match e {
                crate::keycache::KeyCacheEvent::Unbound { path, why } => eprintln!(
                    "warning: key cache: {}: {why}; regenerating it from its inputs",
                    path.display()
                ),
                crate::keycache::KeyCacheEvent::Corrupt { path } => eprintln!(
                    "warning: key cache: {} is not a valid key of its size; regenerating it",
                    path.display()
                ),
                _ => {}
            }));
        }
    }
    Box::new(GeneratingKeySource::new())
}

/// Builds and runs `sc`; the single call from the runner into sim-core.
pub fn execute(sc: &Scenario, ctx: ExecContext<'_>) -> Result<EngineOutcome, RunError> {
    let seed = ctx.seed;
    let topo = topology(sc, seed)?;
    let place = |kind: Kind, i: u32| -> (GroupId, String) {
        let (k, i) = match kind {
            // The last `sce_agents` agents are the SCE agents (WorldConfig::sce_agents).
            Kind::Agent if i >= sc.population.agents => {
                (ActorKind::SceAgent, i - sc.population.agents)
            }
            Kind::Agent => (ActorKind::Agent, i),
            Kind::Ri => (ActorKind::Ri, i),
            Kind::Ocsp => (ActorKind::Ocsp, i),
            Kind::Dea => (ActorKind::Dea, i),
            Kind::Lrm => (ActorKind::Lrm, i),
        };
        let name = sc.population.group_of(k, i).unwrap_or_default();
        let id = topo.group(&name).unwrap_or(GroupId(0));
        (id, name)
    };
    let trace = TraceRecorder::new(ctx.trace, ctx.sink);
    let keys = key_source(sc);
    let keygen_bar = KeygenBar::new(ctx.progress.allowed());
    let cfg = world_config(sc, seed);
    let mut built = build(
        &cfg,
        Box::new(topo.clone()),
        trace,
        keys.as_ref(),
        &place,
        &mut |done, total| keygen_bar.update(done, total),
    )
    .map_err(|e| RunError::Engine(e.to_string()))?;
    let installed = install_adversaries(sc, &topo, &mut built)?;
    let capture_error = if ctx.capture_pdus {
        Some(install_capture(
            &mut built,
            ctx.out_dir,
            keys.as_ref(),
            cfg.seed,
            cfg.rsa_bits,
        )?)
    } else {
        None
    };
    let limits = RunLimits {
        horizon: Some(SimTime::from_ns(sc.scenario.horizon.as_ns())),
        event_budget: sc.scenario.event_budget,
        stop_flag: Some(ctx.interrupt.clone()),
    };
    let report = built
        .sim
        .run(&limits, &mut |t, n| ctx.progress.update(t.as_ns(), n));
    let stop_reason = match report.reason {
        sim_core::engine::StopReason::Horizon => StopReason::Horizon,
        sim_core::engine::StopReason::Quiescent => StopReason::Quiescent,
        sim_core::engine::StopReason::EventBudget => StopReason::EventBudget,
        sim_core::engine::StopReason::Interrupted => StopReason::Interrupted,
    };
    if let Some(ins) = &installed {
        ins.check_end(&mut built.sim);
    }
    let events = built.sim.events();
    let end = built.sim.now().as_ns();
    let recorder = built.sim.finish_in_place(report.reason);
    let outcome = EngineOutcome {
        end_time_ns: end,
        events,
        stop_reason,
        trace_records: recorder.records(),
        trace_digest: recorder.digest(),
        protocols: crate::runner::protocol_stats(built.sim.outcomes()),
        invariants_checked: Vec::new(),
        invariant_violations: BTreeMap::new(),
        attacks: BTreeMap::new(),
    };
    let mut outcome = outcome;
    if let Some(ins) = &installed {
        fill_outcome(&mut outcome, ins);
    }
    // Dropping the recorder drops the sink, which the runner's trace file flushes and closes.
    drop(recorder);
    if let Some(Some(e)) = capture_error.map(|c| c.borrow_mut().take()) {
        return Err(e);
    }
    if ctx.leak_world {
        // Freeing every actor, session and queued event costs seconds at a million
        // agents; the process exits next and the operating system reclaims it all at once.
        std::mem::forget(built);
    }
    Ok(outcome)
}

/// Progress of obtaining RSA keys (a cold cache generates them: ~21 ms each at 1024 bits).
struct KeygenBar {
    bar: Option<indicatif::ProgressBar>,
}

impl KeygenBar {
    fn new(allowed: bool) -> Self {
        use std::io::IsTerminal;
        let bar = (allowed && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template("keys {bar:30} {pos}/{len} ({eta})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        KeygenBar { bar }
    }

    fn update(&self, done: u64, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_position(done);
            if done >= total {
                b.finish_and_clear();
            }
        }
    }
}

/// Installs the scenario's adversaries and the invariant monitors (only when the scenario
/// has adversaries or `[expect] invariants`: monitors decode every PDU).
fn install_adversaries(
    sc: &Scenario,
    topo: &Topology,
    built: &mut sim_core::proto::build::Built,
) -> Result<Option<sim_core::adversary::Installed>, RunError> {
    use sim_core::adversary::{self as adv, AdversaryKind as K, AdversarySpec, Layout, Position};
    if sc.adversaries.is_empty() && sc.expect.invariants.is_empty() {
        return Ok(None);
    }
    let n = built.sim.actor_count();
    let mut names = vec![String::new(); n];
    let mut put = |id: sim_core::engine::ActorId, name: String| {
        if let Some(slot) = names.get_mut(id.0 as usize) {
            *slot = name;
        }
    };
    if let Some(o) = built.ocsp {
        put(o, sim_core::proto::build::OCSP_NAME.into());
    }
    if let Some(d) = built.dea {
        put(d, sim_core::proto::build::DEA_NAME.into());
    }
    for (i, &r) in built.ris.iter().enumerate() {
        put(r, sim_core::proto::build::ri_name(i as u32));
    }
    // SCE agents are built after the plain agents; scenarios call them `sce_agent/N`.
    let plain = sc.population.agents as usize;
    for (i, &a) in built.agents.iter().enumerate() {
        let name = if i < plain {
            sim_core::proto::build::agent_name(i as u32)
        } else {
            format!("sce_agent/{}", i - plain)
        };
        put(a, name);
    }
    // LRMs by their engine names (`lrm/N`), so replays can be directed at them.
    for (i, &l) in built.lrms.iter().enumerate() {
        put(l, sim_core::proto::build::lrm_name(i as u32));
    }
    let groups = (0..n as u32)
        .map(|i| {
            built
                .sim
                .group_of(sim_core::engine::ActorId(i))
                .unwrap_or(GroupId(0))
        })
        .collect();
    let layout = Layout { groups, names };
    let group = |g: &str| topo.group(g).unwrap_or(GroupId(0));
    let mut specs = Vec::new();
    for (i, a) in sc.adversaries.iter().enumerate() {
        let position = match a.position {
            model::Position::OnPath => Position::OnPath {
                links: a.links.iter().map(|[f, t]| (group(f), group(t))).collect(),
            },
            model::Position::OffPath => Position::OffPath {
                group: a
                    .group
                    .as_deref()
                    .map(group)
                    .unwrap_or_else(|| group(sc.population.groups.first().map_or("", |g| g))),
            },
            model::Position::Compromised => {
                let ep = a.endpoint.as_deref().unwrap_or_default();
                let sce = ep
                    .strip_prefix("sce_agent/")
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| built.agents.get(plain + n).copied());
                let id = sce.or_else(|| built.sim.lookup(ep)).ok_or_else(|| {
                    RunError::Engine(format!("adversary endpoint {ep} is not an actor"))
                })?;
                Position::Compromised { endpoint: id }
            }
        };
        let kind = match a.kind {
            model::AdversaryKind::Replayer => K::Replayer,
            model::AdversaryKind::MoveAttacker => K::MoveAttacker,
            model::AdversaryKind::MeteringSpoofer => K::MeteringSpoofer,
            model::AdversaryKind::Tamperer => K::Tamperer,
            model::AdversaryKind::Impersonator => K::Impersonator,
            model::AdversaryKind::DomainStuffer => K::DomainStuffer,
            model::AdversaryKind::TicketForger => K::TicketForger,
            model::AdversaryKind::Flooder => K::Flooder,
            model::AdversaryKind::Rules => K::Rules,
        };
        let mut s = AdversarySpec::new(kind, &a.display_name(i), position);
        s.messages = a.targets.messages.clone();
        s.actors = a.targets.actors.clone();
        s.from_ns = a.window.from.map_or(0, |d| d.as_ns());
        s.to_ns = a.window.to.map_or(u64::MAX, |d| d.as_ns());
        s.budget = a.budget;
        s.rate_per_s = a.rate_per_s;
        s.replay_delay_ns = a.replay_delay.map_or(0, |d| d.as_ns());
        s.replay_to = adv::replayer::ReplayTo::parse(a.replay_to.as_deref().unwrap_or("same"));
        s.reserialise = a.reserialise;
        s.move_attack = a
            .move_attack
            .as_deref()
            .and_then(adv::mover::MoveMode::parse)
            .unwrap_or_default();
        s.impersonate = a
            .impersonate
            .as_deref()
            .and_then(adv::impersonator::ImpersonateMode::parse)
            .unwrap_or_default();
        // Validation has reported every problem of the rules already.
        s.rules = crate::rules::convert(a, &mut Vec::new());
        specs.push(s);
    }
    let roster = sim_core::invariant::Roster {
        agents: built.agents.clone(),
        ris: built.ris.clone(),
        dea: built.dea,
    };
    let world = built.world.clone();
    adv::install(
        &mut built.sim,
        &world,
        layout,
        roster,
        &specs,
        sim_core::invariant::MonitorSet::standard(),
    )
    .map(Some)
    .map_err(|e| RunError::Engine(e.to_string()))
}

/// Copies the monitors' and adversaries' results into the runner's outcome.
fn fill_outcome(o: &mut EngineOutcome, ins: &sim_core::adversary::Installed) {
    let sh = ins.shared.borrow();
    o.invariants_checked = sh.monitors.names();
    o.invariant_violations = sh
        .monitors
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    o.attacks = sh
        .stats
        .iter()
        .map(|(k, s)| {
            (
                k.clone(),
                crate::runner::AttackStats {
                    attempts: s.attempts,
                    succeeded: s.succeeded,
                    blocked: s.blocked,
                },
            )
        })
        .collect();
}

type CaptureError = Rc<RefCell<Option<RunError>>>;

/// `--capture-pdus`: writes the PKI as PEM (`pki/<subject>.cert.pem`, `.pub.pem`, and the
/// simulated actors' private keys as PKCS#8 DER `.key.der`, so an independent verifier can check
/// key unwraps and MACs) now, and every PDU an actor sends (before any adversary tap) as
/// `pdus/<sequence>-<from>-<to>-<type>.xml` during the run. In symbolic mode the XML is the
/// PDU's encoding but its signatures are symbolic terms.
fn install_capture(
    built: &mut sim_core::proto::build::Built,
    out_dir: &std::path::Path,
    keys: &dyn KeySource,
    seed: u64,
    rsa_bits: u32,
) -> Result<CaptureError, RunError> {
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| RunError::Io { path, source }
    };
    let pki = out_dir.join("pki");
    let pdus = out_dir.join("pdus");
    std::fs::create_dir_all(&pki).map_err(io(&pki))?;
    std::fs::create_dir_all(&pdus).map_err(io(&pdus))?;
    for cert in built.world.certs.certificates() {
        let stem = cert.subject().replace('/', "-");
        if let Ok(pem) = cert.to_pem() {
            let p = pki.join(format!("{stem}.cert.pem"));
            std::fs::write(&p, pem).map_err(io(&p))?;
        }
        if let Ok(pem) = cert.public_key().to_pem() {
            let p = pki.join(format!("{stem}.pub.pem"));
            std::fs::write(&p, pem).map_err(io(&p))?;
        }
        // The same derivation as `build` (owner = subject): the key of this certificate.
        let spec = sim_core::crypto::KeySpec::new(seed, cert.subject(), rsa_bits);
        if let Some(der) = keys
            .private_key(&spec)
            .ok()
            .filter(|k| k.public() == cert.public_key())
            .and_then(|k| k.to_pkcs8_der().ok())
        {
            let p = pki.join(format!("{stem}.key.der"));
            std::fs::write(&p, der).map_err(io(&p))?;
        }
    }
    let err: CaptureError = Rc::default();
    let e2 = err.clone();
    // Pre-tap: what the honest actors sent (an adversary's forgeries are not theirs to sign).
    // File names carry a capture sequence number in send order (the engine's message id
    // when no adversary intervenes).
    let mut seq = 0u64;
    built
        .sim
        .set_sent_observer(Box::new(move |_t, _msg_id, from, to, msg| {
            seq += 1;
            let msg_id = seq;
            if e2.borrow().is_some() {
                return;
            }
            let sim_core::proto::msg::SimMsg::Pdu(w) = msg else {
                return;
            };
            let bytes = match w.xml() {
                Some(x) => x.to_vec(),
                None => match w.open() {
                    Ok(p) => p.encode(),
                    Err(_) => return,
                },
            };
            let kind = w.kind().replace(':', "_");
            let p = pdus.join(format!("{msg_id:08}-{}-{}-{kind}.xml", from.0, to.0));
            if let Err(source) = std::fs::write(&p, bytes) {
                *e2.borrow_mut() = Some(RunError::Io { path: p, source });
            }
        }));
    Ok(err)
}
