//! A trigger acts only on the Device it names (issue 11 part 3). ROAP §5.2.1 triggers name
//! no Device and a DEA-triggered leave (seed 000 §7.6.2/§7.7) reaches the Device as such a
//! trigger, so as written any Device that can authenticate a trigger acts on it. drmsim's
//! default puts `<deviceID>` inside what the signature/MAC covers and the Device refuses a
//! trigger naming another; `Variants::trigger_names_device = false` is the text as written.
//! Every kind, both crypto modes.

use crate::support::build_ideal;
use sim_core::crypto::{CryptoMode, OpCounter};
use sim_core::engine::{ActorId, RunLimits, Tap, TapCtx, Verdict};
use sim_core::pdu::trigger::{ProxyLeaveUserDomainTrigger, TriggerKind};
use sim_core::pdu::Pdu;
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{ri_name, Built, WorldConfig};
use sim_core::proto::dea::Dea;
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::ri::Ri;
use sim_core::proto::trigger::{trigger_wire, TriggerOrder};
use sim_core::proto::workload::AgentWorkload;
use sim_core::proto::world::World;
use sim_core::trace::{TraceConfig, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::rc::Rc;

const UD: &str = "userdomain0";
const UD_BASE: &str = "ud0-";
const UD_ROAP: &str = "ud0-000";

/// Copies every ROAP Trigger sent to `victim` to `other` as well (an attacker on the
/// Devices' link redirecting triggers), counting the copies.
struct Redirect {
    victim: ActorId,
    other: ActorId,
    copies: Rc<RefCell<u32>>,
}

impl Tap<SimMsg> for Redirect {
    fn on_send(
        &mut self,
        from: ActorId,
        to: ActorId,
        msg: SimMsg,
        ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        if let SimMsg::Pdu(w) = &msg {
            if to == self.victim && matches!(w.open(), Ok(Pdu::RoapTrigger(_))) {
                *self.copies.borrow_mut() += 1;
                ctx.inject(from, self.other, msg.clone(), 0);
            }
        }
        Verdict::Pass(msg)
    }
}

/// `agents` agents registered with one RI and members of one DEA User Domain.
fn world(mode: CryptoMode, agents: u32, names_device: bool) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents,
        ris: 1,
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
    cfg.variants.trigger_names_device = names_device;
    cfg
}

fn run_for(b: &mut Built, secs: u64) {
    let horizon = b.sim.now().add_ns(secs * 1_000_000_000);
    b.sim.run(
        &RunLimits {
            horizon: Some(horizon),
            ..Default::default()
        },
        &mut |_, _| {},
    );
}

fn agent(b: &Built, i: usize) -> &Agent {
    b.sim.actor::<Agent>(b.agents[i]).unwrap()
}

fn members(b: &Built) -> usize {
    b.sim
        .actor::<Dea>(b.dea.unwrap())
        .unwrap()
        .user_domains
        .domains[UD]
        .members
        .len()
}

/// The DEA's Proxy Leave User Domain Trigger for agent 0 reaches RI 0, which triggers the
/// Device to leave; an attacker copies that ROAP Trigger{leaveDomain} to agent 1, another
/// member. Returns the run and how many copies the attacker made.
fn dea_leave_redirected(mode: CryptoMode, names_device: bool) -> (Built, u32) {
    let cfg = world(mode, 3, names_device);
    let mut b = build_ideal(
        &cfg,
        TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default())),
    );
    let copies = Rc::new(RefCell::new(0));
    b.sim.set_tap(Box::new(Redirect {
        victim: b.agents[0],
        other: b.agents[1],
        copies: copies.clone(),
    }));
    run_for(&mut b, 20);
    assert_eq!(members(&b), 3, "every agent joined through the DEA");
    let world = b.world.clone();
    let mut t = ProxyLeaveUserDomainTrigger {
        id: None,
        res_id: world.dea_id.clone().unwrap(),
        res_alias: None,
        nonce: vec![9; 14],
        req_url: "https://dea-0.example/sce".into(),
        domain_id: UD.into(),
        device_ids: vec![agent(&b, 0).identity().id.clone()],
        signature: None,
    };
    t.signature = Some(world.crypto.mac(
        &mut OpCounter::new(),
        &World::dea_master_key(cfg.seed, &ri_name(0)),
        world.params.mac_alg,
        &Pdu::ProxyLeaveUserDomainTrigger(t.clone()),
    ));
    let w = Wire::new(world.mode(), Pdu::ProxyLeaveUserDomainTrigger(t));
    b.sim.inject(b.dea.unwrap(), b.ris[0], SimMsg::Pdu(w));
    run_for(&mut b, 10);
    let n = *copies.borrow();
    (b, n)
}

#[test]
fn a_dea_triggered_leave_redirected_to_another_member_is_refused() {
    for mode in [CryptoMode::Symbolic, CryptoMode::Real] {
        let (b, copies) = dea_leave_redirected(mode, true);
        assert_eq!(copies, 1, "{mode:?}");
        // The named Device left; the member the trigger was redirected to refused it.
        assert!(
            !agent(&b, 0).domain.contexts.contains_key(UD_BASE),
            "{mode:?}"
        );
        assert!(
            agent(&b, 1).domain.contexts.contains_key(UD_BASE),
            "{mode:?}"
        );
        assert_eq!(agent(&b, 1).domain.stats.triggers_discarded, 1, "{mode:?}");
        assert_eq!(agent(&b, 1).domain.stats.triggers_accepted, 0, "{mode:?}");
        assert_eq!(members(&b), 2, "{mode:?}");
    }
}

#[test]
fn as_written_a_redirected_dea_triggered_leave_evicts_another_member() {
    for mode in [CryptoMode::Symbolic, CryptoMode::Real] {
        let (b, copies) = dea_leave_redirected(mode, false);
        assert_eq!(copies, 1, "{mode:?}");
        // The finding: the trigger names no Device and its authenticator is the RI's, so
        // agent 1 verifies it and leaves the User Domain too.
        assert!(
            !agent(&b, 0).domain.contexts.contains_key(UD_BASE),
            "{mode:?}"
        );
        assert!(
            !agent(&b, 1).domain.contexts.contains_key(UD_BASE),
            "{mode:?}"
        );
        assert_eq!(agent(&b, 1).domain.stats.triggers_accepted, 1, "{mode:?}");
        assert_eq!(members(&b), 1, "{mode:?}");
    }
}

fn order(kind: TriggerKind) -> TriggerOrder {
    let mut o = TriggerOrder::new(kind);
    match kind {
        TriggerKind::JoinDomain | TriggerKind::LeaveDomain => o.domain_id = Some(UD_ROAP.into()),
        TriggerKind::RoAcquisition => o.content_ids = vec!["cid:1".into()],
        TriggerKind::MoveDeviceRo | TriggerKind::MoveUserDomainConstrainedRo => {
            o.ro_ids = vec!["ro-none".into()]
        }
        TriggerKind::Registration | TriggerKind::MeteringReport => {}
    }
    o
}

/// Accepted/discarded trigger counts of agents 0 and 1 after RI 0 issued one trigger of each
/// kind for agent 0 and delivered it to `to` (0 or 1), optionally with its `<deviceID>`
/// rewritten to agent 1's after signing.
fn deliver_each_kind(mode: CryptoMode, names_device: bool, to: usize, rewrite: bool) -> [u64; 2] {
    let mut b = build_ideal(
        &world(mode, 2, names_device),
        TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default())),
    );
    run_for(&mut b, 20);
    let before = agent(&b, to).domain.stats.clone();
    let mut rng = sim_core::engine::rng::stream(3, "test", "trigger");
    let dev0 = agent(&b, 0).identity().id.clone();
    let dev1 = agent(&b, 1).identity().id.clone();
    for kind in TriggerKind::ALL {
        let ri = b.ris[0];
        let now = b.sim.now();
        let mut t = b
            .sim
            .actor_mut::<Ri>(ri)
            .unwrap()
            .issue_trigger(&mut rng, now, &dev0, order(kind))
            .expect("issues");
        assert_eq!(t.device_id.is_some(), names_device, "{kind:?}");
        if rewrite {
            t.device_id = Some(dev1.clone());
        }
        let w = trigger_wire(b.sim.actor::<Ri>(ri).unwrap(), t);
        b.sim.inject(ri, b.agents[to], SimMsg::Pdu(w));
        run_for(&mut b, 1);
    }
    let after = &agent(&b, to).domain.stats;
    [
        after.triggers_accepted - before.triggers_accepted,
        after.triggers_discarded - before.triggers_discarded,
    ]
}

#[test]
fn every_trigger_kind_is_refused_by_a_device_it_does_not_name() {
    let kinds = TriggerKind::ALL.len() as u64;
    for mode in [CryptoMode::Symbolic, CryptoMode::Real] {
        // The Device named accepts every kind; another Device refuses every kind.
        assert_eq!(
            deliver_each_kind(mode, true, 0, false),
            [kinds, 0],
            "{mode:?}"
        );
        assert_eq!(
            deliver_each_kind(mode, true, 1, false),
            [0, kinds],
            "{mode:?}"
        );
        // `<deviceID>` is inside the signature: rewritten to the other Device, it no
        // longer verifies there either.
        assert_eq!(
            deliver_each_kind(mode, true, 1, true),
            [0, kinds],
            "{mode:?}"
        );
        // As written (no `<deviceID>`), the other Device acts on every kind.
        assert_eq!(
            deliver_each_kind(mode, false, 1, false),
            [kinds, 0],
            "{mode:?}"
        );
    }
}
