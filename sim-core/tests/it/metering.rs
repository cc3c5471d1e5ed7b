//! The 2-pass Metering Report protocol (seed 004): reports flow and are counted exactly once,
//! every RI status of §11.2/§11.4.2 is reached with a crafted input, the Device processes
//! responses in §11.3's order (deletion only after a verified Success), lost responses are
//! retried without double counting, and the pre-CR unsigned variant is shown to be spoofable.
//!
//! Timing used throughout: registration completes at ≈ 0.1 s, metering ticks then follow
//! every 60 s (≈ 60.1 s, 120.1 s, …); one exchange takes ≈ 40 ms on the 20 ms network; the
//! request timeout is 10 s with back-off 0.5 s, 1 s, 2 s and 3 retries.

use crate::support::build_ideal;
use rand::SeedableRng;
use sim_core::crypto::{CryptoMode, GeneratingKeySource, KeySpec, OpCounter, SymKey};
use sim_core::engine::{ActorId, Message, RunLimits, SimTime, Tap, TapCtx, Verdict};
use sim_core::pdu::metering::{
    MeteringReportResponse, MeteringReportResponseBody, MeteringReportSubmit,
};
use sim_core::pdu::{CertificateChain, Pdu, Status};
use sim_core::pki::{CertRequest, CertificateAuthority, KeyPurpose};
use sim_core::proto::acquisition::RoPolicy;
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::metering::{self, PostResponsePolicy, SealedReport, PROTOCOL};
use sim_core::proto::msg::{SimMsg, Wire};
use sim_core::proto::pki_wire::CertDirectory;
use sim_core::proto::ri::{DeviceContext, Ri};
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

const S: u64 = 1_000_000_000;

type Outcomes = Rc<RefCell<Vec<(String, String, u32)>>>;

struct Run {
    built: Built,
    /// (protocol, status, attempts) of every outcome record, in order.
    outcomes: Outcomes,
}

fn cfg(agents: u32) -> WorldConfig {
    WorldConfig {
        agents,
        ris: 1,
        workload: AgentWorkload {
            metering_interval_ns: Some(60 * S),
            acquire_rate_per_min: 2.0,
            consume_rate_per_min: 12.0,
            ..Default::default()
        },
        // Unlimited ROs: every use succeeds once an RO is installed.
        ro_policy: RoPolicy {
            stateful_probability: 0.0,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn start(cfg: &WorldConfig) -> Run {
    let outcomes: Outcomes = Rc::default();
    let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
    let o2 = outcomes.clone();
    trace.observe(Box::new(move |rec| {
        if let TraceEvent::Outcome {
            protocol,
            status,
            attempts,
            ..
        } = &rec.ev
        {
            o2.borrow_mut()
                .push((protocol.clone(), status.clone(), *attempts));
        }
    }));
    let built = build_ideal(cfg, trace);
    Run { built, outcomes }
}

impl Run {
    fn until_ms(&mut self, ms: u64) {
        self.built.sim.run(
            &RunLimits {
                horizon: Some(SimTime::from_ns(ms * 1_000_000)),
                ..Default::default()
            },
            &mut |_, _| {},
        );
    }
    fn agent(&self, i: usize) -> &Agent {
        self.built.sim.actor::<Agent>(self.built.agents[i]).unwrap()
    }
    fn ri(&self) -> &Ri {
        self.built.sim.actor::<Ri>(self.built.ris[0]).unwrap()
    }
    fn ri_mut(&mut self) -> &mut Ri {
        let id = self.built.ris[0];
        self.built.sim.actor_mut::<Ri>(id).unwrap()
    }
    /// Metering outcomes as (status, attempts), in order.
    fn metering(&self) -> Vec<(String, u32)> {
        self.outcomes
            .borrow()
            .iter()
            .filter(|(p, _, _)| p == PROTOCOL)
            .map(|(_, s, a)| (s.clone(), *a))
            .collect()
    }
    fn ri_status(&self, status: &str) -> u64 {
        self.ri()
            .stats
            .statuses
            .get(&(PROTOCOL.to_string(), status.to_string()))
            .copied()
            .unwrap_or(0)
    }
    /// Uses of agent `i` the RI has accepted.
    fn ri_total(&self, i: usize) -> u64 {
        let dev = hex::encode(&self.agent(i).identity().id.hash);
        self.ri()
            .stats
            .metered_uses
            .iter()
            .filter(|((d, _), _)| *d == dev)
            .map(|(_, n)| n)
            .sum()
    }
    /// Nothing lost, nothing double-counted: every metered use is either accepted by the RI
    /// exactly once or still pending on the Device.
    fn assert_conserved(&self, i: usize) {
        let a = self.agent(i);
        assert_eq!(
            self.ri_total(i) + a.metering.pending_uses(),
            a.stats.uses,
            "agent {i}: RI total + pending must equal uses"
        );
    }
}

// ---------------------------------------------------------------- taps

/// Drops the first `n` messages of `kind`.
struct DropFirst {
    kind: &'static str,
    left: u32,
}

impl Tap<SimMsg> for DropFirst {
    fn on_send(
        &mut self,
        _from: ActorId,
        _to: ActorId,
        msg: SimMsg,
        _ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        if msg.kind() == self.kind && self.left > 0 {
            self.left -= 1;
            return Verdict::Drop;
        }
        Verdict::Pass(msg)
    }
}

/// Rewrites every MeteringReportSubmit with `f` (an on-path tamperer without keys).
struct TamperSubmit {
    mode: CryptoMode,
    f: fn(&mut MeteringReportSubmit),
}

impl Tap<SimMsg> for TamperSubmit {
    fn on_send(
        &mut self,
        _from: ActorId,
        _to: ActorId,
        msg: SimMsg,
        _ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        if let SimMsg::Pdu(w) = &msg {
            if let Ok(Pdu::MeteringReportSubmit(mut s)) = w.open() {
                (self.f)(&mut s);
                return Verdict::Pass(SimMsg::Pdu(Wire::new(
                    self.mode,
                    Pdu::MeteringReportSubmit(s),
                )));
            }
        }
        Verdict::Pass(msg)
    }
}

/// Drops every MeteringReportSubmit, remembering the latest nonce (an on-path observer).
struct SwallowSubmits {
    nonce: Rc<RefCell<Option<Vec<u8>>>>,
}

impl Tap<SimMsg> for SwallowSubmits {
    fn on_send(
        &mut self,
        _from: ActorId,
        _to: ActorId,
        msg: SimMsg,
        _ctx: &mut TapCtx<'_, SimMsg>,
    ) -> Verdict<SimMsg> {
        if let SimMsg::Pdu(w) = &msg {
            if let Ok(Pdu::MeteringReportSubmit(s)) = w.open() {
                *self.nonce.borrow_mut() = Some(s.nonce);
                return Verdict::Drop;
            }
        }
        Verdict::Pass(msg)
    }
}

// ---------------------------------------------------------------- crafting

/// A valid signed submit from agent `i` reporting 5 uses of `ri/0-ro1`, after `tamper`.
fn crafted(
    run: &mut Run,
    i: usize,
    chain: Option<CertificateChain>,
    tamper: impl FnOnce(&mut MeteringReportSubmit, &SealedReport),
) -> MeteringReportSubmit {
    let world = run.built.world.clone();
    let device = run.agent(i).identity().clone();
    let ri_key = run.ri().identity().chain[0].public_key().clone();
    let now = run.built.sim.now().as_ns();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(now ^ i as u64);
    let nonce = world.nonce(&mut rng);
    metering::craft_submit(
        &world,
        &mut rng,
        &device,
        &world.ris[0].id,
        &ri_key,
        nonce,
        now,
        &vec![("ri/0-ro1".to_string(), 5)],
        chain,
        tamper,
    )
    .expect("crafts")
}

/// Delivers `submit` to the RI as if agent `i` sent it; returns the status the RI answered.
fn deliver(run: &mut Run, i: usize, submit: MeteringReportSubmit) -> String {
    let before = run.ri().stats.statuses.clone();
    let mode = run.built.world.mode();
    let (from, to) = (run.built.agents[i], run.built.ris[0]);
    run.built.sim.inject(
        from,
        to,
        SimMsg::Pdu(Wire::new(mode, Pdu::MeteringReportSubmit(submit))),
    );
    let t = run.built.sim.now().as_ns() / 1_000_000;
    run.until_ms(t + 500);
    let after = &run.ri().stats.statuses;
    let changed: Vec<_> = after
        .iter()
        .filter(|(k, v)| k.0 == PROTOCOL && before.get(*k) != Some(*v))
        .map(|(k, _)| k.1.clone())
        .collect();
    assert_eq!(changed.len(), 1, "exactly one response: {changed:?}");
    changed[0].clone()
}

fn resign(run: &Run, i: usize, s: &mut MeteringReportSubmit) {
    let world = run.built.world.clone();
    let key = run.agent(i).identity().key.clone();
    metering::sign_submit(&world, &mut OpCounter::new(), &key, s).unwrap();
}

// ---------------------------------------------------------------- flow

#[test]
fn reports_flow_and_every_use_is_counted_exactly_once() {
    let mut run = start(&cfg(5));
    run.until_ms(400_000);
    let m = run.metering();
    // 6 ticks (60..360 s) × 5 agents; an agent without uses yet skips a tick.
    assert!(m.len() >= 20 && m.len() <= 30, "{m:?}");
    assert!(m.iter().all(|(s, a)| s == "success" && *a == 1), "{m:?}");
    assert_eq!(run.ri().stats.metering_duplicates, 0);
    let mut reported = 0;
    for i in 0..5 {
        run.assert_conserved(i);
        reported += run.ri_total(i);
        let a = run.agent(i);
        assert_eq!(
            a.metering_reports.stats.reports_built,
            a.metering_reports.stats.reports_accepted
        );
        // The Device sent its chain in none of them: registration left it with the RI.
        assert_eq!(a.metering_reports.stats.chain_resends, 0);
    }
    // 5 agents × 12 uses/min over ~5 min of reports: hundreds of uses reached the RI.
    assert!(reported > 100, "{reported}");
    assert_eq!(run.ri_status("success"), 0);
    assert_eq!(run.ri_status("Success"), m.len() as u64);
}

#[test]
fn real_and_symbolic_modes_give_the_same_outcomes() {
    let mut c = cfg(3);
    let mut sym = start(&c);
    sym.until_ms(130_000);
    c.crypto = CryptoMode::Real;
    let mut real = start(&c);
    real.until_ms(130_000);
    assert!(sym.metering().len() >= 5, "{:?}", sym.metering());
    let counts = |r: &Run| {
        let mut m: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (p, st, _) in r.outcomes.borrow().iter() {
            *m.entry((p.clone(), st.clone())).or_default() += 1;
        }
        m
    };
    assert_eq!(counts(&sym), counts(&real));
    // Device IDs differ between modes (different keys): compare per agent index.
    let per_agent = |r: &Run| {
        (0..3)
            .flat_map(|i| {
                let dev = hex::encode(&r.agent(i).identity().id.hash);
                r.ri()
                    .stats
                    .metered_uses
                    .iter()
                    .filter(move |((d, _), _)| *d == dev)
                    .map(move |((_, ro), n)| (i, ro.clone(), *n))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(per_agent(&sym), per_agent(&real));
    for i in 0..3 {
        real.assert_conserved(i);
    }
}

// ---------------------------------------------------------------- lost responses

#[test]
fn lost_responses_are_retried_and_counted_once() {
    let mut run = start(&cfg(1));
    run.built.sim.set_tap(Box::new(DropFirst {
        kind: "roap:meteringReportResponse",
        left: 2,
    }));
    run.until_ms(100_000);
    // Attempt 1 counted; attempts 2 and 3 carry the same report: answered, not counted.
    assert_eq!(run.metering(), vec![("success".to_string(), 3)]);
    assert_eq!(run.ri_status("Success"), 3);
    assert_eq!(run.ri().stats.metering_duplicates, 2);
    run.assert_conserved(0);
    assert!(run.ri_total(0) > 0);
}

#[test]
fn no_response_at_all_never_deletes_and_the_next_period_resends_the_same_report() {
    let mut run = start(&cfg(1));
    run.built.sim.set_tap(Box::new(DropFirst {
        kind: "roap:meteringReportResponse",
        left: 4,
    }));
    // Attempts at ≈ 60.1, 70.6, 81.6, 93.6 s; the last times out at ≈ 103.6 s.
    run.until_ms(110_000);
    assert_eq!(run.metering(), vec![("timeout".to_string(), 4)]);
    let a = run.agent(0);
    // §11.3: nothing deleted, although the RI did count the report.
    assert_eq!(a.metering.pending_uses(), a.stats.uses);
    assert!(run.ri_total(0) > 0);
    assert_eq!(a.metering_reports.outstanding.len(), 1);
    // At ≈ 120.1 s the same report goes again: the RI answers Success without recounting.
    run.until_ms(125_000);
    assert_eq!(
        run.metering(),
        vec![("timeout".to_string(), 4), ("success".to_string(), 1)]
    );
    assert_eq!(run.ri().stats.metering_duplicates, 4);
    assert_eq!(run.agent(0).metering_reports.stats.reports_built, 1);
    run.assert_conserved(0);
    run.until_ms(250_000);
    run.assert_conserved(0);
}

// ---------------------------------------------------------------- Device-side paths

#[test]
fn missing_chain_makes_the_device_resend_with_its_chain() {
    let mut run = start(&cfg(1));
    // Just before the ≈ 60.1 s tick (not earlier: RO acquisition indexes the stored chain).
    run.until_ms(60_050);
    for dc in run.ri_mut().devices.values_mut() {
        dc.chain.clear();
    }
    run.until_ms(70_000);
    // NoCertificateChain, then the same session resent with the chain: Success.
    assert_eq!(run.metering(), vec![("success".to_string(), 2)]);
    assert_eq!(run.ri_status("NoCertificateChain"), 1);
    assert_eq!(run.ri_status("Success"), 1);
    assert_eq!(run.agent(0).metering_reports.stats.chain_resends, 1);
    // The RI stored the chain it verified; the next report omits it again.
    assert_eq!(run.ri().devices.values().next().unwrap().chain.len(), 1);
    run.until_ms(130_000);
    assert_eq!(run.metering()[1], ("success".to_string(), 1));
    run.assert_conserved(0);
}

#[test]
fn error_statuses_keep_the_metering_information() {
    // Unregistered: the RI lost the Device Context just before the ≈ 60.1 s tick. The RI
    // answers NotRegistered; the Device registers again and resends the same outstanding
    // report once (registration.rs `Rereg`): accepted on the second attempt, nothing lost.
    let mut run = start(&cfg(1));
    run.until_ms(60_050);
    run.ri_mut().devices.clear();
    run.until_ms(70_000);
    assert_eq!(run.metering(), vec![("success".to_string(), 2)]);
    assert_eq!(run.ri_status("NotRegistered"), 1);
    assert_eq!(run.ri_status("Success"), 1);
    let a = run.agent(0);
    assert_eq!(a.stats.reregistrations, 1);
    assert_eq!(a.metering_reports.stats.reports_built, 1);
    assert!(a.stats.uses > 0);
    run.assert_conserved(0);

    // Skewed clock: an on-path tamperer moves <time> an hour ahead (checked before the
    // signature, §11.2), then a broken signature.
    for (f, want) in [
        (
            (|s: &mut MeteringReportSubmit| s.time.unix_s += 3_600) as fn(&mut _),
            "DeviceTimeError",
        ),
        (
            |s: &mut MeteringReportSubmit| s.signature[0] ^= 1,
            "SignatureError",
        ),
    ] {
        let mut run = start(&cfg(1));
        let mode = run.built.world.mode();
        run.built.sim.set_tap(Box::new(TamperSubmit { mode, f }));
        run.until_ms(70_000);
        assert_eq!(run.metering(), vec![(want.to_string(), 1)]);
        assert_eq!(run.ri_status(want), 1);
        let a = run.agent(0);
        assert_eq!(a.metering.pending_uses(), a.stats.uses);
        assert_eq!(run.ri_total(0), 0);
    }
}

/// A forged unsigned Success (an on-path spoofer who saw the nonce) deletes metering data
/// before seed 004 and is discarded after it.
fn forged_success(signed: bool) -> Run {
    let mut c = cfg(1);
    c.variants.metering_response_signed = signed;
    let mut run = start(&c);
    let nonce = Rc::new(RefCell::new(None));
    run.built.sim.set_tap(Box::new(SwallowSubmits {
        nonce: nonce.clone(),
    }));
    run.until_ms(61_000);
    let nonce = nonce
        .borrow()
        .clone()
        .expect("a submit was sent at ≈ 60.1 s");
    let a = run.agent(0);
    assert_eq!(a.metering.pending_uses(), a.stats.uses);
    let forged = MeteringReportResponse {
        status: Status::Success,
        body: Some(MeteringReportResponseBody {
            device_id: a.identity().id.clone(),
            ri_id: run.built.world.ris[0].id.clone(),
            device_nonce: nonce,
            certificate_chain: None,
            ocsp_responses: vec![],
            extensions: vec![],
            signature: vec![],
        }),
    };
    let mode = run.built.world.mode();
    let (ri, agent) = (run.built.ris[0], run.built.agents[0]);
    run.built.sim.inject(
        ri,
        agent,
        SimMsg::Pdu(Wire::new(mode, Pdu::MeteringReportResponse(forged))),
    );
    run.until_ms(62_000);
    run
}

#[test]
fn forged_unsigned_success_deletes_data_only_in_the_pre_cr_variant() {
    let pre = forged_success(false);
    let a = pre.agent(0);
    assert_eq!(pre.metering(), vec![("success".to_string(), 1)]);
    assert_eq!(pre.ri_total(0), 0);
    assert!(a.metering_reports.stats.uses_deleted > 0);
    // Uses lost: neither at the RI nor on the Device.
    assert!(a.metering.pending_uses() < a.stats.uses);

    let cur = forged_success(true);
    let a = cur.agent(0);
    assert_eq!(cur.metering(), vec![]);
    assert_eq!(a.metering_reports.stats.responses_discarded, 1);
    assert_eq!(a.metering.pending_uses(), a.stats.uses);
}

#[test]
fn response_with_a_wrong_nonce_or_bad_signature_is_discarded() {
    let mut run = start(&cfg(1));
    // Just before the ≈ 60.1 s tick a forger who does not know the nonce injects a Success.
    run.until_ms(60_000);
    let a = run.agent(0);
    let body = MeteringReportResponseBody {
        device_id: a.identity().id.clone(),
        ri_id: run.built.world.ris[0].id.clone(),
        device_nonce: vec![0; 14],
        certificate_chain: None,
        ocsp_responses: vec![],
        extensions: vec![],
        signature: vec![1; 128],
    };
    let mode = run.built.world.mode();
    let (ri, agent) = (run.built.ris[0], run.built.agents[0]);
    run.built.sim.inject(
        ri,
        agent,
        SimMsg::Pdu(Wire::new(
            mode,
            Pdu::MeteringReportResponse(MeteringReportResponse {
                status: Status::Success,
                body: Some(body),
            }),
        )),
    );
    run.until_ms(70_000);
    assert_eq!(run.agent(0).metering_reports.stats.responses_discarded, 1);
    // The genuine exchange is unaffected.
    assert_eq!(run.metering(), vec![("success".to_string(), 1)]);
    run.assert_conserved(0);
}

// ---------------------------------------------------------------- RI statuses (crafted)

#[test]
fn every_ri_status_is_reached_with_a_crafted_submit() {
    every_ri_status(CryptoMode::Symbolic);
}

#[test]
fn every_ri_status_is_reached_with_a_crafted_submit_real_mode() {
    every_ri_status(CryptoMode::Real);
}

fn every_ri_status(mode: CryptoMode) {
    let mut c = cfg(3);
    c.crypto = mode;
    c.revoked_agents = 1; // agent 0 is revoked (never registers)
    c.workload.metering_interval_ns = Some(3_600 * S); // keep the agents' own reports out
    let mut run = start(&c);
    run.until_ms(5_000);
    let dev1 = hex::encode(&run.agent(1).identity().id.hash);
    let total = |run: &Run| {
        run.ri()
            .stats
            .metered_uses
            .get(&(dev1.clone(), "ri/0-ro1".to_string()))
            .copied()
            .unwrap_or(0)
    };

    // Control: a well-formed report is accepted and counted.
    let ok = crafted(&mut run, 1, None, |_, _| {});
    assert_eq!(deliver(&mut run, 1, ok.clone()), "Success");
    assert_eq!(total(&run), 5);
    // The same message again (a network duplicate): answered from the response store
    // (proto::repeats), no status counted, nothing recounted.
    let repeats = run.ri().repeats.stats.answered;
    let mode = run.built.world.mode();
    let (from, to) = (run.built.agents[1], run.built.ris[0]);
    run.built.sim.inject(
        from,
        to,
        SimMsg::Pdu(Wire::new(mode, Pdu::MeteringReportSubmit(ok.clone()))),
    );
    let t = run.built.sim.now().as_ns() / 1_000_000;
    run.until_ms(t + 500);
    assert_eq!(run.ri().repeats.stats.answered, repeats + 1);
    assert_eq!(total(&run), 5);
    // The same report in a new request (a resend after a lost response: fresh nonce):
    // answered Success, not recounted (seed 004 §11.2).
    let mut again = ok;
    again.nonce = vec![0xA5; 14];
    resign(&run, 1, &mut again);
    assert_eq!(deliver(&mut run, 1, again), "Success");
    assert_eq!(total(&run), 5);
    assert_eq!(run.ri().stats.metering_duplicates, 1);

    // DRM time an hour off.
    let s = crafted(&mut run, 1, None, |s, _| s.time.unix_s += 3_600);
    assert_eq!(deliver(&mut run, 1, s), "DeviceTimeError");
    // Signature that does not verify.
    let mut s = crafted(&mut run, 1, None, |_, _| {});
    s.signature[3] ^= 0x40;
    assert_eq!(deliver(&mut run, 1, s), "SignatureError");
    // Signed by another Device's key.
    let mut s = crafted(&mut run, 1, None, |_, _| {});
    resign(&run, 2, &mut s);
    assert_eq!(deliver(&mut run, 1, s), "SignatureError");
    // A chain certifying another Device.
    let other = run.agent(2).identity().chain_wire.clone();
    let s = crafted(&mut run, 1, Some(other), |_, _| {});
    assert_eq!(deliver(&mut run, 1, s), "InvalidCertificateChain");
    // An undecodable chain.
    let junk = CertificateChain {
        certificates: vec![b"junk".to_vec()],
    };
    let s = crafted(&mut run, 1, Some(junk), |_, _| {});
    assert_eq!(deliver(&mut run, 1, s), "InvalidCertificateChain");

    // §11.4.2 form: wrong riID, broken encKey/RetrievalMethod link, wrong key hash,
    // wrong algorithm.
    let s = crafted(&mut run, 1, None, |s, _| s.ri_id.hash[0] ^= 1);
    assert_eq!(deliver(&mut run, 1, s), "MalformedMeteringReport");
    let s = crafted(&mut run, 1, None, |s, _| {
        s.metering_report.enc_key.id = Some("other".into())
    });
    assert_eq!(deliver(&mut run, 1, s), "MalformedMeteringReport");
    let s = crafted(&mut run, 1, None, |s, _| {
        s.metering_report.enc_key.key_info = Some(sim_core::pdu::KeyInfo::SpkiHash(vec![0; 20]))
    });
    assert_eq!(deliver(&mut run, 1, s), "MalformedMeteringReport");
    let s = crafted(&mut run, 1, None, |s, _| {
        s.metering_report.encrypted_report.algorithm = "urn:none".into()
    });
    assert_eq!(deliver(&mut run, 1, s), "MalformedMeteringReport");

    // MAC under a key other than the wrapped K_MAC.
    let world = run.built.world.clone();
    let w2 = world.clone();
    let s = crafted(&mut run, 1, None, move |s, _| {
        let wrong = SymKey::from_slice(&[0x5a; 16]).unwrap();
        s.metering_report.mac = w2.crypto.mac(
            &mut OpCounter::new(),
            &wrong,
            w2.params.mac_alg,
            &s.metering_report,
        );
    });
    assert_eq!(deliver(&mut run, 1, s), "UnableToVerifyMeteringReportMAC");
    // K_MAC‖K_MEK wrapped to a key that is not the RI's (unwrap fails).
    let dev_key = run.agent(2).identity().chain[0].public_key().clone();
    let w2 = world.clone();
    let s = crafted(&mut run, 1, None, move |s, sealed| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let material = [
            sealed.kmac.as_bytes().as_slice(),
            sealed.kmek.as_bytes().as_slice(),
        ]
        .concat();
        s.metering_report.enc_key.cipher = w2
            .crypto
            .kem_wrap(&mut OpCounter::new(), &mut rng, &dev_key, &material)
            .unwrap();
    });
    assert_eq!(deliver(&mut run, 1, s), "UnableToVerifyMeteringReportMAC");

    // Correct MAC over garbage ciphertext, and over a valid encryption of something that is
    // not a meteringReportType fragment.
    let w2 = world.clone();
    let s = crafted(&mut run, 1, None, move |s, sealed| {
        s.metering_report.encrypted_report.cipher = (0..48u8).collect();
        s.metering_report.mac = w2.crypto.mac(
            &mut OpCounter::new(),
            &sealed.kmac,
            w2.params.mac_alg,
            &s.metering_report,
        );
    });
    assert_eq!(deliver(&mut run, 1, s), "UnableToDecryptMeteringReport");
    let w2 = world.clone();
    let s = crafted(&mut run, 1, None, move |s, sealed| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
        let mut ops = OpCounter::new();
        s.metering_report.encrypted_report.cipher =
            w2.crypto
                .cbc_encrypt(&mut ops, &mut rng, &sealed.kmek, b"<notAReport/>");
        s.metering_report.mac = w2.crypto.mac(
            &mut ops,
            &sealed.kmac,
            w2.params.mac_alg,
            &s.metering_report,
        );
    });
    assert_eq!(deliver(&mut run, 1, s), "UnableToDecryptMeteringReport");

    // Missing chain: none sent and none stored.
    let dev1_id = run.agent(1).identity().id.clone();
    let stored = run.ri().devices[&dev1_id].chain.clone();
    run.ri_mut()
        .devices
        .get_mut(&dev1_id)
        .unwrap()
        .chain
        .clear();
    let s = crafted(&mut run, 1, None, |_, _| {});
    assert_eq!(deliver(&mut run, 1, s), "NoCertificateChain");
    run.ri_mut().devices.get_mut(&dev1_id).unwrap().chain = stored;

    // Unregistered Device (no Device Context).
    let ctx1 = run.ri_mut().devices.remove(&dev1_id).unwrap();
    let s = crafted(&mut run, 1, None, |_, _| {});
    assert_eq!(deliver(&mut run, 1, s), "NotRegistered");
    run.ri_mut().devices.insert(dev1_id, ctx1);

    // Revoked Device: give the RI a Device Context for agent 0 (as if it had registered
    // before revocation); its chain fails the status check whether sent or stored.
    let a0 = run.agent(0).identity().clone();
    let actor0 = run.built.agents[0];
    run.ri_mut().devices.insert(
        a0.id.clone(),
        DeviceContext {
            device_id: a0.id.clone(),
            actor: actor0,
            chain: a0.chain.clone(),
            registered_at: SimTime::ZERO,
        },
    );
    let s = crafted(&mut run, 0, None, |_, _| {});
    assert_eq!(deliver(&mut run, 0, s), "InvalidCertificateChain");
    let s = crafted(&mut run, 0, Some(a0.chain_wire.clone()), |_, _| {});
    assert_eq!(deliver(&mut run, 0, s), "InvalidCertificateChain");

    // Only the control report was ever counted; the Devices discarded every crafted answer
    // (none matches a submit they sent), the stored one re-sent to the repeat included.
    assert_eq!(total(&run), 5);
    assert_eq!(run.ri().stats.metered_uses.len(), 1);
    let discarded: u64 = (0..3)
        .map(|i| run.agent(i).metering_reports.stats.responses_discarded)
        .sum();
    assert_eq!(discarded, 20);
}

#[test]
fn chain_from_an_untrusted_root_is_refused_real_mode() {
    // Real DER, so the RI parses a certificate its directory does not know.
    let mut c = cfg(1);
    c.crypto = CryptoMode::Real;
    c.workload.metering_interval_ns = Some(3_600 * S);
    let mut run = start(&c);
    run.until_ms(5_000);
    let world = run.built.world.clone();
    let device = run.agent(0).identity().clone();
    let mut ops = OpCounter::new();
    let rogue_key = world
        .crypto
        .key_pair(
            &GeneratingKeySource::new(),
            &KeySpec::new(77, "ca/rogue", 1024),
        )
        .unwrap();
    let mut rogue = CertificateAuthority::new_root(
        &world.crypto,
        &mut ops,
        "ca/rogue",
        rogue_key,
        SimTime::ZERO,
        SimTime::MAX,
    )
    .unwrap();
    let cert = rogue
        .issue(
            &world.crypto,
            &mut ops,
            &CertRequest {
                subject: device.name.clone(),
                public_key: device.key.public().clone(),
                purposes: vec![KeyPurpose::DrmAgent],
                not_before: SimTime::ZERO,
                not_after: SimTime::MAX,
            },
        )
        .unwrap();
    let chain = CertDirectory::encode_chain(CryptoMode::Real, &[cert]);
    let s = crafted(&mut run, 0, Some(chain), |_, _| {});
    assert_eq!(deliver(&mut run, 0, s), "TrustedRootCertificateNotPresent");
    // And a genuine crafted report still passes in real mode.
    let s = crafted(&mut run, 0, None, |_, _| {});
    assert_eq!(deliver(&mut run, 0, s), "Success");
}

#[test]
fn hostile_submit_octets_never_panic() {
    let mut run = start(&cfg(1));
    run.until_ms(5_000);
    let (from, to) = (run.built.agents[0], run.built.ris[0]);
    for junk in [
        &b"<roap:meteringReportSubmit xmlns:roap=\"urn:oma:bac:dldrm:roap-1.0\"/>"[..],
        b"<<<",
        b"",
    ] {
        run.built.sim.inject(
            from,
            to,
            SimMsg::Pdu(Wire::from_xml("roap:meteringReportSubmit", junk.to_vec())),
        );
    }
    run.until_ms(6_000);
    let malformed: u64 = run
        .ri()
        .stats
        .statuses
        .iter()
        .filter(|((p, _), _)| p == "malformed")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(malformed, 3);
}

// ---------------------------------------------------------------- Post Response URL

fn with_post_response(policy: PostResponsePolicy, until_ms: u64) -> Run {
    let mut run = start(&cfg(1));
    run.ri_mut().metering.post_response = policy;
    run.until_ms(until_ms);
    run
}

#[test]
fn post_response_url_is_fetched_and_its_trigger_followed() {
    // The first GET of each URL gets 503: retried at the next tick, then 200 + trigger.
    let run = with_post_response(
        PostResponsePolicy {
            probability: 1.0,
            http_status: 200,
            unavailable_first: 1,
        },
        100_000,
    );
    let st = &run.agent(0).metering_reports.stats;
    assert_eq!((st.http_gets, st.http_ok), (1, 0));
    let mut run = run;
    run.until_ms(125_000);
    let st = &run.agent(0).metering_reports.stats;
    // ≈ 120.1 s: URL 1 retried (200) and URL 2 from the second report (503).
    assert_eq!((st.http_gets, st.http_ok, st.triggers_followed), (3, 1, 1));
    run.assert_conserved(0);
}

#[test]
fn post_response_url_404_is_never_retried_and_other_errors_are_bounded() {
    let mut run = with_post_response(
        PostResponsePolicy {
            probability: 1.0,
            http_status: 404,
            unavailable_first: 0,
        },
        250_000,
    );
    let st = run.agent(0).metering_reports.stats.clone();
    assert_eq!(st.reports_accepted, 4);
    assert_eq!((st.http_gets, st.http_not_found), (4, 4));

    run = with_post_response(
        PostResponsePolicy {
            probability: 1.0,
            http_status: 200,
            unavailable_first: 100,
        },
        250_000,
    );
    let st = &run.agent(0).metering_reports.stats;
    // URL 1: GETs at 60, 120, 180 s; dropped at 240 s. URL 2: 120, 180, 240; URL 3: 180,
    // 240; URL 4: 240.
    assert_eq!(st.http_given_up, 1);
    assert_eq!(st.http_gets, 9);
    assert_eq!(st.http_ok, 0);
}

#[test]
fn metering_is_deterministic() {
    let digest = |seed| {
        let mut c = cfg(3);
        c.seed = seed;
        let mut run = start(&c);
        run.until_ms(200_000);
        let outcomes = run.outcomes.borrow().clone();
        (outcomes, run.ri().stats.metered_uses.clone())
    };
    let a: (Vec<_>, BTreeMap<_, _>) = digest(5);
    assert_eq!(a, digest(5));
    assert_ne!(a.1, digest(6).1);
}

#[test]
fn expired_ocsp_cache_is_refreshed_from_the_stapled_response() {
    // Reports every 10 min for 2.5 h: the OCSP response cached at registration expires after
    // 1 h (ocsp_max_age), the Device stops sending No OCSP Response, the RI staples its
    // current response, and the Device verifies with it and caches it.
    let mut c = cfg(1);
    c.workload.metering_interval_ns = Some(600 * S);
    let mut run = start(&c);
    run.until_ms(9_000_000);
    let m = run.metering();
    assert_eq!(m.len(), 14, "{m:?}");
    assert!(m.iter().all(|(s, a)| s == "success" && *a == 1), "{m:?}");
    let cached = run.agent(0).ri_contexts[&0].ocsp.clone().unwrap();
    assert!(cached.produced_at > SimTime::from_secs(3_600));
    run.assert_conserved(0);
}
