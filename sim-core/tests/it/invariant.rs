//! Every monitor fires on a crafted violation (a monitor that cannot fire is a defect) and
//! stays silent on an honest run.

use crate::adversary::{run, setup};
use sim_core::engine::{ActorId, SimTime};
use sim_core::invariant::{names, Finding, Monitor, MonitorSet, Observed};
use sim_core::pdu::roap::{RoResponse, RoResponseBody};
use sim_core::pdu::{Identifier, Pdu, Status};
use sim_core::proto::agent::Agent;
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::ri::Ri;
use std::collections::BTreeMap;

fn ro_response(nonce: u8, status: Status) -> Pdu {
    Pdu::RoResponse(RoResponse {
        status,
        body: Some(RoResponseBody {
            device_id: Identifier { hash: vec![1; 20] },
            ri_id: Identifier { hash: vec![2; 20] },
            nonce: vec![nonce; 14],
            protected_ros: Vec::new(),
            certificate_chain: None,
            ocsp_responses: Vec::new(),
            extensions: Vec::new(),
            signature: vec![0; 128],
        }),
    })
}

fn observe(set: &mut MonitorSet, pdu: &Pdu, token: u64, injected: bool) -> usize {
    let msg = SimMsg::Pdu(Wire::new(
        sim_core::crypto::CryptoMode::Symbolic,
        pdu.clone(),
    ));
    let obs = Observed {
        now: SimTime::from_secs(1),
        from: ActorId(1),
        to: ActorId(2),
        msg: &msg,
        pdu: Some(pdu),
        injected_by: injected.then_some(ActorId(9)),
        tampered_by: None,
    };
    let ids: BTreeMap<u64, u64> = (1..10).map(|t| (t, t * 10)).collect();
    let mut out = Vec::new();
    set.on_message(&obs, token, &ids, &mut out);
    out.len()
}

#[test]
fn request_once_fires_on_a_second_success_for_one_nonce() {
    let mut set = MonitorSet::standard();
    assert_eq!(
        observe(&mut set, &ro_response(5, Status::Success), 1, false),
        0
    );
    // A different nonce is a different request.
    assert_eq!(
        observe(&mut set, &ro_response(6, Status::Success), 2, false),
        0
    );
    // A forgery injected by an adversary is not the server accepting anything.
    assert_eq!(
        observe(&mut set, &ro_response(5, Status::Success), 3, true),
        0
    );
    assert_eq!(
        observe(&mut set, &ro_response(5, Status::Success), 4, false),
        1
    );
    assert_eq!(set.counts[names::NO_REQUEST_ACCEPTED_TWICE], 1);
    // The chain maps tokens 1 and 4 to message ids 10 and 40.
    assert_eq!(set.violations[0].chain, vec![10, 40]);
}

#[test]
fn request_once_ignores_failures() {
    let mut m = sim_core::invariant::request_once::RequestOnce::default();
    let pdu = ro_response(5, Status::AccessDenied);
    let msg = SimMsg::Pdu(Wire::new(
        sim_core::crypto::CryptoMode::Symbolic,
        pdu.clone(),
    ));
    let mut found: Vec<Finding> = Vec::new();
    for t in 0..3 {
        let obs = Observed {
            now: SimTime::ZERO,
            from: ActorId(1),
            to: ActorId(2),
            msg: &msg,
            pdu: Some(&pdu),
            injected_by: None,
            tampered_by: None,
        };
        m.on_message(&obs, t, &mut found);
    }
    assert!(found.is_empty());
}

#[test]
fn honest_run_violates_nothing() {
    let (mut b, ins, _) = setup(4, true, &[]);
    run(&mut b, &ins, 60);
    let sh = ins.shared.borrow();
    assert_eq!(sh.monitors.total(), 0);
    assert_eq!(
        sh.monitors.names(),
        vec![
            names::CONSISTENT_STATE.to_string(),
            names::DOMAIN_WITHIN_LIMIT.to_string(),
            names::KEYS_NEVER_KNOWN_TO_ADVERSARY.to_string(),
            names::METERING_DELETED_ONLY_AFTER_SUCCESS.to_string(),
            names::NO_REQUEST_ACCEPTED_TWICE.to_string(),
            names::NO_RIGHTS_DUPLICATED.to_string()
        ]
    );
    let held: usize = b
        .agents
        .iter()
        .map(|&a| b.sim.actor::<Agent>(a).unwrap().ros.len())
        .sum();
    assert!(held > 0, "the run acquired rights");
}

#[test]
fn rights_monitor_fires_on_a_copied_ro() {
    let (mut b, ins, _) = setup(2, true, &[]);
    run(&mut b, &ins, 60);
    let ro = b
        .sim
        .actor::<Agent>(b.agents[0])
        .unwrap()
        .ros
        .values()
        .next()
        .cloned()
        .expect("agent 0 holds an RO");
    b.sim
        .actor_mut::<Agent>(b.agents[1])
        .unwrap()
        .ros
        .insert(ro.ro_id.clone(), ro);
    ins.check_end(&mut b.sim);
    // The copy is usable on two Devices, and the Devices now hold more units than issued.
    assert_eq!(
        ins.shared.borrow().monitors.counts[names::NO_RIGHTS_DUPLICATED],
        2
    );
}

#[test]
fn consistency_monitor_fires_on_a_forgotten_device_context() {
    let (mut b, ins, _) = setup(2, true, &[]);
    run(&mut b, &ins, 60);
    let id = b
        .sim
        .actor::<Agent>(b.agents[0])
        .unwrap()
        .identity()
        .id
        .clone();
    b.sim.actor_mut::<Ri>(b.ris[0]).unwrap().devices.remove(&id);
    ins.check_end(&mut b.sim);
    assert_eq!(
        ins.shared.borrow().monitors.counts[names::CONSISTENT_STATE],
        1
    );
    // And an RO held without an RI Context.
    b.sim
        .actor_mut::<Agent>(b.agents[1])
        .unwrap()
        .ri_contexts
        .clear();
    let ros = b.sim.actor::<Agent>(b.agents[1]).unwrap().ros.len() as u64;
    ins.check_end(&mut b.sim);
    assert_eq!(
        ins.shared.borrow().monitors.counts[names::CONSISTENT_STATE],
        1 + 1 + ros
    );
}

#[test]
fn metering_monitor_fires_when_a_device_deletes_unaccepted_uses() {
    let (mut b, ins, _) = setup(2, true, &[]);
    run(&mut b, &ins, 30);
    assert_eq!(
        ins.shared.borrow().monitors.counts[names::METERING_DELETED_ONLY_AFTER_SUCCESS],
        0
    );
    // No RI accepted anything from agent 0 (no metering in this run): any deletion is a loss.
    b.sim
        .actor_mut::<Agent>(b.agents[0])
        .unwrap()
        .metering_reports
        .stats
        .uses_deleted = 3;
    ins.check_end(&mut b.sim);
    let sh = ins.shared.borrow();
    assert_eq!(
        sh.monitors.counts[names::METERING_DELETED_ONLY_AFTER_SUCCESS],
        1
    );
    assert!(sh.monitors.violations[0]
        .detail
        .contains("deleted 3 metered uses"));
}

#[test]
fn domain_monitor_fires_on_a_domain_over_its_limit() {
    let mut cfg = sim_core::proto::build::WorldConfig {
        agents: 3,
        ris: 1,
        ..Default::default()
    };
    cfg.workload.join_domain_probability = 1.0;
    let (mut b, ins, _) = crate::adversary::setup_cfg(&cfg, &[]);
    run(&mut b, &ins, 60);
    assert_eq!(
        ins.shared.borrow().monitors.counts[names::DOMAIN_WITHIN_LIMIT],
        0
    );
    let ri = b.sim.actor_mut::<Ri>(b.ris[0]).unwrap();
    let d = ri
        .domains
        .domains
        .values_mut()
        .next()
        .expect("the RI manages a domain");
    d.max_members = 1;
    d.members.insert(Identifier { hash: vec![1; 20] });
    d.members.insert(Identifier { hash: vec![2; 20] });
    ins.check_end(&mut b.sim);
    assert_eq!(
        ins.shared.borrow().monitors.counts[names::DOMAIN_WITHIN_LIMIT],
        1
    );
}

#[test]
fn domain_monitor_fires_on_a_user_domain_over_its_limit() {
    let mut cfg = sim_core::proto::build::WorldConfig {
        agents: 2,
        ris: 1,
        dea: true,
        ..Default::default()
    };
    cfg.user_domains.user_domains = 1;
    cfg.user_domains.max_devices = 2;
    let (mut b, ins, _) = crate::adversary::setup_cfg(&cfg, &[]);
    run(&mut b, &ins, 10);
    assert_eq!(
        ins.shared.borrow().monitors.counts[names::DOMAIN_WITHIN_LIMIT],
        0
    );
    let dea = b
        .sim
        .actor_mut::<sim_core::proto::dea::Dea>(b.dea.expect("a DEA"))
        .unwrap();
    let ud = dea
        .user_domains
        .domains
        .values_mut()
        .next()
        .expect("one User Domain");
    // Three distinct Devices in a User Domain of two.
    for k in 1..=3u8 {
        ud.members
            .insert(Identifier { hash: vec![k; 20] }, Default::default());
    }
    ins.check_end(&mut b.sim);
    let sh = ins.shared.borrow();
    assert_eq!(sh.monitors.counts[names::DOMAIN_WITHIN_LIMIT], 1);
    assert!(sh.monitors.violations[0]
        .detail
        .contains("has 3 Devices, limit 2"));
}
