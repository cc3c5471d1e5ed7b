//! [`Topology`]: the network model of a run. Nodes are actor groups, edges are links.
//!
//! An edge models the whole end-to-end path between two groups (there is no multi-hop
//! routing): the engine asks for the fate of a message from one group to another and the
//! topology answers from that pair's link alone. Semantics are written up in
//! `docs/network.md`.

use super::error::NetError;
use super::link::{LinkSpec, LinkState, LinkStats};
use super::partition::{Partition, PartitionScope};
use super::{Fate, GroupId, NetworkModel};
use crate::engine::rng::stream;
use crate::engine::SimTime;
use crate::trace::DropCause;
use petgraph::graphmap::DiGraphMap;
use std::collections::BTreeMap;

/// Largest number of groups in one topology.
pub const MAX_GROUPS: usize = 1 << 16;
/// Longest group name, in bytes.
pub const MAX_GROUP_NAME_BYTES: usize = 128;
/// Largest number of scheduled partitions.
pub const MAX_PARTITIONS: usize = 10_000;

/// What happens to traffic between two groups with no explicit link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DefaultRoute {
    /// The default link spec applies to every pair without an explicit link.
    #[default]
    AllPairs,
    /// Only explicit links carry traffic; other pairs drop with [`DropCause::NoRoute`].
    Strict,
}

/// Whether [`Topology::add_link`] adds one direction or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDirection {
    /// `from -> to` and `to -> from`, each with its own copy of the spec, state and RNG.
    Symmetric,
    /// `from -> to` only.
    Directed,
}

/// Topology-wide settings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TopologyConfig {
    /// Spec of every pair without an explicit link (unless `default_route` is strict).
    pub default_link: LinkSpec,
    /// Whether pairs without an explicit link use `default_link` or have no route.
    pub default_route: DefaultRoute,
    /// Spec of messages within one group; `None` means `default_link` (even when strict).
    pub intra_group: Option<LinkSpec>,
}

/// The real network model: groups, links, partitions and one RNG stream per directed link.
#[derive(Debug, Clone)]
pub struct Topology {
    seed: u64,
    config: TopologyConfig,
    names: Vec<String>,
    ids: BTreeMap<String, GroupId>,
    /// Edge weight: index into `specs`.
    graph: DiGraphMap<GroupId, usize>,
    specs: Vec<LinkSpec>,
    partitions: Vec<Partition>,
    /// Lazily created per directed pair; keyed by ids but seeded by names, so creation
    /// order never matters.
    links: BTreeMap<(GroupId, GroupId), LinkState>,
}

/// Which spec governs a directed pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpecRef {
    Intra,
    Default,
    Edge(usize),
}

impl Topology {
    /// An empty topology for the run with master seed `seed`; validates the config's specs.
    pub fn new(seed: u64, config: TopologyConfig) -> Result<Self, NetError> {
        config.default_link.validate()?;
        if let Some(intra) = &config.intra_group {
            intra.validate()?;
        }
        Ok(Topology {
            seed,
            config,
            names: Vec::new(),
            ids: BTreeMap::new(),
            graph: DiGraphMap::new(),
            specs: Vec::new(),
            partitions: Vec::new(),
            links: BTreeMap::new(),
        })
    }

    /// The settings this topology was built with.
    pub fn config(&self) -> &TopologyConfig {
        &self.config
    }

    /// Adds a group; names are non-empty, at most [`MAX_GROUP_NAME_BYTES`], without
    /// whitespace, control characters or `>` (which keeps link stream names unambiguous).
    pub fn add_group(&mut self, name: &str) -> Result<GroupId, NetError> {
        let invalid = |reason| NetError::InvalidGroupName {
            name: name.to_string(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("empty"));
        }
        if name.len() > MAX_GROUP_NAME_BYTES {
            return Err(invalid("longer than 128 bytes"));
        }
        if name
            .chars()
            .any(|c| c == '>' || c.is_whitespace() || c.is_control())
        {
            return Err(invalid("contains '>', whitespace or a control character"));
        }
        if self.ids.contains_key(name) {
            return Err(NetError::DuplicateGroup(name.to_string()));
        }
        if self.names.len() >= MAX_GROUPS {
            return Err(NetError::TooManyGroups { limit: MAX_GROUPS });
        }
        let id = GroupId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        self.graph.add_node(id);
        Ok(id)
    }

    /// The id of group `name`, if it exists.
    pub fn group(&self, name: &str) -> Option<GroupId> {
        self.ids.get(name).copied()
    }

    /// The name of group `id`, if it exists.
    pub fn group_name(&self, id: GroupId) -> Option<&str> {
        self.names.get(id.0 as usize).map(String::as_str)
    }

    /// Every group, in id order.
    pub fn groups(&self) -> impl Iterator<Item = (GroupId, &str)> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| (GroupId(i as u32), n.as_str()))
    }

    fn lookup(&self, name: &str) -> Result<GroupId, NetError> {
        self.group(name)
            .ok_or_else(|| NetError::UnknownGroup(name.to_string()))
    }

    /// Adds an explicit link between two distinct groups (both directions if symmetric).
    /// Fails without changing anything if a direction already has a link.
    pub fn add_link(
        &mut self,
        from: &str,
        to: &str,
        spec: LinkSpec,
        direction: LinkDirection,
    ) -> Result<(), NetError> {
        spec.validate()?;
        let (a, b) = (self.lookup(from)?, self.lookup(to)?);
        if a == b {
            return Err(NetError::SelfLink(from.to_string()));
        }
        let dup = |x: &str, y: &str| NetError::DuplicateLink {
            from: x.to_string(),
            to: y.to_string(),
        };
        if self.graph.contains_edge(a, b) {
            return Err(dup(from, to));
        }
        if direction == LinkDirection::Symmetric && self.graph.contains_edge(b, a) {
            return Err(dup(to, from));
        }
        self.specs.push(spec);
        self.graph.add_edge(a, b, self.specs.len() - 1);
        if direction == LinkDirection::Symmetric {
            self.specs.push(spec);
            self.graph.add_edge(b, a, self.specs.len() - 1);
        }
        Ok(())
    }

    /// Schedules a partition; fails on an empty window, unknown or identical groups.
    pub fn add_partition(&mut self, partition: Partition) -> Result<(), NetError> {
        if partition.at >= partition.heal {
            return Err(NetError::EmptyPartition {
                at_ns: partition.at.as_ns(),
                heal_ns: partition.heal.as_ns(),
            });
        }
        let known = |g: GroupId| {
            self.group_name(g)
                .map(|_| ())
                .ok_or(NetError::UnknownGroupId(g.0))
        };
        match partition.scope {
            PartitionScope::Pair(a, b) => {
                known(a)?;
                known(b)?;
                if a == b {
                    return Err(NetError::SelfPartition(self.names[a.0 as usize].clone()));
                }
            }
            PartitionScope::Isolate(g) => known(g)?,
        }
        if self.partitions.len() >= MAX_PARTITIONS {
            return Err(NetError::TooManyPartitions {
                limit: MAX_PARTITIONS,
            });
        }
        self.partitions.push(partition);
        Ok(())
    }

    /// Cuts `a` from `b` (both directions) during `[at, heal)`.
    pub fn partition_pair(
        &mut self,
        a: &str,
        b: &str,
        at: SimTime,
        heal: SimTime,
    ) -> Result<(), NetError> {
        let scope = PartitionScope::Pair(self.lookup(a)?, self.lookup(b)?);
        self.add_partition(Partition { scope, at, heal })
    }

    /// Cuts `group` from every other group (both directions) during `[at, heal)`.
    pub fn isolate(&mut self, group: &str, at: SimTime, heal: SimTime) -> Result<(), NetError> {
        let scope = PartitionScope::Isolate(self.lookup(group)?);
        self.add_partition(Partition { scope, at, heal })
    }

    /// The scheduled partitions, in the order they were added.
    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// Whether a message sent at `now` from `from` to `to` would be cut by a partition.
    pub fn is_partitioned(&self, now: SimTime, from: GroupId, to: GroupId) -> bool {
        self.partitions.iter().any(|p| p.separates(now, from, to))
    }

    fn spec_ref(&self, from: GroupId, to: GroupId) -> Option<SpecRef> {
        if from == to {
            return Some(SpecRef::Intra);
        }
        match self.graph.edge_weight(from, to) {
            Some(&i) => Some(SpecRef::Edge(i)),
            None => match self.config.default_route {
                DefaultRoute::AllPairs => Some(SpecRef::Default),
                DefaultRoute::Strict => None,
            },
        }
    }

    fn resolve(&self, r: SpecRef) -> &LinkSpec {
        match r {
            SpecRef::Intra => self
                .config
                .intra_group
                .as_ref()
                .unwrap_or(&self.config.default_link),
            SpecRef::Default => &self.config.default_link,
            SpecRef::Edge(i) => &self.specs[i],
        }
    }

    /// The spec governing `from -> to`, or `None` if there is no route (or no such group).
    pub fn link_spec(&self, from: GroupId, to: GroupId) -> Option<&LinkSpec> {
        if self.group_name(from).is_none() || self.group_name(to).is_none() {
            return None;
        }
        self.spec_ref(from, to).map(|r| self.resolve(r))
    }

    /// Counters of the directed link `from -> to` (`None` until it carried a message).
    pub fn link_stats(&self, from: GroupId, to: GroupId) -> Option<LinkStats> {
        self.links.get(&(from, to)).map(LinkState::stats)
    }

    /// Counters of every link that carried traffic, ordered by `(from, to)` id.
    pub fn all_link_stats(&self) -> impl Iterator<Item = ((GroupId, GroupId), LinkStats)> + '_ {
        self.links.iter().map(|(k, s)| (*k, s.stats()))
    }

    /// The name of the RNG stream owner of the directed link (purpose `"net"`).
    pub fn link_stream_owner(from_name: &str, to_name: &str) -> String {
        format!("link/{from_name}->{to_name}")
    }
}

impl NetworkModel for Topology {
    fn route(&mut self, now: SimTime, from: GroupId, to: GroupId, size_bytes: u32) -> Fate {
        if self.group_name(from).is_none() || self.group_name(to).is_none() {
            return Fate::Drop(DropCause::NoRoute);
        }
        let Some(r) = self.spec_ref(from, to) else {
            return Fate::Drop(DropCause::NoRoute);
        };
        let partitioned = self.is_partitioned(now, from, to);
        let spec = *self.resolve(r);
        let (seed, names) = (self.seed, &self.names);
        let state = self.links.entry((from, to)).or_insert_with(|| {
            let owner = Topology::link_stream_owner(&names[from.0 as usize], &names[to.0 as usize]);
            LinkState::new(stream(seed, &owner, "net"))
        });
        state.route(&spec, now, size_bytes, partitioned)
    }
}
