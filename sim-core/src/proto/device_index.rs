//! An RI's registered Devices by actor, with rank queries: the RI picks a random Device
//! (a Move's Sink, a metering trigger's target) by drawing an index in actor order, which is
//! the same in both crypto modes (Device IDs, key hashes, differ between them).
//!
//! The `n`-th Device is found in O(log n) (a binary search in a sorted vector) instead of
//! walking the map: at 10,000 Devices per RI the walk was the largest single cost of a
//! Move request. Devices are only ever added (registration), mostly in increasing actor
//! order (arrival order), so keeping the vector sorted costs a short tail shift per insert;
//! removal (an RI that lost a Device Context) shifts the tail too.

use crate::engine::ActorId;
use crate::pdu::common::Identifier;
use std::collections::BTreeMap;

/// Registered Devices: actor → Device ID, with the actors in a sorted vector for ranks.
#[derive(Debug, Clone, Default)]
pub struct DevicesByActor {
    map: BTreeMap<ActorId, Identifier>,
    order: Vec<ActorId>,
}

impl DevicesByActor {
    /// Records (or replaces) `actor`'s Device ID; returns the previous one.
    pub fn insert(&mut self, actor: ActorId, id: Identifier) -> Option<Identifier> {
        let old = self.map.insert(actor, id);
        if old.is_none() {
            let at = self.order.partition_point(|a| *a < actor);
            self.order.insert(at, actor);
        }
        old
    }

    /// Forgets `actor`'s Device (an RI that lost its Device Context); returns its ID.
    pub fn remove(&mut self, actor: &ActorId) -> Option<Identifier> {
        let old = self.map.remove(actor)?;
        if let Ok(at) = self.order.binary_search(actor) {
            self.order.remove(at);
        }
        Some(old)
    }

    /// The Device ID registered by `actor`.
    pub fn get(&self, actor: &ActorId) -> Option<&Identifier> {
        self.map.get(actor)
    }

    /// Whether `actor` has registered.
    pub fn contains_key(&self, actor: &ActorId) -> bool {
        self.map.contains_key(actor)
    }

    /// Registered Devices.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no Device has registered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every (actor, Device ID), in actor order.
    pub fn iter(&self) -> impl Iterator<Item = (&ActorId, &Identifier)> {
        self.map.iter()
    }

    /// The `i`-th Device in actor order.
    pub fn nth(&self, i: usize) -> Option<(ActorId, &Identifier)> {
        let a = *self.order.get(i)?;
        Some((a, &self.map[&a]))
    }

    /// The `i`-th Device in actor order among those other than `source` (what
    /// `iter().filter(|(a, _)| **a != source).nth(i)` gives, without the walk).
    pub fn nth_other_than(&self, source: ActorId, i: usize) -> Option<(ActorId, &Identifier)> {
        let skip = match self.order.binary_search(&source) {
            Ok(at) if at <= i => 1,
            _ => 0,
        };
        self.nth(i + skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Identifier {
        Identifier::new(vec![n; 20])
    }

    #[test]
    fn ranks_agree_with_a_filtered_walk_in_actor_order() {
        let mut d = DevicesByActor::default();
        // Out of order, with a re-registration.
        for a in [7u32, 3, 9, 1, 5, 3, 11] {
            d.insert(ActorId(a), id(a as u8));
        }
        assert_eq!(d.len(), 6);
        d.insert(ActorId(4), id(4));
        assert_eq!(d.remove(&ActorId(4)), Some(id(4)));
        assert_eq!(d.remove(&ActorId(4)), None);
        let all: Vec<ActorId> = d.iter().map(|(a, _)| *a).collect();
        assert_eq!(all, [1, 3, 5, 7, 9, 11].map(ActorId));
        for (i, a) in all.iter().enumerate() {
            assert_eq!(d.nth(i).map(|(x, _)| x), Some(*a));
        }
        assert!(d.nth(6).is_none());
        for source in [0u32, 1, 5, 11, 12] {
            let expect: Vec<ActorId> = all.iter().copied().filter(|a| a.0 != source).collect();
            for (i, a) in expect.iter().enumerate() {
                let got = d.nth_other_than(ActorId(source), i);
                assert_eq!(got.map(|(x, _)| x), Some(*a), "source {source}, i {i}");
                assert_eq!(got.map(|(_, v)| v.clone()), Some(id(a.0 as u8)));
            }
            assert!(d.nth_other_than(ActorId(source), expect.len()).is_none());
        }
    }
}
