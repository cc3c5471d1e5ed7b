//! Issue 6, the Impersonator: a compromised Device acting with a revoked certificate or
//! using a protocol its certificate's key purpose excludes. Each test reads like a scenario:
//! the population, the attacker, and the hand-reasoned outcome with the servers' statuses.

use crate::adversary::{run, setup_cfg};
use sim_core::adversary::impersonator::ImpersonateMode;
use sim_core::adversary::{AdversaryKind, AdversarySpec, AttackStats, Installed, Position};
use sim_core::crypto::CryptoMode;
use sim_core::engine::ActorId;
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::dea::Dea;
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::TraceEvent;

/// A world of `agents` Devices (the last `sce` carrying oma-kp-sceDrmAgent, the first
/// `revoked` revoked), one RI, an OCSP responder, and a DEA with one User Domain when
/// `dea`; Devices acquire 6 ROs a minute and never join domains on their own.
fn world(mode: CryptoMode, agents: u32, sce: u32, revoked: u32, dea: bool) -> WorldConfig {
    let mut cfg = WorldConfig {
        crypto: mode,
        agents,
        ris: 1,
        dea,
        sce_agents: sce,
        revoked_agents: revoked,
        workload: AgentWorkload {
            acquire_rate_per_min: 6.0,
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    cfg.user_domains.user_domains = u32::from(dea);
    cfg
}

/// An impersonator of `mode` in agent `endpoint` (its index), `budget` actions.
fn impersonator(b: &Built, endpoint: usize, mode: ImpersonateMode, budget: u64) -> AdversarySpec {
    let mut s = AdversarySpec::new(
        AdversaryKind::Impersonator,
        "impersonator",
        Position::Compromised {
            endpoint: b.agents[endpoint],
        },
    );
    s.impersonate = mode;
    s.budget = budget;
    s
}

/// Builds `cfg` with the impersonator of `mode` in agent `endpoint`, runs `secs`.
fn attack(
    cfg: &WorldConfig,
    endpoint: usize,
    mode: ImpersonateMode,
    budget: u64,
    secs: u64,
) -> (Built, Installed, AttackStats, Vec<String>) {
    let (b0, _, _) = setup_cfg(cfg, &[]);
    let spec = impersonator(&b0, endpoint, mode, budget);
    drop(b0);
    let (mut b, ins, records) = setup_cfg(cfg, &[spec]);
    run(&mut b, &ins, secs);
    let st = ins.shared.borrow().stats["impersonator"];
    // The referee's verdicts, one `attack` record per decided attempt.
    let details = records
        .borrow()
        .iter()
        .filter_map(|r| match r {
            TraceEvent::Attack {
                success: false,
                detail,
                ..
            } => Some(detail.clone()),
            _ => None,
        })
        .collect();
    (b, ins, st, details)
}

/// Whether every verdict detail ends with `answered <status>`, and there are `n`.
fn all_answered(details: &[String], status: &str, n: usize) -> bool {
    details.len() == n
        && details
            .iter()
            .all(|d| d.ends_with(&format!("answered {status}")))
}

fn ri_status(b: &Built, protocol: &str, status: &str) -> u64 {
    let ri = b.sim.actor::<Ri>(b.ris[0]).expect("ri");
    ri.stats
        .statuses
        .get(&(protocol.to_string(), status.to_string()))
        .copied()
        .unwrap_or(0)
}

fn dea_status(b: &Built, protocol: &str, status: &str) -> u64 {
    let dea = b.sim.actor::<Dea>(b.dea.expect("dea")).expect("dea");
    dea.stats
        .statuses
        .get(&(protocol.to_string(), status.to_string()))
        .copied()
        .unwrap_or(0)
}

fn registered(b: &Built, agent: usize) -> bool {
    let a: ActorId = b.agents[agent];
    !b.sim
        .actor::<Agent>(a)
        .expect("agent")
        .ri_contexts
        .is_empty()
}

/// 3 Devices, agent 0's certificate revoked at t = 0. Its one RegistrationRequest is its
/// only request to a server (its workload starts after a registration that never comes):
/// the RI's chain check, revocation included (ROAP §5.4.2.1), answers
/// InvalidCertificateChain. The two other Devices register. Same in both crypto modes.
#[test]
fn a_revoked_device_is_refused_at_registration() {
    for mode in [CryptoMode::Symbolic, CryptoMode::Real] {
        let cfg = world(mode, 3, 0, 1, false);
        let (b, _, st, details) = attack(&cfg, 0, ImpersonateMode::Revoked, 10, 60);
        assert_eq!(
            (st.attempts, st.succeeded, st.blocked),
            (1, 0, 1),
            "{mode:?}"
        );
        assert!(
            all_answered(&details, "InvalidCertificateChain", 1),
            "{details:?}"
        );
        assert_eq!(ri_status(&b, "registration", "InvalidCertificateChain"), 1);
        assert_eq!(ri_status(&b, "registration", "Success"), 2);
        assert!(!registered(&b, 0));
        assert!(registered(&b, 1) && registered(&b, 2));
    }
}

/// 3 Devices, agent 2 an SCE DRM Agent, a DEA with one User Domain mapped at the RI. The
/// compromised SCE agent sends, properly signed with its own key, a JoinDomainRequest for
/// the User Domain when its registration succeeds and with each RO Request after it, until
/// the budget of 3 is spent. The RI proxies each (Proxy Join User Domain); the DEA refuses
/// the oma-kp-sceDrmAgent certificate (seed 000 §7.4.1) with InvalidCertificateChain and
/// the RI forwards that status (§7.4.1.2). Same in both crypto modes.
#[test]
fn an_sce_agent_cannot_proxy_join_a_user_domain() {
    for mode in [CryptoMode::Symbolic, CryptoMode::Real] {
        let cfg = world(mode, 3, 1, 0, true);
        let (b, _, st, details) = attack(&cfg, 2, ImpersonateMode::WrongPurpose, 3, 90);
        assert_eq!(
            (st.attempts, st.succeeded, st.blocked),
            (3, 0, 3),
            "{mode:?}"
        );
        assert!(
            all_answered(&details, "InvalidCertificateChain", 3),
            "{details:?}"
        );
        assert_eq!(
            dea_status(&b, "proxy_join_user_domain", "InvalidCertificateChain"),
            3
        );
        assert_eq!(dea_status(&b, "proxy_join_user_domain", "Success"), 0);
        assert_eq!(ri_status(&b, "join_domain", "InvalidCertificateChain"), 3);
        let dea = b.sim.actor::<Dea>(b.dea.unwrap()).unwrap();
        assert!(dea.user_domains.domains["userdomain0"].members.is_empty());
    }
}

/// Same world; the compromised Device is agent 0, drmAgent only. It sends the DEA a Join
/// Domain Request for Pairing (seed 001 §7.2.1.1) when its registration succeeds and with
/// each RO Request, 3 in all: the DEA admits only SCE DRM Agents to pairing and answers
/// AccessDenied each time, so agent 0 holds no pairing Master Key.
#[test]
fn a_drm_agent_cannot_pair_with_the_dea() {
    let cfg = world(CryptoMode::Symbolic, 3, 1, 0, true);
    let (b, _, st, details) = attack(&cfg, 0, ImpersonateMode::WrongPurpose, 3, 90);
    assert_eq!((st.attempts, st.succeeded, st.blocked), (3, 0, 3));
    assert!(all_answered(&details, "AccessDenied", 3), "{details:?}");
    assert_eq!(dea_status(&b, "pairing_join", "AccessDenied"), 3);
    let dea = b.sim.actor::<Dea>(b.dea.unwrap()).unwrap();
    let id = &b.sim.actor::<Agent>(b.agents[0]).unwrap().identity().id;
    assert!(!dea.pairing.masters.contains_key(id));
}

/// 2 Devices, both SCE DRM Agents, agent 0 revoked. Its requests to servers: the
/// RegistrationRequest (RI: InvalidCertificateChain) and the Join Domain Request for Pairing
/// an SCE agent sends the DEA at start (seed 001 §7.2.1.1; the DEA checks the chain with
/// revocation: InvalidCertificateChain). Agent 1 registers and pairs.
#[test]
fn a_revoked_sce_agent_is_refused_by_the_ri_and_the_dea() {
    let cfg = world(CryptoMode::Symbolic, 2, 2, 1, true);
    let (b, _, st, details) = attack(&cfg, 0, ImpersonateMode::Revoked, 10, 60);
    assert_eq!((st.attempts, st.succeeded, st.blocked), (2, 0, 2));
    assert!(
        all_answered(&details, "InvalidCertificateChain", 2),
        "{details:?}"
    );
    assert_eq!(ri_status(&b, "registration", "InvalidCertificateChain"), 1);
    assert_eq!(dea_status(&b, "pairing_join", "InvalidCertificateChain"), 1);
    assert_eq!(dea_status(&b, "pairing_join", "Success"), 1);
}

/// The SCE agent's own workload joins count too: agent 2 (SCE) joins a domain after
/// registering (probability 1; the RI manages no domains of its own, so the one it knows is
/// the User Domain) and acquires nothing. Attempts: the join injected when its registration
/// succeeds and its workload's join, both refused InvalidCertificateChain by the DEA.
#[test]
fn an_sce_agents_workload_join_of_a_user_domain_is_an_attempt() {
    let mut cfg = world(CryptoMode::Symbolic, 3, 1, 0, true);
    cfg.domains.domains_per_ri = 0;
    cfg.workload.join_domain_probability = 1.0;
    cfg.workload.acquire_rate_per_min = 0.0;
    let (b, _, st, details) = attack(&cfg, 2, ImpersonateMode::WrongPurpose, 10, 60);
    assert_eq!((st.attempts, st.succeeded, st.blocked), (2, 0, 2));
    assert!(
        all_answered(&details, "InvalidCertificateChain", 2),
        "{details:?}"
    );
    assert_eq!(
        dea_status(&b, "proxy_join_user_domain", "InvalidCertificateChain"),
        2
    );
    // The two plain Devices join the User Domain through the same RI.
    assert_eq!(dea_status(&b, "proxy_join_user_domain", "Success"), 2);
}
