//! User Domain ROs (seed 000 §7.2.2/§7.4 readings in `proto/dea_proxy/udk.rs`): RIs obtain
//! the UDKs in the Get User Domain Authorization Response and issue `<userDomain>` ROs to
//! Devices joined through them; hash-chain Devices receive only the newest UDK and derive
//! older generations themselves (seed 000 §7.4.1.1). RI-sent meteringReport and moveDeviceRO
//! triggers are run by the Device through the trigger's roapURL (seed 004 §11.3, seed 003
//! §9.1.1), and the MeteringReportResponse echoes the Device's riID (seed 004 §5.4.6.2.1).

use crate::support::build_ideal;
use sim_core::crypto::{CryptoMode, OpCounter};
use sim_core::engine::{ActorId, RunLimits, Tap, TapCtx, Verdict};
use sim_core::pdu::trigger::{RoapTrigger, TriggerKind};
use sim_core::pdu::{KeyInfo, Pdu};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::dea::Dea;
use sim_core::proto::msg::SimMsg;
use sim_core::proto::ri::Ri;
use sim_core::proto::rights::Binding;
use sim_core::proto::trigger::{trigger_wire, TriggerOrder};
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

type Outcomes = BTreeMap<(String, String), u64>;
type Seen = Rc<RefCell<Vec<(ActorId, ActorId, Pdu)>>>;

/// Records every PDU sent.
struct Recorder {
    seen: Seen,
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
                self.seen.borrow_mut().push((from, to, p));
            }
        }
        Verdict::Pass(msg)
    }
}

struct Run {
    built: Built,
    outcomes: Rc<RefCell<Outcomes>>,
    seen: Seen,
    rng: sim_core::engine::SimRng,
}

impl Run {
    fn new(cfg: &WorldConfig) -> Run {
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
        let seen: Seen = Rc::new(RefCell::new(Vec::new()));
        built.sim.set_tap(Box::new(Recorder { seen: seen.clone() }));
        Run {
            built,
            outcomes,
            seen,
            rng: sim_core::engine::rng::stream(7, "test", "udro"),
        }
    }

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

    /// Builds RI `k`'s trigger for agent `i` (signed by the RI).
    fn make_trigger(&mut self, k: usize, i: usize, order: TriggerOrder) -> RoapTrigger {
        let device = self.agent(i).identity().id.clone();
        let ri = self.built.ris[k];
        let now = self.built.sim.now();
        self.built
            .sim
            .actor_mut::<Ri>(ri)
            .unwrap()
            .issue_trigger(&mut self.rng, now, &device, order)
            .expect("issues")
    }

    fn inject_trigger(&mut self, k: usize, i: usize, t: RoapTrigger) {
        let w = trigger_wire(self.ri(k), t);
        let (ri, a) = (self.built.ris[k], self.built.agents[i]);
        self.built.sim.inject(ri, a, SimMsg::Pdu(w));
    }

    /// RI `k` tells agent `i` to acquire one RO for `content`, as Domain RO of `domain`.
    fn acquire(&mut self, k: usize, i: usize, content: &str, domain: Option<&str>) {
        let mut o = TriggerOrder::new(TriggerKind::RoAcquisition);
        o.content_ids = vec![content.into()];
        o.domain_id = domain.map(str::to_string);
        let t = self.make_trigger(k, i, o);
        self.inject_trigger(k, i, t);
    }

    fn sent_to(&self, a: ActorId) -> Vec<Pdu> {
        self.seen
            .borrow()
            .iter()
            .filter(|(_, to, _)| *to == a)
            .map(|(_, _, p)| p.clone())
            .collect()
    }
}

const UD: &str = "userdomain0";
const UD_BASE: &str = "ud0-";

/// One DEA User Domain (generation 2), every agent joins it through its home RI; no
/// workload acquisitions or uses.
fn joining(agents: u32, ris: u32, mode: CryptoMode) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents,
        ris,
        dea: true,
        crypto: mode,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            join_domain_probability: 1.0,
            ..Default::default()
        },
        ..Default::default()
    };
    cfg.domains.domains_per_ri = 0;
    cfg.user_domains.user_domains = 1;
    cfg.user_domains.generation = 2;
    cfg
}

fn user_domain_ros_flow(mode: CryptoMode) -> Outcomes {
    let mut run = Run::new(&joining(2, 1, mode));
    run.run_for(30);
    assert_eq!(run.count("join_domain", "success"), 2);
    // The RI holds every generation's UDK, equal to the DEA's.
    let world = run.built.world.clone();
    let dea_ud = run.dea().user_domains.domains[UD].clone();
    let held = run.ri(0).dea_proxy.udks.keys[UD].clone();
    assert_eq!(held.keys.len(), 3);
    assert!(!held.hash_chain);
    for g in 0..=2u32 {
        let k = dea_ud.key(&world, &mut OpCounter::new(), g).unwrap();
        assert_eq!(held.keys[&g], k, "generation {g}");
    }
    // The grants travelled AES-wrapped under the MK, never in clear.
    let grants: Vec<_> = run
        .sent_to(run.built.ris[0])
        .into_iter()
        .filter_map(|p| match p {
            Pdu::GetUserDomainAuthorizationResponse(r) => Some(r.user_domain_keys),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(grants.len(), 3);
    assert!(grants
        .iter()
        .all(|g| g.enc_key.cipher != held.keys[&g.generation].as_bytes().to_vec()));
    // A member acquires a User Domain RO: wrapped under the UDK, named by the ROAP domain
    // ID, installed bound to the domain.
    run.acquire(0, 0, "cid:ud", Some("ud0-002"));
    run.run_for(5);
    assert_eq!(run.count("ro_acquisition", "success"), 1);
    let ro = run
        .agent(0)
        .ros
        .values()
        .find(|r| r.binding == Binding::Domain(UD_BASE.into()))
        .expect("a User Domain RO is installed");
    assert_eq!(ro.content_id, "cid:ud");
    let resp = run
        .sent_to(run.built.agents[0])
        .into_iter()
        .find_map(|p| match p {
            Pdu::RoResponse(r) => r.body,
            _ => None,
        })
        .unwrap();
    let pro = &resp.protected_ros[0];
    assert!(pro.ro.domain_ro && pro.ro.signature.is_some());
    assert_eq!(
        pro.ro.enc_key.key_info,
        Some(KeyInfo::DomainId("ud0-002".into()))
    );
    assert_eq!(run.ri(0).dea_proxy.udks.stats.ros_issued, 1);
    let outcomes = run.outcomes.borrow().clone();
    outcomes
}

#[test]
fn rights_issuers_hold_the_udk_and_issue_user_domain_ros_to_members() {
    user_domain_ros_flow(CryptoMode::Symbolic);
}

#[test]
fn user_domain_ros_in_real_and_symbolic_mode_agree() {
    assert_eq!(
        user_domain_ros_flow(CryptoMode::Real),
        user_domain_ros_flow(CryptoMode::Symbolic)
    );
}

#[test]
fn non_members_leavers_and_unknown_generations_get_no_user_domain_ros() {
    let mut cfg = joining(3, 2, CryptoMode::Symbolic);
    cfg.workload.join_domain_probability = 0.0;
    let mut run = Run::new(&cfg);
    run.run_for(20);
    // Agent 0 (home RI 0) joins; agent 2 (home RI 0) does not.
    let mut o = TriggerOrder::new(TriggerKind::JoinDomain);
    o.domain_id = Some("ud0-002".into());
    let t = run.make_trigger(0, 0, o);
    run.inject_trigger(0, 0, t);
    run.run_for(5);
    assert_eq!(run.count("join_domain", "success"), 1);
    // Not a member: DomainAccessDenied.
    run.acquire(0, 2, "cid:x", Some("ud0-002"));
    run.run_for(5);
    assert_eq!(run.count("ro_acquisition", "DomainAccessDenied"), 1);
    // A generation the User Domain has not reached: InvalidDomain.
    run.acquire(0, 0, "cid:x", Some("ud0-007"));
    run.run_for(5);
    assert_eq!(run.count("ro_acquisition", "InvalidDomain"), 1);
    // Agent 1 (home RI 1) is a member of nothing through RI 1 either.
    run.acquire(1, 1, "cid:x", Some("ud0-002"));
    run.run_for(5);
    assert_eq!(run.count("ro_acquisition", "DomainAccessDenied"), 2);
    // Member: Success; after leaving (proxied to the DEA), DomainAccessDenied again.
    run.acquire(0, 0, "cid:y", Some("ud0-002"));
    run.run_for(5);
    assert_eq!(run.count("ro_acquisition", "success"), 1);
    let mut o = TriggerOrder::new(TriggerKind::LeaveDomain);
    o.domain_id = Some("ud0-002".into());
    let t = run.make_trigger(0, 0, o);
    run.inject_trigger(0, 0, t);
    run.run_for(5);
    assert_eq!(run.count("leave_domain", "success"), 1);
    let device = run.agent(0).identity().id.clone();
    assert!(!run.ri(0).dea_proxy.udks.is_member(UD, &device));
    run.acquire(0, 0, "cid:z", Some("ud0-002"));
    run.run_for(5);
    assert_eq!(run.count("ro_acquisition", "DomainAccessDenied"), 3);
    assert_eq!(run.ri(0).dea_proxy.udks.stats.ros_issued, 1);
}

/// Agents announcing Hash Chain Support get only the newest UDK from a hash-chain DEA and
/// open ROs of older generations with keys they derive; the RI holds only the newest too.
fn hash_chain_run(mode: CryptoMode, agents_fraction: f64) -> Run {
    let mut cfg = joining(2, 1, mode);
    cfg.user_domains.generation = 3;
    cfg.user_domains.hash_chains = true;
    cfg.user_domains.agents_hash_chain_fraction = agents_fraction;
    let mut run = Run::new(&cfg);
    run.run_for(30);
    assert_eq!(run.count("join_domain", "success"), 2);
    for (i, g) in [(0usize, 0u32), (1, 2)] {
        run.acquire(0, i, &format!("cid:old{g}"), Some(&format!("ud0-00{g}")));
        run.run_for(5);
    }
    assert_eq!(run.count("ro_acquisition", "success"), 2);
    run
}

#[test]
fn hash_chain_agents_derive_older_generation_keys() {
    let run = hash_chain_run(CryptoMode::Symbolic, 1.0);
    let world = run.built.world.clone();
    let held = &run.ri(0).dea_proxy.udks.keys[UD];
    assert!(held.hash_chain);
    assert_eq!(held.keys.keys().copied().collect::<Vec<_>>(), vec![3]);
    let newest = run.dea().user_domains.domains[UD].newest_key();
    for i in 0..2 {
        let c = &run.agent(i).domain.contexts[UD_BASE];
        assert!(c.hash_chain, "agent {i} joined with Hash Chain Support");
        assert_eq!(c.keys.keys().copied().collect::<Vec<_>>(), vec![3]);
        assert_eq!(c.keys[&3], newest);
        // Generation 1 derived by hand: two KDF2-SHA1 steps down from the newest.
        let mut ops = OpCounter::new();
        let k2 = world.crypto.udk_previous(&mut ops, &newest);
        let k1 = world.crypto.udk_previous(&mut ops, &k2);
        let derived = run
            .agent(i)
            .domain
            .key_derived(&world.crypto, &mut ops, "ud0-001")
            .unwrap();
        assert_eq!(derived, k1);
    }
    // Both older-generation ROs are installed and usable.
    assert!(run
        .agent(0)
        .ros
        .values()
        .any(|r| r.content_id == "cid:old0"));
    assert!(run
        .agent(1)
        .ros
        .values()
        .any(|r| r.content_id == "cid:old2"));
}

#[test]
fn agents_without_hash_chain_support_receive_every_generation() {
    let run = hash_chain_run(CryptoMode::Symbolic, 0.0);
    for i in 0..2 {
        let c = &run.agent(i).domain.contexts[UD_BASE];
        assert!(!c.hash_chain);
        assert_eq!(c.keys.len(), 4);
    }
}

#[test]
fn hash_chain_outcomes_agree_in_real_and_symbolic_mode() {
    let real = hash_chain_run(CryptoMode::Real, 0.5);
    let sym = hash_chain_run(CryptoMode::Symbolic, 0.5);
    assert_eq!(*real.outcomes.borrow(), *sym.outcomes.borrow());
    let keys = |r: &Run| -> Vec<usize> {
        (0..2)
            .map(|i| r.agent(i).domain.contexts[UD_BASE].keys.len())
            .collect()
    };
    assert_eq!(keys(&real), keys(&sym));
}

// ---------------------------------------------------------------- RI-sent triggers

/// One RI, agents that acquire (movable ROs) and use them, metering every hour (so only a
/// trigger makes them report within the test).
fn metering_cfg(agents: u32) -> WorldConfig {
    WorldConfig {
        agents,
        ris: 2,
        workload: AgentWorkload {
            metering_interval_ns: Some(3_600_000_000_000),
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 30.0,
            ..Default::default()
        },
        ro_policy: sim_core::proto::acquisition::RoPolicy {
            stateful_probability: 0.0,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn a_metering_trigger_makes_the_device_report_through_the_roap_url() {
    let mut run = Run::new(&metering_cfg(3));
    run.run_for(10);
    run.acquire(0, 0, "cid:m", None);
    run.run_for(20);
    assert!(run.agent(0).stats.uses > 0);
    let t = run.make_trigger(0, 0, TriggerOrder::new(TriggerKind::MeteringReport));
    run.inject_trigger(0, 0, t.clone());
    run.run_for(5);
    assert_eq!(run.count("metering_report", "success"), 1);
    assert_eq!(run.agent(0).metering_reports.stats.report_triggers, 1);
    // The submit echoed the trigger nonce and the response echoed the Device's riID.
    let submit = run
        .sent_to(run.built.ris[0])
        .into_iter()
        .find_map(|p| match p {
            Pdu::MeteringReportSubmit(s) => Some(s),
            _ => None,
        })
        .unwrap();
    assert_eq!(submit.trigger_nonce, t.nonce);
    let resp = run
        .sent_to(run.built.agents[0])
        .into_iter()
        .find_map(|p| match p {
            Pdu::MeteringReportResponse(r) => r.body,
            _ => None,
        })
        .unwrap();
    assert_eq!(resp.ri_id, submit.ri_id);
    // Agent 1 has metered nothing: the trigger is counted, nothing is sent.
    let t = run.make_trigger(0, 1, TriggerOrder::new(TriggerKind::MeteringReport));
    run.inject_trigger(0, 1, t);
    run.run_for(5);
    let m = &run.agent(1).metering_reports.stats;
    assert_eq!(
        (m.report_triggers, m.report_triggers_nothing_to_report),
        (1, 1)
    );
    assert_eq!(run.count("metering_report", "success"), 1);
}

#[test]
fn a_trigger_whose_roap_url_names_another_ri_is_discarded() {
    let mut run = Run::new(&metering_cfg(3));
    run.run_for(10);
    run.acquire(0, 0, "cid:m", None);
    run.run_for(20);
    // RI 0 signs a trigger whose roapURL is RI 1's.
    let mut t = run.make_trigger(0, 0, TriggerOrder::new(TriggerKind::MeteringReport));
    t.roap_url = run.built.world.ris[1].url.clone();
    t.signature = None;
    let world = run.built.world.clone();
    let key = run.ri(0).identity().key.clone();
    t.signature = Some(
        world
            .crypto
            .sign(
                &mut OpCounter::new(),
                &key,
                world.params.sig_alg,
                &Pdu::RoapTrigger(t.clone()),
            )
            .unwrap(),
    );
    let before = run.agent(0).domain.stats.triggers_discarded;
    run.inject_trigger(0, 0, t);
    run.run_for(5);
    assert_eq!(run.agent(0).domain.stats.triggers_discarded, before + 1);
    assert_eq!(run.agent(0).metering_reports.stats.report_triggers, 0);
    assert_eq!(run.count("metering_report", "success"), 0);
}

#[test]
fn a_move_trigger_moves_the_named_ro_to_another_device() {
    let mut cfg = metering_cfg(4);
    cfg.ris = 1;
    cfg.workload.metering_interval_ns = None;
    cfg.workload.consume_rate_per_min = 0.0;
    let mut run = Run::new(&cfg);
    run.run_for(10);
    run.acquire(0, 0, "cid:mv", None);
    run.run_for(5);
    let ro_id = run.agent(0).ros.keys().next().unwrap().clone();
    let mut o = TriggerOrder::new(TriggerKind::MoveDeviceRo);
    o.ro_ids = vec![ro_id.clone(), "ri/0-ro-unknown".into()];
    let t = run.make_trigger(0, 0, o);
    run.inject_trigger(0, 0, t);
    run.run_for(20);
    assert_eq!(run.count("move_device_ro", "success"), 1);
    assert!(!run.agent(0).ros.contains_key(&ro_id));
    let s = &run.agent(0).moves.stats;
    assert_eq!((s.triggered, s.started, s.not_started), (2, 1, 1));
    // The moved rights reached exactly one other Device.
    let holders = (1..4)
        .filter(|&i| run.agent(i).ros.values().any(|r| r.content_id == "cid:mv"))
        .count();
    assert_eq!(holders, 1);
}

#[test]
fn the_ri_trigger_workload_drives_metering_and_moves() {
    let mut cfg = metering_cfg(6);
    cfg.ris = 1;
    cfg.workload.acquire_rate_per_min = 2.0;
    cfg.ri_triggers.metering_rate_per_min = 6.0;
    cfg.ri_triggers.move_rate_per_min = 3.0;
    let mut run = Run::new(&cfg);
    run.run_for(300);
    let st = run.ri(0).triggers.stats.clone();
    assert!(st.metering_sent > 10, "{st:?}");
    assert!(st.move_sent > 3, "{st:?}");
    let reports: u64 = (0..6)
        .map(|i| run.agent(i).metering_reports.stats.report_triggers)
        .sum();
    assert_eq!(reports, st.metering_sent);
    assert!(run.count("metering_report", "success") > 0);
    assert!(run.count("move_device_ro", "success") > 0);
    let triggered: u64 = (0..6).map(|i| run.agent(i).moves.stats.triggered).sum();
    assert_eq!(triggered, st.move_sent);
}

#[test]
fn a_get_authorization_request_for_another_dea_is_a_signature_error() {
    use sim_core::pdu::dea::{GenHeader, GetUserDomainAuthorizationRequest, UserDomainRequest};
    use sim_core::proto::build::ri_name;
    use sim_core::proto::msg::Wire;
    use sim_core::proto::world::World;
    let cfg = joining(1, 1, CryptoMode::Symbolic);
    let mut run = Run::new(&cfg);
    run.run_for(10);
    let world = run.built.world.clone();
    let mk = World::dea_master_key(cfg.seed, &ri_name(0));
    let status = |run: &Run, s: &str| {
        run.dea()
            .stats
            .statuses
            .get(&("get_user_domain_authorization".to_string(), s.to_string()))
            .copied()
            .unwrap_or(0)
    };
    for (n, res_id) in [
        (1u8, world.ris[0].id.clone()),
        (2, world.dea_id.clone().unwrap()),
    ] {
        let mut req = GetUserDomainAuthorizationRequest {
            header: GenHeader {
                trigger_none: false,
                session_id: None,
                req_id: world.ris[0].id.clone(),
                res_id,
                nonce: vec![n; 14],
                certificate_chain: None,
            },
            user_domains: vec![UserDomainRequest {
                user_domain_id: UD.into(),
                domain_id: None,
            }],
            signature: Vec::new(),
        };
        req.signature = world.crypto.mac(
            &mut OpCounter::new(),
            &mk,
            world.params.mac_alg,
            &Pdu::GetUserDomainAuthorizationRequest(req.clone()),
        );
        let (ri, dea) = (run.built.ris[0], run.built.dea.unwrap());
        let pdu = Pdu::GetUserDomainAuthorizationRequest(req);
        run.built
            .sim
            .inject(ri, dea, SimMsg::Pdu(Wire::new(world.mode(), pdu)));
        run.run_for(2);
    }
    // Wrong resID (correct MAC): SignatureError, as in Proxy Join/Leave; the right one:
    // Success (the RI start-up request was the first).
    assert_eq!(status(&run, "SignatureError"), 1);
    assert_eq!(status(&run, "Success"), 2);
}
