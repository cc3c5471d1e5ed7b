//! "Keys never in the adversary's knowledge" (invariant::keys): fires on crafted leaks with
//! the chain of messages that delivered the key, stays silent when a compromised Device in
//! good standing and an on-path observer watch an honest run, and gives the same verdicts in
//! real and symbolic mode.

use crate::support::{build_ideal, layout_and_roster};
use sim_core::adversary::{install, AdversaryKind, AdversarySpec, Installed, Position};
use sim_core::crypto::{CryptoMode, OpCounter, SymKey};
use sim_core::engine::{ActorId, RunLimits, SimTime};
use sim_core::invariant::keys::KeysNeverKnown;
use sim_core::invariant::{
    names, AdversaryView, Finding, Monitor, MonitorSet, Observed, Roster, Violation,
};
use sim_core::net::GroupId;
use sim_core::pdu::dea::{
    GenHeader, ProxyJoinResInfo, ProxyJoinUserDomainResponse, ProxyLeaveUserDomainResponse,
};
use sim_core::pdu::keys::{ALG_KEM, ALG_KW_AES128};
use sim_core::pdu::ro::{Action, Asset, Permission, ProtectedRo, Rights, Ro};
use sim_core::pdu::roap::{JoinDomainResponse, JoinDomainResponseBody, RoResponse, RoResponseBody};
use sim_core::pdu::{DomainInfo, DomainKey, Encrypted, Expiry, KeyInfo, Pdu, Status};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::ri::Ri;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::rc::Rc;

/// The keys monitor behind a shared handle, so a test can read its counters after the run.
struct Handle(Rc<RefCell<KeysNeverKnown>>);

impl Monitor for Handle {
    fn name(&self) -> &'static str {
        names::KEYS_NEVER_KNOWN_TO_ADVERSARY
    }
    fn on_message(&mut self, obs: &Observed<'_>, token: u64, found: &mut Vec<Finding>) {
        self.0.borrow_mut().on_message(obs, token, found);
    }
    fn at_end(
        &mut self,
        sim: &sim_core::engine::Simulation<SimMsg>,
        roster: &Roster,
        found: &mut Vec<Finding>,
    ) {
        self.0.borrow_mut().at_end(sim, roster, found);
    }
    fn on_adversaries(&mut self, view: &AdversaryView) {
        self.0.borrow_mut().on_adversaries(view);
    }
}

/// Sends recorded by the trace: (msg id, from, to, kind, t).
type Sends = Rc<RefCell<Vec<(u64, u32, u32, String, u64)>>>;

struct Run {
    b: Built,
    ins: Installed,
    keys: Rc<RefCell<KeysNeverKnown>>,
    sends: Sends,
    /// Agents whose join_domain ended in success, in order.
    joined: Rc<RefCell<Vec<u32>>>,
}

impl Run {
    fn violations(&self) -> Vec<Violation> {
        self.ins.shared.borrow().monitors.violations.clone()
    }
    fn agent(&self, i: usize) -> &Agent {
        self.b.sim.actor::<Agent>(self.b.agents[i]).unwrap()
    }
    fn run_until(&mut self, secs: u64) {
        self.b.sim.run(
            &RunLimits {
                horizon: Some(SimTime::from_secs(secs)),
                ..Default::default()
            },
            &mut |_, _| {},
        );
    }
    /// The id of the one message of `kind` from `from` to `to`.
    fn msg_id(&self, from: ActorId, to: ActorId, kind: &str) -> u64 {
        let v: Vec<u64> = self
            .sends
            .borrow()
            .iter()
            .filter(|s| s.1 == from.0 && s.2 == to.0 && s.3 == kind)
            .map(|s| s.0)
            .collect();
        assert_eq!(v.len(), 1, "one {kind} from {from:?} to {to:?}");
        v[0]
    }
}

/// One RI, all actors in group 0, only the keys monitor.
fn setup(cfg: &WorldConfig, specs: impl Fn(&Built) -> Vec<AdversarySpec>) -> Run {
    let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
    let sends: Sends = Rc::default();
    let joined: Rc<RefCell<Vec<u32>>> = Rc::default();
    let (s2, j2) = (sends.clone(), joined.clone());
    trace.observe(Box::new(move |rec| match &rec.ev {
        TraceEvent::Send {
            msg,
            from,
            to,
            msg_type,
            ..
        } => s2
            .borrow_mut()
            .push((*msg, *from, *to, msg_type.clone(), rec.t)),
        TraceEvent::Outcome {
            actor,
            protocol,
            status,
            ..
        } if protocol == "join_domain" && status == "success" => j2.borrow_mut().push(*actor),
        _ => {}
    }));
    let mut b = build_ideal(cfg, trace);
    let (layout, roster) = layout_and_roster(&b);
    let keys = Rc::new(RefCell::new(KeysNeverKnown::default()));
    let mut set = MonitorSet::default();
    set.add(Box::new(Handle(keys.clone())));
    let world = b.world.clone();
    let specs = specs(&b);
    let ins = install(&mut b.sim, &world, layout, roster, &specs, set).expect("installs");
    Run {
        b,
        ins,
        keys,
        sends,
        joined,
    }
}

/// A compromised Device that does nothing but hold `endpoint`'s keys and see its traffic.
fn compromised(endpoint: ActorId) -> AdversarySpec {
    let mut s = AdversarySpec::new(
        AdversaryKind::Impersonator,
        "thief",
        Position::Compromised { endpoint },
    );
    s.budget = 0;
    s
}

/// A passive on-path observer of every link (budget 0: it never acts, it only records).
fn observer() -> AdversarySpec {
    let mut s = AdversarySpec::new(
        AdversaryKind::Replayer,
        "eavesdropper",
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    s.budget = 0;
    s
}

fn rights() -> Rights {
    Rights {
        uid: "rights-1".into(),
        assets: vec![Asset {
            content_id: "cid:leak".into(),
            dcf_hash: None,
        }],
        permissions: vec![Permission {
            action: Action::ALL[0],
            constraints: Vec::new(),
        }],
        user_domains: Vec::new(),
        move_indication: Vec::new(),
    }
}

/// An RO Response from `ri` to agent `to` carrying RO `ro_id` with `enc_key`.
fn ro_response(r: &Run, to: usize, ro_id: &str, domain_ro: bool, enc_key: Encrypted) -> Pdu {
    let ri = r.b.sim.actor::<Ri>(r.b.ris[0]).unwrap();
    Pdu::RoResponse(RoResponse {
        status: Status::Success,
        body: Some(RoResponseBody {
            device_id: r.agent(to).identity().id.clone(),
            ri_id: ri.identity().id.clone(),
            nonce: vec![7; 14],
            protected_ros: vec![ProtectedRo {
                ro: Ro {
                    id: ro_id.into(),
                    version: "2.0".into(),
                    domain_ro,
                    ri_id: ri.identity().id.clone(),
                    rights: rights(),
                    signature: None,
                    time_stamp: None,
                    enc_key,
                },
                mac: vec![0; 20],
            }],
            certificate_chain: None,
            ocsp_responses: Vec::new(),
            extensions: Vec::new(),
            signature: vec![0; 128],
        }),
    })
}

/// K_MAC‖`key` RSA-KEM-wrapped to agent `to`'s public key.
fn kem_to_agent(r: &Run, to: usize, key: &SymKey, id: Option<&str>) -> Encrypted {
    let material = [[0x11u8; 16].as_slice(), key.as_bytes().as_slice()].concat();
    kem_material_to_agent(r, to, &material, id)
}

/// `material` RSA-KEM-wrapped to agent `to`'s public key.
fn kem_material_to_agent(r: &Run, to: usize, material: &[u8], id: Option<&str>) -> Encrypted {
    let a = r.agent(to);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(5);
    let cipher =
        r.b.world
            .crypto
            .kem_wrap(
                &mut OpCounter::new(),
                &mut rng,
                a.identity().chain[0].public_key(),
                material,
            )
            .unwrap();
    Encrypted {
        id: id.map(str::to_string),
        algorithm: ALG_KEM.into(),
        key_info: Some(KeyInfo::SpkiHash(
            a.identity().chain[0].key_id().as_bytes().to_vec(),
        )),
        cipher,
    }
}

fn inject(r: &mut Run, to: usize, pdu: Pdu) {
    let ri = r.b.ris[0];
    inject_from(r, ri, to, pdu);
}

fn inject_from(r: &mut Run, ri: ActorId, to: usize, pdu: Pdu) {
    let agent = r.b.agents[to];
    let msg = SimMsg::Pdu(Wire::new(r.b.world.mode(), pdu));
    r.b.sim.inject(ri, agent, msg);
}

fn cfg(mode: CryptoMode, agents: u32, revoked: u32) -> WorldConfig {
    let mut c = WorldConfig {
        agents,
        ris: 1,
        crypto: mode,
        revoked_agents: revoked,
        ..Default::default()
    };
    c.workload.acquire_rate_per_min = 6.0;
    c
}

const KREK: SymKey = SymKey([0xA5; 16]);
const KD: SymKey = SymKey([0x3C; 16]);

/// The RI sends a Device RO for revoked, compromised agent/0: its K_REK is leaked, and the
/// chain is that one RO Response.
fn revoked_device_gets_a_device_ro(mode: CryptoMode) -> Vec<Violation> {
    let mut r = setup(&cfg(mode, 3, 1), |b| vec![compromised(b.agents[0])]);
    let a0 = r.b.agents[0];
    r.run_until(2);
    let enc = kem_to_agent(&r, 0, &KREK, None);
    let pdu = ro_response(&r, 0, "ro-leak", false, enc);
    inject(&mut r, 0, pdu);
    r.run_until(5);
    r.ins.check_end(&mut r.b.sim);
    let id = r.msg_id(r.b.ris[0], a0, "roap:roResponse");
    let v = r.violations();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].invariant, names::KEYS_NEVER_KNOWN_TO_ADVERSARY);
    assert_eq!(v[0].chain, vec![id]);
    assert!(
        v[0].detail.contains("K_REK of RO ro-leak issued by ri/0"),
        "{}",
        v[0].detail
    );
    assert!(
        v[0].detail.contains("agent/0's certificate is revoked"),
        "{}",
        v[0].detail
    );
    // agent/0 is revoked, so it never registered: the injected RO is its only key.
    assert_eq!(r.keys.borrow().known_keys, 1);
    assert_eq!(r.keys.borrow().entitled_keys, 0);
    v
}

#[test]
fn fires_when_a_revoked_compromised_device_is_sent_a_device_ro() {
    revoked_device_gets_a_device_ro(CryptoMode::Symbolic);
}

/// Revoked agent/0 is sent K_D of domain `leak-dom000`; the RI then sends a Domain RO of that
/// domain to agent/1. With an on-path observer the Domain RO's K_REK leaks too, with the
/// chain (Join Domain Response, RO Response); without one only K_D leaks.
fn domain_key_then_domain_ro(mode: CryptoMode, eavesdrop: bool) -> Vec<Violation> {
    let mut r = setup(&cfg(mode, 3, 1), |b| {
        let mut specs = vec![compromised(b.agents[0])];
        if eavesdrop {
            specs.push(observer());
        }
        specs
    });
    let (a0, a1) = (r.b.agents[0], r.b.agents[1]);
    r.run_until(2);
    let ri_id =
        r.b.sim
            .actor::<Ri>(r.b.ris[0])
            .unwrap()
            .identity()
            .id
            .clone();
    let join = Pdu::JoinDomainResponse(JoinDomainResponse {
        status: Status::Success,
        body: Some(JoinDomainResponseBody {
            device_id: r.agent(0).identity().id.clone(),
            ri_id: ri_id.clone(),
            nonce: vec![9; 14],
            domain_info: DomainInfo {
                not_after: Expiry::Infinite,
                domain_keys: vec![DomainKey {
                    qualified: true,
                    enc_key: kem_to_agent(&r, 0, &KD, Some("leak-dom000")),
                    ri_id,
                    mac: vec![0; 20],
                }],
            },
            certificate_chain: None,
            ocsp_responses: Vec::new(),
            extensions: Vec::new(),
            signature: vec![0; 128],
        }),
    });
    inject(&mut r, 0, join);
    r.run_until(3);
    let material = [[0x22u8; 16].as_slice(), KREK.as_bytes().as_slice()].concat();
    let cipher =
        r.b.world
            .crypto
            .wrap(&mut OpCounter::new(), &KD, &material)
            .unwrap();
    let enc = Encrypted {
        id: None,
        algorithm: ALG_KW_AES128.into(),
        key_info: Some(KeyInfo::DomainId("leak-dom000".into())),
        cipher,
    };
    let pdu = ro_response(&r, 1, "domain-ro", true, enc);
    inject(&mut r, 1, pdu);
    r.run_until(5);
    r.ins.check_end(&mut r.b.sim);
    let ri = r.b.ris[0];
    let m_join = r.msg_id(ri, a0, "roap:joinDomainResponse");
    let v = r.violations();
    assert_eq!(v.len(), if eavesdrop { 2 } else { 1 }, "{v:?}");
    assert!(v[0]
        .detail
        .starts_with("Domain Key of domain leak-dom000 (generation 0)"));
    assert_eq!(v[0].chain, vec![m_join]);
    if eavesdrop {
        let m_ro = r
            .sends
            .borrow()
            .iter()
            .filter(|s| {
                s.1 == ri.0 && s.2 == a1.0 && s.3 == "roap:roResponse" && s.4 >= 3_000_000_000
            })
            .map(|s| s.0)
            .collect::<Vec<_>>();
        assert_eq!(m_ro.len(), 1);
        assert!(v[1]
            .detail
            .starts_with("K_REK of RO domain-ro issued by ri/0"));
        assert_eq!(v[1].chain, vec![m_join, m_ro[0]]);
    }
    v
}

#[test]
fn an_on_path_attacker_opens_domain_ros_with_a_leaked_domain_key() {
    domain_key_then_domain_ro(CryptoMode::Symbolic, true);
}

#[test]
fn without_visibility_the_domain_ro_stays_unknown() {
    domain_key_then_domain_ro(CryptoMode::Symbolic, false);
}

#[test]
fn real_and_symbolic_modes_give_the_same_verdicts() {
    let strip = |v: Vec<Violation>| -> Vec<(String, String, Vec<u64>)> {
        v.into_iter()
            .map(|x| (x.invariant, x.detail, x.chain))
            .collect()
    };
    assert_eq!(
        strip(domain_key_then_domain_ro(CryptoMode::Symbolic, true)),
        strip(domain_key_then_domain_ro(CryptoMode::Real, true))
    );
    assert_eq!(
        strip(revoked_device_gets_a_device_ro(CryptoMode::Symbolic)),
        strip(revoked_device_gets_a_device_ro(CryptoMode::Real))
    );
}

#[test]
fn honest_run_with_an_observer_and_a_compromised_device_leaks_nothing() {
    let mut c = cfg(CryptoMode::Symbolic, 4, 0);
    c.workload.join_domain_probability = 1.0;
    let mut r = setup(&c, |b| vec![compromised(b.agents[1]), observer()]);
    r.run_until(60);
    r.ins.check_end(&mut r.b.sim);
    assert_eq!(r.violations(), Vec::new());
    let held = r.agent(1).ros.len();
    let k = r.keys.borrow();
    // Every RO agent/1 holds came KEM-wrapped to it, so the adversary knows at least their
    // K_REKs, and every key it knows is one agent/1 is entitled to.
    assert!(held > 0, "agent/1 acquired rights");
    // agent/1 joined a domain (join probability 1), so its Domain Key is known as well.
    assert!(k.known_keys > held, "{} <= {held}", k.known_keys);
    assert_eq!(k.entitled_keys, k.known_keys);
}

/// A Join Domain Response from the RI giving agent `to` the key `kd` of `domain_id`.
fn join_response(r: &Run, to: usize, domain_id: &str, kd: &SymKey) -> Pdu {
    let ri_id =
        r.b.sim
            .actor::<Ri>(r.b.ris[0])
            .unwrap()
            .identity()
            .id
            .clone();
    Pdu::JoinDomainResponse(JoinDomainResponse {
        status: Status::Success,
        body: Some(JoinDomainResponseBody {
            device_id: r.agent(to).identity().id.clone(),
            ri_id: ri_id.clone(),
            nonce: vec![to as u8; 14],
            domain_info: DomainInfo {
                not_after: Expiry::Infinite,
                domain_keys: vec![DomainKey {
                    qualified: true,
                    enc_key: kem_to_agent(r, to, kd, Some(domain_id)),
                    ri_id,
                    mac: vec![0; 20],
                }],
            },
            certificate_chain: None,
            ocsp_responses: Vec::new(),
            extensions: Vec::new(),
            signature: vec![0; 128],
        }),
    })
}

/// A Proxy Join User Domain Response from the DEA to the RI admitting agent `to` with `udk`
/// for `domain_id` (a generation of User Domain `ud0-`).
fn proxy_join(r: &Run, to: usize, udk: &SymKey, domain_id: &str) -> Pdu {
    let dea = r.b.dea.expect("a DEA");
    let dea_id =
        r.b.sim
            .actor::<sim_core::proto::dea::Dea>(dea)
            .unwrap()
            .identity()
            .id
            .clone();
    let ri_id =
        r.b.sim
            .actor::<Ri>(r.b.ris[0])
            .unwrap()
            .identity()
            .id
            .clone();
    Pdu::ProxyJoinUserDomainResponse(ProxyJoinUserDomainResponse {
        status: Status::Success,
        header: GenHeader {
            trigger_none: false,
            session_id: None,
            req_id: ri_id.clone(),
            res_id: dea_id,
            nonce: vec![to as u8; 14],
            certificate_chain: None,
        },
        res_info: Some(ProxyJoinResInfo {
            domain_info: Some(DomainInfo {
                not_after: Expiry::Infinite,
                domain_keys: vec![DomainKey {
                    qualified: true,
                    enc_key: kem_to_agent(r, to, udk, Some(domain_id)),
                    ri_id,
                    mac: vec![0; 20],
                }],
            }),
            device_id: Some(r.agent(to).identity().id.clone()),
            hash_chain_support: true,
        }),
        signature: vec![0; 20],
    })
}

#[test]
fn a_device_that_left_the_user_domain_is_entitled_to_no_later_generation() {
    // No hash chains: generations are independent keys. agent/0 is admitted with generation
    // 0 (t = 2 s), leaves (t = 3 s), and is then sent generation 1 by the RI (t = 4 s).
    let mut c = cfg(CryptoMode::Symbolic, 2, 0);
    c.dea = true;
    c.user_domains.user_domains = 1;
    c.user_domains.generation = 1;
    c.workload.acquire_rate_per_min = 0.0;
    let mut r = setup(&c, |b| vec![compromised(b.agents[0]), observer()]);
    let (dea, ri) = (r.b.dea.unwrap(), r.b.ris[0]);
    let mode = r.b.world.mode();
    r.run_until(2);
    let join = proxy_join(&r, 0, &SymKey([0x10; 16]), "ud0-000");
    r.b.sim.inject(dea, ri, SimMsg::Pdu(Wire::new(mode, join)));
    r.run_until(3);
    let dea_id =
        r.b.sim
            .actor::<sim_core::proto::dea::Dea>(dea)
            .unwrap()
            .identity()
            .id
            .clone();
    let ri_id = r.b.sim.actor::<Ri>(ri).unwrap().identity().id.clone();
    let leave = Pdu::ProxyLeaveUserDomainResponse(ProxyLeaveUserDomainResponse {
        status: Status::Success,
        header: GenHeader {
            trigger_none: false,
            session_id: None,
            req_id: ri_id,
            res_id: dea_id,
            nonce: vec![8; 14],
            certificate_chain: None,
        },
        res_info: Some(("ud0-000".into(), r.agent(0).identity().id.clone())),
        signature: vec![0; 20],
    });
    r.b.sim.inject(dea, ri, SimMsg::Pdu(Wire::new(mode, leave)));
    r.run_until(4);
    let later = join_response(&r, 0, "ud0-001", &SymKey([0x11; 16]));
    inject(&mut r, 0, later);
    r.run_until(5);
    r.ins.check_end(&mut r.b.sim);
    let m = r.msg_id(ri, r.b.agents[0], "roap:joinDomainResponse");
    let v = r.violations();
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0]
        .detail
        .starts_with("UDK of User Domain ud0-001 (generation 1) known"));
    assert!(v[0]
        .detail
        .contains("agent/0 is not a member of User Domain ud0-"));
    assert_eq!(v[0].chain, vec![m]);
    // Generation 0, delivered while it was a member, stays entitled.
    assert_eq!(r.keys.borrow().known_keys, 2);
    assert_eq!(r.keys.borrow().entitled_keys, 1);
}

#[test]
fn a_udk_for_an_sce_agent_is_a_leak_with_every_older_generation() {
    // User Domain ud0- at generation 2 with hash chains; agent/2 is an SCE DRM Agent, which
    // seed 000 §7.4.1 keeps out of Proxy Join; agent/0 is a plain v2.x Device. The DEA
    // admits both (crafted answers to the RI, seen by an on-path observer).
    let mut c = cfg(CryptoMode::Symbolic, 3, 0);
    c.dea = true;
    c.sce_agents = 1;
    c.user_domains.user_domains = 1;
    c.user_domains.generation = 2;
    c.user_domains.hash_chains = true;
    c.workload.acquire_rate_per_min = 0.0;
    let mut r = setup(&c, |b| {
        let mut x = compromised(b.agents[0]);
        x.name = "thief0".into();
        vec![x, compromised(b.agents[2]), observer()]
    });
    r.run_until(2);
    let (dea, ri) = (r.b.dea.unwrap(), r.b.ris[0]);
    let to_sce = proxy_join(&r, 2, &SymKey([0x42; 16]), "ud0-002");
    let to_plain = proxy_join(&r, 0, &SymKey([0x24; 16]), "ud0-002");
    r.b.sim
        .inject(dea, ri, SimMsg::Pdu(Wire::new(r.b.world.mode(), to_sce)));
    r.run_until(3);
    r.b.sim
        .inject(dea, ri, SimMsg::Pdu(Wire::new(r.b.world.mode(), to_plain)));
    r.run_until(5);
    r.ins.check_end(&mut r.b.sim);
    let m: Vec<u64> = r
        .sends
        .borrow()
        .iter()
        .filter(|s| s.3 == "dom:rdpProxyJoinUserDomainResponse" && s.4 == 2_000_000_000)
        .map(|s| s.0)
        .collect();
    assert_eq!(m.len(), 1);
    let v = r.violations();
    // Generation 2 and, along the hash chain, 1 and 0: all delivered by that one message.
    let gens: Vec<&str> = v
        .iter()
        .map(|x| x.detail.split(" known").next().unwrap())
        .collect();
    assert_eq!(
        gens,
        vec![
            "UDK of User Domain ud0-002 (generation 2)",
            "UDK of User Domain ud0-001 (generation 1)",
            "UDK of User Domain ud0-000 (generation 0)"
        ]
    );
    for x in &v {
        assert_eq!(x.chain, m);
        assert!(x
            .detail
            .contains("agent/2's key purpose is not that of a v2.x DRM Agent (seed 000 §7.4.1)"));
    }
    // Known: both sets of three generations, and agent/2's Master Key (SCE DRM Agents join
    // the DEA's User Domain for pairing at start). Entitled: agent/0's three generations (a
    // member within the limit of 10) and that Master Key.
    assert_eq!(r.keys.borrow().known_keys, 7);
    assert_eq!(r.keys.borrow().entitled_keys, 4);
}

/// Seed 000 §7.4.1 (the `domain-stuff` setting): 6 Devices, 2 RIs, one User Domain of at most
/// 2 Devices, a domain stuffer on the path; agent `thief` (if any) is compromised. Returns
/// the run and the agents whose joins succeeded, in order.
fn stuffed(count_once: bool, thief: Option<usize>) -> (Run, Vec<u32>) {
    let mut c = cfg(CryptoMode::Symbolic, 6, 0);
    c.ris = 2;
    c.dea = true;
    c.workload.acquire_rate_per_min = 1.0;
    c.user_domains.user_domains = 1;
    c.user_domains.max_devices = 2;
    c.variants.dea_count_once = count_once;
    let mut r = setup(&c, |b| {
        let mut s = AdversarySpec::new(
            AdversaryKind::DomainStuffer,
            "stuffer",
            Position::OnPath {
                links: vec![(GroupId(0), GroupId(0))],
            },
        );
        s.messages = vec!["roap:deviceHello".into()];
        let mut specs = vec![s];
        specs.extend(thief.map(|i| compromised(b.agents[i])));
        specs
    });
    r.run_until(120);
    r.ins.check_end(&mut r.b.sim);
    let mut order: Vec<u32> = Vec::new();
    for a in r.joined.borrow().iter() {
        if !order.contains(a) {
            order.push(*a);
        }
    }
    (r, order)
}

#[test]
fn pre_cr_a_device_admitted_beyond_the_user_domain_limit_holds_the_udk() {
    // Pre-CR the DEA counts per RI: 4 distinct Devices join a User Domain of 2 (adversary.rs
    // shows the count). The first 2 are members within the limit; the 3rd and 4th are not.
    let (probe, order) = stuffed(false, None);
    assert_eq!(order.len(), 4, "{order:?}");
    let index = |actor: u32| probe.b.agents.iter().position(|a| a.0 == actor).unwrap();
    let (first, third) = (index(order[0]), index(order[2]));
    drop(probe);
    // A compromised first joiner is entitled to the UDK: nothing leaks.
    let (r, again) = stuffed(false, Some(first));
    assert_eq!(again, order, "same run with a passive thief");
    assert_eq!(r.violations(), Vec::new());
    assert!(r.keys.borrow().known_keys >= 1);
    // A compromised third joiner learns the UDK no Device within the limit gave away.
    let (r, again) = stuffed(false, Some(third));
    assert_eq!(again, order);
    let v = r.violations();
    assert!(!v.is_empty());
    assert!(
        v[0].detail
            .starts_with("UDK of User Domain ud0-000 (generation 0) known"),
        "{}",
        v[0].detail
    );
    assert!(
        v[0].detail.contains(&format!(
            "the DEA admitted agent/{third} to User Domain ud0- beyond its limit of 2 Devices (seed 000 §7.4.1)"
        )),
        "{}",
        v[0].detail
    );
    // Anything else it learnt is a Domain RO's K_REK under that UDK (chain of 2 messages).
    for x in &v[1..] {
        assert!(x.detail.starts_with("K_REK"), "{}", x.detail);
        assert_eq!(x.chain.len(), 2);
    }
    // With the CR the same Device gets DomainFull: no UDK, nothing to leak.
    let (r, _) = stuffed(true, Some(third));
    assert_eq!(r.violations(), Vec::new());
}

fn pairing_cfg() -> WorldConfig {
    // agent/0 is a plain v2.x Device; agents 1..=4 are SCE DRM Agents that pair and import.
    let mut c = cfg(CryptoMode::Symbolic, 5, 0);
    c.sce_agents = 4;
    c.lrms = 1;
    c.dea = true;
    c.workload.acquire_rate_per_min = 0.0;
    c.workload.consume_rate_per_min = 0.0;
    c.workload.pair_rate_per_min = 4.0;
    c.workload.import_rate_per_min = 2.0;
    c.workload.pair_copy_probability = 0.0;
    c.lrm_policy.import_rate_per_min = 2.0;
    c
}

#[test]
fn honest_pairing_with_a_compromised_sce_agent_leaks_nothing() {
    let mut r = setup(&pairing_cfg(), |b| {
        vec![compromised(b.agents[1]), observer()]
    });
    r.run_until(300);
    r.ins.check_end(&mut r.b.sim);
    assert_eq!(r.violations(), Vec::new());
    let k = r.keys.borrow();
    // agent/1's Master Key, its Pairing Keys and Imported ROs (300 s of pairing and
    // imports), every one a key it is entitled to.
    assert!(
        k.known_keys > 1,
        "its Master Key and the keys it paired with"
    );
    assert_eq!(k.entitled_keys, k.known_keys);
}

#[test]
fn a_leaked_master_key_opens_tickets_and_imported_ros() {
    let mut r = setup(&pairing_cfg(), |b| {
        vec![compromised(b.agents[0]), observer()]
    });
    r.run_until(20);
    let dea = r.b.dea.expect("a DEA");
    let id2 = r.agent(2).identity().id.clone();
    let mk2 =
        r.b.sim
            .actor::<sim_core::proto::dea::Dea>(dea)
            .unwrap()
            .pairing
            .masters
            .get(&id2)
            .expect("agent/2 joined for pairing")
            .key;
    // The DEA (wrongly) sends agent/2's Master Key to plain Device agent/0.
    let dea_id =
        r.b.sim
            .actor::<sim_core::proto::dea::Dea>(dea)
            .unwrap()
            .identity()
            .id
            .clone();
    let pdu = Pdu::PairingJoinDomainResponse(sim_core::pdu::pairing::PairingJoinDomainResponse {
        status: Status::Success,
        device_id: id2.clone(),
        dea_id,
        nonce: vec![3; 14],
        grant: Some(sim_core::pdu::pairing::PairingJoinGrant {
            user_domain_id: "userdomain0".into(),
            enc_master_key: kem_material_to_agent(&r, 0, mk2.as_bytes(), None),
            not_after: Expiry::Infinite,
        }),
        certificate_chain: None,
        signature: vec![0; 128],
    });
    inject_from(&mut r, dea, 0, pdu);
    r.run_until(300);
    r.ins.check_end(&mut r.b.sim);
    let m = r.msg_id(dea, r.b.agents[0], "dmp:joinDomainResponse");
    let v = r.violations();
    assert!(
        v[0].detail.starts_with("Master Key of agent/2 known"),
        "{}",
        v[0].detail
    );
    assert!(v[0]
        .detail
        .contains("agent/0's key purpose is not that of an SCE DRM Agent"));
    assert_eq!(v[0].chain, vec![m]);
    // Every further leak follows from it: Pairing Keys of agent/2 (Master Key message and
    // ticket message) and the K_REKs of Imported ROs under them (plus the Imported-RO
    // Response). Chains list message ids in order, and a ticket may predate the leak.
    let pk: Vec<&Violation> = v
        .iter()
        .filter(|x| x.detail.starts_with("Pairing Key"))
        .collect();
    let rek: Vec<&Violation> = v.iter().filter(|x| x.detail.starts_with("K_REK")).collect();
    assert_eq!(1 + pk.len() + rek.len(), v.len(), "{v:?}");
    assert!(!pk.is_empty() && !rek.is_empty(), "{v:?}");
    for x in &pk {
        assert!(x.detail.contains("agent/2"), "{}", x.detail);
        assert_eq!(x.chain.len(), 2, "{x:?}");
        assert!(x.chain.contains(&m), "{x:?}");
    }
    for x in &rek {
        assert_eq!(x.chain.len(), 3, "{x:?}");
        assert!(x.chain.contains(&m), "{x:?}");
    }
}

#[test]
fn a_key_an_adversary_injects_is_not_an_entitlement() {
    // agent/0 is compromised and in good standing. A Join Domain Response an adversary
    // injects (as if from the RI) wrapping K_D to agent/0 entitles no one: a Device is
    // entitled to what its issuer delivers, and a laundered key stays a leak.
    let mut r = setup(&cfg(CryptoMode::Symbolic, 2, 0), |b| {
        vec![compromised(b.agents[0])]
    });
    r.run_until(3);
    let thief = r.ins.actors[0];
    let pdu = join_response(&r, 0, "laundered000", &KD);
    let msg = SimMsg::Pdu(Wire::new(r.b.world.mode(), pdu.clone()));
    let obs = Observed {
        now: SimTime::from_secs(3),
        from: r.b.ris[0],
        to: r.b.agents[0],
        msg: &msg,
        pdu: Some(&pdu),
        injected_by: Some(thief),
        tampered_by: None,
    };
    r.keys
        .borrow_mut()
        .on_message(&obs, 1_000_000, &mut Vec::new());
    r.ins.check_end(&mut r.b.sim);
    let v = r.violations();
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0]
        .detail
        .starts_with("Domain Key of domain laundered000 (generation 0) known"));
    assert!(v[0]
        .detail
        .contains("an adversary injected the message that carried it"));
}

#[test]
fn honest_user_domain_run_leaks_nothing() {
    // Devices join a DEA User Domain (generation 1, hash chains) through the RI; agent/1 is
    // compromised and an observer sees every link, including the DEA's Proxy Join answers.
    let mut c = cfg(CryptoMode::Symbolic, 4, 0);
    c.dea = true;
    c.user_domains.user_domains = 1;
    c.user_domains.generation = 1;
    c.user_domains.hash_chains = true;
    c.workload.join_domain_probability = 1.0;
    let mut r = setup(&c, |b| vec![compromised(b.agents[1]), observer()]);
    r.run_until(60);
    r.ins.check_end(&mut r.b.sim);
    assert_eq!(r.violations(), Vec::new());
    let dea =
        r.b.sim
            .actor::<sim_core::proto::dea::Dea>(r.b.dea.unwrap())
            .unwrap();
    let id1 = r.agent(1).identity().id.clone();
    assert!(
        dea.user_domains.domains["userdomain0"]
            .members
            .contains_key(&id1),
        "agent/1 joined the User Domain"
    );
    let k = r.keys.borrow();
    // Its UDK generations 1 and 0 (hash chain) at least, all entitled.
    assert!(k.known_keys >= 2, "{}", k.known_keys);
    assert_eq!(k.entitled_keys, k.known_keys);
}
