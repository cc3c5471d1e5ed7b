//! Errors from building or changing a [`super::Topology`].

/// A network configuration error. All of them are configuration mistakes detected before
/// (or when) the topology changes; routing itself never fails with an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetError {
    /// A probability was NaN or outside `[0, 1]`.
    #[error("{what} must be a probability in [0, 1], got {value}")]
    InvalidProbability {
        /// Which parameter.
        what: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A latency (or jitter) distribution has impossible parameters.
    #[error("invalid {what} distribution: {reason}")]
    InvalidLatency {
        /// Which distribution (`latency`, `jitter`).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// Bandwidth of zero bits per second.
    #[error("bandwidth_bps must be positive")]
    ZeroBandwidth,
    /// A buffer limit was given for a link without a bandwidth (nothing ever queues there).
    #[error("buffer_bytes needs bandwidth_bps (a link without bandwidth never queues)")]
    BufferWithoutBandwidth,
    /// Group name empty, too long, or containing a forbidden character.
    #[error("invalid group name {name:?}: {reason}")]
    InvalidGroupName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A group with this name already exists.
    #[error("group {0:?} already exists")]
    DuplicateGroup(String),
    /// More groups than a [`super::GroupId`] can number.
    #[error("too many groups (limit {limit})")]
    TooManyGroups {
        /// The limit.
        limit: usize,
    },
    /// A name that is not a group of the topology.
    #[error("unknown group {0:?}")]
    UnknownGroup(String),
    /// A group id that is not a group of the topology.
    #[error("unknown group id {0}")]
    UnknownGroupId(u32),
    /// An explicit link for this directed pair already exists.
    #[error("link {from:?} -> {to:?} already exists")]
    DuplicateLink {
        /// Sending group.
        from: String,
        /// Receiving group.
        to: String,
    },
    /// Explicit links join two different groups; same-group traffic uses the intra-group spec.
    #[error("link {0:?} -> itself: use the intra-group link spec instead")]
    SelfLink(String),
    /// A partition window that ends before (or when) it starts.
    #[error("partition window [{at_ns}, {heal_ns}) ns is empty")]
    EmptyPartition {
        /// Start, ns.
        at_ns: u64,
        /// End, ns.
        heal_ns: u64,
    },
    /// A partition between a group and itself.
    #[error("partition between group {0:?} and itself")]
    SelfPartition(String),
    /// Too many scheduled partitions.
    #[error("too many partitions (limit {limit})")]
    TooManyPartitions {
        /// The limit.
        limit: usize,
    },
}

impl NetError {
    /// Whether the error must stop the run: every configuration error is fatal, since a
    /// run with a network other than the one described would measure the wrong thing.
    pub fn is_fatal(&self) -> bool {
        true
    }
}
