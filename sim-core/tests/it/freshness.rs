//! Replay protection does not depend on how big a store is (issue 11 part 2): a nonce is kept
//! for its whole freshness window (here the DRM-time tolerance of the RO Request, base ROAP
//! `DeviceTimeError`), a copy delivered after the window fails the time check by itself, and
//! a store full of live nonces refuses new requests (`Abort`, trace note) instead of
//! forgetting one. Tiny stores, thousands of honest requests, replays inside and long after
//! the window, both crypto modes.

use crate::adversary::{run, setup_cfg};
use sim_core::adversary::{AdversaryKind, AdversarySpec, Installed, Position};
use sim_core::crypto::CryptoMode;
use sim_core::invariant::names;
use sim_core::net::GroupId;
use sim_core::proto::build::{Built, WorldConfig};
use sim_core::proto::ri::Ri;
use sim_core::proto::workload::AgentWorkload;
use sim_core::trace::TraceEvent;

const S: u64 = 1_000_000_000;

/// A replayer of RO Requests to the RI, each copy sent `delay_s` after the original.
fn replayer(name: &str, delay_s: u64, budget: u64) -> AdversarySpec {
    let mut s = AdversarySpec::new(
        AdversaryKind::Replayer,
        name,
        Position::OnPath {
            links: vec![(GroupId(0), GroupId(0))],
        },
    );
    s.messages = vec!["roap:roRequest".into()];
    s.actors = vec!["ri/*".into()];
    s.replay_delay_ns = delay_s * S;
    s.budget = budget;
    s
}

/// `agents` agents acquiring `per_min` ROs a minute each from one RI whose nonce store keeps
/// `per_device` nonces for `devices` Devices, with a DRM-time tolerance of `tolerance_s`.
fn busy(
    mode: CryptoMode,
    agents: u32,
    per_min: f64,
    per_device: usize,
    devices: usize,
    tolerance_s: u64,
) -> WorldConfig {
    let mut cfg = WorldConfig {
        agents,
        ris: 1,
        crypto: mode,
        workload: AgentWorkload {
            acquire_rate_per_min: per_min,
            consume_rate_per_min: 0.0,
            ..AgentWorkload::default()
        },
        ..WorldConfig::default()
    };
    cfg.params.nonce_cache_per_device = per_device;
    cfg.params.nonce_cache_devices = devices;
    cfg.params.time_tolerance_ns = tolerance_s * S;
    cfg
}

fn stats(ins: &Installed, name: &str) -> (u64, u64, u64) {
    let st = ins.shared.borrow().stats[name];
    (st.attempts, st.succeeded, st.blocked)
}

fn ri(b: &Built) -> &Ri {
    b.sim.actor::<Ri>(b.ris[0]).unwrap()
}

/// RO Requests the RI answered with `status` (all statuses when `None`).
fn answered(b: &Built, status: Option<&str>) -> u64 {
    ri(b)
        .stats
        .statuses
        .iter()
        .filter(|((p, s), _)| p == "ro_acquisition" && status.is_none_or(|w| w == s))
        .map(|(_, n)| n)
        .sum()
}

fn accepted_twice(ins: &Installed) -> u64 {
    ins.shared.borrow().monitors.counts[names::NO_REQUEST_ACCEPTED_TWICE]
}

#[test]
fn replays_inside_and_long_after_the_window_are_refused_with_a_tiny_store() {
    // Symbolic: 16 agents for 8 min (thousands of requests); real: 4 agents for 6 min.
    for (mode, agents, secs) in [(CryptoMode::Symbolic, 16, 480), (CryptoMode::Real, 4, 360)] {
        // 8 nonces per Device is enough for a 2 s window at one request every 2 s.
        let cfg = busy(mode, agents, 30.0, 8, agents as usize, 2);
        let specs = [replayer("soon", 1, 12), replayer("late", 300, 12)];
        let (mut b, ins, _) = setup_cfg(&cfg, &specs);
        run(&mut b, &ins, secs);
        let total = answered(&b, None);
        assert!(
            total >= 100 * agents as u64,
            "{mode:?}: only {total} requests"
        );
        // Copies 1 s later (inside the window: the nonce) and 5 min later (after thousands
        // of other requests: the DRM time) are all refused.
        assert_eq!(stats(&ins, "soon"), (12, 0, 12), "{mode:?}");
        assert_eq!(stats(&ins, "late"), (12, 0, 12), "{mode:?}");
        assert_eq!(accepted_twice(&ins), 0, "{mode:?}");
        // The store never held more than its limit, and sized for the window it refused no
        // honest request.
        assert!(ri(&b).nonces.len() <= 8 * agents as usize, "{mode:?}");
        assert_eq!(answered(&b, Some("Abort")), 0, "{mode:?}");
        assert!(ri(&b).stats.replays_rejected >= 1, "{mode:?}");
    }
}

#[test]
fn a_full_store_refuses_new_requests_and_never_forgets_a_live_nonce() {
    // A store far too small for the traffic inside a 5 s window: 2 nonces for 3 Devices,
    // while 12 (real: 4) Devices each send about one request a second. A count-bounded
    // store would evict live nonces here and accept the replays sent 2 s later.
    for (mode, agents, devices) in [(CryptoMode::Symbolic, 12, 3), (CryptoMode::Real, 4, 1)] {
        let cfg = busy(mode, agents, 60.0, 2, devices, 5);
        let (mut b, ins, _records) = setup_cfg(&cfg, &[replayer("soon", 2, 30)]);
        let notes = std::rc::Rc::new(std::cell::RefCell::new(0u64));
        let n2 = notes.clone();
        b.sim.trace_mut().observe(Box::new(move |rec| {
            if let TraceEvent::Note { text, .. } = &rec.ev {
                if text.contains("nonce store full") {
                    *n2.borrow_mut() += 1;
                }
            }
        }));
        run(&mut b, &ins, 180);
        let aborts = answered(&b, Some("Abort"));
        // The limit-reached path: answered with a status, with a trace cause for each.
        assert!(aborts > 0, "{mode:?}");
        assert_eq!(*notes.borrow(), ri(&b).nonces.refused_full, "{mode:?}");
        assert_eq!(ri(&b).nonces.refused_full, aborts, "{mode:?}");
        assert!(ri(&b).nonces.len() <= 2 * devices, "{mode:?}");
        // Every replay refused, nothing accepted twice; honest traffic still completes
        // when room frees up.
        assert_eq!(stats(&ins, "soon").1, 0, "{mode:?}");
        assert_eq!(accepted_twice(&ins), 0, "{mode:?}");
        assert!(answered(&b, Some("Success")) > 0, "{mode:?}");
    }
}
