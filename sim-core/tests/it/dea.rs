//! DEA-managed User Domains (seed 000) end to end: Get User Domain Authorization at RI
//! start, Proxy Join/Leave User Domain through one or several RIs, every DEA status path
//! reached by a crafted request, the count-once rule and its pre-CR variant, association
//! deletion across RIs, UDK hash chains, DEA MAC failures at the RI, the DEA-triggered
//! leave, mixed seed-002 readings, and real vs symbolic crypto.

use crate::support::build_ideal;
use sim_core::crypto::{CryptoMode, OpCounter, SymKey};
use sim_core::engine::{ActorId, RunLimits, Tap, TapCtx, Verdict};
use sim_core::pdu::dea::{GenHeader, ProxyDomainRequest};
use sim_core::pdu::roap::{DomainRequest, JoinDomainRequest, LeaveDomainRequest};
use sim_core::pdu::trigger::{ProxyLeaveUserDomainTrigger, RoapTrigger, TriggerKind};
use sim_core::pdu::{Ext, Extension, Pdu};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{ri_name, Built, WorldConfig};
use sim_core::proto::dea::Dea;
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::ri::Ri;
use sim_core::proto::trigger::{trigger_wire, TriggerOrder};
use sim_core::proto::workload::AgentWorkload;
use sim_core::proto::world::World;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

type Outcomes = BTreeMap<(String, String), u64>;

/// Records every PDU sent; optionally corrupts the MAC of ProxyJoinUserDomainResponses.
struct Recorder {
    seen: Rc<RefCell<Vec<(ActorId, ActorId, Pdu)>>>,
    corrupt_proxy_join_mac: Rc<RefCell<bool>>,
    mode: CryptoMode,
    /// Get User Domain Authorization Requests still to drop.
    drop_authz: Rc<RefCell<u32>>,
}

impl Tap<SimMsg> for Recorder {
    fn on_send(
        &mut self,
        from: ActorId,
        to: ActorId,
        msg: SimMsg,
        _ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        if let SimMsg::Pdu(w) = &msg {
            if let Ok(p) = w.open() {
                self.seen.borrow_mut().push((from, to, p.clone()));
                if matches!(p, Pdu::GetUserDomainAuthorizationRequest(_))
                    && *self.drop_authz.borrow() > 0
                {
                    *self.drop_authz.borrow_mut() -= 1;
                    return Verdict::Drop;
                }
                if let Pdu::ProxyJoinUserDomainResponse(mut r) = p {
                    if *self.corrupt_proxy_join_mac.borrow() {
                        r.signature[0] ^= 0x55;
                        let w = Wire::new(self.mode, Pdu::ProxyJoinUserDomainResponse(r));
                        return Verdict::Pass(SimMsg::Pdu(w));
                    }
                }
            }
        }
        Verdict::Pass(msg)
    }
}

struct Run {
    built: Built,
    outcomes: Rc<RefCell<Outcomes>>,
    seen: Rc<RefCell<Vec<(ActorId, ActorId, Pdu)>>>,
    corrupt: Rc<RefCell<bool>>,
    drop_authz: Rc<RefCell<u32>>,
    rng: sim_core::engine::SimRng,
    seed: u64,
}

impl Run {
    fn new(cfg: &WorldConfig) -> Run {
        Self::with_authz_drops(cfg, 0)
    }

    /// A run whose first `drops` Get User Domain Authorization Requests are lost.
    fn with_authz_drops(cfg: &WorldConfig, drops: u32) -> Run {
        let outcomes = Rc::new(RefCell::new(BTreeMap::new()));
        let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
        let o2 = outcomes.clone();
        trace.observe(Box::new(move |rec| {
            if let TraceEvent::Outcome {
                protocol, status, ..
            } = &rec.ev
            {
                *o2.borrow_mut()
                    .entry((protocol.clone(), status.clone()))
                    .or_insert(0u64) += 1;
            }
        }));
        let mut built = build_ideal(cfg, trace);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let corrupt = Rc::new(RefCell::new(false));
        let drop_authz = Rc::new(RefCell::new(drops));
        built.sim.set_tap(Box::new(Recorder {
            seen: seen.clone(),
            corrupt_proxy_join_mac: corrupt.clone(),
            mode: cfg.crypto,
            drop_authz: drop_authz.clone(),
        }));
        Run {
            built,
            outcomes,
            seen,
            corrupt,
            drop_authz,
            rng: sim_core::engine::rng::stream(7, "test", "dea"),
            seed: cfg.seed,
        }
    }

    /// Runs `secs` more seconds.
    fn run_for(&mut self, secs: u64) {
        let horizon = self.built.sim.now().add_ns(secs * 1_000_000_000);
        self.built.sim.run(
            &RunLimits {
                horizon: Some(horizon),
                ..Default::default()
            },
            &mut |_, _| {},
        );
    }

    fn count(&self, p: &str, s: &str) -> u64 {
        self.outcomes
            .borrow()
            .get(&(p.to_string(), s.to_string()))
            .copied()
            .unwrap_or(0)
    }

    fn agent(&self, i: usize) -> &Agent {
        self.built.sim.actor::<Agent>(self.built.agents[i]).unwrap()
    }

    fn ri(&self, k: usize) -> &Ri {
        self.built.sim.actor::<Ri>(self.built.ris[k]).unwrap()
    }

    fn dea(&self) -> &Dea {
        self.built
            .sim
            .actor::<Dea>(self.built.dea.unwrap())
            .unwrap()
    }

    fn dea_mut(&mut self) -> &mut Dea {
        let id = self.built.dea.unwrap();
        self.built.sim.actor_mut::<Dea>(id).unwrap()
    }

    fn dea_status(&self, p: &str, s: &str) -> u64 {
        self.dea()
            .stats
            .statuses
            .get(&(p.to_string(), s.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Devices the DEA holds in User Domain `ud`, with the RIs each is associated through.
    fn members(&self, ud: &str) -> BTreeMap<usize, Vec<usize>> {
        let world = &self.built.world;
        self.dea().user_domains.domains[ud]
            .members
            .iter()
            .map(|(dev, ris)| {
                let a = (0..self.built.agents.len())
                    .find(|&i| &self.agent(i).identity().id == dev)
                    .unwrap();
                let mut r: Vec<usize> =
                    ris.iter().map(|id| world.ri_by_id(id).unwrap().0).collect();
                r.sort_unstable();
                (a, r)
            })
            .collect()
    }

    /// RI `k` sends agent `i` a ROAP trigger of `kind` for `domain`.
    fn trigger(&mut self, k: usize, i: usize, kind: TriggerKind, domain: &str) -> RoapTrigger {
        let device = self.agent(i).identity().id.clone();
        let mut order = TriggerOrder::new(kind);
        order.domain_id = Some(domain.into());
        let (ri, a) = (self.built.ris[k], self.built.agents[i]);
        let now = self.built.sim.now();
        let t = self
            .built
            .sim
            .actor_mut::<Ri>(ri)
            .unwrap()
            .issue_trigger(&mut self.rng, now, &device, order)
            .expect("issues");
        let w = trigger_wire(self.ri(k), t.clone());
        self.built.sim.inject(ri, a, SimMsg::Pdu(w));
        t
    }

    /// Agent `i`'s Join/Leave DomainRequest for `domain` via RI `k`, signed (or not).
    fn device_request(
        &self,
        i: usize,
        k: usize,
        domain: &str,
        join: bool,
        extensions: Vec<Ext>,
        bad_sig: bool,
    ) -> DomainRequest {
        let world = &self.built.world;
        let ident = self.agent(i).identity().clone();
        let mut req = DomainRequest {
            trigger_nonce: None,
            device_id: ident.id.clone(),
            ri_id: world.ris[k].id.clone(),
            nonce: vec![i as u8 + 100; 14],
            time: world.datetime(self.built.sim.now().as_ns()),
            domain_id: domain.into(),
            certificate_chain: Some(ident.chain_wire.clone()),
            not_member: false,
            extensions,
            signature: Vec::new(),
        };
        let unsigned = if join {
            Pdu::JoinDomainRequest(JoinDomainRequest(req.clone()))
        } else {
            Pdu::LeaveDomainRequest(LeaveDomainRequest(req.clone()))
        };
        req.signature = world
            .crypto
            .sign(
                &mut OpCounter::new(),
                &ident.key,
                world.params.sig_alg,
                &unsigned,
            )
            .unwrap();
        if bad_sig {
            req.signature[3] ^= 1;
        }
        req
    }

    /// A Proxy Join/Leave request as RI `k` would send it, MACed under `mk`; injected.
    fn inject_proxy(&mut self, k: usize, req: DomainRequest, join: bool, mk: SymKey) {
        let world = self.built.world.clone();
        let mut p = ProxyDomainRequest {
            header: GenHeader {
                trigger_none: false,
                session_id: None,
                req_id: world.ris[k].id.clone(),
                res_id: world.dea_id.clone().unwrap(),
                nonce: world.nonce(&mut self.rng),
                certificate_chain: None,
            },
            device_request: req,
            device_certificate_chain: None,
            signature: Vec::new(),
        };
        let wrap = |p: ProxyDomainRequest| {
            if join {
                Pdu::ProxyJoinUserDomainRequest(p)
            } else {
                Pdu::ProxyLeaveUserDomainRequest(p)
            }
        };
        p.signature = world.crypto.mac(
            &mut OpCounter::new(),
            &mk,
            world.params.mac_alg,
            &wrap(p.clone()),
        );
        let (ri, dea) = (self.built.ris[k], self.built.dea.unwrap());
        self.built
            .sim
            .inject(ri, dea, SimMsg::Pdu(Wire::new(world.mode(), wrap(p))));
    }

    fn mk(&self, k: usize) -> SymKey {
        World::dea_master_key(self.seed, &ri_name(k as u32))
    }

    fn join_responses_to(&self, agent: usize) -> Vec<sim_core::pdu::roap::JoinDomainResponse> {
        let a = self.built.agents[agent];
        self.seen
            .borrow()
            .iter()
            .filter(|(_, to, _)| *to == a)
            .filter_map(|(_, _, p)| match p {
                Pdu::JoinDomainResponse(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }
}

const UD: &str = "userdomain0";
const UD_BASE: &str = "ud0-";

/// A DEA with one User Domain; agents register with their home RI and do nothing else.
fn quiet(agents: u32, ris: u32) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents,
        ris,
        dea: true,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            ..Default::default()
        },
        ..Default::default()
    };
    cfg.domains.domains_per_ri = 0;
    cfg.user_domains.user_domains = 1;
    cfg
}

/// Same, and every agent joins the User Domain through its home RI after registering.
fn joining(agents: u32, ris: u32) -> WorldConfig {
    let mut cfg = quiet(agents, ris);
    cfg.workload.join_domain_probability = 1.0;
    cfg
}

#[test]
fn rights_issuers_are_authorized_and_agents_join_through_the_dea() {
    let mut cfg = joining(3, 2);
    cfg.user_domains.generation = 2;
    let mut run = Run::new(&cfg);
    run.run_for(30);
    // Each RI asked once at start and was granted the mapping ud0- → userdomain0.
    assert_eq!(
        run.dea_status("get_user_domain_authorization", "Success"),
        2
    );
    for k in 0..2 {
        assert_eq!(run.ri(k).user_domain_map.get(UD_BASE).unwrap(), UD);
        let a = &run.ri(k).dea_proxy.authorizations[UD];
        assert_eq!(a.entity_id, run.built.world.ris[k].id);
        assert_eq!(a.domain_id.as_deref(), Some("ud0-002"));
    }
    assert_eq!(run.count("join_domain", "success"), 3);
    assert_eq!(run.dea_status("proxy_join_user_domain", "Success"), 3);
    // Agents 0 and 2 have home RI 0, agent 1 has RI 1.
    let m = run.members(UD);
    assert_eq!(
        m,
        BTreeMap::from([(0, vec![0]), (1, vec![1]), (2, vec![0])])
    );
    // Every generation's UDK reached every agent (no hash chain support requested).
    let udks = run.dea().user_domains.domains[UD].keys.clone();
    assert_eq!(udks.len(), 3);
    for i in 0..3 {
        let c = &run.agent(i).domain.contexts[UD_BASE];
        assert_eq!(c.keys.len(), 3);
        for (g, k) in &c.keys {
            assert_eq!(*k, udks[*g as usize]);
        }
    }
    // §7.4.1.2: the RI's response carries its certificate chain, the domain keys name the
    // generations, riID inside each <domainKey> is the forwarding RI.
    let r = run.join_responses_to(1).pop().unwrap().body.unwrap();
    assert_eq!(
        r.certificate_chain.as_ref(),
        Some(&run.ri(1).identity().chain_wire)
    );
    let ids: Vec<_> = r
        .domain_info
        .domain_keys
        .iter()
        .map(|k| k.enc_key.id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["ud0-000", "ud0-001", "ud0-002"]);
    assert!(r
        .domain_info
        .domain_keys
        .iter()
        .all(|k| k.ri_id == run.built.world.ris[1].id));
    assert!(r.extensions.is_empty());
}

#[test]
fn hash_chain_derives_older_generations_from_the_newest_udk() {
    let mut cfg = joining(2, 1);
    cfg.user_domains.generation = 3;
    cfg.user_domains.hash_chains = true;
    let mut run = Run::new(&cfg);
    run.run_for(30);
    assert_eq!(run.count("join_domain", "success"), 2);
    let world = run.built.world.clone();
    let ud = &run.dea().user_domains.domains[UD];
    assert_eq!(ud.keys.len(), 1, "only the newest UDK is stored");
    let newest = ud.keys[0];
    // Agents without Hash Chain Support get all four generations; each older UDK is
    // KDF2-SHA1 of the next one, computed here by hand.
    let keys = run.agent(0).domain.contexts[UD_BASE].keys.clone();
    assert_eq!(keys.len(), 4);
    assert_eq!(keys[&3], newest);
    let mut ops = OpCounter::new();
    for g in 0..3u32 {
        let derived = world
            .crypto
            .kdf2_sha1(&mut ops, keys[&(g + 1)].as_bytes(), 16);
        assert_eq!(keys[&g].as_bytes().as_slice(), derived.as_slice(), "g={g}");
    }
    // A request with the Hash Chain Support extension: only the newest generation, and
    // the RI adds the extension to its response (§7.4.1.1, §7.4.1.2).
    let req = run.device_request(
        1,
        0,
        "ud0-003",
        true,
        vec![Ext::new(Extension::HashChainSupport)],
        false,
    );
    let (a, ri) = (run.built.agents[1], run.built.ris[0]);
    let pdu = Pdu::JoinDomainRequest(JoinDomainRequest(req));
    run.built
        .sim
        .inject(a, ri, SimMsg::Pdu(Wire::new(world.mode(), pdu)));
    run.run_for(5);
    let proxy_res = run
        .seen
        .borrow()
        .iter()
        .filter_map(|(_, _, p)| match p {
            Pdu::ProxyJoinUserDomainResponse(r) => r.res_info.clone(),
            _ => None,
        })
        .next_back()
        .unwrap();
    assert!(proxy_res.hash_chain_support);
    let r = run.join_responses_to(1).pop().unwrap().body.unwrap();
    assert_eq!(r.domain_info.domain_keys.len(), 1);
    assert_eq!(
        r.domain_info.domain_keys[0].enc_key.id.as_deref(),
        Some("ud0-003")
    );
    assert_eq!(r.extensions, vec![Ext::new(Extension::HashChainSupport)]);
    let material = world
        .crypto
        .kem_unwrap(
            &mut ops,
            &run.agent(1).identity().key,
            &r.domain_info.domain_keys[0].enc_key.cipher,
        )
        .unwrap();
    assert_eq!(&material[16..], newest.as_bytes().as_slice());
    // The agent derives generation 0 three steps down the chain.
    let mut k = newest;
    for _ in 0..3 {
        k = world.crypto.udk_previous(&mut ops, &k);
    }
    assert_eq!(k, keys[&0]);
}

#[test]
fn every_proxy_join_status_path() {
    let mut cfg = quiet(6, 2);
    cfg.revoked_agents = 1; // agent 0
    cfg.sce_agents = 1; // agent 5 carries oma-kp-sceDrmAgent too
    cfg.user_domains.max_devices = 2;
    let mut run = Run::new(&cfg);
    run.run_for(20);
    assert_eq!(
        run.count("registration", "success"),
        5,
        "the revoked agent fails"
    );
    let mk0 = run.mk(0);
    // Crafted proxy requests from RI 0, in the order of §7.4.1.
    let r = run.device_request(0, 0, "ud0-000", true, vec![], false);
    run.inject_proxy(0, r, true, mk0); // revoked chain
    let mut r = run.device_request(1, 0, "ud0-000", true, vec![], false);
    r.certificate_chain = Some(run.ri(1).identity().chain_wire.clone()); // no drmAgent
    run.inject_proxy(0, r, true, mk0);
    let r = run.device_request(1, 0, "ud0-000", true, vec![], true);
    run.inject_proxy(0, r, true, mk0); // bad Device signature
    let r = run.device_request(1, 0, "nosuch-000", true, vec![], false);
    run.inject_proxy(0, r, true, mk0); // unknown domain
    let r = run.device_request(1, 0, "ud0-001", true, vec![], false);
    run.inject_proxy(0, r, true, mk0); // generation not reached
    let r = run.device_request(1, 0, "ud0-000", true, vec![], false);
    run.inject_proxy(0, r, true, SymKey([9; 16])); // wrong MK
    run.run_for(5);
    assert_eq!(
        run.dea_status("proxy_join_user_domain", "InvalidCertificateChain"),
        2
    );
    assert_eq!(
        run.dea_status("proxy_join_user_domain", "SignatureError"),
        2
    );
    assert_eq!(run.dea_status("proxy_join_user_domain", "InvalidDomain"), 2);
    assert_eq!(run.dea().user_domains.stats.mac_failures, 1);
    // Those answers matched no request the RI proxied.
    assert_eq!(run.ri(0).dea_proxy.stats.unmatched_responses, 6);

    // Device-driven runs: the SCE agent (drmAgent + sceDrmAgent) is refused.
    run.trigger(1, 5, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("join_domain", "InvalidCertificateChain"), 1);
    // DomainFull at two Devices; the third is refused with the DEA's status forwarded.
    run.trigger(1, 1, TriggerKind::JoinDomain, "ud0-000");
    run.trigger(0, 2, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    run.trigger(1, 3, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("join_domain", "success"), 2);
    assert_eq!(run.count("join_domain", "DomainFull"), 1);
    // RI 1 loses its §7.2.2 mapping at the DEA: known domain, refused for that RI.
    let ri1 = run.built.world.ris[1].id.clone();
    run.dea_mut().user_domains.authorizations.remove(&ri1);
    run.dea_mut()
        .user_domains
        .domains
        .get_mut(UD)
        .unwrap()
        .max_devices = 10;
    run.trigger(1, 3, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("join_domain", "DomainAccessDenied"), 1);
    assert_eq!(
        run.dea_status("proxy_join_user_domain", "DomainAccessDenied"),
        1
    );
    // RI 0 relays a request the Device addressed to RI 1: refused for "other reasons".
    let r = run.device_request(4, 1, "ud0-000", true, vec![], false);
    run.inject_proxy(0, r, true, mk0);
    run.run_for(2);
    assert_eq!(
        run.dea_status("proxy_join_user_domain", "DomainAccessDenied"),
        2
    );
    // A requester the DEA shares no MK with.
    let world = run.built.world.clone();
    let r = run.device_request(4, 0, "ud0-000", true, vec![], false);
    let mut p = ProxyDomainRequest {
        header: GenHeader {
            trigger_none: false,
            session_id: None,
            req_id: run.agent(4).identity().id.clone(),
            res_id: world.dea_id.clone().unwrap(),
            nonce: vec![1; 14],
            certificate_chain: None,
        },
        device_request: r,
        device_certificate_chain: None,
        signature: vec![0; 20],
    };
    p.signature = vec![0; 20];
    let (a, dea) = (run.built.agents[4], run.built.dea.unwrap());
    run.built.sim.inject(
        a,
        dea,
        SimMsg::Pdu(Wire::new(world.mode(), Pdu::ProxyJoinUserDomainRequest(p))),
    );
    run.run_for(2);
    assert_eq!(run.dea_status("proxy_join_user_domain", "NoMasterKey"), 1);
}

/// Agent 0 joins through RIs 0, 1 and 2; agent 1 through RI 0; agent 2 through RI 1.
fn three_ri_joins(count_once: bool) -> Run {
    let mut cfg = quiet(3, 3);
    cfg.user_domains.max_devices = 2;
    cfg.variants.dea_count_once = count_once;
    let mut run = Run::new(&cfg);
    run.run_for(10);
    for k in 0..3 {
        run.trigger(k, 0, TriggerKind::JoinDomain, "ud0-000");
        run.run_for(5);
    }
    run.trigger(0, 1, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    run.trigger(1, 2, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    run
}

#[test]
fn a_device_counts_once_however_many_ris_it_joins_through() {
    let run = three_ri_joins(true);
    assert_eq!(run.count("join_domain", "success"), 4);
    assert_eq!(run.count("join_domain", "DomainFull"), 1);
    assert_eq!(
        run.members(UD),
        BTreeMap::from([(0, vec![0, 1, 2]), (1, vec![0])])
    );
}

#[test]
fn pre_cr_counting_per_ri_lets_the_domain_exceed_its_limit() {
    let run = three_ri_joins(false);
    assert_eq!(run.count("join_domain", "success"), 5);
    assert_eq!(run.count("join_domain", "DomainFull"), 0);
    let m = run.members(UD);
    assert_eq!(m.len(), 3, "three Devices in a domain of at most two");
    assert!(m.len() > run.dea().user_domains.domains[UD].max_devices);
}

#[test]
fn leaving_through_one_ri_keeps_the_association_through_another() {
    let mut run = Run::new(&quiet(2, 2));
    run.run_for(10);
    run.trigger(0, 0, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    run.trigger(1, 0, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.members(UD), BTreeMap::from([(0, vec![0, 1])]));
    run.trigger(0, 0, TriggerKind::LeaveDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("leave_domain", "success"), 1);
    assert_eq!(run.members(UD), BTreeMap::from([(0, vec![1])]));
    assert_eq!(run.dea().user_domains.stats.ri_links_removed, 1);
    assert_eq!(run.dea().user_domains.stats.associations_deleted, 0);
    assert!(run.agent(0).domain.contexts.is_empty());
    // Leaving through RI 1 too (the Device no longer holds keys: notMember) deletes it.
    run.trigger(1, 0, TriggerKind::LeaveDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("leave_domain", "success"), 2);
    assert!(run.members(UD).is_empty());
    assert_eq!(run.dea().user_domains.stats.associations_deleted, 1);
}

#[test]
fn every_proxy_leave_status_path() {
    let mut cfg = joining(3, 1);
    cfg.revoked_agents = 1;
    cfg.sce_agents = 1; // agent 2
    let mut run = Run::new(&cfg);
    run.run_for(20);
    assert_eq!(run.count("join_domain", "success"), 1, "agent 1 only");
    let mk0 = run.mk(0);
    let r = run.device_request(0, 0, "ud0-000", false, vec![], false);
    run.inject_proxy(0, r, false, mk0); // revoked
    let r = run.device_request(2, 0, "ud0-000", false, vec![], false);
    run.inject_proxy(0, r, false, mk0); // sceDrmAgent
    let r = run.device_request(1, 0, "ud0-000", false, vec![], true);
    run.inject_proxy(0, r, false, mk0); // bad Device signature
    let r = run.device_request(1, 0, "nosuch-000", false, vec![], false);
    run.inject_proxy(0, r, false, mk0); // unknown domain
    run.run_for(3);
    assert_eq!(
        run.dea_status("proxy_leave_user_domain", "InvalidCertificateChain"),
        2
    );
    assert_eq!(
        run.dea_status("proxy_leave_user_domain", "SignatureError"),
        1
    );
    assert_eq!(
        run.dea_status("proxy_leave_user_domain", "InvalidDomain"),
        1
    );
    assert_eq!(run.members(UD).len(), 1, "nothing deleted");
    // A real Device-driven refusal is forwarded status-only (§7.5.2.1).
    run.trigger(0, 2, TriggerKind::LeaveDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("leave_domain", "InvalidCertificateChain"), 1);
    let last_leave = run
        .seen
        .borrow()
        .iter()
        .filter_map(|(_, _, p)| match p {
            Pdu::LeaveDomainResponse(r) => Some(r.clone()),
            _ => None,
        })
        .next_back()
        .unwrap();
    assert!(last_leave.body.is_none());
    // Success: the LeaveDomainResponse names the domain the Device asked to leave.
    run.trigger(0, 1, TriggerKind::LeaveDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("leave_domain", "success"), 1);
    assert!(run.members(UD).is_empty());
}

#[test]
fn a_dea_mac_failure_at_the_ri_gives_domain_access_denied() {
    let mut run = Run::new(&quiet(2, 1));
    run.run_for(10);
    *run.corrupt.borrow_mut() = true;
    run.trigger(0, 0, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("join_domain", "DomainAccessDenied"), 1);
    assert_eq!(run.ri(0).dea_proxy.stats.dea_mac_failures, 1);
    let r = run.join_responses_to(0).pop().unwrap();
    assert!(r.body.is_none(), "status only");
    // The DEA did admit the Device: the RI just could not trust the answer.
    assert_eq!(run.dea_status("proxy_join_user_domain", "Success"), 1);
    *run.corrupt.borrow_mut() = false;
    run.trigger(0, 1, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("join_domain", "success"), 1);
}

#[test]
fn the_dea_triggers_a_device_to_leave_through_each_ri() {
    let mut run = Run::new(&quiet(1, 2));
    run.run_for(10);
    run.trigger(0, 0, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    run.trigger(1, 0, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.members(UD), BTreeMap::from([(0, vec![0, 1])]));
    // A forged trigger (wrong MK) and one without a MAC are discarded by the RI.
    let world = run.built.world.clone();
    let dev = run.agent(0).identity().id.clone();
    let mut t = ProxyLeaveUserDomainTrigger {
        id: None,
        res_id: world.dea_id.clone().unwrap(),
        res_alias: None,
        nonce: vec![4; 14],
        req_url: "https://dea-0.example/sce".into(),
        domain_id: UD.into(),
        device_ids: vec![dev.clone()],
        signature: None,
    };
    let (dea, ri0) = (run.built.dea.unwrap(), run.built.ris[0]);
    let send = |run: &mut Run, t: ProxyLeaveUserDomainTrigger| {
        let w = Wire::new(world.mode(), Pdu::ProxyLeaveUserDomainTrigger(t));
        run.built.sim.inject(dea, ri0, SimMsg::Pdu(w));
    };
    send(&mut run, t.clone());
    t.signature = Some(world.crypto.mac(
        &mut OpCounter::new(),
        &SymKey([3; 16]),
        world.params.mac_alg,
        &Pdu::ProxyLeaveUserDomainTrigger(t.clone()),
    ));
    send(&mut run, t.clone());
    run.run_for(3);
    assert_eq!(run.ri(0).dea_proxy.stats.triggers_discarded, 2);
    assert_eq!(run.count("leave_domain", "success"), 0);
    // The genuine one, MACed under RI 0's MK: RI 0 triggers the Device, which leaves.
    t.nonce = vec![5; 14];
    t.signature = None;
    t.signature = Some(world.crypto.mac(
        &mut OpCounter::new(),
        &run.mk(0),
        world.params.mac_alg,
        &Pdu::ProxyLeaveUserDomainTrigger(t.clone()),
    ));
    send(&mut run, t.clone());
    run.run_for(5);
    assert_eq!(run.ri(0).dea_proxy.stats.triggers_accepted, 1);
    assert_eq!(run.count("leave_domain", "success"), 1);
    assert_eq!(run.members(UD), BTreeMap::from([(0, vec![1])]));
    // Replayed: discarded.
    send(&mut run, t);
    run.run_for(3);
    assert_eq!(run.ri(0).dea_proxy.stats.triggers_discarded, 3);
}

#[test]
fn the_trigger_leave_workload_evicts_members() {
    let mut cfg = joining(4, 2);
    cfg.user_domains.trigger_leave_rate_per_min = 60.0;
    let mut run = Run::new(&cfg);
    run.run_for(120);
    assert_eq!(run.count("join_domain", "success"), 4);
    let sent = run.dea().user_domains.stats.triggers_sent;
    assert_eq!(
        sent, 4,
        "one trigger per association, each member evicted once"
    );
    assert_eq!(run.count("leave_domain", "success"), 4);
    assert!(run.members(UD).is_empty());
    for i in 0..4 {
        assert!(run.agent(i).domain.contexts.is_empty());
    }
}

fn mixed_run(mode: CryptoMode, fraction: f64) -> (Run, Outcomes) {
    let mut cfg = joining(4, 2);
    cfg.crypto = mode;
    cfg.user_domains.generation = 1;
    cfg.domains.agents_other_mac_fraction = fraction;
    let mut run = Run::new(&cfg);
    run.run_for(30);
    let o = run.outcomes.borrow().clone();
    (run, o)
}

#[test]
fn agents_reading_seed_002_differently_from_the_dea_fail_key_confirmation() {
    let (run, _) = mixed_run(CryptoMode::Symbolic, 0.5);
    // Agents 1 and 3 take the other reading (⌊(i+1)/2⌋ > ⌊i/2⌋ for odd i).
    assert_eq!(run.count("join_domain", "success"), 2);
    assert_eq!(run.count("join_domain", "DomainKeyMacError"), 2);
    assert!(run.agent(0).domain.contexts.contains_key(UD_BASE));
    assert!(!run.agent(1).domain.contexts.contains_key(UD_BASE));
    // The DEA admitted all four: the failure is at the Device.
    assert_eq!(run.dea_status("proxy_join_user_domain", "Success"), 4);
}

#[test]
fn real_and_symbolic_modes_give_the_same_outcomes() {
    let (real_run, real) = mixed_run(CryptoMode::Real, 0.5);
    let (_, symbolic) = mixed_run(CryptoMode::Symbolic, 0.5);
    assert_eq!(real, symbolic);
    assert_eq!(real_run.count("join_domain", "success"), 2);
    assert_eq!(real_run.count("join_domain", "DomainKeyMacError"), 2);
}

#[test]
fn a_lost_authorization_request_is_retried_with_a_fresh_nonce() {
    let cfg = joining(2, 1);
    let timeout_s = cfg.params.request_timeout_ns / 1_000_000_000;
    let mut run = Run::with_authz_drops(&cfg, 2);
    run.run_for(2);
    // Unmapped while unanswered: the Device's domain is unknown at the RI.
    assert!(run.ri(0).user_domain_map.is_empty());
    assert_eq!(run.count("join_domain", "InvalidDomain"), 2);
    run.run_for(2 * timeout_s + 5);
    assert_eq!(*run.drop_authz.borrow(), 0);
    assert_eq!(run.ri(0).user_domain_map.get(UD_BASE).unwrap(), UD);
    let nonces: Vec<Vec<u8>> = run
        .seen
        .borrow()
        .iter()
        .filter_map(|(_, _, p)| match p {
            Pdu::GetUserDomainAuthorizationRequest(r) => Some(r.header.nonce.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(nonces.len(), 3, "two lost, the third answered, no more");
    assert!(nonces[0] != nonces[1] && nonces[1] != nonces[2]);
    // Now the agents can join.
    run.trigger(0, 0, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("join_domain", "success"), 1);
}

#[test]
fn an_expired_user_domain_refuses_joins() {
    let mut cfg = quiet(1, 1);
    cfg.user_domains.lifetime_ns = Some(60 * 1_000_000_000);
    let mut run = Run::new(&cfg);
    run.run_for(10);
    run.trigger(0, 0, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("join_domain", "success"), 1);
    // notAfter = epoch + 60 s, as the Device's context records it.
    let na = run.agent(0).domain.contexts[UD_BASE].not_after;
    assert_eq!(
        na,
        sim_core::pdu::Expiry::At(sim_core::pdu::DateTime::from_unix_s(
            sim_core::proto::build::EPOCH_UNIX_S + 60
        ))
    );
    run.run_for(60);
    run.trigger(0, 0, TriggerKind::JoinDomain, "ud0-000");
    run.run_for(5);
    assert_eq!(run.count("join_domain", "DomainAccessDenied"), 1);
}

#[test]
fn join_response_chain_and_ocsp_follow_the_request_extensions() {
    let mut run = Run::new(&quiet(2, 1));
    run.run_for(10);
    let world = run.built.world.clone();
    let ri_id = world.ris[0].id.clone();
    let plain = run.device_request(0, 0, "ud0-000", true, vec![], false);
    let terse = run.device_request(
        1,
        0,
        "ud0-000",
        true,
        vec![
            Ext::new(Extension::PeerKeyIdentifier(Some(ri_id))),
            Ext::new(Extension::NoOcspResponse),
        ],
        false,
    );
    let ri = run.built.ris[0];
    for (i, r) in [(0, plain), (1, terse)] {
        let a = run.built.agents[i];
        let pdu = Pdu::JoinDomainRequest(JoinDomainRequest(r));
        run.built
            .sim
            .inject(a, ri, SimMsg::Pdu(Wire::new(world.mode(), pdu)));
    }
    run.run_for(5);
    let full = run.join_responses_to(0).pop().unwrap().body.unwrap();
    assert_eq!(
        full.certificate_chain.as_ref(),
        Some(&run.ri(0).identity().chain_wire)
    );
    assert_eq!(full.ocsp_responses.len(), 1, "the stapled response");
    let short = run.join_responses_to(1).pop().unwrap().body.unwrap();
    assert!(short.certificate_chain.is_none());
    assert!(short.ocsp_responses.is_empty());
    assert_eq!(run.dea_status("proxy_join_user_domain", "Success"), 2);
}
