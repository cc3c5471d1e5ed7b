//! Scheduled network partitions: during `[at, heal)` messages across the cut are dropped.

use super::GroupId;
use crate::engine::SimTime;

/// Which traffic a partition cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PartitionScope {
    /// Both directions between two distinct groups.
    Pair(GroupId, GroupId),
    /// Both directions between the group and every other group (its own traffic still flows).
    Isolate(GroupId),
}

/// A partition window `[at, heal)`, checked against the send time of each message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Partition {
    /// What is cut.
    pub scope: PartitionScope,
    /// First instant at which messages are dropped.
    pub at: SimTime,
    /// First instant at which messages flow again.
    pub heal: SimTime,
}

impl Partition {
    /// Whether a message sent at `now` from `from` to `to` crosses this partition.
    pub fn separates(&self, now: SimTime, from: GroupId, to: GroupId) -> bool {
        if now < self.at || now >= self.heal || from == to {
            return false;
        }
        match self.scope {
            PartitionScope::Pair(a, b) => (from == a && to == b) || (from == b && to == a),
            PartitionScope::Isolate(g) => from == g || to == g,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_half_open_and_symmetric() {
        let (a, b, c) = (GroupId(0), GroupId(1), GroupId(2));
        let p = Partition {
            scope: PartitionScope::Pair(a, b),
            at: SimTime::from_ms(10),
            heal: SimTime::from_ms(20),
        };
        assert!(!p.separates(SimTime::from_ns(9_999_999), a, b));
        assert!(p.separates(SimTime::from_ms(10), a, b));
        assert!(p.separates(SimTime::from_ms(15), b, a));
        assert!(p.separates(SimTime::from_ns(19_999_999), a, b));
        assert!(!p.separates(SimTime::from_ms(20), a, b));
        assert!(!p.separates(SimTime::from_ms(15), a, c));
        assert!(!p.separates(SimTime::from_ms(15), a, a));
        let iso = Partition {
            scope: PartitionScope::Isolate(c),
            ..p
        };
        assert!(iso.separates(SimTime::from_ms(15), a, c));
        assert!(iso.separates(SimTime::from_ms(15), c, b));
        assert!(!iso.separates(SimTime::from_ms(15), a, b));
        assert!(!iso.separates(SimTime::from_ms(15), c, c));
    }
}
