//! Builds a run: keys, the PKI (root CA, certificates with key purposes, revocations), the
//! shared [`World`], and every actor in a fixed order (OCSP responder, RIs, agents), so actor
//! ids are known before the actors exist.

use super::acquisition::RoPolicy;
use super::agent::Agent;
use super::costs::CostTable;
use super::dea::Dea;
use super::drm_time::DrmClock;
use super::lrm::{Lrm, LrmPolicy};
use super::msg::SimMsg;
use super::ocsp::OcspActor;
use super::pairing::PeerInfo;
use super::pairing_dea::DeaPairing;
use super::pki_wire::CertDirectory;
use super::ri::Ri;
use super::workload::AgentWorkload;
use super::world::{Identity, ProtoParams, RiInfo, Variants, World};
use crate::crypto::{Crypto, CryptoError, CryptoMode, KeySource, KeySpec, OpCounter};
use crate::engine::rng::stream;
use crate::engine::{ActorId, ActorSpec, CpuSpec, SimTime, Simulation};
use crate::net::{GroupId, NetworkModel};
use crate::pki::{
    CertRequest, CertificateAuthority, KeyPurpose, OcspResponder, PkiError, RevocationList,
    TrustStore,
};
use crate::trace::TraceRecorder;
use rand::Rng;
use std::rc::Rc;

/// Unix time of virtual time zero: 2026-01-01T00:00:00Z.
pub const EPOCH_UNIX_S: u64 = 1_767_225_600;

/// How agents arrive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrival {
    /// Every agent starts at t = 0.
    AllAtStart,
    /// Poisson arrivals at `rate_per_s`.
    Poisson {
        /// Mean arrivals per second.
        rate_per_s: f64,
    },
    /// Evenly spread over `over_ns`.
    Ramp {
        /// Length of the ramp.
        over_ns: u64,
    },
}

/// Actor kinds, for placing actors in network groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// DRM Agent.
    Agent,
    /// Rights Issuer.
    Ri,
    /// OCSP responder.
    Ocsp,
    /// Domain Enforcement Agent.
    Dea,
    /// Local Rights Manager.
    Lrm,
}

/// Everything needed to build a protocol run.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// Master seed.
    pub seed: u64,
    /// Scenario name (trace header).
    pub scenario: String,
    /// Crypto mode.
    pub crypto: CryptoMode,
    /// RSA modulus size.
    pub rsa_bits: u32,
    /// Number of DRM Agents.
    pub agents: u32,
    /// Number of RIs.
    pub ris: u32,
    /// Whether an OCSP responder exists.
    pub ocsp: bool,
    /// Whether a Domain Enforcement Agent exists.
    pub dea: bool,
    /// Agent arrival process.
    pub arrival: Arrival,
    /// CPU model of each RI.
    pub ri_cpu: CpuSpec,
    /// CPU model of the OCSP responder.
    pub ocsp_cpu: CpuSpec,
    /// CPU model of the DEA.
    pub dea_cpu: CpuSpec,
    /// Costs.
    pub costs: CostTable,
    /// Protocol parameters.
    pub params: ProtoParams,
    /// Spec variants.
    pub variants: Variants,
    /// Agent behaviour.
    pub workload: AgentWorkload,
    /// What RIs issue.
    pub ro_policy: RoPolicy,
    /// RI-sent meteringReport / moveDeviceRO triggers (per RI).
    pub ri_triggers: super::ri_triggers::RiTriggerPolicy,
    /// Largest |DRM clock offset| of an agent at t = 0, ns (uniform).
    pub clock_offset_max_ns: u64,
    /// Largest |DRM clock drift|, ppm (uniform).
    pub clock_drift_max_ppm: u64,
    /// The first `revoked_agents` agents have revoked certificates.
    pub revoked_agents: u32,
    /// ROAP domains the RIs manage and the agents' seed-002 readings (domain.rs).
    pub domains: super::domain::DomainConfig,
    /// DEA User Domains (dea_proxy.rs); used when `dea` is set.
    pub user_domains: super::dea_proxy::UserDomainConfig,
    /// Local Rights Managers (seed 001), added after the agents in actor order.
    pub lrms: u32,
    /// The LAST `sce_agents` of the `agents` carry `oma-kp-sceDrmAgent` and take part in
    /// pairing (join the DEA's User Domain at start).
    pub sce_agents: u32,
    /// CPU model of each LRM.
    pub lrm_cpu: CpuSpec,
    /// What LRMs import and how often (`import_rate_per_min` defaults to 0).
    pub lrm_policy: LrmPolicy,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            seed: 1,
            scenario: "unnamed".into(),
            crypto: CryptoMode::Symbolic,
            rsa_bits: 1024,
            agents: 10,
            ris: 1,
            ocsp: true,
            dea: false,
            arrival: Arrival::AllAtStart,
            ri_cpu: CpuSpec::server(4, 1024, crate::engine::Overflow::Drop),
            ocsp_cpu: CpuSpec::server(2, 4096, crate::engine::Overflow::Drop),
            dea_cpu: CpuSpec::server(4, 4096, crate::engine::Overflow::Drop),
            costs: CostTable::default(),
            params: ProtoParams::default(),
            variants: Variants::default(),
            workload: AgentWorkload::default(),
            ro_policy: RoPolicy::default(),
            ri_triggers: Default::default(),
            clock_offset_max_ns: 0,
            clock_drift_max_ppm: 0,
            revoked_agents: 0,
            domains: Default::default(),
            user_domains: Default::default(),
            lrms: 0,
            sce_agents: 0,
            lrm_cpu: CpuSpec::server(4, 1024, crate::engine::Overflow::Drop),
            lrm_policy: LrmPolicy::default(),
        }
    }
}

/// Why a run could not be built (always fatal).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Key generation or loading failed.
    #[error("key material: {0}")]
    Crypto(#[from] CryptoError),
    /// Certificate issuance failed.
    #[error("PKI: {0}")]
    Pki(#[from] PkiError),
    /// The PKI could not be set up as a trust store.
    #[error("trust store: {0}")]
    Trust(String),
}

impl BuildError {
    /// Build errors stop the run.
    pub fn is_fatal(&self) -> bool {
        true
    }
}

/// A built run.
pub struct Built {
    /// The simulation, actors added.
    pub sim: Simulation<SimMsg>,
    /// The shared world.
    pub world: Rc<World>,
    /// OCSP responder actor.
    pub ocsp: Option<ActorId>,
    /// The DEA actor.
    pub dea: Option<ActorId>,
    /// RI actors, by index.
    pub ris: Vec<ActorId>,
    /// Agent actors, by index.
    pub agents: Vec<ActorId>,
    /// LRM actors, by index.
    pub lrms: Vec<ActorId>,
}

/// Stable actor names.
pub fn agent_name(i: u32) -> String {
    format!("agent/{i}")
}
/// Stable RI names.
pub fn ri_name(i: u32) -> String {
    format!("ri/{i}")
}
/// Stable LRM names.
pub fn lrm_name(i: u32) -> String {
    format!("lrm/{i}")
}
/// Name of the OCSP responder.
pub const OCSP_NAME: &str = "ocsp/0";
/// Name of the DEA.
pub const DEA_NAME: &str = "dea/0";
/// Name of the root CA.
pub const CA_NAME: &str = "ca/root";

/// Builds the PKI, the world and every actor. `place` gives each actor's network group
/// (id and name); `progress(done, total)` is called as keys are obtained.
pub fn build(
    cfg: &WorldConfig,
    net: Box<dyn NetworkModel>,
    trace: TraceRecorder,
    keys: &dyn KeySource,
    place: &dyn Fn(Kind, u32) -> (GroupId, String),
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Built, BuildError> {
    let crypto = Crypto::new(cfg.crypto, cfg.seed);
    let mut ops = OpCounter::new();
    let total_keys = 3 + cfg.ris as u64 + cfg.agents as u64 + cfg.lrms as u64;
    let mut done = 0u64;
    let mut key = |owner: &str| -> Result<_, BuildError> {
        let k = crypto.key_pair(keys, &KeySpec::new(cfg.seed, owner, cfg.rsa_bits))?;
        done += 1;
        if cfg.crypto == CryptoMode::Real && (done.is_multiple_of(16) || done == total_keys) {
            progress(done, total_keys);
        }
        Ok(k)
    };
    let ca_key = key(CA_NAME)?;
    let mut ca = CertificateAuthority::new_root(
        &crypto,
        &mut ops,
        CA_NAME,
        ca_key,
        SimTime::ZERO,
        SimTime::MAX,
    )?;
    let mut certs = CertDirectory::default();
    certs.register(cfg.crypto, ca.certificate());
    let mut trust = TrustStore::new();
    trust
        .add_root(&crypto, &mut ops, ca.certificate().clone())
        .map_err(|e| BuildError::Trust(e.to_string()))?;
    let mut issue_ops = OpCounter::new();
    let mut issue = |name: &str,
                     key: crate::crypto::PrivateKey,
                     purposes: Vec<KeyPurpose>,
                     certs: &mut CertDirectory|
     -> Result<Identity, BuildError> {
        let cert = ca.issue(
            &crypto,
            &mut issue_ops,
            &CertRequest {
                subject: name.to_string(),
                public_key: key.public().clone(),
                purposes,
                not_before: SimTime::ZERO,
                not_after: SimTime::MAX,
            },
        )?;
        certs.register(cfg.crypto, &cert);
        let chain = vec![cert];
        Ok(Identity {
            name: name.to_string(),
            id: World::id_of(&chain[0]),
            chain_wire: CertDirectory::encode_chain(cfg.crypto, &chain),
            chain,
            key,
        })
    };
    let ocsp_key = key(OCSP_NAME)?;
    let ocsp_ident = issue(
        OCSP_NAME,
        ocsp_key,
        vec![KeyPurpose::OcspSigning],
        &mut certs,
    )?;
    trust
        .add_ocsp_responder(&crypto, &mut ops, &ocsp_ident.chain, SimTime::ZERO)
        .map_err(|e| BuildError::Trust(e.to_string()))?;
    let dea_ident = if cfg.dea {
        let k = key(DEA_NAME)?;
        Some(issue(DEA_NAME, k, vec![KeyPurpose::Dea], &mut certs)?)
    } else {
        None
    };
    let mut ri_idents = Vec::new();
    for i in 0..cfg.ris {
        let k = key(&ri_name(i))?;
        ri_idents.push(issue(
            &ri_name(i),
            k,
            vec![KeyPurpose::RightsIssuer],
            &mut certs,
        )?);
    }
    let mut agent_idents = Vec::new();
    let first_sce = cfg.agents.saturating_sub(cfg.sce_agents);
    for i in 0..cfg.agents {
        let k = key(&agent_name(i))?;
        let purposes = if i >= first_sce {
            vec![KeyPurpose::DrmAgent, KeyPurpose::SceDrmAgent]
        } else {
            vec![KeyPurpose::DrmAgent]
        };
        agent_idents.push(issue(&agent_name(i), k, purposes, &mut certs)?);
    }
    let mut lrm_idents = Vec::new();
    for i in 0..cfg.lrms {
        let k = key(&lrm_name(i))?;
        lrm_idents.push(issue(&lrm_name(i), k, vec![KeyPurpose::Lrm], &mut certs)?);
    }
    let mut revocations = RevocationList::new();
    for ident in agent_idents.iter().take(cfg.revoked_agents as usize) {
        revocations.revoke(&ident.chain[0], SimTime::ZERO);
    }
    let all_certs: Vec<_> = std::iter::once(&ocsp_ident)
        .chain(&ri_idents)
        .chain(&agent_idents)
        .chain(&lrm_idents)
        .map(|i| i.chain[0].clone())
        .collect();

    // Fixed actor order: [ocsp], [dea], ris, agents.
    let ocsp_id = cfg.ocsp.then_some(ActorId(0));
    let dea_id = cfg.dea.then_some(ActorId(u32::from(cfg.ocsp)));
    let first_ri = u32::from(cfg.ocsp) + u32::from(cfg.dea);
    let first_agent = first_ri + cfg.ris;
    let first_lrm = first_agent + cfg.agents;
    let peer = |id: &Identity, actor: u32| PeerInfo {
        name: id.name.clone(),
        actor: ActorId(actor),
        id: id.id.clone(),
        chain: id.chain.clone(),
    };
    let world = Rc::new(World {
        crypto: crypto.clone(),
        costs: cfg.costs,
        params: cfg.params,
        variants: cfg.variants,
        trust,
        revocations,
        certs,
        epoch_unix_s: EPOCH_UNIX_S,
        ocsp: ocsp_id,
        ris: ri_idents
            .iter()
            .enumerate()
            .map(|(i, id)| RiInfo {
                name: id.name.clone(),
                actor: ActorId(first_ri + i as u32),
                id: id.id.clone(),
                url: format!("https://{}.example/roap", id.name.replace('/', "-")),
            })
            .collect(),
        ocsp_chain: ocsp_ident.chain.clone(),
        dea: dea_id,
        dea_id: dea_ident.as_ref().map(|d| d.id.clone()),
        lrms: lrm_idents
            .iter()
            .enumerate()
            .map(|(i, id)| peer(id, first_lrm + i as u32))
            .collect(),
        sce_agents: agent_idents
            .iter()
            .enumerate()
            .skip(first_sce as usize)
            .map(|(i, id)| peer(id, first_agent + i as u32))
            .collect(),
    });

    let mut sim = Simulation::new(cfg.seed, net, trace);
    sim.record_header(
        &cfg.scenario,
        if cfg.crypto == CryptoMode::Real {
            "real"
        } else {
            "symbolic"
        },
    );
    let spec = |name: &str, kind: &str, k: Kind, i: u32, cpu: CpuSpec, start_at: SimTime| {
        let (group, group_name) = place(k, i);
        ActorSpec {
            name: name.to_string(),
            kind: kind.to_string(),
            group,
            group_name,
            cpu,
            start_at,
        }
    };
    let ocsp = if cfg.ocsp {
        let responder = OcspResponder::new(ocsp_ident.chain[0].clone(), ocsp_ident.key.clone());
        Some(sim.add_actor(
            spec(
                OCSP_NAME,
                "ocsp",
                Kind::Ocsp,
                0,
                cfg.ocsp_cpu,
                SimTime::ZERO,
            ),
            Box::new(OcspActor::new(world.clone(), responder, all_certs)),
        ))
    } else {
        None
    };
    let dea = match dea_ident {
        Some(ident) => {
            let mut d = Dea::new(world.clone(), ident);
            // LRM Master Keys: provisioned like the RI ones (see pairing_dea).
            d.pairing = DeaPairing::new(
                &cfg.params,
                world
                    .lrms
                    .iter()
                    .map(|l| (l.id.clone(), World::dea_master_key(cfg.seed, &l.name)))
                    .collect(),
            );
            let id = sim.add_actor(
                spec(DEA_NAME, "dea", Kind::Dea, 0, cfg.dea_cpu, SimTime::ZERO),
                Box::new({
                    d.user_domains = super::dea_proxy::DeaUserDomains::provision(
                        &cfg.user_domains,
                        super::domain::DomainKeyProfile::from_variants(&cfg.variants),
                        &world,
                        cfg.seed,
                        &mut stream(cfg.seed, DEA_NAME, "user-domain-keys"),
                    );
                    d
                }),
            );
            debug_assert_eq!(Some(id), world.dea);
            Some(id)
        }
        None => None,
    };
    let mut ris = Vec::new();
    for (i, ident) in ri_idents.into_iter().enumerate() {
        let name = ident.name.clone();
        let mut ri = Ri::new(world.clone(), ident, i, cfg.ro_policy);
        ri.triggers.policy = cfg.ri_triggers;
        ri.domains = super::domain::RiDomains::provision(
            &cfg.domains,
            super::domain::DomainKeyProfile::from_variants(&cfg.variants),
            i,
            EPOCH_UNIX_S,
            &mut stream(cfg.seed, &name, "domain-keys"),
        );
        if cfg.dea {
            ri.dea_proxy = super::dea_proxy::RiDea::provision(&cfg.user_domains, cfg.seed, &name);
        }
        let id = sim.add_actor(
            spec(&name, "ri", Kind::Ri, i as u32, cfg.ri_cpu, SimTime::ZERO),
            Box::new(ri),
        );
        debug_assert_eq!(id, world.ris[i].actor);
        ris.push(id);
    }
    let mut arrivals = stream(cfg.seed, "population", "arrivals");
    let mut t_ns = 0f64;
    let mut agents = Vec::new();
    for (i, ident) in agent_idents.into_iter().enumerate() {
        let i = i as u32;
        let start_at = match cfg.arrival {
            Arrival::AllAtStart => SimTime::ZERO,
            Arrival::Poisson { rate_per_s } => {
                let u: f64 = arrivals.gen_range(f64::MIN_POSITIVE..1.0);
                t_ns += -u.ln() / rate_per_s.max(1e-12) * 1e9;
                SimTime::from_ns(t_ns as u64)
            }
            Arrival::Ramp { over_ns } => {
                SimTime::from_ns((over_ns as u128 * i as u128 / cfg.agents.max(1) as u128) as u64)
            }
        };
        let mut crng = stream(cfg.seed, &ident.name, "clock");
        let clock = DrmClock {
            offset_ns: sym_uniform(&mut crng, cfg.clock_offset_max_ns),
            drift_ppm: sym_uniform(&mut crng, cfg.clock_drift_max_ppm),
        };
        let home = if cfg.ris == 0 {
            0
        } else {
            (i % cfg.ris) as usize
        };
        let name = ident.name.clone();
        let mut agent = Agent::new(world.clone(), ident, home, clock, cfg.workload);
        agent.domain = super::domain::AgentDomains::provision(&cfg.domains, &cfg.variants, i, home);
        if cfg.dea {
            agent
                .domain
                .known
                .extend(cfg.user_domains.roap_domain_ids());
            let u = &cfg.user_domains;
            agent.domain.hash_chain_support =
                super::domain::DomainConfig::flips(i, u.agents_hash_chain_fraction);
            agent.domain.older_generation_ro_fraction = u.older_generation_ro_fraction;
        }
        agent.pairing.sce = i >= first_sce;
        agents.push(sim.add_actor(
            spec(&name, "agent", Kind::Agent, i, CpuSpec::UNLIMITED, start_at),
            Box::new(agent),
        ));
    }
    let mut lrms = Vec::new();
    for (i, ident) in lrm_idents.into_iter().enumerate() {
        let name = ident.name.clone();
        let mk = World::dea_master_key(cfg.seed, &name);
        let id = sim.add_actor(
            spec(
                &name,
                "lrm",
                Kind::Lrm,
                i as u32,
                cfg.lrm_cpu,
                SimTime::ZERO,
            ),
            Box::new(Lrm::new(world.clone(), ident, i, mk, cfg.lrm_policy)),
        );
        debug_assert_eq!(id, world.lrms[i].actor);
        lrms.push(id);
    }
    Ok(Built {
        sim,
        world,
        ocsp,
        dea,
        ris,
        agents,
        lrms,
    })
}

/// Uniform in `[-max, max]`.
fn sym_uniform(rng: &mut impl Rng, max: u64) -> i64 {
    if max == 0 {
        0
    } else {
        let m = max.min(i64::MAX as u64) as i64;
        rng.gen_range(-m..=m)
    }
}
