//! Network model: topology of actor groups, latency, loss, duplication, partitions.
//!
//! The engine asks a [`NetworkModel`] for the fate of every message; the model owns its own
//! random streams (one per link, derived from the master seed and the link's name), so the
//! fate of a message never depends on any actor's random draws.

mod error;
mod latency;
mod link;
mod partition;
mod topology;

pub use error::NetError;
pub use latency::{LatencyDist, UniformPair, MAX_LATENCY_NS};
pub use link::{GilbertElliott, LinkSpec, LinkState, LinkStats, DRAWS_PER_MESSAGE};
pub use partition::{Partition, PartitionScope};
pub use topology::{
    DefaultRoute, LinkDirection, Topology, TopologyConfig, MAX_GROUPS, MAX_GROUP_NAME_BYTES,
    MAX_PARTITIONS,
};

use crate::engine::SimTime;
use crate::trace::DropCause;

/// Index of an actor group (a node of the topology graph).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(pub u32);

/// What happens to one message handed to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered at `at`; if `duplicate_at` is set, a copy is delivered then as well.
    Deliver {
        /// Delivery time of the original.
        at: SimTime,
        /// Delivery time of a network-made duplicate, if any.
        duplicate_at: Option<SimTime>,
    },
    /// Never delivered.
    Drop(DropCause),
}

/// Decides the fate of messages between groups.
pub trait NetworkModel {
    /// The fate of a `size_bytes` message sent at `now` from group `from` to group `to`.
    fn route(&mut self, now: SimTime, from: GroupId, to: GroupId, size_bytes: u32) -> Fate;
}

/// Every message arrives after a constant latency; nothing is lost (tests, benchmarks).
#[derive(Debug, Clone, Copy)]
pub struct IdealNetwork {
    /// One-way latency in nanoseconds.
    pub latency_ns: u64,
}

impl NetworkModel for IdealNetwork {
    fn route(&mut self, now: SimTime, _from: GroupId, _to: GroupId, _size_bytes: u32) -> Fate {
        Fate::Deliver {
            at: now.add_ns(self.latency_ns),
            duplicate_at: None,
        }
    }
}
