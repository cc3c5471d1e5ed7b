//! The Tamperer on responses and non-canonical re-serialisation (seed 002), and the Replayer
//! redirecting requests, responses and triggers to another recipient.

use super::adversary::{run, setup_cfg};
use crate::support::{build_ideal, layout_and_roster};
use rand::SeedableRng;
use sim_core::adversary::replayer::ReplayTo;
use sim_core::adversary::tamperer::reserialise::reserialise;
use sim_core::adversary::tamperer::{tamper, Field};
use sim_core::adversary::{AdversaryKind, AdversarySpec, Installed, Position};
use sim_core::crypto::CryptoMode;
use sim_core::engine::ActorId;
use sim_core::net::GroupId;
use sim_core::pdu::sample::random_pdu;
use sim_core::pdu::{domain_key_mac_input, MacInterpretation, Pdu, ALL_KINDS};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::domain::mac::raw_substring_mac_input;
use sim_core::proto::msg::SimMsg;
use sim_core::proto::ri::Ri;
use sim_core::proto::trigger::{trigger_wire, TriggerOrder};
use sim_core::proto::workload::AgentWorkload;
use sim_core::xml::{c14n_command, C14nVariant};

const S: u64 = 1_000_000_000;

fn on_path(kind: AdversaryKind, name: &str, messages: &[&str], budget: u64) -> AdversarySpec {
    let mut s = AdversarySpec::new(
        kind,
        name,
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    s.messages = messages.iter().map(|m| m.to_string()).collect();
    s.budget = budget;
    s
}

fn stats(ins: &Installed, name: &str) -> (u64, u64, u64) {
    let st = ins.shared.borrow().stats[name];
    (st.attempts, st.succeeded, st.blocked)
}

fn agent(b: &Built, i: usize) -> &Agent {
    b.sim.actor::<Agent>(b.agents[i]).unwrap()
}

/// Agents that register and join their home RI's domain, nothing else.
fn joining(agents: u32, crypto: CryptoMode, substring: bool) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents,
        ris: 1,
        crypto,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            join_domain_probability: 1.0,
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    if substring {
        // The pre-CR reading throughout: interpretation 1, unqualified <domainKey>.
        cfg.variants.domain_key_mac = MacInterpretation::Substring;
        cfg.variants.domain_key_qualified = false;
    }
    cfg
}

/// Agents that register and acquire ROs (no consumption: installed ROs stay as issued).
fn acquiring(agents: u32, ris: u32, tracking: bool) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents,
        ris,
        workload: AgentWorkload {
            acquire_rate_per_min: 6.0,
            consume_rate_per_min: 0.0,
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    cfg.variants.ri_nonce_tracking = tracking;
    cfg
}

// ------------------------------------------------------------------ re-serialisation

#[test]
fn every_pdu_reserialised_decodes_to_itself_and_canonicalises_back() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    for kind in 0..ALL_KINDS.len() {
        for _ in 0..4 {
            let pdu = random_pdu(kind, &mut rng);
            let canonical = pdu.encode();
            let other = reserialise(&canonical).expect("canonical input parses");
            assert_ne!(other, canonical, "{}", pdu.kind());
            assert_eq!(Pdu::decode(&other).as_ref(), Ok(&pdu), "{}", pdu.kind());
            let c14n = c14n_command(&other, None, &[], C14nVariant::XPathNodeSet).unwrap();
            assert_eq!(c14n, canonical, "{}", pdu.kind());
        }
    }
}

#[test]
fn reserialised_domain_keys_keep_the_xc14n_input_and_change_the_substring() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let kind = ALL_KINDS
        .iter()
        .position(|k| *k == "roap:joinDomainResponse")
        .unwrap();
    let mut checked = [0usize; 2];
    while checked.iter().any(|&n| n < 3) {
        let Pdu::JoinDomainResponse(r) = random_pdu(kind, &mut rng) else {
            unreachable!()
        };
        let Some(body) = &r.body else { continue };
        let keys = &body.domain_info.domain_keys;
        let pdu = Pdu::JoinDomainResponse(r.clone());
        let canonical = pdu.encode();
        let other = reserialise(&canonical).unwrap();
        for (i, k) in keys.iter().enumerate() {
            let node = |b: &[u8]| domain_key_mac_input(b, i, MacInterpretation::NodeSet).unwrap();
            let raw = |b: &[u8]| raw_substring_mac_input(b, "domainKey", i).unwrap();
            // Interpretation 2 is blind to the serialisation.
            assert_eq!(node(&other), node(&canonical));
            // On canonical octets the literal substring is what the RI MACs (option 1).
            assert_eq!(
                raw(&canonical),
                domain_key_mac_input(&canonical, i, MacInterpretation::Substring).unwrap()
            );
            // On the re-serialised octets it is not.
            assert_ne!(raw(&other), raw(&canonical));
            // Interpretation 1 never declares the roap namespace inside the key; 2 does
            // (on <roap:domainKey> or on <roap:X509SPKIHash>, seed 002 §1).
            assert!(!String::from_utf8(raw(&canonical))
                .unwrap()
                .contains("<domainKey xmlns"));
            checked[usize::from(k.qualified)] += 1;
        }
    }
}

// ------------------------------------------------------------------ tampered responses

fn tampered_joins(crypto: CryptoMode) {
    let agents = 3;
    let t = on_path(
        AdversaryKind::Tamperer,
        "t",
        &["roap:joinDomainResponse"],
        3,
    );
    let (mut b, ins, _) = setup_cfg(&joining(agents, crypto, false), &[t]);
    run(&mut b, &ins, 60);
    // Every first JoinDomainResponse is modified (3 = budget = agents) and refused: the RI
    // signature covers every field, the Domain Key MAC included.
    assert_eq!(stats(&ins, "t"), (3, 0, 3));
    for i in 0..agents as usize {
        let a = agent(&b, i);
        // The retry (fresh nonce, after the 10 s timeout) joined.
        let c = &a.domain.contexts["ri0-dom0-"];
        assert!(
            c.joined_at.as_ns() >= 10 * S,
            "agent {i} joined at {:?}",
            c.joined_at
        );
        assert_eq!(a.domain.stats.mac_failures, 0, "signature checked first");
        assert!(a.stats.discarded >= 1);
    }
}

#[test]
fn tampered_join_responses_are_refused_symbolic() {
    tampered_joins(CryptoMode::Symbolic);
}

#[test]
fn tampered_join_responses_are_refused_real() {
    tampered_joins(CryptoMode::Real);
}

#[test]
fn tampered_ro_responses_are_refused() {
    let t = on_path(AdversaryKind::Tamperer, "t", &["roap:roResponse"], 8);
    let (mut b, ins, _) = setup_cfg(&acquiring(3, 1, true), &[t]);
    run(&mut b, &ins, 120);
    assert_eq!(stats(&ins, "t"), (8, 0, 8));
    // No Device holds an RO under a modified ID.
    for i in 0..3 {
        assert!(agent(&b, i).ros.keys().all(|k| !k.ends_with("-x")));
    }
    assert_eq!(ins.shared.borrow().monitors.total(), 0);
}

#[test]
fn tamper_changes_each_response_field() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let kind = |k: &str| ALL_KINDS.iter().position(|x| *x == k).unwrap();
    let mut ro_fields = std::collections::BTreeSet::new();
    let mut join_fields = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let ro = random_pdu(kind("roap:roResponse"), &mut rng);
        let join = random_pdu(kind("roap:joinDomainResponse"), &mut rng);
        for f in [
            Field::Signature,
            Field::Nonce,
            Field::DeviceId,
            Field::RiId,
            Field::RoIds,
            Field::Count,
            Field::RoMac,
            Field::DomainKeyMac,
            Field::Time,
        ] {
            if let Some(t) = tamper(&ro, f) {
                assert_ne!(t, ro, "{f:?}");
                ro_fields.insert(format!("{f:?}"));
            }
            if let Some(t) = tamper(&join, f) {
                assert_ne!(t, join, "{f:?}");
                join_fields.insert(format!("{f:?}"));
            }
        }
    }
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        ro_fields,
        names(&[
            "Count",
            "DeviceId",
            "Nonce",
            "RiId",
            "RoIds",
            "RoMac",
            "Signature"
        ])
    );
    assert_eq!(
        join_fields,
        names(&["DeviceId", "DomainKeyMac", "Nonce", "RiId", "Signature"])
    );
}

fn reserialised_joins(crypto: CryptoMode, substring: bool) -> (Built, Installed) {
    let mut t = on_path(
        AdversaryKind::Tamperer,
        "t",
        &["roap:joinDomainResponse"],
        3,
    );
    t.reserialise = true;
    let (mut b, ins, _) = setup_cfg(&joining(3, crypto, substring), &[t]);
    run(&mut b, &ins, 60);
    (b, ins)
}

fn reserialised_joins_both_variants(crypto: CryptoMode) {
    // Interpretation 2 (the CR): the Device canonicalises, the equivalent message verifies,
    // the "attack" on interoperability is blocked and every Device joins at once.
    let (b, ins) = reserialised_joins(crypto, false);
    assert_eq!(stats(&ins, "t"), (3, 0, 3));
    for i in 0..3 {
        let a = agent(&b, i);
        assert!(a.domain.contexts["ri0-dom0-"].joined_at.as_ns() < 10 * S);
        assert_eq!(a.domain.stats.mac_failures, 0);
    }
    // Interpretation 1 (pre-CR): the Device MACs the octets as received; every
    // re-serialised response fails key confirmation and the Device gives up.
    let (b, ins) = reserialised_joins(crypto, true);
    assert_eq!(stats(&ins, "t"), (3, 3, 0));
    for i in 0..3 {
        let a = agent(&b, i);
        assert!(a.domain.contexts.is_empty());
        assert_eq!(a.domain.stats.mac_failures, 1);
    }
}

#[test]
fn reserialised_join_responses_verify_only_with_xc14n_symbolic() {
    reserialised_joins_both_variants(CryptoMode::Symbolic);
}

#[test]
fn reserialised_join_responses_verify_only_with_xc14n_real() {
    reserialised_joins_both_variants(CryptoMode::Real);
}

#[test]
fn reserialised_ro_requests_are_accepted() {
    // Signatures are verified over the canonical form in both variants: an equivalent
    // request is accepted (blocked as an interoperability attack).
    for tracking in [true, false] {
        let mut t = on_path(AdversaryKind::Tamperer, "t", &["roap:roRequest"], 4);
        t.reserialise = true;
        let (mut b, ins, _) = setup_cfg(&acquiring(2, 1, tracking), &[t]);
        run(&mut b, &ins, 120);
        assert_eq!(stats(&ins, "t"), (4, 0, 4), "tracking={tracking}");
    }
}

// ------------------------------------------------------------------ redirected replays

#[test]
fn ro_requests_replayed_to_another_ri_are_refused() {
    // Two RIs; every Device is registered with its home RI only. A request names its RI
    // (<riID>), so the other RI refuses it, with or without nonce tracking.
    for tracking in [true, false] {
        let mut r = on_path(AdversaryKind::Replayer, "r", &["roap:roRequest"], 6);
        r.replay_to = ReplayTo::Other;
        r.replay_delay_ns = S;
        let (mut b, ins, _) = setup_cfg(&acquiring(4, 2, tracking), &[r]);
        run(&mut b, &ins, 120);
        assert_eq!(stats(&ins, "r"), (6, 0, 6), "tracking={tracking}");
        // The refusals came from the RI each replay was redirected to.
        let refused: u64 = b
            .ris
            .iter()
            .map(|&id| {
                let ri = b.sim.actor::<Ri>(id).unwrap();
                ri.stats
                    .statuses
                    .iter()
                    .filter(|((p, s), _)| p == "ro_acquisition" && s != "Success")
                    .map(|(_, n)| n)
                    .sum::<u64>()
            })
            .sum();
        assert_eq!(refused, 6);
    }
}

#[test]
fn ro_responses_replayed_to_another_device_are_refused() {
    let mut r = on_path(AdversaryKind::Replayer, "r", &["roap:roResponse"], 6);
    r.replay_to = ReplayTo::Actors(vec!["agent/*".into()]);
    let (mut b, ins, _) = setup_cfg(&acquiring(2, 1, true), &[r]);
    run(&mut b, &ins, 120);
    // With two agents each response is replayed to the other one (6 = budget).
    assert_eq!(stats(&ins, "r"), (6, 0, 6));
    // Each Device holds only ROs issued to it: RO IDs are disjoint.
    let a0: Vec<_> = agent(&b, 0).ros.keys().cloned().collect();
    assert!(a0.iter().all(|k| !agent(&b, 1).ros.contains_key(k)));
}

#[test]
fn same_recipient_replay_is_unchanged() {
    // `same` (the default) keeps the seed 003 behaviour: two Success answers needed.
    let mut r = on_path(AdversaryKind::Replayer, "r", &["roap:roRequest"], 4);
    r.replay_delay_ns = 5 * S;
    assert_eq!(r.replay_to, ReplayTo::Same);
    let (mut b, ins, _) = setup_cfg(&acquiring(3, 1, false), &[r]);
    run(&mut b, &ins, 120);
    assert_eq!(stats(&ins, "r"), (4, 4, 0));
}

#[test]
fn triggers_replayed_to_another_device_are_run_by_it_only_as_written() {
    // As written a ROAP trigger does not name its Device (§5.2.1): another Device registered
    // with the RI verifies the RI signature and runs the protocol (the finding,
    // `trigger_names_device = false`). drmsim's default reading puts `<deviceID>` in the
    // signed trigger and the other Device refuses it.
    for names_device in [false, true] {
        let mut cfg = acquiring(2, 1, true);
        cfg.workload.acquire_rate_per_min = 0.0;
        cfg.variants.trigger_names_device = names_device;
        let mut r = on_path(AdversaryKind::Replayer, "r", &["roap:roapTrigger"], 1);
        r.replay_to = ReplayTo::Other;
        let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
        b.sim.run(
            &sim_core::engine::RunLimits {
                horizon: Some(sim_core::engine::SimTime::from_secs(10)),
                ..Default::default()
            },
            &mut |_, _| {},
        );
        let device = agent(&b, 0).identity().id.clone();
        let mut o = TriggerOrder::new(sim_core::pdu::trigger::TriggerKind::RoAcquisition);
        o.content_ids = vec!["cid:a".into()];
        let mut rng = sim_core::engine::rng::stream(9, "test", "trigger");
        let ri_id: ActorId = b.ris[0];
        let now = b.sim.now();
        let t = b
            .sim
            .actor_mut::<Ri>(ri_id)
            .unwrap()
            .issue_trigger(&mut rng, now, &device, o)
            .unwrap();
        let wire = trigger_wire(b.sim.actor::<Ri>(ri_id).unwrap(), t);
        b.sim.inject(ri_id, b.agents[0], SimMsg::Pdu(wire));
        run(&mut b, &ins, 30);
        assert_eq!(agent(&b, 0).ros.len(), 1, "names_device={names_device}");
        if names_device {
            assert_eq!(stats(&ins, "r"), (1, 0, 1));
            assert_eq!(agent(&b, 1).ros.len(), 0);
            assert_eq!(agent(&b, 1).domain.stats.triggers_discarded, 1);
        } else {
            // Both Devices acquired an RO for cid:a.
            assert_eq!(stats(&ins, "r"), (1, 1, 0));
            assert_eq!(agent(&b, 1).ros.len(), 1);
        }
    }
}

#[test]
fn requests_replayed_to_another_ri_the_device_is_registered_with_are_refused() {
    // agent/0 (home ri/0) also registers with ri/1 (a trigger from ri/1 at 5 s makes it).
    // Its RO and Join Domain Requests to ri/0 are then replayed to ri/1: the Device Context
    // exists, the signature verifies and the nonce is new at ri/1 — only the request's
    // <riID> (naming ri/0) tells ri/1 the request is not for it (§5.4.2.3.1, §5.4.4.1).
    for tracking in [true, false] {
        let mut cfg = acquiring(1, 2, tracking);
        cfg.workload.acquire_rate_per_min = 12.0;
        let mut r = on_path(
            AdversaryKind::Replayer,
            "r",
            &["roap:roRequest", "roap:joinDomainRequest"],
            4,
        );
        r.actors = vec!["ri/0".into()];
        r.replay_to = ReplayTo::Actors(vec!["ri/1".into()]);
        r.replay_delay_ns = S;
        r.from_ns = 20 * S;
        let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
        b.sim.run(
            &sim_core::engine::RunLimits {
                horizon: Some(sim_core::engine::SimTime::from_secs(5)),
                ..Default::default()
            },
            &mut |_, _| {},
        );
        let device = agent(&b, 0).identity().id.clone();
        let mut o = TriggerOrder::new(sim_core::pdu::trigger::TriggerKind::RoAcquisition);
        o.content_ids = vec!["cid:b".into()];
        let mut rng = sim_core::engine::rng::stream(9, "test", "trigger");
        let ri1 = b.ris[1];
        let now = b.sim.now();
        let t = b
            .sim
            .actor_mut::<Ri>(ri1)
            .unwrap()
            .issue_trigger(&mut rng, now, &device, o)
            .unwrap();
        let wire = trigger_wire(b.sim.actor::<Ri>(ri1).unwrap(), t);
        b.sim.inject(ri1, b.agents[0], SimMsg::Pdu(wire));
        run(&mut b, &ins, 120);
        assert!(
            agent(&b, 0).ri_contexts.contains_key(&1),
            "registered with ri/1"
        );
        assert_eq!(stats(&ins, "r"), (4, 0, 4), "tracking={tracking}");
        let ri = b.sim.actor::<Ri>(ri1).unwrap();
        assert_eq!(
            ri.stats.statuses[&("ro_acquisition".to_string(), "AccessDenied".to_string())],
            4
        );
    }
}

#[test]
fn authentication_requests_replayed_to_another_target_are_refused() {
    // Imports: the 3 agents, all SCE agents, send Authentication Requests with a Pairing
    // Ticket to the LRM. Each is replayed to the other agents, which are not the ticket's target:
    // the ticket does not verify under their Master Key (seed 001 §7.2.1.2) and they answer
    // a refusal.
    let mut cfg = WorldConfig {
        agents: 3,
        sce_agents: 3,
        ris: 1,
        lrms: 1,
        dea: true,
        ..WorldConfig::default()
    };
    cfg.workload.acquire_rate_per_min = 0.0;
    cfg.workload.consume_rate_per_min = 0.0;
    cfg.workload.import_rate_per_min = 2.0;
    cfg.workload.pair_rate_per_min = 0.0;
    cfg.lrm_policy.import_rate_per_min = 2.0;
    let mut r = on_path(
        AdversaryKind::Replayer,
        "r",
        &["dmp:authenticationRequest"],
        6,
    );
    r.replay_to = ReplayTo::Actors(vec!["agent/*".into()]);
    r.replay_delay_ns = S;
    let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
    run(&mut b, &ins, 180);
    assert_eq!(stats(&ins, "r"), (6, 0, 6));
    let refused: u64 = b
        .agents
        .iter()
        .map(|&a| {
            b.sim
                .actor::<Agent>(a)
                .unwrap()
                .pairing
                .stats
                .auth_rejected
                .values()
                .sum::<u64>()
        })
        .sum();
    assert_eq!(refused, 6);
}

#[test]
fn raw_substring_reading_on_hostile_and_edge_inputs() {
    let raw = |b: &str, i| raw_substring_mac_input(b.as_bytes(), "domainKey", i);
    // The second key, its <mac> cut out, prefixes as written.
    let doc = "<r:x xmlns:r='u'><domainKey>a<mac>m</mac>b</domainKey>\
               <r:domainKey><k/><mac>n</mac><j>c</j></r:domainKey></r:x>";
    assert_eq!(raw(doc, 0).unwrap(), b"<domainKey>ab</domainKey>");
    assert_eq!(
        raw(doc, 1).unwrap(),
        b"<r:domainKey><k/><j>c</j></r:domainKey>"
    );
    // An empty <mac/> is cut too; a key without <mac> is taken whole.
    assert_eq!(
        raw("<x><domainKey>a<mac/>b</domainKey></x>", 0).unwrap(),
        b"<domainKey>ab</domainKey>"
    );
    assert_eq!(
        raw("<x><domainKey>ab</domainKey></x>", 0).unwrap(),
        b"<domainKey>ab</domainKey>"
    );
    // Missing, truncated or malformed: typed errors, no panic.
    for bad in [
        "<x></x>",
        "<x><domainKey>a<mac>m",
        "<x><domainKey>a</mac></domainKey></x>",
        "",
        "\u{0}<<",
    ] {
        assert!(raw(bad, 0).is_err(), "{bad:?}");
    }
    assert!(raw(doc, 2).is_err());
}

/// Like `setup_cfg`, with the DEA and the LRMs named too (`dea/0`, `lrm/N`) so replays can
/// be directed at them.
fn setup_named(cfg: &WorldConfig, specs: &[AdversarySpec]) -> (Built, Installed) {
    use sim_core::adversary::install;

    use sim_core::invariant::MonitorSet;

    use sim_core::trace::{TraceConfig, TraceRecorder, VecSink};
    let trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
    let mut b = build_ideal(cfg, trace);
    let (layout, roster) = layout_and_roster(&b);
    let world = b.world.clone();
    let ins = install(
        &mut b.sim,
        &world,
        layout,
        roster,
        specs,
        MonitorSet::standard(),
    )
    .expect("installs");
    (b, ins)
}

#[test]
fn ro_requests_replayed_to_the_dea_go_unanswered_and_count_as_refused() {
    // The DEA handles only its own protocols: it counts an RO Request as UnknownRequest and
    // does not answer. No Success by the end of the run = not accepted (blocked); the
    // replays of the last 10 s stay inconclusive.
    let mut cfg = acquiring(2, 1, true);
    cfg.dea = true;
    let mut r = on_path(AdversaryKind::Replayer, "r", &["roap:roRequest"], 5);
    r.replay_to = ReplayTo::Actors(vec!["dea/0".into()]);
    r.replay_delay_ns = S;
    r.to_ns = 60 * S;
    let (mut b, ins) = setup_named(&cfg, &[r]);
    run(&mut b, &ins, 120);
    assert_eq!(stats(&ins, "r"), (5, 0, 5));
    let dea = b.dea.unwrap();
    let d = b.sim.actor::<sim_core::proto::dea::Dea>(dea).unwrap();
    assert_eq!(
        d.stats.statuses[&("roap:roRequest".to_string(), "UnknownRequest".to_string())],
        5
    );
}

#[test]
fn join_domain_requests_replayed_to_the_same_ri_per_variant() {
    // Seed 003 nonce tracking covers Join Domain too: with it the replay is AccessDenied,
    // without it the RI answers the same request Success a second time.
    for (tracking, expect) in [(true, (3, 0, 3)), (false, (3, 3, 0))] {
        let mut cfg = joining(3, CryptoMode::Symbolic, false);
        cfg.variants.ri_nonce_tracking = tracking;
        let mut r = on_path(AdversaryKind::Replayer, "r", &["roap:joinDomainRequest"], 3);
        r.replay_delay_ns = 5 * S;
        let (mut b, ins, _) = setup_cfg(&cfg, &[r]);
        run(&mut b, &ins, 60);
        assert_eq!(stats(&ins, "r"), expect, "tracking={tracking}");
    }
}
