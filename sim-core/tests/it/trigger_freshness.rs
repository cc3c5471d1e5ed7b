//! Trigger replay protection does not depend on how many nonces a Device keeps (issue 11,
//! part 2's rule applied to ROAP triggers). Under drmsim's reading
//! (`Variants::trigger_carries_time`) every trigger carries a signed `<notAfter>`; a Device
//! keeps each nonce until then plus the time tolerance, refuses a copy inside that window as
//! a replay and one after it as expired, and with a full store refuses new triggers (trace
//! note) instead of forgetting a live nonce. As written (no time) the Device can only keep
//! the newest nonces, and a trigger replayed after enough others is acted on again.
//! Tiny stores, thousands of honest triggers, both crypto modes.

use crate::support::build_ideal;
use sim_core::crypto::CryptoMode;
use sim_core::engine::RunLimits;
use sim_core::pdu::trigger::{RoapTrigger, TriggerKind};
use sim_core::proto::agent::Agent;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::msg::SimMsg;
use sim_core::proto::ri::Ri;
use sim_core::proto::trigger::{trigger_wire, TriggerOrder};
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::{TraceConfig, TraceEvent, TraceRecorder, VecSink};
use std::cell::RefCell;
use std::rc::Rc;

const MS: u64 = 1_000_000;
const S: u64 = 1_000 * MS;

/// One Device registered with one RI; a store of `store` trigger nonces, triggers valid for
/// 2 s, a DRM-time tolerance of 1 s and a Device clock up to 0.9 s off.
fn world(mode: CryptoMode, store: usize, carries_time: bool) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents: 1,
        ris: 1,
        crypto: mode,
        workload: AgentWorkload {
            acquire_rate_per_min: 0.0,
            consume_rate_per_min: 0.0,
            ..Default::default()
        },
        clock_offset_max_ns: 900 * MS,
        ..Default::default()
    };
    cfg.params.trigger_nonces_per_device = store;
    cfg.params.trigger_lifetime_ns = 2 * S;
    cfg.params.time_tolerance_ns = S;
    cfg.variants.trigger_carries_time = carries_time;
    cfg
}

struct Run {
    b: Built,
    rng: sim_core::engine::SimRng,
    notes: Rc<RefCell<u64>>,
}

impl Run {
    fn new(cfg: &WorldConfig) -> Self {
        let notes = Rc::new(RefCell::new(0u64));
        let n2 = notes.clone();
        let mut trace = TraceRecorder::new(TraceConfig::default(), Box::new(VecSink::default()));
        trace.observe(Box::new(move |rec| {
            if let TraceEvent::Note { text, .. } = &rec.ev {
                if text.contains("trigger: nonce store full") {
                    *n2.borrow_mut() += 1;
                }
            }
        }));
        let mut r = Run {
            b: build_ideal(cfg, trace),
            rng: sim_core::engine::rng::stream(7, "test", "trigger"),
            notes,
        };
        r.run_ms(3_000);
        assert_eq!(r.agent().ri_contexts.len(), 1, "registered");
        r
    }

    fn run_ms(&mut self, ms: u64) {
        let horizon = self.b.sim.now().add_ns(ms * MS);
        self.b.sim.run(
            &RunLimits {
                horizon: Some(horizon),
                ..Default::default()
            },
            &mut |_, _| {},
        );
    }

    fn agent(&self) -> &Agent {
        self.b.sim.actor::<Agent>(self.b.agents[0]).unwrap()
    }

    fn ri(&self) -> &Ri {
        self.b.sim.actor::<Ri>(self.b.ris[0]).unwrap()
    }

    /// The RI issues a meteringReport trigger for the Device now (not sent).
    fn issue(&mut self) -> RoapTrigger {
        let device = self.agent().identity().id.clone();
        let now = self.b.sim.now();
        let ri = self.b.ris[0];
        self.b
            .sim
            .actor_mut::<Ri>(ri)
            .unwrap()
            .issue_trigger(
                &mut self.rng,
                now,
                &device,
                TriggerOrder::new(TriggerKind::MeteringReport),
            )
            .expect("issues")
    }

    /// Delivers `t` to the Device (a fresh encoding each time, as a replayer's copy).
    fn deliver(&mut self, t: &RoapTrigger) {
        let w = trigger_wire(self.ri(), t.clone());
        let (ri, a) = (self.b.ris[0], self.b.agents[0]);
        self.b.sim.inject(ri, a, SimMsg::Pdu(w));
    }

    /// (accepted, discarded) triggers at the Device.
    fn counts(&self) -> (u64, u64) {
        let s = &self.agent().domain.stats;
        (s.triggers_accepted, s.triggers_discarded)
    }

    /// `n` honest triggers 2 s apart (a nonce is kept under 5 s: at most three live);
    /// returns the first.
    fn honest(&mut self, n: u64) -> RoapTrigger {
        let first = self.issue();
        self.deliver(&first);
        self.run_ms(2_000);
        for _ in 1..n {
            let t = self.issue();
            self.deliver(&t);
            self.run_ms(2_000);
        }
        first
    }
}

const MODES: [CryptoMode; 2] = [CryptoMode::Symbolic, CryptoMode::Real];

#[test]
fn a_trigger_replayed_after_thousands_of_others_is_refused_with_a_tiny_store() {
    for mode in MODES {
        let mut r = Run::new(&world(mode, 4, true));
        let n = 2_000;
        let first = r.honest(n);
        // Heavy honest traffic through a 4-nonce store: every trigger acted on, none refused.
        assert_eq!(r.counts(), (n, 0), "{mode:?}");
        assert!(r.agent().domain.seen_trigger_nonces.len() <= 4, "{mode:?}");
        assert_eq!(
            r.ri().domains.triggered_requests,
            0,
            "metering triggers, no data"
        );
        // The first trigger, replayed ~67 min and 1,999 triggers later: expired.
        r.deliver(&first);
        r.run_ms(500);
        assert_eq!(
            r.counts(),
            (n, 1),
            "{mode:?}: an old trigger was acted on again"
        );
        // A copy inside the window: the nonce is still kept.
        let t = r.issue();
        r.deliver(&t);
        r.run_ms(500);
        r.deliver(&t);
        r.run_ms(500);
        assert_eq!(
            r.counts(),
            (n + 1, 2),
            "{mode:?}: a fresh replay was acted on"
        );
        // The RI's record of issued triggers is time-bounded too.
        assert!(r.ri().domains.issued_triggers.len() < 200, "{mode:?}");
    }
}

#[test]
fn a_full_trigger_store_refuses_new_triggers_until_a_window_closes() {
    for mode in MODES {
        let mut r = Run::new(&world(mode, 4, true));
        let burst: Vec<RoapTrigger> = (0..6).map(|_| r.issue()).collect();
        for t in &burst {
            r.deliver(t);
        }
        r.run_ms(500);
        // Four live nonces fill the store: the fifth and sixth are refused with a trace
        // cause, and no live nonce was forgotten (each of the four is still a replay).
        assert_eq!(r.counts(), (4, 2), "{mode:?}");
        assert_eq!(r.agent().domain.seen_trigger_nonces.refused_full, 2);
        assert_eq!(*r.notes.borrow(), 2, "{mode:?}: one trace note per refusal");
        for t in &burst[..4] {
            r.deliver(t);
        }
        r.run_ms(500);
        assert_eq!(r.counts(), (4, 6), "{mode:?}");
        // After the windows closed the Device is not locked out.
        r.run_ms(5_000);
        let t = r.issue();
        r.deliver(&t);
        r.run_ms(500);
        assert_eq!(r.counts(), (5, 6), "{mode:?}");
        assert_eq!(r.agent().domain.seen_trigger_nonces.len(), 1, "{mode:?}");
    }
}

#[test]
fn as_written_a_trigger_replayed_after_enough_others_is_acted_on_again() {
    // The finding against ROAP §5.2.1 (no time in a trigger): the Device can only keep the
    // newest nonces, so the fifth trigger after it pushes the first one out.
    for mode in MODES {
        let mut r = Run::new(&world(mode, 4, false));
        let first = r.honest(5);
        assert_eq!(r.counts(), (5, 0), "{mode:?}");
        r.deliver(&first);
        r.run_ms(500);
        assert_eq!(
            r.counts(),
            (6, 0),
            "{mode:?}: as written the replay is acted on"
        );
        // While remembered, a copy is still refused.
        r.deliver(&first);
        r.run_ms(500);
        assert_eq!(r.counts(), (6, 1), "{mode:?}");
    }
}

#[test]
fn a_trigger_without_or_with_a_forged_not_after_is_refused() {
    for mode in MODES {
        let mut r = Run::new(&world(mode, 4, true));
        // Stripped of its notAfter (or with one moved a day ahead): the signature no longer
        // verifies, or the time is refused before it is checked.
        let mut t = r.issue();
        t.not_after = None;
        r.deliver(&t);
        let mut t = r.issue();
        t.not_after = t
            .not_after
            .map(|d| sim_core::pdu::DateTime::from_unix_s(d.unix_s + 86_400));
        r.deliver(&t);
        r.run_ms(500);
        assert_eq!(r.counts(), (0, 2), "{mode:?}");
        // Delivered late (after notAfter + tolerance): refused, and the RI's honest retry
        // with a fresh trigger is acted on.
        let t = r.issue();
        r.run_ms(7_000);
        r.deliver(&t);
        r.run_ms(500);
        assert_eq!(r.counts(), (0, 3), "{mode:?}");
        let t = r.issue();
        r.deliver(&t);
        r.run_ms(500);
        assert_eq!(r.counts(), (1, 3), "{mode:?}");
    }
}
