//! The harness every protocol test shares: a run built on one network group with 20 ms
//! links and freshly generated keys, and the actor names and roster that adversaries and
//! monitors are installed with.

use sim_core::adversary::Layout;
use sim_core::crypto::GeneratingKeySource;
use sim_core::engine::ActorId;
use sim_core::invariant::Roster;
use sim_core::net::{GroupId, IdealNetwork};
use sim_core::proto::build::{
    agent_name, build, lrm_name, ri_name, Built, WorldConfig, DEA_NAME, OCSP_NAME,
};
use sim_core::trace::TraceRecorder;

/// One-way latency of every link in test runs, ns.
pub const LATENCY_NS: u64 = 20_000_000;

/// Builds `cfg` with every actor in group 0 ("all") on an ideal network of [`LATENCY_NS`]
/// links, recording to `trace`.
pub fn build_ideal(cfg: &WorldConfig, trace: TraceRecorder) -> Built {
    build(
        cfg,
        Box::new(IdealNetwork {
            latency_ns: LATENCY_NS,
        }),
        trace,
        &GeneratingKeySource::new(),
        &|_, _| (GroupId(0), "all".into()),
        &mut |_, _| {},
    )
    .expect("builds")
}

/// Every actor's scenario name (`ocsp`, `dea`, `ri/N`, `lrm/N`, `agent/N`) in group 0, and
/// the roster of agents, RIs and the DEA.
pub fn layout_and_roster(b: &Built) -> (Layout, Roster) {
    let mut names = vec![String::new(); b.sim.actor_count()];
    let mut put = |a: ActorId, n: String| names[a.0 as usize] = n;
    if let Some(o) = b.ocsp {
        put(o, OCSP_NAME.into());
    }
    if let Some(d) = b.dea {
        put(d, DEA_NAME.into());
    }
    for (i, &r) in b.ris.iter().enumerate() {
        put(r, ri_name(i as u32));
    }
    for (i, &l) in b.lrms.iter().enumerate() {
        put(l, lrm_name(i as u32));
    }
    for (i, &a) in b.agents.iter().enumerate() {
        put(a, agent_name(i as u32));
    }
    let layout = Layout {
        groups: vec![GroupId(0); names.len()],
        names,
    };
    let roster = Roster {
        agents: b.agents.clone(),
        ris: b.ris.clone(),
        dea: b.dea,
    };
    (layout, roster)
}
