//! Move `<userDomain>`-constrained RO via RI (seed 003 §9.2.1, §9.2.3): a Device moves ROs
//! bound to two DEA User Domains to the RI; the RI attaches the DEA-issued
//! RIUserDomainAuthorization of each User Domain, and the Device only lets go of the ROs
//! whose User Domain authorization checks out. Rights are conserved throughout.

use crate::support::build_ideal;
use sim_core::crypto::{CryptoMode, PublicKey};
use sim_core::engine::time::NS_PER_S;
use sim_core::engine::{ActorId, RunLimits, SimTime, Tap, TapCtx, Verdict};
use sim_core::pdu::common::ALG_KEM;
use sim_core::pdu::moves::MoveResponse;
use sim_core::pdu::ro::{Action, Asset, Constraint, Permission, ProtectedRo, Rights, Ro};
use sim_core::pdu::{Encrypted, Expiry, Pdu, Status};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::dea::Dea;
use sim_core::proto::move_ro::Refusal;
use sim_core::proto::move_ud::{self, SYSTEM_ID};
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::ri::Ri;
use sim_core::proto::rights::Constraint as RoConstraint;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::rc::Rc;

const UD0: &str = "userdomain0";
const UD1: &str = "userdomain1";
/// RO bound to User Domain 0: 4 counts, moved in full.
const RO_A: &str = "ud-ro-a";
/// RO bound to User Domain 1: unlimited, moved in full.
const RO_B: &str = "ud-ro-b";
/// RO bound to User Domain 0: 6 counts, partial Move of half (3).
const RO_C: &str = "ud-ro-c";
/// Rights units installed: 4 + 1 + 6.
const INSTALLED_UNITS: u64 = 11;

fn config(mode: CryptoMode) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents: 2,
        ris: 1,
        dea: true,
        crypto: mode,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            ..Default::default()
        },
        ..Default::default()
    };
    cfg.domains.domains_per_ri = 0;
    cfg.user_domains.user_domains = 2;
    cfg
}

fn crafted(id: &str, domains: &[&str], count: Option<u32>, system: Option<&str>) -> ProtectedRo {
    let play = Permission {
        action: Action::Play,
        constraints: count.map(Constraint::Count).into_iter().collect(),
    };
    let mv = Permission {
        action: Action::Move,
        constraints: system
            .map(|s| Constraint::System(vec![s.to_string()]))
            .into_iter()
            .collect(),
    };
    ProtectedRo {
        ro: Ro {
            id: id.to_string(),
            version: "2.0".into(),
            domain_ro: false,
            ri_id: sim_core::pdu::Identifier::new(vec![0; 20]),
            rights: Rights {
                uid: id.to_string(),
                assets: vec![Asset {
                    content_id: format!("cid:{id}"),
                    dcf_hash: None,
                }],
                permissions: vec![play, mv],
                user_domains: domains.iter().map(|d| d.to_string()).collect(),
                move_indication: Vec::new(),
            },
            signature: None,
            time_stamp: None,
            enc_key: Encrypted {
                id: None,
                algorithm: ALG_KEM.to_string(),
                key_info: None,
                cipher: Vec::new(),
            },
        },
        mac: Vec::new(),
    }
}

struct Run {
    built: Built,
}

impl Run {
    fn agent(&self, i: usize) -> &Agent {
        self.built.sim.actor::<Agent>(self.built.agents[i]).unwrap()
    }
    fn ri(&self) -> &Ri {
        self.built.sim.actor::<Ri>(self.built.ris[0]).unwrap()
    }
    fn ri_mut(&mut self) -> &mut Ri {
        self.built.sim.actor_mut::<Ri>(self.built.ris[0]).unwrap()
    }
    fn dea_mut(&mut self) -> &mut Dea {
        let d = self.built.dea.unwrap();
        self.built.sim.actor_mut::<Dea>(d).unwrap()
    }
    fn dea_key(&self) -> PublicKey {
        let d = self.built.dea.unwrap();
        let dea = self.built.sim.actor::<Dea>(d).unwrap();
        dea.identity().chain[0].public_key().clone()
    }
    fn run_to(&mut self, secs: u64) {
        self.built.sim.run(
            &RunLimits {
                horizon: Some(SimTime::from_secs(secs)),
                ..Default::default()
            },
            &mut |_, _| {},
        );
    }
    fn ri_status(&self, s: &str) -> u64 {
        self.ri()
            .stats
            .statuses
            .get(&(move_ud::PROTOCOL.to_string(), s.to_string()))
            .copied()
            .unwrap_or(0)
    }
    /// Units of the crafted ROs still at Device 0 plus units the RI holds.
    fn total_units(&self) -> u64 {
        let a = self.agent(0);
        let held: u64 = [RO_A, RO_B, RO_C]
            .iter()
            .filter_map(|id| a.ros.get(*id))
            .map(|r| r.rights_units())
            .sum();
        held + self.ri().move_ud.held_units()
    }
    /// (present, unusable, unusable_count, units) of an RO at Device 0.
    fn ro(&self, id: &str) -> Option<(bool, u32, u64)> {
        self.agent(0)
            .ros
            .get(id)
            .map(|r| (r.unusable, r.unusable_count, r.rights_units()))
    }
}

/// Builds the world: Device 0 holds RO_A, RO_B, RO_C signed by the RI, listing the RI in
/// `<moveIndication>`, and DEA-signed authorizations for both User Domains; the RI trusts
/// the DEA key. Device 0 moves all three 5 s after registering.
fn start(mode: CryptoMode) -> Run {
    start_with(config(mode))
}

/// [`start`] with `cfg` (a [`config`], variants changed).
fn start_with(cfg: WorldConfig) -> Run {
    let trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
    let built = build_ideal(&cfg, trace);
    let mut r = Run { built };
    let dea_key = r.dea_key();
    let epoch = r.built.world.datetime(0);
    let agent_id = r.built.agents[0];
    let dev = move_ud::device_id(r.built.sim.actor::<Agent>(agent_id).unwrap());
    let ri_hex = move_ud::move_indication(&move_ud::ri_id(r.ri()));
    let mut ros = Vec::new();
    for (id, ds, count) in [
        (RO_A, UD0, Some(4)),
        (RO_B, UD1, None),
        (RO_C, UD0, Some(6)),
    ] {
        let mut pro = crafted(id, &[ds], count, Some(SYSTEM_ID));
        pro.ro.rights.move_indication = vec![ri_hex.clone()];
        ros.push(move_ud::ri_sign_ro(r.ri_mut(), pro).expect("signs"));
    }
    let authz: Vec<_> = [UD0, UD1]
        .iter()
        .map(|u| move_ud::dea_authorize(r.dea_mut(), u, &dev, epoch, Expiry::Infinite).unwrap())
        .collect();
    r.ri_mut().move_ud.dea_key = Some(dea_key.clone());
    let agent = r.built.sim.actor_mut::<Agent>(agent_id).unwrap();
    for pro in ros {
        move_ud::install_ro(agent, pro);
    }
    for a in authz {
        move_ud::join_user_domain(agent, a, dea_key.clone());
    }
    move_ud::plan_move(
        agent,
        5 * NS_PER_S,
        vec![
            (RO_A.into(), false),
            (RO_B.into(), false),
            (RO_C.into(), true),
        ],
    );
    // The RI has its DEA authorizations by 2 s; the Move starts after that.
    r.run_to(2);
    assert!(r.ri().dea_proxy.authorizations.contains_key(UD0));
    assert!(r.ri().dea_proxy.authorizations.contains_key(UD1));
    assert_eq!(r.total_units(), INSTALLED_UNITS);
    r
}

#[test]
fn full_and_partial_moves_remove_and_decrement() {
    let mut r = start(CryptoMode::Symbolic);
    r.run_to(60);
    let s = &r.agent(0).move_ud.stats;
    assert_eq!((s.started, s.ros_moved, s.ros_restored), (1, 3, 0));
    assert_eq!(r.ri_status("Success"), 1);
    // RO_A and RO_B moved in full; RO_C: 6 counts, half (3) moved, 3 left and usable.
    assert_eq!(r.ro(RO_A), None);
    assert_eq!(r.ro(RO_B), None);
    assert_eq!(r.ro(RO_C), Some((false, 0, 3)));
    let held = &r.ri().move_ud.held;
    assert_eq!((held[RO_A], held[RO_B], held[RO_C]), (4, 1, 3));
    assert_eq!(r.total_units(), INSTALLED_UNITS);
    // The ledger refuses a second Move of the same rights (RO_A fully moved).
    assert_eq!(r.ri().moves.ledger[RO_A].moved_units, 4);
}

#[test]
fn missing_ri_authorization_restores_exactly_that_domains_ros() {
    let mut r = start(CryptoMode::Symbolic);
    r.ri_mut().dea_proxy.authorizations.remove(UD1);
    r.run_to(60);
    // RO_B (User Domain 1) stays, usable; RO_A and RO_C (User Domain 0) move.
    assert_eq!(r.ro(RO_B), Some((false, 0, 1)));
    assert_eq!(r.ro(RO_A), None);
    assert_eq!(r.ro(RO_C), Some((false, 0, 3)));
    let s = &r.agent(0).move_ud.stats;
    assert_eq!((s.ros_moved, s.ros_restored), (2, 1));
    // The RI took over only RO_A and RO_C: nothing lost, nothing duplicated.
    assert_eq!(r.ri().move_ud.stats.kept_by_source, 1);
    assert!(!r.ri().move_ud.held.contains_key(RO_B));
    assert_eq!(r.total_units(), INSTALLED_UNITS);
}

fn replace_ud1_authorization(
    r: &mut Run,
    f: impl FnOnce(&mut Run) -> sim_core::pdu::moves::UserDomainAuthorization,
) {
    let a = f(r);
    r.ri_mut()
        .dea_proxy
        .authorizations
        .insert(UD1.to_string(), a);
}

fn assert_ud1_restored(r: &Run) {
    assert_eq!(r.total_units(), INSTALLED_UNITS);
    assert_eq!(r.ri().move_ud.stats.kept_by_source, 1);
    assert_eq!(r.ro(RO_B), Some((false, 0, 1)));
    assert_eq!(r.ro(RO_A), None);
    assert_eq!(r.ro(RO_C), Some((false, 0, 3)));
    let s = &r.agent(0).move_ud.stats;
    assert_eq!((s.ros_moved, s.ros_restored), (2, 1));
}

#[test]
fn expired_ri_authorization_restores_its_domain() {
    let mut r = start(CryptoMode::Symbolic);
    replace_ud1_authorization(&mut r, |r| {
        let ri = move_ud::ri_id(r.ri());
        let epoch = r.built.world.datetime(0);
        let end = Expiry::At(r.built.world.datetime(NS_PER_S));
        move_ud::dea_authorize(r.dea_mut(), UD1, &ri, epoch, end).unwrap()
    });
    r.run_to(60);
    assert_ud1_restored(&r);
}

#[test]
fn forged_dea_signature_restores_its_domain() {
    let mut r = start(CryptoMode::Symbolic);
    replace_ud1_authorization(&mut r, |r| {
        let mut a = r.ri().dea_proxy.authorizations[UD1].clone();
        a.signature[0] ^= 0x5a;
        a
    });
    r.run_to(60);
    assert_ud1_restored(&r);
}

#[test]
fn entity_id_mismatch_restores_its_domain() {
    let mut r = start(CryptoMode::Symbolic);
    replace_ud1_authorization(&mut r, |r| {
        // Properly DEA-signed, but for another entity (Device 1).
        let other = move_ud::device_id(r.agent(1));
        let epoch = r.built.world.datetime(0);
        move_ud::dea_authorize(r.dea_mut(), UD1, &other, epoch, Expiry::Infinite).unwrap()
    });
    r.run_to(60);
    assert_ud1_restored(&r);
}

#[test]
fn non_success_restores_every_ro() {
    let mut r = start(CryptoMode::Symbolic);
    // The RI checks source authorizations with a wrong DEA key (a Device's certificate
    // key): the request is refused AccessDenied.
    let other_key = {
        let ri = r.ri();
        ri.devices.values().next().unwrap().chain[0]
            .public_key()
            .clone()
    };
    r.ri_mut().move_ud.dea_key = Some(other_key);
    r.run_to(60);
    assert_eq!(r.ri_status("AccessDenied"), 1);
    assert_eq!(r.ro(RO_A), Some((false, 0, 4)));
    assert_eq!(r.ro(RO_B), Some((false, 0, 1)));
    assert_eq!(r.ro(RO_C), Some((false, 0, 6)));
    let s = &r.agent(0).move_ud.stats;
    assert_eq!((s.failed, s.ros_moved, s.ros_restored), (1, 0, 3));
    assert_eq!(r.ri().move_ud.held_units(), 0);
    assert_eq!(r.total_units(), INSTALLED_UNITS);
}

#[test]
fn ros_without_this_protocol_or_ri_are_not_moved() {
    let mut r = start(CryptoMode::Symbolic);
    let agent_id = r.built.agents[0];
    let ri_hex = move_ud::move_indication(&move_ud::ri_id(r.ri()));
    // RO_A re-signed with a <system> naming Move Device RO: not movable by §9.2.
    let mut pro = crafted(RO_A, &[UD0], Some(4), Some("moveDeviceROviaRI"));
    pro.ro.rights.move_indication = vec![ri_hex];
    let pro = move_ud::ri_sign_ro(r.ri_mut(), pro).unwrap();
    let agent = r.built.sim.actor_mut::<Agent>(agent_id).unwrap();
    move_ud::install_ro(agent, pro);
    r.run_to(60);
    // The whole selection is refused before anything is marked or sent.
    let s = &r.agent(0).move_ud.stats;
    assert_eq!((s.started, s.not_started), (0, 1));
    assert_eq!(r.ro(RO_A), Some((false, 0, 4)));
    assert_eq!(r.ro(RO_C), Some((false, 0, 6)));
    assert!(matches!(
        r.agent(0).ros[RO_C].constraint,
        RoConstraint::Count { remaining: 6 }
    ));
}

#[test]
fn real_and_symbolic_modes_give_the_same_outcomes() {
    let mut out = Vec::new();
    for mode in [CryptoMode::Symbolic, CryptoMode::Real] {
        let mut r = start(mode);
        r.ri_mut().dea_proxy.authorizations.remove(UD1);
        r.run_to(60);
        out.push((
            r.ro(RO_A),
            r.ro(RO_B),
            r.ro(RO_C),
            r.agent(0).move_ud.stats.clone(),
            r.ri().move_ud.held.clone(),
            r.ri_status("Success"),
        ));
    }
    assert_eq!(out[0], out[1]);
    assert_eq!(out[0].5, 1);
}

/// On-path tap: records request nonces, drops or rewrites (without re-signing) responses.
struct UdTap {
    mode: CryptoMode,
    drop_responses: u32,
    tampers: Vec<fn(&mut MoveResponse)>,
    nonces: Rc<RefCell<Vec<Vec<u8>>>>,
    /// Inject a copy of the first request this long after it was sent.
    replay_after_s: Option<u64>,
    /// Race: inject a copy of the first request at once, hold the original 5 ms (the copy
    /// reaches the RI first) and drop the RI's answer to the copy (it goes back on the
    /// attacker's connection).
    race_first: bool,
}

impl Tap<SimMsg> for UdTap {
    fn on_send(
        &mut self,
        from: ActorId,
        to: ActorId,
        msg: SimMsg,
        ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        let SimMsg::Pdu(w) = &msg else {
            return Verdict::Pass(msg);
        };
        match w.open() {
            Ok(Pdu::MoveUserDomainConstrainedRoRequest(r)) => {
                self.nonces.borrow_mut().push(r.nonce);
                if let Some(after) = self.replay_after_s.take() {
                    ctx.inject(from, to, msg.clone(), after * NS_PER_S);
                }
                if std::mem::take(&mut self.race_first) {
                    ctx.inject(from, to, msg.clone(), 0);
                    self.drop_responses = 1;
                    return Verdict::Delay(msg, 5_000_000);
                }
            }
            Ok(Pdu::MoveUserDomainConstrainedRoResponse(mut r)) => {
                if self.drop_responses > 0 {
                    self.drop_responses -= 1;
                    return Verdict::Drop;
                }
                if !self.tampers.is_empty() {
                    self.tampers.remove(0)(&mut r);
                    let pdu = Pdu::MoveUserDomainConstrainedRoResponse(r);
                    return Verdict::Pass(SimMsg::Pdu(Wire::new(self.mode, pdu)));
                }
            }
            _ => {}
        }
        Verdict::Pass(msg)
    }
}

fn tap(
    r: &mut Run,
    drop_responses: u32,
    tampers: Vec<fn(&mut MoveResponse)>,
) -> Rc<RefCell<Vec<Vec<u8>>>> {
    let nonces = Rc::new(RefCell::new(Vec::new()));
    r.built.sim.set_tap(Box::new(UdTap {
        mode: CryptoMode::Symbolic,
        drop_responses,
        tampers,
        nonces: nonces.clone(),
        replay_after_s: None,
        race_first: false,
    }));
    nonces
}

#[test]
fn lost_response_is_retried_with_a_fresh_nonce_and_counted_once() {
    let mut r = start(CryptoMode::Symbolic);
    let nonces = tap(&mut r, 1, Vec::new());
    r.run_to(200);
    let n = nonces.borrow();
    assert_eq!(n.len(), 2);
    assert_ne!(n[0], n[1], "seed 003 §9.2.1: retries use a fresh nonce");
    // The RI recognised the retry (same Device, same RO, same amount): nothing recorded twice.
    let st = &r.ri().move_ud.stats;
    assert_eq!((st.accepted, st.retransmissions), (1, 1));
    let held = &r.ri().move_ud.held;
    assert_eq!((held[RO_A], held[RO_B], held[RO_C]), (4, 1, 3));
    assert_eq!(r.agent(0).move_ud.stats.ros_moved, 3);
    assert_eq!(r.ro(RO_C), Some((false, 0, 3)));
    assert_eq!(r.total_units(), INSTALLED_UNITS);
}

#[test]
fn mismatching_or_unsigned_responses_are_discarded_and_the_move_completes() {
    let mut r = start(CryptoMode::Symbolic);
    let nonces = tap(
        &mut r,
        0,
        vec![
            // §9.2.3 step 1: another nonce.
            |m| m.nonce[0] ^= 1,
            // §9.2.3 step 2: status rewritten, signature no longer verifies.
            |m| m.status = Status::AccessDenied,
        ],
    );
    r.run_to(200);
    assert_eq!(nonces.borrow().len(), 3);
    let s = &r.agent(0).move_ud.stats;
    assert_eq!((s.discarded_mismatch, s.discarded_signature), (1, 1));
    assert_eq!((s.ros_moved, s.ros_restored, s.failed), (3, 0, 0));
    assert_eq!(r.ro(RO_A), None);
    assert_eq!(r.total_units(), INSTALLED_UNITS);
}

#[test]
fn abandoned_move_keeps_the_ros_unusable() {
    let mut r = start(CryptoMode::Symbolic);
    let nonces = tap(&mut r, u32::MAX, Vec::new());
    r.run_to(400);
    // 1 attempt + 3 retries (ProtoParams::default().max_retries), all answered, none seen.
    assert_eq!(nonces.borrow().len(), 4);
    assert_eq!(r.agent(0).move_ud.stats.abandoned, 1);
    // The RI accepted the first attempt: the Device must not use the rights again.
    assert_eq!(r.ro(RO_A), Some((true, 0, 4)));
    assert_eq!(r.ro(RO_C), Some((false, 3, 6)));
    assert_eq!(r.ri().move_ud.stats.retransmissions, 3);
    assert_eq!(r.ri().move_ud.held_units(), 8);
}

fn replay_tap(r: &mut Run, replay_after_s: Option<u64>, race_first: bool) {
    r.built.sim.set_tap(Box::new(UdTap {
        mode: CryptoMode::Symbolic,
        drop_responses: 0,
        tampers: Vec::new(),
        nonces: Rc::new(RefCell::new(Vec::new())),
        replay_after_s,
        race_first,
    }));
}

#[test]
fn replayed_request_gets_the_stored_response_and_is_discarded() {
    let mut r = start(CryptoMode::Symbolic);
    replay_tap(&mut r, Some(10), false);
    r.run_to(60);
    // A repeat of the accepted request (same Device, nonce, content): the RI re-sends the
    // stored Success (the response store of every server, proto::repeats) and records
    // nothing twice; the status is counted once, for the request it processed.
    let st = &r.ri().move_ud.stats;
    assert_eq!(st.refused.get(&Refusal::Replay), None);
    assert_eq!((st.accepted, st.retransmissions), (1, 0));
    assert_eq!(r.ri().repeats.stats.answered, 1);
    assert_eq!(
        (r.ri_status("Success"), r.ri_status("AccessDenied")),
        (1, 0)
    );
    assert_eq!(r.ri().move_ud.held_units(), 8);
    // The Device's session is over: the second Success matches no request, discarded.
    let s = &r.agent(0).move_ud.stats;
    assert_eq!((s.ros_moved, s.discarded_mismatch), (3, 1));
    assert_eq!(r.total_units(), INSTALLED_UNITS);
}

#[test]
fn replay_overtaking_the_original_moves_the_ros_once() {
    // §9.2 shares the RI checks with §9.1: a copy reaching the RI before the original is
    // accepted, the original gets the stored Success, the Device lets go of its ROs
    // (§9.2.3 step 5) and the RI holds the moved rights once.
    let mut r = start(CryptoMode::Symbolic);
    replay_tap(&mut r, None, true);
    r.run_to(60);
    let st = &r.ri().move_ud.stats;
    assert_eq!((st.accepted, st.retransmissions), (1, 0));
    assert_eq!(st.refused.get(&Refusal::Replay), None);
    assert_eq!(r.ri().repeats.stats.answered, 1);
    let held = &r.ri().move_ud.held;
    assert_eq!((held[RO_A], held[RO_B], held[RO_C]), (4, 1, 3));
    let s = &r.agent(0).move_ud.stats;
    assert_eq!((s.ros_moved, s.ros_restored, s.failed), (3, 0, 0));
    assert_eq!(r.ro(RO_A), None);
    assert_eq!(r.ro(RO_B), None);
    assert_eq!(r.ro(RO_C), Some((false, 0, 3)));
    assert_eq!(r.total_units(), INSTALLED_UNITS);
}

#[test]
fn racing_replay_duplicates_ros_without_nonce_tracking() {
    // Pre-CR: the copy is accepted; the original asks to move the same rights again and the
    // ledger refuses it (AccessDenied); the Device restores all three ROs (§9.2.3 step 3)
    // while the RI holds 4 + 1 + 3 of their units.
    let mut cfg = config(CryptoMode::Symbolic);
    cfg.variants.ri_nonce_tracking = false;
    let mut r = start_with(cfg);
    replay_tap(&mut r, None, true);
    r.run_to(60);
    let st = &r.ri().move_ud.stats;
    assert_eq!(st.refused.get(&Refusal::AlreadyMoved).copied(), Some(1));
    assert_eq!(r.agent(0).move_ud.stats.ros_restored, 3);
    assert_eq!(r.total_units(), INSTALLED_UNITS + 8);
}

/// Issue 12: the DEA signs the User Domain Authorization element as it travels, its name
/// included — an RI's is `<RIUserDomainAuthorization>`, a Device's
/// `<sourceDeviceUserDomainAuthorization>` — and one relabelled into the other position no
/// longer verifies.
#[test]
fn dea_signs_the_authorization_element_as_sent() {
    use sim_core::crypto::{OpCounter, Signable};
    use sim_core::pdu::moves::UdaHolder;
    let mut r = start(CryptoMode::Symbolic);
    let ri = move_ud::ri_id(r.ri());
    let dev = move_ud::device_id(r.agent(0));
    let epoch = r.built.world.datetime(0);
    let for_ri = move_ud::dea_authorize(r.dea_mut(), UD1, &ri, epoch, Expiry::Infinite).unwrap();
    let for_dev = move_ud::dea_authorize(r.dea_mut(), UD1, &dev, epoch, Expiry::Infinite).unwrap();
    assert_eq!(for_ri.holder, UdaHolder::Ri);
    assert_eq!(for_dev.holder, UdaHolder::SourceDevice);
    let signed = String::from_utf8(for_ri.signed_bytes()).unwrap();
    assert!(
        signed.starts_with("<RIUserDomainAuthorization><userDomainID>"),
        "{signed}"
    );
    assert!(
        signed.ends_with("</notAfter></RIUserDomainAuthorization>"),
        "{signed}"
    );
    assert!(!signed.contains("<signature>"));
    let signed = String::from_utf8(for_dev.signed_bytes()).unwrap();
    assert!(
        signed.starts_with("<sourceDeviceUserDomainAuthorization>"),
        "{signed}"
    );
    // The signed octets are the canonical element on the wire minus <signature>.
    let wire = sim_core::xml::canonicalize_element(&for_ri.to_element()).unwrap();
    let sig_el = format!(
        "<signature>{}</signature>",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            &for_ri.signature
        )
    );
    assert_eq!(
        String::from_utf8(wire).unwrap().replace(&sig_el, ""),
        String::from_utf8(for_ri.signed_bytes()).unwrap()
    );
    let key = r.dea_key();
    let w = r.built.world.clone();
    let mut ops = OpCounter::new();
    let alg = w.params.sig_alg;
    w.crypto
        .verify(&mut ops, &key, alg, &for_ri, &for_ri.signature)
        .unwrap();
    let mut relabelled = for_dev.clone();
    relabelled.holder = UdaHolder::Ri;
    assert!(w
        .crypto
        .verify(&mut ops, &key, alg, &relabelled, &for_dev.signature)
        .is_err());
    // Decoding takes the holder from the element name.
    let back =
        sim_core::pdu::moves::UserDomainAuthorization::from_element(&for_dev.to_element()).unwrap();
    assert_eq!(back, for_dev);
}
