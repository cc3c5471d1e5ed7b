//! `no_rights_duplicated` on Imported ROs (seed 001: an LRM issues them, dmpPair moves or
//! copies them between agents of the User Domain) and `no_request_accepted_twice` on a
//! stored response sent again (seed 003 §9.1 repeats): silent on honest runs, firing on
//! crafted duplications.

use crate::adversary::{run, setup_cfg};
use sim_core::adversary::Installed;
use sim_core::crypto::CryptoMode;
use sim_core::engine::{ActorId, SimTime};
use sim_core::invariant::{names, MonitorSet, Observed};
use sim_core::pdu::moves::MoveResponse;
use sim_core::pdu::{Identifier, Pdu, Status};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::lrm::Lrm;
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::pairing::permits_copy;
use std::collections::BTreeMap;

/// 4 SCE agents importing from one LRM (half the Imported ROs permit dmpPair Copy) and
/// moving / copying them among each other for 5 minutes.
fn pairing_run() -> (Built, Installed) {
    let mut cfg = WorldConfig {
        agents: 4,
        sce_agents: 4,
        ris: 1,
        lrms: 1,
        dea: true,
        ..Default::default()
    };
    cfg.workload.acquire_rate_per_min = 0.0;
    cfg.workload.consume_rate_per_min = 0.0;
    cfg.workload.import_rate_per_min = 1.0;
    cfg.workload.pair_rate_per_min = 2.0;
    cfg.workload.pair_copy_probability = 0.4;
    cfg.lrm_policy.import_rate_per_min = 2.0;
    cfg.lrm_policy.copy_probability = 0.5;
    cfg.lrm_policy.stateful_probability = 1.0;
    cfg.lrm_policy.count = 4;
    let (mut b, ins, _) = setup_cfg(&cfg, &[]);
    for a in b.agents.clone() {
        b.sim.actor_mut::<Agent>(a).unwrap().pairing.pair_random = true;
    }
    run(&mut b, &ins, 300);
    (b, ins)
}

fn duplicated(ins: &Installed) -> u64 {
    ins.shared.borrow().monitors.counts[names::NO_RIGHTS_DUPLICATED]
}

fn agent(b: &Built, i: usize) -> &Agent {
    b.sim.actor::<Agent>(b.agents[i]).unwrap()
}

fn lrm(b: &Built) -> &Lrm {
    b.sim.actor::<Lrm>(b.lrms[0]).unwrap()
}

/// Usable holders (agent indices) of every Imported RO.
fn usable_holders(b: &Built) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..b.agents.len() {
        for (id, ro) in &agent(b, i).ros {
            if ro.issuer == "lrm/0" && !ro.unusable {
                out.entry(id.clone()).or_default().push(i);
            }
        }
    }
    out
}

/// A Move-only Imported RO (no dmpPair Copy permission) usable on exactly one agent.
fn move_only_ro(b: &Built) -> (String, usize) {
    usable_holders(b)
        .into_iter()
        .find(|(id, h)| h.len() == 1 && !permits_copy(&lrm(b).issued[id].1.rights))
        .map(|(id, h)| (id, h[0]))
        .expect("a Move-only Imported RO")
}

#[test]
fn honest_import_and_pairing_run_duplicates_nothing() {
    let (b, ins) = pairing_run();
    let holders = usable_holders(&b);
    // The run exercised what the monitor must tell apart: Imports, dmpPair Moves (ROs now at
    // agents the LRM did not issue them to) and legitimate Copies (ROs usable on 2+ agents).
    assert!(
        lrm(&b).stats.ros_issued >= 5,
        "{}",
        lrm(&b).stats.ros_issued
    );
    let transfers: u64 = (0..4)
        .map(|i| agent(&b, i).pairing.stats.transfers_in)
        .sum();
    assert!(transfers >= 3, "{transfers}");
    let copies = holders.values().filter(|h| h.len() > 1).count();
    assert!(copies >= 1, "{holders:?}");
    for (id, h) in &holders {
        if h.len() > 1 {
            assert!(permits_copy(&lrm(&b).issued[id].1.rights), "{id}: {h:?}");
        }
    }
    assert_eq!(duplicated(&ins), 0);
    assert_eq!(ins.shared.borrow().monitors.total(), 0);
}

#[test]
fn an_imported_ro_installed_on_a_second_agent_is_a_duplication() {
    let (mut b, ins) = pairing_run();
    let before = duplicated(&ins);
    assert_eq!(before, 0);
    let (ro_id, holder) = move_only_ro(&b);
    let ro = agent(&b, holder).ros[&ro_id].clone();
    let other = (holder + 1) % 4;
    b.sim
        .actor_mut::<Agent>(b.agents[other])
        .unwrap()
        .ros
        .insert(ro_id.clone(), ro);
    ins.check_end(&mut b.sim);
    // Two findings: the second agent has it from nowhere (neither the LRM nor a dmpPair
    // transfer), and a Move-only RO is usable on two agents.
    assert_eq!(duplicated(&ins), 2);
    let sh = ins.shared.borrow();
    let details: Vec<&str> = sh
        .monitors
        .violations
        .iter()
        .filter(|v| v.invariant == names::NO_RIGHTS_DUPLICATED)
        .map(|v| v.detail.as_str())
        .collect();
    assert!(
        details.iter().any(|d| d.contains("neither imported it")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("no dmpPair Copy permission")),
        "{details:?}"
    );
}

#[test]
fn a_move_only_ro_kept_by_its_source_after_a_transfer_is_a_duplication() {
    // As if a dmpPair Move delivered the RO (the destination has the transfer record) but the
    // source never let go of it: provenance is fine, the count is not.
    let (mut b, ins) = pairing_run();
    let (ro_id, holder) = move_only_ro(&b);
    let ro = agent(&b, holder).ros[&ro_id].clone();
    let src_id = agent(&b, holder).identity().id.clone();
    let other = (holder + 1) % 4;
    let dest = b.sim.actor_mut::<Agent>(b.agents[other]).unwrap();
    dest.ros.insert(ro_id.clone(), ro);
    dest.pairing
        .received
        .insert((src_id, "t-crafted".into()), ro_id.clone());
    ins.check_end(&mut b.sim);
    assert_eq!(duplicated(&ins), 1);
    let sh = ins.shared.borrow();
    assert!(sh.monitors.violations[0]
        .detail
        .contains("no dmpPair Copy permission"));
}

#[test]
fn more_units_than_the_lrm_signed_and_never_issued_ros_are_found() {
    let (mut b, ins) = pairing_run();
    let (ro_id, holder) = move_only_ro(&b);
    let a = b.sim.actor_mut::<Agent>(b.agents[holder]).unwrap();
    // The LRM signed 4 counts; the holder now has 9.
    a.ros.get_mut(&ro_id).unwrap().constraint =
        sim_core::proto::rights::Constraint::Count { remaining: 9 };
    // An RO naming the LRM as issuer that the LRM never issued.
    let mut forged = a.ros[&ro_id].clone();
    forged.ro_id = "lrm/0-imp999".into();
    a.ros.insert(forged.ro_id.clone(), forged);
    ins.check_end(&mut b.sim);
    assert_eq!(duplicated(&ins), 2);
    let sh = ins.shared.borrow();
    let details: Vec<&str> = sh
        .monitors
        .violations
        .iter()
        .map(|v| v.detail.as_str())
        .collect();
    assert!(
        details.iter().any(|d| d.contains("holds 9 units")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("never issued it")),
        "{details:?}"
    );
}

fn move_success(nonce: u8) -> Pdu {
    Pdu::MoveDeviceRoResponse(MoveResponse {
        status: Status::Success,
        req_id: Identifier::new(vec![1; 20]),
        res_id: Identifier::new(vec![2; 20]),
        nonce: vec![nonce; 14],
        ri_authorizations: Vec::new(),
        certificate_chain: None,
        ocsp_responses: Vec::new(),
        extensions: Vec::new(),
        signature: vec![0; 128],
    })
}

fn observe(set: &mut MonitorSet, msg: &SimMsg, pdu: &Pdu, token: u64) -> usize {
    let obs = Observed {
        now: SimTime::from_secs(1),
        from: ActorId(1),
        to: ActorId(2),
        msg,
        pdu: Some(pdu),
        injected_by: None,
        tampered_by: None,
    };
    let ids: BTreeMap<u64, u64> = (1..10).map(|t| (t, t * 10)).collect();
    let mut out = Vec::new();
    set.on_message(&obs, token, &ids, &mut out);
    out.len()
}

#[test]
fn a_stored_response_sent_again_is_not_a_second_acceptance() {
    let mut set = MonitorSet::standard();
    let pdu = move_success(5);
    let stored = SimMsg::Pdu(Wire::new(CryptoMode::Symbolic, pdu.clone()));
    assert_eq!(observe(&mut set, &stored, &pdu, 1), 0);
    // The RI re-sends the very message it stored (a repeat of the accepted request).
    assert_eq!(observe(&mut set, &stored.clone(), &pdu, 2), 0);
    // A Success produced anew for the same request — equal bytes, as a pre-CR RI accepting
    // a replay sends — is a second acceptance.
    let fresh = SimMsg::Pdu(Wire::new(CryptoMode::Symbolic, pdu.clone()));
    assert_eq!(observe(&mut set, &fresh, &pdu, 3), 1);
    assert_eq!(set.counts[names::NO_REQUEST_ACCEPTED_TWICE], 1);
    assert_eq!(set.violations[0].chain, vec![10, 30]);
}
