//! ROAP domains and triggers end to end: Join Domain status paths, DomainFull at the limit,
//! Leave Domain deleting keys and Domain ROs, Domain ROs only usable with the Domain Key,
//! the seed-002 interoperability failure in mixed populations, both `<domainKey>` forms,
//! ROAP triggers (valid and forged), and real vs symbolic crypto giving the same outcomes.

use sim_core::crypto::{CryptoMode, GeneratingKeySource, OpCounter};
use sim_core::engine::{ActorId, RunLimits, Tap, TapCtx, Verdict};
use sim_core::net::{GroupId, IdealNetwork};
use sim_core::pdu::ro::ProtectedRo;
use sim_core::pdu::roap::{DomainRequest, JoinDomainRequest};
use sim_core::pdu::trigger::{RoapTrigger, TriggerKind};
use sim_core::pdu::{MacInterpretation, Pdu};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{build, Built, WorldConfig};
use sim_core::proto::domain;
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::ri::Ri;
use sim_core::proto::rights::Binding;
use sim_core::proto::trigger::{trigger_wire, TriggerOrder};
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

type Outcomes = BTreeMap<(String, String), u64>;

/// Every PDU sent, with its real-mode octets when there are any.
#[derive(Default)]
struct Seen {
    pdus: Vec<(ActorId, ActorId, Pdu, Option<Vec<u8>>)>,
}

struct Recorder(Rc<RefCell<Seen>>);

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
                self.0
                    .borrow_mut()
                    .pdus
                    .push((from, to, p, w.xml().map(<[u8]>::to_vec)));
            }
        }
        Verdict::Pass(msg)
    }
}

struct Run {
    built: Built,
    outcomes: Rc<RefCell<Outcomes>>,
    seen: Rc<RefCell<Seen>>,
    rng: sim_core::engine::SimRng,
    /// Nominal time reached so far, s.
    t_s: u64,
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
        let mut built = build(
            cfg,
            Box::new(IdealNetwork {
                latency_ns: 20_000_000,
            }),
            trace,
            &GeneratingKeySource::new(),
            &|_, _| (GroupId(0), "all".into()),
            &mut |_, _| {},
        )
        .expect("builds");
        let seen = Rc::new(RefCell::new(Seen::default()));
        built.sim.set_tap(Box::new(Recorder(seen.clone())));
        Run {
            built,
            outcomes,
            seen,
            rng: sim_core::engine::rng::stream(7, "test", "trigger"),
            t_s: 0,
        }
    }

    /// Runs until nominal time `secs`, i.e. for `secs` minus the previous nominal time
    /// from wherever the clock stands, so an injection made after a step is always in the
    /// future of the next one.
    fn run_to(&mut self, secs: u64) {
        let step = secs.saturating_sub(self.t_s);
        self.t_s = secs;
        let horizon = self.built.sim.now().add_ns(step * 1_000_000_000);
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

    fn agent_mut(&mut self, i: usize) -> &mut Agent {
        self.built
            .sim
            .actor_mut::<Agent>(self.built.agents[i])
            .unwrap()
    }

    fn ri(&self) -> &Ri {
        self.built.sim.actor::<Ri>(self.built.ris[0]).unwrap()
    }

    fn ri_mut(&mut self) -> &mut Ri {
        self.built.sim.actor_mut::<Ri>(self.built.ris[0]).unwrap()
    }

    fn ri_status(&self, p: &str, s: &str) -> u64 {
        self.ri()
            .stats
            .statuses
            .get(&(p.to_string(), s.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// The RI issues a trigger of `order` for agent `i` and sends it.
    fn trigger(&mut self, i: usize, order: TriggerOrder) -> RoapTrigger {
        let device = self.agent(i).identity().id.clone();
        let ri = self.built.ris[0];
        let now = self.built.sim.now();
        let t = self
            .built
            .sim
            .actor_mut::<Ri>(ri)
            .unwrap()
            .issue_trigger(&mut self.rng, now, &device, order)
            .expect("issues");
        self.send_trigger(i, t.clone());
        t
    }

    fn send_trigger(&mut self, i: usize, t: RoapTrigger) {
        let w = trigger_wire(self.ri(), t);
        let (ri, a) = (self.built.ris[0], self.built.agents[i]);
        self.built.sim.inject(ri, a, SimMsg::Pdu(w));
    }

    /// `triggerNonce`s of the requests seen of `kind`.
    fn trigger_nonces(&self, kind: &str) -> Vec<Vec<u8>> {
        self.seen
            .borrow()
            .pdus
            .iter()
            .filter(|(_, _, p, _)| p.kind() == kind)
            .filter_map(|(_, _, p, _)| match p {
                Pdu::JoinDomainRequest(r) => r.0.trigger_nonce.clone(),
                Pdu::LeaveDomainRequest(r) => r.0.trigger_nonce.clone(),
                Pdu::RoRequest(r) => r.trigger_nonce.clone(),
                _ => None,
            })
            .collect()
    }

    fn domain_ros(&self, i: usize) -> usize {
        self.agent(i)
            .ros
            .values()
            .filter(|r| matches!(r.binding, Binding::Domain(_)))
            .count()
    }
}

/// Quiet agents: register, then only what the test asks for.
fn quiet(agents: u32) -> WorldConfig {
    WorldConfig {
        agents,
        ris: 1,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn joining(agents: u32) -> WorldConfig {
    let mut cfg = quiet(agents);
    cfg.workload.join_domain_probability = 1.0;
    cfg
}

const DOMAIN0: &str = "ri0-dom0-000";

#[test]
fn every_agent_joins_and_receives_one_key_per_generation() {
    let mut cfg = joining(6);
    cfg.domains.generation = 2;
    let mut run = Run::new(&cfg);
    run.run_to(30);
    assert_eq!(run.count("registration", "success"), 6);
    assert_eq!(run.count("join_domain", "success"), 6);
    let ri_keys = run.ri().domains.domains["ri0-dom0-"].keys.clone();
    assert_eq!(ri_keys.len(), 3);
    for i in 0..6 {
        let c = &run.agent(i).domain.contexts["ri0-dom0-"];
        assert_eq!(c.keys.len(), 3, "generations 0, 1, 2");
        for (g, k) in &c.keys {
            assert_eq!(*k, ri_keys[*g as usize], "agent {i} generation {g}");
        }
    }
    assert_eq!(run.ri().domains.domains["ri0-dom0-"].members.len(), 6);
    // Each response carried three <domainKey>s whose encKey Ids name the generations.
    let seen = run.seen.borrow();
    let resp = seen
        .pdus
        .iter()
        .find_map(|(_, _, p, _)| match p {
            Pdu::JoinDomainResponse(r) => r.body.clone(),
            _ => None,
        })
        .unwrap();
    let ids: Vec<_> = resp
        .domain_info
        .domain_keys
        .iter()
        .map(|k| k.enc_key.id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["ri0-dom0-000", "ri0-dom0-001", "ri0-dom0-002"]);
}

#[test]
fn domain_full_at_the_limit_and_members_count_once() {
    let mut cfg = joining(5);
    cfg.domains.max_members = 3;
    let mut run = Run::new(&cfg);
    run.run_to(30);
    assert_eq!(run.count("join_domain", "success"), 3);
    assert_eq!(run.count("join_domain", "DomainFull"), 2);
    assert_eq!(run.ri().domains.domains["ri0-dom0-"].members.len(), 3);
    let members: Vec<usize> = (0..5)
        .filter(|&i| !run.agent(i).domain.contexts.is_empty())
        .collect();
    assert_eq!(members.len(), 3);
    // A member joining again counts once: it succeeds although the domain is full.
    let m = members[0];
    let mut order = TriggerOrder::new(TriggerKind::JoinDomain);
    order.domain_id = Some(DOMAIN0.into());
    run.trigger(m, order);
    run.run_to(40);
    assert_eq!(run.count("join_domain", "success"), 4);
    assert_eq!(run.ri().domains.domains["ri0-dom0-"].members.len(), 3);
}

/// A JoinDomainRequest from agent `i` as the test wants it, signed with its key unless
/// `bad_sig`.
fn crafted(run: &Run, i: usize, domain_id: &str, time_skew_s: i64, bad_sig: bool) -> Pdu {
    let world = &run.built.world;
    let ident = run.agent(i).identity().clone();
    let now = run.built.sim.now().as_ns() as i64 + time_skew_s * 1_000_000_000;
    let mut req = DomainRequest {
        trigger_nonce: None,
        device_id: ident.id.clone(),
        ri_id: world.ris[0].id.clone(),
        nonce: vec![i as u8; 14],
        time: world.datetime(now.max(0) as u64),
        domain_id: domain_id.into(),
        certificate_chain: None,
        not_member: false,
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    req.signature = world
        .crypto
        .sign(
            &mut OpCounter::new(),
            &ident.key,
            world.params.sig_alg,
            &Pdu::JoinDomainRequest(JoinDomainRequest(req.clone())),
        )
        .unwrap();
    if bad_sig {
        req.signature[5] ^= 1;
    }
    Pdu::JoinDomainRequest(JoinDomainRequest(req))
}

#[test]
fn every_join_domain_status_path() {
    let mut run = Run::new(&quiet(6));
    run.run_to(20);
    assert_eq!(run.count("registration", "success"), 6);
    let mode = run.built.world.mode();
    let (ri, agents) = (run.built.ris[0], run.built.agents.clone());
    let send = |run: &mut Run, i: usize, pdu: Pdu| {
        run.built
            .sim
            .inject(agents[i], ri, SimMsg::Pdu(Wire::new(mode, pdu)));
    };
    // RI-side checks on crafted requests.
    let p = crafted(&run, 0, DOMAIN0, 3_600, false);
    send(&mut run, 0, p);
    let p = crafted(&run, 1, DOMAIN0, 0, true);
    send(&mut run, 1, p);
    let p = crafted(&run, 2, DOMAIN0, 0, false);
    send(&mut run, 2, p.clone());
    // The same nonce in another request (its time 1 s later): a replay (seed 003).
    let replay = crafted(&run, 2, DOMAIN0, 1, false);
    send(&mut run, 2, replay);
    // The first request again, byte for byte: a repeat, answered from the store.
    send(&mut run, 2, p);
    run.run_to(25);
    assert_eq!(run.ri().repeats.stats.answered, 1);
    assert_eq!(run.ri_status("join_domain", "DeviceTimeError"), 1);
    assert_eq!(run.ri_status("join_domain", "SignatureError"), 1);
    assert_eq!(run.ri_status("join_domain", "Success"), 1);
    assert_eq!(run.ri_status("join_domain", "AccessDenied"), 1);
    // Nobody was waiting for these answers: the Devices discard them.
    assert_eq!(run.agent(0).stats.discarded, 1);
    assert!(run.agent(2).domain.contexts.is_empty());

    // Device-side runs reaching every refusal.
    let order = |d: &str| {
        let mut o = TriggerOrder::new(TriggerKind::JoinDomain);
        o.domain_id = Some(d.into());
        o
    };
    run.trigger(0, order("nosuchdomain000"));
    run.trigger(1, order("ri0-dom0-001")); // generation not reached yet
    let denied = run.agent(2).identity().id.clone();
    run.ri_mut()
        .domains
        .domains
        .get_mut("ri0-dom0-")
        .unwrap()
        .denied
        .insert(denied);
    run.trigger(2, order(DOMAIN0));
    // A domain mapped to a DEA User Domain: not served until the DEA path exists.
    run.ri_mut()
        .user_domain_map
        .insert("ud-home-".into(), "user-domain-1".into());
    run.trigger(3, order("ud-home-000"));
    // The RI lost agent 4's Device Context after issuing the trigger.
    run.trigger(4, order(DOMAIN0));
    let gone = run.agent(4).identity().id.clone();
    run.ri_mut().devices.remove(&gone);
    run.ri_mut()
        .domains
        .domains
        .get_mut("ri0-dom0-")
        .unwrap()
        .max_members = 1; // agent 2's crafted join above made it a member
    run.trigger(5, order(DOMAIN0));
    run.run_to(35);
    assert_eq!(run.count("join_domain", "InvalidDomain"), 2);
    assert_eq!(run.count("join_domain", "DomainAccessDenied"), 2);
    // Agent 4 met NotRegistered, registered again (registration.rs `Rereg`) and resent its
    // join, which then met the full domain like agent 5's.
    assert_eq!(run.ri_status("join_domain", "NotRegistered"), 1);
    assert_eq!(run.agent(4).stats.reregistrations, 1);
    assert_eq!(run.count("registration", "success"), 7);
    assert_eq!(run.count("join_domain", "NotRegistered"), 0);
    assert_eq!(run.count("join_domain", "DomainFull"), 2);
    assert_eq!(run.count("join_domain", "success"), 0);
    assert_eq!(
        run.ri().domain_owner("ud-home-007"),
        domain::DomainOwner::Dea {
            user_domain: "user-domain-1".into()
        }
    );
}

#[test]
fn leave_deletes_domain_keys_and_domain_ros() {
    let mut cfg = joining(4);
    cfg.workload.acquire_rate_per_min = 6.0;
    cfg.domains.domain_ro_fraction = 1.0;
    let mut run = Run::new(&cfg);
    run.run_to(120);
    assert_eq!(run.count("join_domain", "success"), 4);
    let before: Vec<usize> = (0..4).map(|i| run.domain_ros(i)).collect();
    assert!(before.iter().sum::<usize>() > 4, "{before:?}");
    // Every Domain RO was wrapped under the Domain Key and signed by the RI.
    for (_, _, p, _) in run.seen.borrow().pdus.iter() {
        if let Pdu::RoResponse(r) = p {
            for pro in r.body.iter().flat_map(|b| &b.protected_ros) {
                if pro.ro.domain_ro {
                    assert!(pro.ro.signature.is_some());
                    assert_eq!(
                        pro.ro.enc_key.algorithm,
                        sim_core::pdu::common::ALG_KW_AES128
                    );
                }
            }
        }
    }
    for i in 0..4 {
        let mut order = TriggerOrder::new(TriggerKind::LeaveDomain);
        order.domain_id = Some(DOMAIN0.into());
        let t = run.trigger(i, order);
        // Sent to a member: HMAC under a K_MAC wrapped with the Domain Key.
        assert!(t.enc_key.is_some());
    }
    run.run_to(121);
    assert_eq!(run.count("leave_domain", "success"), 4);
    for (i, b) in before.iter().enumerate() {
        let a = run.agent(i);
        assert!(a.domain.contexts.is_empty());
        assert_eq!(a.domain.stats.ros_deleted_on_leave, *b as u64);
        assert_eq!(run.domain_ros(i), 0);
    }
    assert!(run.ri().domains.domains["ri0-dom0-"].members.is_empty());
    let leaves = run.trigger_nonces("roap:leaveDomainRequest");
    assert_eq!(leaves.len(), 4, "every leave echoed its trigger nonce");
    // A leave for a domain no longer held is sent with <notMember/>.
    let mut order = TriggerOrder::new(TriggerKind::LeaveDomain);
    order.domain_id = Some(DOMAIN0.into());
    run.trigger(0, order);
    run.run_to(125);
    assert_eq!(run.count("leave_domain", "success"), 5);
    let seen = run.seen.borrow();
    let last = seen
        .pdus
        .iter()
        .rev()
        .find_map(|(_, _, p, _)| match p {
            Pdu::LeaveDomainRequest(r) => Some(r.0.not_member),
            _ => None,
        })
        .unwrap();
    assert!(last);
}

#[test]
fn workload_members_leave_after_their_membership_time() {
    let mut cfg = joining(8);
    cfg.workload.leave_domain_probability = 1.0;
    cfg.domains.mean_membership_ns = 10_000_000_000;
    let mut run = Run::new(&cfg);
    run.run_to(600);
    assert_eq!(run.count("join_domain", "success"), 8);
    assert_eq!(run.count("leave_domain", "success"), 8);
    assert!((0..8).all(|i| run.agent(i).domain.contexts.is_empty()));
    assert!(run.ri().domains.domains["ri0-dom0-"].members.is_empty());
}

#[test]
fn domain_ro_usable_only_with_the_domain_key() {
    let mut cfg = quiet(3);
    cfg.workload.acquire_rate_per_min = 0.0;
    let mut run = Run::new(&cfg);
    run.run_to(10);
    let join = |run: &mut Run, i| {
        let mut o = TriggerOrder::new(TriggerKind::JoinDomain);
        o.domain_id = Some(DOMAIN0.into());
        run.trigger(i, o);
    };
    join(&mut run, 0);
    run.run_to(15);
    // Agent 0 acquires a Domain RO (triggered roAcquisition naming the domain).
    let mut o = TriggerOrder::new(TriggerKind::RoAcquisition);
    o.domain_id = Some(DOMAIN0.into());
    o.content_ids = vec!["cid:song".into()];
    run.trigger(0, o);
    // Agent 1 is not a member: the RI refuses it Domain ROs.
    let mut o = TriggerOrder::new(TriggerKind::RoAcquisition);
    o.domain_id = Some(DOMAIN0.into());
    o.content_ids = vec!["cid:song".into()];
    run.trigger(1, o);
    run.run_to(20);
    assert_eq!(run.count("ro_acquisition", "success"), 1);
    assert_eq!(run.count("ro_acquisition", "DomainAccessDenied"), 1);
    assert_eq!(run.domain_ros(0), 1);
    let pro: ProtectedRo = run
        .seen
        .borrow()
        .pdus
        .iter()
        .find_map(|(_, _, p, _)| match p {
            Pdu::RoResponse(r) => r.body.as_ref().map(|b| b.protected_ros[0].clone()),
            _ => None,
        })
        .unwrap();
    // The same RO copied to agent 2: useless without the Domain Key…
    let now = run.built.sim.now().as_ns();
    let err = domain::install_domain_ro(run.agent_mut(2), now, &pro).unwrap_err();
    assert_eq!(err, domain::DomainRoError::NoDomainKey(DOMAIN0.into()));
    assert_eq!(err.status(), sim_core::pdu::Status::InvalidDomain);
    // …tampered rights fail the RI signature even for a member…
    let mut forged = pro.clone();
    forged.ro.rights.assets[0].content_id = "cid:other".into();
    assert_eq!(
        domain::install_domain_ro(run.agent_mut(0), now, &forged),
        Err(domain::DomainRoError::BadSignature)
    );
    // …and installable once agent 2 has joined.
    join(&mut run, 2);
    run.run_to(25);
    assert_eq!(
        domain::install_domain_ro(run.agent_mut(2), now, &pro),
        Ok(true)
    );
    assert_eq!(run.domain_ros(2), 1);
    let ro = run.agent(2).ros.values().next().unwrap();
    assert_eq!(ro.binding, Binding::Domain("ri0-dom0-".into()));
    assert_eq!(ro.content_id, "cid:song");
}

fn mixed_population(crypto: CryptoMode, agents: u32) {
    let mut cfg = joining(agents);
    cfg.crypto = crypto;
    cfg.domains.agents_other_mac_fraction = 0.5;
    let mut run = Run::new(&cfg);
    run.run_to(30);
    let half = u64::from(agents / 2);
    assert_eq!(run.count("join_domain", "success"), half);
    assert_eq!(run.count("join_domain", domain::DOMAIN_KEY_MAC_ERROR), half);
    for i in 0..agents as usize {
        let a = run.agent(i);
        // Odd agents carry the other reading (Substring) than the RI (NodeSet).
        let other = i % 2 == 1;
        assert_eq!(
            a.domain.profile.mac,
            if other {
                MacInterpretation::Substring
            } else {
                MacInterpretation::NodeSet
            }
        );
        assert_eq!(a.domain.contexts.is_empty(), other, "agent {i}");
        assert_eq!(a.domain.stats.mac_failures, u64::from(other));
    }
    // The RI admitted them all: the failure is the Device rejecting the key.
    assert_eq!(
        run.ri().domains.domains["ri0-dom0-"].members.len(),
        agents as usize
    );
}

#[test]
fn mixed_mac_interpretations_fail_in_proportion_symbolic() {
    mixed_population(CryptoMode::Symbolic, 40);
}

#[test]
fn mixed_mac_interpretations_fail_in_proportion_real() {
    mixed_population(CryptoMode::Real, 4);
}

#[test]
fn a_uniform_pre_cr_population_interoperates() {
    // Everybody on the pre-CR reading (substring, unqualified): consistent, so it works.
    let mut cfg = joining(6);
    cfg.variants.domain_key_mac = MacInterpretation::Substring;
    cfg.variants.domain_key_qualified = false;
    let mut run = Run::new(&cfg);
    run.run_to(30);
    assert_eq!(run.count("join_domain", "success"), 6);
}

#[test]
fn qualified_and_unqualified_forms_on_the_wire() {
    for qualified in [true, false] {
        let mut cfg = joining(2);
        cfg.crypto = CryptoMode::Real;
        cfg.variants.domain_key_qualified = qualified;
        let mut run = Run::new(&cfg);
        run.run_to(30);
        assert_eq!(
            run.count("join_domain", "success"),
            2,
            "qualified={qualified}"
        );
        let seen = run.seen.borrow();
        let xml = seen
            .pdus
            .iter()
            .find_map(|(_, _, p, x)| matches!(p, Pdu::JoinDomainResponse(_)).then(|| x.clone()))
            .flatten()
            .unwrap();
        let xml = String::from_utf8(xml).unwrap();
        assert_eq!(xml.contains("<roap:domainKey>"), qualified, "{xml}");
        assert_eq!(xml.contains("<domainKey>"), !qualified, "{xml}");
    }
}

#[test]
fn devices_expecting_the_other_form_reject_the_domain_key() {
    let mut cfg = joining(10);
    cfg.domains.agents_other_form_fraction = 0.3;
    let mut run = Run::new(&cfg);
    run.run_to(30);
    assert_eq!(run.count("join_domain", "success"), 7);
    assert_eq!(run.count("join_domain", domain::DOMAIN_KEY_FORM_ERROR), 3);
    let pre_cr = (0..10)
        .filter(|&i| !run.agent(i).domain.profile.qualified)
        .count();
    assert_eq!(pre_cr, 3);
}

#[test]
fn a_registration_trigger_re_registers_without_restarting_the_workload() {
    let mut run = Run::new(&quiet(2));
    run.run_to(10);
    assert_eq!(run.count("registration", "success"), 2);
    assert_eq!(run.agent(0).stats.workload_starts, 1);
    run.trigger(0, TriggerOrder::new(TriggerKind::Registration));
    run.run_to(15);
    // The 4-pass protocol ran again and renewed the RI Context; the workload's timers were
    // started once (twice would double every activity rate).
    assert_eq!(run.count("registration", "success"), 3);
    assert_eq!(run.agent(0).stats.workload_starts, 1);
    assert_eq!(run.agent(1).stats.workload_starts, 1);
}

#[test]
fn triggers_start_the_named_protocol_with_the_nonce_echoed() {
    let mut run = Run::new(&quiet(3));
    run.run_to(10);
    let mut o = TriggerOrder::new(TriggerKind::JoinDomain);
    o.domain_id = Some(DOMAIN0.into());
    let tj = run.trigger(0, o);
    let mut o = TriggerOrder::new(TriggerKind::RoAcquisition);
    o.content_ids = vec!["cid:a".into(), "cid:b".into()];
    let ta = run.trigger(1, o);
    let mut o = TriggerOrder::new(TriggerKind::MeteringReport);
    o.ro_ids = vec!["ri/0-ro1".into()];
    run.trigger(2, o);
    run.run_to(15);
    assert!(tj.signature.is_some() && tj.enc_key.is_none());
    assert_eq!(run.count("join_domain", "success"), 1);
    assert_eq!(run.count("ro_acquisition", "success"), 1);
    assert_eq!(
        run.trigger_nonces("roap:joinDomainRequest"),
        vec![tj.nonce.clone().unwrap()]
    );
    assert_eq!(
        run.trigger_nonces("roap:roRequest"),
        vec![ta.nonce.clone().unwrap()]
    );
    assert_eq!(run.agent(1).ros.len(), 2);
    // meteringReport belongs to the metering module: validated and handed over (agent 2
    // has metered nothing, so there is nothing to report).
    let m = &run.agent(2).metering_reports.stats;
    assert_eq!(m.report_triggers, 1);
    assert_eq!(m.report_triggers_nothing_to_report, 1);
    assert_eq!(run.ri().domains.triggered_requests, 2);
    assert_eq!(run.ri().domains.unknown_trigger_nonces, 0);
    assert!((0..3).all(|i| run.agent(i).domain.stats.triggers_discarded == 0));
}

#[test]
fn forged_replayed_and_unsigned_triggers_are_discarded() {
    let mut run = Run::new(&quiet(2));
    run.run_to(10);
    let mut o = TriggerOrder::new(TriggerKind::JoinDomain);
    o.domain_id = Some(DOMAIN0.into());
    let device = run.agent(0).identity().id.clone();
    let mut rng = sim_core::engine::rng::stream(9, "test", "forge");
    let now = run.built.sim.now();
    let genuine = run
        .ri_mut()
        .issue_trigger(&mut rng, now, &device, o)
        .unwrap();
    // Tampered: another domain under the RI's signature.
    let mut t = genuine.clone();
    t.domain_id = Some("ri0-dom0-001".into());
    run.send_trigger(0, t);
    // Forged: signed by agent 1's key instead of the RI's.
    let mut t = genuine.clone();
    t.nonce = Some(vec![1; 14]);
    t.signature = None;
    let world = run.built.world.clone();
    let k = run.agent(1).identity().key.clone();
    t.signature = Some(
        world
            .crypto
            .sign(
                &mut OpCounter::new(),
                &k,
                world.params.sig_alg,
                &Pdu::RoapTrigger(t.clone()),
            )
            .unwrap(),
    );
    run.send_trigger(0, t);
    // Unsigned, for a Device registered with the RI.
    let mut t = genuine.clone();
    t.nonce = Some(vec![2; 14]);
    t.signature = None;
    run.send_trigger(0, t);
    // Naming an RI that does not exist.
    let mut t = genuine.clone();
    t.ri_id = sim_core::pdu::Identifier::new(vec![0xAB; 20]);
    run.send_trigger(0, t);
    run.run_to(12);
    assert_eq!(run.agent(0).domain.stats.triggers_discarded, 4);
    assert_eq!(run.count("join_domain", "success"), 0);
    // The genuine one works once; its replay is discarded.
    run.send_trigger(0, genuine.clone());
    run.run_to(14);
    run.send_trigger(0, genuine);
    run.run_to(16);
    assert_eq!(run.count("join_domain", "success"), 1);
    assert_eq!(run.agent(0).domain.stats.triggers_accepted, 1);
    assert_eq!(run.agent(0).domain.stats.triggers_discarded, 5);
    assert_eq!(run.trigger_nonces("roap:joinDomainRequest").len(), 1);
}

#[test]
fn a_leave_trigger_macd_under_another_domain_key_is_discarded() {
    let mut run = Run::new(&joining(1));
    run.run_to(10);
    assert_eq!(run.count("join_domain", "success"), 1);
    let mut o = TriggerOrder::new(TriggerKind::LeaveDomain);
    o.domain_id = Some(DOMAIN0.into());
    let device = run.agent(0).identity().id.clone();
    let mut rng = sim_core::engine::rng::stream(3, "test", "leave");
    let now = run.built.sim.now();
    let t = run
        .ri_mut()
        .issue_trigger(&mut rng, now, &device, o)
        .unwrap();
    assert!(t.enc_key.is_some());
    // The Device's copy of K_D differs from the one the trigger's K_MAC is wrapped under.
    run.agent_mut(0)
        .domain
        .contexts
        .get_mut("ri0-dom0-")
        .unwrap()
        .keys
        .insert(0, sim_core::crypto::SymKey([9; 16]));
    run.send_trigger(0, t);
    run.run_to(12);
    assert_eq!(run.agent(0).domain.stats.triggers_discarded, 1);
    assert_eq!(run.count("leave_domain", "success"), 0);
    assert_eq!(run.agent(0).domain.contexts.len(), 1);
}

#[test]
fn an_unregistered_device_registers_then_runs_the_trigger() {
    let mut cfg = quiet(1);
    cfg.workload.register_at_arrival = false;
    let mut run = Run::new(&cfg);
    run.run_to(5);
    let mut o = TriggerOrder::new(TriggerKind::JoinDomain);
    o.domain_id = Some(DOMAIN0.into());
    let t = run.trigger(0, o);
    assert!(
        t.signature.is_none(),
        "no Device Context: the RI cannot sign for it"
    );
    run.run_to(15);
    assert_eq!(run.count("registration", "success"), 1);
    assert_eq!(run.count("join_domain", "success"), 1);
    assert_eq!(
        run.trigger_nonces("roap:joinDomainRequest"),
        vec![t.nonce.unwrap()]
    );
}

fn mixed_run(crypto: CryptoMode) -> Outcomes {
    let mut cfg = joining(4);
    cfg.crypto = crypto;
    cfg.domains.agents_other_mac_fraction = 0.5;
    cfg.domains.domain_ro_fraction = 1.0;
    cfg.domains.mean_membership_ns = 40_000_000_000;
    cfg.workload.acquire_rate_per_min = 3.0;
    cfg.workload.leave_domain_probability = 1.0;
    let mut run = Run::new(&cfg);
    run.run_to(90);
    let o = run.outcomes.borrow().clone();
    o
}

#[test]
fn real_and_symbolic_modes_give_the_same_domain_outcomes() {
    let sym = mixed_run(CryptoMode::Symbolic);
    let real = mixed_run(CryptoMode::Real);
    let get = |o: &Outcomes, p: &str, s: &str| o.get(&(p.into(), s.into())).copied();
    assert_eq!(get(&sym, "join_domain", "success"), Some(2), "{sym:?}");
    assert_eq!(
        get(&sym, "join_domain", domain::DOMAIN_KEY_MAC_ERROR),
        Some(2)
    );
    assert!(
        get(&sym, "ro_acquisition", "success").unwrap_or(0) > 0,
        "{sym:?}"
    );
    assert_eq!(sym, real);
}
