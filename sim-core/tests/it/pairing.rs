//! Seed 001 pairing end to end: Join Domain for Pairing, Import from an LRM, dmpPair Move
//! and Copy (also under loss), and the target's rejection of forged, modified, expired and
//! replayed tickets/requests.

use crate::support::build_ideal;
use sim_core::crypto::{CryptoMode, OpCounter, SymKey};
use sim_core::engine::tap::{Tap, TapCtx, Verdict};
use sim_core::engine::{Message, RunLimits, SimTime};
use sim_core::pdu::pairing::{AuthenticationRequest, ImportInitiation, PairingTicketRequest};
use sim_core::pdu::{Expiry, Pdu};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::dea::Dea;
use sim_core::proto::lrm::Lrm;
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::pairing::TICKET_LIFETIME_NS;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

type Outcomes = Rc<RefCell<BTreeMap<(String, String), u64>>>;

/// Two plain + `sce` SCE agents, one RI, one LRM, a DEA; no background workload except the
/// pair activity (scripted only).
fn config(mode: CryptoMode, sce: u32) -> WorldConfig {
    let mut cfg = WorldConfig {
        crypto: mode,
        agents: sce,
        sce_agents: sce,
        ris: 1,
        lrms: 1,
        dea: true,
        ..Default::default()
    };
    cfg.workload.acquire_rate_per_min = 0.0;
    cfg.workload.consume_rate_per_min = 0.0;
    cfg.workload.pair_rate_per_min = 60.0;
    cfg.lrm_policy.stateful_probability = 1.0;
    cfg.lrm_policy.count = 4;
    cfg
}

fn start(cfg: &WorldConfig) -> (Built, Outcomes) {
    let outcomes: Outcomes = Rc::new(RefCell::new(BTreeMap::new()));
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
    for a in built.agents.clone() {
        built.sim.actor_mut::<Agent>(a).unwrap().pairing.pair_random = false;
    }
    (built, outcomes)
}

fn run_to(b: &mut Built, secs: u64) {
    b.sim.run(
        &RunLimits {
            horizon: Some(SimTime::from_secs(secs)),
            ..Default::default()
        },
        &mut |_, _| {},
    );
}

fn count(o: &Outcomes, p: &str, s: &str) -> u64 {
    o.borrow()
        .get(&(p.to_string(), s.to_string()))
        .copied()
        .unwrap_or(0)
}

fn agent(b: &Built, i: usize) -> &Agent {
    b.sim.actor::<Agent>(b.agents[i]).unwrap()
}

fn lrm(b: &Built) -> &Lrm {
    b.sim.actor::<Lrm>(b.lrms[0]).unwrap()
}

/// The LRM's signed Import Initiation of `ro_ids` to agent `i`, injected now.
fn inject_initiation(b: &mut Built, i: usize, ro_ids: &[&str], nonce: u8) {
    let world = b.world.clone();
    let l = lrm(b).identity().clone();
    let mut m = ImportInitiation {
        lrm_id: l.id.clone(),
        device_id: agent(b, i).identity().id.clone(),
        nonce: vec![nonce; 14],
        ro_ids: ro_ids.iter().map(|s| s.to_string()).collect(),
        certificate_chain: None,
        signature: Vec::new(),
    };
    m.signature = world
        .crypto
        .sign(
            &mut OpCounter::new(),
            &l.key,
            world.params.sig_alg,
            &Pdu::ImportInitiation(m.clone()),
        )
        .unwrap();
    let msg = SimMsg::Pdu(Wire::new(world.mode(), Pdu::ImportInitiation(m)));
    let (from, to) = (b.lrms[0], b.agents[i]);
    b.sim.inject(from, to, msg);
}

/// Both agents joined, agent 0 imported `song-1` and `song-2` (4 counts each).
fn imported(mode: CryptoMode, copy_probability: f64) -> (Built, Outcomes) {
    let mut cfg = config(mode, 2);
    cfg.lrm_policy.copy_probability = copy_probability;
    let (mut b, o) = start(&cfg);
    run_to(&mut b, 5);
    inject_initiation(&mut b, 0, &["song-1", "song-2"], 1);
    run_to(&mut b, 10);
    (b, o)
}

fn holders(b: &Built, ro: &str) -> (usize, usize) {
    let mut held = 0;
    let mut usable = 0;
    for i in 0..b.agents.len() {
        if let Some(r) = agent(b, i).ros.get(ro) {
            held += 1;
            if !r.unusable {
                usable += 1;
            }
        }
    }
    (held, usable)
}

#[test]
fn import_flow_installs_lrm_signed_rights() {
    let (b, o) = imported(CryptoMode::Symbolic, 0.0);
    assert_eq!(count(&o, "pairing_join", "success"), 2, "{o:?}");
    assert_eq!(count(&o, "import", "success"), 1, "{o:?}");
    let a0 = agent(&b, 0);
    assert!(a0.pairing.master_key.is_some());
    for ro in ["song-1", "song-2"] {
        let r = &a0.ros[ro];
        assert_eq!(r.issuer, "lrm/0");
        assert_eq!(r.available_count(), 4);
        assert!(a0.pairing.imported.contains_key(ro));
    }
    assert_eq!(lrm(&b).stats.ros_issued, 2);
    assert_eq!(lrm(&b).stats.pairing.auth_accepted, 1);
    let dea = b.sim.actor::<Dea>(b.dea.unwrap()).unwrap();
    // Two SCE agents + one provisioned LRM Master Key; one ticket (agent 0 → LRM).
    assert_eq!(dea.pairing.masters.len(), 3);
    assert_eq!(dea.pairing.tickets_issued, 1);
    assert!(agent(&b, 1).ros.is_empty());
}

#[test]
fn second_import_reuses_the_valid_ticket() {
    let (mut b, o) = imported(CryptoMode::Symbolic, 0.0);
    inject_initiation(&mut b, 0, &["song-3"], 2);
    run_to(&mut b, 15);
    assert_eq!(count(&o, "import", "success"), 2, "{o:?}");
    let dea = b.sim.actor::<Dea>(b.dea.unwrap()).unwrap();
    assert_eq!(dea.pairing.tickets_issued, 1, "ticket reused (§7.2.1.2)");
    assert_eq!(lrm(&b).stats.pairing.auth_accepted, 2);
    // A replayed Import Initiation (same nonce) starts nothing.
    inject_initiation(&mut b, 0, &["song-4"], 2);
    run_to(&mut b, 20);
    assert_eq!(count(&o, "import", "success"), 2);
    assert!(!agent(&b, 0).ros.contains_key("song-4"));
}

fn script(b: &mut Built, i: usize, dest: usize, ro: &str, copy: bool) {
    let a = b.agents[i];
    b.sim
        .actor_mut::<Agent>(a)
        .unwrap()
        .pairing
        .pair_script
        .push_back((dest, ro.to_string(), copy));
}

#[test]
fn dmp_pair_move_leaves_the_ro_on_exactly_one_agent() {
    let (mut b, o) = imported(CryptoMode::Symbolic, 0.0);
    script(&mut b, 0, 1, "song-1", false);
    run_to(&mut b, 30);
    assert_eq!(count(&o, "pairing", "success"), 1, "{o:?}");
    assert!(!agent(&b, 0).ros.contains_key("song-1"));
    assert!(!agent(&b, 0).pairing.imported.contains_key("song-1"));
    let r = &agent(&b, 1).ros["song-1"];
    assert!(!r.unusable);
    assert_eq!(
        r.available_count(),
        4,
        "rights conserved: 4 counts before and after"
    );
    assert_eq!(holders(&b, "song-1"), (1, 1));
    // The destination can move it on (back to agent 0): its own ticket, same DEA.
    script(&mut b, 1, 0, "song-1", false);
    run_to(&mut b, 40);
    assert_eq!(count(&o, "pairing", "success"), 2, "{o:?}");
    assert!(agent(&b, 0).ros.contains_key("song-1"));
    assert_eq!(holders(&b, "song-1"), (1, 1));
}

#[test]
fn copy_needs_the_permission() {
    // copy_probability 0: no export/dmpPairCopy permission → refused locally, nothing sent.
    let (mut b, o) = imported(CryptoMode::Symbolic, 0.0);
    script(&mut b, 0, 1, "song-2", true);
    run_to(&mut b, 20);
    assert_eq!(count(&o, "pairing_copy", "AccessDenied"), 1, "{o:?}");
    assert_eq!(holders(&b, "song-2"), (1, 1));
    // copy_probability 1: both hold a usable copy afterwards.
    let (mut b, o) = imported(CryptoMode::Symbolic, 1.0);
    script(&mut b, 0, 1, "song-2", true);
    run_to(&mut b, 20);
    assert_eq!(count(&o, "pairing_copy", "success"), 1, "{o:?}");
    assert_eq!(holders(&b, "song-2"), (2, 2));
}

#[test]
fn a_consumed_count_ro_is_not_moved() {
    let (mut b, o) = imported(CryptoMode::Symbolic, 0.0);
    let a0 = b.agents[0];
    b.sim
        .actor_mut::<Agent>(a0)
        .unwrap()
        .ros
        .get_mut("song-1")
        .unwrap()
        .consume(0)
        .unwrap();
    script(&mut b, 0, 1, "song-1", false);
    run_to(&mut b, 20);
    assert_eq!(count(&o, "pairing", "AccessDenied"), 1, "{o:?}");
    assert_eq!(agent(&b, 0).ros["song-1"].available_count(), 3);
    assert!(!agent(&b, 0).ros["song-1"].unusable);
}

/// Drops the first `n` transfer confirmations (destination → source
/// `dmp:authenticationResponse` after the SAC exists: every one after the first).
struct DropConfirmations {
    from: sim_core::engine::ActorId,
    seen: u32,
    drop_after_first: u32,
}

impl Tap<SimMsg> for DropConfirmations {
    fn on_send(
        &mut self,
        from: sim_core::engine::ActorId,
        _to: sim_core::engine::ActorId,
        msg: SimMsg,
        _ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        if from == self.from && msg.kind() == "dmp:authenticationResponse" {
            self.seen += 1;
            if self.seen > 1 && self.seen <= 1 + self.drop_after_first {
                return Verdict::Drop;
            }
        }
        Verdict::Pass(msg)
    }
}

#[test]
fn move_under_lost_confirmations_retries_without_duplicating() {
    let (mut b, o) = imported(CryptoMode::Symbolic, 0.0);
    let dest = b.agents[1];
    b.sim.set_tap(Box::new(DropConfirmations {
        from: dest,
        seen: 0,
        drop_after_first: 2,
    }));
    script(&mut b, 0, 1, "song-1", false);
    run_to(&mut b, 120);
    assert_eq!(count(&o, "pairing", "success"), 1, "{o:?}");
    assert_eq!(holders(&b, "song-1"), (1, 1));
    assert!(agent(&b, 1).ros.contains_key("song-1"));
    // Two confirmations lost → two retried transfers answered as duplicates.
    assert_eq!(agent(&b, 1).pairing.stats.duplicate_transfers, 2);
    assert_eq!(agent(&b, 1).pairing.stats.transfers_in, 1);
}

#[test]
fn move_abandoned_after_last_retry_is_parked_then_resumed() {
    let (mut b, o) = imported(CryptoMode::Symbolic, 0.0);
    let dest = b.agents[1];
    // Every confirmation lost: 1 + max_retries (3) transfers, then timeout.
    b.sim.set_tap(Box::new(DropConfirmations {
        from: dest,
        seen: 0,
        drop_after_first: 1_000,
    }));
    script(&mut b, 0, 1, "song-1", false);
    run_to(&mut b, 200);
    // The first attempt times out; the parked Move is resumed by later pair activities,
    // which time out too while the loss lasts.
    assert!(count(&o, "pairing", "timeout") >= 1, "{o:?}");
    assert_eq!(count(&o, "pairing", "success"), 0, "{o:?}");
    // Never usable on two agents: the source keeps it parked (unusable), the destination
    // installed it.
    assert_eq!(holders(&b, "song-1"), (2, 1));
    assert!(agent(&b, 0).ros["song-1"].unusable);
    assert_eq!(
        agent(&b, 0).pairing.parked.get("song-1").map(|p| p.0),
        Some(1)
    );
    // Network heals: the parked Move resumes on the next pair activity and completes.
    b.sim.set_tap(Box::new(DropConfirmations {
        from: dest,
        seen: 0,
        drop_after_first: 0,
    }));
    run_to(&mut b, 400);
    assert!(count(&o, "pairing", "success") >= 1, "{o:?}");
    assert_eq!(holders(&b, "song-1"), (1, 1));
    assert!(agent(&b, 0).pairing.parked.is_empty());
}

/// An Authentication Request to the LRM from agent 0 built from `ticket`/`pk`.
fn inject_auth(
    b: &mut Built,
    ticket: sim_core::pdu::pairing::PairingTicket,
    pk: &SymKey,
    nonce: u8,
) {
    inject_auth_as(b, ticket, pk, nonce, false)
}

/// [`inject_auth`], re-encoded as equivalent non-canonical XML when `reencode` (the same
/// request, nonce and MAC in other octets: not a repeat the LRM answers from its store).
fn inject_auth_as(
    b: &mut Built,
    ticket: sim_core::pdu::pairing::PairingTicket,
    pk: &SymKey,
    nonce: u8,
    reencode: bool,
) {
    let world = b.world.clone();
    let mut req = AuthenticationRequest {
        requester_id: agent(b, 0).identity().id.clone(),
        target_id: lrm(b).identity().id.clone(),
        nonce: vec![nonce; 14],
        ticket,
        mac: Vec::new(),
    };
    req.mac = world.crypto.mac(
        &mut OpCounter::new(),
        pk,
        world.params.mac_alg,
        &Pdu::AuthenticationRequest(req.clone()),
    );
    let pdu = Pdu::AuthenticationRequest(req);
    let msg = if reencode {
        let c = pdu.try_encode().expect("encodes");
        let bytes =
            sim_core::adversary::tamperer::reserialise::reserialise(&c).expect("re-encodes");
        SimMsg::Pdu(Wire::from_xml(pdu.kind(), bytes))
    } else {
        SimMsg::Pdu(Wire::new(world.mode(), pdu))
    };
    let (from, to) = (b.agents[0], b.lrms[0]);
    b.sim.inject(from, to, msg);
}

fn held_ticket(b: &Built) -> (sim_core::pdu::pairing::PairingTicket, SymKey) {
    let lrm_id = lrm(b).identity().id.clone();
    let t = &agent(b, 0).pairing.tickets[&lrm_id];
    (t.ticket.clone(), t.pairing_key)
}

fn rejected(b: &Built, status: &str) -> u64 {
    lrm(b)
        .stats
        .pairing
        .auth_rejected
        .get(status)
        .copied()
        .unwrap_or(0)
}

#[test]
fn forged_modified_expired_and_replayed_tickets_are_rejected() {
    ticket_rejections(CryptoMode::Symbolic);
}

#[test]
fn ticket_rejections_hold_in_real_crypto_mode() {
    ticket_rejections(CryptoMode::Real);
}

fn ticket_rejections(mode: CryptoMode) {
    let (mut b, _o) = imported(mode, 0.0);
    let world = b.world.clone();
    let (ticket, pk) = held_ticket(&b);
    let accepted = lrm(&b).stats.pairing.auth_accepted;

    // Forged: a ticket made under a wrong Master Key (attacker's PK wrapped and MAC'd under
    // a key that is not the LRM's).
    let wrong_mk = SymKey([7u8; 16]);
    let attacker_pk = SymKey([9u8; 16]);
    let mut ops = OpCounter::new();
    let mut forged = ticket.clone();
    forged.enc_pairing_key.cipher = world
        .crypto
        .wrap(&mut ops, &wrong_mk, attacker_pk.as_bytes())
        .unwrap();
    forged.mac = world
        .crypto
        .mac(&mut ops, &wrong_mk, world.params.mac_alg, &forged);
    inject_auth(&mut b, forged, &attacker_pk, 40);
    run_to(&mut b, 12);
    assert_eq!(rejected(&b, "InvalidPairingTicket"), 1);

    // Modified: the genuine ticket with a later notAfter (MAC no longer matches).
    let mut modified = ticket.clone();
    modified.not_after = Expiry::At(world.datetime(10 * TICKET_LIFETIME_NS));
    inject_auth(&mut b, modified, &pk, 41);
    run_to(&mut b, 14);
    assert_eq!(rejected(&b, "InvalidPairingTicket"), 2);

    // Replayed: the same valid request again, re-encoded (same nonce, other octets); the
    // first is accepted, the copy refused by the nonce check.
    inject_auth(&mut b, ticket.clone(), &pk, 42);
    run_to(&mut b, 16);
    inject_auth_as(&mut b, ticket.clone(), &pk, 42, true);
    run_to(&mut b, 18);
    assert_eq!(lrm(&b).stats.pairing.auth_accepted, accepted + 1);
    assert_eq!(rejected(&b, "AccessDenied"), 1);
    // A byte-identical copy is a repeat: answered from the store, accepted no second time.
    let repeats = lrm(&b).repeats.stats.answered;
    inject_auth(&mut b, ticket.clone(), &pk, 42);
    run_to(&mut b, 19);
    assert_eq!(lrm(&b).repeats.stats.answered, repeats + 1);
    assert_eq!(lrm(&b).stats.pairing.auth_accepted, accepted + 1);
    assert_eq!(rejected(&b, "AccessDenied"), 1);

    // Expired: the genuine ticket, fresh nonce, after its lifetime.
    run_to(&mut b, 10 + TICKET_LIFETIME_NS / 1_000_000_000 + 5);
    inject_auth(&mut b, ticket, &pk, 43);
    run_to(&mut b, 20 + TICKET_LIFETIME_NS / 1_000_000_000);
    assert_eq!(rejected(&b, "InvalidPairingTicket"), 3);
    assert_eq!(lrm(&b).stats.pairing.auth_accepted, accepted + 1);
}

#[test]
fn without_a_master_key_there_is_no_ticket() {
    let (mut b, o) = imported(CryptoMode::Symbolic, 0.0);
    // Agent side (§7.2.1.2): an agent that lost its Master Key cannot request a ticket.
    let a1 = b.agents[1];
    b.sim.actor_mut::<Agent>(a1).unwrap().pairing.master_key = None;
    inject_initiation(&mut b, 1, &["song-9"], 3);
    run_to(&mut b, 15);
    assert_eq!(count(&o, "import", "NoMasterKey"), 1, "{o:?}");
    // DEA side: a ticket request from a Device the DEA gave no Master Key.
    let mut cfg = config(CryptoMode::Symbolic, 1);
    cfg.agents = 2; // agent 0 is a plain agent: never joins
    let (mut b2, _) = start(&cfg);
    run_to(&mut b2, 5);
    let world = b2.world.clone();
    let mut req = PairingTicketRequest {
        requester_id: agent(&b2, 0).identity().id.clone(),
        target_id: lrm(&b2).identity().id.clone(),
        nonce: vec![5; 14],
        imported_rights: None,
        mac: Vec::new(),
    };
    req.mac = world.crypto.mac(
        &mut OpCounter::new(),
        &SymKey([3u8; 16]),
        world.params.mac_alg,
        &Pdu::PairingTicketRequest(req.clone()),
    );
    let msg = SimMsg::Pdu(Wire::new(world.mode(), Pdu::PairingTicketRequest(req)));
    let (from, to) = (b2.agents[0], b2.dea.unwrap());
    b2.sim.inject(from, to, msg);
    run_to(&mut b2, 10);
    let dea = b2.sim.actor::<Dea>(b2.dea.unwrap()).unwrap();
    assert_eq!(
        dea.stats
            .statuses
            .get(&("pairing_ticket".to_string(), "NoMasterKey".to_string())),
        Some(&1)
    );
    assert_eq!(dea.pairing.tickets_issued, 0);
    assert!(!agent(&b2, 0).pairing.sce);
    assert!(agent(&b2, 1).pairing.master_key.is_some());
}

fn scripted_outcomes(mode: CryptoMode) -> BTreeMap<(String, String), u64> {
    let (mut b, o) = imported(mode, 1.0);
    script(&mut b, 0, 1, "song-1", false);
    script(&mut b, 0, 1, "song-2", true);
    run_to(&mut b, 40);
    assert_eq!(holders(&b, "song-1"), (1, 1));
    assert_eq!(holders(&b, "song-2"), (2, 2));
    let r = o.borrow().clone();
    r
}

#[test]
fn real_and_symbolic_modes_give_the_same_pairing_outcomes() {
    let sym = scripted_outcomes(CryptoMode::Symbolic);
    let real = scripted_outcomes(CryptoMode::Real);
    assert_eq!(sym, real);
    assert_eq!(
        sym.get(&("pairing".to_string(), "success".to_string())),
        Some(&1)
    );
    assert_eq!(
        sym.get(&("pairing_copy".to_string(), "success".to_string())),
        Some(&1)
    );
}

#[test]
fn random_pairing_workload_conserves_every_moved_ro() {
    let mut cfg = config(CryptoMode::Symbolic, 4);
    cfg.workload.import_rate_per_min = 2.0;
    cfg.workload.pair_rate_per_min = 4.0;
    cfg.workload.pair_copy_probability = 0.0;
    cfg.lrm_policy.import_rate_per_min = 2.0;
    let (mut b, o) = start(&cfg);
    for a in b.agents.clone() {
        b.sim.actor_mut::<Agent>(a).unwrap().pairing.pair_random = true;
    }
    run_to(&mut b, 600);
    let moves = count(&o, "pairing", "success");
    assert!(moves > 5, "{o:?}");
    assert!(count(&o, "import", "success") > 5, "{o:?}");
    // Every Imported RO the LRM issued is usable on at most one agent (a Move in flight at
    // the horizon may hold it unusable at the source).
    let issued: Vec<String> = lrm(&b).issued.keys().cloned().collect();
    assert_eq!(issued.len() as u64, lrm(&b).stats.ros_issued);
    for ro in &issued {
        let (held, usable) = holders(&b, ro);
        assert!(
            usable <= 1 && (1..=2).contains(&held),
            "{ro}: {held}/{usable}"
        );
    }
}

#[test]
fn a_destination_refusal_restores_the_move_at_the_source() {
    // agent 1 already holds a Copy of song-2: the Move of song-2 to it is refused with a
    // MAC'd AccessDenied, so the source knows it was not installed and restores it.
    let (mut b, o) = imported(CryptoMode::Symbolic, 1.0);
    script(&mut b, 0, 1, "song-2", true);
    script(&mut b, 0, 1, "song-2", false);
    run_to(&mut b, 30);
    assert_eq!(count(&o, "pairing_copy", "success"), 1, "{o:?}");
    assert_eq!(count(&o, "pairing", "AccessDenied"), 1, "{o:?}");
    assert!(!agent(&b, 0).ros["song-2"].unusable);
    assert!(agent(&b, 0).pairing.parked.is_empty());
    assert_eq!(holders(&b, "song-2"), (2, 2));
}

#[test]
fn a_plain_agent_cannot_join_for_pairing_and_runs_are_deterministic() {
    // The DEA refuses a Join Domain for Pairing from a certificate without sceDrmAgent.
    let mut cfg = config(CryptoMode::Symbolic, 1);
    cfg.agents = 2;
    let (mut b, _) = start(&cfg);
    run_to(&mut b, 5);
    let world = b.world.clone();
    let plain = agent(&b, 0).identity().clone();
    let mut req = sim_core::pdu::pairing::PairingJoinDomainRequest {
        device_id: plain.id.clone(),
        dea_id: world.dea_id.clone().unwrap(),
        user_domain_id: "ud/0".into(),
        nonce: vec![1; 14],
        time: world.datetime(5_000_000_000),
        certificate_chain: Some(plain.chain_wire.clone()),
        signature: Vec::new(),
    };
    req.signature = world
        .crypto
        .sign(
            &mut OpCounter::new(),
            &plain.key,
            world.params.sig_alg,
            &Pdu::PairingJoinDomainRequest(req.clone()),
        )
        .unwrap();
    let msg = SimMsg::Pdu(Wire::new(world.mode(), Pdu::PairingJoinDomainRequest(req)));
    let (from, to) = (b.agents[0], b.dea.unwrap());
    b.sim.inject(from, to, msg);
    run_to(&mut b, 10);
    let dea = b.sim.actor::<Dea>(b.dea.unwrap()).unwrap();
    let st = |s: &str| {
        dea.stats
            .statuses
            .get(&("pairing_join".to_string(), s.to_string()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(st("AccessDenied"), 1);
    assert_eq!(st("Success"), 1, "the SCE agent joined");
    assert_eq!(dea.pairing.masters.len(), 2, "SCE agent + LRM");

    // Same seed, same trace digest, with imports and moves running.
    let digest = |seed: u64| {
        let mut cfg = config(CryptoMode::Symbolic, 3);
        cfg.seed = seed;
        cfg.workload.import_rate_per_min = 2.0;
        cfg.workload.pair_copy_probability = 0.3;
        cfg.lrm_policy.copy_probability = 0.5;
        let (mut b, _) = start(&cfg);
        for a in b.agents.clone() {
            b.sim.actor_mut::<Agent>(a).unwrap().pairing.pair_random = true;
        }
        run_to(&mut b, 120);
        b.sim.trace().digest_hex()
    };
    assert_eq!(digest(4), digest(4));
    assert_ne!(digest(4), digest(5));
}
